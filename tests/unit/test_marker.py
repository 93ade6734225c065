"""The worn marker (kiosk.body.marker): a strap's line read to a fraction of a degree, and nothing read
where there is no strap, on drawn pictures; then through the tracker and the CSV."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from kiosk.body.marker import MarkerColor, read_marker, with_marker
from kiosk.body.tracker import PelvisTracker
from kiosk.core.types import Frame, MarkerEvidence, PelvisReading, State, TiltSource
from kiosk.recording.outputs import CSV_COLUMNS, csv_row
from kiosk.settings.config import MarkerConfig, PelvisConfig

ORANGE = "#FF6A00"
W, H = 960, 540
HIP_Y = 300.0
HIP_HALF = 40.0


def person(tilt_deg: float = 0.0, strap: str | None = ORANGE, shirt: tuple[int, int, int] = (70, 90, 120),
           thickness: float = 22.0, length: float = 150.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A drawn person facing the camera (their left hip on the picture's right): a shirt, trousers,
    and a strap at the belt line turned by `tilt_deg` (positive: the person's left side lower);
    the picture and the hips."""
    image = np.full((H, W, 3), 150, np.uint8)
    image[:, :, 2] = 160
    cx = W / 2
    cv2.rectangle(image, (int(cx - 75), 120), (int(cx + 75), int(HIP_Y - 10)), shirt, -1)
    cv2.rectangle(image, (int(cx - 70), int(HIP_Y - 10)), (int(cx + 70), 500), (40, 40, 60), -1)
    if strap is not None:
        rgb = tuple(int(strap[i:i + 2], 16) for i in (1, 3, 5))
        along = np.array([math.cos(math.radians(tilt_deg)), math.sin(math.radians(tilt_deg))])
        across = np.array([-along[1], along[0]])
        centre = np.array([cx, HIP_Y - 45.0])
        box = np.array([centre + a * length / 2 * along + b * thickness / 2 * across
                        for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))])
        # drawn 8 times larger and shrunk by area: OpenCV's own polygon edges are a few tenths of a
        # degree off at shallow slopes, a real strap's are not
        x0, y0 = (np.floor(box.min(axis=0)) - 2).astype(int)
        x1, y1 = (np.ceil(box.max(axis=0)) + 2).astype(int)
        big = cv2.resize(image[y0:y1, x0:x1], ((x1 - x0) * 8, (y1 - y0) * 8), interpolation=cv2.INTER_NEAREST)
        cv2.fillPoly(big, [np.round((box - (x0, y0)) * 8 * 16).astype(np.int32)], rgb, shift=4)
        image[y0:y1, x0:x1] = cv2.resize(big, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    left = np.array([cx + HIP_HALF, HIP_Y])
    right = np.array([cx - HIP_HALF, HIP_Y])
    return image, left, right


@pytest.mark.parametrize("tilt", [-8.0, -4.0, -1.0, 0.0, 2.0, 5.0, 8.0])
def test_the_strap_is_read_to_a_fraction_of_a_degree(tilt: float) -> None:
    image, left, right = person(tilt)
    evidence = read_marker(image, left, right, MarkerColor.from_hex(ORANGE))
    assert evidence is not None
    assert evidence.confidence > 0.9
    assert evidence.tilt_deg == pytest.approx(tilt, abs=0.1)
    # the ruler lies on the strap: its line crosses the hips' middle where the strap does
    assert evidence.centre_px[0] == pytest.approx(W / 2, abs=1.0)
    assert evidence.centre_px[1] == pytest.approx(HIP_Y - 45.0, abs=1.5)


def test_a_mirrored_picture_reads_the_opposite_tilt() -> None:
    image, left, right = person(5.0)
    color = MarkerColor.from_hex(ORANGE)
    plain = read_marker(image, left, right, color)
    mirrored = read_marker(np.ascontiguousarray(image[:, ::-1]), np.array([W - left[0], left[1]]),
                           np.array([W - right[0], right[1]]), color)
    assert plain is not None and mirrored is not None
    # mirrored, the person's left hip is on the picture's left: seen from behind, the same tilt
    # in the ruler's sign; the line itself is the mirror image
    assert mirrored.tilt_deg == pytest.approx(plain.tilt_deg, abs=0.05)


def test_an_arm_across_the_strap_hides_part_of_it_but_not_its_line() -> None:
    image, left, right = person(6.0)
    cv2.rectangle(image, (int(W / 2 - 10), 150), (int(W / 2 + 25), 330), (200, 160, 140), -1)  # a forearm
    evidence = read_marker(image, left, right, MarkerColor.from_hex(ORANGE))
    assert evidence is not None and evidence.confidence > 0.5
    assert evidence.coverage < 0.9
    assert evidence.tilt_deg == pytest.approx(6.0, abs=0.5)


def test_nothing_is_read_without_a_strap() -> None:
    image, left, right = person(strap=None)
    assert read_marker(image, left, right, MarkerColor.from_hex(ORANGE)) is None


def test_a_shirt_of_the_strap_colour_is_not_a_strap() -> None:
    image, left, right = person(strap=None, shirt=(255, 106, 0))
    evidence = read_marker(image, left, right, MarkerColor.from_hex(ORANGE))
    assert evidence is None or evidence.confidence < MarkerConfig().min_confidence


def test_a_band_far_below_the_hips_is_not_a_belt() -> None:
    image, left, right = person(strap=None)
    cv2.rectangle(image, (0, int(HIP_Y + 32)), (W, int(HIP_Y + 40)), (255, 106, 0), -1)  # a table edge at the thighs
    evidence = read_marker(image, left, right, MarkerColor.from_hex(ORANGE))
    assert evidence is None or evidence.confidence < MarkerConfig().min_confidence


def test_another_colour_is_not_read() -> None:
    image, left, right = person(3.0)
    evidence = read_marker(image, left, right, MarkerColor.from_hex("#1E64FF"))
    assert evidence is None or evidence.confidence < MarkerConfig().min_confidence


def test_colours_round_trip_and_grey_is_refused() -> None:
    assert MarkerColor.from_hex("#00A8FF").to_hex() == "#00A8FF"
    with pytest.raises(ValueError, match="too grey"):
        MarkerColor.from_hex("#808080")
    with pytest.raises(ValueError, match="#RRGGBB"):
        MarkerColor.from_hex("orange")


def reading(tilt_deg: float, marker: MarkerEvidence | None) -> PelvisReading:
    drop = HIP_HALF * math.tan(math.radians(tilt_deg))
    return PelvisReading(np.array([W / 2 + HIP_HALF, HIP_Y + drop]), np.array([W / 2 - HIP_HALF, HIP_Y - drop]),
                         0.9, tilt_deg, np.array([W / 2, HIP_Y - 30.0]), 2 * HIP_HALF, 1, marker=marker)


def evidence(tilt_deg: float, confidence: float) -> MarkerEvidence:
    return MarkerEvidence(tilt_deg, tilt_deg, confidence, np.array([W / 2, HIP_Y - 45.0]), 1.0, 10.0, 0.3)


def test_the_tracker_shows_the_marker_and_says_so() -> None:
    tracker = PelvisTracker(PelvisConfig())
    verdict = None
    for i in range(40):  # the hips read 1° (a pose model), the strap 8°
        verdict = tracker.update(reading(1.0, evidence(8.0, 1.0)), i / 15)
    assert verdict is not None and verdict.tilt_deg is not None
    assert verdict.tilt_deg == pytest.approx(8.0, abs=0.2)
    assert verdict.state is State.TILTED
    assert verdict.source is TiltSource.MARKER
    # the ruler lies on the strap
    assert verdict.ruler_left_end_px is not None and verdict.ruler_right_end_px is not None
    middle = (verdict.ruler_left_end_px + verdict.ruler_right_end_px) / 2
    assert middle[1] == pytest.approx(HIP_Y - 45.0, abs=0.5)


def test_an_unsure_marker_is_left_out_and_the_screen_says_estimate() -> None:
    tracker = PelvisTracker(PelvisConfig(belt_picture="off"), marker=MarkerConfig())
    verdict = None
    for i in range(40):
        verdict = tracker.update(reading(1.0, evidence(8.0, MarkerConfig().min_confidence)), i / 15)
    assert verdict is not None and verdict.tilt_deg == pytest.approx(1.0, abs=0.05)
    assert verdict.source is TiltSource.POSE


def test_a_half_sure_marker_moves_the_ruler_part_of_the_way() -> None:
    settings = MarkerConfig()
    tracker = PelvisTracker(PelvisConfig(belt_picture="off"), marker=settings)
    verdict = None
    for i in range(60):
        verdict = tracker.update(reading(0.0, evidence(8.0, settings.min_confidence + 0.15)), i / 15)
    assert verdict is not None and verdict.tilt_deg == pytest.approx(4.0, abs=0.2)


def test_with_marker_attaches_only_a_band_of_the_colour() -> None:
    image, left, right = person(4.0)
    plain = reading(0.0, None)
    plain = PelvisReading(left, right, 0.9, 0.0, plain.belt_center_px, 2 * HIP_HALF, 1)
    seen = with_marker(plain, image, MarkerColor.from_hex(ORANGE))
    assert isinstance(seen, PelvisReading) and seen.marker is not None
    assert seen.marker.tilt_deg == pytest.approx(4.0, abs=0.3)
    assert with_marker(plain, image, None) is plain
    assert with_marker(plain, person(strap=None)[0], MarkerColor.from_hex(ORANGE)) is plain


def test_the_csv_carries_the_marker_and_the_source() -> None:
    tracker = PelvisTracker(PelvisConfig())
    verdict = tracker.update(reading(1.0, evidence(8.0, 1.0)), 0.0)
    row = csv_row(Frame(np.zeros((4, 4, 3), np.uint8), 0, 0.0), verdict)
    assert CSV_COLUMNS[-3:] == ("marker_tilt_deg", "marker_confidence", "tilt_source")
    assert row["marker_tilt_deg"] == "8.00" and row["marker_confidence"] == "1.00"
    assert row["tilt_source"] == "marker"


def test_a_walker_whose_left_and_right_the_model_swaps_now_and_then_keeps_the_marker_s_side() -> None:
    # Far away the pose model swaps a walker's hips on some frames: the frame's own facing says
    # "from behind" and would turn the strap's reading over; the person's facing, voted over a
    # second, does not.
    tracker = PelvisTracker(PelvisConfig(belt_picture="off"))
    verdict = None
    for i in range(30):
        swapped = i % 3 == 2
        plain = reading(1.0, MarkerEvidence(-8.0 if swapped else 8.0, 8.0, 1.0, np.array([W / 2, HIP_Y - 45.0]),
                                            1.0, 10.0, 0.3))
        if swapped:
            plain = PelvisReading(plain.right_hip_px, plain.left_hip_px, 0.9, -1.0, plain.belt_center_px,
                                  plain.ruler_half_length_px, -1, marker=plain.marker)
        verdict = tracker.update(plain, i / 10)
        if i >= 5:
            assert verdict.tilt_deg is not None and verdict.tilt_deg > 6.0
    assert verdict is not None and verdict.tilt_deg == pytest.approx(8.0, abs=0.3)


def _seen(image_deg: float, facing: int) -> PelvisReading:
    """A reading whose strap lies at `image_deg` in the picture, with the frame's own facing."""
    plain = reading(1.0, MarkerEvidence(facing * image_deg, image_deg, 1.0, np.array([W / 2, HIP_Y - 45.0]),
                                        1.0, 10.0, 0.3))
    if facing < 0:
        plain = PelvisReading(plain.right_hip_px, plain.left_hip_px, 0.9, -1.0, plain.belt_center_px,
                              plain.ruler_half_length_px, -1, marker=plain.marker)
    return plain


def test_a_walk_whose_first_frames_the_model_swaps_starts_on_the_marker_s_side() -> None:
    # the first frames of a far walker are the ones the model swaps most: the vote starts from
    # facing the mirror, so they do not turn the ruler over
    tracker = PelvisTracker(PelvisConfig(belt_picture="off"))
    for i in range(12):
        verdict = tracker.update(_seen(8.0, -1 if i in (0, 1, 3, 4) else 1), i / 10)
        assert verdict.tilt_deg is not None and verdict.tilt_deg > 4.0, i


def test_a_person_who_turns_their_back_is_read_from_behind_within_a_second_or_so() -> None:
    tracker = PelvisTracker(PelvisConfig(belt_picture="off"))
    for i in range(10):
        tracker.update(_seen(8.0, 1), i / 10)
    shown = [tracker.update(_seen(8.0, -1), 1.0 + i / 10).tilt_deg for i in range(25)]
    assert shown[0] is not None and shown[0] > 4.0  # one frame from behind is not a turn
    assert shown[-1] == pytest.approx(-8.0, abs=0.3)


def test_a_strap_seen_across_the_body_overrules_collapsed_shoulders() -> None:
    # Far away the model now and then collapses a walker's shoulders (mirror-averaged across a
    # left/right swap), and the facing gates refuse the frame; a strap read across the body shows
    # the pelvis faces the camera, so the frame is read by its strap.
    from kiosk.body.reading import PelvisReader
    from kiosk.core.types import NoVerdict

    from conftest import synthetic_pose

    image, left, right = person(5.0)
    collapsed = synthetic_pose(left_hip=tuple(left), right_hip=tuple(right), left_shoulder=(W / 2 + 2, 150.0),
                               right_shoulder=(W / 2 - 2, 150.0), frame=(W, H))
    plain = PelvisReader(PelvisConfig())
    assert plain.read(collapsed, image) is NoVerdict.NOT_FACING
    reader = PelvisReader(PelvisConfig(), MarkerConfig(), MarkerColor.from_hex(ORANGE))
    seen = reader.read(collapsed, image)
    assert isinstance(seen, PelvisReading) and seen.marker is not None
    assert seen.marker.tilt_deg == pytest.approx(5.0, abs=0.3)
    # without a strap the gates stand
    assert reader.read(collapsed, person(strap=None)[0]) is NoVerdict.NOT_FACING
