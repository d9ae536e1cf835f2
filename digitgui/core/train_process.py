"""A training run in a process of its own, and the wire between it and the app.

Why a process: a Python thread shares the interpreter lock with the GUI thread, so every
millisecond the window spends in Python (the live plot, the probabilities, the weight tiles) is a
millisecond the training loop waits; with a digit on the canvas, training in a thread ran at 0.57
of headless speed (mini-batches, where the loop is mostly Python; ``scripts/bench_gui.py``). A
child process trains on its own core at full speed; the window only decodes what arrives.

The child is ``python -m digitgui.core.train_process``. Both directions carry *frames*: a
``<II`` header (the lengths of a JSON object and of a binary blob), the JSON, the blob. Nothing
is pickled: numbers travel as a float64 table, networks as model-file bytes
(:meth:`DigitClassifier.to_bytes`), read back with every check a model file gets.

App to child: ``start`` (the config, the snapshot and batch intervals; the extra training rows
as an ``.npz`` blob), then any of ``pause``, ``resume``, ``stop``, ``lr`` (a new learning rate).
The end of the child's input (the app closed or crashed) stops the run.

Child to app: ``started``; ``progress`` (records, the paused time so far, snapshots); ``error``
(a one-line message and the traceback); ``end`` (whether the last progress frame held the final
record). The child exits after ``end``.

:func:`relay` is the loop both the thread worker and the child run: it batches records, waits
while paused and counts the time paused.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import queue
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO

import numpy as np

from .model_io import DigitClassifier
from .training_loop import LiveRate, Progress

__all__ = [
    "COLUMNS",
    "FrameReader",
    "WireError",
    "child_command",
    "decode_progress",
    "encode",
    "encode_progress",
    "relay",
]

HEADER = struct.Struct("<II")
#: Larger frames are taken for a damaged stream, not a message.
MAX_JSON = 1 << 20
MAX_BLOB = 1 << 30
#: The numbers of a record, in the order of the float64 table (None travels as NaN).
COLUMNS = (
    "iteration",
    "iterations",
    "cost",
    "elapsed",
    "epoch",
    "val_cost",
    "val_acc",
    "train_acc",
    "lr_changed",
)
_OPTIONAL = {"val_cost", "val_acc", "train_acc", "lr_changed"}
_WHOLE = {"iteration", "iterations"}


class WireError(ValueError):
    """A frame that cannot be a message (a damaged stream)."""


def encode(header: dict[str, Any], blob: bytes = b"") -> bytes:
    data = json.dumps(header, allow_nan=True).encode()
    return HEADER.pack(len(data), len(blob)) + data + blob


class FrameReader:
    """Turns chunks of a byte stream into ``(header, blob)`` messages as they complete."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[dict[str, Any], bytes]]:
        self._buf += data
        out = []
        while len(self._buf) >= HEADER.size:
            n_json, n_blob = HEADER.unpack_from(self._buf)
            if n_json > MAX_JSON or n_blob > MAX_BLOB:
                raise WireError(f"a frame of {n_json} + {n_blob} bytes: the stream is damaged")
            end = HEADER.size + n_json + n_blob
            if len(self._buf) < end:
                break
            try:
                header = json.loads(bytes(self._buf[HEADER.size : HEADER.size + n_json]))
            except ValueError as e:
                raise WireError(f"a frame whose header is not JSON ({e})") from None
            if not isinstance(header, dict) or not isinstance(header.get("type"), str):
                raise WireError("a frame without a type")
            out.append((header, bytes(self._buf[HEADER.size + n_json : end])))
            del self._buf[:end]
        return out

    @property
    def pending(self) -> int:
        """Bytes received that do not make a whole frame yet."""
        return len(self._buf)


def read_frame(stream: BinaryIO) -> tuple[dict[str, Any], bytes] | None:
    """The next frame of a blocking stream, or None at its end."""
    reader = FrameReader()
    head = _read_exactly(stream, HEADER.size)
    if head is None:
        return None
    n_json, n_blob = HEADER.unpack(head)
    if n_json > MAX_JSON or n_blob > MAX_BLOB:
        raise WireError(f"a frame of {n_json} + {n_blob} bytes: the stream is damaged")
    body = _read_exactly(stream, n_json + n_blob)
    if body is None:
        return None
    (frame,) = reader.feed(head + body)
    return frame


