"""`beltline analyze --video`: the clip drawn as the mirror draws it, frame for frame with the CSV."""

import csv

import cv2
import numpy as np
import pytest

from kiosk.screen.draw import LEVEL_GREEN, TILTED_RED

from conftest import rgb_frames, run_beltline, shared_file

CANE = "frontal_walk_outdoor_cane.mp4"


def _analyze_to_video(tmp_path, model_path, *extra):
    out_csv, video = tmp_path / "cane.csv", tmp_path / "cane.mp4"
    result = run_beltline("analyze", str(shared_file(CANE)), "--model", str(model_path), "--csv", str(out_csv),
                          "--summary", str(tmp_path / "summary.json"), "--video", str(video), *extra)
    assert result.returncode == 0, result.stderr
    with open(out_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return rows, video


def _frames(video):
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    return rgb_frames(video), fps


def _banner_state(image):
    """Which state colour the bottom band (the verdict's banner) shows, if any."""
    band = image[int(image.shape[0] * 0.85):].reshape(-1, 3).astype(int)
    near = {state: int((np.abs(band - colour).sum(axis=1) < 60).sum())
            for state, colour in (("level", LEVEL_GREEN), ("tilted", TILTED_RED))}
    best = max(near, key=near.get)
    return best if near[best] > 500 else "none"


def test_the_video_has_a_frame_for_every_csv_row_at_the_asked_speed_and_shows_each_rows_verdict(tmp_path,
                                                                                               model_path):
    rows, video = _analyze_to_video(tmp_path, model_path, "--speed", "0.5")
    frames, fps = _frames(video)
    clip = cv2.VideoCapture(str(shared_file(CANE)))
    clip_frames, clip_fps = int(clip.get(cv2.CAP_PROP_FRAME_COUNT)), clip.get(cv2.CAP_PROP_FPS)
    clip.release()
    assert len(frames) == len(rows) == clip_frames == 144
    assert fps == pytest.approx(clip_fps * 0.5)
    assert len(frames) / fps == pytest.approx(2 * clip_frames / clip_fps)  # twice as long: half speed
    assert frames[0].shape == (720, 1280, 3)
    assert oct(video.stat().st_mode & 0o777) == "0o600"  # a video of a person: its owner's only
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cane.csv", "cane.mp4", "summary.json"]  # no leftovers
    shown = [_banner_state(frame) for frame in frames]
    states = [row["state"] for row in rows]
    assert {"level", "tilted"} <= set(states)
    assert shown == states


def test_the_video_is_unmirrored_unless_asked(tmp_path, model_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / "mirrored").mkdir()
    _, plain = _analyze_to_video(tmp_path / "plain", model_path)
    _, mirrored = _analyze_to_video(tmp_path / "mirrored", model_path, "--mirror")
    plain_frames, _ = _frames(plain)
    mirrored_frames, _ = _frames(mirrored)
    clip = cv2.VideoCapture(str(shared_file(CANE)))
    ok, first = clip.read()
    clip.release()
    assert ok
    first = cv2.cvtColor(first, cv2.COLOR_BGR2RGB).astype(int)
    band = slice(440, 560)  # below the ruler and above the banner: the picture alone
    same = np.abs(plain_frames[0][band].astype(int) - first[band]).mean()
    flipped = np.abs(mirrored_frames[0][band].astype(int) - first[band, ::-1]).mean()
    crossed = np.abs(mirrored_frames[0][band].astype(int) - first[band]).mean()
    assert same < 6 and flipped < 6 and crossed > 3 * max(same, flipped)


@pytest.mark.shared
@pytest.mark.parametrize(("extra", "says"), [
    (("--video", "out.avi"), "must end in .mp4"),
    (("--video", "nowhere/out.mp4"), "does not exist"),
    (("--speed", "0.5"), "--video"),
    (("--video", "out.mp4", "--speed", "0"), "--speed"),
])
def test_a_video_that_cannot_be_made_is_one_line_and_writes_nothing(tmp_path, model_path, extra, says):
    extra = tuple(str(tmp_path / word) if word.endswith((".avi", ".mp4")) else word for word in extra)
    result = run_beltline("analyze", str(shared_file(CANE)), "--model", str(model_path), *extra)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("beltline: ") and says in lines[-1], result.stderr
    assert list(tmp_path.iterdir()) == []
