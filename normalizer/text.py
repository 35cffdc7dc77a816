"""Text as stored (cleaned, otherwise verbatim) and text as matched (folded)."""

from __future__ import annotations

import re
import unicodedata

import opencc

__all__ = ["clean_text", "fold_for_matching", "repair_text"]

# Loading the conversion dictionaries takes milliseconds; one converter serves the whole process.
_T2S = opencc.OpenCC("t2s")

_SURROGATE = re.compile("[\ud800-\udfff]")
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")
# The compatibility characters that fill Chinese appeal text (counted on 2,816 message-board appeals), replaced
# as NFKC would; after that nearly every text is already NFKC and skips the much slower full normalization.
_FREQUENT_COMPAT = tuple(
    (c, unicodedata.normalize("NFKC", c)) for c in "，\u3000\u00a0！？：）（；…．％"
)


def repair_text(text: str) -> str:
    """Text that can be stored as UTF-8 in PostgreSQL: surrogates paired or replaced by U+FFFD, NULs removed."""
    if _SURROGATE.search(text):
        # JSON "\ud83d" escapes decode to lone surrogates, which UTF-8 cannot encode; real pairs are joined.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text


def clean_text(text: str) -> str:
    """Text for storage: repaired, line endings made \\n, surrounding whitespace stripped, nothing else."""
    text = repair_text(text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


def _nfkc(text: str) -> str:
    """NFKC, with the frequent full-width characters replaced cheaply first."""
    for compat, plain in _FREQUENT_COMPAT:
        if compat in text:
            text = text.replace(compat, plain)
    if unicodedata.is_normalized("NFKC", text):
        return text
    return unicodedata.normalize("NFKC", text)


def _to_simplified(text: str) -> str:
    """Traditional to simplified, repeated until nothing changes (a few conversions chain, e.g. 薴 → 苧 → 苎)."""
    for _ in range(4):
        converted = _T2S.convert(text)
        if converted == text:
            break
        text = converted
    return text


def fold_for_matching(text: str) -> str:
    """Text for matching: NFKC, simplified Chinese, no invisible characters, single spaces, lower case."""
    text = _INVISIBLE.sub("", _nfkc(repair_text(text)))
    text = _to_simplified(text)
    text = " ".join(text.split()).lower()
    # Lower-casing can leave a few characters (e.g. U+0130 İ) outside NFKC; normalizing again keeps
    # folding idempotent.
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)
