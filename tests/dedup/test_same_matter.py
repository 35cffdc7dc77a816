"""One person's appeals about one matter in very different words are merged, their other matters are not, and
look-alike appeals of neighbours about two places are not one hot issue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dedup.batch import probe_of
from dedup.matcher import Matcher

T0 = datetime(2024, 11, 25, 9, 0, tzinfo=UTC)
ME, YOU = "13800138000", "13900139000"
HOUR = 60

BOARD_SHOP = (
    "尊敬的领导：我住在和平里小区3栋，楼下的老王烧烤每晚营业到凌晨两点，排烟管直接对着居民楼的窗户，"
    "油烟呛得全家人咳嗽，孩子也没法休息。多次跟店家沟通都没有用，恳请城管和环保部门上门检查，"
    "督促其安装油烟净化器，规范经营。"
)
WECHAT_SHOP = "你好 老王烧烤又开到两点了 一屋子油烟 管管吧"
WECHAT_LIFT = "你好 和平里小区3栋的电梯又坏了 老人只能爬楼梯 能不能催一下"
FEE = (
    "{estate}物业近日贴出通知，物业费每平方米从1.5元涨到2.5元，事先没有召开业主大会，也没有公示依据，"
    "请有关部门调查处理。"
)


def appeal(i: int, content: str, *, channel: str, hours: float = 0, address: str = "", **citizen: str) -> dict:
    return {
        "id": f"A{i}",
        "channel": channel,
        "received_at": (T0 + timedelta(hours=hours)).isoformat(),
        "citizen": citizen,
        "content": content,
        "address": address,
    }


def decide(*appeals: dict) -> list:
    matcher = Matcher()
    return [matcher.decide(probe_of(a)) for a in appeals]


def test_a_long_board_post_and_a_short_wechat_message_about_one_shop_are_merged():
    post, message = decide(
        appeal(1, BOARD_SHOP, channel="board", phone=ME),
        appeal(2, WECHAT_SHOP, channel="wechat", hours=30, phone=ME),
    )
    assert message.decision == "merge" and message.case_id == post.case_id
    assert message.evidence["matter"]["agreement"] == 1.0


def test_the_same_persons_new_matter_at_the_same_building_is_not_merged():
    _, lift = decide(
        appeal(1, BOARD_SHOP, channel="board", phone=ME, address="和平里小区3栋"),
        appeal(2, WECHAT_LIFT, channel="wechat", hours=30, phone=ME, address="和平里小区3栋"),
    )
    assert lift.decision == "new"


def test_a_short_addition_to_ones_latest_appeal_is_merged_into_it():
    first, addition = decide(
        appeal(1, WECHAT_SHOP, channel="wechat", openid="o-me"),
        appeal(2, "补充一下，是3栋楼下那家", channel="wechat", hours=5, openid="o-me"),
    )
    assert addition.decision == "merge" and addition.case_id == first.case_id
    assert addition.evidence["matter"]["follow_up"] is True


def test_an_addition_days_later_is_not_taken_for_one():
    _, late = decide(
        appeal(1, WECHAT_SHOP, channel="wechat", openid="o-me"),
        appeal(2, "补充一下，是3栋楼下那家", channel="wechat", hours=24 * 6, openid="o-me"),
    )
    assert late.decision == "new"


def test_on_a_channel_the_case_was_told_on_the_same_object_in_other_words_is_not_enough():
    # A retelling on another channel comes in that channel's words; on the same board it would share the post's.
    _, second_post = decide(
        appeal(1, BOARD_SHOP, channel="board", phone=ME),
        appeal(2, "夜市的大排档太吵了，还占了人行道，希望管一管", channel="board", hours=48, phone=ME),
    )
    assert second_post.decision == "new"


def test_one_place_written_with_and_without_its_divisions_is_no_conflict():
    _, message = decide(
        appeal(1, BOARD_SHOP, channel="board", phone=ME, address="A市A2区解放街道和平里小区"),
        appeal(2, WECHAT_SHOP, channel="wechat", hours=30, phone=ME, address="和平里小区3栋2单元501"),
    )
    assert message.decision == "merge" and not message.evidence["place"]["conflict"]


def test_look_alike_appeals_of_neighbours_about_two_estates_are_not_linked():
    _, other_estate = decide(
        appeal(1, FEE.format(estate="芙蓉家园"), channel="board", phone=ME),
        appeal(2, FEE.format(estate="锦绣家园"), channel="board", hours=2, phone=YOU),
    )
    assert other_estate.decision == "new"


def test_look_alike_appeals_of_neighbours_about_one_estate_are_linked():
    _, neighbour = decide(
        appeal(1, FEE.format(estate="芙蓉家园"), channel="board", phone=ME),
        appeal(2, FEE.format(estate="芙蓉家园"), channel="board", hours=2, phone=YOU),
    )
    assert neighbour.decision == "link"
