"""The config loader against anything TOML can hold (Hypothesis): each table either loads or gives
one line naming what is wrong, never another exception."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.core.errors import ConfigError
from kiosk.settings.config import Config
from kiosk.settings.config_file import config_from_table, load_config

SCHEMA = {f.name: [g.name for g in dataclasses.fields(typing.get_type_hints(Config)[f.name])]
          for f in dataclasses.fields(Config)}
DEFAULTS = {section: dataclasses.asdict(getattr(Config(), section)) for section in SCHEMA}

# What tomllib can hand back: strings, integers of any size, floats (nan and inf included), booleans,
# dates and times, arrays and tables.
scalars = st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.booleans(), st.datetimes(),
                    st.dates(), st.times())
toml_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                            st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                           max_leaves=6)


def _near_default(section: str, key: str) -> st.SearchStrategy[object]:
    """Values of the key's own type near its default, so that range checks are reached too."""
    default = DEFAULTS[section][key]
    if isinstance(default, bool):
        return st.booleans()
    if isinstance(default, int):
        return st.integers(-2 * abs(default) - 5, 2 * abs(default) + 5)
    if isinstance(default, float):
        return st.one_of(st.floats(-2 * abs(default) - 5, 2 * abs(default) + 5), st.floats())
    return st.one_of(st.just(default), st.text(max_size=12))


entries = st.sampled_from([(s, k) for s, keys in SCHEMA.items() for k in keys]).flatmap(
    lambda sk: st.tuples(st.just(sk), st.one_of(_near_default(*sk), toml_values)))
stray = st.tuples(st.tuples(st.text(max_size=12), st.text(max_size=12)), toml_values)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chosen=st.lists(st.one_of(entries, entries, entries, stray), max_size=5),
       odd_section=st.one_of(st.none(), st.tuples(st.sampled_from(sorted(SCHEMA)), toml_values)))
def test_any_toml_table_loads_or_gives_one_line_naming_the_key(chosen, odd_section):
    table: dict[str, object] = {}
    for (section, key), value in chosen:
        table.setdefault(section, {})
        if isinstance(table[section], dict):
            table[section][key] = value  # type: ignore[index]
    if odd_section is not None:
        table[odd_section[0]] = odd_section[1]
    try:
        config = config_from_table(table, origin="fuzz.toml")
    except ConfigError as error:
        message = str(error)
        assert message.startswith("fuzz.toml: ") and "\n" not in message and len(message) < 600
        return
    assert isinstance(config, Config)


def test_a_config_that_is_not_utf8_is_one_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b'[display]\nrotation = 0\n# caf\xe9\n')
    try:
        load_config(path)
    except ConfigError as error:
        assert "not UTF-8" in str(error) and str(path) in str(error)
    else:
        raise AssertionError("a config that is not UTF-8 loaded")


def test_nan_and_infinity_are_refused_by_key():
    for value in (float("nan"), float("inf"), 10**400):
        try:
            config_from_table({"pelvis": {"belt_picture_min_energy": value}}, origin="c.toml")
        except ConfigError as error:
            assert "'pelvis.belt_picture_min_energy' must be a finite number" in str(error)
        else:
            raise AssertionError(f"{value!r} was accepted")


def test_a_date_where_a_number_belongs_names_the_key():
    try:
        config_from_table({"pelvis": {"tolerance_deg": dt.date(2026, 1, 1)}}, origin="c.toml")
    except ConfigError as error:
        assert "'pelvis.tolerance_deg' must be a number" in str(error)
