"""Time tier (办理时限) and emergency (110/119/120) rules, as data.

A rule matches when one of its keywords occurs in the folded title and content, or one of its categories
occurs in the channel's or the mapped category; the first matching rule decides. Keywords cannot read
context, so a rule also lists exclusions: longer phrases that contain a keyword but do not mean it
("火灾隐患" is a fire hazard to fix, not a fire; "危房改造" is a housing subsidy, not a collapsing house).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from normalizer.record import EmergencyService, TimeTier
from normalizer.text import fold_for_matching

__all__ = [
    "DEFAULT_RULES",
    "Classification",
    "Rules",
    "TierRule",
    "classify",
    "rules_from_dicts",
]


def _folded_phrases(values: tuple[Any, ...], what: str) -> tuple[str, ...]:
    """Phrases folded for matching, in order and without repeats; ValueError for anything but strings."""
    folded: dict[str, None] = {}
    for value in values:
        if not isinstance(value, str):
            raise ValueError(f"{what} must be a list of strings, found {type(value).__name__}")
        phrase = fold_for_matching(value)
        if not phrase:
            raise ValueError(f"{what} contains an empty phrase")
        folded[phrase] = None
    return tuple(folded)


def _longest_first(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """A regex matching any of the phrases, the longest one where several start at the same place.

    The alternation is written as a trie (停(?:水|电)): the regex engine then tries one branch per character
    instead of every phrase in turn.
    """
    trie: dict[str, Any] = {}
    for phrase in phrases:
        node = trie
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = {}

    def pattern(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + pattern(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        if "" in node:
            # A phrase ends here too; the greedy "?" still tries the longer phrases first.
            return "(?:" + "|".join(branches) + ")?"
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return re.compile(pattern(trie)) if trie else None


@dataclass(frozen=True)
class TierRule:
    """One row of the table: what puts an appeal in `tier`, and the emergency service to flag, if any."""

    name: str  # e.g. "emergency-fire", "utilities", "complex"
    tier: TimeTier
    keywords: tuple[str, ...] = ()  # matched against folded title + content
    categories: tuple[str, ...] = ()  # matched as substrings of the channel's or the mapped category
    emergency: EmergencyService | None = None
    excludes: tuple[str, ...] = ()  # phrases containing a keyword that do not count as a match
    _keywords: frozenset[str] = field(init=False, repr=False, compare=False)
    _categories: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("name must be a non-empty string")
        if not isinstance(self.tier, TimeTier):
            raise ValueError(f"tier must be a TimeTier, got {self.tier!r}")
        if self.emergency is not None and not isinstance(self.emergency, EmergencyService):
            raise ValueError(f"emergency must be an EmergencyService or None, got {self.emergency!r}")
        if self.emergency is not None and self.tier is not TimeTier.H2:
            # An emergency is transferred at once; a longer time limit would contradict the flag.
            raise ValueError(f"an emergency rule must have tier {TimeTier.H2.value}")
        for name in ("keywords", "categories", "excludes"):
            given = getattr(self, name)
            if isinstance(given, str) or not isinstance(given, Iterable):
                raise ValueError(f"{name} must be a list of strings")
            object.__setattr__(self, name, tuple(given))
        keywords = _folded_phrases(self.keywords, "keywords")
        categories = _folded_phrases(self.categories, "categories")
        excludes = _folded_phrases(self.excludes, "excludes")
        if not keywords and not categories:
            raise ValueError("a rule needs keywords or categories")
        for phrase in excludes:
            if phrase in keywords:
                raise ValueError(f"{phrase!r} is both a keyword and an exclusion")
            if not any(k in phrase for k in keywords):
                raise ValueError(f"exclusion {phrase!r} contains none of the keywords")
        object.__setattr__(self, "_keywords", frozenset(keywords))
        object.__setattr__(self, "_categories", categories)
        # Longest first, so that an exclusion starting where its keyword starts wins over the keyword; one
        # starting earlier is found first anyway, because the scan goes left to right.
        object.__setattr__(self, "_pattern", _longest_first((*keywords, *excludes)))

    def keyword_in(self, folded_text: str) -> str | None:
        """The first keyword in the text that is not part of an exclusion, or None."""
        if self._pattern is not None:
            for m in self._pattern.finditer(folded_text):
                if m.group() in self._keywords:
                    return m.group()
        return None

    def category_in(self, folded_categories: Sequence[str]) -> str | None:
        """The first of this rule's categories found in one of the appeal's categories, or None."""
        for wanted in self._categories:
            for category in folded_categories:
                if wanted in category:
                    return wanted
        return None

    def match(self, folded_text: str, folded_categories: Sequence[str] = ()) -> str | None:
        """Why this rule matches ("keyword 停水", "category 供水"), or None."""
        if keyword := self.keyword_in(folded_text):
            return f"keyword {keyword}"
        if category := self.category_in(folded_categories):
            return f"category {category}"
        return None


@dataclass(frozen=True)
class Rules:
    """The whole table: rules in order (first match wins) and the tier when none matches."""

    rules: tuple[TierRule, ...]
    default_tier: TimeTier = TimeTier.D7
    default_reason: str = "ordinary matter (一般诉求, 7 days)"
    _any_keyword: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _suspects: dict[str, frozenset[int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rules = tuple(self.rules)
        if not all(isinstance(r, TierRule) for r in rules):
            raise ValueError("rules must be TierRule instances")
        names = [r.name for r in rules]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"rule names must be unique, repeated: {', '.join(dupes)}")
        if not isinstance(self.default_tier, TimeTier):
            raise ValueError(f"default_tier must be a TimeTier, got {self.default_tier!r}")
        object.__setattr__(self, "rules", rules)
        owners: dict[str, set[int]] = {}
        for i, rule in enumerate(rules):
            for keyword in rule._keywords:
                owners.setdefault(keyword, set()).add(i)
        # A keyword found in the text also stands for every shorter keyword inside it, whichever rule owns it.
        suspects = {
            found: frozenset(i for keyword, idx in owners.items() if keyword in found for i in idx)
            for found in owners
        }
        object.__setattr__(self, "_any_keyword", _longest_first(owners))
        object.__setattr__(self, "_suspects", suspects)

    def suspects(self, folded_text: str) -> frozenset[int]:
        """Indexes of the rules that have a keyword somewhere in the text (exclusions not yet applied)."""
        if self._any_keyword is None:
            return frozenset()
        found: set[int] = set()
        pos = 0
        # One scan for all rules instead of one per rule; restarting just after each match start finds the
        # longest keyword at every position where one starts, overlapping ones included.
        while m := self._any_keyword.search(folded_text, pos):
            found |= self._suspects[m.group()]
            pos = m.start() + 1
        return frozenset(found)


class Classification(NamedTuple):
    """The outcome of `classify`: tier, human-readable reason, emergency service, deciding rule's name."""

    tier: TimeTier
    reason: str
    emergency: EmergencyService | None
    rule: str | None


