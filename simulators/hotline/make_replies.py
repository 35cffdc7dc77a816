"""Build simulators/data/replies.jsonl from the Teddy Cup 2020 data set (a development-time tool, run once).

    .venv/bin/python -m simulators.hotline.make_replies PATH/TO/附件4.csv > simulators/data/replies.jsonl

The simulator never runs this: it reads only the shipped replies.jsonl. The selection is deterministic: posts
in order of their number, replies of 80 to 600 characters (whitespace removed) that name a replying unit, taken
round-robin across categories until 200 are chosen. `reply`, `replied_at`, `title` and `asked_at` are verbatim
(the reply stripped of surrounding whitespace); `unit` (the first unit the reply names) and `category` (from
keywords of the title) are derived here.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import defaultdict

COUNT = 200
# A government body named in a reply: an optional placeholder place (A市, A7县, C3区) or 市/区/县 not preceded by
# another character (so 小区业主委员会 is no unit), a short name, and the suffix of a body that answers appeals.
UNIT = re.compile(
    r"(?:(?<=[^\u4e00-\u9fff])|^)((?:[A-Z]\d*[市县区]|[市区县])[^\W\d_A-Za-z已责成的了将把与对在为是每向要整治门]{1,10}?"
    r"(?:局|街道办事处|街道|管委会|中心|大队|支队|分局|委员会|镇人民政府|乡人民政府))"
)
NOT_UNIT_PARTS = ("国家", "市场服务", "市民")  # phrases the pattern catches that are not units
NOT_UNITS = (
    "业主委员会",
    "居民委员会",
    "村民委员会",
    "市中心",
    "区中心",
    "县中心",
    "布局",
    "格局",
    "大局",
    "全局",
    "结局",
)
# First match wins; the names are the first-level categories of the board's taxonomy (附件1).
CATEGORIES = (
    ("交通运输", ("公交", "交通", "道路", "公路", "出租", "地铁", "停车", "驾", "车站", "高速", "红绿灯", "客运")),
    (
        "教育文体",
        ("学校", "教师", "老师", "幼儿园", "学生", "教育", "招生", "入学", "小学", "中学", "考试", "体育"),
    ),
    ("劳动和社会保障", ("社保", "工资", "养老", "医保", "就业", "人才", "退休", "劳动", "公积金", "失业", "编制")),
    ("卫生计生", ("医院", "医疗", "卫生院", "生育", "疫苗", "计生", "医生")),
    ("环境保护", ("污染", "噪音", "噪声", "环保", "排放", "粉尘", "臭", "污水", "垃圾焚烧", "扰民")),
    ("商贸旅游", ("商家", "消费", "旅游", "市场", "超市", "价格", "收费", "景区", "商铺")),
    (
        "城乡建设",
        ("物业", "小区", "房", "拆迁", "施工", "路灯", "建设", "规划", "违建", "燃气", "供水", "停水", "电"),
    ),
)


def squeeze(text: str) -> str:
    """The text without whitespace of any kind (ideographic spaces, no-break spaces, tabs, newlines)."""
    return re.sub(r"\s+", "", text)


def unit_of(reply: str) -> str | None:
    """The first replying unit the reply names, or None."""
    for match in UNIT.finditer(squeeze(reply)):
        name = match.group(1)
        if len(name) >= 4 and not name.endswith(NOT_UNITS) and not any(p in name for p in NOT_UNIT_PARTS):
            return name
    return None


def category_of(title: str) -> str:
    """A first-level category from keywords of the post's title ("其他" when none matches)."""
    return next((name for name, words in CATEGORIES if any(w in title for w in words)), "其他")


def select(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The replies to ship, in the order chosen."""
    by_category: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: int(r["留言编号"])):
        reply = row["答复意见"].strip()
        unit = unit_of(reply)
        if unit is None or not 80 <= len(squeeze(reply)) <= 600:
            continue
        by_category[category_of(row["留言主题"])].append(
            {
                "id": row["留言编号"],
                "title": row["留言主题"].strip(),
                "asked_at": row["留言时间"],
                "reply": reply,
                "replied_at": row["答复时间"],
                "unit": unit,
                "category": category_of(row["留言主题"]),
            }
        )
    chosen: list[dict[str, str]] = []
    queues = [by_category[name] for name in sorted(by_category)]
    while len(chosen) < COUNT and any(queues):
        for queue in queues:
            if queue and len(chosen) < COUNT:
                chosen.append(queue.pop(0))
    return chosen


def main(argv: list[str]) -> int:
    """Print the selected replies as JSON lines."""
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for item in select(rows):
        print(json.dumps(item, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
