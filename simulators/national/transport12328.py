"""The 12328 transport hotline (交通运输服务监督电话) as a simulator dialect: its spelling and its tickets.

The spelling follows docs/channels/12328.md, written from the platform's side; the constants here are the
platform's own and deliberately not imported from connectors/transport12328, so that the end-to-end tests
compare two independent readings of the document. The generator writes realistic tickets for Jiangxi
(Ganzhou, Nanchang, Ji'an): taxi refusal and detours, ride-hailing overcharges, bus frequency and skipped
stops, potholes and overloaded trucks on national roads, metro and ferry matters, and some real
message-board posts about transport (simulators/corpus.py). Deterministic for (seed, n, now).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from simulators.national.dialect import FeedQuery, Party, ReceivedEvent, ServerDialect, WorkOrder
from simulators.national.generate import (
    CREDIT_ALPHABET,
    board_posts,
    credit_code,
    landline_number,
    mistyped,
    mobile_number,
)

BEIJING = timezone(timedelta(hours=8), "+08:00")
LIMIT_DEFAULT = 100
LIMIT_MAX = 1000
ID_MAX = 128

KINDS = ("complaint", "consultation", "suggestion", "help", "praise", "report")
CATEGORIES = ("taxi", "ride_hailing", "bus", "road", "rail", "waterway", "other")
EVENT_TYPES = ("status", "reply")
EVENT_STATUSES = ("accepted", "dispatched", "returned", "extended", "replied", "closed", "revisited")
TICKET_STATUSES = ("received", "assigned", "processing", "returned", "extended", "replied", "closed", "revisited")
# The engine's neutral order status as a 12328 ticket status: 12328 registers a ticket as received (已受理).
STATUS_OF_ORDER = {
    "registered": "received",
    "accepted": "received",
    "dispatched": "assigned",
    "returned": "returned",
    "extended": "extended",
    "replied": "replied",
    "closed": "closed",
    "revisited": "revisited",
}
ERROR_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    413: "payload_too_large",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def iso(moment: datetime) -> str:
    """ISO 8601 at +08:00, with microseconds only when there are some (as the platform writes times)."""
    return moment.astimezone(BEIJING).isoformat()


def parse_iso(value: Any, name: str) -> datetime:
    """An ISO 8601 time with an offset; ValueError naming the parameter otherwise."""
    if not isinstance(value, str):
        raise ValueError(f"{name}: must be an ISO 8601 time with an offset")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{name}: not an ISO 8601 time: {value[:40]!r}") from None
    if moment.utcoffset() is None:
        raise ValueError(f"{name}: needs a UTC offset, e.g. 2024-11-25T09:30:00+08:00")
    return moment


# -- realistic content ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    """A county-level division the simulated 12328 centre serves."""

    adcode: str
    city: str
    district: str
    plate: str  # licence plate prefix of the city
    lng: float
    lat: float
    roads: tuple[str, ...]  # city streets
    places: tuple[str, ...]  # landmarks people take a cab from or to
    highways: tuple[str, ...]  # national and provincial roads through the district
    metro: bool = False
    ferries: tuple[str, ...] = ()

    def at(self, place: str = "") -> str:
        """An address in the district: its city, its district, then place."""
        return f"{self.city}{self.district}{place}"


REGIONS = (
    Region(
        "360702",
        "赣州市",
        "章贡区",
        "赣B",
        114.935,
        25.831,
        ("红旗大道", "文清路", "东阳山路", "长征大道", "章江路", "兴国路"),
        ("赣州站", "赣州汽车站", "赣南医学院第一附属医院", "万象城", "中心城区八境台", "赣州黄金机场"),
        ("G105国道", "G323国道", "G45大广高速"),
        ferries=("八境台渡口", "龟角尾渡口"),
    ),
    Region(
        "360703",
        "赣州市",
        "南康区",
        "赣B",
        114.765,
        25.661,
        ("蓉江大道", "南康大道", "东山大道"),
        ("南康区人民医院", "南康家居小镇", "南康汽车站", "赣州西站"),
        ("G323国道", "S219省道", "G72泉南高速"),
    ),
    Region(
        "360704",
        "赣州市",
        "赣县区",
        "赣B",
        115.011,
        25.861,
        ("赣新大道", "梅林大道", "赣州大道"),
        ("赣县区汽车站", "赣县区人民医院", "储潭镇政府"),
        ("G323国道", "S223省道"),
        ferries=("储潭渡口",),
    ),
    Region(
        "360781",
        "赣州市",
        "瑞金市",
        "赣B",
        116.027,
        25.886,
        ("红都大道", "象湖路", "八一路", "金都大道"),
        ("瑞金站", "叶坪景区", "瑞金市人民医院", "红井景区"),
        ("G319国道", "G206国道", "G72泉南高速"),
    ),
    Region(
        "360102",
        "南昌市",
        "东湖区",
        "赣A",
        115.899,
        28.685,
        ("八一大道", "阳明路", "北京西路", "象山北路"),
        ("南昌站", "八一广场", "江西省人民医院", "滕王阁", "万寿宫历史文化街区"),
        ("G105国道", "G320国道"),
        metro=True,
    ),
    Region(
        "360111",
        "南昌市",
        "青山湖区",
        "赣A",
        115.962,
        28.682,
        ("北京东路", "洪都中大道", "上海路", "青山湖大道"),
        ("南昌东站", "青山湖区政府", "江西财经大学蛟桥校区", "昌北国际机场"),
        ("G320国道", "G60沪昆高速"),
        metro=True,
    ),
    Region(
        "360802",
        "吉安市",
        "吉州区",
        "赣D",
        114.994,
        27.143,
        ("井冈山大道", "吉州大道", "阳明西路"),
        ("吉安站", "吉安汽车站", "吉安市中心人民医院", "庐陵文化生态园"),
        ("G105国道", "G319国道"),
        ferries=("白鹭洲渡口",),
    ),
)

PLACES = {region.adcode: (region.city, region.district) for region in REGIONS}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高钟曾谢邱廖赖温"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红春梅海燕晓东"
MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
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
    "156",
    "157",
    "158",
    "159",
    "166",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
)
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
INTAKE = (("phone", 60), ("wechat", 20), ("web", 10), ("app", 10))

TAXI_COMPANIES = ("通达", "金盾", "鸿运", "安达", "畅达", "华顺")
RIDE_PLATFORMS = ("畅行", "快客", "优程", "易达", "云途")
EXCUSES = ("马上要交班了", "那边不顺路", "那边太堵了不去", "去了回程没客", "只拼车不单送")
ITEMS = (
    "一部黑色手机",
    "一个装着身份证和银行卡的钱包",
    "一个双肩包，里面有笔记本电脑",
    "孩子的书包",
    "一袋刚买的药",
)
CAR_MODELS = ("白色比亚迪秦", "黑色大众帕萨特", "蓝色吉利帝豪", "银色丰田卡罗拉", "白色长安逸动")
COLOURS = ("绿色", "蓝白色", "黄色")
BUS_ROUTES = ("1路", "2路", "8路", "12路", "18路", "23路", "26路", "101路", "202路", "K1路", "K3路", "夜班N1路")
METRO_LINES = ("地铁1号线", "地铁2号线", "地铁3号线", "地铁4号线")
DRIVING_SCHOOLS = ("顺安", "通程", "平安", "鑫达")


def _phone(rng: random.Random, region: Region) -> str | None:
    """Mostly a valid mobile, sometimes a landline, rarely a mistyped number or none."""
    roll = rng.random()
    if roll < 0.82:
        return mobile_number(rng, MOBILE_PREFIXES)
    if roll < 0.92:
        return landline_number(rng, region.city)
    if roll < 0.97:
        return mobile_number(rng, MOBILE_PREFIXES)[:10]  # one digit short, as misheard on the phone
    return None


def _caller_name(rng: random.Random, anonymous: bool) -> str | None:
    """As hotline agents write it down: usually 张先生 / 李女士, sometimes a full name, or nothing."""
    if anonymous or rng.random() < 0.05:
        return None
    surname = rng.choice(SURNAMES)
    if rng.random() < 0.75:
        return surname + rng.choice(("先生", "女士"))
    return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def operator_credit_code(name: str, adcode: str) -> str:
    """A unified social credit code for a company, stable per name (a few have a wrong check character)."""
    rng = random.Random(f"credit:{name}")
    org = (
        "".join(rng.choice("0123456789") for _ in range(7))
        + rng.choice(CREDIT_ALPHABET[10:])
        + rng.choice("0123456789")
    )
    code = credit_code("91" + adcode + org)
    if rng.random() < 0.04:
        code = mistyped(code, CREDIT_ALPHABET)
    return code


def _operator(name: str, region: Region) -> Party:
    return Party(name=name, credit_code=operator_credit_code(name, region.adcode[:4] + "00"))


def _taxi_company(rng: random.Random, region: Region) -> Party:
    """One of the city's taxi companies."""
    return _operator(f"{region.city}{rng.choice(TAXI_COMPANIES)}出租汽车有限公司", region)


