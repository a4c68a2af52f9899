"""How codes and names written by people are read: full-width characters folded to half-width (ＡＢＣ－１ is
ABC-1), and names compared regardless of spaces, case and the order of their 规格 (specification) words."""

from __future__ import annotations

import re
import unicodedata

# Separators people put between the words of a name and its specification (颜色/尺码...).
_NAME_SPLIT = re.compile(r"[\s,;/|+_\-·•、，；：:()\[\]{}<>（）【】《》「」\"'“”‘’]+")


def fold(value: str) -> str:
    """Full-width letters, digits and punctuation as half-width, spaces trimmed (NFKC)."""
    return unicodedata.normalize("NFKC", value).strip()


def name_key(name: str) -> str:
    """What two names of the same product have in common: folded, lower-case, the words of the name and
    its specification sorted so that "T恤 红色 XL" and "t恤 XL/红色" match."""
    words = [w for w in _NAME_SPLIT.split(fold(name).lower()) if w]
    return " ".join(sorted(words))
