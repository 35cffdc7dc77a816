"""The 12315 platform (全国12315平台, market regulation) as the simulator serves it.

camelCase fields, string codes, "yyyy-MM-dd HH:mm:ss" Beijing times and the `{"code", "msg", "data"}` envelope,
as docs/channels/12315.md specifies. The code tables are written out here again rather than imported from the
connector, so that a slip on either side shows up in the round-trip tests instead of being shared.

The generator writes realistic 12315 work orders: prepaid cards of gyms and beauty salons that closed, refunds
refused, fake goods, food safety, overcharging, faulty appliances, renovation deposits; with valid mobiles,
resident IDs and credit codes most of the time and the slips real registrations have the rest of the time.
(The message-board sample in simulators/data holds no market-regulation posts, so the language is written here.)
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from simulators.national.dialect import FeedQuery, Party, ReceivedEvent, ServerDialect, WorkOrder
from simulators.national.generate import (
    ID_CHECK_CHARACTERS,
    credit_code,
    landline_number,
    mistyped,
    mobile_number,
    resident_id,
)

BEIJING = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_TIME_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")

ORDER_TYPES = {"complaint": "1", "report": "2", "consultation": "3", "suggestion": "4"}  # 投诉 举报 咨询 建议
STATUS_CODES = {
    "registered": "10",  # 待受理
    "accepted": "20",  # 已受理
    "dispatched": "30",  # 已分派
    "returned": "31",  # 已退回
    "extended": "32",  # 已延期
    "replied": "40",  # 已答复
    "closed": "50",  # 已办结
    "revisited": "60",  # 已回访
}
EVENT_TYPES = {"1": "status", "2": "reply"}  # 状态同步, 办理答复
MESSAGES = {
    400: "参数错误",
    401: "鉴权失败",
    403: "无权访问",
    404: "资源不存在",
    405: "请求方法不支持",
    413: "请求体过大",
    429: "请求过于频繁，请稍后重试",
    500: "系统内部错误",
    503: "服务暂不可用",
}
PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 500
EVENT_ID_MAX = 64
TEXT_MAX = 4000


def fmt(moment: datetime) -> str:
    """A time as 12315 writes it: Beijing time, whole seconds, no offset."""
    return moment.astimezone(BEIJING).strftime(TIME_FORMAT)


def parse_time(value: str, name: str) -> datetime:
    """A "yyyy-MM-dd HH:mm:ss" Beijing time; ValueError with the parameter's name otherwise."""
    if not _TIME_SHAPE.fullmatch(value):
        raise ValueError(f"{name}格式错误，应为yyyy-MM-dd HH:mm:ss")
    try:
        return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=BEIJING)
    except ValueError:
        raise ValueError(f"{name}不是有效的日期时间") from None


