"""Importing real site lists: the Shanghai Telecom list, the projection, and bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from airan.errors import InputError
from airan.mobility import SiteListFile, haversine_m, load_site_list, project_aeqd
from airan.mobility.sites import SiteList, unproject_aeqd

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SHANGHAI = DATA / "sites" / "shanghai_telecom_base_stations.csv"
needs_data = pytest.mark.skipif(
    not SHANGHAI.is_file(), reason=f"real data not present: {SHANGHAI} (see shared/data/README.md)"
)

# People's Square and Pudong International Airport (33 km apart).
PEOPLES_SQUARE = (31.2304, 121.4737)
PVG = (31.1443, 121.8083)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# --- the Shanghai Telecom list ---------------------------------------------------------------


@pytest.fixture(scope="module")
def shanghai() -> SiteList:
    if not SHANGHAI.is_file():
        pytest.skip(f"real data not present: {SHANGHAI}")
    return load_site_list(SHANGHAI, name="id")


@needs_data
def test_shanghai_keeps_about_3000_sites_and_reports_the_far_ones(shanghai: SiteList) -> None:
    assert 2900 <= len(shanghai) <= 3042
    assert len(shanghai) + len(shanghai.outliers) == 3042
    assert 10 <= len(shanghai.outliers) <= 100  # the data README: "about 30 rows"
    # The README's example outlier (41.68, 125.96) is reported with its distance and the limit.
    far = [why for _, why in shanghai.outliers if "41.67" in why and "125.96" in why]
    assert len(far) == 1 and "km from the median point" in far[0] and "limit" in far[0]
    summary = shanghai.summary()
    assert f"{len(shanghai)} sites kept, {len(shanghai.outliers)} skipped" in summary
    assert "(+" in summary  # only the first few reasons are listed
    assert len(set(shanghai.names)) == len(shanghai)


@needs_data
def test_shanghai_sites_lie_in_the_city(shanghai: SiteList) -> None:
    # The municipality spans 30.67-31.88 N, 120.85-122.00 E; the robust limit (82 km) keeps one
    # site just across the border in Suzhou (31.318, 120.620) at 80 km.
    inside = (
        (shanghai.lat >= 30.67)
        & (shanghai.lat <= 31.88)
        & (shanghai.lon >= 120.85)
        & (shanghai.lon <= 122.0)
    )
    assert inside.mean() > 0.998
    assert shanghai.origin_lat == pytest.approx(31.22, abs=0.05)
    assert shanghai.origin_lon == pytest.approx(121.46, abs=0.05)
    x, y = shanghai.xy_m.T
    assert 30e3 < np.ptp(x) < 150e3 and 30e3 < np.ptp(y) < 150e3  # tens of km
    assert abs(np.median(x)) < 1e3 and abs(np.median(y)) < 1e3  # centred on the median point
    # Most sites are urban: half lie within 15 km of the centre, spaced a few hundred metres.
    assert np.median(np.hypot(x, y)) < 15e3
    d = np.hypot(x[:, None] - x[None, :500], y[:, None] - y[None, :500])
    d[d == 0] = np.inf
    assert 100 < np.median(d.min(axis=0)) < 1000  # README: median spacing about 340 m


@needs_data
def test_shanghai_plane_distances_match_haversine(shanghai: SiteList) -> None:
    lat0, lon0 = shanghai.origin_lat, shanghai.origin_lon
    pts = np.array([PEOPLES_SQUARE, PVG])
    x, y = project_aeqd(pts[:, 0], pts[:, 1], lat0, lon0)
    plane = math.hypot(x[1] - x[0], y[1] - y[0])
    true = float(haversine_m(*PEOPLES_SQUARE, *PVG))
    assert 32e3 < true < 35e3
    assert plane == pytest.approx(true, rel=0.005)
    # Also between far-apart kept sites (the westmost and the eastmost).
    i, j = np.argmin(shanghai.lon), np.argmax(shanghai.lon)
    plane = float(np.hypot(*(shanghai.xy_m[i] - shanghai.xy_m[j])))
    true = float(haversine_m(shanghai.lat[i], shanghai.lon[i], shanghai.lat[j], shanghai.lon[j]))
    assert plane == pytest.approx(true, rel=0.005)


@needs_data
def test_shanghai_through_the_scenario_field() -> None:
    spec = SiteListFile(path="shanghai_telecom_base_stations.csv", max_radius_km=60)
    sites = spec.load(SHANGHAI.parent)
    assert 2900 <= len(sites) <= 3042
    assert np.hypot(*sites.xy_m.T).max() < 62e3  # 60 km, plus the origin's shift


# --- projection ------------------------------------------------------------------------------


def test_projection_is_exact_from_the_origin_and_round_trips() -> None:
    rng = np.random.default_rng(1)
    lat0, lon0 = 31.2, 121.5
    lat = lat0 + rng.uniform(-0.5, 0.5, 1000)
    lon = lon0 + rng.uniform(-0.6, 0.6, 1000)
    x, y = project_aeqd(lat, lon, lat0, lon0)
    np.testing.assert_allclose(np.hypot(x, y), haversine_m(lat, lon, lat0, lon0), rtol=1e-9)
    la2, lo2 = unproject_aeqd(x, y, lat0, lon0)
    np.testing.assert_allclose(la2, lat, atol=1e-9)
    np.testing.assert_allclose(lo2, lon, atol=1e-9)
    # Between two points 50 km from the origin the plane errs by less than 0.01 %.
    a = project_aeqd(lat0 + 0.45, lon0 - 0.1, lat0, lon0)
    b = project_aeqd(lat0 - 0.2, lon0 + 0.5, lat0, lon0)
    plane = math.hypot(a[0] - b[0], a[1] - b[1])
    assert plane == pytest.approx(
        haversine_m(lat0 + 0.45, lon0 - 0.1, lat0 - 0.2, lon0 + 0.5), rel=1e-4
    )
    # East is +x and north is +y.
    assert project_aeqd(lat0, lon0 + 0.01, lat0, lon0)[0] > 0
    assert project_aeqd(lat0 + 0.01, lon0, lat0, lon0)[1] > 0


def test_a_given_origin_is_the_local_zero(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "lat,lon\n10.0,20.0\n10.01,20.0\n10.0,20.01\n")
    sites = load_site_list(path, lat="lat", lon="lon", origin=(10.0, 20.0))
    np.testing.assert_allclose(sites.xy_m[0], [0, 0], atol=1e-9)
    assert sites.xy_m[1, 1] == pytest.approx(haversine_m(10, 20, 10.01, 20), rel=1e-9)
    assert sites.names == ["site0", "site1", "site2"] and sites.regions is None


# --- small files, bad rows and bad files -----------------------------------------------------


def test_bad_rows_are_reported_as_outliers_not_a_crash(tmp_path: Path) -> None:
    rows = [
        "name,region,lat,lon",
        "a,north,31.20,121.40",
        "b,north,abc,121.41",  # line 3: not a number
        "c,south,31.21,",  # line 4: empty
        "d,south,95.0,121.42",  # line 5: latitude out of range
        "e,south,31.22,200.0",  # line 6: longitude out of range
        "f,east,31.23,121.43",
        "g,east,31.24,121.44",
        "h,west,41.68,125.96",  # line 9: 1,200 km away
        "a,west,31.25,121.45",  # a repeated name
        "i,west,31.23,121.43",  # line 11: f's position again (a site twice interferes with itself)
        "",
    ]
    path = write(tmp_path / "sites.csv", "\n".join(rows))
    sites = load_site_list(path, lat="lat", lon="lon", name="name", region="region")
    assert sites.names == ["a", "f", "g", "a-2"]
    assert sites.regions == ["north", "east", "east", "west"]
    assert sites.rows.tolist() == [2, 7, 8, 10]
    lines = [line for line, _ in sites.outliers]
    assert lines == [3, 4, 5, 6, 9, 11]
    assert "the same position as line 7" in dict(sites.outliers)[11]
    reasons = dict(sites.outliers)
    assert "'abc' is not a number" in reasons[3] and "'lat'" in reasons[3]
    assert "empty 'lon'" in reasons[4]
    assert "latitude 95.0 outside" in reasons[5]
    assert "longitude 200.0 outside" in reasons[6]
    assert "km from the median point" in reasons[9]
    assert "line 3:" in sites.summary()


def test_max_radius_overrides_the_robust_limit(tmp_path: Path) -> None:
    text = "latitude,longitude\n" + "".join(
        f"{31.2 + 0.01 * k},{121.4 + 0.01 * k}\n" for k in range(10)
    )
    path = write(tmp_path / "s.csv", text)
    assert len(load_site_list(path).outliers) == 0
    tight = load_site_list(path, max_radius_km=3.0)
    assert 0 < len(tight) < 10
    assert np.all(haversine_m(tight.lat, tight.lon, np.median(tight.lat), 121.445) < 3.5e3)
    assert all("limit 3.0 km" in why for _, why in tight.outliers)
    # with an origin the radius is around it: the district the user chose (an operator
    # planner's review: an origin in Lujiazui kept the sites around the list's median, 4-6 km
    # away), and the projection is centred there too
    corner = load_site_list(path, max_radius_km=3.0, origin=(31.2, 121.4))
    assert 0 < len(corner) < 10 and corner.names != tight.names
    assert np.all(haversine_m(corner.lat, corner.lon, 31.2, 121.4) <= 3e3)
    assert all("from the origin (limit 3.0 km)" in why for _, why in corner.outliers)
    assert np.allclose(np.hypot(*corner.xy_m.T), haversine_m(corner.lat, corner.lon, 31.2, 121.4))


def test_rows_within_merge_distance_of_an_earlier_one_are_one_mast(tmp_path: Path) -> None:
    """merge_within_m keeps the first row of each group of rows that close (one mast listed
    twice: an operator planner's review found two Shanghai sites 2.98 m apart), and reports
    the others with the distance and the row they join."""
    rows = ["name,latitude,longitude", "a,31.2300,121.4700", "b,31.2300,121.47003",  # ~2.9 m
            "c,31.2400,121.4700", "d,31.23002,121.47001"]  # d: ~2.4 m from a
    path = write(tmp_path / "s.csv", "\n".join(rows) + "\n")
    assert load_site_list(path, name="name").names == ["a", "b", "c", "d"]
    merged = load_site_list(path, name="name", merge_within_m=10)
    assert merged.names == ["a", "c"] and merged.rows.tolist() == [2, 4]
    why = dict(merged.outliers)
    assert why[3].endswith("m from line 2 (merge_within_m 10)") and why[3].startswith("2.9 m")
    assert why[5].endswith("m from line 2 (merge_within_m 10)")
    assert len(merged.lat) == len(merged.xy_m) == 2


def test_a_site_lists_heights_bearings_and_tilts_set_its_antennas(tmp_path: Path) -> None:
    """An operator planner's review: a site database's height, azimuth and tilt columns were
    ignored (every site 25 m, sectors at 30/150/270 deg, 12 deg down, and nothing said). Named
    columns set them per site: site/0 at the bearing given (clockwise from north), site/1 and
    site/2 240 and 120 deg clockwise from it, an empty cell (or NA, NaN, NULL: an export's
    missing value, which dropped the mast at first, a diff review) the default, a bad value
    skips its row with the reason."""
    import airan
    from airan.engine.world import build_world
    from airan.scenario import scenario_from_dict

    rows = ["id,latitude,longitude,h,az,tilt", "a,31.2300,121.4700,32,0,6",
            "b,31.2350,121.4750,,90,", "c,31.2400,121.4800,abc,0,6",
            "d,31.2450,121.4850,40,45,95", "e,31.2500,121.4900,NaN,NULL,-"]
    path = write(tmp_path / "s.csv", "\n".join(rows) + "\n")
    sites = load_site_list(path, name="id", height="h", azimuth="az", downtilt="tilt")
    assert sites.names == ["a", "b", "e"]
    assert sites.height_m.tolist()[0] == 32.0 and math.isnan(sites.height_m[1])
    assert np.isnan(sites.height_m[2]) and np.isnan(sites.downtilt_deg[2])
    assert sites.azimuth_deg.tolist()[:2] == [0.0, 90.0]
    why = dict(sites.outliers)
    assert why[4] == "'h' value 'abc' is not a number in (0, 1000]"
    assert why[5] == "'tilt' value '95' is not a number in [0, 90]"
    with pytest.raises(InputError) as err:
        load_site_list(path, height="height_m")
    assert err.value.field == "cell_sites_file.height"

    d = airan.load_scenario("city").model_dump(mode="json", exclude_unset=True)
    d.pop("cell_layout")
    d["compute_sites"] = [c for c in d["compute_sites"] if c.get("kind") != "cell"]
    d["cell_sites_file"] = {"path": str(path), "name": "id", "height": "h", "azimuth": "az",
                            "downtilt": "tilt"}
    world = build_world(scenario_from_dict(d), seed=1)
    w = world.device_radio  # (the cells' antennas, as the links are computed)
    a = [i for i, n in enumerate(world.cell_names) if n.startswith("a/")]
    b = [i for i, n in enumerate(world.cell_names) if n.startswith("b/")]
    assert w.cell_h[a].tolist() == [32.0] * 3 and w.cell_tilt[a].tolist() == [6.0] * 3
    assert w.cell_h[b].tolist() == [25.0] * 3 and w.cell_tilt[b].tolist() == [12.0] * 3
    # boresights counter-clockwise from east: bearing 0 (north) is 90 deg, then 210 and 330;
    # bearing 90 (east) is 0 deg, then 120 and 240
    assert np.allclose(np.mod(w.cell_az[a], 360), [90.0, 210.0, 330.0])
    assert np.allclose(np.mod(w.cell_az[b], 360), [0.0, 120.0, 240.0])


def test_a_site_lists_run_gives_its_cells_and_devices_latitude_and_longitude(
        tmp_path: Path) -> None:
    """An operator planner's review: nothing tied a run's cells and devices back to the map.
    cells.parquet and devices.parquet carry lat and lon beside x_m and y_m where the sites
    come from a latitude/longitude list: a cell's are its site's, as the file gives them."""
    import pyarrow.parquet as pq

    import airan
    from airan.report.rundir import write_run
    from airan.scenario import scenario_from_dict

    rows = ["id,latitude,longitude", "a,31.2300,121.4700", "b,31.2340,121.4790",
            "c,31.2280,121.4830"]
    path = write(tmp_path / "s.csv", "\n".join(rows) + "\n")
    d = airan.load_scenario("city").model_dump(mode="json", exclude_unset=True)
    d.pop("cell_layout")
    d["compute_sites"] = [c for c in d["compute_sites"] if c.get("kind") != "cell"]
    d["cell_sites_file"] = {"path": str(path), "name": "id"}
    for f in d["fleets"]:
        f["count"] = 20
        f["area"] = {"center_m": [0, 0], "radius_m": 400}
    folder = write_run(airan.run(scenario_from_dict(d), duration_s=0.2), tmp_path / "run")
    cells = pq.read_table(folder / "cells.parquet").to_pylist()
    want = {"a": (31.23, 121.47), "b": (31.234, 121.479), "c": (31.228, 121.483)}
    for c in cells:
        lat, lon = want[c["cell"].split("/")[0]]
        assert c["lat"] == pytest.approx(lat, abs=1e-9) and c["lon"] == pytest.approx(lon, abs=1e-9)
    devices = pq.read_table(folder / "devices.parquet")
    assert {"lat", "lon"} <= set(devices.column_names)
    # and validate says which frame the metres are in, and that the antennas are defaults
    import yaml
    from typer.testing import CliRunner

    from airan.cli import app

    (tmp_path / "s.yaml").write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["validate", str(tmp_path / "s.yaml")])
    said = " ".join(res.output.split())
    assert res.exit_code == 0 and "3 sites kept, 0 skipped; metres east and north of (" in said
    assert "the kept sites' median point (origin_lat/origin_lon fix it)" in said
    assert np.all(haversine_m(devices.column("lat").to_numpy(), devices.column("lon").to_numpy(),
                              31.23, 121.476) < 1500)


def test_semicolon_files_with_a_bom_are_read(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("\ufeffLatitude;Longitude;Site\n48.85;2.35;Paris-1\n48.86;2.36;Paris-2\n")
    sites = load_site_list(path, lat="Latitude", lon="Longitude", name="Site")
    assert sites.names == ["Paris-1", "Paris-2"]


def test_a_missing_file_is_an_input_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        load_site_list(tmp_path / "nowhere.csv")
    msg = str(err.value)
    assert "nowhere.csv" in msg and "cell_sites_file.path" in msg and "not found" in msg


def test_a_missing_column_lists_the_available_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", ",index,lat,lng,address\n0,0,31.2,121.4,x\n")
    with pytest.raises(InputError) as err:
        load_site_list(path, lat="lat", lon="longitude")
    msg = str(err.value)
    assert str(path) in msg and "cell_sites_file.lon" in msg and "'longitude'" in msg
    assert "did you mean 'lng'" in msg
    assert "Accepted: address, index, lat, lng." in msg


def test_an_empty_file_or_no_usable_row_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="empty"):
        load_site_list(write(tmp_path / "empty.csv", ""))
    with pytest.raises(InputError, match="no usable row.*not a number"):
        load_site_list(write(tmp_path / "bad.csv", "latitude,longitude\nx,y\n"))
    with pytest.raises(InputError, match="no data rows") as err:  # the file, not a column
        load_site_list(write(tmp_path / "header.csv", "latitude,longitude\n"))
    assert err.value.field == "cell_sites_file.path"


def test_a_site_name_with_a_slash_is_an_input_error(tmp_path: Path) -> None:
    # 'a/b' made cells a/b/0..2, which a cell_down of site 'a' took down too (a review)
    path = write(tmp_path / "sites.csv", "name,lat,lon\na,31.2,121.4\na/b,31.21,121.41\n")
    with pytest.raises(InputError, match="line 3: name 'a/b'") as err:
        load_site_list(path, lat="lat", lon="lon", name="name")
    assert (err.value.field, err.value.value) == ("cell_sites_file.name", "a/b")


def _site_file_scenario(path: Path, extra: str = "") -> None:
    """A small scenario whose cell sites come from ``sites.csv`` beside it (``extra``: more
    top-level YAML)."""
    path.write_text(
        "name: file-sites\nduration_s: 1\n" + extra +
        "cell_sites_file: {path: sites.csv, lat: latitude, lon: longitude}\n"
        "nodes: [{name: cloud}]\n"
        "compute_sites: [{name: c, at: cloud, kind: cloud, gpus: [{type: L4, count: 1}]}]\n"
        "transport: {backhaul: {to: cloud, capacity_gbps: 10}}\n"
        "fleets: [{name: f, count: 5, services: [s]}]\n"
        "services: [{name: s, model: yolov8s, rate_hz: 1, ul_kb: 10, dl_kb: 1, "
        "deadline_ms: 100}]\n")


def test_the_carrier_of_a_site_files_cells_is_validated(tmp_path: Path) -> None:
    """Sites read from a file take the scenario's carrier: a carrier no table allows (a 7 MHz
    channel) is an input error naming it, not a crash when the world is built."""
    from typer.testing import CliRunner

    from airan.cli import app

    write(tmp_path / "sites.csv", "latitude,longitude\n37.50,127.00\n37.505,127.005\n")
    _site_file_scenario(tmp_path / "s.yaml",
                        "carrier: {fc_ghz: 3.5, bandwidth_mhz: 7, numerology: 1, "
                        "tdd_pattern: DDDSU}\n")
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "s.yaml")])
    assert result.exit_code == 2, result.output
    assert "carrier.bandwidth_mhz" in result.stderr and "7" in result.stderr


def test_validate_counts_a_site_files_cells_and_warns_of_its_skipped_rows(tmp_path: Path) -> None:
    """`airan validate` counts the cells of imported sites (three sectors each) and says which
    rows of the list it skipped: a run goes on without them."""
    from typer.testing import CliRunner

    from airan.cli import app

    write(tmp_path / "sites.csv", "latitude,longitude\n37.50,127.00\n37.505,127.005\n"
          ",127.01\nabc,127.02\n37.51,127.01\n")
    _site_file_scenario(tmp_path / "s.yaml")
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "s.yaml")])
    assert result.exit_code == 0, result.output
    assert "cell sites 3 (9 cells)" in result.stdout
    assert "cell_sites_file.path" in result.stderr
    assert "2 of its rows skipped, 3 sites kept" in result.stderr
    assert "line 4: empty 'latitude'" in result.stderr and "'abc' is not a number" in result.stderr
