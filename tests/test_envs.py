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
    # the rewards: +1 met, -1 late or dropped, as they ended
    r = got["requests"]
    assert sum(rewards) == r["met"] - r["late"] - r["dropped"]


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
