"""`beltline report` and `analyze --report`: one self-contained HTML file a clinician opens.

The plots are PNGs inside the file (kiosk.recording.plots); there is no script, font or link to fetch, so it
opens the same on a laptop with no network.  Several kiosks' databases merge into one report
(a walk is kept once, by its random id, however many files carry it).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import html
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from kiosk import __version__
from kiosk.body.fatigue import DETECTABLE_CHANGE_DEG, LONG_WALK_S, TREND_STEPS, FatigueFinding, long_walk
from kiosk.core.errors import BeltlineError, RecordsError
from kiosk.core.files import write_atomically
from kiosk.core.types import Pattern, RepVerdict, Side, StepRecord
from kiosk.core.words import PATTERN_MEANING, PATTERN_WORDS, drops_more_words
from kiosk.recording import plots
from kiosk.recording.store import RecordStore, StoredSet, WalkRecord, clean_text
from kiosk.settings.config import Mode

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from kiosk.app.analyze import Analysis

MIN_STABLE_STEPS = 7
"""A walk's mean drop needs about this many steps to be stable (Dingenen 2018)."""
MEANINGFUL_CHANGE_DEG = 2.7
"""A change smaller than this is within what 2D video can tell apart (Dingenen 2018)."""
RECENT_WALKS = 40
FILTER_WORDS = {"one_euro": "One Euro filter (smooths more when still, less when moving)"}
MIRROR_WORDS = {"on": "on (each frame as it is and mirrored)",
                "alternate": "every other frame mirrored, averaged with the one before", "off": "off"}

WALK_COLUMNS = ("started", "ended", "kiosk", "mode", "steps", "peak_left_drop_deg", "peak_right_drop_deg",
                "mean_left_drop_deg", "mean_right_drop_deg", "asymmetry_deg", "level_step_fraction",
                "dominant_pattern", "tolerance_deg", "calibration_deg", "uid", "judged_share")
"""The walks CSV's columns (`report --csv`): a side without a low-hip step has its peak and mean empty
alike; `judged_share` is empty for walks recorded before it was kept."""
JUDGED_SHARE_LOW = 0.8
"""A walk judged on fewer of the camera's frames than this is marked: its peaks may be missed."""


@dataclass(frozen=True)
class RecordSet:
    """Walks (and exercise sets) from one or more databases, each walk once, oldest first."""

    walks: tuple[WalkRecord, ...]
    sets: tuple[StoredSet, ...]
    sources: tuple[Path, ...]
    skipped: int = 0
    """Walks and sets left out for impossible values (kiosk.recording.store.Read), or dated in the future."""
    unreadable: tuple[str, ...] = ()
    """The databases that could not be read, each with why (the others are reported)."""


def parse_since(text: str | None) -> float | None:
    """--since YYYY-MM-DD: local midnight of that day, in Unix seconds."""
    if text is None:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError as error:
        raise BeltlineError(f"--since: '{text}' is not a date (YYYY-MM-DD)") from error
    return dt.datetime.combine(day, dt.time()).timestamp()


FUTURE_SLACK_S = 86400.0
"""A walk dated more than a day after the report is made comes from a kiosk whose clock ran ahead."""


def load_records(paths: Sequence[Path], since_unix_s: float | None = None, now_unix_s: float | None = None
                 ) -> RecordSet:
    """Read every database (read-only) and merge them.  A database that cannot be read is named in
    `unreadable` and the others are reported; RecordsError only when none can be read."""
    walks: dict[str, WalkRecord] = {}
    sets: dict[str, StoredSet] = {}
    skipped = 0
    unreadable: list[str] = []
    latest = (time.time() if now_unix_s is None else now_unix_s) + FUTURE_SLACK_S
    read = []
    for path in dict.fromkeys(paths):
        try:
            store = RecordStore.open(path, read_only=True)
            try:
                found = store.read(since_unix_s)
            finally:
                store.close()
        except RecordsError as error:
            unreadable.append(str(error))
            continue
        read.append(path)
        skipped += found.skipped
        for walk in found.walks:
            if walk.ended_unix_s > latest:
                skipped += 1
            else:
                walks.setdefault(walk.uid, walk)
        for stored in found.sets:
            if stored.ended_unix_s > latest:
                skipped += 1
            else:
                sets.setdefault(stored.uid, stored)
    if not read:
        raise RecordsError("; ".join(unreadable))
    for problem in unreadable:
        log.warning("%s (left out of the report)", problem)
    ordered = sorted(walks.values(), key=lambda w: (w.started_unix_s, w.uid))
    return RecordSet(tuple(ordered), tuple(sorted(sets.values(), key=lambda s: (s.started_unix_s, s.uid))),
                     tuple(read), skipped, tuple(unreadable))


