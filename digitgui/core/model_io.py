"""Trained classifiers and their files.

A model file is a plain ``.npz`` (a zip of ``.npy`` arrays): the weights of each network in the
notebook's layout (``net0_W0 ... net0_W{L-1}``, ``net1_W0 ...``; a format-1 file holds one network
as ``W0 ... W{L-1}``), the scaler's ``mean`` and ``scale``, and ``metadata``, a JSON string with
the layer sizes, the number of networks, the calibration temperature and how the model was made.
It is read with ``allow_pickle=False`` and checked array by array, so a file can never run code
and a damaged one gets a sentence saying what is wrong instead of a traceback. Writes go to a
temporary file that is renamed over the target only when complete.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .atomic_file import write_atomically
from .ensemble import Ensemble
from .mlp import ACTIVATIONS, MLP

__all__ = [
    "FORMAT_VERSION",
    "DigitClassifier",
    "ModelFileError",
    "default_model_path",
    "load_default",
    "resource_path",
]

#: 1: one network (``W0 ...``). 2: ``members`` networks (``net0_W0 ...``), a ``temperature`` and
#: a ``confidence_threshold`` in the metadata. Files of format 1 still load.
FORMAT_VERSION = 2
N_PIXELS = 64
N_CLASSES = 10
#: More networks than this in one file is taken for a damaged file, not a model.
MAX_MEMBERS = 64


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


class DigitClassifier(Ensemble):
    """One network or an ensemble of a few (:class:`~digitgui.core.ensemble.Ensemble`), the input
    standardisation it was trained with, its calibration and its metadata.

    ``mean`` and ``scale`` (64 values each) are the ``StandardScaler`` statistics of the training
    rows; ``clip``, when set, bounds the standardised inputs to ``[-clip, clip]``: a pixel that was
    almost never inked in training (tiny variance) would otherwise turn a drawing's stray ink into
    a value of 30 or more that swamps everything else. ``temperature`` calibrates the
    probabilities; ``confidence_threshold`` (or None) is the top probability below which the app
    says "not sure", chosen on held-out drawings.
    """

    def __init__(
        self,
        mlp: MLP | Sequence[MLP],
        mean: np.ndarray,
        scale: np.ndarray,
        clip: float | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        temperature: float = 1.0,
        confidence_threshold: float | None = None,
    ) -> None:
        super().__init__(mlp, mean, scale, clip, temperature)
        if confidence_threshold is not None and not 0 < confidence_threshold <= 1:
            raise ValueError("the confidence threshold must lie in (0, 1]")
        self.confidence_threshold = (
            None if confidence_threshold is None else float(confidence_threshold)
        )
        self.metadata: dict[str, Any] = {} if metadata is None else metadata

    @property
    def description(self) -> str:
        """One line for a status bar: architecture and accuracies."""
        sizes = "-".join(str(s) for s in self.layer_sizes)
        parts = [f"{sizes} {self.activation}"]
        if self.n_members > 1:
            parts[0] += f" x{self.n_members}"
        acc = self.metadata.get("accuracy", {})
        for key, label in (("train", "train"), ("val", "val"), ("test", "test")):
            if isinstance(acc.get(key), (int, float)):
                parts.append(f"{label} {100 * acc[key]:.1f}%")
        return ", ".join(parts)

    def __repr__(self) -> str:
        """One line, e.g. ``<DigitClassifier 64-128-64-10 relu x5, train 100.0%, val 97.8%, ...>``,
        never the weight arrays."""
        return f"<DigitClassifier {self.description}>"

    def member(self, k: int) -> DigitClassifier:
        """Network ``k`` (0-based) alone, with the same inputs, uncalibrated (its own softmax):
        for the views that show the inside of one network."""
        if not 0 <= k < self.n_members:
            raise IndexError(f"network {k} of {self.n_members}")
        if self.n_members == 1 and self.temperature == 1.0:
            return self
        return DigitClassifier(self.members[k], self.mean, self.scale, self.clip, self.metadata)

    def copy(self) -> DigitClassifier:
        return DigitClassifier(
            [m.copy() for m in self.members],
            self.mean.copy(),
            self.scale.copy(),
            self.clip,
            json.loads(json.dumps(self.metadata, default=_json_default)),
            temperature=self.temperature,
            confidence_threshold=self.confidence_threshold,
        )

    # files ----------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model to ``path`` atomically (a temporary file in the same folder, renamed over
        the target when complete): a failed save leaves any older file intact. Returns the path."""
        return write_atomically(Path(path), self.to_bytes())

    def to_bytes(self, *, compress: bool = True) -> bytes:
        """The model file's bytes (what :meth:`save` writes). ``compress=False`` stores the arrays
        as they are: faster, for handing a model to another process."""
        meta = dict(self.metadata)
        meta.update(
            format_version=FORMAT_VERSION,
            layer_sizes=list(self.layer_sizes),
            activation=self.activation,
            clip=self.clip,
            members=self.n_members,
            temperature=self.temperature,
            confidence_threshold=self.confidence_threshold,
        )
        arrays = {}
        for k, m in enumerate(self.members):
            for l, w in enumerate(m.weights):
                arrays[f"{_member_prefix(k)}W{l}"] = np.asarray(w, np.float64)
        arrays["mean"] = self.mean
        arrays["scale"] = self.scale
        arrays["metadata"] = np.array(json.dumps(meta, sort_keys=True, default=_json_default))
        return _npz_bytes(arrays, compress=compress)

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
        return cls.from_bytes(raw, name)

    @classmethod
    def from_bytes(cls, raw: bytes, name: str = "model") -> DigitClassifier:
        """A model from a model file's bytes, checked as :meth:`load` checks a file (``name`` is
        what the error messages call it)."""
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
            return cls._from_archive(_Archive(archive, name))

    @classmethod
    def _from_archive(cls, archive: _Archive) -> DigitClassifier:
        meta = _read_metadata(archive)
        sizes, activation = meta["layer_sizes"], meta["activation"]
        if meta["format_version"] >= 2:
            n_members = meta["members"]
            prefixes = [_member_prefix(k) for k in range(n_members)]
        else:
            n_members, prefixes = 1, [""]
        members = [_read_mlp(archive, prefix, sizes, activation) for prefix in prefixes]
        known = {"mean", "scale", "metadata"} | _weight_keys(prefixes, sizes)
        stray = sorted(set(archive.files) - known)
        if stray:
            raise ModelFileError(
                f"{archive.name}: has an array {stray[0]!r} that the metadata does not describe "
                f"({n_members} network(s) of layers {sizes})"
            )
        mean = archive.get("mean")
        scale = archive.get("scale")
        for key, arr in (("mean", mean), ("scale", scale)):
            if arr.shape != (N_PIXELS,):
                raise ModelFileError(f"{archive.name}: {key} has shape {arr.shape}, expected (64,)")
        mean = _finite_float(mean, "mean", archive.name)
        scale = _finite_float(scale, "scale", archive.name)
        if np.any(scale <= 0):
            raise ModelFileError(f"{archive.name}: scale values must be positive")
        clip = meta.get("clip")
        return cls(
            members,
            mean,
            scale,
            None if clip is None else float(clip),
            meta,
            temperature=float(meta.get("temperature", 1.0)),
            confidence_threshold=meta.get("confidence_threshold"),
        )