# Categories come from a small vocabulary, so their folded forms are worth keeping.
_fold_category = functools.lru_cache(maxsize=4096)(fold_for_matching)


def classify(rules: Rules, folded_text: str, categories: Iterable[str | None] = ()) -> Classification:
    """The time tier and emergency service for folded title + content and the appeal's categories."""
    folded_categories = [_fold_category(c) for c in categories if c]
    suspects = rules.suspects(folded_text)
    for i, rule in enumerate(rules.rules):
        if i in suspects and (keyword := rule.keyword_in(folded_text)):
            why = f"keyword {keyword}"
        elif category := rule.category_in(folded_categories):
            why = f"category {category}"
        else:
            continue
        return Classification(rule.tier, f"rule {rule.name}: {why}", rule.emergency, rule.name)
    return Classification(rules.default_tier, rules.default_reason, None, None)


_RULE_KEYS = frozenset({"name", "tier", "keywords", "categories", "emergency", "excludes"})


def _enum_value(enum: type[TimeTier] | type[EmergencyService], value: Any, what: str) -> Any:
    """An enum member from itself, its value or its name; ValueError listing the choices."""
    if isinstance(value, enum):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str):
        for member in enum:
            if value.strip() in (member.value, member.name, member.name.lower()):
                return member
    choices = ", ".join(m.value for m in enum)
    raise ValueError(f"{what} must be one of {choices}, got {value!r}")