def _when(unix_s: float) -> str:
    return dt.datetime.fromtimestamp(unix_s).strftime("%Y-%m-%d %H:%M")


def write_walks_csv(handle: IO[str], walks: Iterable[WalkRecord]) -> None:
    """One row per walk (local times, ISO 8601)."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(WALK_COLUMNS)
    for w in walks:
        s = w.summary
        writer.writerow([
            dt.datetime.fromtimestamp(w.started_unix_s).isoformat(timespec="seconds"),
            dt.datetime.fromtimestamp(w.ended_unix_s).isoformat(timespec="seconds"),
            spreadsheet_text(w.kiosk), w.mode.value, s.steps, _blank(s.peak_left_drop_deg),
            _blank(s.peak_right_drop_deg),
            _blank(None if s.peak_left_drop_deg is None else s.mean_left_drop_deg),
            _blank(None if s.peak_right_drop_deg is None else s.mean_right_drop_deg),
            s.asymmetry_deg, s.level_step_fraction,
            s.dominant_pattern.value, w.tolerance_deg, _blank(w.calibration_deg), w.uid, _blank(w.judged_share),
        ])


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP's rule for CSV injection: a cell
    that begins with = + - @, a tab or a carriage return gets a leading apostrophe).  Numbers are
    written as numbers, never through here."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _blank(value: float | None) -> str | float:
    return "" if value is None else value


# ---- HTML ----------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1d1d1f;
       max-width: 960px; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
.sub { color: #555; margin-top: 0; }
.figures { display: flex; gap: 1.5rem; flex-wrap: wrap; margin: 1rem 0; }
.figure { background: #f4f6f8; border-radius: 8px; padding: 0.6rem 1rem; min-width: 8rem; }
.figure b { display: block; font-size: 1.5rem; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.85rem; }
th, td { padding: 0.25rem 0.45rem; border-bottom: 1px solid #e4e4e4; text-align: right; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
td.text, .sub, .note { overflow-wrap: anywhere; }
th { background: #f4f6f8; font-weight: 600; }
td.over { color: #b0152a; font-weight: 600; }
.note { color: #555; font-size: 0.85rem; }
figure { margin: 0.5rem 0 1rem; }
figcaption { color: #333; font-size: 0.9rem; margin-top: 0.2rem; }
td.few { color: #b0152a; }
td code { white-space: nowrap; }
"""


def _image(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def _plot(png: bytes, alt: str, caption: str) -> str:
    """A plot with a caption under it that says what to look at."""
    return f"<figure>{_image(png, alt)}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _page(title: str, body: list[str]) -> str:
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>", f"<style>{STYLE}</style>", "</head>", "<body>", *body,
        f'<p class="note">Made by Beltline {html.escape(__version__)} on {_when(dt.datetime.now().timestamp())} '
        "(times are this computer's local time). Beltline stores numbers only: no picture, no name.</p>",
        "</body>", "</html>", ""])


def _degrees(value: float | None, tolerance_deg: float | None = None) -> str:
    if value is None:
        return "<td>–</td>"
    over = tolerance_deg is not None and value > tolerance_deg
    return f'<td{" class=over" if over else ""}>{value:.1f}°</td>'


def _figure(label: str, value: str) -> str:
    return f'<div class="figure">{html.escape(label)}<b>{html.escape(value)}</b></div>'


