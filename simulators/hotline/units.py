"""Handling units (承办单位) the simulated platform dispatches to, and the words of a return (退单).

A work order goes to a department of the district (or county) its division code names, chosen by keywords of
its category, title and content; 赣州 (Ganzhou, with Ruijin), Beijing and Xi'an districts are known, anything else
goes to the city level. Each department has a second and third choice, which is where a unit that returns the
work order suggests it should go instead.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# GB/T 2260 codes of the districts the simulator knows, by city.
DIVISIONS: dict[str, str] = {
    "360700": "赣州市",
    "360702": "章贡区",
    "360703": "南康区",
    "360704": "赣县区",
    "360722": "信丰县",
    "360723": "大余县",
    "360724": "上犹县",
    "360725": "崇义县",
    "360726": "安远县",
    "360728": "定南县",
    "360729": "全南县",
    "360730": "宁都县",
    "360731": "于都县",
    "360732": "兴国县",
    "360733": "会昌县",
    "360734": "寻乌县",
    "360735": "石城县",
    "360781": "瑞金市",
    "360783": "龙南市",
    "110000": "北京市",
    "110101": "东城区",
    "110102": "西城区",
    "110105": "朝阳区",
    "110106": "丰台区",
    "110108": "海淀区",
    "610100": "西安市",
    "610102": "新城区",
    "610103": "碑林区",
    "610104": "莲湖区",
    "610112": "未央区",
    "610113": "雁塔区",
}
CITY_OF_PREFIX = {"3607": "360700", "1101": "110000", "1100": "110000", "6101": "610100"}
DEFAULT_CITY = "360700"  # the platform of the Ruijin / Ganzhou plan


@dataclass(frozen=True, slots=True)
class Unit:
    """A handling unit: its organisation code at the platform and its name."""

    code: str
    name: str

    def as_json(self) -> dict[str, str]:
        """The unit as events carry it."""
        return {"code": self.code, "name": self.name}


# Department key -> (code suffix, name suffix). The district's name is put in front.
DEPARTMENTS: dict[str, tuple[str, str]] = {
    "housing": ("011", "住建局"),
    "urban": ("012", "城管局"),
    "transport": ("013", "交通运输局"),
    "environment": ("014", "生态环境局"),
    "education": ("015", "教育局"),
    "hrss": ("016", "人社局"),
    "health": ("017", "卫健委"),
    "market": ("018", "市场监管局"),
    "police": ("019", "公安局"),
    "fire": ("020", "消防救援大队"),
    "ambulance": ("021", "急救中心"),
    "natural": ("022", "自然资源局"),
    "civil": ("023", "民政局"),
    "water": ("024", "水务局"),
    "power": ("025", "供电公司"),
    "gas": ("026", "燃气公司"),
    "government": ("001", "人民政府办公室"),
}
# Keywords -> (first, second, third choice). The first match wins; the order puts specific words first.
ROUTING: tuple[tuple[tuple[str, ...], tuple[str, str, str]], ...] = (
    (("停电", "供电", "电费", "电压", "断电"), ("power", "government", "urban")),
    (("燃气", "天然气", "煤气"), ("gas", "housing", "urban")),
    (("停水", "供水", "自来水", "水压", "水管"), ("water", "housing", "urban")),
    (("物业", "小区", "业主", "电梯", "房屋", "维修基金", "房产证", "公积金"), ("housing", "township", "urban")),
    (("占道", "摆摊", "违建", "违章", "路灯", "渣土", "广告牌"), ("urban", "township", "housing")),
    (("噪音", "噪声", "污染", "油烟", "排放", "粉尘", "臭", "环保"), ("environment", "urban", "township")),
    (("公交", "交通", "道路", "出租", "停车", "车", "客运", "驾"), ("transport", "police", "urban")),
    (
        ("学校", "教师", "老师", "幼儿园", "学生", "教育", "招生", "入学", "培训"),
        ("education", "hrss", "township"),
    ),
    (("社保", "工资", "养老", "医保", "就业", "劳动", "退休", "欠薪"), ("hrss", "civil", "township")),
    (("医院", "医疗", "卫生", "疫苗", "医生", "药"), ("health", "market", "hrss")),
    (("商家", "消费", "退款", "价格", "食品", "超市", "预付", "假冒"), ("market", "township", "urban")),
    (("土地", "宅基地", "征地", "规划"), ("natural", "housing", "township")),
    (("低保", "救助", "养老院", "残疾"), ("civil", "township", "hrss")),
)
EMERGENCY_ROUTING = {"110": "police", "119": "fire", "120": "ambulance"}
DEFAULT_ROUTING = ("township", "government", "urban")

# What the department of a real reply's unit is, from its name (to match replies to the unit replying).
UNIT_WORDS: tuple[tuple[str, str], ...] = (
    ("交警", "transport"),
    ("交通", "transport"),
    ("公路", "transport"),
    ("教育", "education"),
    ("城管", "urban"),
    ("执法", "urban"),
    ("市政", "urban"),
    ("园林", "urban"),
    ("住建", "housing"),
    ("住房", "housing"),
    ("住保", "housing"),
    ("建设", "housing"),
    ("规划", "natural"),
    ("不动产", "natural"),
    ("房屋", "housing"),
    ("公积金", "housing"),
    ("人社", "hrss"),
    ("人力资源", "hrss"),
    ("劳动", "hrss"),
    ("医保", "hrss"),
    ("医疗保", "hrss"),
    ("社保", "hrss"),
    ("人才", "hrss"),
    ("公安", "police"),
    ("消防", "fire"),
    ("环保", "environment"),
    ("环境", "environment"),
    ("工商", "market"),
    ("市场", "market"),
    ("商务", "market"),
    ("商粮", "market"),
    ("物价", "market"),
    ("消费者", "market"),
    ("卫生", "health"),
    ("卫计", "health"),
    ("疾控", "health"),
    ("民政", "civil"),
    ("街道", "township"),
    ("镇", "township"),
)


def district_of(division_code: str | None) -> tuple[str, str]:
    """(code, name) of the district a division code names, or of its city when the district is unknown."""
    if division_code in DIVISIONS:
        return division_code, DIVISIONS[division_code]
    city = CITY_OF_PREFIX.get((division_code or "")[:4], DEFAULT_CITY)
    return city, DIVISIONS[city]


def city_of(division_code: str | None) -> str:
    """The name of the city a division code belongs to (the default city for an unknown one)."""
    return DIVISIONS[CITY_OF_PREFIX.get((division_code or "")[:4], DEFAULT_CITY)]


def department_of_unit(unit_name: str) -> str:
    """The department key of a unit named in a real reply ("government" when nothing matches)."""
    return next((dept for word, dept in UNIT_WORDS if word in unit_name), "government")


def unit_for(department: str, division_code: str | None, township: str | None) -> Unit:
    """The unit of one department in the district of a division code."""
    code, district = district_of(division_code)
    if department == "township":
        if not township:  # the place is not known more closely: the district government answers for it
            return Unit(f"{code}100", f"{district}人民政府")
        name = (
            township if township.endswith(("镇", "乡", "办事处")) else township.removesuffix("街道") + "街道办事处"
        )
        return Unit(f"{code}100", f"{district}{name}")
    suffix_code, suffix = DEPARTMENTS[department]
    if department == "ambulance":
        suffix = "120" + suffix
    elif department == "police" and district.endswith("区"):
        suffix = "公安分局"
    return Unit(f"{code}{suffix_code}", f"{district}{suffix}")


def review_unit(channel_id: str) -> dict[str, str | None]:
    """Who returns a work order after a merged channel's review: the channel's managing body, with no unit code.

    The platform knows the reviewing body only by the channel huiju names; it is not one of its handling units.
    """
    return {"code": None, "name": f"{channel_id} 审核"}


def candidate_departments(text: str, emergency: str | None) -> tuple[str, str, str]:
    """The first, second and third department for a work order's category, title and content."""
    if emergency in EMERGENCY_ROUTING:
        first = EMERGENCY_ROUTING[emergency]
        return first, "township", "government"
    for words, choice in ROUTING:
        if any(w in text for w in words):
            return choice
    return DEFAULT_ROUTING


