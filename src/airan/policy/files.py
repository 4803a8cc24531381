"""Which code a policy of one's own (``module:callable``) is made of: its module and the modules
of the user's that it imports, not the standard library's, an installed package's (in
site-packages: a library, whose state is its own) or airan's.

A run imports these afresh, so that state they keep at module level starts over (a researcher's
review: a counter in a helper module the policy imported carried from one run to the next, and
seed 2 gave other figures after seed 1), and a sweep's run key hashes them, so that an edit to a
helper is another run. Light on purpose: listing a sweep reads these files and runs none of them.
"""

from __future__ import annotations

import ast
import functools
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.machinery import ModuleSpec, PathFinder
from pathlib import Path

#: the most files one policy's imports are followed to (a guard against a huge source tree)
MAX_FILES = 500


@functools.lru_cache(maxsize=1)
def _library_roots() -> tuple[str, ...]:
    """The folders whose modules are not the user's: the standard library, site-packages (the
    environment's and the user's) and airan's own package."""
    import site
    import sysconfig

    roots = {p for k, p in sysconfig.get_paths().items()
             if k in ("stdlib", "platstdlib", "purelib", "platlib")}
    if hasattr(site, "getsitepackages"):
        roots.update(site.getsitepackages())
    if hasattr(site, "getusersitepackages"):
        roots.add(site.getusersitepackages())
    roots.add(str(Path(__file__).resolve().parents[1]))  # airan
    return tuple(os.path.realpath(r) + os.sep for r in roots if r)


def is_user_source(path: str | os.PathLike[str] | None) -> bool:
    """Whether ``path`` is a Python source file of the user's: a ``.py`` file outside the
    standard library, any ``site-packages`` or ``dist-packages`` folder and airan."""
    if not path or not str(path).endswith(".py"):
        return False
    real = os.path.realpath(path)
    parts = Path(real).parts
    if "site-packages" in parts or "dist-packages" in parts:
        return False
    return not real.startswith(_library_roots())


def in_package(name: str, top: str) -> bool:
    """Whether module ``name`` is ``top`` or a module of package ``top``."""
    return name == top or name.startswith(top + ".")


@contextmanager
def also_search(folder: str | os.PathLike[str] | None) -> Iterator[None]:
    """Within the block, a policy's modules are also looked for in ``folder`` (None: nowhere
    else), after the Python path: a sweep's ``module:callable`` beside its sweep file, found
    from any working folder as its scenario is (a researcher's review: ``airan sweep
    sw/sweep1.yaml`` found ``sw/scenario.yaml`` but not ``sw/mypol.py``). Its listing (the
    check, the run key's hash of the code) and its runs, here or in a Ray worker, look alike."""
    path = os.fspath(folder) if folder is not None else None
    if path is None or path in sys.path:
        yield
        return
    sys.path.append(path)
    try:
        yield
    finally:
        if path in sys.path:
            sys.path.remove(path)


def _search_path() -> list[str]:
    """Where a policy's modules are looked for: the Python path, then the current folder (as
    airan's policy loader also looks)."""
    cwd = os.getcwd()
    paths = [p or cwd for p in sys.path if isinstance(p, str)]
    return paths if cwd in paths else [*paths, cwd]


def find_source(name: str) -> ModuleSpec | None:
    """The spec of module ``name`` found by path alone, without running any code (a dotted
    name's parents are looked up by path too, not imported); None where it is not a module
    found on the path (a built-in one, a name in a module rather than a submodule)."""
    path = _search_path()
    parts = name.split(".")
    spec: ModuleSpec | None = None
    for i in range(len(parts)):
        try:
            spec = PathFinder.find_spec(".".join(parts[:i + 1]), path)
        except (ImportError, ValueError, OSError):
            return None
        if spec is None:
            return None
        if i < len(parts) - 1:
            if spec.submodule_search_locations is None:
                return None
            path = list(spec.submodule_search_locations)
    return spec


def _imported_names(path: Path, name: str) -> list[str]:
    """The modules file ``path`` (module ``name``) may import, anywhere in it (an import inside
    a function too): each dotted name's parents included, and ``from m import x``'s ``m.x`` in
    case ``x`` is a submodule. Empty where the file cannot be read or parsed."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return []
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: list[str] = []

    def add(dotted: str) -> None:
        parts = dotted.split(".")
        out.extend(".".join(parts[:i + 1]) for i in range(len(parts)))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".") if package else []
                if node.level - 1 > len(base_parts):
                    continue
                base_parts = base_parts[:len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            if not base:
                continue
            add(base)
            out.extend(f"{base}.{a.name}" for a in node.names if a.name != "*")
    return list(dict.fromkeys(out))


def policy_sources(module: str, path: Path) -> dict[str, Path]:
    """By module name, the source files of policy module ``module`` (its file ``path``): its
    own, its parent packages' ``__init__.py`` and, followed through their imports, every module
    of the user's (:func:`is_user_source`) or of its own top-level package they import. Read by
    path, not run; a module found only by running code (an import hook, ``importlib`` by a
    computed name) is not seen."""
    top = module.partition(".")[0]
    found: dict[str, Path] = {}
    todo: list[tuple[str, Path]] = [(module, path)]
    parts = module.split(".")
    for i in range(1, len(parts)):  # (importing a.b.c runs a's and a.b's __init__ first)
        parent = ".".join(parts[:i])
        spec = find_source(parent)
        if spec is not None and spec.origin and Path(spec.origin).is_file():
            todo.append((parent, Path(spec.origin)))
    while todo and len(found) < MAX_FILES:
        name, file = todo.pop(0)
        if name in found:
            continue
        found[name] = file
        for dep in _imported_names(file, name):
            if dep in found:
                continue
            spec = find_source(dep)
            origin = spec.origin if spec is not None else None
            if origin and origin.endswith(".py") and Path(origin).is_file() and (
                    is_user_source(origin) or in_package(dep, top)):
                todo.append((dep, Path(origin)))
    return found
