"""The places and businesses an appeal names in its text: what tells two look-alike appeals apart.

Neighbours of different communities write the same complaint in much the same words (a form, a copied post, the
operator's standard summary): 芙蓉家园物业近日贴出通知，物业费… and 锦绣家园物业近日贴出通知，物业费…. The text
score sees one matter; the names say two. A name is known by its kind and its last characters (the two before
the kind's mark and the mark: 芙蓉家园, 蓉华苑, 源烧烤), which is enough to tell names apart without knowing
where each begins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# kind -> the marks that end a name of that kind (folded text). 广场 is no place in 广场舞.
_MARKS: Mapping[str, str] = {
    "estate": r"小区|花园|家园|新村|公馆|华府|华庭|山庄|名邸|雅居|佳园|名苑|花苑|天地|苑|公园|游园|广场(?!舞)",
    "business": r"烧烤|夜宵城|超市|便利店|健身|会所|培训中心|养生馆|电子厂|有限公司|置业|ktv",
    "road": r"(?:大道|大街|路|街)(?![灯口边面上段旁费况线])",
}
_NAME = {kind: re.compile(rf"([\u4e00-\u9fff]{{2}})({marks})") for kind, marks in _MARKS.items()}
_BUS_LINE = re.compile(r"(?<![0-9a-z])([0-9]{1,3})路(?:公交|车|公共汽车)")
_PLATE = re.compile(r"[\u4e00-\u9fff][a-z][a-z0-9]{5}")
# Words that end like a name but are none: 我们小区, 进小区, 影响到小区, 紧邻小区: no name ends in these.
_NOT_NAME_ENDS = frozenset("到在的个们本全该各进出回整住边入近这那我其此多邻旁了")
# ... and words that end like a road: 马路, 道路, 公路, 线路, 修路, 走路, 绕路, 铁路, 网络 (街: 上街, 逛街).
_NOT_ROAD_ENDS = _NOT_NAME_ENDS | frozenset("马道公线修走绕铁网陆水小带过一上逛条环")


def names(text: str) -> dict[str, frozenset[str]]:
    """The names in a folded text by kind: estate, business, road, bus line, plate (kinds it has none of left
    out)."""
    found: dict[str, frozenset[str]] = {}
    for kind, pattern in _NAME.items():
        ends = _NOT_ROAD_ENDS if kind == "road" else _NOT_NAME_ENDS
        keys = frozenset(m.group(1) + m.group(2) for m in pattern.finditer(text) if m.group(1)[-1] not in ends)
        if keys:
            found[kind] = keys
    for kind, pattern in (("bus-line", _BUS_LINE), ("plate", _PLATE)):
        keys = frozenset(m.group(1) if m.groups() else m.group() for m in pattern.finditer(text))
        if keys:
            found[kind] = keys
    return found


def differ(a: Mapping[str, frozenset[str]], b: Mapping[str, frozenset[str]]) -> bool:
    """Whether two texts name things of one kind and none of them in common (two estates, two bus lines)."""
    return any(kind in b and not keys & b[kind] for kind, keys in a.items())


def share(a: Mapping[str, frozenset[str]], b: Mapping[str, frozenset[str]]) -> bool:
    """Whether two texts name one same thing (an estate, a shop, a road, a bus line, a plate)."""
    return any(kind in b and keys & b[kind] for kind, keys in a.items())
