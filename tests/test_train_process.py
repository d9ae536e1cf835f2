"""The wire between the app and a training process, the relay loop, and the child process itself
(driven over pipes, without Qt)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from digitgui.core.train_process import (
    FrameReader,
    WireError,
    child_command,
    decode_progress,
    encode,
    encode_progress,
    relay,
)
from digitgui.core.training import PRESETS, Progress, train

SHORT = dataclasses.replace(PRESETS["notebook"], iterations=40, eval_every=10)
REPO = Path(__file__).resolve().parent.parent


def test_frames_survive_any_split_of_the_stream():
    frames = [({"type": "a", "n": 1}, b""), ({"type": "b"}, bytes(range(256)) * 3)]
    stream = b"".join(encode(h, b) for h, b in frames)
    for size in (1, 7, len(stream)):
        reader, got = FrameReader(), []
        for i in range(0, len(stream), size):
            got += reader.feed(stream[i : i + size])
        assert got == frames and reader.pending == 0


@pytest.mark.parametrize(
    "data, words",
    [
        (struct.pack("<II", 1 << 30, 0), "damaged"),
        (struct.pack("<II", 3, 0) + b"{x}", "not JSON"),
        (struct.pack("<II", 2, 0) + b"[]", "without a type"),
    ],
)
def test_a_damaged_stream_is_a_wire_error(data, words):
    with pytest.raises(WireError, match=words):
        FrameReader().feed(data)


def test_records_cross_the_wire_unchanged_with_snapshots_and_the_final_model():
    records = list(train(SHORT, snapshot_interval=0.0))
    ((header, blob),) = FrameReader().feed(encode_progress(records, 1.5))
    assert header["paused_seconds"] == 1.5
    back = decode_progress(header, blob)
    assert len(back) == len(records)
    for a, b in zip(records, back, strict=True):
        for name in ("iteration", "iterations", "cost", "elapsed", "epoch", "val_cost", "val_acc"):
            assert getattr(a, name) == getattr(b, name), name
        assert type(b.iteration) is int and b.lr_changed is None
        assert (a.snapshot is None) == (b.snapshot is None)
    assert records[1].val_cost is None and back[1].val_cost is None
    with_snapshot = [(a, b) for a, b in zip(records, back, strict=True) if a.snapshot is not None]
    assert with_snapshot
    for a, b in with_snapshot[:3]:
        for wa, wb in zip(a.snapshot.mlp.weights, b.snapshot.mlp.weights, strict=True):
            np.testing.assert_array_equal(wa, wb)
    final_a, final_b = records[-1], back[-1]
    assert final_b.done and final_b.outcome == final_a.outcome == "completed"
    assert (final_b.message, final_b.train_acc, final_b.test_acc) == (
        final_a.message,
        final_a.train_acc,
        final_a.test_acc,
    )
    x = np.random.default_rng(0).uniform(0, 16, (5, 64))
    np.testing.assert_array_equal(final_a.model.predict_proba(x), final_b.model.predict_proba(x))
    assert final_b.model.metadata["accuracy"] == final_a.model.metadata["accuracy"]


def test_a_progress_frame_that_does_not_add_up_is_a_wire_error():
    records = list(train(SHORT))[:3]
    ((header, blob),) = FrameReader().feed(encode_progress(records, 0.0))
    with pytest.raises(WireError):
        decode_progress(header, blob[:10])
    with pytest.raises(WireError):
        decode_progress({**header, "snapshots": [[0, len(blob) - 4, 100]]}, blob)
    with pytest.raises(WireError):
        decode_progress({"type": "progress"}, blob)


def _records(n: int, final: bool = True):
    for i in range(1, n + 1):
        yield Progress(
            iteration=i,
            iterations=n,
            cost=1.0,
            elapsed=0.0,
            epoch=0.0,
            model="model" if final and i == n else None,
        )


def test_relay_batches_and_sends_the_final_record_last():
    running = threading.Event()
    running.set()
    sent: list[list[int]] = []
    final = relay(_records(10), lambda rs, p: sent.append([r.iteration for r in rs]), running, 0.0)
    assert final.iteration == 10
    assert [i for batch in sent for i in batch] == list(range(1, 11))
    sent.clear()
    relay(_records(10), lambda rs, p: sent.append([r.iteration for r in rs]), running, 3600.0)
    assert sent == [list(range(1, 11))]  # everything in one batch at the end
    sent.clear()
    assert relay(_records(5, final=False), lambda rs, p: sent.append(rs), running, 3600.0) is None
    assert len(sent) == 1


def test_relay_sends_what_is_pending_before_a_pause_and_counts_the_pause():
    running = threading.Event()
    sent: list[tuple[list[int], float]] = []

    def send(rs, paused):
        sent.append(([r.iteration for r in rs], paused))
        if len(sent) == 1:
            threading.Timer(0.2, running.set).start()

    relay(_records(3), send, running, 3600.0)  # paused from the start
    assert sent[0] == ([1], 0.0)
    assert [i for batch, _ in sent for i in batch] == [1, 2, 3]
    assert sent[-1][1] >= 0.15


# --- the child process, over pipes ----------------------------------------------------------------


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


class Child:
    def __init__(self, config=SHORT, **start) -> None:
        self.p = subprocess.Popen(
            child_command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_child_env(),
        )
        if config is not None:
            to_dict = config if isinstance(config, dict) else config.to_dict()
            header = {"type": "start", "config": to_dict, "batch_interval": 0.0} | start
            self.send(header)
        self.reader = FrameReader()
        self.frames: list[tuple[dict, bytes]] = []

    def send(self, header: dict) -> None:
        self.p.stdin.write(encode(header))
        self.p.stdin.flush()

    def next(self) -> dict:
        while not self.frames:
            data = self.p.stdout.read1(1 << 16)
            assert data, self.p.stderr.read().decode()
            self.frames += self.reader.feed(data)
        return self.frames.pop(0)

    def until_end(self) -> tuple[list[Progress], list[dict]]:
        records, others = [], []
        while True:
            header, blob = self.next()
            if header["type"] == "progress":
                records += decode_progress(header, blob)
            else:
                others.append(header)
            if header["type"] == "end":
                assert self.p.wait(30) == 0
                self.close()
                return records, others

    def close(self) -> None:
        for stream in (self.p.stdin, self.p.stdout, self.p.stderr):
            with contextlib.suppress(OSError):  # stdin of an exited child
                stream.close()


def test_the_child_trains_and_reports_like_train_itself():
    child = Child(snapshot_interval=0.0)
    records, others = child.until_end()
    assert [h["type"] for h in others] == ["started", "end"] and others[-1]["final"] is True
    direct = list(train(SHORT))
    assert [r.iteration for r in records] == [r.iteration for r in direct]
    assert [r.cost for r in records] == [r.cost for r in direct]  # same maths, same seed
    assert records[-1].outcome == "completed"
    assert sum(r.snapshot is not None for r in records) >= len(records) - 1


def test_the_child_pauses_resumes_changes_the_rate_and_stops_on_command():
    child = Child(dataclasses.replace(SHORT, iterations=10**7), batch_interval=0.01)
    assert child.next()[0]["type"] == "started"
    child.send({"type": "pause"})
    time.sleep(0.3)
    child.send({"type": "lr", "value": SHORT.lr / 2})
    child.send({"type": "resume"})
    time.sleep(0.3)
    child.send({"type": "stop"})
    records, _ = child.until_end()
    assert records[-1].outcome == "stopped"
    assert [r.lr_changed for r in records if r.lr_changed is not None] == [SHORT.lr / 2]


def test_the_end_of_its_input_stops_the_child():
    child = Child(dataclasses.replace(SHORT, iterations=10**7), batch_interval=0.01)
    assert child.next()[0]["type"] == "started"
    child.next()  # training
    child.p.stdin.close()  # the app is gone
    records, _ = child.until_end()
    assert records[-1].outcome == "stopped"


def test_a_config_the_child_cannot_train_is_reported_in_one_sentence():
    child = Child({**SHORT.to_dict(), "hidden": [0]})
    records, others = child.until_end()
    assert records == []
    error = next(h for h in others if h["type"] == "error")
    assert "\n" not in error["message"] and "hidden" in error["message"].lower()
    assert "Traceback" in error["details"]
    assert others[-1] == {"type": "end", "final": False}


def test_a_child_without_a_start_frame_exits_2_and_says_why():
    child = Child(config=None)
    child.send({"type": "stop"})
    assert child.p.wait(30) == 2
    assert b"expected a start frame" in child.p.stderr.read()
    child.close()


def test_the_child_command_is_this_interpreter():
    assert child_command()[0] == sys.executable
