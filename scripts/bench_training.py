#!/usr/bin/env python3
"""Training speed, measured as ratios inside one run (the machine is shared and noisy).

Part 1, identical maths: the notebook's own training loop (cell 30 of shared/seed/notebook.txt,
copied verbatim below and executed as notebook code) against digitgui's engine on the same
workload, the `notebook` preset, interleaved round by round. Both must print the same costs.
Also measured: the eight matrix products of one iteration alone, on the same shapes: the floor
no float64 implementation of these maths can go below on this BLAS.

Part 2, time to 97% validation accuracy: the `default` preset (from calling train(), data
preparation included) against scikit-learn's MLPClassifier(hidden_layer_sizes=(32, 32)) with
default settings, fed one epoch at a time with partial_fit, on the same split; median over seeds.

    .venv/bin/python scripts/bench_training.py [--iterations 2000] [--rounds 5] [--seeds 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from digitgui.core.data import load_digits_split
from digitgui.core.training import PRESETS, train

# Cell 30 of the notebook, verbatim from the line `hidden_layer_size = 32` to the training loop's
# end (data loading is done once outside and handed in as X_train_poly and ytr_onehot).
NOTEBOOK_LOOP = """
hidden_layer_size = 32
output_layer_size = ytr_onehot.shape[1]
lr = 0.01

np.random.seed(42)
W1 = np.random.randn(X_train_poly.shape[1], hidden_layer_size)
W2 = np.random.randn(hidden_layer_size+1, hidden_layer_size)
W3 = np.random.randn(hidden_layer_size+1, output_layer_size)

