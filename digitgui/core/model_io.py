"""Trained classifiers and their files.

A model file is a plain ``.npz`` (a zip of ``.npy`` arrays): ``W0 ... W{L-1}`` in the notebook's
layout, the scaler's ``mean`` and ``scale``, and ``metadata``, a JSON string. It is read with
``allow_pickle=False`` and checked array by array, so a file can never run code and a damaged one
gets a sentence saying what is wrong instead of a traceback. Writes go to a temporary file that is
renamed over the target only when complete.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomic_file import write_atomically
from .mlp import ACTIVATIONS, MLP

__all__ = [
    "FORMAT_VERSION",
    "DigitClassifier",
    "ModelFileError",
    "default_model_path",
    "load_default",
    "resource_path",
]

FORMAT_VERSION = 1
N_PIXELS = 64
N_CLASSES = 10


class ModelFileError(ValueError):
    """A model file cannot be used; the message says why in one sentence."""


def resource_path(name: str) -> Path:
    """Path of a shipped resource: inside the installed package (wheel) or, when running from a
    source checkout, in the repository's top-level ``resources/`` folder."""
    here = Path(__file__).resolve().parent.parent  # the digitgui package
    for folder in (here / "resources", here.parent / "resources"):
        candidate = folder / name
        if candidate.exists():
            return candidate
    return here.parent / "resources" / name


def default_model_path() -> Path:
    return resource_path("default_model.npz")