def _read_exactly(stream: BinaryIO, n: int) -> bytes | None:
    parts, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


# records ------------------------------------------------------------------------------------------


def encode_progress(records: list[Progress], paused_seconds: float) -> bytes:
    """One ``progress`` frame: the records' numbers as a table, their snapshots and, when the
    last record is the final one, its outcome, accuracies and model."""
    table = np.array(
        [[math.nan if (v := getattr(r, c)) is None else v for c in COLUMNS] for r in records],
        dtype=np.float64,
    ).reshape(len(records), len(COLUMNS))
    parts = [table.tobytes()]
    offset = len(parts[0])
    snapshots = []
    for i, r in enumerate(records):
        if r.snapshot is not None:
            raw = r.snapshot.to_bytes(compress=False)
            snapshots.append([i, offset, len(raw)])
            parts.append(raw)
            offset += len(raw)
    header: dict[str, Any] = {
        "type": "progress",
        "n": len(records),
        "paused_seconds": paused_seconds,
        "snapshots": snapshots,
    }
    last = records[-1] if records else None
    if last is not None and last.done:
        raw = last.model.to_bytes(compress=False)
        header["final"] = {
            "outcome": last.outcome,
            "message": last.message,
            "train_acc": last.train_acc,
            "test_acc": last.test_acc,
            "model": [offset, len(raw)],
        }
        parts.append(raw)
    return encode(header, b"".join(parts))


def decode_progress(header: dict[str, Any], blob: bytes) -> list[Progress]:
    """The records of a ``progress`` frame (``WireError`` if the frame does not add up)."""
    try:
        n = int(header["n"])
        size = n * len(COLUMNS) * 8
        if n < 0 or size > len(blob):
            raise WireError(f"a progress frame of {n} records in {len(blob)} bytes")
        table = np.frombuffer(blob, np.float64, n * len(COLUMNS)).reshape(n, len(COLUMNS))
        snaps = {int(i): _model(blob, off, size_) for i, off, size_ in header["snapshots"]}
        final = header.get("final")
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, WireError):
            raise
        raise WireError(f"a damaged progress frame ({e})") from None
    records = []
    for i, row in enumerate(table.tolist()):
        fields: dict[str, Any] = {}
        for c, v in zip(COLUMNS, row, strict=True):
            if c in _WHOLE:
                v = int(v)
            elif c in _OPTIONAL and math.isnan(v):
                v = None
            fields[c] = v
        if i in snaps:
            fields["snapshot"] = snaps[i]
        if final is not None and i == n - 1:
            fields.update(
                model=_model(blob, *final["model"]),
                outcome=final["outcome"],
                message=final["message"],
                train_acc=final["train_acc"],
                test_acc=final["test_acc"],
            )
        records.append(Progress(**fields))
    return records


def _model(blob: bytes, offset: int, size: int) -> DigitClassifier:
    if offset < 0 or size < 0 or offset + size > len(blob):
        raise WireError("a network outside its frame")
    return DigitClassifier.from_bytes(
        blob[offset : offset + size], "the training process's network"
    )


def encode_rows(rows: tuple[np.ndarray, np.ndarray] | None) -> bytes:
    if rows is None:
        return b""
    buf = io.BytesIO()
    np.savez(buf, X=np.asarray(rows[0], np.float64), y=np.asarray(rows[1]))
    return buf.getvalue()


def decode_rows(blob: bytes) -> tuple[np.ndarray, np.ndarray] | None:
    if not blob:
        return None
    with np.load(io.BytesIO(blob), allow_pickle=False) as f:
        return f["X"], f["y"]


# the loop -----------------------------------------------------------------------------------------


def relay(
    run: Iterable[Progress],
    send: Callable[[list[Progress], float], None],
    running: threading.Event,
    batch_interval: float,
) -> Progress | None:
    """Hand the records of ``run`` to ``send(records, paused_seconds)`` at most every
    ``batch_interval`` seconds; while ``running`` is clear, send what is pending and wait.
    Returns the final record (None when the run ended without one). The final record is sent
    too, in the last batch."""
    final = None
    pending: list[Progress] = []
    paused_total = 0.0
    last_emit = time.perf_counter()
    for record in run:
        pending.append(record)
        if record.done:
            final = record
            break
        now = time.perf_counter()
        if now - last_emit >= batch_interval:
            send(pending, paused_total)
            pending = []
            last_emit = now
        if not running.is_set():
            # Show everything up to the pause before waiting.
            if pending:
                send(pending, paused_total)
            pending = []
            t = time.perf_counter()
            running.wait()
            paused_total += time.perf_counter() - t
            last_emit = time.perf_counter()
    if pending:
        send(pending, paused_total)
    return final


