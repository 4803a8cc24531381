"""The Gymnasium environment: an agent's placements run the same engine as a policy's.

Holding one built-in policy for every service is that policy's run, request for request; the
rewards add up to the run's outcomes; the same seed and actions give the same episode."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

gym = pytest.importorskip("gymnasium", reason="gymnasium (pip install 'airan[rl]') is absent")

import airan  # noqa: E402
from airan.envs import POLICY_TARGETS, PlacementEnv  # noqa: E402
from airan.errors import InputError  # noqa: E402

DURATION_S = 0.6


def _episode(env: PlacementEnv, action: Any, seed: int) -> tuple[list[Any], list[float]]:
    obs, _ = env.reset(seed=seed)
    seen, rewards = [obs], []
    truncated = False
    while not truncated:
        obs, reward, terminated, truncated, _ = env.step(action)
        assert not terminated
        seen.append(obs)
        rewards.append(reward)
    return seen, rewards


def test_the_environment_passes_gymnasiums_checks() -> None:
    from gymnasium.utils.env_checker import check_env

    env = PlacementEnv("factory", duration_s=0.05)
    check_env(env, skip_render_check=True)
    assert env.targets[: 1 + len(POLICY_TARGETS)] == ["local", *POLICY_TARGETS]
    assert env.targets[1 + len(POLICY_TARGETS):] == [f"site:{n}" for n in env.site_names]
    made = gym.make("airan/Placement-v0", scenario="factory", duration_s=0.05)
    assert made.unwrapped.service_names == env.service_names


@pytest.mark.parametrize("policy", ["nearest-edge", "deadline-aware", "local"])
def test_one_policy_for_every_service_is_that_policys_run(policy: str) -> None:
    env = PlacementEnv("factory", duration_s=DURATION_S)
    action = [env.targets.index(policy)] * len(env.service_names)
    _, rewards = _episode(env, action, seed=3)
    got = env.result().summary
    want = airan.run("factory", policy=policy, duration_s=DURATION_S, seed=3).summary
    assert got["requests"] == want["requests"]
    for name in env.service_names:
        assert got["services"][name]["latency_ms"] == want["services"][name]["latency_ms"]
        assert got["services"][name]["breakdown_ms"] == want["services"][name]["breakdown_ms"]
    # the rewards: +1 met, -1 late or dropped, as they ended, and -1 for each request still
    # in flight past its deadline at the end
    r = got["requests"]
    assert sum(rewards) == r["met"] - r["late"] - r["dropped"] - r["overdue"]


def test_a_site_named_for_a_service_takes_all_its_requests() -> None:
    env = PlacementEnv("factory", duration_s=0.3)
    action = [env.targets.index("local")] * len(env.service_names)
    action[env.service_names.index("vla")] = env.targets.index(f"site:{env.site_names[0]}")
    action[env.service_names.index("detect")] = env.targets.index("site:cloud")  # (not the
    # policy "cloud", which would send them to the same site here)
    _episode(env, action, seed=1)
    t = env.result().requests.to_pydict()
    svc, where = np.asarray(t["service"]), np.asarray(t["placement"])
    assert set(where[svc == "vla"]) == {env.site_names[0]}
    assert set(where[svc == "detect"]) == {"cloud"}
    assert set(where[svc == "inspect"]) == {"local"}


def test_the_same_seed_and_actions_give_the_same_episode() -> None:
    env = PlacementEnv("factory", duration_s=0.2, step_s=0.01)
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(20)]

    def play(seed: int) -> tuple[list[Any], list[float]]:
        obs, _ = env.reset(seed=seed)
        seen, rewards = [obs], []
        for a in actions:
            obs, reward, _, truncated, _ = env.step(a)
            seen.append(obs)
            rewards.append(reward)
            if truncated:
                break
        return seen, rewards

    a_obs, a_rew = play(5)
    b_obs, b_rew = play(5)
    assert a_rew == b_rew
    for x, y in zip(a_obs, b_obs, strict=True):
        for k in x:
            assert np.array_equal(x[k], y[k]), k
    c_obs, _ = play(6)
    assert any(not np.array_equal(x["outcomes"], y["outcomes"])
               for x, y in zip(a_obs, c_obs, strict=True))
    assert env.step_s == pytest.approx(0.01)


def test_an_observation_counts_the_steps_arrivals_and_outcomes() -> None:
    env = PlacementEnv("factory", duration_s=0.5, step_s=0.05)
    action = [env.targets.index("deadline-aware")] * len(env.service_names)
    env.reset(seed=2)
    created = ended = 0
    truncated = False
    while not truncated:
        obs, _, _, truncated, info = env.step(action)
        assert obs in env.observation_space
        assert obs["arrivals_per_s"].sum() * env.step_s == pytest.approx(info["created"])
        assert obs["outcomes"].sum() == info["met"] + info["late"] + info["dropped"]
        created += info["created"]
        ended += info["met"] + info["late"] + info["dropped"]
    r = env.result().summary["requests"]
    assert created == r["created"] and ended == r["created"] - r["in_flight"]


def test_bad_actions_and_settings_are_one_clear_error() -> None:
    env = PlacementEnv("factory", duration_s=0.05)
    env.reset(seed=1)
    with pytest.raises(InputError, match="action"):
        env.step([99] * len(env.service_names))
    with pytest.raises(InputError, match="action"):
        env.step([0])
    with pytest.raises(InputError, match="step_s"):
        PlacementEnv("factory", step_s=0.0071)
    with pytest.raises(InputError, match="reward_weights"):
        PlacementEnv("factory", reward_weights=(1.0, -1.0))


def test_a_built_in_with_no_site_up_drops_as_in_its_run() -> None:
    """With every edge site down, nearest-edge has nowhere to send: its run drops those
    requests site_failure; held in the environment it did so as admission (a review of the
    diff: the rewards matched, the summaries did not)."""
    from airan.scenario import load_scenario, scenario_from_dict

    d = load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    d["faults"] = [{"kind": "site_down", "site": site, "start_s": 0.1, "end_s": 0.3}
                   for site in ("on-prem", "regional")]
    sc = scenario_from_dict(d)
    env = PlacementEnv(sc, duration_s=0.4)
    _episode(env, [env.targets.index("nearest-edge")] * len(env.service_names), seed=3)
    got = env.result().summary["requests"]
    want = airan.run(sc, policy="nearest-edge", duration_s=0.4, seed=3).summary["requests"]
    assert got == want
    assert got["dropped_by_reason"].get("site_failure", 0) > 0
    assert "admission" not in got["dropped_by_reason"]


def test_requests_left_overdue_at_the_end_cost_as_late() -> None:
    """A researcher's review: the reward preferred a policy that left 450 requests queued past
    their deadline over one that ended them. At the end they count as late, as compare's
    hit_ratio_with_overdue counts them; the observation shows them all along."""
    from airan.api import scale_fleets
    from airan.scenario import load_scenario

    env = PlacementEnv(scale_fleets(load_scenario("factory"), 3), duration_s=0.6)
    action = [env.targets.index("deadline-aware")] * len(env.service_names)
    action[env.service_names.index("detect")] = env.targets.index("nearest-edge")
    seen, rewards = _episode(env, action, seed=1)
    r = env.result().summary["requests"]
    assert r["overdue"] > 0
    assert seen[-1]["overdue"].sum() == r["overdue"]
    assert sum(rewards) == r["met"] - r["late"] - r["dropped"] - r["overdue"]


def test_a_float_action_is_refused_not_cut_to_an_int() -> None:
    """A network's output passed by mistake ran as its integer parts (a researcher's review)."""
    env = PlacementEnv("factory", duration_s=0.05)
    env.reset(seed=1)
    n = len(env.service_names)
    for bad in ([4.7] * n, [True] * n, ["deadline-aware"] * n):
        with pytest.raises(InputError, match="env.unwrapped.targets names them"):
            env.step(bad)
    env.step(np.array([4] * n, dtype=np.int32))  # any integer type


def test_a_last_step_shorter_than_the_others_gives_its_own_rate() -> None:
    """23 ms in steps of 10 ms: the last lasts 3 ms, and its arrivals are a rate over those."""
    env = PlacementEnv("factory", duration_s=0.023, step_s=0.01)
    env.reset(seed=1)
    action = [env.targets.index("local")] * len(env.service_names)
    for _ in range(3):
        before = env._engine.now_s  # type: ignore[union-attr]
        obs, _, _, truncated, info = env.step(action)
        span = env._engine.now_s - before  # type: ignore[union-attr]
        assert obs["arrivals_per_s"].sum() * span == pytest.approx(info["created"])
    assert truncated and span == pytest.approx(0.003)


def test_the_environment_scales_fleets_and_names_its_links() -> None:
    env = PlacementEnv("factory", duration_s=0.05, fleet_scale=2, step_s=np.float32(0.01))
    base = PlacementEnv("factory", duration_s=0.05)
    assert sum(f.count for f in env.scenario.fleets) == 2 * sum(
        f.count for f in base.scenario.fleets)
    obs, _ = env.reset(seed=1)
    assert len(env.link_names) == obs["link_backlog_s"].shape[0]
    assert all("->" in n for n in env.link_names)
    assert obs["site_model_backlog_s"].shape == (len(env.site_names), len(env.model_names))
    assert env.deadline_s[env.service_names.index("detect")] == pytest.approx(0.05)
    _episode(env, [0] * len(env.service_names), seed=1)
    assert env.result().summary["fleet_scale"] == 2.0


def test_the_cells_prb_use_per_step_averages_to_the_runs_own() -> None:
    """Each step's PRB use per cell (the devices', per slot of each direction) over a run of
    equal steps (5 ms: two DDDSU periods, the same slots in each) averages to the run's
    figure in its summary (cells.mean_prb_utilization_ul / _dl, over every cell)."""
    env = PlacementEnv("city", duration_s=0.5, step_s=0.005)
    action = [env.targets.index("nearest-edge")] * len(env.service_names)
    obs, _ = env.reset(seed=1)
    assert obs["cell_prb_use_ul"].shape == (len(env.cell_names),)
    ul, dl = [], []
    truncated = False
    while not truncated:
        obs, _, _, truncated, _ = env.step(action)
        assert obs in env.observation_space
        ul.append(obs["cell_prb_use_ul"])
        dl.append(obs["cell_prb_use_dl"])
    cells = env.result().summary["cells"]
    assert float(np.mean(ul)) == pytest.approx(cells["mean_prb_utilization_ul"], rel=1e-5)
    assert float(np.mean(dl)) == pytest.approx(cells["mean_prb_utilization_dl"], rel=1e-5)
    assert 0.0 < float(np.mean(ul)) < float(np.max(ul)) <= 1.0


def _vector_episodes(num_envs: int, episodes: int, seed: int | None, duration_s: float
                     ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Each reset's run seeds, and the copies' arrivals and rewards per step, over
    ``episodes`` episodes of a sync vector env, every copy deadline-aware throughout."""
    envs = gym.make_vec("airan/Placement-v0", num_envs=num_envs, vectorization_mode="sync",
                        scenario="factory", duration_s=duration_s)
    n_v = len(envs.get_attr("service_names")[0])
    action = np.full((num_envs, n_v), 1 + POLICY_TARGETS.index("deadline-aware"))
    obs, info = envs.reset(seed=seed)
    seeds, arrivals, rewards = [info["seed"]], [], []
    while len(seeds) <= episodes:
        obs, reward, _, _, info = envs.step(action)
        if "seed" in info:  # (next-step autoreset: every copy's episode ends together)
            assert info["_seed"].all()
            seeds.append(info["seed"])
        else:
            arrivals.append(obs["arrivals_per_s"])
            rewards.append(reward)
    envs.close()
    return seeds[:episodes], np.stack(arrivals, axis=1), np.stack(rewards, axis=1)


