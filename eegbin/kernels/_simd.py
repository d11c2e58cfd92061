"""Explicit 512-bit vectors for numba kernels (private to ``eegbin.kernels``).

LLVM's loop vectorizer follows the CPU's tuning: on Intel cores with AVX-512
(Ice Lake, Rocket Lake, Sapphire Rapids) that tuning prefers 256-bit vectors, so
a plain popcount loop compiles to ``vpopcntq ymm`` and processes half the bits
per instruction that ``vpopcntq zmm`` does (both issue once per cycle). The
types here are LLVM vectors of eight 64-bit lanes used directly in numba code;
the x86 backend lowers them to one zmm register each whatever the tuning
preference (512-bit vectors stay legal unless a function asks otherwise), and
to two ymm or four xmm registers on CPUs without AVX-512. Results never depend
on the CPU: every operation is lane-wise IEEE arithmetic or exact integer
arithmetic, and FMA is the explicit ``llvm.fma`` (one rounding), never a
contraction the compiler may or may not make.

Types: ``u64x8`` (eight uint64), ``f64x8`` (eight float64), ``mask8`` (eight
booleans). Operations (all inline in the calling numba function):

``load(a, i)`` / ``store(a, i, v)``
    Eight consecutive elements starting at element ``i`` (int) or at index
    tuple ``i`` of a C-contiguous uint64 / float64 array; the caller keeps the
    eight elements inside the array (kernels pad their buffers to 8).
``splat_u64(x)``, ``splat_f64(x)``, ``xor``, ``or_``, ``add``, ``sub``,
``mul``, ``div``, ``fma(a, b, c)`` (a * b + c, one rounding), ``popcount``,
``to_f64`` (int64 lanes -> float, exact for counts), ``to_i64``, ``floor``,
``absf``, ``ge`` / ``gt`` / ``lt`` / ``eq`` (float comparisons -> mask),
``select(m, a, b)``, ``mask_bits(m)`` (lane k -> bit k of a uint64),
``gather(address, idx)``, ``lookup32(t0, t1, t2, t3, idx)``, ``lane(v, k)``,
``transpose8(v0, ..., v7)`` (the 8 x 8 matrix whose rows are ``v0 .. v7``,
transposed: a tuple of its 8 columns, by 24 shuffles).
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, models, register_model

__all__ = []

LANES = 8


class _Vec(types.Type):
    """An LLVM vector of ``LANES`` elements of a numba scalar type."""

    def __init__(self, elem):
        self.elem = elem
        super().__init__(name=f"vec8({elem})")


u64x8 = _Vec(types.uint64)
f64x8 = _Vec(types.float64)
mask8 = _Vec(types.boolean)


@register_model(_Vec)
class _VecModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        elem = ir.IntType(1) if fe_type.elem == types.boolean else dmm.lookup(fe_type.elem).get_value_type()
        super().__init__(dmm, fe_type, ir.VectorType(elem, LANES))


def _ll(context, vt):
    return context.get_value_type(vt)


def _declare(builder, name, ret, args):
    return cgutils.get_or_insert_function(builder.module, ir.FunctionType(ret, args), name)


def _vec_of(dtype):
    if dtype == types.uint64:
        return u64x8
    if dtype == types.float64:
        return f64x8
    return None


def _element_pointer(context, builder, arrty, ary, idx_ty, idx):
    arr = context.make_array(arrty)(context, builder, ary)
    if isinstance(idx_ty, types.Integer):
        inds = [context.cast(builder, idx, idx_ty, types.intp)]
    else:
        inds = [context.cast(builder, v, t, types.intp) for v, t in zip(cgutils.unpack_tuple(builder, idx), idx_ty)]
    shape = cgutils.unpack_tuple(builder, arr.shape)
    strides = cgutils.unpack_tuple(builder, arr.strides)
    return cgutils.get_item_pointer2(context, builder, arr.data, shape, strides, arrty.layout, inds)


def _check_index(arr, idx):
    if not (isinstance(arr, types.Array) and arr.layout == "C" and _vec_of(arr.dtype) is not None):
        return False
    if isinstance(idx, types.Integer):
        return arr.ndim == 1
    return isinstance(idx, types.BaseTuple) and len(idx) == arr.ndim and all(isinstance(t, types.Integer) for t in idx)


@intrinsic
def load(typingctx, arr, idx):
    if not _check_index(arr, idx):
        return None
    vt = _vec_of(arr.dtype)

    def codegen(context, builder, sig, args):
        ptr = _element_pointer(context, builder, sig.args[0], args[0], sig.args[1], args[1])
        return builder.load(builder.bitcast(ptr, _ll(context, vt).as_pointer()), align=8)

    return vt(arr, idx), codegen


@intrinsic
def store(typingctx, arr, idx, v):
    if not _check_index(arr, idx) or v != _vec_of(arr.dtype):
        return None

    def codegen(context, builder, sig, args):
        ptr = _element_pointer(context, builder, sig.args[0], args[0], sig.args[1], args[1])
        builder.store(args[2], builder.bitcast(ptr, _ll(context, v).as_pointer()), align=8)
        return context.get_dummy_value()

    return types.none(arr, idx, v), codegen


def _splat(context, builder, vt, x):
    ll = _ll(context, vt)
    v = builder.insert_element(ir.Constant(ll, ir.Undefined), x, ir.Constant(ir.IntType(32), 0))
    zeros = ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES)
    return builder.shuffle_vector(v, ir.Constant(ll, ir.Undefined), zeros)


@intrinsic
def splat_u64(typingctx, x):
    if not isinstance(x, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        return _splat(context, builder, u64x8, context.cast(builder, args[0], sig.args[0], types.uint64))

    return u64x8(x), codegen


@intrinsic
def splat_f64(typingctx, x):
    if not isinstance(x, (types.Float, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        return _splat(context, builder, f64x8, context.cast(builder, args[0], sig.args[0], types.float64))

    return f64x8(x), codegen


def _binary(int_op, float_op):
    def typer(typingctx, a, b):
        if a != b or a not in (u64x8, f64x8) or (a == f64x8 and float_op is None) or (a == u64x8 and int_op is None):
            return None

        def codegen(context, builder, sig, args):
            op = float_op if sig.args[0] == f64x8 else int_op
            return getattr(builder, op)(args[0], args[1])

        return a(a, b), codegen

    return typer


xor = intrinsic(_binary("xor", None))
or_ = intrinsic(_binary("or_", None))
add = intrinsic(_binary("add", "fadd"))
sub = intrinsic(_binary("sub", "fsub"))
mul = intrinsic(_binary("mul", "fmul"))
div = intrinsic(_binary(None, "fdiv"))


@intrinsic
def fma(typingctx, a, b, c):
    if not (a == b == c == f64x8):
        return None

    def codegen(context, builder, sig, args):
        ll = _ll(context, f64x8)
        return builder.call(_declare(builder, "llvm.fma.v8f64", ll, [ll, ll, ll]), args)

    return f64x8(a, b, c), codegen


@intrinsic
def popcount(typingctx, a):
    if a != u64x8:
        return None

    def codegen(context, builder, sig, args):
        ll = _ll(context, u64x8)
        return builder.call(_declare(builder, "llvm.ctpop.v8i64", ll, [ll]), args)

    return u64x8(a), codegen


def _lane_cast(source, target, instruction):
    """Typer of an intrinsic converting ``source`` lanes to ``target`` lanes by an LLVM cast."""

    def typer(typingctx, a):
        if a != source:
            return None

        def codegen(context, builder, sig, args):
            return getattr(builder, instruction)(args[0], _ll(context, target))

        return target(a), codegen

    return typer


to_f64 = intrinsic(_lane_cast(u64x8, f64x8, "sitofp"))  # int64 lanes (counts) -> float lanes
to_i64 = intrinsic(_lane_cast(f64x8, u64x8, "fptosi"))  # float lanes holding integers -> int64 (indices)


def _unary_float(name):
    def typer(typingctx, a):
        if a != f64x8:
            return None

        def codegen(context, builder, sig, args):
            ll = _ll(context, f64x8)
            return builder.call(_declare(builder, f"llvm.{name}.v8f64", ll, [ll]), args)

        return f64x8(a), codegen

    return typer


absf = intrinsic(_unary_float("fabs"))
floor = intrinsic(_unary_float("floor"))


def _target_has(context, feature):
    """True if the machine code numba generates may use ``feature`` (e.g. "avx512f")."""
    codegen = context.codegen()
    features = getattr(codegen, "_tm_features", None)
    if features is None:  # pragma: no cover - numba internals changed
        import llvmlite.binding as llvm

        features = llvm.get_host_cpu_features().flatten()
    return f"+{feature}" in features.split(",")


def _gather(context, builder, addr, idx):
    i64 = ir.IntType(64)
    base = _splat(context, builder, u64x8, builder.zext(addr, i64) if addr.type.width < 64 else addr)
    addr = builder.add(base, builder.mul(idx, ir.Constant(ir.VectorType(i64, LANES), [8] * LANES)))
    ptrs = builder.inttoptr(addr, ir.VectorType(ir.PointerType(ir.DoubleType()), LANES))
    vd = _ll(context, f64x8)
    m1 = ir.VectorType(ir.IntType(1), LANES)
    fn = _declare(builder, "llvm.masked.gather.v8f64.v8p0", vd, [ptrs.type, ir.IntType(32), m1, vd])
    return builder.call(fn, [ptrs, ir.Constant(ir.IntType(32), 8), ir.Constant(m1, [1] * LANES),
                             ir.Constant(vd, ir.Undefined)])


@intrinsic
def gather(typingctx, addr, idx):
    """``table[idx[k]]`` per lane; ``addr`` the address of a float64 table (``a.ctypes.data``).

    Helpers take the address, not the array, so that no reference counting of
    the array is left inside the loops that call them.
    """
    if not (isinstance(addr, types.Integer) and idx == u64x8):
        return None

    def codegen(context, builder, sig, args):
        return _gather(context, builder, context.cast(builder, args[0], sig.args[0], types.uint64), args[1])

    return f64x8(addr, idx), codegen


@intrinsic
def lookup32(typingctx, t0, t1, t2, t3, idx):
    """``(t0 | t1 | t2 | t3)[idx[k]]`` per lane: a 32-entry table held in four vectors, ``0 <= idx < 32``.

    Two ``vpermi2pd`` and a blend when the target has AVX-512F; elsewhere the
    table is spilled and gathered.
    """
    if not (t0 == t1 == t2 == t3 == f64x8 and idx == u64x8):
        return None

    def codegen(context, builder, sig, args):
        t = args[:4]
        vd = _ll(context, f64x8)
        i64v = _ll(context, u64x8)
        if not _target_has(context, "avx512f"):
            tab = cgutils.alloca_once(builder, ir.ArrayType(ir.DoubleType(), 32))
            vptr = builder.bitcast(tab, vd.as_pointer())
            for q in range(4):
                builder.store(t[q], builder.gep(vptr, [ir.Constant(ir.IntType(64), q)]), align=8)
            return _gather(context, builder, builder.ptrtoint(tab, ir.IntType(64)), args[4])
        perm = _declare(builder, "llvm.x86.avx512.vpermi2var.pd.512", vd, [vd, i64v, vd])
        lo = builder.call(perm, [t[0], args[4], t[1]])
        hi = builder.call(perm, [t[2], args[4], t[3]])
        upper = builder.icmp_unsigned("!=", builder.and_(args[4], ir.Constant(i64v, [16] * LANES)),
                                      ir.Constant(i64v, [0] * LANES))
        return builder.select(upper, hi, lo)

    return f64x8(t0, t1, t2, t3, idx), codegen


def _compare(op):
    def typer(typingctx, a, b):
        if not (a == b == f64x8):
            return None

        def codegen(context, builder, sig, args):
            return builder.fcmp_ordered(op, args[0], args[1])

        return mask8(a, b), codegen

    return typer


ge = intrinsic(_compare(">="))
lt = intrinsic(_compare("<"))
gt = intrinsic(_compare(">"))
eq = intrinsic(_compare("=="))


@intrinsic
def select(typingctx, m, a, b):
    if m != mask8 or a != b or a not in (u64x8, f64x8):
        return None

    def codegen(context, builder, sig, args):
        return builder.select(*args)

    return a(m, a, b), codegen


@intrinsic
def mask_bits(typingctx, m):
    """Lane k of the mask -> bit k of a uint64 (the packed bit order)."""
    if m != mask8:
        return None

    def codegen(context, builder, sig, args):
        return builder.zext(builder.bitcast(args[0], ir.IntType(LANES)), ir.IntType(64))

    return types.uint64(m), codegen


@intrinsic
def lane(typingctx, v, k):
    if v not in (u64x8, f64x8) or not isinstance(k, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        return builder.extract_element(args[0], context.cast(builder, args[1], sig.args[1], types.int32))

    return v.elem(v, k), codegen


def _shuffle(builder, a, b, mask):
    return builder.shuffle_vector(a, b, ir.Constant(ir.VectorType(ir.IntType(32), LANES), mask))


@intrinsic
def transpose8(typingctx, v0, v1, v2, v3, v4, v5, v6, v7):
    """Columns of the 8 x 8 matrix with rows ``v0 .. v7``: lane i of column j is lane j of ``vi``.

    Three rounds of two-vector shuffles (pairs of lanes, then of 128-bit and
    256-bit blocks): 24 shuffles for 64 scalar moves, e.g. between a layout with
    samples in the lanes and one with units in the lanes.
    """
    args = (v0, v1, v2, v3, v4, v5, v6, v7)
    if not all(a == args[0] for a in args) or args[0] not in (u64x8, f64x8):
        return None
    tup = types.UniTuple(args[0], LANES)

    def codegen(context, builder, sig, r):
        t = []
        for k in range(0, 8, 2):  # lanes (0 2 4 6) and (1 3 5 7) of two rows, interleaved
            t.append(_shuffle(builder, r[k], r[k + 1], [0, 8, 2, 10, 4, 12, 6, 14]))
            t.append(_shuffle(builder, r[k], r[k + 1], [1, 9, 3, 11, 5, 13, 7, 15]))
        lo, hi = [0, 1, 8, 9, 4, 5, 12, 13], [2, 3, 10, 11, 6, 7, 14, 15]
        # u[c]: column c in lanes 0-3 (rows 0-3 or 4-7) and column c + 4 in lanes 4-7
        u = [_shuffle(builder, t[0], t[2], lo), _shuffle(builder, t[1], t[3], lo),
             _shuffle(builder, t[0], t[2], hi), _shuffle(builder, t[1], t[3], hi),
             _shuffle(builder, t[4], t[6], lo), _shuffle(builder, t[5], t[7], lo),
             _shuffle(builder, t[4], t[6], hi), _shuffle(builder, t[5], t[7], hi)]
        cols = [None] * 8
        for c in range(4):
            cols[c] = _shuffle(builder, u[c], u[4 + c], [0, 1, 2, 3, 8, 9, 10, 11])
            cols[c + 4] = _shuffle(builder, u[c], u[4 + c], [4, 5, 6, 7, 12, 13, 14, 15])
        return context.make_tuple(builder, sig.return_type, cols)

    return tup(*args), codegen
