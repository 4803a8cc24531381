"""Load a scenario from a built-in name or a YAML path, with one clear error per bad input."""

from __future__ import annotations

import difflib
import functools
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, cast

import numpy as np
import yaml
from numpy.typing import NDArray
from pydantic import ValidationError

from airan.errors import InputError, malformed_yaml, suggest, unknown_name
from airan.scenario.schema import BOOL_FOR_NUMBER, MAX_HEIGHT_M, Batching, Drx, Fault, Scenario
from airan.yaml_files import load_yaml

#: SR periods in slots that TS 38.331 (SchedulingRequestResourceConfig, periodicityAndOffset)
#: configures at each subcarrier spacing (numerology 0-3), besides 2 and 7 (or 6) symbols
SR_PERIOD_SLOTS = {
    0: (1, 2, 4, 5, 8, 10, 16, 20, 40, 80),
    1: (1, 2, 4, 8, 10, 16, 20, 40, 80, 160),
    2: (1, 2, 4, 8, 16, 20, 40, 80, 160, 320),
    3: (1, 2, 4, 8, 16, 40, 80, 160, 320, 640),
}
SR_PERIOD_SYMBOLS = (2, 6, 7)
HARQ_HISTORY_SLOTS = 63  # the slots a UE's transport blocks are remembered for (kernel.harq_end)

_BUILTIN_PACKAGE = "airan.scenario.builtin"


def builtin_scenarios() -> dict[str, str]:
    """Built-in scenario names and their one-line descriptions."""
    return dict(_builtin_scenarios())


def builtin_text(name: str) -> str:
    """A built-in scenario's YAML file as shipped, its comments (the figures' sources) kept:
    the start of one's own (``airan scenarios --show factory > mine.yaml``). InputError,
    naming the built-ins, for another name."""
    names = builtin_scenarios()
    if name not in names:
        raise unknown_name("scenario", name, list(names), field="--show")
    return resources.files(_BUILTIN_PACKAGE).joinpath(f"{name}.yaml").read_text()


@functools.cache
def _builtin_scenarios() -> dict[str, str]:
    """(Read once per process: a run asks several times, and each read parsed every built-in,
    metro's 11,000-cell layout spec included, ~30 ms.)"""
    out: dict[str, str] = {}
    for entry in sorted(resources.files(_BUILTIN_PACKAGE).iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            data = yaml.safe_load(entry.read_text())
            out[entry.name[:-5]] = str(data.get("description", "")).strip().splitlines()[0]
    return out


def load_scenario(path_or_name: str | os.PathLike[str], *, gpu_checks: bool = True) -> Scenario:
    """A validated :class:`Scenario` from a built-in name (``factory``) or a YAML file path.

    Raises :class:`InputError` naming the file, the field path and the bad value.
    ``gpu_checks=False`` leaves out :func:`check_gpus` (the planner, which replaces the GPUs of
    the sites it sizes, checks its own choices; the engine checks what it runs).
    """
    text, label = _read(path_or_name)
    try:
        data = load_yaml(text)
    except (yaml.YAMLError, RecursionError) as exc:
        raise malformed_yaml(exc, label) from None
    if not isinstance(data, dict):
        raise InputError("a scenario must be a YAML mapping (key: value)", file=label)
    _resolve_files(data, Path(label).parent if Path(label).is_file() else None)
    return scenario_from_dict(data, label=label, gpu_checks=gpu_checks)


def _resolve_files(data: dict[str, Any], base: Path | None) -> None:
    """Files a scenario names (site lists, mobility traces), relative to the scenario's folder."""
    if base is None:
        return
    refs = [data.get("cell_sites_file")]
    fleets = data.get("fleets")  # not a list: the schema's error names it
    refs += [f.get("mobility") for f in fleets if isinstance(f, dict)] \
        if isinstance(fleets, list) else []
    for ref in refs:
        key = "path" if ref is data.get("cell_sites_file") else "file"
        if isinstance(ref, dict) and isinstance(ref.get(key), str):
            p = Path(ref[key])
            if not p.is_absolute():
                ref[key] = str(base / p)


def scenario_from_dict(data: dict[str, Any], *, label: str = "<scenario>",
                       gpu_checks: bool = True) -> Scenario:
    """Validate a scenario given as a dict (the parsed YAML); ``gpu_checks``: see
    :func:`load_scenario`."""
    if isinstance(data, dict) and "fleets" not in data:  # another of airan's files?
        for key, what, command in (("groups", "a GPU inventory", "airan capacity"),
                                   ("axes", "a sweep", "airan sweep")):
            if key in data:
                raise InputError(f"this is {what} ({key!r}), not a scenario: `{command} "
                                 f"{label}` reads it", file=label, field=key)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc, data, label) from None
    try:
        check_references(scenario, gpu_checks=gpu_checks)
    except InputError as exc:
        if exc.file and exc.file != label:  # a file the scenario names (a trace, a site list)
            raise InputError(f"{exc.file}: {exc.reason}", file=label, field=exc.field,
                             value=exc.value, choices=exc.choices) from None
        raise exc.with_file(label) from None
    return scenario


def _read(path_or_name: str | os.PathLike[str]) -> tuple[str, str]:
    if not isinstance(path_or_name, (str, os.PathLike)):  # a dict, say: scenario_from_dict
        raise InputError(f"a built-in name or a YAML file's path, not a "
                         f"{type(path_or_name).__name__} (a dict of the YAML's fields: "
                         "airan.scenario.scenario_from_dict)", field="scenario",
                         value=str(path_or_name)[:60])
    name = os.fspath(path_or_name)
    if not name.strip():
        raise InputError("an empty path is not a scenario (give a built-in name or a YAML "
                         "file)", field="scenario", value=name)
    builtins = builtin_scenarios()
    if name in builtins:
        res = resources.files(_BUILTIN_PACKAGE).joinpath(f"{name}.yaml")
        return res.read_text(), f"{name} (built-in)"
    path = Path(name)
    if path.suffix.lower() not in (".yaml", ".yml") and not path.exists():
        files = [p for p in (Path(name + ".yaml"), Path(name + ".yml")) if p.is_file()]
        if files:  # `airan run port` beside port.yaml
            raise InputError(f"unknown scenario {name!r}; did you mean the file "
                             f"{str(files[0])!r}? (a scenario file is named with its "
                             f".yaml; built-ins: {', '.join(builtins)})", field="scenario")
        raise unknown_name("scenario", name, builtins, field="scenario")
    if not path.exists():
        if path.stem in builtins:  # `airan run factory.yaml` for the built-in (a newcomer's
            raise InputError(  # review)
                f"file not found; did you mean the built-in scenario {path.stem!r}, named "
                f"without {path.suffix}? (`airan scenarios --show {path.stem} > {name}` "
                "writes it as a file to edit)", file=name)
        raise InputError("file not found", file=name)
    if not path.is_file():
        raise InputError("not a file", file=name)
    try:
        return path.read_text(), name
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file: {exc}", file=name) from None


def _first_error(exc: ValidationError, data: Any, label: str) -> InputError:
    errors = exc.errors(include_url=False)
    err = errors[0]
    if err["type"] == "missing":  # a misspelt required field: name the misspelling
        name = str(err["loc"][-1])
        for other in errors:
            key = str(other["loc"][-1])
            if (other["type"] == "extra_forbidden" and other["loc"][:-1] == err["loc"][:-1]
                    and difflib.get_close_matches(key, [name], n=1, cutoff=0.6)):
                err = other
                break
        else:  # a key that is not a field at all comes first (a misspelt optional field,
            # whose fix the user would otherwise meet only after adding the missing one)
            err = next((e for e in errors if e["type"] == "extra_forbidden"), err)
    loc = err["loc"]
    value = err.get("input")
    msg = err["msg"]
    if err["type"] == BOOL_FOR_NUMBER:  # raised by the model: its field is in the context
        ctx = err.get("ctx") or {}
        loc = (*loc, str(ctx.get("field")))
        # the value as the YAML has it (true, [0, true]), not as Python prints it
        value, msg = None, f"expected a number, got {json.dumps(ctx.get('value'))}"
        err = cast(Any, {k: v for k, v in err.items() if k != "input"})  # (said: no "got null")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] == "value_error" and isinstance(value, dict):
        # a check of a whole object (jitter_ms against the period, end_s after start_s, an
        # area's bounds) whose message names one of its fields: name that field and its value
        # rather than the object, printed whole
        named = re.search(r": (\w+) is ", msg)
        inner = msg.split(" ", 1)[0]
        if inner not in value:
            inner = named.group(1) if named and named.group(1) in value else ""
        if inner:
            loc, value = (*loc, inner), value[inner]
    field = _field_path(loc, data)
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1], data)
        key = str(loc[-1])
        # a field written in the wrong section: say where it belongs (unless this section has
        # a near-identical one, a slip of the keys; or it belongs to so many sections that
        # naming them says little: then this section's closest, as for any misspelling)
        close = suggest(key, allowed) if allowed else None
        # (a field of a section of this one, exactly, is no slip: a service's on_device_ms,
        # which belongs to its service_time, read as a misspelt on_device; a review)
        nested = _nested_with_field(loc[:-1], key) if len(loc) > 1 else []
        typo = (not nested and close is not None
                and difflib.SequenceMatcher(None, key, close).ratio() >= 0.85)
        elsewhere = [] if typo else _sections_with_field(key)
        here = _field_path(loc[:-1], data) or "the scenario's top level"
        own = [a for a in allowed or [] if a in elsewhere]  # (a single section: carrier)
        if not typo:  # (the top level's sections: _sections_with_field)
            own += [a for a in nested if a not in own]
        if own:  # a section of this one has it (cell_sites[a].carrier's band, a service's
            # service_time's measured_on)
            elsewhere = [f"{here}.{a}" if here != "the scenario's top level" else a for a in own]
        if 0 < len(elsewhere) <= 4:
            where = (elsewhere[0] if len(elsewhere) == 1
                     else f"{', '.join(elsewhere[:-1])} and {elsewhere[-1]}")
            return InputError(f"unknown field {key!r}: {key!r} is a field of {where}, not of "
                              f"{here}", file=label, field=field, choices=allowed)
        return (
            InputError(
                f"unknown field {key!r}", file=label, field=field, value=key, choices=allowed
            )
            if allowed
            else InputError(f"unknown field {key!r}", file=label, field=field)
        )
    if err["type"] == "missing" and loc and isinstance(loc[-1], int) and isinstance(
            value, list | tuple):  # a short list where a fixed one is due: say how long
        # (a port automation lead's review: [x, y] waypoints met 'paths[0][0][2]: required
        # field is missing', which did not say that a height is due)
        point = (" (a waypoint is [x, y, z] in m, z its height above ground)"
                 if "paths" in loc else "")
        n = len(value)
        # (each missing position is an error of its own: the last one's is the length due)
        due = 1 + max(int(e["loc"][-1]) for e in errors if e["type"] == "missing"
                      and tuple(e["loc"][:-1]) == tuple(loc[:-1])
                      and isinstance(e["loc"][-1], int))
        return InputError(f"{n} value{'' if n == 1 else 's'} where {due} "
                          f"{'is' if due == 1 else 'are'} expected{point}",
                          file=label, field=_field_path(loc[:-1], data), value=list(value))
    if err["type"] == "missing":
        return InputError("required field is missing", file=label, field=field)
    if err["type"] == "union_tag_invalid":  # a misspelt kind of a tagged union (mobility)
        ctx = err.get("ctx") or {}
        tag = str(ctx.get("tag", ""))
        key = str(ctx.get("discriminator", "")).strip("'")
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
        if choices and key:
            return InputError(f"unknown value {tag!r}", file=label,
                              field=_field_path((*loc, key), data), value=tag, choices=choices)
    if err["type"] == "literal_error" and isinstance(value, str):  # a misspelt choice
        expected = str((err.get("ctx") or {}).get("expected", ""))
        choices = re.findall(r"'([^']*)'", expected)
        if choices:
            return InputError(f"unknown value {value!r}", file=label, field=field, value=value,
                              choices=choices)
    if err["type"] == "model_type":  # pydantic names its class: say what the YAML needs
        keys = _allowed_keys(loc, data)
        msg = "expected a mapping of fields" + (f" ({', '.join(keys)})" if keys else "")
        if loc and loc[-1] == "drx" and value in (False, "off"):  # YAML's unquoted off: False
            msg += ("; 'off' is a fleet's own drx (radio.drx left out: no DRX, unless a "
                    "fleet sets its own)")
    if (err["type"] == "less_than_equal" and (err.get("ctx") or {}).get("le") == 1
            and isinstance(value, int | float) and 1 < value <= 100):
        # a share written as a percentage (target_hit_ratio: 99)
        msg += f" (a fraction: {value / 100:g} for {value:g}%)"
    if "(got " in msg:  # the validator showed the value already
        value = None
    elif isinstance(value, dict | list) or (value is None and "input" in err):
        # the value as the YAML has it (null, [1, 2], {a: 1}), shortened
        text = json.dumps(value, default=str)
        msg += f" (got {text if len(text) <= 60 else text[:57] + '...'})"
        value = None
    return InputError(msg, file=label, field=field, value=value)


def _sections_with_field(key: str) -> list[str]:
    """The scenario's sections that have a field ``key`` (``services[...]``, ``radio``, "the
    scenario's top level"): where a field written in another section belongs."""
    out = ["the scenario's top level"] if key in Scenario.model_fields else []
    for name, f in Scenario.model_fields.items():
        if not any(key in m.model_fields for m in _models_in(f.annotation)):
            continue
        origin = _outer(f.annotation)
        out.append(f"{name}[...]" if origin is list else f"{name}.<id>" if origin is dict
                   else name)
    return out


def _outer(annotation: Any) -> Any:
    """``list`` or ``dict`` where ``annotation`` is one (or an optional one), else None."""
    from typing import get_args, get_origin

    origin = get_origin(annotation)
    if origin in (list, dict):
        return origin
    for arg in get_args(annotation):
        if get_origin(arg) in (list, dict):
            return get_origin(arg)
    return None


def _field_path(loc: tuple[Any, ...], data: Any) -> str:
    """A readable field path: ``services[detect].rate_hz`` (list items named by their name)."""
    text = ""
    node = data
    for key in loc:
        if (isinstance(key, str) and isinstance(node, dict) and key not in node
                and key in node.values()):
            continue  # a tagged union's tag (mobility's model: its value), not a field
        if key == "[key]":
            continue  # pydantic's mark of a mapping's key (the key itself is named already)
        if isinstance(key, int) and not isinstance(node, list):
            text += ("." if text else "") + str(key)  # a mapping's key that is a number
        elif isinstance(key, int):
            item = node[key] if _has(node, key) else None
            name = item.get("name") if isinstance(item, dict) else None
            text += f"[{name or key}]"
        elif isinstance(key, str) and ("Area" in key or key.startswith("function-")):
            continue  # pydantic's label for a union member, not a field
        else:
            text += ("." if text else "") + str(key)
        node = node[key] if _has(node, key) else None
    return text


def _has(node: Any, key: Any) -> bool:
    if isinstance(node, dict):
        return key in node
    return isinstance(node, list) and isinstance(key, int) and key < len(node)


def _get(data: Any, loc: tuple[Any, ...]) -> Any:
    node = data
    for key in loc:
        if not _has(node, key):
            return None
        node = node[key]
    return node


def _allowed_keys(loc: tuple[Any, ...], data: Any) -> list[str] | None:
    """Field names accepted at ``loc`` (walking the schema alongside the data)."""
    model = _model_at(loc)
    return list(model.model_fields) if model is not None else None


def _nested_with_field(loc: tuple[Any, ...], key: str) -> list[str]:
    """The fields of the section at ``loc`` whose own section has a field ``key``
    (``service_time`` for ``measured_on`` written on a service)."""
    model = _model_at(loc)
    if model is None:
        return []
    return [name for name, f in model.model_fields.items()
            if any(key in m.model_fields for m in _models_in(f.annotation))]


