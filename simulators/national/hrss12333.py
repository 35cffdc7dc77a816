"""The 12333 platform (人社服务热线, HR and social security) as the simulator serves it.

Pinyin-abbreviation fields, string codes, Unix-millisecond times and the `{"fhm", "fhxx", "jg"}` envelope, as
docs/channels/12333.md specifies; the code tables are written out here again on purpose, so that a slip on
either side shows up in the round-trip tests instead of being shared. The generator writes realistic 12333
work orders: unpaid wages on construction sites, social-insurance transfers, labour contracts, unemployment
insurance, with valid phones, resident IDs and credit codes most of the time.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from simulators.national.dialect import FeedQuery, Party, ReceivedEvent, ServerDialect, WorkOrder
from simulators.national.generate import (
    CREDIT_ALPHABET,
    board_posts,
    credit_code,
    mistyped,
    mobile_number,
    resident_id,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

OK = "0000"
TYPE_CODES = {
    "consultation": "01",  # 咨询
    "help": "02",  # 求助
    "complaint": "03",  # 投诉
    "report": "04",  # 举报
    "suggestion": "05",  # 建议
    "praise": "06",  # 表扬
    "other": "99",  # 其他
}
STATUS_CODES = {
    "registered": "10",  # 已登记
    "accepted": "20",  # 已受理
    "dispatched": "30",  # 已转办
    "returned": "35",  # 已退单
    "extended": "40",  # 已延期
    "replied": "50",  # 已答复
    "closed": "60",  # 已办结
    "revisited": "70",  # 已回访
}
STATUS_NAMES = {code: name for name, code in STATUS_CODES.items()}
EVENT_KINDS = {"01": "status", "02": "reply"}  # sjlx: 状态变更, 答复
ERROR_CODES = {
    400: "4000",
    401: "4001",
    403: "4003",
    404: "4004",
    413: "4013",
    429: "4029",
    500: "5000",
    503: "5003",
}
PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 1000
ID_MAX = 128


def ms(moment: datetime) -> int:
    """Unix milliseconds of an aware datetime."""
    return (moment - _EPOCH) // _MS


def from_ms(value: int) -> datetime:
    """An aware UTC datetime from Unix milliseconds."""
    return _EPOCH + value * _MS


def to_ms_precision(moment: datetime) -> datetime:
    """The datetime cut to whole milliseconds, the platform's precision."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _integer(doc: dict[str, Any], key: str, label: str) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key}（{label}）必须为整数")
    return value


def _text(doc: dict[str, Any], key: str, label: str, *, required: bool, limit: int = 4000) -> str | None:
    value = doc.get(key)
    if value is None or (required and isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError(f"{key}（{label}）不能为空")
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key}（{label}）必须为字符串")
    if len(value) > limit:
        raise ValueError(f"{key}（{label}）长度不能超过{limit}")
    return value


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body.decode("utf-8-sig")) if body.strip() else {}
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ValueError("请求体不是合法的JSON") from None
    if not isinstance(doc, dict):
        raise ValueError("请求体必须为JSON对象")
    return doc


