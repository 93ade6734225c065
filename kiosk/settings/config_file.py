"""The configuration file: TOML over the defaults, checked at start.

Every key of the file must be known and every value of the right type and range; the error
names the key (``display.rotation``).
"""

from __future__ import annotations

import dataclasses
import enum
import math
import os
import tomllib
import typing
from pathlib import Path
from typing import Any

from kiosk.core.errors import ConfigError, near_miss
from kiosk.settings.config import REMOVED_SETTINGS, Config
from kiosk.settings.locations import default_config_path


def load_config(path: Path | None) -> Config:
    """Read `path` (or nothing, for the defaults) into a checked `Config`."""
    if path is None:
        return Config()
    try:
        with open(path, "rb") as handle:
            table = tomllib.load(handle)
    except FileNotFoundError as error:
        raise ConfigError(f"config file {path} does not exist") from error
    except OSError as error:
        raise ConfigError(f"config file {path} cannot be read: {error.strerror}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {error.start} cannot be read)") from error
    return config_from_table(table, origin=str(path))


def config_from_table(table: dict[str, Any], origin: str = "config") -> Config:
    """Map a parsed TOML table onto `Config`, rejecting unknown keys and bad values by name."""
    sections = {f.name: f for f in dataclasses.fields(Config)}
    built: dict[str, Any] = {}
    for section_name, section_table in table.items():
        if section_name not in sections:
            raise ConfigError(
                f"{origin}: unknown section [{_name(section_name)}]{near_miss(section_name, sections)} "
                f"(known: {', '.join(sections)})"
            )
        if not isinstance(section_table, dict):
            raise ConfigError(
                f"{origin}: '{section_name}' must be a [{section_name}] table, not {_shown(section_table)}")
        section_type = typing.get_type_hints(Config)[section_name]
        built[section_name] = _build_section(section_type, section_name, section_table, origin)
    return Config(**built)


def _build_section(section_type: type, section_name: str, values: dict[str, Any], origin: str) -> Any:
    hints = typing.get_type_hints(section_type)
    known = [f.name for f in dataclasses.fields(section_type)]
    for key, value in values.items():
        removed = REMOVED_SETTINGS.get(f"{section_name}.{key}")
        if removed is not None and (removed.value is None or (type(value) is type(removed.value)
                                                              and value == removed.value)):
            setting = f"{section_name}.{key}" + ("" if removed.value is None else f" = {_shown(value)}")
            raise ConfigError(f"{origin}: '{setting}' was removed: {removed.why} (docs/decisions.md); delete the line")
        if key not in hints:
            raise ConfigError(
                f"{origin}: unknown key '{section_name}.{_name(key)}'{near_miss(key, known, f'{section_name}.')} "
                f"(known: {', '.join(known)})"
            )
        expected = hints[key]
        if not _has_type(value, expected):
            raise ConfigError(
                f"{origin}: '{section_name}.{key}' must be {_type_word(expected)}, not {_shown(value)}"
            )
        if expected is float and not _finite(value):
            raise ConfigError(f"{origin}: '{section_name}.{key}' must be a finite number, not {_shown(value)}")
    coerced = {k: float(v) if hints[k] is float else v for k, v in values.items()}
    section = section_type(**coerced)
    for key, problem in section.check().items():
        raise ConfigError(f"{origin}: '{section_name}.{key}' {problem} (got {_shown(getattr(section, key))})")
    return section


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _shown(value: object) -> str:
    """A value for a one-line error: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _name(text: str) -> str:
    """A key from the file for a one-line error: as written if short and printable, else quoted and cut."""
    return text if text.isprintable() and len(text) <= 40 else repr(text[:40])


def _has_type(value: Any, expected: type) -> bool:
    if issubclass(expected, enum.Enum):
        members = {member.value for member in expected}
        if not isinstance(value, (str, int, float, bool)):  # an array or a table is no member
            return False
        if isinstance(value, bool):
            return ("on" if value else "off") in members
        return value in members
    if expected is bool:
        return isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, expected)


def _type_word(expected: type) -> str:
    if issubclass(expected, enum.Enum):
        values = [str(member.value) for member in expected]
        switches = [word for on_off, word in (("on", "true"), ("off", "false")) if on_off in values]
        values = [*switches, *(v for v in values if v not in ("on", "off"))]
        return "one of " + ", ".join(values)
    return {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}.get(
        expected, expected.__name__
    )


def with_overrides(config: Config, assignments: list[str], origin: str = "--set") -> Config:
    """`config` with SECTION.KEY=VALUE assignments (VALUE in TOML: 2, 0.5, true, "auto"; a bare word
    is taken as a string), checked like the file's own keys (for harness runs that try a lever)."""
    table: dict[str, dict[str, Any]] = {}
    for section_field in dataclasses.fields(config):
        values = dataclasses.asdict(getattr(config, section_field.name))
        table[section_field.name] = {k: (v.value if isinstance(v, enum.Enum) else v) for k, v in values.items()}
    for assignment in assignments:
        key, equals, text = assignment.partition("=")
        section, dot, name = key.partition(".")
        if not (equals and dot and section and name):
            raise ConfigError(f"{origin}: '{assignment}' is not SECTION.KEY=VALUE")
        try:
            value = tomllib.loads(f"value = {text}")["value"]
        except tomllib.TOMLDecodeError:
            value = text
        table.setdefault(section, {})[name] = value
    return config_from_table(table, origin)


def resolve_config_path(cli_path: str | None) -> Path | None:
    """--config wins; otherwise the system or user file when one exists."""
    if cli_path:
        return Path(os.path.expanduser(cli_path))
    return default_config_path()