def _model_at(loc: tuple[Any, ...]) -> Any:
    """The pydantic model of the section at ``loc`` (walking the schema; None: not one)."""
    from pydantic import BaseModel

    model: Any = Scenario
    annotation: Any = None  # the last field's: a tagged union names its member in ``loc``
    for key in loc:
        if isinstance(key, int):
            continue
        member = _union_member(annotation, str(key))
        if member is not None:  # pydantic's step into a union: the member's class or tag
            model, annotation = member, None
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(str(key))
        if field is None:
            return None
        annotation = field.annotation
        model = _inner_model(annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model
    return None


def _models_in(annotation: Any) -> list[Any]:
    """Every pydantic model an annotation holds: itself, a list's or an optional's item, each
    member of a union."""
    from typing import get_args

    from pydantic import BaseModel

    stack, models = [annotation], []
    while stack:
        a = stack.pop()
        if isinstance(a, type) and issubclass(a, BaseModel):
            models.append(a)
        else:
            stack.extend(get_args(a))
    return models


def _union_member(annotation: Any, key: str) -> Any:
    """The model of a union ``annotation`` that ``key`` names, by class name (``DiscArea``) or
    by its tag (a ``Literal`` field's value: ``random_waypoint``); None if none does."""
    from typing import Literal, get_args, get_origin

    if annotation is None:
        return None
    members = _models_in(annotation)
    # a model with a validator of its own is named after it: function-after[_check(), Drx]
    wrapped = re.fullmatch(r"function-(?:after|before|wrap|plain)\[.*, *(\w+)\]", key)
    if wrapped:
        key = wrapped.group(1)
    for m in members:
        if m.__name__ == key:
            return m
    if len(members) < 2:
        return None
    for m in members:
        for f in m.model_fields.values():
            if get_origin(f.annotation) is Literal and key in get_args(f.annotation):
                return m
    return None


def _inner_model(annotation: Any) -> Any:
    from typing import get_args

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        inner = _inner_model(arg)
        if inner is not None:
            return inner
    return None


def check_references(s: Scenario, *, gpu_checks: bool = True) -> None:
    """Names that must refer to something (GPUs, models, services, nodes, sites, policies), and
    what the engine would otherwise find only when it builds or runs the scenario: fault targets,
    the sites a policy needs, GPUs that cannot run the L1 given them or hold the models
    (:func:`check_gpus`, unless ``gpu_checks`` is False), mobility models it cannot build, trace
    files that do not read, paths longer than its tables hold."""
    from airan.policy import is_known_policy, policy_names

    gpus = s.gpu_catalog()
    models = s.model_catalog()
    _unique([c.name for c in s.cell_sites], "cell_sites")
    _unique([n.name for n in s.nodes], "nodes")
    site_names = s.compute_site_names()  # generated: gpu-<cell site>, every n-th cell site
    _unique(site_names, "compute_sites", len(s.compute_sites),
            "generated_compute_sites names a site gpu-<cell site>")
    _unique([f.name for f in s.fleets], "fleets")
    _unique([v.name for v in s.services], "services")
    nodes = s.node_names()
    written = [c.name for c in s.cell_sites] + [n.name for n in s.nodes]
    how = " and ".join(w for w, on in (
        ("cell_sites_file names its sites", s.cell_sites_file is not None),
        (f"cell_layout names its sites {s.cell_layout.name_prefix}<i>" if s.cell_layout
         else "", s.cell_layout is not None)) if on)
    _unique(written + s.cell_site_names()[len(s.cell_sites):], "cell_sites/nodes",
            len(written), how)
    if s.radio.model == "nr" and not nodes[: len(nodes) - len(s.nodes)]:
        raise InputError("the nr radio needs at least one cell site", field="cell_sites")
    if not s.cell_site_names():
        raise InputError("at least one cell site is needed", field="cell_sites")
    _check_carriers(s)
    _check_clutter(s)
    _check_bs_height(s)
    _check_penetration(s)
    service_names = [v.name for v in s.services]
    for mid, spec in s.models.items():  # GPU ids a scenario's own model fits figures to
        eff = spec.efficiency.compute_on if spec.efficiency is not None else {}
        for key, table in (("overhead_on", spec.overhead_on), ("efficiency.compute_on", eff),
                           ("precision_on", spec.precision_on)):
            for gid in table:
                if gid not in gpus:
                    raise unknown_name("GPU", gid, gpus, field=f"models.{mid}.{key}")
    for v in s.services:
        if v.model not in models:
            if v.model.strip().lower() in NO_MODEL:  # a stream with no AI (a review's teleop)
                raise InputError(
                    f"unknown model {v.model!r}: write a service without a model (a video "
                    "stream to a remote operator) as a small one, e.g. resnet50, with a "
                    "service_time near nothing, {dist: fixed, mean_ms: 0.01}, and on_device: "
                    "false where it must leave the device",
                    field=f"services[{v.name}].model", value=v.model)
            raise unknown_name("model", v.model, models, field=f"services[{v.name}].model")
        if (
            v.service_time is None
            and models[v.model].service_time_ms is None
            and not models[v.model].gflops
        ):
            if v.model in s.models:  # the scenario's own: name the entry's field
                raise InputError("a model a service runs needs FLOPs above 0 for its "
                                 "roofline (or a service_time_ms)",
                                 field=f"models.{v.model}.gflops", value=models[v.model].gflops)
            raise InputError(
                "model has neither FLOPs nor a service time", field=f"services[{v.name}].model"
            )
        st = v.service_time
        if st is not None and st.measured_on is not None:
            field = f"services[{v.name}].service_time.measured_on"
            if st.measured_on not in gpus:
                raise unknown_name("GPU", st.measured_on, gpus, field=field)
            base = models[v.model]
            if base.gflops is None or base.efficiency is None:
                raise InputError(
                    f"model {v.model!r} has no roofline (FLOPs and efficiencies) to carry the "
                    "measured times to other GPUs: leave measured_on out (the times then apply "
                    "on every GPU)", field=field, value=st.measured_on)
        for acc in (st.on_device_ms or {}) if st is not None else {}:
            if acc != "none" and acc not in gpus:
                raise unknown_name("accelerator", acc, [*gpus, "none"],
                                   field=f"services[{v.name}].service_time.on_device_ms")
    used_models = sorted({v.model for v in s.services})
    known_models = set(models)
    for field, b in site_batchings(s):
        for model in b.models:
            # a typo would silently leave the site's batching; a model of the catalog (or the
            # scenario's own) that no service uses is a warning (a copy of a scenario that
            # drops its VLA service keeps its sites' VLA batching)
            if model not in used_models and model not in known_models:
                raise unknown_name("model", model, used_models,
                                   field=f"{field}.batching.models")
    for f in s.fleets:
        for i, name in enumerate(f.services):
            if name not in service_names:
                raise unknown_name(
                    "service", name, service_names, field=f"fleets[{f.name}].services[{i}]"
                )
        if f.accelerator != "none" and f.accelerator not in gpus:
            raise unknown_name(
                "accelerator", f.accelerator, [*gpus, "none"], field=f"fleets[{f.name}].accelerator"
            )
        if isinstance(f.drx, Drx) and s.radio.model != "nr":
            raise InputError(f"DRX needs the nr radio: model {s.radio.model!r} has no slots or "
                             "PDCCH to sleep between (remove drx, or set radio.model: nr)",
                             field=f"fleets[{f.name}].drx")
    cell_sites = set(s.cell_site_names())
    for c in s.compute_sites:
        if c.at not in nodes:
            raise unknown_name("node", c.at, nodes, field=f"compute_sites[{c.name}].at")
        if (c.kind == "cell") != (c.at in cell_sites) and c.kind != "edge":
            where = "a cell site" if c.kind == "cell" else "a node that is not a cell site"
            raise InputError(f"a {c.kind} compute site must be at {where}",
                             field=f"compute_sites[{c.name}].at", value=c.at)
        for j, g in enumerate(c.gpus):
            if g.type not in gpus:
                raise unknown_name(
                    "GPU", g.type, gpus, field=f"compute_sites[{c.name}].gpus[{j}].type"
                )
    if s.generated_compute_sites is not None:
        for j, g in enumerate(s.generated_compute_sites.gpus):
            if g.type not in gpus:
                raise unknown_name(
                    "GPU", g.type, gpus, field=f"generated_compute_sites.gpus[{j}].type"
                )
    # one GPU type per site: its batch times, power, L1 capacity and the policies' estimates
    # are the type's (a second type is a second site at the same node)
    groups = [(f"compute_sites[{c.name}].gpus", c.gpus) for c in s.compute_sites]
    if s.generated_compute_sites is not None:
        groups.append(("generated_compute_sites.gpus", s.generated_compute_sites.gpus))
    for field, gg in groups:
        for j, g in enumerate(gg):
            if g.type != gg[0].type:
                raise InputError(
                    f"a site's GPUs must be of one type (the first is {gg[0].type}); put "
                    f"the {g.type} GPUs in a second compute site at the same node",
                    field=f"{field}[{j}].type", value=g.type)
    for i, link in enumerate(s.transport.links):
        for end in ("a", "b"):
            name = getattr(link, end)
            if name not in nodes:
                raise unknown_name("node", name, nodes, field=f"transport.links[{i}].{end}")
        if link.a == link.b:
            raise InputError(
                "a link must join two different nodes", field=f"transport.links[{i}]", value=link.a
            )
    pairs: dict[frozenset[str], int] = {}
    for i, link in enumerate(s.transport.links):
        j = pairs.setdefault(frozenset((link.a, link.b)), i)
        if j != i:  # routing keeps one link per pair of nodes: say so rather than pick one
            raise InputError(
                f"a second link between {link.a} and {link.b} (transport.links[{j}] joins them "
                "already); give one link with their combined capacity, or route the second "
                "through a node of its own", field=f"transport.links[{i}]",
                value=f"{link.a}-{link.b}")
    if s.transport.backhaul is not None and s.transport.backhaul.to not in nodes:
        raise unknown_name("node", s.transport.backhaul.to, nodes, field="transport.backhaul.to")
    if not is_known_policy(s.policy):
        raise unknown_name("policy", s.policy, policy_names(), field="policy")
    _check_faults(s)
    _check_live(s)
    _check_policy_sites(s)
    _check_site_services(s)
    if s.engine.warmup_s >= s.duration_s:  # (a run of its own duration would count nothing)
        raise InputError(f"must be shorter than the run's duration_s ({s.duration_s:g} s): "
                         "the requests created in the warm-up count in no figure",
                         field="engine.warmup_s", value=s.engine.warmup_s)
    if gpu_checks:
        check_gpus(s)
    _check_mobility(s)
    _check_transport_hops(s)
    _check_l1_pools(s)


def _check_l1_pools(s: Scenario) -> None:
    """``hosts_l1_of`` (a pooled DU) names cell sites, each listed by one compute site at most,
    at a site that is not a cloud and that the transport links join to each of them (its
    fronthaul's route; one longer than ``ai_ran.fronthaul_max_us`` is a warning)."""
    cell_sites = s.cell_site_names()
    by: dict[str, str] = {}
    for c in s.compute_sites:
        field = f"compute_sites[{c.name}].hosts_l1_of"
        if c.hosts_l1_of and c.kind == "cloud" and s.ai_ran.mode != "none":
            raise InputError("a cloud compute site cannot run cells' L1: their fronthaul may "
                             f"take at most {s.ai_ran.fronthaul_max_us:g} us one way "
                             "(ai_ran.fronthaul_max_us); host them at a cell or edge site",
                             field=field, value=c.hosts_l1_of[0])
        for name in c.hosts_l1_of:
            if name not in cell_sites:
                raise unknown_name("cell site", name, cell_sites, field=field)
            if name in by:
                again = "twice" if by[name] == c.name else f"by {by[name]!r} too"
                raise InputError(f"cell site {name!r} is listed {again}: one compute site "
                                 "runs a cell site's L1", field=field, value=name)
            by[name] = c.name
    if not by or s.ai_ran.mode == "none":  # (without ai_ran the lists change nothing)
        return
    far = fronthaul_delays_s(s)
    for (site, cell_site), delay in far.items():
        if not np.isfinite(delay):
            raise InputError(
                f"no transport link reaches cell site {cell_site!r} from {site!r}, whose GPUs "
                "would run its cells' L1: join them (transport.links or transport.backhaul) "
                "for the fronthaul", field=f"compute_sites[{site}].hosts_l1_of",
                value=cell_site)


def fronthaul_delays_s(s: Scenario) -> dict[tuple[str, str], float]:
    """(compute site, cell site) -> the one-way delay (s) over the transport links (fibre and
    hops, the shortest route) from each compute site to each cell site it lists in
    ``hosts_l1_of``: its pooled L1's fronthaul (inf: no route). The fronthaul's own traffic
    (~10-25 Gbit/s per 100 MHz 4T4R cell under the 7.2x split) is taken to ride fibre of its
    own: it loads none of the links."""
    pools = [c for c in s.compute_sites if c.hosts_l1_of]
    if not pools:
        return {}
    from scipy import sparse
    from scipy.sparse.csgraph import shortest_path

    net = transport_links(s)
    index = {n: i for i, n in enumerate(net.node_names)}
    n = len(net.node_names)
    graph = sparse.csr_matrix((net.link_delay_s + 1e-12, (net.link_a, net.link_b)),
                              shape=(n, n))
    roots = [index[c.at] for c in pools]
    dist = shortest_path(graph, directed=True, indices=roots)
    out = {}
    for c, row in zip(pools, np.atleast_2d(dist), strict=True):
        for name in c.hosts_l1_of:
            d = float(row[index[name]])
            out[(c.name, name)] = d if index[name] != index[c.at] else 0.0
    return out


def _fronthaul_warnings(s: Scenario, label: str | None) -> list[str]:
    """A pooled L1 (``hosts_l1_of``) whose fronthaul takes longer than
    ``ai_ran.fronthaul_max_us``, and ``hosts_l1_of`` where ``ai_ran.mode`` is none."""
    pools = [c for c in s.compute_sites if c.hosts_l1_of]
    if not pools:
        return []
    if s.ai_ran.mode == "none":
        return [str(InputError(
            "ai_ran.mode is 'none': no cell's L1 runs on a GPU, so hosts_l1_of changes nothing",
            file=label, field=f"compute_sites[{pools[0].name}].hosts_l1_of",
            value=pools[0].hosts_l1_of[0]))]
    limit = s.ai_ran.fronthaul_max_us * 1e-6
    out = []
    for (site, cell_site), delay in fronthaul_delays_s(s).items():
        if limit < delay < np.inf:
            out.append(str(InputError(
                f"the fronthaul from {site!r} to cell site {cell_site!r} takes "
                f"{delay * 1e6:.0f} us one way over the transport links (fibre at 4.9 us/km and "
                f"their hops), beyond ai_ran.fronthaul_max_us {s.ai_ran.fronthaul_max_us:g} us: "
                "its radio units could not meet their slots' timing from there; the run "
                "takes the L1 as if they could", file=label,
                field=f"compute_sites[{site}].hosts_l1_of", value=cell_site)))
    return out


def _check_site_services(s: Scenario) -> None:
    """A compute site's ``services`` name services of the scenario; and a service that no site
    serves must be able to run on its devices (``on_device``), or none of its requests could
    be answered."""
    names = [v.name for v in s.services]
    for c in s.compute_sites:
        for i, name in enumerate(c.services or []):
            if name not in names:
                raise unknown_name("service", name, names,
                                   field=f"compute_sites[{c.name}].services[{i}]")
    if s.generated_compute_sites is not None or not s.compute_sites:
        return  # (generated sites serve every service)
    served = {name for c in s.compute_sites for name in (c.services or names)}
    for v in s.services:
        if v.name not in served and not v.on_device:
            raise InputError(
                "no compute site serves this service (their services lists) and it may not "
                "run on its devices (on_device: false): none of its requests could be answered",
                field=f"services[{v.name}]", value=v.name)


# ---- faults: one check, run here and by the engine (airan.engine.faults) ----------------------
@dataclass(frozen=True)
class FaultTargets:
    """What a scenario's faults may name, as the engine's world has it: compute sites and their
    GPU counts, transport nodes, the (from, to) node pairs joined by a link in either direction
    (the links the backhaul rule makes included), the cells (``site/k`` for a sector of a
    3-sector site, the site's name for a 1-sector one) and the fleets."""

    site_gpus: Mapping[str, int]
    nodes: Sequence[str]
    links: AbstractSet[tuple[str, str]]
    cells: Sequence[str]
    fleets: Sequence[str]


def fault_cells(name: str, cells: Sequence[str]) -> list[int]:
    """Indices of the cells a ``cell_down`` or ``interference`` fault's ``cell`` names: that
    cell, or every cell of that cell site."""
    return [c for c, n in enumerate(cells) if n == name or n.split("/")[0] == name]


def fault_target(i: int, f: Fault, t: FaultTargets) -> str:
    """The name of what fault ``i`` acts on; an :class:`InputError` naming ``faults[i].<field>``
    if the scenario has no such target (or a ``gpu_down`` takes more GPUs than its site has)."""
    where = f"faults[{i}]"
    if f.kind in ("site_down", "gpu_down"):
        site = str(f.site)
        if site not in t.site_gpus:
            raise unknown_name("compute site", site, list(t.site_gpus), field=f"{where}.site")
        n = int(t.site_gpus[site])
        if f.kind == "gpu_down" and f.gpus > n:
            raise InputError(f"site {site!r} has {n} GPUs", field=f"{where}.gpus", value=f.gpus)
        return site
    if f.kind in ("link_down", "link_degraded"):
        assert f.link is not None  # the schema requires it for these kinds
        a, b = f.link
        for end in (a, b):
            if end not in t.nodes:
                raise unknown_name("node", end, t.nodes, field=f"{where}.link")
        if (a, b) not in t.links:
            raise InputError(f"no transport link joins {a!r} and {b!r}",
                             field=f"{where}.link", value=f"{a}-{b}")
        return f"{a}-{b}"
    if f.kind in ("cell_down", "interference"):
        cell = str(f.cell)
        if not fault_cells(cell, t.cells):
            sites = {c.split("/")[0] for c in t.cells}
            raise unknown_name("cell or cell site", cell, [*t.cells, *(sites - set(t.cells))],
                               field=f"{where}.cell")
        return cell
    if f.fleet not in t.fleets:
        raise unknown_name("fleet", str(f.fleet), t.fleets, field=f"{where}.fleet")
    return str(f.fleet)


def _check_faults(s: Scenario) -> None:
    """Every fault names a target the scenario has, checked as the engine checks it."""
    if not s.faults:
        return
    sites: dict[str, int] = {c.name: sum(g.count for g in c.gpus) for c in s.compute_sites}
    g = s.generated_compute_sites
    if g is not None:
        n = sum(x.count for x in g.gpus)
        sites.update({f"gpu-{name}": n for name in s.generated_hosts()})
    net = transport_links(s)
    names = net.node_names
    links = {(names[a], names[b])
             for a, b in zip(net.link_a.tolist(), net.link_b.tolist(), strict=True)}
    targets = FaultTargets(site_gpus=sites, nodes=names, links=links, cells=s.cell_names(),
                           fleets=[f.name for f in s.fleets])
    for i, f in enumerate(s.faults):
        fault_target(i, f, targets)
        if f.kind == "interference" and s.radio.model != "nr":
            # (it raises the nr radio's noise: the ideal and fixed radios have none to raise)
            raise InputError(f"an interference fault raises the nr radio's noise floor; the "
                             f"{s.radio.model} radio has none", field=f"faults[{i}].kind",
                             value=f.kind)


# ---- the transport network, as the engine builds it (airan.engine.world) ----------------------
FIBER_S_PER_KM = 4.9e-6  # n = 1.468 (DOMAIN.md "fiber propagation")
MAX_HOPS = 8  # the longest path the engine's path tables hold (airan.engine.world)


@dataclass(frozen=True)
class TransportLinks:
    """The directed transport links of a scenario in the engine's order: every link as the
    pair (a -> b, b -> a), then the backhaul rule's links (every cell site without a link, to
    ``transport.backhaul.to``). Nodes are the cell sites, then ``nodes``."""

    node_names: list[str]
    n_cell_sites: int
    link_a: NDArray[np.int64]
    link_b: NDArray[np.int64]
    link_cap_bps: NDArray[np.float64]
    link_delay_s: NDArray[np.float64]


def cell_site_xy(s: Scenario) -> NDArray[np.float64]:
    """Positions (m) of the cell sites, in the order of :meth:`Scenario.cell_site_names`."""
    from airan.scenario.schema import imported_sites

    parts = [np.asarray([c.position_m for c in s.cell_sites], dtype=float).reshape(-1, 2)]
    if s.cell_sites_file is not None:
        parts.append(np.asarray(imported_sites(s.cell_sites_file).xy_m, dtype=float))
    if s.cell_layout is not None:
        from airan.radio.geometry import hex_grid

        lay = s.cell_layout
        parts.append(hex_grid(lay.hex.rings, lay.hex.isd_m) + np.asarray(lay.hex.center_m))
    return np.concatenate(parts).reshape(-1, 2)


def transport_links(s: Scenario) -> TransportLinks:
    """The scenario's transport links, with the capacities and delays the engine gives them:
    fibre at :data:`FIBER_S_PER_KM` plus the extra delay plus one hop; backhaul fibre is the
    route factor times the straight line (0 to a hub without a position)."""
    names = s.node_names()
    index = {n: i for i, n in enumerate(names)}
    sites_xy = cell_site_xy(s)
    n_cell = len(sites_xy)
    node_xy = np.full((len(names), 2), np.nan)
    node_xy[:n_cell] = sites_xy
    for j, node in enumerate(s.nodes):
        if node.position_m is not None:
            node_xy[n_cell + j] = node.position_m
    la: list[int] = []
    lb: list[int] = []
    lcap: list[float] = []
    ldel: list[float] = []
    hop = s.transport.hop_delay_us * 1e-6
    linked: set[int] = set()
    for lk in s.transport.links:
        a, b = index[lk.a], index[lk.b]
        for u, v in ((a, b), (b, a)):
            la.append(u)
            lb.append(v)
            lcap.append(lk.capacity_gbps * 1e9)
            ldel.append(lk.fiber_km * FIBER_S_PER_KM + lk.extra_delay_ms * 1e-3 + hop)
        linked |= {a, b}
    la_a = np.asarray(la, dtype=np.int64)
    lb_a = np.asarray(lb, dtype=np.int64)
    lcap_a = np.asarray(lcap, dtype=float)
    ldel_a = np.asarray(ldel, dtype=float)
    bh = s.transport.backhaul
    if bh is not None:  # every cell site without a link, to the hub and back, in site order
        hub = index[bh.to]
        hub_xy = node_xy[hub]
        spokes = np.setdiff1d(np.arange(n_cell), np.asarray([*linked, hub], dtype=np.int64))
        if np.isnan(hub_xy).any():
            dist_km = np.zeros(len(spokes))
        else:
            d = node_xy[spokes] - hub_xy
            dist_km = np.hypot(d[:, 0], d[:, 1]) / 1e3
        delay = bh.route_factor * dist_km * FIBER_S_PER_KM + bh.extra_delay_ms * 1e-3 + hop
        hubs = np.full(len(spokes), hub, dtype=np.int64)
        la_a = np.r_[la_a, np.c_[spokes, hubs].ravel()]
        lb_a = np.r_[lb_a, np.c_[hubs, spokes].ravel()]
        lcap_a = np.r_[lcap_a, np.full(2 * len(spokes), bh.capacity_gbps * 1e9)]
        ldel_a = np.r_[ldel_a, np.repeat(delay, 2)]
    return TransportLinks(names, n_cell, la_a.astype(np.int64), lb_a.astype(np.int64),
                          lcap_a, ldel_a)


def compute_site_nodes(s: Scenario) -> list[str]:
    """The node each compute site stands at, listed ones then generated ones (at every
    ``generated_compute_sites.every``-th cell site), in the engine's order."""
    at = [c.at for c in s.compute_sites]
    if s.generated_compute_sites is not None:
        at += s.generated_hosts()
    return at


def _check_transport_hops(s: Scenario) -> None:
    """No shortest path (by delay) from a compute site to a node it reaches has more than
    :data:`MAX_HOPS` links: the engine's path tables stop there. The first such path, in site
    then node order, is reported as the engine reports it."""
    net = transport_links(s)
    index = {n: i for i, n in enumerate(net.node_names)}
    at = compute_site_nodes(s)
    site_node = np.asarray([index[a] for a in at], dtype=np.int64)
    n = len(net.node_names)
    if not len(net.link_a) or not len(site_node):
        return
    # a path of k links passes k - 1 nodes with two or more neighbours: with fewer than
    # MAX_HOPS such nodes no path is too long (a star backhaul has one)
    pairs = np.unique(np.c_[net.link_a, net.link_b], axis=0)
    if np.count_nonzero(np.bincount(pairs[:, 0], minlength=n) >= 2) < MAX_HOPS:
        return
    from scipy import sparse
    from scipy.sparse.csgraph import shortest_path

    graph = sparse.csr_matrix((net.link_delay_s + 1e-12, (net.link_a, net.link_b)),
                              shape=(n, n))
    roots = np.unique(site_node)
    dist, pred = shortest_path(graph, directed=True, indices=roots, return_predecessors=True)
    rows = np.arange(len(roots))[:, None]
    depth = np.full(pred.shape, -1, dtype=np.int64)  # links from the site, up to MAX_HOPS
    depth[np.arange(len(roots)), roots] = 0
    parent = np.maximum(pred, 0)
    for k in range(1, MAX_HOPS + 1):
        depth[(depth < 0) & (pred >= 0) & (depth[rows, parent] == k - 1)] = k
    too_far = np.isfinite(dist) & (depth < 0)
    for home in site_node.tolist():
        far = np.flatnonzero(too_far[np.searchsorted(roots, home)])
        if len(far):
            raise InputError(
                f"path from {net.node_names[home]} to {net.node_names[int(far[0])]} "
                f"has more than {MAX_HOPS} hops",
                field="transport.links",
            )


#: A fleet whose whole area lies farther than this from every cell site is warned about (m).
FAR_FROM_CELLS_M = 10_000.0


#: device classes that move on their own power (airan catalog devices): a battery life
#: without their base_power_w leaves the motors out
MOVING_CLASSES = ("amr", "humanoid", "drone")

#: device classes whose devices are phones, tablets, glasses or wearables (or no class): on
#: the catalog's DeviceCPU, an embedded robot CPU, their idle draw is a robot's
#: (:func:`_battery_cpu_warnings`)
HANDHELD_CLASSES = ("handset", None)


def _battery_cpu_warnings(s: Scenario, label: str | None) -> list[str]:
    """A handset fleet (or one of no class) with a battery and no accelerator: its devices
    compute on the catalog's DeviceCPU, an embedded robot or vehicle CPU that idles at watts,
    and its battery life reads as that idle draw's (a hospital's review: AR glasses of 2 Wh
    at 0.64 h and wearables of 1 Wh at 0.32 h, 3 W each of idle; with a SoC of their own,
    idling at 0.3 W and 5 mW, 4.6 h and 10.2 h, and DRX then showed its worth)."""
    cpu = s.gpu_catalog().get("DeviceCPU")
    if cpu is None or cpu.idle_w < 1.0:
        return []
    whose = "the scenario's" if "DeviceCPU" in (s.gpus or {}) else "the catalog's"
    return [str(InputError(
        f"battery life at the idle draw of the CPU its devices compute on without an "
        f"accelerator, {whose} DeviceCPU ({cpu.idle_w:g} W idle: {cpu.name}): a phone's, "
        "glasses' or wearable's SoC idles at a fraction of that, so its battery life reads "
        "far too short and DRX's saving is lost in it; give the fleet an accelerator of its "
        "own (a gpus: entry with the SoC's idle_w and tdp_w) for its battery figure",
        file=label, field=f"fleets[{f.name}].accelerator", value=f.accelerator))
        for f in s.fleets if f.count and f.battery_wh and f.accelerator == "none"
        and f.device_class in HANDHELD_CLASSES]


#: TR 38.901's outdoor environments, where the cells share a band with other networks' cells
OUTDOOR_ENVIRONMENTS = ("uma", "umi", "rma")
#: DDDSU's uplink share of slots: a frame with more is uplink-heavier than public n78's
DDDSU_UPLINK_SHARE = 0.2


def _tdd_frame_warnings(s: Scenario, label: str | None) -> list[str]:
    """An uplink-heavier TDD frame than DDDSU under outdoor cells (a camera planner's review:
    DSUUU tripled the cameras a cell carries, silently): every cell of the twin runs its
    frame, but a neighbouring network on the band in a downlink-heavier one (DOMAIN.md's n78
    planning guides: DDDSU, DDDDDDDSUU) would put its downlink into these cells' uplink slots,
    cross-link interference the twin does not model."""
    if s.radio.model != "nr" or s.radio.environment not in OUTDOOR_ENVIRONMENTS:
        return []
    carriers = [("carrier.tdd_pattern", s.carrier)] + [
        (f"cell_sites[{c.name}].carrier.tdd_pattern", c.carrier)
        for c in s.cell_sites if c.carrier is not None]
    out = []
    for field, carrier in carriers:
        frame = carrier.tdd_pattern
        if not frame or frame.upper().count("U") / len(frame) <= DDDSU_UPLINK_SHARE:
            continue
        out.append(str(InputError(
            f"an uplink-heavier frame than DDDSU outdoors ({s.radio.environment}): the twin runs "
            "every cell on it, but a neighbouring network on the band in a downlink-heavier "
            "frame (n78's usual DDDSU or DDDDDDDSUU) would send its downlink into these "
            "cells' uplink slots, cross-link interference that is not modelled; read the "
            "uplink's gain as that of a block of its own, synchronised or isolated",
            file=label, field=field, value=frame)))
    return out


def _may_run_on_board(policy: str) -> bool:
    """Whether ``policy`` may run a request on its device: local, deadline-aware and a policy
    of one's own (True where it cannot be told); cloud, nearest-edge and least-loaded send
    every request to a site."""
    from airan.policy import resolve_policy
    from airan.policy.builtin import cloud, least_loaded, nearest_edge

    try:
        return resolve_policy(policy) not in (cloud, nearest_edge, least_loaded)
    except Exception:  # noqa: BLE001  (an unknown name, a module that fails to import)
        return True


def _engine_speed_warnings(f: Any, gpus: Mapping[str, Any], label: str | None,
                           field: str) -> list[str]:
    """A fleet's engines of its own at the accelerator's whole speed and draw beside its main
    engine (``time_factor`` 1 without ``time_ms``, no ``active_w``): a second module's worth,
    right for a device with two, not for a Jetson's DLA (a humanoid maker's review: a "dla"
    engine on a Jetson AGX Thor, which has none, ran its detector at the GPU's speed beside
    the VLA, and the module drew 159 W of its 130 W TDP, silently)."""
    acc = gpus.get(f.accelerator)
    full = [e for e, spec in f.engines.items() if spec.time_factor == 1.0
            and spec.active_w is None and not set(spec.services) <= set(spec.time_ms)]
    if not full or acc is None:
        return []
    many = len(full) > 1
    active = acc.tdp_w - acc.idle_w
    return [str(InputError(
        f"engine{'s' if many else ''} {', '.join(full)} run{'' if many else 's'} "
        f"{'their' if many else 'its'} services at the {f.accelerator}'s whole speed and draw "
        f"beside its main engine (time_factor 1, active_w {active:g} W): a second module's "
        f"worth, the devices drawing up to {acc.idle_w + active * (1 + len(full)):,.0f} W "
        f"where one module's TDP is {acc.tdp_w:g} W. Right for a device with two modules; a "
        "Jetson AGX Orin's DLA is ~3x slower than its GPU for a network it runs whole "
        "(time_factor ~3) at a few W, a Jetson AGX Thor has no DLA, and engines on one GPU "
        "share it: give the engine's own time_factor or time_ms and active_w",
        file=label, field=field))]


def _shared_engine_warnings(s: Scenario, label: str | None, policy: str) -> list[str]:
    """A service whose deadline is shorter than another service's mean time at batch 1 on the
    same on-board engine (each engine runs one request at a time): a request of it that comes
    behind one of the other waits past its deadline (a humanoid maker's review: a 15 ms
    control loop behind a 101 ms VLA on a Thor met 30%, validate silent; an engine of its own
    met 100%). Under deadline-aware the other runs on board only when no site answers it
    sooner, which a scenario alone does not tell: the warning says so (a diff review found
    a VLA past its own deadline on board run there all the same, behind which detection met
    45%)."""
    from airan.policy import resolve_policy
    from airan.policy.builtin import local

    try:
        always = resolve_policy(policy) is local
    except Exception:  # noqa: BLE001  (a policy that does not load: the run's error)
        always = False
    times = device_times_s(s, mean=True)
    deadline_ms = {v.name: v.deadline_ms for v in s.services}
    on_board = {v.name for v in s.services if v.on_device}
    out = []
    for f in s.fleets:
        if not f.count or not f.computes_on_board:
            continue
        engine = {v: e for e, spec in f.engines.items() for v in spec.services}
        mine = [v for v in dict.fromkeys(f.services) if v in on_board
                and math.isfinite(times.get((f.name, v), math.inf))]
        for v in mine:
            longer = [(times[(f.name, o)] * 1e3, o) for o in mine if o != v
                      and engine.get(o, "main") == engine.get(v, "main")
                      and times[(f.name, o)] * 1e3 > deadline_ms[v]]
            if not longer:
                continue
            ms, other = max(longer)
            where = engine.get(v, "main")
            out.append(str(InputError(
                f"{v} (deadline {deadline_ms[v]:g} ms) shares the on-board engine {where!r} "
                f"with {other} ({ms:.3g} ms at batch 1, mean), one request at a time: a {v} "
                f"request behind one waits past its deadline"
                + ("" if always else f" (where the policy runs {other} on the device: "
                   "deadline-aware does when no site answers it sooner)")
                + f"; give {v} an engine of its own "
                f"(fleets[{f.name}].engines) or keep {other} off the device (on_device: false)",
                file=label, field=f"fleets[{f.name}].services")))
    return out


def _reads_admission(policy: str) -> bool:
    """Whether ``policy`` (a name or ``module:callable``) may read ``admission`` and
    ``objective``: deadline-aware applies them and a policy of one's own may read them from its
    snapshot; the other built-ins ignore them (True where it cannot be told: a policy that does
    not load is the run's error to report)."""
    from airan.policy import resolve_policy
    from airan.policy.builtin import cloud, least_loaded, local, nearest_edge

    try:
        return resolve_policy(policy) not in (local, cloud, nearest_edge, least_loaded)
    except Exception:  # noqa: BLE001  (an unknown name, a module that fails to import)
        return True


#: bytes of memory a run takes per device, measured (a million factory AMRs: 1.5 GB peak)
BYTES_PER_DEVICE = 1.5e3


def _out_of_range_warnings(s: Scenario, label: str | None) -> list[str]:
    """Settings the twin accepts but that make a run say little (see scenario_warnings)."""
    import os

    from airan.mobility.config import Waypoints3D
    from airan.radio.link import MAX_SE_256QAM
    from airan.radio.pathloss import AERIAL_TOP_M, UT_HEIGHT_RANGE_M

    outdoor = s.radio.environment in ("uma", "umi", "rma")
    # the highest UE height the path loss covers: TR 36.777 Annex B's aerial UEs under UMa,
    # UMi and RMa, TR 38.901 Table 7.4.1-1's 22.5 m elsewhere (InH, InF: no aerial model)
    top_m = AERIAL_TOP_M if outdoor else UT_HEIGHT_RANGE_M[1]
    out = []
    for f in s.fleets if s.radio.model == "nr" else ():  # (heights mean nothing elsewhere)
        mob = f.mobility
        # (a waypoint fleet flies at its paths' heights: its height_m is not used, as
        # _waypoint_warnings says)
        at_points = getattr(f.area, "heights_m", None)  # (a fleet at points: its own)
        heights = ([] if isinstance(mob, Waypoints3D) else
                   [(f"fleets[{f.name}].area.heights_m", max(at_points))] if at_points else
                   [(f"fleets[{f.name}].height_m", f.height_m)])
        if isinstance(mob, Waypoints3D):
            if mob.paths is not None:
                top = max(p[2] for path in mob.paths for p in path)
                heights.append((f"fleets[{f.name}].mobility.paths", top))
            elif mob.generate is not None:
                heights.append((f"fleets[{f.name}].mobility.generate.altitude_m",
                                mob.generate.altitude_m[1]))
        elif mob is not None and mob.model == "trace" and Path(mob.file).is_file():
            _, top, _, _, _ = _check_trace(mob.model_dump_json(), mob.file,
                                        _file_stamp(mob.file), f"fleets[{f.name}].mobility",
                                        scenario_origin(s))
            heights.append((f"fleets[{f.name}].mobility.file", top))
            from airan.radio.pathloss import aerial_above_m

            above = aerial_above_m(s.radio.environment)
            if f.count and f.device_class != "drone" and above is not None and top > above:
                # (a V2X engineer's review: a car's GPS altitude, 48.7 m, in z made it an
                # aerial UE: no handover and 3.0 dB where its drive at ground height gave
                # -6.1 dB and 3 handovers)
                out.append(str(InputError(
                    f"this {f.device_class or 'ground'} fleet's trace gives heights up to "
                    f"{top:g} m, above "
                    f"the {above:g} m where a UE becomes an aerial one (TR 36.777): z is the "
                    "height above ground, not an altitude (drop the z column, or name another "
                    "in columns.z; drones: device_class: drone)", file=label,
                    field=f"fleets[{f.name}].mobility.columns.z",
                    value=top)))
        for field, h in heights:
            if f.count and h > top_m:
                what = ("TR 36.777 Annex B's aerial UEs fly up to 300 m" if outdoor else
                        f"TR 38.901's {s.radio.environment} path loss covers UE heights up to "
                        f"{top_m:g} m (Table 7.4.1-1; aerial UEs, TR 36.777, under uma or umi "
                        "cells only)")
                out.append(str(InputError(
                    f"{what}: the radio takes these devices at {top_m:g} m", file=label,
                    field=field, value=h)))
                break
    sites = [(f"compute_sites[{c.name}].batching", c.batching, c.services)
             for c in s.compute_sites]
    if s.generated_compute_sites is not None:
        sites.append(("generated_compute_sites.batching", s.generated_compute_sites.batching,
                      None))
    for field, b, served in sites:
        deadline_ms: dict[str, list[tuple[float, str]]] = {}
        for v in s.services:  # (the services the site serves: its services, or every one)
            if served is None or v.name in served:
                deadline_ms.setdefault(v.model, []).append((v.deadline_ms, v.name))
        for model, services in deadline_ms.items():
            max_batch, wait_ms = b.for_model(model)
            tight = min(services)
            if max_batch > 1 and wait_ms >= tight[0]:
                out.append(str(InputError(
                    f"a batch of {model} that does not fill waits {wait_ms:g} ms, at or beyond "
                    f"the {tight[0]:g} ms deadline of service {tight[1]!r}: its requests there "
                    "miss it (max_wait_ms is in milliseconds)", file=label,
                    field=f"{field}.max_wait_ms", value=wait_ms)))
                break
    # the SINR where 0.75 log2(1 + SINR / 1.25) (radio.link.spectral_efficiency) reaches its cap
    cap_db = 10 * math.log10(1.25 * (2 ** (MAX_SE_256QAM / 0.75) - 1))
    if s.radio.model == "nr" and s.radio.min_sinr_db > cap_db:
        out.append(str(InputError(
            f"above {cap_db:.1f} dB, the SINR at which the spectral efficiency reaches its cap: "
            "only links already at the top rate could carry data, and most requests find no "
            "usable link", file=label, field="radio.min_sinr_db", value=s.radio.min_sinr_db)))
    devices = sum(f.count for f in s.fleets)
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # (no sysconf: not checked)
        ram = 0
    if ram and devices * BYTES_PER_DEVICE > 0.5 * ram:
        out.append(str(InputError(
            f"{devices:,} devices take about {devices * BYTES_PER_DEVICE / 1e9:.0f} GB "
            f"(~{BYTES_PER_DEVICE / 1e3:g} KB each, measured), more than half of this "
            f"machine's {ram / 1e9:.0f} GB: the run may run out of memory (a smaller "
            "--fleet-scale, or run-sharded)", file=label, field="fleets",
            value=f"{devices:,} devices")))
    return out


#: A service expected to make fewer requests than this in a run is warned about (an
#: assumption: a 99% target then allows under one miss, and p99 is about the slowest request).
FEW_REQUESTS = 100


def offered_requests(s: Scenario) -> dict[str, tuple[float, float]]:
    """Per service: the devices that send it and the requests per second they offer (each
    device at the service's ``rate_hz``; surges aside)."""
    out: dict[str, tuple[float, float]] = {}
    for v in s.services:
        devices = sum(f.count for f in s.fleets if v.name in f.services)
        out[v.name] = (float(devices), float(devices * v.rate_hz))
    return out


#: model names that say "no model at all" (a stream), answered with how to write one
NO_MODEL = frozenset({"none", "null", "no", "stream", "relay", "-", ""})


def scenario_warnings(s: Scenario, *, label: str | None = None,
                      duration_s: float | None = None, policy: str | None = None,
                      fleet_scale: float = 1.0) -> list[str]:
    """What a scenario may say but probably does not mean, one line each, in the format of an
    error (``airan validate`` and ``airan run`` print them):

    - a compute site that no cell reaches over the transport links. The engine never serves a
      request there: deadline-aware and nearest-edge pass such a site over, and a request
      another policy sends there is dropped (``no_route``);
    - a service whose upload is larger than the uplink buffer of a fleet that runs it: each of
      its requests sent over the radio is dropped (``buffer_full``); only on the device's own
      accelerator does it run;
    - ``ul_queue: latest`` with a radio other than nr, which has no buffer it acts on;
    - fleets that all have count 0: no request at all; or one fleet with count 0: none from it;
    - a duration shorter than one slot: the run simulates one whole slot;
    - a carrier in an NR band that :mod:`airan.radio.bands` does not list: its frequency and
      duplex mode are not checked; a carrier of no band outside FR1 and FR2; a TDD pattern
      TS 38.331 cannot configure (:func:`tdd_pattern_configurable`);
    - a fault that starts at or after the end of the run (``duration_s``, the scenario's unless
      given): it never happens;
    - a service that no fleet runs: it makes no request; one expected to make fewer than
      :data:`FEW_REQUESTS` in the scenario's own ``duration_s`` (a rate in the wrong unit);
    - with the nr radio, a fleet whose whole ``area`` lies farther than
      :data:`FAR_FROM_CELLS_M` from every cell site: its devices hardly reach a cell; or
      beyond the distance TR 38.901's path loss of its environment covers (fleets
      that replay a trace or fly given paths are skipped: the area does not place them); and,
      where every fleet is placed in an area, a cell site beyond that distance from all of
      them: it hardly serves a device;
    - a fleet whose on-board accelerator (or CPU) cannot hold its services' models together
      (:mod:`airan.compute.memory`): the twin still runs them there when a policy says so;
    - ``ai_ran.mode`` mig or dynamic with no cell-kind compute site to run a cell's L1, or
      several at one cell site (the last runs it);
    - a compute site whose ``queue_limit`` (requests waiting there, all models together) is
      below the ``max_batch`` of a model it serves: the request that would fill a batch is
      dropped (``queue_full``), so batches start only when ``max_wait_ms`` runs out;
    - a fleet replaying a trace of more or fewer devices than its ``count``;
    - a fleet whose area lies over a quarter outside the sites' hull and beyond the layout's
      inter-site distance from every cell site;
    - an NR uplink grant delay shorter than the PDCCH and the UE's N2 processing;
    - background traffic that takes every PRB in some hours;
    - rows of a ``cell_sites_file`` that were skipped (and why, the first five);
    - ``admission: strict`` or ``objective: energy`` with a policy other than deadline-aware
      (``policy``, the scenario's unless given), which neither reads; ``jitter_ms`` on a
      service of Poisson arrivals, which ignore it;
    - a UE height (a drone path's, a trace's) above the path loss's range, at which the radio
      takes it (300 m, TR 36.777's aerial UEs, under UMa, UMi and RMa; 22.5 m elsewhere); a
      batching ``max_wait_ms`` at or beyond the deadline of a service of the model; a
      ``min_sinr_db`` above the SINR at which the spectral efficiency caps; fleets whose
      devices would take more than half of this machine's memory; a model's batch at a
      compute site that takes its service's deadline or longer where one request alone
      meets it;
    - a fleet of a device class that usually works indoors (:data:`USUALLY_INDOORS`) under
      outdoor cells with no ``penetration`` of its own: it is taken outdoors;
    - a service that may not run on its devices (``on_device: false``), or a fleet whose
      devices run no model (``cpu_runs_models: false``, no accelerator), under the ``local``
      policy: each of its requests is dropped (``not_on_device``);
    - fleets that offer the cells more than :data:`UL_OFFERED_SHARE` of the most uplink they
      carry (:func:`uplink_most_bps`): the radio, not the GPUs, is then the first limit;
    - a transport link on which one message of a service takes its deadline or longer;
    - under a policy that may run requests on board, a service whose deadline is shorter than
      another's time on the same on-board engine (:func:`_shared_engine_warnings`);
    - an uplink-heavier TDD frame than DDDSU outdoors (:func:`_tdd_frame_warnings`);
    - a moving fleet's battery life without its motors (``base_power_w``);
    - a ``compute_priority`` that orders nothing (:func:`_lone_priority_warnings`);
    - fleets whose uplink channel changes faster than a gNB learns it, under a scheduler that
      ranks by each slot's fading (:func:`_fading_speed_warnings`);
    - a service of ``ul_kb: 0`` whose requests still cross the uplink
      (:func:`_zero_upload_warnings`);
    - a warning given twice, word for word (of a model that two services run): once."""
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    net = transport_links(s)
    n = len(net.node_names)
    graph = sparse.csr_matrix((np.ones(len(net.link_a)), (net.link_a, net.link_b)), shape=(n, n))
    _, part = connected_components(graph, directed=False)
    with_cells = set(part[: net.n_cell_sites].tolist())
    index = {name: i for i, name in enumerate(net.node_names)}
    out = []
    run_policy = policy or s.policy
    for key, value, default in (("admission", s.admission, "none"),
                                ("objective", s.objective, "latency")):
        if value != default and not _reads_admission(run_policy):
            out.append(str(InputError(
                f"policy {run_policy!r} ignores {key} (deadline-aware applies it; a policy of "
                f"one's own may read snapshot.{key})",
                file=label, field=key, value=value)))
    out += _indoor_class_warnings(s, label)
    out += _lone_priority_warnings(s, label)
    out += _qos_warnings(s, label)
    out += _points_warnings(s, label)
    sent = {name for f in s.fleets if f.count for name in f.services}
    for f in s.fleets:
        if run_policy == "local" and f.count and not f.computes_on_board:
            why = (f"its device class {f.device_class!r} says so"
                   if "cpu_runs_models" not in f.model_fields_set else "as it says")
            out.append(str(InputError(
                "policy 'local' runs every request on its device, and this fleet's devices run "
                f"no model (no accelerator, and a CPU that runs none, {why}): each of its "
                "requests is dropped (not_on_device)",
                file=label, field=f"fleets[{f.name}].cpu_runs_models", value=False)))
    for v in s.services:
        if not v.on_device and run_policy == "local" and v.name in sent:
            out.append(str(InputError(
                "policy 'local' runs every request on its device, and this service may not run "
                "there (on_device: false): each of its requests is dropped (not_on_device)",
                file=label, field=f"services[{v.name}].on_device", value=False)))
        if v.arrivals == "poisson" and v.jitter_ms > 0:
            out.append(str(InputError(
                "jitter shifts periodic arrivals; Poisson arrivals are random already and "
                "ignore it", file=label, field=f"services[{v.name}].jitter_ms",
                value=v.jitter_ms)))
    for c in s.compute_sites:  # (generated sites stand at cell sites)
        if part[index[c.at]] not in with_cells:
            out.append(str(InputError(
                "no cell reaches this compute site over the transport links (transport.links, "
                "transport.backhaul): no request is ever served there",
                file=label, field=f"compute_sites[{c.name}].at", value=c.at)))
    out += _unlinked_cell_warnings(s, net, part, label)
    out += _isolating_link_fault_warnings(s, net, part, label)
    if s.radio.model != "nr":
        for f in s.fleets:
            if f.ul_queue == "latest":
                out.append(str(InputError(
                    f"ul_queue 'latest' acts on the nr radio's uplink buffers; the "
                    f"{s.radio.model} radio sends every request", file=label,
                    field=f"fleets[{f.name}].ul_queue", value=f.ul_queue)))
    by_name = {v.name: v for v in s.services}
    for f in s.fleets if s.radio.model != "ideal" else []:  # the ideal radio has no buffer
        for name in f.services:
            v = by_name[name]
            if not v.ul_largest_kb > f.ul_buffer_kb:
                continue
            if v.ul_kb_spread is None:
                out.append(str(InputError(
                    f"service {name!r} uploads {v.ul_kb:g} KB, more than this fleet's "
                    "uplink buffer holds: each of its requests sent over the radio is "
                    "dropped (buffer_full)", file=label,
                    field=f"fleets[{f.name}].ul_buffer_kb", value=f.ul_buffer_kb)))
            else:
                over = v.ul_kb_spread.share_above(f.ul_buffer_kb / v.ul_kb)
                out.append(str(InputError(
                    f"{over:.3%} of service {name!r}'s uploads (ul_kb {v.ul_kb:g} KB, spread "
                    f"{v.ul_kb_spread.dist} cv {v.ul_kb_spread.cv:g}) are larger than this "
                    "fleet's uplink buffer holds: each of them sent over the radio is dropped "
                    "(buffer_full)", file=label, field=f"fleets[{f.name}].ul_buffer_kb",
                    value=f.ul_buffer_kb)))
    end = s.duration_s if duration_s is None else float(duration_s)
    from airan.radio.nr import slot_duration_s

    carriers = _used_carriers(s)
    slot_s = slot_duration_s(carriers[0][1].numerology) if carriers else 0.0
    if s.radio.first_grant_bytes is not None and (s.radio.model != "nr"
                                                  or s.radio.ul_access != "sr"):
        out.append(str(InputError(
            "the size of the grant that answers a scheduling request matters only with "
            "radio.model nr and ul_access sr: it is ignored here", file=label,
            field="radio.first_grant_bytes", value=s.radio.first_grant_bytes)))
    out += _unused_los_warnings(s, label)
    if s.radio.model == "nr" and s.radio.ul_access == "sr" and carriers:
        from airan.radio.nr import N2_SYMBOLS, PDCCH_SYMBOLS, whole_slots

        # the SR goes out in its occasion's slot; the gNB grants it on a PDCCH at the start of
        # a later slot at the earliest, which the UE needs N2 symbols to act on (TS 38.214 6.4)
        mu = min(carriers[0][1].numerology, len(N2_SYMBOLS) - 1)
        least_s = slot_s + (PDCCH_SYMBOLS + N2_SYMBOLS[mu]) * slot_s / 14.0
        if s.radio.grant_delay_ms * 1e-3 < least_s - 1e-12:
            out.append(str(InputError(
                f"a grant delay under {least_s * 1e3:.3g} ms (the scheduling request's slot, "
                "then the grant's PDCCH and the UE's N2 processing, TS 38.214 6.4) is not "
                "physical: the data may go before a grant could reach the UE", file=label,
                field="radio.grant_delay_ms", value=s.radio.grant_delay_ms)))
        # TS 38.331 SchedulingRequestResourceConfig periodicityAndOffset: 2 or 7 symbols, or
        # these numbers of slots (the engine takes any period; off the slot grid it spreads
        # each UE's occasions uniformly)
        period_slots = s.radio.sr_period_ms * 1e-3 / slot_s
        symbols = period_slots * 14.0
        allowed = SR_PERIOD_SLOTS[mu if mu < 3 else 3]
        if (whole_slots(s.radio.sr_period_ms * 1e-3, slot_s) not in allowed if period_slots
                > 1.0 + 1e-6 else not any(abs(symbols - n) < 1e-6 for n in SR_PERIOD_SYMBOLS)
                and abs(period_slots - 1.0) > 1e-6):
            out.append(str(InputError(
                f"an SR period of {period_slots:.4g} slots ({slot_s * 1e3:g} ms each) is not one "
                f"that TS 38.331 configures at {15 * 2 ** mu:g} kHz (2 or 7 symbols, or "
                f"{', '.join(str(n) for n in allowed)} slots)", file=label,
                field="radio.sr_period_ms", value=s.radio.sr_period_ms)))
    if s.radio.model == "nr" and s.radio.bler > 0 and s.radio.harq_max_retx > 0 and carriers:
        from airan.radio import nr

        car = carriers[0][1]
        codes = nr.slot_types(car.tdd_pattern or None)
        retx = np.concatenate(nr.harq_retx_slots(*nr.slot_usable(codes), slot_s, car.numerology))
        reach = s.radio.harq_max_retx * int(retx.max())
        if reach - 1 > HARQ_HISTORY_SLOTS:  # earlier blocks within reach - 1 slots matter
            out.append(str(InputError(
                f"HARQ resends reach up to {reach} slots after a block (harq_max_retx "
                f"{s.radio.harq_max_retx} x this pattern's longest round trip, {retx.max()} "
                f"slots); the engine follows a transfer's earlier blocks over its last "
                f"{HARQ_HISTORY_SLOTS} slots only, so a long transfer is now and then through a "
                "little early", file=label, field="radio.harq_max_retx",
                value=s.radio.harq_max_retx)))
    for i, fault in enumerate(s.faults):
        # a fault acts from the slot nearest its start (FaultSchedule), the run has the slots
        # that begin before its end (Engine.n_slots): one rounded to the end never acts
        never = (fault.start_s >= end if not slot_s else
                 int(round(fault.start_s / slot_s)) >= math.ceil(end / slot_s - 1e-9))
        if never:
            when = (f"at or after the end of the run ({end:g} s)" if fault.start_s >= end else
                    f"so near the end of the run ({end:g} s) that it rounds to the end "
                    f"({slot_s * 1e3:g} ms slots)")
            out.append(str(InputError(
                f"this {fault.kind} fault starts {when}: it never happens",
                file=label, field=f"faults[{i}].start_s", value=fault.start_s)))
    if s.fleets and not any(f.count for f in s.fleets):
        out.append(str(InputError(
            "every fleet has count 0: the run makes no request", file=label,
            field="fleets", value=0)))
    else:
        for f in s.fleets:
            if f.count == 0:
                scaled = (f" (--fleet-scale {fleet_scale:g} rounds its count to 0)"
                          if fleet_scale != 1.0 else "")
                out.append(str(InputError(
                    f"this fleet has no devices{scaled}: it makes no request", file=label,
                    field=f"fleets[{f.name}].count", value=None if scaled else 0)))
    if slot_s > 0.0 and end < slot_s * (1.0 - 1e-9):
        out.append(str(InputError(
            f"shorter than one slot ({slot_s * 1e3:g} ms): the run simulates one whole slot",
            file=label, field="duration_s", value=end)))
    used = {name for f in s.fleets for name in f.services}
    for v in s.services:
        if v.name not in used:
            out.append(str(InputError(
                "no fleet runs this service (fleets[].services): it makes no request",
                file=label, field=f"services[{v.name}]")))
    models = s.model_catalog()
    gpus = s.gpu_catalog()
    for f in s.fleets:  # engines of its own where they cannot do what they say
        if not f.engines or not f.count:
            continue
        field = f"fleets[{f.name}].engines"
        for e, spec in f.engines.items():  # a measured time faster than the whole module
            for svc, ms in spec.time_ms.items():
                mid = next((x.model for x in s.services if x.name == svc), "")
                if mid in models:
                    out += _too_fast_on_board(models[mid], gpus, f.accelerator, ms, label,
                                              f"{field}.{e}.time_ms.{svc}", mid)
        if not f.computes_on_board:
            out.append(str(InputError(
                "its devices run no model on board (no accelerator, cpu_runs_models false): "
                "these engines are never used", file=label, field=field)))
            continue
        if f.accelerator == "none":
            out.append(str(InputError(
                "a device without an accelerator: its CPU runs each engine's services beside "
                "the others', each at the CPU's whole speed (an optimistic reading of a "
                "multi-core CPU)", file=label, field=field)))
        out += _engine_speed_warnings(f, gpus, label, field)
        kept_off = [v.name for v in s.services if not v.on_device
                    and any(v.name in e.services for e in f.engines.values())]
        if kept_off:
            out.append(str(InputError(
                f"{', '.join(kept_off)} never run on board (on_device: false): their engine "
                "is never used", file=label, field=field)))
    if _may_run_on_board(run_policy):
        out += _shared_engine_warnings(s, label, run_policy)
    out += _tdd_frame_warnings(s, label)
    for f in s.fleets:  # (a humanoid maker's review: a 2.25 kWh humanoid read "89 h", its
        # motors uncounted; the battery line says "not motors", no warning did)
        moves = f.mobility is not None and f.mobility.model != "static"
        if f.count and f.battery_wh and not f.base_power_w and (
                moves or f.device_class in MOVING_CLASSES):
            what = f.device_class or "moving device"
            out.append(str(InputError(
                f"battery life counts its AI and radio only ({f.battery_wh:g} Wh): "
                f"{'an' if what[0] in 'aeiou' else 'a'} {what}'s motors, propellers and "
                "sensors draw more; give base_power_w their mean draw (W)", file=label,
                field=f"fleets[{f.name}].base_power_w", value=0.0)))
    out += _battery_cpu_warnings(s, label)
    # (the scenario as written, its own duration: a run made short on purpose is not warned)
    for name, (devices, per_s) in offered_requests(s).items():
        expected = per_s * s.duration_s
        if devices and 0 < expected < FEW_REQUESTS:  # (rate_hz: 0.02 meant 20, a review)
            out.append(str(InputError(
                f"about {expected:.3g} requests in the scenario's {s.duration_s:g} s "
                f"({devices:,.0f} {'device' if devices == 1 else 'devices'} at "
                f"{per_s / devices:g} Hz): its hit ratio moves by "
                f"1/{expected:.0f} per request and its p99 is about its slowest request; "
                "rate_hz is per second", file=label, field=f"services[{name}].rate_hz")))
    if s.radio.model == "nr":
        out += _far_fleet_warnings(s, label)
        out += _unlisted_band_warnings(s, label)
        out += _carrier_range_warnings(s, label)
        out += _uplink_load_warnings(s, label)
    out += _link_capacity_warnings(s, label)
    out += _link_delay_warnings(s, label)
    out += _spread_bounds_warnings(s, label)
    out += _layout_spacing_warnings(s, label)
    out += _close_sites_warnings(s, label)
    out += _downtilt_warnings(s, label)
    out += _omni_cell_warnings(s, label)
    out += _device_memory_warnings(s, label)
    out += _weightless_model_warnings(s, label)
    out += _service_time_warnings(s, label)
    out += _batch_deadline_warnings(s, label)
    used = {v.model for v in s.services}
    for field, b in site_batchings(s):
        for model in sorted(set(b.models) - used):
            out.append(str(InputError(
                f"no service uses model {model!r}: this batching of it is not used",
                file=label, field=f"{field}.batching.models", value=model)))
    named = {v.model for v in s.services}
    for mid in s.models:
        if mid not in named:
            out.append(str(InputError(
                "no service names this model (services[].model): it is not used; a service "
                "meant to run it runs the model it names", file=label, field=f"models.{mid}")))
    out += _out_of_range_warnings(s, label)
    out += _bs_height_warnings(s, label)
    out += _queue_limit_warnings(s, label)
    out += _instance_overlap_warnings(s, label)
    out += _l1_capacity_warnings(s, label)
    out += _fronthaul_warnings(s, label)
    ar = s.ai_ran
    if ar.mode != "none" and ar.antennas is not None and ar.antennas != s.radio.gnb_rx_antennas:
        # (an operator's review: 64 accepted silently beside a 4-antenna radio)
        out.append(str(InputError(
            f"the cells' L1 is costed for {ar.antennas} antennas while the radio receives with "
            f"{s.radio.gnb_rx_antennas} (radio.gnb_rx_antennas): the uplink gets the combining "
            f"gain of {s.radio.gnb_rx_antennas}, the GPUs the work of {ar.antennas}; leave "
            "ai_ran.antennas out to cost the radio's", file=label, field="ai_ran.antennas",
            value=ar.antennas)))
    out += _mig_layout_warnings(s, label)
    out += _full_background_warnings(s, label)
    out += _priority_under_background_warnings(s, label)
    out += _trace_count_warnings(s, label, end)
    out += _ue_power_warnings(s, label)
    out += _cell_power_warnings(s, label)
    out += _outside_layout_warnings(s, label)
    out += _waypoint_warnings(s, label)
    out += _unit_warnings(s, label)
    out += _fading_speed_warnings(s, label)
    out += _zero_upload_warnings(s, label, run_policy)
    out += _update_step_warnings(s, label)
    if s.ai_ran.mode != "none" and not l1_hosts(s):
        out.append(str(InputError(
            f"no compute site of kind 'cell' stands at a cell site, nor lists any in "
            f"hosts_l1_of, to run its cells' L1: "
            f"ai_ran.mode {s.ai_ran.mode!r} changes nothing", file=label, field="ai_ran.mode",
            value=s.ai_ran.mode)))
    if s.ai_ran.mode != "none":  # several cell-kind sites at one cell site: the last runs
        # its cells' L1 (an operator's review: accepted silently)
        at: dict[str, list[str]] = {}
        cell_sites = set(s.cell_site_names())
        pooled = {name for c in s.compute_sites for name in c.hosts_l1_of}
        for c in s.compute_sites:
            if c.kind == "cell" and c.at in cell_sites:
                at.setdefault(c.at, []).append(c.name)
        for where, names in at.items():
            if len(names) > 1 and where not in pooled:  # (hosts_l1_of says which runs it)
                out.append(str(InputError(
                    f"{len(names)} compute sites of kind 'cell' stand at {where!r} "
                    f"({', '.join(names)}): only the last, {names[-1]!r}, runs its cells' L1 "
                    f"under ai_ran.mode {s.ai_ran.mode!r}; the others give their GPUs to AI "
                    "alone", file=label, field=f"compute_sites[{names[0]}].kind",
                    value="cell")))
    out += _skipped_site_warnings(s, label)
    # each once: a warning of a model's (its batching, say) comes of every service that runs
    # it, word for word (a teleoperation lead's review: two services of one model, twice)
    return list(dict.fromkeys(out))


def _site_gpu_types(s: Scenario, service: str | None = None) -> set[str]:
    """The GPU types of the compute sites, listed and generated (those that serve ``service``
    where given: a listed site's ``services``)."""
    out = {g.type for c in s.compute_sites for g in c.gpus
           if service is None or c.services is None or service in c.services}
    if s.generated_compute_sites is not None:
        out |= {g.type for g in s.generated_compute_sites.gpus}
    return out


def device_times_s(s: Scenario, *, mean: bool = False) -> dict[tuple[str, str], float]:
    """Per (fleet, service) that the fleet's devices request, the shortest time one request can
    take on the device itself at batch 1 (s), or with ``mean`` its mean: its accelerator, or
    the catalog's generic device CPU where it has none, as :func:`_batch1_times_s` (and the
    engine's ``local_time_s``) takes it. A service whose model is not in the catalog is left
    out."""

    gpus = s.gpu_catalog()
    models = s.model_catalog()
    out: dict[tuple[str, str], float] = {}
    for v in s.services:
        if v.model not in models:
            continue
        by_fleet: dict[str, float] = {}
        _batch1_times_s(s, v, gpus, models, by_fleet, mean=mean)
        out.update({(f, v.name): t for f, t in by_fleet.items()})
    return out


def site_times_s(s: Scenario) -> dict[tuple[str, str], tuple[float, str]]:
    """Per (compute site, service it serves), the shortest time one request of the service can
    take there at batch 1 (s) and the GPU type that gives it: the fastest of the site's GPUs,
    as :func:`_batch1_times_s` takes them. Generated sites are named as the world names them
    (``gpu-<cell site>``). A service whose model is not in the catalog, or that no fleet with
    devices runs, is left out. The whole GPU's time: a MIG instance (``ai_ran.mode: mig``) or
    the L1's share under ``dynamic`` is slower, so a caution read from these may miss such a
    site, never name one wrongly (validate's placement warning reads the engine's tables)."""
    gpus = s.gpu_catalog()
    models = s.model_catalog()
    sent = {name for f in s.fleets if f.count > 0 for name in f.services}
    sites = [(c.name, {g.type for g in c.gpus}, c.services) for c in s.compute_sites]
    if s.generated_compute_sites is not None:
        types = {g.type for g in s.generated_compute_sites.gpus}
        sites += [(f"gpu-{h}", types, None) for h in s.generated_hosts()]
    out: dict[tuple[str, str], tuple[float, str]] = {}
    for v in s.services:
        if v.name not in sent or v.model not in models:
            continue
        by_gpu: dict[str, float] = {}
        _batch1_times_s(s, v, gpus, models, by_gpu=by_gpu)
        for name, types, serves in sites:
            if serves is None or v.name in serves:
                out[(name, v.name)] = min((by_gpu[g], g) for g in types if g in by_gpu)
    return out


def peak_roofline_services(s: Scenario) -> list[tuple[str, str]]:
    """The (service, model) pairs whose times come from a roofline at the GPUs' datasheet
    peaks (catalog efficiency 1.0 for compute and memory, as vla-perf's OpenVLA-7B), for a
    service that some fleet sends and that gives no measured ``service_time``: their compute
    times are what an ideal stack approaches, faster than a deployed one."""
    models = s.model_catalog()
    sent = {name for f in s.fleets for name in f.services}
    out = []
    for v in s.services:
        m = models.get(v.model)
        if (v.name in sent and v.service_time is None and m is not None
                and m.service_time_ms is None and m.efficiency is not None
                and m.efficiency.compute >= 1.0 and m.efficiency.memory >= 1.0
                and not m.efficiency.compute_on):
            out.append((v.name, v.model))
    return out


def _batch1_times_s(s: Scenario, service: Any, gpus: Mapping[str, Any],
                    models: Mapping[str, Any],
                    by_fleet: dict[str, float] | None = None, *,
                    mean: bool = False,
                    by_gpu: dict[str, float] | None = None) -> dict[str, float]:
    """Where a service's model runs in the scenario and the shortest time one request can take
    there at batch 1 (s), as the engine's tables take it (engine.world): by compute-site GPU
    type ("an L4"; "any compute site's GPU" where a given time is the same on all) and device
    accelerator ("the devices' JetsonOrin"). A given time counts at its distribution's least
    (uniform: ``low_ms``; exponential and lognormal: 0, any deadline can be met), or with
    ``mean`` at its mean. ``by_fleet``, when given, gets the devices' times by fleet name too;
    ``by_gpu`` the sites' by GPU type."""
    from airan.catalog import ServiceTimeDist
    from airan.compute.roofline import roofline_ratio, service_time_table_s

    base = models[service.model]
    st = service.service_time
    roof = base.gflops is not None and base.efficiency is not None
    given = st.as_catalog() if st is not None else base.service_time_ms
    # a model's own measured time, with a roofline: the devices run the roofline (engine.world)
    own_roof = st is None and base.service_time_ms is not None and roof
    least = 1.0  # the distribution's least time over its mean
    if not mean and isinstance(given, ServiceTimeDist) and given.dist != "fixed" and not (
            given.dist == "lognormal" and not given.cv):  # (cv 0: no spread)
        least = (given.low_ms * 1e-3 / given.mean_s if given.dist == "uniform"
                 and given.low_ms is not None and given.mean_s > 0 else 0.0)
    # on board, a measured time keeps its spread unless a fleet running the service takes the
    # model's roofline on its accelerator (engine.world: the spread is per service)
    on_roofline = own_roof or st is not None and st.measured_on is None and roof and any(
        service.name in f.services and f.count > 0
        and f.accelerator not in (st.on_device_ms or {}) for f in s.fleets)
    least_on_board = 1.0 if on_roofline else least
    measured = None  # a service's measured mean (s)
    if st is not None:
        measured = float(given) * 1e-3 if isinstance(given, (int, float)) else given.mean_s

    def at(gpu: str, device: bool) -> float:
        if device and own_roof:
            return float(service_time_table_s(base.model_copy(update={"service_time_ms": None}),
                                              gpus[gpu], 1)[1])
        if st is None or measured is None:  # the roofline, or the catalog's given time
            return float(service_time_table_s(base, gpus[gpu], 1)[1]) * least
        if st.measured_on is not None:
            return (measured * least
                    * float(roofline_ratio(base, gpus[gpu], gpus[st.measured_on], 1)[1]))
        if device and roof:  # (a device runs the roofline unless measured_on carries it)
            return float(service_time_table_s(base, gpus[gpu], 1)[1])
        return measured * least

    out: dict[str, float] = {}
    site_gpus = _site_gpu_types(s, service.name)  # (the sites that serve it)
    same = given is not None and (st is None or st.measured_on is None)  # on every GPU alike
    if same and site_gpus:
        out["any compute site's GPU"] = at(sorted(site_gpus)[0], False)
    for gpu in sorted(site_gpus) if not same else []:
        out[f"an {gpu}" if gpu[0] in "AEFHILMNORSX" else f"a {gpu}"] = at(gpu, False)
    if by_gpu is not None and site_gpus:
        by_gpu.update({gpu: at(sorted(site_gpus)[0] if same else gpu, False)
                       for gpu in site_gpus})
    for f in s.fleets if service.on_device else []:  # (on_device: false never runs there)
        if service.name not in f.services or f.count == 0 or not f.computes_on_board:
            continue
        on_device = (st.on_device_ms or {}) if st is not None else {}
        if f.accelerator in on_device:
            t = on_device[f.accelerator] * 1e-3 * least_on_board
        else:
            t = at(f.accelerator if f.accelerator != "none" else "DeviceCPU", True)
        engine = f.engine_of(service.name)  # an engine of its own: its time there
        if engine is not None:
            t = (engine.time_ms[service.name] * 1e-3 * least_on_board
                 if service.name in engine.time_ms else t * engine.time_factor)
        where = (f"the {f.name} devices' {f.accelerator}" if f.accelerator != "none"
                 else f"the {f.name} devices' CPU")
        out[where] = t
        if by_fleet is not None:
            by_fleet[f.name] = t
    return out


def _some(names: Sequence[str], shown: int = 5) -> str:
    """``names`` for a message: the first ``shown``, then how many more."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more:,} more" if more > 0 else "")


def _isolating_link_fault_warnings(s: Scenario, net: Any, part: Any,
                                   label: str | None) -> list[str]:
    """A ``link_down`` fault that cuts cell sites from every compute site: their cells stay on
    the air while their devices' requests drop as they are created (``no_route``) and send
    nothing up, so the shared GPUs and links carry less and the other cells hear none of
    their uplink interference meanwhile (a port
    automation lead's review: cutting one mast's backhaul raised the rest of the terminal's
    hit ratios). Where the gNB takes its cells off the air on losing its backhaul, and its
    devices move to their neighbours, a ``cell_down`` fault on those sites for the same
    window says so."""
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    index = {name: i for i, name in enumerate(net.node_names)}
    at = [index[a] for a in compute_site_nodes(s) if a in index]
    if not at:
        return []
    served = {int(part[i]) for i in at}
    n = len(net.node_names)
    out = []
    for i, f in enumerate(s.faults):
        if f.kind != "link_down" or f.link is None:
            continue
        a, b = (index.get(x) for x in f.link)
        keep = ~(((net.link_a == a) & (net.link_b == b)) | ((net.link_a == b) & (net.link_b == a)))
        graph = sparse.csr_matrix((np.ones(int(keep.sum())), (net.link_a[keep], net.link_b[keep])),
                                  shape=(n, n))
        _, cut_part = connected_components(graph, directed=False)
        reach = {int(cut_part[j]) for j in at}
        cut = [net.node_names[c] for c in range(net.n_cell_sites)
               if int(part[c]) in served and int(cut_part[c]) not in reach]
        if not cut:
            continue
        shown = _some(cut)
        until = f"to {f.end_s:g} s" if f.end_s is not None else "to the end of the run"
        out.append(str(InputError(
            f"it cuts cell site{'s' if len(cut) > 1 else ''} {shown} from every compute site "
            f"from {f.start_s:g} s {until}: their cells stay on the air, and their "
            "devices' requests drop as they are created (no_route) and send nothing up, so "
            "the shared GPUs and links carry less, and the other cells hear no uplink "
            "interference from them, meanwhile. Where the gNB "
            "takes its cells off the air on losing its backhaul (its devices then move to "
            "their neighbours), a cell_down fault on the same sites for the same window says "
            "so", file=label, field=f"faults[{i}].link", value="-".join(f.link))))
    return out


def _unlinked_cell_warnings(s: Scenario, net: Any, part: Any, label: str | None) -> list[str]:
    """Cell sites from which the transport links reach no compute site (a spoke left out of
    ``transport.links`` with no ``backhaul``): every request their devices offload is
    dropped, ``no_route``; and a ``backhaul.to`` hub without a position, which gives every
    spoke no fibre at all."""
    out = []
    index = {name: i for i, name in enumerate(net.node_names)}
    at = compute_site_nodes(s)
    served = {int(part[index[a]]) for a in at}
    cut = [net.node_names[i] for i in range(net.n_cell_sites) if int(part[i]) not in served]
    if cut and at:
        shown = _some(cut)
        out.append(str(InputError(
            f"{len(cut):,} of {net.n_cell_sites:,} cell sites reach no compute site over the "
            f"transport links ({shown}): every request their devices offload is dropped "
            f"(no_route); link them (transport.links) or give transport.backhaul",
            file=label, field="transport.links", value=cut[0])))
    bh = s.transport.backhaul
    listed = {x for link in s.transport.links for x in (link.a, link.b)}
    spokes = [c for c in s.cell_site_names() if c not in listed and c != (bh.to if bh else None)]
    if bh is not None and spokes:
        hub = next((node for node in s.nodes if node.name == bh.to), None)
        if hub is not None and hub.position_m is None:
            out.append(str(InputError(
                "the backhaul hub has no position_m: every spoke's fibre is taken as 0 km "
                "(its route_factor times the straight line needs the hub's place)",
                file=label, field="transport.backhaul.to", value=bh.to)))
    return out


def _faster_than_peak_why(given_s: float, bound_s: float, name: str) -> str:
    """What a measured time faster than the model's roofline at the GPU's peak most likely
    is: seconds written where ms are meant only where it is 100x or more too fast (a drone
    maker's review: 60 ms against 78.7 was read as a unit slip), else another model."""
    unit = "seconds written where ms are meant, or " if given_s * 100.0 <= bound_s else ""
    return (f"{unit}another model than {name!r} (a smaller or quantized one: give it as a "
            "model of one's own, models:)")


def _too_fast_on_board(model: Any, gpus: Mapping[str, Any], accelerator: str, ms: float,
                       label: str | None, field: str, name: str) -> list[str]:
    """A time measured on a device's accelerator (or an engine of its own, no faster than its
    whole peak) that beats the model's roofline at that accelerator's peak FLOP/s and memory
    bandwidth at batch 1: seconds written for ms, or another model."""
    from airan.compute.roofline import peak_roofline_s

    if model.gflops is None or model.efficiency is None or accelerator not in gpus:
        return []
    bound = peak_roofline_s(model, gpus[accelerator], 1)
    if not ms * 1e-3 < 0.9 * bound:
        return []
    return [str(InputError(
        f"{ms:.3g} ms is faster than {name} can run on a {accelerator} ({bound * 1e3:.3g} ms "
        "at its whole peak FLOP/s and memory bandwidth, batch 1): "
        + _faster_than_peak_why(ms * 1e-3, bound, name), file=label, field=field, value=ms))]


def _blind_on_board(s: Scenario, v: Any, base: Any, label: str | None) -> list[str]:
    """A measured time (the service's, or its model's own) of a model with no FLOPs, run on
    board: the devices' accelerators (their CPUs) run it in the time measured for the compute
    sites, with no roofline to tell them apart (a robot maker's review: a VLA's 80 ms on the
    robot's CPU, silently)."""
    st = v.service_time
    if not v.on_device or (st is None and base.service_time_ms is None) or (
            base.gflops is not None and base.efficiency is not None):
        return []
    measured = (st.on_device_ms or {}) if st is not None else {}
    blind = sorted({f.accelerator for f in s.fleets
                    if v.name in f.services and f.count > 0 and f.computes_on_board
                    and f.accelerator not in measured
                    and v.name not in getattr(f.engine_of(v.name), "time_ms", {})})
    if not blind:
        return []
    where = ", ".join("the devices' CPU" if a == "none" else a for a in blind)
    acc = blind[0]
    there = (f"service_time.on_device_ms: {{{acc}: ...}}" if st is not None else
             f"a service_time with the sites' time and on_device_ms: {{{acc}: ...}}")
    # (an XR maker's review: a model with gflops and no efficiency read "no FLOPs", named a
    # service_time the service did not have, and "got 'none'", the accelerator)
    lacks = ("no FLOPs for a roofline" if base.gflops is None else
             "no efficiency for a roofline (its gflops alone do not make one)")
    whose = "a measured time" if st is not None else "its own measured time (service_time_ms)"
    return [str(InputError(
        f"{v.model} gives {whose} and {lacks}: on board ({where}) it runs in that time too, as "
        f"fast as on the compute sites' GPUs; give the time measured there ({there}) or the "
        "model's " + ("gflops and efficiency" if base.gflops is None else "efficiency"),
        file=label, field=f"services[{v.name}]." + (
            "service_time.on_device_ms" if st is not None else "model")))]


def _flat_batch_time(s: Scenario, v: Any, base: Any, label: str | None) -> list[str]:
    """A measured time with no per-batch sizes (``batch_ms``), the service's or its model's
    own, at compute sites that batch its model: every batch takes that time, whatever its
    size (a robot maker's review: a VLA measured at 80 ms alone ran batches of 8 in 80 ms on
    an L40S, 94 requests/s where its roofline allows ~40, and nothing said so)."""
    st = v.service_time
    given = st.as_catalog() if st is not None else base.service_time_ms
    if given is None or getattr(given, "batch_ms", None):
        return []
    sites = [(c.name, c.batching) for c in s.compute_sites
             if c.services is None or v.name in c.services]
    if s.generated_compute_sites is not None:
        sites.append(("generated", s.generated_compute_sites.batching))
    over = [(name, b.for_model(v.model)[0]) for name, b in sites if b.for_model(v.model)[0] > 1]
    if not over:
        return []
    name, mb = max(over, key=lambda o: o[1])
    ms = float(given) if isinstance(given, (int, float)) else given.mean_s * 1e3
    field = (f"services[{v.name}].service_time" if st is not None
             else f"models[{v.model}].service_time_ms")
    return [str(InputError(
        f"batches of up to {mb} of {v.model} run at compute site {name}"
        f"{f' and {len(over) - 1} more' if len(over) > 1 else ''}, and this time is taken for "
        f"a batch of any size: {mb} requests in {ms:.3g} ms, as one alone ({mb}x its "
        "throughput); give the times per batch size ("
        + ("service_time.batch_ms" if st is not None else
           f"models[{v.model}].service_time_ms: {{dist: fixed, batch_ms: {{1: ..., 8: ...}}}}")
        + ", which `airan profile` measures), or max_batch: 1 for the model there "
        "(batching.models)",
        file=label, field=field, value=round(ms, 6)))]


def _radio_floor_warnings(s: Scenario, v: Any, label: str | None) -> list[str]:
    """A deadline shorter than the least time any request takes over the nr radio, compute
    aside (a hospital planner's review: AR glasses at 3 ms validated silently and met 0 of
    447): the grant's delay after a scheduling request (none under a configured grant), a slot
    up, the downlink's scheduling delay and a slot down, at the shortest slot used."""
    from airan.radio.nr import slot_duration_s

    carriers = _used_carriers(s)
    if s.radio.model != "nr" or not carriers:
        return []
    slot_ms = min(slot_duration_s(c.numerology) for _, c in carriers) * 1e3
    grant_ms = s.radio.grant_delay_ms if s.radio.ul_access == "sr" else 0.0
    floor_ms = grant_ms + slot_ms + s.radio.dl_sched_delay_ms + slot_ms
    if v.deadline_ms >= floor_ms:
        return []
    return [str(InputError(
        f"shorter than the least time a request takes over the radio, {floor_ms:.3g} ms, before "
        f"any compute (the grant {grant_ms:g} ms after its scheduling request, a {slot_ms:g} ms "
        f"slot up, the downlink's {s.radio.dl_sched_delay_ms:g} ms scheduling delay and a slot "
        "down): only a request computed on board can meet it", file=label,
        field=f"services[{v.name}].deadline_ms", value=v.deadline_ms))]


def _service_time_warnings(s: Scenario, label: str | None) -> list[str]:
    """A service whose deadline is shorter than its model's time at batch 1 wherever it runs;
    measured service times that look mistyped: faster than the GPU's peak allows (seconds
    written for ms, or another model than the one named), slower at a larger batch, or batches
    larger than the largest size measured (extrapolated); ``on_device_ms`` for an accelerator
    that no fleet running the service has."""
    from airan.compute.roofline import peak_roofline_s

    gpus = s.gpu_catalog()
    models = s.model_catalog()
    out = []
    requested = {name for f in s.fleets if f.count > 0 for name in f.services}
    for v in s.services:
        if v.model not in models:
            continue
        times = _batch1_times_s(s, v, gpus, models) if v.name in requested else {}
        if times:
            where, fastest = min(times.items(), key=lambda kv: kv[1])
            if fastest > 0.0 and v.deadline_ms * 1e-3 < fastest:
                out.append(str(InputError(
                    f"shorter than the least time this service's model takes anywhere in the "
                    f"scenario, {fastest * 1e3:.3g} ms on {where} at batch 1, before any radio "
                    "or transport: no request can meet it"
                    + (" (deadline_ms is in milliseconds: seconds written?)"
                       if v.deadline_ms < 1.0 else ""), file=label,
                    field=f"services[{v.name}].deadline_ms", value=v.deadline_ms)))
        out += _radio_floor_warnings(s, v, label) if v.name in requested else []
        st = v.service_time
        base = models[v.model]
        out += _blind_on_board(s, v, base, label)
        if v.name in requested:
            out += _flat_batch_time(s, v, base, label)
        if st is None:
            continue
        field = f"services[{v.name}].service_time"
        ref = ([st.measured_on] if st.measured_on is not None
               else sorted(_site_gpu_types(s, v.name)))  # (the sites that serve it)
        # the smallest batch measured (a table's first size; else 1) against the same batch
        # at the GPU's peak
        cat = st.as_catalog()
        size = min(st.batch_ms) if st.batch_ms else 1
        given_s = (float(cat) * 1e-3 if isinstance(cat, (int, float)) else
                   float(cat.mean_batch_s(np.array([float(size)]))[0]))
        if base.gflops is not None and base.efficiency is not None and ref:
            bound, gpu = min((peak_roofline_s(base, gpus[g], size), g) for g in ref)
            if given_s < 0.9 * bound:
                out.append(str(InputError(
                    f"{given_s * 1e3:.3g} ms at batch {size} is faster than {v.model} can run "
                    f"on {'its' if st.measured_on else 'any'} GPU ({gpu}: {bound * 1e3:.3g} ms "
                    "at its whole peak FLOP/s and memory bandwidth): "
                    + _faster_than_peak_why(given_s, bound, v.model)
                    + f" ({v.model}'s catalog figures still set its memory and the ratio "
                    "measured_on carries)"
                    + ("" if st.measured_on else "; or measured on a faster GPU: give it as "
                       "measured_on (without it the time is taken on every GPU alike)"),
                    file=label, field=field, value=round(given_s * 1e3, 6))))
        if st.batch_ms:
            sizes = sorted(st.batch_ms)
            for a, b in zip(sizes, sizes[1:], strict=False):
                if st.batch_ms[b] < st.batch_ms[a]:
                    out.append(str(InputError(
                        f"a batch of {b} takes less time ({st.batch_ms[b]:g} ms) than one of "
                        f"{a} ({st.batch_ms[a]:g} ms): a typo?", file=label,
                        field=f"{field}.batch_ms", value=st.batch_ms[b])))
                    break
            largest = sizes[-1]
            batchings = [(c.name, c.batching) for c in s.compute_sites]
            if s.generated_compute_sites is not None:
                batchings.append(("generated", s.generated_compute_sites.batching))
            over = [(name, b.for_model(v.model)[0]) for name, b in batchings
                    if b.for_model(v.model)[0] > largest]
            if over:
                name, mb = over[0]
                out.append(str(InputError(
                    f"batches of up to {mb} run at compute site {name}"
                    f"{f' and {len(over) - 1} more' if len(over) > 1 else ''}, beyond the "
                    f"largest size measured ({largest}): their times are "
                    + ("extrapolated linearly from the last two sizes" if len(sizes) > 1 else
                       "taken as that size's") + " (measure them with airan profile)",
                    file=label, field=f"{field}.batch_ms",
                    value=largest)))
        used = {f.accelerator for f in s.fleets if v.name in f.services}
        for acc, ms in (st.on_device_ms or {}).items():  # (on board, as on the sites: an
            out += _too_fast_on_board(base, gpus, acc, ms, label,  # AGV integrator's review)
                                      f"{field}.on_device_ms.{acc}", v.model)
            if acc not in used:
                out.append(str(InputError(
                    f"no fleet running {v.name!r} has accelerator {acc!r}: this time is not "
                    "used", file=label, field=f"{field}.on_device_ms", value=acc)))
    return out


def site_batchings(s: Scenario) -> list[tuple[str, Batching]]:
    """(field path, batching) of each listed compute site and of the generated ones."""
    out = [(f"compute_sites[{c.name}]", c.batching) for c in s.compute_sites]
    if s.generated_compute_sites is not None:
        out.append(("generated_compute_sites", s.generated_compute_sites.batching))
    return out


def _batch_deadline_warnings(s: Scenario, label: str | None) -> list[str]:
    """A model's batch at a compute site that takes its service's deadline or longer where one
    request alone meets it: every request of a batch that large is late, at any utilization (a
    robot maker's VLA measured at 180 ms alone and 260 ms in a batch of 4 met 34% of a 200 ms
    deadline on 36 to 56 H100s, ~50% busy, and nothing said why). One line per (service,
    GPU type, max_batch), naming the sites; measured times carried by ``measured_on`` as the
    engine carries them, the whole GPU's (an ``ai_ran`` share only lengthens them)."""
    from airan.compute import l1
    from airan.compute.roofline import roofline_ratio, service_time_table_s

    gpus = s.gpu_catalog()
    models = s.model_catalog()
    requested = {name for f in s.fleets if f.count > 0 for name in f.services}
    sites: list[tuple[str, str, Any, set[str], list[str] | None]] = [
        (f"compute_sites[{c.name}].batching", c.name, c.batching, {g.type for g in c.gpus},
         c.services) for c in s.compute_sites]
    g = s.generated_compute_sites
    if g is not None:
        sites.append(("generated_compute_sites.batching", "the generated sites", g.batching,
                      {x.type for x in g.gpus}, None))
    # under ai_ran mig, a site that runs its cells' L1 runs AI on its MIG instance, at the
    # instance's roofline (a measured time over its share of the SMs), as the engine does
    mig = s.ai_ran.mode == "mig"
    hosts = {site for site, _ in l1_hosts(s).values()} if mig else set()
    found: dict[tuple[str, str, int], tuple[str, str, list[str]]] = {}  # -> text, field, sites
    for v in s.services:
        if v.name not in requested or v.model not in models:
            continue
        st = v.service_time
        spec = models[v.model] if st is None else models[v.model].model_copy(
            update={"service_time_ms": st.as_catalog()})
        deadline_s = v.deadline_ms * 1e-3
        for field, name, batching, types, served in sites:
            if served is not None and v.name not in served:
                continue  # (a site that does not serve it)
            mb = batching.for_model(v.model)[0]
            sliced = mig and (name in hosts or name == "the generated sites")
            for gpu in sorted(types) if mb > 1 else []:
                on = gpus[gpu]
                share = 1.0
                if sliced:
                    share, memory = l1.mig_ai_slice(s.ai_ran.mig_l1_fraction, on)
                    on = l1.mig_slice_spec(on, share, memory)
                t = service_time_table_s(spec, on, mb)
                if spec.service_time_ms is not None:
                    t = t / share  # (a given time is the whole GPU's, as the engine takes it)
                if st is not None and st.measured_on is not None:
                    t = t * roofline_ratio(models[v.model], gpus[gpu], gpus[st.measured_on], mb)
                late = np.flatnonzero(t[2:] >= deadline_s)
                if t[1] >= deadline_s or not len(late):
                    continue  # (batch 1 misses too: the deadline's own warning)
                k = int(late[0]) + 2
                text = (f"a batch of {k} {v.model} requests takes {t[k] * 1e3:.4g} ms on "
                        f"{gpu}{' (its AI MIG instance)' if sliced else ''} (one alone "
                        f"{t[1] * 1e3:.4g} ms), at or beyond service "
                        f"{v.name!r}'s {v.deadline_ms:g} ms deadline: every request of a batch "
                        f"of {k} or more is late, however idle the GPUs; give the model "
                        f"max_batch {k - 1} there (batching.models.{v.model}.max_batch) or the "
                        "service a longer deadline")
                found.setdefault((v.name, gpu, mb), (text, field, []))[2].append(name)
    out = []
    for (_, _, mb), (text, field, names) in found.items():
        alike = (f" (at {len(names)} compute sites alike: {', '.join(names[:3])}"
                 f"{' ...' if len(names) > 3 else ''})" if len(names) > 1 else "")
        out.append(str(InputError(text + alike, file=label, field=field, value=mb)))
    return out


def _skipped_site_warnings(s: Scenario, label: str | None) -> list[str]:
    """The rows of a ``cell_sites_file`` that were skipped (no position, a bad number, far
    off): the twin runs without them, which a user of an operator's list must see."""
    from airan.scenario.schema import imported_sites

    if s.cell_sites_file is None:
        return []
    sites = imported_sites(s.cell_sites_file)
    if not sites.outliers:
        return []
    shown = "; ".join(f"line {row}: {why}" for row, why in sites.outliers[:5])
    more = len(sites.outliers) - 5
    return [str(InputError(
        f"{len(sites.outliers)} of its rows skipped, {len(sites)} sites kept ({shown}"
        + (f"; +{more} more" if more > 0 else "") + ")", file=label,
        field="cell_sites_file.path", value=s.cell_sites_file.path))]


#: Share of a fleet's area beyond the layout's inter-site distance from every cell site at
#: which validation warns (city's square, whose corners no cell reaches: 0%)
OUTSIDE_LAYOUT_SHARE = 0.25


def _outside_layout_warnings(s: Scenario, label: str | None) -> list[str]:
    """A fleet whose area lies largely beyond the cells: over a quarter of it outside the area
    the cell sites surround (their convex hull) and farther than the layout's inter-site
    distance (the median distance from a site to its third nearest) from every cell site (a drone
    maker's review: a 4 km disc over 7 sites ~0.75 km across ran at hit 0.17 with no word; the
    devices attach, far, to the nearest cell). Needs two sites. Within the hull a real
    network's gaps are no such edge (an operator planner's review: 66% of a Shanghai district
    read as beyond its cells, the median spacing of its dense core being 112 m, where the run
    left no device out of coverage)."""
    from scipy.spatial import Delaunay, QhullError, cKDTree

    from airan.mobility.models import as_area
    from airan.radio.pathloss import MAX_DISTANCE_M

    xy = cell_site_xy(s)
    if len(xy) < 2 or s.radio.model != "nr":
        return []
    tree = cKDTree(xy)
    # the median distance from a site to its third nearest: a hex layout's inter-site distance
    # (each site, the corners too, has three neighbours at it), and a real layout's spacing
    # rather than its dense core's (that Shanghai district: 112 m to the nearest, 214 m)
    # sites along a line, a road's (within 5% of its length across: lat/lon jitter), have no
    # area inside (a diff review: a road with 1-2 m of jitter triangulated)
    spread = np.linalg.svd(xy - xy.mean(axis=0), compute_uv=False)
    hull: Any = None
    if len(spread) == 2 and spread[1] > 0.05 * spread[0]:
        try:
            hull = Delaunay(xy)
        except (QhullError, ValueError):
            hull = None
    # (sites on a line, a road's, have no third neighbour at the spacing: the nearest's, as
    # before; a diff review found a road of sites 500 m apart read as 1,000)
    k = min(3, len(xy) - 1) if hull is not None else 1
    isd = float(np.median(tree.query(xy, k=k + 1)[0][:, k]))
    if not isd > 0.0:
        return []
    out = []
    u = (np.arange(41) + 0.5) / 41.0
    gx, gy = (a.ravel() for a in np.meshgrid(u, u))
    for f in s.fleets:
        if not f.count or f.area is None or (f.mobility is not None
                                             and f.mobility.model == "trace"):
            continue
        a = as_area(f.area)
        px, py = a.xmin + gx * (a.xmax - a.xmin), a.ymin + gy * (a.ymax - a.ymin)
        if hasattr(f.area, "positions_m"):  # given points: those its devices stand at
            px, py = _used_points(f).T
        elif a.radius is not None:  # a disc: the grid's points inside it
            cx, cy = (a.xmin + a.xmax) / 2.0, (a.ymin + a.ymax) / 2.0
            inside = np.hypot(px - cx, py - cy) <= a.radius
            px, py = px[inside], py[inside]
        if not len(px):
            continue
        dist = tree.query(np.c_[px, py])[0]
        if dist.min() > min(MAX_DISTANCE_M.get(s.radio.environment, math.inf),
                            FAR_FROM_CELLS_M):
            continue  # (the whole area beyond the cells: _far_fleet_warnings says so)
        inside = (hull.find_simplex(np.c_[px, py]) >= 0 if hull is not None
                  else np.zeros(len(px), dtype=bool))
        far = float(np.mean((dist > isd) & ~inside))
        if far > OUTSIDE_LAYOUT_SHARE:
            out.append(str(InputError(
                f"{far:.0%} of this fleet's area lies beyond the cell sites, farther than the "
                f"layout's inter-site distance ({_metres(isd)} m) from every one: its devices "
                "there attach to a distant cell at a low SINR (put cells there, or keep the "
                "area to the cells)",
                file=label, field=f"fleets[{f.name}].area", value=None)))
    return out


def _top_speed_mps(f: Any) -> float | None:
    """A fleet's top speed as its mobility gives it (``speed_mps``: one, or a range), m/s;
    None where it gives none (standing, a trace)."""
    speed = getattr(f.mobility, "speed_mps", None)
    return max(speed) if isinstance(speed, tuple | list) else speed


def _highest_carrier(s: Scenario) -> Any:
    """The highest-frequency carrier the cells use: the one whose Doppler shift is largest."""
    return max((c for _, c in _used_carriers(s)), key=lambda c: c.fc_ghz, default=s.carrier)


def _doppler_hz(speed_mps: float, carrier: Any) -> float:
    """The largest Doppler shift f_D = v fc / c of a device at ``speed_mps`` on ``carrier``."""
    return speed_mps / SPEED_OF_LIGHT_MPS * carrier.fc_ghz * 1e9


#: A fleet faster than this (m/s, 252 km/h) is warned of: km/h written as m/s, likely
FAST_MPS = 70.0
#: A ground robot's fleet (the amr, humanoid and robot-arm classes) faster than this (m/s, 36
#: km/h) is warned of: a port's straddle carriers and AGVs, the fastest such, run at ~30 km/h
ROBOT_FAST_MPS = 10.0
ROBOT_CLASSES = ("amr", "humanoid", "robot-arm")
#: the fastest TR 38.913 (its high-speed scenario) and TS 22.289 (railways) consider, m/s
HIGH_SPEED_MAX_MPS = 500.0 / 3.6
#: a handover interruption longer than this (ms) is warned of as a unit slip
LONG_INTERRUPTION_MS = 1000.0
#: m/s
SPEED_OF_LIGHT_MPS = 299_792_458.0


#: a fleet's position update (ms) beyond which its radio link monitoring and A3 run coarser
#: than the standard's (TS 38.133's out-of-sync evaluation and the L3 filter's samples)
UPDATE_STEP_MS = 100.0


def _update_step_warnings(s: Scenario, label: str | None) -> list[str]:
    """Moving fleets whose ``update_ms`` is above :data:`UPDATE_STEP_MS` under the nr radio: a
    device's links, radio link monitoring and A3 are evaluated at its position updates, so out-
    of-sync silences and time-to-trigger act at the coarser step (a V2X engineer's review: 40
    cars' out-of-sync silences went 94, 82, 48, 3 and 0 at 50, 100, 200, 500 and 1,000 ms)."""
    if s.radio.model != "nr":
        return []
    out = []
    for f in s.fleets:
        step = getattr(f.mobility, "update_ms", None)
        moves = f.mobility is not None and f.mobility.model != "static"
        if f.count and moves and step is not None and step > UPDATE_STEP_MS:
            out.append(str(InputError(
                f"positions are updated every {step:g} ms, and with them the links, radio link "
                f"monitoring and event A3: above {UPDATE_STEP_MS:g} ms out-of-sync silences and "
                "time-to-trigger act at that coarser step (fewer silences, later handovers); "
                f"{UPDATE_STEP_MS:g} ms or less for radio figures", file=label,
                field=f"fleets[{f.name}].mobility.update_ms", value=step)))
    return out


def _unit_warnings(s: Scenario, label: str | None) -> list[str]:
    """Figures in a unit other than the field's, likely (a V2X engineer's review: a car's
    ``speed_mps: 130`` meant km/h and ran at 468 km/h; ``interruption_ms: 0.05`` meant
    seconds; both validated silently): a fleet faster than :data:`FAST_MPS`, a handover
    interruption under 1 ms or over :data:`LONG_INTERRUPTION_MS`."""
    from airan.radio import nr

    out = []
    for f in s.fleets:
        top = _top_speed_mps(f)
        if (f.count and top is not None and f.device_class in ROBOT_CLASSES
                and ROBOT_FAST_MPS < top <= FAST_MPS):
            # (a port automation lead's review: an AGV fleet at speed_mps [15, 30], km/h
            # meant, validated silently)
            out.append(str(InputError(
                f"{top:g} m/s is {top * 3.6:,.0f} km/h for a fleet of class "
                f"{f.device_class!r}: faster than ground robots run (a port's AGVs and "
                f"straddle carriers, the fastest, ~30 km/h; km/h written as m/s?); where "
                "meant, a vehicle class", file=label,
                field=f"fleets[{f.name}].mobility.speed_mps", value=top)))
        if f.count and top is not None and top > FAST_MPS:
            # (a rail planner's review: 300 km/h trains read as a typo, and nothing said the
            # radio ignores speed, where the channel changes within a slot)
            # (all the carriers share one numerology, _check_carriers)
            carrier = _highest_carrier(s)
            doppler_hz = _doppler_hz(top, carrier)
            slot_ms = nr.slot_duration_s(carrier.numerology) * 1e3
            out.append(str(InputError(
                f"{top:g} m/s is {top * 3.6:,.0f} km/h: faster than a road vehicle or a "
                "delivery drone (km/h written as m/s?); where meant, as a train's, the radio "
                f"is optimistic at it: the Doppler shift at {carrier.fc_ghz:g} GHz is "
                f"{doppler_hz:,.0f} Hz and the channel's coherence time ~"
                f"{0.423 / doppler_hz * 1e3:.2g} ms (0.423 / f_D) against {slot_ms:g} ms "
                "slots, and nothing in the radio depends on speed (no channel ageing, no "
                "high-speed-train configuration, TS 38.104 Annex G)"
                + (f"; and beyond the {HIGH_SPEED_MAX_MPS * 3.6:g} km/h TR 38.913's "
                   "high-speed scenario and TS 22.289 consider" if top > HIGH_SPEED_MAX_MPS
                   else ""),
                file=label, field=f"fleets[{f.name}].mobility.speed_mps", value=top)))
    # the scenario's interruption and each fleet's own (a diff review: a fleet's 5000 ms
    # passed silently, where the scenario's was warned of)
    for field, ms in [("handover.interruption_ms", s.handover.interruption_ms)] + [
            (f"fleets[{f.name}].handover.interruption_ms", f.handover.interruption_ms)
            for f in s.fleets if f.handover is not None
            and f.handover.interruption_ms is not None]:
        if 0.0 < ms < 1.0:
            out.append(str(InputError(
                "under 1 ms: a handover's interruption is tens of ms (TS 38.133's budget "
                "~50-60 ms; seconds written as ms?); 0 for a make-before-break (DAPS) one",
                file=label, field=field, value=ms)))
        elif ms > LONG_INTERRUPTION_MS:  # (a rail planner's 5000 ms, silent)
            out.append(str(InputError(
                f"over {LONG_INTERRUPTION_MS / 1e3:g} s: a handover's interruption is tens of "
                "ms (TS 38.133's budget ~50-60 ms; a re-establishment after a failure is "
                "reestablish_ms), so each handover silences the link this long", file=label,
                field=field, value=ms)))
    return out


#: how old the channel knowledge a gNB schedules the uplink by is, at the least (s): sounding
#: (SRS, TS 38.214 6.2.1) every few slots in practice (TS 38.331 allows 1-2560) and its
#: processing
SRS_AGE_S = 5e-3


def _fading_speed_warnings(s: Scenario, label: str | None) -> list[str]:
    """Fleets given a speed at which the uplink channel's coherence time (0.423 / f_D, the
    rule of thumb for a Clarke spectrum, Rappaport 5.4.3) is shorter than :data:`SRS_AGE_S`,
    under the pf or mlwdf uplink scheduler, which knows each slot's fading when it ranks the
    devices: a real gNB ranks by sounding (SRS) some milliseconds old, which no longer holds
    then (a teleoperation lead's review: a 120 km/h fleet ran as a parked one's, silently;
    docs/model.md says so). Fleets faster than :data:`FAST_MPS` are warned of apart; a trace's
    fleets give no speed and are not checked."""
    if s.radio.model != "nr" or s.radio.scheduler not in ("pf", "mlwdf"):
        return []
    carrier = _highest_carrier(s)
    fast = []
    for f in s.fleets:
        top = _top_speed_mps(f)
        if f.count and top is not None and 0 < top <= FAST_MPS and (
                0.423 / _doppler_hz(top, carrier) < SRS_AGE_S):
            fast.append((f.name, float(top)))
    if not fast:
        return []
    top = max(v for _, v in fast)
    doppler_hz = _doppler_hz(top, carrier)
    return [str(InputError(
        f"fleets {_some([n for n, _ in fast])} move at up to {top:g} m/s "
        f"({top * 3.6:,.0f} km/h), and the {s.radio.scheduler} uplink scheduler ranks devices "
        f"by each slot's own fading, as if known at once: at {carrier.fc_ghz:g} GHz the "
        f"channel's coherence time is ~{0.423 / doppler_hz * 1e3:.2g} ms (0.423 / f_D, "
        f"Doppler {doppler_hz:,.0f} Hz), shorter than the sounding (SRS, TS 38.214 6.2.1) a "
        f"gNB ranks by is old (~{SRS_AGE_S * 1e3:g} ms at the least), so the twin's "
        "multi-user diversity gain is optimistic for them; nothing else in the radio depends "
        "on speed (scheduler: rr has no such gain)", file=label, field="radio.scheduler",
        value=s.radio.scheduler))]


def _zero_upload_warnings(s: Scenario, label: str | None, policy: str) -> list[str]:
    """Services of ``ul_kb: 0`` under the nr radio and a policy (the run's) that sends
    requests over the air (not ``local``): each request still starts on its
    device and crosses the uplink (a scheduling request, a grant, a slot) before the site
    gets it. A message the network sends unasked, an operator's command down to a vehicle,
    has no uplink leg, which the twin does not model (a teleoperation lead's review: such
    commands' ul_wait of 3-192 ms read as the uplink's fault, with the downlink idle)."""
    names = [v.name for v in s.services if v.ul_kb == 0]
    if not names or s.radio.model != "nr" or policy == "local":
        return []
    access = ("a scheduling request and a grant" if s.radio.ul_access == "sr" else
              "its configured grant's next occasion")
    return [str(InputError(
        f"{_some(names)} upload{'s' if len(names) == 1 else ''} 0 kB, and each request "
        f"still starts on its device: it waits for {access} and takes an uplink slot "
        "before its compute site gets it (a device's poll, answered). "
        "Messages the network sends unasked (an operator's commands down to a vehicle) "
        "have no uplink leg, which airan does not model: for them, read the downlink legs "
        "of the breakdown (dl_transport, dl_air) and leave out ul_wait and ul_air",
        file=label, field=f"services[{names[0]}].ul_kb", value=0))]


def _waypoint_warnings(s: Scenario, label: str | None) -> list[str]:
    """Drones' given paths (``mobility: waypoints``, ``paths``) that reach farther from every
    cell site than the layout's inter-site distance (one site: than its environment's path
    loss reaches), and a fleet ``height_m`` that the paths' heights replace (a drone maker's
    review: a path 7 km beyond the cells validated silently and ran at -5.9 dB, and a fleet's
    height_m: 100 flew at the paths' 42-80 m)."""
    from scipy.spatial import cKDTree

    from airan.radio.pathloss import MAX_DISTANCE_M

    xy = cell_site_xy(s)
    reach = (float(np.median(cKDTree(xy).query(xy, k=2)[0][:, 1])) if len(xy) >= 2 else
             MAX_DISTANCE_M.get(s.radio.environment, FAR_FROM_CELLS_M))
    what = ("the layout's inter-site distance" if len(xy) >= 2 else
            f"what the {s.radio.environment} path loss covers")
    out = []
    for f in s.fleets:
        m = f.mobility
        if f.count and f.handover is not None and (m is None or m.model == "static"):
            out.append(str(InputError(
                "not used: a fleet's own handover settings act on its moving devices' "
                "handovers, and this fleet's devices do not move (a fault's moves take the "
                "scenario's handover)", file=label, field=f"fleets[{f.name}].handover")))
        if f.count and getattr(f.area, "heights_m", None) and "height_m" in f.model_fields_set:
            out.append(str(InputError(
                "not used: this fleet's devices stand at its points' own heights "
                "(area.heights_m)", file=label, field=f"fleets[{f.name}].height_m",
                value=f.height_m)))
        if not f.count or m is None or m.model != "waypoints":
            continue
        if "height_m" in f.model_fields_set:
            out.append(str(InputError(
                "not used: a waypoint fleet's devices (drones, AGVs) move at their paths' "
                "heights (each point's z), not at height_m", file=label,
                field=f"fleets[{f.name}].height_m", value=f.height_m)))
        if m.paths is None or not len(xy) or s.radio.model != "nr" or not reach > 0.0:
            continue
        for k, path in enumerate(m.paths):
            pts = np.asarray(path, dtype=float)[:, :2]
            dist = cKDTree(xy).query(pts)[0]
            if dist.max() > reach:
                far = pts[int(np.argmax(dist))]
                out.append(str(InputError(
                    f"path {k} reaches ({far[0]:g}, {far[1]:g}), {dist.max():,.0f} m from the "
                    f"nearest cell site, beyond {what} ({_metres(reach)} m): its devices there "
                    "attach to a distant cell at a low SINR", file=label,
                    field=f"fleets[{f.name}].mobility.paths[{k}]", value=None)))
    return out


#: the highest UE power class in FR1 (dBm): class 1, 31 dBm, on n14 only (TS 38.101-1 Table
#: 6.2.1-1; class 1.5 29 dBm on n41, n77-n79; class 2 26 dBm; class 3 23 dBm)
UE_POWER_CLASS_TOP_DBM = 31.0


def _ue_power_warnings(s: Scenario, label: str | None) -> list[str]:
    """A UE maximum power (the radio's, or a fleet's own) above every FR1 power class: a value
    in the wrong unit or a base station's power typed as a UE's (an operator's planner: 40 dBm
    was taken silently)."""
    out = []
    given = [("radio.ue_tx_power_dbm", s.radio.ue_tx_power_dbm)] + [
        (f"fleets[{f.name}].ue_tx_power_dbm", f.ue_tx_power_dbm) for f in s.fleets
        if f.ue_tx_power_dbm is not None]
    for field, dbm in given:
        if dbm > UE_POWER_CLASS_TOP_DBM:
            out.append(str(InputError(
                f"{dbm:g} dBm is above every FR1 UE power class of TS 38.101-1 Table 6.2.1-1 "
                "(class 1: 31 dBm, on n14 only; 1.5: 29 dBm; 2: 26 dBm; 3: 23 dBm): a UE's "
                "maximum output, not a cell's", file=label, field=field, value=dbm)))
    return out


def _cell_power_warnings(s: Scenario, label: str | None) -> list[str]:
    """A macro (UMa, RMa) cell whose power over its carrier is well below the macro density: a
    10-20 MHz carrier's 46-49 dBm (TR 36.814 Table A.2.1.1-2) given to a 100 MHz one (a RAN
    researcher's review: the default did so, 10 dB short at every noise-limited cell edge)."""
    from airan.radio import nr

    env = s.radio.environment.lower()
    if s.radio.model != "nr" or env not in ("uma", "rma"):
        return []
    out = []
    for field, car in _used_carriers(s):
        if car.tx_power_dbm is None or nr.is_fr2(car.fc_ghz):  # (a default is no slip)
            continue
        density = car.tx_power_dbm - 10.0 * math.log10(car.bandwidth_mhz)
        if density < nr.MACRO_MIN_DBM_PER_MHZ:
            out.append(str(InputError(
                f"{car.tx_power_dbm:g} dBm over {car.bandwidth_mhz:g} MHz is {density:.0f} "
                f"dBm/MHz, {nr.MACRO_TX_DBM_PER_10_MHZ - 10 - density:.0f} dB below a macro "
                f"cell's density (TR 36.814 Table A.2.1.1-2: 46 dBm per 10 MHz, "
                f"{nr.macro_tx_power_dbm(car.bandwidth_mhz):.0f} dBm over "
                f"{car.bandwidth_mhz:g} MHz): the power of a narrower carrier? (omit it for "
                "that density)", file=label, field=f"{field}.tx_power_dbm",
                value=car.tx_power_dbm)))
    return out


def _trace_count_warnings(s: Scenario, label: str | None,
                          end_s: float | None = None) -> list[str]:
    """A fleet replaying a trace that holds a different number of devices than the fleet: the
    trace's devices beyond the fleet's count are not replayed (which ones depends on the order
    of the file's rows), and fleet devices beyond the trace's stand still where placed; and a
    run (``end_s`` long, the scenario's duration by default) that reaches past its last sample."""
    end_s = s.duration_s if end_s is None else end_s
    out = []
    for f in s.fleets:
        spec = f.mobility
        if spec is None or spec.model != "trace" or not Path(spec.file).is_file():
            continue
        field = f"fleets[{f.name}].mobility"
        n, _, last_s, (first_dev, last_dev), kinds = _check_trace(
            spec.model_dump_json(), spec.file, _file_stamp(spec.file), field,
            scenario_origin(s))
        if spec.elements is None and len(kinds) > 1:  # (a V2X engineer: a SUMO run's
            # pedestrians replayed as vehicles, silently)
            held = " and ".join(f"{n:,} {tag}{'s' if n != 1 else ''}" for tag, n in kinds)
            out.append(str(InputError(
                f"the SUMO trace holds {held}, all replayed as this fleet's devices: "
                "elements: [vehicle] keeps its vehicles (and types: its SUMO types)",
                file=label, field=f"{field}.elements")))
        silent = spec.outside_trace == "silent"
        first_s = float(np.min(first_dev)) if len(first_dev) else 0.0
        if first_s >= spec.start_s + end_s:  # (a V2X engineer's review: Unix times read "in
            # the trace for 0% of the run" and no more)
            out.append(str(InputError(
                f"the trace's samples start at t {first_s:,.10g} s, after the run's end "
                f"(t {spec.start_s + end_s:,.10g} s of trace time): clock times (Unix time?); "
                f"start_s: {first_s:.10g} starts the run at the trace's first sample",
                file=label, field=f"{field}.start_s", value=spec.start_s)))
        if spec.start_s + end_s > last_s:  # (a vehicle maker's review: a run past its trace,
            # or starting after it, moved nothing and said "valid")
            past = spec.start_s + end_s - last_s
            then = ("silent then (outside_trace: silent)" if silent else
                    "still at their last positions then (and keep sending)")
            why = (f"the run starts after the trace's last sample (t {last_s:g} s): the "
                   + ("trace's devices send nothing" if silent else
                      "trace's devices stand still at their last positions all along")
                   if spec.start_s >= last_s else
                   f"the run reaches {past:g} s past the trace's last sample (t {last_s:g} s): "
                   f"the trace's devices are {then}")
            out.append(str(InputError(why, file=label, field=f"{field}.start_s",
                                      value=spec.start_s)))
        if silent and end_s > 0 and min(n, f.count):
            # each device sends from its first sample to its last: vehicles that enter late
            # or leave early offer less than count x rate (what validate's loads say)
            m = min(n, f.count)
            t0, t1 = spec.start_s, spec.start_s + end_s
            inside = np.clip(np.minimum(last_dev[:m], t1) - np.maximum(first_dev[:m], t0),
                             0.0, None)
            share = float((inside.sum() + (f.count - m) * end_s) / (f.count * end_s))
            if share < 0.95:
                out.append(str(InputError(
                    f"the fleet's devices are in the trace for {share:.0%} of the run on "
                    "average, and each sends only from its first sample to its last "
                    "(outside_trace: silent; `hold` keeps them sending): the fleet offers "
                    "that share of its count x rate", file=label,
                    field=f"{field}.outside_trace", value=spec.outside_trace)))
        if n > f.count:
            why = (f"the trace holds {n:,} devices and the fleet {f.count:,}: only the first "
                   f"{f.count:,} to appear in the file are replayed")
        elif n < f.count:
            why = (f"the trace holds {n:,} devices and the fleet {f.count:,}: the other "
                   f"{f.count - n:,} stand still where they were placed")
        else:
            continue
        out.append(str(InputError(why, file=label, field=f"fleets[{f.name}].count",
                                  value=f.count)))
    return out


def _mig_layout_warnings(s: Scenario, label: str | None) -> list[str]:
    """``ai_ran.mode`` mig with an L1 slice whose rest is no single MIG instance: of the 7
    compute slices, only an L1 on 3 (AI on one 4g instance) or on 4 (AI on one 3g) splits a GPU
    in two instances that MIG has (1g, 2g, 3g, 4g, 7g: no 5g or 6g; NVIDIA MIG User Guide); the
    twin still gives AI the rest as one instance (an operator's review: 1/7 gave AI 6/7 of an
    H100, where a real layout has 4g + 2g and a model instance on one of them)."""
    from airan.compute.l1 import MIG_MEMORY_EIGHTHS

    if s.ai_ran.mode != "mig":
        return []
    f = s.ai_ran.mig_l1_fraction
    l1_slices, ai_slices = 7 * f, 7 * (1 - f)
    whole = abs(l1_slices - round(l1_slices)) < 1e-3
    if whole and round(l1_slices) in MIG_MEMORY_EIGHTHS and round(ai_slices) in \
            MIG_MEMORY_EIGHTHS:
        return []
    what = (f"an L1 slice of {round(l1_slices)} of 7 compute slices leaves AI "
            f"{round(ai_slices)} of 7, which no single MIG instance has" if whole else
            f"an L1 slice of {l1_slices:.3g} of 7 compute slices is no MIG profile, nor is the "
            f"{ai_slices:.3g} it leaves AI")
    return [str(InputError(
        f"{what} (profiles of 1, 2, 3, 4 or 7 whole slices): the twin gives each its share of "
        "the GPU, AI's as one instance, all the same; 3/7 (AI on one 4g) or 4/7 (on one 3g) "
        "is a layout MIG has", file=label, field="ai_ran.mig_l1_fraction",
        value=round(f, 4)))]


def l1_extrapolated_gpus(s: Scenario) -> list[str]:
    """The GPU types that run a cell's L1 in ``s`` whose L1 capacity was not measured (scaled
    from Hopper's by dense BF16 throughput, :func:`airan.compute.l1.l1_peak_cells`)."""
    from airan.compute import l1

    if s.ai_ran.mode == "none":
        return []
    return sorted({gid for _, gid in l1_hosts(s).values()
                   if gid not in l1.PEAK_CELLS_CALIBRATED and gid not in s.ai_ran.l1_peak_cells})


def l1_capacity_warnings(s: Scenario, label: str | None = None) -> list[str]:
    """:func:`_l1_capacity_warnings` (the planner checks its plan with it)."""
    return _l1_capacity_warnings(s, label)


def _l1_capacity_warnings(s: Scenario, label: str | None) -> list[str]:
    """A cell-site compute site whose GPUs cannot carry its cells' L1 at full PRB use (in
    ``mig`` mode, on the L1's slice): its L1 misses slots whenever the cells are that loaded,
    and every slot where even their idle L1 (the fixed part) does not fit."""
    from collections import Counter

    from airan.compute import l1

    mode = s.ai_ran.mode
    if mode == "none":
        return []
    gpus = s.gpu_catalog()
    antennas = s.ai_ran.antennas or s.radio.gnb_rx_antennas
    cells = Counter(c.split("/")[0] for c in s.cell_names())
    own = {c.name: c for c in s.cell_sites}
    counts = {c.name: sum(g.count for g in c.gpus) for c in s.compute_sites}
    g = s.generated_compute_sites
    found: dict[tuple[str, str, str], int] = {}  # (reason, field, GPU) -> sites it applies to
    fixed = (s.ai_ran.l1_fixed_share if s.ai_ran.l1_fixed_share is not None
             else l1.FIXED_FRACTION)
    hosts = l1_hosts(s)
    hosted: dict[str, list[str]] = {}  # compute site -> the cell sites whose L1 it runs
    for cell_site, (site, _) in hosts.items():
        hosted.setdefault(site, []).append(cell_site)

    def bandwidth_mhz(cell_site: str) -> float:
        carrier = own[cell_site].carrier if cell_site in own else None
        return float((carrier or s.carrier).bandwidth_mhz)

    def l1_mhz(cell_site: str) -> float:  # (an FDD cell processes both carriers each slot)
        carrier = own[cell_site].carrier if cell_site in own else None
        return float(l1.l1_bandwidth_mhz(bandwidth_mhz(cell_site),
                                         (carrier or s.carrier).tdd_pattern is None))

    for site, cell_sites in hosted.items():
        gid = hosts[cell_sites[0]][1]
        peak = l1.l1_peak_cells(gid, gpus[gid], s.ai_ran.l1_peak_cells)
        if peak <= 0:
            continue  # (bad input: _check_ai_ran)
        n_gpu = counts.get(site) or (sum(x.count for x in g.gpus) if g is not None else 1)
        cap = l1.mig_l1_share(s.ai_ran.mig_l1_fraction, gpus[gid]) if mode == "mig" else 1.0
        idle, full = (sum(cells[c] * float(l1.l1_gpu_share(u, peak, l1_mhz(c), antennas,
                                                           fixed)) for c in cell_sites) / n_gpu
                      for u in (0.0, 1.0))
        if full <= cap + 1e-12:
            continue
        where = "even with no traffic" if idle > cap else (
            f"wherever its cells' PRB use is above {(cap - idle) / (full - idle):.2f}")
        n_cells = sum(cells[c] for c in cell_sites)
        sites_note = f" of {len(cell_sites)} cell sites" if len(cell_sites) > 1 else ""
        bw = "/".join(f"{b:g}" for b in sorted({bandwidth_mhz(c) for c in cell_sites}))
        if s.carrier.tdd_pattern is None:  # (one duplex for all: airan.scenario.load)
            bw += " FDD, both carriers"
        key = (f"its {gid} GPUs carry {n_cells} cells' L1{sites_note} ({bw} MHz, {antennas} "
               f"antennas): {full:.2f} of each GPU at full PRB use, {idle:.2f} idle, where the "
               f"L1 may use {cap:.2f} (ai_ran.mode {mode}): it drops slots {where}"
               + (", and its cells carry no data in them" if s.radio.model == "nr" else
                  f" (the {s.radio.model} radio does not model what that takes from its "
                  "cells)"),
               f"compute_sites[{site}].gpus" if site in counts else "generated_compute_sites.gpus",
               gid)
        found[key] = found.get(key, 0) + 1
    # one line for the generated sites that are alike (it was one per site, all the same)
    return [str(InputError(reason + (f" (at {n} sites alike)" if n > 1 else ""), file=label,
                           field=field, value=gid))
            for (reason, field, gid), n in found.items()]


#: The batch a GPU's throughput is read at for :func:`_instance_overlap_warnings`: where the
#: catalog's throughput calibrations sit (ResNet-50's MLPerf Offline figures at batch 256; the
#: roofline beyond it grows toward its work alone, which MLPerf's best batches do not reach).
REFERENCE_BATCH = 256


def _instance_overlap_warnings(s: Scenario, label: str | None) -> list[str]:
    """A model run by several instances per GPU whose batches, their fixed overheads
    overlapping (up to ``batching.overhead_overlap`` at once, docs/model.md "compute"), could serve
    more than the model's roofline gives on that GPU at any batch size: n b / T(b), at most
    b / (T(b) - o) with its work alone on the GPU and C b / o with C overheads o at once, against
    REFERENCE_BATCH / T(REFERENCE_BATCH) (an ML engineer's review: two ResNet-50 instances at
    batch 64 served 99,840/s on an H100, above MLPerf's 88,714 Offline that calibrates it). One
    line per (site, model, GPU)."""
    from airan.compute.roofline import batch_service_time_s, fixed_overhead_s

    gpus = s.gpu_catalog()
    models = s.model_catalog()
    requested = {name for f in s.fleets if f.count > 0 for name in f.services}
    used = {v.model for v in s.services if v.name in requested and v.service_time is None}
    sites: list[tuple[str, Any, set[str]]] = [
        (f"compute_sites[{c.name}].batching", c.batching, {g.type for g in c.gpus})
        for c in s.compute_sites]
    g = s.generated_compute_sites
    if g is not None:
        sites.append(("generated_compute_sites.batching", g.batching, {x.type for x in g.gpus}))
    out = []
    for field, batching, types in sites:
        for m in sorted(used):
            n = batching.instances_for(m)
            spec = models.get(m)
            if n <= 1 or spec is None or spec.service_time_ms is not None:
                continue
            b = batching.for_model(m)[0]
            for gid in sorted(types):
                gpu = gpus[gid]
                t_b = batch_service_time_s(spec, gpu, b)
                o = min(fixed_overhead_s(spec, gpu), t_b)
                cap = n if batching.overhead_overlap is None else min(
                    n, batching.overhead_overlap)
                # the bottleneck of n instances never short of requests: their instances, the
                # GPU's throughput for their work, its capacity for their overheads
                twin = min(n * b / t_b, b / (t_b - o) if t_b > o else math.inf,
                           cap * b / o if o > 0.0 else math.inf)
                best = REFERENCE_BATCH / batch_service_time_s(spec, gpu, REFERENCE_BATCH)
                overlap = ("whole" if batching.overhead_overlap is None
                           else f"up to {cap:g} at once")
                if twin > 1.05 * best:
                    out.append(str(InputError(
                        f"{n} instances of {m} per {gid} at batch {b} could serve "
                        f"{twin:,.0f} requests/s per GPU in the twin, their batches' fixed "
                        f"overheads ({o * 1e3:.2f} of {t_b * 1e3:.2f} ms) overlapping {overlap}, "
                        f"above the {best:,.0f}/s its roofline gives at batch {REFERENCE_BATCH}, "
                        "where the catalog's throughputs are calibrated (MLPerf Offline): near "
                        "that load the twin is optimistic", file=label,
                        field=f"{field}.instances", value=n)))
    return out


def _queue_limit_warnings(s: Scenario, label: str | None) -> list[str]:
    """A compute site whose queue limit is below a served model's ``max_batch`` (see
    :func:`scenario_warnings`)."""
    sites: list[tuple[str, Any]] = [(f"compute_sites[{c.name}]", c) for c in s.compute_sites]
    if s.generated_compute_sites is not None:
        sites.append(("generated_compute_sites", s.generated_compute_sites))
    out = []
    for field, c in sites:
        served = getattr(c, "services", None)  # (a listed site's: the models it serves)
        mine = sorted({v.model for v in s.services if served is None or v.name in served})
        batch, model = max((c.batching.for_model(m)[0], m) for m in mine) if mine else (0, "")
        if c.queue_limit < batch:
            out.append(str(InputError(
                f"queue_limit {c.queue_limit} is below {model}'s max_batch {batch}: the request "
                "that would fill a batch is dropped (queue_full), so batches start only when "
                "max_wait_ms runs out", file=label, field=f"{field}.queue_limit",
                value=c.queue_limit)))
    return out


def _unlisted_band_warnings(s: Scenario, label: str | None) -> list[str]:
    """A carrier in a band that :mod:`airan.radio.bands` does not list: its frequency and
    duplex mode are taken as given."""
    from airan.radio import bands

    return [str(InputError(
        f"band {car.band} is not in airan's band table (airan.radio.bands, the bands most "
        "deployed): its fc_ghz is taken as given, and its duplex mode as TDD (tdd_pattern, "
        "DDDSU unless given; null for FDD), unchecked",
        file=label, field=f"{field}.band", value=car.band))
        for field, car in _used_carriers(s)
        if car.band is not None and car.band not in bands.NR_BANDS]


#: TS 38.331 TDD-UL-DL-Pattern dl-UL-TransmissionPeriodicity (with the v1530 3 and 4 ms), ms
TDD_PERIODS_MS = (0.5, 0.625, 1.0, 1.25, 2.0, 2.5, 3.0, 4.0, 5.0, 10.0)
#: FR1 and FR2 (FR2-1 and FR2-2), TS 38.104 5.1 (MHz)
FREQUENCY_RANGES_MHZ = ((410.0, 7125.0), (24250.0, 71000.0))


def tdd_pattern_configurable(pattern: str, mu: int) -> bool:
    """Whether a slot pattern is one TS 38.331 can configure (TS 38.213 11.1): one pattern
    whose period, one of :data:`TDD_PERIODS_MS`, divides 20 ms (so not 3 or 4 ms alone), or two
    of those periods adding up to a divisor of 20 ms; each D slots first, then flexible (S)
    slots, then U slots."""
    import re

    slot_ms = 1.0 / (1 << mu)
    order = re.compile(r"D*S*U*")

    def one(p: str) -> bool:
        return (order.fullmatch(p) is not None
                and any(abs(len(p) * slot_ms - t) < 1e-9 for t in TDD_PERIODS_MS))

    def divides_20_ms(n_slots: int) -> bool:
        ratio = 20.0 / (n_slots * slot_ms)
        return abs(ratio - round(ratio)) < 1e-9

    if one(pattern) and divides_20_ms(len(pattern)):
        return True
    return divides_20_ms(len(pattern)) and any(
        one(pattern[:i]) and one(pattern[i:]) for i in range(1, len(pattern)))


def _carrier_range_warnings(s: Scenario, label: str | None) -> list[str]:
    """A carrier outside FR1 and FR2, or a TDD pattern TS 38.331 cannot configure: the twin
    runs it as given."""
    out = []
    for field, car in _used_carriers(s):
        mhz = car.fc_ghz * 1e3
        if car.band is None and not any(lo <= mhz <= hi for lo, hi in FREQUENCY_RANGES_MHZ):
            out.append(str(InputError(
                "lies outside NR's frequency ranges (FR1 410-7,125 MHz, FR2 24,250-71,000 MHz, "
                "TS 38.104 5.1): the FR1 tables and overheads are used, unchecked",
                file=label, field=f"{field}.fc_ghz", value=car.fc_ghz)))
        elif car.band is None:
            duplex = "FDD" if car.tdd_pattern is None else "TDD"
            out.append(str(InputError(
                f"a {car.bandwidth_mhz:g} MHz {duplex} channel there fits no band of airan's "
                "table: the frequency and the duplex mode are taken as "
                "given, unchecked (a band, or a narrower channel, checks them)",
                file=label, field=f"{field}.fc_ghz", value=car.fc_ghz)))
        if car.tdd_pattern is not None and not tdd_pattern_configurable(
                car.tdd_pattern, car.numerology):
            period = len(car.tdd_pattern) / (1 << car.numerology)
            out.append(str(InputError(
                f"a {period:g} ms pattern TS 38.331 cannot configure (TS 38.213 11.1: one "
                "period that divides 20 ms, or two adding up to a divisor of 20 ms, of "
                f"{', '.join(f'{t:g}' for t in TDD_PERIODS_MS)} ms; each D slots, then S, then "
                "U): the twin runs it as given",
                file=label, field=f"{field}.tdd_pattern", value=car.tdd_pattern)))
    return out


#: The share of the cells' most uplink (every PRB at the top spectral efficiency) above which
#: an offered uplink warns: carrying it needs most UEs at ~16 dB SINR or more (15.7 dB), where the
#: attenuated Shannon of the link model gives half its 7.4 bit/s/Hz cap.
UL_OFFERED_SHARE = 0.5


def uplink_most_bps(s: Scenario) -> float:
    """What the scenario's cells carry on the uplink at most (bit/s): every PRB of every cell
    at the top spectral efficiency (TS 38.214 Table 5.1.3.1-2 MCS 27, 7.4063 bit/s/Hz), its
    ``ul_layers``, TS 38.306 4.1.2's uplink overhead, in its TDD pattern's U slots."""
    from collections import Counter

    from airan.radio import nr

    own = {c.name: c for c in s.cell_sites}
    total = 0.0
    for site, n in Counter(c.split("/")[0] for c in s.cell_names()).items():
        given = own[site].carrier if site in own else None
        c = given if given is not None else s.carrier
        try:
            prb = nr.n_prb(c.bandwidth_mhz, c.numerology, nr.is_fr2(c.fc_ghz))
        except ValueError:
            continue  # (bad input, said where the carrier is checked)
        ul_share = float(nr.slot_usable(nr.slot_types(c.tdd_pattern))[0].mean())
        bits = float(nr.bits_per_prb_per_slot(nr.MAX_SE_256QAM, nr.overheads(c.fc_ghz)[1],
                                              c.ul_layers))
        total += n * prb * bits * ul_share / nr.slot_duration_s(c.numerology)
    return total


def _link_capacity_warnings(s: Scenario, label: str | None) -> list[str]:
    """Transport links so slow that one message of a service takes its whole deadline on them
    (a lecturer's lab: ``capacity_gbps: 0.001``, 1 Mbit/s for a 15 kB upload against 50 ms,
    validated silently, and the run dropped 371 of 390 requests ``link_full``): a unit slip,
    most likely. One line per link, the service whose message takes longest against its
    deadline."""
    sent = {v for f in s.fleets if f.count > 0 for v in f.services}
    services = [v for v in s.services if v.name in sent]
    links: list[tuple[str, str, float]] = [
        (f"transport.links[{i}].capacity_gbps", f"{k.a}-{k.b}", k.capacity_gbps)
        for i, k in enumerate(s.transport.links)]
    if s.transport.backhaul is not None:
        links.append(("transport.backhaul.capacity_gbps", f"the backhaul to "
                      f"{s.transport.backhaul.to}", s.transport.backhaul.capacity_gbps))
    out = []
    for field, name, gbps in links:
        worst = max(services, default=None, key=lambda v: max(v.ul_kb, v.dl_kb) * 8e3
                    / (gbps * 1e9) / (v.deadline_ms * 1e-3))
        if worst is None:
            continue
        kb = max(worst.ul_kb, worst.dl_kb)
        took_ms = kb * 8e3 / (gbps * 1e9) * 1e3
        if took_ms >= worst.deadline_ms:
            out.append(str(InputError(
                f"{name} at {gbps:g} Gbit/s ({gbps * 1e3:g} Mbit/s) takes {took_ms:,.3g} ms to "
                f"carry one {kb:g} kB message of {worst.name}, its whole {worst.deadline_ms:g} "
                "ms deadline or more: every request over it is late, and its queue drops them "
                "(link_full); capacity_gbps is in Gbit/s", file=label, field=field,
                value=gbps)))
    return out


def _metres(x: float) -> str:
    """A distance in a message: whole metres, or two figures below 10 m (a review: a 0.5 m
    spacing read "0 m")."""
    return f"{x:,.0f}" if x >= 10.0 else f"{x:.2g}"


#: TR 38.901's path loss holds from a 2D distance of 10 m (Table 7.4.1-1)
MIN_ISD_M = 10.0


def _close_sites_warnings(s: Scenario, label: str | None) -> list[str]:
    """Cell sites closer than :data:`MIN_ISD_M` to another (an operator planner's review: two
    Shanghai sites 2.98 m apart, both kept, each a co-channel interferer of the other at nearly
    its own strength: the devices around them at 2.9 dB of median SINR against 6.3 elsewhere,
    one cell past its uplink's capacity, and not a word). One mast listed twice, most likely:
    ``cell_sites_file.merge_within_m`` keeps the first of each such group."""
    from scipy.spatial import cKDTree

    from airan.scenario.schema import imported_sites

    xy = cell_site_xy(s)
    if len(xy) < 2:
        return []
    pairs = cKDTree(xy).query_pairs(MIN_ISD_M, output_type="ndarray")
    # (two carriers on one mast, two sites at one position on other channels, are no such)
    carriers = [c.carrier or s.carrier for c in s.cell_sites]
    carriers += [s.carrier] * (len(xy) - len(carriers))
    pairs = pairs[[carriers[a] == carriers[b] for a, b in pairs]] if len(pairs) else pairs
    if not len(pairs):
        return []
    names = s.cell_site_names()
    listed = len(s.cell_sites)
    n_file = len(imported_sites(s.cell_sites_file)) if s.cell_sites_file is not None else 0

    def part(k: int) -> str:
        return "listed" if k < listed else "file" if k < listed + n_file else "layout"

    # (a layout's own spacing has its warning, _layout_spacing_warnings)
    pairs = pairs[[not (part(a) == part(b) == "layout") for a, b in pairs]]
    if not len(pairs):
        return []
    gap = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
    i, j = (int(v) for v in pairs[int(np.argmin(gap))])
    if part(i) == part(j) == "file":
        field = "cell_sites_file.merge_within_m"
        fix = "merge them (cell_sites_file.merge_within_m: 10 keeps the first row of each group)"
    elif "listed" in (part(i), part(j)):  # (merge_within_m merges the file's rows alone)
        field = f"cell_sites[{names[j if part(j) == 'listed' else i]}].position_m"
        fix = ("merge them, or give them carriers of their own" if part(i) == part(j) else
               "move or remove one of them, or give the listed one a carrier of its own")
    else:  # a file's site on the layout's
        field = "cell_sites_file.path"
        fix = "move the layout (cell_layout.hex.center_m) or drop the file's row"
    few = "a pair of cell sites stands" if len(pairs) == 1 else \
        f"{len(pairs)} pairs of cell sites stand"
    return [str(InputError(
        f"{few} closer than {MIN_ISD_M:g} m ({names[i]} and {names[j]}: {gap.min():.1f} m): "
        "one mast listed twice? On one carrier each interferes with the other at nearly its "
        f"own strength, and TR 38.901's path loss holds from {MIN_ISD_M:g} m: {fix}",
        file=label, field=field, value=None))]


#: A cell edge this far below its sector column's peak gain (dB) or more is missed by the main
#: lobe (:func:`_downtilt_warnings`)
TILT_EDGE_LOSS_DB = 10.0


def _cell_site_antennas(s: Scenario) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                              NDArray[np.int64], NDArray[np.float64]]:
    """Each cell site's height (m), downtilt (deg), sectors and position (m), in the order of
    :func:`cell_site_xy`, as the engine takes them (a file's missing height the environment's,
    its missing tilt 12 deg)."""
    from airan.radio.pathloss import BS_HEIGHT_M
    from airan.scenario.schema import imported_sites

    h = [c.height_m for c in s.cell_sites]
    tilt = [c.downtilt_deg for c in s.cell_sites]
    sectors = [c.sectors for c in s.cell_sites]
    if s.cell_sites_file is not None:
        imp = imported_sites(s.cell_sites_file)
        n = len(imp.names)
        for values, default, out in ((imp.height_m, BS_HEIGHT_M[s.radio.environment], h),
                                     (imp.downtilt_deg, 12.0, tilt)):
            given = np.full(n, np.nan) if values is None else np.asarray(values, dtype=float)
            out += np.where(np.isfinite(given), given, default).tolist()
        sectors += [3] * n
    if s.cell_layout is not None:
        lay = s.cell_layout
        n = len(cell_site_xy(s)) - len(h)
        h += [lay.height_m] * n
        tilt += [lay.downtilt_deg] * n
        sectors += [lay.sectors] * n
    return (np.asarray(h, dtype=float), np.asarray(tilt, dtype=float),
            np.asarray(sectors, dtype=np.int64), cell_site_xy(s))


def _omni_cell_warnings(s: Scenario, label: str | None) -> list[str]:
    """Single-sector cell sites given a downtilt, or under a radio with an antenna column
    (``radio.gnb_vertical_elements`` > 1): a single-sector cell radiates omnidirectionally at
    0 dBi (TR 38.901's indoor ceiling cells), so neither acts on it (a stadium planner's
    review: 16 roof-ring cells tilted 40 deg and at 0 deg ran the same to the last digit, where
    validate's aerial advice had named both)."""
    if s.radio.model != "nr":
        return []
    column = s.radio.gnb_vertical_elements > 1
    # a tilt other than the default (a scenario written back, as a run folder's, a sweep's or
    # with_fields', sets every default: a diff review)
    from airan.scenario.schema import CellSite

    default_tilt = CellSite.model_fields["downtilt_deg"].default  # (a layout's is the same)
    tilted: list[str] = []
    omni: list[str] = []
    for c in s.cell_sites:
        if c.sectors == 1:
            omni.append(c.name)
            if c.downtilt_deg != default_tilt:
                tilted.append(c.name)
    lay = s.cell_layout
    if lay is not None and lay.sectors == 1:
        omni.append(f"the layout's {lay.name_prefix}*")
        if lay.downtilt_deg != default_tilt:
            tilted.append(f"the layout's {lay.name_prefix}*")
    if not tilted and not (column and omni):
        return []
    named = tilted if tilted else omni
    shown = _some(named)
    what = ("their downtilt_deg" + (" and radio.gnb_vertical_elements" if column else "")
            if tilted else f"radio.gnb_vertical_elements {s.radio.gnb_vertical_elements}")
    field = ("radio.gnb_vertical_elements" if not tilted else "cell_layout.downtilt_deg"
             if tilted[0].startswith("the layout") else f"cell_sites[{tilted[0]}].downtilt_deg")
    return [str(InputError(
        f"single-sector cell sites ({shown}) radiate omnidirectionally at 0 dBi, as TR "
        f"38.901's indoor ceiling cells: {what} do{'es' if not tilted else ''} not act on "
        "them. Only three-sector sites have the sector pattern, its tilt and a column; a "
        "directional small cell (a panel aimed at a stand) is not modelled", file=label,
        field=field))]


def _downtilt_warnings(s: Scenario, label: str | None) -> list[str]:
    """Three-sector cells whose column (``radio.gnb_vertical_elements`` > 1, a beam a few
    degrees high) is tilted so that their cell edge, half the way to the nearest other site, a
    UE at 1.5 m, lies :data:`TILT_EDGE_LOSS_DB` or more below the beam's peak (a rural co-op's
    review: 35 m masts 5.5 km apart at the 12 deg default with 10 elements, validate's advice
    for an aerial study, put the field edge in the column's first null, 33 dB down: tractors
    there had 0.006 Mbit/s of uplink where 3 deg gave 10.7). One element (65 deg high) is
    within 0.4 dB of its peak at any such edge. The fix named: the tilt that puts the beam's
    upper half-power point on the edge."""
    from scipy.spatial import cKDTree

    from airan.radio.antenna import column_gain_dbi, column_half_power_deg

    m = s.radio.gnb_vertical_elements
    if s.radio.model != "nr" or m <= 1:
        return []
    h, tilt, sectors, xy = _cell_site_antennas(s)
    if len(xy) < 2:
        return []
    # the nearest other mast: sites on one mast (another carrier's layer) are no neighbours
    _, first, inverse = np.unique(np.round(xy, 2), axis=0, return_index=True,
                                  return_inverse=True)
    masts = xy[first]
    if len(masts) < 2:
        return []
    dist, _ = cKDTree(masts).query(masts, k=2)
    half = (dist[:, 1] / 2.0)[np.ravel(inverse)]
    edge_deg = np.degrees(np.arctan2(h - 1.5, np.maximum(half, 1e-9)))
    spacing = s.radio.gnb_element_spacing_wavelengths
    peak = column_gain_dbi(0.0, 90.0 + tilt, tilt_deg=tilt, vertical_elements=m,
                           spacing_wavelengths=spacing)
    at_edge = column_gain_dbi(0.0, 90.0 + edge_deg, tilt_deg=tilt, vertical_elements=m,
                              spacing_wavelengths=spacing)
    loss = np.where((sectors == 3) & (half >= MIN_ISD_M), peak - at_edge, 0.0)
    bad = loss >= TILT_EDGE_LOSS_DB
    if not bad.any():
        return []
    k = int(np.argmax(loss))
    names = s.cell_site_names()
    listed = len(s.cell_sites)
    n_file = 0
    if s.cell_sites_file is not None:
        from airan.scenario.schema import imported_sites

        n_file = len(imported_sites(s.cell_sites_file).names)
    field = (f"cell_sites[{names[k]}].downtilt_deg" if k < listed else
             "cell_layout.downtilt_deg" if k >= listed + n_file else "cell_sites_file.path")
    suggest_deg = float(edge_deg[k])
    for _ in range(8):  # (the beam widens a little as it tilts: a fixed point, ~0.01 deg)
        suggest_deg = float(edge_deg[k]) + column_half_power_deg(m, spacing, suggest_deg)
    where = "above the beam" if edge_deg[k] < tilt[k] else "below the beam"
    few = "a three-sector cell site aims its" if bad.sum() == 1 else \
        f"{int(bad.sum())} three-sector cell sites aim their"
    return [str(InputError(
        f"{few} {m}-element columns' beam away from the cell edge: {names[k]}'s "
        f"{tilt[k]:g} deg downtilt leaves the edge ({half[k]:,.0f} m out, half the way to the "
        f"next site, {edge_deg[k]:.1f} deg below the horizon from {h[k]:g} m) {where}, "
        f"{loss[k]:.0f} dB below its peak, so the devices there are served by its side lobes; "
        f"a downtilt of about {suggest_deg:.1f} deg puts the beam's upper half-power point on "
        "the edge (12 deg is TR 38.901's urban calibration's, sites 500 m apart)",
        file=label, field=field, value=float(tilt[k])))]


def _layout_spacing_warnings(s: Scenario, label: str | None) -> list[str]:
    """A generated layout whose sites stand closer than the 10 m from which TR 38.901's path
    loss holds (a drone maker's review: ``isd_m: 0.5``, km written as m, passed quietly)."""
    lay = s.cell_layout
    if lay is None or lay.hex.isd_m >= MIN_ISD_M or lay.hex.rings == 0:  # (0: one site)
        return []
    return [str(InputError(
        f"sites {_metres(lay.hex.isd_m)} m apart, closer than the 10 m from which TR 38.901's "
        "path loss holds (Table 7.4.1-1): isd_m is in metres", file=label,
        field="cell_layout.hex.isd_m", value=lay.hex.isd_m))]


def _link_delay_warnings(s: Scenario, label: str | None) -> list[str]:
    """Transport links whose round trip alone (fibre at 4.9 us/km and ``extra_delay_ms``, both
    ways) takes every sent service's deadline or more (a drone maker's review: ``fiber_km:
    600000``, metres written as km, and ``extra_delay_ms: 10000`` validated silently, and the
    run ended with every cloud request in flight): a unit slip, most likely. The field named is
    the larger part of the delay."""
    sent = {v for f in s.fleets if f.count > 0 for v in f.services}
    loosest_ms = max((v.deadline_ms for v in s.services if v.name in sent), default=None)
    if loosest_ms is None:
        return []
    out = []
    for i, k in enumerate(s.transport.links):
        fibre_ms = k.fiber_km * FIBER_S_PER_KM * 1e3
        round_trip_ms = 2.0 * (fibre_ms + k.extra_delay_ms)
        if round_trip_ms < loosest_ms:
            continue
        field, value, unit = ((f"transport.links[{i}].fiber_km", k.fiber_km,
                               "fiber_km is in km (light in fibre: 4.9 us/km)")
                              if fibre_ms >= k.extra_delay_ms else
                              (f"transport.links[{i}].extra_delay_ms", k.extra_delay_ms,
                               "extra_delay_ms is in ms"))
        def ms(x: float) -> str:
            return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"

        out.append(str(InputError(
            f"{k.a}-{k.b} takes {ms(round_trip_ms)} ms there and back (fibre "
            f"{ms(fibre_ms)} ms and extra {ms(k.extra_delay_ms)} ms each way), every service's "
            f"deadline or more (the loosest: {loosest_ms:g} ms): every request over it is late; "
            + unit, file=label, field=field, value=value)))
    return out


#: how far the bounds of a ul_kb_spread (or dl_kb_spread) may move the sizes' mean (and cut
#: their cv) before validation says so: ul_kb and cv are the distribution's before them
SPREAD_MEAN_MOVED, SPREAD_CV_CUT = 0.02, 0.2
#: a lognormal's cv from which validation asks whether it was meant as a percentage (cv 10
#: meant as 10% passes the limit of 10 and sends sizes over 100x the mean: a user's walk)
SPREAD_CV_LARGE = 3.0


def payload_median(spread: Any) -> float:
    """The median size sent under ``spread`` as a ratio of the size given."""
    from airan.scenario import payload

    lo, hi = spread.ratios()
    return payload.exceeded_by(payload.KINDS[spread.dist], spread.cv, lo, hi, 0.5)


def _spread_bounds_warnings(s: Scenario, label: str | None) -> list[str]:
    """Services whose ``ul_kb_spread`` (or ``dl_kb_spread``) bounds change the sizes sent
    from what ``ul_kb`` and ``cv`` say (a perception engineer's walk: ``normal`` at cv 0.5
    within the default 0.5 .. 1.5 sends a cv of 0.27, and a cv of 3 meant as 3% is nearly
    uniform)."""
    out = []
    for v, key, what in ((v, key, what) for v in s.services
                         for key, what in (("ul_kb", "uploads"), ("dl_kb", "answers"))):
        spread = getattr(v, f"{key}_spread")
        kb = getattr(v, key)
        if spread is None:
            continue
        sent = spread.sizes()
        if spread.dist == "lognormal" and spread.cv >= SPREAD_CV_LARGE:
            out.append(str(InputError(
                f"cv {spread.cv:g} is a standard deviation {spread.cv:g} times the mean: the "
                f"{what} sent reach {sent['p99'] / sent['mean']:.3g} x their mean at the 99th "
                f"percentile and {sent['largest'] / sent['mean']:,.3g} x at the largest, and "
                f"half of them are under {payload_median(spread) / sent['mean']:.2g} x; cv is "
                f"a ratio, {spread.cv / 100:g} for {spread.cv:g}%", file=label,
                field=f"services[{v.name}].{key}_spread.cv", value=spread.cv)))
        moved = abs(sent["mean"] - 1.0) > SPREAD_MEAN_MOVED
        cut = sent["cv"] < (1.0 - SPREAD_CV_CUT) * spread.cv
        if not (moved or cut):
            continue
        lo, hi = spread.ratios()
        changed = [f"a mean of {sent['mean'] * kb:.3g} kB ({key} {kb:g} is the mean "
                   "before them)"] if moved else []
        if cut:
            changed.append(f"a cv of {sent['cv']:.3g} (cv {spread.cv:g} before them)")
        if spread.dist == "normal" and lo == 0.0 and moved:  # (the floor no bound can lower)
            remedy = ("sizes cannot be negative, so a normal this wide is cut at 0: a "
                      "lognormal keeps its mean and cv")
        else:
            remedy = (f"widen min_ratio .. max_ratio to keep them, or give {key} and cv such "
                      "that the sizes sent are yours")
        out.append(str(InputError(
            f"its bounds, {lo:g} .. {hi:g} x {key}"
            + (" (the defaults)" if spread.min_ratio is None and spread.max_ratio is None
               else "")
            + f", change the {what} sent: " + " and ".join(changed)
            + (f"; cv is a ratio, {spread.cv / 100:g} for {spread.cv:g}%"
               if spread.cv >= 1 and spread.dist == "normal" else "")
            + ": " + remedy, file=label, field=f"services[{v.name}].{key}_spread")))
    return out


def _uplink_load_warnings(s: Scenario, label: str | None) -> list[str]:
    """Fleets that offer the cells more uplink than they can carry at the SINRs UEs see (an
    integrator's review: 492 Mbit/s offered to four DDDSU cells validated silently, and the
    run's detection met 4% of its deadlines: the radio, not the GPUs, was the first limit)."""
    most = uplink_most_bps(s)
    offered = sum(per_s * v.ul_mean_kb * 8e3 for v, (_, per_s) in
                  zip(s.services, offered_requests(s).values(), strict=True))
    if not most > 0.0 or offered <= UL_OFFERED_SHARE * most:
        return []
    per_s = offered_requests(s)
    top = max(s.services, key=lambda v: per_s[v.name][1] * v.ul_mean_kb)
    top_mbps = per_s[top.name][1] * top.ul_mean_kb * 8e-3
    top_shown = f"{top_mbps:,.0f}" if top_mbps >= 100 else f"{top_mbps:.3g}"
    # (a drone operator's review: a rate_hz of 1500 was named as the ul_kb of 40 it sends: the
    # service is named, with both)
    return [str(InputError(
        f"the fleets offer {offered / 1e6:,.0f} Mbit/s of uplink if every request goes over "
        f"the air, {offered / most:.0%} of the most the {len(s.cell_names())} cells carry "
        f"({most / 1e6:,.0f} Mbit/s, every PRB at 7.4 bit/s/Hz in the U slots): above "
        f"{UL_OFFERED_SHARE:.0%} of it, most UEs would need ~16 dB SINR or more, so expect the "
        "uplink, not the GPUs, to be the first limit (fewer or smaller uploads, more cells or "
        f"uplink slots; the largest share is this service's, {top_shown} Mbit/s: "
        f"{per_s[top.name][0]:,.0f} devices x rate_hz {top.rate_hz:g} x "
        + (f"ul_kb {top.ul_kb:g})" if top.ul_kb_spread is None
           else f"a mean upload of {top.ul_mean_kb:.3g} kB)"),
        file=label,
        field=f"services[{top.name}]"))]


def _full_background_warnings(s: Scenario, label: str | None) -> list[str]:
    """Background traffic that takes every PRB of every cell in some hours: nothing the fleets
    send moves on the air then."""
    traffic = s.ai_ran.traffic if s.ai_ran is not None else None
    if traffic is None:
        return []
    from airan.compute.l1 import DIURNAL

    out = []
    default_peak = type(traffic).model_fields["peak_utilization"].default
    if traffic.hourly is not None and traffic.peak_utilization != default_peak:
        out.append(str(InputError(  # (a dumped scenario writes the default beside hourly)
            "hourly gives the background's curve, so this peak_utilization is not used",
            file=label,
            field="ai_ran.traffic.peak_utilization", value=traffic.peak_utilization)))
    own_ul = traffic.uplink_hourly is not None or traffic.uplink_peak_utilization is not None
    what = {"": "nothing the fleets send moves on the air then (their requests wait, and "
                "uplink buffers fill)",
            "downlink ": "no answer moves on the air then (answers wait at their cells)",
            "uplink ": "nothing the fleets send up moves then (their requests wait, and uplink "
                       "buffers fill)"}
    for link, direction in ((("downlink ", "dl"), ("uplink ", "ul")) if own_ul else
                            (("", "dl"),)):
        hourly, peak = traffic.curve(direction)  # type: ignore[arg-type]
        curve = hourly if hourly is not None else list(DIURNAL * peak)
        field = ("ai_ran.traffic." + (
            ("uplink_hourly" if traffic.uplink_hourly is not None
             else "uplink_peak_utilization") if direction == "ul"
            else "hourly" if hourly is not None else "peak_utilization"))
        full = [h for h, u in enumerate(curve) if u >= 1.0]
        if not full:
            continue
        hours = ", ".join(str(h) for h in full[:8]) + (" ..." if len(full) > 8 else "")
        out.append(str(InputError(
            f"background traffic takes every {link}PRB of every cell (utilization 1) in "
            f"hour{'s' if len(full) > 1 else ''} {hours}: {what[link]}", file=label,
            field=field)))
    return out


def _priority_under_background_warnings(s: Scenario, label: str | None) -> list[str]:
    """Services given a QoS priority level above the default bearer's (a 5QI or
    ``qos_priority_level``) where background traffic (``ai_ran.traffic``) shares the cells:
    the background takes its PRBs first and the level orders the simulated devices among
    themselves only, where a gNB would serve a GBR or higher-priority flow ahead of best
    effort (TS 23.501 5.7.3.3). A stadium planner's review: XR and cameras marked 89 and 71
    under a 70% uplink background met what they met unmarked, and the robots they now
    outranked lost half their hit ratio, with no word of why."""
    if s.ai_ran is None or s.ai_ran.traffic is None or s.radio.model != "nr":
        return []
    from airan.radio.qos import DEFAULT_5QI, STANDARDIZED_5QI, priority_level

    best_effort = STANDARDIZED_5QI[DEFAULT_5QI].priority_level
    run = {n for f in s.fleets if f.count for n in f.services}
    marked = [v for v in s.services if v.name in run
              and priority_level(v.five_qi, v.qos_priority_level) < best_effort]
    if not marked:
        return []
    names = _some([v.name for v in marked])
    v = marked[0]
    field = f"services[{v.name}]." + ("five_qi" if v.five_qi is not None
                                      else "qos_priority_level")
    return [str(InputError(
        f"{names} {'is' if len(marked) == 1 else 'are'} given a QoS priority above the "
        f"default bearer's (level {best_effort}), and ai_ran.traffic's background takes its "
        "share of the PRBs before any simulated device: here a priority level orders the "
        "simulated devices among themselves only (it takes PRBs from devices of lower "
        "levels, none from the background), where a gNB would serve a GBR or "
        "higher-priority flow ahead of best-effort traffic (TS 23.501 5.7.3.3). Read the "
        "marked services' figures as what they get beside the background at its share",
        file=label, field=field))]


def _far_point_warnings(fleet: str, pts: NDArray[np.float64], to_cell_m: NDArray[np.float64],
                        reach: float, env: str, label: str | None) -> list[str]:
    """The points of a fleet at given points farther than :data:`FAR_FROM_CELLS_M` from every
    cell site, or beyond the distance its environment's path loss covers, named with their
    distance (a mine planner's review: one far pole among eight was not named)."""
    out = []
    for lo, hi, why in ((FAR_FROM_CELLS_M, math.inf, f"more than {FAR_FROM_CELLS_M / 1e3:g} km "
                         "from every cell site: the devices there hardly reach a cell "
                         "(radio_outage)"),
                        (reach, FAR_FROM_CELLS_M, f"beyond the {reach:,.0f} m that TR 38.901's "
                         f"{env} path loss covers (Table 7.4.1-1): the formulas are "
                         "extrapolated there, so read their radio as a rough guess")):
        far = np.flatnonzero((to_cell_m > lo) & (to_cell_m <= hi))
        if not far.size:
            continue
        named = ", ".join(f"{i} [{pts[i][0]:g}, {pts[i][1]:g}] ({to_cell_m[i]:,.0f} m)"
                          for i in far[:5]) + (f" and {far.size - 5:,} more" if far.size > 5
                                               else "")
        out.append(str(InputError(
            f"{far.size:,} of the {len(pts):,} points its devices stand at "
            f"{'is' if far.size == 1 else 'are'} {why}: point{'s' if far.size > 1 else ''} "
            f"{named}", file=label,
            field=f"fleets[{fleet}].area.positions_m")))
    return out


def _far_fleet_warnings(s: Scenario, label: str | None) -> list[str]:
    """A fleet whose whole area lies farther than :data:`FAR_FROM_CELLS_M` from every cell site,
    or beyond the distance its environment's path loss covers (see :func:`scenario_warnings`)."""
    from scipy.spatial import cKDTree

    from airan.scenario.schema import DiscArea, PointsArea, RectArea

    fleets = [f for f in s.fleets if f.area is not None and f.count > 0 and not (
        f.mobility is not None and (f.mobility.model == "trace" or (
            f.mobility.model == "waypoints" and getattr(f.mobility, "paths", None) is not None)))]
    if not fleets:
        return []
    xy = cell_site_xy(s)
    if not len(xy):
        return []
    from airan.radio.pathloss import MAX_DISTANCE_M

    env = s.radio.environment
    reach = MAX_DISTANCE_M.get(env, math.inf)
    out = []
    cell_gap = np.full(len(xy), np.inf)  # each cell site's distance to the nearest fleet area
    for f in fleets:
        area = f.area
        if isinstance(area, RectArea):
            dx = np.maximum.reduce([area.x_m[0] - xy[:, 0], np.zeros(len(xy)),
                                    xy[:, 0] - area.x_m[1]])
            dy = np.maximum.reduce([area.y_m[0] - xy[:, 1], np.zeros(len(xy)),
                                    xy[:, 1] - area.y_m[1]])
            gap = np.hypot(dx, dy)
        elif isinstance(area, DiscArea):
            gap = np.maximum(np.hypot(xy[:, 0] - area.center_m[0],
                                      xy[:, 1] - area.center_m[1]) - area.radius_m, 0.0)
        elif isinstance(area, PointsArea):  # each cell site's nearest point a device uses
            pts = _used_points(f)
            gap = cKDTree(pts).query(xy)[0]
            cell_gap = np.minimum(cell_gap, gap)
            out += _far_point_warnings(f.name, pts, cKDTree(xy).query(pts)[0], reach, env,
                                       label)
            continue
        else:  # pragma: no cover - the schema has no other area
            continue
        cell_gap = np.minimum(cell_gap, gap)
        nearest = float(gap.min())
        if nearest > FAR_FROM_CELLS_M:
            out.append(str(InputError(
                f"the fleet's whole area is {nearest / 1e3:,.1f} km or more from the nearest "
                f"cell site (more than {FAR_FROM_CELLS_M / 1e3:g} km): its devices hardly "
                "reach a cell (radio_outage)", file=label, field=f"fleets[{f.name}].area")))
        elif nearest > reach:
            out.append(str(InputError(
                f"the fleet's whole area is {nearest:,.0f} m or more from the nearest cell site, "
                f"beyond the {reach:,.0f} m that TR 38.901's {env} path loss covers (Table "
                "7.4.1-1): the formulas are extrapolated there, so read its radio as a rough "
                "guess", file=label, field=f"fleets[{f.name}].area")))
    # the converse, where every device is placed in an area: a cell site beyond the path loss's
    # reach of every fleet serves none (a robot maker's cell at x 1,250 m in a 150 m hall)
    placed = len(fleets) == sum(1 for f in s.fleets if f.count > 0)
    if placed and math.isfinite(reach):
        names = s.cell_site_names()
        far = [(names[i], float(cell_gap[i])) for i in np.flatnonzero(cell_gap > reach)]
        if far:
            shown = _some([f"{n} ({g:,.0f} m)" for n, g in far])
            out.append(str(InputError(
                f"cell sites farther from every fleet's area than the {reach:,.0f} m that TR "
                f"38.901's {env} path loss covers: {shown}; they hardly serve a device, and "
                "its formulas are extrapolated there (a position in the wrong units or "
                "place?)", file=label, field="cell_sites")))
    return out


# ---- policies, AI-RAN, mobility: what the engine would find only while it runs ----------------
def _check_policy_sites(s: Scenario) -> None:
    check_policy_sites(s, s.policy, field="policy")


def check_policy_sites(s: Scenario, policy: str, *, field: str) -> None:
    """An :class:`InputError` if built-in ``policy`` needs a kind of compute site ``s`` lacks
    (checked for the scenario's own policy, and by ``compare`` for each policy it will run)."""
    from airan.policy.builtin import NEEDS_SITES, SITE_PREFIX

    if policy.startswith(SITE_PREFIX) and policy[len(SITE_PREFIX):].strip():
        site = policy[len(SITE_PREFIX):].strip()
        names = s.compute_site_names()  # (the generated ones too: gpu-<cell site>)
        if site not in names:
            raise unknown_name("compute site", site, names, field=field)
        return
    if policy not in NEEDS_SITES:
        return
    kinds = NEEDS_SITES[policy]
    have = [c.kind for c in s.compute_sites]
    if s.generated_compute_sites is not None:
        have.append("cell")
    if not any(kinds is None or k in kinds for k in have):
        what = "a compute site" if kinds is None else f"a {' or '.join(kinds)} compute site"
        raise InputError(f"policy {policy!r} needs {what}; the scenario has none "
                         "(compute_sites)", field=field, value=policy)


def check_gpus(s: Scenario) -> None:
    """What each compute site's GPUs must be able to do: run its cells' L1 (on a MIG instance
    in ``ai_ran.mode`` mig) where it hosts them, and hold every model the services use. Loading
    a scenario checks it, and so does the engine when a run starts (a scenario changed in
    Python, or built by the planner, is checked too)."""
    _check_ai_ran(s)
    _check_gpu_memory(s)


def _check_ai_ran(s: Scenario) -> None:
    """With ``ai_ran.mode`` mig or dynamic, a cell-site compute site runs the L1 of its cell
    site's cells: its GPU (the type of its first GPU group, as the engine takes it) must be one
    that can (airan.engine.ran_share checks the same when a run starts), and with mig one that
    splits into MIG instances."""
    from airan.compute import l1

    gpus = s.gpu_catalog()
    for gid in s.ai_ran.l1_peak_cells:  # (checked whatever the mode: a misspelt id is an error)
        if gid not in gpus:
            raise unknown_name("GPU", gid, gpus, field="ai_ran.l1_peak_cells")
    mode = s.ai_ran.mode
    if mode == "none":
        return
    explicit = {c.name for c in s.compute_sites}
    for site, gid in l1_hosts(s).values():
        what = (f"compute site {site!r}" if site in explicit
                else f"generated compute site {site!r} (generated_compute_sites.gpus)")
        given = s.ai_ran.l1_peak_cells
        if l1.l1_peak_cells(gid, gpus[gid], given) <= 0:
            can = ", ".join(g for g, spec in gpus.items() if l1.l1_peak_cells(g, spec, given) > 0)
            raise InputError(
                f"{what} hosts the L1 of its cells but its GPU {gid!r} cannot run L1 "
                f"(ai_ran.mode {mode!r}; GPUs that can: {can})", field="ai_ran.mode",
                value=mode)
        if mode == "mig" and not gpus[gid].mig:
            can = ", ".join(g for g, spec in gpus.items() if spec.mig)
            raise InputError(
                f"{what} hosts the L1 of its cells on a MIG instance but its GPU {gid!r} has "
                f"no MIG (the NVIDIA MIG User Guide's: {can}); use ai_ran.mode 'dynamic' or "
                "give the site a MIG GPU", field="ai_ran.mode", value=mode)


def l1_hosts(s: Scenario) -> dict[str, tuple[str, str]]:
    """Cell site -> (compute site, GPU type) of the compute site that runs its cells' L1 with
    ``ai_ran.mode`` mig or dynamic, as the engine takes it: the compute site that lists it in
    ``hosts_l1_of`` (a pooled DU), else its last cell-kind compute site (a generated one
    included), else a hub (a site that lists others) that stands at it. Whatever the mode
    (the caller checks it)."""
    hosts: dict[str, tuple[str, str]] = {}
    cell_sites = set(s.cell_site_names())
    for c in s.compute_sites:
        if c.kind == "cell" and c.at in cell_sites:
            hosts[c.at] = (c.name, c.gpus[0].type)
    g = s.generated_compute_sites
    if g is not None:  # (after the listed ones, as the engine orders its sites)
        for name in s.generated_hosts():
            hosts[name] = (f"gpu-{name}", g.gpus[0].type)
    for c in s.compute_sites:
        for name in c.hosts_l1_of:
            hosts[name] = (c.name, c.gpus[0].type)
    for c in s.compute_sites:  # a hub that stands at a cell site runs its cells' L1 too,
        # besides the ones it lists, where no cell-kind site there does (an AI-RAN planner's
        # review: a GH200 hub of kind edge at the centre site hosting its ring counted 18 of
        # the 21 cells, the centre's left out, silently)
        if c.hosts_l1_of and c.kind != "cloud" and c.at in cell_sites and c.at not in hosts:
            hosts[c.at] = (c.name, c.gpus[0].type)
    return hosts



def site_memory(s: Scenario, gid: str, batching: Batching, *,
                mig: bool = False, services: list[str] | None = None
                ) -> tuple[dict[str, float], float]:
    """What one GPU of type ``gid`` at a compute site with ``batching`` must hold: bytes per
    model the services use (those of ``services``, the site's own list; None: every one;
    :func:`airan.compute.memory.
    model_memory_bytes`: the weights once, a full batch per instance; a service that no fleet
    runs needs none, one with a measured service time its own copy), and the bytes it has
    (its AI's MIG instance's where it runs its cells' L1 in ``ai_ran.mode`` mig: ``mig``)."""
    from airan.compute import l1
    from airan.compute.memory import model_memory_bytes

    gpu = s.gpu_catalog()[gid]
    models = s.model_catalog()
    run = {name for f in s.fleets for name in f.services}  # a service no fleet runs: no model
    if services is not None:  # (a site that serves some services holds their models only)
        run &= set(services)
    # a service with a measured service time runs its own copy of its model (airan.engine.world:
    # a queue and instances of its own, named model@service)
    keys = sorted({v.model if v.service_time is None else f"{v.model}@{v.name}"
                   for v in s.services if v.name in run})
    need = {}
    for key in keys:
        m = key.split("@", 1)[0]
        need[key] = model_memory_bytes(models[m], gpu, batching.for_model(m)[0],
                                       batching.instances_for(m))
    share = l1.mig_ai_slice(s.ai_ran.mig_l1_fraction, gpu)[1] if mig else 1.0
    return need, gpu.memory_gb * 1e9 * share


def _check_gpu_memory(s: Scenario) -> None:
    """Each compute site's GPU holds every model the services use (:func:`site_memory`)."""
    mig_sites = {site for site, _ in l1_hosts(s).values()} if s.ai_ran.mode == "mig" else set()
    sites = [(c.name, f"compute_sites[{c.name}].gpus[0].type", c.gpus[0].type, c.batching,
              c.services) for c in s.compute_sites]
    g = s.generated_compute_sites
    if g is not None:
        sites += [(f"gpu-{name}", "generated_compute_sites.gpus[0].type", g.gpus[0].type,
                   g.batching, None) for name in s.generated_hosts()]
    checked: set[tuple[str, int, bool, tuple[str, ...] | None]] = set()
    for site, field, gid, batching, served in sites:
        key = (gid, id(batching), site in mig_sites, None if served is None else tuple(served))
        if key in checked:  # (generated sites share one configuration)
            continue
        checked.add(key)
        need, have = site_memory(s, gid, batching, mig=site in mig_sites, services=served)
        total = sum(need.values())
        if total > have:
            parts = ", ".join(f"{m} {b / 1e9:.2f}" for m, b in need.items() if b > 0)
            where = (f" in the AI's MIG instance (ai_ran.mig_l1_fraction "
                     f"{s.ai_ran.mig_l1_fraction:g} leaves it that share of the memory)"
                     if site in mig_sites else "")
            raise InputError(
                f"compute site {site!r}: its {gid} has {have / 1e9:.2f} GB{where}, and the "
                f"models it serves need {total / 1e9:.2f} GB ({parts} GB: the weights once per "
                "GPU, a full batch per instance); give it a GPU with more memory, or lower "
                "max_batch or instances in its batching (batching.models.<model> for one "
                "model)", field=field, value=gid)


def _weightless_model_warnings(s: Scenario, label: str | None) -> list[str]:
    """A model of the scenario's own (``models:``) that gives its ``params`` but weights far
    below params x the bytes of a value at its ``precision``: its roofline reads (and its
    decode steps read again) weights it lacks, so it runs too fast, and the GPU memory check
    finds room for nothing (an ML engineer's review: docs/scenario.md's vla-3b without
    ``weight_bytes`` ran 13.6 ms a batch on an L4 against 160 ms with its 6 GB, and
    ``weight_bytes: 14`` meant as GB passed too)."""
    from airan.catalog import BYTES_PER_VALUE

    out = []
    for name, m in s.models.items():
        if m.params is None or m.service_time_ms is not None:
            continue
        expected = m.params * BYTES_PER_VALUE[m.precision]
        if m.weight_bytes < 0.5 * expected:
            out.append(str(InputError(
                f"weight_bytes {m.weight_bytes:g} is under half of its {m.params:g} params "
                f"at {m.precision} ({expected:.3g} bytes): the roofline reads the weights "
                f"{'in every decode step ' if m.decode_tokens else ''}and the GPU memory check "
                "holds them, so without them it runs too fast and fits anywhere (bytes, not "
                "GB)", file=label, field=f"models.{name}.weight_bytes", value=m.weight_bytes)))
    return out


def _device_memory_warnings(s: Scenario, label: str | None) -> list[str]:
    """A fleet whose on-board accelerator (or CPU) cannot hold the models of its services at
    once (a batch of one each)."""
    from airan.compute.memory import model_memory_bytes

    gpus = s.gpu_catalog()
    models = s.model_catalog()
    # (a service that never runs on a device, on_device: false, needs no room there)
    model_of = {v.name: v.model for v in s.services if v.on_device}
    out = []
    for f in s.fleets:
        if not f.computes_on_board:
            continue
        gpu = gpus[f.accelerator if f.accelerator != "none" else "DeviceCPU"]
        need = {m: model_memory_bytes(models[m], gpu, 1, 1)
                for m in sorted({model_of[v] for v in f.services if v in model_of})}
        have = gpu.memory_gb * 1e9
        if sum(need.values()) > have:
            parts = ", ".join(f"{m} {b / 1e9:.2f}" for m, b in need.items() if b > 0)
            out.append(str(InputError(
                f"the models of this fleet's services need {sum(need.values()) / 1e9:.2f} GB "
                f"on board ({parts} GB) and its {gpu.name} has {have / 1e9:.2f} GB: they could "
                "not run there together, though the twin runs them there when a policy says so "
                "(a service that may not run on its devices: on_device: false)",
                file=label, field=f"fleets[{f.name}].accelerator", value=f.accelerator)))
    return out


#: The most legs (random waypoint) or blocks (Manhattan) a device may cover in one update: the
#: models walk them one by one, so an area or block tiny against the speed never ended an update.
MAX_LEGS_PER_UPDATE = 1_000


def _move_period_s(s: Scenario, update_ms: float) -> float:
    """How often a fleet of ``update_ms`` moves in a run (engine.motion): on the grid of the
    shortest moving fleet's period in whole slots, within half a slot, and at least every
    grid step (a period shorter than a slot moves once a slot)."""
    from airan.engine.motion import update_grid_slots
    from airan.radio.nr import slot_duration_s

    carriers = _used_carriers(s)
    slot_s = slot_duration_s(carriers[0][1].numerology) if carriers else 1e-3
    periods = [f.mobility.update_ms * 1e-3 for f in s.fleets
               if f.mobility is not None and f.mobility.model != "static"]
    grid_s = update_grid_slots(periods or [update_ms * 1e-3], slot_s) * slot_s
    steps = math.ceil((update_ms * 1e-3 - 0.5 * slot_s) / grid_s - 1e-9)
    return max(1, steps) * grid_s


def _check_legs(spec: Any, area: Any, field: str, period_s: float) -> None:
    """A device covers at most :data:`MAX_LEGS_PER_UPDATE` legs in an update (every
    ``period_s``: :func:`_move_period_s`): the fastest speed times the period against the mean
    leg (a third of the area's longest chord, about the mean distance between two points of
    it; a block on the grid)."""
    reach_m = spec.speed_mps[1] * period_s
    if spec.model == "manhattan":
        leg_m, what, name, value = spec.block_m, "blocks", "block_m", spec.block_m
    else:
        leg_m, what, name, value = area.max_chord / 3.0, "legs", "speed_mps", spec.speed_mps[1]
        if area.max_chord == 0.0:
            return  # a point: the devices stay there
    if reach_m > MAX_LEGS_PER_UPDATE * leg_m:
        raise InputError(
            f"at {spec.speed_mps[1]:g} m/s a device covers {reach_m:g} m an update "
            f"({period_s * 1e3:g} ms), ~{reach_m / leg_m:,.0f} {what} of ~{leg_m:.3g} m: at most "
            f"{MAX_LEGS_PER_UPDATE:,} (the model walks each); give a larger area or block, or a "
            "lower speed", field=f"{field}.{name}", value=value)


def _check_mobility(s: Scenario) -> None:
    """A trace file exists and reads; a Manhattan grid has a street inside the fleet's area
    (its own, or the cells' bounding box with the margin the engine gives it); random waypoint
    and Manhattan legs are not tiny against the distance an update covers."""
    from airan.mobility import build_mobility
    from airan.mobility.models import as_area

    bounds = None
    for f in s.fleets:
        spec = f.mobility
        field = f"fleets[{f.name}].mobility"
        if spec is None or spec.model not in ("manhattan", "trace", "random_waypoint"):
            continue
        if spec.model == "random_waypoint":
            area_rw: Any = f.area
            if area_rw is None:
                if bounds is None:
                    bounds = mobility_bounds(cell_site_xy(s))
                area_rw = bounds
            _check_legs(spec, as_area(area_rw), field, _move_period_s(s, spec.update_ms))
            continue
        if spec.model == "trace":
            if not Path(spec.file).is_file():
                from airan.mobility.traces import missing_trace_reason

                raise InputError(missing_trace_reason(spec.file), field=f"{field}.file",
                                 value=spec.file)
            _check_trace(spec.model_dump_json(), spec.file, _file_stamp(spec.file), field,
                         scenario_origin(s))
            continue
        area: Any = f.area
        if area is None:
            if bounds is None:  # cells stand at their sites
                bounds = mobility_bounds(cell_site_xy(s))
            area = bounds
        _check_street_grid(as_area(area), spec.block_m, field)
        _check_legs(spec, as_area(area), field, _move_period_s(s, spec.update_ms))
        # the model itself, with no devices: it raises what it would raise in a run
        build_mobility(spec, 0, area, f.height_m, np.random.default_rng(0), field=field)


def scenario_origin(s: Scenario) -> tuple[float, float] | None:
    """The (lat, lon) of the scenario's local frame: its site list's origin (the frame its
    sites are placed in), so that a lat/lon trace lines up with them; None without one."""
    from airan.scenario.schema import imported_sites

    if s.cell_sites_file is None:
        return None
    sites = imported_sites(s.cell_sites_file)
    return float(sites.origin_lat), float(sites.origin_lon)


def mobility_bounds(cell_xy: NDArray[np.float64]) -> tuple[float, float, float, float]:
    """Where a mobile fleet without an ``area`` moves: the cells' bounding box, widened by a
    tenth of its size and at least 50 m each way (x min, x max, y min, y max)."""
    lo, hi = cell_xy.min(axis=0), cell_xy.max(axis=0)
    pad = np.maximum(0.1 * (hi - lo), 50.0)
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]),
            float(hi[1] + pad[1]))


