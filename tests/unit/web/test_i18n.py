"""Choosing the language, the catalogs, and locale formats (no database, no network)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from omnistock.web import catalog, i18n


@pytest.mark.parametrize(("query", "cookie", "header", "expected"), [
    (None, None, None, "zh_CN"),
    (None, None, "en-US,en;q=0.9", "en"),
    (None, None, "fr-FR,fr;q=0.9,en;q=0.5", "en"),
    (None, None, "en;q=0.3,zh-CN;q=0.8", "zh_CN"),
    (None, None, "zh-TW", "zh_CN"),
    (None, None, "de, *;q=0.1", "zh_CN"),
    (None, "en", "zh-CN", "en"),
    ("zh-CN", "en", "en", "zh_CN"),
    ("en", None, "zh-CN", "en"),
    ("klingon", "en", None, "en"),
])
def test_language_comes_from_query_then_cookie_then_browser_then_chinese(query: str | None, cookie: str | None,
                                                                         header: str | None, expected: str) -> None:
    assert i18n.choose(query, cookie, header).locale == expected


def test_only_a_language_asked_in_the_query_is_remembered() -> None:
    assert i18n.choose("en", None, None).remember
    assert not i18n.choose(None, "en", None).remember
    assert not i18n.choose("nonsense", None, "en").remember


def test_every_message_of_the_console_has_a_chinese_translation() -> None:
    assert catalog.untranslated("zh_CN") == []


def test_sku_figures_are_labelled_in_both_languages() -> None:
    zh, en = i18n.Text("zh_CN"), i18n.Text("en")
    assert [en.gettext(m) for m in ("On hand", "Reserved", "Available")] == ["On hand", "Reserved", "Available"]
    assert [zh.gettext(m) for m in ("On hand", "Reserved", "Available")] == ["实物库存", "预占", "可售"]


def test_placeholders_are_filled_after_translation() -> None:
    zh = i18n.Text("zh_CN")
    assert zh.gettext("Page %(page)s of %(pages)s", page=2, pages=7) == "第 2 页，共 7 页"
    assert zh.pgettext("order status", "Held") == "已挂起"


def test_times_are_shown_in_the_merchants_zone() -> None:
    moment = datetime(2026, 11, 11, 16, 30, tzinfo=timezone.utc)  # 00:30 on the 12th in Shanghai
    zh = i18n.Formats("zh_CN", ZoneInfo("Asia/Shanghai"))
    en = i18n.Formats("en", ZoneInfo("Asia/Shanghai"))
    assert "11月12日" in zh.datetime(moment) and "00:30" in zh.datetime(moment)
    assert "Nov 12, 2026" in en.datetime(moment) and "12:30" in en.datetime(moment)
    assert en.hour(moment) == "00:30"


def test_numbers_and_money_follow_the_locale() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    assert i18n.Formats("en", zone).number(1234567) == "1,234,567"
    assert i18n.Formats("zh_CN", zone).money(Decimal("1234.5"), "CNY") == "¥1,234.50"
    assert i18n.Formats("en", zone).money(Decimal("12"), "USD") == "$12.00"
    assert i18n.Formats("en", zone).number(None) == "—"


def test_a_countdown_goes_negative_once_the_time_is_up() -> None:
    fmt = i18n.Formats("en", ZoneInfo("UTC"))
    now = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
    assert fmt.countdown(datetime(2026, 1, 1, 12, 29, 30, tzinfo=timezone.utc), now) == "29:30"
    assert fmt.countdown(datetime(2026, 1, 1, 14, 0, 5, tzinfo=timezone.utc), now) == "2:00:05"
    assert fmt.countdown(datetime(2026, 1, 1, 11, 58, 0, tzinfo=timezone.utc), now) == "-2:00"
