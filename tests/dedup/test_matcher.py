"""The matcher's decisions, one behaviour each: absorb, merge, link or new, and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dedup.batch import identities, probe_of
from dedup.matcher import Matcher, Thresholds

T0 = datetime(2024, 11, 25, 9, 0, tzinfo=UTC)
ME, YOU = "13800138000", "13900139000"
MONTH = 60 * 24 * 31
BOARD = (
    "景蓉华苑小区物业未经业主大会同意，自今年4月起每月向业主收取停车管理费300元，没有任何收费依据，"
    "业主多次向物业询问均得不到答复，请有关部门调查处理，规范物业收费行为。"
)
WECHAT = "景蓉华苑物业乱收停车费，每月300元，没经过业主大会同意，没有收费依据，请管管"
OTHER = "解放街道和平路口的路灯已经坏了一个多星期，晚上一片漆黑，行人和车辆通行很不安全，请尽快维修。"


def appeal(i: int, content: str, *, channel: str = "board", minutes: float = 0, **citizen: str) -> dict:
    return {
        "id": f"A{i}",
        "channel": channel,
        "received_at": (T0 + timedelta(minutes=minutes)).isoformat(),
        "citizen": citizen,
        "type": "投诉",
        "title": "",
        "content": content,
        "address": "章贡区解放街道景蓉华苑",
        "division_code": "360702",
    }


def decide(*appeals: dict, thresholds: Thresholds | None = None) -> list:
    matcher = Matcher(thresholds)
    return [matcher.decide(probe_of(a)) for a in appeals]


def test_the_same_person_about_the_same_matter_on_another_channel_is_merged():
    first, second = decide(
        appeal(1, BOARD, phone=ME),
        appeal(2, WECHAT, channel="wechat", minutes=60 * 24, phone="138 0013 8000"),
    )
    assert (first.decision, second.decision) == ("new", "merge")
    assert second.case_id == first.case_id and not second.new_case
    assert second.evidence["candidate"] == "A1" and second.evidence["text"]["excerpt"]


def test_a_form_resubmitted_within_minutes_on_the_same_channel_is_absorbed():
    first, again = decide(appeal(1, BOARD, phone=ME), appeal(2, BOARD, minutes=3, phone=ME))
    assert again.decision == "absorb" and again.case_id == first.case_id


def test_a_phone_seen_with_an_openid_links_the_two_for_later_appeals():
    first, _, third = decide(
        appeal(1, BOARD, phone=ME),
        appeal(2, OTHER, channel="wechat", minutes=5, phone=ME, openid="o-abc"),
        appeal(3, WECHAT, channel="wechat", minutes=90, openid="o-abc"),
    )
    assert third.decision == "merge" and third.case_id == first.case_id


def test_the_same_person_with_a_new_matter_gets_a_new_case():
    first, second = decide(appeal(1, BOARD, phone=ME), appeal(2, OTHER, minutes=30, phone=ME))
    assert second.decision == "new" and second.case_id != first.case_id


def test_a_name_alone_never_makes_two_appeals_the_same_persons():
    _, second = decide(appeal(1, BOARD, name="张三"), appeal(2, WECHAT, channel="wechat", minutes=30, name="张三"))
    assert second.decision != "merge"


def test_another_person_about_the_same_matter_at_the_same_place_is_linked_not_merged():
    first, second = decide(appeal(1, BOARD, phone=ME), appeal(2, BOARD, minutes=30, phone=YOU))
    assert second.decision == "link" and second.new_case and second.case_id != first.case_id
    assert second.cluster_id is not None and second.joined_cluster == (first.case_id,)


def test_the_same_text_at_another_place_is_not_linked():
    other_place = {
        **appeal(2, BOARD, minutes=30, phone=YOU),
        "division_code": "360781",
        "address": "瑞金市象湖镇红都大道",
    }
    _, second = decide(appeal(1, BOARD, phone=ME), other_place)
    assert second.decision == "new"


def test_an_appeal_older_than_the_window_is_not_merged_into():
    _, late = decide(appeal(1, BOARD, phone=ME), appeal(2, WECHAT, minutes=MONTH, phone=ME))
    assert late.decision == "new"


def test_the_window_is_a_threshold_in_config():
    thresholds = Thresholds(window_days=60)
    _, late = decide(
        appeal(1, BOARD, phone=ME),
        appeal(2, WECHAT, minutes=MONTH, phone=ME),
        thresholds=thresholds,
    )
    assert late.decision == "merge" and late.rule_version != Thresholds().version


def test_traditional_and_full_width_text_match_its_simplified_twin():
    traditional = "景蓉華苑物業乱收停車費，每月３００元，沒經過業主大會同意，沒有收費依據，請管管"
    _, second = decide(appeal(1, WECHAT, phone=ME), appeal(2, traditional, minutes=60, phone=ME))
    assert second.decision in ("merge", "absorb") and second.score >= 0.9


def test_a_user_id_is_the_same_person_only_on_its_own_channel():
    assert identities({"user": "u42"}, "board") == (("user", "board:u42"),)
    _, second = decide(appeal(1, BOARD, user="u42"), appeal(2, WECHAT, channel="wechat", minutes=10, user="u42"))
    assert second.decision != "merge"


def _marked_world(mark: bool) -> list:
    """My board post (Y), your WeChat message (X) an auditor may mark as another matter than mine, then my own
    message with your very words (N): it matches yours best, and my post well enough to be a repeat of it."""
    matcher = Matcher()
    y = matcher.decide(probe_of(appeal(1, BOARD, phone=ME)))
    x = matcher.decide(probe_of(appeal(2, WECHAT, channel="wechat", minutes=60, phone=YOU)))
    if mark:
        matcher.forbid("A1", "A2")
    n = matcher.decide(probe_of(appeal(3, WECHAT, channel="wechat", minutes=120, phone=ME)))
    return [y, x, n]


def test_an_appeal_matching_best_one_of_a_pair_marked_distinct_is_not_merged_into_the_others_case():
    y, _, unmarked = _marked_world(mark=False)
    assert unmarked.decision == "merge" and unmarked.case_id == y.case_id  # without the mark: my repeat
    y, x, n = _marked_world(mark=True)
    assert n.case_id != y.case_id and n.decision == "link" and n.evidence["candidate"] == "A2"
    assert n.cluster_id is not None and n.joined_cluster == (x.case_id,)


def test_an_appeal_moved_by_an_auditor_is_matched_in_its_new_case():
    matcher = Matcher()
    first = matcher.decide(probe_of(appeal(1, BOARD, phone=ME)))
    second = matcher.decide(probe_of(appeal(2, WECHAT, channel="wechat", minutes=60, phone=ME)))
    assert second.case_id == first.case_id
    matcher.move("A2", "its-own-case", None)
    again = matcher.decide(probe_of(appeal(3, WECHAT, channel="wechat", minutes=90, phone=ME)))
    assert again.case_id == "its-own-case"


def _nowhere(i: int, content: str, phone: str) -> dict:
    return appeal(i, content, channel="wechat", minutes=i * 30, phone=phone) | {"address": "", "division_code": ""}


def test_two_people_with_the_same_complaint_and_nothing_saying_where_are_not_one_hot_issue():
    lift = "7栋的电梯又坏了，老人只能爬楼梯，物业说等配件，等了好几天了，能不能催一下物业"
    _, second = decide(_nowhere(1, lift, ME), _nowhere(2, lift.replace("7栋", "25栋"), YOU))
    assert second.decision == "new" and second.cluster_id is None


def test_two_people_naming_the_same_estate_are_one_hot_issue_even_without_an_address():
    lift = "桃李佳园7栋的电梯又坏了，老人只能爬楼梯，物业说等配件，等了好几天了，能不能催一下物业"
    first, second = decide(_nowhere(1, lift, ME), _nowhere(2, lift.replace("7栋", "5栋"), YOU))
    assert second.decision == "link" and second.joined_cluster == (first.case_id,)


def test_a_prior_that_left_the_window_keeps_no_text_and_recent_ones_still_match():
    matcher = Matcher()
    old = matcher.decide(probe_of(appeal(1, BOARD, phone=ME)))
    recent = matcher.decide(probe_of(appeal(2, OTHER, minutes=40 * 24 * 60, phone=YOU)))
    again = matcher.decide(probe_of(appeal(3, OTHER, channel="wechat", minutes=41 * 24 * 60, phone=YOU)))
    assert matcher.priors[0].text == "" and matcher.priors[0].address is None  # 40 days: out of 30 + 7
    assert matcher.priors[1].text  # in the window
    assert old.case_id != recent.case_id and again.decision == "merge" and again.case_id == recent.case_id
