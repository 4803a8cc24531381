"""Load a scenario from a built-in name or a YAML path, with one clear error per bad input."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from airan.errors import InputError, unknown_name
from airan.scenario.schema import Scenario

_BUILTIN_PACKAGE = "airan.scenario.builtin"


def builtin_scenarios() -> dict[str, str]:
    """Built-in scenario names and their one-line descriptions."""
    out: dict[str, str] = {}
    for entry in sorted(resources.files(_BUILTIN_PACKAGE).iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            data = yaml.safe_load(entry.read_text())
            out[entry.name[:-5]] = str(data.get("description", "")).strip().splitlines()[0]
    return out


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error (YAML
    forbids it; PyYAML would silently keep the last one)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # '<<': merged keys may be overridden
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            first = seen.setdefault(key, key_node.start_mark.line + 1)
        except TypeError:  # an unhashable key: PyYAML's own constructor reports it
            continue
        if first != key_node.start_mark.line + 1:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} given twice (first at line {first})",
                key_node.start_mark)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def load_yaml(text: str) -> Any:
    """Parse YAML safely, rejecting duplicate keys (raises ``yaml.YAMLError``)."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506  (a SafeLoader subclass)


def load_scenario(path_or_name: str | Path) -> Scenario:
    """A validated :class:`Scenario` from a built-in name (``factory``) or a YAML file path.

    Raises :class:`InputError` naming the file, the field path and the bad value.
    """
    text, label = _read(path_or_name)
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"malformed YAML{where}: {problem}", file=label) from None
    if not isinstance(data, dict):
        raise InputError("a scenario must be a YAML mapping (key: value)", file=label)
    _resolve_files(data, Path(label).parent if Path(label).is_file() else None)
    return scenario_from_dict(data, label=label)


def _resolve_files(data: dict[str, Any], base: Path | None) -> None:
    """Files a scenario names (site lists, mobility traces), relative to the scenario's folder."""
    if base is None:
        return
    refs = [data.get("cell_sites_file")]
    refs += [f.get("mobility") for f in data.get("fleets") or [] if isinstance(f, dict)]
    for ref in refs:
        key = "path" if ref is data.get("cell_sites_file") else "file"
        if isinstance(ref, dict) and isinstance(ref.get(key), str):
            p = Path(ref[key])
            if not p.is_absolute():
                ref[key] = str(base / p)


