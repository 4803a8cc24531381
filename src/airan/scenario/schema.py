"""The scenario file format: a pydantic schema, in the units a user writes (ms, MB, km, Gbps).

Every input enters airan here and is validated here; :mod:`airan.engine.world` converts it once to
SI arrays and nothing downstream re-validates. Defaults cite their source (see DOMAIN.md).
"""

from __future__ import annotations

import functools
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from airan.catalog import (
    GpuSpec,
    ModelSpec,
    ServiceTimeDist,
    load_device_classes,
    load_gpus,
    load_models,
)
from airan.errors import suggest
from airan.radio import bands, drx, nr
from airan.radio.l3_filter import FILTER_COEFFICIENTS
from airan.radio.qos import STANDARDIZED_5QI
from airan.radio.scheduling import QOS_LEVELS

PosFloat = Annotated[float, Field(gt=0)]
NonNegFloat = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Coord = Annotated[float, Field(ge=-1e7, le=1e7)]  # metres on the map: within 10,000 km
#: The highest a device may be (m above ground): a fleet's ``height_m``, a waypoint's z
MAX_HEIGHT_M = 1000.0


def _name(v: str) -> str:
    """A name others refer to: not empty, no surrounding spaces, and without '/' (which names
    a site's sectors, "site/0")."""
    if not v.strip() or v != v.strip() or "/" in v or len(v) > 200:
        raise ValueError(f"a name must be 1-200 characters, without '/' or surrounding spaces "
                         f"(got {v!r})")
    return v


Name = Annotated[str, AfterValidator(_name)]

#: The placements the trace writes for requests that ran at no compute site (engine.trace_table)
RESERVED_PLACEMENTS = ("local", "rejected", "unreachable")


def _site_name(v: str) -> str:
    """A compute site's name: a name that is not one of the trace's own placements."""
    if v in RESERVED_PLACEMENTS:
        raise ValueError(f"{v!r} is reserved: the trace's placement column says "
                         f"{', '.join(RESERVED_PLACEMENTS)} for requests served on the device, "
                         "rejected, or with no route; give the site another name")
    return v


SiteName = Annotated[Name, AfterValidator(_site_name)]
# TS 38.331 TimeToTrigger values (ms)
TTT_MS = (0, 40, 64, 80, 100, 128, 160, 256, 320, 480, 512, 640, 1024, 1280, 2560, 5120)
# TS 38.331 RLF-TimersAndConstants: the values of t310 (ms), n310 and n311
T310_MS = (0, 50, 100, 200, 500, 1000, 2000, 4000, 6000)
N310 = (1, 2, 3, 4, 6, 8, 10, 20)
N311 = (1, 2, 3, 4, 5, 6, 8, 10)
# TS 38.331 Alpha (PUSCH-PowerControl): alpha0, alpha04, ..., alpha1
UL_ALPHA = (0.0, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
_TS38331_VALUES: dict[str, tuple[tuple[float, ...], str]] = {
    "ttt_ms": (TTT_MS, "TimeToTrigger"), "t310_ms": (T310_MS, "t310"), "n310": (N310, "n310"),
    "n311": (N311, "n311"), "filter_coefficient": (FILTER_COEFFICIENTS, "FilterCoefficient")}

MAX_DEVICE_ENGINES = 4  # engines of a device besides its accelerator's main one

ENVIRONMENTS = ("uma", "umi", "rma", "inh", "inf-sl", "inf-dl", "inf-sh", "inf-dh")


BOOL_FOR_NUMBER = "bool_for_number"  # the error type of true/false given for a number


def _accepts(ann: Any, kind: type) -> bool:
    """Whether a field of type ``ann`` takes a value of ``kind`` (``bool``, or ``float`` for
    any number): through Annotated and unions, a Literal's values, a plain type (Any takes a
    bool)."""
    origin = get_origin(ann)
    if origin is Annotated:
        return _accepts(get_args(ann)[0], kind)
    if origin in (Union, types.UnionType):
        return any(_accepts(a, kind) for a in get_args(ann))
    if origin is Literal:
        if kind is bool:
            return any(isinstance(a, bool) for a in get_args(ann))
        return any(isinstance(a, int | float) and not isinstance(a, bool) for a in get_args(ann))
    return (ann is bool or ann is Any) if kind is bool else ann in (int, float)


def _bool_for_number(ann: Any, v: Any) -> bool:
    """Whether ``v`` puts ``true`` or ``false`` where ``ann`` wants a number (at any depth of a
    list, tuple or mapping): pydantic would take it as 1 or 0."""
    if isinstance(v, bool):
        return _accepts(ann, float) and not _accepts(ann, bool)
    origin = get_origin(ann)
    if origin is Annotated:
        return _bool_for_number(get_args(ann)[0], v)
    if origin in (Union, types.UnionType):
        return any(_bool_for_number(a, v) for a in get_args(ann) if a is not type(None))
    args = get_args(ann)
    if origin in (list, tuple) and isinstance(v, list | tuple) and args:
        if origin is tuple and args[-1] is not Ellipsis:
            return any(_bool_for_number(a, x) for a, x in zip(args, v, strict=False))
        return any(_bool_for_number(args[0], x) for x in v)
    if origin is dict and isinstance(v, dict) and len(args) == 2:
        return any(_bool_for_number(args[0], k) or _bool_for_number(args[1], x)
                   for k, x in v.items())
    return False


#: the longest run a scenario or an option may ask for: ten simulated days (s)
MAX_DURATION_S = 10 * 86_400

class _Strict(BaseModel):
    # NaN and infinity are no number a scenario means: rejected everywhere, naming the field
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, data: Any) -> Any:
        """``rate_hz: true`` is no rate (pydantic would read it as 1): a number field (or a
        number in a list, pair or mapping) given true or false is an error naming the field
        (error type ``bool_for_number``, its ``field`` in the context; the loader adds it to
        the field path)."""
        if not isinstance(data, dict):
            return data
        for key, v in data.items():
            if not isinstance(v, bool | list | tuple | dict):
                continue
            field = cls.model_fields.get(key) if isinstance(key, str) else None
            if field is not None and _bool_for_number(field.annotation, v):
                raise PydanticCustomError(
                    BOOL_FOR_NUMBER, "{field}: expected a number, not true or false",
                    {"field": key, "value": v})
        return data


