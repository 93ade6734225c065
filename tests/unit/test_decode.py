"""Vote decoding: keypoints from MoveNet's heatmap and offset field (synthetic fields with a known
answer, then the real model) and reading those tensors out of the graph."""


import math

import numpy as np
import pytest

from kiosk.core.types import KEYPOINT_COUNT
from kiosk.model.decode import VoteDecoder

from conftest import DATA

G, K = 48, KEYPOINT_COUNT


def _field(peaks_yx, chosen_error=0.1, neighbour_heat=0.5):
    """A heatmap peaked at each keypoint's chosen cell (1.0 there, `neighbour_heat` at the four edge
    neighbours, 0 elsewhere) and offsets whose votes are the truth plus errors that cancel when
    weighted by the heatmap: +error at the chosen cell, -error/(4 h) at each neighbour (a vote of
    its own is quantized too; averaged, they are exact)."""
    neighbour_weight = neighbour_heat
    heat = np.zeros((G, G, K))
    offsets = np.zeros((G, G, 2 * K))
    truth = np.zeros((K, 2))
    cells = np.zeros(K, np.int64)
    for k, (y, x) in enumerate(peaks_yx):
        cy, cx = int(y), int(x)
        truth[k] = (y, x)
        cells[k] = cy * G + cx
        heat[cy, cx, k] = 1.0
        offsets[cy, cx, 2 * k] = y + chosen_error - cy
        offsets[cy, cx, 2 * k + 1] = x + chosen_error - cx
        for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            ny, nx = cy + dy, cx + dx
            if 0 <= ny < G and 0 <= nx < G:
                heat[ny, nx, k] = neighbour_heat
                error = -chosen_error / (4 * neighbour_weight)
                offsets[ny, nx, 2 * k] = y + error - ny
                offsets[ny, nx, 2 * k + 1] = x + error - nx
    return heat, offsets, cells, truth


def test_the_heatmap_weighted_vote_average_finds_the_truth_that_no_single_vote_has():
    rng = np.random.default_rng(3)
    peaks = rng.uniform(3, G - 3, (K, 2))
    heat, offsets, cells, truth = _field(peaks)
    plain = VoteDecoder(radius=0).decode(heat, offsets, cells)
    refined = VoteDecoder(radius=1).decode(heat, offsets, cells)
    np.testing.assert_allclose(plain, truth + 0.1, atol=1e-9)  # one vote: the chosen cell's error
    np.testing.assert_allclose(refined, truth, atol=1e-9)
    # a wider window adds only cells the heatmap gives no weight
    np.testing.assert_allclose(VoteDecoder(radius=2).decode(heat, offsets, cells), truth, atol=1e-9)
    # the weights are the heatmap's own: with the neighbours' votes halved in weight, not cancelled
    halved = heat.copy()
    halved[heat == 0.5] = 0.25
    assert np.abs(VoteDecoder(radius=1).decode(halved, offsets, cells) - truth).max() > 0.02


def test_the_decoders_defaults_are_the_configs():
    from kiosk.settings.config import ModelConfig

    assert VoteDecoder().radius == ModelConfig().refine_radius


def test_cells_outside_the_grid_do_not_vote():
    heat, offsets, cells, truth = _field([(0.4, 47.6)] + [(20.0, 20.0)] * (K - 1))
    refined = VoteDecoder(radius=1).decode(heat, offsets, cells)
    assert np.isfinite(refined).all()
    # at the corner two neighbours are missing, so the errors no longer cancel exactly, but stay small
    assert np.abs(refined[0] - truth[0]).max() < 0.1
    np.testing.assert_allclose(refined[1:], truth[1:], atol=1e-9)


def test_quantized_fields_are_dequantized_in_the_window_only():
    heat, offsets, cells, truth = _field([(10.3, 11.7)] * K)
    heat_q = np.round(heat * 256 - 128).clip(-128, 127).astype(np.int8)  # the sigmoid's int8: 1/256, zero -128
    off_q = np.round(offsets / 0.05).astype(np.int8)
    decoder = VoteDecoder(radius=1)
    refined = decoder.decode(heat_q, off_q, cells, (1 / 256, -128), (0.05, 0))
    np.testing.assert_allclose(refined, truth, atol=0.03)


