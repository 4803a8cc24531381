"""`airan capacity`: an inventory in A100-equivalents; the Korea example against DOMAIN.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from airan.capacity import capacity, inventory_from_dict, load_inventory
from airan.cli import app
from airan.errors import InputError

runner = CliRunner()
KOREA = Path(__file__).resolve().parents[1] / "examples" / "inventory-korea.yaml"

# DOMAIN.md "Korea": 260,000 Blackwell GPUs (Samsung 50k, SK 50k, Hyundai 50k, Naver Cloud 60k,
# government 50k); Korea from ~65k to >300k GPUs. GPU table: A100 BF16 312, H100 989, B200 2,250,
# GB200 2,500 (dense TFLOPS); FP4 9,000 / 10,000; 8 TB/s; A100 80GB 2.039 TB/s.
BLACKWELL = {"samsung": 50_000, "sk": 50_000, "hyundai": 50_000, "naver-cloud": 60_000,
             "government": 50_000}
EXISTING = 65_000


@pytest.fixture(scope="module")
def korea():
    return capacity(load_inventory(KOREA))


def test_korea_counts_are_domain_md(korea) -> None:
    groups = {g.name: g for g in korea.groups}
    for name, n in BLACKWELL.items():
        assert groups[name].count == n
        assert set(groups[name].gpus) == {"B200", "GB200"}
    assert sum(BLACKWELL.values()) == 260_000
    assert groups["existing"].count == EXISTING
    assert korea.gpus == 325_000


def test_korea_totals(korea) -> None:
    lo, hi = korea.total["training"]
    assert lo == pytest.approx(260_000 * 2250 / 312 + EXISTING * 1.0)
    assert hi == pytest.approx(260_000 * 2500 / 312 + EXISTING * 989 / 312)
    lo, hi = korea.total["headline"]  # FP8 over the A100's FP16 (A100 itself: INT8 624 / 312)
    assert lo == pytest.approx(260_000 * 4500 / 312 + EXISTING * 624 / 312)
    assert hi == pytest.approx(260_000 * 5000 / 312 + EXISTING * 1979 / 312)
    lo, hi = korea.total["decode"]
    assert lo == pytest.approx(260_000 * 8 / 2.039 + EXISTING * 1.0)
    assert hi == pytest.approx(260_000 * 8 / 2.039 + EXISTING * 3.35 / 2.039)
    lo, hi = korea.total["claim"]  # B200: FP4 headline; GB200: 30 x H100 = 30 x 989/312 A100
    assert lo == pytest.approx(260_000 * 9000 / 312 + EXISTING * 624 / 312)
    assert hi == pytest.approx(260_000 * 30 * 989 / 312 + EXISTING * 1979 / 312)


def test_korea_per_gpu_range(korea) -> None:
    g = next(g for g in korea.groups if g.name == "samsung")
    assert g.per_gpu["training"] == pytest.approx((2250 / 312, 2500 / 312))
    assert g.per_gpu["claim"][1] == pytest.approx(95.1, abs=0.05)


def test_where_3_to_30_million_comes_from(korea) -> None:
    low, high = korea.quotes
    # 3 million = ~9 A100 per GPU: more than dense BF16 gives, less than the FP8 headline
    assert low.per_gpu == pytest.approx(3e6 / 325_000)
    assert "training" in low.below and "headline" in low.above
    assert low.nearest == "training"
    # 30 million = ~92 per GPU: beyond every spec-sheet total, even the vendor-claim range;
    # only the GB200 NVL72 rack-scale FP4 claim (~95 per GPU) applied to every GPU reaches it
    assert high.per_gpu == pytest.approx(3e7 / 325_000)
    assert set(high.below) == {"training", "inference", "headline", "decode", "claim"}
    assert high.nearest == "claim"
    assert korea.gpus * high.nearest_per_gpu >= 3e7 > korea.total["claim"][1]


def test_single_type_and_precision_override() -> None:
    inv = inventory_from_dict({"name": "x", "groups": [{"name": "a", "count": 10, "gpu": "H100"}]})
    c = capacity(inv, precision="bf16")
    assert c.total["inference"] == pytest.approx((10 * 989 / 312,) * 2)
    assert capacity(inv).total["inference"] == pytest.approx((10 * 1979 / 624,) * 2)
    # the JSON names the precision its figures are at, the override's
    assert c.as_dict()["precision"] == "bf16" and capacity(inv).as_dict()["precision"] == "fp8"


def test_a_whole_count_written_as_a_float_is_a_count() -> None:
    inv = inventory_from_dict({"name": "x", "groups": [{"name": "a", "count": 1.0e3,
                                                        "gpu": "L4"}]}, label="inv.yaml")
    assert inv.groups[0].count == 1000


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"name": "x", "groups": [{"name": "a", "count": 1, "gpu": "GB300"}]},
         "did you mean 'GB200'?"),
        ({"name": "x", "groups": [{"name": "a", "count": -1, "gpu": "L4"}]},
         "field 'groups[a].count'"),
        ({"name": "x", "groups": [{"name": "a", "count": 1, "gpu": "L4", "typ": 1}]},
         "unknown field 'typ'"),
        ({"name": "x", "groups": []}, "field 'groups'"),
        ({"name": "x", "reference": "A11", "groups": [{"name": "a", "count": 1, "gpu": "L4"}]},
         "unknown GPU 'A11'"),
        ([1, 2], "must be a YAML mapping"),
        # a quote per GPU of no GPUs was NaN, and NaN in the JSON
        ({"name": "x", "groups": [{"name": "a", "count": 0, "gpu": "L4"}],
          "quotes": [{"label": "press", "a100": 5000}]}, "every group's count is 0"),
        # an infinite quote reached a log (math domain error); true read as one GPU
        ({"name": "x", "groups": [{"name": "a", "count": 1, "gpu": "L4"}],
          "quotes": [{"label": "press", "a100": float("inf")}]},
         "field 'quotes[0].a100': Input should be a finite number (got inf)"),
        ({"name": "x", "groups": [{"name": "a", "count": True, "gpu": "L4"}]},
         "field 'groups[a].count': should be a whole number of GPUs (got True)"),
    ],
)
def test_inventory_errors(data, expected: str) -> None:
    with pytest.raises(InputError, match=None) as info:
        inventory_from_dict(data, label="inv.yaml")
    assert expected in str(info.value)
    assert str(info.value).startswith("inv.yaml:")


def test_cli_capacity_korea(tmp_path: Path) -> None:
    out = tmp_path / "korea.json"
    res = runner.invoke(app, ["capacity", str(KOREA), "--json", str(out)],
                        env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    for text in ("325,000 GPUs", "1.94 M", "2.29 M", "25.14 M", "3 million A100 = 9.2",
                 "30 million A100 = 92.3", "above every total"):
        assert text in res.stdout, text
    data = json.loads(out.read_text())
    assert data["gpus"] == 325_000
    assert data["total_a100"]["training"][0] == pytest.approx(1.94e6)


def test_cli_capacity_bad_inventory(tmp_path: Path) -> None:
    bad = tmp_path / "inv.yaml"
    bad.write_text(yaml.safe_dump({"name": "x", "groups": [{"name": "a", "count": 1,
                                                              "gpu": ["B200", "GB20"]}]}))
    res = runner.invoke(app, ["capacity", str(bad)])
    assert res.exit_code == 2
    assert "did you mean 'GB200'?" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    res = runner.invoke(app, ["capacity", str(tmp_path / "missing.yaml")])
    assert res.exit_code == 2 and "file not found" in res.stderr
    bad.write_text("name: x\ngroups: 5\nx:\n  y: z: w\n")  # a colon inside a plain value
    res = runner.invoke(app, ["capacity", str(bad)])
    assert res.exit_code == 2, res.output
    # where, and why: as the scenario loader says it
    assert "malformed YAML at line 4, column 7: mapping values are not allowed here" in res.stderr


def test_a_misspelt_inventory_field_is_named_before_the_field_it_misses(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text("name: x\ngroups:\n  - {name: a, cnt: 10, gpu: H100}\n")
    with pytest.raises(InputError, match=r"field 'groups\[a\]\.cnt': unknown field 'cnt'; "
                                         r"did you mean 'count'\?"):
        load_inventory(path)


def test_blackwell_counts_at_fp32_by_its_datasheet_figure() -> None:
    """B200 and GB200 list FP32 (HGX B200: 600 TFLOPS per 8 GPUs; GB200 NVL72: 5,760 per 72)
    against A100's 19.5: before, they had none and counted as 0 A100 at fp32."""
    inv = inventory_from_dict({"name": "b", "groups": [
        {"name": "hgx", "count": 8, "gpu": "B200"}, {"name": "nvl", "count": 72, "gpu": "GB200"}]})
    cap = capacity(inv, precision="fp32")
    lo, hi = cap.total["inference"]
    assert lo == hi == pytest.approx(8 * 75 / 19.5 + 72 * 80 / 19.5)


