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


@cache
def airan_code_hash() -> str:
    """SHA-256 of the installed package's code and data files (16 hex digits): what cached
    runs are keyed on besides the scenario, so that a change to the engine, the physics or a
    catalog never reuses results it would not give (the version alone stays the same between
    releases)."""
    import hashlib
    from pathlib import Path

    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".yaml", ".yml", ".json")
                    and "__pycache__" not in p.parts):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def code_identity() -> dict[str, str]:
    """What a cached or resumable run is keyed on besides its scenario: the airan version and
    :func:`airan_code_hash` (the planner's cache and a sweep's run keys both hold it)."""
    return {"airan": airan_version(), "code": airan_code_hash()}
