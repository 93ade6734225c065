"""scripts/model-input-probe.py's comparison: a difference in the input told from one in the model."""

import numpy as np
import pytest

from conftest import load_script


@pytest.fixture(scope="module")
def probe():
    return load_script("model-input-probe.py")


def _save(path, tensor, plain, their_plain=None):
    heatmap = np.zeros((4, 4, 17))
    extra = {} if their_plain is None else {"their_tensor_heatmap": heatmap, "their_tensor_plain": their_plain}
    np.savez(path, tensor=tensor, heatmap=heatmap, plain=plain, **extra)


def test_the_comparison_names_the_input_and_the_model(tmp_path, probe):
    tensor = np.zeros((1, 8, 8, 3), np.uint8)
    theirs_tensor = tensor.copy()
    theirs_tensor[0, 1, 2, 0] = 1  # one value one level apart
    plain = np.zeros((17, 3))
    theirs_plain = plain.copy()
    theirs_plain[5, 0] = 0.25
    _save(tmp_path / "theirs.npz", theirs_tensor, theirs_plain)
    _save(tmp_path / "mine.npz", tensor, plain, their_plain=theirs_plain)  # their input, my model: their output
    line = probe.compare(tmp_path / "mine.npz", tmp_path / "theirs.npz")
    assert "1 of 192 values differ (at most by 1)" in line and "0.2500" in line and "bit-identical" in line
    _save(tmp_path / "mine.npz", tensor, plain, their_plain=plain)  # their input, my model: not their output
    assert "DIFFERENT" in probe.compare(tmp_path / "mine.npz", tmp_path / "theirs.npz")