def get_z(X, w): return X @ w
def relu(Z): return np.maximum(0,Z)
def softmax(Z):
    e = np.exp(Z - np.max(Z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
def X_bias(X):
    ones=np.ones((X.shape[0], 1))
    return np.hstack((ones, X))
def err_softmax(A, y): return A - y
def err_relu(A, err_next, w_next):
    return err_next @ w_next[1:].T * (A > 0)
def err_mse(A, y): return 2 * (A - y)
def cost_softmax(y, A): return -np.mean(np.sum(y * np.log(A + 1e-8), axis=1))
def grad(err, X): return X.T @ err / X.shape[0]
def update_weight(w, lr, grad): return w - lr * grad

for i in range(1,num_iters+1):

    Z1 = get_z(X_train_poly, W1)
    A1 = relu(Z1)
    A1_bias = X_bias(A1)
    Z2 = get_z(A1_bias, W2)
    A2 = relu(Z2)
    A2_bias = X_bias(A2)
    Z3 = get_z(A2_bias, W3)
    A3 = softmax(Z3)

    cost = cost_softmax(ytr_onehot, A3)

    E3 = err_softmax(A3, ytr_onehot)
    G3 = grad(E3, A2_bias)
    W3 = update_weight(W3, lr, G3)
    E2 = err_relu(A2, E3, W3)
    G2 = grad(E2, A1_bias)
    W2 = update_weight(W2, lr, G2)
    E1 = err_relu(A1, E2, W2)
    G1 = grad(E1, X_train_poly)
    W1 = update_weight(W1, lr, G1)

    if i % 1000 == 0:
        printed.append(cost)
"""
NOTEBOOK_CODE = compile(NOTEBOOK_LOOP, "notebook-cell-30", "exec")


def notebook_inputs():
    split = load_digits_split(42)
    X = split.scaler.transform(split.X_train)
    X_train_poly = np.hstack([np.ones((len(X), 1)), X])  # PolynomialFeatures(1)
    ytr_onehot = np.eye(10)[split.y_train]
    return X_train_poly, ytr_onehot


def run_notebook(iterations: int, X_train_poly, ytr_onehot) -> tuple[float, list[float]]:
    namespace = {
        "np": np,
        "X_train_poly": X_train_poly,
        "ytr_onehot": ytr_onehot,
        "num_iters": iterations,
        "printed": [],
    }
    t = time.perf_counter()
    exec(NOTEBOOK_CODE, namespace)  # module-level code, as in the notebook
    return time.perf_counter() - t, namespace["printed"]


def run_engine(iterations: int) -> tuple[float, list[float]]:
    config = dataclasses.replace(PRESETS["notebook"], iterations=iterations)
    printed = []
    t = time.perf_counter()
    for record in train(config):
        if record.iteration % 1000 == 0 and (not record.done or record.iteration == iterations):
            printed.append(record.cost)
    elapsed = time.perf_counter() - t
    return elapsed, printed[: iterations // 1000]


def run_matmuls(iterations: int, X_train_poly) -> float:
    """Only the eight matrix products of an iteration, on preallocated arrays."""
    n = len(X_train_poly)
    rng = np.random.default_rng(0)
    W = [rng.standard_normal(s) for s in ((65, 32), (33, 32), (33, 10))]
    A1b, A2b = np.ones((n, 33)), np.ones((n, 33))
    Z1, Z2, Z3 = np.empty((n, 32)), np.empty((n, 32)), np.empty((n, 10))
    E2, E1 = np.empty((n, 32)), np.empty((n, 32))
    G = [np.empty_like(w) for w in W]
    X = X_train_poly
    t = time.perf_counter()
    for _ in range(iterations):
        np.matmul(X, W[0], out=Z1)
        np.matmul(A1b, W[1], out=Z2)
        np.matmul(A2b, W[2], out=Z3)
        np.matmul(A2b.T, Z3, out=G[2])
        np.matmul(Z3, W[2][1:].T, out=E2)
        np.matmul(A1b.T, E2, out=G[1])
        np.matmul(E2, W[1][1:].T, out=E1)
        np.matmul(X.T, E1, out=G[0])
    return time.perf_counter() - t


def part1(iterations: int, rounds: int) -> None:
    X_train_poly, ytr_onehot = notebook_inputs()
    times = {"notebook": [], "engine": [], "matmuls": [], "notebook, default BLAS threads": []}
    nb_costs = engine_costs = None
    for r in range(rounds):
        with threadpool_limits(1, "blas"):
            t, nb_costs = run_notebook(iterations, X_train_poly, ytr_onehot)
            times["notebook"].append(t)
            times["matmuls"].append(run_matmuls(iterations, X_train_poly))
        t, engine_costs = run_engine(iterations)  # the generator limits BLAS to 1 thread itself
        times["engine"].append(t)
        if r == 0 or r == rounds - 1:
            t, _ = run_notebook(iterations, X_train_poly, ytr_onehot)
            times["notebook, default BLAS threads"].append(t)
    med = {k: statistics.median(v) for k, v in times.items()}
    rel = max(abs(a - b) / abs(b) for a, b in zip(engine_costs, nb_costs, strict=True))
    print(f"Part 1: the notebook preset, {iterations} iterations, median of {rounds} rounds")
    print(f"  costs: notebook {[float(c) for c in nb_costs]}")
    print(f"         engine   {engine_costs}  (largest relative difference {rel:.1e})")
    for name, t in med.items():
        print(f"  {name:32s} {t:7.3f} s  {iterations / t:7.0f} it/s")
    speedup = med["notebook"] / med["engine"]
    print(f"  engine speed / notebook loop (both 1 BLAS thread): {speedup:.2f}x")
    print(
        f"  ceiling: the 8 matrix products alone / notebook loop: "
        f"{med['notebook'] / med['matmuls']:.2f}x  (identical float64 maths cannot pass this)"
    )
    if rel > 1e-9:
        raise SystemExit("the engine's costs differ from the notebook's")


def time_to_97_default(seed: int, split) -> tuple[float | None, float]:
    config = dataclasses.replace(PRESETS["default"], seed=seed, eval_every=1)
    reached = None
    for record in train(config, split):
        if reached is None and record.val_acc is not None and record.val_acc >= 0.97:
            reached = record.elapsed
            break
    return reached, record.elapsed


def time_to_97_sklearn(seed: int, split, max_epochs: int = 200) -> tuple[float | None, float]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X_train = split.scaler.transform(split.X_train)
    X_val = split.scaler.transform(split.X_val)
    clf = MLPClassifier(hidden_layer_sizes=(32, 32), random_state=seed)
    classes = np.arange(10)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with threadpool_limits(1, "blas"):
            for _ in range(max_epochs):
                clf.partial_fit(X_train, split.y_train, classes=classes)
                if np.mean(clf.predict(X_val) == split.y_val) >= 0.97:
                    return time.perf_counter() - t0, time.perf_counter() - t0
    return None, time.perf_counter() - t0


def part2(seeds: int) -> None:
    split = load_digits_split(42)
    ours, theirs = [], []
    for seed in range(seeds):
        ours.append(time_to_97_default(seed, split)[0])
        theirs.append(time_to_97_sklearn(seed, split)[0])

    def summary(values):
        ok = [v for v in values if v is not None]
        med = statistics.median(ok) if ok else float("nan")
        return med, f"{len(ok)}/{len(values)} seeds reach 97%, median {med:.3f} s"

    m_ours, s_ours = summary(ours)
    m_theirs, s_theirs = summary(theirs)
    print(f"\nPart 2: time to 97% validation accuracy, {seeds} seeds")
    print(f"  digitgui default preset:           {s_ours}   {[_fmt(v) for v in ours]}")
    print(f"  scikit-learn MLPClassifier(32,32): {s_theirs}   {[_fmt(v) for v in theirs]}")
    print(f"  default preset time / scikit-learn time: {m_ours / m_theirs:.2f} (target <= 0.5)")


def _fmt(v):
    return None if v is None else round(v, 3)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iterations", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seeds", type=int, default=5)
    args = p.parse_args()
    if args.iterations < 1000:
        p.error(
            "--iterations must be at least 1000: the costs are compared where the notebook prints"
        )
    part1(args.iterations, args.rounds)
    part2(args.seeds)


if __name__ == "__main__":
    main()