def _member_prefix(k: int) -> str:
    return f"net{k}_"


def _weight_keys(prefixes: list[str], sizes: list[int]) -> set[str]:
    return {f"{p}W{l}" for p in prefixes for l in range(len(sizes) - 1)}


class _Archive:
    """An open ``.npz`` whose arrays are read with one-sentence errors naming the file."""

    def __init__(self, npz, name: str) -> None:
        self.npz = npz
        self.name = name
        self.files = list(npz.files)

    def get(self, key: str) -> np.ndarray:
        name = self.name
        if key not in self.files:
            raise ModelFileError(f"{name}: the array {key!r} is missing")
        try:
            return self.npz[key]
        except ValueError as e:
            if "pickle" in str(e).lower():
                raise ModelFileError(
                    f"{name}: the array {key!r} holds pickled Python objects, which digitgui "
                    "never loads (they could run code)"
                ) from None
            raise ModelFileError(f"{name}: the array {key!r} is damaged ({e})") from None
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise ModelFileError(
                f"{name}: the array {key!r} cannot be read; the file is truncated or damaged ({e})"
            ) from None


def _positive_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _read_metadata(archive: _Archive) -> dict[str, Any]:
    """The metadata JSON, checked field by field for the format version it names."""
    name = archive.name
    meta_arr = archive.get("metadata")
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
    if meta.get("activation") not in ACTIVATIONS:
        raise ModelFileError(f"{name}: unknown activation {meta.get('activation')!r}")
    clip = meta.get("clip")
    if clip is not None and not _positive_number(clip):
        raise ModelFileError(f"{name}: clip must be a positive number or null")
    if version >= 2:
        members = meta.get("members")
        if not (isinstance(members, int) and not isinstance(members, bool) and members >= 1):
            raise ModelFileError(f"{name}: members must be a positive whole number of networks")
        if members > MAX_MEMBERS:
            raise ModelFileError(
                f"{name}: lists {members} networks; digitgui reads at most {MAX_MEMBERS}"
            )
        if not _positive_number(meta.get("temperature")):
            raise ModelFileError(
                f"{name}: the temperature must be a positive number, got "
                f"{meta.get('temperature')!r}"
            )
        threshold = meta.get("confidence_threshold")
        if threshold is not None and not (_positive_number(threshold) and threshold <= 1):
            raise ModelFileError(
                f"{name}: the confidence threshold must be a probability in (0, 1] or null"
            )
    return meta


def _read_mlp(archive: _Archive, prefix: str, sizes: list[int], activation: str) -> MLP:
    """The network whose weights are ``{prefix}W0 ...`` in the archive, checked against
    ``sizes``."""
    weights = []
    for l, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        key = f"{prefix}W{l}"
        w = archive.get(key)
        expected = (fan_in + 1, fan_out)
        if w.shape != expected:
            what = f"network {int(prefix[3:-1]) + 1}'s " if prefix else ""
            raise ModelFileError(
                f"{archive.name}: {what}{key} has shape {w.shape}, expected {expected} for "
                f"layers {sizes}"
            )
        weights.append(_finite_float(w, key, archive.name))
    return MLP(weights, activation)


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


def _npz_bytes(arrays: dict[str, np.ndarray], compress: bool = True) -> bytes:
    """An ``.npz`` archive in memory, byte-for-byte reproducible: ``np.savez`` stamps each member
    with the current time, which would make two saves of the same model differ."""
    buf = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for key, arr in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
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
