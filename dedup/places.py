"""Where an appeal is: the part of an address that names the place itself, and the divisions above it.

Forms and operators write one place in many ways: 芙蓉佳园二期, A8县枫林街道芙蓉佳园二期,
A市A8县金星中路芙蓉佳园二期.
The province, city, county or district and street office (街道, 镇, 乡) at the front say which division the place
is in; what follows them tells two places apart. So two addresses are compared by what is left once those leading
divisions are cut off, and differ also when they name two different divisions of one level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# One leading division: a name of 1 to 8 characters and its level. The marks are not a level inside a word:
# 超市, 城市, 市场; 东区, 小区, 园区, 社区, 区域; 县城.
_DIVISION = re.compile(
    r"^[^省市区县旗镇乡]{1,8}?"
    r"(?:省|自治区|(?<![超城门菜夜集])市(?![场民政])|(?<![东西南北中小园校景社厂期])区(?!域)|县(?!城)|旗|街道|镇|乡)"
)
# The level of a division by its mark; a city (市) may be a prefecture or a county, so it has none to compare.
_LEVEL = {"省": "province", "自治区": "province", "区": "county", "县": "county", "旗": "county"}
_LEVEL |= {"街道": "township", "镇": "township", "乡": "township"}
# The building, entrance and flat at the end (13栋4单元402, 5号楼, 3幢2层): a part of the place, not another one.
_UNIT = re.compile(r"(?:[0-9一二三四五六七八九十百]+(?:栋|幢|号楼|座|单元|层|楼|号|室|户)[0-9\-]*)+$")


@dataclass(frozen=True, slots=True)
class Address:
    """An address as divisions (level, name), the place itself (core) and the building or flat in it (unit)."""

    divisions: tuple[tuple[str, str], ...]
    core: str
    unit: str = ""


def parse_address(address: str) -> Address:
    """The address's leading divisions, what follows them, and the building or flat at its end (the place is
    the whole address if nothing else would be left)."""
    core, divisions = address, []
    while m := _DIVISION.match(core):
        rest = core[m.end() :]
        if not rest:
            break
        name = m.group()
        level = next((_LEVEL[mark] for mark in _LEVEL if name.endswith(mark)), "")
        if level:
            divisions.append((level, name))
        core = rest
    unit = ""
    if (m := _UNIT.search(core)) and m.start() > 0:
        core, unit = core[: m.start()], m.group()
    return Address(tuple(divisions), core, unit)


def divisions_differ(a: Address, b: Address) -> bool:
    """Whether the two name different divisions of one level (A2区 and A3区)."""
    mine: dict[str, set[str]] = {}
    for level, name in a.divisions:
        mine.setdefault(level, set()).add(name)
    theirs: dict[str, set[str]] = {}
    for level, name in b.divisions:
        theirs.setdefault(level, set()).add(name)
    return any(level in theirs and not names & theirs[level] for level, names in mine.items())
