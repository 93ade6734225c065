"""Session records: every finished walk, as anonymous numbers, in one local SQLite file.

What is kept: per walk its start and end (wall clock), steps, peak and mean drop per side,
asymmetry, share of level steps, dominant pattern, the tolerance and calibration in force, the
mode and the kiosk's name; per step its timing, drop, lean, shift and pattern.  Never a picture,
a name or anything else about who walked.

- The file is in WAL mode with `synchronous=FULL`: a walk is one transaction, so a power cut or a
  killed process leaves either the whole walk or none of it, and a reader (`beltline report`)
  never blocks the kiosk.
- `RecordWriter` writes in a thread of its own: the pipeline hands it a finished walk (a queue
  put) and goes on with the next frame.
- A database that cannot be used (corrupt, locked, disk full, a newer schema) gets one line in
  the log; the kiosk goes on without records, and the file is never rewritten or removed.
- The schema is versioned (`PRAGMA user_version`); `MIGRATIONS[n]` takes version n to n + 1.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import queue
import sqlite3
import statistics
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from kiosk import __version__
from kiosk.core.checks import number_in
from kiosk.core.errors import RecordsError
from kiosk.core.types import FinishedWalk, Pattern, SetSummary, Side, StepRecord, WalkSummary
from kiosk.settings.config import Mode, RecordsConfig

log = logging.getLogger(__name__)

DAY_S = 86400.0

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: walks and their steps.
    (
        """CREATE TABLE walks (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            kiosk TEXT NOT NULL,
            mode TEXT NOT NULL,
            started_unix_s REAL NOT NULL,
            ended_unix_s REAL NOT NULL,
            steps INTEGER NOT NULL,
            peak_left_drop_deg REAL,
            peak_right_drop_deg REAL,
            mean_left_drop_deg REAL NOT NULL,
            mean_right_drop_deg REAL NOT NULL,
            asymmetry_deg REAL NOT NULL,
            level_step_fraction REAL NOT NULL,
            dominant_pattern TEXT NOT NULL,
            tolerance_deg REAL NOT NULL,
            calibration_deg REAL,
            version TEXT NOT NULL
        )""",
        "CREATE INDEX walks_by_end ON walks (ended_unix_s)",
        """CREATE TABLE steps (
            walk_id INTEGER NOT NULL REFERENCES walks (id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            start_offset_s REAL NOT NULL,
            end_offset_s REAL NOT NULL,
            stance_side TEXT NOT NULL,
            peak_drop_deg REAL NOT NULL,
            drop_side TEXT NOT NULL,
            trunk_lean_deg REAL NOT NULL,
            lateral_shift_hip_widths REAL NOT NULL,
            pattern TEXT NOT NULL,
            PRIMARY KEY (walk_id, idx)
        ) WITHOUT ROWID""",
    ),
    # 2: the exercise coach's sets and their reps (standing hip abduction and what follows it).
    (
        """CREATE TABLE sets (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            kiosk TEXT NOT NULL,
            exercise TEXT NOT NULL,
            started_unix_s REAL NOT NULL,
            ended_unix_s REAL NOT NULL,
            reps_left INTEGER NOT NULL,
            reps_right INTEGER NOT NULL,
            clean_fraction REAL NOT NULL,
            tolerance_deg REAL NOT NULL,
            calibration_deg REAL,
            version TEXT NOT NULL
        )""",
        "CREATE INDEX sets_by_end ON sets (ended_unix_s)",
        """CREATE TABLE reps (
            set_id INTEGER NOT NULL REFERENCES sets (id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            side TEXT NOT NULL,
            start_offset_s REAL NOT NULL,
            end_offset_s REAL NOT NULL,
            peak_angle_deg REAL NOT NULL,
            hold_s REAL NOT NULL,
            pelvis_hike_deg REAL NOT NULL,
            trunk_lean_deg REAL NOT NULL,
            verdict TEXT NOT NULL,
            PRIMARY KEY (set_id, idx)
        ) WITHOUT ROWID""",
    ),
    # 3: the share of the camera's frames a walk was judged on (NULL: not known, as for walks before it).
    ("ALTER TABLE walks ADD COLUMN judged_share REAL",),
)
SCHEMA_VERSION = len(MIGRATIONS)


EARLIEST_UNIX_S = 1577836800.0
"""2020-01-01: a walk dated before Beltline existed comes from a kiosk whose clock was never set."""
LATEST_UNIX_S = 4102444800.0
"""2100-01-01."""
ANGLE_LIMIT_DEG = 90.0
"""No drop, lean, tolerance or calibration is larger: a row that says so is damaged."""
MIN_TOLERANCE_DEG = 0.1
"""No kiosk judges level more finely (config: pelvis.tolerance_deg)."""
TEXT_LIMIT = 60
"""A kiosk's name, a version or a uid is cut to this many characters (with an ellipsis)."""


def clean_text(value: object, limit: int = TEXT_LIMIT) -> str:
    """Text from a database for a page or a chart: control characters (NUL included) dropped, and
    cut to `limit` characters with an ellipsis."""
    text = "".join(c for c in str(value) if c.isprintable())
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def _optional(value: object, what: str, low: float, high: float) -> float | None:
    return None if value is None else number_in(value, what, low, high)


def _when_s(row: Mapping[str, object] | sqlite3.Row) -> tuple[float, float]:
    started = number_in(row["started_unix_s"], "started_unix_s", EARLIEST_UNIX_S, LATEST_UNIX_S)
    ended = number_in(row["ended_unix_s"], "ended_unix_s", started, LATEST_UNIX_S)
    return started, ended


@dataclass(frozen=True, slots=True)
class Read:
    """What a database held in a period: the rows that make sense, and how many did not."""

    walks: list[WalkRecord]
    sets: list[StoredSet]
    skipped: int
    """Walks and sets left out for impossible values (not a number, out of range, a clock never set)."""


class WalkRefused(RecordsError):
    """The database took none of this one walk (a value it refuses, such as a NaN); it still works."""


@dataclass(frozen=True, slots=True)
class WalkContext:
    """What is in force for every walk a kiosk records."""

    kiosk: str
    mode: Mode
    tolerance_deg: float
    calibration_deg: float | None


@dataclass(frozen=True, slots=True)
class WalkRecord:
    """One walk as stored: its summary and steps (step times in seconds from the walk's start)."""

    uid: str
    kiosk: str
    mode: Mode
    started_unix_s: float
    ended_unix_s: float
    summary: WalkSummary
    steps: tuple[StepRecord, ...]
    tolerance_deg: float
    calibration_deg: float | None
    version: str = __version__
    judged_share: float | None = None
    """The share of the camera's frames the walk was judged on (FinishedWalk.judged_share)."""

    @classmethod
    def of(cls, walk: FinishedWalk, context: WalkContext, now_unix_s: float) -> WalkRecord:
        """`walk` (on the stream's clock), closed at `now_unix_s`, on the wall clock."""
        ended = now_unix_s - max(walk.closed_s - walk.end_s, 0.0)
        started = ended - max(walk.end_s - walk.start_s, 0.0)
        steps = tuple(
            StepRecord(i, round(s.start_s - walk.start_s, 3), round(s.end_s - walk.start_s, 3), s.stance_side,
                       s.peak_drop_deg, s.drop_side, s.trunk_lean_deg, s.lateral_shift_hip_widths, s.pattern)
            for i, s in enumerate(walk.steps)
        )
        return cls(uuid.uuid4().hex, context.kiosk, context.mode, round(started, 3), round(ended, 3), walk.summary,
                   steps, context.tolerance_deg, context.calibration_deg, judged_share=walk.judged_share)


@dataclass(frozen=True, slots=True)
class SetRecord:
    """One exercise set as stored (rep times in seconds from the set's start)."""

    uid: str
    kiosk: str
    started_unix_s: float
    ended_unix_s: float
    summary: SetSummary
    tolerance_deg: float
    calibration_deg: float | None
    exercise: str = "standing_hip_abduction"
    version: str = __version__

    @classmethod
    def of(cls, summary: SetSummary, context: WalkContext, now_unix_s: float) -> SetRecord:
        started = now_unix_s - max(summary.end_s - summary.start_s, 0.0)
        return cls(uuid.uuid4().hex, context.kiosk, round(started, 3), round(now_unix_s, 3), summary,
                   context.tolerance_deg, context.calibration_deg)


@dataclass(frozen=True, slots=True)
class StoredRep:
    """One rep of a set as read back (times in seconds from the set's start); its verdict is text,
    as a newer Beltline may have written one this one does not know."""

    index: int
    side: Side
    start_s: float
    end_s: float
    peak_angle_deg: float
    hold_s: float
    pelvis_hike_deg: float
    trunk_lean_deg: float
    verdict: str


@dataclass(frozen=True, slots=True)
class StoredSet:
    """One exercise set as read back, every number checked."""

    uid: str
    kiosk: str
    exercise: str
    version: str
    started_unix_s: float
    ended_unix_s: float
    reps_left: int
    reps_right: int
    clean_fraction: float
    tolerance_deg: float
    calibration_deg: float | None
    reps: tuple[StoredRep, ...]

    @property
    def mean_range_deg(self) -> float | None:
        """The mean of its reps' ranges (both legs), or None without reps."""
        return statistics.fmean(rep.peak_angle_deg for rep in self.reps) if self.reps else None


def kiosk_name(config: RecordsConfig) -> str:
    return config.kiosk_name or os.uname().nodename or "kiosk"


def _reason(error: BaseException) -> str:
    if isinstance(error, sqlite3.Error):
        text = str(error)
        if "not a database" in text or "malformed" in text:
            return f"the file is corrupt ({text})"
        if "locked" in text or "busy" in text:
            return f"another program holds it locked ({text})"
        if "full" in text:
            return f"the disk is full ({text})"
        return text
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return str(error)


def _open_read_only(path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    """A database opened for reading.  In WAL mode even a reader needs the `-shm` file, which it
    cannot create on read-only media (a kiosk's file copied to a read-only share or a locked USB
    stick): there SQLite's `immutable=1` reads the file as it stands (its documentation's answer
    for read-only media; walks still in a `-wal` file beside it, not yet checkpointed, are not
    seen, and a kiosk closing cleanly leaves none)."""
    uri = "file:" + urllib.parse.quote(str(path.resolve()))
    connection = sqlite3.connect(uri + "?mode=ro", uri=True, timeout=busy_timeout_s, isolation_level=None)
    try:
        connection.execute("PRAGMA user_version").fetchone()
        return connection
    except sqlite3.OperationalError as error:
        connection.close()
        if "readonly" not in str(error) and "unable to open" not in str(error):
            raise
    log.info("records database %s is on read-only media: read as it stands (immutable)", path)
    return sqlite3.connect(uri + "?immutable=1", uri=True, timeout=busy_timeout_s, isolation_level=None)


class RecordStore:
    """The records database, opened for writing (migrated to the current schema) or for reading."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False, busy_timeout_s: float = 5.0) -> RecordStore:
        """Open (and for writing, create and migrate) `path`; RecordsError names what is wrong."""
        connection: sqlite3.Connection | None = None
        try:
            if read_only:
                if not path.is_file():
                    raise RecordsError(f"records database {path} does not exist: the kiosk writes it at the "
                                       "first walk (`beltline run`), or pass the one it wrote with --db")
                connection = _open_read_only(path, busy_timeout_s)
            else:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                if not path.exists():  # readable by its owner only (SQLite gives -wal and -shm the same mode)
                    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
                connection = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None)
            connection.row_factory = sqlite3.Row
            store = cls(connection, path)
            store._set_up(read_only)
            return store
        except RecordsError:
            if connection is not None:
                connection.close()
            raise
        except (sqlite3.Error, OSError) as error:
            if connection is not None:
                connection.close()
            raise RecordsError(f"records database {path}: {_reason(error)}") from error

    def _set_up(self, read_only: bool) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise RecordsError(f"records database {self.path} has schema version {version}, newer than this "
                               f"Beltline's {SCHEMA_VERSION}: update Beltline to use it")
        if read_only:
            if version == 0:
                raise RecordsError(f"records database {self.path} is not a Beltline records database (no schema)")
            return
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self.migrate(version)

    def migrate(self, version: int, to: int = SCHEMA_VERSION) -> None:
        """Apply the migrations from `version` up to `to`, each in its own transaction."""
        for number in range(version, to):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[number]:
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number + 1}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @contextlib.contextmanager
    def _transaction(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction (all of it, or none of it), its failures as RecordsError; a value
        the database refuses (a constraint) as WalkRefused, naming `what` was refused."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        except sqlite3.IntegrityError as error:
            raise WalkRefused(f"records database {self.path} refused {what}: {error}") from error
        except sqlite3.Error as error:
            raise RecordsError(f"records database {self.path}: {_reason(error)}") from error

    def add_walk(self, walk: WalkRecord) -> int:
        """Store `walk` and its steps in one transaction; its row id."""
        s = walk.summary
        with self._transaction("a walk") as db:
            cursor = db.execute(
                "INSERT INTO walks (uid, kiosk, mode, started_unix_s, ended_unix_s, steps, peak_left_drop_deg,"
                " peak_right_drop_deg, mean_left_drop_deg, mean_right_drop_deg, asymmetry_deg,"
                " level_step_fraction, dominant_pattern, tolerance_deg, calibration_deg, version, judged_share)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (walk.uid, walk.kiosk, walk.mode.value, walk.started_unix_s, walk.ended_unix_s, s.steps,
                 s.peak_left_drop_deg, s.peak_right_drop_deg, s.mean_left_drop_deg, s.mean_right_drop_deg,
                 s.asymmetry_deg, s.level_step_fraction, s.dominant_pattern.value, walk.tolerance_deg,
                 walk.calibration_deg, walk.version, walk.judged_share),
            )
            walk_id = int(cursor.lastrowid or 0)
            db.executemany(
                "INSERT INTO steps (walk_id, idx, start_offset_s, end_offset_s, stance_side, peak_drop_deg,"
                " drop_side, trunk_lean_deg, lateral_shift_hip_widths, pattern)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(walk_id, step.index, step.start_s, step.end_s, step.stance_side.value, step.peak_drop_deg,
                  step.drop_side.value, step.trunk_lean_deg, step.lateral_shift_hip_widths, step.pattern.value)
                 for step in walk.steps],
            )
        return walk_id

    def add_set(self, record: SetRecord) -> int:
        """Store an exercise set and its reps in one transaction; its row id."""
        s = record.summary
        with self._transaction("a set") as db:
            cursor = db.execute(
                "INSERT INTO sets (uid, kiosk, exercise, started_unix_s, ended_unix_s, reps_left, reps_right,"
                " clean_fraction, tolerance_deg, calibration_deg, version)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.uid, record.kiosk, record.exercise, record.started_unix_s, record.ended_unix_s,
                 s.count(Side.LEFT), s.count(Side.RIGHT), s.clean_fraction, record.tolerance_deg,
                 record.calibration_deg, record.version))
            set_id = int(cursor.lastrowid or 0)
            db.executemany(
                "INSERT INTO reps (set_id, idx, side, start_offset_s, end_offset_s, peak_angle_deg, hold_s,"
                " pelvis_hike_deg, trunk_lean_deg, verdict) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(set_id, i, rep.side.value, round(rep.start_s - s.start_s, 3), round(rep.end_s - s.start_s, 3),
                  rep.peak_angle_deg, rep.hold_s, rep.pelvis_hike_deg, rep.trunk_lean_deg, rep.verdict.value)
                 for i, rep in enumerate(s.reps)])
        return set_id

    def prune(self, older_than_unix_s: float) -> int:
        """Delete the walks (and sets) that ended before `older_than_unix_s`; how many walks went."""
        with self._transaction("a prune") as db:
            gone = db.execute("DELETE FROM walks WHERE ended_unix_s < ?", (older_than_unix_s,)).rowcount
            db.execute("DELETE FROM sets WHERE ended_unix_s < ?", (older_than_unix_s,))
        return int(gone)

    def walks(self, since_unix_s: float | None = None) -> list[WalkRecord]:
        """Every walk that ended at or after `since_unix_s`, oldest first, with its steps (the
        walks whose values make no sense are left out: `read` counts them)."""
        return self.read(since_unix_s, sets=False).walks

    def read(self, since_unix_s: float | None = None, *, sets: bool = True) -> Read:
        """The walks (and exercise sets) that ended at or after `since_unix_s`, oldest first, each
        validated by value: a row with an impossible value, or a step or rep that has one, is
        skipped and counted, never passed on to a page or a chart."""
        since = since_unix_s if since_unix_s is not None else float("-inf")
        try:
            rows = self._db.execute(
                "SELECT * FROM walks WHERE ended_unix_s >= ? ORDER BY started_unix_s, uid", (since,)).fetchall()
            step_rows: dict[int, list[sqlite3.Row]] = {}
            for step in self._db.execute(
                "SELECT steps.* FROM steps JOIN walks ON walks.id = steps.walk_id WHERE walks.ended_unix_s >= ?"
                " ORDER BY steps.walk_id, steps.idx", (since,),
            ):
                step_rows.setdefault(int(step["walk_id"]), []).append(step)
            walks, skipped = [], 0
            for row in rows:
                try:
                    walks.append(_walk_of(row, tuple(_step_of(step) for step in step_rows.get(int(row["id"]), ()))))
                except (ValueError, KeyError, TypeError, OverflowError):
                    skipped += 1
            found_sets, bad_sets = self._sets(since) if sets else ([], 0)
        except sqlite3.Error as error:
            raise RecordsError(f"records database {self.path}: {_reason(error)}") from error
        return Read(walks, found_sets, skipped + bad_sets)

    def sets(self, since_unix_s: float | None = None) -> list[StoredSet]:
        """The exercise sets that ended at or after `since_unix_s`, each with its reps (the sets
        whose values make no sense are left out: `read` counts them)."""
        try:
            return self._sets(since_unix_s if since_unix_s is not None else float("-inf"))[0]
        except sqlite3.Error as error:
            raise RecordsError(f"records database {self.path}: {_reason(error)}") from error

    def _sets(self, since: float) -> tuple[list[StoredSet], int]:
        rows = list(self._db.execute(
            "SELECT * FROM sets WHERE ended_unix_s >= ? ORDER BY started_unix_s, uid", (since,)))
        reps: dict[object, list[sqlite3.Row]] = {}
        for rep in self._db.execute("SELECT * FROM reps ORDER BY set_id, idx"):
            reps.setdefault(rep["set_id"], []).append(rep)
        good, skipped = [], 0
        for row in rows:
            try:
                good.append(_set_of(row, reps.get(row["id"], [])))
            except (ValueError, KeyError, TypeError, OverflowError):
                skipped += 1
        return good, skipped

    def integrity(self) -> str:
        """`PRAGMA integrity_check`: "ok", or what is wrong."""
        return "; ".join(str(row[0]) for row in self._db.execute("PRAGMA integrity_check"))

    def close(self) -> None:
        self._db.close()


def _step_of(row: sqlite3.Row) -> StepRecord:
    a = ANGLE_LIMIT_DEG
    return StepRecord(int(number_in(row["idx"], "idx", 0, 1e6)), number_in(row["start_offset_s"], "start", 0, 1e6),
                      number_in(row["end_offset_s"], "end", 0, 1e6), Side(row["stance_side"]),
                      number_in(row["peak_drop_deg"], "peak_drop_deg", -a, a), Side(row["drop_side"]),
                      number_in(row["trunk_lean_deg"], "trunk_lean_deg", -a, a),
                      number_in(row["lateral_shift_hip_widths"], "lateral_shift_hip_widths", -100, 100),
                      Pattern(row["pattern"]))


def _walk_of(row: sqlite3.Row, steps: tuple[StepRecord, ...]) -> WalkRecord:
    a = ANGLE_LIMIT_DEG
    started, ended = _when_s(row)
    patterns = Counter(step.pattern for step in steps)
    tolerance = number_in(row["tolerance_deg"], "tolerance_deg", MIN_TOLERANCE_DEG, a)
    summary = WalkSummary(
        steps=int(number_in(row["steps"], "steps", 0, 1e6)),
        peak_left_drop_deg=_optional(row["peak_left_drop_deg"], "peak_left_drop_deg", -a, a),
        peak_right_drop_deg=_optional(row["peak_right_drop_deg"], "peak_right_drop_deg", -a, a),
        mean_left_drop_deg=number_in(row["mean_left_drop_deg"], "mean_left_drop_deg", -a, a),
        mean_right_drop_deg=number_in(row["mean_right_drop_deg"], "mean_right_drop_deg", -a, a),
        asymmetry_deg=number_in(row["asymmetry_deg"], "asymmetry_deg", -2 * a, 2 * a),
        level_step_fraction=number_in(row["level_step_fraction"], "level_step_fraction", 0, 1),
        patterns=tuple(patterns.items()),
        dominant_pattern=Pattern(row["dominant_pattern"]),
        drop_deg=tolerance,
    )
    return WalkRecord(clean_text(row["uid"], 64), clean_text(row["kiosk"]), Mode(row["mode"]), started, ended,
                      summary, steps, tolerance, _optional(row["calibration_deg"], "calibration_deg", -a, a),
                      clean_text(row["version"]), _optional(row["judged_share"], "judged_share", 0, 1))


def _set_of(row: sqlite3.Row, reps: list[sqlite3.Row]) -> StoredSet:
    """A set's row with its reps, every number checked (the report reads them)."""
    a = ANGLE_LIMIT_DEG
    started, ended = _when_s(row)
    return StoredSet(
        clean_text(row["uid"], 64), clean_text(row["kiosk"]), clean_text(row["exercise"]), clean_text(row["version"]),
        started, ended, int(number_in(row["reps_left"], "reps_left", 0, 1e6)),
        int(number_in(row["reps_right"], "reps_right", 0, 1e6)),
        number_in(row["clean_fraction"], "clean_fraction", 0, 1),
        number_in(row["tolerance_deg"], "tolerance_deg", MIN_TOLERANCE_DEG, a),
        _optional(row["calibration_deg"], "calibration_deg", -a, a),
        tuple(StoredRep(int(number_in(rep["idx"], "idx", 0, 1e6)), Side(rep["side"]),
                        number_in(rep["start_offset_s"], "start_offset_s", 0, 1e6),
                        number_in(rep["end_offset_s"], "end_offset_s", 0, 1e6),
                        number_in(rep["peak_angle_deg"], "peak_angle_deg", -180, 180),
                        number_in(rep["hold_s"], "hold_s", 0, 1e6),
                        number_in(rep["pelvis_hike_deg"], "pelvis_hike_deg", -a, a),
                        number_in(rep["trunk_lean_deg"], "trunk_lean_deg", -a, a), clean_text(rep["verdict"]))
              for rep in reps))


class RecordWriter:
    """Finished walks to the database, in a thread of its own, one transaction each.

    `submit` is what the pipeline calls (kiosk.flow.person.WalkSink): it stamps the walk with the wall
    clock and queues it, never waiting on the disk.  The thread opens the file (creating and
    migrating it), prunes walks older than `keep_days` at start and once a day, and writes.  The
    first failure is logged in one line and turns recording off; each later walk tries the database
    again, and the first that goes in turns it back on (one line each way); nothing else stops.
    """

    def __init__(self, path: Path, context: WalkContext, keep_days: int = 365, *,
                 clock: Callable[[], float] = time.time, busy_timeout_s: float = 5.0) -> None:
        self.path = path
        self.context = context
        self.keep_days = keep_days
        self._clock = clock
        self._busy_timeout_s = busy_timeout_s
        self._queue: queue.SimpleQueue[WalkRecord | SetRecord | None] = queue.SimpleQueue()
        self.problem: str | None = None
        """Why recording stopped (None: it has not)."""
        self.written = 0
        self.lost = 0
        """Walks not recorded because the database had failed."""
        self.write_s_max = 0.0
        """The longest a walk took to write (in this thread, not the frame loop's)."""
        self._pruned_at: float | None = None
        self._thread = threading.Thread(target=self._run, name="records", daemon=True)
        self._closed = False
        self._thread.start()

    def submit(self, walk: FinishedWalk) -> None:
        """Queue `walk` for writing (called from the pipeline's thread; returns at once)."""
        if self._closed:
            self.lost += 1
            return
        self._queue.put(WalkRecord.of(walk, self.context, self._clock()))

    def recalibrated(self, calibration_deg: float) -> None:
        """A new calibration is in force (the gesture): the walks and sets from now on carry it."""
        self.context = dataclasses.replace(self.context, calibration_deg=calibration_deg)

    def submit_set(self, summary: SetSummary) -> None:
        """Queue an exercise set for writing (called from the pipeline's thread; returns at once)."""
        if self._closed:
            self.lost += 1
            return
        self._queue.put(SetRecord.of(summary, self.context, self._clock()))

    def close(self, timeout_s: float = 5.0) -> None:
        """Write what is queued, then stop the thread (the walks still queued after `timeout_s` are lost)."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.warning("records: the database did not take the last walks within %.0f s", timeout_s)

    def _run(self) -> None:
        store = self._open()
        try:
            while (walk := self._queue.get()) is not None:
                if store is None and (store := self._open()) is None:
                    self.lost += 1  # still failing: this walk is lost, the next one tries again
                    continue
                try:
                    started = time.perf_counter()
                    if isinstance(walk, SetRecord):
                        store.add_set(walk)
                    else:
                        store.add_walk(walk)
                    self.write_s_max = max(self.write_s_max, time.perf_counter() - started)
                    self.written += 1
                    self._prune(store)
                except WalkRefused as refused:  # this walk only: the next one may go in
                    self.lost += 1
                    log.warning("records: a walk was not recorded (%s)", refused)
                except RecordsError as error:
                    self.lost += 1
                    store.close()
                    store = None
                    self._fail(str(error))
        finally:
            if store is not None:
                store.close()

    def _open(self) -> RecordStore | None:
        """The database, opened (created, migrated) and pruned; None while it cannot be: recording
        is off until a later walk finds it usable again (a disk with room again, a lock released)."""
        store = None
        try:
            store = RecordStore.open(self.path, busy_timeout_s=self._busy_timeout_s)
            self._prune(store)
        except RecordsError as error:
            if store is not None:
                store.close()
            self._fail(str(error))
            return None
        if self.problem is not None:
            log.warning("records back on: %s (%d walks were not recorded while off)", self.path, self.lost)
            self.problem = None
        else:
            log.info("records: %s (schema %d)", self.path, store.schema_version)
        return store

    def _prune(self, store: RecordStore) -> None:
        now = self._clock()
        if not self.keep_days or (self._pruned_at is not None and now - self._pruned_at < DAY_S):
            return
        gone = store.prune(now - self.keep_days * DAY_S)
        self._pruned_at = now
        if gone:
            log.info("records: deleted %d walks older than %d days", gone, self.keep_days)

    def _fail(self, reason: str) -> None:
        if self.problem is None:  # said once until recording is back
            log.warning("records off: %s; the kiosk goes on, and tries again at the next walk", reason)
        self.problem = reason