class Hrss12333ServerDialect(ServerDialect):
    """The 12333 platform's side of the interconnect."""

    name: ClassVar[str] = "12333"
    poll_method: ClassVar[str] = "POST"
    poll_path: ClassVar[str] = "/api/gd/query"
    deliver_path: ClassVar[str] = "/api/gd/fk"
    check_path: ClassVar[str] = "/api/gd/xt"
    id_field: ClassVar[str | None] = "gdbh"
    # Required: gdbh, sqlx, nr, cjsj, gxsj. Everything else the platform may leave out.
    optional_fields: ClassVar[tuple[str, ...]] = (
        "ywlb",
        "bt",
        "sqrlx",
        "sqr",
        "sqr.xm",
        "sqr.sjhm",
        "sqr.sfzhm",
        "bmbz",
        "dw",
        "dw.tyshxydm",
        "dw.dwdz",
        "xzqhdm",
        "sfdz",
        "qxje",
        "sjrs",
        "fjlb",
        "fssj",
        "zt",
    )
    date_fields: ClassVar[tuple[str, ...]] = ("fssj", "cjsj", "gxsj")
    protected_fields: ClassVar[tuple[str, ...]] = ("gdbh", "gxsj")
    drift_field_names: ClassVar[tuple[str, ...]] = ("kzzd1", "kzzd2", "bbh", "sjly", "bz")  # 扩展字段, 版本号 ...
    reply_department: ClassVar[str] = "hrss"
    unit_title: ClassVar[str | None] = "人力资源和社会保障局"

    def parse_feed_query(self, query: dict[str, str], body: bytes) -> FeedQuery:
        """{kssj, zhgdbh, mys}: kssj Unix ms (0 or absent: from the start), zhgdbh text, mys 1..1000."""
        doc = _json_object(body)
        kssj = _integer(doc, "kssj", "开始时间")
        if kssj is not None and not 0 <= kssj < 10**14:
            raise ValueError("kssj（开始时间）必须为Unix毫秒时间")
        after = _text(doc, "zhgdbh", "最后工单编号", required=False, limit=ID_MAX) or ""
        limit = _integer(doc, "mys", "每页数")
        if limit is None:
            limit = PAGE_SIZE_DEFAULT
        if not 1 <= limit <= PAGE_SIZE_MAX:
            raise ValueError(f"mys（每页数）必须在1到{PAGE_SIZE_MAX}之间")
        return FeedQuery(since=from_ms(kssj) if kssj else None, after_id=after, limit=limit)

    def render_item(self, order: WorkOrder) -> dict[str, Any]:
        """One work order in the platform's field names; absent values are left out."""
        d = order.details
        unit_name = d.get("applicant_unit_name")
        applicant = {
            "xm": order.citizen.name,
            "sjhm": order.citizen.phone,
            "sfzhm": order.citizen.id_number,
            "dwmc": unit_name,
            "tyshxydm": order.citizen.credit_code if unit_name else None,
        }
        item: dict[str, Any] = {
            "gdbh": order.id,
            "sqlx": TYPE_CODES.get(order.type, "99"),
            "ywlb": order.category,
            "bt": order.title,
            "nr": order.content,
            "sqrlx": "2" if unit_name else "1",
            "sqr": {k: v for k, v in applicant.items() if v is not None},
            "bmbz": "1" if d.get("confidential") else "0",
        }
        if order.subject is not None:
            employer = {
                "dwmc": order.subject.name,
                "tyshxydm": order.subject.credit_code,
                "dwdz": order.subject.address,
            }
            item["dw"] = {k: v for k, v in employer.items() if v is not None}
        optional = {
            "xzqhdm": order.division_code,
            "sfdz": order.address,
            "qxje": d.get("unpaid_wages"),
            "sjrs": d.get("people_involved"),
            "fjlb": [
                {"wjmc": f["name"], "wjlj": f["url"], "wjlx": f["media_type"], "wjdx": f["size"]}
                for f in d.get("attachments", [])
            ]
            or None,
            "fssj": ms(order.occurred_at) if order.occurred_at else None,
        }
        item |= {k: v for k, v in optional.items() if v is not None}
        item |= {
            "cjsj": ms(order.created_at),
            "gxsj": ms(order.updated_at),
            "zt": STATUS_CODES.get(order.status, "10"),
        }
        progress = {"hfnr": order.reply, "cbdw": order.unit}  # 回复内容, 承办单位: once there are some
        item |= {k: v for k, v in progress.items() if v is not None}
        return item

    def place(self, division_code: str | None) -> tuple[str, str] | None:
        """(city, district) of one of the regions the simulated platform serves."""
        return PLACES.get(division_code or "")

    def render_page(self, items: list[dict[str, Any]], has_more: bool, server_time: datetime) -> dict[str, Any]:
        """{"fhm": "0000", "fhxx": "成功", "jg": {"gdlb", "sfyxy", "fwqsj"}}."""
        return {
            "fhm": OK,
            "fhxx": "成功",
            "jg": {"gdlb": items, "sfyxy": "1" if has_more else "0", "fwqsj": ms(server_time)},
        }

    def render_error(self, status: int, message: str) -> dict[str, Any]:
        """{"fhm": <code for the status>, "fhxx": message}."""
        code = ERROR_CODES.get(status) or ("5000" if status >= 500 else "4000")
        return {"fhm": code, "fhxx": message}

    def render_check(self, server_time: datetime) -> dict[str, Any]:
        """系统探测: {"fhm": "0000", "fhxx": "成功", "jg": {"fwqsj": <Unix ms>}}."""
        return {"fhm": OK, "fhxx": "成功", "jg": {"fwqsj": ms(server_time)}}

    def parse_event(self, order_id: str | None, body: bytes) -> ReceivedEvent:
        """{gdbh, sjid, sjlx, zt, hfnr, hfdw, sj}; the work-order number is in the body, not the path."""
        doc = _json_object(body)
        gdbh = _text(doc, "gdbh", "工单编号", required=True, limit=ID_MAX)
        sjid = _text(doc, "sjid", "事件编号", required=True, limit=64)
        sjlx = doc.get("sjlx")
        if sjlx not in EVENT_KINDS:
            raise ValueError("sjlx（事件类型）必须为01（状态变更）或02（答复）")
        zt = doc.get("zt")
        if zt not in STATUS_NAMES:
            raise ValueError("zt（状态）不是有效的状态代码")
        sj = _integer(doc, "sj", "事件时间")
        if sj is None or not 0 < sj < 10**14:
            raise ValueError("sj（事件时间）必须为Unix毫秒时间")
        text = _text(doc, "hfnr", "回复内容", required=False, limit=10000)
        if sjlx == "02" and not (text and text.strip()):
            raise ValueError("答复事件的hfnr（回复内容）不能为空")
        assert gdbh is not None and sjid is not None
        return ReceivedEvent(
            event_id=sjid,
            order_id=gdbh,
            kind=EVENT_KINDS[sjlx],
            status=STATUS_NAMES[zt],
            text=text,
            unit=_text(doc, "hfdw", "回复单位", required=False, limit=200),
            at=from_ms(sj).isoformat(),
            raw=doc,
        )

    def render_receipt(self, event: ReceivedEvent, duplicate: bool) -> dict[str, Any]:
        """jg.jsbh (接收编号, the same for a repeated event id) and jg.sfcf (是否重复)."""
        reference = "FK" + hashlib.sha256(event.event_id.encode()).hexdigest()[:16].upper()
        return {
            "fhm": OK,
            "fhxx": "重复推送，已忽略" if duplicate else "成功",
            "jg": {"sjid": event.event_id, "jsbh": reference, "sfcf": "1" if duplicate else "0"},
        }

    def generate(self, n: int, now: datetime, seed: int) -> WorkOrder:
        """The n-th work order of a seed: a realistic 12333 appeal."""
        return _Generator(random.Random(f"12333:{seed}:{n}"), now).work_order(n)


