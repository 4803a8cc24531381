"""A fleet of accelerators summed in A100-equivalents (``airan capacity INVENTORY.yaml``).

An inventory lists groups of GPUs. A group whose mix is not public names several catalog types
(``gpu: [B200, GB200]``): every total is then a range, from the weakest to the strongest
alternative. Totals are given on each basis of :mod:`airan.catalog.equivalents` (training,
inference, headline, decode, claim). ``quotes`` are A100-equivalent figures seen in the press;
each is divided by the GPU count to give the per-GPU multiplier it implies, and set against the
bases whose totals reach it.

Format (YAML)::

    name: korea-2025
    reference: A100-80GB          # optional; the A100 every ratio divides by
    precision: fp8                # optional; the lowest precision the inference workloads allow
    groups:
      - {name: samsung, count: 50000, gpu: [B200, GB200], source: "DOMAIN.md Korea"}
    quotes:
      - {label: "3 million A100", a100: 3.0e6}
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from airan.catalog import Precision, load_gpus
from airan.catalog.equivalents import BASES, REFERENCE_GPU, A100Ratios, a100_ratios
from airan.errors import InputError, malformed_yaml, unknown_name
from airan.yaml_files import load_yaml

__all__ = [
    "BASIS_LABELS",
    "Capacity",
    "GroupCapacity",
    "Inventory",
    "InventoryGroup",
    "Quote",
    "QuoteReading",
    "capacity",
    "inventory_from_dict",
    "load_inventory",
]

#: Column titles of the bases (see :mod:`airan.catalog.equivalents`).
BASIS_LABELS: dict[str, str] = {
    "training": "training (dense BF16)",
    "inference": "inference (like for like)",
    "headline": "headline (vs A100 FP16)",
    "decode": "decode (memory bandwidth)",
    "claim": "vendor claim (rack scale)",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class InventoryGroup(_Strict):
    """``count`` GPUs of one catalog type, or of one of several (then totals are ranges)."""

    name: str
    # at most a billion GPUs a group (the world's data centres hold tens of millions)
    count: int = Field(ge=0, le=1_000_000_000)
    gpu: list[str] = Field(min_length=1)
    source: str = ""
    note: str = ""

    @field_validator("count", mode="before")
    @classmethod
    def _no_boolean(cls, v: Any) -> Any:
        if isinstance(v, bool):  # (YAML's true would read as one GPU; 1.0e+3 is a count)
            raise ValueError(f"should be a whole number of GPUs (got {v})")
        return v

    @field_validator("gpu", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class Quote(_Strict):
    """A published A100-equivalent figure for the whole inventory."""

    label: str
    a100: float = Field(gt=0)
    source: str = ""


class Inventory(_Strict):
    """A fleet of accelerators (see the module docstring for the format)."""

    name: str
    description: str = ""
    reference: str = REFERENCE_GPU
    precision: Precision = "fp8"
    groups: list[InventoryGroup] = Field(min_length=1)
    quotes: list[Quote] = []

    @field_validator("quotes")
    @classmethod
    def _quotes_need_gpus(cls, quotes: list[Quote], info: ValidationInfo) -> list[Quote]:
        groups = info.data.get("groups")
        if quotes and groups and not sum(g.count for g in groups):
            raise ValueError("quotes are read per GPU, and every group's count is 0")
        reference = str(info.data.get("reference", REFERENCE_GPU))
        if quotes and not reference.startswith("A100"):  # (a quote counts A100s)
            raise ValueError(f"quotes are figures in A100s, read against totals in A100-"
                             f"equivalents: with reference {reference!r} the totals are in "
                             f"{reference}s (leave reference out, or the quotes)")
        return quotes


def inventory_from_dict(data: Any, *, label: str = "<inventory>") -> Inventory:
    """Validate a parsed inventory; raise :class:`InputError` naming the file and field."""
    if not isinstance(data, dict):
        raise InputError("an inventory must be a YAML mapping (key: value)", file=label)
    if "groups" not in data:  # another of airan's files?
        for marker, what, command in (("fleets", "a scenario", "airan run"),
                                      ("axes", "a sweep", "airan sweep")):
            if marker in data:
                raise InputError(f"this is {what} ({marker!r}), not a GPU inventory: "
                                 f"`{command} {label}` reads it", file=label, field=marker)
    try:
        inv = Inventory.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # a misspelt field first: its "required field is missing" twin only follows from it
        e = next((x for x in errors if x["type"] == "extra_forbidden"), errors[0])
        loc = [str(k) for k in e["loc"]]
        text = ""
        node: Any = data
        for key in e["loc"]:  # groups[samsung].count: list items named by their name
            item = node[key] if isinstance(node, list) and isinstance(key, int) \
                and key < len(node) else (node.get(key) if isinstance(node, dict) else None)
            if isinstance(key, int):
                name = item.get("name") if isinstance(item, dict) else None
                text += f"[{name or key}]"
            else:
                text += ("." if text else "") + str(key)
            node = item
        msg = str(e["msg"]).removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            models: dict[str, type[_Strict]] = {"groups": InventoryGroup, "quotes": Quote}
            model = models.get(loc[0], Inventory) if len(loc) > 1 else Inventory
            raise InputError(f"unknown field {loc[-1]!r}", file=label, field=text, value=loc[-1],
                             choices=list(model.model_fields)) from None
        if e["type"] == "missing":
            raise InputError("required field is missing", file=label, field=text) from None
        value = e.get("input")
        raise InputError(msg, file=label, field=text,
                         value=None if isinstance(value, dict | list) else value) from None
    gpus = load_gpus()
    if inv.reference not in gpus:
        raise unknown_name("GPU", inv.reference, gpus, field="reference").with_file(label)
    seen: set[str] = set()
    for i, g in enumerate(inv.groups):
        if g.name in seen:
            raise InputError(f"duplicate name {g.name!r}", file=label, field="groups",
                             value=g.name)
        seen.add(g.name)
        for j, t in enumerate(g.gpu):
            if t not in gpus:
                raise unknown_name("GPU", t, gpus, field=f"groups[{g.name or i}].gpu[{j}]"
                                   ).with_file(label)
    return inv


def load_inventory(path: str | Path) -> Inventory:
    """Read and validate an inventory YAML file."""
    p = Path(path)
    label = str(path)
    if not p.is_file():
        raise InputError("file not found" if not p.exists() else "not a file", file=label)
    try:
        data = load_yaml(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, RecursionError) as exc:
        raise malformed_yaml(exc, label) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file: {exc}", file=label) from None
    return inventory_from_dict(data, label=label)


@dataclass(frozen=True)
class GroupCapacity:
    """One group: per-GPU ratios of each alternative, and the group's range per basis."""

    name: str
    count: int
    gpus: tuple[str, ...]
    ratios: dict[str, A100Ratios]
    per_gpu: dict[str, tuple[float, float]]  # basis -> (low, high) A100 per GPU
    total: dict[str, tuple[float, float]]  # basis -> (low, high) A100 for the group
    source: str = ""


