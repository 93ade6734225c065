"""The records database: schema and migrations, a walk becoming rows, pruning, and what happens
when the file is corrupt, locked, on a full disk, or its writer is killed mid-walk."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.body.gait import walk_summary
from kiosk.core.errors import RecordsError
from kiosk.core.types import FinishedWalk, Pattern, Side, StepRecord
from kiosk.recording.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    RecordStore,
    RecordWriter,
    WalkContext,
    WalkRecord,
)
from kiosk.settings.config import Mode, RecordsConfig
from kiosk.settings.locations import records_path

from conftest import PROJECT

CONTEXT = WalkContext("hall-1", Mode.SINGLE, 5.0, 1.25)


def finished_walk(steps: int = 8, start_s: float = 100.0, step_s: float = 0.5, gone_s: float = 1.2) -> FinishedWalk:
    """A walk toward the camera on the stream's clock: alternating stance, drops growing step by step."""
    records = []
    for i in range(steps):
        stance = Side.LEFT if i % 2 == 0 else Side.RIGHT
        drop = 2.0 + 0.9 * i
        records.append(StepRecord(i, round(start_s + i * step_s, 3), round(start_s + (i + 1) * step_s, 3), stance,
                                  round(drop, 2), stance.other, round(0.5 * i - 1, 2), 0.1 * i,
                                  Pattern.TRENDELENBURG if drop > 5 else Pattern.LEVEL))
    end_s = start_s + steps * step_s
    return FinishedWalk(walk_summary(records, 5.0), tuple(records), start_s, end_s, end_s + gone_s)


def _warnings(caplog) -> list[str]:
    """What the journal would show at its default level, from the records."""
    return [r.getMessage() for r in caplog.records
            if r.name == "kiosk.recording.store" and r.levelno >= logging.WARNING]


def write_walks(path: Path, walks: list[FinishedWalk], clock=time.time, **kwargs) -> RecordWriter:
    writer = RecordWriter(path, CONTEXT, clock=clock, **kwargs)
    for walk in walks:
        writer.submit(walk)
    writer.close()
    return writer


def test_a_new_database_has_the_current_schema_in_wal_mode_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "state" / "records.sqlite"
    store = RecordStore.open(path)
    assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
    store.close()
    db = sqlite3.connect(path)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"walks", "steps", "sets", "reps"} <= tables
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_an_older_database_is_migrated_and_keeps_its_walks(tmp_path):
    path = tmp_path / "records.sqlite"
    old = RecordStore(sqlite3.connect(path, isolation_level=None), path)
    old.migrate(0, to=1)  # what the first release made: walks and steps only, as it wrote them
    now = time.time()
    old._db.execute(
        "INSERT INTO walks (uid, kiosk, mode, started_unix_s, ended_unix_s, steps, peak_left_drop_deg,"
        " peak_right_drop_deg, mean_left_drop_deg, mean_right_drop_deg, asymmetry_deg, level_step_fraction,"
        " dominant_pattern, tolerance_deg, calibration_deg, version) VALUES ('old', 'hall', 'single', ?, ?, 4, 6.0,"
        " NULL, 5.0, 0.0, 5.0, 0.5, 'trendelenburg', 5.0, NULL, '0.1')", (now - 10, now))
    old.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 1
    store = RecordStore.open(path)
    assert store.schema_version == SCHEMA_VERSION
    assert len(store.walks()) == 1 and store.sets() == []
    assert store.walks()[0].judged_share is None  # not known for a walk from before it was kept
    store.close()
    write_walks(path, [dataclasses.replace(finished_walk(), judged_share=0.72)])
    store = RecordStore.open(path, read_only=True)
    assert len(store.walks()) == 2 and store.integrity() == "ok"
    assert [w.judged_share for w in store.walks()] == [None, 0.72]
    store.close()


def test_a_database_from_a_newer_beltline_is_refused_by_name(tmp_path):
    path = tmp_path / "records.sqlite"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 3}")
    with pytest.raises(RecordsError, match=r"schema version \d+, newer than this Beltline"):
        RecordStore.open(path)


