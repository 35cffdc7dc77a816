"""The 12333 mapping: where each field of a work order goes in the appeal, and what it refuses."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import MappingError
from connectors.hrss12333 import Hrss12333Connector, map_work_order
from normalizer import NormalizeContext, normalize
from normalizer.record import AppealType, IntegrationMode
from tests.connectors.national_support import mapping_connector, outcomes

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2024, 11, 25, 3, 0, tzinfo=UTC)


def items(name: str) -> list:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))["jg"]["gdlb"]


def wages() -> dict:
    """A construction-site wage complaint with an employer and an attachment (page_first.json)."""
    return copy.deepcopy(items("page_first.json")[0])


def normalized(item: dict):
    ctx = NormalizeContext("appeal-1", "hrss", IntegrationMode.INTERCONNECT, NOW, "raw-1")
    return normalize(map_work_order(item), ctx, now=NOW)


# -- what goes where -------------------------------------------------------------------------------------------


def test_the_work_order_number_is_the_source_id():
    draft = map_work_order(wages())
    assert draft.source_id == "RS202411250000118"
    assert draft.sources["source_id"] == "payload.gdbh"


def test_title_content_and_type_come_from_bt_nr_and_sqlx():
    draft = map_work_order(wages())
    assert draft.title == "章贡区水东镇安置房项目拖欠14名农民工工资"
    assert draft.content.startswith("我们是在章贡区水东镇安置房项目做木工的工人")
    assert draft.type == "complaint"
    assert (draft.sources["title"], draft.sources["content"], draft.sources["type"]) == (
        "payload.bt", "payload.nr", "payload.sqlx",
    )


@pytest.mark.parametrize(
    ("code", "kind"),
    [("01", "consultation"), ("02", "help"), ("03", "complaint"), ("04", "report"), ("05", "suggestion"),
     ("06", "praise"), ("99", "other")],
)
def test_each_appeal_type_code_maps_to_its_type(code, kind):
    assert map_work_order(wages() | {"sqlx": code}).type == kind


def test_the_applicant_is_the_citizen():
    draft = map_work_order(wages())
    assert (draft.citizen_name, draft.phone, draft.id_number) == ("刘建华", "13879712345", "360702198503122042")
    assert draft.sources["phone"] == "payload.sqr.sjhm"
    assert draft.sources["id_number"] == "payload.sqr.sfzhm"


def test_the_place_is_the_division_code_and_the_address():
    draft = map_work_order(wages())
    assert (draft.division_code, draft.address) == ("360702", "江西省赣州市章贡区水东镇安置房项目工地")
    assert (draft.sources["division_code"], draft.sources["address"]) == ("payload.xzqhdm", "payload.sfdz")


def test_the_time_of_the_matter_is_passed_on_raw_for_the_normalizer():
    draft = map_work_order(wages())
    assert draft.occurred_at == 1722470400000
    assert normalized(wages()).occurred_at == datetime(2024, 8, 1, 0, 0, tzinfo=UTC)  # 08:00 Beijing time


def test_the_business_category_is_kept_verbatim_and_mapped_to_the_platform_category():
    draft = map_work_order(wages())
    assert (draft.channel_category, draft.category) == ("欠薪", "劳动和社会保障/欠薪")


@pytest.mark.parametrize(
    ("ywlb", "category"),
    [("社会保险", "劳动和社会保障/社会保险"), ("劳动关系", "劳动和社会保障/劳动关系"),
     ("就业", "劳动和社会保障/就业创业"), ("人才人事", "劳动和社会保障/人才人事")],
)
def test_each_business_category_has_a_platform_category(ywlb, category):
    assert map_work_order(wages() | {"ywlb": ywlb}).category == category


def test_the_employer_goes_to_extra_not_to_the_enterprise():
    draft = map_work_order(wages())
    assert draft.extra["employer"] == {
        "name": "赣州宏远建筑工程有限公司",
        "credit_code": "91360702MA35K8QW4J",
        "address": "江西省赣州市章贡区水东镇",
    }
    assert draft.enterprise is None and draft.enterprise_name is None and draft.credit_code is None
    assert normalized(wages()).enterprise is None


def test_unpaid_wages_and_people_involved_go_to_extra():
    extra = map_work_order(wages()).extra
    assert (extra["unpaid_wages"], extra["people_involved"]) == (386400, 14)


def test_the_platforms_status_and_times_go_to_extra():
    extra = map_work_order(wages()).extra
    assert (extra["status"], extra["status_code"]) == ("accepted", "20")
    assert (extra["created_at"], extra["updated_at"]) == (1732496110000, 1732497151407)


def test_extra_says_which_payload_fields_it_came_from():
    sources = map_work_order(wages()).sources["extra"].split(",")
    assert set(sources) == {"payload.dw", "payload.qxje", "payload.sjrs", "payload.zt", "payload.cjsj",
                            "payload.gxsj"}


def test_attachments_are_passed_by_reference():
    draft = map_work_order(wages())
    assert draft.attachments == [
        {"url": "https://12333.jxhrss.example/fj/5b2e0c41a9f3.jpg", "media_type": "image/jpeg", "size": 1843211}
    ]
    assert normalized(wages()).attachments[0].size == 1843211


def test_a_report_is_confidential():
    report = items("page_first.json")[2]
    assert map_work_order(report).confidential == "1"
    record = normalized(report)
    assert record.type is AppealType.REPORT and record.confidential is True


def test_the_confidentiality_flag_is_honoured_for_other_types():
    assert normalized(wages() | {"bmbz": "1"}).confidential is True
    assert normalized(wages()).confidential is False


def test_a_unit_applicant_makes_an_enterprise_appeal():
    unit = items("page_last.json")[0]
    draft = map_work_order(unit)
    assert draft.enterprise is True
    assert (draft.enterprise_name, draft.credit_code) == ("南康区华美家具有限公司", "91360703MA38U7JR5D")
    assert draft.sources["enterprise"] == "payload.sqrlx"
    record = normalized(unit)
    assert record.enterprise is not None and record.enterprise.credit_code == "91360703MA38U7JR5D"
    assert record.citizen.phone == "+867978123456"


def test_a_unit_name_given_for_a_person_is_ignored_with_a_warning():
    item = wages()
    item["sqr"]["dwmc"] = "赣州宏远建筑工程有限公司"
    draft = map_work_order(item)
    assert draft.enterprise_name is None
    assert any(w.startswith("sqr.dwmc: given for a person") for w in draft.warnings)


def test_the_saved_good_work_orders_normalize_without_warnings():
    for item in items("page_first.json") + items("page_last.json"):
        assert normalized(item).warnings == ()


def test_the_connector_maps_the_stored_payload_text():
    connector = mapping_connector(Hrss12333Connector, "hrss")
    payload = json.dumps(wages(), ensure_ascii=False, separators=(",", ":"))
    assert connector.map(payload) == map_work_order(wages())


def test_mapping_does_not_change_the_item():
    item = wages()
    map_work_order(item)
    assert item == wages()


# -- doubtful values: a warning, and the appeal goes on ---------------------------------------------------------


def test_an_unknown_appeal_type_code_is_a_warning_and_no_type():
    draft = map_work_order(wages() | {"sqlx": "07"})
    assert draft.type is None
    assert "sqlx: unknown appeal type code '07'; type left empty" in draft.warnings


def test_an_appeal_type_sent_as_a_number_is_read_as_its_code():
    draft = map_work_order(wages() | {"sqlx": 3})
    assert draft.type == "complaint"
    assert "sqlx: number 3 read as code '03'" in draft.warnings


def test_a_status_sent_as_a_number_is_read_as_its_code():
    draft = map_work_order(wages() | {"zt": 60})
    assert (draft.extra["status"], draft.extra["status_code"]) == ("closed", "60")
    assert "zt: number 60 read as code '60'" in draft.warnings


def test_a_code_of_another_type_is_ignored_with_a_warning():
    draft = map_work_order(wages() | {"sqlx": ["03"]})
    assert draft.type is None
    assert "sqlx: expected a code, got list; ignored" in draft.warnings


def test_a_unit_applicant_without_its_type_is_recognised_by_the_unit_name():
    unit = items("page_last.json")[0]
    del unit["sqrlx"]
    draft = map_work_order(unit)
    assert draft.enterprise is True and draft.enterprise_name == "南康区华美家具有限公司"
    assert draft.sources["enterprise"] == "payload.sqr.dwmc"
    assert "sqrlx: missing; the applicant is taken as a unit (sqr.dwmc given)" in draft.warnings


def test_an_out_of_range_platform_time_is_dropped_from_extra_with_a_warning():
    draft = map_work_order(wages() | {"cjsj": 99_999_999_999_999_999})
    assert "created_at" not in draft.extra
    assert "cjsj: not a usable Unix time in milliseconds; dropped" in draft.warnings


def test_an_unknown_business_category_is_kept_with_the_general_category():
    draft = map_work_order(wages() | {"ywlb": "工伤保险"})
    assert (draft.channel_category, draft.category) == ("工伤保险", "劳动和社会保障")
    assert any(w.startswith("ywlb: unknown business category") for w in draft.warnings)


def test_unknown_fields_are_warnings():
    item = wages() | {"kzzd1": "v2"}
    item["sqr"] = item["sqr"] | {"xb": "男"}
    item["dw"] = item["dw"] | {"fddbr": "张三"}
    warnings = map_work_order(item).warnings
    assert {"kzzd1: unknown field ignored", "sqr.xb: unknown field ignored",
            "dw.fddbr: unknown field ignored"} <= set(warnings)


@pytest.mark.parametrize("key", ["sqr", "dw"])
def test_a_sub_object_of_the_wrong_type_is_ignored_with_a_warning(key):
    draft = map_work_order(wages() | {key: json.dumps(wages()[key], ensure_ascii=False)})
    assert f"{key}: expected an object, got text; ignored" in draft.warnings
    assert draft.content


def test_a_bad_employer_credit_code_is_kept_as_given_with_a_warning():
    item = wages()
    item["dw"]["tyshxydm"] = "91360702MA35K8QW40"
    draft = map_work_order(item)
    assert draft.extra["employer"]["credit_code"] == "91360702MA35K8QW40"
    assert "dw.tyshxydm: bad check character; kept as given" in draft.warnings


@pytest.mark.parametrize("qxje", ["386400", -1, float("nan"), float("inf"), True, 10**400])
def test_an_unusable_amount_is_dropped_with_a_warning(qxje):
    draft = map_work_order(wages() | {"qxje": qxje})
    assert "unpaid_wages" not in draft.extra
    assert any(w.startswith("qxje: expected a number") for w in draft.warnings)


def test_a_fractional_amount_is_kept():
    assert map_work_order(wages() | {"qxje": 12850.5}).extra["unpaid_wages"] == 12850.5


@pytest.mark.parametrize("sjrs", [2.5, "14", -3])
def test_a_head_count_that_is_not_a_whole_number_is_dropped_with_a_warning(sjrs):
    draft = map_work_order(wages() | {"sjrs": sjrs})
    assert "people_involved" not in draft.extra
    assert any(w.startswith("sjrs: expected a whole number") for w in draft.warnings)


def test_an_attachment_without_a_link_is_dropped_with_a_warning():
    draft = map_work_order(wages() | {"fjlb": [{"wjmc": "考勤表.xlsx"}, "x.jpg"]})
    assert draft.attachments is None
    assert {"fjlb[0]: no file link (wjlj); dropped", "fjlb[1]: no file link (wjlj); dropped"} <= set(
        draft.warnings
    )


def test_an_unknown_status_code_is_kept_with_a_warning():
    draft = map_work_order(wages() | {"zt": "80"})
    assert draft.extra["status_code"] == "80" and "status" not in draft.extra
    assert "zt: unknown status code '80'; kept as given" in draft.warnings


def test_a_title_of_the_wrong_type_is_dropped_when_the_content_can_be_used():
    draft = map_work_order(wages() | {"bt": ["拖欠工资"]})
    assert draft.title is None
    assert any(w.startswith("bt: expected text, got list") for w in draft.warnings)
    assert normalized(wages() | {"bt": 12345}).title.startswith("我们是在章贡区")


def test_warnings_never_repeat_personal_data():
    item = wages()
    item["sqr"] = item["sqr"] | {"dwmc": "13879712345", "lxdh": "13879712345", "sfzhm2": "360702198503122042"}
    item["dw"] = "360702198503122042"
    text = " ".join(map_work_order(item).warnings)
    assert text and "13879712345" not in text and "360702198503122042" not in text


# -- structurally broken: refused with the reason --------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ("数据异常", "work order must be a JSON object, got text"),
        ([{"gdbh": "RS1"}], "work order must be a JSON object, got list"),
        ({"nr": "拖欠工资"}, "gdbh (工单编号): missing"),
        ({"gdbh": "  ", "nr": "拖欠工资"}, "gdbh (工单编号): missing"),
        ({"gdbh": ["RS1"], "nr": "拖欠工资"}, "gdbh (工单编号): must be text, got list"),
        ({"gdbh": True, "nr": "拖欠工资"}, "gdbh (工单编号): must be text, got boolean"),
        ({"gdbh": "R" * 129, "nr": "拖欠工资"}, "gdbh (工单编号): longer than 128 characters"),
        ({"gdbh": "RS1", "nr": 12345}, "nr (诉求内容): must be text, got number"),
        ({"gdbh": "RS1", "nr": {"text": "拖欠工资"}}, "nr (诉求内容): must be text, got object"),
        ({"gdbh": "RS1", "bt": ["拖欠工资"]}, "bt (标题): must be text, got list, and nr is empty"),
    ],
)
def test_a_structurally_broken_work_order_is_refused_with_the_reason(item, reason):
    with pytest.raises(MappingError) as e:
        map_work_order(item)
    assert str(e.value) == reason


def test_the_damaged_page_maps_what_it_can_and_refuses_the_rest_with_reasons():
    assert outcomes(items("page_damaged.json"), lambda item: map_work_order(item).source_id) == [
        "RS202411250000130",
        "gdbh (工单编号): missing",
        "work order must be a JSON object, got text",
        "RS202411250000133",
        "nr (诉求内容): must be text, got number",
    ]
