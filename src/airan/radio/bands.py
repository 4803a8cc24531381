"""NR operating bands: duplex mode and frequency ranges (TS 38.104 Tables 5.2-1 and 5.2-2).

The table holds the bands most deployed, not all of TS 38.104's: a carrier in another band
(``n<number>``) loads with a warning that its frequency and duplex mode were not checked.
Frequencies in MHz, as the standard writes them; a TDD band's uplink and downlink share one
range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Band:
    """One operating band: ``duplex`` mode, downlink and uplink ranges (MHz, inclusive)."""

    duplex: Literal["FDD", "TDD"]
    dl_mhz: tuple[float, float]
    ul_mhz: tuple[float, float]

    def holds(self, fc_ghz: float, bandwidth_mhz: float = 0.0) -> bool:
        """Whether a downlink carrier of ``bandwidth_mhz`` centred at ``fc_ghz`` lies in the band
        (and, FDD, its uplink at the band's duplex distance lies in the uplink range: n66's
        downlink above 2,180 MHz has no uplink pair)."""
        lo, hi = fc_ghz * 1e3 - bandwidth_mhz / 2, fc_ghz * 1e3 + bandwidth_mhz / 2
        offset = self.duplex_offset_mhz
        return (self.dl_mhz[0] <= lo and hi <= self.dl_mhz[1]
                and self.ul_mhz[0] <= lo - offset and hi - offset <= self.ul_mhz[1])

    @property
    def duplex_offset_mhz(self) -> float:
        """The downlink's distance above the uplink (TS 38.104 Table 5.2-1: the offset between
        the ranges' low edges; 0 for TDD)."""
        return self.dl_mhz[0] - self.ul_mhz[0]

    @property
    def paired_dl_mhz(self) -> tuple[float, float]:
        """The part of the downlink range whose uplink, at the band's duplex distance, lies in
        the uplink range (all of it for TDD; n66: 2110-2180 of 2110-2200 MHz)."""
        offset = self.duplex_offset_mhz
        return (max(self.dl_mhz[0], self.ul_mhz[0] + offset),
                min(self.dl_mhz[1], self.ul_mhz[1] + offset))

    @property
    def table(self) -> str:
        """The TS 38.104 table that lists the band (FR1 5.2-1, FR2 5.2-2)."""
        return "TS 38.104 Table 5.2-1" if self.dl_mhz[1] <= 7125 else "TS 38.104 Table 5.2-2"

    @property
    def centre_ghz(self) -> float:
        """The centre of the downlink range (GHz)."""
        return (self.dl_mhz[0] + self.dl_mhz[1]) / 2e3


def _fdd(ul: tuple[float, float], dl: tuple[float, float]) -> Band:
    return Band("FDD", dl, ul)


def _tdd(lo: float, hi: float) -> Band:
    return Band("TDD", (lo, hi), (lo, hi))


#: TS 38.104 Table 5.2-1 (FR1) and Table 5.2-2 (FR2): uplink and downlink ranges in MHz
NR_BANDS: dict[str, Band] = {
    "n1": _fdd((1920, 1980), (2110, 2170)),
    "n2": _fdd((1850, 1910), (1930, 1990)),
    "n3": _fdd((1710, 1785), (1805, 1880)),
    "n5": _fdd((824, 849), (869, 894)),
    "n7": _fdd((2500, 2570), (2620, 2690)),
    "n8": _fdd((880, 915), (925, 960)),
    "n12": _fdd((699, 716), (729, 746)),
    "n20": _fdd((832, 862), (791, 821)),
    "n25": _fdd((1850, 1915), (1930, 1995)),
    "n28": _fdd((703, 748), (758, 803)),
    "n34": _tdd(2010, 2025),
    "n38": _tdd(2570, 2620),
    "n39": _tdd(1880, 1920),
    "n40": _tdd(2300, 2400),
    "n41": _tdd(2496, 2690),
    "n48": _tdd(3550, 3700),
    "n66": _fdd((1710, 1780), (2110, 2200)),
    "n71": _fdd((663, 698), (617, 652)),
    "n77": _tdd(3300, 4200),
    "n78": _tdd(3300, 3800),
    "n79": _tdd(4400, 5000),
    # FRMCS, the railways' bands (Rel-17; CEPT ECC Decision (20)02): 2 x 5.6 MHz at 900 MHz and
    # 10 MHz at 1.9 GHz
    "n100": _fdd((874.4, 880), (919.4, 925)),
    "n101": _tdd(1900, 1910),
    "n257": _tdd(26500, 29500),
    "n258": _tdd(24250, 27500),
    "n259": _tdd(39500, 43500),
    "n260": _tdd(37000, 40000),
    "n261": _tdd(27500, 28350),
    "n262": _tdd(47200, 48200),
}

