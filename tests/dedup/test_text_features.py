"""What the matcher reads in an appeal's words: the place in an address, the topics and the names in a text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dedup.names import differ, names
from dedup.places import divisions_differ, parse_address
from dedup.topics import agreement, topics

HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
ADDRESS_CHARS = st.one_of(HAN, st.sampled_from("0123456789ab区县市镇乡街道栋单元号楼-"))
addresses = st.text(ADDRESS_CHARS, min_size=1, max_size=30)
texts = st.text(st.one_of(HAN, st.sampled_from("，。 0123456789路区苑烧烤工地停水电梯公交")), max_size=80)
DIVISIONS = st.lists(
    st.sampled_from(["a市", "a8县", "a3区", "枫林街道", "黄花镇", "白沙乡", "西地省"]), max_size=3
)
PLACES = st.sampled_from(["芙蓉佳园二期", "金星中路芙蓉佳园", "和平里小区", "五一大道永利便利店", "景蓉华苑"])


@given(addresses)
def test_an_address_is_its_divisions_its_place_and_its_unit_in_that_order(address):
    parsed = parse_address(address)
    assert parsed.core
    assert address.endswith(parsed.core + parsed.unit)
    divisions = "".join(name for _, name in parsed.divisions)
    assert len(divisions) + len(parsed.core) + len(parsed.unit) <= len(address)


@given(DIVISIONS, PLACES)
def test_divisions_written_before_a_place_leave_the_place(divisions, place):
    assert parse_address("".join(divisions) + place).core == place


@given(PLACES, st.integers(1, 30), st.integers(1, 4))
def test_the_building_and_flat_are_not_the_place(place, building, entrance):
    parsed = parse_address(f"{place}{building}栋{entrance}单元")
    assert (parsed.core, parsed.unit) == (place, f"{building}栋{entrance}单元")


def test_two_counties_of_one_level_differ_and_a_missing_one_does_not():
    assert divisions_differ(parse_address("a2区五一大道"), parse_address("a3区五一大道"))
    assert not divisions_differ(parse_address("a2区五一大道"), parse_address("五一大道"))
    assert not divisions_differ(parse_address("a市a2区五一大道"), parse_address("a2区枫林街道五一大道"))


def test_words_inside_other_words_are_no_division():
    assert parse_address("佳美超市门口").core == "佳美超市门口"
    assert parse_address("锦绣家园东区3栋").core == "锦绣家园东区"


@given(texts, texts)
def test_topic_agreement_is_symmetric_and_between_0_and_1(a, b):
    ta, tb = topics(a), topics(b)
    found = agreement(ta, tb)
    assert found == agreement(tb, ta)
    assert found is None or 0.0 <= found <= 1.0 + 1e-9
    assert (found is None) == (not ta or not tb)


@given(texts)
def test_a_text_agrees_with_itself_when_it_names_a_topic(text):
    t = topics(text)
    assert agreement(t, t) is None if not t else abs(agreement(t, t) - 1.0) < 1e-9


def test_one_object_in_other_words_agrees_and_two_objects_do_not():
    sewer = topics("柏林雅居门口下水道又堵了")
    assert agreement(sewer, topics("市民来电称，柏林雅居附近污水井冒水")) == 1.0
    assert agreement(sewer, topics("柏林雅居门口的垃圾站好几天没人清运")) == 0.0


def test_generic_words_name_no_topic():
    assert not topics("噪音扰民，臭气熏天，请物业尽快处理，小区居民意见很大")


@given(texts, texts)
def test_names_differ_symmetrically_and_never_from_themselves(a, b):
    na, nb = names(a), names(b)
    assert differ(na, nb) == differ(nb, na)
    assert not differ(na, na)


ESTATES = st.sampled_from([("芙蓉家园", "芙蓉家园"), ("景蓉华苑", "蓉华苑"), ("和平里小区", "平里小区")])


@given(ESTATES, texts)
def test_an_estate_named_in_a_text_is_known_by_its_last_characters(estate_and_key, text):
    estate, key = estate_and_key
    assert key in names(f"{text}。我是{estate}的业主")["estate"]


def test_two_estates_differ_one_estate_does_not_and_a_text_without_any_says_nothing():
    assert differ(names("芙蓉家园物业涨价"), names("锦绣家园物业涨价"))
    assert not differ(names("芙蓉家园物业涨价"), names("我是芙蓉家园的业主，物业乱收费"))
    assert not differ(names("芙蓉家园物业涨价"), names("我们小区物业涨价"))
    assert differ(names("226路车取消了桃李站"), names("35路车取消了桃李站"))
