"""Helpers for numba-compiled code (the engine's kernel, compiled policies).

Importing this module also keys numba's on-disk cache of airan's compiled functions on the code
they import (see :func:`_stamp_cache_with_imported_code`): import it before any
``@njit(cache=True)`` in airan.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path
from typing import Any

import numba.core.caching as _caching
from llvmlite import ir
from numba import types
from numba.core import cgutils, imputils
from numba.core.datamodel import models
from numba.core.errors import TypingError
from numba.core.typing.templates import AttributeTemplate
from numba.experimental.structref import _Utils
from numba.extending import infer_getattr, intrinsic, lower_getattr_generic, register_model


@intrinsic
def prefetch(typingctx, arr, i):
    """Hint the CPU to load element ``i`` of ``arr`` into its caches: a flat index of a
    C-contiguous array, or an index of a strided 1-D one.

    Only a hint (``llvm.prefetch``): it never faults, even out of bounds, and changes no result.
    The kernel's random reads (a device's rows, a request's row) miss the caches at metro scale;
    issued a few items ahead, their latency overlaps the work on the current item.
    """
    if not isinstance(arr, types.Array) or not isinstance(i, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        idx = context.cast(builder, args[1], sig.args[1], types.intp)
        i8p = ir.IntType(8).as_pointer()
        if sig.args[0].layout == "C" or sig.args[0].ndim != 1:
            ptr = builder.bitcast(builder.gep(ary.data, [idx]), i8p)
        else:  # a strided 1-D view (a column of rows, engine.state): idx times its stride
            stride = cgutils.unpack_tuple(builder, ary.strides, 1)[0]
            ptr = builder.gep(builder.bitcast(ary.data, i8p), [builder.mul(idx, stride)])
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [ptr, i32(0), i32(3), i32(1)])  # read, keep in all levels, data
        return context.get_dummy_value()

    return types.void(arr, i), codegen


# ---- the on-disk cache ------------------------------------------------------------------------
_PACKAGE_ROOT = Path(__file__).resolve().parent


def _module_file(name: str, root: Path) -> Path | None:
    """The file of module ``name`` (``airan.x.y``) under the package folder ``root``."""
    base = root.joinpath(*name.split(".")[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def import_closure(py_file: Path, root: Path = _PACKAGE_ROOT) -> set[Path]:
    """``py_file`` and every file of the package (folder ``root``, named ``airan``) that it
    imports, directly or through others (any ``import airan...`` or ``from airan... import``
    anywhere in a file, a function's own included)."""
    seen: set[Path] = set()
    todo = [py_file.resolve()]
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        stat = f.stat()
        todo += _imported_files(f, root, stat.st_mtime_ns, stat.st_size)
    return seen


#: ``import x[ as y][, airan.z]`` and ``from airan.x import a[ as b], c`` (the names in
#: parentheses over several lines too), at any indent or after a ``;`` or a ``:`` (a one-line
#: ``if``, ``try`` or ``def``), in a text whose comments and line continuations are removed
_IMPORT = re.compile(r"(?:^|[;:])[ \t\f]*import\b[ \t]*([^\n;]*)"
                     r"|(?:^|[;:])[ \t\f]*from[ \t]+(airan(?:[ \t]*\.[ \t]*\w+)*)[ \t]*import\b"
                     r"[ \t]*(\([^)]*\)|[^\n;]*)", re.MULTILINE)


@cache
def _imported_files(py_file: Path, root: Path, mtime_ns: int, size: int) -> list[Path]:
    """The files of the package (folder ``root``) that ``py_file`` imports itself: read once
    per version of the file (its modification time and size), however many closures share it
    (each of airan's compiled modules asks for its closure when numba loads its cache: parsing
    every file per module cost ~0.5 s a start). A scan of the text, not a parse (``ast.parse``
    of the 56 files under the policies took 0.6 s of every command's start): a line of a
    string that reads as an import is counted too, which stamps a file more (a recompile),
    never one fewer (a stale kernel); tests hold it to Python's parser over airan's files."""
    text = re.sub(r"#[^\n]*", "", py_file.read_text(encoding="utf-8").replace("\\\n", " "))
    names: set[str] = set()
    for plain, module, imported in _IMPORT.findall(text):
        if plain:
            plain = re.sub(r"\s*\.\s*", ".", plain)
            names |= {a.split()[0] for a in plain.split(",") if a.split()
                      and a.split()[0].split(".")[0] == "airan"}
        else:
            module = re.sub(r"\s", "", module)
            names.add(module)  # and the names it imports, where they are modules
            for a in imported.strip().strip("()").split(","):
                if a.split():
                    names.add(f"{module}.{a.split()[0]}")
    return [m.resolve() for m in (_module_file(n, root) for n in sorted(names)) if m is not None]


@cache
def source_stamp(py_file: str, root: Path = _PACKAGE_ROOT) -> str:
    """SHA-256 (16 hex digits) of the contents of ``py_file``'s import closure."""
    h = hashlib.sha256()
    for f in sorted(import_closure(Path(py_file), root)):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _package_stamped(base: type) -> type:
    """numba's cache locator ``base``, for the functions of airan's own files, stamped with
    :func:`source_stamp` of the function's file instead of a stamp of that file alone."""

    class PackageStamped(base):  # type: ignore[misc, valid-type]
        airan = True

        def get_source_stamp(self) -> str:
            return f"airan-{source_stamp(self._py_file)}"

        @classmethod
        def from_function(cls, py_func: Any, py_file: str) -> Any:
            try:
                ours = Path(py_file).resolve().is_relative_to(_PACKAGE_ROOT)
            except (OSError, ValueError):
                ours = False
            return super().from_function(py_func, py_file) if ours else None

    PackageStamped.__name__ = PackageStamped.__qualname__ = f"Airan{base.__name__}"
    return PackageStamped


def _stamp_cache_with_imported_code() -> None:
    """numba keeps a compiled function on disk until its own source file changes, though it
    bakes in what it reads from other modules: a constant of radio.nr, a roofline function.
    After a change to one of those alone (a ``git pull`` into an editable install), the kernel
    ran stale code. airan's functions are therefore cached under the contents of their file
    and of every airan file it imports: a change to any of those compiles them afresh (a
    change elsewhere, to the CLI say, does not). Not covered: ``NUMBA_CACHE_LOCATOR_CLASSES``
    (which replaces numba's locators, these included) and airan imported from a zip archive
    (numba's zip locator stamps the function's own file)."""
    classes = getattr(getattr(_caching, "CacheImpl", None), "_locator_classes", None)
    if classes is None or any(getattr(k, "airan", False) for k in classes):
        return  # (a numba without the hook: its own stamps; or registered already)
    bases = [getattr(_caching, n) for n in ("UserProvidedCacheLocator", "InTreeCacheLocator",
                                            "UserWideCacheLocator") if hasattr(_caching, n)]
    classes[:0] = [_package_stamped(b) for b in bases]


_stamp_cache_with_imported_code()


# ---- borrowed StructRefs --------------------------------------------------------------------
# Numba counts references to a StructRef each time a function binds it to a name, and to an
# array each time one is read out of it: an atomic increment and decrement each (a locked
# instruction, which also waits for the CPU's pending stores), and most of the kernel's time
# in a small scenario. The kernel's entry points therefore hand their callees a Borrowed view:
# a plain pointer to the StructRef's fields, whose arrays, read through it, carry no reference
# count. It is valid for the entry point's call, while the caller's StructRef (which owns the
# arrays) lives; the kernel never replaces a field (a Borrowed view has no setattr: compiling
# one fails) and never returns a view of one (an array it returns is allocated in the call).
# (The view once pointed to a copy of the fields on the entry point's stack, the references
# cleared as they were copied: a block of thousands of loads and stores that LLVM's instruction
# schedulers took 1-2 s to compile in each of the ~25 entry points, a third of the kernel's
# first compile, for no speed at run time: benchmarks/README.md, History.)


class Borrowed(types.Type):
    """The fields of StructRef type ``ref``, read through a pointer without reference counts."""

    def __init__(self, ref: types.StructRef) -> None:
        self.ref = ref
        super().__init__(name=f"Borrowed({ref})")


@register_model(Borrowed)
class _BorrowedModel(models.PrimitiveModel):  # type: ignore[misc]
    def __init__(self, dmm: Any, fe_type: Borrowed) -> None:
        data = dmm.lookup(fe_type.ref.get_data_type()).get_value_type()
        super().__init__(dmm, fe_type, data.as_pointer())


@infer_getattr
class _BorrowedAttribute(AttributeTemplate):  # type: ignore[misc]
    key = Borrowed

    def generic_resolve(self, typ: Borrowed, attr: str) -> Any:  # type: ignore[override]
        return typ.ref.field_dict.get(attr)


@lower_getattr_generic(Borrowed)
def _borrowed_getattr(context: Any, builder: Any, typ: Borrowed, val: Any, attr: str) -> Any:
    data = cgutils.create_struct_proxy(typ.ref.get_data_type())(context, builder, ref=val)
    field_type, value = typ.ref.field_dict[attr], getattr(data, attr)
    if isinstance(field_type, types.Array):  # the same array, with no reference count
        ary = context.make_array(field_type)(context, builder, value=value)
        ary.meminfo = cgutils.get_null_value(ary.meminfo.type)
        value = ary._getvalue()
    return imputils.impl_ret_borrowed(context, builder, field_type, value)


@intrinsic
def borrow(typingctx, ref):  # type: ignore[no-untyped-def]
    """A Borrowed view of StructRef ``ref`` (see above), valid until the calling function
    returns. Its fields must be arrays or scalars."""
    if not isinstance(ref, types.StructRef):
        return None
    fields = ref.field_dict
    for name, typ in fields.items():
        if not isinstance(typ, (types.Array, types.Number, types.Boolean)):
            raise TypingError(f"borrow: field {name!r} ({typ}) is neither an array nor a scalar")

    def codegen(context, builder, sig, args):
        return _Utils(context, builder, ref).get_data_pointer(args[0])

    return Borrowed(ref)(ref), codegen
