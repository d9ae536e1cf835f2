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

The engine's speed is reported as its share of that floor (floor time / engine time, medians of
the interleaved rounds; the target is at least 0.8). ``--profile`` also splits one engine
iteration into its parts, timed inside the running loop, to show where the time beyond the
floor goes. ``--part 1`` (the quick mode) skips part 2.

    .venv/bin/python scripts/bench_training.py [--iterations 2000] [--rounds 5] [--seeds 5]
        [--part 1|2] [--profile]
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
    shares = [m / e for m, e in zip(times["matmuls"], times["engine"], strict=True)]
    print(
        f"  engine's share of the GEMM-only floor (floor time / engine time): "
        f"{med['matmuls'] / med['engine']:.3f}  (target >= 0.8; per round "
        f"{', '.join(f'{x:.3f}' for x in shares)})"
    )
    if rel > 1e-9:
        raise SystemExit("the engine's costs differ from the notebook's")


def profile_iteration(iterations: int) -> dict[str, float]:
    """Seconds per iteration of each part of the engine's notebook-preset iteration.

    The iteration is the one ``run_network`` runs (``Workspace.forward``/``backward``,
    ``GradientDescent``, the divergence guard, the record), on the engine's own workspace
    (feature-major arrays, in-place activations, preallocated scratch), written out step by step
    with a clock reading between parts, so that each part is timed where it runs: with the caches
    as the rest of the iteration leaves them.
    """
    from digitgui.core.mlp import MLP
    from digitgui.core.training import prepare_data
    from digitgui.core.training_loop import BatchSampler, DivergenceGuard, Progress

    config = dataclasses.replace(PRESETS["notebook"], iterations=iterations)
    data = prepare_data(config, load_digits_split(42))
    W = MLP.create(config.layer_sizes, config.activation, config.init, config.seed).weights
    batch = BatchSampler(config, data).next(1, data.n_ready)
    ws, Y, y, n, lr = batch.ws, batch.Y, batch.y, batch.ws.n, config.lr
    A, Z = ws.A_bias, ws.Z  # the errors go over Z, as in Workspace.backward
    G = [np.empty_like(w) for w in W]
    masks = [np.empty((s, n), bool).T for s in config.layer_sizes[1:-1]]
    row = np.empty((1, n)).T
    flat = y * n + np.arange(n)
    picked = np.empty(n)
    output = Z[2].T.reshape(-1)  # a view: row i's class c at c * n + i
    guard = DivergenceGuard(config, W)
    names = [
        "8 matrix products",
        "ReLU, in place (2 layers)",
        "softmax: row max, subtract, row sum, divide",
        "softmax: exp",
        "cost: pick, +1e-8, log, mean",
        "err_softmax: A - Y",
        "err_relu masks: A > 0, multiply (2 layers)",
        "gradients / n (3 layers)",
        "updates W -= lr G (3 layers)",
        "divergence guard (keeps a copy of W)",
        "the Progress record",
    ]
    spent = dict.fromkeys(names, 0.0)
    mm, relu, soft, exp, cost, err, mask, div, upd, keep, rec = names
    clock = time.perf_counter
    for it in range(1, iterations + 1):
        t0 = clock()
        np.matmul(A[0], W[0], out=Z[0])
        t1 = clock()
        np.maximum(Z[0], 0.0, out=Z[0])
        t2 = clock()
        np.matmul(A[1], W[1], out=Z[1])
        t3 = clock()
        np.maximum(Z[1], 0.0, out=Z[1])
        t4 = clock()
        np.matmul(A[2], W[2], out=Z[2])
        t5 = clock()
        spent[mm] += (t1 - t0) + (t3 - t2) + (t5 - t4)
        spent[relu] += (t2 - t1) + (t4 - t3)
        np.subtract(Z[2], np.maximum.reduce(Z[2], axis=-1, keepdims=True, out=row), out=Z[2])
        t6 = clock()
        np.exp(Z[2], out=Z[2])
        t7 = clock()
        np.divide(Z[2], np.add.reduce(Z[2], axis=-1, keepdims=True, out=row), out=Z[2])
        t8 = clock()
        spent[soft] += (t6 - t5) + (t8 - t7)
        spent[exp] += t7 - t6
        np.take(output, flat, out=picked)
        np.log(np.add(picked, 1e-8, out=picked), out=picked)
        c = float(-(np.add.reduce(picked) / n))
        t9 = clock()
        guard.check(it, c)
        t10 = clock()
        np.subtract(Z[2], Y, out=Z[2])
        t11 = clock()
        spent[cost] += t9 - t8
        spent[keep] += t10 - t9
        spent[err] += t11 - t10
        for l in (2, 1, 0):
            t0 = clock()
            np.matmul(A[l].T, Z[l], out=G[l])
            t1 = clock()
            np.divide(G[l], n, out=G[l])
            t2 = clock()
            np.subtract(W[l], np.multiply(G[l], lr, out=G[l]), out=W[l])
            t3 = clock()
            spent[mm] += t1 - t0
            spent[div] += t2 - t1
            spent[upd] += t3 - t2
            if l:
                np.greater(Z[l - 1], 0.0, out=masks[l - 1])
                t4 = clock()
                np.matmul(Z[l], W[l][1:].T, out=Z[l - 1])
                t5 = clock()
                np.multiply(Z[l - 1], masks[l - 1], out=Z[l - 1])
                t6 = clock()
                spent[mm] += t5 - t4
                spent[mask] += (t4 - t3) + (t6 - t5)
        t0 = clock()
        Progress(iteration=it, iterations=iterations, cost=c, elapsed=t0, epoch=float(it))
        spent[rec] += clock() - t0
    return {k: v / iterations for k, v in spent.items()}


def profile(iterations: int, rounds: int) -> None:
    X_train_poly, _ = notebook_inputs()
    parts, engine, floor = [], [], []
    for _ in range(rounds):
        with threadpool_limits(1, "blas"):
            parts.append(profile_iteration(iterations))
            floor.append(run_matmuls(iterations, X_train_poly) / iterations)
        engine.append(run_engine(iterations)[0] / iterations)
    med = {k: statistics.median(p[k] for p in parts) for k in parts[0]}
    eng, flo = statistics.median(engine), statistics.median(floor)
    rest = eng - sum(med.values())
    print(f"\nProfile of one engine iteration, microseconds, median of {rounds} rounds")
    print(f"  {'the whole iteration, as train() runs it':45s} {1e6 * eng:7.1f}")
    print(f"  {'the GEMM-only floor (8 products, C order)':45s} {1e6 * flo:7.1f}")
    for k, v in med.items():
        print(f"  {k:45s} {1e6 * v:7.1f}")
    print(f"  {'the rest: Python calls, loop, generators':45s} {1e6 * rest:7.1f}")
    print("  (the rest includes train()'s setup and final record, spread over the iterations)")


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
    p.add_argument(
        "--part", choices=("1", "2"), help="run only this part (1: the quick one, ~30 s)"
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="also split an engine iteration into its parts (with part 1)",
    )
    args = p.parse_args()
    if args.iterations < 1000:
        p.error(
            "--iterations must be at least 1000: the costs are compared where the notebook prints"
        )
    if args.part != "2":
        part1(args.iterations, args.rounds)
        if args.profile:
            profile(args.iterations, args.rounds)
    if args.part != "1":
        part2(args.seeds)


if __name__ == "__main__":
    main()
