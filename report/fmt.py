"""Template fields as text, Brazilian style (1.234,5), refusing empty values.

Every `{{ ... }}` of the template goes through `field` (Jinja's finalize), and numbers through the
filters below: a None, an empty string or a NaN stops the build instead of printing nothing.
"""

from __future__ import annotations

import math
from typing import Any

import jinja2


class ReportFieldError(ValueError):
    """A template field has no value (None, "" or NaN)."""


def field(value: Any) -> Any:
    """Jinja finalize: every printed expression must have a value."""
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined: raises UndefinedError naming what is missing
    if value is None or (isinstance(value, str) and not value.strip()) or (
            isinstance(value, float) and math.isnan(value)):
        raise ReportFieldError(f"a template field rendered empty: {value!r}")
    return value


def _number(value: Any) -> float:
    field(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReportFieldError(f"a numeric template field holds {value!r}")
    return value


def num(value: Any, digits: int = 1) -> str:
    """1234.56 -> "1.234,6" (digits after the comma)."""
    text = format(_number(value), f",.{digits}f")
    return text.translate(str.maketrans(",.", ".,"))


def integer(value: Any) -> str:
    return num(round(_number(value)), 0)


def pct(fraction: Any, digits: int = 2) -> str:
    """0.0156 -> "1,56 %"."""
    return f"{num(_number(fraction) * 100, digits)} %"


TIMES = "\N{MULTIPLICATION SIGN}"


def ratio(value: Any, digits: int = 2) -> str:
    """1.749 -> "1,75x" (with the multiplication sign)."""
    return f"{num(value, digits)}{TIMES}"


def mark(ok: Any) -> str:
    """A check's outcome as inline HTML: True, False, or None (not measured)."""
    if ok is None:
        return '<span class="mark na">— não medido</span>'
    if not isinstance(ok, bool):
        raise ReportFieldError(f"a check's outcome must be True, False or None, not {ok!r}")
    if ok:
        return '<span class="mark ok">✓ atendido</span>'
    return '<span class="mark fail">✗ não atendido</span>'


FILTERS = {"num": num, "int": integer, "pct": pct, "ratio": ratio, "mark": mark}
