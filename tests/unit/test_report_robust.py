"""`beltline report` reads anything it is given: impossible values, hostile names, a corrupt file
among good ones, a database on read-only media, and (Hypothesis) arbitrary rows of the schema's types."""

from __future__ import annotations

import csv
import html.parser
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kiosk.app.cli import main
from kiosk.app.report import load_records, records_report
from kiosk.recording.store import RecordStore, RecordWriter

from test_records import CONTEXT, finished_walk

WALK_COLUMNS = ("uid", "kiosk", "mode", "started_unix_s", "ended_unix_s", "steps", "peak_left_drop_deg",
                "peak_right_drop_deg", "mean_left_drop_deg", "mean_right_drop_deg", "asymmetry_deg",
                "level_step_fraction", "dominant_pattern", "tolerance_deg", "calibration_deg", "version")


def _good_walk(uid: str, **changed: object) -> dict[str, object]:
    now = time.time()
    walk = {"uid": uid, "kiosk": "hall-1", "mode": "single", "started_unix_s": now - 3600, "ended_unix_s": now - 3590,
            "steps": 8, "peak_left_drop_deg": 4.0, "peak_right_drop_deg": 6.5, "mean_left_drop_deg": 3.0,
            "mean_right_drop_deg": 5.0, "asymmetry_deg": -2.0, "level_step_fraction": 0.5,
            "dominant_pattern": "trendelenburg", "tolerance_deg": 5.0, "calibration_deg": None, "version": "test"}
    walk.update(changed)
    return walk


def _database(path: Path, walks: list[dict[str, object]]) -> Path:
    RecordStore.open(path).close()  # the schema, as a kiosk makes it
    connection = sqlite3.connect(path)
    with connection:
        for walk in walks:
            cursor = connection.execute(
                f"INSERT INTO walks ({', '.join(WALK_COLUMNS)}) VALUES ({', '.join('?' * len(WALK_COLUMNS))})",
                [walk[c] for c in WALK_COLUMNS])
            connection.execute("INSERT INTO steps VALUES (?, 0, 0.0, 0.5, 'left', 6.5, 'right', 1.0, 0.2, "
                               "'trendelenburg')", (cursor.lastrowid,))
    connection.close()
    return path


class _StrictHTML(html.parser.HTMLParser):
    """Fails on what a browser would show as garbage: a NUL, an unclosed table."""

    def __init__(self) -> None:
        super().__init__()
        self.open_tables = 0

    def handle_starttag(self, tag, attrs):
        self.open_tables += tag == "table"

    def handle_endtag(self, tag):
        self.open_tables -= tag == "table"


def _valid_html(text: str) -> None:
    assert "\x00" not in text
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    parser = _StrictHTML()
    parser.feed(text)
    parser.close()
    assert parser.open_tables == 0


HOSTILE = {
    "inf": _good_walk("inf", peak_left_drop_deg=float("inf")),
    "1e308": _good_walk("huge", mean_right_drop_deg=1e308),
    "start 1e12": _good_walk("far", started_unix_s=1e12, ended_unix_s=1e12 + 10),
    "start -1e11": _good_walk("past", started_unix_s=-1e11, ended_unix_s=-1e11 + 10),
    "1970": _good_walk("epoch", started_unix_s=3600.0, ended_unix_s=3610.0),
    "2100": _good_walk("ahead", started_unix_s=4102444000.0, ended_unix_s=4102444010.0),
    "ends before it starts": _good_walk("backwards", ended_unix_s=time.time() - 7200),
    "a text number": _good_walk("text", steps="eight"),
    "an unknown pattern": _good_walk("pattern", dominant_pattern="moonwalk"),
}
NAMES = {"dollars": "$$", "maths": "$\\foo{$", "nul": "hall\x00-2", "long": "x" * 100_000,
         "formula": '=HYPERLINK("http://example.invalid","click")'}


def test_impossible_rows_are_skipped_and_counted_odd_names_are_shown_as_text(tmp_path):
    walks = [_good_walk("good-1"), *HOSTILE.values(), *(_good_walk(f"name-{k}", kiosk=v) for k, v in NAMES.items())]
    db = _database(tmp_path / "records.sqlite", walks)
    out, table = tmp_path / "report.html", tmp_path / "walks.csv"
    assert main(["report", "--db", str(db), "--out", str(out), "--csv", str(table)]) == 0
    page = out.read_text()
    _valid_html(page)
    assert f"{len(HOSTILE)} walks or sets skipped: impossible values" in page
    assert f"{1 + len(NAMES)} walks" in page
    assert "$$" in page and "hall-2" in page  # the NUL gone, the name kept
    assert "x" * 100 not in page and "x" * 59 + "\u2026" in page  # a long name cut, with an ellipsis
    assert oct(out.stat().st_mode & 0o777) == oct(table.stat().st_mode & 0o777) == "0o600"
    with open(table, newline="") as handle:
        kiosks = [row["kiosk"] for row in csv.DictReader(handle)]
    assert "'=HYPERLINK(\"http://example.invalid\",\"click\")" in kiosks  # not a formula in a spreadsheet
    assert not any(k.startswith(("=", "+", "-", "@")) for k in kiosks)


