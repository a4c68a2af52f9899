"""Reading posted form fields into values, with the error shown next to each field in the visitor's
language. Parsing only: the rules (what a quantity may be for each move) stay in the services."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from omnistock.domain.stock import MoveKind, on_hand_delta
from omnistock.errors import Invalid, OmnistockError
from omnistock.web.context import Form
from omnistock.web.i18n import Text
from omnistock.web.problems import field_message, headline

WHOLE = re.compile(r"^[+-]?\d{1,9}$")
# A change this big, or one that takes away more than half of what is on hand, is confirmed before it is
# posted: a slip of the finger (1000 for 100) is the commonest stock error there is.
LARGE_UNITS = 100


class Errors(dict[str, str]):
    """Messages by field name of one form (falsy when the form is fine). A service error naming one of the
    form's fields goes next to it; any other goes to the top of the form ("form")."""

    def __init__(self, *fields: str) -> None:
        super().__init__()
        self.fields = frozenset(fields)

    def take(self, exc: OmnistockError, text: Text) -> None:
        """Place a service error; an Invalid listing several fields places each of them."""
        listed = exc.errors if isinstance(exc, Invalid) else []
        if listed:
            for item in listed:
                where = item.get("field", "")
                self[where if where in self.fields else "form"] = f"{headline(exc, text)} ({item.get('message', '')})"
            return
        self[exc.field if exc.field in self.fields else "form"] = field_message(exc, text)


def whole(form: Form, name: str, text: Text, errors: Errors, *, required: bool = True,
          default: int | None = None) -> int | None:
    raw = form.get(name)
    if not raw:
        if required:
            errors[name] = text.gettext("Required.")
        return default
    if not WHOLE.match(raw):
        errors[name] = text.gettext("Enter a whole number.")
        return default
    return int(raw)


def decimal_number(form: Form, name: str, text: Text, errors: Errors) -> Decimal | None:
    """An optional decimal (money, percent), never a float."""
    raw = form.get(name).replace(",", "")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        errors[name] = text.gettext("Enter a number.")
        return None
    return value


def required_text(form: Form, name: str, text: Text, errors: Errors, *, max_length: int = 2000) -> str:
    value = form.get(name)
    if not value:
        errors[name] = text.gettext("Required.")
    elif len(value) > max_length:
        errors[name] = text.gettext("At most %(n)s characters.", n=max_length)
    return value


def optional_text(form: Form, name: str, text: Text, errors: Errors, *, max_length: int = 200) -> str | None:
    value = form.get(name)
    if len(value) > max_length:
        errors[name] = text.gettext("At most %(n)s characters.", n=max_length)
    return value or None


def is_large_change(kind: MoveKind, qty: int, on_hand: int) -> bool:
    """Whether a manual move should be confirmed first: it changes on hand by LARGE_UNITS or more, or takes
    more than half of what is on hand at the location (a transfer takes `qty` from its source)."""
    delta = -qty if kind is MoveKind.TRANSFER else on_hand_delta(kind, qty, on_hand)
    if abs(delta) >= LARGE_UNITS:
        return True
    return delta < 0 and on_hand > 0 and -delta * 2 > on_hand
