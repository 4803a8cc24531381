"""Gymnasium environments over the engine (``pip install 'airan[rl]'``).

``gymnasium.make("airan/Placement-v0", scenario="factory")`` or :class:`PlacementEnv`: an agent
places each service's requests per decision interval (see :mod:`airan.envs.placement`)."""

from __future__ import annotations

try:
    import gymnasium
except ImportError as exc:  # pragma: no cover - the optional dependency missing
    raise ImportError("airan.envs needs gymnasium: pip install 'airan[rl]'") from exc

from airan.envs.placement import BACKLOG_CAP_S, POLICY_TARGETS, PlacementEnv

__all__ = ["BACKLOG_CAP_S", "POLICY_TARGETS", "PlacementEnv"]

if "airan/Placement-v0" not in gymnasium.registry:
    gymnasium.register(id="airan/Placement-v0", entry_point="airan.envs:PlacementEnv")
