"""Alert messages, order hold reasons and service errors in the visitor's language. The services store them as
English sentences for logs, the API and notifications; the console says them again from what they are made of
(an alert's kind and detail, a hold reason's cause and values, an error's type and fields), and shows the stored
text only where it has nothing structured to go by."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from omnistock.errors import (
    ChannelError,
    InsufficientStock,
    OmnistockError,
    PlatformAuthFailed,
    PlatformInvalid,
    PlatformNotFound,
    PlatformThrottled,
    PlatformTransient,
)
from omnistock.watch.alerts import Names
from omnistock.watch.tables import Alert
from omnistock.web.i18n import Formats, Text

# The hold reasons the services write, "cause: detail" (services.orders, services.ledger, sync.intake,
# watch.holds, money.presale): each detail pattern gives the values of the console's own sentence.
_WANTED = re.compile(r"(\S+) wanted (\d+), reservable (-?\d+)")
_SHORTFALL = re.compile(r"^(.+) at (.+) fell below what was reserved$")
_UNMAPPED = re.compile(r"^platform item\(s\) (.+) map to no SKU$")
_DRIFT = re.compile(r"^(.+) shows (.+) on (.+), should show (.+) \(reconciliation #(\d+)\)")
_UNUSUAL = re.compile(r"^(.+) qty (\d+) is over (\S+)x the usual (\S+) \(last (\S+) days\)")
PRESALE_GONE = "pre-sale cover is gone"


def hold_cause(text: Text, reason: str | None) -> str:
    """The cause of a hold in a few words (a column of the held list)."""
    _ = text.gettext
    causes = {"insufficient_stock": _("Not enough stock"), "stock_shortfall": _("Stock fell short"),
              "unmapped": _("Platform item not mapped"), "drift": _("Platform shows other stock"),
              "unusual_quantity": _("Unusual quantity")}
    cause = (reason or "").split(":", 1)[0].strip()
    return causes.get(cause, reason or "")


def hold_reason(text: Text, reason: str | None) -> str:
    """The whole reason an order is held, in the visitor's language; the stored text when its cause or shape
    is not one the console knows."""
    if not reason:
        return ""
    cause, _sep, detail = reason.partition(":")
    said = _HOLDS.get(cause.strip(), _unknown)(text, detail.strip())
    return said or reason


def _unknown(text: Text, detail: str) -> str | None:
    return None


def _insufficient(text: Text, detail: str) -> str | None:
    lines = _WANTED.findall(detail)
    if not lines:
        return None
    said = _separator(text).join(text.gettext("%(sku)s: %(wanted)s wanted, %(free)s can be reserved", sku=sku,
                                              wanted=wanted, free=free) for sku, wanted, free in lines)
    out = text.gettext("Not enough stock: %(lines)s", lines=said)
    if PRESALE_GONE in detail:
        out += _separator(text) + text.gettext("the pre-sale cover is gone")
    return out


def _separator(text: Text) -> str:
    """Between the parts of one sentence ("；" in Chinese)."""
    return text.pgettext("list separator", "; ")


def _shortfall(text: Text, detail: str) -> str | None:
    found = _SHORTFALL.match(detail)
    if not found:
        return None
    return text.gettext("Stock fell short: %(sku)s at %(location)s fell below what was reserved",
                        sku=found[1], location=found[2])


def _unmapped(text: Text, detail: str) -> str | None:
    found = _UNMAPPED.match(detail)
    if not found:
        return None
    return text.gettext("Not mapped: platform item(s) %(items)s map to no SKU", items=found[1])


def _drift(text: Text, detail: str) -> str | None:
    found = _DRIFT.match(detail)
    if not found:
        return None
    shown = text.gettext("nothing") if found[2] == "nothing" else found[2]
    return text.gettext("Platform shows other stock: %(sku)s shows %(shown)s on %(channel)s, should show "
                        "%(expected)s (reconciliation #%(run)s); held until the difference is gone",
                        sku=found[1], shown=shown, channel=found[3], expected=found[4], run=found[5])


def _unusual(text: Text, detail: str) -> str | None:
    found = _UNUSUAL.match(detail)
    if not found:
        return None
    return text.gettext("Unusual quantity: %(sku)s × %(qty)s is over %(factor)s times the usual %(usual)s "
                        "(last %(days)s days); release it by hand once checked",
                        sku=found[1], qty=found[2], factor=found[3], usual=found[4], days=found[5])


_HOLDS: dict[str, Callable[[Text, str], str | None]] = {
    "insufficient_stock": _insufficient, "stock_shortfall": _shortfall, "unmapped": _unmapped, "drift": _drift,
    "unusual_quantity": _unusual}


# --- alerts -------------------------------------------------------------------------------------------------------


class AlertWords:
    """An alert's message in the visitor's language, from its kind, its detail and the codes it refers to."""

    def __init__(self, text: Text, fmt: Formats) -> None:
        self.text, self.fmt = text, fmt

    def __call__(self, alert: Alert, names: Names) -> str:
        say = _ALERTS.get(alert.kind)
        if say is None:
            return alert.message
        values = {"sku": names.skus.get(alert.sku_id, "") if alert.sku_id else "",
                  "channel": names.channels.get(alert.channel_id, "") if alert.channel_id else ""}
        try:
            return say(self, alert, alert.detail or {}, values) or alert.message
        except (KeyError, TypeError, ValueError, IndexError, ArithmeticError):
            # An alert stored before its detail had this shape: its own sentence is all there is to show.
            return alert.message

    def _low_stock(self, alert: Alert, d: dict[str, Any], v: dict[str, str]) -> str:
        if d.get("cover_days") is None or int(d["available"]) <= int(d["threshold"]):
            return self.text.gettext("%(sku)s is low: %(available)s available (threshold %(threshold)s)",
                                     sku=v["sku"], available=self.fmt.number(d["available"]),
                                     threshold=self.fmt.number(d["threshold"]))
        return self.text.gettext("%(sku)s is low: %(available)s available, %(days)s days of cover at %(rate)s a day",
                                 sku=v["sku"], available=self.fmt.number(d["available"]),
                                 days=self.fmt.number(d["cover_days"]), rate=self.fmt.number(d["daily_sales"]))

    def _order(self, alert: Alert, d: dict[str, Any], v: dict[str, str]) -> str:
        why = hold_reason(self.text, d.get("reason"))
        if alert.kind == "oversell":
            return self.text.gettext("Order %(order)s on %(channel)s oversold: it could not be reserved (%(why)s)",
                                     order=d["external_id"], channel=v["channel"], why=why)
        return self.text.gettext("Order %(order)s on %(channel)s held (%(why)s)", order=d["external_id"],
                                 channel=v["channel"], why=why)

    def _drift(self, alert: Alert, d: dict[str, Any], v: dict[str, str]) -> str | None:
        t = self.text
        if "skus" in d:
            return t.ngettext("%(channel)s: %(num)s more SKU shows other quantities than it should",
                              "%(channel)s: %(num)s more SKUs show other quantities than they should",
                              int(d["skus"]), channel=v["channel"])
        listings = d["listings"]
        if int(d.get("count", len(listings))) > 1:
            return t.ngettext("%(channel)s: %(num)s listing of %(sku)s shows another quantity than it should",
                              "%(channel)s: %(num)s listings of %(sku)s show other quantities than they should",
                              int(d["count"]), channel=v["channel"], sku=v["sku"])
        one = listings[0]
        if one["kind"] == "missing":
            return t.gettext("%(channel)s: listing %(item)s of %(sku)s is missing on the platform",
                             channel=v["channel"], item=one["external_id"], sku=v["sku"])
        if one["kind"] == "overrun":
            return t.ngettext("%(channel)s: %(sku)s (%(item)s) sold %(num)s unit beyond what omnistock let it show: "
                              "its stock was changed on the platform",
                              "%(channel)s: %(sku)s (%(item)s) sold %(num)s units beyond what omnistock let it "
                              "show: its stock was changed on the platform",
                              int(one["units"]), channel=v["channel"], sku=v["sku"], item=one["external_id"])
        return t.gettext("%(channel)s: %(sku)s (%(item)s) shows %(platform)s, should show %(expected)s",
                         channel=v["channel"], sku=v["sku"], item=one["external_id"],
                         platform=self.fmt.number(one["platform"]), expected=self.fmt.number(one["expected"]))

    def _unmapped(self, alert: Alert, d: dict[str, Any], v: dict[str, str]) -> str:
        items = [str(i["external_id"]) for i in d["items"]]
        shown = ", ".join(items[:5]) + ("…" if int(d["count"]) > 5 else "")
        return self.text.ngettext("%(channel)s: %(num)s platform item with stock maps to no SKU (%(items)s)",
                                  "%(channel)s: %(num)s platform items with stock map to no SKU (%(items)s)",
                                  int(d["count"]), channel=v["channel"], items=shown)

    def _sync_failing(self, alert: Alert, d: dict[str, Any], v: dict[str, str]) -> str | None:
        t = self.text
        if "failing" in d:
            return t.ngettext("%(channel)s: %(num)s listing failing to push since %(since)s",
                              "%(channel)s: %(num)s listings failing to push since %(since)s",
                              int(d["failing"]), channel=v["channel"],
                              since=self.fmt.datetime(datetime.fromisoformat(d["failing_since"])))
        if "backlog" in d:
            return t.ngettext("%(channel)s: %(num)s change waiting, the oldest for %(age)s",
                              "%(channel)s: %(num)s changes waiting, the oldest for %(age)s",
                              int(d["backlog"]), channel=v["channel"],
                              age=self.fmt.duration(float(d["oldest_seconds"])))
        if d.get("breaker") == "open":
            return t.gettext("%(channel)s: circuit breaker open, the platform keeps failing", channel=v["channel"])
        return None

    def _intake_silent(self, alert: Alert, d: dict[str, Any], v: dict[str, str]) -> str:
        last = self.fmt.datetime(datetime.fromisoformat(d["last_order_at"]))
        return self.text.gettext("%(channel)s: no order since %(last)s; it usually takes one every %(gap)s min",
                                 channel=v["channel"], last=last,
                                 gap=self.fmt.number(max(1, round(float(d["usual_gap_minutes"])))))

    def _signature(self, alert: Alert, d: dict[str, Any], v: dict[str, str]) -> str:
        return self.text.gettext("%(channel)s: webhook deliveries with a bad signature (last from %(client)s)",
                                 channel=v["channel"], client=d["last_client"])

    def _sla(self, alert: Alert, d: dict[str, Any], v: dict[str, str]) -> str | None:
        t = self.text
        clocks = {"first_response": t.gettext("first response"), "resolution": t.gettext("resolution")}
        if d["level"] == "breached":
            said = t.gettext("Case %(case)s: %(clock)s overdue (due %(due)s)", case=d["case_id"],
                             clock=clocks[d["clock"]], due=self.fmt.datetime(d["due"]))
        elif d["level"] == "near_breach":
            said = t.gettext("Case %(case)s: %(clock)s due soon (due %(due)s)", case=d["case_id"],
                             clock=clocks[d["clock"]], due=self.fmt.datetime(d["due"]))
        else:
            return None
        # The stored sentence ends with the case's subject, as the customer or agent wrote it.
        subject = alert.message.rsplit(" — ", 1)[1] if " — " in alert.message else ""
        return f"{said} — {subject}" if subject else said


_ALERTS: dict[str, Callable[[AlertWords, Alert, dict[str, Any], dict[str, str]], str | None]] = {
    "low_stock": AlertWords._low_stock, "oversell": AlertWords._order, "order_held": AlertWords._order,
    "drift": AlertWords._drift, "unmapped": AlertWords._unmapped, "sync_failing": AlertWords._sync_failing,
    "intake_silent": AlertWords._intake_silent, "webhook_signature": AlertWords._signature,
    "sla_breach": AlertWords._sla}


# --- service errors -----------------------------------------------------------------------------------------------


def platform_problem(exc: ChannelError, text: Text) -> str:
    """What a platform's refusal means, in the visitor's language, with the platform's own words after it."""
    _ = text.gettext
    if isinstance(exc, PlatformAuthFailed):
        kind = _("The platform refused the credentials")
    elif isinstance(exc, PlatformThrottled):
        kind = _("The platform asks to slow down")
    elif isinstance(exc, PlatformNotFound):
        kind = _("The platform does not know this item or shop")
    elif isinstance(exc, PlatformInvalid):
        kind = _("The platform rejected the request")
    elif isinstance(exc, PlatformTransient):
        kind = _("The platform is not answering right now")
    else:
        kind = _("The platform call failed")
    return f"{kind}: {exc.message}"


def error_detail(exc: OmnistockError, text: Text) -> str:
    """An error's precise reason: said again in the visitor's language where the error carries its values
    (stock shortfalls, platform failures), else the service's own sentence (which names the wrong value)."""
    if isinstance(exc, InsufficientStock) and exc.shortfalls:
        return _separator(text).join(text.gettext("%(sku)s: %(wanted)s wanted, %(free)s can be reserved",
                                                  sku=s.sku, wanted=s.wanted, free=s.reservable)
                                     for s in exc.shortfalls)
    if isinstance(exc, ChannelError):
        return platform_problem(exc, text)
    return exc.message
