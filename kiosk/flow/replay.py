"""The last walk, kept in memory and played again in slow motion on the mirror.

Nobody can watch their own pelvis while walking toward a mirror: the walker looks ahead, and a
drop lasts a fraction of a second.  So the screen thread keeps every frame it shows with a person
in it (`ReplayRecorder.add`), scaled down and stored as I420 (1.5 bytes a pixel) in one ring
allocated once, whose size the memory budget decides; when a walk of four or more steps ends,
the loop plays it back (`Replay`): at a third of real speed, with the ruler as it was shown,
the steps marked along a timeline, stopping for a moment on the step with the largest drop.

Privacy: the frames are never written and never sent; they are dropped when the replay ends or
someone steps in, and when the person leaves without a walk (the loop calls `clear`).

Pure apart from the pictures: the caller gives the time.
"""

from __future__ import annotations

import bisect
import enum
import logging
import math

import cv2
import numpy as np

from kiosk.core.types import (
    FinishedWalk,
    Frame,
    Image,
    Rep,
    ReplayScreen,
    RepVerdict,
    SetSummary,
    Side,
    State,
    StepMark,
    Verdict,
)
from kiosk.core.words import largest_drop_words, worst_rep_words
from kiosk.settings.config import ReplayConfig

log = logging.getLogger(__name__)

LONG_SIDE_MAX_PX = 640
"""Kept pictures are never larger than this on their long side, whatever the budget allows."""
LEAD_S = 0.5
"""The replay starts this long before the walk's first step."""
TAIL_S = 0.3
"""... and ends this long after its walker was last seen."""


RING_SHARE = 0.97
"""The ring's share of the memory budget; the rest is for the two RGB pictures beside it."""


