"""The namespaced network of a live deployment (``delays="netns"``).

One network namespace per compute site and one per gateway process, a veth pair between each
gateway's namespace and each site's namespace (the *data links*, shaped with ``tc netem`` from
the scenario's transport path where the kernel has ``sch_netem``), and one unshaped veth pair
from every namespace to the root namespace (the *root links*: the device emulator reaches the
gateways and polls the sites over them). Names start with ``airan-<pid>-<n>`` and are unique per
:class:`NetnsNetwork`; :meth:`NetnsNetwork.destroy` deletes every namespace it made (which
deletes their veth pairs), and :func:`cleanup_stale` those of runs whose process is gone.

Addresses (IPv4, one /30 per veth pair): data links in ``10.201.0.0/16`` (inside namespaces
only: the gateway's end ``.1``, the site's end ``.2`` of the pair's /30), root links in
``10.202.0.0/16`` (the root end ``.1``, the namespace's end ``.2``; /30s not used by another
address of the root namespace).

Every command is ``ip``/``tc`` from iproute2, run as an argument list; many are sent at once
with ``ip -batch -``. Creating and deleting namespaces needs root (CAP_NET_ADMIN and
CAP_SYS_ADMIN); :func:`probe` says whether this machine allows it, and whether netem exists.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import ipaddress
import itertools
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PREFIX = "airan"
DATA_NET = ipaddress.IPv4Network("10.201.0.0/16")  # gateway <-> site, inside namespaces
ROOT_NET = ipaddress.IPv4Network("10.202.0.0/16")  # namespace <-> root namespace
LOCK_FILE = Path(tempfile.gettempdir()) / "airan-netns.lock"
IFNAMSIZ = 15  # longest interface name (characters)
TBF_BURST_BYTES = 2 * 1514  # tbf bucket: two Ethernet frames (GSO packets are split to fit)
_CAP_NET_ADMIN, _CAP_SYS_ADMIN = 12, 21
_STALE = re.compile(rf"^{PREFIX}-(\d+)-")
_counter = itertools.count()


class NetnsError(RuntimeError):
    """An ``ip``/``tc`` command failed (the message has the command and its error)."""


def _run(args: list[str], stdin: str | None = None) -> str:
    """Run an iproute2 command; its stdout, or :class:`NetnsError` with its stderr."""
    try:
        res = subprocess.run(args, check=True, capture_output=True, text=True, input=stdin,
                             timeout=60)
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or exc.stdout or "").strip()
        raise NetnsError(f"{' '.join(args)}: {detail or f'exit code {exc.returncode}'}") from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NetnsError(f"{' '.join(args)}: {exc}") from None
    return res.stdout


def _batch(lines: list[str], netns: str | None = None, tool: str = "ip") -> None:
    """Send ``lines`` (commands without the tool's name) to ``ip``/``tc -batch -``, in the
    namespace ``netns`` if given; stops at the first failing line."""
    if lines:
        _run([tool, *(["-n", netns] if netns else []), "-batch", "-"], "\n".join(lines) + "\n")


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    """Hold the machine-wide lock of :data:`LOCK_FILE` (released when the block ends)."""
    fd = os.open(LOCK_FILE, os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# ---- what this machine allows ------------------------------------------------------------------
@dataclass(frozen=True)
class Support:
    """What this machine allows: namespaces with veth pairs, and which qdiscs."""

    netns: bool  # network namespaces and veth pairs can be made (root, iproute2)
    netem: bool  # the kernel has sch_netem (delay and rate on real packets)
    tbf: bool  # the kernel has sch_tbf (rate only)
    reason: str = ""  # why netns is False
    netem_reason: str = ""  # why netem is False

    def as_dict(self) -> dict[str, Any]:
        return {"netns": self.netns, "netem": self.netem, "tbf": self.tbf,
                "reason": self.reason, "netem_reason": self.netem_reason}


def _capabilities() -> int | None:
    """The effective capability bits of this process (None where unknown)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _privileged() -> bool:
    """CAP_NET_ADMIN and CAP_SYS_ADMIN (``ip netns`` mounts); where the capabilities are
    unknown, root."""
    caps = _capabilities()
    if caps is None:
        return os.geteuid() == 0
    return bool(caps >> _CAP_NET_ADMIN & 1 and caps >> _CAP_SYS_ADMIN & 1)


def _impossible(reason: str) -> Support:
    return Support(False, False, False, reason, "no network namespaces here")


def _probe() -> Support:
    """Try it: a throwaway namespace with a veth pair, then a netem and a tbf qdisc on it."""
    if not sys.platform.startswith("linux"):
        return _impossible("network namespaces are a Linux feature")
    missing = [t for t in ("ip", "tc") if shutil.which(t) is None]
    if missing:
        return _impossible(f"{' and '.join(missing)} not on PATH (install iproute2)")
    if not _privileged():
        return _impossible("needs root with CAP_NET_ADMIN and CAP_SYS_ADMIN to make network "
                           f"namespaces; running as uid {os.geteuid()} without them")
    ns = f"{PREFIX}-{os.getpid()}-probe{next(_counter)}"
    try:
        try:
            _run(["ip", "netns", "add", ns])
        except NetnsError as exc:
            return _impossible(f"ip netns add failed: {exc}")
        try:
            _run(["ip", "-n", ns, "link", "add", "pa", "type", "veth", "peer", "name", "pb"])
            _run(["ip", "netns", "exec", ns, sys.executable, "-c", "pass"])
        except NetnsError as exc:
            return _impossible(f"veth pairs or ip netns exec fail: {exc}")
        netem, why = True, ""
        try:
            _run(["tc", "-n", ns, "qdisc", "add", "dev", "pa", "root", "netem", "delay", "1ms"])
        except NetnsError as exc:
            netem, why = False, f"no netem qdisc ({str(exc).split(': ', 1)[-1]})"
        try:
            _run(["tc", "-n", ns, "qdisc", "add", "dev", "pb", "root", "tbf", "rate", "1gbit",
                  "burst", "32kb", "latency", "10ms"])
            tbf = True
        except NetnsError:
            tbf = False
        return Support(True, netem, tbf, "", why)
    finally:
        with contextlib.suppress(NetnsError):
            _run(["ip", "netns", "del", ns])


@functools.cache
def probe() -> Support:
    """Whether this machine can make the namespaced network, and which qdiscs it has (the
    answer is kept; ``probe.cache_clear()`` asks again)."""
    return _probe()


# ---- housekeeping ------------------------------------------------------------------------------
def list_namespaces(prefix: str = f"{PREFIX}-") -> list[str]:
    """The named network namespaces whose name starts with ``prefix``."""
    if shutil.which("ip") is None:
        return []
    try:
        text = _run(["ip", "netns", "list"])
    except NetnsError:
        return []
    names = [ln.split()[0] for ln in text.splitlines() if ln.strip()]
    return sorted(n for n in names if n.startswith(prefix))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_inside(ns: str) -> None:
    """SIGKILL what still runs inside namespace ``ns`` (it keeps a deleted namespace alive)."""
    with contextlib.suppress(NetnsError):
        for tok in _run(["ip", "netns", "pids", ns]).split():
            with contextlib.suppress(ProcessLookupError, ValueError, PermissionError):
                os.kill(int(tok), signal.SIGKILL)


def cleanup_stale(kill: bool = True) -> list[str]:
    """Delete the ``airan-<pid>-*`` namespaces of processes that are gone (a crashed run);
    with ``kill``, first SIGKILL what still runs inside them (that run's orphaned site servers
    and gateways). Returns the names deleted."""
    gone = []
    for ns in list_namespaces():
        m = _STALE.match(ns)
        if m is None or int(m.group(1)) == os.getpid() or _pid_alive(int(m.group(1))):
            continue
        if kill:
            _kill_inside(ns)
        with contextlib.suppress(NetnsError):
            _run(["ip", "netns", "del", ns])
            gone.append(ns)
    return gone


# ---- the plan: shaping per path ----------------------------------------------------------------
@dataclass(frozen=True)
class Shaping:
    """One direction of a data link: the path's one-way delay (propagation, extra delay and
    switching of every link, s) and its bottleneck capacity (bit/s; inf: none)."""

    delay_s: float
    rate_bps: float

    def netem(self) -> list[str] | None:
        """The ``netem`` arguments of ``tc qdisc add ... root netem ...``; None: nothing to
        shape (same node). ``limit`` (packets) holds twice the path's bandwidth-delay product."""
        if self.delay_s <= 0 and not math.isfinite(self.rate_bps):
            return None
        args = ["netem"]
        if self.delay_s > 0:
            args += ["delay", f"{max(1, round(self.delay_s * 1e6))}us"]
        if math.isfinite(self.rate_bps):
            args += ["rate", f"{max(8, round(self.rate_bps))}bit"]
        rate = self.rate_bps if math.isfinite(self.rate_bps) else 40e9
        bdp_packets = self.delay_s * rate / 8 / 1500
        args += ["limit", str(min(1_000_000, 1000 + int(2 * bdp_packets)))]
        return args

    def tbf(self) -> list[str] | None:
        """The ``tbf`` arguments (the rate only: serialization at the path's bottleneck, in
        packets of at most two MTUs of burst); None: no rate limit."""
        if not math.isfinite(self.rate_bps):
            return None
        burst = max(TBF_BURST_BYTES, round(self.rate_bps / 8 * 20e-6))  # >= 20 us of tokens
        return ["tbf", "rate", f"{max(8, round(self.rate_bps))}bit", "burst", str(burst),
                "latency", "1s"]

    def as_dict(self) -> dict[str, Any]:
        return {"delay_ms": self.delay_s * 1e3,
                "rate_bps": self.rate_bps if math.isfinite(self.rate_bps) else None}


def path_shaping(world: Any, node: int, site: int) -> tuple[Shaping, Shaping, bool]:
    """(gateway -> site, site -> gateway, reachable) for the transport path between ``node``
    (a cell's node) and compute site ``site`` in ``world`` (:func:`airan.engine.world.
    build_world`): the sum of ``link_delay_s`` and the least ``link_cap_bps`` of each way's
    links. A site at the node itself: no delay, no rate limit."""

    def one(links: Any) -> Shaping:
        ls = [int(x) for x in links if x >= 0]
        if not ls:
            return Shaping(0.0, math.inf)
        return Shaping(float(sum(world.link_delay_s[x] for x in ls)),
                       float(min(world.link_cap_bps[x] for x in ls)))

    up = one(world.path_links[node, site])
    down = one(world.path_links_back[site, node])
    reachable = node == int(world.site_node[site]) or bool(math.isfinite(
        float(world.path_delay_s[node, site])))
    return up, down, reachable


@dataclass
class DataLink:
    """The veth pair between a gateway's namespace and a site's namespace."""

    gateway: str  # gateway key
    site: str  # compute site name
    gateway_if: str
    site_if: str
    gateway_ip: str
    site_ip: str  # the gateway reaches the site here
    up: Shaping  # gateway -> site
    down: Shaping  # site -> gateway
    reachable: bool  # the scenario's transport connects them
    shaped: bool = False  # a netem qdisc was added (at least one way)

    def as_dict(self) -> dict[str, Any]:
        return {"gateway": self.gateway, "site": self.site, "gateway_address": self.gateway_ip,
                "site_address": self.site_ip, "up": self.up.as_dict(),
                "down": self.down.as_dict(), "reachable": self.reachable, "shaped": self.shaped}


@dataclass
class Namespace:
    """A namespace of the network and its unshaped link to the root namespace."""

    name: str
    role: str  # "gateway" or "site"
    key: str  # gateway key or site name
    root_if: str = ""  # the root end's interface name (in the root namespace)
    root_ip: str = ""  # the root end's address
    ip: str = ""  # this namespace's end (interface "root"): reachable from the root namespace


@dataclass
class NetnsNetwork:
    """The namespaces, veth pairs and qdiscs of one deployment.

    ``gateways`` maps each gateway key to the world node whose paths its data links carry (the
    node of its cells). Plan with the constructor (no commands), then :meth:`create`;
    :meth:`destroy` (or leaving the ``with`` block) removes everything. With ``netem`` False the
    data links are left unshaped (the gateways then apply the transport delays).
    """

    world: Any
    gateways: dict[str, int]
    netem: bool = True
    tbf: bool = False  # without netem: the links' rates with tbf (the gateways add the delays)
    prefix: str = field(default="", init=False)  # airan-<pid>-<n>, chosen by create()
    namespaces: dict[tuple[str, str], Namespace] = field(default_factory=dict, init=False)
    links: dict[tuple[str, str], DataLink] = field(default_factory=dict, init=False)
    created: bool = field(default=False, init=False)
    errors: list[str] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        w = self.world
        sites = list(w.site_names)
        if len(self.gateways) * len(sites) > DATA_NET.num_addresses // 4:
            raise NetnsError(f"{len(self.gateways)} gateways x {len(sites)} sites: more veth "
                             f"pairs than /30s in {DATA_NET}")
        for g, (key, node) in enumerate(self.gateways.items()):
            for s, site in enumerate(sites):
                base = DATA_NET.network_address + 4 * (g * len(sites) + s)
                up, down, reachable = path_shaping(w, node, s)
                self.links[key, site] = DataLink(
                    gateway=key, site=site, gateway_if=f"s{s}", site_if=f"g{g}",
                    gateway_ip=str(base + 1), site_ip=str(base + 2), up=up, down=down,
                    reachable=reachable)

    @property
    def shaping(self) -> str:
        """What shapes the data links: ``netem``, ``tbf`` or ``none``."""
        return "netem" if self.netem else "tbf" if self.tbf else "none"

    @property
    def gateway_delays(self) -> str:
        """The gateways' ``delays`` mode that completes this network's shaping."""
        return {"netem": "radio", "tbf": "propagation", "none": "gateway"}[self.shaping]

    # ---- names and addresses -------------------------------------------------------------------
    def gateway_ns(self, key: str) -> Namespace:
        return self.namespaces["gateway", key]

    def site_ns(self, site: str) -> Namespace:
        return self.namespaces["site", site]

    def site_ip(self, gateway: str, site: str) -> str:
        """The address at which gateway ``gateway`` reaches ``site`` (over their data link)."""
        return self.links[gateway, site].site_ip

    @staticmethod
    def exec_prefix(ns: Namespace) -> list[str]:
        """The command prefix that runs a program inside ``ns``."""
        return ["ip", "netns", "exec", ns.name]

    def _choose_prefix(self) -> tuple[str, str]:
        """(namespace prefix, root interface tag), unused by any namespace or root interface."""
        existing = list_namespaces()
        try:
            root_ifs = os.listdir("/sys/class/net")
        except OSError:
            root_ifs = []
        pid = os.getpid()
        while True:
            n = next(_counter)
            prefix, tag = f"{PREFIX}-{pid}-{n}", f"a{pid:x}x{n:x}"
            if not any(x.startswith(prefix + "-") for x in existing) and not any(
                    x.startswith(tag + "m") for x in root_ifs):
                return prefix, tag

    @staticmethod
    def _root_addresses() -> set[ipaddress.IPv4Address]:
        data = json.loads(_run(["ip", "-4", "-j", "addr", "show"]) or "[]")
        return {ipaddress.IPv4Address(a["local"]) for itf in data
                for a in itf.get("addr_info", []) if "local" in a}

    # ---- create and destroy --------------------------------------------------------------------
    def create(self) -> NetnsNetwork:
        """Make the namespaces, veth pairs, addresses and qdiscs, and bring the links up. On
        any failure, remove what was made and raise (:class:`NetnsError` for a command)."""
        if self.created:
            return self
        w = self.world
        try:
            with _locked():  # root addresses: one runtime at a time
                self.prefix, tag = self._choose_prefix()
                roles = [("gateway", k) for k in self.gateways] + [
                    ("site", s) for s in w.site_names]
                used = self._root_addresses()
                free = [ROOT_NET.network_address + b for b in range(0, ROOT_NET.num_addresses, 4)
                        if not {ROOT_NET.network_address + b + i for i in range(4)} & used]
                if len(free) < len(roles):
                    raise NetnsError(f"not enough free /30s left in {ROOT_NET}")
                for i, (role, key) in enumerate(roles):
                    base = free[i]
                    name = f"{self.prefix}-{'g' if role == 'gateway' else 's'}"
                    idx = (list(self.gateways).index(key) if role == "gateway"
                           else list(w.site_names).index(key))
                    root_if = f"{tag}m{i}"
                    if len(root_if) > IFNAMSIZ:
                        raise NetnsError(f"interface name {root_if!r} is too long")
                    self.namespaces[role, key] = Namespace(
                        f"{name}{idx}", role, key, root_if, str(base + 1), str(base + 2))
                self.created = True  # from here on, destroy() has something to remove
                root: list[str] = [f"netns add {ns.name}" for ns in self.namespaces.values()]
                for ns in self.namespaces.values():
                    root += [f"link add {ns.root_if} type veth peer name root netns {ns.name}",
                             f"addr add {ns.root_ip}/30 dev {ns.root_if}",
                             f"link set {ns.root_if} up"]
                for lk in self.links.values():
                    root.append(f"link add {lk.gateway_if} netns {self.gateway_ns(lk.gateway).name}"
                                f" type veth peer name {lk.site_if} netns "
                                f"{self.site_ns(lk.site).name}")
                _batch(root)
            for ns in self.namespaces.values():
                lines = ["link set lo up", f"addr add {ns.ip}/30 dev root", "link set root up"]
                for lk in self.links.values():
                    if ns.role == "gateway" and lk.gateway == ns.key:
                        lines += [f"addr add {lk.gateway_ip}/30 dev {lk.gateway_if}",
                                  f"link set {lk.gateway_if} up"]
                    elif ns.role == "site" and lk.site == ns.key:
                        lines += [f"addr add {lk.site_ip}/30 dev {lk.site_if}",
                                  f"link set {lk.site_if} up"]
                _batch(lines, ns.name)
            if self.netem or self.tbf:
                self._shape()
        except BaseException:
            self.destroy()
            raise
        return self

    def _shape(self) -> None:
        """A netem qdisc on each end of every data link whose path has a delay or a rate
        (or, with ``tbf`` and no netem, a tbf qdisc where it has a rate)."""
        per_ns: dict[str, list[str]] = {}
        for lk in self.links.values():
            if not lk.reachable:
                continue
            for ns, itf, way in ((self.gateway_ns(lk.gateway), lk.gateway_if, lk.up),
                                 (self.site_ns(lk.site), lk.site_if, lk.down)):
                args = way.netem() if self.netem else way.tbf()
                if args is not None:
                    per_ns.setdefault(ns.name, []).append(
                        f"qdisc add dev {itf} root {' '.join(args)}")
                    lk.shaped = True
        for name, lines in per_ns.items():
            _batch(lines, name, tool="tc")

    def destroy(self) -> None:
        """Delete every namespace of this network (their veth pairs go with them), after a
        SIGKILL to anything still running inside. Never raises; failures go to ``errors`` and a
        warning."""
        if not self.created:
            return
        present = set(list_namespaces(self.prefix + "-"))
        for ns in self.namespaces.values():
            if ns.name not in present:
                continue
            _kill_inside(ns.name)
            try:
                _run(["ip", "netns", "del", ns.name])
            except NetnsError as exc:
                self.errors.append(str(exc))
                warnings.warn(f"could not delete network namespace {ns.name}: {exc}",
                              RuntimeWarning, stacklevel=2)
        self.created = False

    def __enter__(self) -> NetnsNetwork:
        return self.create()

    def __exit__(self, *exc: object) -> None:
        self.destroy()

    # ---- what it is ----------------------------------------------------------------------------
    def link_bytes(self) -> dict[tuple[str, str], dict[str, int]]:
        """Bytes each data link carried so far: ``{(gateway, site): {"to_site": ..,
        "to_gateway": ..}}`` (the site end's received and sent bytes)."""
        out = {}
        for (g, s), lk in self.links.items():
            data = json.loads(_run(["ip", "-n", self.site_ns(s).name, "-s", "-j", "link",
                                    "show", "dev", lk.site_if]))
            st = data[0].get("stats64") or data[0].get("stats") or {}
            out[g, s] = {"to_site": int(st["rx"]["bytes"]), "to_gateway": int(st["tx"]["bytes"])}
        return out

    def note(self, gateway_delays: str, support: Support | None = None) -> dict[str, Any]:
        """What deployment.json says about the network (``network``)."""
        w = self.world
        gw = {k: {"namespace": ns.name, "address": ns.ip,
                  "path_from": w.node_names[self.gateways[k]]}
              for (role, k), ns in self.namespaces.items() if role == "gateway"}
        st = {k: {"namespace": ns.name, "address": ns.ip}
              for (role, k), ns in self.namespaces.items() if role == "site"}
        if self.netem:
            text = ("data links shaped with tc netem (the path's one-way delay and bottleneck "
                    "rate, each way); the gateways apply the radio delays only")
        elif self.tbf:
            text = ("the kernel has no netem qdisc: the data links' rates are shaped with tc "
                    "tbf (the path's bottleneck, each way), and the gateways apply the radio "
                    "and the transport's propagation delays")
        else:
            text = ("the kernel has neither netem nor tbf: the data links are real but "
                    "unshaped, and the gateways apply the radio and transport delays")
        return {"mode": "netns", "prefix": self.prefix, "netem": self.netem,
                "shaping": self.shaping, "gateway_delays": gateway_delays,
                "support": support.as_dict() if support else None, "note": text,
                "gateways": gw, "sites": st,
                "links": [lk.as_dict() for lk in self.links.values()]}

