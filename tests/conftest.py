"""Shared test fixtures.  The real model and media live in ../shared beside the checkout.

Tests that need them fail (they do not skip) when ../shared is missing: CI always has it.  They
carry the `shared` marker, set here for every test that asks for the model (`model_path`,
`movenet`, `kiosk`) and by hand for the rest; `pytest -m "not shared"` runs the pure unit tests
alone, in seconds, and a unit test that reaches for ../shared fails, so the marker stays true.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
# No test writes to the records of whoever runs the tests: `run`'s default database (under
# $XDG_DATA_HOME, or systemd's $STATE_DIRECTORY) goes to a scratch folder for this session.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="beltline-tests-")
os.environ.pop("STATE_DIRECTORY", None)

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared"
DATA = SHARED / "data"
MODEL = SHARED / "models" / "lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite"

# tests/unit, tests/integration, tests/system: the pure tests, those that need ../shared's model or
# media (also marked `shared`), and those of the command line, the service and the deployment.
# The test doubles and the accuracy harness are in tests/support; the scripts some tests run are in
# scripts/; a few tests build on a unit test's builders (tests/unit).
for folder in (PROJECT / "scripts", PROJECT / "tests" / "unit", PROJECT / "tests" / "support"):
    sys.path.insert(0, str(folder))

SHARED_FIXTURES = {"model_path", "movenet", "kiosk"}
_current: dict[str, bool | None] = {"shared": None}  # None: not inside a test (a module constant is fine)

PASS_THROUGH_HZ = 1e9
"""A One Euro cutoff so high that the tilt filter passes each reading through (within 1e-6°):
for tests that need the tracker's unsmoothed decisions."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SHARED_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.shared)


@pytest.fixture(autouse=True)
def _note_the_marker(request: pytest.FixtureRequest):
    _current["shared"] = request.node.get_closest_marker("shared") is not None
    yield
    _current["shared"] = None


def _needs_shared(what: str) -> None:
    assert _current["shared"] is not False, f"this test uses {what} from ../shared: mark it @pytest.mark.shared"


def load_script(filename: str):
    """A script of scripts/ whose file name is no module name (pi-frame-count.py), as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(filename.removesuffix(".py").replace("-", "_"),
                                                  PROJECT / "scripts" / filename)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it is being run
    spec.loader.exec_module(module)
    return module


def shared_file(name: str) -> Path:
    _needs_shared(name)
    path = DATA / name
    assert path.is_file(), f"test media {path} is missing: ../shared must sit beside the checkout"
    return path


def rgb_frames(path: Path) -> list:
    """Every frame of a clip (or a written video), RGB, in order."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


@pytest.fixture(scope="session")
def model_path() -> Path:
    _needs_shared("the model")
    assert MODEL.is_file(), f"model {MODEL} is missing: ../shared must sit beside the checkout"
    return MODEL


def pinned_config():
    """The default config with mirror averaging pinned on: "auto" decides from the invoke time
    measured at start, which a loaded machine moves, and a test must not depend on that."""
    from kiosk.settings.config import Config, MirrorAverage, ModelConfig

    return Config(model=ModelConfig(mirror_average=MirrorAverage.ON))


@pytest.fixture(scope="session")
def movenet(model_path: Path):
    """The real model as the kiosk builds it from the default config (mirror averaging and all)."""
    from kiosk.app.assembly import build_model

    return build_model(pinned_config(), model_path)


@pytest.fixture
def kiosk(model_path: Path):
    """The kiosk as `beltline analyze` builds it from the default config, fresh for each test."""
    return _analyze_kiosk(model_path).restarted()


@functools.cache
def _analyze_kiosk(model_path: Path):
    from kiosk.app.assembly import Purpose, assemble

    return assemble(pinned_config(), model_path, Purpose.ANALYZE)


def run_beltline(*args: str, env: dict[str, str] | None = None,
                 timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The real command line, in a child process, as a user or a script would run it."""
    child_env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    child_env.pop("BELTLINE_MODEL", None)
    child_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env,
        cwd=PROJECT,
    )


def synthetic_pose(
    left_hip=(340.0, 400.0),
    right_hip=(300.0, 400.0),
    left_shoulder=(350.0, 280.0),
    right_shoulder=(290.0, 280.0),
    score: float = 0.9,
    frame=(640, 480),
):
    """A plausible frontal pose (person facing the camera: their left on the image's right)."""
    from kiosk.core.types import Keypoint, Pose

    xy = np.zeros((17, 2), dtype=np.float32)
    xy[:] = ((left_hip[0] + right_hip[0]) / 2, 200.0)
    xy[Keypoint.LEFT_HIP] = left_hip
    xy[Keypoint.RIGHT_HIP] = right_hip
    xy[Keypoint.LEFT_SHOULDER] = left_shoulder
    xy[Keypoint.RIGHT_SHOULDER] = right_shoulder
    scores = np.full(17, score, dtype=np.float32)
    return Pose(xy, scores, frame[0], frame[1])
