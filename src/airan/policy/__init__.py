"""Placement policies: where each new request runs.

A policy is any callable ``policy(snapshot, batch) -> np.ndarray[int64]`` that returns, for every
request of the batch, a compute-site index (``0..n_sites-1``), ``LOCAL`` (-1, on the device),
``REJECT`` (-2, dropped at admission) or ``NO_SITE`` (-4, dropped for want of a site up:
``site_failure``). It sees a read-only :class:`Snapshot` of the engine taken at
the start of the decision interval, and must not loop in Python over requests: use numpy.

Built-ins are registered by name; users pass ``module:callable`` for their own (found on the
Python path or in the current directory).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from airan.errors import InputError
from airan.policy.base import (
    LOCAL,
    NO_SITE,
    REJECT,
    Batch,
    Snapshot,
    batch_wait_s,
    candidate_sites,
    compute_time_s,
    device_energy_j,
    estimate_latency_s,
    latency_parts_s,
    per_item_time_s,
    world_of,
)

Policy = Callable[[Snapshot, Batch], np.ndarray]

_REGISTRY: dict[str, Policy] = {}
P = TypeVar("P", bound=Callable[..., np.ndarray])


def register(name: str) -> Callable[[P], P]:
    """Decorator: make a policy available by ``name``."""

    def deco(fn: P) -> P:
        _REGISTRY[name] = fn
        return fn

    return deco


def policy_names() -> list[str]:
    return sorted(_REGISTRY)


def is_fixed_site(name: str) -> bool:
    """Whether ``name`` is ``site:NAME``, a built-in of one site (no module of one's own)."""
    return name.startswith("site:") and bool(name[5:].strip())


def is_known_policy(name: str) -> bool:
    return name in _REGISTRY or ":" in name


def unknown_policy(name: str) -> tuple[str, list[str] | None]:
    """The reason an unknown policy name gives and the names to suggest from: a dotted name
    without a colon is most likely a policy of one's own written as Python names a function
    elsewhere ('mypol.no_cloud'), so it is told the ``module:callable`` form instead of a
    built-in that happens to look alike."""
    module, dot, attr = name.rpartition(".")
    if ":" in name or not (dot and module and attr):
        return f"unknown policy {name!r}", policy_names()
    if attr == "py" or "/" in name or "\\" in name:  # a file, not a function in a module
        from pathlib import Path

        return (f"unknown policy {name!r}; a policy of one's own is named 'module:callable', "
                f"the module without '.py' and the function after a colon (e.g. "
                f"{Path(module if attr == 'py' else name).name}:<function>), run from its "
                "folder or with it on PYTHONPATH", None)
    if not module.replace(".", "").replace("_", "").isalnum() or module[0].isdigit():
        return f"unknown policy {name!r}", policy_names()  # ('3.5': no module name)
    return (f"unknown policy {name!r}; a policy of one's own is named 'module:callable': "
            f"did you mean {module}:{attr}?", None)


def _module_file_hint(mod_name: str, attr: str) -> str:
    """For a module named by its file ('mypol.py', 'path/to/mypol.py'): how to name it."""
    if not (mod_name.endswith(".py") or "/" in mod_name or "\\" in mod_name):
        return ""
    from pathlib import Path

    path = Path(mod_name)
    module = path.stem if path.suffix == ".py" else path.name
    folder = str(path.parent) if str(path.parent) not in ("", ".") else "its folder"
    return (f" (name the module, not its file: {module}:{attr}, run from {folder} or with it "
            "on PYTHONPATH)")


#: Per policy module airan imported, the modules that import added to ``sys.modules`` that are
#: the user's code: those of its own top-level package and any other module of the user's
#: (:func:`airan.policy.files.is_user_source`: not the standard library's, an installed
#: package's or airan's). What a fresh import runs again (see resolve_policy).
_IMPORTED_BY_AIRAN: dict[str, list[str]] = {}


def _import_user_module(mod_name: str, fresh: bool = False) -> Any:
    """Import a user's module, also from the current directory (as ``python -m`` would; the
    ``airan`` script alone does not search it), the way uvicorn and gunicorn find an app.
    ``fresh``: where airan imported it before, import it anew, with the modules of the user's
    that import brought in (a helper module beside it too, not only its own package's: a
    researcher's review), so that state they keep at module level starts over; a module the
    user's own code imported first is left as it is (a setting the script made on it stands),
    and so are installed packages (site-packages: numpy, torch, a policy library installed with
    pip other than the policy's own package), whose state is theirs."""
    own = _IMPORTED_BY_AIRAN.get(mod_name) if fresh else None
    if own is not None and mod_name in sys.modules:
        return _import_afresh(mod_name, own)
    if mod_name in sys.modules:
        return sys.modules[mod_name]
    if fresh and _IMPORTED_BY_AIRAN:  # its first import: helpers beside it that another
        return _import_afresh(mod_name, [])  # policy's import brought in start over too
    before = set(sys.modules)
    mod = _import_new(mod_name)
    _remember_imported(mod_name, before)
    return mod


def _policy_root(mod_name: str) -> str | None:
    """The folder holding the policy's top-level module or package: its own code and the
    helpers beside it, what a fresh import runs again (a library elsewhere on the path, an
    editable install, is left alone: a diff review found one that refuses a second
    registration failing on the second run)."""
    from airan.policy.files import find_source

    name = mod_name.partition(".")[0]
    file = getattr(sys.modules.get(name), "__file__", None)
    if not file:  # (not imported yet: where the import will find it)
        spec = find_source(name)
        file = spec.origin if spec is not None else None
    if not file:
        return None
    path = Path(file).resolve()
    return str(path.parent.parent if path.name == "__init__.py" else path.parent) + os.sep


def _under(module: Any, root: str | None) -> bool:
    file = getattr(module, "__file__", None)
    return bool(root and file and os.path.realpath(file).startswith(root))


def _remember_imported(mod_name: str, before: set[str]) -> None:
    """Note which modules airan's import of ``mod_name`` added that are the user's code: its
    own package's, and the user's source files beside it (:func:`_policy_root`)."""
    from airan.policy.files import in_package, is_user_source

    top = mod_name.partition(".")[0]
    if mod_name == "__main__" or top == "airan":
        return
    root = _policy_root(mod_name)
    _IMPORTED_BY_AIRAN[mod_name] = [
        n for n in list(sys.modules) if n not in before and (
            in_package(n, top) or (is_user_source(getattr(sys.modules[n], "__file__", None))
                                   and _under(sys.modules[n], root)))]


def _import_afresh(mod_name: str, own: list[str]) -> Any:
    """``mod_name`` imported anew: its modules taken out of ``sys.modules`` and the import run
    again, so that each runs once, after the modules it imports (reloading them in place ran a
    module before a helper it took a name from, which kept the old value). Its modules: those
    its import brought in (``own``), its whole package (imported first by the user's script or
    a sweep's listing, whose ``from . import helper`` kept the old helper: a diff review), and
    the helpers beside it that airan's import of another policy brought in (shared by two
    policies: the second started from the first's state). Where the import fails for want of
    its file (gone), the modules as they were; any other failure, a bad import in an edit
    too, the modules as they were and the policy's import error."""
    from airan.policy.files import find_source, in_package

    top = mod_name.partition(".")[0]
    root = _policy_root(mod_name)
    shared = {n for names in _IMPORTED_BY_AIRAN.values() for n in names
              if _under(sys.modules.get(n), root)}
    names = set(own) | shared | {n for n in sys.modules if in_package(n, top)}
    old = {n: sys.modules.pop(n) for n in sorted(names) if n in sys.modules}
    before = set(sys.modules)
    try:
        mod = _import_new(mod_name)
    except (ImportError, FileNotFoundError):
        _put_back(old, before)
        if mod_name in old and find_source(mod_name) is None:  # (its file gone: the code as
            return old[mod_name]  # it was)
        raise
    except BaseException:
        _put_back(old, before)
        raise
    _remember_imported(mod_name, before)
    return mod


def _put_back(old: dict[str, Any], before: set[str]) -> None:
    """The modules ``old`` back in ``sys.modules`` (and as their parents' attributes), in place
    of the copies a failed fresh import made of them."""
    for name in [n for n in sys.modules if n not in before and n in old]:
        del sys.modules[name]
    sys.modules.update(old)
    for name, module in old.items():
        parent, _, child = name.rpartition(".")
        if parent in sys.modules:
            with contextlib.suppress(AttributeError, TypeError):
                setattr(sys.modules[parent], child, module)


def _import_new(mod_name: str) -> Any:
    try:
        return importlib.import_module(mod_name)
    except ModuleNotFoundError as exc:
        cwd = os.getcwd()
        if exc.name != mod_name.partition(".")[0] or cwd in sys.path or "" in sys.path:
            raise
        sys.path.insert(0, cwd)
        return importlib.import_module(mod_name)


POLICY_CONTRACT = "a policy takes (snapshot, batch) and returns an int array (one per request)"


def checked_placements(place: Any, n: int, n_sites: int, name: str, when: str) -> np.ndarray:
    """A policy's answer for a batch of ``n`` requests as placements (int64): one integer
    each, a site (0 .. ``n_sites`` - 1), LOCAL, REJECT or NO_SITE; else the input error that
    says what came back (``when``: the batch and time, " for the batch of 12 at t = 1.2 s").
    The twin's engine and the live gateway check alike (a live integrator's review: the
    gateway took a float and one index too many, and an index past the sites failed as an
    IndexError of the gateway's)."""
    arr = np.asarray(place)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer):
        nan = (np.issubdtype(arr.dtype, np.floating) and arr.size
               and bool(np.isnan(arr).any()))
        raise InputError(
            f"policy must return {n} integers, got shape {arr.shape} and dtype {arr.dtype}"
            f"{' (with NaN)' if nan else ''}{when}", field="policy", value=name)
    # (checked before the cast: 2**64 - 1 unsigned would become -1, local)
    bad = arr >= n_sites if arr.dtype.kind == "u" else (arr >= n_sites) | (
        (arr < REJECT) & (arr != NO_SITE))
    if bad.any():
        raise InputError(
            f"policy returned an invalid placement {int(arr[bad][0])} (sites "
            f"0..{n_sites - 1}, {LOCAL} local, {REJECT} reject, {NO_SITE} no site up){when}",
            field="policy", value=name)
    return arr.astype(np.int64)


