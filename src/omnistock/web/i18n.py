"""Languages of the console: zh-CN (default) and English. Text goes through gettext catalogs (Babel .po
files shipped in the package, compiled in memory when first used); numbers, money, dates and times are
formatted per locale, times in the merchant's zone."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("zh_CN", "en")  # Babel identifiers; English is the language the messages are written in
DEFAULT = "zh_CN"
TAGS = {"zh_CN": "zh-CN", "en": "en"}  # as in ?lang= and <html lang>
COOKIE = "omnistock_lang"
CATALOGS = Path(__file__).with_name("locale")


def locale_of_tag(tag: str | None) -> str | None:
    """Our locale for a language tag (zh, zh-CN, zh-Hans-CN, en-GB, zh_CN ...), or None."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    if primary == "zh":
        return "zh_CN"
    if primary == "en":
        return "en"
    return None


def from_accept_language(header: str | None) -> str | None:
    """The first of our locales the browser asks for, by q-value (RFC 9110), or None."""
    wanted: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            wanted.append((-q, index, tag))
    for _q, _i, tag in sorted(wanted):
        found = locale_of_tag(tag)
        if found:
            return found
    return None


@dataclass(frozen=True)
class Choice:
    locale: str
    remember: bool  # the choice came from ?lang= and should be kept in the cookie


def choose(query: str | None, cookie: str | None, accept_language: str | None) -> Choice:
    """?lang= wins and is remembered; then the remembered choice; then the browser's languages."""
    asked = locale_of_tag(query)
    if asked:
        return Choice(asked, True)
    return Choice(locale_of_tag(cookie) or from_accept_language(accept_language) or DEFAULT, False)


@cache
def translations(locale: str) -> NullTranslations:
    """The catalog of a locale, compiled from its .po file in memory (no build step, nothing written)."""
    po = CATALOGS / locale / "LC_MESSAGES" / "messages.po"
    if not po.is_file():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


class Text:
    """gettext for one locale; keyword arguments fill %(name)s placeholders after translation."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._t = translations(locale)

    def gettext(self, message: str, **values: Any) -> str:
        text = self._t.gettext(message)
        return text % values if values else text

    def pgettext(self, context: str, message: str, **values: Any) -> str:
        """A word whose translation depends on where it is used (an order status, a figure...)."""
        text = str(self._t.pgettext(context, message))
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        text = self._t.ngettext(singular, plural, n)
        return text % {"num": n, **values}


class Formats:
    """Numbers, money and times for one locale, times shown in the merchant's zone."""

    def __init__(self, locale: str, zone: ZoneInfo) -> None:
        self.locale, self.zone = locale, zone

    def number(self, value: int | float | Decimal | None) -> str:
        return "—" if value is None else numbers.format_decimal(value, locale=self.locale)

    def money(self, amount: Decimal | str | None, currency: str | None) -> str:
        if amount is None:
            return "—"
        return numbers.format_currency(Decimal(str(amount)), currency or "CNY", locale=self.locale)

    def datetime(self, value: dt.datetime | str | None) -> str:
        """A moment in the merchant's zone; ISO text (as feature views give it) is read first."""
        if value is None or value == "":
            return "—"
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return dates.format_datetime(value, "medium", tzinfo=self.zone, locale=self.locale)

    def time(self, value: dt.datetime | None) -> str:
        return "—" if value is None else dates.format_time(value, "short", tzinfo=self.zone, locale=self.locale)

    def hour(self, value: dt.datetime) -> str:
        return dates.format_time(value, "HH:mm", tzinfo=self.zone, locale=self.locale)

    def iso(self, value: dt.datetime | None) -> str:
        return "" if value is None else value.astimezone(self.zone).isoformat()

    def duration(self, seconds: float | None) -> str:
        if seconds is None:
            return "—"
        return dates.format_timedelta(dt.timedelta(seconds=seconds), threshold=1, locale=self.locale)

    def countdown(self, due: dt.datetime | None, now: dt.datetime) -> str:
        """Time left as h:mm:ss (or m:ss), with a minus sign once it has run out (console.js keeps it ticking)."""
        if due is None:
            return "—"
        left = round((due - now).total_seconds())
        sign, left = ("-" if left < 0 else ""), abs(left)
        hours, minutes, seconds = left // 3600, left % 3600 // 60, left % 60
        return f"{sign}{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{sign}{minutes}:{seconds:02d}"

    def milliseconds(self, value: float | None) -> str:
        return "—" if value is None else numbers.format_decimal(round(value), locale=self.locale) + " ms"
