"""Numbers as people read them, one way for every export.

A value is rounded half away from zero to its indicator's precision from the number as it is
written (its shortest decimal spelling), not from the binary double underneath: 90.05 is
90.04999... in binary, so ``round(90.05, 1)`` and ``f"{90.05:.1f}"`` give 90.0 where a reader
(and the warehouse's round_to macro, in DuckDB and PostgreSQL alike) expects 90.1. It is then
written with exactly that many decimals: 597 kg, not 597.0 kg.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal

_WHOLE = Context(prec=400)  # a double's whole part has at most 309 digits (the default 28 raised on 1e28)


def rounded(value: float, precision: int) -> Decimal:
    """``value`` to ``precision`` decimals, half away from zero, from its shortest spelling."""
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP)


def format_number(value: float | int, precision: int | None, *, grouping: bool = False) -> str:
    """``value`` written to ``precision`` decimals (``597``, ``90.1``, ``-3``); with no precision
    known, as published (``1234.5``; a whole number without ``.0``). ``grouping`` adds thousands
    separators (``1,234.5``) for reading; files meant for machines leave them out. A value that
    rounds to zero is written without a sign (``0.0``, never ``-0.0``)."""
    if precision is None:
        spelling = repr(float(value))
        if not math.isfinite(value):
            return spelling
        if "e" in spelling and not float(value).is_integer():
            return spelling  # 1.5e-12: spelt out it would be a row of zeros
        exact = Decimal(spelling)
        if exact == exact.to_integral_value():
            exact = exact.quantize(Decimal(1), context=_WHOLE)
    else:
        exact = rounded(value, precision)
    if exact.is_zero():
        exact = exact.copy_abs()
    return f"{exact:{',' if grouping else ''}f}"
