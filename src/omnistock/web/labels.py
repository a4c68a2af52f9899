"""Words the templates show for codes (roles, sync states, move kinds, policy kinds, reconciliation states) and
the main menu, in the visitor's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from omnistock.web.i18n import Text


def role_label(text: Text) -> Callable[[str], str]:
    _ = text.gettext
    names = {"admin": _("Administrator"), "operator": _("Operator"), "agent": _("Service agent"),
             "viewer": _("Viewer")}
    return lambda role: names.get(role, role)


def state_label(text: Text) -> Callable[[str], str]:
    _ = text.gettext
    names = {"in_sync": _("In sync"), "backlog": _("Backlog"), "failing": _("Failing"),
             "breaker_open": _("Breaker open"), "disabled": _("Disabled"), "passive": _("Not pushed")}
    return lambda state: names.get(state, state)


def move_label(text: Text) -> Callable[[str], str]:
    _ = text.gettext
    names = {"receipt": _("Receive"), "adjustment": _("Adjust"), "count": _("Count"), "transfer": _("Transfer"),
             "sale": _("Sale"), "return": _("Return")}
    return lambda kind: names.get(kind, kind)


def policy_label(text: Text) -> Callable[[str], str]:
    _ = text.gettext
    names = {"shared": _("Shared: all available stock"), "share": _("Share: a percentage"),
             "fixed": _("Fixed: a set quantity"), "partition": _("Partition when low")}
    return lambda kind: names.get(kind, kind)


def menu(text: Text, extra: list[tuple[str, str]]) -> Callable[[], list[tuple[str, str]]]:
    _ = text.gettext
    items = [("/", _("Dashboard")), ("/skus", _("SKUs")), ("/orders", _("Orders")), ("/channels", _("Channels")),
             *extra, ("/reports", _("Alerts & reports"))]
    return lambda: items


def status_label(text: Text) -> Callable[[str], str]:
    names = {"reserved": text.pgettext("order status", "Reserved"), "held": text.pgettext("order status", "Held"),
             "shipped": text.pgettext("order status", "Shipped"),
             "cancelled": text.pgettext("order status", "Cancelled"),
             "returned": text.pgettext("order status", "Returned")}
    return lambda status: names.get(status, status)


def event_label(text: Text) -> Callable[[str], str]:
    names = {"created": text.pgettext("order event", "Taken in"),
             "reserved": text.pgettext("order event", "Stock reserved"),
             "held": text.pgettext("order event", "Held"), "released": text.pgettext("order event", "Released"),
             "shipped": text.pgettext("order event", "Shipped"),
             "cancelled": text.pgettext("order event", "Cancelled"),
             "returned": text.pgettext("order event", "Returned")}
    return lambda kind: names.get(kind, kind)


def kind_name(text: Text) -> Callable[[str], str]:
    _ = text.gettext
    names = {"shopify": "Shopify", "woocommerce": "WooCommerce", "taobao": _("Taobao / Tmall"), "jd": _("JD.com"),
             "pinduoduo": _("Pinduoduo"), "douyin": _("Douyin shop"), "webhook": _("Own shop (webhook)"),
             "manual": _("Manual (offline sales)"), "feed": _("Store or distributor feed")}
    return lambda kind: names.get(kind, kind)


def for_templates(text: Text, menu_extras: list[tuple[str, str]]) -> dict[str, Callable[..., Any]]:
    """Every label function, as the templates call them."""
    kinds, policies = kind_name(text), policy_label(text)
    return {"role_label": role_label(text), "state_label": state_label(text), "move_label": move_label(text),
            "policy_label": policies, "status_label": status_label(text), "event_label": event_label(text),
            "kind_name": kinds, "nav_items": menu(text, menu_extras),
            "kind_choices": lambda codes: [(k, kinds(k)) for k in codes],
            "policy_choices": lambda codes: [(k, policies(k)) for k in codes], **care_labels(text),
            **watch_labels(text)}


def watch_labels(text: Text) -> dict[str, Callable[[str], str]]:
    """Reconciliation runs (status, mode) and their differences (kind, action, status). Each pgettext call is
    spelled out: the catalog tool finds messages by the function's name."""
    tables = {
        "run_status_label": {"running": text.pgettext("reconciliation", "Running"),
                             "done": text.pgettext("reconciliation", "Done"),
                             "failed": text.pgettext("reconciliation", "Failed")},
        "run_mode_label": {"heal": text.pgettext("reconciliation mode", "Heal"),
                           "alert": text.pgettext("reconciliation mode", "Alert only"),
                           "hold": text.pgettext("reconciliation mode", "Hold orders")},
        "difference_kind_label": {"drift": text.pgettext("difference", "Drift"),
                                  "missing": text.pgettext("difference", "Missing on platform"),
                                  "unmapped": text.pgettext("difference", "Not mapped"),
                                  "stale": text.pgettext("difference", "Push pending")},
        "difference_action_label": {"heal": text.pgettext("difference action", "Push again"),
                                    "alert": text.pgettext("difference action", "Alert"),
                                    "hold": text.pgettext("difference action", "Hold orders"),
                                    "none": text.pgettext("difference action", "None")},
        "difference_status_label": {"open": text.pgettext("difference status", "Open"),
                                    "healing": text.pgettext("difference status", "Being pushed again"),
                                    "healed": text.pgettext("difference status", "Healed"),
                                    "gone": text.pgettext("difference status", "Gone"),
                                    "superseded": text.pgettext("difference status", "Found again later")},
    }
    return {name: _lookup(names) for name, names in tables.items()}


def care_labels(text: Text) -> dict[str, Callable[[str], str]]:
    """Case statuses, priorities, compensation kinds and statuses, message channels."""
    _ = text.gettext
    tables = {
        "case_status_label": {"new": _("New"), "open": _("Open"), "waiting_on_customer": _("Waiting on customer"),
                              "resolved": _("Resolved"), "closed": _("Closed"), "reopen": _("Reopen")},
        "priority_label": {"low": _("Low priority"), "normal": _("Normal"), "high": _("High"), "urgent": _("Urgent")},
        "compensation_label": {"standard": _("Standard (from the compensation table)"), "coupon": _("Coupon"),
                               "partial_refund": _("Partial refund"), "full_refund": _("Full refund"),
                               "reship": _("Send again"), "gift": _("Gift"), "granted": _("Granted"),
                               "pending_approval": _("Waiting for approval"), "rejected": _("Rejected")},
        "message_status_label": {"draft": _("Draft, not sent"), "queued": _("Sending"), "sent": _("Sent"),
                                 "failed": _("Not delivered"), "recorded": _("Recorded"), "received": _("Received")},
        "severity_label": {"critical": _("Critical"), "warning": _("Warning"), "info": _("Info")},
        "alert_status_label": {"open": _("Open"), "acknowledged": _("Acknowledged"), "resolved": _("Resolved")},
        "reply_channel_label": {"auto": _("Automatic"), "email": _("E-mail"), "sms": _("SMS"),
                                "chat": _("Platform chat"), "manual": _("Answered elsewhere (record only)")},
    }
    return {name: _lookup(names) for name, names in tables.items()}


def _lookup(names: dict[str, str]) -> Callable[[str], str]:
    return lambda code: names.get(code, code)
