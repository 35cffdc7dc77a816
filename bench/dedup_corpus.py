#!/usr/bin/env python3
"""A labelled corpus, written to be hard, for measuring huiju's dedup (issue #5).

    .venv/bin/python bench/dedup_corpus.py --out var/dedup-corpus            # about 3,000 appeals
    .venv/bin/python bench/dedup_corpus.py --out /tmp/c --size 10000 --seed 7

Writes two files into --out:
  appeals.jsonl  the input of `gateway.py dedup`: one normalized appeal a line in arrival order, with `id`,
                 `channel`, `received_at` (ISO 8601, +08:00), `citizen` (any of name, phone (E.164), id_number,
                 openid, user), `type`, `title`, `content`, `address`, `division_code`; absent fields are left out.
  labels.jsonl   the truth, one line per appeal in the same order: `id`, `matter` (the ground-truth matter),
                 `person` (the ground-truth citizen), `expected` (absorb | merge | link | new) and `scenario`
                 (which kind of hard case produced it, for the error breakdown of bench/dedup_quality.py).

What it contains (each a scenario):
  cross-channel      one citizen, one matter, told on a board (long, formal), on WeChat (short, colloquial,
                     several messages), in a call transcript (市民来电反映…), on the web form or the petition
                     platform: merge
  follow-up          WeChat additions to one's own appeal hours later (补充一下…): merge
  absorb             the same text from the same person on the same channel within minutes: absorb
  identity-chain     WeChat with an openid, then WeChat with the openid and a bound phone (another matter), then
                     a call from that phone about the first matter: merge, found only through the phone–openid link
  same-person-new    one citizen with several different matters, close in time: new
  same-building      different problems in one building, by neighbours or by the same person: new
  form-letter        campaign letters from many residents, only the signer's own address and name differ: link
  quick-form         a report form with one template where only the place differs: different places are
                     different matters (new) even from one person; the same place from someone else: link
  hot-issue          many citizens about one matter, each in their own words and channels: link (repeats merge)
  late-repeat        the same problem at the same place again after the 30-day window: a new matter
  singleton          one-off appeals that fill the index with near topics
  teddy-real         real posts of the 2020 Teddy Cup message board (../shared/data/teddy2020): the same user's
                     repeated posts, reviewed by hand into same-matter groups (merge/absorb), different matters of
                     one user (new), near-identical posts of different users (link), two accounts of one person
                     (linked by a phone): merge
  teddy-rewrite      real posts retold on WeChat, in a call transcript, in traditional characters, and by
                     neighbours (merge / link)
Throughout: traditional and full-width characters (by the writer's input method; operators write call
transcripts in simplified), common typos, dates spelt many ways, namesakes, addresses written differently.

Labels follow these rules, in arrival order, against earlier appeals of the same matter within 30 days
(WINDOW): absorb if one has the same person, channel and text and came at most 10 minutes before
(ABSORB_WINDOW); else merge if one has the same person; else link; else new. Every matter is told within 28
days, and "same person" means linkable: each of a citizen's appeals shares an identifier (phone, ID number,
openid, board user) with that citizen's earlier appeals, directly or through an earlier appeal that carried
two of them; no identifier is shared by two citizens, whereas names are.

The generation is seeded and deterministic. The real posts are read from the Teddy data when it is there (a
bench may read ../shared); without it the 300 posts shipped in simulators/data/board_messages.jsonl serve.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import opencc

from normalizer.fields import id_check_char
from simulators.corpus import DATA as SIMULATOR_DATA
from simulators.national.generate import mobile_number
from simulators.national.market12315 import MOBILE_PREFIXES

ROOT = Path(__file__).resolve().parent.parent
TEDDY_DIR = ROOT.parent / "shared" / "data" / "teddy2020"
CST = timezone(timedelta(hours=8), "Asia/Shanghai")
START = datetime(2024, 3, 1, tzinfo=CST)
SPAN_DAYS = 200  # arrival times fall in [START, START + SPAN_DAYS) (late repeats may run a little past)
WINDOW = timedelta(days=30)  # the matcher's default window for "same matter"
MATTER_SPAN = timedelta(days=28)  # every matter is told within this, clear of the window's edge
ABSORB_WINDOW = timedelta(minutes=10)
LATE_GAP_DAYS = (45, 80)  # a late repeat comes this long after the earlier episode: clear of the window too
DECISIONS = ("absorb", "merge", "link", "new")

BOARD = "leaders-board"  # 领导留言板
WECHAT = "wechat"  # 微信公众号
SNAP = "city-snap"  # 随手拍 mini-program: one form, openid and phone
WEB = "web-api"  # 政务服务网 留言
PETITION = "petition"  # 数字信访
URBAN = "12319"  # 城建热线: call transcripts about the city's fabric
MARKET = "12315"
LABOUR = "12333"
TRANSPORT = "12328"
CALLS = (URBAN, MARKET, LABOUR, TRANSPORT)

# ---------------------------------------------------------------------------------------------------------------
# Places and people (an anonymised city, A市, as in the Teddy data; division codes are 6-digit GB/T 2260 shapes)

DISTRICTS = (
    ("A1区", "430102"),
    ("A2区", "430103"),
    ("A3区", "430104"),
    ("A4区", "430105"),
    ("A5区", "430111"),
    ("A6区", "430112"),
    ("A7县", "430121"),
    ("A8县", "430124"),
    ("A9市", "430181"),
)
STREETS = (
    "望城坡街道",
    "桂花坪街道",
    "洞井街道",
    "月湖街道",
    "枫林街道",
    "银盆岭街道",
    "湘湖街道",
    "东塘街道",
    "左家塘街道",
    "圭塘街道",
    "黎托街道",
    "泉塘街道",
    "星沙街道",
    "榔梨街道",
    "金星街道",
    "新河街道",
)
COMMUNITY_HEADS = (
    "锦绣",
    "金桂",
    "枫林",
    "梧桐",
    "碧水",
    "翠湖",
    "龙湾",
    "紫荆",
    "银杉",
    "芙蓉",
    "书香",
    "江景",
    "桃李",
    "星河",
    "新城",
    "华庭",
    "丽景",
    "和园",
    "阳光",
    "盛世",
    "泰和",
    "东方",
    "滨江",
    "月湖",
    "香樟",
    "青竹",
    "云顶",
    "天悦",
    "嘉和",
    "恒泰",
    "柏林",
    "兰亭",
)
COMMUNITY_TAILS = ("家园", "苑", "雅居", "名邸", "花园", "新村", "小区", "公馆", "华府", "天地", "山庄", "佳园")
ROADS = (
    "桐梓坡路",
    "银盆南路",
    "枫林三路",
    "麓山南路",
    "岳华路",
    "金星中路",
    "芙蓉中路",
    "韶山北路",
    "万家丽路",
    "东二环",
    "劳动西路",
    "车站北路",
    "人民东路",
    "五一大道",
    "解放西路",
    "黄兴南路",
    "湘府中路",
    "桂花路",
    "雨花路",
    "井湾路",
    "洪山路",
    "远大路",
    "开元东路",
    "星沙大道",
    "曙光南路",
    "香樟路",
    "时代阳光大道",
    "梅溪湖路",
    "茶子山路",
    "望岳路",
)
LANDMARKS = (
    "公交站旁",
    "十字路口",
    "加油站对面",
    "农贸市场门口",
    "小学门口",
    "地铁口",
    "桥底下",
    "菜市场后面",
    "医院东门",
    "超市门口",
    "幼儿园旁边",
    "银行门口",
)
COMMUNITY_PHASES = (
    "",
    "",
    "",
    "",
    "二期",
    "三期",
    "东区",
    "西区",
)  # 锦绣家园二期: a neighbour, not the same place
BRANDS = (
    "鑫源",
    "宏远",
    "华兴",
    "兴达",
    "瑞丰",
    "恒达",
    "广盛",
    "永利",
    "隆昌",
    "佳美",
    "顺发",
    "新洲",
    "天成",
    "博远",
    "金泰",
    "汇通",
    "长盛",
    "德信",
    "荣昌",
    "嘉盛",
    "富源",
    "聚合",
    "万通",
    "正邦",
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
GIVEN_NAMES = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "华",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "志强",
    "海燕",
    "文",
    "斌",
    "宇",
    "浩",
    "婷",
    "国庆",
    "红梅",
    "建国",
    "玉兰",
    "德明",
    "俊",
    "鹏",
    "小红",
    "春生",
)
OPENID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
CN_DIGITS = "零一二三四五六七八九"
WEEKDAYS = "一二三四五六日"

# ---------------------------------------------------------------------------------------------------------------
# Hand-written phrasing. A kind of problem gives phrase banks for each way of telling it; the slots in braces
# are the matter's facts (shared by every telling) or the writer's own (their building, their amount).


@dataclass(frozen=True)
class Kind:
    """A kind of problem and how citizens, call-centre operators and board posters tell it."""

    key: str
    label: str  # the operator's short name, used in work-order titles
    type: str  # the normalized appeal type
    hotline: str  # the call channel that takes it
    anchor: str  # the slot that makes two matters of this kind the same one (with the kind)
    hot: bool  # many citizens can share one matter of this kind
    titles: tuple[str, ...]
    formal: tuple[str, ...]  # board: what is wrong (a clause, no final stop)
    impact: tuple[str, ...]
    demand: tuple[str, ...]
    chat_open: tuple[str, ...]  # WeChat: the first message that says what and where
    chat_more: tuple[str, ...]
    chat_ask: tuple[str, ...]
    call: tuple[str, ...]  # call transcript, third person
    call_more: tuple[str, ...]
    call_ask: tuple[str, ...]
    followup: tuple[str, ...]  # a later WeChat addition to one's own appeal
    intro: tuple[str, ...] = (
        "我是{community}的业主，",
        "本人系{community}{building}住户，",
        "我们是住在{community}的居民，",
        "",
    )
    call_open: tuple[str, ...] = (
        "市民来电反映：",
        "来电人反映，",
        "市民来电称，",
        "来电市民表示：",
        "【来电内容】",
    )


CALL_OPEN = Kind.__dataclass_fields__["call_open"].default


KINDS = (
    Kind(
        key="construction-noise",
        label="夜间施工噪音扰民",
        type="complaint",
        hotline=URBAN,
        anchor="site",
        hot=True,
        titles=(
            "{district}{community}旁工地夜间施工噪音扰民",
            "投诉{site}夜间违规施工",
            "{road}{project}工地天天施工到半夜，居民无法休息",
            "请求查处{community}附近工地夜间施工扰民问题",
        ),
        formal=(
            "{road}旁的{site}自{since}起几乎每晚施工至{hour}，打桩机、挖掘机的作业声和渣土车进出的声音不断",
            "位于{community}北侧的{site}长期违规夜间施工，晚上十点以后还在浇筑混凝土，一直持续到{hour}",
            "{community}紧邻{site}，该工地自{since}以来夜间频繁施工，机械轰鸣声在屋内听得一清二楚",
        ),
        impact=(
            "小区里的老人和孩子夜夜无法入睡，上班族第二天精神恍惚，居民苦不堪言",
            "严重影响了周边上千户居民的正常休息",
            "家中有即将中考的孩子，这样的噪音让孩子根本无法学习和休息",
        ),
        demand=(
            "恳请城管、环保等相关部门依法查处，责令其停止夜间施工",
            "希望有关部门核实该工地是否办理了夜间施工许可，加强监管",
            "请求相关部门尽快调查处理，还居民一个安静的夜晚",
        ),
        chat_open=(
            "{community}对面那个工地天天晚上施工到{hour}",
            "{project}工地又在半夜施工了",
            "我们{community}旁边的工地晚上一直在打桩",
        ),
        chat_more=(
            "吵得根本睡不着",
            "整栋楼都在震",
            "晚上十一点了还在拉渣土",
            "孩子第二天还要上学啊",
            "已经连续一个多星期了",
        ),
        chat_ask=("能不能管一管啊", "麻烦尽快处理一下", "你们晚上来现场听听就知道了"),
        call=(
            "其居住的{district}{community}附近{site}夜间施工，噪音扰民，每天施工至{hour}",
            "{road}{site}自{since}以来夜间违规施工，机械噪音很大，影响周边居民休息",
        ),
        call_more=("来电人称已多次向工地负责人反映，对方置之不理", "市民表示小区很多住户都有同样的意见", ""),
        call_ask=("相关部门核实并依法处理", "责令工地停止夜间施工"),
        followup=("补充一下，就是{project}那个工地，昨晚又搞到{hour}", "今晚又开始了，{community}这边还是很吵"),
    ),
    Kind(
        key="bbq",
        label="烧烤店油烟噪音扰民",
        type="complaint",
        hotline=URBAN,
        anchor="shop",
        hot=True,
        titles=(
            "{community}楼下{shop}油烟噪音扰民",
            "投诉{road}{shop}占道经营、油烟扰民",
            "{district}{community}底商烧烤店深夜扰民",
        ),
        formal=(
            "{community}{building}楼下的{shop}每天营业到{hour}，排烟管道直接对着居民楼，油烟味呛人",
            "{road}上的{shop}晚上在人行道上摆桌经营，食客喝酒划拳、大声喧哗直到{hour}",
        ),
        impact=(
            "楼上住户常年不敢开窗，晒在外面的衣服都是油烟味",
            "老人孩子晚上根本无法休息，我们多次下楼劝说都没有用",
        ),
        demand=(
            "希望城管和环保部门上门检查，督促其安装合格的油烟净化设备并规范经营",
            "请有关部门依法取缔其占道经营行为",
        ),
        chat_open=(
            "楼下那家{shop}又开到{hour}",
            "{community}门口那个烧烤摊油烟太大了",
            "{shop}的桌子又摆到人行道上了",
        ),
        chat_more=("窗户都不敢开", "一屋子的油烟味", "喝酒的在楼下吵吵嚷嚷", "天天这样谁受得了"),
        chat_ask=("管管吧", "城管能不能来看一下", "麻烦处理下"),
        call=(
            "其居住的{community}{building}楼下{shop}油烟和噪音扰民，每天经营至{hour}",
            "{road}{shop}占道经营，夜间噪音大，油烟直排居民楼",
        ),
        call_more=("来电人称已与店家沟通多次无果", "市民表示该店没有油烟净化设施", ""),
        call_ask=("相关部门上门查处", "督促商户整改"),
        followup=("那家{shop}今晚又把桌子摆出来了", "补充：是{building}楼下那家{shop}"),
    ),
    Kind(
        key="elevator",
        label="电梯故障",
        type="help",
        hotline=URBAN,
        anchor="building_key",
        hot=True,
        titles=(
            "{community}{building}电梯频繁故障，多次困人",
            "请求督促{community}物业维修电梯",
            "{district}{community}电梯停运{days}天无人维修",
        ),
        formal=(
            "{community}{building}的电梯自{since}起频繁出现故障，上周还发生了困人事件",
            "{community}{building}两部电梯已停运{days}天，物业一直以等配件为由拖延维修",
        ),
        impact=(
            "楼里有很多行动不便的老人，只能爬十几层楼梯，出行非常困难",
            "住户每天上下楼提心吊胆，存在严重安全隐患",
        ),
        demand=("恳请市场监管部门督促物业和维保单位尽快检修，确保电梯安全运行", "希望有关部门督促物业尽快维修"),
        chat_open=(
            "{building}的电梯又坏了",
            "我们{community}{building}电梯停了{days}天了",
            "{community}的电梯又把人关在里面了",
        ),
        chat_more=("老人只能爬楼梯", "物业说等配件，等了好几天了", "每次坐都提心吊胆的"),
        chat_ask=("能不能催一下物业", "麻烦帮忙协调一下"),
        call=(
            "其居住的{community}{building}电梯频繁故障，曾发生困人事件，物业未及时维修",
            "{community}{building}电梯停运{days}天，物业未安排维修",
        ),
        call_more=("来电人称家中有老人出行困难", "市民称已多次联系物业，物业称在等配件", ""),
        call_ask=("相关部门督促物业尽快维修电梯", "协调维保单位检修"),
        followup=("{building}电梯今天还是没修好", "补充一下，{community}{building}那部电梯今天又停了"),
    ),
    Kind(
        key="water-outage",
        label="停水",
        type="help",
        hotline=URBAN,
        anchor="community",
        hot=True,
        titles=(
            "{community}无故停水{days}天",
            "{district}{community}频繁停水，请求解决",
            "{community}停水没有任何通知",
        ),
        formal=(
            "{community}从{since}开始停水，至今已{days}天，事先没有任何停水通知",
            "{community}近期频繁停水，水压也很低，高楼层基本没有水",
        ),
        impact=("居民做饭洗漱都成了问题，只能到附近亲戚家接水", "正值夏季，停水给全小区居民的生活带来极大不便"),
        demand=("请供水公司尽快查明原因、恢复供水，并公布停水原因和恢复时间", "希望相关部门督促尽快恢复正常供水"),
        chat_open=("{community}又停水了", "我们小区从{since}就没水了", "{community}{building}一滴水都没有"),
        chat_more=("饭都做不了", "也没有提前通知", "打供水公司电话一直打不通"),
        chat_ask=("什么时候能来水啊", "麻烦问一下什么时候恢复"),
        call=(
            "{district}{community}自{since}起停水，至今未恢复，未收到停水通知",
            "其居住的{community}频繁停水，高楼层水压不足",
        ),
        call_more=("来电人称联系物业，物业称是供水公司的问题", "市民称小区多栋楼都受影响", ""),
        call_ask=("尽快恢复供水", "供水部门核实停水原因并告知恢复时间"),
        followup=("{community}现在还是没水", "补充一下，{community}{building}到现在还没来水"),
    ),
    Kind(
        key="streetlight",
        label="路灯不亮",
        type="help",
        hotline=URBAN,
        anchor="spot",
        hot=True,
        titles=("{road}路灯不亮", "{district}{road}一段路灯坏了很久", "请求维修{road}{landmark}附近路灯"),
        formal=(
            "{road}{landmark}附近一段约两百米的路灯自{since}起一直不亮",
            "{road}从{landmark}往南的路灯已经坏了一个多月",
        ),
        impact=(
            "晚上路上漆黑一片，行人和电动车经常摔倒，存在很大的安全隐患",
            "附近有学校，晚自习放学的学生经过这里很不安全",
        ),
        demand=("希望路灯管理部门尽快安排维修", "请相关部门尽快排查线路，恢复照明"),
        chat_open=("{road}{landmark}那段路灯不亮", "{road}的路灯坏了好久了"),
        chat_more=("晚上黑漆漆的", "昨天还有人骑车摔了", "一个多月了都没人修"),
        chat_ask=("麻烦派人修一下", "尽快修吧"),
        call=("{road}{landmark}附近路灯不亮，已持续较长时间", "{district}{road}一段路灯损坏，夜间无照明"),
        call_more=("来电人称夜间出行存在安全隐患", ""),
        call_ask=("尽快维修路灯", "相关部门排查处理"),
        followup=("{road}那边的路灯今晚还是不亮", "就是{landmark}旁边那几盏"),
        intro=("", "我每天晚上下班都要经过这里，"),
    ),
    Kind(
        key="garbage",
        label="垃圾清运不及时",
        type="complaint",
        hotline=URBAN,
        anchor="community",
        hot=True,
        titles=("{community}垃圾清运不及时，臭气熏天", "{district}{community}门口垃圾站臭味扰民"),
        formal=(
            "{community}东门的垃圾站已经{days}天没有清运，垃圾堆满溢出到路面",
            "{community}旁的垃圾中转站长期露天堆放，夏天臭气熏天，蚊蝇滋生",
        ),
        impact=("附近居民不敢开窗，路过都要捂着鼻子", "已经影响到小区居民的身体健康"),
        demand=("希望环卫部门加大清运频次，对垃圾站进行封闭改造", "请有关部门尽快处理"),
        chat_open=("{community}门口的垃圾好几天没人收了", "{community}那个垃圾站臭死了"),
        chat_more=("苍蝇蚊子一大堆", "都堆到马路上了", "下雨天污水流得到处都是"),
        chat_ask=("环卫什么时候来收", "快来处理一下吧"),
        call=(
            "{community}门口垃圾站{days}天未清运，垃圾堆积，臭味扰民",
            "其所在{community}旁垃圾中转站露天堆放，异味大",
        ),
        call_more=("来电人称物业推诿不处理", ""),
        call_ask=("环卫部门及时清运", "尽快清理并加强管理"),
        followup=("{community}门口的垃圾还是没运走", "补充：是东门那个垃圾站"),
    ),
    Kind(
        key="property-fee",
        label="物业乱收费",
        type="complaint",
        hotline=URBAN,
        anchor="community",
        hot=True,
        titles=(
            "{community}物业擅自上涨物业费",
            "投诉{community}物业违规涨价",
            "{district}{community}物业服务差还要涨价",
        ),
        formal=(
            "{community}物业公司未经业主大会同意，自{since}起将物业费从每平方米{fee_old}元上调到{fee_new}元",
            "{community}物业近日贴出通知，物业费每平方米从{fee_old}元涨到{fee_new}元，事先没有召开业主大会，也没有公示依据",
        ),
        impact=("小区绿化无人打理、保安形同虚设，服务质量与收费严重不符", "业主们意见非常大，已有上百户联名反对"),
        demand=("恳请住建部门和物价部门调查物业收费的合法性，依法纠正", "请求有关部门责令物业停止违规收费"),
        chat_open=("{community}物业要涨物业费", "我们{community}物业乱收费"),
        chat_more=("从{fee_old}涨到{fee_new}", "也没开业主大会", "服务差得要死还涨价", "不交就不给门禁卡"),
        chat_ask=("这合法吗", "有没有人管"),
        call=(
            "{community}物业擅自将物业费由每平方米{fee_old}元上调至{fee_new}元，未经业主大会表决",
            "其所在{community}物业通知上调物业费至每平方米{fee_new}元，未经业主大会表决，不缴纳则不办理门禁卡",
        ),
        call_more=("来电人称小区多数业主不认可", ""),
        call_ask=("相关部门核查物业收费是否合规", "责令物业停止违规收费"),
        followup=("{community}物业今天又贴了催缴通知", "补充：{community}物业说下个月不交就停门禁"),
    ),
    Kind(
        key="wage-arrears",
        label="拖欠工资",
        type="complaint",
        hotline=LABOUR,
        anchor="company",
        hot=True,
        titles=("{company}拖欠工资", "投诉{company}拖欠农民工工资{months}个月", "{district}{company}欠薪不还"),
        formal=(
            "{company}从{since}起拖欠员工工资至今，本人被欠{amount}元",
            "{company}承建的{project}项目已经完工，但至今拖欠我们{months}个月工资",
        ),
        impact=("多次找公司负责人讨要，对方一直推脱，一家老小生活难以为继", "工友们都等着这笔钱养家糊口"),
        demand=("恳请劳动监察部门介入，督促公司尽快支付拖欠的工资", "希望人社部门为我们农民工做主"),
        chat_open=("{company}欠了我们{months}个月工资", "{company}老板一直拖着工资不给"),
        chat_more=("我一个人就被欠了{amount}块", "打电话也不接了", "好几十个工友都没拿到"),
        chat_ask=("去哪里投诉有用啊", "请帮帮我们"),
        call=(
            "来电人在{company}工作，公司自{since}起拖欠其工资共计{amount}元",
            "{company}拖欠来电人及工友{months}个月工资，多次讨要无果",
        ),
        call_more=("来电人称涉及工友数十人", "来电人已向公司负责人讨要多次", ""),
        call_ask=("劳动监察部门介入处理", "督促企业支付工资"),
        followup=("补充：{company}的负责人姓{boss}", "{company}今天还是没发工资"),
        intro=("本人是{company}的员工，", "我在{company}上班，", ""),
    ),
    Kind(
        key="pension-transfer",
        label="养老保险关系转移咨询",
        type="consultation",
        hotline=LABOUR,
        anchor="person",
        hot=False,
        titles=("咨询养老保险关系转移问题", "外省社保转入A市怎么办理", "咨询{province}养老保险转回本地的手续"),
        formal=(
            "本人此前在{province}工作缴纳了{years}年养老保险，现回A市工作，想咨询养老保险关系转移的流程和所需材料",
            "本人在{province}参保{years}年，今年回到A市就业，不清楚两地缴费年限能否合并计算",
        ),
        impact=("在网上查了很多资料也没弄明白", "担心影响以后退休待遇"),
        demand=("请相关部门给予解答", "盼复，谢谢"),
        chat_open=("我在{province}交了{years}年社保", "想问下外省的养老保险怎么转过来"),
        chat_more=("现在回A市上班了", "不知道要准备什么材料"),
        chat_ask=("麻烦告诉我一下流程", "谢谢"),
        call=(
            "来电人曾在{province}参保{years}年，现回A市就业，咨询养老保险关系转移办理流程",
            "来电人咨询{province}养老保险转入A市的手续及所需材料",
        ),
        call_more=("",),
        call_ask=("工作人员给予解答", "回电告知办理流程"),
        followup=("补充一下，我在{province}是灵活就业参保的",),
        intro=("",),
    ),
    Kind(
        key="bus-line",
        label="公交线路调整",
        type="suggestion",
        hotline=TRANSPORT,
        anchor="line",
        hot=True,
        titles=(
            "{line}路公交改线后{stop}站被取消",
            "建议恢复{line}路公交{stop}站",
            "投诉{line}路公交车改线后出行不便",
        ),
        formal=(
            "{line}路公交自{since}调整线路后取消了{stop}站，附近几个小区的居民只能步行一公里到{road}坐车",
            "{line}路公交改线后{stop}站被取消，附近居民要走到{road}去坐车，早高峰还要等四十分钟",
        ),
        impact=("老人和上学的孩子出行非常不便", "严重影响周边居民上班通勤"),
        demand=("建议交通部门恢复{stop}站或增开接驳线路", "希望公交公司恢复{stop}站点"),
        chat_open=("{line}路车怎么把{stop}站取消了", "{line}路改线以后，{stop}那边坐车要走二十分钟"),
        chat_more=("老人走过去要二十分钟", "早上上班天天迟到", "车一来就挤不上去"),
        chat_ask=("能不能恢复啊", "建议把站加回来"),
        call=(
            "{line}路公交调整线路后取消{stop}站，周边居民出行不便",
            "{line}路公交改线取消{stop}站后，周边居民需步行较远乘车，高峰期等车时间长",
        ),
        call_more=("来电人称周边多个小区居民有同样诉求", ""),
        call_ask=("恢复{stop}站点", "恢复{stop}站或增开接驳公交"),
        followup=("今天{line}路又等了半个小时", "补充：{stop}站早上七点到八点最挤"),
        intro=("我是{community}的居民，", ""),
    ),
    Kind(
        key="prepaid-card",
        label="预付卡退费难",
        type="complaint",
        hotline=MARKET,
        anchor="gym",
        hot=True,
        titles=("{gym}突然关门，会员卡无法退费", "投诉{gym}卷款跑路", "{district}{gym}闭店，预付费无人退还"),
        formal=(
            "本人于{since}在{road}的{gym}办理了年卡，花费{amount}元，近日该店突然关门停业，负责人联系不上",
            "{gym}以装修为名停业至今，会员卡余额无法使用也无法退还",
        ),
        impact=("受影响的会员有几百人，大家损失都不小", "店里关门前一周还在推销卡，明显是有预谋的"),
        demand=("恳请市场监管部门介入调查，帮助消费者追回预付款", "希望相关部门依法处理，保障消费者权益"),
        chat_open=("{gym}跑路了", "我在{gym}办的卡，店突然关门了"),
        chat_more=("我花了{amount}", "老板电话打不通", "群里几百个会员都在问"),
        chat_ask=("能不能帮我们退钱", "这种情况找谁"),
        call=(
            "其于{since}在{gym}办理会员卡，支付{amount}元，现该店已停业，无法退费",
            "{road}{gym}突然闭店，会员预付费无法退还，经营者失联",
        ),
        call_more=("来电人称涉及会员众多", ""),
        call_ask=("市场监管部门介入处理，协助退费", "依法查处经营者"),
        followup=("{gym}门口贴了转让的告示", "补充：{gym}的老板姓{boss}"),
        intro=("",),
        call_open=("消费者来电反映：", "来电人投诉称，", "消费者来电投诉："),
    ),
    Kind(
        key="expired-food",
        label="销售过期食品",
        type="complaint",
        hotline=MARKET,
        anchor="shop",
        hot=False,
        titles=("{shop}销售过期食品", "投诉{road}{shop}出售过期牛奶"),
        formal=(
            "本人于{since}在{road}的{shop}购买了一箱牛奶，回家后发现已经超过保质期{days}天",
            "{shop}货架上还在卖过期{days}天的牛奶，本人买回家后孩子喝了出现腹泻",
        ),
        impact=("与店家交涉，店家态度恶劣，拒绝退换", "这样的商家严重损害消费者的健康"),
        demand=("请市场监管部门依法查处", "要求商家按规定赔偿"),
        chat_open=("在{shop}买的牛奶过期了", "{shop}卖过期的东西"),
        chat_more=("过期{days}天了还在卖", "店员还不给退"),
        chat_ask=("你们管不管", "我要投诉"),
        call=("其于{since}在{shop}购买的牛奶已过保质期{days}天，商家拒绝退换", "{road}{shop}销售过期食品"),
        call_more=("来电人保留了购物小票", ""),
        call_ask=("市场监管部门核查处理", "依法处理并协调赔偿"),
        followup=("小票我拍照了，是{shop}的",),
        intro=("",),
        call_open=("消费者来电反映：", "来电人投诉称，"),
    ),
    Kind(
        key="illegal-building",
        label="违章搭建",
        type="report",
        hotline=URBAN,
        anchor="building_key",
        hot=False,
        titles=("举报{community}{building}顶楼违章搭建", "{community}有业主私自在楼顶加盖房屋"),
        formal=(
            "{community}{building}顶楼住户自{since}起在楼顶平台私自加盖砖房，目前已砌到一人多高",
            "{community}{building}顶楼住户在楼顶平台违规搭建彩钢板房，现在还在往上加层",
        ),
        impact=("严重影响房屋结构安全，楼下住户已出现渗水", "楼顶是全体业主的公共部位，不能被个人占用"),
        demand=("请城管部门尽快到现场制止并依法拆除", "恳请执法部门依法查处"),
        chat_open=("{building}顶楼有人在搭房子", "{community}{building}有人违建"),
        chat_more=("天天在楼顶敲敲打打", "砖都运上去了", "物业说管不了"),
        chat_ask=("赶紧来制止吧", "城管管不管"),
        call=(
            "{community}{building}顶楼住户私自加盖房屋，疑似违章建筑",
            "{community}{building}楼顶有住户违规搭建彩钢板房",
        ),
        call_more=("来电人要求对其身份保密", "来电人称物业制止无效", ""),
        call_ask=("城管部门到现场核查处理", "依法拆除违建"),
        followup=("{building}顶楼今天又在施工", "补充：是{building}最顶上那层"),
    ),
    Kind(
        key="square-dance",
        label="广场舞噪音",
        type="complaint",
        hotline=URBAN,
        anchor="park",
        hot=True,
        titles=("{park}广场舞音响太吵", "投诉{community}旁{park}广场舞噪音扰民"),
        formal=(
            "{community}旁的{park}每天晚上七点到十点都有几支广场舞队伍，音响开得震天响",
            "{park}的广场舞音响从早上六点就开始放，周末更是一整天不停",
        ),
        impact=("临街的住户在家里关着窗都能听到，孩子根本没法写作业", "家里有病人需要休息，实在受不了"),
        demand=("希望有关部门规定音量和时间，加强管理", "请城管和公安部门协调处理"),
        chat_open=("{park}的广场舞又开始了", "{community}旁边跳广场舞的音响太大了"),
        chat_more=("关着窗都听得到", "天天放到十点"),
        chat_ask=("能不能管管音量", "谁来管一下"),
        call=("{community}旁{park}广场舞音响音量过大，噪音扰民", "{park}广场舞每天早晚播放音乐，音量大"),
        call_more=("来电人称曾与领队沟通无果", ""),
        call_ask=("相关部门协调处理", "规范广场舞音量和时间"),
        followup=("今晚{park}又放到十点多",),
    ),
    Kind(
        key="property-certificate",
        label="不动产证办理难",
        type="help",
        hotline=URBAN,
        anchor="community",
        hot=True,
        titles=("{community}交房{years}年办不了房产证", "请求解决{community}业主不动产证办理问题"),
        formal=(
            "{community}于{year}年交房，至今已{years}年，开发商{developer}以各种理由拖延，业主至今办不了不动产权证",
            "{community}业主早已交清全款，但开发商{developer}欠缴土地出让金，导致全小区无法办证",
        ),
        impact=("孩子上学、落户都受到影响", "业主多次找开发商都没有结果"),
        demand=("恳请自然资源和住建部门督促开发商尽快完善手续，为业主办证", "希望政府为我们业主做主"),
        chat_open=("{community}交房{years}年了还办不了房产证", "我们{community}的房产证什么时候能办"),
        chat_more=("开发商一直拖", "孩子上学要用"),
        chat_ask=("到底找哪个部门", "求帮忙"),
        call=(
            "{community}交房多年，开发商{developer}至今未为业主办理不动产权证",
            "其所购{community}房屋因开发商欠缴土地出让金无法办理不动产权证",
        ),
        call_more=("来电人称涉及全小区业主", ""),
        call_ask=("相关部门督促开发商办理", "协调解决办证问题"),
        followup=("补充：{community}是{year}年交的房",),
    ),
    Kind(
        key="sewage",
        label="下水道堵塞污水外溢",
        type="help",
        hotline=URBAN,
        anchor="community",
        hot=True,
        titles=("{community}门口下水道堵塞污水外溢", "{road}污水井冒水，臭不可闻"),
        formal=(
            "{community}门口的下水道自{since}起堵塞，一下雨污水就漫到路面上",
            "{road}靠近{community}的污水井长期往外冒水，路面上全是污水",
        ),
        impact=("行人只能踮着脚走，臭味飘进小区", "孩子上学都要绕路走"),
        demand=("希望市政部门尽快疏通管道", "请有关部门尽快派人处理"),
        chat_open=("{community}门口下水道又堵了", "{road}那个污水井一直在冒水"),
        chat_more=("臭死了", "路上全是污水"),
        chat_ask=("快来疏通一下", "谁管啊"),
        call=("{community}门口下水道堵塞，污水外溢", "{road}{community}附近污水井冒水"),
        call_more=("来电人称已持续多日", ""),
        call_ask=("市政部门疏通处理", "尽快处理"),
        followup=("{community}门口的污水还在冒",),
    ),
    Kind(
        key="taxi",
        label="出租车不打表",
        type="complaint",
        hotline=TRANSPORT,
        anchor="plate",
        hot=False,
        titles=("投诉出租车{plate}不打表乱要价", "出租车司机拒载、议价"),
        formal=(
            "本人于{since}晚上在{road}乘坐车牌号为{plate}的出租车，司机不打表，到{community}开口要价{fare}元",
            "{since}在{road}打车，车牌号{plate}的出租车司机拒绝打表，还绕路",
        ),
        impact=("平时打表只要二十多元", "司机态度非常恶劣"),
        demand=("请交通运输部门依法处理", "希望对该司机进行处罚"),
        chat_open=("{plate}这个出租车不打表", "刚坐了个出租车，{plate}，乱要价"),
        chat_more=("开口就要{fare}", "还绕路"),
        chat_ask=("怎么投诉", "请处理"),
        call=("其于{since}乘坐{plate}出租车，司机不打表，要价{fare}元", "{plate}出租车司机拒绝打表并绕路"),
        call_more=("来电人保留了支付记录", ""),
        call_ask=("交通部门核实处理", "依法处罚"),
        followup=("补充：车牌是{plate}，白色的车",),
        intro=("",),
    ),
)
KIND = {k.key: k for k in KINDS}
HOT_KINDS = tuple(k for k in KINDS if k.hot)
# Kinds whose matter is in or beside a residential building: what neighbours share.
PLACE_KINDS = tuple(
    k for k in KINDS if k.anchor in ("community", "building_key", "site", "park") or k.key == "bbq"
)

BOARD_GREETINGS = ("尊敬的领导：您好！", "尊敬的市长：", "领导您好！", "尊敬的{district}领导：", "", "")
BOARD_HISTORY = (
    "此前已多次向有关单位反映，至今没有得到解决。",
    "之前打过热线，也没有下文。",
    "这个问题已经持续很长时间了。",
    "",
    "",
)
BOARD_CLOSINGS = ("恳请领导在百忙之中关注此事，谢谢！", "望早日答复，盼复！", "谢谢！", "")
CHAT_HELLO = ("你好", "您好", "在吗", "你好，我要投诉", "你好，想反映个事情", "")
REAL_HELLO = ("你好", "您好", "在吗", "")  # a retold post may be a question, not a complaint
CHAT_BYE = ("谢谢", "谢谢了", "麻烦了", "")
CHAT_MARKS = ("[发怒]", "[流泪]", "[捂脸]", "！！！", "。。。", "")
CALL_ASK_LEAD = ("市民希望", "来电人要求", "来电人希望", "诉求：")
CALL_TAIL = ("（市民要求回复）", "请相关单位尽快处理。", "来电人要求回电。", "", "")
HOURS = ("凌晨一点", "凌晨两点", "半夜十二点多", "夜里一两点", "凌晨三点")


@dataclass(frozen=True)
class Campaign:
    """A form letter: many residents send the same text, only their own address and name differ."""

    key: str
    kind: str  # the kind its calls and place come from
    type: str
    title: str
    body: str
    call: str


CAMPAIGNS = (
    Campaign(
        key="transfer-station",
        kind="garbage",
        type="suggestion",
        title="反对在{community}旁建设垃圾中转站",
        body=(
            "我是{own}的业主{name}。近日得知，有关部门拟在{community}东门外不足五十米处建设垃圾中转站，"
            "该选址紧邻小区幼儿园和居民楼，建成后臭气、噪音和污水将严重影响数千名居民的健康。"
            "我们并不反对建设垃圾站，但坚决反对在居民区旁选址。恳请有关部门重新论证选址，公开环评信息，听取业主意见。"
        ),
        call="{community}东门外拟建垃圾中转站，距居民楼和幼儿园过近，来电人反对该选址，希望有关部门重新论证",
    ),
    Campaign(
        key="delayed-delivery",
        kind="property-certificate",
        type="complaint",
        title="{community}逾期交房，开发商拒不答复",
        body=(
            "本人是{own}的购房业主{name}，购房合同约定{deadline}交房，至今已逾期{months}个月，"
            "工地基本处于停工状态。开发商{developer}对业主的询问一律不予答复。"
            "恳请住建部门督促开发商尽快复工，并按合同约定支付逾期交房违约金。"
        ),
        call="其购买的{community}房屋逾期{months}个月未交房，工地停工，开发商{developer}不予答复，希望住建部门督促",
    ),
    Campaign(
        key="school-zone",
        kind="garbage",
        type="suggestion",
        title="请求将{community}划入{school}学区",
        body=(
            "我是{own}的业主{name}，小区距离{school}仅八百米，却被划入三公里外学校的学区，"
            "孩子上学需要穿过两条主干道，安全隐患很大。恳请教育部门重新考虑学区划分，将{community}划入{school}学区。"
        ),
        call="{community}距离{school}很近却被划入远处学校学区，来电人希望教育部门调整学区划分",
    ),
    Campaign(
        key="substation",
        kind="construction-noise",
        type="complaint",
        title="反对在{community}楼下建设变电站",
        body=(
            "本人系{own}住户{name}。{developer}在{community}住宅楼与幼儿园之间建设110千伏变电站，"
            "距离住宅楼不足三十米，事先未进行任何公示。恳请规划部门公开审批信息，暂停施工，另行选址。"
        ),
        call="{community}住宅楼旁正在建设110千伏变电站，距离过近且未公示，来电人要求公开审批信息并暂停施工",
    ),
)

QUICK_FORMS = (
    (
        "路灯不亮",
        "问题类型：路灯不亮\n问题地点：{road}{landmark}\n问题描述：路灯晚上不亮，行人出行不安全，请尽快维修。",
    ),
    (
        "井盖破损",
        "问题类型：井盖破损\n问题地点：{road}{landmark}\n问题描述：人行道上的井盖破损缺失，容易有人掉下去，请尽快处理。",
    ),
    (
        "占道经营",
        "问题类型：占道经营\n问题地点：{road}{landmark}\n问题描述：流动摊贩占用人行道经营，影响行人通行，请城管处理。",
    ),
    (
        "单车乱停",
        "问题类型：共享单车乱停放\n问题地点：{road}{landmark}\n问题描述：共享单车堆满人行道，盲道被堵死，请及时清理。",
    ),
)

# Homophone and shape slips that appear in real appeals (the Teddy posts have 按装, 邦华/华邦, 岳磁/岳词).
TYPOS = (
    ("反映", "反应"),
    ("已经", "以经"),
    ("再次", "在次"),
    ("安装", "按装"),
    ("部门", "部们"),
    ("投诉", "投述"),
    ("处理", "处里"),
    ("噪音", "燥音"),
    ("拖欠", "托欠"),
    ("麻烦", "麻繁"),
    ("即使", "既使"),
    ("账", "帐"),
    ("严重", "严众"),
    ("一直", "一只"),
    ("希望", "希旺"),
    ("工地", "工第"),
)

_S2T = tuple(opencc.OpenCC(c) for c in ("s2t", "s2tw", "s2hk"))

# ---------------------------------------------------------------------------------------------------------------
# The real message board (Teddy Cup 2020). Same-user posts and near-identical posts of different users were
# reviewed by hand (character 4-gram Jaccard above 0.1 for one user, above 0.25 across users, near titles); a
# group below is one matter.

REAL_SAME_MATTER = (
    # the same user again, often told differently (再次反映, after a reply, to another leader)
    ("27485", "4178"),
    ("7102", "6481"),
    ("12724", "11996", "17053"),
    ("17739", "16450"),
    ("17356", "16996"),
    ("25582", "18288"),
    ("18435", "25633", "18413"),
    ("18516", "18437"),
    ("18914", "18646"),
    ("19200", "19149"),
    ("22513", "22481"),
    ("22996", "22990"),
    ("23158", "23153"),
    ("24581", "24575"),
    ("35504", "32790"),
    ("39102", "32835", "39099"),
    ("33156", "33064"),
    ("35985", "34212"),
    ("36878", "36794"),
    ("37662", "37661"),
    ("74615", "76654"),
    ("78479", "78477"),
    ("96762", "88359", "96757"),
    ("94222", "90330"),
    ("112186", "118583"),
    ("118365", "114512"),
    ("116231", "116229"),
    ("124185", "120428"),
    ("126392", "126390"),
    ("128713", "128710"),
    ("137179", "139820"),
    ("144848", "144792"),
    ("10029", "29764"),
    ("17431", "17173"),
    ("19234", "19040"),
    ("100825", "104720"),
    ("25498", "25493"),
    ("92221", "92220"),
    ("159020", "35904"),
    ("39513", "32999"),
    ("113246", "108043"),
    ("96592", "90219"),
    ("122388", "124499"),
    ("139922", "146901"),
    ("104096", "115234"),
    ("121229", "124324", "121215"),
    ("16703", "6379"),
    ("33562", "40983"),
    ("18455", "25642"),
    ("98227", "105651"),
    ("99713", "107603"),
    ("95333", "88118"),
    ("164057", "5893"),
    ("99145", "115274"),
    ("112653", "117609"),
    ("112172", "97791"),
    ("17077", "17075"),
    ("95419", "88412", "90445"),
    ("74211", "80151"),
    ("17589", "17561"),
    ("91996", "91995"),
    ("6574", "27610"),
    ("17475", "17476"),
    ("18586", "25683"),
    ("81801", "167540"),
    ("29819", "8097"),
    ("18596", "25678"),
    ("23646", "8527"),
    ("25567", "10511"),
    ("74879", "79948"),
    ("8657", "23658"),
    ("139579", "144850"),
    ("95410", "88090"),
    ("118149", "105734"),
    ("29780", "29779", "7898"),
    ("87916", "92575"),
    ("29552", "5088"),
    # different users about one matter: a hot issue
    ("76731", "74739", "76734"),
    ("98413", "104077", "119178", "119151", "98095", "98070"),
    ("37368", "37366"),
    ("117569", "116997"),
    ("9225", "9199"),
    ("126598", "126597"),
    ("19386", "11927"),
    ("97550", "117473"),
    ("58252", "58237"),
    ("27418", "4347"),
    ("137384", "137378"),
    ("110467", "110416"),
    ("7017", "3954"),
    ("12712", "12193"),
    ("20927", "20768"),
    ("131442", "131394"),
    ("16979", "16971"),
    ("17915", "17869"),
    ("76006", "75998"),
    ("74410", "74247"),
    # one person with two board accounts (the same personal story): linked by a shared phone
    ("131988", "132959"),
    ("25526", "25488"),
    ("93216", "93215"),
    ("16945", "16857"),
    ("93040", "92020"),
    ("56051", "184814"),
)
REAL_SAME_PERSON = (
    ("UU008349", "UU0081875"),
    ("UU0081910", "UU0082041"),
    ("UU0081907", "UU008514"),
    ("UU0081200", "A00043904"),
    ("UU0082397", "UU008458"),
    ("UU0081998", "A00059441"),
)
# The same problem at the same place again after it had been solved: its own matter, placed past the window.
REAL_LATE_REPEATS = (("167074", "167053"),)
# Near each other but not clearly one matter nor clearly two: left out so that no label is a guess.
REAL_EXCLUDED = frozenset(
    (
        "33254",
        "19637",
        "23770",
        "22505",
        "23778",
        "92994",
        "104080",
        "98798",
        "132119",
        "20430",
        "33937",
        "6196",
        "17841",
        "38407",
        "105661",
        "4627",
    )
)


@dataclass(frozen=True)
class RealPost:
    """One message-board post as published."""

    id: str
    user: str
    title: str
    time: datetime  # naive, as the board wrote it
    content: str


def load_real_posts(teddy_dir: Path | None) -> tuple[list[RealPost], str]:
    """The Teddy posts (附件2 and 附件4, each post once), or the simulators' 300 if the data is not there."""
    files = [teddy_dir / name for name in ("附件2_subset495_labelled.csv", "附件4.csv")] if teddy_dir else []
    posts: dict[str, RealPost] = {}
    if files and all(f.is_file() for f in files):
        for f in files:
            with f.open(encoding="utf-8-sig", newline="") as fh:
                for row in csv.DictReader(fh):
                    post = _real_post(
                        row["留言编号"], row["留言用户"], row["留言主题"], row["留言时间"], row["留言详情"]
                    )
                    if post:
                        posts.setdefault(post.id, post)
        return list(posts.values()), f"{teddy_dir} ({len(posts)} posts)"
    with (SIMULATOR_DATA / "board_messages.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                m = json.loads(line)
                post = _real_post(m["id"], m["user"], m["title"], m["time"], m["content"])
                if post:
                    posts.setdefault(post.id, post)
    where = f"{teddy_dir} is missing" if teddy_dir else "no Teddy data asked for"
    return list(posts.values()), f"simulators/data/board_messages.jsonl ({len(posts)} posts; {where})"


def _real_post(pid: str, user: str, title: str, when: str, content: str) -> RealPost | None:
    """A post with its two date spellings read, or None if it has no text."""
    content = content.strip()
    if not content or not title.strip():
        return None
    for shape in ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            time = datetime.strptime(when.strip(), shape)
            break
        except ValueError:
            continue
    else:
        return None
    return RealPost(pid.strip(), user.strip(), title.strip(), time, content)


# ---------------------------------------------------------------------------------------------------------------
# The corpus being built


@dataclass
class Person:
    """A ground-truth citizen and every identifier they may show."""

    id: str
    name: str
    female: bool
    phone: str  # E.164
    id_number: str
    openid: str
    user: str
    writes: str = "simplified"  # simplified | traditional | fullwidth: what their input method produces
    variant: int = 0  # which traditional convention: OpenCC's plain, Taiwan or Hong Kong

    def address_as(self) -> str:
        """How an operator often writes the caller: surname and 先生 or 女士."""
        return self.name[0] + ("女士" if self.female else "先生")


@dataclass
class Draft:
    """An appeal being built, with its truth."""

    person: Person
    matter: str
    scenario: str
    channel: str
    at: datetime
    type: str
    title: str | None
    content: str
    citizen: dict[str, str]
    address: str | None = None
    division_code: str | None = None
    seq: int = 0

    def appeal(self, appeal_id: str) -> dict[str, object]:
        """The batch-input line: absent fields left out."""
        out: dict[str, object] = {
            "id": appeal_id,
            "channel": self.channel,
            "received_at": self.at.isoformat(),
            "citizen": dict(self.citizen),
            "type": self.type,
        }
        for key, value in (
            ("title", self.title),
            ("content", self.content),
            ("address", self.address),
            ("division_code", self.division_code),
        ):
            if value:
                out[key] = value
        return out


@dataclass
class Corpus:
    """The built corpus: batch-input appeals and their labels, in arrival order."""

    appeals: list[dict[str, object]]
    labels: list[dict[str, str]]
    source: str  # where the real posts came from

    def write(self, out: Path) -> None:
        """appeals.jsonl and labels.jsonl into `out`."""
        out.mkdir(parents=True, exist_ok=True)
        for name, rows in (("appeals.jsonl", self.appeals), ("labels.jsonl", self.labels)):
            with (out / name).open("w", encoding="utf-8") as f:
                for row in rows:
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")


ID_KEYS = ("phone", "id_number", "openid", "user")
TYPE_WORDS = {"complaint": "投诉", "help": "求助", "consultation": "咨询", "suggestion": "建议", "report": "举报"}
TYPE_ASKS = {
    "complaint": "相关部门调查处理",
    "help": "相关部门协调解决",
    "consultation": "相关部门给予解答",
    "suggestion": "相关部门研究采纳",
    "report": "相关部门依法查处",
}


def cn_number(n: int) -> str:
    """1..99 in Chinese numerals (十一, 二十三)."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else CN_DIGITS[tens] + "十")
    return head + (CN_DIGITS[ones] if ones else "") if n else "零"


def full_width(text: str) -> str:
    """ASCII letters and digits as their full-width forms (Ａ３区, ５栋)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


class Builder:
    """Generates the scenarios, places the real posts, links identities and labels every appeal."""

    def __init__(self, seed: int, size: int, posts: Sequence[RealPost]) -> None:
        self.rng = random.Random(seed)
        self.size = size
        self.posts = list(posts)
        self.drafts: list[Draft] = []
        self.anchors: set[tuple[str, str]] = set()  # (kind, anchor value) already a matter: never iterated
        self.taken: set[str] = set()  # identifiers and names of things already handed out
        self.persons = 0
        self.matters = 0

    # -- people, places, matters -------------------------------------------------------------------------------

    def unique(self, make: Callable[[], str]) -> str:
        """A value from `make` that was never handed out before."""
        for _ in range(10_000):
            value = make()
            if value not in self.taken:
                self.taken.add(value)
                return value
        raise RuntimeError("ran out of distinct values")

    def person(self, *, name: str | None = None, user: str | None = None, plain: bool = False) -> Person:
        """A new citizen with identifiers no one else has."""
        rng = self.rng
        self.persons += 1
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 54))
        region = rng.choice(DISTRICTS)[1]

        def id_number() -> str:
            first17 = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
            return first17 + id_check_char(first17)

        writes = "simplified"
        if not plain:
            roll = rng.random()
            writes = "traditional" if roll < 0.05 else "fullwidth" if roll < 0.12 else "simplified"
        return Person(
            id=f"p{self.persons:05d}",
            name=name or rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES),
            female=rng.random() < 0.5,
            phone=self.unique(lambda: "+86" + mobile_number(rng, MOBILE_PREFIXES)),
            id_number=self.unique(id_number),
            openid=self.unique(lambda: "o" + "".join(rng.choice(OPENID_ALPHABET) for _ in range(27))),
            user=user or self.unique(lambda: f"BB{rng.randrange(10**8):08d}"),
            writes=writes,
            variant=rng.randrange(len(_S2T)),
        )

    def place(self) -> dict[str, object]:
        """A place in A市: district, street, community, building, road and a landmark on it."""
        rng = self.rng
        district, code = rng.choice(DISTRICTS)
        return {
            "district": district,
            "code": code,
            "street": rng.choice(STREETS),
            "community": rng.choice(COMMUNITY_HEADS) + rng.choice(COMMUNITY_TAILS) + rng.choice(COMMUNITY_PHASES),
            "building": f"{rng.randint(1, 28)}栋",
            "road": rng.choice(ROADS),
            "landmark": rng.choice(LANDMARKS),
        }

    def facts(self, kind: Kind, place: dict[str, object] | None = None, key: str | None = None) -> dict | None:
        """The facts of a new matter of this kind (at `place` if given); None if that matter exists already."""
        rng = self.rng
        for _ in range(50):
            f = dict(place or self.place())
            brand = rng.choice(BRANDS)
            f.update(
                hour=rng.choice(HOURS),
                days=rng.randint(3, 12),
                months=rng.randint(2, 8),
                years=rng.randint(2, 6),
                year=rng.randint(2016, 2021),
                amount=rng.choice((1980, 2680, 3600, 4200, 5800, 6500, 8400, 12000, 15600)),
                developer=brand + "置业",
                project=rng.choice(COMMUNITY_HEADS) + rng.choice(("华庭", "府", "广场", "中心")) + "二期",
                company=brand
                + rng.choice(
                    ("建筑劳务有限公司", "电子厂", "餐饮管理有限公司", "物流有限公司", "装饰工程有限公司")
                ),
                boss=rng.choice(SURNAMES),
                gym=brand + rng.choice(("健身", "游泳健身会所", "教育培训中心", "美容养生馆")),
                line=str(rng.randint(2, 399)),
                stop=rng.choice(COMMUNITY_HEADS) + rng.choice(("路口", "小区", "村", "市场")),
                park=rng.choice(COMMUNITY_HEADS) + rng.choice(("公园", "广场", "游园")),
                plate=f"湘A{rng.choice('BCDEFGHJKLMNPQRT')}{rng.randrange(10000):04d}",
                fare=rng.choice((60, 80, 100, 120, 150)),
                province=rng.choice(("广东", "浙江", "江苏", "上海", "福建", "湖北")),
                fee_old=rng.choice(("1.2", "1.5", "1.8")),
                fee_new=rng.choice(("2.2", "2.5", "2.8", "3.0")),
                school=rng.choice(COMMUNITY_HEADS) + rng.choice(("小学", "实验小学", "第一小学")),
            )
            if kind.key == "expired-food":
                f["shop"] = brand + rng.choice(("超市", "便利店", "生活超市"))
            else:
                f["shop"] = rng.choice(
                    (f"{rng.choice(SURNAMES)}记烧烤", f"{rng.choice(COMMUNITY_HEADS)}夜宵城", f"{brand}烧烤")
                )
            f["site"] = f"{f['developer']}{f['project']}项目"
            f["building_key"] = f"{f['community']}{f['building']}"
            f["spot"] = f"{f['road']}{f['landmark']}"
            f["person"] = f"person-{self.persons}-{self.matters}"
            anchor = (key or kind.key, str(f[kind.anchor]))
            if anchor not in self.anchors:
                self.anchors.add(anchor)
                f["addresses"] = self.addresses(kind, f)
                return f
            if place is not None and kind.anchor in ("community", "building_key", "spot"):
                return None  # the place is fixed and this kind of matter is already told there
        return None

    @staticmethod
    def addresses(kind: Kind, f: dict[str, object]) -> tuple[str, ...]:
        """The ways a form or an operator writes where the matter is."""
        d, s, c, b, r, lm = (f[k] for k in ("district", "street", "community", "building", "road", "landmark"))
        if kind.anchor == "spot":
            return (f"{d}{r}{lm}", f"{r}{lm}附近", f"A市{d}{r}")
        if kind.anchor == "line":
            return (f"{d}{r}{f['stop']}站", f"{f['line']}路公交{f['stop']}站")
        if kind.anchor == "plate":
            return (f"{d}{r}", f"A市{d}{r}")
        if kind.anchor in ("company", "gym") or kind.key == "expired-food":
            where = f[kind.anchor]
            return (f"{d}{r}{where}", f"A市{d}{r}", f"{r}{where}")
        return (f"{d}{s}{c}{b}", f"{d}{c}", f"{c}{b}", f"A市{d}{r}{c}", f"{d}{s}{c}")

    def matter(self) -> str:
        """A new ground-truth matter id."""
        self.matters += 1
        return f"m{self.matters:05d}"

    # -- time ----------------------------------------------------------------------------------------------------

    def day0(self, room: int = 30) -> float:
        """A start day that leaves `room` days before the end of the span."""
        return self.rng.uniform(0, SPAN_DAYS - room)

    def at(self, day: float, channel: str) -> datetime:
        """A receipt time on `day` (fractional days from START) at an hour that fits the channel."""
        hour = self.rng.uniform(8, 21) if channel in CALLS else self.rng.uniform(7, 23.9)
        return START + timedelta(days=int(day)) + timedelta(hours=hour, seconds=self.rng.randrange(60))

    # -- telling a matter ----------------------------------------------------------------------------------------

    def fill(self, template: str, f: dict[str, object], at: datetime) -> str:
        """The template with the matter's facts; dates spelt one of the many ways people write them."""
        values = dict(f)
        for key in ("since", "deadline"):
            if isinstance(f.get(key), date):
                values[key] = self.spell_date(f[key], at)  # type: ignore[arg-type]
        return template.format(**values)

    def spell_date(self, d: date, at: datetime) -> str:
        """3月5日, 3月5号, 2024年3月5日, 2024-03-05, 2024/3/5, 三月五号, 前天, 上周二 ..."""
        options = [
            f"{d.month}月{d.day}日",
            f"{d.month}月{d.day}号",
            f"{d.year}年{d.month}月{d.day}日",
            f"{d.year}-{d.month:02d}-{d.day:02d}",
            f"{d.year}/{d.month}/{d.day}",
            f"{d.year}.{d.month}.{d.day}",
            f"{cn_number(d.month)}月{cn_number(d.day)}日",
            f"{cn_number(d.month)}月{cn_number(d.day)}号",
        ]
        ago = (at.date() - d).days
        if 1 <= ago <= 2:
            options.append(("昨天", "前天")[ago - 1])
        elif 7 <= ago <= 13:
            options.append(f"上周{WEEKDAYS[d.weekday()]}")
        return self.rng.choice(options)

    def pick(self, options: Sequence[str], f: dict[str, object], at: datetime) -> str:
        """One option, filled."""
        return self.fill(self.rng.choice(options), f, at)

    def as_written(self, person: Person | None, text: str, *, typo_rate: float = 0.15) -> str:
        """The text as this writer's input method and fingers produce it (None: an operator, in simplified)."""
        if self.rng.random() < typo_rate:
            hits = [t for t in TYPOS if t[0] in text]
            for right, wrong in self.rng.sample(hits, min(len(hits), self.rng.randint(1, 2))):
                text = text.replace(right, wrong, 1)
        if person and person.writes == "traditional":
            return _S2T[person.variant].convert(text)
        if person and person.writes == "fullwidth":
            return full_width(text)
        return text

    def tell(
        self,
        person: Person,
        matter: str,
        kind: Kind,
        f: dict[str, object],
        channel: str,
        at: datetime,
        scenario: str,
        citizen: dict[str, str] | None = None,
    ) -> Draft:
        """One appeal about the matter, told the way the channel tells things."""
        rng = self.rng
        title: str | None
        if channel == WECHAT:
            title = None
            lines = [rng.choice(CHAT_HELLO), self.pick(kind.chat_open, f, at)]
            lines += [
                self.fill(m, f, at)
                for m in rng.sample(kind.chat_more, rng.randint(1, min(2, len(kind.chat_more))))
            ]
            lines += [self.pick(kind.chat_ask, f, at) + rng.choice(CHAT_MARKS), rng.choice(CHAT_BYE)]
            content = self.as_written(person, "\n".join(x for x in lines if x))
        elif channel in CALLS:
            title = f"关于{kind.label}的{TYPE_WORDS[kind.type]}" if rng.random() < 0.5 else None
            more = self.pick(kind.call_more, f, at)
            content = (
                rng.choice(kind.call_open)
                + self.pick(kind.call, f, at)
                + (f"，{more}" if more else "")
                + "。"
                + rng.choice(CALL_ASK_LEAD)
                + self.pick(kind.call_ask, f, at)
                + "。"
                + rng.choice(CALL_TAIL)
            )
            content = self.as_written(None, content, typo_rate=0.05)
        else:
            title = self.as_written(person, self.pick(kind.titles, f, at), typo_rate=0.05)
            body = f"{self.pick(kind.formal, f, at)}，{self.pick(kind.impact, f, at)}。"
            if channel == BOARD:
                body = (
                    self.pick(BOARD_GREETINGS, f, at)
                    + self.pick(kind.intro, f, at)
                    + body
                    + self.pick(BOARD_HISTORY, f, at)
                    + self.pick(kind.demand, f, at)
                    + "。"
                    + rng.choice(BOARD_CLOSINGS)
                )
            elif channel == PETITION:
                body = f"信访人{person.name}反映：{body}{self.pick(kind.demand, f, at)}。"
            else:
                body = body + self.pick(kind.demand, f, at) + "。"
            content = self.as_written(person, body)
        return self.add(person, matter, kind.type, channel, at, title, content, scenario, f, citizen)

    def add(
        self,
        person: Person,
        matter: str,
        kind_type: str,
        channel: str,
        at: datetime,
        title: str | None,
        content: str,
        scenario: str,
        f: dict[str, object] | None,
        citizen: dict[str, str] | None = None,
        address: str | None = None,
    ) -> Draft:
        """Record one appeal with the identifiers and place fields its channel carries."""
        rng = self.rng
        at = at.replace(microsecond=0)
        draft = Draft(
            person,
            matter,
            scenario,
            channel,
            at,
            kind_type,
            title,
            content,
            citizen or self.identify(person, channel),
        )
        if f is not None:
            share = {BOARD: 0.0, WECHAT: 0.25, WEB: 0.7, PETITION: 0.7, SNAP: 1.0}.get(channel, 0.95)
            if address or rng.random() < share:
                draft.address = address or rng.choice(f["addresses"])  # type: ignore[arg-type]
            code_share = {BOARD: 0.3, WECHAT: 0.25}.get(channel, 0.85)
            if rng.random() < code_share:
                draft.division_code = str(f["code"])
        draft.seq = len(self.drafts)
        self.drafts.append(draft)
        return draft

    def identify(self, person: Person, channel: str) -> dict[str, str]:
        """What the channel knows of the citizen."""
        rng = self.rng
        if channel == BOARD:
            c = {"user": person.user}
            if rng.random() < 0.4:
                c["phone"] = person.phone
            if rng.random() < 0.3:
                c["name"] = person.name
        elif channel == WECHAT:
            c = {"openid": person.openid}
            if rng.random() < 0.2:
                c["phone"] = person.phone
        elif channel == SNAP:
            c = {"openid": person.openid, "phone": person.phone}
        elif channel == PETITION:
            c = {"name": person.name, "phone": person.phone, "id_number": person.id_number}
        elif channel == WEB:
            c = {"name": person.name, "phone": person.phone}
            if rng.random() < 0.3:
                c["id_number"] = person.id_number
        else:
            c = {"phone": person.phone}
            roll = rng.random()
            if roll < 0.4:
                c["name"] = person.address_as()
            elif roll < 0.8:
                c["name"] = person.name
            if rng.random() < (0.7 if channel == LABOUR else 0.05):
                c["id_number"] = person.id_number
        return c

    def channels_for(self, kind: Kind, n: int) -> list[str]:
        """n distinct channels a citizen might use for this kind of matter."""
        pool = [BOARD, WECHAT, kind.hotline, WEB, PETITION]
        weights = [0.3, 0.3, 0.25, 0.1, 0.05]
        chosen: list[str] = []
        while len(chosen) < n:
            c = self.rng.choices(pool, weights)[0]
            if c not in chosen:
                chosen.append(c)
        return chosen

    def since(self, f: dict[str, object], day: float) -> None:
        """When the problem began: days before it is first told."""
        f["since"] = (START + timedelta(days=int(day) - self.rng.randint(3, 40))).date()

    # -- synthetic scenarios -------------------------------------------------------------------------------------

    def new_matter(
        self, kind: Kind, day: float, place: dict[str, object] | None = None
    ) -> tuple[str, dict] | None:
        """A matter id and its facts, begun some days before `day`; None if it cannot be a new one."""
        f = self.facts(kind, place)
        if f is None:
            return None
        self.since(f, day)
        return self.matter(), f

    def follow(
        self, person: Person, matter: str, kind: Kind, f: dict[str, object], after: datetime, scenario: str
    ) -> None:
        """A WeChat addition to one's own appeal, hours later."""
        at = after + timedelta(hours=self.rng.uniform(0.5, 30))
        text = self.pick(kind.followup, f, at)
        text = text if text.startswith("补充") else self.rng.choice(("补充一下，", "还有，", "")) + text
        self.add(person, matter, kind.type, WECHAT, at, None, self.as_written(person, text), scenario, f)

    def cross_channel(self) -> None:
        """One citizen, one matter, two to four channels within three weeks."""
        rng = self.rng
        kind, day = rng.choice(KINDS), self.day0()
        if not (new := self.new_matter(kind, day)):
            return
        matter, f = new
        person = self.person()
        n = rng.choices((2, 3, 4), (0.5, 0.35, 0.15))[0]
        offsets = sorted([0.0] + [rng.uniform(0.05, 20) for _ in range(n - 1)])
        for channel, offset in zip(self.channels_for(kind, n), offsets, strict=True):
            told = self.tell(person, matter, kind, f, channel, self.at(day + offset, channel), "cross-channel")
            if channel == WECHAT and rng.random() < 0.3:
                self.follow(person, matter, kind, f, told.at, "cross-channel")

    def follow_up(self) -> None:
        """A WeChat appeal and one or two additions to it."""
        kind, day = self.rng.choice(KINDS), self.day0()
        if not (new := self.new_matter(kind, day)):
            return
        matter, f = new
        person = self.person()
        told = self.tell(person, matter, kind, f, WECHAT, self.at(day, WECHAT), "follow-up")
        for _ in range(self.rng.randint(1, 2)):
            self.follow(person, matter, kind, f, told.at, "follow-up")

    def absorb(self) -> None:
        """The same text from the same citizen on the same channel minutes later; sometimes a call days later."""
        rng = self.rng
        kind, day = rng.choice(KINDS), self.day0()
        if not (new := self.new_matter(kind, day)):
            return
        matter, f = new
        person = self.person()
        channel = rng.choice((BOARD, WECHAT, WEB))
        first = self.tell(person, matter, kind, f, channel, self.at(day, channel), "absorb")
        again = first.at + timedelta(minutes=rng.uniform(0.5, 8))
        twin = self.add(
            person,
            matter,
            first.type,
            channel,
            again,
            first.title,
            first.content,
            "absorb",
            None,
            dict(first.citizen),
        )
        twin.address, twin.division_code = first.address, first.division_code
        if rng.random() < 0.4:
            self.tell(
                person, matter, kind, f, kind.hotline, self.at(day + rng.uniform(1, 10), kind.hotline), "absorb"
            )

    def identity_chain(self) -> None:
        """openid; openid with a bound phone (another matter); then that phone about the first matter."""
        rng = self.rng
        first, second = rng.sample(KINDS, 2)
        day = self.day0()
        if not (a := self.new_matter(first, day)) or not (b := self.new_matter(second, day)):
            return
        (m1, f1), (m2, f2) = a, b
        p = self.person()
        self.tell(p, m1, first, f1, WECHAT, self.at(day, WECHAT), "identity-chain", {"openid": p.openid})
        both = {"openid": p.openid, "phone": p.phone}
        self.tell(p, m2, second, f2, WECHAT, self.at(day + rng.uniform(1, 3), WECHAT), "identity-chain", both)
        call = {"phone": p.phone, "name": p.address_as()}
        self.tell(
            p,
            m1,
            first,
            f1,
            first.hotline,
            self.at(day + rng.uniform(4, 10), first.hotline),
            "identity-chain",
            call,
        )
        if rng.random() < 0.5:
            board = {"user": p.user, "phone": p.phone}
            self.tell(p, m1, first, f1, BOARD, self.at(day + rng.uniform(11, 18), BOARD), "identity-chain", board)

    def same_person_new(self) -> None:
        """One citizen, two or three different matters close in time, sometimes at one place."""
        rng = self.rng
        person, day = self.person(), self.day0()
        place = self.place() if rng.random() < 0.5 else None
        for kind in rng.sample(KINDS, rng.randint(2, 3)):
            if not (new := self.new_matter(kind, day, place)):
                continue
            matter, f = new
            start = day + rng.uniform(0, 12)
            channels = self.channels_for(kind, 2)
            self.tell(person, matter, kind, f, channels[0], self.at(start, channels[0]), "same-person-new")
            if rng.random() < 0.4:
                later = start + rng.uniform(0.5, 8)
                self.tell(person, matter, kind, f, channels[1], self.at(later, channels[1]), "same-person-new")

    def same_building(self) -> None:
        """Different problems in one building, told by neighbours (sometimes namesakes) or by one of them twice."""
        rng = self.rng
        place, day = self.place(), self.day0()
        first = self.person()
        people = [first] + [
            self.person(name=first.name if rng.random() < 0.3 else None) for _ in range(rng.randint(0, 2))
        ]
        for kind in rng.sample(PLACE_KINDS, rng.randint(2, 4)):
            if not (new := self.new_matter(kind, day, place)):
                continue
            matter, f = new
            teller, start = rng.choice(people), day + rng.uniform(0, 10)
            channels = self.channels_for(kind, 2)
            self.tell(teller, matter, kind, f, channels[0], self.at(start, channels[0]), "same-building")
            if rng.random() < 0.3:
                later = start + rng.uniform(0.5, 6)
                self.tell(teller, matter, kind, f, channels[1], self.at(later, channels[1]), "same-building")

    def form_letter(self) -> None:
        """A campaign letter sent by many residents: only their own address and name differ."""
        rng = self.rng
        campaign = rng.choice(CAMPAIGNS)
        kind, day = KIND[campaign.kind], self.day0()
        f = self.facts(kind, key=f"campaign:{campaign.key}")
        if f is None:
            return
        self.since(f, day)
        f["deadline"] = (START + timedelta(days=int(day) - rng.randint(60, 240))).date()
        matter = self.matter()
        signers: list[Person] = []
        for _ in range(rng.randint(6, 24)):
            namesake = bool(signers) and rng.random() < 0.1
            person = self.person(name=rng.choice(signers).name if namesake else None)
            signers.append(person)
            flat = f"{rng.randint(1, 28)}栋{rng.randint(1, 4)}单元{rng.randint(1, 33)}0{rng.randint(1, 4)}"
            own = f"{f['community']}{flat}"
            at = self.at(day + min(12.0, rng.expovariate(1 / 2.5)), BOARD)
            channel = rng.choices((BOARD, WEB, PETITION, WECHAT), (0.45, 0.3, 0.15, 0.1))[0]
            mine = {**f, "own": own, "name": person.name}
            title = None if channel == WECHAT else self.fill(campaign.title, mine, at)
            content = self.as_written(person, self.fill(campaign.body, mine, at), typo_rate=0.05)
            own_address = own if channel in (WEB, PETITION) and rng.random() < 0.5 else None
            self.add(
                person, matter, campaign.type, channel, at, title, content, "form-letter", f, address=own_address
            )
            if rng.random() < 0.2:
                later = at + timedelta(days=rng.uniform(1, 6))
                text = (
                    rng.choice(kind.call_open)
                    + self.fill(campaign.call, mine, later)
                    + "。"
                    + rng.choice(CALL_TAIL)
                )
                self.add(person, matter, campaign.type, kind.hotline, later, None, text, "form-letter", f)

    def quick_form(self) -> None:
        """One report form, places differ: a volunteer's several places are several matters; a second report
        of one of them by someone else joins it."""
        rng = self.rng
        label, template = rng.choice(QUICK_FORMS)
        key = "streetlight" if label == "路灯不亮" else f"quick:{label}"
        kind_type = "help" if label in ("路灯不亮", "井盖破损") else "complaint"
        day = self.day0()
        volunteer = self.person()
        start = self.at(day, SNAP)
        reported: list[tuple[str, dict]] = []

        def report(person: Person, at: datetime, matter: str | None = None, f: dict | None = None) -> None:
            if f is None:
                f = self.facts(KIND["streetlight"], key=key)
                if f is None:
                    return
                matter = self.matter()
                reported.append((matter, f))
            text = self.as_written(person, self.fill(template, f, at), typo_rate=0.03)
            where = f"{f['district']}{f['road']}{f['landmark']}"
            self.add(
                person,
                matter or "",
                kind_type,
                SNAP,
                at,
                f"【随手拍】{label}",
                text,
                "quick-form",
                f,
                address=where,
            )

        for i in range(rng.randint(3, 6)):
            report(volunteer, start + timedelta(minutes=i * rng.uniform(2, 25)))
        for _ in range(rng.randint(1, 3)):
            report(self.person(), self.at(day + rng.uniform(0, 5), SNAP))
        if reported and rng.random() < 0.6:
            matter, f = rng.choice(reported)
            report(self.person(), start + timedelta(days=rng.uniform(0.5, 3)), matter, f)

    def hot_issue(self) -> None:
        """Many citizens about one matter, each in their own words and channels; some of them twice."""
        rng = self.rng
        kind, day = rng.choice(HOT_KINDS), self.day0()
        if not (new := self.new_matter(kind, day)):
            return
        matter, f = new
        people: list[Person] = []
        for _ in range(min(30, 3 + int(rng.expovariate(1 / 6)))):
            namesake = bool(people) and rng.random() < 0.15
            person = self.person(name=rng.choice(people).name if namesake else None)
            people.append(person)
            mine = dict(f)
            if kind.anchor not in ("building_key", "shop"):  # else the building is where the matter is
                mine["building"] = f"{rng.randint(1, 28)}栋"
            if kind.key in ("wage-arrears", "prepaid-card"):
                mine["amount"] = rng.choice((1200, 2300, 3600, 4800, 5200, 7400, 9900))
                mine["since"] = f["since"] - timedelta(days=rng.randint(0, 90))  # type: ignore[operator]
            mine["addresses"] = self.addresses(kind, mine)
            t = day + rng.uniform(0, 20)
            for channel in self.channels_for(kind, rng.choices((1, 2, 3), (0.7, 0.25, 0.05))[0]):
                self.tell(person, matter, kind, mine, channel, self.at(t, channel), "hot-issue")
                t += rng.uniform(0.05, 3)

    def late_repeat(self) -> None:
        """The same problem at the same place, again after the window: a new matter."""
        rng = self.rng
        kind, day = rng.choice(PLACE_KINDS), self.day0(room=110)
        if not (new := self.new_matter(kind, day)):
            return
        first, f = new
        person = self.person()
        again = day + 5 + rng.uniform(*LATE_GAP_DAYS)
        later = dict(f, since=(START + timedelta(days=int(again) - rng.randint(1, 5))).date())
        for matter, facts, start in ((first, f, day), (self.matter(), later, again)):
            channels = self.channels_for(kind, rng.randint(1, 2))
            for i, channel in enumerate(channels):
                self.tell(
                    person,
                    matter,
                    kind,
                    facts,
                    channel,
                    self.at(start + i * rng.uniform(0.5, 4), channel),
                    "late-repeat",
                )

    def singleton(self) -> None:
        """A one-off appeal: a near topic in the index."""
        kind, day = self.rng.choice(KINDS), self.day0()
        if not (new := self.new_matter(kind, day)):
            return
        matter, f = new
        channel = self.channels_for(kind, 1)[0]
        self.tell(self.person(), matter, kind, f, channel, self.at(day, channel), "singleton")

    # -- the real message board ----------------------------------------------------------------------------------

    def real(self, budget: int, rewrite_budget: int) -> None:
        """Real posts: the reviewed groups, every post of users who posted more than once, then others; then
        retellings of some of them."""
        rng = self.rng
        posts = {p.id: p for p in self.posts if p.id not in REAL_EXCLUDED}
        matter_of = {pid: f"t{pid}" for pid in posts}
        chosen: dict[str, None] = {}  # ordered set
        for group in REAL_SAME_MATTER:
            present = [pid for pid in group if pid in posts]
            for pid in present:
                matter_of[pid] = f"t{present[0]}"
                chosen[pid] = None
        late = [(a, b) for a, b in REAL_LATE_REPEATS if a in posts and b in posts]
        for pair in late:
            chosen.update(dict.fromkeys(pair))
        by_user: dict[str, list[str]] = {}
        for pid in sorted(posts, key=int):
            by_user.setdefault(posts[pid].user, []).append(pid)
        repeaters = sorted(u for u, ids in by_user.items() if len(ids) > 1)
        rng.shuffle(repeaters)
        others = sorted((pid for u, ids in by_user.items() if len(ids) == 1 for pid in ids), key=int)
        rng.shuffle(others)
        for pid in [pid for u in repeaters for pid in by_user[u]] + others:
            if len(chosen) >= budget:
                break
            chosen[pid] = None

        people: dict[str, Person] = {}
        for user in sorted({posts[pid].user for pid in chosen}):
            people[user] = self.person(user=user, plain=True)
            people[user].id = f"t:{user}"
        for first, second in REAL_SAME_PERSON:
            if first in people and second in people:
                people[second] = people[first]

        drafts = self.place_real([posts[pid] for pid in chosen], matter_of, people, late)
        grouped = {pid for group in REAL_SAME_MATTER for pid in group} | {pid for pair in late for pid in pair}
        singles = sorted((pid for pid in chosen if pid not in grouped), key=int)
        rng.shuffle(singles)
        made = 0
        for pid in singles:
            if made >= rewrite_budget:
                break
            made += self.retell(posts[pid], drafts[pid], matter_of[pid], people[posts[pid].user])

    def place_real(
        self,
        chosen: list[RealPost],
        matter_of: dict[str, str],
        people: dict[str, Person],
        late: list[tuple[str, str]],
    ) -> dict[str, Draft]:
        """The posts on the corpus's calendar: posts joined by a person or a matter stay together in their own
        order, a day or more apart becoming 0.3 to 2.5 days; minutes and hours apart stay as they were."""
        rng = self.rng
        late_of = {b: a for a, b in late}
        parent = {p.id: p.id for p in chosen}

        def root(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        anchor: dict[str, str] = {}
        for p in chosen:
            if p.id in late_of:
                continue
            for key in (f"person:{people[p.user].id}", f"matter:{matter_of[p.id]}"):
                if key in anchor:
                    parent[root(p.id)] = root(anchor[key])
                else:
                    anchor[key] = p.id
        components: dict[str, list[RealPost]] = {}
        for p in chosen:
            if p.id not in late_of:
                components.setdefault(root(p.id), []).append(p)
        drafts: dict[str, Draft] = {}
        for members in sorted(components.values(), key=lambda ms: min(int(m.id) for m in ms)):
            members.sort(key=lambda m: (m.time, int(m.id)))
            widest = min(2.5, 24 / max(1, len(members) - 1))
            day = int(self.day0(room=35))
            began = members[0].time
            at = START + timedelta(days=day, hours=began.hour, minutes=began.minute, seconds=began.second)
            for i, post in enumerate(members):
                if i:
                    gap = post.time - members[i - 1].time
                    at += (
                        gap
                        if timedelta(0) <= gap <= timedelta(days=1)
                        else timedelta(days=rng.uniform(0.3, widest))
                    )
                drafts[post.id] = self.real_draft(post, at, matter_of, people)
        for post in chosen:
            if post.id in late_of:
                earlier = drafts[late_of[post.id]].at
                drafts[post.id] = self.real_draft(
                    post, earlier + timedelta(days=rng.uniform(*LATE_GAP_DAYS)), matter_of, people
                )
        return drafts

    def real_draft(
        self, post: RealPost, at: datetime, matter_of: dict[str, str], people: dict[str, Person]
    ) -> Draft:
        """A post as a board appeal: its own account, its own words."""
        draft = self.add(
            people[post.user],
            matter_of[post.id],
            real_type(post.title),
            BOARD,
            at,
            post.title,
            post.content,
            "teddy-real",
            None,
            {"user": post.user},
        )
        if (m := re.search(r"A([1-9])[区县市]", post.title + post.content)) and self.rng.random() < 0.3:
            draft.division_code = DISTRICTS[int(m.group(1)) - 1][1]
        return draft

    def retell(self, post: RealPost, original: Draft, matter: str, author: Person) -> int:
        """The post told again: by its author on WeChat, by phone or in traditional characters, or by neighbours.
        Returns how many appeals were added."""
        rng = self.rng
        said = real_sentences(post.content)
        core = title_core(post.title)
        if not said or len(core) < 6:
            return 0
        kind_type = real_type(post.title)
        hotline = real_hotline(post.title + post.content)
        ask = TYPE_ASKS.get(kind_type, TYPE_ASKS["complaint"])
        added = 0

        def when(earliest: float = -3) -> datetime:
            return original.at + timedelta(days=rng.uniform(earliest, 15), minutes=rng.uniform(0, 600))

        # Neighbours share a nuisance or a grievance; a question or a proposal is retold by its author only.
        shared = kind_type in ("complaint", "help", "report")
        plan = rng.choices(("author", "neighbours"), (0.65, 0.35))[0] if shared else "author"
        if plan == "author":
            for way in rng.sample(("wechat", "call", "traditional"), rng.randint(1, 2)):
                if way == "wechat":
                    lines = [rng.choice(REAL_HELLO), f"我想反映一下{core}", clip(said[0], 30)]
                    if len(said) > 1 and rng.random() < 0.5:
                        lines.append(clip(said[1], 24))
                    lines.append(rng.choice(("麻烦尽快处理一下", "请帮忙看看", "谢谢")))
                    text = self.as_written(author, "\n".join(x for x in lines if x))
                    self.add(
                        author,
                        matter,
                        kind_type,
                        WECHAT,
                        when(),
                        None,
                        text,
                        "teddy-rewrite",
                        None,
                        self.identify(author, WECHAT),
                    )
                elif way == "call":
                    told = "，".join([core, *(clip(s, 60) for s in said[: rng.randint(1, 2)])])
                    text = f"{rng.choice(CALL_OPEN)}{third_person(told)}。{rng.choice(CALL_ASK_LEAD)}{ask}。"
                    citizen = self.identify(author, hotline)
                    self.add(
                        author,
                        matter,
                        kind_type,
                        hotline,
                        when(),
                        None,
                        self.as_written(None, text, typo_rate=0.05),
                        "teddy-rewrite",
                        None,
                        citizen,
                    )
                else:
                    kept = said if len(said) < 3 else [s for s in said if s != rng.choice(said[1:])]
                    text = "此前已就此事在平台留言，至今未见答复，现再次反映。" + "。".join(kept) + "。"
                    convert = rng.choice(_S2T).convert
                    self.add(
                        author,
                        matter,
                        kind_type,
                        BOARD,
                        when(0.02),
                        convert(f"再次反映：{core}"),
                        convert(text),
                        "teddy-rewrite",
                        None,
                        {"user": post.user},
                    )
                added += 1
            return added
        for _ in range(rng.randint(1, 4)):
            neighbour = self.person()
            if rng.random() < 0.5:
                lines = [
                    rng.choice(REAL_HELLO),
                    f"我也想反映{core}的事",
                    clip(said[0], 30),
                    rng.choice(("不止我一家，好多人都反映过了", "我们邻居都是这个情况", "这事拖了很久了")),
                    rng.choice(("麻烦尽快处理", "希望有人管管")),
                ]
                self.add(
                    neighbour,
                    matter,
                    kind_type,
                    WECHAT,
                    when(),
                    None,
                    self.as_written(neighbour, "\n".join(x for x in lines if x)),
                    "teddy-rewrite",
                    None,
                )
            else:
                told = third_person(clip(said[0], 50))
                text = f"{rng.choice(CALL_OPEN)}{core}，{told}，来电人称周边居民均受影响。"
                text += f"{rng.choice(CALL_ASK_LEAD)}{ask}。"
                self.add(
                    neighbour,
                    matter,
                    kind_type,
                    hotline,
                    when(),
                    None,
                    self.as_written(None, text, typo_rate=0.05),
                    "teddy-rewrite",
                    None,
                )
            added += 1
        return added

    # -- assembling ----------------------------------------------------------------------------------------------

    def build(self) -> list[tuple[Draft, str]]:
        """Every appeal in arrival order with its expected decision."""
        if self.posts:
            self.real(int(self.size * 0.28), int(self.size * 0.12))
        # Drawn per scenario, not per appeal: a hot issue or a form letter brings a dozen appeals, a singleton one.
        scenarios = (
            (self.cross_channel, 6.4),
            (self.follow_up, 1.6),
            (self.absorb, 2.1),
            (self.identity_chain, 1.1),
            (self.same_person_new, 3.3),
            (self.same_building, 2.3),
            (self.form_letter, 0.6),
            (self.quick_form, 1.0),
            (self.hot_issue, 1.5),
            (self.late_repeat, 1.3),
            (self.singleton, 13.0),
        )
        makers, weights = zip(*scenarios, strict=True)
        while len(self.drafts) < self.size:
            self.rng.choices(makers, weights)[0]()
        drafts = sorted(self.drafts, key=lambda d: (d.at, d.seq))
        link_identities(drafts)
        check_matter_spans(drafts)
        return list(zip(drafts, expected_decisions(drafts), strict=True))


# ---------------------------------------------------------------------------------------------------------------
# Identity, labels and the retelling of real posts


def link_identities(drafts: Iterable[Draft]) -> None:
    """Make every citizen findable: an appeal that shares no identifier with its citizen's earlier ones gets the
    citizen's phone (as a board form or a WeChat binding asks for it), and if no earlier one had the phone, the
    latest earlier one gets it too."""
    known: dict[str, set[tuple[str, str]]] = {}
    latest: dict[str, Draft] = {}
    for d in drafts:
        pid, phone = d.person.id, ("phone", d.person.phone)
        mine = {(k, d.citizen[k]) for k in ID_KEYS if d.citizen.get(k)}
        seen = known.setdefault(pid, set())
        if seen and not mine & seen:
            if phone not in seen:
                latest[pid].citizen["phone"] = d.person.phone
                seen.add(phone)
            d.citizen["phone"] = d.person.phone
            mine.add(phone)
        seen |= mine
        latest[pid] = d


def check_matter_spans(drafts: Sequence[Draft]) -> None:
    """Every matter told within MATTER_SPAN, or the labels would depend on the window's edge."""
    first: dict[str, datetime] = {}
    for d in drafts:
        start = first.setdefault(d.matter, d.at)
        if d.at - start > MATTER_SPAN:
            raise AssertionError(f"matter {d.matter} ({d.scenario}) spans {d.at - start}")


def same_text(a: Draft, b: Draft) -> bool:
    """The same title and content, white space aside."""
    return " ".join((a.title or "").split()) == " ".join((b.title or "").split()) and " ".join(
        a.content.split()
    ) == " ".join(b.content.split())


def expected_decisions(drafts: Sequence[Draft]) -> list[str]:
    """absorb | merge | link | new for each appeal, in arrival order (the rules in the module docstring)."""
    earlier: dict[str, list[Draft]] = {}
    out = []
    for d in drafts:
        prior = [p for p in earlier.get(d.matter, ()) if d.at - p.at <= WINDOW]
        mine = [p for p in prior if p.person.id == d.person.id]
        if any(p.channel == d.channel and d.at - p.at <= ABSORB_WINDOW and same_text(p, d) for p in mine):
            out.append("absorb")
        elif mine:
            out.append("merge")
        elif prior:
            out.append("link")
        else:
            out.append("new")
        earlier.setdefault(d.matter, []).append(d)
    return out


_SALUTATION = re.compile(
    r"^\s*(尊敬的[^：:，,！!。]{0,30}[：:，,！!]|[^：:，,。]{0,8}(领导|书记|市长|县长|局长)[^：:，,。]{0,4}[：:，,！!])?"
    r"\s*((您|你)好[！!，,。：:~～]?)?\s*"
)
_TITLE_HEAD = re.compile(r"^(关于|再次|强烈|坚决|请求|恳请|希望|建议|反映|投诉|举报|咨询|呼吁|要求|解决|请|对)+")
_TITLE_TAIL = re.compile(
    r"(的问题|问题|一事|的情况反映|的情况|的请求|的建议|的咨询|的投诉|的举报|事宜|[！!？?])+$"
)


def real_sentences(content: str) -> list[str]:
    """The post's sentences of some length, salutation dropped."""
    text = _SALUTATION.sub("", re.sub(r"(_x000D_|\s)+", " ", content).strip(), count=1)
    return [s.strip(" ，,") for s in re.split(r"[。！？!?；;]+", text) if len(s.strip(" ，,")) >= 6]


def title_core(title: str) -> str:
    """What a title is about: 关于/反映/投诉 ... and 的问题/一事 ... taken off."""
    return _TITLE_TAIL.sub("", _TITLE_HEAD.sub("", title.strip()))


def clip(sentence: str, limit: int) -> str:
    """The sentence up to its first comma after a dozen characters, at most `limit` characters."""
    cut = sentence.find("，", 12)
    return sentence[:cut] if 0 < cut <= limit else sentence[:limit]


def third_person(text: str) -> str:
    """First person as a call-centre operator writes it: 我 → 其, 本人 → 来电人."""
    for first, third in (("本人", "来电人"), ("我们", "其"), ("我家", "其家"), ("我", "其")):
        text = text.replace(first, third)
    return text


def real_type(title: str) -> str:
    """The appeal type a board post's title announces."""
    for word, kind in (
        ("举报", "report"),
        ("投诉", "complaint"),
        ("咨询", "consultation"),
        ("建议", "suggestion"),
    ):
        if word in title:
            return kind
    return "help" if re.search("请求|希望|恳请|呼吁|盼", title) else "complaint"


def real_hotline(text: str) -> str:
    """The call channel that would take a post's matter."""
    if re.search("工资|社保|养老|医保|公积金|劳动|就业|退休", text):
        return LABOUR
    if re.search("公交|出租|的士|驾驶证|驾校|客运|网约车|滴滴", text):
        return TRANSPORT
    if re.search("收费|商家|超市|食品|价格|消费|退费|商品", text):
        return MARKET
    return URBAN


def build_corpus(seed: int = 5, size: int = 3000, teddy_dir: Path | None = TEDDY_DIR) -> Corpus:
    """The corpus for a seed and a size (about `size` appeals; real posts from `teddy_dir` if it is there)."""
    posts, source = load_real_posts(teddy_dir)
    labelled = Builder(seed, size, posts).build()
    appeals, labels = [], []
    for n, (draft, expected) in enumerate(labelled, 1):
        appeal_id = f"a{n:06d}"
        appeals.append(draft.appeal(appeal_id))
        labels.append(
            {
                "id": appeal_id,
                "matter": draft.matter,
                "person": draft.person.id,
                "expected": expected,
                "scenario": draft.scenario,
            }
        )
    return Corpus(appeals, labels, source)


def summary(corpus: Corpus) -> str:
    """Counts by expected decision and by scenario."""
    expected = Counter(label["expected"] for label in corpus.labels)
    scenarios = Counter(label["scenario"] for label in corpus.labels)
    lines = [
        f"{len(corpus.appeals)} appeals, {len({x['matter'] for x in corpus.labels})} matters, "
        f"{len({x['person'] for x in corpus.labels})} citizens; real posts from {corpus.source}",
        "expected: " + ", ".join(f"{d} {expected[d]}" for d in DECISIONS),
        "scenarios: " + ", ".join(f"{s} {n}" for s, n in sorted(scenarios.items())),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Build the corpus into --out."""
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--out", type=Path, required=True, help="folder for appeals.jsonl and labels.jsonl")
    p.add_argument("--size", type=int, default=3000, help="about this many appeals (default 3000)")
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--teddy", type=Path, default=TEDDY_DIR, help=f"the Teddy data folder (default {TEDDY_DIR})")
    p.add_argument("--no-teddy", action="store_true", help="use only simulators/data/board_messages.jsonl")
    args = p.parse_args(argv)
    teddy = None if args.no_teddy else args.teddy
    if teddy and not teddy.is_dir():
        print(
            f"{teddy} not found: using only simulators/data/board_messages.jsonl for real posts", file=sys.stderr
        )
    corpus = build_corpus(args.seed, args.size, teddy)
    corpus.write(args.out)
    print(summary(corpus))
    print(f"written: {args.out / 'appeals.jsonl'}, {args.out / 'labels.jsonl'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