#: A carrier's frequency when the scenario gives none: 3.5 GHz where the band holds it (n77,
#: n78), else the centre of the band's downlink. 3.5 GHz is the built-in city's carrier (the
#: project's founding issue: "a macro UMa layout ... at 3.5 GHz"), an assumption for any other
#: n77/n78 network: its operator's own centre frequency belongs in ``fc_ghz``.
DEFAULT_FC_GHZ = 3.5

_BAND_NAME = re.compile(r"n[1-9][0-9]{0,2}")


def is_band_name(name: str) -> bool:
    """Whether ``name`` reads as an NR band (``n`` and a number), listed here or not."""
    return _BAND_NAME.fullmatch(name) is not None


def default_fc_ghz(band: str) -> float:
    """The carrier frequency (GHz) a carrier of ``band`` takes when the scenario gives none."""
    spec = NR_BANDS.get(band)
    if spec is None or spec.holds(DEFAULT_FC_GHZ):
        return DEFAULT_FC_GHZ
    return spec.centre_ghz


def band_of(fc_ghz: float, bandwidth_mhz: float, duplex: str) -> str | None:
    """The narrowest listed band of ``duplex`` ("TDD" or "FDD") that holds a carrier at
    ``fc_ghz`` of ``bandwidth_mhz``; None where none does."""
    fits = [(b.dl_mhz[1] - b.dl_mhz[0], name) for name, b in NR_BANDS.items()
            if b.duplex == duplex and b.holds(fc_ghz, bandwidth_mhz)]
    return min(fits)[1] if fits else None


def channel_mhz(fc_ghz: float, bandwidth_mhz: float, band: str | None, fdd: bool
                ) -> tuple[tuple[float, float], tuple[float, float]]:
    """A carrier's downlink and uplink channels (MHz, low and high edge).

    ``fc_ghz`` is the downlink centre. An FDD carrier of a listed band sends its uplink at the
    band's duplex distance (the offset between its downlink and uplink ranges, TS 38.104
    Table 5.2-1); a TDD carrier, or an FDD one of an unlisted band, on the same channel.
    """
    fc = fc_ghz * 1e3
    dl = (fc - bandwidth_mhz / 2, fc + bandwidth_mhz / 2)
    spec = NR_BANDS.get(band) if band is not None else None
    if not fdd or spec is None or spec.duplex != "FDD":
        return dl, dl
    offset = spec.duplex_offset_mhz
    return dl, (dl[0] - offset, dl[1] - offset)


def power_in_channel(victim: tuple[float, float], source: tuple[float, float]) -> float:
    """The share of a ``source`` channel's power that falls inside a ``victim`` channel: their
    overlap over the source's width (a flat power spectral density across the channel).

    Carriers that do not overlap do not interfere: the leakage into an adjacent channel
    (ACLR 45 dB for a base station, TS 38.104 6.6.3; ~30 dB for a UE, TS 38.101-1 6.5.2.4)
    is left out.
    """
    overlap = min(victim[1], source[1]) - max(victim[0], source[0])
    return max(overlap, 0.0) / (source[1] - source[0])