def test_a_vector_envs_copies_run_distinct_seeds_and_a_seeded_reset_reproduces() -> None:
    """A researcher's review: unseeded, a vector env's four copies all ran seed 1 (the
    scenario's), the same traffic, then seed 2 together; seeded 42, copy 0's second episode
    (43) was copy 1's first. Now an unseeded reset draws from entropy and each later episode
    from the copy's np_random: the copies differ, and reset(seed=s) reproduces its run."""
    seeds, arrivals, _ = _vector_episodes(4, 2, None, 0.1)
    every = np.concatenate(seeds)
    assert len(set(every.tolist())) == 8  # no two episodes share a run seed
    for i in range(4):
        for j in range(i):
            assert not np.array_equal(arrivals[i], arrivals[j]), (i, j)
    a_seeds, a_arrivals, a_rewards = _vector_episodes(4, 3, 42, 0.02)
    assert a_seeds[0].tolist() == [42, 43, 44, 45]  # (Gymnasium seeds copy i with 42 + i)
    later = np.concatenate(a_seeds[1:]).tolist()
    assert len(set(later)) == 8 and not set(later) & {42, 43, 44, 45}
    b_seeds, b_arrivals, b_rewards = _vector_episodes(4, 3, 42, 0.02)
    for x, y in zip(a_seeds, b_seeds, strict=True):
        assert x.tolist() == y.tolist()
    assert np.array_equal(a_arrivals, b_arrivals) and np.array_equal(a_rewards, b_rewards)
    c_seeds, *_ = _vector_episodes(4, 2, 46, 0.02)
    assert not set(np.concatenate(c_seeds).tolist()) & set(np.concatenate(a_seeds).tolist())


