"""Group mode: several people in front of one screen, each with a ruler, from MoveNet SinglePose.

SinglePose finds one person per look.  Each frame, within a budget of model runs:

1. every person already followed (those looked at longest ago first, when there are more people
   than runs) is looked for in a crop around where they were, and the pose kept only if it is
   still them (kiosk.body.people.Roster.confirm);
2. every `search_every_s`, the frame is searched for somebody new — the whole frame, then in
   turn squares that cover it (kiosk.core.geometry.search_squares), where small people look bigger —
   with the people already followed painted black in the model input, so the model has to
   find someone else.  Whoever it finds is on probation until the next frame's look at them
   finds them again, and only then gets a number and a ruler.

No other network is needed, and the cost is one model run per person per frame plus one search
run now and then; with more people than the budget the rulers move in turn and the frame rate
holds.  Each person gets their own pelvis tracker and step counter, so one person's sway never
smears into another's ruler.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from kiosk.body.people import FOLLOW_BLANK_MARGIN, SEARCH_BLANK_MARGIN, Person, Roster
from kiosk.body.reading import PelvisReader
from kiosk.core.faults import FaultLog
from kiosk.core.geometry import CropSquare, search_squares
from kiosk.core.types import Frame, NoVerdict, PersonVerdict, Pose, SetSummary, StepRecord, Verdict, no_verdict
from kiosk.flow.person import PersonChain, WalkSink
from kiosk.flow.pipeline import Captured, LookCounts, Looked, Result, SeenPerson
from kiosk.model.follow import crop_around
from kiosk.model.inputs import Box
from kiosk.model.pose import PoseModel
from kiosk.settings.config import Mode, PelvisConfig, PeopleConfig


@dataclass(frozen=True, slots=True)
class GroupLook:
    """One frame of group mode: the people followed and which of them were looked at just now."""

    people: list[Person]
    refreshed: frozenset[int]
    """Numbers of the people whose pose was found in this frame."""
    model_runs: int


class GroupPoseEstimator:
    """Finds and follows several people with a single-person model (see the module docstring)."""

    def __init__(self, model: PoseModel, settings: PeopleConfig, max_jump_hip_widths: float = 1.5) -> None:
        self.model = model
        self._settings = settings
        self.roster = Roster(settings, max_jump_hip_widths)
        self._searched_s: float | None = None
        self._found_last_search = False
        self._weak_find: Pose | None = None
        self._search_turn = -1
        self._runs = 0
        self.forgotten: list[int] = []
        self.counts = LookCounts()

    def look(self, frame: Frame) -> GroupLook:
        t_s = frame.t_s
        if self._searched_s is not None and t_s < self._searched_s:
            self._searched_s = None  # time started again (a looping clip)
        runs = self._settings.model_runs_per_frame
        self._runs = 0
        refreshed: set[int] = set()
        if self._weak_find is not None:
            # Last frame's search found someone too faint to admit and had no run left to look closer.
            found = self._look_closer(frame, self._weak_find, t_s)
            self._weak_find = None
            if found is not None:
                refreshed.add(found.person_id)
        # Right after a search found somebody, search again: there may be more people to find.
        searching = (self._searched_s is None or self._found_last_search or len(self.roster) == 0
                     or t_s - self._searched_s >= self._settings.search_every_s)
        follow_runs = min(len(self.roster) - len(refreshed), runs - self._runs - (1 if searching else 0))
        for person in self.roster.due(max(follow_runs, 0)):
            # Neighbours standing shoulder to shoulder share the crop: paint them black, or the
            # model may follow one of them instead (measured on group_three_people_standing.gif).
            pose = self._look(frame, crop_around(person.pose),
                              self._followed_boxes(but=person.person_id, margin=FOLLOW_BLANK_MARGIN))
            number = self.roster.confirm(person.person_id, pose, t_s)
            if number is not None:
                refreshed.add(number)
        if searching and self._runs < runs:
            self._searched_s = t_s
            found = self._search(frame, t_s, runs - self._runs)
            self._found_last_search = found is not None
            if found is not None:
                refreshed.add(found.person_id)
        self.forgotten = self.roster.tidy(t_s)
        refreshed = {number for number in refreshed if number > 0}  # nobody on probation is shown
        self.counts.add(len(self.roster), self._runs)
        return GroupLook(self.roster.people, frozenset(refreshed - set(self.forgotten)), self._runs)

    def _look(self, frame: Frame, crop: CropSquare, hide: list[Box]) -> Pose:
        """One model run on `crop` with the `hide` boxes painted black; counted against the budget."""
        pose = self.model.look(frame, crop, hide)
        self._runs += 1
        return pose

    def _search(self, frame: Frame, t_s: float, runs_left: int) -> Person | None:
        """Look at the whole frame for somebody new; returns who was admitted.

        Seen in the whole frame, a person far away or half hidden scores low; a candidate that
        scores at least half the bar is looked at again in a crop around it, at a better scale,
        before it is admitted or turned down (on the next frame when this one has no run left).
        """
        squares = search_squares(frame.width_px, frame.height_px)
        if not self._found_last_search:  # where somebody was just found, there may be more
            self._search_turn = (self._search_turn + 1) % len(squares)
        self._search_turn %= len(squares)
        candidate = self._look(frame, squares[self._search_turn], self._followed_boxes())
        admitted = self.roster.admit(candidate, t_s)
        if admitted is not None or not self.roster.worth_a_closer_look(candidate):
            return admitted
        if runs_left < 2:
            self._weak_find = candidate
            return None
        return self._look_closer(frame, candidate, t_s)

    def _look_closer(self, frame: Frame, candidate: Pose, t_s: float) -> Person | None:
        return self.roster.admit(self._look(frame, crop_around(candidate), self._followed_boxes()), t_s)

    def _followed_boxes(self, but: int | None = None,
                        margin: float = SEARCH_BLANK_MARGIN) -> list[Box]:
        return [person.box.grown(margin).as_tuple() for person in self.roster.people if person.person_id != but]


@dataclass
class _Follow:
    chain: PersonChain
    verdict: Verdict
    steps: int = 0


class GroupPipeline:
    """Frame in, one verdict per person out; the same stages as PelvisPipeline, once per person."""

    mode = Mode.GROUP

    def __init__(self, model: PoseModel, settings: PelvisConfig, people: PeopleConfig, faults: FaultLog | None = None,
                 baseline_deg: float | None = None, keep_steps: bool = False, on_walk: WalkSink | None = None,
                 belt_offset_deg: float | None = None,
                 reader: PelvisReader | None = None) -> None:
        """`keep_steps`: remember every person's steps (for `analyze`; the kiosk, running for weeks
        with people coming and going, keeps only the walks in progress).  `on_walk`: gets every
        person's walk as it finishes (the records)."""
        self.model = model
        self._on_walk = on_walk
        self._keep_steps = keep_steps
        self._settings = settings
        self._reader = reader or PelvisReader(settings)
        self.baseline_deg = baseline_deg
        self.belt_offset_deg = belt_offset_deg
        self.estimator = GroupPoseEstimator(model, people, settings.max_jump_hip_widths)
        self.counts = self.estimator.counts
        self._follows: dict[int, _Follow] = {}
        self.faults = faults or FaultLog()
        self.notice: str | None = None
        self.people: list[PersonVerdict] = []
        self.steps_by_person: dict[int, list[StepRecord]] = {}
        self.sets: list[SetSummary] = []  # group sessions walk; the exercise coach is for one person

    @property
    def gestures_fired(self) -> int:
        """Group mode watches for no gesture: a coach-led session must not switch anything by accident."""
        return 0

    def step(self, frame: Frame) -> list[PersonVerdict]:
        return self.finish(self.prepare(frame)).people

    def prepare(self, frame: Frame) -> Captured:
        """Nothing to prepare ahead: the crops depend on where everybody was found in the last frame."""
        return Captured(frame, None)

    def finish(self, captured: Captured) -> Result:
        return self.judge(self.look(captured))

    def look(self, captured: Captured) -> Looked:
        """Everyone followed looked for, and a search now and then (GroupPoseEstimator)."""
        started = time.perf_counter()
        invoked_s, invoked_cpu_s = self.model.invoked_s, self.model.invoked_cpu_s
        look = self.estimator.look(captured.frame)
        invoke_s = self.model.invoked_s - invoked_s
        return Looked(captured.frame, tuple(SeenPerson(person.person_id, person.pose) for person in look.people),
                      look.refreshed, tuple(self.estimator.forgotten), look.model_runs, 0.0, invoke_s,
                      self.model.invoked_cpu_s - invoked_cpu_s, max(time.perf_counter() - started - invoke_s, 0.0))

    def judge(self, looked: Looked) -> Result:
        """Each person's chain: those found in this frame judged afresh, the others keep their verdict."""
        started = time.perf_counter()
        frame = looked.frame
        seen = {person.person_id for person in looked.seen}
        for person_id in looked.forgotten:
            self._forget(person_id)
        results = []
        for person in looked.seen:
            follow = self._follows.get(person.person_id)
            if follow is None:
                follow = _Follow(PersonChain(self._settings, self._reader, self.baseline_deg, self.belt_offset_deg,
                                             self._keep_steps, self._on_walk),
                                 no_verdict(NoVerdict.NO_PERSON))
                self._follows[person.person_id] = follow
            if person.person_id in looked.refreshed:
                follow.verdict = follow.chain.judge(person.pose, frame)
                follow.steps = follow.chain.walked(person.pose, follow.verdict, frame).steps
            results.append(PersonVerdict(person.person_id, person.pose, follow.verdict, follow.steps,
                                         person.person_id in looked.refreshed))
        for person_id in set(self._follows) - seen:
            self._forget(person_id)
        self.people = results
        return Result(frame, results, looked.preprocess_s, looked.invoke_s, looked.keypoints_s,
                      time.perf_counter() - started, looked.invoke_cpu_s, notice=self.notice)

    def end_walks(self) -> dict[int, list[StepRecord]]:
        """Close every walk in progress; each person's steps (for `analyze`)."""
        for person_id in list(self._follows):
            self._forget(person_id)
        return self.steps_by_person

    def _forget(self, person_id: int) -> None:
        follow = self._follows.pop(person_id, None)
        if follow is not None:
            follow.chain.close_walk()
            if self._keep_steps:
                self.steps_by_person[person_id] = follow.chain.steps