#: The most intersections a Manhattan grid may have (~0.6 GB and ~2 s to build 9 million).
MAX_INTERSECTIONS = 10_000_000


def _check_street_grid(area: Any, block_m: float, field: str) -> None:
    """A Manhattan grid the model can hold: its intersections (multiples of ``block_m`` in x and
    in y across the area's bounding box) number at most :data:`MAX_INTERSECTIONS`."""
    def streets(lo: float, hi: float) -> float:  # as airan.mobility.models counts them
        first, last = lo / block_m - 1e-9, hi / block_m + 1e-9
        if not (math.isfinite(first) and math.isfinite(last)):
            return math.inf
        return float(max(0, math.floor(last) - math.ceil(first) + 1))

    if streets(area.xmin, area.xmax) * streets(area.ymin, area.ymax) > MAX_INTERSECTIONS:
        raise InputError(
            f"block_m {block_m:g} m makes more than {MAX_INTERSECTIONS:,} intersections in the "
            f"fleet's area (x {area.xmin:g}..{area.xmax:g} m, y {area.ymin:g}..{area.ymax:g} m)",
            field=f"{field}.block_m", value=block_m)


def _file_stamp(path: str) -> tuple[int, int]:
    st = Path(path).stat()
    return st.st_mtime_ns, st.st_size


