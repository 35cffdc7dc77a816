"""Replies (答复意见) in the words of real ones: the shipped sample, adapted to the simulated work order.

simulators/data/replies.jsonl holds 200 real replies of a city government's message board (see its README).
Each names the unit that replied; the simulator picks one written by a unit of the same kind as the one the
work order went to, and adapts it: the unit's name, the places (the data set's A市, A3区 placeholders), the
citizen's board id and the date at the end become the simulated work order's.
"""

from __future__ import annotations

import json
import random
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from simulators.hotline.units import Unit, city_of, department_of_unit, district_of

DATA = Path(__file__).resolve().parent.parent / "data" / "replies.jsonl"
BEIJING = ZoneInfo("Asia/Shanghai")
PROVINCES = {"36": "江西省", "11": "北京市", "61": "陕西省"}

_SPACE = re.compile(r"[\s\u3000\xa0]+")
_BOARD_USER = re.compile(r"网友[“\"][^”\"]{1,24}[”\"]|[“\"][A-Z]{1,2}\d{3,}[”\"]|UU\d{3,}")
_BOARD_COLUMN = re.compile(r"(?:平台)?《问政西地省》(?:栏目)?")
_PLACE_DISTRICT = re.compile(r"[A-Z]\d*[区县]|[A-Z]\d+市")
_PLACE_CITY = re.compile(r"[A-Z]市")
_MASKED_PHONE = re.compile(r"(?:0\d{2,3}-)?0{4}-?0{4,8}")
_END_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日?$")


@cache
def replies() -> tuple[dict[str, str], ...]:
    """The shipped real replies (id, title, asked_at, reply, replied_at, unit, category)."""
    with DATA.open(encoding="utf-8") as f:
        return tuple(json.loads(line) for line in f if line.strip())


@cache
def _by_department() -> dict[str, tuple[dict[str, str], ...]]:
    groups: dict[str, list[dict[str, str]]] = {}
    for item in replies():
        groups.setdefault(department_of_unit(item["unit"]), []).append(item)
    return {dept: tuple(items) for dept, items in groups.items()}


def squeeze(text: str) -> str:
    """The text without its whitespace, except one space between two ASCII letters or digits."""

    def keep(match: re.Match[str]) -> str:
        before = match.string[match.start() - 1 : match.start()]
        after = match.string[match.end() : match.end() + 1]
        return " " if before.isascii() and before.isalnum() and after.isascii() and after.isalnum() else ""

    return _SPACE.sub(keep, text).strip()


def choose(rng: random.Random, department: str, avoid: frozenset[str] = frozenset()) -> dict[str, str]:
    """A real reply written by a unit of the department (any reply when the sample has none of it left).

    `avoid`: ids of replies the work order was given before, so that a reply written again after a review
    return is not the one rejected.
    """
    pool = [item for item in _by_department().get(department, ()) if item["id"] not in avoid]
    if not pool:
        pool = [item for item in replies() if item["id"] not in avoid] or list(replies())
    return rng.choice(pool)


def adapt(item: dict[str, str], unit: Unit, division_code: str | None, at: datetime) -> str:
    """The real reply as the simulated unit's: its name, the work order's places, the citizen, the date."""
    code, district = district_of(division_code)
    city = city_of(code)
    province = PROVINCES.get(code[:2], "")
    text = squeeze(item["reply"])
    text = re.sub(r"(?:[A-Z]\d*)?" + re.escape(squeeze(item["unit"])), unit.name, text)
    text = _BOARD_USER.sub("市民", text)
    text = _BOARD_COLUMN.sub("12345政务服务便民热线", text)
    text = text.replace("西地省", province or city)
    text = _PLACE_DISTRICT.sub(district, text)
    text = _PLACE_CITY.sub(city, text)
    text = _MASKED_PHONE.sub("12345", text)
    day = at.astimezone(BEIJING)
    date = f"{day.year}年{day.month}月{day.day}日"
    if _END_DATE.search(text):
        return _END_DATE.sub(date, text)
    return f"{text}{unit.name}{date}"