class Market12315ServerDialect(ServerDialect):
    """The 12315 open interface (开放接口), server side."""

    name = "12315"
    poll_method = "GET"
    poll_path = "/open/v1/workorders"
    deliver_path = "/open/v1/workorders/{order_id}/feedback"
    check_path = "/open/v1/ping"

    id_field = "orderNo"
    optional_fields = (
        "consumer.name",
        "consumer.mobile",
        "consumer.idCard",
        "merchant",
        "merchant.uscc",
        "merchant.address",
        "merchant.regionCode",
        "goodsCategory",
        "serviceCategory",
        "amount",
        "occurTime",
        "regionCode",
    )
    date_fields = ("occurTime", "createTime", "updateTime")
    protected_fields = ("orderNo", "updateTime")
    drift_field_names = ("extInfo", "sourceChannel", "handleDeptCode", "isUrgent", "version")
    reply_department = "market"
    unit_title = "市场监督管理局"

    def parse_feed_query(self, query: dict[str, str], body: bytes) -> FeedQuery:
        """updateTimeStart (optional), lastId (with it), pageSize (1 to 500, default 100)."""
        size_text = query.get("pageSize", str(PAGE_SIZE_DEFAULT))
        if not (size_text.isascii() and size_text.isdigit() and 1 <= int(size_text) <= PAGE_SIZE_MAX):
            raise ValueError(f"pageSize应为1到{PAGE_SIZE_MAX}之间的整数")
        start = query.get("updateTimeStart")
        since = parse_time(start, "updateTimeStart") if start else None
        last_id = query.get("lastId", "") if since is not None else ""
        if len(last_id) > 128:
            raise ValueError("lastId过长")
        return FeedQuery(since=since, after_id=last_id, limit=int(size_text))

    def render_item(self, order: WorkOrder) -> dict[str, Any]:
        """One work order in 12315's field names."""
        item: dict[str, Any] = {
            "orderNo": order.id,
            "orderType": ORDER_TYPES.get(order.type, "9"),
            "title": order.title,
            "content": order.content,
        }
        consumer = {
            key: value
            for key, value in (
                ("name", order.citizen.name),
                ("mobile", order.citizen.phone),
                ("idCard", order.citizen.id_number),
            )
            if value is not None
        }
        item["consumer"] = consumer
        if order.subject is not None:
            merchant = {
                "name": order.subject.name,
                "uscc": order.subject.credit_code,
                "address": order.subject.address,
                "regionCode": order.details.get("merchant_region"),
            }
            item["merchant"] = {k: v for k, v in merchant.items() if v is not None}
        if order.category:
            item[order.details.get("category_field", "goodsCategory")] = order.category
        if order.details.get("amount") is not None:
            item["amount"] = order.details["amount"]
        if order.occurred_at is not None:
            item["occurTime"] = fmt(order.occurred_at)
        item["createTime"] = fmt(order.created_at)
        item["updateTime"] = fmt(order.updated_at)
        if order.division_code:
            item["regionCode"] = order.division_code
        item["status"] = STATUS_CODES.get(order.status, order.status)
        if order.reply is not None:
            item["replyContent"] = order.reply
        if order.unit is not None:
            item["handleOrg"] = order.unit
        return item

    def place(self, division_code: str | None) -> tuple[str, str] | None:
        """(city, district) of one of the regions the simulated platform serves."""
        return PLACES.get(division_code or "")

    def render_page(self, items: list[dict[str, Any]], has_more: bool, server_time: datetime) -> dict[str, Any]:
        """`{"code": 0, "msg": "success", "data": {"list", "hasMore", "serverTime"}}`."""
        return {
            "code": 0,
            "msg": "success",
            "data": {"list": items, "hasMore": has_more, "serverTime": fmt(server_time)},
        }

    def render_check(self, server_time: datetime) -> dict[str, Any]:
        """`{"code": 0, "msg": "success", "data": {"serverTime"}}`."""
        return {"code": 0, "msg": "success", "data": {"serverTime": fmt(server_time)}}

    def render_error(self, status: int, message: str) -> dict[str, Any]:
        """`{"code": <HTTP status × 100 + 1>, "msg": "<label>：<reason>"}`."""
        label = MESSAGES.get(status, "请求失败")
        return {"code": status * 100 + 1, "msg": f"{label}：{message}" if message else label}

    def parse_event(self, order_id: str | None, body: bytes) -> ReceivedEvent:
        """The feedback body: eventId, eventType, status, content, org, time."""
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError):
            raise ValueError("请求体不是合法的JSON") from None
        if not isinstance(doc, dict):
            raise ValueError("请求体应为JSON对象")
        if not order_id:
            raise ValueError("缺少工单编号")
        event_id = doc.get("eventId")
        if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > EVENT_ID_MAX:
            raise ValueError(f"eventId必填，长度1到{EVENT_ID_MAX}")
        event_type = doc.get("eventType")
        if event_type not in EVENT_TYPES:
            raise ValueError("eventType应为1（状态同步）或2（办理答复）")
        status = doc.get("status")
        if status not in STATUS_CODES.values():
            raise ValueError("status不是有效的工单状态代码")
        content, org = doc.get("content", ""), doc.get("org", "")
        if not isinstance(content, str) or len(content) > TEXT_MAX:
            raise ValueError(f"content应为不超过{TEXT_MAX}字的文本")
        if event_type == "2" and not content.strip():
            raise ValueError("办理答复（eventType=2）的content不能为空")
        if not isinstance(org, str) or len(org) > 200:
            raise ValueError("org应为不超过200字的文本")
        at = doc.get("time")
        if not isinstance(at, str):
            raise ValueError("time必填，格式yyyy-MM-dd HH:mm:ss")
        parse_time(at, "time")
        return ReceivedEvent(
            event_id=event_id,
            order_id=order_id,
            kind=EVENT_TYPES[event_type],
            status=status,
            text=content or None,
            unit=org or None,
            at=at,
            raw=doc,
        )

    def render_receipt(self, event: ReceivedEvent, duplicate: bool) -> dict[str, Any]:
        """Success either way; a repeated eventId says so and gives the first receipt number."""
        receipt_no = "FK" + hashlib.sha256(f"{event.order_id}:{event.event_id}".encode()).hexdigest()[:16].upper()
        return {
            "code": 0,
            "msg": "重复推送，已忽略" if duplicate else "success",
            "data": {"receiptNo": receipt_no, "eventId": event.event_id, "duplicate": duplicate},
        }

    def generate(self, n: int, now: datetime, seed: int) -> WorkOrder:
        """The n-th work order: deterministic for (seed, n), its times relative to now."""
        return _Generator(random.Random(f"12315:{seed}:{n}"), n, now).order()