def _bus_company(region: Region) -> Party:
    """The city's bus company."""
    return _operator(f"{region.city}公共交通有限责任公司", region)


def _metro_company(region: Region) -> Party:
    """The city's metro company."""
    return _operator(f"{region.city}轨道交通集团有限公司", region)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _taxi_plate(rng: random.Random, region: Region) -> str:
    if rng.random() < 0.4:
        return f"{region.plate}D{_digits(rng, 5)}"  # new-energy taxi
    return f"{region.plate}T{_digits(rng, 4)}"


def _car_plate(rng: random.Random, region: Region) -> str:
    if rng.random() < 0.5:
        return f"{region.plate}D{rng.choice(PLATE_LETTERS)}{_digits(rng, 4)}"  # new-energy car
    return f"{region.plate}{rng.choice(PLATE_LETTERS)}{_digits(rng, 4)}"


def _bus_plate(rng: random.Random, region: Region) -> str:
    return f"{region.plate}{_digits(rng, 5)}D"  # large new-energy vehicle


def _truck_plate(rng: random.Random, region: Region) -> str:
    return f"{region.plate}{_digits(rng, 5)}"


def _when(occurred: datetime | None, created: datetime) -> tuple[str, str]:
    """(date phrase, time phrase) as a caller says them: 今天 / 昨天 / 11月23日, 晚上9点40分."""
    moment = (occurred or created).astimezone(BEIJING)
    days = (created.astimezone(BEIJING).date() - moment.date()).days
    day = {0: "今天", 1: "昨天", 2: "前天"}.get(days, f"{moment.month}月{moment.day}日")
    hour = moment.hour
    part = (
        "凌晨"
        if hour < 6
        else "早上"
        if hour < 9
        else "上午"
        if hour < 12
        else "中午"
        if hour < 14
        else ("下午" if hour < 18 else "晚上")
    )
    h12 = hour if hour <= 12 else hour - 12
    minute = f"{moment.minute}分" if moment.minute else ""
    return day, f"{part}{h12}点{minute}"


