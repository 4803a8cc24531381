"""The network-namespace option of the live runtime (``delays="netns"``, airan.live.netns).

Anywhere:
* the plan: each data link's delay and rate come from the scenario's transport path, addresses
  are unique /30s, the netem arguments; a shared gateway is shared per node;
* the probe's answers (tools or privileges missing, faked);
* ``netns`` where it is impossible is a user error naming ``delays`` (exit code 2 in the CLI),
  and nothing is made.
Where network namespaces are possible (root, iproute2; skipped otherwise):
* the network is made and removed, also after an exception inside ``with`` and after a failed
  start; stale namespaces of a process that is gone are removed;
* (slow) a short end-to-end run over the veth links: every request ends in one outcome and the
  sites' traffic crossed their data links; ``airan serve`` removes everything on SIGTERM;
* (netem only) the round trip over a shaped link is at least twice its one-way delay.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from test_live import MODELS, small_scenario  # the same small scenario and models

from airan.engine.world import build_world
from airan.errors import InputError
from airan.live import netns
from airan.live.netns import DATA_NET, ROOT_NET, NetnsNetwork, Shaping, Support
from airan.scenario import scenario_from_dict

GATEWAYS = {"bs-a": 0, "bs-b": 1}  # gateway key -> node (the small scenario's cells)

# a TCP server for a namespace: prints its port, answers every connection with b"ok"
_SERVER = ("import socket\n"
           "s = socket.socket(); s.bind(('0.0.0.0', 0)); s.listen(64)\n"
           "print(s.getsockname()[1], flush=True)\n"
           "while True:\n"
           "    c, _ = s.accept(); c.sendall(b'ok'); c.close()\n")
# a client for a namespace: the least of N TCP connect times (s) to HOST PORT
_CLIENT = ("import socket, sys, time\n"
           "best = 1e9\n"
           "for _ in range(int(sys.argv[3])):\n"
           "    t = time.perf_counter()\n"
           "    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)\n"
           "    best = min(best, time.perf_counter() - t)\n"
           "    assert c.recv(2) == b'ok'; c.close()\n"
           "print(best)\n")

pytestmark = pytest.mark.usefixtures("model_cache")


@pytest.fixture
def support() -> Any:
    """This machine's answer; skips the test where network namespaces are impossible. After
    the test, no namespace of this process may remain."""
    s = netns.probe()
    if not s.netns:
        pytest.skip(f"network namespaces are not possible here: {s.reason}")
    yield s
    assert netns.list_namespaces(f"{netns.PREFIX}-{os.getpid()}-") == []


def _world(**transport: Any) -> Any:
    d = small_scenario()
    for lk in d["transport"]["links"]:
        lk.update(transport)
    sc = scenario_from_dict(d)
    return build_world(sc, sc.seed)


def _in_ns(ns: str, code: str, *args: str) -> list[str]:
    return ["ip", "netns", "exec", ns, sys.executable, "-c", code, *args]


def _serve_in(ns: str) -> tuple[subprocess.Popen[str], int]:
    """A TCP server inside namespace ``ns``: (process, port)."""
    proc = subprocess.Popen(_in_ns(ns, _SERVER), stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def _connect_time(ns: str, host: str, port: int, n: int = 5) -> float:
    """The least TCP connect time (s) from inside ``ns`` to ``host:port`` (n tries)."""
    res = subprocess.run(_in_ns(ns, _CLIENT, host, str(port), str(n)), check=True,
                         capture_output=True, text=True, timeout=60)
    return float(res.stdout)


# ---- the plan (no root needed) -----------------------------------------------------------------
def test_plan_takes_each_link_from_the_scenarios_transport_path() -> None:
    w = _world()
    net = NetnsNetwork(w, GATEWAYS, netem=True)  # a plan: no command runs
    assert not net.created and net.namespaces == {}
    s_a, s_e = w.site_names.index("gpu-a"), w.site_names.index("edge")
    # bs-a hosts gpu-a: no delay, no rate, nothing to shape
    same = net.links["bs-a", "gpu-a"]
    assert same.up == Shaping(0.0, math.inf) == same.down and same.up.netem() is None
    assert same.reachable
    # bs-b -> gpu-a: bs-b -> agg -> bs-a, 40 km of fibre plus switching, 10 Gbit/s
    far = net.links["bs-b", "gpu-a"]
    assert far.up.delay_s == pytest.approx(w.path_delay_s[1, s_a])
    assert far.up.delay_s == pytest.approx(2 * w.link_delay_s[0]) and far.up.delay_s > 2e-4
    assert far.down.delay_s == pytest.approx(far.up.delay_s)
    path = w.path_links[1, s_a]
    assert far.up.rate_bps == w.link_cap_bps[path[path >= 0]].min() == 10e9  # the bottleneck
    args = far.up.netem()
    assert args is not None
    assert args[:5] == ["netem", "delay", f"{round(far.up.delay_s * 1e6)}us", "rate",
                        "10000000000bit"]
    assert args[5] == "limit" and int(args[6]) >= 1000
    assert net.links["bs-a", "edge"].up.delay_s == pytest.approx(w.path_delay_s[0, s_e])
    # addresses: one /30 per pair inside 10.201/16, the two ends in the same /30
    nets = set()
    for lk in net.links.values():
        a, b = IPv4Address(lk.gateway_ip), IPv4Address(lk.site_ip)
        assert a in DATA_NET and b in DATA_NET and int(b) == int(a) + 1
        nets.add(IPv4Network(f"{lk.gateway_ip}/30", strict=False))
    assert len(nets) == len(net.links) == 4
    assert not DATA_NET.overlaps(ROOT_NET)


def test_shaping_arguments() -> None:
    assert Shaping(0.0, math.inf).netem() is None
    assert Shaping(0.005, math.inf).netem() == ["netem", "delay", "5000us", "limit", "34333"]
    assert Shaping(0.0, 1e8).netem() == ["netem", "rate", "100000000bit", "limit", "1000"]
    assert Shaping(0.05, 10e9).as_dict() == {"delay_ms": 50.0, "rate_bps": 10e9}
    assert Shaping(0.0, math.inf).as_dict()["rate_bps"] is None  # JSON has no inf
    # tbf: the rate only, a bucket of two frames (or 20 us of tokens on fast links)
    assert Shaping(0.005, math.inf).tbf() is None
    assert Shaping(0.005, 1e8).tbf() == ["tbf", "rate", "100000000bit", "burst", "3028",
                                         "latency", "1s"]
    assert Shaping(0.0, 10e9).tbf()[4] == "25000"
    assert NetnsNetwork(_world(), GATEWAYS, netem=False, tbf=True).gateway_delays == \
        "propagation"
    assert NetnsNetwork(_world(), GATEWAYS, netem=True).gateway_delays == "radio"
    assert NetnsNetwork(_world(), GATEWAYS, netem=False).gateway_delays == "gateway"


def test_a_shared_gateway_is_shared_per_node_with_netns(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    from airan.live.runtime import LiveRuntime

    monkeypatch.setattr(netns, "probe", lambda: Support(True, True, True))
    sc = scenario_from_dict(small_scenario())
    rt = LiveRuntime(sc, tmp_path, models=MODELS, delays="netns", shared_gateway=True)
    assert rt._gateway_groups(rt._cells()) == [("cells-at-bs-a", ["bs-a"]),
                                               ("cells-at-bs-b", ["bs-b"])]
    rt = LiveRuntime(sc, tmp_path, models=MODELS, shared_gateway=True)
    assert rt._gateway_groups(rt._cells()) == [("all-cells", ["bs-a", "bs-b"])]
    rt = LiveRuntime(sc, tmp_path, models=MODELS, delays="netns")
    assert rt._gateway_groups(rt._cells()) == [("bs-a", ["bs-a"]), ("bs-b", ["bs-b"])]


# ---- the probe ---------------------------------------------------------------------------------
def test_probe_says_why_not(monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as m:
        m.setattr(netns.shutil, "which", lambda tool: None)
        s = netns._probe()
        assert not s.netns and not s.netem and "ip and tc not on PATH" in s.reason
    with monkeypatch.context() as m:
        m.setattr(netns.os, "geteuid", lambda: 1000)
        m.setattr(netns, "_capabilities", lambda: 0)
        s = netns._probe()
        assert not s.netns and "needs root" in s.reason and "uid 1000" in s.reason
        assert s.netem_reason
        m.setattr(netns, "_capabilities", lambda: 1 << 12 | 1 << 21)  # NET_ADMIN, SYS_ADMIN
        assert netns._privileged()
        m.setattr(netns, "_capabilities", lambda: 1 << 12)  # no mounts: no ip netns
        assert not netns._privileged()
        m.setattr(netns, "_capabilities", lambda: None)  # unknown: uid 1000 is not root
        assert not netns._privileged()
        m.setattr(netns.os, "geteuid", lambda: 0)
        assert netns._privileged()


def test_probe_on_this_machine() -> None:
    s = netns.probe()
    assert netns.probe() is s  # kept
    assert s.netns == (s.reason == "")
    if not s.netns:
        assert not s.netem and not s.tbf
    assert s.netem or s.netem_reason
    if s.netns:  # the throwaway namespace is gone
        assert not [n for n in netns.list_namespaces(f"{netns.PREFIX}-{os.getpid()}-")
                    if "probe" in n]


# ---- user errors -------------------------------------------------------------------------------
def test_netns_where_impossible_is_a_user_error(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from airan.live.cli import register
    from airan.live.runtime import LiveRuntime

    monkeypatch.setattr(netns, "probe",
                        lambda: Support(False, False, False, "needs root (test)"))
    before = netns.list_namespaces()
    sc = scenario_from_dict(small_scenario())
    with pytest.raises(InputError, match="needs root") as exc:
        LiveRuntime(sc, tmp_path / "serve", models=MODELS, delays="netns")
    assert exc.value.field == "--delays" and "delays" in str(exc.value)
    with pytest.raises(InputError, match="gateway, none, netns") as exc:
        LiveRuntime(sc, tmp_path / "serve", models=MODELS, delays="tc")
    assert exc.value.field == "--delays"
    assert not (tmp_path / "serve").exists()  # nothing made
    app = typer.Typer()
    register(app)
    scen = tmp_path / "small.yaml"
    scen.write_text(yaml.safe_dump(small_scenario()))
    for cmd in (["serve", str(scen), "--out", str(tmp_path / "serve")],
                ["live", str(scen), "--duration", "1", "--out", str(tmp_path / "run")]):
        res = CliRunner().invoke(app, [*cmd, "--delays", "netns", "--model", "detect=tiny-cnn",
                                       "--model", "plan=mlp"])
        assert res.exit_code == 2, res.output
        assert "option '--delays'" in res.output and "needs root (test)" in res.output
        assert "Traceback" not in res.output
    assert not (tmp_path / "serve").exists() and not (tmp_path / "run").exists()
    assert netns.list_namespaces() == before


# ---- the network itself (root) -----------------------------------------------------------------
def test_network_is_made_reachable_and_removed(support: Support) -> None:
    w = _world()
    net = NetnsNetwork(w, GATEWAYS, netem=support.netem, tbf=support.tbf)
    with net:
        names = netns.list_namespaces(net.prefix + "-")
        assert names == sorted(ns.name for ns in net.namespaces.values()) and len(names) == 4
        assert net.prefix.startswith(f"airan-{os.getpid()}-")
        for ns in net.namespaces.values():
            assert IPv4Address(ns.ip) in ROOT_NET and IPv4Address(ns.root_ip) in ROOT_NET
        site = net.site_ns("edge")
        proc, port = _serve_in(site.name)
        try:
            # from the root namespace over the site's root link
            with socket.create_connection((site.ip, port), timeout=5) as c:
                assert c.recv(2) == b"ok"
            # from each gateway's namespace over its own data link
            for key in GATEWAYS:
                assert _connect_time(net.gateway_ns(key).name, net.site_ip(key, "edge"),
                                     port, n=1) < 5
            moved = net.link_bytes()
            assert all(moved[k, "edge"]["to_site"] > 0 for k in GATEWAYS)
        finally:
            proc.kill()
            proc.wait()
        shaped = {k for k, lk in net.links.items() if lk.shaped}
        if support.netem:
            assert shaped == {k for k, lk in net.links.items()
                              if lk.up.netem() is not None or lk.down.netem() is not None}
        elif support.tbf:  # every path but a site's own node has a finite rate
            assert shaped == {k for k, lk in net.links.items() if lk.up.tbf() is not None}
            assert ("bs-a", "edge") in shaped and ("bs-a", "gpu-a") not in shaped
        else:
            assert not shaped
        note = net.note("gateway", support)
        json.dumps(note)  # JSON as it is
        assert note["netem"] == support.netem and len(note["links"]) == 4
    assert netns.list_namespaces(net.prefix + "-") == []
    net.destroy()  # again: nothing to do


def test_network_is_removed_after_an_exception_inside_with(support: Support) -> None:
    net = NetnsNetwork(_world(), GATEWAYS, netem=support.netem)
    with pytest.raises(KeyError), net:
        assert len(netns.list_namespaces(net.prefix + "-")) == 4
        raise KeyError("inside")
    assert netns.list_namespaces(net.prefix + "-") == []


def test_a_failed_command_leaves_nothing(support: Support, monkeypatch: pytest.MonkeyPatch) -> None:
    net = NetnsNetwork(_world(), GATEWAYS, netem=support.netem)
    real = netns._batch

    def failing(lines: list[str], ns: str | None = None, tool: str = "ip") -> None:
        if ns is not None and ns.endswith("-s1"):
            real(["link set no-such-link up"], ns)
        real(lines, ns, tool)

    monkeypatch.setattr(netns, "_batch", failing)
    with pytest.raises(netns.NetnsError, match="no-such-link"):
        net.create()
    assert net.prefix and netns.list_namespaces(net.prefix + "-") == []


def test_stale_namespaces_of_a_gone_process_are_removed(support: Support) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True).stdout.strip()
    stale = f"{netns.PREFIX}-{dead}-0-s0"
    alive = f"{netns.PREFIX}-1-0-s0"  # pid 1 is alive
    for ns in (stale, alive):
        subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True)
    try:
        assert stale in netns.cleanup_stale()
        assert stale not in netns.list_namespaces() and alive in netns.list_namespaces()
    finally:
        for ns in (stale, alive):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def test_a_failed_start_removes_the_network(support: Support, tmp_path: Path) -> None:
    from airan.live.runtime import LiveRuntime, StartError

    sc = scenario_from_dict(small_scenario())
    rt = LiveRuntime(sc, tmp_path / "serve", models=MODELS, delays="netns",
                     start_timeout_s=0.01)  # no site is ready that soon
    with pytest.raises(StartError, match="did not start in time"):
        rt.start()
    assert rt.network is not None and netns.list_namespaces(rt.network.prefix + "-") == []
    assert all(c.proc.poll() is not None for c in rt.sites.values())


# ---- end to end (root, slow) -------------------------------------------------------------------
@pytest.mark.slow
def test_live_run_over_namespaces(support: Support, tmp_path: Path) -> None:
    from airan.live.devices import OUTCOMES, run_devices
    from airan.live.runtime import LiveRuntime

    sc = scenario_from_dict(small_scenario())
    with LiveRuntime(sc, tmp_path / "serve", models=MODELS, delays="netns") as rt:
        dep = rt.deployment
        net = rt.network
        assert dep is not None and net is not None
        prefix = net.prefix
        assert len(netns.list_namespaces(prefix + "-")) == 4
        res = run_devices(sc, dep, duration_s=5.0, timeout_s=5.0)
        moved = net.link_bytes()
    assert netns.list_namespaces(prefix + "-") == []
    # the deployment: root links for the emulator, the network described
    assert dep.delays == "netns" and dep.network is not None
    assert dep.network["netem"] == support.netem and dep.network["prefix"] == prefix
    assert dep.network["gateway_delays"] == (
        "radio" if support.netem else "propagation" if support.tbf else "gateway")
    for addr in [*dep.sites.values(), *dep.gateways.values()]:
        assert IPv4Address(addr.rsplit(":", 1)[0]) in ROOT_NET
    # each gateway reaches the sites at their data-link addresses
    for key in ("bs-a", "bs-b"):
        cfg = json.loads((tmp_path / "serve" / "config" / f"gateway-{key}.json").read_text())
        assert cfg["delays"] == dep.network["gateway_delays"]
        for site, addr in cfg["sites"].items():
            assert addr.rsplit(":", 1)[0] == net.site_ip(key, site)
            assert IPv4Address(net.site_ip(key, site)) in DATA_NET
    # every request ends in one outcome
    s = res.summary
    r = s["requests"]
    assert r["created"] > 400 and r["in_flight"] == 0
    assert r["created"] == r["met"] + r["late"] + r["dropped"]
    assert s["live"]["delays"] == "netns"
    t = res.requests
    outcome = np.array(t.column("outcome").to_pylist())
    assert len(outcome) == r["created"] and set(outcome) <= set(OUTCOMES) and r["met"] > 0
    # the payloads crossed the data links to the site that served them
    place = np.array(t.column("placement").to_pylist())
    svc = np.array(t.column("service").to_pylist())
    ul = {v["name"]: v["ul_kb"] * 1000 for v in small_scenario()["services"]}
    for site in ("gpu-a", "edge"):
        sent = sum(ul[v] for v in svc[place == site])
        assert sent > 0, site
        crossed = sum(moved[k, site]["to_site"] for k in ("bs-a", "bs-b"))
        assert crossed >= sent, (site, crossed, sent)


@pytest.mark.slow
def test_runtime_removes_the_network_after_an_exception_inside_with(support: Support,
                                                                   tmp_path: Path) -> None:
    from airan.live.runtime import LiveRuntime

    sc = scenario_from_dict(small_scenario())
    rt = LiveRuntime(sc, tmp_path / "serve", models=MODELS, delays="netns", shared_gateway=True)
    with pytest.raises(ZeroDivisionError), rt:
        assert rt.network is not None
        assert len(netns.list_namespaces(rt.network.prefix + "-")) == 4  # 2 nodes, 2 sites
        1 / 0  # noqa: B018
    assert rt.network is not None and netns.list_namespaces(rt.network.prefix + "-") == []
    assert all(c.proc.poll() is not None for c in [*rt.sites.values(), *rt.gateways.values()])


@pytest.mark.slow
def test_airan_serve_removes_the_network_on_sigterm(support: Support, tmp_path: Path) -> None:
    scen = tmp_path / "small.yaml"
    scen.write_text(yaml.safe_dump(small_scenario()))
    out = tmp_path / "serve"
    airan = Path(sys.executable).parent / "airan"
    cmd = [str(airan)] if airan.exists() else [sys.executable, "-m", "airan.cli"]
    proc = subprocess.Popen([*cmd, "serve", str(scen), "--out", str(out), "--delays", "netns",
                             "--model", "detect=tiny-cnn", "--model", "plan=mlp"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / "deployment.json").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "airan serve did not start"
            time.sleep(0.2)
        time.sleep(0.2)  # written
        prefix = json.loads((out / "deployment.json").read_text())["network"]["prefix"]
        assert len(netns.list_namespaces(prefix + "-")) == 4
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    assert "network: namespaces" in stdout and "stopped" in stdout
    assert netns.list_namespaces(prefix + "-") == []


# ---- netem (root, sch_netem) -------------------------------------------------------------------
def test_round_trip_over_a_shaped_link_is_at_least_twice_the_one_way_delay(
        support: Support) -> None:
    if not support.netem:
        pytest.skip(f"the kernel has no sch_netem ({support.netem_reason}): the data links "
                    "are not shaped and the gateways keep the transport delays")
    w = _world(extra_delay_ms=5)  # 5 ms per link: bs-b -> gpu-a is 2 links, ~10.2 ms one way
    with NetnsNetwork(w, GATEWAYS, netem=True) as net:
        lk = net.links["bs-b", "gpu-a"]
        assert lk.shaped and lk.up.delay_s > 0.01
        proc, port = _serve_in(net.site_ns("gpu-a").name)
        try:
            rtt = _connect_time(net.gateway_ns("bs-b").name, lk.site_ip, port)
            near = _connect_time(net.gateway_ns("bs-a").name, net.site_ip("bs-a", "gpu-a"),
                                 port)
        finally:
            proc.kill()
            proc.wait()
    assert rtt >= 2 * lk.up.delay_s * 0.98, (rtt, lk.up.delay_s)
    assert rtt >= lk.up.delay_s + lk.down.delay_s - 1e-4
    assert near < 0.005  # the site at the cell's own node: unshaped


# ---- tbf (root, sch_tbf, no netem) -------------------------------------------------------------
# a client for a namespace: seconds to send N bytes to HOST PORT and have them all acknowledged
_SEND = ("import socket, sys, time\n"
         "c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)\n"
         "c.recv(2)\n"
         "t = time.perf_counter(); c.sendall(b'x' * int(sys.argv[3])); c.shutdown(1)\n"
         "c.recv(1)\n"
         "print(time.perf_counter() - t)\n")
# its server: answers b"ok", reads until the end, then one byte back
_SINK = ("import socket\n"
         "s = socket.socket(); s.bind(('0.0.0.0', 0)); s.listen(8)\n"
         "print(s.getsockname()[1], flush=True)\n"
         "while True:\n"
         "    c, _ = s.accept(); c.sendall(b'ok')\n"
         "    while c.recv(1 << 16): pass\n"
         "    c.sendall(b'!'); c.close()\n")


def test_a_tbf_shaped_link_carries_no_more_than_its_capacity(support: Support) -> None:
    if support.netem or not support.tbf:
        pytest.skip("netem shapes the links here (or there is no tbf)")
    w = _world(capacity_gbps=0.02)  # 20 Mbit/s links: 1 MB takes at least 0.4 s
    with NetnsNetwork(w, GATEWAYS, netem=False, tbf=True) as net:
        lk = net.links["bs-a", "edge"]
        assert lk.shaped and lk.up.rate_bps == 20e6
        proc = subprocess.Popen(_in_ns(net.site_ns("edge").name, _SINK), stdout=subprocess.PIPE,
                                text=True)
        try:
            assert proc.stdout is not None
            port = proc.stdout.readline().strip()
            res = subprocess.run(_in_ns(net.gateway_ns("bs-a").name, _SEND, lk.site_ip, port,
                                        str(1_000_000)),
                                 check=True, capture_output=True, text=True, timeout=60)
        finally:
            proc.kill()
            proc.wait()
    seconds = float(res.stdout)
    assert seconds >= 0.95 * 8e6 / 20e6, seconds  # not faster than the link (a bucket of slack)
    assert seconds < 5.0
