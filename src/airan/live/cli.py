"""The live runtime's commands: ``serve``, ``devices``, ``live`` and ``profile``.

``register(app)`` adds them to a Typer app (the ``airan`` command line calls it). Bad input ends
as ``error: <message>`` on stderr and exit code 2, as everywhere in airan.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from airan.console import load_kernel
from airan.errors import InputError
from airan.live.served import SERVED_PARTS

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


#: the library's argument names that the live commands take from an option of the same name: an
#: error about one of them (raised with no file: not a scenario's field) names the option
_OPTION_OF = {"policy": "--policy", "fleet_scale": "--fleet-scale", "component": "--component",
              "components": "--component", "seed": "--seed", "duration_s": "--duration",
              "threads": "--threads", "delays": "--delays", "tls_cert": "--tls-cert",
              "tls_key": "--tls-key", "tls_ca": "--tls-ca"}
# gRPC's C core logs each failed TLS handshake at INFO on stderr; airan says what failed itself
# (the components' logs keep gRPC's own level: airan.live.runtime drops it from their env)
if "GRPC_VERBOSITY" not in os.environ:
    os.environ["GRPC_VERBOSITY"] = "ERROR"
    os.environ["AIRAN_GRPC_QUIET"] = "1"

TLS_CERT_HELP = ("PEM certificate (chain) the servers started here present: TLS on every "
                 "connection of the deployment (with --tls-key)")
TLS_KEY_HELP = "PEM private key of --tls-cert"
TLS_CA_HELP = ("PEM certificates of the CA that signed the servers' certificates, trusted when "
               "dialling them (default: the system's roots)")


#: options live and twin-vs-live share
POLICY_OPTION = typer.Option(None, help="placement policy (default: the scenario's)")
SEED_OPTION = typer.Option(None, help="seed (default: the scenario's)")
MODEL_OPTION = typer.Option(None, "--model", help="NAME=MODEL: the ONNX model of a service or "
                            "catalog model (built-in name or path)")
#: the servers' TLS options, as serve and live take them
TLS_CERT_OPTION = typer.Option(None, "--tls-cert", envvar="AIRAN_TLS_CERT", help=TLS_CERT_HELP)
TLS_KEY_OPTION = typer.Option(None, "--tls-key", envvar="AIRAN_TLS_KEY", help=TLS_KEY_HELP)
TLS_CA_OPTION = typer.Option(None, "--tls-ca", envvar="AIRAN_TLS_CA", help=TLS_CA_HELP)


def _tls(cert: Path | None, key: Path | None, ca: Path | None, *,
         servers: bool = True) -> Any:
    """TLS from the options, its files checked; None where none is given. For ``servers``, a
    CA without a certificate or key is none (an ``AIRAN_TLS_CA`` exported for the devices'
    side made plain serve and live fail: a diff review)."""
    if cert is None and key is None and (ca is None or servers):
        if ca is not None:  # (from AIRAN_TLS_CA, for the devices' side, or given here)
            err.print("note: --tls-ca (or AIRAN_TLS_CA) without --tls-cert and --tls-key: the "
                      "servers speak plain TCP (a CA alone is for dialling)", markup=False,
                      soft_wrap=True)
        return None
    from airan.live import wire
    from airan.live.runtime import check_tls

    return check_tls(wire.Tls(None if cert is None else str(cert),
                              None if key is None else str(key), None if ca is None else str(ca)))


@contextmanager
def _user_errors() -> Iterator[None]:
    try:
        from airan.console import check_empty_paths

        check_empty_paths()
        yield
    except InputError as exc:
        from airan.console import _as_argument

        option = None if exc.file else _OPTION_OF.get(exc.field or "")
        if option is not None:
            exc = InputError(exc.reason, field=option, value=exc.value, choices=exc.choices)
        exc = _as_argument(exc)
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except RuntimeError as exc:
        from airan.live.netns import NetnsError
        from airan.live.runtime import StartError

        if isinstance(exc, StartError):  # e.g. a port taken: the component's own words
            err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        if not isinstance(exc, NetnsError):
            raise
        # the machine allowed namespaces, then an ip/tc command failed
        err.print(f"error: network namespaces: {exc}", markup=False, highlight=False,
                  soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (_interrupt): its processes are stopped
        err.print("interrupted: stopped before the run's results were written; exit code 130",
                  markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(130) from None
    except ImportError as exc:  # the live runtime's packages are an extra
        package = _missing_live_package(exc)
        if package is None:
            raise  # not one of the extra's packages: a bug in airan
        err.print(f"error: {package} is not installed (the live runtime needs it): "
                  f"pip install '{LIVE_EXTRA}'", markup=False, highlight=False,
                  soft_wrap=True)
        raise typer.Exit(2) from None


def _check_out(folder: Path) -> None:
    """Refuse, before the session, a run folder that would replace a user's own files
    (:func:`airan.report.rundir.foreign_file`)."""
    from airan.report.rundir import foreign_folder_error, other_kind_error

    refused = other_kind_error(folder, "run") or foreign_folder_error(folder)
    if refused is not None:
        raise InputError(refused, field="--out", value=str(folder))


#: what `airan serve` writes in its folder before its deployment.json
SERVE_WRITES = {"scenario.yaml", "config", "logs"}


def _check_serve_out(folder: Path) -> None:
    """Refuse a deployment folder that holds files of something else (a run's, a user's):
    serve writes its scenario.yaml, config/ and logs/ there (a live integrator's review: it
    overwrote a run folder's scenario.yaml, and a user's own). An empty folder or an earlier
    deployment's (deployment.json) is taken."""
    from airan.live.runtime import DEPLOYMENT

    if not folder.is_dir() or (folder / DEPLOYMENT).exists():
        return
    held = sorted(p.name for p in folder.iterdir())
    if set(held) <= SERVE_WRITES and {"config", "logs"} <= set(held):  # (a start that
        return  # failed before its deployment.json: every later serve refused its folder)
    if held:
        shown = ", ".join(held[:3]) + (f" and {len(held) - 3} more" if len(held) > 3 else "")
        raise InputError(f"'{folder}' is no deployment folder (no {DEPLOYMENT}) but holds "
                         f"{shown}, which serve would replace or mix with its scenario.yaml, "
                         "config/ and logs/: choose an empty folder, or an earlier serve's",
                         field="--out", value=str(folder))


