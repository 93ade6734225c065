"""`beltline run` as systemd runs it: sd_notify readiness and watchdog, clean exit on SIGTERM/SIGINT."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from conftest import PROJECT, shared_file


def _start(tmp_path, model_path, extra_env=None):
    notify_path = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify_path))
    listener.settimeout(0.2)
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
           "NOTIFY_SOCKET": str(notify_path), "WATCHDOG_USEC": "400000", **(extra_env or {})}
    child = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "run", "--source", str(shared_file("frontal_walk_white_bg.mp4")), "--loop",
         "--windowed", "--model", str(model_path)],
        cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    return child, listener


def _messages_until(listener, wanted, timeout_s):
    seen = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            seen.extend(listener.recv(4096).decode().split("\n"))
        except TimeoutError:
            continue
        if wanted in seen:
            break
    return seen


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_ready_watchdog_and_clean_exit_on_signal(tmp_path, model_path, signum):
    child, listener = _start(tmp_path, model_path)
    try:
        seen = _messages_until(listener, "READY=1", 60)
        assert "READY=1" in seen, f"no READY=1; stderr: {child.stderr.read() if child.poll() is not None else ''}"
        pings = [m for m in _messages_until(listener, "never", 1.0) if m == "WATCHDOG=1"]
        assert len(pings) >= 3, "the main loop does not ping the watchdog"  # every 0.2 s for WATCHDOG_USEC=0.4 s
        sent = time.monotonic()
        child.send_signal(signum)
        code = child.wait(timeout=10)
        took = time.monotonic() - sent
        assert code == 0
        assert took < 2.0, f"took {took:.2f} s to stop"
        assert "STOPPING=1" in _messages_until(listener, "STOPPING=1", 1.0)
        stderr = child.stderr.read()
        assert "Traceback" not in stderr
        assert "showed" in stderr  # the journal gets a last word on what ran
    finally:
        if child.poll() is None:
            child.kill()
        listener.close()


@pytest.mark.shared
def test_missing_model_is_shown_on_screen_and_exits_non_zero(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[display]\nerror_screen_s = 0.3\n")
    shot = tmp_path / "shot.png"
    result = subprocess.run(
        [sys.executable, "-m", "kiosk", "run", "--source", str(shared_file("tfex_image1.png")), "--windowed",
         "--model", str(tmp_path / "gone.tflite"), "--config", str(config), "--snapshot", str(shot)],
        cwd=PROJECT, env={**os.environ, "SDL_VIDEODRIVER": "dummy"}, capture_output=True, text=True, timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("beltline: model file")
    import cv2
    import numpy as np

    screen = cv2.imread(str(shot))
    assert screen is not None, "the screen was not saved"
    # dark screen, white words across the middle
    assert np.median(screen) < 40
    assert (screen[300:420].min(axis=2) > 240).sum() > 500
