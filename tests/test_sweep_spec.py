"""The sweep file: axes expand into validated runs; bad input is one clear line and exit 2.

* a field path sets any scenario field (keys, list items by position or by name);
* product and zip expansion, ``{from, count, step}`` ranges, the ``load`` multiplier;
* a run's key is a content hash: the same run has the same key, any change gives another;
* an unknown path, an invalid value or an unknown policy names the axis and the value.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from airan.cli import app
from airan.errors import InputError
from airan.sweep.spec import load_sweep, parse_path, set_path, sweep_from_dict

runner = CliRunner()


def write(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_field_paths_parse_keys_positions_and_names() -> None:
    assert parse_path("compute_sites[metro].gpus[0].count") == [
        "compute_sites", "[metro]", "gpus", 0, "count"]
    assert parse_path("radio.scheduler") == ["radio", "scheduler"]
    with pytest.raises(ValueError):
        parse_path("radio..scheduler")


def test_set_path_reaches_list_items_by_name_and_position() -> None:
    d = {"services": [{"name": "a", "rate_hz": 1}, {"name": "b", "rate_hz": 2}],
         "radio": {"scheduler": "rr"}}
    set_path(d, "services[b].rate_hz", 5)
    set_path(d, "services[0].rate_hz", 3)
    set_path(d, "radio.scheduler", "pf")
    assert d == {"services": [{"name": "a", "rate_hz": 3}, {"name": "b", "rate_hz": 5}],
                 "radio": {"scheduler": "pf"}}


def test_an_axis_may_name_a_new_entry_of_a_mapping_of_names() -> None:
    """live.sites is empty in factory: an axis setting one site's address adds the entry (it
    was refused as 'unknown field ...; Accepted: .'), named as sites are ('on-prem'); a field
    not in a mapping that has fields is still refused, with a suggestion."""
    sw = sweep_from_dict({"scenario": "factory",
                          "axes": {"live.sites.on-prem": ["127.0.0.1:9000", "127.0.0.1:9001"]}})
    assert [r.label() for r in sw.runs] == ["live.sites.on-prem=127.0.0.1:9000",
                                            "live.sites.on-prem=127.0.0.1:9001"]
    with pytest.raises(InputError, match="did you mean 'scheduler'"):
        sweep_from_dict({"scenario": "factory", "axes": {"radio.schedular": ["rr"]}})


def test_product_of_axes_gives_every_combination_validated() -> None:
    sw = sweep_from_dict({
        "scenario": "city", "duration_s": 0.5,
        "set": {"radio.scheduler": "rr"},
        "axes": {"policy": ["nearest-edge", "deadline-aware"], "seed": {"from": 4, "count": 3},
                 "compute_sites[metro].gpus[0].count": [2, 8]},
    })
    assert len(sw.runs) == 2 * 3 * 2
    assert {(r.policy, r.seed) for r in sw.runs} == {
        (p, s) for p in ("nearest-edge", "deadline-aware") for s in (4, 5, 6)}
    r = sw.runs[-1]
    assert r.axes == {"policy": "deadline-aware", "seed": 6,
                      "compute_sites[metro].gpus[0].count": 8}
    assert r.scenario["radio"]["scheduler"] == "rr"
    metro = next(c for c in r.scenario["compute_sites"] if c["name"] == "metro")
    assert metro["gpus"][0]["count"] == 8
    assert all(x.duration_s == 0.5 for x in sw.runs)
    assert len({x.key for x in sw.runs}) == len(sw.runs)


def test_zip_mode_pairs_axes_and_load_scales_fleets() -> None:
    sw = sweep_from_dict({"scenario": "city", "mode": "zip",
                          "axes": {"seed": [1, 2], "load": [1, 2.5]}})
    assert [(r.seed, r.load) for r in sw.runs] == [(1, 1.0), (2, 2.5)]
    assert sw.runs[1].scenario["fleets"][0]["count"] == 2500  # city: 1,000 vehicles x 2.5
    with pytest.raises(InputError, match="one length"):
        sweep_from_dict({"scenario": "city", "mode": "zip",
                         "axes": {"seed": [1, 2], "load": [1]}})


def test_run_key_is_a_content_hash() -> None:
    spec = {"scenario": "city", "axes": {"seed": [1, 2]}}
    a, b = sweep_from_dict(spec), sweep_from_dict(spec)
    assert [r.key for r in a.runs] == [r.key for r in b.runs]
    changed = sweep_from_dict({**spec, "set": {"services[perception].deadline_ms": 90}})
    assert not {r.key for r in a.runs} & {r.key for r in changed.runs}
    longer = sweep_from_dict({**spec, "duration_s": 3})
    assert not {r.key for r in a.runs} & {r.key for r in longer.runs}


def test_a_change_to_the_code_gives_every_run_another_key(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A resumed sweep never reuses a run that a changed engine or catalog would give
    otherwise (the planner's cache keys on the code the same way)."""
    import airan.version as version

    spec = {"scenario": "city", "axes": {"seed": [1, 2]}}
    before = {r.key for r in sweep_from_dict(spec).runs}
    monkeypatch.setattr(version, "airan_code_hash", lambda: "changed")
    assert not before & {r.key for r in sweep_from_dict(spec).runs}


