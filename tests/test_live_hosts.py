"""Components on separate hosts, each given its peers' addresses in the scenario (``live:``).

Two "hosts" here are two LiveRuntime instances started with ``components``: one runs a site,
the other the second site and the (shared) gateway; the device emulator finds the gateway from
the scenario alone. Bad addresses and components are input errors naming the field.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from test_live import MODELS, small_scenario  # the same small scenario and models
from typer.testing import CliRunner

from airan.errors import InputError
from airan.scenario import scenario_from_dict

TOKEN = "shared-token-for-tests"

pytestmark = pytest.mark.usefixtures("model_cache")


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _scenario(**live: Any) -> dict[str, Any]:
    d = small_scenario()
    d["live"] = live
    return d


def test_live_addresses_are_checked_against_the_scenario() -> None:
    ok = _scenario(sites={"gpu-a": "10.0.0.5:50051"}, gateways={"bs-a": "gw.example:7000"})
    assert scenario_from_dict(ok).live.gateways["bs-a"] == "gw.example:7000"
    with pytest.raises(InputError, match=r"live\.sites\.gpu-x") as e:
        scenario_from_dict(_scenario(sites={"gpu-x": "10.0.0.5:1"}))
    assert "gpu-a" in str(e.value)  # the close match
    with pytest.raises(InputError, match=r"live\.gateways\.bs-c"):
        scenario_from_dict(_scenario(gateways={"bs-c": "10.0.0.5:1"}))
    for bad in ("10.0.0.5", "10.0.0.5:0", "10.0.0.5:70000", ":80", "host:http"):
        with pytest.raises(InputError, match="live") as e:
            scenario_from_dict(_scenario(sites={"gpu-a": bad}))
        # the entry and its value, not the whole section (a review)
        assert (e.value.field, e.value.value) == ("live.sites.gpu-a", bad)


def test_gateway_keys_name_real_cells_once_and_servers_do_not_share_addresses() -> None:
    three = _scenario(gateways={"bs-a": "10.0.0.5:7000", "bs-b/1": "10.0.0.6:7000"})
    with pytest.raises(InputError, match=r"live\.gateways\.bs-b/1"):  # bs-b has one sector
        scenario_from_dict(three)
    d = _scenario(gateways={"bs-a": "10.0.0.5:7000", "bs-a/1": "10.0.0.6:7000"})
    d["cell_sites"][0]["sectors"] = 3
    with pytest.raises(InputError, match="two gateways"):  # bs-a/1 under both keys
        scenario_from_dict(d)
    d["live"]["gateways"]["bs-a/1"] = "10.0.0.5:7000"  # the same gateway: fine
    sc = scenario_from_dict(d)
    assert sc.live_gateway_cells() == {"bs-a": ["bs-a/0", "bs-a/1", "bs-a/2"],
                                       "bs-a/1": ["bs-a/1"]}
    with pytest.raises(InputError, match="already used by live.sites.gpu-a"):
        scenario_from_dict(_scenario(sites={"gpu-a": "h:1", "edge": "h:1"}))
    with pytest.raises(InputError, match="already used by live.sites.gpu-a") as e:
        scenario_from_dict(_scenario(sites={"gpu-a": "h:1"}, gateways={"bs-a": "h:1"}))
    assert e.value.field == "live.gateways.bs-a"
    shared = scenario_from_dict(_scenario(gateways={"bs-a": "h:2", "bs-b": "h:2"}))
    assert shared.live.gateways == {"bs-a": "h:2", "bs-b": "h:2"}


def test_a_component_whose_port_is_taken_stops_cleanly(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    from airan.live.cli import register

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        f = tmp_path / "s.yaml"
        f.write_text(yaml.safe_dump(_scenario(sites={"gpu-a": f"127.0.0.1:{port}"})))
        app = typer.Typer()
        register(app)
        monkeypatch.setenv("AIRAN_TOKEN", TOKEN)
        res = CliRunner().invoke(app, ["serve", str(f), "--component", "site:gpu-a", "--host",
                                       "127.0.0.1", "--out", str(tmp_path / "a"),
                                       "--model", "detect=tiny-cnn", "--model", "plan=mlp"])
    finally:
        holder.close()
    assert res.exit_code == 1, res.output
    assert "site gpu-a exited" in res.output and "Traceback" not in res.output
    # one line: the component's own error and where its log is (it was a traceback's tail cut
    # mid-line: 'e_server.py", line 397, ...')
    (line,) = [ln for ln in res.output.splitlines()  # (the scenario's warnings aside)
               if ln.strip() and not ln.startswith("warning:")]
    # in words, with the scenario's field (a live review: gRPC's own "Failed to bind to
    # address ...; set GRPC_VERBOSITY=debug")
    assert f"cannot listen on 127.0.0.1:{port}: the port is taken" in line, line
    assert "(live.sites.gpu-a in the scenario)" in line and "(see " in line, line


def test_components_must_have_addresses(tmp_path: Path) -> None:
    from airan.live.runtime import LiveRuntime, deployment_from_scenario

    sc = scenario_from_dict(_scenario(sites={"gpu-a": "127.0.0.1:5001"},
                                      gateways={"bs-a": "127.0.0.1:5002"}))
    with pytest.raises(InputError) as e:
        LiveRuntime(sc, tmp_path, components=["site:edge"], models=MODELS)
    assert e.value.field == "live.sites.edge"
    assert "gives this compute site no address" in str(e.value)
    with pytest.raises(InputError) as e:  # no such site: named as such, with a close match
        LiveRuntime(sc, tmp_path, components=["site:egde"], models=MODELS)
    assert (e.value.field, e.value.value) == ("component", "egde")
    assert "unknown compute site 'egde'" in str(e.value) and "did you mean 'edge'" in str(e.value)
    with pytest.raises(InputError) as e:
        LiveRuntime(sc, tmp_path, components=["gateway:bs-x"], models=MODELS)
    assert "unknown cell or cell site 'bs-x'" in str(e.value)
    with pytest.raises(InputError) as e:
        LiveRuntime(sc, tmp_path, components=["gateway:bs-a"], models=MODELS)
    assert e.value.field == "live.sites.edge"  # the gateway dials every site
    d = _scenario(sites={"gpu-a": "127.0.0.1:5001", "edge": "127.0.0.1:5003"},
                  gateways={"bs-a": "127.0.0.1:5002"})
    d["cell_sites"][0]["sectors"] = 3
    three = scenario_from_dict(d)
    rt = LiveRuntime(three, tmp_path, components=["gateway:bs-a/2"], models=MODELS)
    assert rt.components == (set(), {"bs-a"})  # a sector resolves to the key that covers it
    with pytest.raises(InputError) as e:
        LiveRuntime(sc, tmp_path, components=["router:bs-a"], models=MODELS)
    assert e.value.field == "component"
    with pytest.raises(InputError) as e:
        LiveRuntime(sc, tmp_path, components=["site:gpu-a"], models=MODELS, delays="netns")
    assert e.value.field == "--delays"
    with pytest.raises(InputError) as e:
        deployment_from_scenario(sc, TOKEN)  # bs-b has no gateway address
    assert e.value.field == "live.gateways.bs-b"
    assert not any(tmp_path.iterdir())  # nothing started, nothing written


def test_cli_asks_for_the_shared_token_and_a_deployment(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    from airan.live.cli import register

    monkeypatch.delenv("AIRAN_TOKEN", raising=False)
    app = typer.Typer()
    register(app)
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(_scenario(sites={"gpu-a": "127.0.0.1:5001"})))
    res = CliRunner().invoke(app, ["serve", str(f), "--component", "site:gpu-a", "--out",
                                   str(tmp_path / "a")])
    assert res.exit_code == 2 and "token" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(app, ["devices", str(f)])
    assert res.exit_code == 2 and "deployment" in res.output
    res = CliRunner().invoke(app, ["devices", str(f), "--token", TOKEN])
    assert res.exit_code == 2 and "live.gateways.bs-a" in res.output
    # a fleet --fleet-scale rounds far from the factor is warned of, as airan run does (a docs
    # review: factory's arms at 0.083x and cameras at 0.167x under 0.1, silently)
    res = CliRunner().invoke(app, ["devices", "factory", "--token", TOKEN, "--fleet-scale",
                                   "0.1"])
    text = " ".join(res.output.split())
    assert "field 'fleets[arm].count': --fleet-scale 0.1 makes 1.2 of its 12 devices" in text
    assert res.exit_code == 2  # (then: no gateway addresses in the scenario)


@pytest.mark.slow
def test_components_on_two_hosts_serve_devices_found_from_the_scenario(tmp_path: Path) -> None:
    from airan.live.devices import OUTCOMES, run_devices
    from airan.live.runtime import LiveRuntime, deployment_from_scenario

    p_a, p_e, p_g = _free_ports(3)
    gw = f"127.0.0.1:{p_g}"  # both cells share one gateway: the same address
    sc = scenario_from_dict(_scenario(
        sites={"gpu-a": f"127.0.0.1:{p_a}", "edge": f"127.0.0.1:{p_e}"},
        gateways={"bs-a": gw, "bs-b": gw}))
    tenants = {"default": TOKEN}
    with LiveRuntime(sc, tmp_path / "host-1", components=["site:gpu-a"], models=MODELS,
                     tenants=tenants) as one, \
         LiveRuntime(sc, tmp_path / "host-2", components=["site:edge", "gateway:bs-a"],
                     models=MODELS, tenants=tenants) as two:
        assert list(one.sites) == ["gpu-a"] and not one.gateways
        assert list(two.sites) == ["edge"] and list(two.gateways) == [gw]
        assert two.deployment is not None and two.deployment.gateways == {"bs-a": gw,
                                                                          "bs-b": gw}
        dep = deployment_from_scenario(sc, TOKEN)
        assert dep.sites == {"gpu-a": f"127.0.0.1:{p_a}", "edge": f"127.0.0.1:{p_e}"}
        res = run_devices(sc, dep, duration_s=3.0, timeout_s=5.0)
        # devices on another seed, or of another scenario, than the gateways serve: one line
        # before any request (a live review: 60 of 120 dropped as error and exit 0, or, with a
        # shared gateway, every device accepted at the wrong place)
        with pytest.raises(InputError, match="places the devices on seed 3") as err:
            run_devices(sc, deployment_from_scenario(sc, TOKEN, seed=5), duration_s=1.0)
        assert err.value.field == "--seed"
        other = _scenario(sites={"gpu-a": f"127.0.0.1:{p_a}", "edge": f"127.0.0.1:{p_e}"},
                          gateways={"bs-a": gw, "bs-b": gw})
        other["fleets"][0]["count"] = 25
        osc = scenario_from_dict(other)
        with pytest.raises(InputError, match="serves another scenario") as err:
            run_devices(osc, deployment_from_scenario(osc, TOKEN), duration_s=1.0)
        assert err.value.field == "scenario"
    s = res.summary
    r = s["requests"]
    assert r["created"] > 250 and r["in_flight"] == 0
    assert r["created"] == r["met"] + r["late"] + r["dropped"] and r["met"] > 0
    outcome = np.array(res.requests.column("outcome").to_pylist())
    place = np.array(res.requests.column("placement").to_pylist())
    assert set(outcome) <= set(OUTCOMES)
    assert {"gpu-a", "edge"} <= set(place)  # both hosts' sites served
    assert s["live"]["delays"] == "as set on the gateways' hosts"  # (it once said "gateway")


def test_serve_lists_only_the_components_it_started(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """One host's share (site:gpu-a): the edge site runs on another host, and serve printed
    its address as if it had started it."""
    p_a, p_e = _free_ports(2)
    d = _scenario(sites={"gpu-a": f"127.0.0.1:{p_a}", "edge": f"127.0.0.1:{p_e}"})
    res = _serve_site_gpu_a(d, tmp_path, monkeypatch)
    assert res.exit_code == 0, res.output
    assert f"site gpu-a: 127.0.0.1:{p_a}" in res.output
    assert "site edge" not in res.output


def _serve_site_gpu_a(d: dict[str, Any], tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> Any:
    """``airan serve`` of scenario ``d``'s site gpu-a alone, for half a second."""
    import yaml

    from airan.live.cli import register

    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(d))
    app = typer.Typer()
    register(app)
    monkeypatch.setenv("AIRAN_TOKEN", TOKEN)
    return CliRunner().invoke(app, ["serve", str(f), "--component", "site:gpu-a", "--host",
                                    "127.0.0.1", "--out", str(tmp_path / "a"), "--duration",
                                    "0.5", "--model", "detect=tiny-cnn", "--model", "plan=mlp"])