def policy_failed(exc: BaseException, name: str, when: str = "") -> InputError:
    """The input error for a user's policy ``name`` that raised ``exc``: one line naming the
    error and where in the user's code (not a traceback); ``when``: the call's batch and time
    (" on a batch of 12 at t = 1.2345 s")."""
    hint = POLICY_CONTRACT
    if isinstance(exc, ValueError | AttributeError) and "read-only" in str(exc):
        hint = ("snapshot.world is read-only: a policy changes the run only by its answer "
                "(copy an array to change it: np.array(snapshot.world.svc_deadline_s))")
    return InputError(
        f"calling the policy with (snapshot, batch){when} raised {type(exc).__name__}: {exc}"
        f"{_user_frame(exc)}; {hint}", field="policy", value=name)


def _user_frame(exc: BaseException) -> str:
    """`` (at FILE:LINE in FUNCTION)``: the deepest frame of ``exc``'s traceback outside numpy
    and airan, where a user's policy failed ('' when there is none)."""
    import traceback

    import airan

    ours = tuple(os.path.dirname(m.__file__) + os.sep for m in (airan, np) if m.__file__)
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(ours) and not f.filename.startswith("<frozen")]
    if not frames:
        return ""
    f = frames[-1]
    return f" (at {f.filename}:{f.lineno} in {f.name})"