@dataclass(frozen=True)
class QuoteReading:
    """A quoted figure read against the totals: the per-GPU multiplier it implies."""

    label: str
    a100: float
    per_gpu: float
    within: tuple[str, ...]  # bases whose total range contains the quote
    below: tuple[str, ...]  # bases whose whole range is under the quote
    above: tuple[str, ...]  # bases whose whole range is over the quote
    nearest: str  # the basis whose strongest per-GPU ratio is closest (log scale) to per_gpu
    nearest_per_gpu: float  # that strongest per-GPU ratio
    source: str = ""


@dataclass(frozen=True)
class Capacity:
    """An inventory summed in A100-equivalents."""

    inventory: Inventory
    groups: list[GroupCapacity]
    gpus: int
    total: dict[str, tuple[float, float]]
    quotes: list[QuoteReading] = field(default_factory=list)
    precision: str = ""  # the precision summed at (the inventory's unless overridden)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.inventory.name,
            "reference": self.inventory.reference,
            "precision": self.precision or self.inventory.precision,
            "gpus": self.gpus,
            "total_a100": {b: list(v) for b, v in self.total.items()},
            "groups": [
                {"name": g.name, "count": g.count, "gpu": list(g.gpus), "source": g.source,
                 "per_gpu_a100": {b: list(v) for b, v in g.per_gpu.items()},
                 "total_a100": {b: list(v) for b, v in g.total.items()}}
                for g in self.groups
            ],
            "quotes": [
                {"label": q.label, "a100": q.a100, "per_gpu": q.per_gpu, "within": list(q.within),
                 "below": list(q.below), "above": list(q.above), "nearest": q.nearest,
                 "nearest_per_gpu": q.nearest_per_gpu, "source": q.source}
                for q in self.quotes
            ],
        }