def records_report(records: RecordSet, since_unix_s: float | None = None) -> str:
    """The HTML report of every walk (and exercise set) in `records`."""
    walks = records.walks
    steps = [step for walk in walks for step in walk.steps]
    kiosks = sorted({walk.kiosk for walk in walks})
    tolerances = sorted({walk.tolerance_deg for walk in walks})
    tolerance = tolerances[-1] if tolerances else 5.0
    since = f" since {dt.date.fromtimestamp(since_unix_s).isoformat()}" if since_unix_s is not None else ""
    body = ["<h1>Beltline: walks and pelvic drop</h1>",
            f'<p class="sub">{len(walks)} walks{since} from {len(kiosks)} kiosk{"s" if len(kiosks) != 1 else ""}'
            f'{": " + html.escape(", ".join(kiosks)) if kiosks else ""}; read from '
            f'{html.escape(", ".join(clean_text(p, 200) for p in records.sources))}</p>']
    if records.skipped:
        body.append(f'<p class="note">{records.skipped} walk{"s" if records.skipped != 1 else ""} or set'
                    f'{"s" if records.skipped != 1 else ""} skipped: impossible values (a number out of range, or a '
                    "kiosk clock that was wrong).</p>")
    for problem in records.unreadable:
        body.append(f'<p class="note">Left out: {html.escape(clean_text(problem, 300))}</p>')
    if not walks:
        body.append("<p>No walks recorded in this period.</p>")
        return _page("Beltline report", body)
    first, last = walks[0].started_unix_s, walks[-1].ended_unix_s
    stable = [w for w in walks if w.summary.steps >= MIN_STABLE_STEPS]
    level = sum(s.peak_drop_deg <= w.tolerance_deg for w in walks for s in w.steps)
    body.append('<div class="figures">' + "".join([
        _figure("walks", str(len(walks))),
        _figure(f"walks of {MIN_STABLE_STEPS}+ steps", str(len(stable))),
        _figure("steps", str(len(steps))),
        _figure("level steps", f"{level / len(steps):.0%}" if steps else "–"),
        _figure("period", f"{_when(first)[:10]} – {_when(last)[:10]}"),
    ]) + "</div>")
    if len(tolerances) > 1:
        used = ", ".join(f"{t:g}°" for t in tolerances)
        body.append(f'<p class="note">The kiosks used different tolerances ({used}); '
                    f"the plots show {tolerance:g}°.</p>")
    few = [w for w in walks if w.judged_share is not None and w.judged_share < JUDGED_SHARE_LOW]
    if few:
        body.append(f'<p class="note">{len(few)} walk{"s were" if len(few) != 1 else " was"} judged on fewer than '
                    f"{JUDGED_SHARE_LOW:.0%} of the camera's frames (the kiosk was busy and let frames go): "
                    "a short drop may have been missed, so their peaks may read low. They are marked in the "
                    "table of recent walks.</p>")
    body += ["<h2>Walks per day</h2>",
             _plot(plots.walks_per_day(walks), "walks per day",
                   "How often the kiosk was used: one bar per day, split by kiosk.")]
    body += ["<h2>Peak drop per walk, per side</h2>",
             _plot(plots.peak_drop_over_time(walks, tolerance, MIN_STABLE_STEPS, MEANINGFUL_CHANGE_DEG),
                   "peak drop per walk over time",
                   f"Look for the line coming down into the green band: the drop is getting smaller. Each dot is "
                   f"one walk: the largest drop among its steps with that hip low. Hollow dots are walks of fewer "
                   f"than {MIN_STABLE_STEPS} steps, too short for a stable mean; the line joins the daily means of "
                   f"the longer ones, and a change of more than {MEANINGFUL_CHANGE_DEG}° from one day to the next is "
                   f"ringed in red (smaller changes are within what 2D video can tell apart).")]
    changed = []
    for side in (Side.LEFT, Side.RIGHT):
        for day, change in plots.changes(plots.daily_means(walks, side, MIN_STABLE_STEPS), MEANINGFUL_CHANGE_DEG):
            changed.append(f"{day.isoformat()}: {side.value} hip's drop {'fell' if change < 0 else 'rose'} by "
                           f"{abs(change):.1f}°")
    body.append("<p>Changes beyond {:g}°: {}</p>".format(
        MEANINGFUL_CHANGE_DEG, html.escape("; ".join(changed)) if changed else
        ("none" if stable else f"none can be told yet (no walk of {MIN_STABLE_STEPS} or more steps)")))
    body += ["<h2>Every step's drop, per side</h2>",
             _plot(plots.step_drop_distribution(steps, tolerance), "distribution of per-step drops",
                   f"Most steps should sit left of the dashed line (the {tolerance:g}° tolerance). A side whose "
                   "bars reach further right drops more often and further."),
             "<h2>Patterns</h2>",
             _plot(plots.pattern_shares(steps), "share of steps per pattern",
                   "The share of all steps with each pattern. Green is level; the other colours are the ways a "
                   "pelvis gives way, below.")]
    body.append('<ul class="note">' + "".join(
        f"<li><b>{html.escape(PATTERN_WORDS[p].capitalize())}</b>: {html.escape(PATTERN_MEANING[p])}.</li>"
        for p in (Pattern.TRENDELENBURG, Pattern.TRUNK_LEAN, Pattern.HIP_DROP_SHIFT, Pattern.LEVEL))
        + "<li>Heuristics from 2D video, not a diagnosis.</li></ul>")
    body += _long_walks_section([(w, long_walk(w.steps, w.mode is Mode.TREADMILL)) for w in walks], tolerance)
    body.append("<h2>Exercise sets</h2>")
    if records.sets:
        reps = [rep for stored in records.sets for rep in stored.reps]
        clean = sum(rep.verdict == RepVerdict.CLEAN.value for rep in reps)
        body.append(_plot(plots.exercise_sets(records.sets), "exercise reps per leg, by verdict",
                          "One pair of bars per set: the left leg's reps and the right leg's, green when "
                          "the pelvis stayed level and the trunk upright, red when the pelvis hiked, amber when "
                          "the trunk leaned. Under each set: how many of its reps were clean. More green, and "
                          "the two bars alike, is the aim."))
        body.append(f"<p>{clean} of {len(reps)} rep{'s' if len(reps) != 1 else ''} clean in "
                    f"{len(records.sets)} set{'s' if len(records.sets) != 1 else ''}.</p>")
    else:
        body.append("<p>No exercise sets recorded.</p>")
    body += [f"<h2>Recent walks (the last {min(RECENT_WALKS, len(walks))})</h2>", _walks_table(walks[-RECENT_WALKS:])]
    return _page("Beltline report", body)


