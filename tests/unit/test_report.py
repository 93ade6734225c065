"""`beltline report` and `analyze --report`: filled from the real clips, merged across kiosks, and
opened in a real browser (Debian's chromium, headless)."""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import subprocess
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.app.cli import main
from kiosk.app.report import MEANINGFUL_CHANGE_DEG, load_records, parse_since, records_report
from kiosk.core.types import FinishedWalk, Side
from kiosk.recording.store import RecordStore, RecordWriter

from conftest import run_beltline, shared_file
from test_records import CONTEXT, finished_walk

CLIPS = ("frontal_walk_outdoor_cane.mp4", "frontal_walk_white_bg.mp4")


def _images(html: str) -> list[str]:
    return re.findall(r'<img alt="[^"]*" src="(data:image/png;base64,[^"]+)"', html)


def _screenshot(html_path: Path, out: Path, height_px: int) -> np.ndarray:
    """The page as Debian's chromium shows it, headless, with no network to reach."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium is needed for this test (apt-get install chromium; .ci/run installs it)"
    profile = out.parent / "chromium-profile"
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         f"--user-data-dir={profile}", f"--window-size=1100,{height_px}", f"--screenshot={out}",
         html_path.as_uri()], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0 and out.is_file(), result.stderr
    image = cv2.imread(str(out))
    assert image is not None
    return image


def _pixels_near(image: np.ndarray, hex_colour: str, tolerance: int = 40) -> int:
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    bgr = rgb[::-1]
    return int((np.abs(image.astype(int) - bgr).max(axis=-1) <= tolerance).sum())


@pytest.fixture(scope="module")
def filled_db(tmp_path_factory, model_path) -> Path:
    """A records database filled by `beltline analyze --db` on the real walking clips."""
    folder = tmp_path_factory.mktemp("records")
    db = folder / "records.sqlite"
    for clip in CLIPS:
        result = run_beltline("analyze", str(shared_file(clip)), "--model", str(model_path), "--db", str(db),
                              "--summary", str(folder / f"{clip}.json"))
        assert result.returncode == 0, result.stderr
    return db


@pytest.mark.shared
def test_the_report_of_the_real_clips_has_every_walk_its_plots_and_no_link_out(filled_db, tmp_path):
    out, walks_csv = tmp_path / "report.html", tmp_path / "walks.csv"
    result = run_beltline("report", "--db", str(filled_db), "--out", str(out), "--csv", str(walks_csv))
    assert result.returncode == 0, result.stderr
    store = RecordStore.open(filled_db, read_only=True)
    walks = store.walks()
    assert len(walks) == len(CLIPS)  # one walker in each clip
    html = out.read_text(encoding="utf-8")
    assert len(_images(html)) == 4  # walks per day, peak drop over time, per-step drops, patterns
    assert not re.search(r'(src|href)="(?!data:)', html) and "http" not in html  # self-contained
    table = html[html.index("<h2>Recent walks"):]
    assert table.count("<tr>") == len(walks) + 1
    rows = list(csv.DictReader(walks_csv.open()))
    assert [int(r["steps"]) for r in rows] == [w.summary.steps for w in walks]
    assert {r["uid"] for r in rows} == {w.uid for w in walks}


@pytest.mark.shared
def test_the_report_renders_in_chromium(filled_db, tmp_path):
    out = tmp_path / "report.html"
    assert main(["report", "--db", str(filled_db), "--out", str(out)]) == 0
    image = _screenshot(out, tmp_path / "report.png", 2600)
    # The plots were decoded and drawn: the left and right colours, and the tolerance band's green.
    assert _pixels_near(image, "#1f6fb4") > 500
    assert _pixels_near(image, "#d9661f") > 500
    assert _pixels_near(image, "#2e9e4a", tolerance=25) > 2000
    assert (image < 128).any(axis=-1).mean() > 0.01  # there is text, not an empty page


@pytest.mark.shared
def test_the_report_of_one_clip_has_its_tilt_its_steps_and_its_thresholds(tmp_path, model_path):
    out, steps_csv = tmp_path / "clip.html", tmp_path / "steps.csv"
    result = run_beltline("analyze", str(shared_file("frontal_walk_outdoor_cane.mp4")), "--model", str(model_path),
                          "--report", str(out), "--steps", str(steps_csv), "--summary", str(tmp_path / "s.json"))
    assert result.returncode == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    steps = list(csv.DictReader(steps_csv.open()))
    assert len(steps) >= 4
    assert len(_images(html)) == 1
    step_table = html[html.index("<h2>Steps"):html.index("<h2>Thresholds")]
    assert step_table.count("<tr>") == len(steps) + 1
    assert "level within ± (tolerance)" in html and "<code>pelvis.hysteresis_deg</code>" in html
    assert "gait:" not in html and "_" not in step_table.replace("class=", "")  # plain words, no code names
    # the bands' labels and the table name the same side: the low hip
    assert [row.split('<td class="text">')[1].split("<")[0] for row in step_table.split("<tr>")[2:]] == \
        [step["drop_side"] for step in steps]
    assert html.count("<figcaption>") == len(_images(html))
    image = _screenshot(out, tmp_path / "clip.png", 1900)
    assert _pixels_near(image, "#e6f3e9", tolerance=8) > 5000  # the tolerance band (pale green)
    assert _pixels_near(image, "#222222", tolerance=30) > 300  # the tilt line and the words


def test_several_kiosks_merge_into_one_report_each_walk_once(tmp_path):
    first, second = tmp_path / "hall-1.sqlite", tmp_path / "hall-2.sqlite"
    for path, count in ((first, 3), (second, 2)):
        writer = RecordWriter(path, CONTEXT)
        for _ in range(count):
            writer.submit(finished_walk())
        writer.close()
    # A copy of hall-1 (the same walks, carried over on a stick) is not counted twice.
    copy = tmp_path / "hall-1-copy.sqlite"
    source = RecordStore.open(first)
    source.close()
    shutil.copy(first, copy)
    records = load_records([first, second, copy])
    assert len(records.walks) == 5
    assert [w.started_unix_s for w in records.walks] == sorted(w.started_unix_s for w in records.walks)
    assert "5 walks" in records_report(records)


def test_since_keeps_the_walks_from_that_day_on(tmp_path):
    db = tmp_path / "records.sqlite"
    now = time.time()
    for days_ago in (10, 3, 0):
        writer = RecordWriter(db, CONTEXT, clock=lambda d=days_ago: now - d * 86400)
        writer.submit(finished_walk())
        writer.close()
    since = (dt.date.today() - dt.timedelta(days=5)).isoformat()
    assert len(load_records([db], parse_since(since)).walks) == 2
    assert main(["report", "--db", str(db), "--since", since, "--out", str(tmp_path / "r.html")]) == 0


def test_a_report_of_a_missing_or_foreign_file_says_which_in_one_line(tmp_path, capsys):
    assert main(["report", "--db", str(tmp_path / "nowhere.sqlite"), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"beltline: records database {tmp_path / 'nowhere.sqlite'} does not exist")
    assert "beltline run" in err and "--db" in err  # what to do about it
    foreign = tmp_path / "foreign.sqlite"
    import sqlite3

    sqlite3.connect(foreign).execute("CREATE TABLE t (x)")
    assert main(["report", "--db", str(foreign), "--out", str(tmp_path / "r.html")]) == 2
    assert "not a Beltline records database" in capsys.readouterr().err
    assert main(["report", "--db", str(foreign), "--since", "2026-13-01"]) == 2
    assert "'2026-13-01' is not a date" in capsys.readouterr().err


def test_a_change_beyond_the_methods_noise_is_marked_and_a_smaller_one_is_not():
    from kiosk.recording.plots import changes

    days = [dt.date(2026, 11, d) for d in (1, 2, 4, 5)]
    means = list(zip(days, [8.0, 7.0, 3.9, 3.0], [3, 3, 3, 3], strict=True))
    marked = changes(means, MEANINGFUL_CHANGE_DEG)
    assert [(day, round(change, 1)) for day, change in marked] == [(dt.date(2026, 11, 4), -3.1)]


def test_short_walks_do_not_make_a_daily_mean(tmp_path):
    from kiosk.recording.plots import daily_means

    db = tmp_path / "records.sqlite"
    writer = RecordWriter(db, CONTEXT)
    writer.submit(finished_walk(steps=4))
    writer.submit(finished_walk(steps=9))
    writer.close()
    walks = load_records([db]).walks
    (day_mean,) = daily_means(walks, Side.RIGHT, min_steps=7)
    (long,) = [w for w in walks if w.summary.steps == 9]
    assert day_mean[2] == 1 and day_mean[1] == long.summary.peak_right_drop_deg  # the 9-step walk alone


def test_exercise_sets_get_their_plot_once_there_are_any(tmp_path):
    import sqlite3

    db = tmp_path / "records.sqlite"
    writer = RecordWriter(db, CONTEXT)
    writer.submit(finished_walk())
    writer.close()
    assert len(_images(records_report(load_records([db])))) == 4
    connection = sqlite3.connect(db)
    with connection:  # a set as the exercise coach's schema holds it: reps per side, each rep's range
        connection.execute("INSERT INTO sets (id, uid, kiosk, exercise, started_unix_s, ended_unix_s, reps_left,"
                           " reps_right, clean_fraction, tolerance_deg, calibration_deg, version) VALUES"
                           " (1, 'a1', 'hall-1', 'standing_hip_abduction', ?, ?, 6, 5, 0.8, 5.0, NULL, 'test')",
                           (time.time() - 60, time.time()))
        connection.executemany("INSERT INTO reps VALUES (1, ?, ?, ?, ?, ?, 0.5, 1.0, 0.5, 'clean')",
                               [(i, "left" if i % 2 else "right", i * 2.0, i * 2.0 + 1.5, 25.0 + i) for i in range(11)])
    connection.close()
    html = records_report(load_records([db]))
    assert len(_images(html)) == 5 and "No exercise sets recorded" not in html


def test_a_walk_judged_on_few_frames_is_marked_and_the_csv_leaves_a_missing_side_empty(tmp_path):
    import dataclasses
    import io

    from kiosk.app.report import write_walks_csv
    from kiosk.body.gait import walk_summary
    from kiosk.core.types import Pattern, StepRecord

    db = tmp_path / "records.sqlite"
    writer = RecordWriter(db, CONTEXT)
    writer.submit(dataclasses.replace(finished_walk(), judged_share=0.69))
    writer.submit(dataclasses.replace(finished_walk(), judged_share=0.97))
    # a walk whose steps all dropped the right hip: nothing for the left
    steps = tuple(StepRecord(i, 100 + i * 0.5, 100.5 + i * 0.5, Side.LEFT, 6.0, Side.RIGHT, 0.0, 0.0,
                             Pattern.TRENDELENBURG) for i in range(6))
    base = finished_walk()
    writer.submit(dataclasses.replace(base, summary=walk_summary(list(steps), 5.0), steps=steps))
    writer.close()
    records = load_records([db])
    html = records_report(records)
    assert "1 walk was judged on fewer than 80% of the camera" in html
    assert html.count("69% (few)") == 1 and "97%" in html and "(few)" not in html.split("97%")[1][:20]
    assert "right, by 6.0°" in html and "hip drops on the swing side" in html
    assert "trendelenburg" not in html.split("<h2>Recent walks")[1]  # plain words in the table
    out = io.StringIO()
    write_walks_csv(out, records.walks)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    one_sided = [r for r in rows if r["peak_left_drop_deg"] == ""]
    assert len(one_sided) == 1 and one_sided[0]["mean_left_drop_deg"] == ""
    assert sorted(r["judged_share"] for r in rows) == ["", "0.69", "0.97"]


def _long_walk(minutes: float, left_from: float, left_to: float) -> FinishedWalk:
    """A treadmill walk of `minutes`, a step every 0.5 s, the left hip's drop going from one value to another."""
    from kiosk.body.gait import walk_summary
    from kiosk.core.types import Pattern, StepRecord

    count = int(minutes * 120)
    steps = tuple(StepRecord(k, 10 + k * 0.5, 10.5 + k * 0.5, Side.RIGHT if k % 2 == 0 else Side.LEFT,
                             round(left_from + (left_to - left_from) * k / (count - 1), 2) if k % 2 == 0 else 2.0,
                             Side.LEFT if k % 2 == 0 else Side.RIGHT, 0.0, 0.0, Pattern.LEVEL) for k in range(count))
    end_s = steps[-1].end_s
    return FinishedWalk(walk_summary(list(steps), 5.0), steps, steps[0].start_s, end_s, end_s + 1.2)


