"""The engine's per-device fields live as columns of one row per device (engine.state), which
the kernel reads through strided 1-D views; the prefetch hint follows a view's stride."""

from __future__ import annotations

import numpy as np
from numba import njit

from airan import load_scenario
from airan.compiled import prefetch
from airan.engine import Engine
from airan.engine.state import _ROW_BLOCKS


def test_a_devices_scheduler_fields_share_one_row_with_their_initial_values() -> None:
    st = Engine(load_scenario("factory"), duration_s=0.01)._st
    for width, names in _ROW_BLOCKS:
        block = getattr(st, names[0]).base
        assert block.shape[1] == width and block.shape[0] >= 2
        for name in names:
            col = getattr(st, name)
            assert col.base is block, name
            assert col.strides[0] == width * block.itemsize, name
    # the same starting values as separate arrays had
    assert np.all(st.ue_ul_head == -1) and np.all(st.ue_dl_tail == -1)
    assert np.all(st.ue_pf_w == 1.0) and np.all(st.ue_avg_thr == 1.0)
    assert np.all(st.act_ul_pos == -1) and np.all(st.ue_sent_ul == 0)
    # a write to one field leaves its neighbours in the row alone
    before = st.ue_ul_bits.base.copy()
    st.ue_ul_elig[3] = 7.5
    after = st.ue_ul_bits.base
    assert after[3, 1] == 7.5
    after[3, 1] = before[3, 1]
    assert np.array_equal(after, before)


@njit
def _prefetch_all_then_sum(col, i0, i1):
    for i in range(i0, i1):
        prefetch(col, i)  # out of range too: a hint never faults
    return col.sum()


def test_prefetch_takes_a_strided_column_and_changes_nothing() -> None:
    rows = np.arange(40.0).reshape(10, 4)
    col = rows[:, 2]
    assert _prefetch_all_then_sum(col, -5, 50) == col.sum() == 2 * 10 + 4 * 45
    assert np.array_equal(rows, np.arange(40.0).reshape(10, 4))


def test_a_one_device_scenario_reads_its_rows_through_the_same_strided_type() -> None:
    """A view of one element is contiguous to numpy whatever its stride: a spare row keeps the
    kernel's types those of every other scenario (no second compilation)."""
    import numba

    d = load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    d["fleets"] = [{**d["fleets"][0], "count": 1}]
    d["services"] = [v for v in d["services"] if v["name"] in d["fleets"][0]["services"]]
    from airan.scenario import scenario_from_dict

    one = Engine(scenario_from_dict(d), duration_s=0.01)._st
    many = Engine(load_scenario("factory"), duration_s=0.01)._st
    for _, names in _ROW_BLOCKS:
        for name in names:
            assert numba.typeof(getattr(one, name)) == numba.typeof(getattr(many, name)), name
    assert numba.typeof(one.ue_ul_bits).layout == "A"


def test_a_one_cell_scenario_reads_its_cells_rows_and_reports_one_cell() -> None:
    """The spare row of a one-cell scenario keeps the kernel's types and stays out of the
    cells' figures (the summary's, the cells table's, the AI-RAN share's)."""
    import numba
    from one_cell import one_cell_site

    from airan.scenario import scenario_from_dict

    d = one_cell_site(sectors=1)
    d["ai_ran"] = {"mode": "dynamic"}
    eng = Engine(scenario_from_dict(d), duration_s=0.2)
    many = Engine(load_scenario("factory"), duration_s=0.01)._st
    for _, names in _ROW_BLOCKS:
        for name in names:
            assert numba.typeof(getattr(eng._st, name)) == numba.typeof(getattr(many, name))
    s = eng.run().summary
    assert s["cells"]["count"] == 1
    assert eng.cell_table().num_rows == 1
    assert s["sites"]["edge"]["ai_ran"]["l1_gpu_hours"] > 0