def _has_precision(gpu: Any, precision: str) -> bool:
    """Whether ``gpu`` has a figure at ``precision`` or a wider one."""
    try:
        gpu.peak_flops(precision)
    except ValueError:
        return False
    return True


def capacity(inventory: Inventory, *, precision: str | None = None) -> Capacity:
    """Sum ``inventory`` in A100-equivalents on every basis (``precision`` overrides the
    inventory's); each group's range runs from its weakest to its strongest alternative."""
    prec = precision or inventory.precision
    gpus = load_gpus()
    groups: list[GroupCapacity] = []
    total = {b: (0.0, 0.0) for b in BASES}
    for g in inventory.groups:
        ratios = {t: a100_ratios(t, precision=prec, reference=inventory.reference, gpus=gpus)
                  for t in g.gpu}
        per_gpu: dict[str, tuple[float, float]] = {}
        group_total: dict[str, tuple[float, float]] = {}
        for b in BASES:
            got = {t: r.value(b) for t, r in ratios.items()}
            lacking = [t for t, v in got.items() if v is None]
            if lacking:  # counted as 0 before: a Blackwell fleet at fp32 summed to nothing
                ref = inventory.reference
                if b in ("inference", "headline") and not _has_precision(gpus[ref], prec):
                    lacking = [ref]  # (the reference lacks it: every ratio is missing)
                raise InputError(
                    f"the catalog gives {lacking[0]} no figure at {prec} or any wider precision "
                    f"(needed for the {b} basis of group {g.name!r}): choose a narrower one",
                    field="--precision" if precision else "precision", value=prec)
            values = [float(v) for v in got.values() if v is not None]
            per_gpu[b] = (min(values), max(values))
            group_total[b] = (g.count * per_gpu[b][0], g.count * per_gpu[b][1])
            total[b] = (total[b][0] + group_total[b][0], total[b][1] + group_total[b][1])
        groups.append(GroupCapacity(g.name, g.count, tuple(g.gpu), ratios, per_gpu, group_total,
                                    g.source))
    n = sum(g.count for g in inventory.groups)
    strongest = {b: max((g.per_gpu[b][1] for g in groups if g.count), default=0.0)
                 for b in BASES}  # (a group of no GPUs implies nothing)
    readings = []
    for q in inventory.quotes:
        quote_per_gpu = q.a100 / n if n else float("nan")
        within = tuple(b for b in BASES if total[b][0] <= q.a100 <= total[b][1])
        below = tuple(b for b in BASES if total[b][1] < q.a100)
        above = tuple(b for b in BASES if total[b][0] > q.a100)
        nearest = min((b for b in BASES if strongest[b] > 0),
                      key=lambda b: abs(math.log(strongest[b] / quote_per_gpu)) if n else 0.0)
        readings.append(QuoteReading(q.label, q.a100, quote_per_gpu, within, below, above,
                                     nearest, strongest[nearest], q.source))
    return Capacity(inventory, groups, n, total, readings, prec)