# -- the words of a return (退单) and an extension (延期) ---------------------------------------------------

RETURN_REASONS = (
    "经核实，该诉求事项不属于我单位职责范围，请重新派单。",
    "诉求反映的问题由{suggested}负责管理，我单位无相应执法权限。",
    "该事项已明确由属地负责，建议转{suggested}办理。",
    "经现场核查，诉求地点不在我单位管辖范围内。",
)
RETURN_BASES = {
    "housing": "《物业管理条例》第五条、《江西省物业管理条例》第六条",
    "urban": "《城市市容和环境卫生管理条例》第四条、《江西省城市管理综合行政执法条例》",
    "transport": "《中华人民共和国道路交通安全法》第五条、《城市公共汽车和电车客运管理规定》第五条",
    "environment": "《中华人民共和国噪声污染防治法》第八条、《中华人民共和国大气污染防治法》第五条",
    "education": "《中华人民共和国教育法》第十五条",
    "hrss": "《保障农民工工资支付条例》第七条、《劳动保障监察条例》第三条",
    "health": "《医疗机构管理条例》第五条",
    "market": "《中华人民共和国消费者权益保护法》第三十二条、《市场监督管理投诉举报处理暂行办法》第三条",
    "natural": "《中华人民共和国土地管理法》第五条",
    "civil": "《社会救助暂行办法》第三条",
}
STANDING_RULE = (
    "《12345政务服务便民热线工单办理规范》："
    "承办单位认为工单不属于本单位职责的，应说明理由和依据，提出建议承办单位后退回"
)
EXTENSION_REASONS = (
    "该诉求涉及多个部门，需协调会商后方能答复，申请延期。",
    "需等待第三方检测结果，申请延长办理时限。",
    "现场整改需要施工周期，申请延期至整改完成后答复。",
    "涉及历史遗留问题，需调取档案核实，申请延期。",
)


def return_words(rng: random.Random, department: str, district_name: str, suggested: Unit) -> tuple[str, str]:
    """(reason, basis) of a return by a unit of `department`, suggesting `suggested`."""
    reason = rng.choice(RETURN_REASONS).format(suggested=suggested.name)
    law = RETURN_BASES.get(department)
    functions = f"《{district_name}人民政府职能配置、内设机构和人员编制规定》（三定方案）"
    basis = f"{law}；{functions}" if law else functions
    return reason, f"{basis}；{STANDING_RULE}"


def extension_reason(rng: random.Random) -> str:
    """Why a unit asks for more time."""
    return rng.choice(EXTENSION_REASONS)
