"""airan: a fast, validated digital twin of AI-RAN (GPU base stations serving physical AI).

The public names are imported on first use (PEP 562), so that commands which only read files
(``airan report``, ``airan validate``) start without loading the compiled engine.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airan.api import run, scale_fleets, with_fields
    from airan.engine import Engine, Result
    from airan.errors import InputError
    from airan.scenario import Scenario, load_scenario

_WHERE = {
    "run": "airan.api",
    "scale_fleets": "airan.api",
    "with_fields": "airan.api",
    "Engine": "airan.engine",
    "Result": "airan.engine",
    "InputError": "airan.errors",
    "Scenario": "airan.scenario",
    "load_scenario": "airan.scenario",
}

__all__ = ["Engine", "InputError", "Result", "Scenario", "load_scenario", "run", "scale_fleets",
           "with_fields"]


def __getattr__(name: str) -> Any:
    if name == "__version__":  # (the installed package's, as `airan --version` says it)
        from airan.version import airan_version

        return airan_version()
    if name in _WHERE:
        value = getattr(import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'airan' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE, "__version__"])
