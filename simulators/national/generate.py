"""What the three simulated platforms' generators share: numbers made the way the national standards make them.

Each platform's generator (simulators/national/<kind>.py) keeps its own regions, names, templates and odds;
these helpers only build phone numbers, resident ID numbers and credit codes, and pick the message-board posts
of a topic, drawing from the caller's random stream so that a generator stays deterministic for its seed.
"""

from __future__ import annotations

import functools
import random
from datetime import date

from normalizer.fields import credit_check_char, id_check_char
from simulators.corpus import board_messages

ID_CHECK_CHARACTERS = "0123456789X"
"""The check characters of a resident ID number (GB 11643)."""

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The characters a unified social credit code may use (GB 32100)."""

AREA_CODES: dict[str, tuple[str, int]] = {
    "赣州市": ("0797", 7),
    "吉安市": ("0796", 7),
    "南昌市": ("0791", 8),
    "北京市": ("010", 8),
    "西安市": ("029", 8),
}
"""A city's telephone area code and how many digits its local numbers have."""


def mobile_number(rng: random.Random, prefixes: tuple[str, ...]) -> str:
    """An 11-digit mobile number starting with one of the prefixes."""
    return rng.choice(prefixes) + f"{rng.randrange(10**8):08d}"


def landline_number(rng: random.Random, city: str) -> str:
    """A landline number of the city, written with its area code: 0797-8123456."""
    area, digits = AREA_CODES[city]
    return f"{area}-8{rng.randrange(10 ** (digits - 1)):0{digits - 1}d}"


def resident_id(rng: random.Random, birthplace: str, born: date) -> str:
    """A resident ID number: birthplace division code, birth date, a serial and its valid check character."""
    first17 = f"{birthplace}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_check_char(first17)


def credit_code(first17: str) -> str:
    """The unified social credit code that starts with these 17 characters: they and their check character."""
    return first17 + credit_check_char(first17)


def mistyped(number: str, alphabet: str | None = None) -> str:
    """The number with a wrong check character: the next one in alphabet, or without one "0" ("1" for a "0")."""
    check = number[-1]
    if alphabet is None:
        return number[:-1] + ("0" if check != "0" else "1")
    return number[:-1] + alphabet[(alphabet.index(check) + 1) % len(alphabet)]


Posts = tuple[dict[str, str], ...]


@functools.cache
def board_posts(category: str, topics: tuple[str, ...] = (), excluded: tuple[str, ...] = ()) -> Posts:
    """The board posts of a category whose title names one of topics (any title, without) and no excluded word."""
    return tuple(
        post
        for post in board_messages()
        if post.get("category") == category
        and (not topics or any(t in post.get("title", "") for t in topics))
        and not any(t in post.get("title", "") for t in excluded)
    )
