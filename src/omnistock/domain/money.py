"""Currency codes and the one rounding rule for money, shared by compensation, costing and reports.

Rounding rule: an amount of money is rounded to its currency's minor unit (2 decimals for CNY, USD,
EUR...; 0 for JPY, KRW...; 3 for KWD, BHD...) with ROUND_HALF_UP, i.e. half away from zero, so
0.005 CNY becomes 0.01 and -0.005 CNY becomes -0.01. Money is Decimal, never float.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

from omnistock.errors import Invalid

# Minor units from ISO 4217. A built-in list of the currencies our merchants and their suppliers use,
# not the whole standard: an unknown code is far more often a typo than a real currency.
MINOR_UNITS: Mapping[str, int] = MappingProxyType({
    # Greater China and East Asia
    "CNY": 2, "HKD": 2, "MOP": 2, "TWD": 2, "JPY": 0, "KRW": 0, "MNT": 2,
    # South-east and South Asia
    "SGD": 2, "MYR": 2, "THB": 2, "VND": 0, "IDR": 2, "PHP": 2, "KHR": 2, "LAK": 2, "MMK": 2,
    "BND": 2, "INR": 2, "PKR": 2, "BDT": 2, "LKR": 2, "NPR": 2,
    # Oceania
    "AUD": 2, "NZD": 2,
    # Americas
    "USD": 2, "CAD": 2, "MXN": 2, "BRL": 2, "ARS": 2, "CLP": 0, "COP": 2, "PEN": 2,
    # Europe
    "EUR": 2, "GBP": 2, "CHF": 2, "SEK": 2, "NOK": 2, "DKK": 2, "ISK": 0, "PLN": 2, "CZK": 2,
    "HUF": 2, "RON": 2, "BGN": 2, "RUB": 2, "UAH": 2, "TRY": 2, "KZT": 2,
    # Middle East and Africa
    "AED": 2, "SAR": 2, "QAR": 2, "ILS": 2, "EGP": 2, "ZAR": 2, "NGN": 2, "KES": 2,
    "KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3, "TND": 3,
})


def is_currency(code: str) -> bool:
    """True for a known ISO 4217 code, written as the standard writes it (upper case, e.g. "CNY")."""
    return code in MINOR_UNITS


def require_currency(code: str, *, field: str = "currency") -> str:
    """Return `code` if it is a known currency, else raise Invalid naming `field`."""
    if not is_currency(code):
        raise Invalid(f"unknown currency code {code!r} (expected an ISO 4217 code such as CNY)", field=field)
    return code


def minor_unit(currency: str) -> int:
    """How many decimals an amount in `currency` carries (2 for CNY, 0 for JPY)."""
    return MINOR_UNITS[require_currency(currency)]


def round_to_places(amount: Decimal, places: int) -> Decimal:
    """Round half away from zero to `places` decimals; the exponent is fixed so 10 becomes 10.00."""
    _refuse_float(amount)
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round `amount` to the minor unit of `currency` with ROUND_HALF_UP."""
    return round_to_places(amount, minor_unit(currency))


def _refuse_float(amount: object) -> None:
    # A float has already lost the cents before it reaches us; fail loudly instead of rounding noise.
    if isinstance(amount, float):
        raise TypeError("money must be Decimal, not float")
