"""`beltline check`: can this machine run the kiosk?  One line per part, OK or FAIL with the fix."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kiosk.core.errors import BeltlineError
from kiosk.core.types import Frame
from kiosk.settings.config import Config
from kiosk.settings.config_file import load_config, resolve_config_path
from kiosk.settings.model_files import (
    MANIFEST_NAME,
    PACKAGED_MANIFEST,
    ManifestEntry,
    models_dirs,
    read_manifest,
    resolve_model_path,
    sha256_of,
)

CAMERA_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class CheckResult:
    part: str
    ok: bool
    message: str
    fix: str = ""

    def line(self) -> str:
        if self.ok:
            return f"OK   {self.part}: {self.message}"
        return f"FAIL {self.part}: {self.message} \u2014 fix: {self.fix}"


def run_checks(config_arg: str | None, model_arg: str | None, source_arg: str | None,
               windowed: bool) -> list[CheckResult]:
    results: list[CheckResult] = []
    config_path = resolve_config_path(config_arg)
    try:
        config = load_config(config_path)
        message = f"{config_path} is valid" if config_path else "no config file, so the defaults"
        results.append(CheckResult("config", True, message))
    except BeltlineError as error:
        results.append(CheckResult("config", False, str(error), "correct the key or value it names"))
        config = Config()

    results.extend(_check_model(model_arg, config))
    results.append(_check_camera(source_arg or config.source.default, config))
    results.append(_check_display(config, windowed))
    results.append(_check_records(config))
    return results


def _check_records(config: Config) -> CheckResult:
    """Where `run` records its walks, and whether it can (read-only: check creates nothing)."""
    from kiosk.recording.store import RecordStore
    from kiosk.settings.locations import records_path

    if not config.records.enabled:
        return CheckResult("records", True, "off (records.enabled = false)")
    path = records_path(config.records)
    if path.exists():
        try:
            store = RecordStore.open(path, read_only=True)
        except BeltlineError as error:
            return CheckResult("records", False, str(error),
                               f"move it aside (mv {path} {path}.bad): the kiosk starts a new one; the old walks "
                               "stay readable for whoever can repair it")
        try:
            walks = store.walks()
        finally:
            store.close()
        if not os.access(path, os.W_OK):
            return CheckResult("records", False, f"{path} ({len(walks)} walks) is not writable by this user",
                               "run as the kiosk's user, or give it the file")
        last = ""
        if walks:
            last = f", the last at {time.strftime('%Y-%m-%d %H:%M', time.localtime(walks[-1].ended_unix_s))}"
        return CheckResult("records", True, f"{path}: {len(walks)} walks{last}")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if os.access(folder, os.W_OK | os.X_OK):
        return CheckResult("records", True, f"{path} is created at the first walk")
    return CheckResult("records", False, f"{path} cannot be created: {folder} is not writable by this user",
                       "set records.path to a writable place, or records.enabled = false")


def _check_model(model_arg: str | None, config: Config) -> list[CheckResult]:
    try:
        path = resolve_model_path(model_arg, config.model.path)
    except BeltlineError as error:
        fix = "run scripts/fetch-models, or set model.path in the config"
        return [CheckResult("model", False, str(error), fix), CheckResult("runtime", False, "no model to load", fix)]
    digest = sha256_of(path)
    known = {entry.sha256: entry for entry in _manifest_entries(path.parent)}
    if digest in known:
        results = [CheckResult("model", True, f"{path} (sha256 matches {known[digest].name})")]
    else:
        results = [CheckResult("model", False, f"{path} has sha256 {digest[:16]}…, which no manifest lists",
                               "download it again with scripts/fetch-models (a damaged or unknown file)")]
    try:
        from kiosk.app.assembly import Purpose, assemble

        model = assemble(config, path, Purpose.CHECK).model  # as `run` builds it
        started = time.perf_counter()
        model.estimate(Frame(np.zeros((480, 640, 3), np.uint8), 0, 0.0))
        took_ms = 1000 * (time.perf_counter() - started)
        results.append(CheckResult("runtime", True, f"{model.runtime_name} runs it with {model.threads} threads "
                                   f"({model.input_size_px} px input, first frame {took_ms:.0f} ms); "
                                   f"keypoints {'refined' if model.refines_keypoints else 'plain'}; "
                                   f"mirror averaging {model.mirror_choice}"))
    except BeltlineError as error:
        results.append(CheckResult("runtime", False, str(error),
                                   "pip install ai-edge-litert (or tflite-runtime), and fetch the model again"))
    return results


def _manifest_entries(model_folder: Path) -> list[ManifestEntry]:
    """The manifests in models/, beside the model itself (the installer puts one there), and the
    one installed with the package (so that `check` knows the genuine model wherever it runs)."""
    entries: list[ManifestEntry] = []
    folders = [folder / MANIFEST_NAME for folder in dict.fromkeys([model_folder, *models_dirs()])]
    for manifest in [*folders, PACKAGED_MANIFEST]:
        if manifest.is_file():
            entries.extend(read_manifest(manifest))
    return entries


def _check_camera(spec: str, config: Config) -> CheckResult:
    from kiosk.camera.sources import open_source

    fix = _camera_fix(spec)
    try:
        source = open_source(spec, config.source, paced=False, repeat_stills=False, loop=False)
    except BeltlineError as error:
        return CheckResult("camera", False, str(error), fix)
    try:
        frame, problem = _within(CAMERA_TIMEOUT_S, source.read)
    finally:
        source.close()
    if problem is not None:
        return CheckResult("camera", False, f"{source.description} opened but {problem}", fix)
    if frame is None:
        return CheckResult("camera", False, f"{source.description} delivered no frame", fix)
    return CheckResult("camera", True, f"{source.description} delivered a {frame.width_px}x{frame.height_px} frame")


def _camera_fix(spec: str) -> str:
    """The fix for the camera `spec` names ("auto": the one it picks on this machine)."""
    from kiosk.camera.sources import picamera2_available

    if spec == "auto":
        spec = "picamera" if picamera2_available() else "webcam:0"
    if spec == "picamera":
        return "check the ribbon cable and `rpicam-hello --list-cameras`; the user needs the video group"
    if spec.startswith(("webcam:", "/dev/video")):
        return "plug the camera in and check `ls /dev/video*`; the user needs the video group"
    return "check the path of the clip or image"


def _within(seconds: float, call: Callable[[], Frame | None]) -> tuple[Frame | None, str | None]:
    """Run `call` in a helper thread, giving up after `seconds` (a hung camera must not hang the check)."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BeltlineError as error:
            outcome["error"] = str(error)

    worker = threading.Thread(target=target, name="beltline-check-camera", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        return None, f"delivered no frame within {seconds:.0f} s"
    if "error" in outcome:
        return None, str(outcome["error"])
    return outcome.get("value"), None  # type: ignore[return-value]


def _check_display(config: Config, windowed: bool) -> CheckResult:
    from kiosk.screen.view import MirrorView, sdl_video_drivers

    drivers = sdl_video_drivers()
    offered = f"; SDL offers {', '.join(drivers)}" if drivers else ""
    try:
        view = MirrorView(config.display, windowed=windowed)
    except BeltlineError as error:
        fix = ("run it on the console (KMSDRM) or the desktop; the user needs the video and render groups; "
               "check SDL_VIDEODRIVER")
        if drivers and "kmsdrm" not in (name.lower() for name in drivers):  # SDL 2.26 says "KMSDRM"
            fix = "this pygame's SDL has no kmsdrm for the console: use apt's python3-pygame (scripts/install-pi.sh)"
        return CheckResult("display", False, f"{error}{offered}", fix)
    try:
        width, height = view.screen_size
        driver = view.driver
        view.show_message("Beltline check")
    finally:
        view.close()
    return CheckResult("display", True, f"{driver} {width}x{height}{offered}")


def report(results: list[CheckResult]) -> tuple[str, bool]:
    return "\n".join(r.line() for r in results), all(r.ok for r in results)
