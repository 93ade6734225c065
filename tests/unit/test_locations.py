"""Where files are: a configured path wins, then systemd's state directory, then /etc, then the user's."""

from pathlib import Path

from kiosk.settings.locations import (
    calibrate_output_path,
    calibration_paths,
    gesture_calibration_path,
    state_directory,
)


def test_the_state_directory_is_systemds_first():
    assert state_directory({"STATE_DIRECTORY": "/var/lib/beltline/records:/other"}) == Path("/var/lib/beltline/records")
    assert state_directory({}) is None and state_directory({"STATE_DIRECTORY": ""}) is None


def test_calibrations_are_looked_for_in_the_service_state_then_etc_then_home():
    service = {"STATE_DIRECTORY": "/var/lib/beltline/records"}
    paths = calibration_paths(service)
    assert paths[0] == Path("/var/lib/beltline/records/calibration.json")
    assert paths[1] == Path("/etc/beltline/calibration.json")
    assert paths[2] == Path("~/.config/beltline/calibration.json").expanduser()
    assert calibration_paths({}) == paths[1:]


def test_a_configured_calibration_file_wins_everywhere(tmp_path):
    chosen = str(tmp_path / "mine.json")
    assert gesture_calibration_path(chosen, {"STATE_DIRECTORY": "/s"}) == Path(chosen)
    assert calibrate_output_path(chosen, as_root=True) == Path(chosen)
    # the gesture in the service saves where the service may write; `calibrate` as root in /etc
    assert gesture_calibration_path("", {"STATE_DIRECTORY": "/s"}) == Path("/s/calibration.json")
    assert calibrate_output_path("", as_root=True) == Path("/etc/beltline/calibration.json")
    assert calibrate_output_path("", as_root=False) == Path("~/.config/beltline/calibration.json").expanduser()
