"""GPU catalog against the DOMAIN.md GPU table (/work/shared/design/DOMAIN.md, 'GPUs')."""

from __future__ import annotations

import pydantic
import pytest
import yaml

from airan.catalog import GpuSpec, load_gpus, parse_gpus

# id: (memory GB, TB/s, BF16 TFLOPS, FP8 TFLOPS or None, FP4 TFLOPS dense or None, TDP W),
# copied from the DOMAIN.md GPU table (dense). Thor FP4 is "2,070 sparse" -> 1035 dense; Orin and
# Thor TDP are the top of their 15-60 W and 40-130 W ranges. Orin BF16 is its GPU's alone, 42.5
# (half of its 170 sparse INT8 TOPS, Jetson AGX Orin technical brief), not DOMAIN.md's ~67.
DOMAIN_GPUS: dict[str, tuple[float, float, float, float | None, float | None, float]] = {
    "A100-40GB": (40, 1.555, 312, None, None, 400),
    "A100-80GB": (80, 2.039, 312, None, None, 400),
    "H100": (80, 3.35, 989, 1979, None, 700),
    "H200": (141, 4.8, 989, 1979, None, 700),
    "B200": (180, 8, 2250, 4500, 9000, 1000),
    "GB200": (186, 8, 2500, 5000, 10000, 1200),
    "L4": (24, 0.300, 121, 242.5, None, 72),
    "L40S": (48, 0.864, 362, 733, None, 350),
    "RTX4090": (24, 1.008, 165, 330, None, 450),
    "JetsonOrin": (64, 0.205, 42.5, None, None, 60),
    "JetsonThor": (128, 0.27, 258.5, None, 2070 / 2, 130),
}

NUMERIC_FIELDS = ("memory_gb", "mem_bw_tbps", "tflops", "tdp_w", "idle_w", "price_usd")


# GH200 is not in the DOMAIN.md GPU table; its figures, from NVIDIA's documents: the MIG User
# Guide's Supported GPUs ("H100 on GH200": GH100, 96GB, 7 instances), the GH200 datasheet's 96GB
# HBM3 variant at up to 4 TB/s, the H100's dense Hopper peaks (BF16 989, FP8 = INT8 1979, FP32
# 67), and the top of the module's configurable 450-1000 W (Grace CPU and LPDDR5X included).
GH200_DATASHEET = {"memory_gb": 96, "mem_bw_tbps": 4.0, "bf16": 989, "fp16": 989, "fp8": 1979,
                   "int8": 1979, "fp32": 67, "tdp_w": 1000}


# Cards an integrator looked for (an on-premises review: no RTX 6000 Ada, L40, A10 or A2, and a
# misspelt RTX6000Ada suggested a 24 GB GeForce): memory GB, TB/s, dense FP32, BF16 = FP16, FP8
# (None: Ampere has none), INT8 TOPS, TDP W, from NVIDIA's datasheets (the first of each
# "dense | sparse*" pair; the RTX 6000 Ada's 1,457 sparse FP8 halved, its BF16 from the Ada
# professional whitepaper's Table 2).
DATASHEET_GPUS: dict[str, tuple[float, float, float, float, float | None, float, float]] = {
    "L40": (48, 0.864, 90.5, 181.05, 362, 362, 300),
    "RTX6000Ada": (48, 0.960, 91.1, 364.2, 728.5, 728.5, 300),
    "A10": (24, 0.600, 31.2, 125, None, 250, 150),
    "A2": (16, 0.200, 4.5, 18, None, 36, 60),
}


@pytest.mark.parametrize("gid", sorted(DATASHEET_GPUS))
def test_workstation_and_inference_cards_have_their_datasheet_figures(gid: str) -> None:
    mem, bw, fp32, bf16, fp8, int8, tdp = DATASHEET_GPUS[gid]
    g = load_gpus()[gid]
    assert (g.memory_gb, g.mem_bw_tbps, g.tdp_w) == (mem, bw, tdp)
    t = g.tflops
    assert (t.fp32, t.bf16, t.fp16, t.fp8, t.int8) == (fp32, bf16, bf16, fp8, int8)
    assert g.kind == "edge" and 0 < g.idle_w < g.tdp_w and not g.mig
    assert "datasheet" in g.source["tflops"]


def test_every_domain_gpu_present_plus_cpus() -> None:
    gpus = load_gpus()
    assert set(DOMAIN_GPUS) | {"GH200", "H100-PCIe", "H100-NVL", "JetsonOrinNX", "CPU",
                               "DeviceCPU"} | set(DATASHEET_GPUS) == set(gpus)