# -- realistic content ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    code: str
    city: str
    district: str
    roads: tuple[str, ...]


REGIONS = (
    Region("360702", "赣州市", "章贡区", ("红旗大道", "文清路", "章江路", "赣江源大道", "长征大道")),
    Region("360703", "赣州市", "南康区", ("蓉江路", "东山大道", "家居大道")),
    Region("360704", "赣州市", "赣县区", ("赣新大道", "梅林大街", "长春街")),
    Region("360781", "赣州市", "瑞金市", ("象湖路", "红都大道", "八一路", "绵江路")),
    Region("360722", "赣州市", "信丰县", ("嘉定大道", "桃江路")),
    Region("360731", "赣州市", "于都县", ("长征大道", "贡江路")),
    Region("360102", "南昌市", "东湖区", ("八一大道", "中山路", "胜利路")),
    Region("360111", "南昌市", "青山湖区", ("北京东路", "湖滨东路", "高新大道")),
    Region("110105", "北京市", "朝阳区", ("朝阳路", "建国路", "望京街", "酒仙桥路")),
    Region("110108", "北京市", "海淀区", ("中关村大街", "学院路", "北四环西路")),
    Region("610113", "西安市", "雁塔区", ("小寨东路", "长安南路", "科技路", "电子正街")),
    Region("610112", "西安市", "未央区", ("凤城八路", "未央路", "文景路")),
)
PLACES = {region.code: (region.city, region.district) for region in REGIONS}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高钟曾谢赖廖邱温肖"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红晓燕鹏辉婷雪梅佳慧"
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
    "199",
)
BRANDS = ("悦动", "金源", "美佳", "恒通", "鑫达", "华联", "佳和", "宏泰", "优品", "新世纪", "百汇", "康达")
FOODS = (
    ("纯牛奶", "食品"),
    ("面包", "食品"),
    ("酸奶", "食品"),
    ("速冻水饺", "食品"),
    ("袋装卤味", "食品"),
    ("蛋白粉", "保健食品"),
)
APPLIANCES = (
    ("空调", "家用电器", (2599, 4999)),
    ("冰箱", "家用电器", (1999, 6999)),
    ("洗衣机", "家用电器", (1299, 3999)),
    ("手机", "通讯器材", (1299, 6999)),
    ("笔记本电脑", "电子产品", (3999, 8999)),
    ("电动自行车", "交通工具", (1899, 4599)),
)
ONLINE_GOODS = (
    ("羽绒服", "服装鞋帽", (299, 1299)),
    ("运动鞋", "服装鞋帽", (199, 899)),
    ("蓝牙耳机", "通讯器材", (99, 999)),
    ("扫地机器人", "家用电器", (999, 2999)),
    ("护肤套装", "化妆品", (199, 1299)),
)
FAKE_GOODS = (
    ("白酒", "食品", "飞天茅台", (1499, 2999)),
    ("运动鞋", "服装鞋帽", "耐克", (399, 1299)),
    ("口红", "化妆品", "迪奥", (199, 399)),
    ("手机充电器", "通讯器材", "华为", (79, 199)),
)
PREPAID = (
    ("健身会所", "健身年卡", "文化娱乐体育服务", (1980, 5980)),
    ("美容美发店", "美容储值卡", "美容美发服务", (1000, 8000)),
    ("瑜伽馆", "瑜伽课时卡", "文化娱乐体育服务", (2000, 6800)),
    ("教育培训中心", "少儿培训课程", "教育培训服务", (3800, 12800)),
    ("游泳馆", "游泳次卡", "文化娱乐体育服务", (800, 2400)),
)