def test_scenario_path_is_relative_to_the_sweep_file(tmp_path: Path) -> None:
    sub = tmp_path / "plans"
    sub.mkdir()
    (sub / "mine.yaml").write_text(
        (Path(__file__).resolve().parents[1] / "src/airan/scenario/builtin/city.yaml")
        .read_text().replace("name: city", "name: mine"))
    sw = load_sweep(write(sub, "scenario: mine.yaml\naxes: {seed: [1]}\n"))
    assert sw.runs[0].scenario["name"] == "mine"
    assert sw.name == "sweep"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("scenario: city\naxes: {radio.schedular: [rr]}\n",
         ["axes.radio.schedular", "unknown field 'schedular'", "did you mean 'scheduler'"]),
        ("scenario: city\naxes: {lod: [1, 2]}\n",  # the load axis is no scenario field
         ["axes.lod", "unknown field 'lod'", "did you mean 'load'", "load, models, name"]),
        ("scenario: city\naxes: {policy: [deadline-awar]}\n",
         ["axes.policy", "unknown policy 'deadline-awar'", "did you mean 'deadline-aware'"]),
        ("scenario: city\naxes:\n  compute_sites[metro].gpus[0].count: [2, 0]\n",
         ["axes.compute_sites[metro].gpus[0].count", "greater than or equal to 1", "got 0"]),
        # two axes invalid alone: the message, field and value are one axis's (the run's error
        # was once given with the other axis's name)
        ("scenario: city\naxes:\n  policy: [deadline-awar]\n"
         "  compute_sites[metro].gpus[0].count: [0, 2]\n",
         ["axes.compute_sites[metro].gpus[0].count", "greater than or equal to 1", "got 0"]),
        ("scenario: city\naxes:\n  compute_sites[metr].queue_limit: [2]\n",
         ["axes.compute_sites[metr].queue_limit", "did you mean 'metro'"]),
        ("scenario: city\naxes: {load: [1, -2]}\n", ["axes.load", "positive", "-2"]),
        ("scenario: city\naxes: {seed: []}\n", ["axes.seed", "at least one value"]),
        ("scenario: city\naxis: {seed: [1]}\n", ["unknown field 'axis'", "did you mean 'axes'"]),
        ("scenario: city\naxes: {seed: [1, 1]}\n", ["same run", "seed=1"]),
        ("scenario: city\naxes: {seed: [true, 2]}\n",
         ["axes.seed", "expected a number, got true (scenario field 'seed')"]),
        ("scenario: nowhere\naxes: {seed: [1]}\n", ["unknown scenario 'nowhere'"]),
        ("scenario: city\naxes: [seed\n", ["malformed YAML"]),
    ],
)
def test_bad_sweep_file_is_one_error_line_and_exit_2(tmp_path: Path, text: str,
                                                     expected: list[str]) -> None:
    path = write(tmp_path, text)
    result = runner.invoke(app, ["sweep", str(path), "--workers", "1",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for part in expected:
        assert part in lines[0], lines[0]
    assert not (tmp_path / "out").exists()  # nothing ran, nothing written


def test_bad_workers_option_is_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, "scenario: city\naxes: {seed: [1]}\n")
    result = runner.invoke(app, ["sweep", str(path), "--workers", "0"])
    assert result.exit_code == 2
    assert "--workers" in result.stderr and "at least 1" in result.stderr


def test_dry_run_lists_runs_without_running(tmp_path: Path) -> None:
    path = write(tmp_path, "scenario: city\naxes: {policy: [local, cloud], seed: [1, 2]}\n")
    result = runner.invoke(app, ["sweep", str(path), "--dry-run", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "4 runs of city" in result.stdout
    assert result.stdout.count("todo") == 4
    assert not (tmp_path / "o" / "runs").exists()
    one = write(tmp_path, "scenario: city\naxes: {seed: [1]}\n", name="one.yaml")
    single = runner.invoke(app, ["sweep", str(one), "--dry-run", "--out", str(tmp_path / "p")])
    assert "1 run of city" in single.stdout  # (it said '1 runs')


def test_run_key_follows_a_named_files_contents_not_the_working_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A scenario naming a trace by a relative path: the same keys from any working folder,
    other keys once the trace changes (before, the key held the path as the loader resolved
    it against the working folder, and not the file's contents)."""
    proj = tmp_path / "proj"
    (proj / "traces").mkdir(parents=True)
    trace = proj / "traces" / "t.csv"
    trace.write_text("t,device,x,y\n0,a,0,0\n10,a,50,0\n")
    factory = (Path(__file__).resolve().parents[1] / "src/airan/scenario/builtin/factory.yaml")
    import yaml

    d = yaml.safe_load(factory.read_text())
    d["fleets"][0]["mobility"] = {"model": "trace", "file": "traces/t.csv"}
    (proj / "sc.yaml").write_text(yaml.safe_dump(d))
    write(proj, "scenario: sc.yaml\naxes: {seed: [1, 2]}\n")

    def keys(cwd: Path) -> list[str]:
        monkeypatch.chdir(cwd)
        return [r.key for r in load_sweep(proj / "sweep.yaml").runs]

    here = keys(proj)
    assert keys(tmp_path) == here
    assert all(Path(r.scenario["fleets"][0]["mobility"]["file"]).is_absolute()
               for r in load_sweep(proj / "sweep.yaml").runs)
    trace.write_text("t,device,x,y\n0,a,0,0\n10,a,60,0\n")
    assert not set(keys(tmp_path)) & set(here)


def test_a_float_range_gives_the_values_as_written() -> None:
    sw = sweep_from_dict({"scenario": "city", "axes": {
        "services[perception].rate_hz": {"from": 0.1, "count": 4, "step": 0.1}}})
    assert [r.axes["services[perception].rate_hz"] for r in sw.runs] == [0.1, 0.2, 0.3, 0.4]
    as_list = sweep_from_dict({"scenario": "city", "axes": {
        "services[perception].rate_hz": [0.1, 0.2, 0.3, 0.4]}})
    assert [r.key for r in sw.runs] == [r.key for r in as_list.runs]


def test_a_zip_of_too_many_runs_is_refused_before_it_expands() -> None:
    with pytest.raises(InputError, match="more than 100,000"):
        sweep_from_dict({"scenario": "city", "mode": "zip",
                         "axes": {"seed": {"from": 1, "count": 1_000_000}}})


def test_an_unquoted_off_on_a_fleets_drx_axis_reads_and_shows_as_off(tmp_path: Path) -> None:
    """YAML 1.1 reads an unquoted off as false: on a fleet's DRX axis the run, its label and
    its row say 'off', the same run (the same key) as the quoted 'off'."""
    text = "scenario: factory\naxes:\n  fleets[camera].drx: [{off}, {{}}]\n"
    bare = load_sweep(write(tmp_path, text.format(off="off"), "bare.yaml"))
    quoted = load_sweep(write(tmp_path, text.format(off="'off'"), "quoted.yaml"))
    assert [r.axes["fleets[camera].drx"] for r in bare.runs] == ["off", {}]
    assert bare.runs[0].label() == "fleets[camera].drx=off"
    assert [r.key for r in bare.runs] == [r.key for r in quoted.runs]
    camera = next(f for f in bare.runs[0].scenario["fleets"] if f["name"] == "camera")
    assert camera["drx"] == "off"


def test_a_fleets_fields_its_device_class_fills_can_be_set_and_swept() -> None:
    """factory's camera fleet takes its buffer and accelerator from its device class (left
    out of the dumped scenario): a sweep sets them as the fleet's own (a planner's review:
    'unknown field ul_buffer_kb; did you mean ul_queue')."""
    from airan.scenario import scenario_from_dict

    sw = sweep_from_dict({
        "scenario": "factory", "duration_s": 0.5,
        "set": {"fleets[amr].ul_buffer_kb": 50},
        "axes": {"fleets[camera].ul_buffer_kb": [100, 200],
                 "fleets[camera].accelerator": ["none", "JetsonOrin"]},
    })
    assert len(sw.runs) == 4
    for r in sw.runs:
        fleets = {f.name: f for f in scenario_from_dict(r.scenario).fleets}
        assert fleets["amr"].ul_buffer_kb == 50
        assert fleets["camera"].ul_buffer_kb == r.axes["fleets[camera].ul_buffer_kb"]
        assert fleets["camera"].accelerator == r.axes["fleets[camera].accelerator"]
    with pytest.raises(InputError, match="did you mean 'ul_buffer_kb'"):
        sweep_from_dict({"scenario": "factory", "axes": {"fleets[camera].ul_bufer_kb": [1]}})


def test_a_misspelt_range_field_is_named_and_a_scenario_message_says_got_once() -> None:
    """{form: 1, count: 2} names 'form' (it said 'from' was missing); an axis value the
    scenario refuses with its own '(got ...)' is not followed by another (a review)."""
    with pytest.raises(InputError) as err:
        sweep_from_dict({"scenario": "factory", "axes": {"seed": {"form": 1, "count": 2}}})
    assert str(err.value).endswith("field 'axes.seed.form': unknown field 'form'; did you mean "
                                   "'from'? Accepted: count, from, step.")
    for value, got in (({"cycle_ms": 150}, "(got 150; the nearest is 160)"),
                       (True, "(got true: YAML reads")):
        with pytest.raises(InputError) as err:
            sweep_from_dict({"scenario": "factory", "axes": {"fleets[camera].drx": [value]}})
        text = str(err.value)
        assert got in text and text.count("(got ") == 1, text


def test_an_axis_over_the_band_gives_each_band_its_own_frequency_and_duplex() -> None:
    """city's carrier is n78 at 3.5 GHz, TDD, both from its band: an axis over the band gives
    each band its own (TS 38.104 Table 5.2-1: n1's downlink centre 2.14 GHz, FDD; n100's
    919.4-925 MHz, centre 922.2 MHz, FDD), where every value but n78 was refused as 3.5 GHz outside
    it; an unlisted band is refused for its unknown frequency (it ran at 3.5 GHz TDD); a
    frequency the file gave stays, and a path may set one after the band."""
    from airan.scenario import scenario_from_dict

    sw = sweep_from_dict({"scenario": "city", "duration_s": 0.5,
                          "set": {"carrier.bandwidth_mhz": 5},
                          "axes": {"carrier.band": ["n78", "n1", "n100", "n77"]}})
    got = {r.axes["carrier.band"]: scenario_from_dict(r.scenario).carrier for r in sw.runs}
    assert {b: (c.fc_ghz, c.tdd_pattern) for b, c in got.items()} == {
        "n78": (3.5, "DDDSU"), "n1": (2.14, None), "n100": (pytest.approx(0.9222), None),
        "n77": (3.5, "DDDSU")}
    with pytest.raises(InputError, match="band n999 is not in airan's band table") as err:
        sweep_from_dict({"scenario": "city", "axes": {"carrier.band": ["n78", "n999"]}})
    assert err.value.field == "axes.carrier.band"
    sw = sweep_from_dict({"scenario": "city", "duration_s": 0.5,
                          "axes": {"carrier.band": ["n999"], "carrier.fc_ghz": [1.9]}})
    assert scenario_from_dict(sw.runs[0].scenario).carrier.fc_ghz == 1.9
    # a frequency that is not the old band's default is the file's own: it stays (and n1
    # refuses it, naming it)
    with pytest.raises(InputError, match="band n1 carries 2110-2170 MHz") as err:
        sweep_from_dict({"scenario": "city", "set": {"carrier.fc_ghz": 3.6},
                         "axes": {"carrier.band": ["n1"]}})
    assert err.value.field == "axes.carrier.band" and "field 'carrier.fc_ghz'" in str(err.value)


def test_a_frequency_set_before_the_band_stays_whatever_the_order() -> None:
    """A diff review: ``fc_ghz: 3.5`` then ``band: n48`` ran n48 at 3.625 GHz (n48's default)
    labelled 3.5, and the other order was refused. A field a path sets is the user's in every
    order: n48 (3550-3700 MHz, TS 38.104) refuses 3.5 GHz either way, naming it, and takes
    3.6 GHz either way; from ``set`` to an axis, too."""
    from airan.api import with_fields

    for fields in ({"carrier.fc_ghz": 3.5, "carrier.band": "n48"},
                   {"carrier.band": "n48", "carrier.fc_ghz": 3.5}):
        with pytest.raises(InputError, match="band n48 carries 3550-3700 MHz"):
            with_fields("city", fields)
    for fields in ({"carrier.fc_ghz": 3.6, "carrier.band": "n48"},
                   {"carrier.band": "n48", "carrier.fc_ghz": 3.6}):
        assert with_fields("city", fields).carrier.fc_ghz == 3.6
    with pytest.raises(InputError, match="band n48 carries"):
        sweep_from_dict({"scenario": "city", "set": {"carrier.fc_ghz": 3.5},
                         "axes": {"carrier.band": ["n48"]}})
    # a carrier set whole keeps its frequency too (a diff review: it ran n48 at 3.625 GHz)
    whole = with_fields("city", {}).carrier.model_dump(mode="json")
    with pytest.raises(InputError, match="band n48 carries"):
        with_fields("city", {"carrier": whole, "carrier.band": "n48"})
    sw = sweep_from_dict({"scenario": "city", "duration_s": 0.5, "mode": "zip",
                          "axes": {"carrier.fc_ghz": [3.5, 3.6],
                                   "carrier.band": ["n78", "n48"]}})
    assert [(r.scenario["carrier"]["band"], r.scenario["carrier"]["fc_ghz"])
            for r in sw.runs] == [("n78", 3.5), ("n48", 3.6)]