def rules_from_dicts(
    items: Iterable[Mapping[str, Any]],
    *,
    default_tier: TimeTier | str = TimeTier.D7,
    default_reason: str = Rules.default_reason,
) -> Rules:
    """Rules from plain dicts {name, tier, keywords, categories, emergency, excludes} (as config.toml gives)."""
    if isinstance(items, str | bytes | Mapping) or not isinstance(items, Iterable):
        raise ValueError("rules must be a list of tables")
    built: list[TierRule] = []
    for i, item in enumerate(items):
        label = f"rules[{i}]"
        if not isinstance(item, Mapping):
            raise ValueError(f"{label}: must be a table, got {type(item).__name__}")
        if isinstance(item.get("name"), str):
            label = f"{label} ({item['name']!r})"
        if unknown := sorted(map(str, set(item) - _RULE_KEYS)):
            raise ValueError(f"{label}: unknown key(s) {', '.join(unknown)}")
        for required in ("name", "tier"):
            if required not in item:
                raise ValueError(f"{label}: {required} is required")
        try:
            emergency = item.get("emergency")
            built.append(
                TierRule(
                    name=item["name"],
                    tier=_enum_value(TimeTier, item["tier"], "tier"),
                    keywords=item.get("keywords") or (),
                    categories=item.get("categories") or (),
                    emergency=None if emergency in (None, "") else _enum_value(
                        EmergencyService, emergency, "emergency"
                    ),
                    excludes=item.get("excludes") or (),
                )
            )
        except ValueError as e:
            raise ValueError(f"{label}: {e}") from None
    try:
        return Rules(tuple(built), _enum_value(TimeTier, default_tier, "default_tier"), default_reason)
    except ValueError as e:
        raise ValueError(f"rules: {e}") from None


