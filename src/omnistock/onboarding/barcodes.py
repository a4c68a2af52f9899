"""EAN/UPC barcodes: the GS1 check digit of EAN-8, UPC-A (12), EAN-13 and GTIN-14."""

from __future__ import annotations

LENGTHS = (8, 12, 13, 14)


def check_digit(body: str) -> int:
    """The GS1 check digit for the digits before it: weights 3 and 1 alternate from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def barcode_problem(code: str) -> str | None:
    """None for a well-formed EAN/UPC, else why it is not one."""
    if not code.isdigit() or not code.isascii():
        return "a barcode is digits only (EAN-8, UPC-A, EAN-13 or GTIN-14)"
    if len(code) not in LENGTHS:
        return f"a barcode has 8, 12, 13 or 14 digits, not {len(code)}"
    expected = check_digit(code[:-1])
    if int(code[-1]) != expected:
        return f"wrong check digit: the last digit should be {expected}"
    return None