# the child ----------------------------------------------------------------------------------------


def child_command() -> list[str]:
    """The command line that starts a training process (this interpreter)."""
    return [sys.executable, "-m", "digitgui.core.train_process"]


class _Control:
    """The app's commands, read from the child's input by a thread of their own."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.running = threading.Event()
        self.running.set()
        self.live_lr = LiveRate()

    def follow(self, stream: BinaryIO) -> None:
        try:
            while (frame := read_frame(stream)) is not None:
                kind = frame[0]["type"]
                if kind == "stop":
                    break
                if kind == "pause":
                    self.running.clear()
                elif kind == "resume":
                    self.running.set()
                elif kind == "lr":
                    # The app checks the rate before sending it.
                    with contextlib.suppress(KeyError, TypeError, ValueError):
                        self.live_lr.set(frame[0]["value"])
        except (OSError, WireError):
            pass
        self.stop.set()  # a stop, or the app is gone: end the run either way
        self.running.set()


class _Writer:
    """Writes frames from a thread of its own, so that the training loop never waits for the app
    to read (a snapshot is larger than a pipe's buffer: writing it in the loop cost 11% of the
    training speed while the window was busy drawing)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=256)
        self._thread = threading.Thread(target=self._work, name="frames", daemon=True)
        self._thread.start()
        self.broken = False

    def __call__(self, data: bytes) -> None:
        if not self.broken:
            self._queue.put(data)

    def _work(self) -> None:
        while (data := self._queue.get()) is not None:
            if self.broken:
                continue
            try:
                self._stream.write(data)
                self._stream.flush()
            except OSError:  # the app went away: the run is stopped by the input's end
                self.broken = True

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()


def child_main(stdin: BinaryIO, stdout: BinaryIO) -> int:
    frame = read_frame(stdin)
    if frame is None or frame[0].get("type") != "start":
        print("digitgui.core.train_process: expected a start frame on stdin", file=sys.stderr)
        return 2
    header, blob = frame
    write = _Writer(stdout)
    control = _Control()
    threading.Thread(target=control.follow, args=(stdin,), name="commands", daemon=True).start()
    write(encode({"type": "started"}))
    final = None
    try:
        from .training import TrainConfig, train

        config = TrainConfig.from_dict(header["config"])
        run = train(
            config,
            should_stop=control.stop.is_set,
            snapshot_interval=header.get("snapshot_interval"),
            extra_train=decode_rows(blob),
            live_lr=control.live_lr,
        )
        final = relay(
            run,
            lambda records, paused: write(encode_progress(records, paused)),
            control.running,
            float(header.get("batch_interval", 0.03)),
        )
    except Exception as e:
        message = str(e) or type(e).__name__
        write(encode({"type": "error", "message": message, "details": traceback.format_exc()}))
    write(encode({"type": "end", "final": final is not None}))
    write.close()
    return 0


def _grow_pipe(fd: int, size: int = 1 << 20) -> None:
    """Ask Linux for a larger pipe buffer (a snapshot is ~140 kB; the default buffer 64 kB)."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except (ImportError, OSError):
        pass  # not Linux, not a pipe, or over the system's limit: the default works too


def main() -> int:
    # Frames go to the real standard output; anything else printing (a library's warning, a
    # stray print) goes to standard error instead of into the stream.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    _grow_pipe(out.fileno())
    # Commands are read from the unbuffered file: a thread blocked in a buffered reader's read
    # would abort the interpreter's shutdown.
    code = child_main(sys.stdin.buffer.raw, out)
    with contextlib.suppress(OSError):
        out.close()
    sys.stderr.flush()
    # The run is over and everything is written: skip the interpreter's teardown (the command
    # thread is still blocked reading; the app waits for this process to exit).
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
