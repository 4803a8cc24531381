"""The command line's shared pieces: consoles, one-line input errors, table helpers.

Used by :mod:`airan.cli` and by the commands that live with their own layer
(:mod:`airan.planner.cli`, :mod:`airan.sweep.cli`, :mod:`airan.live.cli`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from airan.errors import InputError

EXIT_INPUT = 2
DEFAULT_SCENARIO = "factory"


# file=None: rich resolves sys.stdout / sys.stderr at print time (so test runners can capture).
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


# ---- helpers -----------------------------------------------------------------------------------


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn an :class:`InputError` into ``error: <message>`` on stderr and exit code 2."""
    try:
        yield
    except InputError as exc:
        _fail(str(exc))


def _fail(message: str) -> None:
    err.print(f"error: {message}", markup=False, soft_wrap=True)
    raise typer.Exit(EXIT_INPUT)


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "run"


def _num(value: float | None, fmt: str = "{:.1f}", missing: str = "-") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    return fmt.format(value)


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, title_style="bold",
                 show_edge=False, pad_edge=False, collapse_padding=True, min_width=len(title))


def _columns(table: Table, *headers: str, justify: Any = "right") -> None:
    """Columns that never shrink below their header (numbers are never cut short)."""
    for h in headers:
        table.add_column(h, justify=justify, no_wrap=True, min_width=len(h))


def _count(n: float | None) -> str:
    """A parameter count in K/M/B."""
    if n is None:
        return "-"
    for scale, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f}"


def _option_error(
    option: str, reason: str, value: Any, choices: list[str] | None = None
) -> InputError:
    """An :class:`InputError` for a command-line option (``field`` is the option's name)."""
    error = InputError(f"option '{option}': {reason}", value=value, choices=choices)
    error.field = option
    return error



def _resolve_precision(precision: str | None, model: str | None) -> str:
    from airan.catalog import PRECISION_ORDER, load_models

    if precision is not None and model is not None:
        raise _option_error("--precision", "give --precision or --model, not both", precision)
    if model is not None:
        models = load_models()
        if model not in models:
            raise _option_error("--model", f"unknown model {model!r}", model, list(models))
        return models[model].precision
    prec = (precision or "fp8").lower()
    if prec not in PRECISION_ORDER:
        raise _option_error("--precision", f"unknown precision {prec!r}", prec,
                            list(PRECISION_ORDER))
    return prec


