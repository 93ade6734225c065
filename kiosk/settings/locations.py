"""Where Beltline's files are: the one place that knows /etc, XDG and systemd's STATE_DIRECTORY.

A configured path always wins; else the service's state directory (systemd's `StateDirectory=`,
given as $STATE_DIRECTORY); else the system file (/etc/beltline, written by the installer and by
`calibrate` run as root); else the user's (~/.config/beltline, $XDG_DATA_HOME/beltline).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from kiosk.settings.config import RecordsConfig

SYSTEM_CONFIG_PATH = Path("/etc/beltline/config.toml")
USER_CONFIG_PATH = Path("~/.config/beltline/config.toml")
CALIBRATION_FILE = "calibration.json"
SYSTEM_CALIBRATION_PATH = Path("/etc/beltline") / CALIBRATION_FILE
USER_CALIBRATION_PATH = Path("~/.config/beltline") / CALIBRATION_FILE
RECORDS_FILE = "records.sqlite"


def state_directory(environ: Mapping[str, str] = os.environ) -> Path | None:
    """systemd's state directory for the service (the first of $STATE_DIRECTORY's), or None."""
    state = environ.get("STATE_DIRECTORY", "").split(":")[0]
    return Path(state) if state else None


def default_config_path() -> Path | None:
    """The first config file that exists: /etc/beltline/config.toml, then ~/.config/beltline/config.toml."""
    for candidate in (SYSTEM_CONFIG_PATH, USER_CONFIG_PATH.expanduser()):
        try:
            if candidate.is_file():
                return candidate
        except PermissionError:  # a folder this user may not enter: load_config says so in one line
            return candidate
    return None


def calibration_paths(environ: Mapping[str, str] = os.environ) -> list[Path]:
    """Where calibrations are looked for: systemd's state directory (the service), then /etc, then ~."""
    state = state_directory(environ)
    return ([state / CALIBRATION_FILE] if state else []) + [SYSTEM_CALIBRATION_PATH, USER_CALIBRATION_PATH.expanduser()]


def gesture_calibration_path(configured: str, environ: Mapping[str, str] = os.environ) -> Path:
    """Where a calibration made in `run` (by the gesture) is saved: the configured file, else the
    service's state directory, else ~/.config/beltline (the service cannot write /etc)."""
    if configured:
        return Path(configured).expanduser()
    state = state_directory(environ)
    return state / CALIBRATION_FILE if state else USER_CALIBRATION_PATH.expanduser()


def calibrate_output_path(configured: str, as_root: bool) -> Path:
    """Where `beltline calibrate` saves: the configured file, else /etc/beltline as root, else ~."""
    if configured:
        return Path(configured).expanduser()
    return SYSTEM_CALIBRATION_PATH if as_root else USER_CALIBRATION_PATH.expanduser()


def records_path(config: RecordsConfig, environ: Mapping[str, str] = os.environ) -> Path:
    """The records database: `records.path`, else systemd's state directory, else
    $XDG_DATA_HOME/beltline (~/.local/share/beltline)."""
    if config.path:
        return Path(config.path).expanduser()
    state = state_directory(environ)
    if state:
        return state / RECORDS_FILE
    data_home = environ.get("XDG_DATA_HOME") or str(Path("~/.local/share").expanduser())
    return Path(data_home) / "beltline" / RECORDS_FILE
