"""The replay in the running kiosk: a real walk (the cane clip, paced like a camera) followed by an
empty scene; the kiosk, built as `beltline run` builds it, plays the walk back on its own, stops the
moment someone steps in, forgets the frames, and writes no file but its records while doing so."""

import dataclasses
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.app.assembly import Purpose, assemble
from kiosk.core.types import Frame, State
from kiosk.settings.config import RecordsConfig, ReplayConfig

from conftest import pinned_config, rgb_frames, shared_file

FPS = 30.0
CANE = "frontal_walk_outdoor_cane.mp4"


def _clip_frames():
    return rgb_frames(shared_file(CANE))


class Scene:
    """A camera's stream from a script of pictures, delivered at 30 fps like a camera."""

    description = "scripted scene"
    fps = FPS

    def __init__(self, pictures):
        self._pictures = pictures
        self._index = 0
        self._started = None

    def read(self):
        if self._index >= len(self._pictures):
            return None
        if self._started is None:
            self._started = time.monotonic()
        due = self._started + self._index / FPS
        time.sleep(max(0.0, due - time.monotonic()))
        frame = Frame(self._pictures[self._index], self._index, self._index / FPS, captured_s=time.monotonic())
        self._index += 1
        return frame

    def close(self):
        pass


class ReplayWatchingView:
    """Records what the kiosk showed: ('mirror', state), ('replay', screen facts), ('summary', ...)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.shown = []

    def _add(self, *what):
        with self.lock:
            self.shown.append((time.monotonic(), *what))

    def show(self, frame, verdict, fps=None, walk=None, exercise=None, notice=None):
        self._add("mirror", verdict.state)

    def show_group(self, frame, people, fps=None, notice=None):
        raise AssertionError("single mode")

    def show_replay(self, screen):
        self._add("replay", screen.position, screen.frozen_words, screen.image.shape)

    def show_walk_summary(self, frame, summary):
        self._add("summary", summary.steps)

    def show_set_summary(self, frame, summary):
        self._add("set summary", None)

    def show_message(self, words):
        self._add("message", words)

    def show_calibration(self, *args):
        self._add("calibration", None)

    def quit_requested(self):
        return False

    def save_snapshot(self, path):
        raise AssertionError("no picture is written unless asked")


@pytest.fixture(scope="module")
def scene_pictures():
    clip = _clip_frames()
    empty = np.full_like(clip[0], 128)
    return clip, empty


def _run(model_path, pictures):
    config = dataclasses.replace(pinned_config(), replay=ReplayConfig(speed=1.0, freeze_s=0.5),
                                 records=RecordsConfig(enabled=False))
    kiosk = assemble(config, model_path, Purpose.RUN)
    view = ReplayWatchingView()
    source = Scene(pictures)
    kiosk.run(source, view, supervision=kiosk.supervision(lambda: Scene([])))
    return kiosk, view


def test_a_finished_walk_is_played_back_slowed_with_a_stop_on_its_largest_drop_then_summed_up(model_path,
                                                                                             scene_pictures):
    clip, empty = scene_pictures
    kiosk, view = _run(model_path, clip + [empty] * int(9 * FPS))
    kinds = [what[1] for what in view.shown]
    assert kiosk.replays is not None and kiosk.replays.played == 1 and kiosk.replays.interrupted == 0
    first, last = kinds.index("replay"), len(kinds) - 1 - kinds[::-1].index("replay")
    assert set(kinds[first : last + 1]) == {"replay"}  # nothing else while it plays
    assert "summary" in kinds[last + 1 :]  # then the walk's summary
    replay = view.shown[first : last + 1]
    positions = [what[2] for what in replay]
    assert positions == sorted(positions) and positions[0] < 0.05 and positions[-1] > 0.9
    frozen = [what for what in replay if what[3] is not None]
    assert frozen and frozen[0][3].startswith("Largest drop, step")
    assert 0.3 < frozen[-1][0] - frozen[0][0] < 0.8  # freeze_s = 0.5
    assert replay[-1][0] - replay[0][0] > 4.0  # the whole walk (about 5 s) at full speed here, plus the stop
    assert max(replay[0][4][:2]) <= 640  # kept scaled down
    assert kiosk.replays.recorder.kept == 0  # forgotten once played


def test_someone_stepping_in_stops_the_replay_at_once(model_path, scene_pictures):
    clip, empty = scene_pictures
    kiosk, view = _run(model_path, clip + [empty] * int(2.5 * FPS) + clip[:60])
    kinds = [what[1] for what in view.shown]
    assert kiosk.replays is not None and kiosk.replays.played == 1 and kiosk.replays.interrupted == 1
    last = len(kinds) - 1 - kinds[::-1].index("replay")
    after = view.shown[last + 1 :]
    assert after and after[0][1] == "mirror" and after[0][2] is not State.NONE  # the newcomer, at once
    assert "summary" not in [what[1] for what in after]


@pytest.mark.shared
def test_a_run_with_the_replay_writes_no_file_but_its_records(tmp_path, model_path):
    """The file system itself, before and after a real `beltline run` in which a walk is played back:
    every file under its home, temporary and working folders and the shared scratch folders."""
    clip = _clip_frames()
    scene = tmp_path / "scene" / "walk-then-nobody.avi"
    scene.parent.mkdir()
    writer = cv2.VideoWriter(str(scene), cv2.VideoWriter.fourcc(*"MJPG"), FPS, (1280, 720))
    for picture in clip + [np.full_like(clip[0], 128)] * int(9 * FPS):
        writer.write(cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
    writer.release()
    home, work, temporary = tmp_path / "home", tmp_path / "work", tmp_path / "tmp"
    for folder in (home, work, temporary):
        folder.mkdir()
    records = tmp_path / "state" / "records.sqlite"
    config = tmp_path / "scene" / "config.toml"
    config.write_text(f'[replay]\nspeed = 1.0\nfreeze_s = 0.5\n\n[records]\npath = "{records}"\n\n'
                      '[model]\nmirror_average = true\n')
    # Its home, temporary and working folders all lie in tmp_path; /dev/shm and /var/tmp are the
    # shared scratch places a library might still pick.  (Not all of /tmp or the real home: other
    # programs on the machine write there meanwhile.)
    watched = [tmp_path, Path("/var/tmp"), Path("/dev/shm")]

    def files():
        seen = {}
        for root in watched:
            for folder, _, names in os.walk(root):
                for name in names:
                    path = Path(folder) / name
                    try:
                        status = path.lstat()
                    except OSError:
                        continue
                    seen[path] = (status.st_mtime_ns, status.st_size)
        return seen

    before = files()
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "HOME": str(home),
           "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local/share"),
           "XDG_STATE_HOME": str(home / ".local/state"), "TMPDIR": str(temporary)}
    env.pop("BELTLINE_MODEL", None)
    result = subprocess.run([sys.executable, "-m", "kiosk", "--log-level", "info", "run", "--source", str(scene),
                             "--model", str(model_path), "--config", str(config), "--windowed"],
                            capture_output=True, text=True, timeout=300, env=env, cwd=work, check=False)
    after = files()
    assert result.returncode == 0, result.stderr
    assert "playing back the walk" in result.stderr  # the replay did run
    changed = sorted(str(path) for path, stamp in after.items() if before.get(path) != stamp)
    gone = sorted(str(path) for path in before if path not in after)
    allowed = {str(records), f"{records}-wal", f"{records}-shm", f"{records}-journal"}
    assert set(changed) <= allowed, changed
    assert str(records) in changed  # the walk's numbers were recorded
    assert gone == []
