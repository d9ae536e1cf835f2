#!/usr/bin/env python
"""How soon ``digitgui train --json`` prints its first iteration, next to a bare
``python -c "import numpy"`` measured in the same run (only ratios mean anything on a shared
machine). Median of interleaved rounds; the load_digits split comes from the user cache after
the first run (``digitgui.core.data``). Target: within 4x.

    python scripts/bench_cli.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

TRAIN = [sys.executable, "-m", "digitgui", "train", "--json", "--log-every", "1", "--quiet"]


def until_first_line(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    seconds = time.perf_counter() - t0
    p.kill()
    p.wait()
    if not line.startswith('{"iteration": 1'):
        raise SystemExit(f"unexpected first line: {line!r}")
    return seconds


def until_exit(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    until_first_line(TRAIN)  # warm: the split cached, the files in the page cache
    numpy_s, train_s = [], []
    for _ in range(args.rounds):
        numpy_s.append(until_exit([sys.executable, "-c", "import numpy"]))
        train_s.append(until_first_line(TRAIN))
    a, b = statistics.median(numpy_s), statistics.median(train_s)
    print(f"python -c 'import numpy':            {a:.3f} s (median of {args.rounds})")
    print(f"digitgui train --json, first line:   {b:.3f} s")
    print(f"ratio: {b / a:.2f} (target <= 4)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