@functools.lru_cache(maxsize=64)
def _check_trace(spec_json: str, path: str, stamp: tuple[int, int], field: str,
                 origin: tuple[float, float] | None = None
                 ) -> tuple[int, float, float, tuple[NDArray[np.float64], NDArray[np.float64]],
                            tuple[tuple[str, int], ...]]:
    """Read a trace as the engine will (once per file version, spec and origin: a sweep's runs
    share it); raises what reading it raises. Returns how many devices it holds, the highest
    height it gives (m; 0 without heights), its last sample's time (s), each device's first
    and last sample's times (s, in the order the fleet's devices take them; not to be
    changed: the cache hands out these arrays) and a SUMO FCD's devices per element."""
    from airan.mobility import TraceReplay, read_trace

    trace = read_trace(TraceReplay.model_validate_json(spec_json), path, origin=origin,
                       field=field)
    n_devices = len(trace.ids)
    far = np.flatnonzero(np.any(np.abs(np.nan_to_num(trace.xyz_m)) > 1e7, axis=1))
    if len(far):
        k = int(far[0])
        device = trace.ids[int(np.searchsorted(trace.end, k, "right"))]
        where = ", ".join(f"{a} {v:g}" for a, v in zip("xyz", trace.xyz_m[k], strict=True)
                          if np.isfinite(v))
        raise InputError(
            f"device {device!r} at t {trace.t_s[k]:g} s is at {where} m; positions lie within "
            "10,000 km (1e7 m) of the origin", file=path, field=f"{field}.file")
    z = trace.xyz_m[:, 2]
    top = float(np.max(z[np.isfinite(z)])) if np.isfinite(z).any() else 0.0
    if top > MAX_HEIGHT_M:  # (as a fleet's height_m and a waypoint's z: a diff review)
        k = int(np.nanargmax(z))
        device = trace.ids[int(np.searchsorted(trace.end, k, "right"))]
        raise InputError(
            f"device {device!r} at t {trace.t_s[k]:g} s is {top:g} m above ground; a device's "
            f"height is at most {MAX_HEIGHT_M:g} m, as a fleet's height_m", file=path,
            field=f"{field}.file")
    return (n_devices, top, float(np.max(trace.t_s)),
            (trace.t_s[trace.start], trace.t_s[trace.end - 1]), trace.kinds)