# -- the generator ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Region:
    code: str
    city: str  # 赣州市
    county: str  # 章贡区
    towns: tuple[str, ...]


REGIONS = (
    _Region("360702", "赣州市", "章贡区", ("解放街道", "南外街道", "水东镇", "沙石镇")),
    _Region("360703", "赣州市", "南康区", ("蓉江街道", "东山街道", "唐江镇", "龙岭镇")),
    _Region("360704", "赣州市", "赣县区", ("梅林镇", "王母渡镇", "江口镇")),
    _Region("360781", "赣州市", "瑞金市", ("象湖镇", "沙洲坝镇", "叶坪乡", "九堡镇")),
    _Region("360722", "赣州市", "信丰县", ("嘉定镇", "大塘埠镇", "古陂镇")),
    _Region("360730", "赣州市", "宁都县", ("梅江镇", "青塘镇", "长胜镇")),
    _Region("360731", "赣州市", "于都县", ("贡江镇", "岭背镇", "罗坳镇")),
    _Region("360732", "赣州市", "兴国县", ("潋江镇", "埠头乡", "高兴镇")),
    _Region("360111", "南昌市", "青山湖区", ("湖坊镇", "青山路街道", "塘山镇")),
    _Region("360102", "南昌市", "东湖区", ("百花洲街道", "公园街道", "扬子洲镇")),
)
PLACES = {region.code: (region.city, region.county) for region in REGIONS}
# Where callers were born: mostly local, some from the neighbouring provinces.
BIRTHPLACES = (*(r.code for r in REGIONS), "362101", "362132", "430124", "441481", "350821", "360121")
SURNAMES = "刘陈钟曾谢黄李王张赖廖邱温罗肖朱郭杨胡吴"
GIVEN_NAMES = (
    "建华",
    "志强",
    "桂英",
    "小红",
    "海波",
    "春生",
    "国平",
    "水根",
    "冬梅",
    "伟",
    "敏",
    "丽萍",
    "文斌",
    "金生",
    "华英",
    "秀兰",
    "俊杰",
    "磊",
    "婷",
    "家福",
    "荣华",
    "九妹",
    "永明",
    "晓燕",
    "德胜",
    "雪芳",
)
MOBILE_PREFIXES = (
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "157",
    "158",
    "159",
    "166",
    "173",
    "177",
    "180",
    "181",
    "182",
    "183",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
)
BUILDERS = (
    "江西赣建建设工程有限公司",
    "赣州宏远建筑工程有限公司",
    "江西章江市政工程有限公司",
    "赣州恒达建设集团有限公司",
    "瑞金红都建筑劳务有限公司",
    "江西振兴路桥工程有限公司",
)
PROJECTS = (
    "{town}安置房项目",
    "{county}人民医院门诊综合楼项目",
    "锦绣华庭二期",
    "{town}中心小学教学楼改扩建工程",
    "蓉江新城道路提升工程",
    "{county}工业园标准厂房项目",
    "御景花园三期",
    "{town}污水管网改造工程",
)
TRADES = ("木工", "钢筋工", "泥工", "架子工", "水电工", "小工", "油漆工", "模板工")
FACTORIES = (
    "赣州鑫达电子科技有限公司",
    "南康区华美家具有限公司",
    "赣州金宏鞋业有限公司",
    "江西万和服饰有限公司",
    "赣州盛源稀土新材料有限公司",
    "信丰县永兴五金制品有限公司",
    "于都县锦程纺织有限公司",
)
FACTORY_JOBS = ("普工", "质检员", "仓管员", "开料工", "油漆工", "车工", "叉车司机", "文员")
SHOPS = (
    ("赣州悦享餐饮管理有限公司", "餐厅"),
    ("瑞金市优学教育培训中心", "培训机构"),
    ("赣州力美健身服务有限公司", "健身房"),
    ("章贡区颐和养生馆", "美容养生馆"),
)
CITIES_AWAY = ("广东省东莞市", "广东省深圳市", "广东省佛山市", "浙江省宁波市", "福建省厦门市", "上海市")
SUGGESTIONS = (
    (
        "建议延长社保服务大厅周末办公时间",
        "我们在外面上班的人平时请不了假，社保大厅周六周日又不开门，办个社保卡补办、医保备案都要专门请假。"
        "建议{county}社保服务大厅周六上午开放，或者把更多业务放到赣服通上办理。",
    ),
    (
        "建议简化失业保险金申领材料",
        "现在失业保险金已经可以网上申领了，但还是要求到窗口交纸质解除劳动合同证明，来回跑了两趟。"
        "建议和企业的减员记录直接核对，不再要求个人提交纸质材料。",
    ),
    (
        "建议在工业园设立劳动维权服务站",
        "{county}工业园有几千名工人，遇到拖欠工资、不签合同的问题不知道找谁，去劳动监察大队要坐一个多小时公交。"
        "建议在园区设立劳动维权服务站，定期有工作人员坐班。",
    ),
)