def _check_signature(fn: Any, name: str) -> None:
    """An :class:`InputError` if ``fn`` cannot be called with two positional arguments (where
    its signature can be read: some built-in callables have none, and are called as they are)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    try:
        sig.bind(None, None)
    except TypeError:
        raise InputError(f"{name!r} is not a policy: its signature is {sig}; {POLICY_CONTRACT}",
                         field="policy", value=name) from None


def policy_label(fn: Any) -> str:
    """The name a policy function passed in Python runs under (summary, run folder):
    ``module:qualname``, as a scenario would name it. A callable object (a learned agent, an
    instance with ``__call__``; a ``functools.partial``) by the module-level name bound to it,
    ``module:name``, which loads it back (a researcher's review: ``mypol:Agent()`` for
    ``mypol.agent``, and the run folder's scenario.yaml ran deadline-aware); where no module
    names it (made in a function, a notebook's cell), ``module:Class()``, which names its class
    but loads nothing back (the run folder says so)."""
    qualname = getattr(fn, "__qualname__", None)
    if isinstance(qualname, str) and qualname:
        return f"{getattr(fn, '__module__', None) or '?'}:{qualname}"
    bound = _module_level_name(fn)
    if bound is not None:
        return bound
    return f"{getattr(fn, '__module__', None) or '?'}:{type(fn).__qualname__}()"


def _module_level_name(obj: Any) -> str | None:
    """``module:name`` for a public module-level name bound to ``obj`` itself: looked for in
    its class's module first, then in the user's own modules (an agent made in ``mypol`` from
    a class imported from elsewhere), a script's ``__main__`` last; None where none is."""
    from airan.policy.files import is_user_source

    home = getattr(type(obj), "__module__", None)
    mains = [m for m in ("__main__", "__mp_main__") if m in sys.modules]
    order = [home] if isinstance(home, str) and home not in mains else []
    order += sorted(n for n, m in list(sys.modules.items())
                    if n not in order and n not in mains
                    and is_user_source(getattr(m, "__file__", None)))
    for module_name in [*order, *mains]:
        module = sys.modules.get(module_name)
        try:
            items = list(vars(module).items()) if module is not None else []
        except TypeError:
            continue
        for name, value in items:
            if value is obj and not name.startswith("_"):
                return f"{module_name}:{name}"
    return None


def as_policy(fn: Any, name: str) -> Policy:
    """A policy function passed in Python, checked as a ``module:callable`` one is."""
    _check_signature(fn, name)
    return fn  # type: ignore[no-any-return]


POLICY_PARAMS_FORM = ("a policy's parameters are keyword arguments of literal values: "
                      "'module:callable(name=value, ...)', e.g. 'mypol:nearest(thr=0.01)'")


def canonical_policy(text: Any) -> Any:
    """A ``module:callable(k=v, ...)`` policy written one way: its keywords sorted, each value
    as Python writes it, so that ``(a=1,b=2)``, ``(b=2, a=1)`` and ``(a=1, b=0x2)`` are one
    run and one sweep key (a diff review: spacing, order and quoting made another run of the
    same policy); any other text as given (its errors are the policy check's)."""
    if not isinstance(text, str) or ":" not in text or "(" not in text:
        return text
    module, _, call = text.partition(":")
    try:
        fn, params = policy_params(call, text)
    except InputError:
        return text
    return f"{module.strip()}:{fn}(" + ", ".join(f"{k}={params[k]!r}" for k in sorted(params)) \
        + ")"


def policy_params(call: str, name: str) -> tuple[str, dict[str, Any]]:
    """The callable's name and keyword arguments of a ``module:callable(k=v, ...)`` policy's
    part after the colon (``call``; ``name``: the whole, for the error): literal values only
    (numbers, strings, True/False/None, lists, tuples and dicts of them), read, not run, so
    that a sweep can take a parameter of one's own policy as an axis (a researcher's review:
    a threshold needed one module-level function per value). ``(call, {})`` without
    parentheses; an :class:`InputError` naming ``policy`` for any other form."""
    if "(" not in call and ")" not in call:
        return call, {}
    import ast

    try:
        node = ast.parse(call.strip(), mode="eval").body
    except SyntaxError:
        node = None
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or node.args \
            or any(k.arg is None for k in node.keywords):
        raise InputError(f"cannot read {call!r}: {POLICY_PARAMS_FORM}", field="policy",
                         value=name)
    # (a diff review: Python reads identifiers NFKC-normalised, so a name written with a
    # ligature called another function; and a keyword given twice took its last value)
    if node.func.id != call.strip().partition("(")[0].strip():
        raise InputError(f"the callable's name in {call!r} reads as {node.func.id!r} (Python "
                         "normalises names, NFKC): write it as the module defines it",
                         field="policy", value=name)
    given = [str(k.arg) for k in node.keywords]
    twice = sorted({k for k in given if given.count(k) > 1})
    if twice:
        raise InputError(f"{', '.join(twice)} given twice in {call!r}", field="policy",
                         value=name)
    params: dict[str, Any] = {}
    for k in node.keywords:
        try:
            params[str(k.arg)] = ast.literal_eval(k.value)
        except (ValueError, TypeError, SyntaxError, RecursionError):
            raise InputError(
                f"the value of {k.arg!r} in {call!r} is not a literal (a number, a string, "
                f"True, False, None, or a list of them): {POLICY_PARAMS_FORM}",
                field="policy", value=name) from None
    return node.func.id, params


def _check_params(fn: Any, params: dict[str, Any], name: str) -> None:
    """An :class:`InputError` where ``fn`` cannot take keyword arguments ``params`` after
    (snapshot, batch): a misspelt parameter, one it does not have (where its signature can be
    read)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    try:
        sig.bind(None, None, **params)
    except TypeError as exc:
        unknown = [k for k in params if k not in sig.parameters]
        raise InputError(f"policy {name!r} cannot take these keyword arguments ({exc}); its "
                         f"signature is {sig}", field="policy",
                         value=unknown[0] if unknown else name,
                         choices=list(sig.parameters)[2:]) from None


def resolve_policy(name: str, fresh: bool = False) -> Policy:
    """A registered policy by name, or ``package.module:callable``; ``fresh``: that module
    imported afresh (its code run again where it was imported already), as each run does, so
    that state it keeps at module level does not carry from one run to the next (a compare or
    a sweep runs many in one process: the results depended on their order)."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    if is_fixed_site(name):  # (Python's own 'site' module holds no policy)
        from airan.policy.builtin import fixed_site

        return fixed_site(name[5:].strip())
    if ":" in name:
        mod_name, _, call = name.partition(":")
        if not mod_name or not call or mod_name.startswith("."):
            raise InputError(
                "a policy outside airan is named 'package.module:callable' (an absolute module "
                "path and a name in it)", field="policy", value=name)
        attr, params = policy_params(call, name)
        try:
            mod = _import_user_module(mod_name, fresh)
        except ImportError as exc:
            raise InputError(
                f"cannot import policy module {mod_name!r}: {exc}"
                f"{_module_file_hint(mod_name, attr)}", field="policy", value=name
            ) from None
        except Exception as exc:  # the user's module failed as it loaded (SyntaxError too)
            raise InputError(
                f"importing policy module {mod_name!r} raised {type(exc).__name__}: {exc}"
                f"{'' if isinstance(exc, SyntaxError) else _user_frame(exc)}",
                field="policy", value=name) from None
        fn = getattr(mod, attr, None)
        if not callable(fn):
            raise InputError(
                f"{attr!r} is not a callable in {mod_name!r}", field="policy", value=name
            )
        if params:
            _check_params(fn, params, name)
            fn = functools.partial(fn, **params)
        _check_signature(fn, name)
        return fn  # type: ignore[no-any-return]
    reason, choices = unknown_policy(name)
    raise InputError(reason, field="policy", value=name, choices=choices)


from airan.policy import builtin as _builtin  # noqa: E402,F401  (registers the built-ins)

#: the built-in policies (airan's own): one of them that fails is a bug in airan; any other, a
#: ``module:callable`` or one registered with :func:`register`, is the user's
BUILTIN_POLICIES = frozenset(_REGISTRY)


def is_builtin_policy(name: str, fn: Any) -> bool:
    """Whether ``fn``, run under ``name``, is airan's own built-in policy of that name."""
    return name in BUILTIN_POLICIES and _builtin_fns.get(name) is fn


_builtin_fns = dict(_REGISTRY)

__all__ = [
    "LOCAL",
    "NO_SITE",
    "POLICY_CONTRACT",
    "REJECT",
    "Batch",
    "Policy",
    "Snapshot",
    "as_policy",
    "policy_failed",
    "unknown_policy",
    "batch_wait_s",
    "candidate_sites",
    "compute_time_s",
    "device_energy_j",
    "estimate_latency_s",
    "latency_parts_s",
    "per_item_time_s",
    "world_of",
    "is_builtin_policy",
    "is_fixed_site",
    "is_known_policy",
    "policy_label",
    "policy_names",
    "policy_params",
    "register",
    "resolve_policy",
]