def test_a_walk_becomes_one_walk_row_and_one_row_per_step(tmp_path):
    path = tmp_path / "records.sqlite"
    walk = finished_walk(steps=9)
    writer = write_walks(path, [walk], clock=lambda: 1_800_000_000.0)
    assert writer.written == 1 and writer.problem is None
    store = RecordStore.open(path, read_only=True)
    (stored,) = store.walks()
    store.close()
    assert stored.summary == walk.summary
    assert (stored.kiosk, stored.mode, stored.tolerance_deg, stored.calibration_deg) == ("hall-1", Mode.SINGLE,
                                                                                          5.0, 1.25)
    # On the wall clock: it ended when the walker was last seen (1.2 s before it was closed).
    assert stored.ended_unix_s == pytest.approx(1_800_000_000.0 - 1.2)
    assert stored.ended_unix_s - stored.started_unix_s == pytest.approx(walk.end_s - walk.start_s)
    assert len(stored.steps) == 9
    for original, row in zip(walk.steps, stored.steps, strict=True):
        assert row.start_s == pytest.approx(original.start_s - walk.start_s)  # seconds into the walk
        assert (row.stance_side, row.drop_side, row.peak_drop_deg, row.pattern) == (
            original.stance_side, original.drop_side, original.peak_drop_deg, original.pattern)
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM steps").fetchone()[0] == 9
    columns = {row[1] for row in db.execute("PRAGMA table_info(walks)")}
    # Numbers about the walk, and nothing about who walked.
    assert not columns & {"name", "person", "image", "picture", "frame", "face"}


def test_old_walks_are_pruned_when_the_writer_starts(tmp_path):
    path = tmp_path / "records.sqlite"
    now = 1_800_000_000.0
    write_walks(path, [finished_walk()], clock=lambda: now - 40 * 86400)  # 40 days ago
    write_walks(path, [finished_walk()], clock=lambda: now - 5 * 86400)
    write_walks(path, [], clock=lambda: now, keep_days=30)
    store = RecordStore.open(path, read_only=True)
    walks = store.walks()
    assert len(walks) == 1 and walks[0].ended_unix_s > now - 6 * 86400
    assert sqlite3.connect(path).execute("SELECT count(*) FROM steps").fetchone()[0] == 8  # steps went with it