@dataclass
class _Text:
    """What a template produces."""

    ywlb: str
    type: str
    title: str
    content: str
    days_ago: tuple[int, int] = (1, 30)  # how long before the call the matter happened
    employer: Party | None = None
    details: dict[str, Any] | None = None
    address: str | None = None


class _Generator:
    """One work order from one random stream (seeded by seed and n)."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = to_ms_precision(now.astimezone(UTC))
        self.local = self.now.astimezone(SHANGHAI)
        self.region = rng.choice(REGIONS)
        self.town = rng.choice(self.region.towns)

    # -- personal data -----------------------------------------------------------------------------------

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN_NAMES)

    def caller_name(self, full: str) -> str:
        """Callers often give only a surname: 刘先生, 陈女士."""
        if self.rng.random() < 0.3:
            return full[0] + self.rng.choice(("先生", "女士"))
        return full

    def mobile(self) -> str:
        number = mobile_number(self.rng, MOBILE_PREFIXES)
        if self.rng.random() < 0.03:
            return number[:-1]  # a digit lost when the call was taken: not a valid number
        return number

    def id_number(self, age: int | None = None) -> str:
        age = age or self.rng.randint(19, 62)
        born = self.local.date().replace(year=self.local.year - age, month=1, day=1) + timedelta(
            days=self.rng.randrange(365)
        )
        number = resident_id(self.rng, self.rng.choice(BIRTHPLACES), born)
        if self.rng.random() < 0.02:
            number = mistyped(number)  # a bad check digit
        return number

    def uscc(self) -> str:
        """A unified social credit code (统一社会信用代码) of a company registered in the region."""
        serial = "".join(self.rng.choice(CREDIT_ALPHABET) for _ in range(6))
        return credit_code("91" + self.region.code + "MA3" + serial)

    def employer(self, name: str) -> Party:
        address = f"江西省{self.region.city}{self.region.county}{self.rng.choice(self.region.towns)}"
        return Party(
            name=name,
            credit_code=self.uscc() if self.rng.random() < 0.85 else None,
            address=address if self.rng.random() < 0.7 else None,
        )

    # -- dates -------------------------------------------------------------------------------------------

    def months_back(self, k: int) -> tuple[int, int]:
        """(year, month) k months before now, Beijing time."""
        total = self.local.year * 12 + self.local.month - 1 - k
        return total // 12, total % 12 + 1

    # -- the templates -----------------------------------------------------------------------------------

    def wages_site(self) -> _Text:
        r = self.rng
        project = r.choice(PROJECTS).format(town=self.town, county=self.region.county)
        place = project if self.town in project else f"{self.town}{project}"
        builder = r.choice(BUILDERS)
        people, months = r.randint(3, 40), r.randint(2, 8)
        amount = people * months * r.randint(18, 26) * r.choice((220, 260, 300, 350, 380))
        (y1, m1), (_, m2) = self.months_back(months + 1), self.months_back(1)
        boss = r.choice(SURNAMES) + "某"
        title = r.choice(
            (
                f"{project}拖欠{people}名农民工工资",
                f"{project}包工头拖欠工资不给",
                f"讨薪：{project}欠我们{months}个月工资",
            )
        )
        content = (
            f"我们是在{self.region.county}{place}做{r.choice(TRADES)}的工人，一共{people}个人，"
            f"{y1}年{m1}月进场，一直干到{m2}月。施工总承包单位是{builder}，劳务由包工头{boss}负责。"
            f"到现在{months}个月的工资共计{amount}元一分钱都没有结，包工头说开发商没拨款，公司又说钱已经付给包工头了，"
            "互相推诿。"
            + r.choice(("马上就要过年了，大家都等着这笔钱回家。", "家里老人看病、小孩读书都等着用钱。", ""))
            + "请劳动保障监察部门帮我们追讨工资。"
        )
        files = []
        if r.random() < 0.2:
            files = [
                {
                    "name": "欠条.jpg",
                    "url": f"https://12333.jxhrss.example/fj/{r.getrandbits(48):012x}.jpg",
                    "media_type": "image/jpeg",
                    "size": r.randint(200_000, 3_000_000),
                }
            ]
        details = {"unpaid_wages": amount, "people_involved": people, "attachments": files}
        return _Text(
            "欠薪",
            r.choice(("complaint", "complaint", "help")),
            title,
            content,
            (20, 240),
            self.employer(builder),
            details,
            f"江西省{self.region.city}{self.region.county}{place}工地",
        )

    def wages_factory(self) -> _Text:
        r = self.rng
        company = r.choice(FACTORIES)
        wage, months = r.choice((2800, 3200, 3500, 3800, 4200, 4500, 5000)), r.randint(2, 5)
        y0, m0 = self.months_back(r.randint(months + 2, 30))
        _, m1 = self.months_back(months)
        people = 1 if r.random() < 0.7 else r.randint(2, 12)
        content = (
            f"本人于{y0}年{m0}月入职{company}，岗位是{r.choice(FACTORY_JOBS)}，月工资{wage}元。公司从{m1}月份开始以"
            f"效益不好为由拖欠工资，至今已欠{months}个月共{wage * months}元。"
            + (f"车间里还有{people - 1}个同事也一样被拖欠。" if people > 1 else "")
            + "多次找公司人事和老板讨要，都说再等等，现在电话也不接了。请求帮助追讨。"
        )
        return _Text(
            "欠薪",
            r.choice(("complaint", "help")),
            f"{company}拖欠工资{months}个月",
            content,
            (30, 150),
            self.employer(company),
            {"unpaid_wages": wage * months * people, "people_involved": people},
        )

    def wages_closed(self) -> _Text:
        r = self.rng
        company, kind = r.choice(SHOPS)
        people = r.randint(4, 25)
        content = (
            f"我们是{company}的员工，{kind}上个星期突然关门，老板联系不上，店里{people}个员工上个月和这个月的工资都没发，"
            "社保也停缴了两个月。听说还有很多会员卡没退。请问我们的工资应该找谁要？能不能申请劳动仲裁？"
        )
        return _Text(
            "欠薪",
            "help",
            f"{kind}老板跑路，{people}名员工工资无人支付",
            content,
            (3, 20),
            self.employer(company),
            {"people_involved": people},
        )

    def insurance_transfer(self) -> _Text:
        r = self.rng
        away, years = r.choice(CITIES_AWAY), r.randint(3, 15)
        content = (
            f"我在{away}打工{years}年，在那边交了{years}年的职工养老保险，今年回{self.region.county}老家工作了，"
            "新单位也给我交了社保。想问一下养老保险关系怎么转回来？需要本人回去办理吗？在网上能不能办？"
            "转过来以后之前交的年限还算不算？"
        )
        return _Text("社会保险", "consultation", "养老保险关系转移接续怎么办理", content, (1, 10))

    def insurance_unpaid(self) -> _Text:
        r = self.rng
        company = r.choice(FACTORIES + BUILDERS)
        years = r.randint(1, 6)
        content = (
            f"我在{company}上班{years}年了，入职时签了劳动合同，但公司一直没有给我们交社会保险，问了人事说"
            "转正以后再交，到现在都没交。车间里几十个工人都是这样。请求相关部门依法查处，督促公司为我们补缴社保。"
        )
        return _Text(
            "社会保险",
            "complaint",
            f"{company}不给员工缴纳社保",
            content,
            (10, 90),
            self.employer(company),
            {"people_involved": r.randint(1, 60)},
        )

    def insurance_medical(self) -> _Text:
        away = self.rng.choice(CITIES_AWAY)
        content = (
            f"我父亲在{self.region.county}参加的城乡居民医保，现在跟我在{away}生活，最近要住院做手术，"
            "请问异地就医备案怎么办理？备案以后在当地医院住院能直接结算吗？"
            "报销比例是多少？"
        )
        return _Text("社会保险", "consultation", "异地就医备案咨询", content, (0, 3))

    def insurance_pension(self) -> _Text:
        r = self.rng
        age = r.choice((50, 55, 60))
        content = (
            f"我今年{age}岁，按规定这个月应该办理退休，但去{self.region.county}社保局办理时说我档案里的出生日期和"
            "身份证上的不一致，不能办理。档案是当年单位弄的，我也不知道怎么会写错。请问应该怎么处理？"
            "现在每个月都领不到钱，生活很困难。"
        )
        return _Text("社会保险", "help", "档案出生日期与身份证不一致无法办理退休", content, (5, 40))

    def insurance_card(self) -> _Text:
        content = self.rng.choice(
            (
                "我的社保卡丢了，想补办一张，请问在哪里补办？补办要多长时间？补办期间看病能不能用医保电子凭证？",
                "第三代社保卡已经领到了，但是去银行激活说要本人带身份证，我母亲行动不便，能不能家属代办激活？",
            )
        )
        return _Text("社会保险", "help", "社保卡补办和激活", content, (0, 7))

    def insurance_flexible(self) -> _Text:
        content = (
            "我是跑外卖的，没有单位，想以灵活就业人员身份交养老保险和医疗保险。请问在"
            f"{self.region.county}怎么办理参保登记？每年最低交多少钱？能不能在手机上交？"
        )
        return _Text("社会保险", "consultation", "灵活就业人员怎么参保", content, (0, 5))

    def labour_contract(self) -> _Text:
        r = self.rng
        company = r.choice(FACTORIES + tuple(s[0] for s in SHOPS))
        months = r.randint(3, 14)
        content = (
            f"本人在{company}工作了{months}个月，公司一直不和我签劳动合同，现在以试用期不合格为由让我走人。"
            "听说入职超过一个月不签合同要付双倍工资，请问我可以主张吗？应该去哪里申请仲裁？"
        )
        return _Text("劳动关系", "complaint", "公司不签劳动合同并辞退", content, (3, 60), self.employer(company))

    def labour_dismissal(self) -> _Text:
        r = self.rng
        company = r.choice(FACTORIES)
        years = r.randint(2, 12)
        content = (
            f"我在{company}工作了{years}年，上周公司突然通知我明天不用来了，没有任何书面通知，也不给经济补偿，"
            f"只结了当月工资。按照劳动合同法应该给{years}个月工资的补偿。请求帮助维护我的合法权益。"
        )
        return _Text(
            "劳动关系", "complaint", "公司违法解除劳动合同不给经济补偿", content, (3, 30), self.employer(company)
        )

    def labour_injury(self) -> _Text:
        r = self.rng
        company = r.choice(FACTORIES + BUILDERS)
        content = (
            f"我丈夫在{company}上班时被机器压伤了右手，住院花了三万多，公司只垫付了五千，说没有给他交工伤保险，"
            "让我们自己想办法。请问工伤认定怎么申请？公司没交工伤保险的话医药费应该谁出？"
        )
        return _Text("劳动关系", "help", "工伤认定申请及待遇咨询", content, (10, 80), self.employer(company))

    def labour_overtime(self) -> _Text:
        company = self.rng.choice(FACTORIES)
        content = (
            f"{company}要求我们每天上班12个小时，一个月只休息两天，加班从来不算加班费，说工资里已经包含了。"
            "请问这样合法吗？希望劳动监察部门去查一下。"
        )
        return _Text(
            "劳动关系",
            "complaint",
            "企业长期超时加班不付加班费",
            content,
            (5, 60),
            self.employer(company),
            {"people_involved": self.rng.randint(20, 200)},
        )

    def employment_unemployment(self) -> _Text:
        years = self.rng.randint(1, 10)
        content = (
            f"我在单位工作了{years}年，一直有交失业保险，上个月合同到期单位不续签了。请问我能领失业保险金吗？"
            "能领多少个月、每月多少钱？在哪里申请？领失业金期间医保怎么办？"
        )
        return _Text("就业", "consultation", "失业保险金申领条件和标准", content, (1, 30))

    def employment_startup(self) -> _Text:
        content = (
            f"我是返乡创业人员，准备在{self.town}开一家农产品加工作坊。听说有创业担保贷款，最高能贷多少？"
            "需要什么条件和材料？利息是不是有贴息？"
        )
        return _Text("就业", "consultation", "返乡创业担保贷款咨询", content, (0, 10))

    def employment_training(self) -> _Text:
        content = (
            "我去年参加了电工职业技能培训并拿到了证书，培训机构说可以申请职业技能提升补贴，但是在网上申请一直显示"
            "审核中，已经三个多月了。请问补贴什么时候能发放？"
        )
        return _Text("就业", "help", "职业技能培训补贴迟迟未发放", content, (60, 120))

    def talent_title(self) -> _Text:
        content = (
            "我是民营企业的工程技术人员，想申报中级工程师职称。请问非公企业人员在哪里申报？"
            "需要的继续教育学时怎么认定？今年的评审什么时候开始？"
        )
        return _Text("人才人事", "consultation", "非公企业人员职称申报咨询", content, (0, 10))

    def talent_archive(self) -> _Text:
        content = (
            "我大学毕业时档案寄回了老家人才服务中心，现在考上了外省的事业单位，需要调档。"
            f"请问{self.region.county}人才服务中心调档需要什么手续？能不能邮寄？"
        )
        return _Text("人才人事", "help", "毕业生人事档案调出手续", content, (0, 10))

    def report_fraud(self) -> _Text:
        company = self.rng.choice(FACTORIES + BUILDERS)
        content = self.rng.choice(
            (
                f"举报{company}虚构劳动关系，给老板的亲戚朋友挂靠参保，这些人从来没在公司上过班，"
                "有的人已经按企业职工办理了退休领取养老金，涉嫌骗取社会保险基金。",
                f"{self.town}有一位老人去年已经去世，家属一直没有申报，现在还在冒领养老金，每个月两千多元。",
            )
        )
        return _Text(
            "社会保险",
            "report",
            "举报骗取社会保险基金",
            content,
            (30, 365),
            self.employer(company),
            {"confidential": True},
        )

    def suggestion(self) -> _Text:
        title, content = self.rng.choice(SUGGESTIONS)
        return _Text(
            "社会保险" if "社保" in title else "就业",
            "suggestion",
            title,
            content.format(county=self.region.county),
            (0, 30),
        )

    def praise(self) -> _Text:
        people = self.rng.randint(5, 30)
        content = (
            f"年前我们{people}个工友在{self.town}的工地被拖欠工资，打了12333以后，{self.region.county}劳动保障监察大队"
            "第二天就到工地调查，一个星期就帮我们把工资全部要回来了。特别感谢工作人员的辛苦付出！"
        )
        return _Text("欠薪", "praise", "感谢劳动保障监察大队帮我们追回工资", content, (5, 40))

    def unit_registration(self) -> _Text:
        content = self.rng.choice(
            (
                "我们公司新招了一批员工，请问新参保人员的社保登记可以在网上办理吗？当月入职当月能不能缴费？",
                "请问我们企业今年符合失业保险稳岗返还的条件吗？需要企业自己申请还是系统直接发放？",
            )
        )
        return _Text("社会保险", "consultation", "企业社保业务咨询", content, (0, 5))

    def board_message(self) -> _Text:
        """A real message-board post about social security, as a caller would say it."""
        post = self.rng.choice(board_posts("劳动和社会保障"))
        content = re.sub(r"[\t\r ]*\n[\t\r\n ]*", "\n", post["content"]).strip()
        asks = any(w in post["title"] + content[:60] for w in ("咨询", "？", "?", "怎么", "吗", "请问"))
        return _Text("社会保险", "consultation" if asks else "complaint", post["title"].strip(), content, (1, 30))

    TEMPLATES: ClassVar[tuple[tuple[str, int], ...]] = (
        ("wages_site", 16),
        ("wages_factory", 8),
        ("wages_closed", 4),
        ("insurance_transfer", 6),
        ("insurance_unpaid", 6),
        ("insurance_medical", 4),
        ("insurance_pension", 3),
        ("insurance_card", 3),
        ("insurance_flexible", 2),
        ("labour_contract", 4),
        ("labour_dismissal", 4),
        ("labour_injury", 3),
        ("labour_overtime", 2),
        ("employment_unemployment", 5),
        ("employment_startup", 2),
        ("employment_training", 2),
        ("talent_title", 2),
        ("talent_archive", 2),
        ("report_fraud", 2),
        ("suggestion", 2),
        ("praise", 2),
        ("unit_registration", 2),
        ("board_message", 4),
    )

    def work_order(self, n: int) -> WorkOrder:
        r = self.rng
        names, weights = zip(*self.TEMPLATES, strict=True)
        template = r.choices(names, weights)[0]
        text: _Text = getattr(self, template)()
        details = dict(text.details or {})
        full = self.name()
        if template == "unit_registration":
            citizen = Party(name=self.caller_name(full), phone=self.mobile(), credit_code=self.uscc())
            details["applicant_unit_name"] = r.choice(FACTORIES)
        else:
            # Complaints and requests for help come with an ID number more often than questions do.
            with_id = r.random() < (0.6 if text.type in ("complaint", "help") else 0.3)
            citizen = Party(
                name=full if text.type == "report" else self.caller_name(full),
                phone=self.mobile(),
                id_number=self.id_number() if with_id else None,
            )
        created = self.now - timedelta(milliseconds=r.randrange(60_000, 7_200_000))
        occurred = created - timedelta(days=r.randint(*text.days_ago), minutes=r.randrange(1440))
        return WorkOrder(
            id=f"RS{self.local:%Y%m%d}{n:07d}",
            type=text.type,
            title=text.title,
            content=text.content,
            citizen=citizen,
            created_at=to_ms_precision(created),
            updated_at=self.now,
            occurred_at=to_ms_precision(occurred) if r.random() < 0.8 else None,
            division_code=self.region.code,
            address=text.address
            or (f"江西省{self.region.city}{self.region.county}{self.town}" if r.random() < 0.5 else None),
            category=text.ywlb,
            subject=text.employer,
            details=details,
        )