def _check_live(s: Scenario) -> None:
    """The live section names compute sites and cells the scenario has, gives each cell at most
    one gateway, and no two servers one address (gateways may share one: a shared gateway)."""
    sites = s.compute_site_names()
    for name in s.live.sites:
        if name not in sites:
            raise unknown_name("compute site", name, sites, field=f"live.sites.{name}")
    owner: dict[str, str] = {}
    for field, addr in [*((f"live.sites.{n}", a) for n, a in s.live.sites.items()),
                        *((f"live.gateways.{k}", a) for k, a in s.live.gateways.items())]:
        other = owner.get(addr)
        if other is not None and not (other.startswith("live.gateways.")
                                      and field.startswith("live.gateways.")):
            raise InputError(f"address already used by {other}", field=field, value=addr)
        owner.setdefault(addr, field)
    if not s.live.gateways:
        return
    cells = s.cell_names()
    covered: dict[str, str] = {}
    for key, its in s.live_gateway_cells().items():
        if not its:
            # (a one-sector site's cell has the site's name: each name listed once)
            raise unknown_name("cell or cell site", key,
                               list(dict.fromkeys(cells + s.cell_site_names())),
                               field=f"live.gateways.{key}")
        for c in its:
            if c in covered and s.live.gateways[covered[c]] != s.live.gateways[key]:
                raise InputError(f"cell {c!r} has two gateways: {covered[c]!r} and {key!r}",
                                 field=f"live.gateways.{key}", value=s.live.gateways[key])
            covered[c] = key


