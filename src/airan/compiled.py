"""Helpers for numba-compiled code (the engine's kernel, compiled policies)."""

from __future__ import annotations

from typing import Any

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
    """Hint the CPU to load element ``i`` of C-contiguous ``arr`` (flat index) into its caches.

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
        ptr = builder.bitcast(builder.gep(ary.data, [idx]), i8p)
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [ptr, i32(0), i32(3), i32(1)])  # read, keep in all levels, data
        return context.get_dummy_value()

    return types.void(arr, i), codegen


# ---- borrowed StructRefs --------------------------------------------------------------------
# Numba counts references to a StructRef each time a function binds it to a name, and to an
# array each time one is read out of it: an atomic increment and decrement each (a locked
# instruction, which also waits for the CPU's pending stores), and most of the kernel's time
# in a small scenario. The kernel's entry points therefore hand their callees a Borrowed view:
# a plain pointer to a copy of the StructRef's fields, on the entry point's stack, whose arrays
# share the StructRef's memory but carry no reference count. It is valid for the entry point's
# call, while the caller's StructRef (which owns the arrays) lives; the kernel never replaces a
# field (a Borrowed view has no setattr: compiling one fails) and never returns a view of one
# (an array it returns is allocated in the call). numba's on-disk cache of a function is
# invalidated only by changes to its own source file: after changing this module, touch
# airan/engine/kernel.py (or clear its __pycache__) so that the kernel is compiled afresh.


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
    return imputils.impl_ret_borrowed(context, builder, typ.ref.field_dict[attr],
                                      getattr(data, attr))


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
        src = _Utils(context, builder, ref).get_data_struct(args[0])
        data_type = ref.get_data_type()
        ptr = cgutils.alloca_once(builder, context.get_value_type(data_type))
        dst = cgutils.create_struct_proxy(data_type)(context, builder, ref=ptr)
        for name, typ in fields.items():
            val = getattr(src, name)
            if isinstance(typ, types.Array):
                ary = context.make_array(typ)(context, builder, value=val)
                ary.meminfo = cgutils.get_null_value(ary.meminfo.type)
                val = ary._getvalue()
            setattr(dst, name, val)
        return ptr

    return Borrowed(ref)(ref), codegen
