"""Time tier and emergency rules: the defaults from DOMAIN.md, and rules built from config tables."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from normalizer import DEFAULT_RULES, Rules, TierRule, classify, fold_for_matching, rules_from_dicts
from normalizer.record import EmergencyService, TimeTier


def classify_text(text: str, *categories: str | None, rules: Rules = DEFAULT_RULES):
    return classify(rules, fold_for_matching(text), categories)


# -- the default table ---------------------------------------------------------------------------------------


def test_a_fire_is_two_hours_and_flagged_for_119():
    result = classify_text("楼下餐馆厨房着火了，浓烟很大")
    assert (result.tier, result.emergency, result.rule) == (TimeTier.H2, EmergencyService.FIRE, "emergency-fire")


def test_the_tier_reason_names_the_rule_and_the_keyword():
    assert classify_text("楼下餐馆厨房着火了").reason == "rule emergency-fire: keyword 着火"


@pytest.mark.parametrize("text", ["小区地下室燃气泄漏，味道很大", "厨房煤气泄露了", "楼道冒烟，配电箱冒烟"])
def test_gas_leaks_and_smoking_wiring_go_to_119(text):
    assert classify_text(text).emergency is EmergencyService.FIRE


@pytest.mark.parametrize("text", ["有人在小区门口持刀伤人", "夜宵摊有人打架斗殴", "邻居家暴", "有人正在偷电动车"])
def test_crime_in_progress_is_two_hours_and_flagged_for_110(text):
    result = classify_text(text)
    assert (result.tier, result.emergency) == (TimeTier.H2, EmergencyService.POLICE)


@pytest.mark.parametrize("text", ["老人在公交站晕倒了", "工人受伤流血不止", "水库有人溺水", "他心脏病发作"])
def test_someone_collapsed_or_injured_is_two_hours_and_flagged_for_120(text):
    result = classify_text(text)
    assert (result.tier, result.emergency) == (TimeTier.H2, EmergencyService.AMBULANCE)


@pytest.mark.parametrize("text", ["3号楼电梯困人半小时", "人行道井盖缺失", "老房子墙体倒塌", "高空坠物砸坏车辆"])
def test_a_risk_to_life_or_property_is_two_hours_without_an_emergency_service(text):
    result = classify_text(text)
    assert (result.tier, result.emergency, result.rule) == (TimeTier.H2, None, "risk-to-life-or-property")


@pytest.mark.parametrize(
    "text", ["小区停水三天了", "整栋楼断电", "五楼以上水压低", "暖气不热", "天然气开户", "路口水管爆裂"]
)
def test_water_power_gas_and_heating_are_24_hours(text):
    result = classify_text(text)
    assert (result.tier, result.emergency, result.rule) == (TimeTier.H24, None, "utilities")


def test_a_planned_outage_notice_is_still_a_utilities_matter():
    assert classify_text("没有收到停电通知就停了一天").rule == "utilities"


@pytest.mark.parametrize("text", ["拆迁补偿款未到位", "征地款问题", "这是历史遗留问题", "涉及多部门，相互推诿"])
def test_complex_matters_are_15_days(text):
    assert classify_text(text).tier is TimeTier.D15


def test_an_ordinary_matter_is_7_days_with_the_default_reason():
    result = classify_text("小区门口的垃圾桶太少了")
    assert result == (TimeTier.D7, "ordinary matter (一般诉求, 7 days)", None, None)


def test_the_first_matching_rule_wins():
    assert classify_text("停水以后楼上又着火了").rule == "emergency-fire"


def test_a_category_can_decide_the_tier():
    result = classify_text("想了解一下收费标准", "城乡建设/供水服务")
    assert (result.rule, result.reason) == ("utilities", "rule utilities: category 供水")


def test_traditional_and_full_width_text_matches_simplified_keywords():
    assert classify_text("社區停電，電梯困人").rule == "risk-to-life-or-property"


@pytest.mark.parametrize(
    "text",
    [
        "坐火车去北京",
        "随着火车南站的开通",
        "拨打人工客服无人接听",
        "楼道堆放杂物存在火灾隐患",
        "一旦发生火灾后果不堪设想",
        "小区门口停电动车的地方太少",
        "我市是中风险地区吗",
        "这个店卖的是知识产权服务",
        "家门口的大火锅店油烟扰民",
        "这种人就是道德绑架",
        "商场跳楼价甩卖噪音扰民",
    ],
)
def test_words_that_only_look_like_keywords_do_not_raise_the_tier(text):
    assert classify_text(text).tier is TimeTier.D7


def test_a_housing_subsidy_is_not_a_collapsing_house():
    assert classify_text("咨询农村危房改造补助").rule is None


def test_an_excluded_phrase_does_not_hide_a_real_keyword_elsewhere():
    assert classify_text("楼道有火灾隐患，今天三楼已经着火了").reason == "rule emergency-fire: keyword 着火"


def test_every_default_keyword_is_written_the_way_it_is_matched():
    for rule in DEFAULT_RULES.rules:
        for phrase in (*rule.keywords, *rule.categories, *rule.excludes):
            assert fold_for_matching(phrase) == phrase, (rule.name, phrase)


def test_every_default_emergency_rule_is_two_hours():
    assert all(r.tier is TimeTier.H2 for r in DEFAULT_RULES.rules if r.emergency is not None)


fragments = st.sampled_from(
    [p for r in DEFAULT_RULES.rules for p in (*r._keywords, *r.excludes)] + ["的", "小区", "，", " ", "电", "火"]
)


@given(st.lists(fragments, max_size=8).map("".join), st.sampled_from([(), ("供水",), ("征地拆迁", None)]))
def test_the_single_scan_agrees_with_trying_each_rule_in_turn(text, categories):
    folded_categories = [fold_for_matching(c) for c in categories if c]
    in_turn = ((r.name, r.match(text, folded_categories)) for r in DEFAULT_RULES.rules)
    expected = next(
        ((name, f"rule {name}: {why}") for name, why in in_turn if why), (None, DEFAULT_RULES.default_reason)
    )
    result = classify(DEFAULT_RULES, text, categories)
    assert (result.rule, result.reason) == expected


# -- rules from config tables --------------------------------------------------------------------------------


def test_rules_are_built_from_plain_tables_in_order():
    rules = rules_from_dicts(
        [
            {"name": "gas", "tier": "2h", "keywords": ["燃气泄漏"], "emergency": "119"},
            {"name": "water", "tier": "24h", "keywords": ["停水"], "categories": ["供水"]},
        ]
    )
    assert [r.name for r in rules.rules] == ["gas", "water"]
    assert rules.rules[0].emergency is EmergencyService.FIRE
    assert classify_text("燃气泄漏", rules=rules).emergency is EmergencyService.FIRE
    assert classify_text("小区停水", rules=rules).rule == "water"


def test_keywords_from_config_are_folded_before_matching():
    rules = rules_from_dicts([{"name": "water", "tier": "24h", "keywords": ["停　水", "ＡＢＣ", "斷水"]}])
    assert classify_text("abc", rules=rules).rule == "water"
    assert classify_text("突然断水", rules=rules).rule == "water"


def test_the_default_tier_and_reason_can_be_configured():
    rules = rules_from_dicts(
        [{"name": "water", "tier": "24h", "keywords": ["停水"]}], default_tier="15d", default_reason="慢慢来"
    )
    assert classify_text("路灯不亮", rules=rules)[:2] == (TimeTier.D15, "慢慢来")


def test_an_empty_table_classifies_everything_as_the_default():
    assert classify_text("着火了", rules=rules_from_dicts([])).tier is TimeTier.D7


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ([{"name": "x", "tier": "1d", "keywords": ["a"]}], r"rules\[0\] \('x'\): tier must be one of 2h, 24h, 7d"),
        ([{"tier": "2h", "keywords": ["a"]}], r"rules\[0\]: name is required"),
        ([{"name": "x", "keywords": ["a"]}], r"rules\[0\] \('x'\): tier is required"),
        ([{"name": "x", "tier": "2h", "keyword": ["a"]}], r"unknown key\(s\) keyword"),
        ([{"name": "x", "tier": "2h", "keywords": "停水"}], r"keywords must be a list of strings"),
        ([{"name": "x", "tier": "2h", "keywords": [1]}], r"keywords must be a list of strings, found int"),
        ([{"name": "x", "tier": "2h", "keywords": [" "]}], r"keywords contains an empty phrase"),
        ([{"name": "x", "tier": "2h"}], r"a rule needs keywords or categories"),
        ([{"name": "x", "tier": "7d", "keywords": ["a"], "emergency": "110"}], r"emergency rule must have tier"),
        ([{"name": "x", "tier": "2h", "keywords": ["a"], "emergency": "911"}], r"emergency must be one of 110"),
        ([{"name": "x", "tier": "2h", "keywords": ["着火"], "excludes": ["火车"]}], r"none of the keywords"),
        ([{"name": "x", "tier": "2h", "keywords": ["着火"], "excludes": ["着火"]}], r"both a keyword and an"),
        ([{"name": "x", "tier": "2h", "keywords": ["a"]}] * 2, r"rule names must be unique, repeated: x"),
        (["x"], r"rules\[0\]: must be a table"),
        ("x", r"rules must be a list of tables"),
    ],
)
def test_a_bad_table_raises_a_value_error_that_says_where_and_why(table, message):
    with pytest.raises(ValueError, match=message):
        rules_from_dicts(table)


def test_a_tier_rule_can_be_built_directly_and_keeps_its_phrases_as_given():
    rule = TierRule("water", TimeTier.H24, keywords=("停水",), categories=("供水",))
    assert rule.match("小区停水") == "keyword 停水"
    assert rule.match("", ["城市供水"]) == "category 供水"
    assert rule.keywords == ("停水",)
