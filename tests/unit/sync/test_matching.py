"""Matching platform items to SKUs: outer id, then barcode, then a name compared regardless of width, spaces
and case; ambiguity is left to a person."""

from __future__ import annotations

from omnistock.sync.matching import Candidate, Catalogue, CatalogueEntry, MatchedBy, normalized

CATALOGUE = Catalogue([
    CatalogueEntry("TEA-1", "Green Tea 绿茶", "6901234567892"),
    CatalogueEntry("TEA-2", "Black tea"),
    CatalogueEntry("MUG-1", "Mug"),
    CatalogueEntry("MUG-2", "MUG"),
])


def test_full_width_spaces_and_case_do_not_matter() -> None:
    assert normalized("ＧＲＥＥＮ　ｔｅａ 绿茶") == normalized("green tea绿茶") == "greentea绿茶"


def test_the_outer_id_wins_over_barcode_and_name() -> None:
    m = CATALOGUE.match(Candidate("1", external_sku="ｔｅａ－２", title="Green Tea 绿茶", barcode="6901234567892"))
    assert (m.sku, m.matched_by) == ("TEA-2", MatchedBy.OUTER_ID)


def test_barcode_then_name() -> None:
    by_barcode = CATALOGUE.match(Candidate("1", external_sku="UNKNOWN", barcode="6901234567892"))
    assert (by_barcode.sku, by_barcode.matched_by) == ("TEA-1", MatchedBy.BARCODE)
    by_name = CATALOGUE.match(Candidate("2", title="BLACK  TEA"))
    assert (by_name.sku, by_name.matched_by) == ("TEA-2", MatchedBy.NAME)


def test_two_skus_with_one_name_are_not_guessed() -> None:
    m = CATALOGUE.match(Candidate("3", title="mug"))
    assert m.sku is None and m.candidates == ("MUG-1", "MUG-2") and m.matched_by is MatchedBy.NAME


def test_nothing_known_matches_nothing() -> None:
    m = CATALOGUE.match(Candidate("4", external_sku=" ", title="Teapot"))
    assert (m.sku, m.matched_by, m.candidates) == (None, None, ())