@dataclass(eq=False)
class DigitClassifier:
    """An :class:`MLP` plus the input standardisation it was trained with.

    ``mean`` and ``scale`` (64 values each) are the ``StandardScaler`` statistics of the training
    rows; ``clip``, when set, bounds the standardised inputs to ``[-clip, clip]``: a pixel that was
    almost never inked in training (tiny variance) would otherwise turn a drawing's stray ink into
    a value of 30 or more that swamps everything else.
    """

    mlp: MLP
    mean: np.ndarray
    scale: np.ndarray
    clip: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.mean = np.asarray(self.mean, dtype=np.float64).reshape(-1)
        self.scale = np.asarray(self.scale, dtype=np.float64).reshape(-1)
        sizes = self.mlp.layer_sizes
        if sizes[0] != N_PIXELS or sizes[-1] != N_CLASSES:
            raise ValueError(f"a digit classifier maps 64 pixels to 10 classes, got {sizes}")
        if self.mean.shape != (N_PIXELS,) or self.scale.shape != (N_PIXELS,):
            raise ValueError("mean and scale must hold 64 values each")
        if np.any(self.scale <= 0):
            raise ValueError("scale values must be positive")

    # prediction -----------------------------------------------------------------------------------

    @staticmethod
    def as_rows(digits: np.ndarray) -> tuple[np.ndarray, bool]:
        """Raw digits ``(8, 8)``, ``(64,)``, ``(n, 8, 8)`` or ``(n, 64)`` as rows ``(n, 64)``, and
        whether a single digit was given."""
        d = np.asarray(digits, dtype=np.float64)
        if d.shape in ((8, 8), (64,)):
            return d.reshape(1, N_PIXELS), True
        if d.ndim == 3 and d.shape[1:] == (8, 8):
            return d.reshape(-1, N_PIXELS), False
        if d.ndim == 2 and d.shape[1] == N_PIXELS:
            return d, False
        raise ValueError(f"digits must be shaped (8, 8), (n, 8, 8) or (n, 64), got {d.shape}")

    def standardize(self, digits: np.ndarray) -> np.ndarray:
        """Raw 0..16 digits (any shape :meth:`as_rows` accepts) as network inputs ``(n, 64)``."""
        rows, _ = self.as_rows(digits)
        Z = (rows - self.mean) / self.scale
        if self.clip is not None:
            np.clip(Z, -self.clip, self.clip, out=Z)
        return Z

    def predict_proba(self, digits: np.ndarray) -> np.ndarray:
        """Softmax probabilities: ``(10,)`` for one digit, else ``(n, 10)``."""
        _, single = self.as_rows(digits)
        p = self.mlp.predict_proba(self.standardize(digits))
        return p[0] if single else p

    def predict(self, digits: np.ndarray) -> np.ndarray | int:
        p = self.predict_proba(digits)
        return int(np.argmax(p)) if p.ndim == 1 else np.argmax(p, axis=1)

    @property
    def description(self) -> str:
        """One line for a status bar: architecture and accuracies."""
        sizes = "-".join(str(s) for s in self.mlp.layer_sizes)
        parts = [f"{sizes} {self.mlp.activation}"]
        acc = self.metadata.get("accuracy", {})
        for key, label in (("train", "train"), ("val", "val"), ("test", "test")):
            if isinstance(acc.get(key), (int, float)):
                parts.append(f"{label} {100 * acc[key]:.1f}%")
        return ", ".join(parts)

    def copy(self) -> DigitClassifier:
        return DigitClassifier(
            self.mlp.copy(),
            self.mean.copy(),
            self.scale.copy(),
            self.clip,
            json.loads(json.dumps(self.metadata)),
        )

    # files ----------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model to ``path`` atomically (a temporary file in the same folder, renamed over
        the target when complete): a failed save leaves any older file intact. Returns the path."""
        path = Path(path)
        meta = dict(self.metadata)
        meta.update(
            format_version=FORMAT_VERSION,
            layer_sizes=list(self.mlp.layer_sizes),
            activation=self.mlp.activation,
            clip=self.clip,
        )
        arrays = {f"W{l}": np.asarray(w, np.float64) for l, w in enumerate(self.mlp.weights)}
        arrays["mean"] = self.mean
        arrays["scale"] = self.scale
        arrays["metadata"] = np.array(json.dumps(meta, sort_keys=True, default=_json_default))
        return write_atomically(path, _npz_bytes(arrays))

    @classmethod
    def load(cls, path: str | os.PathLike) -> DigitClassifier:
        """Read a model file; any problem raises :class:`ModelFileError` with one clear sentence."""
        path = Path(path)
        name = str(path)
        if not path.exists():
            raise ModelFileError(f"{name}: no such file")
        if path.is_dir():
            raise ModelFileError(f"{name}: is a folder, not a model file")
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise ModelFileError(f"{name}: cannot be read ({e.strerror or e})") from None
        if not raw:
            raise ModelFileError(f"{name}: the file is empty")
        try:
            archive = np.load(io.BytesIO(raw), allow_pickle=False)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError):
            raise ModelFileError(
                f"{name}: not a digitgui model file (expected an .npz archive; "
                "the file may be truncated or of another kind)"
            ) from None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ModelFileError(f"{name}: holds a single array, not a digitgui model (.npz)")
        with archive:
            return cls._from_archive(archive, name)

    @classmethod
    def _from_archive(cls, archive, name: str) -> DigitClassifier:
        def get(key: str) -> np.ndarray:
            if key not in archive.files:
                raise ModelFileError(f"{name}: the array {key!r} is missing")
            try:
                return archive[key]
            except ValueError as e:
                if "pickle" in str(e).lower():
                    raise ModelFileError(
                        f"{name}: the array {key!r} holds pickled Python objects, which digitgui "
                        "never loads (they could run code)"
                    ) from None
                raise ModelFileError(f"{name}: the array {key!r} is damaged ({e})") from None
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                raise ModelFileError(
                    f"{name}: the array {key!r} cannot be read; the file is truncated "
                    f"or damaged ({e})"
                ) from None

        meta_arr = get("metadata")
        if meta_arr.shape != () or meta_arr.dtype.kind != "U":
            raise ModelFileError(f"{name}: 'metadata' must be a JSON string")
        try:
            meta = json.loads(str(meta_arr))
        except json.JSONDecodeError as e:
            raise ModelFileError(f"{name}: the metadata is not valid JSON ({e.msg})") from None
        if not isinstance(meta, dict):
            raise ModelFileError(f"{name}: the metadata must be a JSON object")
        version = meta.get("format_version")
        if not isinstance(version, int):
            raise ModelFileError(f"{name}: the metadata has no format_version")
        if version > FORMAT_VERSION:
            raise ModelFileError(
                f"{name}: written by a newer digitgui (format {version}; this version reads "
                f"format {FORMAT_VERSION} and older). Update digitgui to open it."
            )
        sizes = meta.get("layer_sizes")
        if (
            not isinstance(sizes, list)
            or len(sizes) < 2
            or not all(isinstance(s, int) and s > 0 for s in sizes)
        ):
            raise ModelFileError(f"{name}: layer_sizes in the metadata must be positive integers")
        if sizes[0] != N_PIXELS or sizes[-1] != N_CLASSES:
            raise ModelFileError(
                f"{name}: the network maps {sizes[0]} inputs to {sizes[-1]} classes; a digit "
                "model maps 64 pixels to 10 classes"
            )
        activation = meta.get("activation")
        if activation not in ACTIVATIONS:
            raise ModelFileError(f"{name}: unknown activation {activation!r}")
        clip = meta.get("clip")
        if clip is not None and not (isinstance(clip, (int, float)) and clip > 0):
            raise ModelFileError(f"{name}: clip must be a positive number or null")

        weights = []
        for l, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            w = get(f"W{l}")
            expected = (fan_in + 1, fan_out)
            if w.shape != expected:
                raise ModelFileError(
                    f"{name}: W{l} has shape {w.shape}, expected {expected} for layers {sizes}"
                )
            weights.append(_finite_float(w, f"W{l}", name))
        extra = sorted(
            k
            for k in archive.files
            if k.startswith("W") and k[1:].isdigit() and int(k[1:]) >= l + 1
        )
        if extra:
            raise ModelFileError(
                f"{name}: has {extra[0]} but layer_sizes lists {len(sizes) - 1} layers"
            )
        mean = get("mean")
        scale = get("scale")
        for key, arr in (("mean", mean), ("scale", scale)):
            if arr.shape != (N_PIXELS,):
                raise ModelFileError(f"{name}: {key} has shape {arr.shape}, expected (64,)")
        mean = _finite_float(mean, "mean", name)
        scale = _finite_float(scale, "scale", name)
        if np.any(scale <= 0):
            raise ModelFileError(f"{name}: scale values must be positive")
        return cls(
            MLP(weights, activation), mean, scale, None if clip is None else float(clip), meta
        )


def _finite_float(a: np.ndarray, key: str, name: str) -> np.ndarray:
    if a.dtype.kind not in "fiu":
        raise ModelFileError(f"{name}: {key} must hold numbers, not {a.dtype}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise ModelFileError(f"{name}: {key} contains NaN or infinite values")
    return a


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    if isinstance(o, os.PathLike):
        return os.fspath(o)
    raise TypeError(f"cannot store {type(o).__name__} in model metadata")


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An ``.npz`` archive in memory, byte-for-byte reproducible: ``np.savez`` stamps each member
    with the current time, which would make two saves of the same model differ."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, arr in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue())
    return buf.getvalue()


def load_default() -> DigitClassifier:
    """The model shipped with digitgui (``resources/default_model.npz``)."""
    path = default_model_path()
    if not path.exists():
        raise ModelFileError(
            f"{path}: the shipped default model is missing; rebuild it with "
            "`python scripts/train_default_model.py`"
        )
    return DigitClassifier.load(path)
