"""Start and stop the site servers and gateways of a scenario on this machine (``airan serve``).

Each site and each gateway is its own process (``python -m airan.live.site_server`` /
``airan.live.gateway``) on a loopback port. :class:`LiveRuntime` writes their configurations and
``deployment.json`` (every component's address, the seed, the tenants) into its folder, waits
until each one listens, and stops them all on exit: SIGTERM, then SIGKILL after a grace period.
Logs go to ``logs/<component>.log``.

With ``delays="netns"`` the sites and gateways run in network namespaces joined by veth pairs
(:mod:`airan.live.netns`, shaped with ``tc netem`` where the kernel has it); the network is
made before the first process starts and removed after the last one stops.

For separate hosts, write the deployment file by hand (see docs/live.md): each component takes
its own configuration and its peers' addresses from it.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from airan.errors import InputError, unknown_name
from airan.live import netns, wire
from airan.live.gateway import GatewayConfig
from airan.live.models import model_path
from airan.live.priority import realtime_duty, realtime_workers
from airan.live.site_server import READY, SiteConfig
from airan.scenario import Scenario, load_scenario

DEPLOYMENT = "deployment.json"
MAX_GATEWAYS = 64
DELAYS = ("gateway", "none", "netns")
_PROXY_VARS = ("http_proxy", "https_proxy", "grpc_proxy", "HTTP_PROXY", "HTTPS_PROXY")


class StartError(RuntimeError):
    """A component did not start (it exited, e.g. its port was taken, or never got ready)."""


@dataclass
class Deployment:
    """Where every component of a live scenario listens, and what they share."""

    scenario: str  # path of the scenario YAML as served
    seed: int
    policy: str
    sites: dict[str, str]  # compute site -> host:port
    gateways: dict[str, str]  # cell -> host:port of its gateway
    tenants: dict[str, str]  # tenant -> token
    models: dict[str, str] = field(default_factory=dict)  # service -> ONNX file
    delays: str = "gateway"
    network: dict[str, Any] | None = None  # delays="netns": namespaces, links, shaping
    # whether the site workers were asked to run in real time (priority.realtime_workers; it
    # needs CAP_SYS_NICE too: the run's realtime_share says what they got; None: not known)
    realtime_workers: bool | None = None
    # how it was started (a rerun repeats them: a live integrator's review)
    threads: int = 1
    shared_gateway: bool = False
    # whether its servers speak TLS, and the CA file its clients trust (None: the system's)
    tls: bool = False
    tls_ca: str | None = None
    # made from the scenario's live addresses (airan devices without --deployment), not read
    from_scenario: bool = False

    def write(self, path: str | Path) -> Path:
        p = Path(path)
        data = asdict(self)
        data.pop("from_scenario")  # (this process's alone)
        if not self.tls:  # (a file an older airan on another host still reads)
            data.pop("tls")
            data.pop("tls_ca")
        p.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.chmod(p, 0o600)  # it holds the tenants' tokens
        return p

    @classmethod
    def read(cls, path: str | Path) -> Deployment:
        p = Path(path)
        if p.is_dir():
            p = p / DEPLOYMENT
        if not p.exists():
            raise InputError("no deployment here (`airan serve` writes one: give its --out "
                             "folder)", file=str(p))
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"cannot be read ({exc.strerror or exc})", file=str(p)) from None
        except ValueError as exc:  # (JSON and UTF-8 errors are ValueErrors)
            raise InputError(f"not a deployment file: {exc}", file=str(p)) from None
        what = "not a deployment file (`airan serve` writes one)"
        if not isinstance(data, dict):
            raise InputError(f"{what}: not a JSON object", file=str(p))
        known = {f.name: f for f in fields(cls)}
        for key in data:
            if key not in known:
                raise InputError(f"{what}: unknown field {key!r}", file=str(p), field=key,
                                 choices=list(known))
        for name, f in known.items():
            if name not in data and f.default is MISSING and f.default_factory is MISSING:
                raise InputError(f"{what}: field {name!r} is missing", file=str(p), field=name)
        return cls(**data)

    @property
    def token(self) -> str:
        """The first tenant's token (the one the device emulator uses)."""
        return next(iter(self.tenants.values()))

    @property
    def client_tls(self) -> wire.Tls:
        """How a client (the device emulator) dials this deployment's servers."""
        return wire.Tls(ca=self.tls_ca, enabled=self.tls)