def kept_size(frame_w_px: int, frame_h_px: int, slots: int, budget_bytes: int) -> tuple[int, int]:
    """The largest even-sided size, in the frame's proportions, of which `slots` I420 pictures fit
    in the ring's share of `budget_bytes` (rounding down keeps them inside it)."""
    per_slot = RING_SHARE * budget_bytes / slots
    scale = min(1.0, math.sqrt(per_slot / (1.5 * frame_w_px * frame_h_px)),
                LONG_SIDE_MAX_PX / max(frame_w_px, frame_h_px))
    return max(2, int(frame_w_px * scale) // 2 * 2), max(2, int(frame_h_px * scale) // 2 * 2)


REP_SPAN_S = 4.0
"""The held rows' span: room for one exercise rep, copied out of the ring as the set goes on."""


class ReplayRecorder:
    """The ring of kept frames: `slots` pictures (the span at the camera's rate), each scaled to fit
    the budget, with the time and the verdict each was shown with; and after it, `held_slots`
    rows where one stretch of the ring (an exercise set's worst rep so far) is copied to outlive it."""

    def __init__(self, settings: ReplayConfig, camera_fps: float) -> None:
        self.settings = settings
        self.camera_fps = camera_fps
        self.slots = max(2, math.ceil(settings.span_s * camera_fps))
        self.held_slots = max(2, math.ceil(REP_SPAN_S * camera_fps))
        self.budget_bytes = settings.memory_mb * 2**20
        self._ring: np.ndarray | None = None
        """(slots + held_slots, h * 3 / 2, w) uint8: I420 pictures."""
        self._small: Image | None = None
        self._frame_size: tuple[int, int] | None = None
        self._size: tuple[int, int] = (0, 0)
        rows = self.slots + self.held_slots
        self._t_s = np.full(rows, np.nan)
        self._verdicts: list[Verdict | None] = [None] * rows
        self._next = 0
        self._count = 0
        self._held = 0

    @property
    def nbytes(self) -> int:
        """The memory the kept pictures take (allocated once, at the first frame)."""
        return sum(a.nbytes for a in (self._ring, self._small) if a is not None)

    @property
    def kept(self) -> int:
        """How many frames are kept now."""
        return self._count

    @property
    def picture_size(self) -> tuple[int, int]:
        """The kept pictures' width and height."""
        return self._size

    def add(self, frame: Frame, verdict: Verdict) -> None:
        """Keep `frame` (scaled down) with the verdict shown with it; the oldest kept frame goes."""
        if (frame.width_px, frame.height_px) != self._frame_size:
            self._allocate(frame.width_px, frame.height_px)
        assert self._ring is not None and self._small is not None
        slot = self._next
        cv2.resize(frame.image, self._size, dst=self._small, interpolation=cv2.INTER_LINEAR)
        cv2.cvtColor(self._small, cv2.COLOR_RGB2YUV_I420, dst=self._ring[slot])
        self._t_s[slot] = frame.t_s
        self._verdicts[slot] = verdict
        self._next = (slot + 1) % self.slots
        self._count = min(self._count + 1, self.slots)

    def clear(self, keep_held: bool = False) -> None:
        """Forget every kept frame (`keep_held`: but the held ones): the pictures are overwritten
        with zeros, the verdicts dropped."""
        if self._ring is not None and self._count:
            self._ring[: self.slots].fill(0)
        self._t_s[: self.slots] = np.nan
        self._verdicts[: self.slots] = [None] * self.slots
        self._next = 0
        self._count = 0
        if not keep_held:
            self.drop_held()

    def hold(self, slots: list[int]) -> None:
        """Copy these ring slots (in time order; the last `held_slots` of them) to the held rows,
        replacing what was held."""
        assert self._ring is not None or not slots
        self.drop_held()
        for row, slot in enumerate(slots[-self.held_slots:], start=self.slots):
            assert self._ring is not None
            self._ring[row] = self._ring[slot]
            self._t_s[row] = self._t_s[slot]
            self._verdicts[row] = self._verdicts[slot]
            self._held += 1

    def held(self) -> list[int]:
        """The held rows, in time order (slot numbers, as `slots_between` gives)."""
        return list(range(self.slots, self.slots + self._held))

    def drop_held(self) -> None:
        if self._ring is not None and self._held:
            self._ring[self.slots :].fill(0)
        self._t_s[self.slots :] = np.nan
        self._verdicts[self.slots :] = [None] * self.held_slots
        self._held = 0

    def slots_between(self, start_s: float, end_s: float) -> list[int]:
        """The kept frames from `start_s` to `end_s`, in time order (slot numbers)."""
        order = [(self._next - self._count + k) % self.slots for k in range(self._count)]
        return [slot for slot in order if start_s <= self._t_s[slot] <= end_s]

    def time_of(self, slot: int) -> float:
        return float(self._t_s[slot])

    def verdict_of(self, slot: int) -> Verdict:
        verdict = self._verdicts[slot]
        assert verdict is not None, "a slot that holds a frame"
        return verdict

    def picture(self, slot: int, out: Image) -> Image:
        """The kept picture in `slot` as RGB, into `out` (of `picture_size`)."""
        assert self._ring is not None
        cv2.cvtColor(self._ring[slot], cv2.COLOR_YUV2RGB_I420, dst=out)
        return out

    @property
    def frame_size(self) -> tuple[int, int]:
        """The camera frames' size (the verdicts' coordinates)."""
        return self._frame_size or (0, 0)

    def _allocate(self, frame_w_px: int, frame_h_px: int) -> None:
        """At the first frame, and again only if the camera's frame size changes."""
        self._frame_size = (frame_w_px, frame_h_px)
        rows = self.slots + self.held_slots
        width, height = kept_size(frame_w_px, frame_h_px, rows, self.budget_bytes)
        self._size = (width, height)
        self._ring = np.zeros((rows, height * 3 // 2, width), dtype=np.uint8)
        self._small = np.empty((height, width, 3), dtype=np.uint8)
        self.clear()


def _peak_slot(recorder: ReplayRecorder, slots: list[int], start_s: float, end_s: float, sign: float) -> int:
    """The kept frame between `start_s` and `end_s` where the ruler's tilt times `sign` was largest
    (the middle one, if none had a tilt)."""
    within = [s for s in slots if start_s <= recorder.time_of(s) <= end_s]
    tilted = [s for s in within if recorder.verdict_of(s).tilt_deg is not None]
    if tilted:
        return max(tilted, key=lambda s: sign * (recorder.verdict_of(s).tilt_deg or 0.0))
    middle = (start_s + end_s) / 2
    return min(slots, key=lambda s: abs(recorder.time_of(s) - middle))


class ReplayKind(enum.Enum):
    """What is played back, which decides what cuts it short (ReplayKeeper.screen)."""

    WALK = "walk"
    """A walk: anyone stepping in front of the mirror."""
    REP = "rep"
    """An exercise set's worst rep (the person is usually still there): the next lift."""


Mark = tuple[float, Side, float, bool]
"""A step (or rep) to mark on the timeline: when, on the stream's clock, then StepMark's side, degrees and alarm."""


class Replay:
    """Kept frames played back from the recorder: `at(now_s)` gives the picture to show, or None
    when it is over.  The recorder must not change while it plays (the loop stops adding)."""

    def __init__(self, recorder: ReplayRecorder, slots: list[int], started_s: float, marks: list[Mark],
                 freeze_slot: int | None, freeze_words: str, freeze_state: State, kind: ReplayKind) -> None:
        settings = recorder.settings
        self._recorder = recorder
        self._started_s = started_s
        self._speed = settings.speed
        self._freeze_s = settings.freeze_s
        self._slots = slots
        self._times = [recorder.time_of(s) for s in slots]
        self.kind = kind
        self.playable = len(slots) >= 2 and freeze_slot is not None
        if not self.playable:
            return
        assert freeze_slot is not None
        self._t0, self._t1 = self._times[0], self._times[-1]
        length = max(self._t1 - self._t0, 1e-6)
        self._marks = tuple(StepMark(min((t_s - self._t0) / length, 1.0), side, degrees, alarm)
                            for t_s, side, degrees, alarm in marks if self._t0 <= t_s <= self._t1 + TAIL_S)
        self._freeze_t_s = recorder.time_of(freeze_slot)
        self._freeze_words = freeze_words
        self._freeze_state = freeze_state
        width, height = recorder.picture_size
        self._image: Image = np.empty((height, width, 3), dtype=np.uint8)

    @classmethod
    def of_walk(cls, recorder: ReplayRecorder, walk: FinishedWalk, started_s: float,
                tolerance_deg: float) -> Replay:
        """A finished walk, from half a second before its first step to its walker's last moment;
        it stops on the frame of the largest drop's step where the ruler showed that hip lowest."""
        end_s = walk.end_s + TAIL_S
        slots = recorder.slots_between(max(walk.start_s - LEAD_S, end_s - recorder.settings.span_s), end_s)
        marks = [(step.end_s, step.drop_side, step.peak_drop_deg, step.peak_drop_deg >= tolerance_deg)
                 for step in walk.steps]
        worst = max(walk.steps, key=lambda step: step.peak_drop_deg)
        sign = 1.0 if worst.drop_side is Side.LEFT else -1.0  # tilt_deg > 0: the left hip is low
        freeze = _peak_slot(recorder, slots, worst.start_s, worst.end_s, sign) if slots else None
        state = State.TILTED if worst.peak_drop_deg >= tolerance_deg else State.LEVEL
        return cls(recorder, slots, started_s, marks, freeze, largest_drop_words(worst), state, ReplayKind.WALK)

    @classmethod
    def of_rep(cls, recorder: ReplayRecorder, rep: Rep, started_s: float) -> Replay:
        """An exercise set's worst rep, from the held rows; it stops where the pelvis hiked most."""
        slots = recorder.held()
        sign = -1.0 if rep.side is Side.LEFT else 1.0  # a hike toward the left leg raises the left hip
        freeze = _peak_slot(recorder, slots, rep.start_s, rep.end_s, sign) if slots else None
        clean = rep.verdict is RepVerdict.CLEAN
        # one mark, where the pelvis hiked most (where the replay stops)
        marks = [(recorder.time_of(freeze), rep.side, rep.pelvis_hike_deg, not clean)] if freeze is not None else []
        words = worst_rep_words(rep.side, rep.peak_angle_deg, rep.pelvis_hike_deg,
                                rep.verdict is RepVerdict.PELVIS_HIKED, rep.verdict is RepVerdict.TRUNK_LEANED)
        return cls(recorder, slots, started_s, marks, freeze, words, State.LEVEL if clean else State.TILTED,
                   ReplayKind.REP)

    @property
    def length_s(self) -> float:
        """How long the replay takes to play, freeze included."""
        return (self._t1 - self._t0) / self._speed + self._freeze_s if self.playable else 0.0

    def at(self, now_s: float) -> ReplayScreen | None:
        """The replay's picture at `now_s` (the same clock as `started_s`); None once it is over.
        The picture is written into one buffer, overwritten by the next call."""
        if not self.playable:
            return None
        elapsed_s = now_s - self._started_s
        until_freeze_s = (self._freeze_t_s - self._t0) / self._speed
        frozen = until_freeze_s <= elapsed_s < until_freeze_s + self._freeze_s
        if elapsed_s < until_freeze_s:
            t_s = self._t0 + elapsed_s * self._speed
        elif frozen:
            t_s = self._freeze_t_s
        else:
            t_s = self._t0 + (elapsed_s - self._freeze_s) * self._speed
        if t_s > self._t1:
            return None
        index = max(bisect.bisect_right(self._times, t_s) - 1, 0)
        slot = self._slots[index]
        frame_w, frame_h = self._recorder.frame_size
        return ReplayScreen(self._recorder.picture(slot, self._image), frame_w, frame_h,
                            self._recorder.verdict_of(slot), (t_s - self._t0) / max(self._t1 - self._t0, 1e-6),
                            self._marks, self._speed, self._freeze_words if frozen else None,
                            self._freeze_state)


def someone_in(verdict: Verdict) -> bool:
    """Whether the frame shows a person the mirror judges (what the recorder keeps, and what stops a replay)."""
    return verdict.state is not State.NONE


KEEP_INTERVAL_SHARE = 0.5
"""A frame is kept only this share of the camera's frame interval after the last one kept (or
later): every frame of a camera whose frames arrive up to 50 % early or late, at most twice the
camera's rate from a loop fed faster."""
LEAVE_S = 2.0
"""Nobody judged for this long (seconds of the loop's clock) and no walk to play: the kept frames go.
Longer than a walk's own end (kiosk.body.gait.WalkTracker: 1 s), so a finished walk is played first."""


class ReplayKeeper:
    """The loop's side of the replay: what to keep, when to play a finished walk (or an exercise
    set's worst rep) back, when to stop and drop everything.  The loop's clock (`now_s`) times the
    playing; the stream's, the walk and the reps."""

    def __init__(self, recorder: ReplayRecorder, tolerance_deg: float) -> None:
        self.recorder = recorder
        self._tolerance_deg = tolerance_deg
        self._playing: Replay | None = None
        self._last_seen_s: float | None = None
        self._last_kept_s: float | None = None
        self._worst_rep: Rep | None = None
        self.played = 0
        """Replays started (for the journal and tests)."""
        self.interrupted = 0
        """Replays stopped because someone stepped in (or, after a set, started the next rep)."""

    @property
    def playing(self) -> bool:
        return self._playing is not None

    def keep(self, frame: Frame, verdict: Verdict, now_s: float) -> None:
        """The frame the mirror shows now: kept when it shows a person, unless a replay is playing;
        nobody for LEAVE_S drops what was kept."""
        if self._playing is not None:
            return
        if someone_in(verdict):
            # Not much more often than the camera delivers: the ring is sized for the camera's rate
            # (a loop fed faster, as `bench` feeds it, would only shorten the span and spend time).
            if self._last_kept_s is None or now_s - self._last_kept_s >= KEEP_INTERVAL_SHARE / self.recorder.camera_fps:
                self.recorder.add(frame, verdict)
                self._last_kept_s = now_s
            self._last_seen_s = now_s
        elif self._last_seen_s is not None and now_s - self._last_seen_s > LEAVE_S:
            # A set's worst rep stays held until the set ends (its replay, then it goes too).
            self.recorder.clear(keep_held=self._worst_rep is not None)
            self._last_seen_s = None

    def walk_finished(self, walk: FinishedWalk, now_s: float) -> None:
        """A walk of enough steps ended: play it back from now (if enough of it was kept)."""
        self._play(Replay.of_walk(self.recorder, walk, now_s, self._tolerance_deg),
                   f"the walk ({len(walk.steps)} steps)")

    def rep_done(self, rep: Rep) -> None:
        """An exercise rep just ended: if it is the set's worst so far (not clean before clean, then
        the higher hike), its frames are held to outlive the ring."""
        worst = self._worst_rep
        if worst is not None and _badness(rep) <= _badness(worst):
            return
        slots = self.recorder.slots_between(rep.start_s - LEAD_S, rep.end_s + TAIL_S)
        if len(slots) >= 2:
            self.recorder.hold(slots)
            self._worst_rep = rep

    def set_finished(self, summary: SetSummary, now_s: float) -> None:
        """An exercise set ended: play its worst rep back from now."""
        worst, self._worst_rep = self._worst_rep, None
        if worst is None or not summary.reps:
            self.recorder.drop_held()
            return
        self._play(Replay.of_rep(self.recorder, worst, now_s), f"the set's worst rep (rep {worst.index + 1})")

    def _play(self, replay: Replay, what: str) -> None:
        if replay.playable:
            self._playing = replay
            self.played += 1
            log.info("playing back %s: %.1f s, from %d frames kept in memory (%.1f MB)",
                     what, replay.length_s, self.recorder.kept, self.recorder.nbytes / 2**20)
        else:
            self.recorder.clear()

    def screen(self, verdict: Verdict, now_s: float, lifting: bool = False) -> ReplayScreen | None:
        """What the replay shows with this frame, or None: it is not playing, it is over, or it was
        cut short: a walk's by anyone stepping in (`verdict` is the live frame's), a rep's (the
        person is still there) by the next lift."""
        replay = self._playing
        if replay is None:
            return None
        cut = someone_in(verdict) if replay.kind is ReplayKind.WALK else lifting
        shown = None if cut else replay.at(now_s)
        if shown is None:
            self.interrupted += cut
            self.stop()
        return shown

    def stop(self) -> None:
        """No replay any more, and nothing kept."""
        self._playing = None
        self._last_seen_s = None
        self._worst_rep = None
        self.recorder.clear()


def _badness(rep: Rep) -> tuple[bool, float]:
    return rep.verdict is not RepVerdict.CLEAN, rep.pelvis_hike_deg
