"""scripts/model-internals.py: the decoder's fields read back agree with what the kiosk decodes,
and the heatmap's peak fit finds a known sub-cell peak."""

import numpy as np
import pytest

from kiosk.core.types import Frame
from kiosk.model.decode import VoteDecoder
from kiosk.model.pose import MIRROR_ORDER
from kiosk.model.tensors import DecoderFields

from conftest import load_script, shared_file


@pytest.fixture(scope="module")
def internals():
    return load_script("model-internals.py")


def test_the_peak_fit_finds_a_parabolas_top_between_cells(internals):
    grid, keypoints = 12, 17
    rows, cols = np.meshgrid(np.arange(grid), np.arange(grid), indexing="ij")
    heat = np.zeros((grid, grid, keypoints))
    true_y, true_x = 5.3, 7.8
    heat[..., 0] = 1.0 - 0.05 * ((rows - true_y) ** 2 + (cols - true_x) ** 2)
    cells = np.zeros(keypoints, dtype=np.int64)
    cells[0] = 5 * grid + 8
    fields = DecoderFields(heat, np.zeros((grid, grid, 2 * keypoints)), cells, np.zeros((keypoints, 3)))
    fitted = internals.peak_fit(fields)
    assert fitted[0] == pytest.approx([true_y, true_x], abs=1e-9)


def test_the_fields_read_back_decode_to_the_keypoints_the_kiosk_shows(movenet, internals):
    import cv2

    image = cv2.cvtColor(cv2.imread(str(shared_file("tfex_image1.png"))), cv2.COLOR_BGR2RGB)
    frame = Frame(image, 0, 0.0)
    movenet.forget_person()
    movenet.infer(movenet.prepare(frame))
    prepared = movenet.prepare(frame)
    own, mirrored = movenet.decoder_fields(prepared)
    shown = movenet.infer(prepared)  # the same crop through the kiosk's own path (mirror averaged)
    size = movenet.input_size_px
    decoder = VoteDecoder()
    grid = own.heatmap.shape[0]
    xy = decoder.decode(own.heatmap, own.offsets, own.cells)[:, ::-1] / grid * size
    back = decoder.decode(mirrored.heatmap, mirrored.offsets, mirrored.cells)[:, ::-1] / grid * size
    back[:, 0] = size - back[:, 0]
    mean_xy = prepared.mapping.to_frame((xy + back[MIRROR_ORDER]) / 2)
    assert np.abs(mean_xy - shown.xy_px).max() < 0.01
    assert own.heatmap.shape == (48, 48, 17) and own.offsets.shape == (48, 48, 34)
    assert own.heatmap.min() >= 0.0 and own.heatmap.max() <= 1.0


def test_a_few_grey_levels_move_the_hip_line_and_nothing_else_does(movenet, internals, monkeypatch):
    """The grey-level probe changes only the values it draws: with none drawn the hip line does not
    move at all, and with 17 it moves in some draws (the model's sensitivity it measures)."""
    import cv2

    from kiosk.model.follow import crop_around

    image = cv2.cvtColor(cv2.imread(str(shared_file("tfex_image1.png"))), cv2.COLOR_BGR2RGB)
    frame = Frame(image, 0, 0.0)
    movenet.forget_person()
    crop = crop_around(movenet.infer(movenet.prepare(frame)))
    moves = internals.grey_level_moves(movenet, VoteDecoder(), frame, crop)
    assert moves.shape == (internals.GREY_LEVEL_DRAWS,) and np.isfinite(moves).all()
    assert np.abs(moves).max() > 0.05
    monkeypatch.setattr(internals, "GREY_LEVEL_VALUES", 0)
    assert np.abs(internals.grey_level_moves(movenet, VoteDecoder(), frame, crop)).max() == 0.0
