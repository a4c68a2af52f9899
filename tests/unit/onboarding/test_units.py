"""Units of measure: built-in names, the merchant's conversions, whole results only."""

from __future__ import annotations

import pytest

from omnistock.onboarding.unitbook import UnitBook, UnitDef, UnitError


def test_built_in_units_are_known_by_english_and_chinese_names() -> None:
    book = UnitBook.of()
    assert [book.resolve(n) for n in ("pcs", "个", "BOX", "箱", "千克", "克")] == ["pcs", "pcs", "box", "box", "kg",
                                                                                  "g"]
    assert book.resolve("盒") is None


def test_boxes_become_pieces_once_the_merchant_says_how_many_a_box_holds() -> None:
    with pytest.raises(UnitError, match="define how many"):
        UnitBook.of().convert(3, "box", "pcs")
    book = UnitBook.of([UnitDef("box", (), "pcs", 12)])
    assert book.convert(3, "box", "pcs") == 36
    assert book.convert(24, "pcs", "box") == 2


def test_conversions_chain_and_must_come_out_whole() -> None:
    book = UnitBook.of([UnitDef("case", ("件箱",), "box", 4), UnitDef("box", (), "pcs", 12)])
    assert book.convert(2, "case", "pcs") == 96
    assert book.resolve("件箱") == "case"
    assert book.convert(2, "kg", "g") == 2000
    with pytest.raises(UnitError, match="not a whole number"):
        book.convert(1500, "g", "kg")


def test_a_definition_that_would_loop_is_refused() -> None:
    book = UnitBook.of([UnitDef("box", (), "pcs", 12)])
    with pytest.raises(UnitError, match="loop"):
        book.check_definition("pcs", "box", 2)
    with pytest.raises(UnitError, match="at least 1"):
        book.check_definition("bag", "pcs", 0)