def _check_band(field: str, car: Any) -> None:
    """A listed band (TS 38.104 Table 5.2-1, 5.2-2) holds the carrier (its frequency and
    bandwidth), and its duplex mode matches the TDD pattern; a band name that is not listed
    must read as one."""
    from airan.radio import bands

    if car.band is None:
        return  # a frequency in no listed band: taken as given
    spec = bands.NR_BANDS.get(car.band)
    if spec is None:
        if not bands.is_band_name(car.band):
            raise unknown_name("NR band", car.band, bands.NR_BANDS, field=f"{field}.band")
        return  # another TS 38.104 band: loads with a warning (scenario_warnings)
    lo, hi = spec.paired_dl_mhz
    if not spec.holds(car.fc_ghz):
        fc = bands.default_fc_ghz(car.band)
        paired = ("" if spec.paired_dl_mhz == spec.dl_mhz else
                  f" with an uplink pair (of its {spec.dl_mhz[0]:g}-{spec.dl_mhz[1]:g} MHz "
                  "downlink)")
        raise InputError(f"band {car.band} carries {lo:g}-{hi:g} MHz{paired} ({spec.table}); "
                         f"give an fc_ghz inside it (omit it for {fc:g}), or the band that "
                         "holds it", field=f"{field}.fc_ghz", value=car.fc_ghz)
    if not spec.holds(car.fc_ghz, car.bandwidth_mhz):
        room = min(hi - lo, spec.ul_mhz[1] - spec.ul_mhz[0])
        raise InputError(f"a {car.bandwidth_mhz:g} MHz carrier at {car.fc_ghz:g} GHz leaves band "
                         f"{car.band} ({lo:g}-{hi:g} MHz, {spec.table}; at most {room:g} MHz "
                         "wide): a narrower carrier, or a centre further inside the band",
                         field=f"{field}.bandwidth_mhz", value=car.bandwidth_mhz)
    if spec.duplex == "FDD" and car.tdd_pattern is not None:
        raise InputError(f"band {car.band} is FDD ({spec.table}): omit tdd_pattern, "
                         "or set it to null", field=f"{field}.tdd_pattern", value=car.tdd_pattern)
    if spec.duplex == "TDD" and car.tdd_pattern is None:
        raise InputError(f"band {car.band} is TDD ({spec.table}): give a tdd_pattern "
                         "(e.g. DDDSU), or an FDD band", field=f"{field}.tdd_pattern", value=None)