LONG_WALKS_SHOWN = 3


def fatigue_finding_words(finding: FatigueFinding) -> str:
    """What a long walk's steps say about fatigue, plainly."""
    if finding.grown_side is not None:
        onset = f" It first did so {finding.onset_min:g} minutes in." if finding.onset_min is not None else ""
        return (f"The {finding.grown_side.value} hip's drop grew from {finding.first_mean_deg:.1f}° (the mean of its "
                f"first {TREND_STEPS} steps) to {finding.last_mean_deg:.1f}° (its last {TREND_STEPS}): more than the "
                f"{DETECTABLE_CHANGE_DEG:g}° a camera can tell apart, so the hip tired.{onset}")
    if not finding.compared:
        return (f"Too few steps to hold the walk's start against its end ({2 * TREND_STEPS} of one hip are "
                "needed).")
    return (f"Neither hip's drop grew by more than {DETECTABLE_CHANGE_DEG:g}° from its first {TREND_STEPS} steps to "
            f"its last {TREND_STEPS}: no sign of fatigue in this walk.")


def _fatigue_parts(finding: FatigueFinding, tolerance_deg: float) -> list[str]:
    """A long walk's drop minute by minute, and what it says in words."""
    return [_plot(plots.drop_over_minutes(finding, tolerance_deg), "drop per minute over a long walk",
                  "Each dot is one minute: the mean peak drop of that minute's steps with that hip low. A line "
                  "that climbs out of the green band is a hip tiring."),
            f"<p>{html.escape(fatigue_finding_words(finding))}</p>"]


def _long_walks_section(findings: Sequence[tuple[WalkRecord, FatigueFinding | None]], tolerance_deg: float
                        ) -> list[str]:
    """The last few long walks (30 s or more, or on a treadmill): each one's drop minute by minute, and what it says."""
    long = [(walk, finding) for walk, finding in findings if finding is not None]
    body = ["<h2>Long walks: the drop over minutes</h2>"]
    if not long:
        return [*body, f"<p>No walk of {LONG_WALK_S:g} s or more, and none on a treadmill.</p>"]
    for walk, finding in long[-LONG_WALKS_SHOWN:]:
        where = "on a treadmill" if walk.mode is Mode.TREADMILL else "walking"
        body += [f"<h3>{_when(walk.started_unix_s)}, {finding.minutes:.1f} minutes {where}, "
                 f"{walk.summary.steps} steps</h3>",
                 *_fatigue_parts(finding, tolerance_deg)]
    if len(long) > LONG_WALKS_SHOWN:
        body.append(f'<p class="note">{len(long) - LONG_WALKS_SHOWN} earlier long walks are not shown.</p>')
    return body