def test_a_gpu_with_no_figure_at_the_precision_is_an_error_not_zero() -> None:
    inv = inventory_from_dict({"name": "t", "groups": [
        {"name": "robots", "count": 100, "gpu": "JetsonThor"}]})
    with pytest.raises(InputError, match="no figure at fp32") as err:
        capacity(inv, precision="fp32")
    assert err.value.field == "--precision"
    assert capacity(inv, precision="fp16").total["inference"][0] > 0


def test_a_reference_with_no_figure_at_the_precision_is_named() -> None:
    inv = inventory_from_dict({"name": "r", "reference": "JetsonThor", "groups": [
        {"name": "dc", "count": 8, "gpu": "H100"}]})
    with pytest.raises(InputError, match="gives JetsonThor no figure at fp32"):
        capacity(inv, precision="fp32")


def test_a_group_of_no_gpus_does_not_set_the_closest_basis() -> None:
    """0 H100s and 8 L4s: the quote is read against the L4s alone (the H100's headline ratio,
    6.3 per GPU, was given as the closest basis's strongest though there were none)."""
    inv = inventory_from_dict({"name": "z", "groups": [
        {"name": "none", "count": 0, "gpu": "H100"}, {"name": "l4", "count": 8, "gpu": "L4"}],
        "quotes": [{"label": "q", "a100": 100}]})
    only_l4 = inventory_from_dict({"name": "l", "groups": [
        {"name": "l4", "count": 8, "gpu": "L4"}], "quotes": [{"label": "q", "a100": 100}]})
    got, ref = capacity(inv).quotes[0], capacity(only_l4).quotes[0]
    assert (got.nearest, got.nearest_per_gpu) == (ref.nearest, ref.nearest_per_gpu)
    assert got.nearest_per_gpu < 6.0


