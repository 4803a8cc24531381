"""A100-equivalents against the spec-sheet ratios of DOMAIN.md (/work/shared/design/DOMAIN.md).

Two independent references: the DOMAIN.md GPU table itself, parsed here when the shared folder is
present (``../shared`` from the repository), and the figures copied below from its text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from airan.catalog import load_gpus
from airan.catalog.equivalents import (
    GB200_NVL72_VS_H100_INFERENCE,
    a100_ratios,
    decode_ratio,
    headline_inference_ratio,
    inference_ratio,
    training_ratio,
)
from airan.cli import app

runner = CliRunner()
DOMAIN = Path(__file__).resolve().parents[1].parent / "shared" / "design" / "DOMAIN.md"

# DOMAIN.md "GPUs (dense; sparse is 2x)", copied: id -> (TB/s, BF16, FP8 or None, FP4 or None)
COPIED = {
    "A100-40GB": (1.555, 312, None, None),
    "A100-80GB": (2.039, 312, None, None),
    "H100": (3.35, 989, 1979, None),
    "H200": (4.8, 989, 1979, None),
    "B200": (8, 2250, 4500, 9000),
    "GB200": (8, 2500, 5000, 10000),
    "L4": (0.300, 121, 242.5, None),
    "L40S": (0.864, 362, 733, None),
    "RTX4090": (1.008, 165, 330, None),
    "JetsonOrin": (0.205, 42.5, None, None),  # the GPU alone (see test_catalog_gpus)
    "JetsonThor": (0.27, 258.5, None, 2070 / 2),  # "2,070 sparse" -> dense
}
A100_BF16 = 312.0  # DOMAIN.md, A100 40GB / 80GB BF16 TFLOPS
A100_80_TBPS = 2.039  # DOMAIN.md, A100 80GB


def _domain_table() -> dict[str, tuple[float, float, float | None, float | None]]:
    """The GPU table of DOMAIN.md, parsed: id -> (TB/s, BF16, FP8, FP4 dense)."""
    names = {"A100 40GB": "A100-40GB", "A100 80GB": "A100-80GB", "H100 SXM": "H100",
             "H200 SXM": "H200", "B200": "B200", "GB200 (per GPU)": "GB200", "L4": "L4",
             "L40S": "L40S", "RTX 4090": "RTX4090", "Jetson AGX Orin 64GB": "JetsonOrin",
             "Jetson AGX Thor": "JetsonThor"}

    def num(cell: str) -> float | None:
        cell = cell.strip()
        if cell in ("-", ""):
            return None
        value = float(re.sub(r"[~,]|\s*sparse", "", cell))
        return value / 2 if "sparse" in cell else value

    out = {}
    text = DOMAIN.read_text()
    section = text[text.index("## GPUs"):]
    for line in section.splitlines()[3:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] in names:
            out[names[cells[0]]] = (num(cells[2]), num(cells[3]), num(cells[4]), num(cells[5]))
    return out  # type: ignore[return-value]


def test_copied_figures_match_domain_md() -> None:
    if not DOMAIN.is_file():
        pytest.skip("../shared/design/DOMAIN.md not present")
    table = _domain_table()
    assert set(table) == set(COPIED)
    # where the catalog departs from DOMAIN.md on purpose (its source note says why): the row
    # DOMAIN.md has
    departs = {"JetsonOrin": (0.205, 67, None, None)}
    for gid, row in COPIED.items():
        assert table[gid] == departs.get(gid, row), gid


@pytest.mark.parametrize("gid", sorted(COPIED))
def test_ratios_are_the_spec_sheet_ratios(gid: str) -> None:
    bw, bf16, fp8, fp4 = COPIED[gid]
    r = a100_ratios(gid)
    assert r.reference == "A100-80GB"
    assert r.training == pytest.approx(bf16 / A100_BF16, rel=1e-9)
    assert r.decode == pytest.approx(bw / A100_80_TBPS, rel=1e-9)
    if fp8 is not None:  # vendor-style headline: FP8 over the A100's dense FP16 (= BF16, 312)
        assert r.headline == pytest.approx(fp8 / A100_BF16, rel=1e-9)
    if fp4 is not None:
        head = a100_ratios(gid, precision="fp4").headline
        assert head == pytest.approx(fp4 / A100_BF16, rel=1e-9)


def test_domain_md_worked_figures() -> None:
    """The ratios DOMAIN.md states in words ('A100-equivalents')."""
    h100 = a100_ratios("H100")
    assert round(h100.training, 2) == 3.17  # 989 / 312
    gb = a100_ratios("GB200")
    assert gb.training == pytest.approx(8, abs=0.05)  # "~8x on dense BF16"
    assert gb.headline == pytest.approx(16, abs=0.1)  # "~16x with FP8"
    assert a100_ratios("GB200", precision="fp4").headline == pytest.approx(32, abs=0.1)  # "~32x"
    # "30x real-time inference" vs H100, so ~95 A100 per GB200 (rack scale, FP4): the "~100x"
    assert gb.claim == pytest.approx(GB200_NVL72_VS_H100_INFERENCE * 989 / 312, rel=1e-9)
    assert 90 < gb.claim < 100


def test_like_for_like_inference_uses_the_twins_fallback() -> None:
    gpus = load_gpus()
    a100 = gpus["A100-80GB"]
    # an FP8 model runs at INT8 on an A100 (624 TOPS, no FP8 tensor cores): H100 1979 / 624
    ratio, used, ref_used = inference_ratio(gpus["H100"], a100, "fp8")  # type: ignore[misc]
    assert (used, ref_used) == ("fp8", "int8")
    assert ratio == pytest.approx(1979 / 624)
    # a BF16 model: the training ratio
    assert inference_ratio(gpus["L40S"], a100, "bf16")[0] == pytest.approx(362 / 312)  # type: ignore[index]
    # the headline is twice like-for-like where the A100 could have run INT8
    head, _ = headline_inference_ratio(gpus["B200"], a100, "fp8")  # type: ignore[misc]
    assert head == pytest.approx(2 * inference_ratio(gpus["B200"], a100, "fp8")[0])  # type: ignore[index]
    # Orin has no FP8: it falls back to INT8 (85 TOPS)
    assert a100_ratios("JetsonOrin").inference_precision == "int8"


def test_reference_changes_only_decode() -> None:
    a = a100_ratios("H200", reference="A100-80GB")
    b = a100_ratios("H200", reference="A100-40GB")
    assert a.training == b.training and a.headline == b.headline and a.inference == b.inference
    assert b.decode == pytest.approx(4.8 / 1.555)
    gpus = load_gpus()
    assert decode_ratio(gpus["A100-80GB"], gpus["A100-80GB"]) == 1.0
    assert training_ratio(gpus["A100-40GB"], gpus["A100-80GB"]) == 1.0


def test_no_spec_sheet_ratio_reaches_100x() -> None:
    """'Treat 100x inference as a rack-scale, FP4, huge-MoE figure' (DOMAIN.md)."""
    for gid in load_gpus():
        r = a100_ratios(gid, precision="fp4")
        assert max(r.training or 0, r.inference or 0, r.headline or 0, r.decode) < 40, gid


def test_unknown_precision_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown precision"):
        a100_ratios("H100", precision="fp3")


# ---- command line ------------------------------------------------------------------------------
def test_cli_catalog_gpus_a100() -> None:
    res = runner.invoke(app, ["catalog", "gpus", "--a100"], env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    rows = {line.split()[0]: line.split() for line in res.stdout.splitlines() if line.strip()}
    assert rows["H100"][1] == "3.17"
    assert rows["GB200"][1] == "8.01"
    assert "sources" in res.stdout and "DOMAIN.md" in res.stdout
    assert "GB200: claim: NVIDIA: GB200 NVL72 vs H100" in res.stdout


def test_cli_catalog_gpus_a100_with_model_precision() -> None:
    res = runner.invoke(app, ["catalog", "gpus", "--a100", "--model", "openvla-7b"],
                        env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    assert "inference at BF16 (the precision of openvla-7b)" in res.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--a100", "--precision", "fp3"], "option '--precision': unknown precision 'fp3'"),
        (["--a100", "--model", "openvla"], "did you mean 'openvla-7b'?"),
        (["--a100", "--reference", "A100"], "option '--reference': unknown GPU 'A100'"),
        (["--precision", "fp8"], "option '--precision': needs --a100"),
    ],
)
def test_cli_catalog_gpus_a100_bad_options(args: list[str], expected: str) -> None:
    res = runner.invoke(app, ["catalog", "gpus", *args])
    assert res.exit_code == 2
    assert expected in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