def _walks_table(walks: Sequence[WalkRecord]) -> str:
    rows = ['<table><tr><th class="text">started</th><th class="text">kiosk</th><th>steps</th>'
            "<th>peak drop, left hip low</th><th>peak drop, right hip low</th><th>mean, left hip low</th>"
            '<th>mean, right hip low</th><th class="text">hip that drops more</th><th>level steps</th>'
            '<th class="text">pattern</th><th>tolerance</th><th>calibration</th><th>frames judged</th></tr>']
    for w in reversed(walks):
        s = w.summary
        few = w.judged_share is not None and w.judged_share < JUDGED_SHARE_LOW
        judged = "<td>–</td>" if w.judged_share is None else (
            f'<td{" class=few" if few else ""}>{w.judged_share:.0%}{" (few)" if few else ""}</td>')
        rows.append(
            f'<tr><td>{_when(w.started_unix_s)}</td><td class="text">{html.escape(w.kiosk)}</td><td>{s.steps}</td>'
            f"{_degrees(s.peak_left_drop_deg, w.tolerance_deg)}{_degrees(s.peak_right_drop_deg, w.tolerance_deg)}"
            f"{_degrees(s.mean_left_drop_deg if s.peak_left_drop_deg is not None else None)}"
            f"{_degrees(s.mean_right_drop_deg if s.peak_right_drop_deg is not None else None)}"
            f'<td class="text">{drops_more_words(s.asymmetry_deg, short=True)}</td><td>{s.level_step_fraction:.0%}</td>'
            f'<td class="text">{html.escape(PATTERN_WORDS[s.dominant_pattern])}</td><td>{w.tolerance_deg:g}°</td>'
            f"<td>{'–' if w.calibration_deg is None else f'{w.calibration_deg:+.1f}°'}</td>{judged}</tr>")
    rows.append("</table>")
    return "\n".join(rows)


GAIT_THRESHOLD_WORDS = {
    "drop_deg": ("a step drops when its peak is over", "pelvis.tolerance_deg", "°"),
    "lean_deg": ("the trunk leans when tilted over the standing leg by more than", "built in", "°"),
    "shift_hip_widths": ("the pelvis swings sideways when it travels more than", "built in", " hip widths"),
    "lead_hip_widths": ("a foot leads when the ankles differ in height by", "built in", " hip widths"),
    "min_step_s": ("the shortest step", "built in", " s"),
    "max_step_s": ("the longest step (longer is standing)", "built in", " s"),
}
"""The gait thresholds `analyze` reports, in plain words, with where each comes from."""