@pytest.mark.parametrize("count", [10**400, 10**30])
def test_a_group_of_more_than_a_billion_gpus_is_refused(count: int) -> None:
    """A 400-digit count overflowed a float in the totals (a traceback); 10**30 printed a fleet
    of 10**30 GPUs."""
    with pytest.raises(InputError, match="less than or equal to 1000000000") as info:
        inventory_from_dict({"name": "x", "groups": [{"name": "a", "count": count,
                                                      "gpu": "H100"}]}, label="inv.yaml")
    assert info.value.field == "groups[a].count"


def test_quotes_in_a100s_need_totals_in_a100_equivalents() -> None:
    """With an H100 reference the totals are H100-equivalents: a quote in A100s read against
    them was called 'within the claim range' (a review); refused, naming the field."""
    data = {"name": "t", "reference": "H100",
            "groups": [{"name": "a", "count": 10, "gpu": ["A100-80GB"]}],
            "quotes": [{"label": "3 million A100", "a100": 3_000_000}]}
    with pytest.raises(InputError, match=r"quotes.*with reference 'H100' the totals are in H100s"):
        inventory_from_dict(data)
    del data["quotes"]
    assert capacity(inventory_from_dict(data)).inventory.reference == "H100"


def test_capacity_names_the_inventory_and_its_reference_and_makes_the_json_folder(
        tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(yaml.safe_dump({"name": "t", "precision": "fp32", "groups": [
        {"name": "a", "count": 10, "gpu": ["JetsonThor"]}]}))
    result = runner.invoke(app, ["capacity", str(path)])
    assert result.exit_code == 2
    assert f"{path}: field 'precision': the catalog gives JetsonThor no figure at fp32" in \
        " ".join(result.stderr.split())
    path.write_text(yaml.safe_dump({"name": "t", "reference": "H100", "groups": [
        {"name": "a", "count": 10, "gpu": ["A100-80GB"]}]}))
    out = tmp_path / "new" / "deeper" / "cap.json"
    result = runner.invoke(app, ["capacity", str(path), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "Totals in H100-equivalents" in result.stdout and out.is_file()
    # every label in the reference's units (a planner's review: "A100 per GPU", "vs A100
    # FP16" under an H100 reference)
    assert "Groups: H100 per GPU" in result.stdout and "headline (vs H100 FP16)" in result.stdout
    assert "A100 per GPU" not in result.stdout and "vs A100" not in result.stdout