def test_a_corrupt_database_among_good_ones_is_named_and_the_others_reported(tmp_path, capsys):
    good = tmp_path / "hall-1.sqlite"
    writer = RecordWriter(good, CONTEXT)
    for _ in range(3):
        writer.submit(finished_walk())
    writer.close()
    corrupt = tmp_path / "hall-2.sqlite"
    corrupt.write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
    out = tmp_path / "report.html"
    assert main(["report", "--db", str(good), "--db", str(corrupt), "--out", str(out)]) == 0
    page = out.read_text()
    assert "3 walks" in page and "Left out: records database" in page and "hall-2.sqlite" in page
    # none readable: one line, exit 2
    assert main(["report", "--db", str(corrupt), "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(f"beltline: records database {corrupt}")


@pytest.fixture
def open_folder():
    """A folder any user can enter (pytest's own are its owner's only), for a test that drops root."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="beltline-ro-"))
    os.chmod(folder, 0o755)
    yield folder
    for inner in folder.rglob("*"):
        if inner.is_dir():
            os.chmod(inner, 0o755)
    shutil.rmtree(folder)


def test_a_database_on_read_only_media_is_read(open_folder):
    tmp_path = open_folder
    media = tmp_path / "stick"
    media.mkdir()
    writer = RecordWriter(media / "records.sqlite", CONTEXT)
    for _ in range(2):
        writer.submit(finished_walk())
    writer.close()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    os.chmod(media / "records.sqlite", 0o444)
    os.chmod(media, 0o555)
    os.chmod(out_dir, 0o777)
    os.chmod(tmp_path, 0o755)
    command = [sys.executable, "-m", "kiosk", "report", "--db", str(media / "records.sqlite"),
               "--out", str(out_dir / "r.html")]
    if os.geteuid() == 0:  # root writes anywhere: read as an unprivileged user, for whom the folder is read-only
        setpriv = shutil.which("setpriv")
        assert setpriv, "util-linux's setpriv is needed to drop root for this test"
        command = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                env={**os.environ, "MPLCONFIGDIR": str(out_dir)}, check=False)
    finally:
        os.chmod(media, 0o755)
    assert result.returncode == 0, result.stderr
    assert "2 walks" in (out_dir / "r.html").read_text()
    assert sorted(p.name for p in media.iterdir()) == ["records.sqlite"]  # nothing written beside it


# Hypothesis: rows of the schema's types, any values those types allow.
# Half the time a plausible value, so that many reports have walks to plot, not only skipped rows.
NOW_S = time.time()
text = st.text(max_size=80)
real = st.one_of(st.floats(allow_nan=False), st.integers(-10**12, 10**12))
angle = st.one_of(st.floats(-30, 30), real)
moment = st.one_of(st.floats(NOW_S - 60 * 86400, NOW_S), real)
PLAUSIBLE = {
    "uid": text, "kiosk": text, "mode": st.sampled_from(["single", "group", "exercise"]),
    "started_unix_s": st.floats(NOW_S - 60 * 86400, NOW_S - 60), "ended_unix_s": st.floats(NOW_S - 60, NOW_S),
    "steps": st.integers(0, 30), "peak_left_drop_deg": st.one_of(st.none(), st.floats(-30, 30)),
    "peak_right_drop_deg": st.one_of(st.none(), st.floats(-30, 30)), "mean_left_drop_deg": st.floats(-30, 30),
    "mean_right_drop_deg": st.floats(-30, 30), "asymmetry_deg": st.floats(-30, 30),
    "level_step_fraction": st.floats(0, 1),
    "dominant_pattern": st.sampled_from(["level", "trendelenburg", "trunk_lean", "hip_drop_shift"]),
    "tolerance_deg": st.floats(0.5, 15), "calibration_deg": st.one_of(st.none(), st.floats(-10, 10)),
    "version": text,
}
ANY = {key: st.one_of(st.none(), real, text) if key not in ("uid",) else text for key in PLAUSIBLE}
ANY["steps"] = st.one_of(st.integers(-2**63, 2**63 - 1), real, text)
# a plausible walk, one with a single value anywhere in its type, or one with every value anywhere
walk_rows = st.one_of(
    st.fixed_dictionaries(PLAUSIBLE),
    st.tuples(st.fixed_dictionaries(PLAUSIBLE),
              st.sampled_from(sorted(ANY)).flatmap(lambda key: st.tuples(st.just(key), ANY[key]))).map(
        lambda t: {**t[0], t[1][0]: t[1][1]}),
    st.fixed_dictionaries(ANY),
)
step_rows = st.tuples(st.integers(0, 50), st.one_of(st.floats(0, 20), real), st.one_of(st.floats(0, 20), real),
                      st.sampled_from(["left", "right", "none", "x"]), angle, st.sampled_from(["left", "right"]),
                      angle, st.one_of(st.floats(-2, 2), real), st.sampled_from(["level", "trendelenburg", "nonsense"]))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(walks=st.lists(st.tuples(walk_rows, st.lists(step_rows, max_size=4)), max_size=4))
def test_any_rows_of_the_schemas_types_give_a_valid_report(tmp_path_factory, walks):
    path = tmp_path_factory.mktemp("fuzz") / "records.sqlite"
    RecordStore.open(path).close()
    connection = sqlite3.connect(path)
    with connection:
        for number, (walk, steps) in enumerate(walks):
            walk = {**walk, "uid": f"{number}-{walk['uid']}"}
            columns, marks = ", ".join(WALK_COLUMNS), ", ".join("?" * len(WALK_COLUMNS))
            cursor = connection.execute(  # a NULL where the schema says NOT NULL: the row is not stored
                f"INSERT OR IGNORE INTO walks ({columns}) VALUES ({marks})",
                [walk[c] for c in WALK_COLUMNS])
            if not cursor.rowcount:
                continue
            connection.executemany("INSERT OR IGNORE INTO steps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                   [(cursor.lastrowid, *step) for step in steps])
    (stored,) = connection.execute("SELECT count(*) FROM walks").fetchone()
    connection.close()
    records = load_records([path])
    assert len(records.walks) + records.skipped == stored
    event(f"{min(len(records.walks), 2)} walks or more reported" if records.walks else "no walk reported")
    _valid_html(records_report(records))
