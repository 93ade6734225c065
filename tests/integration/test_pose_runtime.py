import importlib.util
import os

import numpy as np
import pytest

from kiosk.core.errors import ModelError
from kiosk.core.types import Frame
from kiosk.model.pose import MoveNet
from kiosk.model.runtime import RUNTIME_MODULES, choose_interpreter, installed_runtimes
from kiosk.settings.config import Runtime


def _installed(name: Runtime) -> bool:
    try:
        return importlib.util.find_spec(RUNTIME_MODULES[name].split(".")[0]) is not None
    except ModuleNotFoundError:
        return False


def test_auto_prefers_ai_edge_litert(model_path):
    _, choice = choose_interpreter(model_path.read_bytes(), str(model_path), Runtime.AUTO, 1)
    expected = next(name for name in RUNTIME_MODULES if _installed(name))
    assert choice.runtime is expected


def test_a_runtime_that_is_not_installed_is_named():
    missing = [name for name in RUNTIME_MODULES if not _installed(name)]
    assert missing, "every TFLite runtime is installed: nothing to check here"
    with pytest.raises(ModelError, match=f"no TFLite runtime installed \\({missing[0].value}\\)"):
        installed_runtimes(missing[0])


def test_input_size_and_dtype_come_from_the_model(model_path):
    model = MoveNet(model_path, threads=1)
    assert model.input_size_px == 192
    prepared = model.prepare(Frame(np.full((480, 640, 3), 90, np.uint8), 0, 0.0))
    assert prepared.tensor.dtype == np.uint8 and prepared.tensor.shape == (1, 192, 192, 3)
    # a 640x480 frame padded to a square: black bars above and below, the picture between
    assert prepared.tensor[0, 0].max() == 0 and prepared.tensor[0, 96].min() == 90
    prepared.release()


def test_thread_measurement_keeps_the_fastest(model_path):
    _, choice = choose_interpreter(model_path.read_bytes(), str(model_path), Runtime.AUTO, 0, invokes=4,
                                   candidates=(1, 2))
    assert [t[1] for t in choice.tried] == [1, 2]
    fastest = min(choice.tried, key=lambda t: t[2])
    assert (choice.runtime.value, choice.threads) == fastest[:2]
    assert choice.invoke_ms == pytest.approx(fastest[2], abs=0.01)


def test_automatic_threads_leave_a_core_for_capture_and_drawing(model_path):
    model = MoveNet(model_path, threads=0)
    assert 1 <= model.threads <= max(1, (os.cpu_count() or 1) - 1)


def test_a_missing_model_is_named(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        MoveNet(tmp_path / "absent.tflite")
