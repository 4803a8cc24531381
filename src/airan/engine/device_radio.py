"""Devices' radio links: path gains to the cells of their nearest sites, the strongest K kept.

Used when the world is built and again whenever devices move. A link's LOS state and
shadowing are read from fields over the plane, one set per site, at the device's position
(:mod:`airan.radio.shadowing`): both are spatially consistent (TR 38.901 7.6.3.1, 7.6.3.3), so
they change as the device moves, over the correlation distances of Tables 7.6.3.1-2 (LOS state:
50 m UMa and UMi, 60 m RMa, 10 m InH, 1-5 m InF) and 7.5-6 (shadowing), devices side by side
share them, and the result does not depend on the order in which devices are computed.

A device above 22.5 m under UMa or UMi cells, or above 10 m under RMa cells, is an aerial UE
(TR 36.777 Annex B, up to 300 m: :mod:`airan.radio.pathloss`), seen by each cell's antenna at
its own elevation, and hears the cells of its ``NEAREST_SITES_AERIAL`` nearest sites (a ground
UE: ``NEAREST_SITES``); indoors (InH, InF) heights are taken at 22.5 m at most.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from scipy.special import ndtr

from airan.radio import antenna, geometry, pathloss, penetration, shadowing

TOP_K_CELLS = 16  # strongest cells kept per device; the rest enter as one residual interferer
NEAREST_SITES = 24  # interference is summed over the cells of the 24 nearest sites
# an aerial UE's (above 22.5 m under UMa/UMi, 10 m under RMa): in line of sight of far cells,
# in their main lobe near the horizon while the near ones see it in their sidelobes, it hears
# many more (a review: at 120 m over 61 sites, 24 left its median SINR ~1.2 dB high)
NEAREST_SITES_AERIAL = 96
_DEVICE_CHUNK = 2048
_LOS_MIX = np.uint64(0x8CB92BA72F3D8DD7)  # the LOS-state fields' seed
_SF_MIX = np.uint64(0x632BE59BD9B4E019)  # the shadowing fields' seed
_HE_MIX = np.uint64(0x3C6EF372FE94F82B)  # UMa's effective-environment-height fields' seed
#: UMa's effective environment height draws 1 m for every link below this UE height (TR 38.901
#: Table 7.4.1-1 Note 1: C = 0 below 13 m, and no value of {12, 15, ..} below 13.5 m)
_HE_FROM_M = 13.5


def top_height_m(environment: str) -> float:
    """The highest UE height the path loss takes (m): TR 36.777 Annex B's aerial UEs (300 m)
    under UMa, UMi and RMa, TR 38.901 Table 7.4.1-1's 22.5 m indoors (InH, InF: no aerial
    model)."""
    return (pathloss.AERIAL_TOP_M if pathloss.aerial_above_m(environment) is not None
            else pathloss.UT_HEIGHT_RANGE_M[1])


def strongest(rank: NDArray[np.float64], k: int) -> NDArray[np.int64]:
    """Each row's columns of its ``k`` largest values (at most its width), largest first
    (ties in column order): a device's strongest cells by RSRP."""
    kk = min(k, rank.shape[1])
    idx = np.argpartition(-rank, kk - 1, axis=1)[:, :kk]
    order = np.argsort(-np.take_along_axis(rank, idx, axis=1), axis=1, kind="stable")
    return np.take_along_axis(idx, order, axis=1)  # type: ignore[no-any-return]


class Links(NamedTuple):
    """Each device's K strongest cells and its path gains to them (serving cell first)."""

    cell: NDArray[np.int32]  # [n, K]
    gain: NDArray[np.float64]  # [n, K] linear, at the downlink's frequency
    gain_ul: NDArray[np.float64]  # [n, K] the same paths at the uplink's (``gain`` itself in TDD)
    resid: NDArray[np.float64]  # [n] DL power from the candidates beyond the K (mW, full load)