def _used_carriers(s: Scenario) -> list[tuple[str, Any]]:
    """The carriers cells use, with their field paths: the scenario's serves a layout, the
    listed sites without one of their own and the sites of a cell_sites_file."""
    used = [("carrier", s.carrier)] if s.cell_layout is not None or any(
        c.carrier is None for c in s.cell_sites
    ) or s.cell_sites_file is not None else []
    return used + [(f"cell_sites[{c.name}].carrier", c.carrier) for c in s.cell_sites
                   if c.carrier]


def _check_carriers(s: Scenario) -> None:
    """Every carrier has a TS 38.101 bandwidth, and all share one numerology and TDD pattern."""
    from airan.radio import nr

    used = _used_carriers(s)
    for field, car in used:
        if s.radio.model == "nr":  # (the ideal and fixed radios have no band or slots)
            _check_band(field, car)
        # TS 38.101-1 5.3.5 / 38.101-2 5.3.5: FR1 data SCS 15-60 kHz, FR2 60-120 kHz (and more)
        if car.fc_ghz <= 7.125 and car.numerology > 2:
            raise InputError(f"an FR1 carrier ({car.fc_ghz:g} GHz) uses numerology 0-2 "
                             "(15, 30 or 60 kHz)", field=f"{field}.numerology",
                             value=car.numerology)
        if car.fc_ghz >= 24.25 and car.numerology < 2:
            raise InputError(f"an FR2 carrier ({car.fc_ghz:g} GHz) uses numerology 2 or more "
                             "(60 kHz and up)", field=f"{field}.numerology",
                             value=car.numerology)
        if car.ul_layers > s.radio.gnb_rx_antennas:  # a receiver separates at most N streams
            raise InputError(f"more uplink layers than the cell's {s.radio.gnb_rx_antennas} "
                             "receive antennas (radio.gnb_rx_antennas)",
                             field=f"{field}.ul_layers", value=car.ul_layers)
        if car.dl_layers > s.radio.gnb_tx_antennas:  # a precoder forms at most N streams
            raise InputError(f"more downlink layers than the cell's {s.radio.gnb_tx_antennas} "
                             "transmit antennas (radio.gnb_tx_antennas)",
                             field=f"{field}.dl_layers", value=car.dl_layers)
        try:
            nr.n_prb(car.bandwidth_mhz, car.numerology, nr.is_fr2(car.fc_ghz))
        except ValueError as exc:
            raise InputError(str(exc), field=f"{field}.bandwidth_mhz",
                             value=car.bandwidth_mhz) from None
    first_field, first = used[0] if used else ("carrier", s.carrier)
    for field, car in used[1:]:
        if (car.numerology, car.tdd_pattern) != (first.numerology, first.tdd_pattern):
            raise InputError(_mixed_carriers(first_field, first, car), field=field,
                             value=f"numerology {car.numerology}, "
                             f"{car.tdd_pattern or 'FDD (no TDD pattern)'}")


