"""The simulated city's service list (GET /services.json): what a Chinese city's Open311 server would offer.

Each service has the fields of the GeoReport v2 schema (service.json), plus what the simulator needs to live
its requests: the department that handles it (a key of simulators/hotline/units.py DEPARTMENTS, so the agency
is named like the 12345 simulator's units), the days it promises in its service notice, and the attributes of
its service definition. One service (违章停车) has a required attribute, as real parking services do: a client
that sends no `attribute[plate]` is refused with 400, so an operator must not map huiju's appeals to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute of a service definition (GET /services/{code}.json)."""

    code: str
    description: str
    datatype: str = "string"
    required: bool = False
    variable: bool = True
    order: int = 1
    datatype_description: str | None = None
    values: tuple[tuple[str, str], ...] = ()  # (key, name) of a singlevaluelist or multivaluelist

    def as_json(self) -> dict[str, Any]:
        """The attribute as the service definition shows it."""
        doc: dict[str, Any] = {
            "variable": self.variable,
            "code": self.code,
            "datatype": self.datatype,
            "required": self.required,
            "datatype_description": self.datatype_description,
            "order": self.order,
            "description": self.description,
        }
        if self.values:
            doc["values"] = [{"key": k, "name": n} for k, n in self.values]
        return doc


@dataclass(frozen=True, slots=True)
class Service:
    """One service request type of the simulated city."""

    code: str
    name: str
    description: str
    group: str
    keywords: str
    department: str  # simulators/hotline/units.py DEPARTMENTS key of the agency that handles it
    days: int  # promised in the service notice; expected_datetime is this many days after the request
    attributes: tuple[Attribute, ...] = field(default_factory=tuple)

    def as_json(self, kind: str) -> dict[str, Any]:
        """The service as GET /services.json lists it (`kind`: realtime, or batch while tokens are on)."""
        return {
            "service_code": self.code,
            "service_name": self.name,
            "description": self.description,
            "metadata": bool(self.attributes),
            "type": kind,
            "keywords": self.keywords,
            "group": self.group,
        }

    def definition(self) -> dict[str, Any]:
        """GET /services/{code}.json: the attributes (none for a service without metadata)."""
        return {"service_code": self.code, "attributes": [a.as_json() for a in self.attributes]}

    def notice(self) -> str:
        """The service_notice answered when a request is created."""
        return f"您反映的“{self.name}”问题已受理，我们将在{self.days}个工作日内处理并答复。"


VEHICLE_TYPES = (("car", "小型汽车"), ("truck", "货车"), ("bus", "客车"), ("motorcycle", "摩托车"))

SERVICES: tuple[Service, ...] = (
    Service("001", "道路破损", "城市道路路面坑洼、塌陷、破损。", "市政设施", "坑洼,塌陷,路面,道路", "urban", 7),
    Service("002", "路灯不亮", "路灯不亮、白天亮灯或灯杆损坏。", "市政设施", "路灯,照明,灯杆", "urban", 3),
    Service("003", "井盖缺失或破损", "窨井盖丢失、破损、松动或异响。", "市政设施", "井盖,窨井,下水道", "urban", 1),
    Service(
        "004", "占道经营", "流动摊贩或店铺占用道路、人行道经营。", "市容环境", "摆摊,占道,流动摊贩", "urban", 3
    ),
    Service("005", "垃圾清运不及时", "生活垃圾、建筑垃圾未及时清运。", "市容环境", "垃圾,清运,环卫", "urban", 2),
    Service(
        "006", "噪声扰民", "施工、商业、娱乐场所噪声扰民。", "生态环境", "噪音,噪声,施工,扰民", "environment", 7
    ),
    Service(
        "007",
        "违章停车",
        "机动车违规停放、占用消防通道或人行道。",
        "交通管理",
        "停车,占道,消防通道",
        "police",
        1,
        (
            Attribute("plate", "违停车辆的号牌号码（如 赣B12345）", required=True, order=1),
            Attribute(
                "vehicle_type",
                "车辆类型",
                datatype="singlevaluelist",
                order=2,
                values=VEHICLE_TYPES,
            ),
        ),
    ),
    Service(
        "008", "停水或水压不足", "停水、水压不足或水质异常。", "水电气热", "停水,供水,水压,自来水", "water", 1
    ),
    Service(
        "009",
        "物业服务纠纷",
        "小区物业服务、公共设施维修、收费纠纷。",
        "住房物业",
        "物业,小区,电梯,业主",
        "housing",
        7,
    ),
    Service("010", "其他城市管理问题", "不属于以上类别的城市管理问题。", "综合", "其他,城市管理", "government", 7),
)
SERVICE_BY_CODE: dict[str, Service] = {s.code: s for s in SERVICES}
