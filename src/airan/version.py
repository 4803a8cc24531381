"""The installed airan version, from the package metadata (read once: the lookup costs ~1 ms,
which a short run would otherwise pay in every summary)."""

from __future__ import annotations

from functools import cache


@cache
def airan_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("airan")
    except PackageNotFoundError:
        return "0+unknown"
