"""A run folder on disk: write a :class:`~airan.engine.Result`, read it back for reports.

Layout of a run folder::

    summary.json        the run's summary (written last: its presence marks a complete run)
    requests.parquet    the sampled per-request trace (times in ms)
    timeseries.parquet  per compute site and sample window: GPU utilization, mean queue
    cell_timeseries.parquet  per cell and sample window (the same windows): PRB utilization
                        up and down, as cells.parquet's over the run (not under the ideal or
                        fixed radio)
    cells.parquet       per cell: position (m; lat/lon too where the sites come from a
                        latitude/longitude list), PRB utilization (the simulated devices'
                        PRBs only, not the background traffic of ai_ran.traffic), attached
                        devices
    devices.parquet     per device: position (m; lat/lon as cells'), fleet, serving cell,
                        geometry SINR (dB), uplink SINR and rate, building or car
                        penetration loss (dB)
    scenario.yaml       the scenario as run (after --fleet-scale), to reproduce it
    report.html         the report (built from the files above; ``airan report`` rebuilds it)
    figures/            the report's figures as PNG and SVG
    trace.json          a Chrome / Perfetto trace, when ``airan trace`` wrote one

Writing a run into a folder removes these last three (of an earlier run) first.

Readers read only the columns they need, so a run of millions of traced requests stays cheap.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from airan.errors import InputError

if TYPE_CHECKING:
    from airan.engine import Result

SUMMARY = "summary.json"
SCENARIO = "scenario.yaml"
TABLES = ("requests", "timeseries", "cell_timeseries", "cells", "devices")
REQUIRED_TABLES = ("timeseries", "cells", "devices")  # what a report needs besides the summary


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars/arrays turned into Python values and NaN/inf into None."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    return str(obj)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A new empty file next to ``path`` to write; it replaces ``path`` when the block succeeds.

    The file is created with mode 0666 less the umask (and any default ACL), as a plain
    ``open(path, "w")`` would, not 0600 like :func:`tempfile.mkstemp`: a run folder's files stay
    readable by whoever may read the folder. On an error the temporary file is removed.
    """
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        break
    else:  # pragma: no cover - 100 collisions of 48 random bits
        raise FileExistsError(f"cannot create a temporary file next to {path}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and ``os.replace``."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` through a temporary file and ``os.replace``."""
    write_text_atomic(path, json.dumps(jsonable(data), indent=2) + "\n")


#: What airan writes into a run folder besides the tables and the summary (``airan report``,
#: ``airan trace``): removed before a run is written there, so no file of an earlier run stays
#: beside the new one (figures of a service the new run lacks, a trace of the old requests).
REPORT_FILES = ("report.html", "trace.json")
CALIBRATED = "calibrated.yaml"  # `airan calibrate RUN`'s scenario, from a live run's compute
FIGURE_PATTERNS = ("latency_cdf_*", "latency_breakdown", "site_load", "cell_load", "map",
                   "drops")
FIGURE_SUFFIXES = (".png", ".svg")


def remove_outputs(path: Path) -> None:
    """Remove from run folder ``path`` the report, the trace export, the report's figures and
    the scenario calibrated from it (only the names airan writes; the figures folder too if
    that leaves it empty)."""
    for name in (*REPORT_FILES, CALIBRATED):
        (path / name).unlink(missing_ok=True)
    figures = path / "figures"
    if not figures.is_dir():
        return
    for pattern in FIGURE_PATTERNS:
        for suffix in FIGURE_SUFFIXES:
            for file in figures.glob(pattern + suffix):
                if file.is_file():
                    file.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        figures.rmdir()  # only if empty: a user's own files stay


def scenario_document(scenario: Any) -> dict[str, Any]:
    """``scenario`` (a :class:`~airan.scenario.Scenario`) as the dict a run folder's
    scenario.yaml holds, with every file it names (``cell_sites_file.path``, a fleet's
    ``mobility.file``) made absolute: the loader resolved a relative one against the scenario
    file's folder (relative to the working directory), and the copy in the run folder must
    find the same file from wherever it is run."""
    data: dict[str, Any] = scenario.model_dump(mode="json")
    refs = [(data.get("cell_sites_file"), "path")]
    refs += [(f.get("mobility"), "file") for f in data.get("fleets") or [] if isinstance(f, dict)]
    for ref, key in refs:
        if isinstance(ref, dict) and isinstance(ref.get(key), str) and ref[key]:
            ref[key] = os.path.abspath(ref[key])
    return data


#: The first words of a run folder's scenario.yaml whose run's policy the file cannot name
#: (a function of a script or notebook): ``airan run`` warns when it runs such a file.
POLICY_NOT_KEPT = "# airan: this run's policy was the function"
#: The first words of a run folder's scenario.yaml whose run scaled its fleets (--fleet-scale)
SCALED_COUNTS = "# airan: the fleets' counts below are the run's, --fleet-scale"


def scenario_yaml(scenario: Any, ran_policy: str | None = None,
                  fleet_scale: float | None = None) -> str:
    """The YAML text of :func:`scenario_document`; where the run's policy ``ran_policy`` is
    not the file's (a function no file can name), a first comment that says so; where the run
    scaled its fleets (``fleet_scale``), one that says its counts are the scaled ones (a
    researcher's review: run again with --fleet-scale, it would scale them twice)."""
    import yaml

    text = str(yaml.safe_dump(scenario_document(scenario), sort_keys=False))
    if fleet_scale is not None and fleet_scale != 1.0:
        text = (f"{SCALED_COUNTS} {fleet_scale:g} already applied: run this file without "
                "it\n" + text)
    if ran_policy is not None and ran_policy != scenario.policy:
        text = (f"{POLICY_NOT_KEPT} {ran_policy}, which a file cannot name: this file runs "
                f"its policy below ({scenario.policy}) unless given --policy "
                "module:callable\n" + text)
    return text


def foreign_file(folder: str | Path, marker: str = SUMMARY) -> str | None:
    """The first file a run would replace in ``folder`` when the folder is no run folder (no
    ``marker``; no table of airan's): a user's own scenario.yaml, report.html or trace.json
    (``--out .`` in a project folder). None where writing a run there replaces nothing of
    theirs. With ``marker`` comparison.json, for a comparison: the files it writes
    (scenario.yaml, report.html) in a folder that is no comparison (a run folder's too), unless
    the folder is a comparison that stopped while being written (a ``runs`` folder holding
    its per-run summaries only)."""
    path = Path(folder)
    if not path.is_dir() or (path / marker).exists():
        return None
    if marker == SUMMARY:
        if any((path / f"{name}.parquet").exists() for name in TABLES):
            return None  # a run that stopped while being written: airan's own files
        written: tuple[str, ...] = (SCENARIO, *REPORT_FILES)
    else:
        runs = path / "runs"
        if runs.is_dir():
            entries = list(runs.iterdir())
            if entries and all(e.is_file() and re.fullmatch(r".+-seed\d+\.json", e.name)
                               for e in entries):
                return None
        written = (SCENARIO, REPORT_FILES[0])
    return next((n for n in written if (path / n).exists()), None)


def foreign_folder_error(folder: str | Path, marker: str = SUMMARY) -> str | None:
    """Why a run (or a comparison: ``marker`` comparison.json) may not be written to
    ``folder`` (see :func:`foreign_file`), or None."""
    clash = foreign_file(folder, marker)
    if clash is None:
        return None
    what = "run" if marker == SUMMARY else "comparison"
    return (f"'{folder}' is no airan {what} folder (no {marker}) but holds {clash}, which the "
            f"{what} would replace: choose an empty folder, or an earlier {what}'s")


#: The file that marks each kind of folder airan writes, in the order they are looked for, and
#: a key that airan's own such file holds (a file of that name without it is a user's); a
#: sharded run's summary.json says "sharding"
FOLDER_MARKERS = (("comparison", "comparison.json", "aggregate"), ("sweep", "sweep.json", "runs"),
                  ("plan", "plan.json", "verdict"),
                  ("twin-vs-live", "twin_vs_live.json", "services"), ("run", SUMMARY, None))


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


#: what the readers of a summary take each field to be: (field, type check, what it should be)
_SUMMARY_TYPES: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("scenario", lambda x: isinstance(x, str), "a name"),
    ("policy", lambda x: isinstance(x, str), "a name"),
    ("seed", lambda x: isinstance(x, int) and not isinstance(x, bool), "an integer"),
    ("duration_s", _is_number, "a number"),
    ("requests", lambda x: isinstance(x, dict), "a mapping"),
    ("trace", lambda x: x is None or isinstance(x, dict), "a mapping"),
    ("sites", lambda x: x is None or (isinstance(x, dict)
                                      and all(isinstance(v, dict) for v in x.values())),
     "a mapping of sites to mappings"),
    ("fleets", lambda x: x is None or (isinstance(x, list | dict) and all(
        isinstance(v, dict) for v in (x.values() if isinstance(x, dict) else x))),
     "mappings"),
    ("cells", lambda x: x is None or isinstance(x, dict), "a mapping"),
    ("faults", lambda x: x is None or (isinstance(x, list)
                                       and all(isinstance(v, dict) for v in x)),
     "a list of mappings"),
)
_SERVICE_NUMBERS = ("count", "met", "late", "dropped", "overdue", "in_flight", "hit_ratio",
                    "deadline_ms", "late_on_device", "late_latency_ms")
#: a service's mappings of numbers (each optional: a summary from before one was kept)
_SERVICE_MAPPINGS = ("latency_ms", "breakdown_ms", "dropped_by_reason", "late_breakdown_ms",
                     "late_device_ms", "answered_at")
_SERVICE_REQUIRED = ("count", "met", "late", "dropped", "hit_ratio", "latency_ms",
                     "breakdown_ms")
_SITE_NUMBERS = ("x_m", "y_m", "gpus", "gpu_utilization", "mean_queue", "served", "batches",
                 "mean_batch", "power_w")
_REQUEST_COUNTS = ("created", "met", "late", "dropped", "in_flight")


def _numbers_error(where: str, values: Mapping[str, Any]) -> str | None:
    """The first value of ``values`` that is neither a number nor null, named."""
    for key, v in values.items():
        if v is not None and not _is_number(v):
            return f"field '{where}.{key}' should be a number (got {v!r:.60})"
    return None


def _histogram_error(where: str, h: Mapping[str, Any]) -> str | None:
    """A latency histogram's fields: ``min_s`` and ``gamma`` numbers, ``counts`` a mapping of
    bucket numbers to counts."""
    for key in ("min_s", "gamma"):
        if not _is_number(h.get(key)):
            return f"field '{where}.{key}' should be a number (got {h.get(key)!r:.60})"
    counts = h.get("counts")
    if not isinstance(counts, dict):
        return f"field '{where}.counts' should be a mapping (got {counts!r:.60})"
    for k, n in counts.items():
        if not (str(k).lstrip("-").isdigit() and isinstance(n, int) and not isinstance(n, bool)):
            return (f"field '{where}.counts' should map bucket numbers to counts "
                    f"(got {k!r}: {n!r:.30})")
    return None


def summary_type_error(summary: Mapping[str, Any]) -> str | None:
    """What in a run summary (read from a file a user may have edited) is not of the type the
    report and the trace read it as, naming the field and the value; None when all is."""
    for key, ok, what in _SUMMARY_TYPES:
        if key in summary and not ok(summary[key]):
            return f"field {key!r} should be {what} (got {summary[key]!r:.60})"
    requests = summary.get("requests") or {}  # (a comparison's run summaries may lack it)
    for key in _REQUEST_COUNTS:
        if key in requests and not _is_number(requests[key]):
            return f"field 'requests.{key}' should be a number (got {requests[key]!r:.60})"
    for name, svc in summary["services"].items():
        if not isinstance(svc, dict):
            return f"field 'services.{name}' should be a mapping (got {svc!r:.60})"
        missing = [k for k in _SERVICE_REQUIRED if k not in svc]
        if missing:
            return f"field 'services.{name}.{missing[0]}' is missing"
        for key in _SERVICE_NUMBERS:
            if svc.get(key) is not None and not _is_number(svc[key]):
                return f"field 'services.{name}.{key}' should be a number (got {svc[key]!r:.60})"
        for key in (*_SERVICE_MAPPINGS, "latency_histogram"):
            if svc.get(key) is not None and not isinstance(svc[key], dict):
                return (f"field 'services.{name}.{key}' should be a mapping "
                        f"(got {svc[key]!r:.60})")
        for key in _SERVICE_MAPPINGS:
            wrong = _numbers_error(f"services.{name}.{key}", svc.get(key) or {})
            if wrong is not None:
                return wrong
        if svc.get("latency_histogram") is not None:
            wrong = _histogram_error(f"services.{name}.latency_histogram",
                                     svc["latency_histogram"])
            if wrong is not None:
                return wrong
    for name, site in (summary.get("sites") or {}).items():
        wrong = _numbers_error(f"sites.{name}", {k: site.get(k) for k in _SITE_NUMBERS})
        if wrong is not None:
            return wrong
    return None


def folder_kind(folder: str | Path) -> str | None:
    """What airan wrote in ``folder``: "run", "sharded run", "comparison", "sweep", "plan",
    "twin-vs-live", or None (no such folder, or none of airan's)."""
    path = Path(folder)
    for kind, marker, key in FOLDER_MARKERS:
        if not (path / marker).is_file():
            continue
        data: Any = None
        with contextlib.suppress(OSError, ValueError):
            data = json.loads((path / marker).read_text(encoding="utf-8"))
        if key is not None and not (isinstance(data, dict) and key in data):
            continue  # a file of the user's that shares the name
        if kind == "run" and isinstance(data, dict) and "sharding" in data:
            return "sharded run"
        return kind
    return None


def other_kind_error(folder: str | Path, kind: str) -> str | None:
    """Why a ``kind`` of output (see :func:`folder_kind`) may not be written to ``folder``: it
    holds another kind, whose files it would replace or mix with; None where it may."""
    found = folder_kind(folder)
    if found is None or found == kind:
        return None
    return (f"'{folder}' holds an airan {found}; writing a {kind} there would replace or mix "
            f"with its files: choose an empty folder, or an earlier {kind}'s")


#: the run a table came from, in each Parquet file's key-value metadata (key ``airan``, JSON)
TABLE_META_KEYS = ("scenario", "policy", "seed", "duration_s", "warmup_s", "fleet_scale",
                   "airan_version")


def table_metadata(summary: dict[str, Any], *, trace: bool = False) -> dict[bytes, bytes]:
    """The run's identity for a table's Parquet metadata (key ``airan``: a JSON object of
    :data:`TABLE_META_KEYS`), so tables pooled from many runs say which each came from (a
    researcher's review: joining each to its summary.json by hand); with ``trace`` (the
    requests' table) the summary's ``trace`` too, whether it holds every request or the first
    ``limit`` and a uniform sample beyond (an ML researcher's review: a sampled file said
    nothing of it, and its statistics over-weigh the first requests)."""
    meta = {k: summary.get(k) for k in TABLE_META_KEYS}
    if trace and summary.get("trace") is not None:
        meta["trace"] = summary["trace"]
    return {b"airan": json.dumps(meta).encode()}


def with_lat_lon(table: pa.Table, lat0: float, lon0: float) -> pa.Table:
    """``table`` with ``lat`` and ``lon`` (degrees) beside its ``x_m`` and ``y_m``: where a
    scenario's sites come from a latitude/longitude list, its metres are east and north of the
    list's origin (an operator planner's review: nothing tied a run's cells and devices back to
    the map)."""
    if "x_m" not in table.column_names or "lat" in table.column_names:
        return table
    from airan.mobility.sites import unproject_aeqd

    x = table.column("x_m").to_numpy(zero_copy_only=False)
    y = table.column("y_m").to_numpy(zero_copy_only=False)
    lat, lon = unproject_aeqd(x, y, lat0, lon0)
    at = table.column_names.index("y_m") + 1
    table = table.add_column(at, "lat", pa.array(lat, pa.float64()))
    return table.add_column(at + 1, "lon", pa.array(lon, pa.float64()))


def write_run(result: Result, folder: str | Path) -> Path:
    """Write ``result`` to ``folder`` (created if needed); return the folder's path.

    summary.json is removed first and written last, atomically, so a folder holding it is a
    complete run and a crash in between leaves a recognisably half-written one. A folder that
    is no run but holds a file a run writes is refused (FileExistsError, see
    :func:`foreign_file`).
    """
    import pyarrow.parquet as pq

    path = Path(folder)
    refused = foreign_folder_error(path)
    if refused is not None:
        raise FileExistsError(refused)
    path.mkdir(parents=True, exist_ok=True)
    (path / SUMMARY).unlink(missing_ok=True)
    remove_outputs(path)
    run_meta = table_metadata(result.summary)
    origin = None
    if result.scenario is not None:
        from airan.scenario.load import scenario_origin

        origin = scenario_origin(result.scenario)
    for name in TABLES:
        table = getattr(result, name, None)
        if table is not None and origin is not None and name in ("cells", "devices"):
            table = with_lat_lon(table, *origin)
        target = path / f"{name}.parquet"
        if table is None:
            target.unlink(missing_ok=True)
        else:
            meta = table_metadata(result.summary, trace=True) if name == "requests" else run_meta
            pq.write_table(table.replace_schema_metadata(
                {**(table.schema.metadata or {}), **meta}), target)
    if result.scenario is not None:
        (path / SCENARIO).write_text(
            scenario_yaml(result.scenario, result.summary.get("policy"),
                          result.summary.get("fleet_scale")), encoding="utf-8")
    else:
        (path / SCENARIO).unlink(missing_ok=True)  # never another run's scenario
    write_json_atomic(path / SUMMARY, result.summary)
    return path


@dataclass
class Run:
    """A complete run folder, read lazily: the summary at once, tables on demand."""

    path: Path
    summary: dict[str, Any]
    _cache: dict[tuple[str, tuple[str, ...] | None], pa.Table] = field(
        default_factory=dict, repr=False
    )

    def table(self, name: str, columns: list[str] | None = None) -> pa.Table:
        """The table ``name`` (:data:`TABLES`), only ``columns`` of it."""
        import pyarrow.parquet as pq

        key = (name, tuple(columns) if columns is not None else None)
        if key in self._cache:
            return self._cache[key]
        file = self.path / f"{name}.parquet"
        if not file.is_file():
            raise InputError(
                f"run folder is incomplete: {file.name} is missing", file=str(self.path)
            )
        try:
            schema = pq.read_schema(file)
            if columns is not None:
                missing = [c for c in columns if c not in schema.names]
                if missing:
                    raise InputError(
                        f"column {missing[0]!r} is missing (written by another airan version?)",
                        file=str(file),
                    )
            table = pq.read_table(file, columns=columns)
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"cannot read the table (half-written run?): {exc}",
                             file=str(file)) from None
        self._cache[key] = table
        return table

    def scenario_text(self) -> str | None:
        """The scenario as run (YAML), or None if the run did not record it."""
        file = self.path / SCENARIO
        try:
            return file.read_text(encoding="utf-8")
        except OSError:
            return None


def read_run(folder: str | Path, *, require: tuple[str, ...] = REQUIRED_TABLES) -> Run:
    """Open a complete run folder; raise :class:`InputError` for anything else.

    ``require`` names the tables that must be present (checked now, read later).
    """
    path = Path(folder)
    label = str(folder)
    if not path.exists():
        raise InputError("no such folder", file=label)
    if not path.is_dir():
        raise InputError("not a folder (expected a run folder written by `airan run`)",
                         file=label)
    summary_file = path / SUMMARY
    if not summary_file.is_file():
        if any((path / f"{t}.parquet").exists() for t in TABLES):
            raise InputError(
                f"half-written run: {SUMMARY} is missing (the run did not finish; run it again)",
                file=label,
            )
        scenario_file = path / ("plan.yaml" if (path / "plan.yaml").is_file() else "closest.yaml")
        other = {  # another kind of airan folder: say what it is and where a run comes from
            "comparison": "a comparison (written by `airan compare`: each run's summary, no "
                          "tables); run one policy and seed with `airan run`",
            "sweep": "a sweep (written by `airan sweep`): each of its runs is a run folder, "
                     f"`airan report {label}/runs/<key>` reports one (the keys are the column "
                     "`run` of results.parquet)",
            "plan": "a plan (written by `airan plan`); run its build-out with "
                    f"`airan run {scenario_file}`",
            "twin-vs-live": "a comparison of the twin and a live run (written by `airan "
                            f"twin-vs-live`): `airan report {label}/live` and `airan report "
                            f"{label}/twin` report each",
        }.get(folder_kind(path) or "")
        if other is not None:
            raise InputError(f"not a run folder but {other}", file=label)
        raise InputError(
            f"not an airan run folder: no {SUMMARY} (`airan run --out DIR` writes one)",
            file=label,
        )
    try:
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"unreadable or half-written summary: {exc}",
                         file=str(summary_file)) from None
    if not isinstance(summary, dict) or not isinstance(summary.get("services"), dict):
        raise InputError("not an airan run summary: no 'services' mapping",
                         file=str(summary_file))
    for key in ("scenario", "policy", "seed", "duration_s", "requests"):
        if key not in summary:
            raise InputError(f"not an airan run summary: field {key!r} is missing",
                             file=str(summary_file))
    wrong = summary_type_error(summary)
    if wrong is not None:
        raise InputError(f"not an airan run summary: {wrong}", file=str(summary_file))
    for name in require:
        if not (path / f"{name}.parquet").is_file():
            if isinstance(summary.get("sharding"), dict):
                raise InputError(
                    "a sharded run (written by `airan run-sharded`): it holds the merged "
                    "summary.json and shards/<region>.json, no tables; sharded runs have no "
                    "report or request trace (see docs/sweeps.md)", file=label)
            raise InputError(
                f"run folder is incomplete: {name}.parquet is missing (written by an older "
                "airan, or half-written; run it again)",
                file=label,
            )
    return Run(path=path, summary=summary)
