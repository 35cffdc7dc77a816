"""What an appeal is about: the objects of the 12345 classification (工单分类) named in its text.

A citizen who tells one matter twice names the same object in different words (下水道堵了 on WeChat, 污水井冒水
in a call transcript); a citizen with two matters at one building names two objects (垃圾站 and 电梯). Each
topic below is one object of the hotline's classification with the words people and operators use for it;
generic words that go with any object (噪音, 扰民, 物业, 处理, 小区) belong to none, so that a garbage station
and a building site next to one community do not agree because both are noisy or smelly.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping

# topic -> words (folded: simplified, lower case). Longer words win where two overlap (物业费 over 物业).
TOPICS: Mapping[str, tuple[str, ...]] = {
    "construction-site": (
        "工地",
        "夜间施工",
        "违规施工",
        "施工扰民",
        "施工噪音",
        "打桩",
        "渣土",
        "浇筑",
        "混凝土",
        "塔吊",
        "搅拌车",
        "挖掘机",
        "夜间作业",
    ),
    "catering": ("烧烤", "夜宵", "油烟", "排烟", "餐馆", "饭店", "大排档", "摆桌", "食客", "餐饮店", "小吃店"),
    "square-dance": ("广场舞", "跳舞", "舞队"),
    "entertainment-venue": ("ktv", "酒吧", "歌厅", "网吧", "棋牌室", "麻将馆"),
    "elevator": ("电梯", "困人", "维保"),
    "water-supply": ("停水", "供水", "水压", "自来水", "没水", "来水", "水质", "水费", "断水"),
    "power-supply": ("停电", "供电", "断电", "电压", "电费", "变压器", "电网"),
    "gas-heating": ("燃气", "天然气", "煤气", "供暖", "暖气", "集中供热"),
    "street-lighting": ("路灯", "照明", "灯不亮"),
    "sanitation": ("垃圾", "环卫", "清运", "中转站", "保洁", "垃圾站", "垃圾桶"),
    "drainage": ("下水道", "污水井", "排水", "化粪池", "疏通", "冒水", "外溢", "积水", "管道堵", "窨井"),
    "property-fee": ("物业费", "物业收费", "乱收费", "涨价", "上调", "门禁", "业主大会", "业委会", "停车管理费"),
    "wages": ("工资", "欠薪", "讨薪", "薪资", "农民工", "劳务费", "工钱", "发薪"),
    "social-insurance": ("社保", "养老保险", "医保", "医疗保险", "公积金", "参保", "缴费年限", "退休金", "失业金"),
    "public-transport": (
        "公交",
        "公交车",
        "站点",
        "班次",
        "线路",
        "地铁",
        "轨道交通",
        "改线",
        "接驳",
        "路车",
        "坐车",
    ),
    "taxi": ("出租车", "打表", "的士", "网约车", "拒载", "绕路", "议价", "车牌"),
    "prepaid": (
        "预付",
        "会员卡",
        "办卡",
        "年卡",
        "退费",
        "跑路",
        "闭店",
        "卷款",
        "储值",
        "办的卡",
        "会员",
        "退钱",
    ),
    "food-safety": ("过期", "保质期", "食品安全", "变质", "三无"),
    "illegal-building": (
        "违建",
        "违章",
        "搭建",
        "加盖",
        "私搭",
        "彩钢",
        "违法建设",
        "拆除",
        "搭房",
        "盖房",
        "搭棚",
        "乱搭",
    ),
    "property-title": ("房产证", "不动产", "产权证", "办证", "交房", "开发商", "土地出让金", "购房合同", "烂尾"),
    "education": (
        "学校",
        "学区",
        "入学",
        "小学",
        "中学",
        "幼儿园",
        "老师",
        "教师",
        "补课",
        "学生",
        "招生",
        "学位",
    ),
    "medical": ("医院", "医生", "医疗", "诊所", "看病", "卫生院", "医患", "护士"),
    "traffic": ("红绿灯", "信号灯", "斑马线", "违停", "拥堵", "交通事故", "驾驶证", "交警", "超速", "鸣笛"),
    "road-facility": ("路面", "坑洼", "井盖", "人行道", "盲道", "护栏", "修路", "道路破损"),
    "demolition": ("拆迁", "征地", "征收", "安置", "补偿款", "宅基地", "安置房"),
    "pollution": ("污染", "排放", "粉尘", "废气", "废水", "环评", "直排", "扬尘"),
    "greening": ("绿化", "树木", "砍伐", "草坪", "树枝"),
    "animals": ("养狗", "犬", "宠物", "流浪狗", "流浪猫", "狗"),
    "household-registration": ("户口", "户籍", "落户", "身份证", "迁户"),
    "parking": ("停车场", "停车位", "车位", "停车费"),
    "street-vending": ("占道", "摆摊", "摊贩", "流动摊", "占用人行道"),
    "shared-bikes": ("共享单车", "单车"),
    "power-facility": ("变电站", "基站", "辐射", "高压线"),
    "employment-exam": ("招聘", "考试", "报考", "事业单位", "公务员", "编制", "选聘"),
    "fire-safety": ("消防", "消防通道", "火灾", "灭火器"),
    "social-assistance": ("低保", "救助", "残疾", "养老院", "困难补助", "五保"),
    "rural": ("村民", "村委", "土地承包", "扶贫", "惠农", "农田", "耕地"),
}

_WORD_TOPIC = {word: topic for topic, words in TOPICS.items() for word in words}
_PATTERN = re.compile("|".join(re.escape(w) for w in sorted(_WORD_TOPIC, key=len, reverse=True)))


def topics(text: str) -> Counter[str]:
    """How often the folded text names each topic (non-overlapping words, the longest first)."""
    return Counter(_WORD_TOPIC[m.group()] for m in _PATTERN.finditer(text))


def agreement(a: Counter[str], b: Counter[str]) -> float | None:
    """The cosine of two texts' topic counts: 1 about the same objects, 0 about different ones; None if either
    names no topic (then nothing is known either way)."""
    if not a or not b:
        return None
    dot = sum(n * b[t] for t, n in a.items() if t in b)
    return dot / math.sqrt(sum(n * n for n in a.values()) * sum(n * n for n in b.values()))