class Carrier(_Strict):
    """One NR carrier (TS 38.104 band, TS 38.211 numerology, TS 38.101-1 bandwidth).

    ``band`` (TS 38.104): without ``fc_ghz`` a carrier sits at 3.5 GHz where its band holds it
    (n77, n78), else at the centre of its band's downlink; in an FDD band it has no TDD pattern
    unless it gives one (which loading then refuses). Without ``band``: n78 at 3.5 GHz, or,
    with an ``fc_ghz``, the narrowest listed band that holds the carrier (None, unchecked,
    where none does). See :mod:`airan.radio.bands`.
    """

    band: str | None = None
    fc_ghz: float = Field(3.5, ge=0.4, le=100)  # the downlink's; TR 38.901 covers 0.5-100 GHz
    bandwidth_mhz: PosFloat = 100.0  # 273 PRB at 30 kHz, TS 38.101-1 Table 5.3.2-1
    numerology: int = Field(1, ge=0, le=4)  # 30 kHz SCS, 0.5 ms slot, TS 38.211 Table 4.2-1
    tdd_pattern: str | None = (
        "DDDSU"  # common n78 pattern (DOMAIN.md "TDD wait for UL"); None = FDD
    )
    # gNB per sector over the whole carrier (dBm); without it (null), the environment's and
    # bandwidth's (radio.nr.default_cell_tx_power_dbm, :meth:`power_dbm`): outdoors in FR1 the
    # macro density of TR 36.814 Table A.2.1.1-2 (46 dBm per 10 MHz, DOMAIN.md's "46-49 dBm"
    # for 10-20 MHz carriers; UMi 41), 56 dBm at 100 MHz (a review: 46 dBm over 100 MHz put
    # every cell edge 10 dB below the density the figure was given for); kept unset, so a
    # sweep of the bandwidth or a written scenario re-derives it
    tx_power_dbm: float | None = Field(None, ge=-30, le=70)
    # the most downlink layers per UE (its receive antennas): the cell adapts the rank per UE,
    # rank 1 with the full precoding gain at the cell edge (radio.link.dl_rank_adapted_se)
    dl_layers: int = Field(2, ge=1, le=8)
    ul_layers: int = Field(1, ge=1, le=4)

    def power_dbm(self, environment: str) -> float:
        """The cell's total power over this carrier (dBm): ``tx_power_dbm``, or without it the
        ``environment``'s default (:func:`airan.radio.nr.default_cell_tx_power_dbm`)."""
        if self.tx_power_dbm is not None:
            return self.tx_power_dbm
        return nr.default_cell_tx_power_dbm(self.bandwidth_mhz, self.fc_ghz, environment)

    @model_validator(mode="before")
    @classmethod
    def _band_defaults(cls, data: Any) -> Any:
        """The frequency and duplex mode a carrier of its band takes when it gives neither."""
        if not isinstance(data, dict):
            return data
        out = dict(data)
        band = out.get("band")
        if band is None:
            fc, bw = out.get("fc_ghz"), out.get("bandwidth_mhz", 100.0)
            if fc is None:
                out["band"] = "n78"
            elif isinstance(fc, int | float) and isinstance(bw, int | float):
                fdd = "tdd_pattern" in out and out["tdd_pattern"] is None
                out["band"] = bands.band_of(float(fc), float(bw), "FDD" if fdd else "TDD")
                if out["band"] is None and "tdd_pattern" not in out:
                    # a frequency only an FDD band holds (2.14 GHz: n1's downlink) is FDD
                    out["band"] = bands.band_of(float(fc), float(bw), "FDD")
                    if out["band"] is not None:
                        out["tdd_pattern"] = None
            return out
        spec = bands.NR_BANDS.get(band) if isinstance(band, str) else None
        if spec is None:
            if isinstance(band, str) and bands.is_band_name(band) and "fc_ghz" not in out:
                # (a rail planner's review: n100, then unlisted, ran silently at 3.5 GHz TDD)
                raise ValueError(
                    f"band {band} is not in airan's band table (airan.radio.bands), so its "
                    "frequency is not known: give fc_ghz, the carrier's downlink frequency in "
                    "GHz, and for an FDD band tdd_pattern: null")
            return out
        out.setdefault("fc_ghz", bands.default_fc_ghz(band))
        if spec.duplex == "FDD":
            out.setdefault("tdd_pattern", None)
        return out

    @model_serializer(mode="wrap")
    def _unlisted_band_kept(self, handler: SerializerFunctionWrapHandler,
                            info: SerializationInfo) -> Any:
        """A carrier of a band outside the table keeps its frequency and duplex mode in a dump
        that leaves defaults out (a plan.yaml at 3.5 GHz would reload refused: that band must
        give fc_ghz)."""
        data = handler(self)
        if (isinstance(data, dict) and self.band is not None
                and self.band not in bands.NR_BANDS and bands.is_band_name(self.band)):
            data.setdefault("fc_ghz", self.fc_ghz)
            data.setdefault("tdd_pattern", self.tdd_pattern)
        return data

    @field_validator("tdd_pattern")
    @classmethod
    def _pattern_letters(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not v:
            raise ValueError("TDD pattern is empty: give its slots as letters D, S, U (e.g. "
                             "'DDDSU'), or null for an FDD carrier")
        if any(ch not in "DSUdsu" for ch in v):
            raise ValueError(f"TDD pattern must use only the letters D, S, U (got {v!r})")
        if len(v) > 320:  # TS 38.331: two patterns of at most 10 ms each, 320 slots at 120 kHz
            raise ValueError(f"TDD pattern of {len(v)} slots; at most 320")
        if "U" not in v.upper():
            raise ValueError(f"TDD pattern {v!r} has no uplink slot 'U'")
        if not set(v.upper()) & {"D", "S"}:
            raise ValueError(f"TDD pattern {v!r} has no downlink slot 'D' or 'S'")
        return v.upper()


class HexLayout(_Strict):
    """A hexagonal grid of sites: ``rings`` rings around a centre site, ``isd_m`` apart."""

    rings: int = Field(ge=0, le=40)
    isd_m: PosFloat
    center_m: tuple[Coord, Coord] = (0.0, 0.0)


class CellSite(_Strict):
    """A cell site: a mast (or ceiling point) with one or three sectors of the carrier."""

    name: Name
    position_m: tuple[Coord, Coord]
    # hBS; not given: the scenario's radio.environment's (TR 38.901: UMa 25 m, UMi 10 m, RMa
    # 35 m, InH 3 m, InF 1.5 / 8 m; airan.radio.pathloss.BS_HEIGHT_M), set by Scenario (25 m
    # standing alone)
    height_m: float = Field(25.0, gt=0, le=1000)
    sectors: Literal[1, 3] = 3
    downtilt_deg: float = Field(12.0, ge=0, le=90)  # TR 36.814 / 38.901 system-level assumption
    # the three sectors' rotation, degrees counter-clockwise: boresights at 30, 150 and 270 deg
    # from +x (TR 38.901 7.8's layout) plus this; -30 points one along +x (a road's sites)
    azimuth_deg: float = Field(0.0, ge=-360, le=360)
    carrier: Carrier | None = None

    @model_serializer(mode="wrap")
    def _own_height(self, handler: SerializerFunctionWrapHandler,
                    info: SerializationInfo) -> Any:
        return _height_as_written(self, handler(self), info)


class CellLayout(_Strict):
    """A generated set of cell sites (named ``<prefix><i>``)."""

    hex: HexLayout
    name_prefix: Name = "site"
    height_m: float = Field(25.0, gt=0, le=1000)  # not given: the environment's (as CellSite)
    sectors: Literal[1, 3] = 3
    downtilt_deg: float = Field(12.0, ge=0, le=90)

    @model_serializer(mode="wrap")
    def _own_height(self, handler: SerializerFunctionWrapHandler,
                    info: SerializationInfo) -> Any:
        return _height_as_written(self, handler(self), info)


def _height_as_written(site: BaseModel, data: Any, info: SerializationInfo) -> Any:
    """A cell site (or layout) as written: a height it does not give is left out, so that it
    reloads with its environment's, whatever that is then (a sweep over radio.environment); one
    it gives is kept even at the schema's default, which ``exclude_defaults`` would drop (a
    plan.yaml of a UMi scenario written at 25 m reloaded at 10 m)."""
    if not isinstance(data, dict):
        return data
    if "height_m" not in site.model_fields_set:
        data.pop("height_m", None)
    elif "height_m" not in data and info.exclude_defaults:
        data["height_m"] = site.height_m  # type: ignore[attr-defined]
    return data


_DRX_VALUES: dict[str, tuple[tuple[int, ...], str]] = {
    "cycle_ms": (drx.CYCLE_MS, "drx-LongCycle"),
    "on_duration_ms": (drx.ON_DURATION_MS, "drx-onDurationTimer"),
    "inactivity_ms": (drx.INACTIVITY_MS, "drx-InactivityTimer"),
    "short_cycle_ms": (drx.SHORT_CYCLE_MS, "drx-ShortCycle"),
    "short_cycle_timer": (drx.SHORT_CYCLE_TIMER, "drx-ShortCycleTimer"),
}


def _drx_value(field: str, v: int) -> int:
    """``v`` if it is one of TS 38.331's values for the DRX-Config field ``field``, else an
    error naming the values and the nearest."""
    allowed, name = _DRX_VALUES[field]
    if v not in allowed:
        near = min(allowed, key=lambda a: abs(a - v))
        raise ValueError(f"{field} must be a TS 38.331 {name} value: "
                         f"{', '.join(str(x) for x in allowed)} (got {v:g}; the nearest "
                         f"is {near})")
    return v


class Drx(_Strict):
    """Connected-mode DRX (TS 38.321 5.7; airan.radio.drx): a UE sleeps between on-durations
    once its inactivity timer runs out, and an answer for it waits for its next on-duration.
    The defaults are TR 38.840's C-DRX evaluation setting (160 ms cycle, 8 ms on-duration,
    100 ms inactivity timer); each value must be one of TS 38.331's. The cycle offsets of the
    UEs of one setting are spread over the cycle, the i-th at i mod cycle_ms ms
    (drx-StartOffset), or the next ms whose on-duration holds a slot with downlink symbols.
    A short cycle (``short_cycle_ms``, a divisor of ``cycle_ms``, with ``short_cycle_timer``
    short cycles) follows each expiry of the inactivity timer before the long cycle resumes;
    none by default (the defaults are the long cycle's)."""

    cycle_ms: int = 160  # drx-LongCycle
    on_duration_ms: int = 8  # drx-onDurationTimer
    inactivity_ms: int = 100  # drx-InactivityTimer
    short_cycle_ms: int | None = None  # drx-ShortCycle (None: the long cycle only)
    short_cycle_timer: int | None = None  # drx-ShortCycleTimer: how many short cycles

    @field_validator("short_cycle_ms")
    @classmethod
    def _short_divides_long(cls, v: int | None, info: ValidationInfo) -> int | None:
        if v is None:
            return v
        v = _drx_value("short_cycle_ms", v)
        cycle = info.data.get("cycle_ms")
        if cycle is not None and cycle % v:
            raise ValueError(f"short_cycle_ms {v} does not divide cycle_ms {cycle} (TS 38.331: "
                             "drx-LongCycle is a multiple of drx-ShortCycle)")
        return v

    @field_validator("short_cycle_timer")
    @classmethod
    def _timer_with_short_cycle(cls, v: int | None, info: ValidationInfo) -> int | None:
        if v is None:
            return v
        v = _drx_value("short_cycle_timer", v)
        if info.data.get("short_cycle_ms") is None:
            raise ValueError(f"short_cycle_timer {v} needs short_cycle_ms (the short cycle "
                             "it counts)")
        return v

    @field_validator("cycle_ms", "on_duration_ms", "inactivity_ms")
    @classmethod
    def _ts38331_value(cls, v: int, info: ValidationInfo) -> int:
        return _drx_value(str(info.field_name), v)

    @model_validator(mode="after")
    def _on_within_cycle(self) -> Drx:
        if self.on_duration_ms >= self.cycle_ms:
            raise ValueError(f"on_duration_ms {self.on_duration_ms} must be shorter than "
                             f"cycle_ms {self.cycle_ms} (else the UE never sleeps)")
        if self.short_cycle_ms is not None:
            if self.short_cycle_timer is None:
                raise ValueError(f"short_cycle_ms {self.short_cycle_ms} needs "
                                 "short_cycle_timer: how many short cycles (1-16, TS 38.331 "
                                 "drx-ShortCycleTimer) before the long cycle")
            if self.on_duration_ms >= self.short_cycle_ms:
                raise ValueError(f"on_duration_ms {self.on_duration_ms} must be shorter than "
                                 f"short_cycle_ms {self.short_cycle_ms} (else the UE never "
                                 "sleeps in the short cycle)")
        return self


class Radio(_Strict):
    """How the air interface is modelled.

    ``nr``: TR 38.901 path loss, SINR, PRB scheduling per slot. ``ideal``: zero delay, unlimited
    capacity (for validation). ``fixed``: every device has its own FIFO link of a fixed rate.
    """

    model: Literal["nr", "ideal", "fixed"] = "nr"
    environment: str = "uma"  # TR 38.901 scenario name (Table 7.4.1-1)
    # InF LOS probability (TR 38.901 Table 7.4.2-1): clutter density r and effective clutter
    # height; None takes the sub-scenario's calibration value (SL/SH 0.2, 2 m; DL/DH 0.6, 6 m)
    clutter_density: float | None = Field(None, ge=0, lt=1)
    clutter_height_m: float | None = Field(None, ge=0, le=10)
    # uplink: rr (equal shares), pf (proportional fair), mlwdf (PF weighted by how much of its
    # deadline a UE's oldest request has used: M-LWDF, Andrews et al. 2001)
    scheduler: Literal["rr", "pf", "mlwdf"] = "rr"
    ul_access: Literal["sr", "configured_grant"] = "sr"
    # SR periodicity; SR-to-grant adds 2-10 ms (DOMAIN.md); TS 38.331's longest is 640 slots
    sr_period_ms: float = Field(5.0, gt=0, le=640)
    # gNB decode + PDCCH + k2 (DOMAIN.md, NR training material)
    grant_delay_ms: float = Field(2.0, ge=0, le=1000)
    # the grant that answers a scheduling request (bytes): the gNB learns the buffer only from
    # the buffer status report that rides in it (TS 38.321 5.4.5), so data beyond it waits for
    # the next grant, grant_delay_ms after that slot. None: the first grant carries the whole
    # buffer, as if the gNB knew it
    first_grant_bytes: int | None = Field(None, ge=1, le=100_000_000)
    # the gNB's processing before an answer's first DL slot (0.5 ms: one slot at 30 kHz)
    dl_sched_delay_ms: float = Field(0.5, ge=0, le=1000)
    # HARQ: each transport block fails with this probability per transmission, the link
    # adaptation target (TS 38.214 5.2.2.1 defines CQI at a 0.1 block error rate), and is sent
    # again one HARQ round trip later, at most harq_max_retx times
    bler: float = Field(0.1, ge=0, le=0.5)
    harq_max_retx: int = Field(3, ge=0, le=7)  # maxHARQ-Tx 4 transmissions (assumption)
    ue_tx_power_dbm: float = Field(23.0, ge=-40, le=40)  # power class 3, TS 38.101-1
    # open-loop power control P0 per PRB, TS 38.213 7.1.1 (assumption); TS 38.331's range
    ul_p0_dbm: float = Field(-85.0, ge=-202, le=24)
    # fractional path-loss compensation (TS 38.213 7.1.1), one of TS 38.331's Alpha values
    ul_alpha: float = Field(0.8, ge=0, le=1)
    ue_noise_figure_db: float = Field(9.0, ge=0, le=30)  # DOMAIN.md "UE 7-9 dB"
    gnb_noise_figure_db: float = Field(5.0, ge=0, le=30)  # DOMAIN.md "NF gNB ~5 dB"
    # receive antennas per cell: maximum-ratio combining multiplies the uplink SINR by their
    # number (noise and interference uncorrelated across antennas); 4T4R is the Aerial
    # calibration point (DOMAIN.md)
    gnb_rx_antennas: int = Field(4, ge=1, le=64)
    # transmit antennas per cell: precoding gain (N - L + 1) / L per downlink layer, the cell's
    # power split over its L layers (radio.link.dl_precoding_gain); 4T4R as above
    gnb_tx_antennas: int = Field(4, ge=1, le=64)
    # elements in each sector antenna port's vertical column (TR 38.901 7.3): 1, the element of
    # Table 7.3-1 alone, tilted by the site's downtilt_deg (8 dBi); M > 1, a column steered
    # electrically to that downtilt (8 + 10 log10 M dBi at its peak; the calibration antenna
    # of TR 38.901 7.8.1 has 10, 0.5 wavelength apart). Ceiling (one-sector) cells stay omni.
    gnb_vertical_elements: int = Field(1, ge=1, le=64)
    gnb_element_spacing_wavelengths: float = Field(0.5, gt=0, le=4)
    initial_load: Fraction = 0.5  # other cells' load before any is measured (assumption)
    # EWMA of PRB use (assumption); at most a minute (the kernel's decay table grows with it)
    load_time_constant_ms: float = Field(100.0, gt=0, le=60_000)
    shadowing: bool = True  # log-normal, sigma from TR 38.901 Table 7.4.1-1
    # each link's LOS state: model, TR 38.901's LOS probability (Table 7.4.2-1), spatially
    # consistent (7.6.3.3); always, every link LOS (a rail corridor, as TR 38.913's high-speed
    # scenario and TS 38.104 Annex G's high-speed train take it; an open field); never, NLOS
    los: Literal["model", "always", "never"] = "model"
    # below this a UE gets no rate (Mogensen et al. VTC 2007)
    min_sinr_db: float = Field(-10.0, ge=-30, le=60)
    fixed_ul_rate_mbps: PosFloat = 80.0  # VLA-Perf 5G SA preset (DOMAIN.md)
    fixed_dl_rate_mbps: PosFloat = 500.0  # VLA-Perf 5G SA preset (DOMAIN.md)
    fixed_latency_ms: NonNegFloat = 0.0
    # UE radio power draw (device energy): circuits on while sending plus the PA's output over its
    # efficiency; receiving a constant. Lauridsen et al., "An empirical LTE smartphone power
    # model", 2014: ~1 W RF chain active; PA efficiency ~25% at full power (assumptions).
    ue_tx_circuit_w: NonNegFloat = 1.0
    ue_pa_efficiency: float = Field(0.25, gt=0, le=1)
    ue_rx_w: NonNegFloat = 1.0
    # a connected UE monitors the PDCCH in every slot (no DRX is modelled): drawn all along,
    # a slot it receives in adds ue_rx_w, one it sends in its sending power; None: half of
    # ue_rx_w, from TR 38.840 Table 8.1.1-1 (FR1): PDCCH-only 100, PDCCH + PDSCH 300
    ue_pdcch_w: NonNegFloat | None = None
    # connected-mode DRX (Drx) of every fleet that sets none of its own (Fleet.drx): null,
    # none (monitoring the PDCCH all along); nr radio only
    drx: Drx | None = None

    @property
    def pdcch_monitor_w(self) -> float:
        """A connected UE's power monitoring the PDCCH (W), drawn all along (no DRX): a
        fleet's mean power counts it; the ideal radio, which has no air interface, none."""
        if self.model == "ideal":
            return 0.0
        return self.ue_rx_w / 2.0 if self.ue_pdcch_w is None else self.ue_pdcch_w

    @field_validator("drx")
    @classmethod
    def _drx_needs_slots(cls, v: Drx | None, info: ValidationInfo) -> Drx | None:
        model = info.data.get("model", "nr")
        if v is not None and model != "nr":
            raise ValueError(f"DRX needs the nr radio: model {model!r} has no slots or "
                             "PDCCH to sleep between (remove drx, or set model: nr)")
        return v

    @field_validator("ul_alpha")
    @classmethod
    def _alpha(cls, v: float) -> float:
        return check_ul_alpha(v)

    @field_validator("environment")
    @classmethod
    def _env(cls, v: str) -> str:
        if v.lower() not in ENVIRONMENTS:
            close = suggest(v.replace("_", "-"), ENVIRONMENTS)
            hint = f"; did you mean {close!r}?" if close else "."
            raise ValueError(f"unknown environment {v!r}{hint} Accepted: "
                             f"{', '.join(ENVIRONMENTS)} (TR 38.901 scenarios)")
        return v.lower()


class Node(_Strict):
    """A transport node that is not a cell site: an aggregation point, a regional edge, a cloud."""

    name: Name
    position_m: tuple[Coord, Coord] | None = None


class GpuGroup(_Strict):
    type: str
    count: int = Field(ge=1, le=100_000)


class ModelBatching(_Strict):
    """One model's batching at a site, where it differs from the site's."""

    max_batch: int | None = Field(None, ge=1, le=1024)
    max_wait_ms: NonNegFloat | None = None
    instances: int | None = Field(None, ge=1, le=64)


class Batching(_Strict):
    """Dynamic batching: a GPU takes up to ``max_batch`` requests of one model, waiting at most
    ``max_wait_ms`` for the oldest before it starts a smaller batch (Triton-style). ``models``
    sets them per model (by the services' ``model``), as Triton's per-model configuration
    does: e.g. a VLA whose batch of 8 would outlast its deadline.

    ``instances``: each model's instances per GPU (Triton's ``instance_group`` count), each
    running one batch at a time. Batches running on one GPU at once, of one model or several,
    share it equally (processor sharing): a detection no longer waits behind a VLA's batch, it
    runs beside it at part of the GPU's speed.

    ``overhead_overlap``: how many batches' fixed overheads (``overhead_ms``: launches,
    synchronisation, kernels too small to fill the SMs) one GPU runs at once at full speed;
    more share that capacity equally. Their overheads take none of the throughput the batches'
    work shares. ``null``: any number overlap whole (an upper bound)."""

    max_batch: int = Field(8, ge=1, le=1024)
    max_wait_ms: NonNegFloat = 2.0  # assumption: small next to 50-100 ms deadlines
    instances: int = Field(1, ge=1, le=64)  # Triton's default instance_group count
    # Triton's optimization guide: a second instance of a launch-bound model, 1.5x
    # (see docs/model.md)
    overhead_overlap: float | None = Field(1.5, ge=1.0, le=64.0)
    models: dict[str, ModelBatching] = Field(default_factory=dict)

    def for_model(self, model: str) -> tuple[int, float]:
        """(max_batch, max_wait_ms) for ``model`` at a site with this batching."""
        m = self.models.get(model)
        if m is None:
            return self.max_batch, self.max_wait_ms
        return (self.max_batch if m.max_batch is None else m.max_batch,
                self.max_wait_ms if m.max_wait_ms is None else m.max_wait_ms)

    def instances_for(self, model: str) -> int:
        """How many instances of ``model`` each GPU at a site with this batching runs."""
        m = self.models.get(model)
        return self.instances if m is None or m.instances is None else m.instances


class ComputeSite(_Strict):
    """GPUs at a node: a cell site (``kind: cell``), a regional edge or a cloud."""

    name: SiteName
    at: str
    kind: Literal["cell", "edge", "cloud"] = "edge"
    gpus: list[GpuGroup] = Field(min_length=1)
    queue_limit: int = Field(1024, ge=1, le=10**9)  # requests waiting, all models (assumption)
    batching: Batching = Batching()
    # the services it serves (a GPU pool for one model, an operator's console for a stream);
    # None: every service. No policy places another's request there, and only their models
    # take its GPUs' memory
    services: list[str] | None = Field(None, min_length=1)
    # under ai_ran, the cell sites whose cells' L1 its GPUs run besides its own: a pooled DU
    # (a hub's GPU server serving the radio units of several sites over fronthaul; Aerial's 20
    # peak cells per Grace Hopper GPU are ~7 three-sector sites). A cell site listed here is
    # no longer hosted by a cell-kind compute site standing at it
    hosts_l1_of: list[str] = Field(default_factory=list)


class GeneratedComputeSites(_Strict):
    """GPUs at every ``every``-th cell site (a share of the sites, named ``gpu-<site>``)."""

    every: int = Field(ge=1)
    gpus: list[GpuGroup] = Field(min_length=1)
    queue_limit: int = Field(1024, ge=1, le=10**9)  # requests waiting, all models (assumption)
    batching: Batching = Batching()


class Link(_Strict):
    """A bidirectional transport link: fibre propagation 4.9 us/km plus serialization."""

    a: str
    b: str
    fiber_km: NonNegFloat
    capacity_gbps: PosFloat = 10.0  # assumption
    extra_delay_ms: NonNegFloat = 0.0  # routing/peering delay beyond the fibre (e.g. internet)


class Backhaul(_Strict):
    """Links every cell site that has none to the node ``to``: fibre = route_factor x distance."""

    to: str
    capacity_gbps: PosFloat = 10.0  # a 10G backhaul port (assumption)
    route_factor: PosFloat = 1.5  # fibre route over straight line (assumption)
    extra_delay_ms: NonNegFloat = 0.0


class Transport(_Strict):
    # per switch/router hop (assumption)
    hop_delay_us: float = Field(5.0, ge=0, le=1e6)
    # the packets a message crosses the links in: each hop forwards a packet once it has it
    # whole (store and forward per packet), so a message's packets pipeline over the hops.
    # 1500: the Ethernet MTU (IEEE 802.3); 9000 for jumbo frames; null: each hop holds the
    # whole message before sending it on (the store and forward of airan before 2026-12-05)
    packet_bytes: int | None = Field(1500, ge=64, le=10**9)
    queue_limit_ms: PosFloat = 200.0  # a link buffer holding more than this drops (link_full)
    links: list[Link] = []
    backhaul: Backhaul | None = None


class RectArea(_Strict):
    x_m: tuple[Coord, Coord]
    y_m: tuple[Coord, Coord]

    @model_validator(mode="after")
    def _ordered(self) -> RectArea:
        for axis, (low, high) in (("x_m", self.x_m), ("y_m", self.y_m)):
            if low > high:
                raise ValueError(f"area bounds must be [low, high]: {axis} is "
                                 f"[{low:g}, {high:g}]")
        return self


class DiscArea(_Strict):
    center_m: tuple[Coord, Coord]
    radius_m: float = Field(gt=0, le=1e7)


class PointsArea(_Strict):
    """Devices at given points, where a static fleet stands (gate cameras, cranes, machines on
    a shop floor): device i at ``positions_m[i mod n]``, so more devices than points (as
    ``--fleet-scale`` makes) share them in turn and fewer take the first ones."""

    positions_m: list[tuple[Coord, Coord]] = Field(min_length=1, max_length=1_000_000)
    # each point's UE height (m above ground), in the order of positions_m: a camera on a 10 m
    # pole beside one on a 4 m gate; None: the fleet's height_m at every point
    heights_m: list[Annotated[float, Field(gt=0, le=MAX_HEIGHT_M)]] | None = Field(
        None, min_length=1, max_length=1_000_000)

    @field_validator("heights_m")
    @classmethod
    def _a_height_per_point(cls, v: list[float] | None, info: ValidationInfo) -> Any:
        points = info.data.get("positions_m")  # (absent where they were refused)
        if v is not None and points is not None and len(v) != len(points):
            raise ValueError(f"{len(v):,} height{'s' if len(v) != 1 else ''} for "
                             f"{len(points):,} points: give one per point, in their order")
        return v


def _area_kind(v: Any) -> str:
    """Which area a fleet's ``area`` is: points if it names positions; a disc if it names a
    centre or radius (with or without its unit, or spelt centre), else a rectangle (so an error
    names the disc's own field, not a missing rectangle bound)."""
    if isinstance(v, dict):
        if any(k in v for k in ("positions_m", "positions", "points", "position_m", "position",
                                "xy_m", "points_m")):
            return "PointsArea"
        disc = ("center_m", "radius_m", "center", "radius", "centre_m", "centre")
        return "DiscArea" if any(k in v for k in disc) and not any(
            k in v for k in ("x_m", "y_m")) else "RectArea"
    if isinstance(v, PointsArea):
        return "PointsArea"
    return "DiscArea" if isinstance(v, DiscArea) else "RectArea"  # (not a mapping: its error)


FleetArea = Annotated[Annotated[RectArea, Tag("RectArea")] | Annotated[DiscArea, Tag("DiscArea")]
                      | Annotated[PointsArea, Tag("PointsArea")], Discriminator(_area_kind)]


from airan.mobility.config import MobilitySpec, SiteListFile  # noqa: E402  (uses _Strict above)

#: The fleet fields a device class sets (catalog/devices.yaml)
DEVICE_CLASS_FIELDS = ("height_m", "accelerator", "ul_buffer_kb", "cpu_runs_models")


class DeviceEngine(_Strict):
    """An engine of a device's own beside its accelerator's main one (a Jetson's DLA, a second
    GPU), a FIFO of its own for ``services``. ``time_factor``: its time for a service over the
    accelerator's (its roofline there, or ``on_device_ms``): a DLA v2 of a Jetson AGX Orin has
    ~52 of the module's 275 sparse INT8 TOPS where its GPU has 170 (NVIDIA's Jetson AGX Orin
    data sheet), so ~3 for a network it runs whole, an assumption to replace by a measurement:
    ``time_ms``, a service's own measured time on the engine.
    ``active_w``: its draw above the module's idle while it computes (W; None: the
    accelerator's, TDP - idle), what the energy and the energy objective count."""

    services: list[str]
    time_factor: float = Field(1.0, gt=0, le=1000)
    active_w: NonNegFloat | None = None
    # {service: ms}: the mean time of one request measured on this engine (a DLA's own
    # profile), in place of time_factor x the accelerator's for those services
    time_ms: dict[str, PosFloat] = Field(default_factory=dict)

    def time_s(self, service: str, accelerator_s: float) -> float:
        """The time of one request of ``service`` on this engine (s), given its time on the
        accelerator's main engine (``accelerator_s``): its measured ``time_ms``, else
        ``time_factor`` times that."""
        if service in self.time_ms:
            return self.time_ms[service] * 1e-3
        return accelerator_s * self.time_factor


def check_ul_alpha(v: float) -> float:
    """``v`` if it is one of TS 38.331's Alpha values (:data:`UL_ALPHA`), else a ValueError
    naming them and the nearest."""
    if not any(abs(v - a) < 1e-9 for a in UL_ALPHA):
        gap = min(abs(a - v) for a in UL_ALPHA)
        near = " or ".join(f"{a:g}" for a in UL_ALPHA if abs(abs(a - v) - gap) < 1e-9)
        raise ValueError(f"ul_alpha must be a TS 38.331 Alpha value: "
                         f"{', '.join(f'{a:g}' for a in UL_ALPHA)} (got {v:g}; the "
                         f"nearest: {near})")
    return v


class FleetHandover(_Strict):
    """A fleet's own event A3 and handover interruption (the gNB configures measurements per
    UE, TS 38.331 MeasConfig): each field unset takes the scenario's ``handover`` value (a rail
    planner's review: trains at 300 km/h and people on the platform shared one time-to-trigger;
    a train's modem, on a make-before-break handover, DAPS of TS 38.300 10.1.2.3, is silent for
    ~0 ms where the default's 30 ms is a break-before-make's)."""

    hysteresis_db: float | None = Field(None, ge=0, le=15, multiple_of=0.5)
    a3_offset_db: float | None = Field(None, ge=-15.0, le=15.0, multiple_of=0.5)
    ttt_ms: float | None = None
    interruption_ms: NonNegFloat | None = None

    @field_validator("ttt_ms")
    @classmethod
    def _ttt_value(cls, v: float | None) -> float | None:
        allowed, name = _TS38331_VALUES["ttt_ms"]
        if v is not None and v not in allowed:
            raise ValueError(f"ttt_ms must be a TS 38.331 {name} value: "
                             f"{', '.join(str(x) for x in allowed)} (got {v:g})")
        return v


class Fleet(_Strict):
    """A group of identical devices placed uniformly in an area (or at given points), each
    running ``services``.

    ``device_class`` (``airan catalog devices``) fills the fields it defines (antenna height,
    on-board accelerator, uplink buffer) that the fleet does not set itself.
    """

    name: Name
    count: int = Field(ge=0, le=50_000_000, strict=True)
    device_class: str | None = None
    # uniform in a rectangle {x_m, y_m} or a disc {center_m, radius_m}, or at given points
    # {positions_m: [[x, y], ...]}; None: uniform over the cell layout's bounding box
    area: FleetArea | None = None
    height_m: float = Field(1.5, gt=0, le=MAX_HEIGHT_M)  # UE height, TR 38.901 Table 7.4.1-1
    # inside a building or a car, served by outdoor cells (UMa, UMi, RMa): TR 38.901 7.4.3's
    # low-loss or high-loss O2I building model (RMa: low-loss only), or its in-car loss;
    # "none": outdoors
    penetration: Literal["none", "low-loss", "high-loss", "car"] = "none"
    # the UE antenna's gain (dBi) on every link, both ways: TR 38.901's UE is isotropic, 0 dBi
    # (Table 7.8-1); a vehicle's or a tractor's roof antenna gives a few dB more
    antenna_gain_dbi: float = Field(0.0, ge=-20, le=20)
    # a loss (dB) on every link, both ways, that the path loss leaves out: foliage or a crop
    # canopy over the device, its cable, a body (an assumption of the user's; 0: none)
    extra_loss_db: float = Field(0.0, ge=0, le=60)
    accelerator: str = "none"  # a GPU catalog id, or "none" (runs locally on the device CPU)
    # false: with no accelerator, its devices run no model themselves (a plain IP camera
    # streams; its class says so): every placement on them is dropped (not_on_device)
    cpu_runs_models: bool = True
    services: list[str] = Field(min_length=1)
    ul_buffer_kb: PosFloat = 1000.0  # UE UL buffer (assumption); beyond: buffer_full
    # fifo: every request waits its turn in the uplink buffer; latest: a new request replaces,
    # in its place, one of the same service whose bits are all still waiting (that one is
    # dropped, reason superseded), as a sensor stream with ROS 2's KEEP_LAST depth 1 sends
    # only its newest frame (nr radio; the fixed and ideal radios keep no such buffer)
    ul_queue: Literal["fifo", "latest"] = "fifo"
    # work waiting for the device's own accelerator or CPU (assumption); a request that would
    # wait longer is dropped (device_queue_full), as at a site (queue_full)
    local_queue_limit_ms: PosFloat = 1000.0
    battery_wh: PosFloat | None = None  # the battery: its life = battery_wh / (AI and radio's
    # mean power + base_power_w)
    # what a device draws besides its AI and radio (motors, propellers, sensors), W: its
    # battery life counts it (a drone maker's review: 43 h of AI and radio on a drone that
    # hovers at hundreds of watts); mean_power_w stays the AI and radio's
    base_power_w: NonNegFloat = 0.0
    # the fleet's UEs' maximum output power, dBm (TS 38.101-1 6.2.1 power classes: 3 = 23 dBm,
    # 2 = 26, 1.5 = 29 for high-power vehicle and drone modems); None: radio.ue_tx_power_dbm
    ue_tx_power_dbm: float | None = Field(None, ge=-40, le=40)
    # the fleet's own open-loop power control, TS 38.213 7.1.1 (the gNB sets P0 and alpha per
    # UE: p0-PUSCH-AlphaSet, TS 38.331); None: radio.ul_p0_dbm, radio.ul_alpha. TR 36.777's
    # mitigation of aerial UEs' uplink interference (clause 5.2): a lower P0 or alpha for drones
    ul_p0_dbm: float | None = Field(None, ge=-202, le=24)
    ul_alpha: float | None = None
    mobility: MobilitySpec | None = None  # None: static (see airan.mobility and docs/mobility.md)
    # the fleet's own A3 and handover interruption (FleetHandover), each field unset the
    # scenario's handover's; moving fleets only (a fault's moves take the scenario's)
    handover: FleetHandover | None = None
    # connected-mode DRX of this fleet's UEs (the gNB configures it per UE, TS 38.331
    # DRX-Config): a whole setting (its omitted fields TR 38.840's, as radio.drx's), "off":
    # none (monitoring the PDCCH all along), None: radio.drx's; nr radio only
    drx: Drx | Literal["off"] | None = None
    # services that run on an engine of their own on the device, beside its accelerator's main
    # one (a Jetson's DLA, a second GPU): {engine: [service, ...]} or {engine: {services: [...],
    # time_factor, active_w}} (DeviceEngine), each engine a FIFO of its own, so a long VLA on
    # the main one holds up no obstacle detection there (a drone maker's review)
    engines: dict[Name, DeviceEngine] = Field(default_factory=dict)

    @field_validator("engines", mode="before")
    @classmethod
    def _engine_lists(cls, v: Any) -> Any:
        """An engine given as its list of services: the same engine at the accelerator's speed
        and power."""
        if isinstance(v, dict):
            return {k: {"services": x} if isinstance(x, list) else x for k, x in v.items()}
        return v

    @field_validator("engines")
    @classmethod
    def _engines(cls, v: dict[str, DeviceEngine]) -> dict[str, DeviceEngine]:
        if len(v) > MAX_DEVICE_ENGINES:
            raise ValueError(f"at most {MAX_DEVICE_ENGINES} engines besides the main one "
                             f"(got {len(v)})")
        if "main" in v:  # (an AMR maker's review: validate showed it as the main one)
            raise ValueError("'main' is the accelerator's own engine, where the services no "
                             "engine lists run: name an engine of its own otherwise (dla, gpu2)")
        seen: dict[str, str] = {}
        for engine, spec in v.items():
            if not spec.services:
                raise ValueError(f"engine {engine!r} runs no service: list its services")
            if (spec.time_factor != 1.0 and spec.services
                    and all(svc in spec.time_ms for svc in spec.services)):
                raise ValueError(f"engine {engine!r}: time_factor {spec.time_factor:g} applies "
                                 "to none of its services, each given its time_ms: leave one "
                                 "of them out")
            stray = [svc for svc in spec.time_ms if svc not in spec.services]
            if stray:
                raise ValueError(f"engine {engine!r}: time_ms gives {stray[0]!r}, which it does "
                                 f"not run (its services: {', '.join(spec.services)})")
            for svc in spec.services:
                if svc in seen:
                    raise ValueError(f"service {svc!r} is on two engines, {seen[svc]!r} and "
                                     f"{engine!r}: one engine runs a service")
                seen[svc] = engine
        return v

    def engine_of(self, service: str) -> DeviceEngine | None:
        """The engine of the fleet's own that runs ``service`` (None: the main one)."""
        return next((e for e in self.engines.values() if service in e.services), None)

    @model_validator(mode="after")
    def _engine_services(self) -> Fleet:
        for engine, spec in self.engines.items():
            for svc in spec.services:
                if svc not in self.services:
                    raise ValueError(f"engines.{engine}: {svc!r} is not one of this fleet's "
                                     f"services ({', '.join(self.services)})")
        return self

    @field_validator("mobility")
    @classmethod
    def _points_stay_put(cls, v: Any, info: ValidationInfo) -> Any:
        if isinstance(info.data.get("area"), PointsArea) and v is not None \
                and v.model != "static":
            raise ValueError(f"{v.model!r} moves devices, and area.positions_m places them "
                             "where they stay: give a moving fleet a rectangle (x_m, y_m) or "
                             "a disc (center_m, radius_m)")
        return v

    @field_validator("drx", mode="before")
    @classmethod
    def _drx_or_off(cls, v: Any) -> Any:
        if v is False:  # YAML 1.1 reads an unquoted off (or no, false) as false
            return "off"
        if v is True:  # and an unquoted on (yes, true) as true
            raise ValueError("drx is a DRX setting (a mapping: {} for TR 38.840's), 'off', or "
                             "absent for radio.drx's (got true: YAML reads an unquoted on, "
                             "yes or true as true)")
        if v is not None and not isinstance(v, dict | Drx) and v != "off":
            raise ValueError(f"drx is a DRX setting (a mapping: cycle_ms, on_duration_ms, "
                             f"inactivity_ms, ...; {{}} for TR 38.840's), 'off', or absent "
                             f"for radio.drx's (got {v!r})")
        return v

    @property
    def computes_on_board(self) -> bool:
        """Whether its devices run models themselves: an accelerator, or a CPU that does."""
        return self.accelerator != "none" or self.cpu_runs_models

    @model_validator(mode="after")
    def _class_defaults(self) -> Fleet:
        """The device class's fields, where the fleet does not give its own."""
        if self.device_class is not None:
            for key, value in load_device_classes()[self.device_class].fleet_defaults().items():
                if key not in self.model_fields_set:
                    object.__setattr__(self, key, value)  # (frozen: set once, while validated)
        return self

    @model_serializer(mode="wrap")
    def _own_fields(self, handler: SerializerFunctionWrapHandler,
                    info: SerializationInfo) -> Any:
        """A fleet of a device class as written: of the fields a class sets, only those the
        fleet gives itself (even at the schema's default, which ``exclude_defaults`` would
        drop), so that it reloads with its class's values, whatever its class is then."""
        data = handler(self)
        if self.device_class is None or not isinstance(data, dict):
            return data
        for key in DEVICE_CLASS_FIELDS:
            if key not in self.model_fields_set:
                data.pop(key, None)
            elif key not in data and info.exclude_defaults:
                data[key] = getattr(self, key)
        return data

    @field_validator("ul_alpha")
    @classmethod
    def _fleet_alpha(cls, v: float | None) -> float | None:
        return None if v is None else check_ul_alpha(v)

    @field_validator("device_class")
    @classmethod
    def _known_class(cls, v: str | None) -> str | None:
        classes = load_device_classes()
        if v is not None and v not in classes:
            close = suggest(v, classes)
            hint = f"; did you mean {close!r}?" if close else "."
            raise ValueError(f"unknown device class {v!r}{hint} Accepted: "
                             f"{', '.join(classes)} (airan catalog devices)")
        return v

    @field_validator("services")
    @classmethod
    def _each_service_once(cls, v: list[str]) -> list[str]:
        twice = sorted({x for x in v if v.count(x) > 1})
        if twice:  # a service listed twice would silently run at twice its rate
            raise ValueError(f"service {twice[0]!r} is listed more than once")
        return v


#: a catalog model's fields that a scenario's entry replaces whole, not key by key
_WHOLE_FIELDS = frozenset({"service_time_ms"})


def _over_catalog(base: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """A scenario's entry ``given`` over a catalog model's fields ``base``: mappings merged key
    by key (``precision_on: {JetsonThor: fp4}`` keeps the catalog's other GPUs', an
    ``efficiency`` its ``compute_on`` calibrations), other values replaced; the catalog's
    ``source`` for a field given is dropped (the figure is no longer the one it cites)."""
    out = dict(base)
    for k, x in given.items():
        if isinstance(x, dict) and isinstance(out.get(k), dict) and k not in _WHOLE_FIELDS:
            out[k] = _over_catalog(out[k], x)
        else:
            out[k] = x
    if isinstance(out.get("source"), dict) and "source" not in given:
        out["source"] = {f: why for f, why in out["source"].items() if f not in given}
    return out


def _catalog_fields(spec: ModelSpec | GpuSpec | None) -> dict[str, Any]:
    """A catalog model's (or GPU's) fields that differ from the defaults (none for an id of
    one's own): what a scenario's entry of that id starts from."""
    if spec is None:
        return {}
    return spec.model_dump(mode="json", exclude_defaults=True)


class ServiceTime(_Strict):
    """A measured service time per batch (overrides the model's roofline for this service).

    ``fixed``: ``mean_ms``; otherwise the catalog's distributions (exponential: ``mean_ms``;
    lognormal: ``mean_ms`` and ``cv``; uniform: ``low_ms`` and ``high_ms``). ``batch_ms`` may
    replace ``mean_ms``: the mean per batch size as measured (``airan profile`` writes it),
    e.g. ``{1: 1.4, 2: 2.8, 4: 5.5}``, interpolated linearly between sizes; without it, a batch
    of any size takes the same time.

    ``measured_on``: the GPU (catalog id) the times were measured on. On other GPUs, and on a
    device's own accelerator, they are scaled by the model's roofline there over its roofline
    on that GPU, batch size by batch size (an estimate: the roofline's ratio, not a
    measurement). Without it the times apply as given on every GPU of every compute site, and a
    device's accelerator runs the model's roofline.
    ``on_device_ms``: the mean time of one request measured on a device's own accelerator, by
    the fleets' ``accelerator`` name (``none``: the device's CPU), e.g. ``{JetsonOrin: 210}``,
    with the distribution above; it replaces the time derived for that accelerator. (The
    spread on devices is per service: where another fleet running the service takes the model's
    roofline on board, every device runs it without the spread.)
    """

    dist: Literal["fixed", "exponential", "lognormal", "uniform"] = "fixed"
    mean_ms: PosFloat | None = None
    batch_ms: dict[int, PosFloat] | None = None
    cv: NonNegFloat | None = None
    low_ms: NonNegFloat | None = None
    high_ms: NonNegFloat | None = None
    measured_on: str | None = None
    on_device_ms: dict[str, PosFloat] | None = None

    @model_validator(mode="after")
    def _complete(self) -> ServiceTime:
        if self.on_device_ms and self.dist == "fixed" and self.mean_ms is None \
                and self.batch_ms is None:
            raise ValueError(
                "on_device_ms gives the devices' times; service_time also needs the compute "
                "sites' time (mean_ms or batch_ms, with measured_on for the GPU it was "
                "measured on): a device's time alone is not enough (measure the servers' with "
                "airan profile, or leave service_time out for the catalog's roofline "
                "everywhere)")
        self.as_catalog()  # the catalog's own checks: one place says what each dist needs
        return self

    def as_catalog(self) -> float | ServiceTimeDist:
        """The same service time as a catalog ``ModelSpec.service_time_ms`` value."""
        if self.dist == "fixed" and self.batch_ms is None:
            if self.mean_ms is None or any(
                x is not None for x in (self.cv, self.low_ms, self.high_ms)
            ):
                raise ValueError("fixed needs exactly ['mean_ms'] (or ['batch_ms'])")
            return self.mean_ms
        given = {k: getattr(self, k) for k in ("mean_ms", "batch_ms", "cv", "low_ms", "high_ms")}
        return ServiceTimeDist(dist=self.dist, **{k: v for k, v in given.items() if v is not None})


MAX_SPREAD_CV = 10.0  # a size spread's cv: beyond, a percentage more likely than a ratio


class PayloadSpread(_Strict):
    """How the size of each upload (``ul_kb_spread``) or answer (``dl_kb_spread``) varies
    about the service's ``ul_kb`` or ``dl_kb`` (its mean before truncation, "the size given"
    here; :mod:`airan.scenario.payload`): ``normal``, 3GPP's XR video frames (TR 38.838 5.1.1:
    ``cv`` 0.105 there, within ``min_ratio`` 0.5 .. ``max_ratio`` 1.5 x the size given, the
    defaults), or ``lognormal`` (a heavier tail; unbounded unless given). A size outside the
    bounds is drawn again."""

    dist: Literal["normal", "lognormal"]
    cv: PosFloat  # standard deviation over mean, before truncation (a ratio: 0.3 for 30%)
    min_ratio: NonNegFloat | None = None
    max_ratio: PosFloat | None = None

    @field_validator("cv", mode="before")
    @classmethod
    def _cv_not_a_percentage(cls, v: Any) -> Any:
        if isinstance(v, str) and v.strip().endswith("%"):
            raise ValueError(f"{v!r}: cv is a ratio, the standard deviation over the mean: "
                             "0.3 for 30%")
        return v

    @field_validator("cv")
    @classmethod
    def _cv_a_ratio(cls, v: float) -> float:
        if v > MAX_SPREAD_CV:
            raise ValueError(f"cv {v:g} is over {MAX_SPREAD_CV:g}: cv is a ratio, the standard "
                             f"deviation over the mean ({v / 100:g} for {v:g}%)")
        return v

    def sizes(self) -> dict[str, float]:
        """The sizes sent, as ratios of the size given: their ``mean`` and ``cv`` (after the
        bounds), ``p99`` and the ``largest`` (its bound, or the size only 1 in 100,000
        exceed)."""
        from airan.scenario import payload
        return {"mean": payload.mean_ratio(*self._law()), "cv": payload.cv_ratio(*self._law()),
                "p99": payload.exceeded_by(*self._law(), 0.01),
                "largest": payload.largest_ratio(*self._law())}

    def quartiles(self) -> tuple[float, float, float]:
        """The sizes sent's quartiles (the sizes 75%, 50% and 25% of them exceed), as ratios of
        the size given: the edges of a run's four size bands."""
        from airan.scenario import payload
        q1, q2, q3 = (payload.exceeded_by(*self._law(), share) for share in (0.75, 0.5, 0.25))
        return q1, q2, q3

    def ratios(self) -> tuple[float, float]:
        """The bounds as ratios of the size given (the kind's defaults where not given)."""
        from airan.scenario import payload
        return payload.bounds(payload.KINDS[self.dist], self.min_ratio, self.max_ratio)

    def _law(self) -> tuple[int, float, float, float]:
        """The arguments of :mod:`airan.scenario.payload`'s functions: kind, cv, bounds."""
        from airan.scenario import payload
        return (payload.KINDS[self.dist], self.cv, *self.ratios())

    def mean_ratio(self) -> float:
        """The mean size sent over the size given (the truncated distribution's mean)."""
        from airan.scenario import payload
        return payload.mean_ratio(*self._law())

    def largest_ratio(self) -> float:
        """The largest size sent over the size given (its bound, or the size only 1 in
        100,000 exceed)."""
        from airan.scenario import payload
        return payload.largest_ratio(*self._law())

    def share_above(self, ratio: float) -> float:
        """The share of the sizes sent larger than ``ratio`` x the size given."""
        from airan.scenario import payload
        return payload.share_above(*self._law(), ratio)

    @model_validator(mode="after")
    def _bounds_keep_enough(self) -> PayloadSpread:
        from airan.scenario import payload
        lo, hi = self.ratios()
        if not lo < hi:
            said = [f"{k} {x:g}" + (f" ({self.dist}'s default)" if given is None else "")
                    for k, x, given in (("min_ratio", lo, self.min_ratio),
                                        ("max_ratio", hi, self.max_ratio))]
            raise ValueError(f"{said[0]} is not below {said[1]}")
        kept = payload.kept_share(*self._law())
        if kept < payload.MIN_KEPT:
            # (bounds about the mean keep more of a narrower distribution; bounds beside it,
            # of a wider one: a user's walk was told to lower a cv that had to rise)
            way = "lower" if lo < 1.0 < hi else "raise"
            remedy = (f"widen min_ratio .. max_ratio, or {way} cv (a ratio: 0.3 for 30%)")
            if way == "lower" and self.cv >= 1.0 and self.dist == "normal":
                # (a normal of cv 1 or more: a percentage, most likely; a user's walk was
                # told to widen the bounds first)
                remedy = (f"cv is a ratio, {self.cv / 100:g} for {self.cv:g}%; or widen "
                          "min_ratio .. max_ratio")
            raise ValueError(
                f"the bounds {lo:g} .. {hi:g} x the size given keep {kept:.2%} of a "
                f"{self.dist} of cv {self.cv:g}, under {payload.MIN_KEPT:.0%} (each size is "
                f"drawn again until it falls within them): {remedy}")
        return self


class Service(_Strict):
    """A stream of inference requests from every device of the fleets that run it."""

    name: Name
    model: str
    rate_hz: float = Field(gt=0, le=10_000)  # per device; 10 kHz is beyond any control loop
    arrivals: Literal["periodic", "poisson"] = "periodic"
    jitter_ms: NonNegFloat = 0.0  # periodic: each arrival shifted by U(0, jitter), <= a period
    ul_kb: NonNegFloat = 15.0  # 224x224 JPEG ~15 KB (DOMAIN.md, vla-perf)
    dl_kb: NonNegFloat = 0.1  # an answer of detections or actions (assumption)
    # each upload's size drawn about ul_kb (compressed frames vary); None: every one ul_kb
    ul_kb_spread: PayloadSpread | None = None
    # each answer's size drawn about dl_kb (rendered frames sent down, a point cloud, a
    # variable-length plan); None: every one dl_kb
    dl_kb_spread: PayloadSpread | None = None
    deadline_ms: PosFloat
    target_hit_ratio: Fraction = 0.99  # assumption; set per service
    # stateful services (a VLA keeping context): a request served at another site than the
    # device's previous one first moves this much state there over the transport links
    state_kb: NonNegFloat = 0.0
    service_time: ServiceTime | None = None
    # whether a device may run the service itself: false for what must leave the device (a
    # teleoperation stream to a remote operator, a model no device can hold); a policy's
    # placement of one of its requests on the device is then dropped (not_on_device)
    on_device: bool = True
    # its logical channel's priority in the device's uplink buffer (TS 38.331
    # LogicalChannelConfig priority, 1 first .. 16 last; TS 38.321 5.4.3.1 serves a grant in
    # that order): a request goes ahead of those of a lower priority still waiting, the one
    # being sent included (RLC segments it). None: 16, every service alike (one FIFO)
    ul_priority: int | None = Field(None, ge=1, le=16)
    # its priority in a compute site's queue of its model (Triton's dynamic batcher priority
    # levels, 1 first): a batch takes the waiting requests of the highest priority first; a
    # batch already running is never cut short (non-preemptive), and models, each on
    # instances of its own, do not wait for one another. None: 16, every service alike (first
    # come, first served)
    compute_priority: int | None = Field(None, ge=1, le=16)
    # its QoS flow on the air: a standardized 5QI (TS 23.501 Table 5.7.4-1; airan.radio.qos),
    # whose default priority level the cells' schedulers weigh between devices (100 - P, as
    # 5G-LENA's QoS scheduler; airan.radio.scheduling), uplink and downlink; a priority level
    # of one's own (1 first .. 99) overrides the 5QI's. Neither: 5QI 9, the default bearer
    # (priority level 90), as every service alike
    five_qi: int | None = None
    qos_priority_level: int | None = Field(None, ge=1)

    @field_validator("five_qi")
    @classmethod
    def _standardized_5qi(cls, v: int | None) -> int | None:
        if v is not None and v not in STANDARDIZED_5QI:
            raise ValueError(
                f"{v} is not a standardized 5QI airan knows. Accepted: "
                f"{', '.join(map(str, sorted(STANDARDIZED_5QI)))} (TS 23.501 Table 5.7.4-1; "
                f"for another, give its priority level as qos_priority_level)")
        return v

    @field_validator("qos_priority_level")
    @classmethod
    def _weighable_level(cls, v: int | None) -> int | None:
        if v is not None and v > QOS_LEVELS:
            raise ValueError(
                f"priority level {v}: airan takes 1..{QOS_LEVELS} (TS 23.501 allows up to "
                f"127, but the schedulers' weight 100 - level would be {100 - v}, none or "
                "negative; every standardized 5QI's level is 90 or less)")
        return v

    @model_validator(mode="after")
    def _jitter_within_a_period(self) -> Service:
        if self.jitter_ms > 1e3 / self.rate_hz:
            raise ValueError(f"jitter_ms {self.jitter_ms:g} is longer than a period "
                             f"({1e3 / self.rate_hz:g} ms at {self.rate_hz:g} Hz)")
        return self

    @model_validator(mode="after")
    def _spread_of_something(self) -> Service:
        for key, what in (("ul_kb", "uploads"), ("dl_kb", "answers")):
            if getattr(self, f"{key}_spread") is not None and getattr(self, key) == 0:
                raise ValueError(f"{key}_spread spreads the {what}' sizes about {key}, which is "
                                 f"0: give {key} (the mean size), or leave {key}_spread out")
        return self

    @property
    def ul_largest_kb(self) -> float:
        """The largest upload (kB): ``ul_kb``, or under ``ul_kb_spread`` its upper bound, or
        the size only 1 in 100,000 uploads exceed where that is lower."""
        return self.ul_kb if self.ul_kb_spread is None \
            else self.ul_kb * self.ul_kb_spread.largest_ratio()

    @property
    def ul_mean_kb(self) -> float:
        """The mean size of an upload (kB): ``ul_kb``, or under ``ul_kb_spread`` the mean of
        its truncated distribution."""
        return self.ul_kb if self.ul_kb_spread is None \
            else self.ul_kb * self.ul_kb_spread.mean_ratio()

    @property
    def dl_largest_kb(self) -> float:
        """The largest answer (kB): ``dl_kb``, or under ``dl_kb_spread`` as
        :attr:`ul_largest_kb`."""
        return self.dl_kb if self.dl_kb_spread is None \
            else self.dl_kb * self.dl_kb_spread.largest_ratio()

    @property
    def dl_mean_kb(self) -> float:
        """The mean size of an answer (kB): ``dl_kb``, or under ``dl_kb_spread`` the mean of
        its truncated distribution."""
        return self.dl_kb if self.dl_kb_spread is None \
            else self.dl_kb * self.dl_kb_spread.mean_ratio()

    @model_validator(mode="after")
    def _device_time_only_where_it_runs(self) -> Service:
        if not self.on_device and self.service_time is not None \
                and self.service_time.on_device_ms:
            raise ValueError("service_time.on_device_ms gives a time on the devices, and "
                             "on_device: false says it never runs there: drop one of them")
        return self


class TrafficProfile(_Strict):
    """Background (non-AI) traffic of every cell over the day, as PRB utilization by hour.

    ``hourly``: 24 utilizations for the hours 0..23 (default: the built-in diurnal curve of
    :mod:`airan.compute.l1` scaled to ``peak_utilization``). The uplink follows the same curve
    unless ``uplink_hourly`` or ``uplink_peak_utilization`` gives its own (an operator's
    uplink PRB counters usually read lower than the downlink's). The load is a step function of
    the clock, updated every ``step_s`` (coarser than a slot).
    """

    hourly: list[Fraction] | None = Field(None, min_length=24, max_length=24)
    peak_utilization: Fraction = 0.8  # busy-hour PRB use of a loaded macro cell (assumption)
    # the uplink's own curve, where its PRBs are less (or more) used than the downlink's: 24
    # hourly values, or the downlink's curve (hourly, or the built-in) scaled to its own
    # busy-hour peak; neither: the downlink's
    uplink_hourly: list[Fraction] | None = Field(None, min_length=24, max_length=24)
    uplink_peak_utilization: Fraction | None = None
    start_hour: float = Field(0.0, ge=0, lt=24)  # clock time at simulated t = 0
    step_s: PosFloat = 60.0

    @model_validator(mode="after")
    def _one_uplink_curve(self) -> TrafficProfile:
        if self.uplink_hourly is not None and self.uplink_peak_utilization is not None:
            raise ValueError("give the uplink's curve as uplink_hourly or as "
                             "uplink_peak_utilization, not both")
        return self

    def curve(self, direction: Literal["dl", "ul"] = "dl") -> tuple[list[float] | None, float]:
        """The (hourly values, peak) that :func:`airan.compute.l1.background_utilization` takes
        for ``direction``: the uplink's own where it gives one, else the downlink's."""
        if direction == "ul":
            if self.uplink_hourly is not None:
                return list(self.uplink_hourly), self.peak_utilization
            if self.uplink_peak_utilization is not None:
                if self.hourly is None:
                    return None, self.uplink_peak_utilization
                top = max(self.hourly)  # the downlink's own shape, at the uplink's peak
                scale = self.uplink_peak_utilization / top if top > 0 else 0.0
                return [u * scale for u in self.hourly], self.uplink_peak_utilization
        return (list(self.hourly) if self.hourly is not None else None), self.peak_utilization


class AiRan(_Strict):
    """AI-and-RAN: the GPUs of a cell-site compute site also run the L1 (vRAN) of that site's cells
    (and of the cell sites a compute site lists in ``hosts_l1_of``: a pooled DU).

    ``mig``: L1 on a fixed slice (``mig_l1_fraction`` of every GPU; Aerial's MIG partition of
    3/7 or 4/7, DOMAIN.md), AI on the rest. ``dynamic``: L1 has strict priority every slot and AI
    gets what it leaves. ``none``: the GPUs serve AI only (the default).
    """

    mode: Literal["none", "mig", "dynamic"] = "none"
    mig_l1_fraction: float = Field(3 / 7, gt=0, lt=1)  # Aerial OTA GPU partition (DOMAIN.md)
    # the L1's antenna count, 4T4R the calibration point (DOMAIN.md); None: the cells' receive
    # antennas (radio.gnb_rx_antennas), so that the L1 cost and the uplink gain agree
    antennas: int | None = Field(None, ge=1, le=64)
    update_ms: PosFloat = 100.0  # how often the L1 load is re-evaluated (cell loads are EWMAs)
    # the share of a peak cell's L1 work a cell takes at no PRB use (control channels, PRACH,
    # the pipeline's persistent kernels); None: 0.022, through the A100's 4 peak / 8 average
    # cells (airan.compute.l1); Grace Hopper's "20 peak, 20 average" read as a cost gives 1
    l1_fixed_share: Fraction | None = None
    # peak 4T4R 100 MHz cells whose L1 one GPU runs, by GPU id: one's own measurement (cuBB on
    # the platform) in place of the catalog's (measured for Hopper and A100, else scaled from
    # Hopper's by BF16 throughput, uncertain by ~1.6-2x)
    l1_peak_cells: dict[str, PosFloat] = Field(default_factory=dict)
    traffic: TrafficProfile | None = None  # background cell traffic; None = AI traffic only
    # the one-way delay a pooled L1's fronthaul may take, from a hosting site to the cell sites
    # it lists in hosts_l1_of over the transport links: 100 us, the eCPRI transport network
    # requirements' class High100 for the split's user plane (~20 km of fibre)
    fronthaul_max_us: PosFloat = 100.0


class Fault(_Strict):
    """A timed failure or change, from ``start_s`` to ``end_s`` (None: to the end of the run).

    ``site_down``: a compute site fails; what it held is re-dispatched through the policy (or
    dropped, reason ``site_failure``) once the gateways notice, ``detect_ms`` after it fails
    (their health check or keepalive timeout; 0: at once): until then the policies still see it
    up and send it requests, which wait unanswered with the ones it held. ``gpu_down``: ``gpus``
    of a site's GPUs fail (their batches with them). ``link_down``: a transport link is cut
    (paths re-route around it). ``link_degraded``: its capacity times ``capacity_factor`` and
    ``extra_delay_ms`` more. ``cell_down``: a cell (or every cell of a cell site) goes off air;
    its devices declare a radio link failure when ``handover``'s T310 runs out (unless it comes
    back first) and re-establish on their next best cell in ``reestablish_ms`` (default:
    ``handover.reestablish_ms``). ``interference``: an interference burst (a welding arc, an
    arc furnace, a jammer) on a cell (or every cell of a cell site) raises the floor its
    receivers hear by ``rise_db`` over thermal noise (the interference-over-thermal rise): in
    ``direction`` ``uplink`` the cell's own receiver (its noise times 10^(rise_db / 10)),
    ``downlink`` the receivers of the devices it serves (theirs likewise), ``both`` (the
    default) both; the network's own interference adds to it as ever. ``surge``: a fleet's
    request rate times ``rate_factor``.
    """

    kind: Literal["site_down", "gpu_down", "link_down", "link_degraded", "cell_down",
                  "interference", "surge"]
    start_s: NonNegFloat
    end_s: PosFloat | None = None
    site: str | None = None  # site_down, gpu_down
    gpus: int = Field(1, ge=1)  # gpu_down
    link: tuple[str, str] | None = None  # link_down, link_degraded: the two nodes
    capacity_factor: float = Field(0.5, gt=0, le=1)  # link_degraded
    extra_delay_ms: NonNegFloat = 0.0  # link_degraded
    # cell_down, interference: a cell ("site/0") or a cell site (all its cells)
    cell: str | None = None
    # interference: its rise over thermal noise, dB (required; a robot maker's review: a
    # welding arc's or a jammer's burst on one aisle's cell could not be asked). 60 dB at most:
    # already a receiver blocked outright (its SINR 60 dB down: every link at the -10 dB floor)
    rise_db: float | None = Field(None, gt=0, le=60)
    # interference: which receivers it raises: the cell's (uplink), its devices' (downlink)
    direction: Literal["both", "uplink", "downlink"] = "both"
    # RRC re-establishment after the radio link failure; None: handover.reestablish_ms
    reestablish_ms: NonNegFloat | None = None
    fleet: str | None = None  # surge
    rate_factor: float = Field(2.0, gt=0, le=1000)  # surge
    # site_down: how long the gateways take to notice (health checks, gRPC keepalive: typically
    # hundreds of ms to seconds); 0: at once, as a site that says it is going down
    detect_ms: NonNegFloat = 0.0

    @model_validator(mode="after")
    def _target(self) -> Fault:
        need = {"site_down": "site", "gpu_down": "site", "link_down": "link",
                "link_degraded": "link", "cell_down": "cell", "interference": "cell",
                "surge": "fleet"}[self.kind]
        if getattr(self, need) is None:
            raise ValueError(f"a {self.kind} fault needs '{need}'")
        for other in ("site", "link", "cell", "fleet"):
            if other != need and getattr(self, other) is not None:
                raise ValueError(f"a {self.kind} fault takes '{need}', not '{other}'")
        if self.end_s is not None and self.end_s <= self.start_s:
            raise ValueError("end_s must be after start_s")
        if self.detect_ms and self.kind != "site_down":
            raise ValueError(f"detect_ms is how long a site_down takes to notice; a "
                             f"{self.kind} fault acts at once")
        if self.kind == "interference" and self.rise_db is None:
            raise ValueError("an interference fault needs 'rise_db' (its rise over thermal "
                             "noise, dB)")
        if self.kind != "interference" and (self.rise_db is not None
                                            or self.direction != "both"):
            raise ValueError(f"rise_db and direction are an interference fault's; a "
                             f"{self.kind} fault takes neither")
        return self


class Handover(_Strict):
    """Event A3 (TS 38.331 5.5.4.4): a neighbour better than the serving cell by ``hysteresis_db``
    for ``ttt_ms`` (a TimeToTrigger value of TS 38.331), both RSRPs layer-3 filtered
    (``filter_coefficient``, 5.5.3.2), triggers a handover, which silences the
    device's link, both ways, for ``interruption_ms`` (an assumption: tens of ms without DAPS;
    TS 38.133 6.1.1's budget for a known cell is nearer 50-60 ms).

    A device that loses its serving cell (it leaves the device's strongest cells as it moves,
    goes off the air, or, moving, hears its SSB below ``qout_db``: out of sync) declares a radio
    link failure when T310 expires: ``n310`` consecutive
    out-of-sync indications start it (TS 38.331 5.3.10), the first after radio link
    monitoring's evaluation period (:func:`airan.radio.nr.rlf_delay_s`); RRC re-establishment on
    its best cell then takes ``reestablish_ms``. Its link is silent, both ways, all that time
(below Qout: from the first out-of-sync indication, :meth:`airan.engine.motion.Motion._monitor`)."""

    # TS 38.331: Hysteresis 0-15 dB (INTEGER 0..30 x 0.5 dB; a V2X engineer's review: 30 dB
    # passed), the a3-Offset below adding up to 15 dB
    hysteresis_db: float = Field(3.0, ge=0, le=15, multiple_of=0.5)
    # a3-Offset (TS 38.331 5.5.4.4's Off, -15..15 dB in 0.5 dB steps): added to the hysteresis
    # in A3's entering condition, Mn - Hys > Mp + Off (negative: hand over earlier)
    a3_offset_db: float = Field(0.0, ge=-15.0, le=15.0, multiple_of=0.5)
    ttt_ms: float = 160.0
    interruption_ms: NonNegFloat = 30.0
    # TS 38.331 allows t310 0-6000 ms and n310 1-20; 1000 ms and 1 are assumptions (a common
    # setting), as is the re-establishment's 100 ms (cell search, random access, the RRC
    # messages: TS 38.133 6.2's delay is 50 ms plus the search, system information and PRACH)
    t310_ms: float = 1000.0
    n310: int = 1
    n311: int = 1
    reestablish_ms: NonNegFloat = 100.0
    # radio link monitoring's Qout (TS 38.133 8.1.1): the SINR at which a hypothetical PDCCH
    # (Table 8.1.2.1-1) would fail 10% of the time, -8 dB an assumption (where link-level
    # results put it with 2 receive antennas); a moving device whose serving cell's SSB falls
    # below it is out of sync: its link fails as if the cell were lost. null: never
    qout_db: float | None = Field(-8.0, ge=-20.0, le=0.0)
    # the layer-3 filter's filterCoefficient k (TS 38.331 5.5.3.2, QuantityConfig: fc4 by
    # default): A3 compares RSRPs filtered with weight 1 / 2^(k / 4) per 200 ms; 0: unfiltered
    filter_coefficient: int = 4

    @field_validator("ttt_ms", "t310_ms", "n310", "n311", "filter_coefficient")
    @classmethod
    def _ts38331_value(cls, v: float, info: ValidationInfo) -> float:
        allowed, name = _TS38331_VALUES[str(info.field_name)]
        if v not in allowed:
            raise ValueError(f"{info.field_name} must be a TS 38.331 {name} value: "
                             f"{', '.join(str(x) for x in allowed)} (got {v:g})")
        return v

    @property
    def rlf_silence_s(self) -> float:
        """A device's uplink silence from its serving cell's loss to its re-establishment."""
        return nr.rlf_delay_s(self.t310_ms, self.n310) + self.reestablish_ms * 1e-3


class Engine(_Strict):
    # policies decide in batches, on a snapshot this old; at most the longest run (ten days)
    decision_interval_ms: float = Field(5.0, gt=0, le=10 * 86_400 * 1e3)
    # every request up to this many is kept in the trace
    trace_limit: int = Field(200_000, ge=0, le=10**9)
    trace_sample: Fraction = 0.01  # beyond the limit, a seeded uniform sample of this fraction
    # the requests created before this (s) are the warm-up's, while the queues fill from empty:
    # counted apart (requests.created_in_warmup), in no figure of the run
    # (docs/outputs.md, "warm-up")
    warmup_s: NonNegFloat = 0.0


@functools.lru_cache(maxsize=8)
def _imported_sites(spec_json: str) -> Any:
    return SiteListFile.model_validate_json(spec_json).load()


def generated_indices(n_listed: int, imported_xy: Any, n_all: int, every: int) -> list[int]:
    """Every ``every``-th of ``n_all`` cell sites, in order: the ``n_listed`` listed first,
    then a site list's (``imported_xy``, their positions, or None) along a Hilbert curve, then
    the layout's (:meth:`Scenario.generated_host_indices`)."""
    order = list(range(n_listed))
    n_imported = 0
    if imported_xy is not None:
        from airan.radio.geometry import hilbert_order

        n_imported = len(imported_xy)
        order += (n_listed + hilbert_order(imported_xy)).tolist()
    order += list(range(n_listed + n_imported, n_all))
    return sorted(order[::every])


def imported_sites(spec: SiteListFile) -> Any:
    """The site list a scenario imports (read once per process)."""
    return _imported_sites(spec.model_dump_json())


def _host_port(addr: str) -> str:
    host, _, port = addr.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("not host:port (port 1-65535)")
    return addr


#: A live component's address, ``host:port`` (checked per entry: an error names its key)
HostPort = Annotated[str, AfterValidator(_host_port)]


class LiveHosts(_Strict):
    """Where the live runtime's components listen when they run on separate hosts
    (``host:port``; see docs/live.md). ``sites``: compute site -> address; ``gateways``: cell
    (``site/k`` for a sector, or a cell site for all its sectors) -> address; cells given the
    same address share one gateway process."""

    sites: dict[str, HostPort] = {}
    gateways: dict[str, HostPort] = {}


def _own_entries(entries: dict[Any, Any], what: str,
                 flags: frozenset[str] = frozenset()) -> None:
    """Entries of one's own by id (models, GPUs): no id with a '.' (a sweep's path
    ``<section>.<id>.<field>`` splits at dots), and no boolean where a number goes (``flags``:
    an entry's own boolean fields). Raises ValueError naming the first."""
    dotted = [k for k in entries if isinstance(k, str) and "." in k]
    if dotted:
        raise ValueError(f"a {what} id may not contain '.': {dotted[0]!r}")
    for k, x in entries.items():
        where = _bool_in({f: y for f, y in x.items() if f not in flags}
                         if isinstance(x, dict) else x)
        if where is not None:
            raise ValueError(f"{what} {k!r}: {where}: expected a number, got a boolean")


def _bool_in(value: Any, path: str = "") -> str | None:
    """The path of the first boolean in a nested mapping or list (None: none)."""
    if isinstance(value, bool):
        return path or "value"
    if isinstance(value, dict):
        for k, x in value.items():
            found = _bool_in(x, f"{path}.{k}" if path else str(k))
            if found is not None:
                return found
    if isinstance(value, list):
        for i, x in enumerate(value):
            found = _bool_in(x, f"{path}[{i}]")
            if found is not None:
                return found
    return None


class Scenario(_Strict):
    """A complete airan scenario."""

    name: Name
    description: str = ""
    duration_s: float = Field(10.0, gt=0, le=MAX_DURATION_S)
    seed: int = Field(1, ge=0, lt=2**63)
    # the seed of where the devices are (positions, line of sight, shadowing, O2I, mobility
    # trajectories); None: ``seed``'s. Set, runs over seeds vary the traffic (arrivals, SR
    # offsets, fading, service times) on one layout: a comparison's spread is the traffic's
    # alone (a researcher's review: seeds mixed the topology's variance into the intervals)
    layout_seed: int | None = Field(None, ge=0, lt=2**63)
    policy: str = "deadline-aware"
    admission: Literal["none", "strict"] = "none"
    # deadline-aware: the earliest completion ("latency"), or among the candidates that meet
    # the deadline the one that spends the least device energy ("energy")
    objective: Literal["latency", "energy"] = "latency"
    radio: Radio = Radio()
    carrier: Carrier = Carrier()
    cell_sites: list[CellSite] = []
    cell_layout: CellLayout | None = None
    cell_sites_file: SiteListFile | None = None  # a CSV of latitude/longitude, 3-sector sites
    nodes: list[Node] = []
    compute_sites: list[ComputeSite] = []
    generated_compute_sites: GeneratedComputeSites | None = None
    transport: Transport = Transport()
    fleets: list[Fleet] = Field(min_length=1)
    services: list[Service] = Field(min_length=1)
    engine: Engine = Engine()
    ai_ran: AiRan = AiRan()
    faults: list[Fault] = []
    handover: Handover = Handover()
    live: LiveHosts = LiveHosts()  # the live runtime on separate hosts (airan serve --component)
    # models of one's own, by id, in the catalog's format (`airan catalog models`; ``name``
    # defaults to the id): a service names them as it names a catalog model, and an id of the
    # catalog's takes the fields it gives over that entry's in this scenario (``openvla-7b:
    # {precision_on: {JetsonThor: fp4}}``: a robot maker's review, where a partial entry was
    # refused and a restated one silently lost the fields it left out)
    models: dict[Name, ModelSpec] = {}
    # accelerators of one's own, by id, in the catalog's format (`airan catalog gpus --sources`:
    # name, kind, memory_gb, mem_bw_tbps, tflops, tdp_w, idle_w, price_usd): a compute site or
    # a fleet names them as it names a catalog GPU, and an id of the catalog's takes the fields
    # it gives over that entry's in this scenario (``JetsonThor: {tdp_w: 60}``; mappings such
    # as ``tflops`` key by key; its calibrations by id stay: the models' compute_on,
    # overhead_on and precision_on, the L1's measured peak cells); a new id runs the models at
    # their default efficiencies and overheads, its L1 capacity scaled from its peaks
    gpus: dict[Name, GpuSpec] = {}

    @field_validator("gpus", mode="before")
    @classmethod
    def _gpu_ids(cls, v: Any) -> Any:
        if isinstance(v, dict):
            if "none" in v:  # (a fleet's accelerator: none is its CPU)
                raise ValueError("'none' is no GPU id: a fleet's accelerator 'none' means its "
                                 "CPU")
            _own_entries(v, "GPU", flags=frozenset({"mig"}))
            # a catalog id takes the fields given over the catalog's (a robot maker's review:
            # `JetsonThor: {tdp_w: 60}` was refused for the name and figures it left out)
            catalog = load_gpus()
            return {k: (_over_catalog(_catalog_fields(catalog.get(str(k))), g)
                        if isinstance(g, dict) and str(k) in catalog else g)
                    for k, g in v.items()}
        return v

    @field_validator("models", mode="before")
    @classmethod
    def _model_names(cls, v: Any) -> Any:
        if isinstance(v, dict):
            _own_entries(v, "model")  # (the catalog's class takes true as 1; a scenario not)
            for k, m in v.items():
                st = m.get("service_time_ms") if isinstance(m, dict) else None
                if isinstance(st, dict):  # its own message, not the union's first member's
                    try:
                        ServiceTimeDist.model_validate(st)
                    except ValidationError as exc:
                        first = exc.errors()[0]
                        at = ".".join(str(x) for x in first["loc"])
                        raise ValueError(f"model {k!r}: service_time_ms{'.' + at if at else ''}"
                                         f": {first['msg'].removeprefix('Value error, ')}"
                                         ) from None
            catalog = load_models()
            return {k: (_over_catalog({"name": str(k), **_catalog_fields(catalog.get(str(k)))},
                                      m) if isinstance(m, dict) else m) for k, m in v.items()}
        return v

    @model_validator(mode="after")
    def _cell_heights(self) -> Scenario:
        """A cell site's (or the layout's) height, where it gives none: the environment's
        (TR 38.901; airan.radio.pathloss.BS_HEIGHT_M)."""
        from airan.radio.pathloss import BS_HEIGHT_M

        h = BS_HEIGHT_M[self.radio.environment]
        sites: list[CellSite | CellLayout] = [*self.cell_sites]
        if self.cell_layout is not None:
            sites.append(self.cell_layout)
        for c in sites:
            if "height_m" not in c.model_fields_set:
                object.__setattr__(c, "height_m", h)  # (frozen: set once, while validated)
        return self

    def model_catalog(self) -> dict[str, ModelSpec]:
        """The models this scenario's services may name: the catalog's and its own."""
        return {**load_models(), **self.models}

    def gpu_catalog(self) -> dict[str, GpuSpec]:
        """The GPUs this scenario's sites and fleets may name: the catalog's and its own (each
        with its id set, as the catalog's are)."""
        if not self.gpus:
            return load_gpus()
        return {**load_gpus(), **{k: g.model_copy(update={"id": k}) for k, g in self.gpus.items()}}

    def compute_site_names(self) -> list[str]:
        """The compute sites listed, then those generated (``gpu-<cell site>``, every n-th)."""
        names = [c.name for c in self.compute_sites]
        if self.generated_compute_sites is not None:
            names += [f"gpu-{n}" for n in self.generated_hosts()]
        return names

    def generated_host_indices(self) -> list[int]:
        """The cell sites (indices into :meth:`cell_site_names`) at which
        ``generated_compute_sites`` stands, in that order: every ``every``-th cell site, the
        sites of a ``cell_sites_file`` taken along a Hilbert curve over their positions rather
        than in the file's order (an operator planner's review: every 4th row of a Shanghai
        list, ordered by id, put 69% of the GPUs west of its centre against 49% of the sites);
        the listed and the layout's sites in their order, as before."""
        g = self.generated_compute_sites
        if g is None:
            return []
        xy = (imported_sites(self.cell_sites_file).xy_m if self.cell_sites_file is not None
              else None)
        return generated_indices(len(self.cell_sites), xy, len(self.cell_site_names()), g.every)

    def generated_hosts(self) -> list[str]:
        """The names of the cell sites at :meth:`generated_host_indices`."""
        names = self.cell_site_names()
        return [names[i] for i in self.generated_host_indices()]

    def cell_site_names(self) -> list[str]:
        names = [s.name for s in self.cell_sites]
        if self.cell_sites_file is not None:
            names += imported_sites(self.cell_sites_file).names
        if self.cell_layout is not None:
            from airan.radio.geometry import hex_grid

            n = len(hex_grid(self.cell_layout.hex.rings, self.cell_layout.hex.isd_m))
            names += [f"{self.cell_layout.name_prefix}{i}" for i in range(n)]
        return names

    def cell_names(self) -> list[str]:
        """The cells (sectors) as the world names them: ``site/k`` for the three sectors of a
        3-sector site, the site's name for a 1-sector one."""
        sectors = [c.sectors for c in self.cell_sites]
        if self.cell_sites_file is not None:
            sectors += [3] * len(imported_sites(self.cell_sites_file).names)
        names = self.cell_site_names()
        if self.cell_layout is not None:
            sectors += [self.cell_layout.sectors] * (len(names) - len(sectors))
        return [c for name, n in zip(names, sectors, strict=True)
                for c in ([f"{name}/{k}" for k in range(3)] if n == 3 else [name])]

    def live_gateway_cells(self) -> dict[str, list[str]]:
        """Each ``live.gateways`` key's cells (a cell, or every sector of a cell site)."""
        cells = self.cell_names() if self.live.gateways else []
        return {key: [c for c in cells if c == key or c.split("/")[0] == key]
                for key in self.live.gateways}

    def node_names(self) -> list[str]:
        return self.cell_site_names() + [n.name for n in self.nodes]