def scenario_from_dict(data: dict[str, Any], *, label: str = "<scenario>") -> Scenario:
    """Validate a scenario given as a dict (the parsed YAML)."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc, data, label) from None
    try:
        check_references(scenario)
    except InputError as exc:
        raise exc.with_file(label) from None
    return scenario


def _read(path_or_name: str | Path) -> tuple[str, str]:
    name = str(path_or_name)
    builtins = builtin_scenarios()
    if name in builtins:
        res = resources.files(_BUILTIN_PACKAGE).joinpath(f"{name}.yaml")
        return res.read_text(), f"{name} (built-in)"
    path = Path(name)
    if path.suffix.lower() not in (".yaml", ".yml") and not path.exists():
        raise unknown_name("scenario", name, builtins, field="SCENARIO")
    if not path.exists():
        raise InputError("file not found", file=name)
    if not path.is_file():
        raise InputError("not a file", file=name)
    try:
        return path.read_text(), name
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file: {exc}", file=name) from None


def _first_error(exc: ValidationError, data: Any, label: str) -> InputError:
    err = exc.errors(include_url=False)[0]
    loc = err["loc"]
    field = _field_path(loc, data)
    value = err.get("input")
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1], data)
        key = str(loc[-1])
        return (
            InputError(
                f"unknown field {key!r}", file=label, field=field, value=key, choices=allowed
            )
            if allowed
            else InputError(f"unknown field {key!r}", file=label, field=field)
        )
    if err["type"] == "missing":
        return InputError("required field is missing", file=label, field=field)
    if isinstance(value, dict | list):
        value = None
    return InputError(msg, file=label, field=field, value=value)


def _field_path(loc: tuple[Any, ...], data: Any) -> str:
    """A readable field path: ``services[detect].rate_hz`` (list items named by their name)."""
    text = ""
    node = data
    for key in loc:
        if isinstance(key, int):
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
    from pydantic import BaseModel

    model: Any = Scenario
    for key in loc:
        if isinstance(key, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(str(key))
        if field is None:
            return None
        model = _inner_model(field.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
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


def check_references(s: Scenario) -> None:
    """Names that must refer to something: GPUs, models, services, nodes, sites, policies."""
    from airan.catalog import load_gpus, load_models
    from airan.policy import is_known_policy, policy_names

    gpus = load_gpus()
    models = load_models()
    _unique([c.name for c in s.cell_sites], "cell_sites")
    _unique([n.name for n in s.nodes], "nodes")
    site_names = [c.name for c in s.compute_sites]
    if s.generated_compute_sites is not None:  # named gpu-<cell site>, every n-th cell site
        site_names += [f"gpu-{n}" for n in s.cell_site_names()[::s.generated_compute_sites.every]]
    _unique(site_names, "compute_sites")
    _unique([f.name for f in s.fleets], "fleets")
    _unique([v.name for v in s.services], "services")
    nodes = s.node_names()
    _unique(nodes, "cell_sites/nodes")
    if s.radio.model == "nr" and not nodes[: len(nodes) - len(s.nodes)]:
        raise InputError("the nr radio needs at least one cell site", field="cell_sites")
    if not s.cell_site_names():
        raise InputError("at least one cell site is needed", field="cell_sites")
    _check_carriers(s)
    _check_clutter(s)
    service_names = [v.name for v in s.services]
    for v in s.services:
        if v.model not in models:
            raise unknown_name("model", v.model, models, field=f"services[{v.name}].model")
        if (
            v.service_time is None
            and models[v.model].service_time_ms is None
            and not models[v.model].gflops
        ):
            raise InputError(
                "model has neither FLOPs nor a service time", field=f"services[{v.name}].model"
            )
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
    for i, link in enumerate(s.transport.links):
        for end in ("a", "b"):
            name = getattr(link, end)
            if name not in nodes:
                raise unknown_name("node", name, nodes, field=f"transport.links[{i}].{end}")
        if link.a == link.b:
            raise InputError(
                "a link must join two different nodes", field=f"transport.links[{i}]", value=link.a
            )
    if s.transport.backhaul is not None and s.transport.backhaul.to not in nodes:
        raise unknown_name("node", s.transport.backhaul.to, nodes, field="transport.backhaul.to")
    if not is_known_policy(s.policy):
        raise unknown_name("policy", s.policy, policy_names(), field="policy")
    _check_faults(s, nodes)
    _check_live(s)
    for i, f in enumerate(s.fleets):
        trace = getattr(f.mobility, "file", None)
        if trace is not None and not Path(trace).is_file():
            raise InputError("trace file not found", field=f"fleets[{i}].mobility.file",
                             value=trace)
    if not s.compute_sites and s.generated_compute_sites is None:
        # Everything runs on the devices: allowed, but only the local policy makes sense.
        pass


def _check_faults(s: Scenario, nodes: list[str]) -> None:
    """Fault targets that name what the scenario has (the engine checks GPU counts and links
    made by the backhaul rule when it builds the world)."""
    if not s.faults:
        return
    cell_sites = s.cell_site_names()
    sites = [c.name for c in s.compute_sites]
    if s.generated_compute_sites is not None:
        sites += [f"gpu-{name}" for name in cell_sites[:: s.generated_compute_sites.every]]
    fleets = [f.name for f in s.fleets]
    for i, f in enumerate(s.faults):
        where = f"faults[{i}]"
        if f.site is not None and f.kind in ("site_down", "gpu_down") and f.site not in sites:
            raise unknown_name("compute site", f.site, sites, field=f"{where}.site")
        if f.link is not None and f.kind in ("link_down", "link_degraded"):
            for end in f.link:
                if end not in nodes:
                    raise unknown_name("node", end, nodes, field=f"{where}.link")
        if f.cell is not None and f.kind == "cell_down" and f.cell.split("/")[0] not in cell_sites:
            raise unknown_name("cell or cell site", f.cell, cell_sites, field=f"{where}.cell")
        if f.fleet is not None and f.kind == "surge" and f.fleet not in fleets:
            raise unknown_name("fleet", f.fleet, fleets, field=f"{where}.fleet")


def _check_live(s: Scenario) -> None:
    """The live section names compute sites and cells the scenario has, gives each cell at most
    one gateway, and no two servers one address (gateways may share one: a shared gateway)."""
    sites = [c.name for c in s.compute_sites]
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
            raise unknown_name("cell or cell site", key, cells + s.cell_site_names(),
                               field=f"live.gateways.{key}")
        for c in its:
            if c in covered and s.live.gateways[covered[c]] != s.live.gateways[key]:
                raise InputError(f"cell {c!r} has two gateways: {covered[c]!r} and {key!r}",
                                 field=f"live.gateways.{key}", value=s.live.gateways[key])
            covered[c] = key


def _check_carriers(s: Scenario) -> None:
    """Every carrier has a TS 38.101 bandwidth, and all share one numerology and TDD pattern."""
    from airan.radio import nr

    used = [("carrier", s.carrier)] if s.cell_layout is not None or any(
        c.carrier is None for c in s.cell_sites
    ) else []
    used += [(f"cell_sites[{c.name}].carrier", c.carrier) for c in s.cell_sites if c.carrier]
    for field, car in used:
        # TS 38.101-1 5.3.5 / 38.101-2 5.3.5: FR1 data SCS 15-60 kHz, FR2 60-120 kHz (and more)
        if car.fc_ghz <= 7.125 and car.numerology > 2:
            raise InputError(f"an FR1 carrier ({car.fc_ghz:g} GHz) uses numerology 0-2 "
                             "(15, 30 or 60 kHz)", field=f"{field}.numerology",
                             value=car.numerology)
        if car.fc_ghz >= 24.25 and car.numerology < 2:
            raise InputError(f"an FR2 carrier ({car.fc_ghz:g} GHz) uses numerology 2 or more "
                             "(60 kHz and up)", field=f"{field}.numerology",
                             value=car.numerology)
        try:
            nr.n_prb(car.bandwidth_mhz, car.numerology)
        except ValueError as exc:
            raise InputError(str(exc), field=f"{field}.bandwidth_mhz",
                             value=car.bandwidth_mhz) from None
    first_field, first = used[0] if used else ("carrier", s.carrier)
    for field, car in used[1:]:
        if (car.numerology, car.tdd_pattern) != (first.numerology, first.tdd_pattern):
            raise InputError(
                f"all cells must share one numerology and TDD pattern (a synchronized TDD "
                f"network); {first_field} has ({first.numerology}, {first.tdd_pattern})",
                field=field, value=f"({car.numerology}, {car.tdd_pattern})",
            )


def _check_clutter(s: Scenario) -> None:
    """InF with a high BS (SH, DH) needs every cell above the clutter (TR 38.901 Table 7.2-4)."""
    from airan.radio.pathloss import INF_CLUTTER

    env = s.radio.environment
    if s.radio.model != "nr" or env not in ("inf-sh", "inf-dh"):
        return
    hc = s.radio.clutter_height_m
    hc = INF_CLUTTER[env][1] if hc is None else hc
    heights = [(f"cell_sites[{c.name}].height_m", c.height_m) for c in s.cell_sites]
    if s.cell_layout is not None:
        heights.append(("cell_layout.height_m", s.cell_layout.height_m))
    for field, h in heights:
        if h <= hc:
            raise InputError(
                f"{env} (high BS) needs every cell above the clutter, {hc:g} m "
                f"(radio.clutter_height_m); use inf-sl/inf-dl for a BS below the clutter",
                field=field, value=h)


def _unique(names: list[str], field: str) -> None:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise InputError(f"duplicate name {n!r}", field=field, value=n)
        seen.add(n)