class _Generator:
    """One work order's worth of random choices."""

    def __init__(self, rng: random.Random, n: int, now: datetime) -> None:
        self.r = rng
        self.n = n
        self.now = now
        self.region = rng.choice(REGIONS)

    # personal data, valid most of the time

    def name(self) -> str:
        return self.r.choice(SURNAMES) + "".join(self.r.choice(GIVEN) for _ in range(self.r.choice((1, 2, 2))))

    def mobile(self) -> str | None:
        roll = self.r.random()
        number = mobile_number(self.r, MOBILE_PREFIXES)
        if roll < 0.90:
            return number
        if roll < 0.95:
            return landline_number(self.r, self.region.city)
        if roll < 0.98:
            return number[:10]  # a digit short, as misheard on the phone
        return None

    def id_card(self) -> str:
        born = datetime(1955, 1, 1) + timedelta(days=self.r.randrange(365 * 50))
        number = resident_id(self.r, self.r.choice(REGIONS).code, born)
        if self.r.random() < 0.03:
            number = mistyped(number, ID_CHECK_CHARACTERS)  # a typo in the check digit
        return number

    def uscc(self, individual: bool) -> str:
        body = "".join(self.r.choice("0123456789") for _ in range(8))
        weights = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organisation-code check digit
        c9 = 11 - sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11
        org = body + {10: "X", 11: "0"}.get(c9, str(c9))
        code = credit_code(("92" if individual else "91") + self.region.code + org)
        if self.r.random() < 0.03:
            code = mistyped(code)
        return code

    def address(self) -> str:
        rg = self.region
        return f"{rg.city}{rg.district}{self.r.choice(rg.roads)}{self.r.randrange(1, 400)}号"

    def merchant(self, shop: str, individual: bool = True) -> tuple[Party, str]:
        rg = self.region
        brand = self.r.choice(BRANDS)
        name = f"{rg.district}{brand}{shop}" if individual else f"{rg.city[:2]}{brand}{shop}有限公司"
        party = Party(
            name=name,
            credit_code=self.uscc(individual) if self.r.random() < 0.85 else None,
            address=self.address(),
        )
        return party, name

    def yuan(self, low: int, high: int) -> str:
        return f"{self.r.randrange(low, high + 1)}.00"

    def day(self, moment: datetime) -> str:
        local = moment.astimezone(BEIJING)
        return f"{local.month}月{local.day}日"

    # the templates: each returns (type, title, content, category field, category, merchant, amount)

    def prepaid_card(self, when: datetime) -> tuple[Any, ...]:
        shop, card, category, (low, high) = self.r.choice(PREPAID)
        merchant, name = self.merchant(shop)
        paid = self.yuan(low, high)
        left = f"{int(float(paid) * self.r.uniform(0.4, 0.9))}"
        bought = when - timedelta(days=self.r.randrange(60, 300))
        members = self.r.choice(("几十个", "上百个", "二十多个"))
        content = (
            f"本人于{bought.astimezone(BEIJING).year}年{self.day(bought)}在{name}（{merchant.address}）办理了{card}，"
            f"共支付{paid}元，目前还有约{left}元没有消费。{self.day(when)}去的时候发现门店已经关门，门上贴着"
            f"“内部装修、暂停营业”的通知，店长和前台的电话都打不通，微信也被拉黑。同样情况的会员有{members}，"
            "大家担心商家跑路。请求市场监管部门尽快联系经营者，督促其退还剩余预付款。"
        )
        return (
            "complaint",
            f"{name}突然关门，预付卡余额无法退还",
            content,
            "serviceCategory",
            category,
            merchant,
            paid,
        )

    def refund_refused(self, when: datetime) -> tuple[Any, ...]:
        goods, category, (low, high) = self.r.choice(ONLINE_GOODS)
        merchant, name = self.merchant(self.r.choice(("电子商务有限公司", "商贸有限公司")), individual=False)
        paid = self.yuan(low, high)
        content = (
            f"我{self.day(when)}在{name}开设的网店购买了{goods}一件，实付{paid}元。收到货第二天申请七天无理由退货，"
            "商品未拆吊牌、包装完好，商家却以“已影响二次销售”为由拒绝退货退款，客服一直拖延不处理。"
            "请市场监管部门依法处理，要求商家退款。"
        )
        return ("complaint", f"网购{goods}七天无理由退货被拒", content, "goodsCategory", category, merchant, paid)

    def fake_goods(self, when: datetime) -> tuple[Any, ...]:
        goods, category, brand, (low, high) = self.r.choice(FAKE_GOODS)
        merchant, name = self.merchant(self.r.choice(("商行", "烟酒店", "精品店")))
        paid = self.yuan(low, high)
        content = (
            f"{self.day(when)}在{name}购买{brand}{goods}，花了{paid}元，拿回家发现包装印刷模糊、防伪码查询不到，"
            f"经品牌官方客服核实不是正品。这家店还在大量销售同款商品，怀疑长期售假。"
            "请市场监管部门查处，本人要求对举报人信息保密。"
        )
        return ("report", f"举报{name}销售假冒{brand}{goods}", content, "goodsCategory", category, merchant, paid)

    def food_safety(self, when: datetime) -> tuple[Any, ...]:
        if self.r.random() < 0.5:
            food, category = self.r.choice(FOODS)
            merchant, name = self.merchant(self.r.choice(("超市", "便利店", "生鲜超市")))
            paid = self.yuan(5, 80)
            content = (
                f"{self.day(when)}在{name}购买的{food}，回家后发现已经过了保质期"
                f"{self.r.randrange(3, 40)}天，货架上同批次的还有很多。孩子吃了一点后有腹泻症状。"
                "要求商家按规定赔偿，并请监管部门检查这家店的临期、过期食品。"
            )
            return ("complaint", f"{name}销售过期{food}", content, "goodsCategory", category, merchant, paid)
        dish = self.r.choice(("炒饭", "米粉", "麻辣烫", "外卖套餐", "火锅"))
        merchant, name = self.merchant(self.r.choice(("餐馆", "小吃店", "餐饮店")))
        paid = self.yuan(15, 300)
        content = (
            f"{self.day(when)}晚上在{name}吃{dish}，吃出一根头发和一只虫子。找老板理论，老板态度很差，"
            "只说重新做一份。后厨就在门口，看到操作台很脏，员工也没戴帽子口罩。请市场监管部门检查这家店的卫生。"
        )
        return ("complaint", f"{name}饭菜中吃出异物", content, "serviceCategory", "餐饮住宿服务", merchant, paid)

    def overcharge(self, when: datetime) -> tuple[Any, ...]:
        merchant, name = self.merchant(self.r.choice(("超市", "水果店", "大药房")))
        marked = self.r.randrange(5, 60)
        charged = marked + self.r.randrange(2, 20)
        content = (
            f"{self.day(when)}在{name}购物，货架上标价{marked}.00元的商品，结账时按{charged}.00元收取。"
            "向收银员指出后，对方说价签没来得及换，只退了差价，也不道歉。这种情况不是第一次了，"
            "怀疑商家故意标低价吸引顾客。请价格监管部门查处价格欺诈行为。"
        )
        return (
            "complaint",
            f"{name}结账价格与标价不符",
            content,
            "goodsCategory",
            "日用商品",
            merchant,
            f"{charged}.00",
        )

    def faulty_appliance(self, when: datetime) -> tuple[Any, ...]:
        goods, category, (low, high) = self.r.choice(APPLIANCES)
        merchant, name = self.merchant(self.r.choice(("电器城", "数码广场", "专卖店")))
        paid = self.yuan(low, high)
        content = (
            f"我于{self.day(when)}在{name}购买{goods}一台，价格{paid}元，使用不到{self.r.randrange(3, 15)}天"
            "就出现故障，无法正常使用。按照三包规定可以换货，但商家只同意维修，还说是人为损坏。"
            "请市场监管部门协调，要求商家依法换货或退货。"
        )
        title = f"新买的{goods}出现质量问题商家拒绝换货"
        return ("complaint", title, content, "goodsCategory", category, merchant, paid)

    def renovation(self, when: datetime) -> tuple[Any, ...]:
        merchant, name = self.merchant("装饰工程", individual=False)
        paid = self.yuan(5000, 30000)
        content = (
            f"今年与{name}签订了房屋装修合同，已付定金和首期款共{paid}元。对方开工不到一周就停工，"
            f"到{self.day(when)}已经{self.r.randrange(20, 90)}天没有工人来，多次联系都说过几天，现在电话也不接了。"
            "请求市场监管部门介入，督促解除合同并退还费用。"
        )
        return (
            "complaint",
            f"{name}收取装修款后长期停工",
            content,
            "serviceCategory",
            "房屋装修服务",
            merchant,
            paid,
        )

    def consultation(self, when: datetime) -> tuple[Any, ...]:
        title, content = self.r.choice(
            (
                (
                    "咨询预付卡消费纠纷如何维权",
                    "我在一家美容店办了储值卡，现在店要转让给别人，新老板说之前的卡不认。请问这种情况该怎么维权，"
                    "可以要求退还余额吗？",
                ),
                (
                    "咨询网购商品七天无理由退货的规定",
                    "请问网上买的商品拆了包装还能不能七天无理由退货？哪些商品不适用七天无理由退货？",
                ),
                (
                    "咨询个体工商户营业执照办理流程",
                    "我想在小区门口开一家小超市，请问办理个体工商户营业执照需要准备哪些材料，可以网上办理吗？",
                ),
                (
                    "咨询食品标签标注要求",
                    "我们是做手工糕点的小作坊，想在网上销售，请问包装上的标签需要标注哪些内容？",
                ),
            )
        )
        category = ("serviceCategory", "其他服务") if "执照" in title else ("goodsCategory", "其他商品")
        return ("consultation", title, content, *category, None, None)

    def suggestion(self, when: datetime) -> tuple[Any, ...]:
        title, content = self.r.choice(
            (
                (
                    "建议加强校园周边小卖部食品监管",
                    f"{self.region.district}几所小学附近的小卖部卖很多三无辣条和散装零食，孩子们放学都去买。"
                    "建议市场监管部门定期检查，规范校园周边食品销售。",
                ),
                (
                    "建议规范商场停车收费公示",
                    "一些商场停车场的收费标准贴在很隐蔽的地方，出场时才知道收费多少。建议要求在入口显著位置公示收费标准。",
                ),
                (
                    "建议出台预付卡消费管理办法",
                    "最近健身房、美容店跑路的事情很多，消费者损失很大。建议对预付卡发卡企业实行资金监管，"
                    "单张卡金额设上限。",
                ),
            )
        )
        return ("suggestion", title, content, "serviceCategory", "其他服务", None, None)

    def order(self) -> WorkOrder:
        r = self.r
        created = self.now - timedelta(minutes=r.randrange(2, 180))
        occurred = created - timedelta(days=r.randrange(0, 30), hours=r.randrange(0, 12))
        template = r.choices(
            (
                self.prepaid_card,
                self.refund_refused,
                self.fake_goods,
                self.food_safety,
                self.overcharge,
                self.faulty_appliance,
                self.renovation,
                self.consultation,
                self.suggestion,
            ),
            weights=(18, 14, 12, 14, 10, 10, 6, 10, 6),
        )[0]
        kind, title, content, category_field, category, merchant, amount = template(occurred)
        reporter = kind == "report"
        citizen = Party(
            name=None if reporter and r.random() < 0.5 else self.name(),
            phone=self.mobile(),
            id_number=self.id_card() if r.random() < (0.5 if kind == "complaint" else 0.2) else None,
        )
        local = self.now.astimezone(BEIJING)
        return WorkOrder(
            id=f"SC{local:%Y%m%d}{self.region.code}{self.n:07d}",
            type=kind,
            title=title,
            content=content,
            citizen=citizen,
            created_at=created,
            updated_at=self.now,
            occurred_at=occurred if kind not in ("consultation", "suggestion") else None,
            division_code=self.region.code,
            address=merchant.address if merchant else None,
            category=category,
            subject=merchant,
            details={"category_field": category_field, "amount": amount, "merchant_region": self.region.code}
            if merchant
            else {"category_field": category_field},
            status=r.choice(("registered", "registered", "accepted")),
        )