def test_an_episodes_info_seed_is_its_run_seed_for_airan_run() -> None:
    """After reset(seed=s) the next episodes' seeds are drawn from np_random, a function of
    s; info["seed"] names each, and airan.run on it gives the same run."""
    env = PlacementEnv("factory", duration_s=0.2)
    action = [env.targets.index("nearest-edge")] * len(env.service_names)
    _, info = env.reset(seed=3)
    assert info["seed"] == 3
    drawn = [env.reset()[1]["seed"] for _ in range(3)]
    env.reset(seed=3)
    assert [env.reset()[1]["seed"] for _ in range(3)] == drawn
    env.reset(seed=4)
    assert not set(drawn) & {env.reset()[1]["seed"] for _ in range(3)}
    fresh = [PlacementEnv("factory", duration_s=0.2).reset()[1]["seed"] for _ in range(2)]
    assert fresh[0] != fresh[1]  # unseeded: from entropy, not the scenario's seed each time
    env.reset(seed=3)
    _, info = env.reset()
    truncated = False
    while not truncated:
        *_, truncated, _ = env.step(action)
    got = env.result().summary["requests"]
    want = airan.run("factory", policy="nearest-edge", duration_s=0.2, seed=info["seed"])
    assert info["seed"] == drawn[0] and got == want.summary["requests"]