def test_one_hosts_share_of_a_large_scenario_is_not_held_to_the_whole_ones_gateways(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At most 64 gateway processes start on one machine: a host that starts one site of a
    66-cell scenario (its gateways on other hosts) was refused for the 66 cells, so a scenario
    past 64 cells could not be spread over hosts at all (a review)."""
    (p_a,) = _free_ports(1)
    d = _scenario(sites={"gpu-a": f"127.0.0.1:{p_a}", "edge": "127.0.0.1:1"})
    d["cell_sites"] += [{"name": f"far-{i}", "position_m": [400 * (i + 2), 0], "sectors": 1}
                        for i in range(64)]
    res = _serve_site_gpu_a(d, tmp_path, monkeypatch)
    assert res.exit_code == 0, res.output
    assert f"site gpu-a: 127.0.0.1:{p_a}" in res.output


def test_generated_compute_sites_take_live_addresses_and_components(tmp_path: Path) -> None:
    """A scenario whose GPU sites are generated (``gpu-<cell site>``) is deployed on hosts like
    any other: ``live.sites`` names them, a host starts one with ``--component site:NAME``,
    and a gateway needs their addresses too. Before, validation refused their names in
    ``live.sites`` while the gateway asked for them: no such scenario could be spread over
    hosts (a review)."""
    from airan.live.runtime import LiveRuntime

    d = _scenario(sites={"gpu-a": "127.0.0.1:5001", "edge": "127.0.0.1:5003",
                         "gpu-bs-b": "127.0.0.1:5004"},
                  gateways={"bs-a": "127.0.0.1:5002"})
    d["generated_compute_sites"] = {"every": 2, "gpus": [{"type": "L40S", "count": 1}]}
    with pytest.raises(InputError) as e:  # every 2nd cell site from the first: bs-a only
        scenario_from_dict(d)
    assert e.value.field == "live.sites.gpu-bs-b" and "did you mean 'gpu-bs-a'" in str(e.value)
    d["live"]["sites"]["gpu-bs-a"] = d["live"]["sites"].pop("gpu-bs-b")
    sc = scenario_from_dict(d)
    assert LiveRuntime(sc, tmp_path, components=["site:gpu-bs-a"],
                       models=MODELS).components == ({"gpu-bs-a"}, set())
    assert LiveRuntime(sc, tmp_path, components=["gateway:bs-a"],
                       models=MODELS).components == (set(), {"bs-a"})
    del d["live"]["sites"]["gpu-bs-a"]
    with pytest.raises(InputError) as e:
        LiveRuntime(scenario_from_dict(d), tmp_path, components=["gateway:bs-a"],
                    models=MODELS)
    assert e.value.field == "live.sites.gpu-bs-a"  # the gateway dials it too


def _certificates(folder: Path, tag: str = "") -> dict[str, Path]:
    """A CA of its own and a server certificate it signed for 127.0.0.1 and localhost (PEM
    files in ``folder``: ca, cert, key), as an operator's PKI would issue them."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    day = datetime.timedelta(days=1)

    def name(text: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name(f"test CA{tag}"))
          .issuer_name(name(f"test CA{tag}")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - day)
          .not_valid_after(now + day)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(name("localhost"))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - day)
            .not_valid_after(now + day)
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(ca_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    files = {"ca": folder / f"ca{tag}.pem", "cert": folder / f"cert{tag}.pem",
             "key": folder / f"key{tag}.pem"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return files


@pytest.mark.slow
def test_components_on_two_hosts_speak_tls_and_say_so_to_a_caller_who_does_not(
        tmp_path: Path) -> None:
    """With a certificate and key (and the CA that signed them), every server of a deployment
    speaks TLS, the gateways dial the sites over it, and devices that trust the CA are served;
    devices dialling in plain TCP, or trusting another CA, get one line saying which, before
    any request is sent."""
    import dataclasses
    import json

    from airan.live import wire
    from airan.live.devices import run_devices
    from airan.live.runtime import LiveRuntime, deployment_from_scenario

    pki = _certificates(tmp_path / "pki")
    other = _certificates(tmp_path / "pki", tag="-other")
    p_a, p_e, p_g = _free_ports(3)
    gw = f"127.0.0.1:{p_g}"
    sc = scenario_from_dict(_scenario(
        sites={"gpu-a": f"127.0.0.1:{p_a}", "edge": f"127.0.0.1:{p_e}"},
        gateways={"bs-a": gw, "bs-b": gw}))
    tenants = {"default": TOKEN}
    tls = wire.Tls(str(pki["cert"]), str(pki["key"]), str(pki["ca"]))
    with LiveRuntime(sc, tmp_path / "host-1", components=["site:gpu-a"], models=MODELS,
                     tenants=tenants, tls=tls), \
         LiveRuntime(sc, tmp_path / "host-2", components=["site:edge", "gateway:bs-a"],
                     models=MODELS, tenants=tenants, tls=tls) as two:
        assert two.deployment is not None and two.deployment.tls
        config = json.loads(next((tmp_path / "host-2" / "config").glob("gateway-*")).read_text())
        assert config["tls_ca"] == str(pki["ca"].resolve())  # it dials the sites over TLS
        dep = deployment_from_scenario(sc, TOKEN, tls=wire.Tls(ca=str(pki["ca"]), enabled=True))
        res = run_devices(sc, dep, duration_s=2.0, timeout_s=5.0)
        r = res.summary["requests"]
        # every request answered over TLS (late ones too: a busy 2-core machine's timing)
        assert r["created"] > 150 and r["dropped"] == 0 and r["met"] > r["created"] / 2, r
        assert {"gpu-a", "edge"} <= set(res.requests.column("placement").to_pylist())
        with pytest.raises(InputError, match="dials without TLS") as err:
            run_devices(sc, dataclasses.replace(dep, tls=False), duration_s=1.0)
        assert err.value.field == "--tls-ca"
        with pytest.raises(InputError, match="signed by a CA trusted here.*names 127.0.0.1"):
            run_devices(sc, dataclasses.replace(dep, tls_ca=str(other["ca"])), duration_s=1.0)


def test_tls_files_are_checked_before_anything_starts(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A certificate without its key, a file that is missing or not PEM, a key of another
    certificate, a CA alone for servers, a CA with --no-tls: one line naming the option, exit
    2, nothing started."""
    import yaml

    from airan.live.cli import register

    monkeypatch.delenv("AIRAN_TLS_CERT", raising=False)
    monkeypatch.delenv("AIRAN_TLS_KEY", raising=False)
    monkeypatch.delenv("AIRAN_TLS_CA", raising=False)
    from cryptography.hazmat.primitives import serialization

    pki = _certificates(tmp_path / "pki")
    other = _certificates(tmp_path / "pki", tag="-other")
    locked = tmp_path / "pki" / "locked.pem"
    key = serialization.load_pem_private_key(pki["key"].read_bytes(), password=None)
    locked.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.BestAvailableEncryption(b"secret")))
    app = typer.Typer()
    register(app)
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(small_scenario(1.0)))
    out = tmp_path / "serve"
    cases = [
        (["--tls-cert", str(pki["cert"])], "--tls-key", "both its certificate and its private"),
        (["--tls-cert", str(tmp_path / "none.pem"), "--tls-key", str(pki["key"])],
         "--tls-cert", "cannot be read"),
        (["--tls-cert", str(f), "--tls-key", str(pki["key"])], "--tls-cert", "not a PEM file"),
        (["--tls-cert", str(pki["cert"]), "--tls-key", str(other["key"])], "--tls-key",
         "not the private key of the certificate"),
        (["--tls-cert", str(pki["cert"]), "--tls-key", str(pki["key"]), "--delays", "netns"],
         "--tls-cert", "not with --delays netns"),
        (["--tls-cert", str(pki["key"]), "--tls-key", str(pki["key"])], "--tls-cert",
         "no certificate in it"),
        (["--tls-cert", str(pki["cert"]), "--tls-key", str(pki["cert"])], "--tls-key",
         "no private key in it"),
        (["--tls-cert", str(pki["cert"]), "--tls-key", str(locked)], "--tls-key",
         "an encrypted key"),  # (OpenSSL asked for its pass phrase, or a traceback)
    ]
    for options, option, words in cases:
        res = CliRunner().invoke(app, ["serve", str(f), "--out", str(out), "--duration", "1",
                                       *options])
        text = " ".join(res.output.split())
        assert res.exit_code == 2 and option in text and words in text, (options, res.output)
        assert "Traceback" not in res.output and not out.exists()
    # --no-tls wins over a CA (AIRAN_TLS_CA exported for other runs: a diff review), and a CA
    # alone is no server's TLS (plain serve and live failed with it exported)
    res = CliRunner().invoke(app, ["devices", str(f), "--token", TOKEN, "--no-tls", "--tls-ca",
                                   str(pki["ca"])])
    assert res.exit_code == 2 and "live.gateways.bs-a" in res.output, res.output
    from airan.live import wire
    from airan.live.cli import _tls
    from airan.live.runtime import LiveRuntime

    assert _tls(None, None, pki["ca"]) is None
    with pytest.raises(InputError, match="a CA alone is for the devices"):
        LiveRuntime(scenario_from_dict(small_scenario(1.0)), out, tls=wire.Tls(ca=str(pki["ca"])))
    # a deployment's CA path that is not on this host: one line naming --tls-ca
    import json

    from airan.live.devices import _tls_failure

    (tmp_path / "dep").mkdir()
    closed = f"127.0.0.1:{_free_ports(1)[0]}"
    (tmp_path / "dep" / "deployment.json").write_text(json.dumps({
        "scenario": "", "seed": 3, "policy": "least-loaded",
        "sites": {"gpu-a": closed, "edge": closed}, "gateways": {"bs-a": closed, "bs-b": closed},
        "tenants": {"default": TOKEN}, "tls": True, "tls_ca": str(tmp_path / "elsewhere.pem")}))
    res = CliRunner().invoke(app, ["devices", str(f), "--deployment", str(tmp_path / "dep")])
    said = " ".join(res.output.split())
    assert res.exit_code == 2 and "option '--tls-ca': the deployment's CA file" in said, said
    # gRPC's words for a certificate that does not name the address dialled are a TLS failure
    assert _tls_failure("failed to connect to all addresses; last error: UNKNOWN: ipv4:1.2.3.4:"
                        "5: Custom verification check failed with error: UNAUTHENTICATED: "
                        "Hostname Verification Check failed.", plain=False)
    assert not _tls_failure("failed to connect to all addresses; Socket closed", plain=False)


def test_the_served_digest_reads_a_named_files_contents_not_its_path(tmp_path: Path) -> None:
    """Two hosts holding the same site list at different paths serve the same scenario; one
    list changed at the same path does not (a diff review: the digest hashed the paths)."""
    from airan.live.served import served_digest

    def with_list(folder: Path, rows: str) -> Any:
        folder.mkdir()
        (folder / "sites.csv").write_text("latitude,longitude\n" + rows)
        d = small_scenario()
        d["cell_sites"] = []
        d["cell_sites_file"] = {"path": str(folder / "sites.csv")}
        d["compute_sites"] = [c for c in d["compute_sites"] if c["name"] == "edge"]
        d["transport"] = {"links": []}
        return scenario_from_dict(d)

    rows = "31.23,121.47\n31.233,121.474\n"
    a, b = with_list(tmp_path / "a", rows), with_list(tmp_path / "b", rows)
    assert served_digest(a) == served_digest(b)
    (tmp_path / "b" / "sites.csv").write_text("latitude,longitude\n31.23,121.47\n")
    assert served_digest(a) != served_digest(b)


def test_a_deployment_file_keeps_to_the_fields_other_hosts_read(tmp_path: Path) -> None:
    """A plain deployment's file holds no TLS fields and never the runtime's own flag, so an
    airan of before them on another host still reads it (a diff review); a server on every
    interface is dialled on the loopback (no certificate names 0.0.0.0)."""
    import json

    from airan.live.runtime import Deployment, _dial

    dep = Deployment(scenario="", seed=1, policy="p", sites={}, gateways={}, tenants={"d": "t"},
                     from_scenario=True)
    data = json.loads(dep.write(tmp_path / "d.json").read_text())
    assert not {"tls", "tls_ca", "from_scenario"} & set(data)
    on = Deployment(scenario="", seed=1, policy="p", sites={}, gateways={}, tenants={"d": "t"},
                    tls=True, tls_ca="/ca.pem")
    back = Deployment.read(on.write(tmp_path / "e.json"))
    assert (back.tls, back.tls_ca, back.from_scenario) == (True, "/ca.pem", False)
    assert (_dial("0.0.0.0"), _dial("::"), _dial("10.0.0.5")) == ("127.0.0.1", "::1", "10.0.0.5")