@dataclass
class Draft:
    """What a template produces, before times and ids are added."""

    kind: str
    category: str
    title: str
    content: str
    plate: str | None = None
    route: str | None = None
    operator: Party | None = None
    address: str | None = None
    photos: int = 0
    anonymous: bool = False


def _taxi_refusal(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    plate, place, dest = _taxi_plate(rng, r), rng.choice(r.places), rng.choice(r.roads)
    weather = rng.choice(("当时下着大雨", "当时天已经黑了", "当时带着老人和小孩"))
    return Draft(
        "complaint",
        "taxi",
        f"出租车{plate}拒载",
        f"{day}{time}左右，我在{place}路边拦下一辆出租车，车牌{plate}，说要去{dest}，司机问完目的地说"
        f"“{rng.choice(EXCUSES)}”，拒绝载客直接开走了。{weather}，等了二十多分钟才打到车。请依法查处该司机拒载行为，"
        "并加强对出租车的管理。",
        plate=plate,
        operator=_taxi_company(rng, r),
        address=r.at(place),
    )


def _taxi_detour(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    plate, road = _taxi_plate(rng, r), rng.choice(r.roads)
    place, dest = rng.sample(r.places, 2)
    fare = rng.randrange(12, 40)
    return Draft(
        "complaint",
        "taxi",
        "出租车司机故意绕路多收费",
        f"{day}{time}我从{place}乘坐{plate}出租车去{dest}，平时打表大约{fare}元，这次司机没有按导航走，"
        f"绕到{road}兜了一大圈，最后收了{fare + rng.randrange(15, 45)}元。我当场提出异议，司机态度蛮横，"
        "说嫌贵可以去投诉。我有手机导航轨迹截图，要求退还多收的车费并处理该司机。",
        plate=plate,
        operator=_taxi_company(rng, r),
        address=r.at(place),
        photos=rng.choice((0, 1, 2)),
    )


def _taxi_no_meter(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    station = next((p for p in r.places if p.endswith(("站", "机场"))), r.places[0])
    dest = rng.choice(r.roads)
    return Draft(
        "complaint",
        "taxi",
        f"{station}出租车不打表、拼客议价",
        f"{day}{time}在{station}出站口排队坐出租车，司机不打表，开口要价{rng.randrange(40, 90)}元到{dest}，"
        f"还要再拉两个人拼车，说晚上都是这个价。{station}出口的出租车普遍议价拼客，外地旅客意见很大，"
        f"希望管理部门加强{station}夜间出租车管理。",
        plate=_taxi_plate(rng, r),
        operator=_taxi_company(rng, r),
        address=r.at(station),
    )


def _taxi_lost_item(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    plate = _taxi_plate(rng, r)
    return Draft(
        "help",
        "taxi",
        "乘坐出租车遗失物品求助",
        f"我{day}{time}左右在{rng.choice(r.places)}坐了一辆{rng.choice(COLOURS)}出租车到{rng.choice(r.roads)}，"
        f"下车时把{rng.choice(ITEMS)}落在后座上了，车牌只记得是{plate[:4]}开头，车费是用微信付的。"
        "恳请帮忙联系司机找回物品，非常感谢！",
        address=r.at(),
    )


def _taxi_praise(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    plate = _taxi_plate(rng, r)
    driver = rng.choice(SURNAMES) + "师傅"
    return Draft(
        "praise",
        "taxi",
        f"表扬出租车{plate}司机拾金不昧",
        f"我{day}乘坐{plate}出租车时不慎把{rng.choice(ITEMS)}遗落在车上，自己都没发现，司机{driver}在车上发现后"
        "通过付款记录联系上我，专门送了回来，分文不取。特此表扬，希望出租车公司给予表彰。",
        plate=plate,
        operator=_taxi_company(rng, r),
    )


def _black_car(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    place = rng.choice(r.places)
    plate = _car_plate(rng, r)
    return Draft(
        "report",
        "taxi",
        f"举报{place}附近黑车非法营运",
        f"{place}门口长期有五六辆私家车拉客揽客，"
        f"每人收费{rng.randrange(20, 60)}元去{rng.choice(REGIONS).district}，"
        f"其中一辆车牌{plate}天天都在。这些车辆没有营运资质，超员拉客，出了事故乘客没有保障，"
        "请交通执法部门查处。",
        plate=plate,
        address=r.at(place),
        anonymous=rng.random() < 0.6,
    )


def _ride_overcharge(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    platform = rng.choice(RIDE_PLATFORMS)
    estimate = rng.randrange(15, 60)
    plate = _car_plate(rng, r)
    place, dest = rng.sample(r.places, 2)
    return Draft(
        "complaint",
        "ride_hailing",
        "网约车实际扣费远高于预估价",
        f"我{day}{time}通过{platform}出行App叫车，从{place}到{dest}，"
        f"预估价{estimate}元，结束行程后实际扣费{estimate * 2 + rng.randrange(5, 30)}元，行程明细显示司机"
        f"多绕了{rng.randrange(5, 16)}公里，还有一笔“高速费”，但全程根本没上高速。联系平台客服三天没有结果，"
        "要求平台退还多收费用。",
        plate=plate,
        operator=_operator(f"{r.city}{platform}出行科技有限公司", r),
        photos=rng.choice((0, 2)),
    )


def _ride_mismatch(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    platform = rng.choice(RIDE_PLATFORMS)
    plate = _car_plate(rng, r)
    shown, came = rng.sample(CAR_MODELS, 2)
    return Draft(
        "complaint",
        "ride_hailing",
        "网约车实际车辆与平台登记不符",
        f"{day}{time}在{platform}出行App上叫车，接单车辆显示是{shown}、车牌{plate}，来接我的却是一辆{came}，"
        "司机和照片也不是同一个人，说是“帮朋友跑一单”。这种情况存在很大的安全隐患，请核查该平台的车辆和驾驶员资质。",
        plate=plate,
        operator=_operator(f"{r.city}{platform}出行科技有限公司", r),
        address=r.at(rng.choice(r.roads)),
    )


def _ride_licence(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    return Draft(
        "consultation",
        "ride_hailing",
        "网约车驾驶员证怎么办理",
        f"我想在{r.city}兼职开网约车，请问办理网络预约出租汽车驾驶员证需要什么条件，要考哪些科目，在哪里报名？"
        f"我的车是{rng.choice(CAR_MODELS)}，{rng.choice(('2019', '2020', '2021', '2022'))}年上的牌，"
        "能不能办车辆运输证？",
    )


def _bus_frequency(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    route = rng.choice(BUS_ROUTES[:-1])
    interval = rng.choice((10, 12, 15))
    return Draft(
        "complaint",
        "bus",
        f"{route}公交车班次太少、等车时间太长",
        f"{route}公交车早晚高峰等车时间经常超过{interval * 3}分钟，站牌上写的发车间隔是{interval}分钟。"
        f"{rng.choice(r.places)}站早上挤满了上班族和学生，来一趟车根本上不去。希望公交公司增加{route}早晚高峰班次，"
        "按站牌公布的间隔发车。",
        route=route,
        operator=_bus_company(r),
        address=r.at(rng.choice(r.roads)),
    )


def _bus_skipped_stop(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    route = rng.choice(BUS_ROUTES)
    plate = _bus_plate(rng, r)
    return Draft(
        "complaint",
        "bus",
        f"{route}公交车到站不停",
        f"{day}{time}左右，我在{rng.choice(r.roads)}站等{route}公交车，车牌{plate}，站台上好几个人招手，"
        "司机直接开过去没有停。这种情况已经不是第一次了，下一班又要等二十分钟，上班迟到。请公交公司查处。",
        plate=plate,
        route=route,
        operator=_bus_company(r),
        address=r.at(rng.choice(r.roads)),
    )


def _bus_phone_driving(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    route = rng.choice(BUS_ROUTES)
    plate = _bus_plate(rng, r)
    return Draft(
        "complaint",
        "bus",
        f"{route}公交司机开车看手机",
        f"{day}{time}乘坐{route}公交车（车牌{plate}），司机一边开车一边看手机视频，还有几次急刹车，"
        "车上有老人差点摔倒。这样太危险了，我拍了视频，请公交公司严肃处理。",
        plate=plate,
        route=route,
        operator=_bus_company(r),
        photos=1,
    )


def _bus_last_bus(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    route = rng.choice(BUS_ROUTES[:-1])
    return Draft(
        "suggestion",
        "bus",
        f"建议{route}公交车延长末班车时间",
        f"{route}公交车末班车是晚上7点，沿线{rng.choice(r.places)}一带很多人在工业园和商场上班，下班都是8点以后，"
        f"只能打车或者走路回家。建议把{route}末班车延长到晚上9点以后，方便群众出行。",
        route=route,
        operator=_bus_company(r),
    )


def _bus_new_route(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    a, b = rng.sample(r.places, 2)
    return Draft(
        "suggestion",
        "bus",
        f"建议开通{a}到{b}的公交线路",
        f"{a}到{b}目前没有直达公交，要在{rng.choice(r.roads)}换乘，单程要一个多小时。附近几个小区有上万人，"
        f"建议开通一条直达线路，或者把{rng.choice(BUS_ROUTES)}延伸过去。",
        address=r.at(a),
    )


def _bus_senior_card(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    return Draft(
        "consultation",
        "bus",
        "老年人免费乘车卡怎么办理",
        f"我母亲今年满{rng.choice((60, 65, 70))}周岁，户口在外地，跟我在{r.city}住。请问外地户籍的老人能不能办"
        "老年人免费乘车卡？需要带什么材料，在哪里办理？",
    )


def _bus_praise(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    route = rng.choice(BUS_ROUTES)
    return Draft(
        "praise",
        "bus",
        f"表扬{route}公交车司机",
        f"{day}{time}我乘坐{route}公交车，车上一位老人身体不舒服，司机{rng.choice(SURNAMES)}师傅马上靠边停车，"
        "帮忙联系家属，等家属来了才继续开车，车上乘客都很感动。希望公交公司表扬这位司机。",
        route=route,
        operator=_bus_company(r),
    )


def _road_pothole(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    road = rng.choice(r.highways)
    km = f"K{rng.randrange(100, 900)}+{rng.randrange(0, 1000):03d}"
    return Draft(
        rng.choice(("complaint", "help")),
        "road",
        f"{road}{r.district}段路面坑洼严重",
        f"{road}{r.district}段{km}附近路面坑槽很多，最大的坑有{rng.randrange(10, 30)}公分深，下雨天积水看不出来，"
        "这个月已经有好几辆电动车在这里摔倒，大货车过去也是颠得厉害。请公路部门尽快修补。",
        route=road,
        address=r.at(f"{road}{km}"),
        photos=rng.choice((1, 2, 3)),
    )


def _road_guardrail(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    road = rng.choice(r.highways)
    return Draft(
        "complaint",
        "road",
        f"{road}护栏被撞坏一个多月没修",
        f"{road}{r.district}段一处急弯的波形护栏被车撞坏，倒在路边一个多月了，也没有设置警示标志，"
        "晚上经过特别危险，外侧就是几米深的沟。请尽快修复护栏。",
        route=road,
        address=r.at(road),
        photos=1,
    )


def _road_works(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    road = rng.choice(r.highways)
    return Draft(
        "complaint",
        "road",
        f"{road}施工路段没有警示标志",
        f"{road}{r.district}段在修路，半幅封闭，但是前方几百米都没有施工警示牌和锥桶，晚上也没有警示灯，"
        f"{day}晚上差点撞上路中间的砂石堆。请督促施工单位规范设置安全设施。",
        route=road,
        address=r.at(road),
    )


def _road_overload(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    road = rng.choice(r.highways)
    plate = _truck_plate(rng, r)
    return Draft(
        "report",
        "road",
        f"举报{road}夜间超载货车",
        f"最近每天晚上11点以后，{road}{r.district}段有很多拉砂石的大货车，明显超载，车斗上面堆得老高也不盖篷布，"
        f"一路撒砂石，路面都压坏了。其中一辆车牌{plate}。请交通执法部门夜间设卡检查。",
        plate=plate,
        route=road,
        address=r.at(road),
        anonymous=rng.random() < 0.7,
    )


def _expressway_toll(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    road = next((h for h in r.highways if "高速" in h), r.highways[0])
    plate = _car_plate(rng, r)
    return Draft(
        "complaint",
        "road",
        "高速公路ETC重复扣费",
        f"我{day}走{road}从{r.district}收费站出口下高速，ETC扣了一次费，"
        f"过了两天又扣了一次{rng.randrange(20, 90)}元，"
        f"车牌{plate}。打了客服电话说要核实，到现在也没退。请帮忙核实退款。",
        plate=plate,
        route=road,
        operator=_operator(f"江西{r.city[:2]}高速公路运营管理有限公司", r),
    )


def _metro_crowding(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    line = rng.choice(METRO_LINES)
    return Draft(
        "suggestion",
        "rail",
        f"建议{line}早高峰加密班次",
        f"{line}早高峰7点半到8点半特别挤，在{rng.choice(r.places)}站经常要等两三趟才能上车，站台上人挤人很危险。"
        f"建议{line}早高峰加密班次，或者增开区间车。",
        route=line,
        operator=_metro_company(r),
    )


def _metro_lost_item(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    line = rng.choice(METRO_LINES)
    return Draft(
        "help",
        "rail",
        f"{line}车厢遗失物品",
        f"我{day}{time}左右乘坐{line}，在{rng.choice(r.places)}站下车时把{rng.choice(ITEMS)}忘在车厢座位上了，"
        "在站务室登记过，但一直没有消息，请帮忙查找。",
        route=line,
        operator=_metro_company(r),
    )


def _ferry_overload(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    ferry = rng.choice(r.ferries) if r.ferries else "渡口"
    return Draft(
        "complaint",
        "waterway",
        f"{ferry}渡船超载、乘客不穿救生衣",
        f"{day}{time}在{ferry}坐渡船过江，船上挤了三十多人，还有好几辆电动车，船工也不要求穿救生衣。"
        "赶上涨水江面风浪大，实在太危险，请海事和交通部门加强渡口管理。",
        route=ferry,
        operator=_operator(f"{r.city}{r.district}客渡运输有限公司", r),
        address=r.at(ferry),
    )


def _driving_school(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    school = f"{r.city}{rng.choice(DRIVING_SCHOOLS)}机动车驾驶员培训有限公司"
    return Draft(
        "complaint",
        "other",
        "驾校收费后迟迟不安排练车考试",
        f"我{rng.choice(('去年', '今年年初'))}在{school}报名学车，交了{rng.choice((3800, 4200, 4500))}元，"
        "科目一考完后就一直约不上练车，教练说车少人多让等，已经等了四个多月。要求驾校尽快安排培训考试，否则退还学费。",
        operator=_operator(school, r),
    )


def _coach_dumped(rng: random.Random, r: Region, day: str, time: str) -> Draft:
    other = rng.choice([x for x in REGIONS if x.city != r.city])
    return Draft(
        "complaint",
        "other",
        "长途客车中途甩客",
        f"{day}我在{r.city}汽车站买票坐到{other.city}的客车，车开到半路司机说要换车，把我们十几个乘客放在服务区，"
        "等了一个多小时才来另一辆车，行李也被乱扔。买票时根本没说要换乘，要求客运公司给个说法。",
        plate=_bus_plate(rng, r),
        route=f"{r.city}—{other.city}",
        operator=_operator(f"{r.city}长运客运有限公司", r),
    )


TEMPLATES = (
    (_taxi_refusal, 10),
    (_taxi_detour, 8),
    (_taxi_no_meter, 5),
    (_taxi_lost_item, 5),
    (_taxi_praise, 3),
    (_black_car, 3),
    (_ride_overcharge, 8),
    (_ride_mismatch, 4),
    (_ride_licence, 3),
    (_bus_frequency, 7),
    (_bus_skipped_stop, 6),
    (_bus_phone_driving, 3),
    (_bus_last_bus, 4),
    (_bus_new_route, 3),
    (_bus_senior_card, 3),
    (_bus_praise, 2),
    (_road_pothole, 8),
    (_road_guardrail, 3),
    (_road_works, 3),
    (_road_overload, 3),
    (_expressway_toll, 3),
    (_metro_crowding, 2),
    (_metro_lost_item, 2),
    (_ferry_overload, 2),
    (_driving_school, 2),
    (_coach_dumped, 2),
)
CORPUS_SHARE = 0.15


# Board posts filed under 交通运输 also cover the post office, couriers and traffic lights, which are not
# 12328's; only posts whose title names a transport matter are used.
_CORPUS_TOPICS = (
    "出租",
    "的士",
    "黑的",
    "网约",
    "滴滴",
    "公交",
    "高速",
    "收费站",
    "路桥",
    "公路",
    "道路",
    "交通规划",
    "航道",
    "运输",
    "超载",
    "汽车站",
)
_CORPUS_EXCLUDED = ("邮政", "快递", "物流城", "出口货物", "红绿灯")
_CORPUS_CATEGORIES = (
    ("ride_hailing", ("网约", "滴滴")),
    ("taxi", ("出租", "的士", "黑的")),
    ("bus", ("公交",)),
    ("waterway", ("航道", "渔船", "货船")),
    ("road", ("高速", "公路", "路桥", "收费站", "道路", "超载", "渣土", "砂石")),
)


def _corpus_draft(rng: random.Random) -> Draft | None:
    """A real message-board post about transport, as a caller's ticket."""
    posts = board_posts("交通运输", _CORPUS_TOPICS, _CORPUS_EXCLUDED)
    if not posts:
        return None
    post = rng.choice(posts)
    title = post.get("title", "").strip()
    content = re.sub(r"\s+", " ", post.get("content", "")).strip() or title
    category = next((c for c, words in _CORPUS_CATEGORIES if any(w in title + content for w in words)), "other")
    kind = (
        "suggestion"
        if ("建议" in title or "希望" in title)
        else "consultation"
        if ("请问" in title or "咨询" in title)
        else "report"
        if "举报" in title
        else "complaint"
    )
    return Draft(kind, category, title, content, anonymous=kind == "report")


class Transport12328ServerDialect(ServerDialect):
    """The 12328 platform's side of the interconnect (docs/channels/12328.md)."""

    name = "12328"
    poll_method = "GET"
    poll_path = "/v2/tickets"
    deliver_path = "/v2/tickets/{order_id}/events"
    check_path = "/v2/health/auth"
    id_field = "ticket_id"
    optional_fields = (
        "caller",
        "caller.name",
        "caller.phone",
        "location",
        "location.address",
        "location.adcode",
        "location.lng",
        "location.lat",
        "plate_no",
        "route",
        "operator",
        "operator.credit_code",
        "attachments",
        "channel",
        "status",
        "occurred_at",
    )
    date_fields = ("occurred_at", "created_at", "updated_at")
    protected_fields = ("ticket_id", "updated_at")
    drift_field_names = ("trace_id", "source_system", "priority", "tags", "schema_version")
    reply_department = "transport"
    unit_title = "交通运输局"

    def parse_feed_query(self, query: dict[str, str], body: bytes) -> FeedQuery:
        """since (ISO 8601 with offset, optional), after (ticket id, optional), limit (1..1000, default 100)."""
        since = parse_iso(query["since"], "since") if query.get("since") else None
        after = query.get("after", "")
        if len(after) > ID_MAX:
            raise ValueError(f"after: longer than {ID_MAX} characters")
        raw_limit = query.get("limit", str(LIMIT_DEFAULT))
        if not (raw_limit.isascii() and raw_limit.isdigit()):
            raise ValueError(f"limit: must be a whole number, got {raw_limit[:20]!r}")
        limit = int(raw_limit)
        if not 1 <= limit <= LIMIT_MAX:
            raise ValueError(f"limit: must be between 1 and {LIMIT_MAX}")
        return FeedQuery(since=since, after_id=after, limit=limit)

    def render_item(self, order: WorkOrder) -> dict[str, Any]:
        """One ticket; optional fields the order does not have are left out."""
        d = order.details
        item: dict[str, Any] = {
            "ticket_id": order.id,
            "kind": order.type,
            "category": order.category or "other",
            "subject": order.title,
            "description": order.content,
        }
        caller = {k: v for k, v in (("name", order.citizen.name), ("phone", order.citizen.phone)) if v is not None}
        if caller:
            item["caller"] = caller
        location = {
            k: v
            for k, v in (
                ("address", order.address),
                ("adcode", order.division_code),
                ("lng", d.get("lng")),
                ("lat", d.get("lat")),
            )
            if v is not None
        }
        if location:
            item["location"] = location
        for key in ("plate_no", "route"):
            if d.get(key) is not None:
                item[key] = d[key]
        if order.subject is not None:
            item["operator"] = {
                k: v for k, v in (("name", order.subject.name), ("credit_code", order.subject.credit_code)) if v
            }
        if d.get("attachments"):
            item["attachments"] = [dict(a) for a in d["attachments"]]
        if d.get("intake"):
            item["channel"] = d["intake"]
        status = STATUS_OF_ORDER.get(order.status, order.status)
        item["status"] = status if status in TICKET_STATUSES else "processing"
        if order.reply is not None:
            item["reply_text"] = order.reply
        if order.unit is not None:
            item["handling_unit"] = order.unit
        if order.occurred_at is not None:
            item["occurred_at"] = iso(order.occurred_at)
        item["created_at"] = iso(order.created_at)
        item["updated_at"] = iso(order.updated_at)
        return item

    def place(self, division_code: str | None) -> tuple[str, str] | None:
        """(city, district) of one of the regions the simulated platform serves."""
        return PLACES.get(division_code or "")

    def render_page(self, items: list[dict[str, Any]], has_more: bool, server_time: datetime) -> dict[str, Any]:
        """{"tickets": [...], "has_more": bool, "server_time": ISO}."""
        return {"tickets": items, "has_more": has_more, "server_time": iso(server_time)}

    def render_error(self, status: int, message: str) -> dict[str, Any]:
        """{"error": {"code": <string enum>, "message": ...}}."""
        code = ERROR_CODES.get(status) or ("internal_error" if status >= 500 else "invalid_request")
        return {"error": {"code": code, "message": message}}

    def parse_event(self, order_id: str | None, body: bytes) -> ReceivedEvent:
        """{"event_id", "type", "status", "text", "unit", "at"} for the ticket in the path."""
        if not order_id:
            raise ValueError("ticket_id: missing in the path")
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError):
            raise ValueError("body: not JSON") from None
        if not isinstance(doc, dict):
            raise ValueError("body: must be a JSON object")
        event_id = doc.get("event_id")
        if not isinstance(event_id, str) or not event_id.strip():
            raise ValueError("event_id: required text")
        if len(event_id) > ID_MAX:
            raise ValueError(f"event_id: longer than {ID_MAX} characters")
        kind = doc.get("type")
        if kind not in EVENT_TYPES:
            raise ValueError(f"type: must be one of {', '.join(EVENT_TYPES)}")
        status = doc.get("status")
        if status not in EVENT_STATUSES:
            raise ValueError(f"status: must be one of {', '.join(EVENT_STATUSES)}")
        text, unit = doc.get("text"), doc.get("unit")
        for name, value in (("text", text), ("unit", unit)):
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name}: must be text or null")
        if kind == "reply" and not (text or "").strip():
            raise ValueError("text: required for a reply")
        at = doc.get("at")
        parse_iso(at, "at")
        return ReceivedEvent(
            event_id=event_id, order_id=order_id, kind=kind, status=status, text=text, unit=unit, at=at, raw=doc
        )

    def render_receipt(self, event: ReceivedEvent, duplicate: bool) -> dict[str, Any]:
        """{"receipt_id", "event_id", "ticket_id", "duplicate"}; a repeated event gets the same receipt id."""
        return {
            "receipt_id": receipt_id(event.event_id),
            "event_id": event.event_id,
            "ticket_id": event.order_id,
            "duplicate": duplicate,
        }

    def render_check(self, server_time: datetime) -> dict[str, Any]:
        """{"status": "ok", "server_time": ISO}: the signature was good."""
        return {"status": "ok", "server_time": iso(server_time)}

    def generate(self, n: int, now: datetime, seed: int) -> WorkOrder:
        """The n-th ticket: a realistic transport appeal in Jiangxi, the same for the same (seed, n, now)."""
        rng = random.Random(f"12328:{seed}:{n}")
        region = rng.choice(REGIONS)
        local = now.astimezone(BEIJING)
        since_midnight = local - local.replace(hour=0, minute=0, second=0, microsecond=0)
        created = now - min(timedelta(seconds=rng.randrange(60, 6 * 3600)), since_midnight)
        occurred = created - timedelta(seconds=rng.randrange(600, 3 * 86400)) if rng.random() < 0.85 else None
        day, time = _when(occurred, created)
        draft = _corpus_draft(rng) if rng.random() < CORPUS_SHARE else None
        if draft is None:
            functions, weights = zip(*TEMPLATES, strict=True)
            template = rng.choices(functions, weights)[0]
            if template in (_metro_crowding, _metro_lost_item) and not region.metro:
                region = next(r for r in REGIONS if r.metro)
            if template is _ferry_overload and not region.ferries:
                region = next(r for r in REGIONS if r.ferries)
            draft = template(rng, region, day, time)
        if draft.kind not in KINDS or draft.category not in CATEGORIES:
            raise ValueError(f"template wrote kind {draft.kind!r}, category {draft.category!r}: not 12328's")
        details: dict[str, Any] = {"intake": rng.choices([c for c, _ in INTAKE], [w for _, w in INTAKE])[0]}
        if draft.plate:
            details["plate_no"] = draft.plate
        if draft.route:
            details["route"] = draft.route
        if draft.category in ("road", "waterway", "bus") or rng.random() < 0.3:
            details["lng"] = round(region.lng + rng.uniform(-0.05, 0.05), 6)
            details["lat"] = round(region.lat + rng.uniform(-0.05, 0.05), 6)
        # Numbered by registration day and serial, as the platform's work-order sequence: tickets registered
        # in the same second sort in the order they were registered, so keyset paging does not skip them.
        ticket = f"JT{local:%Y%m%d}{n:08d}"
        if draft.photos:
            if details["intake"] == "phone":
                details["intake"] = "wechat"  # photos come by WeChat or the app, not over the phone
            details["attachments"] = [_photo(rng, ticket, i) for i in range(draft.photos)]
        return WorkOrder(
            id=ticket,
            type=draft.kind,
            title=draft.title,
            content=draft.content,
            citizen=Party(name=_caller_name(rng, draft.anonymous), phone=_phone(rng, region)),
            created_at=created,
            updated_at=now,
            occurred_at=occurred,
            division_code=region.adcode,
            address=draft.address,
            category=draft.category,
            subject=draft.operator,
            details=details,
        )


def _photo(rng: random.Random, ticket: str, i: int) -> dict[str, Any]:
    """A photo the caller sent through WeChat or the app, by reference."""
    digest = hashlib.sha256(f"{ticket}:{i}:{rng.random()}".encode()).hexdigest()
    return {
        "url": f"https://files.12328.example/tickets/{ticket}/{i + 1}.jpg",
        "content_type": "image/jpeg",
        "size_bytes": rng.randrange(80_000, 3_000_000),
        "sha256": digest,
    }


def receipt_id(event_id: str) -> str:
    """The platform's receipt number for an event: the same for a repeated event id."""
    return "RC" + hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()[:18].upper()
