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
    """The arrays of a format-1 file (one network as ``W0 ...``), as older digitgui wrote them."""
    meta = {
        "format_version": 1,
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
        assert set(f.files) == {"net0_W0", "net0_W1", "mean", "scale", "metadata"}
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


def test_a_format_1_file_still_loads_as_one_uncalibrated_network(tmp_path, model):
    loaded = DigitClassifier.load(_npz(tmp_path / "old.npz", **_arrays(model, clip=5.0)))
    assert loaded.n_members == 1 and loaded.temperature == 1.0
    assert loaded.confidence_threshold is None
    digits = np.random.default_rng(1).integers(0, 17, (5, 64))
    np.testing.assert_array_equal(loaded.predict_proba(digits), model.predict_proba(digits))


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
                info.filename, data[: len(data) // 3] if info.filename == "net0_W0.npy" else data
            )
    p.write_bytes(buf.getvalue())
    msg = _error(p)
    assert "W0" in msg


# --- ensembles ------------------------------------------------------------------------------------


@pytest.fixture
def ensemble() -> DigitClassifier:
    rng = np.random.default_rng(0)
    members = [MLP.create((64, 16, 10), seed=k) for k in range(3)]
    return DigitClassifier(
        members,
        rng.uniform(0, 8, 64),
        rng.uniform(0.5, 6, 64),
        clip=5.0,
        metadata={"note": "ensemble"},
        temperature=1.7,
        confidence_threshold=0.6,
    )


def test_ensemble_averages_its_networks_then_applies_the_temperature(ensemble):
    digits = np.random.default_rng(2).integers(0, 17, (7, 64))
    Z = ensemble.standardize(digits)
    mean = np.mean([m.predict_proba(Z) for m in ensemble.members], axis=0)
    expected = np.exp(np.log(mean) / 1.7)
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ensemble.predict_proba(digits), expected, rtol=1e-12)
    np.testing.assert_allclose(ensemble.logits(digits), np.log(mean), rtol=1e-12)
    # The temperature never changes which class wins.
    np.testing.assert_array_equal(ensemble.predict(digits), np.argmax(mean, axis=1))


def test_one_member_of_an_ensemble_is_that_network_alone(ensemble):
    digits = np.random.default_rng(3).integers(0, 17, (4, 64))
    one = ensemble.member(2)
    assert one.n_members == 1 and one.temperature == 1.0
    np.testing.assert_array_equal(
        one.predict_proba(digits), ensemble.members[2].predict_proba(ensemble.standardize(digits))
    )
    with pytest.raises(IndexError):
        ensemble.member(3)


def test_ensemble_round_trip(tmp_path, ensemble):
    loaded = DigitClassifier.load(ensemble.save(tmp_path / "e.npz"))
    assert loaded.n_members == 3
    assert loaded.temperature == 1.7 and loaded.confidence_threshold == 0.6
    for a, b in zip(loaded.members, ensemble.members, strict=True):
        for wa, wb in zip(a.weights, b.weights, strict=True):
            np.testing.assert_array_equal(wa, wb)
    digits = np.random.default_rng(1).integers(0, 17, (5, 8, 8))
    np.testing.assert_array_equal(loaded.predict_proba(digits), ensemble.predict_proba(digits))


def test_networks_of_different_shapes_cannot_form_an_ensemble():
    with pytest.raises(ValueError, match="same shape"):
        DigitClassifier(
            [MLP.create((64, 16, 10), seed=0), MLP.create((64, 8, 10), seed=1)],
            np.zeros(64),
            np.ones(64),
        )


def _ensemble_arrays(tmp_path, ensemble, **meta_changes) -> dict:
    with np.load(ensemble.save(tmp_path / "good.npz"), allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays["metadata"]))
    meta.update(meta_changes)
    arrays["metadata"] = np.array(json.dumps(meta))
    return arrays


@pytest.mark.parametrize(
    ("temperature", "words"),
    [
        (float("nan"), "temperature must be a positive number"),
        (0, "temperature must be a positive number"),
        (-1.5, "temperature must be a positive number"),
        ("hot", "temperature must be a positive number"),
        (None, "temperature must be a positive number"),
    ],
)
def test_bad_temperature_is_refused(tmp_path, ensemble, temperature, words):
    arrays = _ensemble_arrays(tmp_path, ensemble, temperature=temperature)
    assert words in _error(_npz(tmp_path / "m.npz", **arrays))


@pytest.mark.parametrize("threshold", [0, 1.5, float("nan"), "sure"])
def test_bad_confidence_threshold_is_refused(tmp_path, ensemble, threshold):
    arrays = _ensemble_arrays(tmp_path, ensemble, confidence_threshold=threshold)
    assert "confidence threshold" in _error(_npz(tmp_path / "m.npz", **arrays))


@pytest.mark.parametrize("members", [0, -2, 2.5, "three", None, True])
def test_bad_member_count_is_refused(tmp_path, ensemble, members):
    arrays = _ensemble_arrays(tmp_path, ensemble, members=members)
    assert "members must be" in _error(_npz(tmp_path / "m.npz", **arrays))


def test_a_member_listed_but_missing_is_named(tmp_path, ensemble):
    arrays = _ensemble_arrays(tmp_path, ensemble, members=4)
    assert "'net3_W0' is missing" in _error(_npz(tmp_path / "m.npz", **arrays))


def test_a_member_of_another_size_is_refused(tmp_path, ensemble):
    arrays = _ensemble_arrays(tmp_path, ensemble)
    arrays["net1_W0"] = np.zeros((65, 8))
    msg = _error(_npz(tmp_path / "m.npz", **arrays))
    assert "network 2's net1_W0 has shape (65, 8), expected (65, 16)" in msg


def test_an_array_the_metadata_does_not_describe_is_refused(tmp_path, ensemble):
    arrays = _ensemble_arrays(tmp_path, ensemble, members=2)
    assert "'net2_W0' that the metadata does not describe" in _error(
        _npz(tmp_path / "m.npz", **arrays)
    )
