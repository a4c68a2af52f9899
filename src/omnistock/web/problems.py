"""Errors as a person reads them: a sentence in the visitor's language, with the service's own message
kept as the detail (services speak English, and their message names the exact value that was wrong)."""

from __future__ import annotations

from omnistock.errors import Conflict, Forbidden, InsufficientStock, Invalid, NotFound, OmnistockError
from omnistock.web.context import CsrfRefused
from omnistock.web.i18n import Text


def headline(exc: OmnistockError, text: Text) -> str:
    _ = text.gettext
    if isinstance(exc, CsrfRefused):
        return _("This form is out of date or did not come from the console. Reload the page and try again.")
    if isinstance(exc, InsufficientStock):
        return _("Not enough free stock.")
    if isinstance(exc, Forbidden):
        return _("You are not allowed to do this.")
    if isinstance(exc, NotFound):
        return _("Not found.")
    if isinstance(exc, Conflict):
        return _("This cannot be done in the current state.")
    if isinstance(exc, Invalid):
        return _("Please correct the value.")
    return _("The request could not be completed.")


def field_message(exc: OmnistockError, text: Text) -> str:
    """What to show next to the offending field: the headline and the precise reason (said in the visitor's
    language where the error carries its values)."""
    from omnistock.web.wording import error_detail

    return f"{headline(exc, text)} ({error_detail(exc, text)})"