def test_the_default_place_is_systemds_state_directory_else_the_users_data_folder(tmp_path):
    assert records_path(RecordsConfig(), {"STATE_DIRECTORY": "/var/lib/beltline"}) == Path(
        "/var/lib/beltline/records.sqlite")
    assert records_path(RecordsConfig(), {"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "beltline/records.sqlite"
    assert records_path(RecordsConfig(path=str(tmp_path / "x.db")), {"STATE_DIRECTORY": "/s"}) == tmp_path / "x.db"


def test_a_corrupt_file_gets_one_log_line_and_is_left_as_it_was(tmp_path, caplog):
    path = tmp_path / "records.sqlite"
    garbage = bytes(random.Random(3).getrandbits(8) for _ in range(8192))
    path.write_bytes(garbage)
    with caplog.at_level(logging.WARNING, logger="kiosk.recording.store"):
        writer = write_walks(path, [finished_walk(), finished_walk()])
    assert writer.problem is not None and "corrupt" in writer.problem and str(path) in writer.problem
    assert writer.written == 0 and writer.lost == 2
    lines = _warnings(caplog)
    assert len(lines) == 1 and lines[0].startswith("records off:")
    assert path.read_bytes() == garbage  # nobody's records are "repaired" away


def test_a_locked_database_stops_recording_and_loses_nothing_committed(tmp_path, caplog):
    path = tmp_path / "records.sqlite"
    write_walks(path, [finished_walk()])
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another writer holds it
    try:
        with caplog.at_level(logging.WARNING, logger="kiosk.recording.store"):
            writer = RecordWriter(path, CONTEXT, busy_timeout_s=0.2)
            writer.submit(finished_walk())
            writer.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert writer.problem is not None and "locked" in writer.problem
    assert len(_warnings(caplog)) == 1
    store = RecordStore.open(path, read_only=True)
    assert len(store.walks()) == 1 and store.integrity() == "ok"


FULL_DISK = r"""
import json, sys, time
from pathlib import Path
sys.path[:0] = sys.argv[2:]  # tests/unit (test_records) and tests (conftest)
from test_records import CONTEXT, finished_walk
from kiosk.recording.store import RecordStore, RecordWriter
path = Path(sys.argv[1]) / "records.sqlite"
writer = RecordWriter(path, CONTEXT)
for _ in range(400):
    writer.submit(finished_walk(steps=60))
    time.sleep(0.002)
    if writer.problem:
        break
writer.close()
store = RecordStore.open(path, read_only=True)
print(json.dumps({"problem": writer.problem, "written": writer.written, "stored": len(store.walks()),
                  "integrity": store.integrity()}))
"""


def test_a_full_disk_stops_recording_and_keeps_every_walk_written_before(tmp_path):
    """A real full disk: a 192 KiB tmpfs, mounted in a user namespace of the test's own."""
    mount = tmp_path / "small"
    mount.mkdir()
    script = (f"mount -t tmpfs -o size=192k tmpfs {mount} && "
              f"{sys.executable} -c '{FULL_DISK}' {mount} {PROJECT / 'tests' / 'unit'} {PROJECT / 'tests'}")
    result = subprocess.run(["unshare", "--map-root-user", "--mount", "sh", "-c", script], capture_output=True,
                            text=True, timeout=120, check=False, env={**os.environ, "PYTHONPATH": str(PROJECT)})
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["problem"] and "disk is full" in outcome["problem"]
    assert outcome["written"] >= 3 and outcome["stored"] == outcome["written"]
    assert outcome["integrity"] == "ok"


KILLED_WRITER = r"""
import sys, time
from pathlib import Path
sys.path[:0] = sys.argv[2:]  # tests/unit (test_records) and tests (conftest)
from test_records import CONTEXT, finished_walk
from kiosk.recording.store import RecordWriter
writer = RecordWriter(Path(sys.argv[1]), CONTEXT)
print("writing", flush=True)
while True:
    writer.submit(finished_walk(steps=400))
    time.sleep(0.001)
"""


def test_a_writer_killed_mid_walk_leaves_whole_walks_and_a_sound_file_20_times_out_of_20(tmp_path):
    path = tmp_path / "records.sqlite"
    chance = random.Random(11)
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    stored_before = 0
    for _ in range(20):
        child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path), str(PROJECT / "tests" / "unit"),
                                  str(PROJECT / "tests")],
                                 stdout=subprocess.PIPE, text=True, env=env)
        assert child.stdout is not None and child.stdout.readline().strip() == "writing"
        time.sleep(chance.uniform(0.05, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
        db = sqlite3.connect(path, isolation_level=None)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        partial = db.execute("SELECT walks.id, walks.steps, count(steps.idx) FROM walks LEFT JOIN steps"
                             " ON steps.walk_id = walks.id GROUP BY walks.id HAVING count(steps.idx) != walks.steps"
                             ).fetchall()
        assert partial == []
        stored = db.execute("SELECT count(*) FROM walks").fetchone()[0]
        assert stored >= stored_before  # nothing committed went missing
        stored_before = stored
        db.close()
    assert stored_before > 20  # the kills landed while walks were being written


def test_walk_records_carry_the_wall_clock_of_the_walk_not_of_the_queue():
    walk = finished_walk(steps=4, start_s=10.0, gone_s=1.0)
    record = WalkRecord.of(walk, CONTEXT, now_unix_s=1000.0)
    assert record.ended_unix_s == pytest.approx(999.0)
    assert record.started_unix_s == pytest.approx(999.0 - 2.0)
    assert [s.start_s for s in record.steps] == [0.0, 0.5, 1.0, 1.5]
    assert record.uid != WalkRecord.of(walk, CONTEXT, now_unix_s=1000.0).uid


# ---- the kiosk with records: `beltline run` on real clips ------------------------------------------


def _records_config(tmp_path: Path, db: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[records]\npath = "{db}"\nkiosk_name = "test-hall"\n[model]\nmirror_average = "alternate"\n')
    return config


def _run_kiosk(tmp_path, model_path, db, *args):
    from conftest import run_beltline

    return run_beltline("run", "--windowed", "--model", str(model_path), "--config",
                        str(_records_config(tmp_path, db)), *args)


def test_a_clip_replayed_through_the_kiosk_records_its_walker_once(tmp_path, model_path):
    from conftest import shared_file

    db = tmp_path / "records.sqlite"
    result = _run_kiosk(tmp_path, model_path, db, "--source", str(shared_file("frontal_walk_outdoor_cane.mp4")))
    assert result.returncode == 0, result.stderr
    store = RecordStore.open(db, read_only=True)
    (walk,) = store.walks()  # one walker walked toward the camera, once
    assert walk.kiosk == "test-hall" and walk.mode is Mode.SINGLE
    assert 6 <= walk.summary.steps == len(walk.steps) <= 10  # analyze counts 8 on every frame
    assert "records off" not in result.stderr


def test_sigterm_records_the_walk_in_progress(tmp_path, model_path):
    """Stopped by systemd halfway down the hallway: the walk so far is recorded, whole."""
    import socket

    from conftest import shared_file

    db = tmp_path / "records.sqlite"
    notify = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify))
    listener.settimeout(60)
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "NOTIFY_SOCKET": str(notify)}
    env.pop("BELTLINE_MODEL", None)
    child = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "run", "--windowed", "--model", str(model_path), "--config",
         str(_records_config(tmp_path, db)), "--source", str(shared_file("frontal_walk_outdoor_cane.mp4"))],
        cwd=PROJECT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        while "READY=1" not in listener.recv(4096).decode():  # the loop has started: the clip plays
            pass
        time.sleep(3.3)  # of the clip's 4.8 s: the walker is five or six steps in
        assert child.poll() is None
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=20) == 0
    finally:
        child.kill()
        listener.close()
    store = RecordStore.open(db, read_only=True)
    (walk,) = store.walks()
    assert 4 <= walk.summary.steps == len(walk.steps) < 8  # the whole clip has 8