def test_the_action_mask_is_in_info_and_flattened_for_maskable_ppo() -> None:
    """A researcher's review: the README's env.action_mask raised AttributeError on the env
    gym.make returns, and no method nor info gave the mask. info["action_mask"] is the
    [service, target] mask; action_masks() (sb3-contrib's MaskablePPO calls it) is that
    flattened, service after service: the concatenation of the MultiDiscrete's masks."""
    env = gym.make("airan/Placement-v0", scenario="factory", duration_s=0.02)
    with pytest.raises(AttributeError):
        env.action_mask  # noqa: B018  (Gymnasium 1.x's wrappers forward no attributes)
    raw: PlacementEnv = env.unwrapped  # type: ignore[assignment]
    n_v, n_t = len(raw.service_names), len(raw.targets)
    assert env.action_space.nvec.tolist() == [n_t] * n_v
    _, info = env.reset(seed=1)
    mask = info["action_mask"]
    assert mask.dtype == bool and mask.shape == (n_v, n_t)
    assert not mask[raw.service_names.index("inspect"), raw.targets.index("local")]
    assert mask.sum() == n_v * n_t - 1  # (factory: every site serves every service)
    flat = env.get_wrapper_attr("action_masks")()
    assert flat.dtype == bool and flat.shape == (int(env.action_space.nvec.sum()),)
    assert np.array_equal(flat, np.concatenate([mask[v] for v in range(n_v)]))
    flat[:] = False  # (a copy: the env's own mask stays)
    assert raw.action_masks().sum() == n_v * n_t - 1
    env.action_space.seed(0)
    for _ in range(4):
        action = env.action_space.sample(mask=tuple(mask.astype(np.int8)))
        assert mask[np.arange(n_v), action].all()
        *_, info = env.step(action)
        assert np.array_equal(info["action_mask"], mask)