def walk_report(analysis: Analysis, title: str) -> str:
    """`analyze --report`: the tilt over time with the steps, the per-step table and the thresholds."""
    summary = analysis.summary
    walk = summary["walk"]
    thresholds = walk.get("thresholds", {})
    tolerance = float(summary["tolerance_deg"])
    body = [f"<h1>Beltline: {html.escape(title)}</h1>",
            f'<p class="sub">{summary["frames"]} frames, a verdict on {summary["frames_with_verdict"]}; '
            f'{walk.get("steps", 0)} steps; mode {html.escape(str(summary["mode"]))}</p>']
    if walk.get("steps"):
        peak = walk["peak_drop_deg"]
        body.append('<div class="figures">' + "".join([
            _figure("steps", str(walk["steps"])),
            _figure("peak drop, left hip low", "–" if peak["left"] is None else f'{peak["left"]:.1f}°'),
            _figure("peak drop, right hip low", "–" if peak["right"] is None else f'{peak["right"]:.1f}°'),
            _figure("on average", drops_more_words(float(walk["asymmetry_deg"]))),
            _figure("level steps", f'{walk["level_step_fraction"]:.0%}'),
            _figure("pattern", PATTERN_WORDS[Pattern(walk["dominant_pattern"])]),
        ]) + "</div>")
    for person_id, trace in sorted(analysis.traces.items()):
        steps = analysis.steps_by_person.get(person_id, []) if analysis.steps_by_person else analysis.steps
        heading = "The ruler's tilt over time" + (f", person {person_id}" if len(analysis.traces) > 1 else "")
        body += [f"<h2>{heading}</h2>",
                 _plot(plots.tilt_over_time(trace.t_s, trace.tilt_deg, steps, tolerance), "tilt over time",
                       f"The black line is the tilt the ruler showed: above zero the left hip is low, below zero "
                       f"the right. Look for peaks leaving the green band (±{tolerance:g}°), and whether they come "
                       f"on one side only. Each band is one step, labelled with its low hip and its peak drop, "
                       f"as in the table below.")]
    finding = None if analysis.steps_by_person else long_walk(analysis.steps, summary["mode"] == Mode.TREADMILL.value)
    if finding is not None:
        body += ["<h2>The drop over minutes</h2>", *_fatigue_parts(finding, tolerance)]
    body += ["<h2>Steps</h2>", _steps_table(analysis.steps, tolerance) if analysis.steps else
             "<p>No steps: nobody walked toward the camera long enough (a step is told by which foot leads).</p>"]
    rows = [("level within \u00b1 (tolerance)", f"{tolerance:g}°", "pelvis.tolerance_deg"),
            ("turns red only past the tolerance by", f'{summary["hysteresis_deg"]:g}°', "pelvis.hysteresis_deg"),
            ("holds a colour at least", f'{summary["min_dwell_s"]:g} s', "pelvis.min_dwell_s"),
            ("smoothing of the tilt", FILTER_WORDS.get(str(summary["tilt_filter"]), str(summary["tilt_filter"])),
             "built in"),
            ("calibrated standing tilt", "none" if summary["calibrated_standing_tilt_deg"] is None
             else f'{summary["calibrated_standing_tilt_deg"]:+.2f}°', "pelvis.calibration_file"),
            *((words, f"{thresholds[key]:g}{unit}", where) for key, (words, where, unit) in GAIT_THRESHOLD_WORDS.items()
              if isinstance(thresholds.get(key), (int, float))),
            ("pose model", Path(str(summary["model"])).name, "model.path"),
            ("each frame also read mirrored", MIRROR_WORDS[str(summary["mirror_mode"])], "model.mirror_average"),
            ("keypoints refined by votes", "on" if summary["refine_keypoints"] else "off", "built in")]
    body += ["<h2>Thresholds in force</h2>",
             '<table><tr><th class="text">what</th><th>value</th><th class="text">config key</th></tr>' + "".join(
                 f'<tr><td class="text">{html.escape(k)}</td><td>{html.escape(v)}</td>'
                 f'<td class="text"><code>{html.escape(where)}</code></td></tr>' for k, v, where in rows) + "</table>"]
    return _page(f"Beltline: {title}", body)


def _steps_table(steps: Sequence[StepRecord], tolerance_deg: float) -> str:
    rows = ['<table><tr><th>step</th><th>start (s)</th><th>end (s)</th><th class="text">low hip</th>'
            '<th>peak drop</th><th class="text">standing on</th><th>trunk lean toward the standing leg</th>'
            '<th>sideways shift (hip widths)</th><th class="text">pattern</th></tr>']
    for step in steps:
        rows.append(
            f"<tr><td>{step.index}</td><td>{step.start_s:.2f}</td><td>{step.end_s:.2f}</td>"
            f'<td class="text">{step.drop_side.value}</td>{_degrees(step.peak_drop_deg, tolerance_deg)}'
            f'<td class="text">{step.stance_side.value} leg</td><td>{step.trunk_lean_deg:+.1f}°</td>'
            f'<td>{step.lateral_shift_hip_widths:.2f}</td>'
            f'<td class="text">{html.escape(PATTERN_WORDS[step.pattern])}</td></tr>')
    rows.append("</table>")
    return "\n".join(rows)


def write_html(path: Path, text: str) -> None:
    try:
        write_atomically(path, text)
    except OSError as error:
        raise BeltlineError(f"cannot write {path}: {error.strerror or error}") from error
