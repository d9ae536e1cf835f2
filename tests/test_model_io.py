"""Model files: round trip, atomic writes, and one clear error per kind of bad file."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from digitgui.core.mlp import MLP
from digitgui.core.model_io import (
    FORMAT_VERSION,
    DigitClassifier,
    ModelFileError,
    default_model_path,
    load_default,
)


@pytest.fixture
def model() -> DigitClassifier:
    mlp = MLP.create((64, 16, 10), seed=0)
    rng = np.random.default_rng(0)
    return DigitClassifier(
        mlp, rng.uniform(0, 8, 64), rng.uniform(0.5, 6, 64), clip=5.0, metadata={"note": "test"}
    )


def _npz(path: Path, **arrays) -> Path:
    np.savez(path, **arrays)
    return path


def _arrays(model: DigitClassifier, **meta_changes) -> dict:
    meta = {
        "format_version": FORMAT_VERSION,
        "layer_sizes": list(model.mlp.layer_sizes),
        "activation": "relu",
        "clip": None,
        **meta_changes,
    }
    arrays = {f"W{l}": w for l, w in enumerate(model.mlp.weights)}
    arrays.update(mean=model.mean, scale=model.scale, metadata=np.array(json.dumps(meta)))
    return arrays


def test_round_trip_keeps_weights_scaler_clip_and_metadata(tmp_path, model):
    path = model.save(tmp_path / "m.npz")
    loaded = DigitClassifier.load(path)
    for a, b in zip(loaded.mlp.weights, model.mlp.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.mean, model.mean)
    np.testing.assert_array_equal(loaded.scale, model.scale)
    assert loaded.clip == 5.0
    assert loaded.metadata["note"] == "test"
    assert loaded.metadata["format_version"] == FORMAT_VERSION
    digits = np.random.default_rng(1).integers(0, 17, (5, 8, 8))
    np.testing.assert_array_equal(loaded.predict_proba(digits), model.predict_proba(digits))


def test_saving_twice_gives_identical_bytes(tmp_path, model):
    a = model.save(tmp_path / "a.npz").read_bytes()
    b = model.save(tmp_path / "b.npz").read_bytes()
    assert a == b


def test_file_is_a_plain_npz_without_pickles(tmp_path, model):
    path = model.save(tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as f:
        assert set(f.files) == {"W0", "W1", "mean", "scale", "metadata"}
        json.loads(str(f["metadata"]))


def test_failed_save_leaves_the_old_file_intact(tmp_path, model, monkeypatch):
    path = model.save(tmp_path / "m.npz")
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("digitgui.core.atomic_file.os.replace", broken_replace)
    other = model.copy()
    other.mlp.weights[0][:] = 0
    with pytest.raises(OSError):
        other.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary file left behind


def test_predict_proba_shapes(model):
    one = model.predict_proba(np.zeros((8, 8)))
    assert one.shape == (10,)
    assert model.predict_proba(np.zeros(64)).shape == (10,)
    assert model.predict_proba(np.zeros((3, 8, 8))).shape == (3, 10)
    assert model.predict_proba(np.zeros((3, 64))).shape == (3, 10)
    with pytest.raises(ValueError, match="shaped"):
        model.predict_proba(np.zeros((7, 7)))


def test_clip_bounds_standardised_inputs(model):
    z = model.standardize(np.full((8, 8), 16.0))
    assert z.max() <= 5.0


def test_shipped_default_model_loads():
    m = load_default()
    assert m.mlp.layer_sizes[0] == 64 and m.mlp.layer_sizes[-1] == 10
    assert default_model_path().name == "default_model.npz"


# --- bad files: each gets one clear sentence ------------------------------------------------------


def _error(path) -> str:
    with pytest.raises(ModelFileError) as info:
        DigitClassifier.load(path)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg
    return msg


def test_missing_file(tmp_path):
    assert "no such file" in _error(tmp_path / "nope.npz")


def test_folder(tmp_path):
    assert "folder" in _error(tmp_path)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.npz"
    p.write_bytes(b"")
    assert "empty" in _error(p)


def test_truncated_file(tmp_path, model):
    p = model.save(tmp_path / "m.npz")
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    assert "truncated" in _error(p)


def test_not_a_zip(tmp_path):
    p = tmp_path / "notes.npz"
    p.write_text("these are not weights")
    assert "not a digitgui model file" in _error(p)


def test_single_npy_array(tmp_path):
    p = tmp_path / "array.npz"
    with p.open("wb") as f:
        np.save(f, np.zeros(3))
    assert "single array" in _error(p)


def test_wrong_shape(tmp_path, model):
    arrays = _arrays(model)
    arrays["W1"] = np.zeros((5, 10))
    msg = _error(_npz(tmp_path / "m.npz", **arrays))
    assert "W1 has shape (5, 10), expected (17, 10)" in msg


def test_wrong_scaler_shape(tmp_path, model):
    arrays = _arrays(model)
    arrays["mean"] = np.zeros(63)
    assert "mean has shape (63,)" in _error(_npz(tmp_path / "m.npz", **arrays))


def test_missing_array(tmp_path, model):
    arrays = _arrays(model)
    del arrays["scale"]
    assert "'scale' is missing" in _error(_npz(tmp_path / "m.npz", **arrays))


def test_newer_format_version(tmp_path, model):
    arrays = _arrays(model, format_version=FORMAT_VERSION + 1)
    assert "newer digitgui" in _error(_npz(tmp_path / "m.npz", **arrays))


def test_pickled_objects_are_refused(tmp_path, model):
    arrays = _arrays(model)
    arrays["W0"] = np.array([{"evil": "payload"}], dtype=object)
    msg = _error(_npz(tmp_path / "m.npz", **arrays))
    assert "pickled" in msg


def test_metadata_not_json(tmp_path, model):
    arrays = _arrays(model)
    arrays["metadata"] = np.array("{not json")
    assert "not valid JSON" in _error(_npz(tmp_path / "m.npz", **arrays))


def test_non_finite_weights(tmp_path, model):
    arrays = _arrays(model)
    arrays["W0"] = arrays["W0"].copy()
    arrays["W0"][3, 3] = np.nan
    assert "NaN" in _error(_npz(tmp_path / "m.npz", **arrays))


def test_not_a_digit_model(tmp_path):
    mlp = MLP.create((4, 3, 2), seed=0)
    arrays = {f"W{l}": w for l, w in enumerate(mlp.weights)}
    meta = {"format_version": 1, "layer_sizes": [4, 3, 2], "activation": "relu", "clip": None}
    arrays.update(mean=np.zeros(4), scale=np.ones(4), metadata=np.array(json.dumps(meta)))
    assert "64 pixels to 10 classes" in _error(_npz(tmp_path / "m.npz", **arrays))


def test_damaged_member_inside_a_valid_zip(tmp_path, model):
    p = model.save(tmp_path / "m.npz")
    buf = io.BytesIO()
    with zipfile.ZipFile(p) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(
                info.filename, data[: len(data) // 3] if info.filename == "W0.npy" else data
            )
    p.write_bytes(buf.getvalue())
    msg = _error(p)
    assert "W0" in msg