@pytest.mark.shared
def test_a_model_without_the_decoder_tensors_is_not_extended():
    from kiosk.model.graph import find_taps, load_schema

    schema = load_schema()
    assert schema is not None, "ai-edge-litert ships the TFLite schema"
    content = (DATA.parent / "models" / "lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite")
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(content.read_bytes(), 0))
    taps = find_taps(schema, model, K)
    assert taps is not None and taps.grid == 48
    assert [int(v) for v in model.subgraphs[0].tensors[taps.offsets_index].shape] == [1, 48, 48, 34]
    model.subgraphs[0].tensors[taps.offsets_index].shape = np.array([1, 48, 48, 33], np.int32)
    assert find_taps(schema, model, K) is None


def test_a_turned_mapping_goes_there_and_back():
    from kiosk.core.geometry import CropSquare
    from kiosk.core.types import Frame
    from kiosk.model.inputs import ModelInputs

    inputs = ModelInputs(192, np.uint8, 0.0, 0)
    image = np.random.default_rng(1).integers(0, 255, (720, 1280, 3), dtype=np.uint8)
    prepared = inputs.make(Frame(image, 0, 0.0), CropSquare(400.0, 100.0, 500.0, 12.0), 0.0, True, False)
    points = np.array([[650.0, 350.0], [500.0, 200.0], [800.0, 560.0]])
    np.testing.assert_allclose(prepared.mapping.to_frame(prepared.mapping.to_input(points)), points, atol=1e-9)
    centre = prepared.mapping.to_input(np.array([[650.0, 350.0]]))[0]
    np.testing.assert_allclose(centre, [96.0, 96.0], atol=1.0)  # the crop's centre is the input's
    # turned counter-clockwise by 12°: a point right of the centre in the frame is up-right in the input
    right = prepared.mapping.to_input(np.array([[750.0, 350.0]]))[0] - centre
    assert math.degrees(math.atan2(-right[1], right[0])) == pytest.approx(12.0, abs=0.5)
    prepared.release()


@pytest.mark.parametrize(("crop", "flip_differs"), [((401.3, 87.6, 517.9), True), ((-60.2, -30.5, 380.4), True),
                                                    ((1000.7, 300.2, 450.0), False)])
def test_the_mirror_tensor_is_the_mirrored_frames_own_input_to_the_grey_level(crop, flip_differs):
    """The mirrored look is the same crop of the mirrored frame, scaled on its own: exactly what the
    mirrored frame would be given, where a flip of the scaled crop is off by a grey level in places.
    Boxes painted black land mirrored in it too."""
    from kiosk.core.geometry import CropSquare
    from kiosk.core.types import Frame
    from kiosk.model.inputs import ModelInputs

    inputs = ModelInputs(192, np.uint8, 0.0, 0)
    image = np.random.default_rng(2).integers(0, 255, (720, 1280, 3), dtype=np.uint8)
    mirrored_image = np.ascontiguousarray(image[:, ::-1])
    left, top, side = crop
    box = (left + side * 0.2, top + side * 0.3, left + side * 0.45, top + side * 0.6)
    mirrored_box = (1280 - box[2], box[1], 1280 - box[0], box[3])
    both = inputs.make(Frame(image, 0, 0.0), CropSquare(left, top, side), 0.0, True, False, mirrored=True)
    inputs.blank(both, [box])
    own = inputs.make(Frame(mirrored_image, 0, 0.0), CropSquare(1280 - left - side, top, side), 0.0, True, False)
    inputs.blank(own, [mirrored_box])
    assert both.mirror_tensor is not None and own.mirror_tensor is None
    np.testing.assert_array_equal(both.mirror_tensor, own.tensor)
    flipped = both.tensor[:, :, ::-1]
    # what a flip of the first would have given instead (here and there, by the resize's rounding)
    assert (np.count_nonzero(flipped != own.tensor) > 0) == flip_differs
    assert np.abs(flipped.astype(int) - own.tensor.astype(int)).max() <= 1
    both.release()
    own.release()