def test_a_long_walk_is_recorded_with_every_step_and_the_report_says_where_a_hip_tired(tmp_path):
    import dataclasses

    from kiosk.settings.config import Mode

    db = tmp_path / "records.sqlite"
    writer = RecordWriter(db, dataclasses.replace(CONTEXT, mode=Mode.TREADMILL))
    writer.submit(_long_walk(8, 3.0, 7.0))
    writer.close()
    writer = RecordWriter(db, CONTEXT)
    writer.submit(_long_walk(2, 3.0, 3.5))  # two minutes in a hallway: long, and steady
    writer.submit(finished_walk())  # a short walk: no section of its own
    writer.close()
    records = load_records([db])
    assert [len(w.steps) for w in records.walks] == [960, 240, 8]
    html = records_report(records)
    import html as markup

    section = markup.unescape(html.split("<h2>Long walks: the drop over minutes</h2>")[1].split("<h2>")[0])
    assert section.count("<h3>") == 2 and "minutes on a treadmill, 960 steps" in section
    assert "minutes walking, 240 steps" in section
    assert len(_images(section)) == 2
    # the left hip: 3.1° over its first 20 steps, 6.9° over its last 20; its last 20 first average
    # 2.7° more than its first 20 a little past two thirds of the way (3.1 + 2.7 + half of 20 steps' rise)
    assert "The left hip's drop grew from 3.1° (the mean of its first 20 steps) to 6.9°" in section
    onset = float(re.search(r"It first did so ([\d.]+) minutes in", section).group(1))
    assert 4.5 < onset < 6.0
    assert "no sign of fatigue in this walk" in section
