"""The arithmetic behind one cell of an update step, written out (a clicked cell in the
step-through shows it): ``Z1[0, 0] = 1*0 + 1.2*0.02 + ... = 0.068``. Qt-free."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .step import LabelledMatrix, UpdateStep

__all__ = ["cell_arithmetic"]


def _num(v: float) -> str:
    """A number for a written-out sum: short, negative ones in brackets."""
    v = float(v)
    text = "0" if v == 0 else f"{v:.4g}"
    return f"({text})" if v < 0 else text


def _val(v: float) -> str:
    return "0" if v == 0 else f"{v:.6g}"  # no "-0" for a zeroed error


def _sum_of_products(a: np.ndarray, b: np.ndarray, terms: int) -> str:
    parts = [f"{_num(x)}*{_num(y)}" for x, y in zip(a[:terms], b[:terms], strict=True)]
    more = len(a) - terms
    if more > 0:
        parts.append(f"... ({more} more terms)")
    return " + ".join(parts)


def cell_arithmetic(step: UpdateStep, name: str, i: int, j: int, terms: int = 4) -> str:
    """How ``step[name][i, j]`` is computed, written out with the first ``terms`` terms of any
    sum, e.g. ``Z1[0, 0] = 1*0 + 1.2*0.02 + (-0.4)*(-0.05) + 0.8*0.03 = 0.068``."""
    m = step.matrix(name)
    v = float(np.atleast_2d(m.value)[i, j])
    head = f"{name}[{i}, {j}]"
    write = _WRITERS.get(m.op)
    if write is None:
        return f"{head} = {v:.6g} ({m.meaning})"
    ins = [np.atleast_2d(step[k]) for k in m.inputs]
    return write(_Cell(step, m, head, i, j, v, terms), *ins)


@dataclass(frozen=True)
class _Cell:
    step: UpdateStep
    m: LabelledMatrix
    head: str
    i: int
    j: int
    v: float
    terms: int

    def arg(self, k: int) -> str:
        return self.m.inputs[k]


def _matmul(c: _Cell, A, W) -> str:
    i, j = c.i, c.j
    return (
        f"{c.head} = {c.arg(0)}[{i}, :] · {c.arg(1)}[:, {j}] = "
        f"{_sum_of_products(A[i], W[:, j], c.terms)} = {_val(c.v)}"
    )


def _act(c: _Cell, Z) -> str:
    z = float(Z[c.i, c.j])
    if c.step.activation == "relu":
        return f"{c.head} = relu({c.arg(0)}[{c.i}, {c.j}]) = max(0, {_num(z)}) = {_val(c.v)}"
    return f"{c.head} = 1 / (1 + exp(-{_num(z)})) = {_val(c.v)}"


def _bias(c: _Cell, _A) -> str:
    if c.j == 0:
        return f"{c.head} = 1, the bias input (a column of ones)"
    return f"{c.head} = {c.arg(0)}[{c.i}, {c.j - 1}] = {_val(c.v)} (one right of the bias column)"


def _exp_shift(c: _Cell, Z) -> str:
    top = float(Z[c.i].max())
    return (
        f"{c.head} = exp({c.arg(0)}[{c.i}, {c.j}] - max of row {c.i}) = "
        f"exp({_num(Z[c.i, c.j])} - {_num(top)}) = {_val(c.v)}"
    )


def _rowsum(c: _Cell, e) -> str:
    row, k = e[c.i], c.terms + 2
    shown = " + ".join(_num(x) for x in row[:k])
    more = f" + ... ({len(row) - k} more)" if len(row) > k else ""
    return f"{c.head} = sum of {c.arg(0)}[{c.i}, :] = {shown}{more} = {_val(c.v)}"


def _divide(c: _Cell, e, s) -> str:
    return (
        f"{c.head} = {c.arg(0)}[{c.i}, {c.j}] / {c.arg(1)}[{c.i}] = "
        f"{_num(e[c.i, c.j])} / {_num(s[c.i, 0])} = {_val(c.v)}"
    )


def _cost_row(c: _Cell, A, Y) -> str:
    from .step import COST_CAP, COST_FLOOR, format_cost  # step imports this module

    k = int(Y[c.i].argmax())
    p = float(A[c.i, k])
    note = ""
    if c.v < COST_FLOOR:
        note = " (p ~ 1: the cost is at the 1e-8 floor, ~0)"
    elif c.v > COST_CAP - 0.1:
        note = f" (p < 1e-8: capped at -ln(1e-8) = {COST_CAP:.1f})"
    return (
        f"{c.head} = -log({c.arg(0)}[{c.i}, {k}] + 1e-8) = -log({p:.6g} + 1e-8) = "
        f"{format_cost(c.v)}{note}"
    )


def _err_softmax(c: _Cell, A, Y) -> str:
    i, j = c.i, c.j
    return (
        f"{c.head} = {c.arg(0)}[{i}, {j}] - y_onehot[{i}, {j}] = "
        f"{_num(A[i, j])} - {_num(Y[i, j])} = {_val(c.v)}"
    )


def _err_hidden(c: _Cell, A, E, Wn) -> str:
    i, j = c.i, c.j
    a = float(A[i, j])
    dot = float(E[i] @ Wn[j + 1])
    if c.step.activation == "relu":
        slope, slope_text = float(a > 0), f"({c.arg(0)}[{i}, {j}] > 0)"
    else:
        slope, slope_text = a * (1 - a), f"{c.arg(0)}(1 - {c.arg(0)})[{i}, {j}]"
    return (
        f"{c.head} = ({c.arg(1)}[{i}, :] · {c.arg(2)}[{j + 1}, :]) * {slope_text} = "
        f"({_sum_of_products(E[i], Wn[j + 1], c.terms)} = {dot:.6g}) * {_num(slope)} = {_val(c.v)}"
    )


def _grad(c: _Cell, E, A) -> str:
    n = len(E)
    return (
        f"{c.head} = {c.arg(1)}[:, {c.i}] · {c.arg(0)}[:, {c.j}] / {n} = "
        f"({_sum_of_products(A[:, c.i], E[:, c.j], c.terms)}) / {n} = {_val(c.v)}"
    )


def _update(c: _Cell, W, G) -> str:
    i, j, lr = c.i, c.j, f"{c.step.lr:g}"
    return (
        f"{c.head} = {c.arg(0)}[{i}, {j}] - {lr} * {c.arg(1)}[{i}, {j}] = "
        f"{_num(W[i, j])} - {lr} * {_num(G[i, j])} = {_val(c.v)}"
    )


_WRITERS = {
    "matmul": _matmul,
    "act": _act,
    "bias": _bias,
    "exp_shift": _exp_shift,
    "rowsum": _rowsum,
    "divide": _divide,
    "cost_row": _cost_row,
    "err_softmax": _err_softmax,
    "err_hidden": _err_hidden,
    "grad": _grad,
    "update": _update,
}