def _mixed_carriers(first_field: str, first: Any, car: Any) -> str:
    """Why two carriers cannot be in one scenario: the engine runs one slot grid, one
    numerology and one TDD pattern (or FDD), for every cell (a rural co-op's review: an n28
    FDD coverage layer beside n78 TDD on the same masts was refused as '(1, None)')."""
    def name(c: Any) -> str:
        return (f"{c.band or f'{c.fc_ghz:g} GHz'} "
                f"({c.tdd_pattern + ' TDD' if c.tdd_pattern else 'FDD'}, "
                f"{15 * 2 ** c.numerology} kHz)")

    fdd_mix = (first.tdd_pattern is None) != (car.tdd_pattern is None)
    why = ("an FDD carrier and a TDD one" if fdd_mix
           else "two subcarrier spacings" if first.numerology != car.numerology
           else "two TDD patterns")
    return (f"{why} in one scenario ({first_field} is {name(first)}, this one {name(car)}): "
            "every cell runs on one slot grid, one numerology and one TDD pattern or FDD (a "
            "synchronized network), so "
            + ("an FDD coverage layer beside a TDD capacity layer is" if fdd_mix else
               "layers of two spacings or patterns are")
            + " not modelled together; run each layer as a scenario of its own, or give the "
            "cells one carrier's numerology and pattern")


def _unused_los_warnings(s: Scenario, label: str | None) -> list[str]:
    """radio.los and InF's clutter where nothing reads them (a diff review: both were ignored
    silently): the ideal and fixed radios have no path loss, and the clutter sets only InF's
    LOS probability (TR 38.901 Table 7.4.2-1), which a fixed LOS state replaces."""
    r = s.radio
    out = []
    if r.model != "nr" and r.los != "model":
        out.append(str(InputError(
            f"the LOS state sets the nr radio's path loss; the {r.model} radio has none: it is "
            "ignored", file=label, field="radio.los", value=r.los)))
    for name in ("clutter_density", "clutter_height_m"):
        value = getattr(r, name)
        if value is None:
            continue
        if r.model != "nr":
            why = (f"the clutter sets InF's LOS probability (TR 38.901 Table 7.4.2-1); the "
                   f"{r.model} radio has no path loss: it is ignored")
        elif not r.environment.startswith("inf"):
            why = (f"the clutter sets the LOS probability of InF (TR 38.901 Table 7.4.2-1); "
                   f"{r.environment} has its own, without it: it is ignored")
        elif r.los != "model" and name == "clutter_density":
            why = (f"the clutter sets InF's LOS probability (TR 38.901 Table 7.4.2-1), which "
                   f"los: {r.los} replaces: it is ignored")
        else:
            continue
        out.append(str(InputError(why, file=label, field=f"radio.{name}", value=value)))
    return out


def _check_clutter(s: Scenario) -> None:
    """InF with a high BS (SH, DH) needs every cell above the clutter (TR 38.901 Table 7.2-4)."""
    from airan.radio.pathloss import INF_CLUTTER

    env = s.radio.environment
    if s.radio.model != "nr" or env not in ("inf-sh", "inf-dh"):
        return
    hc = s.radio.clutter_height_m
    hc = INF_CLUTTER[env][1] if hc is None else hc
    for field, h in _cell_heights(s):  # (a site list's heights too)
        if h <= hc:
            raise InputError(
                f"{env} (high BS) needs every cell above the clutter, {hc:g} m "
                f"(radio.clutter_height_m); use inf-sl/inf-dl for a BS below the clutter",
                field=field, value=h)


def _cell_heights(s: Scenario) -> list[tuple[str, float]]:
    """(field path, height) of every written cell site, of the layout and of the imported
    sites (at the environment's TR 38.901 height, airan.engine.world)."""
    from airan.radio.pathloss import BS_HEIGHT_M

    out = [(f"cell_sites[{c.name}].height_m", c.height_m) for c in s.cell_sites]
    if s.cell_layout is not None:
        out.append(("cell_layout.height_m", s.cell_layout.height_m))
    if s.cell_sites_file is not None:
        from airan.scenario.schema import imported_sites

        listed = imported_sites(s.cell_sites_file)
        given = (listed.height_m if listed.height_m is not None
                 else np.full(len(listed), np.nan))
        default = BS_HEIGHT_M[s.radio.environment]  # (one entry a site: warnings count them)
        out += [("cell_sites_file.height", float(h)) if math.isfinite(h) else
                ("cell_sites_file", default) for h in given.tolist()]
    return out


#: device classes that usually work inside buildings (assumption: factory and warehouse robots,
#: as the built-in factory's), taken outdoors under outdoor cells unless a fleet says where
USUALLY_INDOORS = ("amr", "robot-arm", "humanoid")
#: the outdoor environments' names as TR 38.901 writes them
_ENV_NAME = {"uma": "UMa", "umi": "UMi", "rma": "RMa"}


def _lone_priority_warnings(s: Scenario, label: str | None) -> list[str]:
    """A service whose ``compute_priority`` orders nothing: no other service of another
    priority shares its model's queue (the same catalog model, neither with a
    ``service_time`` of its own, which gives a service a queue of its own). Priority orders
    one model's queue; models wait only for their own instances (a port terminal's review:
    cranes' yolov8m at priority 1 beside vehicles' yolov8s at 2, silently unordered)."""
    def queue(v: Any) -> tuple[str, str | None]:
        return (v.model, v.name if v.service_time is not None else None)

    if all(v.compute_priority is None for v in s.services):
        return []
    # (the services some fleet with devices runs: one that none runs orders nothing)
    sent = [v for v in s.services if any(f.count and v.name in f.services for f in s.fleets)]
    out = []
    for v in sent:
        if v.compute_priority is None:
            continue
        mine = v.compute_priority
        if any(u is not v and queue(u) == queue(v) and (u.compute_priority or 16) != mine
               for u in sent):
            continue
        own = " (its service_time gives it a queue of its own)" if v.service_time else ""
        out.append(str(InputError(
            f"compute_priority {mine} orders nothing: no service of another priority shares "
            f"its model's queue ({v.model}{own}); priority orders the requests of one model's "
            "queue, and models wait only for their own instances (a GPU runs different "
            "models' batches at once, sharing it equally)",
            file=label, field=f"services[{v.name}].compute_priority", value=mine)))
    return out


def _used_points(f: Any) -> NDArray[np.float64]:
    """The points of a fleet at given points that its devices stand at (device i at point i
    mod n: all of them, or the first ``count``)."""
    pts = np.asarray(f.area.positions_m, dtype=float)
    return pts[: min(len(pts), max(int(f.count), 1))]


def _points_warnings(s: Scenario, label: str | None) -> list[str]:
    """A fleet at given points whose count is not their number: device i stands at point i
    mod n, so more devices share points, and fewer leave the last points empty."""
    out = []
    for f in s.fleets:
        points = getattr(f.area, "positions_m", None)
        if points is None or not f.count or f.count == len(points):
            continue
        n = len(points)
        why = (f"device i stands at point i mod {n:,}, so up to {-(-f.count // n):,} share a "
               "point (give a point for each device to spread them)" if f.count > n else
               f"its devices take the first {f.count:,}, and the last {n - f.count:,} stand "
               "empty")
        out.append(str(InputError(f"{f.count:,} devices at {n:,} points: {why}", file=label,
                                  field=f"fleets[{f.name}].count", value=f.count)))
    return out


def _qos_warnings(s: Scenario, label: str | None) -> list[str]:
    """A 5QI or QoS priority level that weighs nothing: under a radio without schedulers (ideal,
    fixed), or where every service the fleets run has the same priority level on the air."""
    from airan.radio.qos import priority_level

    given = [v for v in s.services if v.five_qi is not None or v.qos_priority_level is not None]
    if not given:
        return []
    v = given[0]
    key, value = (("qos_priority_level", v.qos_priority_level) if v.qos_priority_level
                  is not None else ("five_qi", v.five_qi))
    field = f"services[{v.name}].{key}"
    if s.radio.model != "nr":
        return [str(InputError(
            f"a 5QI's priority weighs devices in the nr radio's cell schedulers; the "
            f"{s.radio.model} radio has none, and it orders nothing", file=label, field=field,
            value=value))]
    run = {name for f in s.fleets if f.count for name in f.services}
    out = _qos_burst_warnings(s, label)
    levels = {priority_level(x.five_qi, x.qos_priority_level) for x in s.services
              if x.name in run}
    if len(levels) == 1:
        return out + [str(InputError(
            f"every service the fleets run has priority level {levels.pop()} on the air (a "
            "service without five_qi or qos_priority_level: 90, the default bearer's 5QI 9), "
            "so the schedulers weigh them alike", file=label, field=field, value=value))]
    return out + _qos_buffer_warnings(s, label)


def _qos_burst_warnings(s: Scenario, label: str | None) -> list[str]:
    """A service on a delay-critical GBR 5QI whose uploads or answers are larger than the
    5QI's maximum data burst volume (TS 23.501 5.7.3.7, Table 5.7.4-1): the delay budget holds
    for bursts up to it only, and a core network would not carry camera frames on it."""
    from airan.radio.qos import STANDARDIZED_5QI

    out = []
    for v in s.services:
        q = STANDARDIZED_5QI.get(v.five_qi) if v.five_qi is not None else None
        if q is None or q.max_burst_bytes is None:
            continue
        big = max(v.ul_largest_kb, v.dl_largest_kb) * 1e3  # (a spread's largest payloads)
        up_to = (v.ul_kb_spread if v.ul_largest_kb >= v.dl_largest_kb  # (the larger one's)
                 else v.dl_kb_spread) is not None
        if big > q.max_burst_bytes:
            # the delay-critical 5QIs whose burst volume carries it (a stadium planner's
            # review: 5QI 89's 17,000 B against a 62,500 B XR frame named 80, where 90's
            # 63,000 B is the row for it)
            fits = sorted((k for k, x in STANDARDIZED_5QI.items()
                           if x.max_burst_bytes is not None and x.max_burst_bytes >= big),
                          key=lambda k: STANDARDIZED_5QI[k].delay_budget_ms)
            other = "".join(
                f"{k} ({STANDARDIZED_5QI[k].max_burst_bytes:,} B in "
                f"{STANDARDIZED_5QI[k].delay_budget_ms:g} ms, level "
                f"{STANDARDIZED_5QI[k].priority_level}), " for k in fits)
            out.append(str(InputError(
                f"5QI {v.five_qi} ({q.example}) carries bursts of at most "
                f"{q.max_burst_bytes:,} bytes within its {q.delay_budget_ms:g} ms delay budget "
                f"(its maximum data burst volume, TS 23.501 Table 5.7.4-1), and this service "
                f"sends {'up to ' if up_to else ''}{big:,.0f}: a core "
                "network would not carry it there. The twin weighs "
                "it all the same; "
                f"{'a delay-critical 5QI whose burst it fits, ' + other if fits else ''}"
                "a 5QI without a burst limit (80: low-latency eMBB, level 68), or "
                "qos_priority_level, says what a network would give it",
                file=label, field=f"services[{v.name}].five_qi", value=v.five_qi)))
    return out


def _qos_buffer_warnings(s: Scenario, label: str | None) -> list[str]:
    """A fleet running services of different QoS priority levels whose ``ul_priority`` does not
    order its devices' buffers as the levels do: the schedulers weigh a device by the request
    at the head of its buffer, so a lower level's upload there holds an urgent one back twice,
    behind it and at its weight. In NR each 5QI rides a DRB of its own, its logical channel's
    priority set from the 5QI's (TS 38.331 LogicalChannelConfig)."""
    from airan.radio.qos import priority_level

    svc = {v.name: v for v in s.services}
    out = []
    for f in s.fleets:
        if not f.count:
            continue
        runs = [svc[n] for n in f.services]
        for a in runs:
            for b in runs:
                la = priority_level(a.five_qi, a.qos_priority_level)
                lb = priority_level(b.five_qi, b.qos_priority_level)
                ua = 16 if a.ul_priority is None else a.ul_priority
                ub = 16 if b.ul_priority is None else b.ul_priority
                if la < lb and ua >= ub:
                    out.append(str(InputError(
                        f"its devices also run {b.name!r} at QoS priority level {lb}, below "
                        f"this one's {la}, and their uplink buffers do not put this service's "
                        f"uploads first (ul_priority {ua} against {ub}): the cell weighs a "
                        "device by the upload at the head of its buffer, so one of "
                        f"{b.name!r}'s there holds this one back, at {b.name!r}'s weight; "
                        f"give this service a lower ul_priority than {b.name!r}'s (in NR each "
                        "5QI rides a bearer of its own, its priority set from the 5QI's)",
                        file=label, field=f"fleets[{f.name}].services", value=a.name)))
    return out


def _indoor_class_warnings(s: Scenario, label: str | None) -> list[str]:
    """Fleets of a class in :data:`USUALLY_INDOORS` under outdoor cells (UMa, UMi, RMa; nr radio)
    that do not give their ``penetration``: the twin takes them outdoors, where inside a
    building every link loses TR 38.901 7.4.3's O2I loss (~17 dB low-loss, ~31 high-loss at
    3.5 GHz); ``penetration: none`` written says they are outdoors."""
    if s.radio.model != "nr" or s.radio.environment not in ("uma", "umi", "rma"):
        return []
    return [str(InputError(
        f"a device of class {f.device_class!r} usually works indoors, and "
        f"{ {'uma': 'UMa', 'umi': 'UMi', 'rma': 'RMa'}[s.radio.environment]}'s cells are "
        "outdoors: its "
        "devices are taken outdoors; "
        "inside a building, 'low-loss' or 'high-loss' (TR 38.901 7.4.3), else 'none' to say "
        "so", file=label, field=f"fleets[{f.name}].penetration"))
        for f in s.fleets
        if f.device_class in USUALLY_INDOORS and "penetration" not in f.model_fields_set]


def _check_penetration(s: Scenario) -> None:
    """A building's or a car's penetration loss (TR 38.901 7.4.3) is for devices inside, served
    by outdoor cells: an indoor environment's cells (InH, InF) already serve them in the room."""
    env = s.radio.environment
    for f in s.fleets:
        if f.penetration != "none" and s.radio.model != "nr":
            raise InputError(f"a penetration loss needs the nr radio's path loss: model "
                             f"{s.radio.model!r} has none to add it to (remove it, or set "
                             "radio.model: nr)", field=f"fleets[{f.name}].penetration",
                             value=f.penetration)
    if env == "rma":  # (TR 38.901 7.4.3.1: "only the low-loss model is applicable to RMa")
        for f in s.fleets:
            if f.penetration == "high-loss":
                raise InputError("TR 38.901 7.4.3.1 gives RMa's buildings the low-loss O2I "
                                 "model only: use 'low-loss' (or 'car', 'none')",
                                 field=f"fleets[{f.name}].penetration", value=f.penetration)
    if env in ("uma", "umi", "rma"):
        return
    for f in s.fleets:
        if f.penetration != "none":
            raise InputError(
                f"TR 38.901's O2I and in-car losses are for devices inside, served by outdoor "
                f"cells (UMa, UMi, RMa); radio.environment {env}'s cells are indoors with the "
                "devices (use 'none')", field=f"fleets[{f.name}].penetration",
                value=f.penetration)


def _check_bs_height(s: Scenario) -> None:
    """UMa/UMi: a cell at or below 1.5 m, the lowest UE height the formulas take (every UE is
    taken at least that high), collapses the breakpoint distance d'BP = 4 (hBS - 1)(hUT - 1)
    fc / c (TR 38.901 Table 7.4.1-1 Note 1) towards 0, and every LOS link falls on PL2: tens of
    dB more than free space (UMi, hBS 1 m, 50 m at 3.5 GHz: 117 dB, free space 77 dB)."""
    from airan.radio.pathloss import BS_HEIGHT_M, RMA_UT_HEIGHT_RANGE_M, UT_HEIGHT_RANGE_M

    env = s.radio.environment
    if s.radio.model != "nr" or env not in ("uma", "umi", "rma"):
        return
    low = (RMA_UT_HEIGHT_RANGE_M if env == "rma" else UT_HEIGHT_RANGE_M)[0]
    for field, h in _cell_heights(s):
        if h <= low:
            raise InputError(
                f"{_ENV_NAME.get(env, env)}'s path loss needs the cell above the UE ({low:g} m "
                "at the lowest" + ("" if env == "rma" else
                            ", and above the 1 m effective environment height")
                + f"): at {h:g} m its breakpoint distance collapses and the path loss gains "
                f"tens of dB (TR 38.901 Table 7.4.1-1 assumes hBS = {BS_HEIGHT_M[env]:g} m)",
                field=field, value=h)


def _bs_height_warnings(s: Scenario, label: str | None) -> list[str]:
    """UMa/UMi cells at another height than TR 38.901's (Table 7.4.1-1 gives the formulas for
    hBS 25 m and 10 m alone), RMa cells outside its formulas' range (10-150 m), and fleets at
    or above a cell (see :func:`scenario_warnings`)."""
    from airan.radio.pathloss import BS_HEIGHT_M, RMA_UT_HEIGHT_RANGE_M, UT_HEIGHT_RANGE_M

    env = s.radio.environment
    if s.radio.model != "nr" or env not in ("uma", "umi", "rma"):
        return []
    tr = BS_HEIGHT_M[env]
    out = []
    heights = _cell_heights(s)
    off = [(f, h) for f, h in heights if (not 10.0 <= h <= 150.0 if env == "rma" else h != tr)]
    if off:
        field, h = off[0]
        more = f" (and {len(off) - 1} more cell sites)" if len(off) > 1 else ""
        given = ("for cells at hBS 10-150 m" if env == "rma" else
                 f"for cells at hBS = {tr:g} m")
        out.append(str(InputError(
            f"TR 38.901's {_ENV_NAME.get(env, env)} path loss is given {given} (Table 7.4.1-1); at "
            f"{h:g} m it is extrapolated{more}", file=label, field=field, value=h)))
    ground = RMA_UT_HEIGHT_RANGE_M if env == "rma" else UT_HEIGHT_RANGE_M
    if heights:
        lowest_field, lowest = min(heights, key=lambda fh: fh[1])
        for f in s.fleets:
            if f.mobility is not None and f.mobility.model == "waypoints":
                continue  # (its paths' heights, not height_m)
            at_points = getattr(f.area, "heights_m", None)  # (a fleet at points: its own)
            own: list[tuple[str, float]] = (
                [(f"fleets[{f.name}].area.heights_m", float(h)) for h in at_points]
                if at_points else [(f"fleets[{f.name}].height_m", float(f.height_m))])
            # (an aerial UE flies above the cells: TR 36.777's formulas mean it)
            high = [(fld, h, max(h, float(ground[0]))) for fld, h in own
                    if lowest <= max(h, float(ground[0])) <= ground[1]]
            if f.count and high:
                fld, h, hut = max(high, key=lambda x: x[2])
                out.append(str(InputError(
                    f"these devices (taken at {hut:g} m) are at or above the cell of "
                    f"{lowest_field} ({lowest:g} m): TR 38.901's {_ENV_NAME.get(env, env)} path "
                    "loss assumes the cell above the UE, and its breakpoint distance and (hBS - "
                    "hUT) term lose their meaning", file=label, field=fld, value=h)))
    return out


def _unique(names: list[str], field: str, written: int | None = None, how: str = "") -> None:
    """No name twice in ``names``; those past the first ``written`` are generated (``how``
    says how), which the message says when one of them repeats a written name."""
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            made = (f" (written once: {how}, and one of those is {n!r})"
                    if written is not None and i >= written and how else "")
            raise InputError(f"duplicate name {n!r}{made}", field=field, value=n)
        seen.add(n)