# The defaults follow the Beijing (2020) and Xi'an (2023) time limits in DOMAIN.md. Emergencies come first,
# fire before police before ambulance: 119 also rescues people from fires, and 110 takes the injured of a
# fight. Bare words that are mostly something else are left out or narrowed: 冒烟 is usually a chimney in a
# pollution complaint, 没电 a phone battery, 落水 a downpipe (落水管), 中风 mostly a patient's history and the
# start of 中风险 (medium risk), 自来水 a request to be connected. The exclusions come from reading the matches
# on about 3,300 real message-board appeals: 拨打人工客服 (calling an operator) is not 打人, 停电动车 (parking
# e-bikes) is not 停电, 随着火车 is not 着火.
_DEFAULT_TABLE: list[dict[str, Any]] = [
    {
        "name": "emergency-fire",
        "tier": "2h",
        "emergency": "119",
        "keywords": [
            "着火", "著火", "失火", "起火", "火灾", "大火", "火势", "烧起来了", "火苗",
            "爆炸",
            "燃气泄漏", "燃气泄露", "煤气泄漏", "煤气泄露", "天然气泄漏", "天然气泄露", "液化气泄漏",
            "液化气泄露", "燃气漏气", "煤气漏气", "煤气罐漏气", "管道漏气", "煤气味", "燃气味", "天然气味",
            "电线冒烟", "线路冒烟", "电箱冒烟", "配电箱冒烟", "电表箱冒烟", "插座冒烟", "家里冒烟",
            "屋里冒烟", "楼道冒烟", "楼里冒烟", "房子冒烟", "窗户冒烟",
        ],
        "excludes": [
            "火灾隐患", "火灾风险", "火灾危险", "火灾报警", "火灾自动报警", "引起火灾", "引发火灾", "导致火灾",
            "造成火灾", "酿成火灾", "一旦火灾", "一旦发生火灾", "万一发生火灾", "如果发生火灾", "若发生火灾",
            "容易发生火灾", "防止火灾", "预防火灾", "防范火灾", "出现火灾", "遇到火灾", "火灾高发",
            "火灾事故隐患", "火灾安全隐患", "发生过火灾", "一旦失火", "万一失火", "如果失火", "大火车站",
            "大火锅", "着火车",
            "可能爆炸", "会爆炸", "一旦爆炸", "引起爆炸", "引发爆炸", "导致爆炸", "爆炸隐患", "爆炸风险",
            "爆炸危险", "炸药爆炸", "信息爆炸",
            "一旦燃气泄漏", "如果燃气泄漏", "防止燃气泄漏", "一旦煤气泄漏", "防止煤气泄漏",
        ],
    },
    {
        "name": "emergency-police",
        "tier": "2h",
        "emergency": "110",
        "keywords": [
            "持刀", "拿刀", "持械", "砍人", "捅人", "杀人", "行凶", "持枪", "开枪",
            "打架斗殴", "打架", "斗殴", "群殴", "殴打", "打人", "打砸", "砸车", "聚众闹事",
            "抢劫", "抢夺", "抢包", "正在偷", "正在盗窃", "正在撬", "有人撬门", "有人撬锁", "入室盗窃",
            "家暴", "家庭暴力", "绑架", "拐卖", "非法拘禁", "强奸", "猥亵", "性侵",
            "跳楼", "自杀", "轻生",
        ],
        "excludes": [
            "反家暴", "反家庭暴力", "道德绑架", "跳楼价", "跳楼大甩卖", "跳楼机", "减轻生", "杀人者", "打架子鼓",
            "拨打人",
        ],
    },
    {
        "name": "emergency-ambulance",
        "tier": "2h",
        "emergency": "120",
        "keywords": [
            "晕倒", "昏倒", "昏迷", "不省人事", "休克", "抽搐", "口吐白沫", "没有呼吸", "没呼吸", "呼吸困难",
            "心脏骤停", "心脏病发", "心梗", "突发心脏病", "突发中风", "突发脑溢血", "突发疾病",
            "大出血", "流血不止", "血流不止", "受伤流血", "重伤",
            "溺水", "有人落水", "触电", "中毒", "急需抢救", "生命垂危",
        ],
        "excludes": [
            "严重伤", "溺水风险", "溺水隐患", "防溺水", "预防溺水", "防止溺水", "触电风险", "触电危险",
            "触电隐患", "防触电", "不触电", "容易触电", "中毒风险", "防中毒", "预防中毒", "会中毒", "引起中毒",
            "导致中毒", "慢性中毒",
        ],
    },
    {
        "name": "risk-to-life-or-property",
        "tier": "2h",
        "keywords": [
            "电梯困人", "困电梯", "被困电梯", "困在电梯", "被困", "电梯坠落", "电梯下坠", "电梯急坠",
            "井盖缺失", "井盖丢失", "井盖被盗", "井盖没了", "没有井盖", "井盖破损", "井盖坏了", "井盖塌陷",
            "倒塌", "坍塌", "垮塌", "塌陷", "塌方", "危房", "危墙", "危楼", "危桥",
            "高空坠物", "高空抛物", "山体滑坡", "泥石流", "决堤", "溃坝",
            "电线掉落", "电线断落", "电线脱落", "电线垂落", "电线断了", "高压线断", "电线杆倾斜", "电线杆倒",
            "电杆倾斜", "树木倒伏", "大树倒", "漏电",
        ],
        "excludes": [
            "被困扰", "危房改造", "危房改建", "危房重建", "危房补助", "危房补贴", "漏电风险", "漏电隐患",
            "防漏电", "一旦漏电",
        ],
    },
    {
        "name": "utilities",
        "tier": "24h",
        "keywords": [
            "停水", "断水", "没水", "供水", "水压低", "水压小", "水压不足", "水压不够", "水压过低",
            "水压太低", "水管爆裂", "水管破裂", "水管爆了", "爆管", "管道爆裂",
            "停电", "断电", "没电", "供电", "跳闸", "电压不稳", "电压低",
            "停气", "供气", "燃气", "天然气", "煤气",
            "停暖", "暖气", "供暖", "供热", "不热",
        ],
        "categories": ["水电气热", "供水", "供电", "供气", "燃气", "供暖", "供热"],
        "excludes": [
            "停电动车", "关停电", "停电梯", "挂断电", "提供电", "电池没电", "手机没电", "电瓶没电", "电动车没电",
            "不热闹", "不热情", "不热心", "不热衷",
        ],
    },
    {
        "name": "complex",
        "tier": "15d",
        "keywords": [
            "历史遗留", "遗留问题", "拆迁", "征地", "房屋征收", "土地征收", "征收补偿", "安置补偿",
            "规划调整", "规划变更", "多个部门", "涉及多部门", "多部门", "多个单位", "相互推诿", "推诿扯皮",
            "产权", "房产证", "不动产证", "不动产权证", "土地证", "确权", "宅基地", "烂尾", "回迁", "集资房",
        ],
        "categories": ["征地拆迁", "房屋征收", "历史遗留"],
        "excludes": ["知识产权"],
    },
]

DEFAULT_RULES: Rules = rules_from_dicts(_DEFAULT_TABLE)
"""The defaults from DOMAIN.md: 2 h emergencies and risks, 24 h utilities, 15 d complex, else 7 d."""
