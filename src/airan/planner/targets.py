"""Service targets for the planner: ``"SERVICE: hit>=0.999, p99<=100ms"``.

Grammar (spaces are free; several services may share one string, separated by ``;``)::

    TARGETS := TARGET (";" TARGET)*
    TARGET  := SERVICE ":" CLAUSE ("," CLAUSE)*       SERVICE: a service name, or "*" for all
    CLAUSE  := ("hit" | "satisfied") (">=" | ">") RATIO   RATIO: 0.999 or 99.9%
             | "consecutive" ("<=" | "<") COUNT        COUNT: a whole number, 0 or more
             | LATENCY ("<=" | "<") NUMBER [UNIT]      LATENCY: p50 | p95 | p99 | p999 | mean
                                                       (p99.9 is p999, as tables print it)
                                                       UNIT: ms (default) | s | us

``satisfied`` is the share of the service's devices whose own hit ratio (overdue requests as
misses) meets the service's ``target_hit_ratio``: TR 38.838's capacity criterion, a cell's
capacity the most devices at which ``satisfied>=0.9`` holds (airan.metrics.satisfaction).
``consecutive`` is the longest run of requests any one device missed in a row (in the order
they ended, overdue ones last): TS 22.104's survival time of n transfer intervals tolerates
``consecutive<=n`` (airan.metrics.satisfaction.misses_in_a_row).
``hit`` is the deadline hit ratio of the run summary, counting overdue requests (met over
the requests that ended or are in flight past their deadline; a drop is a miss). The
percentiles (ms) count every request that got no answer (dropped, or overdue) as infinitely
late, so ``p99<=60ms`` holds only if 99% of the requests were answered within 60 ms; ``mean``
is over the answered ones. A target on a metric the run could not measure (the percentile
falls among the unanswered, nothing answered) is not met; one kept from a service's
``target_hit_ratio`` whose service created no request in the run is not evaluated
(airan.planner.evaluate.untested): neither met nor missed. A target ``--target`` names
must be tested: with no request, it misses.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from airan.errors import InputError

__all__ = ["COUNT_METRICS", "LATENCY_METRICS", "METRICS", "RATIO_METRICS", "Target",
           "default_targets",
           "parse_targets", "with_default_targets"]

LATENCY_METRICS: tuple[str, ...] = ("p50", "p95", "p99", "p999", "mean")
#: the metrics that are shares (a lower bound, 0-1); the others are latencies (ms)
RATIO_METRICS: tuple[str, ...] = ("hit", "satisfied")
#: the metrics that count requests (an upper bound, a whole number)
COUNT_METRICS: tuple[str, ...] = ("consecutive",)
METRICS: tuple[str, ...] = (*RATIO_METRICS, *LATENCY_METRICS, *COUNT_METRICS)
_UNIT_MS = {"ms": 1.0, "s": 1e3, "us": 1e-3}
_CLAUSE = re.compile(
    r"^\s*(?P<metric>[A-Za-z0-9_.]+)\s*(?P<op>>=|<=|=>|=<|>|<|=)\s*"
    r"(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<unit>%|[A-Za-z]+)?\s*$"
)
#: A miss on a metric that could not be measured counts as this much shortfall.
UNMEASURED_SHORTFALL = 10.0


@dataclass(frozen=True)
class Target:
    """One bound on one service's metric: ``hit`` or ``satisfied`` (ratios) or a latency in
    ms."""

    service: str
    metric: str
    op: str  # ">=", ">", "<=", "<"
    value: float  # ratio for hit, ms for latencies
    # the service's own target_hit_ratio, kept where no --target named it (said beside it)
    kept: bool = field(default=False, compare=False)

    @property
    def is_ratio(self) -> bool:
        """A share (``hit``, ``satisfied``), bounded below."""
        return self.metric in RATIO_METRICS

    @property
    def is_latency(self) -> bool:
        """A latency (ms), bounded above."""
        return self.metric in LATENCY_METRICS

    @property
    def bound(self) -> str:
        """The bound as the user wrote it: ``:g`` where that is exact, else every digit (a
        p99<=52.61394391764816 shown as 52.6139 would read as missed by a plan that meets it)."""
        short = f"{self.value:g}"
        v = short if float(short) == self.value else repr(float(self.value))
        return f"{v}ms" if self.is_latency else v

    @property
    def text(self) -> str:
        """The target as a user writes it."""
        return f"{self.service}: {self.metric}{self.op}{self.bound}"

    def met(self, value: float | None) -> bool:
        """True if ``value`` (a share or ms) satisfies the bound (``hit>=0`` always: a
        service let go)."""
        if self.is_ratio and self.op == ">=" and self.value == 0.0:
            return True
        if value is None or math.isnan(value):
            return False
        return {
            ">=": value >= self.value,
            ">": value > self.value,
            "<=": value <= self.value,
            "<": value < self.value,
        }[self.op]

    def shortfall(self, value: float | None) -> float:
        """How far ``value`` misses the bound, normalized (0 when met): for hit, the missing
        ratio over the allowed miss ratio (for satisfied, the share of devices); for latencies,
        the excess over the bound."""
        if self.met(value):
            return 0.0
        if value is None or math.isnan(value):
            return UNMEASURED_SHORTFALL
        if self.is_ratio:
            return max(self.value - value, 1e-9) / max(1.0 - self.value, 1e-3)
        if not self.is_latency:  # a count: its excess over the bound (which may be 0)
            return max(value - self.value, 1e-9) / max(self.value, 1.0)
        return max(value - self.value, 1e-9) / self.value


def _error(reason: str, value: Any, choices: Iterable[str] | None = None) -> InputError:
    err = InputError(f"option '--target': {reason}", value=value, choices=choices)
    err.field = "--target"
    return err


#: a percentile as the terminal prints it (p99.9) -> its metric's name
_PERCENTILE_NAMES = {50.0: "p50", 95.0: "p95", 99.0: "p99", 99.9: "p999"}


def _percentile_alias(metric: str) -> str:
    """``p99.9`` (as the tables print it), ``p50.0``: the metric's own name (``p999``,
    ``p50``); any other name as it is."""
    if metric in METRICS or not re.fullmatch(r"p\d+\.\d*", metric):
        return metric
    return _PERCENTILE_NAMES.get(float(metric[1:]), metric)


def _parse_clause(service: str, clause: str, whole: str) -> Target:
    m = _CLAUSE.match(clause)
    if m is None:
        raise _error(f"cannot read {clause.strip()!r} in {whole!r}; write e.g. "
                     "'detect: hit>=0.999, p99<=100ms'", None)
    metric, op, num, unit = m["metric"].lower(), m["op"], float(m["num"]), m["unit"]
    op = {"=>": ">=", "=<": "<="}.get(op, op)
    metric = _percentile_alias(metric)
    if metric not in METRICS:
        said = ("; the percentiles are p50, p95, p99 and p999 (or p99.9)"
                if re.fullmatch(r"p[0-9.]+", metric) else "")
        raise _error(f"unknown metric {m['metric']!r} in {whole!r}{said}", m["metric"],
                     METRICS)
    if op == "=":
        raise _error(f"use >= or <= (not =) in {clause.strip()!r}", None)
    if metric in RATIO_METRICS:
        if op not in (">=", ">"):
            raise _error(f"{metric} takes >= (a lower bound), got {clause.strip()!r}", None)
        if unit == "%":
            num = round(num / 100.0, 12)  # 99.9% is 0.999, not 0.9990000000000001
        elif unit is not None:
            raise _error(f"{metric} is a ratio (0.999 or 99.9%), got unit {unit!r}", None)
        # (hit>=0 holds always: it lets a service go, which would keep its target_hit_ratio)
        if not 0.0 <= num <= 1.0 or (op == ">" and num >= 1.0):
            hint = (f" (a fraction: {num / 100:g}, or {num:g}% for a percentage)"
                    if 1.0 < num <= 100.0 else "")
            what = "hit ratio" if metric == "hit" else "satisfied share"
            raise _error(f"{what} must be within [0, 1] (and below 1 with >), got "
                         f"{clause.strip()!r} in {whole!r}{hint}", None)
        return Target(service, metric, op, num)
    if op not in ("<=", "<"):
        raise _error(f"{metric} takes <= (an upper bound), got {clause.strip()!r}", None)
    if metric in COUNT_METRICS:  # misses in a row: a whole number, no unit
        if unit is not None or num < 0 or num != int(num) or (op == "<" and num < 1):
            raise _error(f"{metric} is a count of requests, a whole number (consecutive<=2), "
                         f"got {clause.strip()!r} in {whole!r}", None)
        return Target(service, metric, op, float(num))
    scale = _UNIT_MS.get((unit or "ms").lower())
    if scale is None:
        raise _error(f"unknown unit {unit!r} in {clause.strip()!r}", unit, list(_UNIT_MS))
    if not (num > 0 and math.isfinite(num * scale)):
        raise _error(f"{metric} bound must be positive and finite, got {clause.strip()!r}",
                     None)
    return Target(service, metric, op, num * scale)


def parse_targets(texts: Sequence[str], services: Sequence[str]) -> list[Target]:
    """Parse ``--target`` strings against the scenario's service names.

    Raises :class:`InputError` (one message, with a suggestion for a misspelt service or metric).
    """
    out: list[Target] = []
    for whole in texts:
        for part in filter(str.strip, whole.split(";")):
            if ":" not in part:
                raise _error(f"expected 'SERVICE: CLAUSE, ...' in {part.strip()!r}; write e.g. "
                             "'detect: hit>=0.999, p99<=100ms'", None)
            service, _, rest = part.partition(":")
            service = service.strip()
            if service in ("*", "all"):
                names = list(services)
            elif service in services:
                names = [service]
            else:
                raise _error(f"unknown service {service!r}", service, services)
            clauses = [c for c in rest.split(",") if c.strip()]
            if not clauses:
                raise _error(f"no bound given for {service!r} in {whole!r}", None)
            for clause in clauses:
                for name in names:
                    out.append(_parse_clause(name, clause, whole.strip()))
    if not out:
        raise _error("give at least one target, e.g. 'detect: hit>=0.999, p99<=100ms'", None)
    return list(dict.fromkeys(out))


def default_targets(services: Mapping[str, float]) -> list[Target]:
    """``hit >= target_hit_ratio`` for every service (``services``: name -> target ratio)."""
    return [Target(name, "hit", ">=", ratio) for name, ratio in services.items()]


def with_default_targets(targets: Sequence[Target], services: Mapping[str, float]
                         ) -> list[Target]:
    """``targets``, and ``hit >= target_hit_ratio`` for every service of ``services`` (name ->
    target ratio) that none of them names: a plan or a fleet size for one service must not
    break the others (an integrator's review: ``--target "detect: p99<=50ms"`` planned three
    L4s on which the VLA met 0 of 150 requests, its target dropped unsaid)."""
    named = {t.service for t in targets}
    return [*targets, *(replace(t, kept=True) for t in default_targets(
        {n: r for n, r in services.items() if n not in named}))]


def kept_note(targets: Sequence[Target]) -> str | None:
    """A line naming the targets kept from the services' ``target_hit_ratio`` beside the
    ``--target`` ones (None: none kept, or no --target given at all)."""
    kept = [t.service for t in targets if t.kept]
    if not kept or len(kept) == len(targets):
        return None
    return (f"  ({', '.join(kept)}: {'their' if len(kept) > 1 else 'its'} scenario's "
            "target_hit_ratio, which no --target names; 'SERVICE: hit>=0' lets one go)")