def test_orin_nx_is_the_agx_orins_gpu_at_its_data_sheets_size_and_clock() -> None:
    """Jetson Orin NX 16GB (a robot maker's module, not in DOMAIN.md): its data sheet's 1024
    CUDA cores and 32 tensor cores at 918 MHz against the AGX Orin's 2048 and 64 at 1.3 GHz,
    half its 204.8 GB/s, 16 GB, 25 W: the AGX entry's figures scaled by the same rules."""
    gpus = load_gpus()
    nx, agx = gpus["JetsonOrinNX"], gpus["JetsonOrin"]
    scale = (32 * 0.918) / (64 * 1.3)
    assert nx.tflops.bf16 == pytest.approx(agx.tflops.bf16 * scale, rel=0.01)
    assert nx.tflops.int8 == pytest.approx(2 * nx.tflops.bf16, rel=0.01)
    assert nx.tflops.fp32 == pytest.approx(1024 * 2 * 0.918e9 / 1e12, rel=0.01)
    assert nx.tflops.fp8 is None
    assert (nx.memory_gb, nx.mem_bw_tbps, nx.tdp_w) == (16, 0.1024, 25)
    assert nx.kind == "embedded" and 0 < nx.idle_w < nx.tdp_w


def test_gh200_has_its_datasheet_figures_and_mig() -> None:
    g = load_gpus()["GH200"]
    assert g.kind == "datacenter" and g.mig
    assert (g.memory_gb, g.mem_bw_tbps, g.tdp_w) == (
        GH200_DATASHEET["memory_gb"], GH200_DATASHEET["mem_bw_tbps"], GH200_DATASHEET["tdp_w"])
    for p in ("bf16", "fp16", "fp8", "int8", "fp32"):
        assert getattr(g.tflops, p) == GH200_DATASHEET[p], p
    assert g.tflops.fp4 is None  # Hopper: no FP4 tensor cores
    assert 0 < g.idle_w < g.tdp_w
    # the variant and the power assumption are named where the numbers are
    assert "96GB HBM3" in g.name
    assert "144GB HBM3e" in g.source["memory_gb"]
    assert "assumption" in g.source["tdp_w"] and "450-1000 W" in g.source["tdp_w"]
    assert "GH200" in g.source["mig"]


@pytest.mark.parametrize("gid", sorted(DOMAIN_GPUS))
def test_domain_table_values(gid: str) -> None:
    mem, bw, bf16, fp8, fp4, tdp = DOMAIN_GPUS[gid]
    g = load_gpus()[gid]
    assert g.memory_gb == mem
    assert g.mem_bw_tbps == bw
    assert g.tflops.bf16 == bf16
    assert g.tflops.fp16 == bf16  # catalog convention: fp16 = bf16
    if fp8 is not None:
        assert g.tflops.fp8 == fp8
        # convention: int8 = fp8 where FP8 tensor cores exist; GeForce's FP8 is its
        # FP32-accumulate rate, half its INT8 (Ada whitepaper: 660.6 dense INT8 TOPS)
        assert g.tflops.int8 == (660.6 if gid == "RTX4090" else fp8)
    assert g.tflops.fp4 == fp4
    assert g.tdp_w == tdp
    assert 0 < g.idle_w < g.tdp_w
    assert g.mem_bw_bytes_s == pytest.approx(bw * 1e12)


def test_ampere_and_orin_have_no_fp8() -> None:
    gpus = load_gpus()
    for gid in ("A100-40GB", "A100-80GB", "JetsonOrin"):
        assert gpus[gid].tflops.fp8 is None
    assert gpus["A100-80GB"].tflops.int8 == 624  # A100 datasheet, dense INT8 TOPS
    assert gpus["JetsonOrin"].tflops.int8 == 85  # the GPU's 170 sparse INT8 TOPS / 2


def test_thor_fp8_derived_from_bf16() -> None:
    thor = load_gpus()["JetsonThor"]
    assert thor.tflops.fp8 == pytest.approx(2 * 258.5, rel=1e-3)


def test_every_number_has_a_source() -> None:
    for gid, g in load_gpus().items():
        for field in NUMERIC_FIELDS:
            assert g.source.get(field), f"{gid}.{field} has no source"
        if g.kind == "cpu":
            assert all("assumption" in g.source[f] for f in ("memory_gb", "mem_bw_tbps", "tflops"))
        assert "assumption" in g.source["idle_w"]
        assert "override with `airan plan --price`" in g.source["price_usd"]


def test_precision_fallback() -> None:
    gpus = load_gpus()
    a100 = gpus["A100-80GB"]
    assert a100.peak_flops("fp8") == (624e12, "int8")
    assert a100.peak_flops("fp4") == (624e12, "int8")
    assert a100.peak_flops("bf16") == (312e12, "bf16")
    assert gpus["H100"].peak_flops("fp4") == (1979e12, "fp8")
    assert gpus["B200"].peak_flops("fp4") == (9000e12, "fp4")
    assert gpus["CPU"].peak_flops("fp8")[1] == "int8"
    # fallback never goes to a narrower type
    assert gpus["H100"].peak_flops("fp32") == (67e12, "fp32")
    assert gpus["B200"].peak_flops("fp32") == (75e12, "fp32")
    with pytest.raises(ValueError):
        gpus["JetsonThor"].peak_flops("fp32")  # no fp32 listed, nothing wider
    with pytest.raises(ValueError):
        a100.peak_flops("fp6")