def check_tls(tls: wire.Tls) -> wire.Tls:
    """``tls`` with its files made absolute (the components read them from their own folder),
    or an :class:`InputError` naming the option: a certificate without its key or the other
    way round, a file that cannot be read, a key that is not the certificate's, a CA file
    with no PEM certificate. Checked before anything starts (a component that failed on them
    would leave one line in its log)."""
    import ssl

    if (tls.cert is None) != (tls.key is None):
        missing, given = (("tls_key", tls.cert) if tls.key is None else ("tls_cert", tls.key))
        raise InputError("a server's TLS needs both its certificate and its private key "
                         "(PEM files)", field=missing, value=given)
    paths: dict[str, str] = {}
    texts: dict[str, bytes] = {}
    for name in ("cert", "key", "ca"):
        path = getattr(tls, name)
        if path is None:
            continue
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise InputError(f"cannot be read ({exc.strerror or exc})", field=f"tls_{name}",
                             value=str(path)) from None
        if b"-----BEGIN " not in data:
            raise InputError("not a PEM file (-----BEGIN ...)", field=f"tls_{name}",
                             value=str(path))
        paths[name] = str(Path(path).resolve())
        texts[name] = data
    if tls.cert is not None:
        cert_text, key_text = texts["cert"], texts["key"]
        if b"-----BEGIN CERTIFICATE-----" not in cert_text:
            raise InputError("no certificate in it (-----BEGIN CERTIFICATE-----)",
                             field="tls_cert", value=str(tls.cert))
        if b"ENCRYPTED" in key_text:  # (OpenSSL would ask for its pass phrase on the terminal)
            raise InputError("an encrypted key: the servers take an unencrypted PEM key "
                             "(openssl pkey -in KEY -out PLAIN_KEY)", field="tls_key",
                             value=str(tls.key))
        if b"PRIVATE KEY-----" not in key_text:
            raise InputError("no private key in it (-----BEGIN ... PRIVATE KEY-----)",
                             field="tls_key", value=str(tls.key))
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(
                tls.cert, tls.key, password=lambda: b"")
        except (ssl.SSLError, OSError) as exc:
            why = getattr(exc, "reason", None) or exc
            raise InputError(f"not the private key of the certificate {tls.cert} ({why})",
                             field="tls_key", value=str(tls.key)) from None
    if tls.ca is not None:
        try:
            ssl.create_default_context(cafile=tls.ca)
        except ssl.SSLError as exc:
            raise InputError(f"no CA certificate that can be read ({exc.reason})",
                             field="tls_ca", value=str(tls.ca)) from None
    return wire.Tls(paths.get("cert"), paths.get("key"), paths.get("ca"),
                    enabled=tls.enabled or tls.cert is not None or tls.ca is not None)


def check_live_scenario(sc: Scenario, max_payload_bytes: int = wire.MAX_PAYLOAD_BYTES) -> None:
    """Refuse a scenario with faults: a live run emulates none (its sites, links and cells stay
    up, its rates stay as given), and running it as if they were not there would answer
    another question than the scenario asks; and one whose payloads the wire does not carry
    (``max_payload_bytes`` per request: a live integrator's review, 5 MB frames each
    dropped as an error that said nothing)."""
    for v in sc.services:
        # (each at its mean size: a live run's, where a spread spreads the twin's)
        for key, kb in (("ul_kb", v.ul_mean_kb), ("dl_kb", v.dl_mean_kb)):
            if kb * 1000 > max_payload_bytes:
                raise InputError(
                    f"the live runtime carries at most {max_payload_bytes:,} bytes a request "
                    f"({max_payload_bytes / 2**20:g} MiB, its gRPC messages' limit): a "
                    f"{kb:g} kB payload would be dropped every time; run it in the twin, or "
                    "with smaller payloads (LiveRuntime's max_payload_bytes raises the limit)",
                    field=f"services[{v.name}].{key}", value=kb)
    if sc.faults:
        raise InputError(
            "the live runtime emulates no faults (its sites, links and cells stay up, its "
            "fleets' rates as given): run this scenario in the twin (`airan run`), or live "
            "without its faults", field="faults[0].kind", value=sc.faults[0].kind)
    if sc.engine.warmup_s > 0:
        raise InputError(
            "the live runtime counts every request it serves, and a twin that left a warm-up "
            "out would answer for other requests: set it to 0 for a live run (twin_vs_live's "
            "own warmup_s warms the live sites up before both runs)",
            field="engine.warmup_s", value=sc.engine.warmup_s)


