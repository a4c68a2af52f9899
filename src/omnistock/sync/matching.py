"""Which of our SKUs a platform item probably is: by the merchant's own code on the platform (outer id equal to
a SKU code), by barcode, or by name compared regardless of full/half width, spaces and case.

Pure rules: the caller reads the platform and the catalogue, this module only compares."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class MatchedBy(StrEnum):
    OUTER_ID = "outer_id"
    BARCODE = "barcode"
    NAME = "name"


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    name: str
    barcode: str | None = None


@dataclass(frozen=True)
class Candidate:
    """A platform item to be matched."""

    external_id: str
    external_sku: str | None = None
    title: str | None = None
    barcode: str | None = None


@dataclass(frozen=True)
class Match:
    item: Candidate
    sku: str | None              # the proposed SKU; None when nothing (or more than one) matched
    matched_by: MatchedBy | None
    candidates: tuple[str, ...] = ()  # several SKUs matched equally well: a person must choose


def normalized(text: str) -> str:
    """'ＡＢＣ－１ 红色' and 'abc-1红色' are the same: NFKC folds full width, case and every space go."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if not ch.isspace())


class Catalogue:
    """Our SKUs indexed by each way a platform item can point at them."""

    def __init__(self, entries: Iterable[CatalogueEntry]) -> None:
        self.by_code: dict[str, list[str]] = defaultdict(list)
        self.by_barcode: dict[str, list[str]] = defaultdict(list)
        self.by_name: dict[str, list[str]] = defaultdict(list)
        for e in entries:
            self.by_code[normalized(e.code)].append(e.code)
            if e.barcode:
                self.by_barcode[normalized(e.barcode)].append(e.code)
            if e.name:
                self.by_name[normalized(e.name)].append(e.code)

    def match(self, item: Candidate) -> Match:
        """The strongest rule that gives an answer wins: outer id, then barcode, then name."""
        tries: Sequence[tuple[MatchedBy, dict[str, list[str]], str | None]] = (
            (MatchedBy.OUTER_ID, self.by_code, item.external_sku),
            (MatchedBy.BARCODE, self.by_barcode, item.barcode),
            (MatchedBy.NAME, self.by_name, item.title),
        )
        for rule, index, value in tries:
            if not value or not normalized(value):
                continue
            found = sorted(set(index.get(normalized(value), ())))
            if len(found) == 1:
                return Match(item, found[0], rule)
            if len(found) > 1:
                return Match(item, None, rule, tuple(found))
        return Match(item, None, None)