LIVE_EXTRA = "airan[live]"  # pyproject.toml: onnxruntime, onnx, grpcio, protobuf
# the extra's modules, to the package that installs each
_LIVE_MODULES = {"grpc": "grpcio", "onnxruntime": "onnxruntime", "onnx": "onnx",
                 "google": "protobuf", "google.protobuf": "protobuf"}


def _missing_live_package(exc: ImportError) -> str | None:
    """The package of the live extra whose module ``exc`` failed to import, or None."""
    name = exc.name or ""
    for module, package in _LIVE_MODULES.items():
        if name == module or name.startswith(module + "."):
            return package
    return None


WATCH_S = 0.5  # how often `airan serve` checks that its components still run

DELAYS_HELP = ("gateway: the gateway applies the twin's radio and transport delays; none: the "
               "network's own; netns: sites and gateways in network namespaces joined by veth "
               "pairs, shaped with tc netem (root and iproute2; see docs/live.md)")


@contextmanager
def _on_signals(handler: Any, signals: tuple[signal.Signals, ...]) -> Iterator[None]:
    """Handle ``signals`` with ``handler`` inside the block (main thread only), then restore."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


def _interrupt(*_: object) -> None:
    """SIGTERM as Ctrl-C: the ``with`` blocks stop the processes and remove the network
    namespaces instead of the interpreter dying at once."""
    raise KeyboardInterrupt


def _print_network(network: dict | None) -> None:
    if network:
        out.print(f"network: namespaces {network['prefix']}-*, netem "
                  f"{'yes' if network['netem'] else 'no'}; {network['note']}", markup=False)


def _batches(text: str) -> list[int]:
    try:
        vals = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError("expected batch sizes like 1,2,4,8", field="--batch", value=text) from None
    if not vals or min(vals) < 1 or max(vals) > 1024:
        raise InputError("batch sizes must be 1-1024", field="--batch", value=text)
    if len(set(vals)) < len(vals):
        raise InputError("a batch size is given twice", field="--batch", value=text)
    return vals


LIVE_MAX_S = 86_400.0  # a live run's longest duration: a day of wall time
MAX_THREADS = 1024  # ONNX Runtime threads per site worker (as profile's largest batch)


def _check_options(*, seed: int | None = None, duration: float | None = None,
                   threads: int | None = None, out: Path | None = None,
                   out_is_file: bool = False, timeout: float | None = None) -> None:
    """One line naming the option for values a live command cannot use (before it starts
    processes or models): a negative seed, a duration or request timeout that is not positive
    or beyond a day, fewer than one thread, an --out of the wrong kind."""
    if seed is not None and not 0 <= seed < 2**63:
        raise InputError("must be an integer in [0, 2**63)", field="--seed", value=seed)
    for field, value in (("--duration", duration), ("--timeout", timeout)):
        if value is not None and not 0 < value <= LIVE_MAX_S:
            raise InputError(f"must be more than 0 and at most {LIVE_MAX_S:,.0f} s",
                             field=field, value=value)
    if threads is not None and not 1 <= threads <= MAX_THREADS:
        raise InputError(f"must be 1-{MAX_THREADS}", field="--threads", value=threads)
    if out is not None and out.exists() and out.is_dir() == out_is_file:
        raise InputError("is a folder, not a file" if out_is_file else "is a file, not a folder",
                         field="--out", value=str(out))
    if out is not None:  # what would stop it writing there, found before any work
        from airan.console import check_writable

        check_writable(out, "--out", is_file=out_is_file)




def _warn(sc: Any, scenario: str, policy: str | None, duration: float | None) -> None:
    """The scenario's warnings, as ``airan run`` prints them (a strict admission under a policy
    that ignores it, say), after what a live run refuses (faults), named in the file, and a
    ``--policy`` whose site the scenario lacks (``site:NAME``, ``cloud`` without a cloud)."""
    from airan.console import _scenario_label
    from airan.live.runtime import check_live_scenario, moving_fleets
    from airan.scenario.load import check_policy_sites, scenario_warnings

    try:
        check_live_scenario(sc)
    except InputError as exc:
        raise exc if exc.file else exc.with_file(_scenario_label(scenario)) from None
    if policy is not None:  # (before any server starts)
        check_policy_sites(sc, policy, field="--policy")

    lines = scenario_warnings(sc, label=_scenario_label(scenario), duration_s=duration,
                              policy=policy)
    lines += [f"{_scenario_label(scenario)}: field 'fleets[{name}].mobility': devices do not "
              "move in a live run: they stay where the twin places them at the start"
              for name in moving_fleets(sc)]
    lines += [f"{_scenario_label(scenario)}: field 'services[{v.name}].{key}_spread': a live "
              f"run sends every {what} at its mean size ({kb:.3g} kB), where the twin draws "
              "each one's" for v in sc.services
              for key, what, kb in (("ul_kb", "upload", v.ul_mean_kb),
                                    ("dl_kb", "answer", v.dl_mean_kb))
              if getattr(v, f"{key}_spread") is not None]
    for line in lines:
        err.print(f"warning: {line}", markup=False, highlight=False, soft_wrap=True)


def _fleet_scale(fleet_scale: float) -> float:
    """``--fleet-scale`` as given, or an :class:`InputError` naming it."""
    if not (fleet_scale > 0 and math.isfinite(fleet_scale)):
        raise InputError("fleet scale must be positive", field="--fleet-scale",
                         value=fleet_scale)
    return fleet_scale


def _scale(sc: Any, scenario: str, fleet_scale: float) -> Any:
    """``sc`` with every fleet's count times ``--fleet-scale``, a fleet it rounds far from that
    warned of as ``airan run`` does (a docs review: live ran factory's arms at 0.083x and its
    cameras at 0.167x under --fleet-scale 0.1 without a word)."""
    if _fleet_scale(fleet_scale) == 1.0:
        return sc
    from airan.api import fleet_scale_warnings, scale_fleets
    from airan.console import _scenario_label

    for line in fleet_scale_warnings(sc, fleet_scale, label=_scenario_label(scenario)):
        err.print(f"warning: {line}", markup=False, highlight=False, soft_wrap=True)
    return scale_fleets(sc, fleet_scale)


def _less_load(sc: Any, fleet_scale: float, where: str = "") -> str:
    """What to offer the runtime less load with: a tenth of ``--fleet-scale`` where that
    leaves a device (``sc``: the scenario at the scale run), else fewer devices or lower rates
    (a live review: at 0.1 it suggested 0.01, which leaves factory no device and is refused)."""
    if any(round(f.count * 0.1) >= 1 for f in sc.fleets):
        return f"--fleet-scale {fleet_scale / 10:g}{where}"
    return "fewer devices or lower rates: a tenth of --fleet-scale leaves no device"


def _check_served(sc: Any, dep: Any, given: Path, unscaled: Any = None) -> None:
    """Refuse devices of another scenario than the one the deployment serves: its gateways
    know devices and services by their index in the served one (40 cameras against a
    deployment of 20 had every request of one service dropped as 'error', and no word why)."""
    from airan.report.rundir import scenario_document
    from airan.scenario import load_scenario

    # the served copy lies beside deployment.json (an older deployment named it relative to
    # the folder airan serve ran in)
    served_path = (given if given.is_dir() else given.parent) / "scenario.yaml"
    if not served_path.is_file():
        served_path = Path(dep.scenario)
    if not served_path.is_file():
        return  # (a deployment of other hosts: nothing here to compare with)
    served = scenario_document(load_scenario(served_path))  # (files named absolute in both)
    mine = scenario_document(sc)
    differ = [k for k in SERVED_PARTS if served.get(k) != mine.get(k)]
    if differ:
        scaled = ""
        if differ == ["fleets"]:  # the scale given twice, or not the served one
            again = unscaled is not None and scenario_document(unscaled).get("fleets") == \
                served.get("fleets")
            scaled = (" (the deployment serves it as given: drop --fleet-scale)" if again else
                      " (served with --fleet-scale? give airan devices the same)")
        raise InputError(f"the deployment serves another scenario (its {', '.join(differ)} "
                         f"differ): give the served one, {served_path}{scaled}",
                         field="scenario")


def _print_run(summary: dict, folder: Path,
               less_load: str = "--fleet-scale 0.1") -> None:
    for name, s in summary["services"].items():
        lat = s["latency_ms"]
        hit = s["hit_ratio"]
        p50 = f"{lat['p50']:.1f}" if lat["p50"] is not None else "-"
        p95 = f"{lat['p95']:.1f}" if lat["p95"] is not None else "-"
        why = ", ".join(f"{r} {n}" for r, n in (s["dropped_by_reason"] or {}).items())
        out.print(f"{name}: {s['count']} requests, met {s['met']}, late {s['late']}, dropped "
                  f"{s['dropped']}{f' ({why})' if why else ''}, hit ratio "
                  f"{'-' if hit is None else f'{hit:.3f}'}, p50 {p50} ms, p95 {p95} ms",
                  markup=False, soft_wrap=True)
    from airan.report.events import events

    for line in events(summary):  # a site that stopped answering, the scenario's faults
        out.print(line, markup=False, soft_wrap=True, style="yellow")
    live = summary.get("live") or {}
    for text, n in (live.get("errors") or {}).items():  # why requests were dropped as error
        out.print(f"dropped as error ({n:,}): {text}", markup=False, soft_wrap=True,
                  style="yellow")
    cost = (live.get("runtime_cost_ms") or {}).get("p50")
    if cost is not None:
        out.print(f"runtime cost per request (p50): {cost:.2f} ms; unhidden overhead (p50): "
                  f"{live['overhead_ms']['p50']:.2f} ms")
    if live.get("saturated"):
        out.print(f"[yellow]warning: the runtime itself could not keep up with this load "
                  f"({summary['requests']['created'] / max(summary['duration_s'], 1e-9):,.0f} "
                  f"requests/s; unhidden overhead p50 {live['overhead_ms']['p50']:.1f} ms): these "
                  f"latencies measure this machine's runtime, not the scenario. Offer less load "
                  f"({less_load}) or run sites and gateways on more hosts "
                  f"(docs/live.md).[/yellow]")
    share = live.get("realtime_share")
    # asked for by this deployment (None: started elsewhere, on hosts whose choice is not
    # known here: a live integrator's review read "it needs CAP_SYS_NICE" as root, where the
    # other host's serve had turned real time off)
    wanted = live.get("realtime_workers") is True
    if share is not None and share < 0.5 and wanted and not live.get("saturated"):
        out.print(f"[yellow]note: the site workers computed {share:.0%} of the time with "
                  f"real-time scheduling (it needs CAP_SYS_NICE or `ulimit -r 10`, and each "
                  f"worker keeps to its share of half the cores, so a busy worker among many "
                  f"on few cores runs most batches outside it): a batch may wait for the CPU "
                  f"behind other processes, so compute tails are longer than on a dedicated "
                  f"host (docs/live.md).[/yellow]")
    out.print(f"run folder: {folder}", markup=False, soft_wrap=True)
    if not live.get("saturated"):  # a saturated runtime's compute is the machine's queueing
        out.print(f"the twin on the compute its sites measured: airan calibrate {folder}",
                  markup=False, soft_wrap=True)


def _check_comparison_out(folder: Path) -> None:
    """Refuse a folder for ``twin-vs-live`` that holds anything but an earlier comparison's
    files (it writes twin/, live/, serve/, warmup/ and twin_vs_live.json there)."""
    from airan.live.compare import TWIN_VS_LIVE, TWIN_VS_LIVE_WRITES
    from airan.report.rundir import other_kind_error

    refused = other_kind_error(folder, "twin-vs-live")
    if refused is None and folder.is_dir():
        held = sorted(p.name for p in folder.iterdir() if p.name not in TWIN_VS_LIVE_WRITES)
        if held:
            refused = (f"'{folder}' is no twin-vs-live folder (no {TWIN_VS_LIVE}) but holds "
                       f"{', '.join(held[:3])}{' and more' if len(held) > 3 else ''}: choose "
                       "an empty folder, or an earlier comparison's")
    if refused is not None:
        raise InputError(refused, field="--out", value=str(folder))


def _ratio_text(ratio: float | None, within: float) -> str:
    """live / twin, in green within ``within`` of 1 (docs/live.md's targets: p50 within 15%,
    p95 within 25%), else yellow."""
    if ratio is None:
        return "-"
    colour = "green" if abs(ratio - 1.0) <= within else "yellow"
    return f"[{colour}]{ratio:.2f}[/{colour}]"


def _print_twin_vs_live(figures: dict, folder: Path, less_load: str) -> None:
    """The comparison's table (ms; live / twin), the runtime's own warnings, the folders."""
    from rich.table import Table

    from airan.cli import _print_table
    from airan.console import _columns, _num, _table

    table: Table = _table(f"Twin against live (ms): {figures['scenario']}, "
                          f"{figures['policy']}, seed {figures['seed']}, "
                          f"{figures['duration_s']:g} s")
    _columns(table, "service", justify="left")
    _columns(table, "twin p50", "live p50", "live/twin", "twin p95", "live p95", "live/twin",
             "twin hit", "live hit", "live batch")
    for name, row in figures["services"].items():
        table.add_row(Text(name), _num(row["twin_p50_ms"]), _num(row["live_p50_ms"]),
                      _ratio_text(row["p50_ratio"], 0.15), _num(row["twin_p95_ms"]),
                      _num(row["live_p95_ms"]), _ratio_text(row["p95_ratio"], 0.25),
                      _num(row["twin_hit_ratio"], "{:.3f}"),
                      _num(row["live_hit_ratio"], "{:.3f}"),
                      _num(row["live_mean_batch"], "{:.2f}"))
    _print_table(table)
    live = figures.get("live") or {}
    if live.get("saturated"):
        out.print(f"[yellow]warning: the runtime itself could not keep up (unhidden overhead "
                  f"p50 {live['overhead_ms']['p50']:.1f} ms): the live latencies measure this "
                  f"machine's runtime, not the scenario; compare at less load ({less_load}) or "
                  f"on a quieter machine.[/yellow]")
    what = (f"from the compute a {figures['warmup_s']:g} s live warm-up's sites measured"
            if figures["warmup_s"] else "the scenario's")
    out.print(f"both sides' service times {what}; ratios in green within the targets "
              "(p50 15%, p95 25%)",
              markup=False, soft_wrap=True)
    out.print(f"the runs: {folder / 'twin'}, {folder / 'live'}; the figures: "
              f"{folder / 'twin_vs_live.json'}", markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``devices``, ``live``, ``twin-vs-live``, ``profile`` and ``calibrate`` to
    ``app``."""

    @app.command()
    def serve(
        scenario: str = typer.Argument(..., help="built-in scenario name or YAML file"),
        out_dir: Path = typer.Option(Path("live"), "--out", help="folder for the deployment, "
                                     "configurations and logs"),
        policy: str = typer.Option(None, help="placement policy (default: the scenario's)"),
        seed: int = typer.Option(None, help="seed (device placement; default: the scenario's)"),
        model: list[str] = typer.Option(None, "--model", help="NAME=MODEL: the ONNX model of "
                                        "a service or catalog model (built-in name or path)"),
        threads: int = typer.Option(1, help="ONNX Runtime threads per site worker"),
        delays: str = typer.Option("gateway", help=DELAYS_HELP),
        host: str = typer.Option(None, help="address to listen on (default 127.0.0.1; with "
                                 "--component 0.0.0.0; not with --delays netns)"),
        duration: float = typer.Option(None, help="stop after this many seconds (default: "
                                       "until Ctrl-C)"),
        shared_gateway: bool = typer.Option(False, help="one gateway process for every cell "
                                            "(with --delays netns: for the cells of each "
                                            "node; default: one per cell)"),
        component: list[str] = typer.Option(None, "--component", help="site:NAME or "
                                            "gateway:CELL: start only these, on the "
                                            "scenario's live addresses (separate hosts)"),
        token: str = typer.Option(None, envvar="AIRAN_TOKEN", help="the tenant token every "
                                  "host shares (with --component; default: a new one)"),
        realtime: bool = typer.Option(None, "--realtime/--no-realtime", help="site workers "
                                      "with real-time scheduling (default: only with fewer "
                                      "workers than cores; needs CAP_SYS_NICE)"),
        fleet_scale: float = typer.Option(1.0, "--fleet-scale", help="multiply every fleet's "
                                          "device count (fewer devices: less load); give "
                                          "airan devices the same"),
        keep_serving: bool = typer.Option(False, "--keep-serving", help="go on serving when "
                                          "a component ends (a killed site: the gateways' "
                                          "failover), until every one has; exit code 1 then"),
        tls_cert: Path = TLS_CERT_OPTION,
        tls_key: Path = TLS_KEY_OPTION,
        tls_ca: Path = TLS_CA_OPTION,
    ) -> None:
        """Start the scenario's site servers and gateways on this machine until stopped."""
        stop = threading.Event()  # SIGTERM, Ctrl-C: stop cleanly, even while starting
        with _user_errors(), _on_signals(lambda *_: stop.set(),
                                         (signal.SIGTERM, signal.SIGINT)):
            from airan.live import wire
            from airan.live.runtime import DEPLOYMENT, LiveRuntime, parse_models

            _check_options(seed=seed, duration=duration, threads=threads, out=out_dir)
            _check_serve_out(out_dir)
            if host is not None and delays == "netns":  # its hosts are the namespaces'
                raise InputError("not with --delays netns (each component listens on its "
                                 "namespace's own address)", field="--host", value=host)
            if host is not None:
                import socket

                try:
                    socket.getaddrinfo(host, None)
                except (OSError, UnicodeError):
                    raise InputError("not an address or host name this machine resolves",
                                     field="--host", value=host) from None
            if component and not token:
                raise InputError("components on separate hosts need the tenant token they "
                                 "share: --token or AIRAN_TOKEN", field="--token")
            tls = _tls(tls_cert, tls_key, tls_ca)
            from airan.scenario import load_scenario

            served: Any = scenario
            sc = load_scenario(scenario)
            if _fleet_scale(fleet_scale) != 1.0:  # (the deployment's scenario.yaml is scaled)
                served = sc = _scale(sc, scenario, fleet_scale)
            _warn(sc, scenario, policy, duration)
            rt = LiveRuntime(served, out_dir, policy=policy, seed=seed,
                             models=parse_models(model), threads=threads, delays=delays,
                             host=host or ("0.0.0.0" if component else "127.0.0.1"),
                             shared_gateway=shared_gateway, components=component or None,
                             tenants={wire.DEFAULT_TENANT: token} if token else None,
                             realtime=realtime, tls=tls)
            if tls is None and rt.host not in ("127.0.0.1", "::1", "localhost"):
                err.print(f"warning: serving on {rt.host} without TLS: the tenant token and "
                          "the payloads cross the network in the clear (--tls-cert and "
                          "--tls-key; docs/live.md)", markup=False, soft_wrap=True)
            from airan.policy import resolve_policy

            resolve_policy(rt.policy)  # (its options, the policy and the models
            load_kernel()  # checked before the kernel's wait: the gateways' twin, here once)
            with rt:
                dep = rt.deployment
                assert dep is not None
                # the sites this host started (with --component, the deployment also lists
                # the other hosts' sites, which its gateways reach)
                for n, a in dep.sites.items():
                    if n in rt.sites:
                        out.print(f"site {n}: {a}", markup=False)
                for n, a in dep.gateways.items():
                    out.print(f"gateway {n}: {a}", markup=False)
                if rt.host in ("0.0.0.0", "::") and delays != "netns":  # (a live review: the
                    # addresses above read as the only ones, where every interface listens)
                    out.print(f"listening on every interface ({rt.host}; --host for one)",
                              markup=False)
                _print_network(dep.network)
                out.print(f"deployment (addresses, tenant tokens): {out_dir / DEPLOYMENT}",
                          markup=False, soft_wrap=True)
                # watch the components: one that ends (a crash, a kill) ends the deployment,
                # said (a live integrator's review: serve ran on silently to its duration)
                end = time.monotonic() + (math.inf if duration is None else duration)
                dead: list[tuple[str, int, Path]] = []
                said: set[str] = set()
                n_started = len(rt.sites) + len(rt.gateways)
                while not stop.wait(min(WATCH_S, max(0.0, end - time.monotonic()))):
                    dead = rt.dead()
                    if keep_serving:  # (a live review: a killed site took the gateways
                        # down with it, so their failover could not be tried on one host)
                        for name, code, log in dead:
                            if name not in said:
                                said.add(name)
                                err.print(f"warning: {name} ended (exit code {code}) while "
                                          f"serving; its log: {log}; the others go on "
                                          "(--keep-serving)", markup=False, soft_wrap=True)
                    if (dead and not keep_serving) or len(dead) == n_started \
                            or time.monotonic() >= end:
                        break
            if dead:
                if not keep_serving:
                    for name, code, log in dead:
                        err.print(f"error: {name} ended (exit code {code}) while serving; its "
                                  f"log: {log}", markup=False, soft_wrap=True)
                raise typer.Exit(1)
            out.print("stopped")

    @app.command()
    def devices(
        scenario: str = typer.Argument(..., help="built-in scenario name or YAML file"),
        deployment: Path = typer.Option(None, help="deployment.json (or its folder) from "
                                        "`airan serve` (default: the scenario's live "
                                        "addresses, with --token)"),
        token: str = typer.Option(None, envvar="AIRAN_TOKEN", help="the tenant token (without "
                                  "--deployment)"),
        seed: int = typer.Option(None, help="without --deployment: the seed the components "
                                 "were served with (default: the scenario's)"),
        duration: float = typer.Option(30.0, help="seconds of requests"),
        out_dir: Path = typer.Option(None, "--out", help="run folder (default: "
                                     "runs/<scenario>-live-<seed>, and -x<scale> with a "
                                     "--fleet-scale other than 1)"),
        timeout: float = typer.Option(5.0, help="a request unanswered after this many seconds "
                                      "is dropped (timeout)"),
        fleet_scale: float = typer.Option(1.0, "--fleet-scale", help="multiply every fleet's "
                                          "device count, as given to airan serve"),
        tls_ca: Path = typer.Option(None, "--tls-ca", envvar="AIRAN_TLS_CA", help=TLS_CA_HELP
                                    + "; dial over TLS"),
        tls: bool = typer.Option(None, "--tls/--no-tls", help="dial the gateways over TLS "
                                 "(default: as the deployment's servers; without "
                                 "--deployment, with --tls-ca)"),
    ) -> None:
        """Emulate the scenario's devices against running gateways; write a run folder."""
        with _user_errors(), _on_signals(_interrupt, (signal.SIGTERM,)):
            from airan.api import note_fleet_scale
            from airan.console import default_run_folder, run_label, scale_suffix
            from airan.live import wire
            from airan.live.devices import run_devices
            from airan.live.runtime import Deployment, deployment_from_scenario
            from airan.report.rundir import write_run
            from airan.scenario import load_scenario

            _check_options(seed=seed, duration=duration, out=out_dir, timeout=timeout)
            # (--no-tls wins over a CA, which AIRAN_TLS_CA may give: a diff review)
            client_tls = None if tls is False else _tls(None, None, tls_ca, servers=False)
            sc = unscaled = load_scenario(scenario)
            sent = {v for f in sc.fleets if f.count for v in f.services}
            deadline_ms = max((v.deadline_ms for v in sc.services if v.name in sent),
                              default=0.0)
            if timeout * 1e3 < deadline_ms:  # (a live review: 0.001 dropped every request)
                err.print(f"warning: option '--timeout': {timeout:g} s is shorter than a "
                          f"deadline ({deadline_ms:g} ms): a request answered after it, in "
                          "time or late, is dropped (timeout) instead", markup=False,
                          soft_wrap=True)
            sc = _scale(sc, scenario, fleet_scale)
            if deployment is not None:
                dep = Deployment.read(deployment)
                _check_served(sc, dep, deployment,
                              unscaled if fleet_scale != 1.0 else None)
                if seed is not None and seed != dep.seed:  # (the components' draws are seeded)
                    raise InputError(f"the deployment runs on seed {dep.seed} (airan serve "
                                     "--seed): leave --seed out, or serve again with it",
                                     field="--seed", value=seed)
                # TLS as the deployment's servers speak it, unless --tls or --no-tls says
                # otherwise; the CA this host holds (--tls-ca), else the deployment's, checked
                # here (a path on the serving host: a diff review got a traceback)
                on = dep.tls if tls is None else tls
                ca = client_tls.ca if client_tls else dep.tls_ca
                if on and ca is not None and client_tls is None:
                    from airan.live.runtime import check_tls

                    try:
                        check_tls(wire.Tls(ca=ca))
                    except InputError as exc:
                        raise InputError(f"the deployment's CA file {exc.reason}: give this "
                                         "host's copy with --tls-ca", field="--tls-ca",
                                         value=ca) from None
                from dataclasses import replace

                dep = replace(dep, tls=on, tls_ca=ca if on else None)
            elif not token:
                raise InputError("give --deployment (from airan serve), or --token with the "
                                 "scenario's live addresses", field="--deployment")
            else:
                from airan.console import _scenario_errors
                with _scenario_errors(scenario):  # (its live section: the file named)
                    dep = deployment_from_scenario(
                        sc, token, seed=seed,
                        tls=client_tls or (wire.Tls(enabled=True) if tls else None))
            folder = out_dir or default_run_folder(scenario, Path("runs") / (
                f"{run_label(scenario, sc.name)}-live-{dep.seed}{scale_suffix(fleet_scale)}"))
            _check_out(folder)
            load_kernel()
            res = run_devices(sc, dep, duration_s=duration, timeout_s=timeout)
            note_fleet_scale(res.summary, fleet_scale)
            folder = write_run(res, folder)
        _print_run(res.summary, folder, less_load=_less_load(
            sc, fleet_scale, " to both airan serve and airan devices"))

    @app.command()
    def live(
        scenario: str = typer.Argument(..., help="built-in scenario name or YAML file"),
        duration: float = typer.Option(30.0, help="seconds of requests"),
        out_dir: Path = typer.Option(None, "--out", help="run folder (default: "
                                     "runs/<scenario>-live-<seed>, and -x<scale> with a "
                                     "--fleet-scale other than 1)"),
        policy: str = POLICY_OPTION,
        seed: int = SEED_OPTION,
        model: list[str] = MODEL_OPTION,
        threads: int = typer.Option(1, help="ONNX Runtime threads per site worker"),
        report: bool = typer.Option(True, help="build report.html"),
        shared_gateway: bool = typer.Option(False, help="one gateway process for every cell "
                                            "(with --delays netns: for the cells of each "
                                            "node)"),
        delays: str = typer.Option("gateway", help=DELAYS_HELP),
        fleet_scale: float = typer.Option(1.0, "--fleet-scale", help="multiply every fleet's "
                                          "device count (fewer devices: less load)"),
        realtime: bool = typer.Option(None, "--realtime/--no-realtime", help="site workers "
                                      "with real-time scheduling (default: only with fewer "
                                      "workers than cores; needs CAP_SYS_NICE)"),
        tls_cert: Path = TLS_CERT_OPTION,
        tls_key: Path = TLS_KEY_OPTION,
        tls_ca: Path = TLS_CA_OPTION,
    ) -> None:
        """Serve the scenario and run its devices against it, end to end; stop cleanly."""
        with _user_errors(), _on_signals(_interrupt, (signal.SIGTERM,)):
            from airan.api import note_fleet_scale
            from airan.live.devices import run_devices
            from airan.live.runtime import LiveRuntime, parse_models
            from airan.report.rundir import write_run
            from airan.scenario import load_scenario

            _check_options(seed=seed, duration=duration, threads=threads, out=out_dir)
            sc = load_scenario(scenario)
            sc = _scale(sc, scenario, fleet_scale)
            _warn(sc, scenario, policy, duration)
            from airan.console import default_run_folder, run_label, scale_suffix

            scale = scale_suffix(fleet_scale)
            run_seed = sc.seed if seed is None else seed  # (seed 0 is a seed)
            folder = out_dir or default_run_folder(
                scenario, Path("runs") / f"{run_label(scenario, sc.name)}-live-{run_seed}{scale}")
            _check_out(folder)
            runtime = LiveRuntime(sc, Path(folder) / "serve", policy=policy, seed=seed,
                                  models=parse_models(model), threads=threads, delays=delays,
                                  shared_gateway=shared_gateway, realtime=realtime,
                                  tls=_tls(tls_cert, tls_key, tls_ca))
            from airan.policy import resolve_policy

            resolve_policy(runtime.policy)  # (its options, the policy and the models
            load_kernel()  # checked before the kernel's wait)
            with runtime as rt:
                assert rt.deployment is not None
                _print_network(rt.deployment.network)
                res = run_devices(sc, rt.deployment, duration_s=duration)
            note_fleet_scale(res.summary, fleet_scale)
            path = write_run(res, folder)
            if report:
                from airan.report import build_report

                build_report(path)
        _print_run(res.summary, path, less_load=_less_load(sc, fleet_scale))

    @app.command("twin-vs-live")
    def twin_vs_live_command(
        scenario: str = typer.Argument(..., help="built-in scenario name or YAML file"),
        duration: float = typer.Option(30.0, help="seconds of requests, in the twin and live"),
        warmup: float = typer.Option(8.0, help="seconds of a live run first, whose sites' "
                                     "measured compute sets both sides' service times (0: the "
                                     "scenario's own)"),
        out_dir: Path = typer.Option(None, "--out", help="folder for both runs and "
                                     "twin_vs_live.json (default: "
                                     "runs/<scenario>-twin-vs-live-<seed>)"),
        policy: str = POLICY_OPTION,
        seed: int = SEED_OPTION,
        model: list[str] = MODEL_OPTION,
        shared_gateway: bool = typer.Option(False, help="one gateway process for every cell"),
        fleet_scale: float = typer.Option(1.0, "--fleet-scale", help="multiply every fleet's "
                                          "device count (fewer devices: less load)"),
    ) -> None:
        """Run the scenario in the twin and live on this machine (the same seed, load and
        service times); print each service's p50 and p95 side by side."""
        with _user_errors(), _on_signals(_interrupt, (signal.SIGTERM,)):
            from airan.live.compare import twin_vs_live
            from airan.live.runtime import parse_models
            from airan.scenario import load_scenario

            _check_options(seed=seed, duration=duration, out=out_dir)
            if not (math.isfinite(warmup) and 0 <= warmup <= 3600):
                raise InputError("must be 0-3,600 s", field="--warmup", value=warmup)
            sc = load_scenario(scenario)
            sc = _scale(sc, scenario, fleet_scale)
            _warn(sc, scenario, policy, duration)
            from airan.console import run_label, scale_suffix

            run_seed = sc.seed if seed is None else seed
            folder = out_dir or Path("runs") / (f"{run_label(scenario, sc.name)}-twin-vs-live-"
                                                f"{run_seed}{scale_suffix(fleet_scale)}")
            _check_comparison_out(folder)
            unmeasured = [s.name for s in sc.services if s.service_time is None]
            if warmup == 0 and unmeasured:
                err.print(f"warning: {unmeasured[0]} has no service_time: the twin computes "
                          "it at its GPU's roofline, the live sites on this machine; give "
                          "--warmup (their measured compute for both), or the times `airan "
                          "profile` measured", markup=False, soft_wrap=True)
            models = parse_models(model)
            from airan.policy import resolve_policy

            resolve_policy(policy or sc.policy)  # (the policy checked before the kernel's wait)
            load_kernel()
            figures = twin_vs_live(sc, folder, duration_s=duration, models=models,
                                   policy=policy, shared_gateway=shared_gateway,
                                   warmup_s=warmup, seed=seed, fleet_scale=fleet_scale)
        _print_twin_vs_live(figures, folder, _less_load(sc, fleet_scale))

    @app.command()
    def profile(
        model: str = typer.Argument(..., help="an .onnx file or a built-in model name"),
        batch: str = typer.Option("1,2,4,8", help="batch sizes"),
        threads: int = typer.Option(1, help="ONNX Runtime intra-op threads"),
        payload_kb: float = typer.Option(None, help="also decode a JPEG of this size per "
                                         "request, as a site server does"),
        min_time: float = typer.Option(1.0, help="seconds of runs per batch size"),
        gap_ms: float = typer.Option(5.0, help="idle time before each run, as a site that is "
                                     "not saturated sees it (cold caches); 0: back to back"),
        out_file: Path = typer.Option(None, "--out", help="calibration file (default: "
                                      "<model>.calibration.yaml)"),
    ) -> None:
        """Measure a model's latency against batch size on this machine; write a calibration."""
        with _user_errors():
            from airan.live.models import profile as run_profile
            from airan.live.models import write_calibration

            _check_options(threads=threads, out=out_file, out_is_file=True)
            if payload_kb is not None and not 0 < payload_kb <= 100_000:
                raise InputError("must be more than 0 and at most 100,000 kB",
                                 field="--payload-kb", value=payload_kb)
            if not 0 < min_time <= 3600:
                raise InputError("must be more than 0 and at most 3,600 s", field="--min-time",
                                 value=min_time)
            if not 0 <= gap_ms <= 60_000:
                raise InputError("must be 0-60,000 ms", field="--gap-ms", value=gap_ms)

            try:
                cal = run_profile(model, _batches(batch), threads=threads, min_time_s=min_time,
                                  payload_kb=payload_kb, gap_ms=gap_ms)
            except InputError as exc:  # the model is this command's argument, not an option
                if exc.field != "--model":
                    raise
                raise InputError(exc.reason, field="MODEL", value=exc.value,
                                 choices=exc.choices, argument=True) from None
            target = out_file or Path(f"{Path(model).stem}.calibration.yaml")
            try:
                write_calibration(cal, target)
            except OSError as exc:
                raise InputError(f"cannot write the calibration: {exc.strerror or exc}",
                                 field="--out", value=str(target)) from None
        for b, v in cal["batches"].items():
            out.print(f"batch {b}: mean {v['mean_ms']:.3f} ms, p50 {v['p50_ms']:.3f}, "
                      f"p95 {v['p95_ms']:.3f}, cv {v['cv']:.2f}")
        st = cal["service_time"]
        table = ", ".join(f"{b}: {t}" for b, t in st["batch_ms"].items())
        out.print(f"service_time for a scenario: {{dist: lognormal, cv: {st['cv']}, "
                  f"batch_ms: {{{table}}}}} ({cal['runtime']['provider']})")
        out.print(f"calibration: {target}", markup=False, soft_wrap=True)

    @app.command()
    def calibrate(
        run: Path = typer.Argument(..., help="a live run's folder (airan live, airan devices)"),
        out_file: Path = typer.Option(None, "--out", help="the run's scenario with these "
                                      "service times (default: RUN/calibrated.yaml)"),
    ) -> None:
        """Each service's service time from the compute a live run's sites measured (the
        profile's curve over batch sizes, the run's level and spread); write the scenario for
        the twin."""
        with _user_errors():
            from airan.live.compare import (
                MIN_RUN_REQUESTS,
                calibrate_from_run,
                service_times_from_run,
            )
            from airan.report.rundir import CALIBRATED, SCENARIO, read_run, scenario_yaml
            from airan.scenario import load_scenario

            _check_options(out=out_file, out_is_file=True)
            read_run(run, require=("requests",))  # a run folder, or one line saying what it is
            as_run = load_scenario(run / SCENARIO)
            times = service_times_from_run(as_run, run)
            sc = calibrate_from_run(as_run, run, times)
            target = out_file or run / CALIBRATED
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(scenario_yaml(sc), encoding="utf-8")
            except OSError as exc:
                raise InputError(f"cannot write the scenario: {exc.strerror or exc}",
                                 field="--out", value=str(target)) from None
        for svc in sc.services:
            st = svc.service_time
            if times[svc.name] is None or st is None:
                out.print(f"{svc.name}: its own service time kept (the run's sites computed "
                          f"fewer than {MIN_RUN_REQUESTS} of its requests)", markup=False,
                          soft_wrap=True)
                continue
            table = ", ".join(f"{b}: {t:g}" for b, t in (st.batch_ms or {}).items())
            out.print(f"{svc.name}: service_time {{dist: lognormal, cv: {st.cv:g}, "
                      f"batch_ms: {{{table}}}}}", markup=False, soft_wrap=True)
            largest = max((cs.batching.for_model(svc.model)[0] for cs in sc.compute_sites),
                          default=1)
            sizes = list(st.batch_ms or {1: 0})
            if len(sizes) == 1 and sizes[0] < largest:
                out.print(f"[yellow]note: {svc.name}'s batches of up to {largest} take the "
                          f"time of a batch of {sizes[0]}, the one size measured: the run's "
                          f"scenario gave no curve over batch sizes to scale (a service_time "
                          f"with batch_ms, from `airan profile`, before the live run; "
                          f"docs/live.md)[/yellow]", soft_wrap=True)
            curve = st.batch_ms or {}
            costly = [(b, t) for b, t in curve.items()
                      if b > 1 and 1 in curve and t > b * curve[1]]
            if costly:
                b, t = costly[0]
                out.print(f"note: {svc.name}'s batch of {b} takes {t:g} ms, more than {b} "
                          f"batches of 1 ({b} x {curve[1]:g} ms): batching costs here "
                          "instead of saving (a curve measured under contention, or too few "
                          "batches of that size; profile the model alone with `airan profile`)",
                          markup=False, soft_wrap=True, style="yellow")
        guessed = [v.name for v in as_run.services
                   if v.service_time is None and times.get(v.name) is not None]
        if guessed:  # (a live review: live placed the VLA at the regional edge by the
            # catalog's 32 ms, the calibrated twin on the mlp's 0.9 ms kept it on-premises)
            out.print(f"note: the live run's gateways placed {', '.join(guessed)} by the "
                      "catalog model's estimated time, not what its sites measured: the twin on "
                      "these times may place them elsewhere; `airan twin-vs-live` serves the "
                      "live side with the measured times too", markup=False, soft_wrap=True,
                      style="yellow")
        out.print(f"the twin on these times: airan run {target}", markup=False, soft_wrap=True)