def _entry() -> dict[str, object]:
    return {
        "name": "x",
        "kind": "edge",
        "memory_gb": 1,
        "mem_bw_tbps": 0.1,
        "tflops": {"bf16": 1},
        "tdp_w": 10,
        "idle_w": 1,
        "price_usd": 1,
    }


def test_unknown_field_rejected() -> None:
    GpuSpec.model_validate(_entry())
    with pytest.raises(pydantic.ValidationError):
        GpuSpec.model_validate({**_entry(), "hbm_gen": 3})
    with pytest.raises(pydantic.ValidationError):
        GpuSpec.model_validate({**_entry(), "tflops": {"bf16": 1, "tf32": 2}})
    text = "X:\n  name: x\n  kind: edge\n  memory_gb: 1\n  mem_bw_tbps: 0.1\n  tflops: {bf16: 1}\n"
    text += "  tdp_w: 10\n  idle_w: 1\n  price_usd: 1\n  colour: green\n"
    with pytest.raises(pydantic.ValidationError):
        parse_gpus(yaml.safe_load(text))


def test_invalid_values_rejected() -> None:
    with pytest.raises(pydantic.ValidationError):
        GpuSpec.model_validate({**_entry(), "idle_w": 20})  # idle above TDP
    with pytest.raises(pydantic.ValidationError):
        GpuSpec.model_validate({**_entry(), "tflops": {}})
    with pytest.raises(pydantic.ValidationError):
        GpuSpec.model_validate({**_entry(), "kind": "quantum"})


def test_load_from_path_and_cache_isolation(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "g.yaml"
    p.write_text(yaml.safe_dump({"X": _entry()}))
    assert list(load_gpus(p)) == ["X"]
    d = load_gpus()
    d.pop("H100")
    assert "H100" in load_gpus()


def test_mig_profiles_have_the_sms_nvidia_smi_lists() -> None:
    """The MIG instances' SMs by compute slices, as `nvidia-smi mig -lgip` lists them on an
    A100 and an H100 (public listings): an instance runs at its SMs' share of the peaks, which
    is not its sevenths (an H100's 4g has 64 of 132 SMs, 0.485; 4/7 is 0.571); the profile
    SMs never exceed the GPU's, and a GPU whose profiles are not listed keeps its sevenths."""
    g = load_gpus()
    assert g["H100"].sms == 132 and g["H100"].mig_sms == {1: 16, 2: 32, 3: 60, 4: 64, 7: 132}
    assert g["A100-80GB"].sms == 108
    assert g["A100-80GB"].mig_sms == {1: 14, 2: 28, 3: 42, 4: 56, 7: 98}
    assert g["H100"].mig_sm_share(4) == pytest.approx(0.485, abs=1e-3)
    assert g["B200"].mig_sms is None and g["B200"].mig_sm_share(4) == 4 / 7
    for gid, spec in g.items():
        if spec.mig_sms is not None:
            assert spec.mig and spec.sms is not None and "mig_sms" in spec.source, gid
            assert all(0 < n <= spec.sms for n in spec.mig_sms.values()), gid
            shares = [spec.mig_sm_share(k) for k in sorted(spec.mig_sms)]
            assert shares == sorted(shares), gid  # more slices, more SMs


def test_the_h100s_of_mainstream_servers_have_their_datasheet_columns() -> None:
    """The PCIe card and the NVL pair's GPU, beside the SXM5 module the catalog calls H100 (a
    robot maker's edge server carries PCIe cards; 'H100-PCIe' was answered 'did you mean H100',
    1.7x the bandwidth): the H100 datasheet's columns, dense (half the with-sparsity figures)."""
    g = load_gpus()
    pcie, nvl, sxm = g["H100-PCIe"], g["H100-NVL"], g["H100"]
    assert (pcie.mem_bw_tbps, pcie.memory_gb, pcie.tdp_w) == (2.0, 80, 350)
    assert (pcie.tflops.bf16, pcie.tflops.fp8, pcie.tflops.fp32) == (756, 1513, 51)
    assert (nvl.mem_bw_tbps, nvl.memory_gb, nvl.tdp_w) == (3.9, 94, 400)
    assert (nvl.tflops.bf16, nvl.tflops.fp8, nvl.tflops.fp32) == (835, 1671, 60)
    assert sxm.mem_bw_tbps / pcie.mem_bw_tbps == pytest.approx(1.675)
    assert pcie.mig and nvl.mig and pcie.mig_sms is None  # (its profiles' SMs: sevenths)
    assert nvl.mig_sms == sxm.mig_sms  # (the same 132-SM GH100: assumed)
    assert "SXM" in sxm.name and "PCIe" in pcie.name
