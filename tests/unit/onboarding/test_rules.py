"""Pure rules of onboarding: barcodes, reading cells, codes and names, components and bundle loops."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnistock.onboarding import cells
from omnistock.onboarding.barcodes import barcode_problem, check_digit
from omnistock.onboarding.bundles import ComponentsError, Part, find_cycle, parse_components
from omnistock.onboarding.text import fold, name_key


@pytest.mark.parametrize("code", ["4006381333931", "036000291452", "96385074", "6901234567892"])
def test_known_good_barcodes_pass(code: str) -> None:
    assert barcode_problem(code) is None


def test_a_wrong_check_digit_names_the_right_one() -> None:
    assert barcode_problem("6901234567890") == "wrong check digit: the last digit should be 2"


@pytest.mark.parametrize(("code", "why"), [("12345", "8, 12, 13 or 14 digits"), ("69012345678X2", "digits only"),
                                           ("６９０１２３４５６７８９２", "digits only")])
def test_malformed_barcodes_say_why(code: str, why: str) -> None:
    problem = barcode_problem(code)
    assert problem is not None and why in problem


@given(st.text(alphabet="0123456789", min_size=12, max_size=12), st.integers(0, 9))
def test_only_the_computed_check_digit_is_accepted(body: str, last: int) -> None:
    ok = barcode_problem(body + str(last)) is None
    assert ok == (last == check_digit(body))


def test_full_width_codes_fold_to_half_width() -> None:
    assert fold("　ＴＥＡ－００１ ") == "TEA-001"


def test_names_match_whatever_the_width_case_spaces_and_spec_order() -> None:
    assert name_key("T恤 红色 XL") == name_key("ｔ恤  ＸＬ／红色") == name_key("T恤(xl,红色)")
    assert name_key("T恤 红色 XL") != name_key("T恤 蓝色 XL")


@pytest.mark.parametrize(("value", "expected"), [("12", 12), ("１２", 12), ("12.0", 12), ("1,200", 1200), (7, 7)])
def test_whole_numbers_are_read_as_people_write_them(value: object, expected: int) -> None:
    assert cells.whole(value) == expected


@pytest.mark.parametrize(("value", "message"), [("-3", "cannot be negative"), ("2.5", "must be a whole number"),
                                                ("ten", "is not a number"), ("", "is not a number")])
def test_bad_quantities_are_refused_with_a_plain_message(value: str, message: str) -> None:
    with pytest.raises(cells.CellError, match=message):
        cells.whole(value)


@pytest.mark.parametrize("value", ["2025-01-31", "2025/1/31", "2025.01.31", "20250131", "2025年1月31日",
                                   date(2025, 1, 31)])
def test_dates_in_the_usual_forms_are_read(value: object) -> None:
    assert cells.calendar_date(value) == date(2025, 1, 31)


@pytest.mark.parametrize("value", ["2025-13-45", "31/01/2025", "next week", "2025-02-30"])
def test_bad_dates_are_refused(value: str) -> None:
    with pytest.raises(cells.CellError):
        cells.calendar_date(value)


def test_components_read_with_full_width_marks_and_default_quantity() -> None:
    assert parse_components("A*2；Ｂ＊3;C") == [Part("A", 2), Part("B", 3), Part("C", 1)]


@pytest.mark.parametrize(("cell", "message"), [("A*x", "whole number"), ("*2", "no SKU"), ("A*0", "above 0"),
                                               ("A*1;A*2", "listed twice")])
def test_bad_components_say_what_is_wrong(cell: str, message: str) -> None:
    with pytest.raises(ComponentsError, match=message):
        parse_components(cell)


def test_a_loop_through_other_bundles_is_found_with_its_path() -> None:
    contents = {"K1": ["A", "K2"], "K2": ["K3"], "K3": ["K1"]}
    assert find_cycle("K1", contents) == ["K1", "K2", "K3", "K1"]
    assert find_cycle("K1", {"K1": ["A"], "A": []}) is None