class O2I(NamedTuple):
    """Devices' building or car penetration (:mod:`airan.radio.penetration`), one row each."""

    code: NDArray[np.int8]  # [n] index of penetration.MODELS (0: outdoors)
    loss_db: NDArray[np.float64]  # [n] the device's own part (PL_in + its spread; a car's)
    # [n] its fleet's extra_loss_db less its antenna_gain_dbi, on every link (0: none)
    extra_db: NDArray[np.float64]

    def rows(self, a: int | NDArray[np.integer] | NDArray[np.bool_],
             b: int | None = None) -> O2I:
        """Rows ``a:b``, or the rows ``a`` selects."""
        if b is not None:
            return O2I(self.code[a:b], self.loss_db[a:b], self.extra_db[a:b])
        return O2I(self.code[a], self.loss_db[a], self.extra_db[a])

    def any(self) -> bool:
        """Whether any device is inside a building or a car."""
        return bool(np.any(self.code))


@dataclass
class DeviceRadio:
    """The cells' geometry and radio parameters, and how to link devices to them."""

    site_xy: NDArray[np.float64]  # [sites, 2]
    cell_node: NDArray[np.int64]  # [C] the cell's site
    cell_xy: NDArray[np.float64]
    cell_h: NDArray[np.float64]
    cell_az: NDArray[np.float64]
    cell_tilt: NDArray[np.float64]
    cell_sect: NDArray[np.bool_]
    cell_fc: NDArray[np.float64]
    cell_rs_mw: NDArray[np.float64]  # power per resource element: cells rank by RSRP
    cell_tx_mw: NDArray[np.float64]  # the cell's whole power
    cell_carrier: NDArray[np.int64]  # [C] the row of cell_tx_on_mw of the cell's channel
    cell_tx_on_mw: NDArray[np.float64]  # [carriers, C] c's power in channel v: what interferes
    environment: str
    nr: bool  # False: attach to the nearest cell only (ideal and fixed radio models)
    shadowing: bool
    seed: int
    clutter_density: float | None  # InF only; None: the sub-scenario's TR 38.901 value
    clutter_height_m: float | None
    vertical_elements: int = 1  # per sector antenna port (antenna.column_gain_dbi)
    element_spacing_wavelengths: float = 0.5
    # [C] the uplink's centre frequency (GHz): an FDD carrier's at its band's duplex distance;
    # None: every cell's uplink on its downlink's frequency (TDD)
    cell_ul_fc: NDArray[np.float64] | None = None
    # the links' LOS state: "model" (TR 38.901's probability, spatially consistent), "always"
    # or "never" (Radio.los)
    los_mode: str = "model"
    _tree: cKDTree = field(init=False, repr=False)
    _site_cells: NDArray[np.int64] = field(init=False, repr=False)
    _sf_waves: NDArray[np.float64] = field(init=False, repr=False)
    _los_waves: NDArray[np.float64] = field(init=False, repr=False)
    _he_waves: NDArray[np.float64] = field(init=False, repr=False)
    _mast: NDArray[np.int64] = field(init=False, repr=False)
    _ul_fc: NDArray[np.float64] = field(init=False, repr=False)
    _fdd: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._ul_fc = self.cell_fc if self.cell_ul_fc is None else np.asarray(self.cell_ul_fc,
                                                                              float)
        # an uplink on another frequency has its own path loss (nr only: the other radios
        # attach by distance)
        self._fdd = self.nr and bool(np.any(self._ul_fc != self.cell_fc))
        n_sites = len(self.site_xy)
        self._site_cells = np.full((n_sites, 3), -1, dtype=np.int64)
        for ci, node in enumerate(self.cell_node):
            row = self._site_cells[node]
            row[int(np.argmax(row < 0))] = ci
        self._tree = cKDTree(self.site_xy)
        # cell sites at one position (two carriers on one mast) read the same fields: the LOS
        # state and the shadowing belong to the path, not to the carrier
        _, first, inverse = np.unique(np.round(self.site_xy, 2), axis=0, return_index=True,
                                      return_inverse=True)
        self._mast = first[np.ravel(inverse)].astype(np.int64)
        self._sf_waves = shadowing.wave_table(
            n_sites if self.nr and self.shadowing else 0,
            int(np.uint64(self.seed & 0x7FFFFFFFFFFFFFFF) ^ _SF_MIX))
        self._los_waves = shadowing.wave_table(
            n_sites if self.nr else 0, int(np.uint64(self.seed & 0x7FFFFFFFFFFFFFFF) ^ _LOS_MIX),
            n_fields=1)
        # UMa's hE per link (a field of its own: the LOS state's and the shadowing's draws
        # stay as they were)
        self._he_waves = shadowing.wave_table(
            n_sites if self.nr and self.environment == "uma" else 0,
            int(np.uint64(self.seed & 0x7FFFFFFFFFFFFFFF) ^ _HE_MIX), n_fields=1)

    @property
    def k_top(self) -> int:
        return min(TOP_K_CELLS, len(self.cell_node))

    def links(self, dev_xy: NDArray[np.float64], dev_h: NDArray[np.float64],
              o2i: O2I | None = None) -> Links:
        """For each device at ``dev_xy`` (m), ``dev_h`` (m) high: the K strongest cells by received
        power, their linear path gains (antenna, LOS state and shadowing included; serving cell
        first) at the downlink's and at the uplink's frequency, and the DL power from every
        other candidate cell at full load (mW) in the strongest cell's channel (a
        simplification: it stays that channel's while a handover or a cell outage moves the
        device to a cell on another channel, until its cells are listed again). ``o2i``: each
        device's building or car penetration (:class:`O2I`, rows as ``dev_xy``); None: none."""
        n_dev = len(dev_xy)
        n_sites = len(self.site_xy)
        k_top = self.k_top
        top_cell = np.zeros((n_dev, k_top), dtype=np.int32)  # one 64-byte line per row
        top_gain = np.zeros((n_dev, k_top))
        top_gain_ul = np.zeros((n_dev, k_top)) if self._fdd else top_gain
        resid = np.zeros(n_dev)
        above = pathloss.aerial_above_m(self.environment)
        aerial = (np.asarray(dev_h) > above if self.nr and above is not None
                  else np.zeros(n_dev, bool))
        if not aerial.any():  # (the devices in their own order: slices of them)
            self._links_of(dev_xy, dev_h, o2i, None, min(NEAREST_SITES, n_sites), top_cell,
                           top_gain, top_gain_ul, resid)
        else:
            for rows, m in ((np.flatnonzero(~aerial), NEAREST_SITES),
                            (np.flatnonzero(aerial), NEAREST_SITES_AERIAL)):
                self._links_of(dev_xy, dev_h, o2i, rows, min(m, n_sites), top_cell, top_gain,
                               top_gain_ul, resid)
        return Links(top_cell, top_gain, top_gain_ul, resid)

    def _links_of(self, dev_xy: NDArray[np.float64], dev_h: NDArray[np.float64],
                  o2i: O2I | None, rows: NDArray[np.int64] | None, m_sites: int,
                  top_cell: NDArray[np.int32], top_gain: NDArray[np.float64],
                  top_gain_ul: NDArray[np.float64], resid: NDArray[np.float64]) -> None:
        """:meth:`links` for the devices ``rows`` (None: all, in slices), their candidates the
        cells of their ``m_sites`` nearest sites, written into the arrays given."""
        k_top = self.k_top
        n = len(dev_xy) if rows is None else len(rows)
        for a0 in range(0, n, _DEVICE_CHUNK):
            b0 = min(n, a0 + _DEVICE_CHUNK)
            sel: slice | NDArray[np.int64] = (slice(a0, b0) if rows is None
                                              else rows[a0:b0])
            o2i_sel = (None if o2i is None else o2i.rows(a0, b0) if rows is None
                       else o2i.rows(rows[a0:b0]))
            cnt = b0 - a0
            _, near = self._tree.query(dev_xy[sel], k=m_sites)
            near = np.asarray(near).reshape(cnt, m_sites)
            cand = self._site_cells[near].reshape(cnt, -1)  # [n, 3M] cell ids, -1 padded
            valid = cand >= 0
            cc = np.where(valid, cand, 0)
            dx = self.cell_xy[cc, 0] - dev_xy[sel, None, 0]
            dy = self.cell_xy[cc, 1] - dev_xy[sel, None, 1]
            hb = self.cell_h[cc]
            h_ut = np.minimum(dev_h[sel], top_height_m(self.environment))
            gain, gain_ul = self._gain(cc, dx, dy, hb, h_ut, o2i_sel)
            gain = np.where(valid, gain, 0.0)
            rx = gain * self.cell_rs_mw[cc]  # RSRP (TS 38.215 5.1.1): the ranking
            idx = strongest(rx, k_top)
            kk = idx.shape[1]
            top_cell[sel, :kk] = np.take_along_axis(cc, idx, axis=1)
            top_gain[sel, :kk] = np.take_along_axis(gain, idx, axis=1)
            if self._fdd:
                top_gain_ul[sel, :kk] = np.take_along_axis(np.where(valid, gain_ul, 0.0), idx,
                                                           axis=1)
            if kk < k_top:  # fewer candidate cells than K: repeat the serving cell, zero gain
                top_cell[sel, kk:] = top_cell[sel, :1]
            # the other candidates' whole power (mW), not their RSRP: 12 x N_PRB times more;
            # of it, what falls in the strongest cell's channel
            serving = np.take_along_axis(cc, idx[:, :1], axis=1)
            power = gain * self.cell_tx_on_mw[self.cell_carrier[serving], cc]
            resid[sel] = np.maximum(  # (rounding: -1e-20 where every candidate is kept)
                power.sum(axis=1) - np.take_along_axis(power, idx, axis=1).sum(axis=1), 0.0)

    def gains(
        self, dev_xy: NDArray[np.float64], dev_h: NDArray[np.float64], cells: NDArray[np.int64],
        o2i: O2I | None = None,
    ) -> NDArray[np.float64]:
        """Path gains of each device to the given cells ([n, k]) at the downlink's frequency:
        the same links as :meth:`links` (same fields), for a known candidate set."""
        return self.link_gains(dev_xy, dev_h, cells, o2i)[0]

    def link_gains(
        self, dev_xy: NDArray[np.float64], dev_h: NDArray[np.float64], cells: NDArray[np.int64],
        o2i: O2I | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """:meth:`gains` at the downlink's and at the uplink's frequency (the same array in
        TDD): cheap updates while devices move."""
        dx = self.cell_xy[cells, 0] - dev_xy[:, None, 0]
        dy = self.cell_xy[cells, 1] - dev_xy[:, None, 1]
        h_ut = np.minimum(dev_h, top_height_m(self.environment))
        return self._gain(cells, dx, dy, self.cell_h[cells], h_ut, o2i)

    def mean_links(self, dev_xy: NDArray[np.float64], dev_h: NDArray[np.float64]
                   ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
        """For points at ``dev_xy`` (m), ``dev_h`` (m) high: the K strongest cells by mean
        RSRP among the cells of the nearest sites, and the mean path gains to them at the
        downlink's and the uplink's frequency (:meth:`mean_link_gains`): a population's links,
        the same on every seed (the background traffic's handsets,
        :func:`airan.engine.world.background_uplink_coupling`). Shapes [n, K]; in chunks."""
        n, k_top = len(dev_xy), self.k_top
        top = np.zeros((n, k_top), dtype=np.int64)
        top_gain, top_gain_ul = np.zeros((n, k_top)), np.zeros((n, k_top))
        if not n or not len(self.cell_node):
            return top, top_gain, top_gain_ul
        fixed = self._fixed_los_radios()
        m_sites = min(NEAREST_SITES, len(self.site_xy))
        for a0 in range(0, n, _DEVICE_CHUNK):
            b0 = min(n, a0 + _DEVICE_CHUNK)
            _, near = self._tree.query(dev_xy[a0:b0], k=m_sites)
            cand = self._site_cells[np.asarray(near).reshape(b0 - a0, m_sites)].reshape(
                b0 - a0, -1)
            valid = cand >= 0
            cc = np.where(valid, cand, 0)
            g, g_ul = self._mean_gains(fixed, dev_xy[a0:b0], dev_h[a0:b0], cc)
            g, g_ul = np.where(valid, g, 0.0), np.where(valid, g_ul, 0.0)
            idx = strongest(g * self.cell_rs_mw[cc], k_top)  # by mean RSRP
            kk = idx.shape[1]
            top[a0:b0, :kk] = np.take_along_axis(cc, idx, axis=1)
            top_gain[a0:b0, :kk] = np.take_along_axis(g, idx, axis=1)
            top_gain_ul[a0:b0, :kk] = np.take_along_axis(g_ul, idx, axis=1)
            if kk < k_top:  # (fewer candidates than K: the strongest again, at no gain)
                top[a0:b0, kk:] = top[a0:b0, :1]
        return top, top_gain, top_gain_ul

    def mean_link_gains(
        self, dev_xy: NDArray[np.float64], dev_h: NDArray[np.float64], cells: NDArray[np.int64],
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """:meth:`link_gains` averaged over the LOS state (TR 38.901 Table 7.4.2-1's
        probability, or ``los_mode``'s fixed state), without shadowing or penetration: the
        mean link of a population at those points rather than one device's draw (24 handsets
        a mast with their own LOS and shadowing gave one sector of a lone site about a tenth
        of another's background interference)."""
        return self._mean_gains(self._fixed_los_radios(), dev_xy, dev_h, cells)

    def _fixed_los_radios(self) -> tuple[DeviceRadio, DeviceRadio] | None:
        """This radio's links every one LOS and every one NLOS, without shadowing (None for
        the ideal and fixed radios, whose gains only pick the nearest cell)."""
        if not self.nr:
            return None
        return (replace(self, shadowing=False, los_mode="always"),
                replace(self, shadowing=False, los_mode="never"))

    def _mean_gains(self, fixed: tuple[DeviceRadio, DeviceRadio] | None,
                    dev_xy: NDArray[np.float64], dev_h: NDArray[np.float64],
                    cells: NDArray[np.int64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """:meth:`mean_link_gains` with :meth:`_fixed_los_radios` built once."""
        if fixed is None:
            return self.link_gains(dev_xy, dev_h, cells)
        los = fixed[0].link_gains(dev_xy, dev_h, cells)
        if self.los_mode == "always":
            return los
        nlos = fixed[1].link_gains(dev_xy, dev_h, cells)
        if self.los_mode == "never":
            return nlos
        d2d = np.hypot(self.cell_xy[cells, 0] - dev_xy[:, None, 0],
                       self.cell_xy[cells, 1] - dev_xy[:, None, 1])
        h_ut = np.minimum(dev_h, top_height_m(self.environment))
        p = pathloss.los_probability(
            self.environment, d2d, np.broadcast_to(h_ut[:, None], d2d.shape),
            clutter_density=self.clutter_density, clutter_height_m=self.clutter_height_m,
            h_bs_m=self.cell_h[cells])
        return p * los[0] + (1.0 - p) * nlos[0], p * los[1] + (1.0 - p) * nlos[1]

    def _gain(
        self, cc: NDArray[np.int64], dx: NDArray[np.float64], dy: NDArray[np.float64],
        hb: NDArray[np.float64], h_ut: NDArray[np.float64], o2i: O2I | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Linear path gains (antenna, LOS and shadowing included) from cells ``cc`` [n, k], at
        the downlink's and the uplink's frequency (the same array where they share it).

        The two differ only in the path loss's frequency terms (TR 38.901 Table 7.4.1-1: its
        log10(fc) coefficient and the breakpoint distance, d'BP ~ fc): the LOS state and the
        shadowing belong to the path, and the antenna's pattern is taken as the same on both
        (an FDD panel's element spacing is a fixed length, a little fewer wavelengths on the
        lower frequency: a simplification)."""
        d2d = np.hypot(dx, dy)
        dh = hb - h_ut[:, None]
        d3d = np.hypot(d2d, dh)
        if not self.nr:
            g = 1.0 / np.maximum(d3d, 1.0) ** 2  # only to attach to the nearest cell
            return g, g
        env = self.environment
        # LOS and shadowing belong to the (device, mast) path: shared by the site's sectors
        # and by sites on one mast, read from the mast's fields at the device's position
        site = self._mast[self.cell_node[cc]]
        x, y = self.cell_xy[cc, 0] - dx, self.cell_xy[cc, 1] - dy
        def model_los() -> NDArray[np.bool_]:
            p_los = pathloss.los_probability(
                env, d2d, np.broadcast_to(h_ut[:, None], d2d.shape),
                clutter_density=self.clutter_density, clutter_height_m=self.clutter_height_m,
                h_bs_m=hb)
            return shadowing.los_state(x, y, site, p_los, env, self._los_waves)

        if self.los_mode == "model":
            los = model_los()
        else:  # every link of one state (radio.los); under never, an aerial UE keeps TR
            # 36.777's state, whose NLOS fits stop where its LOS is certain
            los = np.full(d2d.shape, self.los_mode == "always")
            above = pathloss.aerial_above_m(env) if self.los_mode == "never" else None
            if above is not None and (aerial := h_ut > above).any():
                los = np.where(aerial[:, None], model_los(), los)
        h_e = self._uma_effective_height_m(x, y, site, d2d, h_ut)
        pl = pathloss.pathloss_db(env, d2d, d3d, self.cell_fc[cc], hb, h_ut[:, None], los, h_e)
        pl_ul = (pathloss.pathloss_db(env, d2d, d3d, self._ul_fc[cc], hb, h_ut[:, None], los,
                                      h_e) if self._fdd else None)
        if o2i is not None and o2i.any():  # inside a building or a car (TR 38.901 7.4.3)
            pl = pl + (penetration.wall_loss_by_code_db(o2i.code[:, None], self.cell_fc[cc])
                       + o2i.loss_db[:, None])
            if pl_ul is not None:
                pl_ul = pl_ul + (penetration.wall_loss_by_code_db(
                    o2i.code[:, None], self._ul_fc[cc]) + o2i.loss_db[:, None])
        if o2i is not None and np.any(o2i.extra_db):  # a fleet's own loss, less its antenna
            pl = pl + o2i.extra_db[:, None]
            if pl_ul is not None:
                pl_ul = pl_ul + o2i.extra_db[:, None]
        if self.shadowing:  # the mast's field at the device's position
            z = shadowing.shadow_field(x, y, site, los, shadowing.decorrelation_m(env, los),
                                       self._sf_waves)
            sf = z * pathloss.shadow_fading_std_db(env, los, h_ut[:, None], d2d_m=d2d,
                                                   fc_ghz=self.cell_fc[cc], h_bs_m=hb)
            pl = pl + sf
            if pl_ul is not None:
                pl_ul = pl_ul + sf
        # bearing from the cell to the device, for the sector pattern
        phi = geometry.bearing_deg(-dx, -dy) - self.cell_az[cc]
        zen = 90.0 + np.degrees(np.arctan2(dh, np.maximum(d2d, 1.0)))
        g_sector = antenna.column_gain_dbi(  # M = 1: the element, tilted
            phi, zen, tilt_deg=self.cell_tilt[cc], vertical_elements=self.vertical_elements,
            spacing_wavelengths=self.element_spacing_wavelengths)
        g_ant = np.where(self.cell_sect[cc], g_sector, 0.0)
        g_dl = 10.0 ** ((g_ant - pl) / 10.0)
        return g_dl, (g_dl if pl_ul is None else 10.0 ** ((g_ant - pl_ul) / 10.0))

    def _uma_effective_height_m(
        self, x: NDArray[np.float64], y: NDArray[np.float64], site: NDArray[np.int64],
        d2d: NDArray[np.float64], h_ut: NDArray[np.float64],
    ) -> NDArray[np.float64] | None:
        """UMa's effective environment height hE (m) of each link [n, k] (TR 38.901 Table
        7.4.1-1 Note 1, :func:`pathloss.uma_effective_height_m`), its uniform a spatially
        consistent one of the link's mast at the device's position (the LOS state's
        correlation distance: a moving device's links keep their hE over tens of metres);
        None where every link's is 1 m (not UMa, or no UE from 13.5 m up)."""
        if not self._he_waves.shape[0]:
            return None
        rows = np.flatnonzero((h_ut >= _HE_FROM_M) & (h_ut <= pathloss.UT_HEIGHT_RANGE_M[1]))
        if not rows.size:
            return None
        h_e = np.full(d2d.shape, 1.0)
        u = ndtr(shadowing.gaussian_field(
            x[rows], y[rows], site[rows], 0, shadowing.LOS_STATE_DECORRELATION_M["uma"],
            self._he_waves))
        h_e[rows] = pathloss.uma_effective_height_m(d2d[rows], h_ut[rows, None], u)
        return h_e