def moving_fleets(sc: Scenario) -> list[str]:
    """The fleets whose devices move in the twin (a live run's devices stay where the twin
    places them at the start)."""
    return [f.name for f in sc.fleets
            if f.mobility is not None and f.mobility.model != "static"]


def resolve_models(scenario: Scenario, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The ONNX file of each service: ``overrides[service]``, else ``overrides[model]``, else the
    built-in model named like the service's catalog model (generated on first use)."""
    from airan.live.models import BUILTIN

    overrides = overrides or {}
    names = {s.name for s in scenario.services} | {s.model for s in scenario.services}
    for name in overrides:
        if name not in names:
            raise InputError(f"{name!r} is no service of the scenario, nor a model one uses",
                             field="--model", value=name, choices=names)
    out: dict[str, str] = {}
    for s in scenario.services:
        spec = overrides.get(s.name) or overrides.get(s.model)
        if spec is None:
            if s.model not in BUILTIN:
                kind = "the scenario's own" if s.model in scenario.models else "catalog"
                raise InputError(
                    f"service {s.name!r} uses {kind} model {s.model!r}, which has no built-in "
                    f"ONNX model; pass --model {s.name}=FILE.onnx or a built-in name",
                    field="--model", value=s.model, choices=BUILTIN)
            spec = s.model
        out[s.name] = str(model_path(spec).resolve())
    return out


def parse_models(items: list[str] | None) -> dict[str, str]:
    """``["detect=tiny-cnn", "plan=my.onnx"]`` -> a dict (``--model`` options)."""
    out = {}
    for it in items or []:
        name, sep, spec = it.partition("=")
        if not sep or not name or not spec:
            raise InputError("expected NAME=MODEL (a service or catalog model name, then a "
                             "built-in model or an .onnx path)", field="--model", value=it)
        out[name.strip()] = spec.strip()
    return out


class _Child:
    """A component process: its ready port is read from stdout by a thread (never blocks)."""

    def __init__(self, name: str, args: list[str], log: Path,
                 prefix: list[str] | None = None, field: str | None = None) -> None:
        """Run ``python ARGS``, behind ``prefix`` (e.g. ``ip netns exec NS``, which execs the
        interpreter in the same process: signals and stdout reach it directly); ``field``:
        the scenario's field its address comes from (``live.sites.NAME``), named if it fails."""
        self.name = name
        self.field = field
        self.log = log
        self._logfh = open(log, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop(wire.PARENT_ENV, None)
        if env.pop("AIRAN_GRPC_QUIET", None):  # (the command line's quiet, not the user's)
            env.pop("GRPC_VERBOSITY", None)
        if threading.current_thread() is threading.main_thread():
            # the child ends with this process (wire.exit_with_parent; Linux ties the signal to
            # the thread that starts the child, so only the main thread, which lives as long)
            env[wire.PARENT_ENV] = str(os.getpid())
        if prefix:  # inside a namespace no proxy is reachable
            for var in _PROXY_VARS:
                env.pop(var, None)
        self.proc = subprocess.Popen(
            [*(prefix or []), sys.executable, *args], stdout=subprocess.PIPE, stderr=self._logfh,
            stdin=subprocess.DEVNULL, text=True, env=env, start_new_session=True)
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def wait_ready(self, deadline: float, waited_s: float | None = None) -> int:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                said = _tail(self.log).strip()
                raise StartError(
                    f"{self.name} did not start in time"
                    + (f" ({waited_s:.0f} s)" if waited_s is not None else "")
                    + ": a first start compiles the engine, 1-3 minutes, longer with several "
                    "components compiling at once on a busy machine; run it again (the compiled "
                    "code is cached) or with --shared-gateway ("
                    + (f"its log: {self.log})" if said else f"its log {self.log} is empty)"))
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                code = self.proc.wait()
                said = _tail(self.log).strip()
                if code == 2 and said:  # the component's input error (a user's policy failed)
                    raise InputError(f"{self.name}: {said.splitlines()[-1]}")
                # its last line (a traceback's is the error itself), and where the rest is
                last = said.splitlines()[-1] if said else "(nothing in its log)"
                last = last.removeprefix("OSError: ")  # (wire.serve's words for a port taken)
                where = f" ({self.field} in the scenario)" if self.field else ""
                raise StartError(f"{self.name} exited with code {code}: {last}{where} (see "
                                 f"{self.log})")
            if line.startswith(READY):
                return int(line.split()[1])

    def stop(self, grace_s: float) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        self._logfh.close()

    def kill(self) -> None:
        """SIGKILL, at once (fault tests)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


def _tail(path: Path, n: int = 800) -> str:
    try:
        return path.read_text(encoding="utf-8")[-n:]
    except OSError:
        return ""


class LiveRuntime:
    """The site servers and gateways of a scenario as processes on this machine.

    Use as a context manager: ``with LiveRuntime(sc, folder) as rt: ... rt.deployment``.
    """

    def __init__(self, scenario: Scenario | str | Path, folder: str | Path, *,
                 policy: str | None = None, seed: int | None = None,
                 models: dict[str, str] | None = None, tenants: dict[str, str] | None = None,
                 threads: int = 1, host: str = "127.0.0.1", delays: str = "gateway",
                 site_timeout_s: float = 2.0, max_payload_bytes: int = wire.MAX_PAYLOAD_BYTES,
                 start_timeout_s: float = 300.0, shared_gateway: bool = False,
                 components: list[str] | None = None, realtime: bool | None = None,
                 tls: wire.Tls | None = None) -> None:
        """``components``: start only these (``site:NAME``, ``gateway:CELL``), listening on
        the scenario's ``live`` addresses, each given its peers' addresses from there: one
        host's share of a deployment on separate hosts (pass the shared ``tenants``).
        ``realtime``: whether the site workers may run with real-time scheduling (None: where
        the workers started here are fewer than the cores, :func:`realtime_workers`).
        ``tls``: every server started here speaks TLS with its certificate and key, and every
        gateway dials the sites over TLS trusting its CA (None: the system's roots); its
        certificate must name the addresses the components are dialled at."""
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        check_live_scenario(self.scenario, max_payload_bytes)
        self.components = _parse_components(self.scenario, components) if components else None
        if self.components is not None and delays == "netns":
            raise InputError("network namespaces are for one machine, not for components on "
                             "separate hosts", field="--delays", value=delays)
        if delays not in DELAYS:
            raise InputError(f"delays must be one of {', '.join(DELAYS)}", field="--delays",
                             value=delays, choices=DELAYS)
        if tls is not None and tls.cert is not None and delays == "netns":
            raise InputError("not with --delays netns: its namespaces' addresses are made for "
                             "each run, and no certificate names them", field="tls_cert",
                             value=tls.cert)  # (before the namespaces' probe: on any machine)
        self.support: netns.Support | None = None
        if delays == "netns":  # checked before anything is made
            self.support = netns.probe()
            if not self.support.netns:
                raise InputError(
                    "network namespaces are not possible on this machine: "
                    f"{self.support.reason}; use delays 'gateway'", field="--delays", value=delays)
        self.folder = Path(folder)
        self.policy = policy or self.scenario.policy
        self.seed = self.scenario.seed if seed is None else int(seed)
        self.models = resolve_models(self.scenario, models)
        self.tenants = tenants or {wire.DEFAULT_TENANT: wire.new_token()}
        self.threads = threads
        self.host = host
        self.delays = delays
        self.site_timeout_s = site_timeout_s
        self.max_payload_bytes = max_payload_bytes
        self.start_timeout_s = start_timeout_s
        self.shared_gateway = shared_gateway  # one gateway process for every cell
        self.realtime = realtime
        self.tls = check_tls(tls) if tls is not None and (tls.cert or tls.key or tls.ca) \
            else None
        if self.tls is not None and self.tls.cert is None:
            raise InputError("a deployment's servers speak TLS with a certificate and key of "
                             "their own (a CA alone is for the devices' side)",
                             field="tls_cert", value=None)

        self.realtime_workers: bool | None = None  # as started (no site here: None)
        self.sites: dict[str, _Child] = {}
        self.gateways: dict[str, _Child] = {}
        self.deployment: Deployment | None = None
        self.network: netns.NetnsNetwork | None = None  # delays="netns"

    def _cells(self) -> list[str]:
        from airan.engine.world import build_world

        self._world = build_world(self.scenario, self.seed)
        return list(self._world.cell_names)

    def _instances_by_file(self, spec: Any) -> dict[str, int]:
        """The model instances a site (``spec``, its compute site) runs per GPU, by ONNX file
        (the services it serves: its ``services``; every one without)."""
        return {str(self.models[v.name]): spec.batching.instances_for(v.model)
                for v in self.scenario.services if v.name in self.models
                and (spec.services is None or v.name in spec.services)}

    def start(self) -> Deployment:
        """Start every site, then every gateway; wait until all listen; write deployment.json."""
        from airan.policy import resolve_policy
        from airan.report.rundir import scenario_document

        resolve_policy(self.policy)  # a bad policy name fails here, not in every gateway
        sc = self.scenario
        scen_path = self.folder / "scenario.yaml"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / "logs").mkdir(exist_ok=True)
            (self.folder / "config").mkdir(exist_ok=True)
            # the files it names made absolute: the gateways read it from this folder
            scen_path.write_text(yaml.safe_dump(scenario_document(sc), sort_keys=False),
                                 encoding="utf-8")
        except OSError as exc:  # a file in the way, a read-only folder
            raise InputError(f"cannot write the run folder: {exc.strerror or exc}",
                             file=str(self.folder)) from None
        cells = self._cells()
        w = self._world
        groups = self._gateway_groups(cells)
        live = sc.live
        want_sites = set(w.site_names)
        if self.components is not None:
            want_sites, want_cells = self.components
            groups = _address_groups(sc, want_cells)
        if len(groups) > MAX_GATEWAYS:  # (those started here: --component starts some)
            raise InputError(f"{len(cells)} cells: the live runtime starts one gateway process "
                             f"per cell, at most {MAX_GATEWAYS} on one machine"
                             if len(groups) == len(cells) else
                             f"{len(groups)} gateway processes to start on this machine, at "
                             f"most {MAX_GATEWAYS}", field="cell_sites", value=len(cells))
        gw_delays = self.delays
        try:
            if self.delays == "netns":
                assert self.support is not None
                self.network = netns.NetnsNetwork(
                    w, {key: int(w.cell_node[w.cell_names.index(group[0])])
                        for key, group in groups}, netem=self.support.netem,
                    tbf=self.support.tbf and not self.support.netem).create()
                gw_delays = self.network.gateway_delays
            net = self.network
            # the host's real-time budget (half its cores) shared among every worker started here
            # (a site runs a worker per instance of each ONNX file on each GPU: two services
            # of one catalog model on two files are two models there)
            n_workers = sum(
                int(w.site_n_gpus[s]) * sum(self._instances_by_file(spec).values())
                for s, name in enumerate(w.site_names) if name in want_sites
                for spec in [next(c for c in self._compute_sites() if c.name == name)])
            max_duty = realtime_duty(n_workers)
            realtime = realtime_workers(n_workers) if self.realtime is None else self.realtime
            # (with ONNX Runtime's own threads the workers never run in real time: site_server)
            self.realtime_workers = realtime and self.threads == 1
            for s, name in enumerate(w.site_names):
                if name not in want_sites:
                    continue
                spec = next(c for c in self._compute_sites() if c.name == name)
                cfg = SiteConfig(
                    name=name, tenants=self.tenants,
                    models={k: p for k, p in self.models.items()  # (those it serves)
                            if spec.services is None or k in spec.services},
                    host="0.0.0.0" if net else self.host,  # every link of its namespace
                    port=_port(live.sites[name]) if self.components is not None else 0,
                    gpus=int(w.site_n_gpus[s]), queue_limit=spec.queue_limit,
                    max_batch=spec.batching.max_batch,
                    max_wait_s=spec.batching.max_wait_ms * 1e-3,
                    batch_by_model_file={
                        str(self.models[v.name]): [b, wait_ms * 1e-3]
                        for v in self.scenario.services
                        for b, wait_ms in [spec.batching.for_model(v.model)]
                        if v.model in spec.batching.models and v.name in self.models},
                    instances=spec.batching.instances,
                    instances_by_model_file=self._instances_by_file(spec),
                    priorities={v.name: v.compute_priority for v in self.scenario.services
                                if v.compute_priority is not None and v.name in self.models},
                    threads=self.threads,
                    max_payload_bytes=self.max_payload_bytes, worker_max_duty=max_duty,
                    worker_realtime=SiteConfig.worker_realtime if realtime else 0,
                    tls_cert=self.tls.cert if self.tls else None,
                    tls_key=self.tls.key if self.tls else None)
                self.sites[name] = self._spawn("site", name, cfg, "airan.live.site_server",
                                               net.site_ns(name) if net else None,
                                               field=f"live.sites.{name}")
            deadline = time.monotonic() + self.start_timeout_s
            site_port = {n: c.wait_ready(deadline, self.start_timeout_s)
                         for n, c in self.sites.items()}
            # where the root namespace (the device emulator, an operator) reaches each site
            # (a server on every interface is dialled on the loopback: no certificate names
            # 0.0.0.0, a diff review found TLS failing there silently)
            site_addr = {n: wire.address(net.site_ns(n).ip if net else _dial(self.host), p)
                         for n, p in site_port.items()}
            if self.components is not None:  # peers on other hosts: the scenario's addresses
                site_addr = dict(live.sites)
            gw_host: dict[str, str] = {}
            for key, group in groups:
                # where this gateway reaches each site: over its own data link with netns
                sites = ({n: f"{net.site_ip(key, n)}:{p}" for n, p in site_port.items()}
                         if net else site_addr)
                gw_host[key] = net.gateway_ns(key).ip if net else self.host
                gcfg = GatewayConfig(
                    cells=group, scenario=str(scen_path), sites=sites, tenants=self.tenants,
                    seed=self.seed, policy=self.policy, host=gw_host[key], delays=gw_delays,
                    port=_port(key) if self.components is not None else 0,
                    site_timeout_s=self.site_timeout_s, max_payload_bytes=self.max_payload_bytes,
                    tls_cert=self.tls.cert if self.tls else None,
                    tls_key=self.tls.key if self.tls else None,
                    tls_ca=self.tls.ca if self.tls else None)
                self.gateways[key] = self._spawn("gateway", key, gcfg, "airan.live.gateway",
                                                 net.gateway_ns(key) if net else None,
                                                 field=_gateway_field(live, key, group))
            ports = {n: c.wait_ready(deadline, self.start_timeout_s)
                     for n, c in self.gateways.items()}
            gw_addr = {c: wire.address(_dial(gw_host[key]), ports[key]) for key, group in groups
                       for c in group}
            if self.components is not None:
                gw_addr = {c: key for key, group in groups for c in group}
        except BaseException:
            self.stop()
            raise
        self.deployment = Deployment(
            scenario=str(scen_path.resolve()), seed=self.seed, policy=self.policy, sites=site_addr,
            gateways=gw_addr, tenants=self.tenants, models=self.models, delays=self.delays,
            network=self.network.note(gw_delays, self.support) if self.network else None,
            realtime_workers=self.realtime_workers if self.sites else None,
            threads=self.threads, shared_gateway=self.shared_gateway,
            tls=self.tls is not None, tls_ca=self.tls.ca if self.tls else None)
        self.deployment.write(self.folder / DEPLOYMENT)
        return self.deployment

    def _spawn(self, kind: str, name: str, cfg: Any, module: str,
               ns: netns.Namespace | None, field: str | None = None) -> _Child:
        """Write ``cfg`` to ``config/<kind>-<name>.json`` (owner-only: it holds the tokens) and
        start ``python -m module`` on it, inside namespace ``ns`` if given; ``field``: the
        scenario's field its address comes from (components on separate hosts)."""
        path = self.folder / "config" / f"{kind}-{_safe(name)}.json"
        path.write_text(json.dumps(asdict(cfg), indent=2), encoding="utf-8")
        os.chmod(path, 0o600)
        return _Child(f"{kind} {name}", ["-m", module, str(path)],
                      self.folder / "logs" / f"{kind}-{_safe(name)}.log",
                      netns.NetnsNetwork.exec_prefix(ns) if ns is not None else None,
                      field=field if self.components is not None else None)

    def _gateway_groups(self, cells: list[str]) -> list[tuple[str, list[str]]]:
        """(gateway key, its cells) per gateway process: one per cell, or with
        ``shared_gateway`` one for every cell -- except with ``delays="netns"``, where a shared
        gateway is shared by the cells of one node (a process lives in one namespace, whose
        links carry the paths from one node), so one per node that has cells."""
        if not self.shared_gateway:
            return [(c, [c]) for c in cells]
        if self.delays != "netns":
            return [("all-cells", cells)]
        w = self._world
        by_node: dict[int, list[str]] = {}
        for c in cells:
            by_node.setdefault(int(w.cell_node[w.cell_names.index(c)]), []).append(c)
        if len(by_node) == 1:
            return [("all-cells", cells)]
        return [(f"cells-at-{w.node_names[n]}", cs) for n, cs in by_node.items()]

    def _compute_sites(self) -> list[Any]:
        from airan.scenario.schema import ComputeSite

        sc = self.scenario
        out = list(sc.compute_sites)
        g = sc.generated_compute_sites
        if g is not None:  # the same names as airan.engine.world
            names = sc.cell_site_names()
            for i in sc.generated_host_indices():
                out.append(ComputeSite(name=f"gpu-{names[i]}", at=names[i], kind="cell",
                                       gpus=g.gpus, queue_limit=g.queue_limit,
                                       batching=g.batching))
        return out

    def dead(self) -> list[tuple[str, int, Path]]:
        """The components started here that have ended: (name, exit code, log)."""
        return [(c.name, int(c.proc.returncode), c.log)
                for c in [*self.sites.values(), *self.gateways.values()]
                if c.proc.poll() is not None]

    def kill_site(self, name: str) -> None:
        """Kill a site server at once (SIGKILL), as a crash would."""
        self.sites[name].kill()

    def stop(self, grace_s: float = 3.0) -> None:
        """Stop the gateways, then the sites (SIGTERM, SIGKILL after ``grace_s``); then remove
        the network namespaces, if any (also when stopping failed)."""
        try:
            for c in [*self.gateways.values(), *self.sites.values()]:
                if c.proc.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        c.proc.send_signal(signal.SIGTERM)
            for c in [*self.gateways.values(), *self.sites.values()]:
                c.stop(grace_s)
        finally:
            if self.network is not None:
                self.network.destroy()  # the object stays, for its names and figures

    def __enter__(self) -> LiveRuntime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _port(address: str) -> int:
    return int(address.rpartition(":")[2])


def _parse_components(sc: Scenario, components: list[str]) -> tuple[set[str], set[str]]:
    """(sites, cell keys) of ``site:NAME`` / ``gateway:CELL`` items, checked against the
    scenario's ``live`` section (every site needs an address: the gateways dial them)."""
    sites: set[str] = set()
    cells: set[str] = set()
    for item in components:
        kind, _, name = item.partition(":")
        if kind == "site":
            names = sc.compute_site_names()
            if name not in names and name not in sc.live.sites:
                raise unknown_name("compute site", name, names, field="component")
            if name not in sc.live.sites:
                raise InputError("the scenario's live.sites gives this compute site no address "
                                 f"(add live: {{sites: {{{name}: HOST:PORT}}}})",
                                 field=f"live.sites.{name}", value=name)
            sites.add(name)
        elif kind == "gateway":
            # a key of live.gateways, or a cell one of them covers
            keys = [k for k, cs in sc.live_gateway_cells().items() if k == name or name in cs]
            if not keys:
                cell_names = sc.cell_names()
                known = set(cell_names) | {c.split("/")[0] for c in cell_names}
                if name not in known:
                    raise unknown_name("cell or cell site", name, sorted(known),
                                       field="component")
                raise InputError("the scenario's live.gateways gives this cell no address "
                                 f"(add live: {{gateways: {{{name}: HOST:PORT}}}})",
                                 field=f"live.gateways.{name}", value=name)
            cells.update(keys)
        else:
            raise InputError("a component is site:NAME or gateway:CELL", field="component",
                             value=item)
    if cells:
        missing = [n for n in sc.compute_site_names() if n not in sc.live.sites]
        if missing:
            raise InputError("a gateway needs every compute site's address",
                             field=f"live.sites.{missing[0]}", value=missing[0])
    return sites, cells


def _address_groups(sc: Scenario, want: set[str]) -> list[tuple[str, list[str]]]:
    """(address, its cells) for each gateway address with a wanted key: the cells of every key
    that shares the address."""
    gateways = sc.live.gateways
    out: dict[str, list[str]] = {}
    for key, cells in sc.live_gateway_cells().items():
        addr = gateways[key]
        if any(gateways[k] == addr for k in want):
            group = out.setdefault(addr, [])
            group.extend(c for c in cells if c not in group)
    return list(out.items())


def deployment_from_scenario(sc: Scenario, token: str, *, seed: int | None = None,
                             policy: str | None = None,
                             tls: wire.Tls | None = None) -> Deployment:
    """The deployment of components started on separate hosts from the scenario's ``live``
    addresses (for ``airan devices`` without ``--deployment``); ``token``: the tenant's;
    ``tls``: how its servers are dialled (enabled, and the CA to trust)."""
    gw = {c: sc.live.gateways[key] for key, cs in sc.live_gateway_cells().items() for c in cs}
    missing = [c for c in sc.cell_names() if c not in gw]
    if missing:
        raise InputError("no gateway address for this cell in the scenario",
                         field=f"live.gateways.{missing[0]}", value=missing[0])
    return Deployment(scenario=sc.name, seed=sc.seed if seed is None else seed,
                      policy=policy or sc.policy, sites=dict(sc.live.sites), gateways=gw,
                      tenants={wire.DEFAULT_TENANT: token},
                      delays="as set on the gateways' hosts",  # (not known from here)
                      tls=tls is not None and tls.enabled, tls_ca=tls.ca if tls else None,
                      from_scenario=True)


def _dial(host: str) -> str:
    """Where this machine reaches a server listening on ``host``: the loopback for a server
    on every interface."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)


def _gateway_field(live: Any, key: str, cells: list[str]) -> str:
    """The scenario's field a gateway's address comes from: the ``live.gateways`` key that
    holds it (a cell site's name stands for its sectors), else its first cell's."""
    for k, address in (live.gateways.items() if live is not None else ()):
        if address == key:
            return f"live.gateways.{k}"
    return f"live.gateways.{cells[0]}"


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
