"""Mapping a 12328 ticket to an appeal draft: where each field goes, and what is refused and why."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from connectors.base import MappingError
from connectors.transport12328 import Transport12328Connector
from connectors.transport12328.mapping import map_ticket
from normalizer.record import AppealType
from tests.connectors.national_support import mapping_connector, outcomes
from tests.connectors.transport12328.support import first_page_tickets, fixture, normalized

TAXI, ROAD, REPORT = first_page_tickets()


def connector() -> Transport12328Connector:
    return mapping_connector(Transport12328Connector, "jt12328")


def changed(item: dict, **changes) -> dict:
    result = copy.deepcopy(item)
    for key, value in changes.items():
        if value is ...:
            result.pop(key, None)
        else:
            result[key] = value
    return result


# -- where each field goes ----------------------------------------------------------------------------------------


def test_a_taxi_complaint_maps_each_field_from_its_path():
    draft = map_ticket(TAXI)
    assert draft.source_id == "JT2024112500000010"
    assert draft.type == "complaint"
    assert draft.title == "出租车赣BT1098拒载"
    assert draft.content.startswith("前天晚上8点9分左右")
    assert (draft.citizen_name, draft.phone) == ("邱先生", "0797-8351232")
    assert (draft.address, draft.division_code) == ("赣州市瑞金市瑞金站", "360781")
    assert draft.occurred_at == "2024-11-23T20:09:50+08:00"
    assert draft.sources == {
        "source_id": "payload.ticket_id",
        "title": "payload.subject",
        "content": "payload.description",
        "type": "payload.kind",
        "channel_category": "payload.category",
        "category": "payload.category",
        "citizen_name": "payload.caller.name",
        "phone": "payload.caller.phone",
        "address": "payload.location.address",
        "division_code": "payload.location.adcode",
        "occurred_at": "payload.occurred_at",
        "extra": "payload.category,payload.operator,payload.plate_no,payload.status,payload.channel,"
        "payload.created_at,payload.updated_at",
    }
    assert draft.warnings == []


def test_the_operator_goes_to_extra_never_to_the_appeals_enterprise():
    draft = map_ticket(TAXI)
    assert draft.extra["operator"] == {"name": "赣州市鸿运出租汽车有限公司", "credit_code": "913607007426827T93"}
    assert (draft.enterprise, draft.enterprise_name, draft.credit_code) == (None, None, None)
    assert normalized(draft).enterprise is None


def test_transport_details_go_to_extra_under_stable_english_keys():
    extra = map_ticket(TAXI).extra
    assert extra == {
        "transport_category": "taxi",
        "operator": {"name": "赣州市鸿运出租汽车有限公司", "credit_code": "913607007426827T93"},
        "plate_number": "赣BT1098",
        "ticket_status": "received",
        "intake_channel": "phone",
        "created_at": "2024-11-25T06:37:51+08:00",
        "updated_at": "2024-11-25T09:31:05+08:00",
    }


def test_route_goes_to_extra():
    assert map_ticket(ROAD).extra["route"] == "G323国道"


def test_category_is_kept_verbatim_and_mapped_to_a_transport_label():
    draft = map_ticket(ROAD)
    assert (draft.channel_category, draft.category) == ("road", "交通运输/公路")


@pytest.mark.parametrize(
    ("category", "label"),
    [
        ("taxi", "交通运输/出租汽车"),
        ("ride_hailing", "交通运输/网络预约出租汽车"),
        ("bus", "交通运输/城市公共汽电车"),
        ("road", "交通运输/公路"),
        ("rail", "交通运输/城市轨道交通"),
        ("waterway", "交通运输/水路运输"),
        ("other", "交通运输/其他"),
    ],
)
def test_every_category_has_a_label(category, label):
    assert map_ticket(changed(TAXI, category=category)).category == label


@pytest.mark.parametrize("kind", ["complaint", "consultation", "suggestion", "help", "praise", "report"])
def test_every_kind_is_an_appeal_type(kind):
    draft = map_ticket(changed(TAXI, kind=kind))
    assert draft.type == kind
    assert normalized(draft).type is AppealType(kind)


def test_a_report_is_confidential():
    record = normalized(map_ticket(REPORT))
    assert record.type is AppealType.REPORT
    assert record.confidential is True


def test_coordinates_are_passed_on_and_their_system_noted():
    draft = map_ticket(ROAD)
    assert (draft.lon, draft.lat) == (115.008803, 25.836198)
    assert (draft.sources["lon"], draft.sources["lat"]) == ("payload.location.lng", "payload.location.lat")
    assert draft.extra["coordinate_system"] == "GCJ-02"


def test_attachments_are_renamed_to_the_draft_shape():
    draft = map_ticket(ROAD)
    assert draft.attachments == [
        {
            "url": "https://files.12328.example/tickets/JT2024112500000012/1.jpg",
            "media_type": "image/jpeg",
            "size": 1862053,
            "sha256": "04a5aebe6127c5074641810e8196ed7956afc4b29617a5021b48b5ba5df4a6cd",
        }
    ]
    assert draft.sources["attachments"] == "payload.attachments"


def test_a_ticket_with_only_the_required_fields_maps_and_normalizes():
    record = normalized(map_ticket(fixture("ticket_minimal.json")))
    assert record.source_id == "JT2024112600000231"
    assert record.type is AppealType.CONSULTATION
    assert record.channel_category == "bus"
    assert record.warnings == ()


def test_the_saved_tickets_normalize_with_checked_personal_data():
    taxi, road = normalized(map_ticket(TAXI)), normalized(map_ticket(ROAD))
    assert taxi.citizen.phone == "+867978351232"
    assert road.citizen.phone == "+8618978060214"
    assert road.location.division_code == "360704"
    assert taxi.occurred_at == datetime(2024, 11, 23, 12, 9, 50, tzinfo=UTC)
    assert (road.location.lat, road.location.lon) == (25.836198, 115.008803)
    assert taxi.warnings == road.warnings == ()


def test_occurred_at_is_passed_on_as_sent_for_the_normalizer():
    assert map_ticket(changed(TAXI, occurred_at="garbage")).occurred_at == "garbage"
    assert "occurred_at: unrecognised date and time 'garbage'; dropped" in normalized(
        map_ticket(changed(TAXI, occurred_at="garbage"))
    ).warnings


# -- what is doubtful: warnings, never exceptions -----------------------------------------------------------------


def test_an_unknown_kind_is_a_warning_and_no_type():
    draft = map_ticket(changed(TAXI, kind="inquiry"))
    assert draft.type is None
    assert "kind: unknown kind 'inquiry'; type left empty" in draft.warnings
    assert normalized(draft).type is AppealType.OTHER


def test_a_missing_kind_is_a_warning():
    assert "kind: missing; type left empty" in map_ticket(changed(TAXI, kind=...)).warnings


def test_a_kind_of_the_wrong_type_is_a_warning():
    draft = map_ticket(changed(TAXI, kind=["complaint"]))
    assert "kind: expected text, got array; type left empty" in draft.warnings


def test_an_unknown_category_is_kept_verbatim_but_not_mapped():
    draft = map_ticket(changed(TAXI, category="metro"))
    assert (draft.channel_category, draft.category) == ("metro", None)
    assert "category: unknown category 'metro'; not mapped" in draft.warnings


def test_a_caller_that_is_not_an_object_is_ignored_with_a_warning():
    draft = map_ticket(changed(TAXI, caller="邱先生 0797-8351232"))
    assert (draft.citizen_name, draft.phone) == (None, None)
    assert "caller: expected an object, got string; ignored" in draft.warnings


def test_an_operator_credit_code_of_the_wrong_type_is_dropped_with_a_warning():
    draft = map_ticket(changed(TAXI, operator={"name": "赣州市鸿运出租汽车有限公司", "credit_code": 913607}))
    assert draft.extra["operator"] == {"name": "赣州市鸿运出租汽车有限公司"}
    assert "operator.credit_code: expected text, got number; dropped" in draft.warnings


def test_a_plate_number_of_the_wrong_type_is_dropped_with_a_warning():
    draft = map_ticket(changed(TAXI, plate_no=1098))
    assert "plate_number" not in draft.extra
    assert "plate_no: expected text, got number; dropped" in draft.warnings


def test_a_broken_attachment_is_dropped_and_the_others_kept():
    good = ROAD["attachments"][0]
    draft = map_ticket(changed(ROAD, attachments=["1.jpg", {"content_type": "image/jpeg"}, good]))
    assert [a["url"] for a in draft.attachments] == [good["url"]]
    assert "attachments[0]: expected an object, got string; dropped" in draft.warnings
    assert "attachments[1].url: missing or not text; attachment dropped" in draft.warnings


def test_attachments_that_are_not_a_list_are_dropped_with_a_warning():
    draft = map_ticket(changed(ROAD, attachments={"url": "x"}))
    assert draft.attachments is None
    assert "attachments: expected an array, got object; dropped" in draft.warnings


def test_unknown_fields_are_warnings_not_errors():
    draft = map_ticket(changed(TAXI, trace_id="a1b2", caller={"name": "邱先生", "wechat": "qiu"}))
    assert "trace_id: unknown field ignored" in draft.warnings
    assert "caller.wechat: unknown field ignored" in draft.warnings


# -- what is refused ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ("JT2024112600000241", "ticket: must be a JSON object, got string"),
        ([TAXI], "ticket: must be a JSON object, got array"),
        (changed(TAXI, ticket_id=...), "ticket_id: missing"),
        (changed(TAXI, ticket_id=36078120241125000010), "ticket_id: must be text, got number"),
        (changed(TAXI, ticket_id=""), "ticket_id: empty"),
        (changed(TAXI, ticket_id=" JT1"), "ticket_id: has leading or trailing whitespace"),
        (changed(TAXI, ticket_id="JT" * 65), "ticket_id: longer than 128 characters"),
        (changed(TAXI, ticket_id="JT\x001"), "ticket_id: contains control or unprintable characters"),
        (changed(TAXI, subject=["出租车拒载"]), "subject: must be text, got array"),
        (changed(TAXI, description={"text": "拒载"}), "description: must be text, got object"),
        (changed(TAXI, subject=..., description=...), "subject and description: both missing or empty"),
        (changed(TAXI, subject=" ", description=""), "subject and description: both missing or empty"),
    ],
)
def test_a_structurally_broken_ticket_is_refused_with_the_reason(item, reason):
    with pytest.raises(MappingError) as e:
        map_ticket(item)
    assert str(e.value) == reason


def test_one_of_subject_and_description_is_enough():
    assert map_ticket(changed(TAXI, subject=...)).title is None
    assert normalized(map_ticket(changed(TAXI, description=None))).content == "出租车赣BT1098拒载"


def test_the_connector_maps_the_stored_json_text_of_a_ticket():
    draft = connector().map(json.dumps(TAXI, ensure_ascii=False, separators=(",", ":")))
    assert draft == map_ticket(TAXI)


@pytest.mark.parametrize(("payload", "reason"), [("{", "not valid JSON"), ('"JT1"', "must be a JSON object")])
def test_the_connector_refuses_a_payload_that_is_not_a_json_object(payload, reason):
    with pytest.raises(MappingError, match=reason):
        connector().map(payload)


def test_each_item_of_a_page_with_broken_items_maps_or_is_refused_with_a_reason():
    assert outcomes(fixture("page_broken_items.json")["tickets"], lambda item: map_ticket(item).source_id) == [
        "JT2024112600000240",
        "ticket: must be a JSON object, got string",
        "ticket_id: missing",
        "JT2024112600000243",  # its update time is unreadable, which only its place in the feed needs
        "subject: must be text, got array",
    ]