def test_a_corrupt_database_leaves_the_kiosk_running_and_the_file_untouched(tmp_path, model_path):
    from conftest import shared_file

    db = tmp_path / "records.sqlite"
    db.write_bytes(b"this is not a database, but somebody's file" * 200)
    before = db.read_bytes()
    shot = tmp_path / "shot.png"
    result = _run_kiosk(tmp_path, model_path, db, "--source", str(shared_file("frontal_walk_outdoor_cane.mp4")),
                        "--snapshot", str(shot))
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "records" in line and "WARNING" in line]
    assert len(lines) == 1 and "records off" in lines[0] and "corrupt" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert "showed" in result.stderr and shot.is_file()  # the mirror ran its clip to the end
    assert db.read_bytes() == before


def test_a_walk_the_database_refuses_is_skipped_and_the_next_one_recorded(tmp_path, caplog):
    import dataclasses

    broken = finished_walk()
    bad_step = dataclasses.replace(broken.steps[2], trunk_lean_deg=float("nan"))  # SQLite stores NaN as NULL
    broken = dataclasses.replace(broken, steps=(*broken.steps[:2], bad_step, *broken.steps[3:]))
    path = tmp_path / "records.sqlite"
    with caplog.at_level(logging.WARNING, logger="kiosk.recording.store"):
        writer = write_walks(path, [finished_walk(), broken, finished_walk()])
    assert (writer.written, writer.lost, writer.problem) == (2, 1, None)
    assert [line.split(" (")[0] for line in _warnings(caplog)] == ["records: a walk was not recorded"]
    store = RecordStore.open(path, read_only=True)
    assert all(len(w.steps) == w.summary.steps for w in store.walks()) and len(store.walks()) == 2


def test_an_exercise_set_becomes_a_set_row_and_a_row_per_rep(tmp_path):
    from test_exercise import Session

    session = Session()
    session.hold(1.5)
    session.rep(Side.LEFT)
    session.rep(Side.RIGHT, hike_deg=6.0)
    session.rep(Side.LEFT, peak_deg=40.0)
    summary = session.coach.end_set(session.t_s)
    path = tmp_path / "records.sqlite"
    writer = RecordWriter(path, CONTEXT, clock=lambda: 1_800_000_000.0)
    writer.submit_set(summary)
    writer.close()
    assert writer.written == 1 and writer.problem is None
    store = RecordStore.open(path, read_only=True)
    (stored,) = store.sets()
    assert (stored.reps_left, stored.reps_right, stored.kiosk) == (2, 1, "hall-1")
    assert stored.clean_fraction == pytest.approx(2 / 3, abs=0.001)
    assert stored.ended_unix_s == 1_800_000_000.0
    assert [rep.verdict for rep in stored.reps] == ["clean", "pelvis_hiked", "clean"]
    assert [rep.peak_angle_deg for rep in stored.reps] == [r.peak_angle_deg for r in summary.reps]
    assert [rep.side for rep in stored.reps] == [Side.LEFT, Side.RIGHT, Side.LEFT]
    assert store.integrity() == "ok"


def test_a_calibration_made_while_running_goes_with_the_walks_after_it(tmp_path):
    path = tmp_path / "records.sqlite"
    writer = RecordWriter(path, CONTEXT)
    writer.submit(finished_walk())
    writer.recalibrated(-2.5)
    writer.submit(finished_walk())
    writer.close()
    store = RecordStore.open(path, read_only=True)
    assert sorted(w.calibration_deg for w in store.walks()) == [-2.5, 1.25]


def test_recording_comes_back_by_itself_at_the_next_walk_after_a_failure(tmp_path, caplog):
    path = tmp_path / "records.sqlite"
    write_walks(path, [finished_walk()])
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program holds the file for a while
    with caplog.at_level(logging.INFO, logger="kiosk.recording.store"):
        writer = RecordWriter(path, CONTEXT, busy_timeout_s=0.2)
        writer.submit(finished_walk())
        writer.submit(finished_walk())
        deadline = time.monotonic() + 10
        while writer.lost < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert writer.problem is not None and "locked" in writer.problem and writer.lost == 2
        holder.execute("ROLLBACK")
        holder.close()
        writer.submit(finished_walk())  # the next walk, with the file free again
        writer.close()
    assert writer.problem is None and writer.written == 1
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(said) == 2 and said[0].startswith("records off:") and said[1].startswith("records back on:")
    store = RecordStore.open(path, read_only=True)
    assert len(store.walks()) == 2 and store.integrity() == "ok"
