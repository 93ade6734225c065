"""Who is in front of the screen: people followed from frame to frame with stable numbers.

Pure bookkeeping on poses (no model, no pixels), so it is tested with synthetic keypoints.
Group mode's estimator (kiosk.flow.group) asks the roster whom to look at again this frame, runs the
model on that person's crop, and hands the pose back: the roster accepts it only when it is the
same person (the torso moved less than `max_jump_hip_widths` body widths, and nobody else is
closer), adds
people found by the search, merges two entries that ended up on one person, and forgets people
not seen for a while.  Somebody the search found is on probation until the next look at them finds
them again: only then do they get a number (a faint pose the model sees for one look, as a
person walks out, is never shown).  Numbers are never reused within a session, so a coach can
tell "3 left, 5 came in" from "3 came back".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kiosk.core.types import FloatArray, Keypoint, Pose
from kiosk.settings.config import PeopleConfig

TORSO = (Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER, Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP)
MIN_BOX_SCORE = 0.2
MAX_HIPS_PER_TORSO = 0.8
MAX_SHOULDERS_PER_TORSO = 1.3
SAME_PERSON_SCALES = 0.8
"""Two poses whose anchors are closer than this many body scales (the larger of the two) are one person."""
SEARCH_BLANK_MARGIN = 0.12
"""How much wider than a followed person's keypoints a search paints them black (arms, clothes)."""
FOLLOW_BLANK_MARGIN = -0.1
"""Looking at one person, the others are painted black a little inside their keypoints' box, so
that a neighbour's black box does not cover the person looked at where they overlap."""


@dataclass(frozen=True, slots=True)
class PersonBox:
    """An axis-aligned box in frame pixels."""

    left_px: float
    top_px: float
    right_px: float
    bottom_px: float

    @property
    def width_px(self) -> float:
        return self.right_px - self.left_px

    @property
    def height_px(self) -> float:
        return self.bottom_px - self.top_px

    def overlap(self, other: PersonBox) -> float:
        """Intersection over union, 0..1."""
        width = min(self.right_px, other.right_px) - max(self.left_px, other.left_px)
        height = min(self.bottom_px, other.bottom_px) - max(self.top_px, other.top_px)
        if width <= 0 or height <= 0:
            return 0.0
        shared = width * height
        return shared / (self.width_px * self.height_px + other.width_px * other.height_px - shared)

    def grown(self, fraction: float) -> PersonBox:
        """The box with `fraction` of its width and height added on every side."""
        dx, dy = self.width_px * fraction, self.height_px * fraction
        return PersonBox(self.left_px - dx, self.top_px - dy, self.right_px + dx, self.bottom_px + dy)

    def as_tuple(self) -> tuple[float, float, float, float]:
        return self.left_px, self.top_px, self.right_px, self.bottom_px


def person_box(pose: Pose, min_score: float = MIN_BOX_SCORE) -> PersonBox | None:
    """The box around a pose's keypoints that score at least `min_score` (None with fewer than 3)."""
    confident = pose.xy_px[pose.scores >= min_score]
    if len(confident) < 3:
        return None
    left, top = confident.min(axis=0)
    right, bottom = confident.max(axis=0)
    return PersonBox(float(left), float(top), float(max(right, left + 1)), float(max(bottom, top + 1)))


def torso_score(pose: Pose) -> float:
    """Mean score of the shoulders and hips: how sure the model is that this is a person."""
    return float(np.mean([pose.score(k) for k in TORSO]))


def anchor_px(pose: Pose, min_score: float = 0.3) -> FloatArray:
    """Where a person is, for following them: the mean of their confident shoulders and hips.
    The hips alone wander when they are below the picture (a group framed from the chest up)."""
    points = [pose.xy(k) for k in TORSO if pose.score(k) >= min_score]
    if not points:
        points = [pose.xy(k) for k in TORSO]
    anchor: FloatArray = np.mean(points, axis=0)
    return anchor


def body_scale_px(pose: Pose) -> float:
    """A size that does not vanish when someone turns side-on: the larger of the hip width and a
    third of the shoulder-to-hip height."""
    return max(pose.hip_width_px, pose.shoulder_width_px / 2, pose.torso_length_px / 3, 1.0)


def plausible_body(pose: Pose) -> bool:
    """False for a pose stitched from two people standing close (SinglePose on a whole group
    frame sometimes puts one hip on each): its hips or shoulders come out as wide as the torso is
    tall.  Measured on frontal_walk_two_people.gif: real people 0.45-0.55 hip width per torso
    height, stitched poses 0.85-1.0 and shoulders up to 3.5 torso heights wide."""
    torso = pose.torso_length_px
    return pose.hip_width_px <= MAX_HIPS_PER_TORSO * torso and pose.shoulder_width_px <= MAX_SHOULDERS_PER_TORSO * torso


def is_person(pose: Pose, min_torso_score: float) -> bool:
    """A finite, confident and plausible pose: somebody, not noise or two people stitched together."""
    return pose.finite and torso_score(pose) >= min_torso_score and plausible_body(pose)


@dataclass
class Person:
    """One person in the roster.  `pose` is the latest accepted pose, found at `seen_s`."""

    person_id: int
    pose: Pose
    box: PersonBox
    first_seen_s: float
    seen_s: float
    looked_s: float
    """When the model last looked for this person (found or not): who is due next."""
    on_probation: bool = False
    """Found by the search and not yet found again: no number yet (`person_id` is a negative key)."""


class Roster:
    """The people followed, by number."""

    def __init__(self, settings: PeopleConfig, max_jump_hip_widths: float = 1.5) -> None:
        self._settings = settings
        self._max_jump = max_jump_hip_widths
        self._people: dict[int, Person] = {}
        self._next_id = 1
        self._next_probation_key = -1

    @property
    def people(self) -> list[Person]:
        """The people with a number (not those on probation)."""
        return sorted((p for p in self._people.values() if not p.on_probation), key=lambda person: person.person_id)

    def __len__(self) -> int:
        """Entries followed, those on probation included (each costs a look)."""
        return len(self._people)

    def is_person(self, pose: Pose) -> bool:
        return is_person(pose, self._settings.min_torso_score)

    def worth_a_closer_look(self, pose: Pose) -> bool:
        """A search result below the bar that may be a person seen too small or stitched from two
        people: at least half the bar and keypoints enough for a box."""
        return (pose.finite and torso_score(pose) >= self._settings.min_torso_score / 2
                and person_box(pose) is not None and len(self._people) < self._settings.max_people)

    def due(self, runs: int) -> list[Person]:
        """Up to `runs` people to look at again: those on probation first, then those looked at
        longest ago."""
        return sorted(self._people.values(),
                      key=lambda person: (not person.on_probation, person.looked_s, person.person_id))[:runs]

    def confirm(self, person_id: int, pose: Pose, t_s: float) -> int | None:
        """The model looked at this person's crop and found `pose`: keep it if it is still them.
        Returns their number when kept (a person on probation gets theirs now), else None (one on
        probation is then dropped)."""
        person = self._people[person_id]
        person.looked_s = t_s
        box = self._box_if_still_them(person, pose)
        if box is None:
            if person.on_probation:
                del self._people[person_id]
            return None
        person.pose, person.box, person.seen_s = pose, box, t_s
        if person.on_probation:
            del self._people[person_id]
            person.person_id, person.on_probation = self._next_id, False
            self._people[person.person_id] = person
            self._next_id += 1
        return person.person_id

    def _box_if_still_them(self, person: Person, pose: Pose) -> PersonBox | None:
        """The new pose's box when it is still this person, else None."""
        box = person_box(pose)
        if box is None or not self.is_person(pose):
            return None
        jump = float(np.hypot(*(anchor_px(pose) - anchor_px(person.pose))))
        if jump > self._max_jump * body_scale_px(person.pose):
            return None
        if self._nearest(pose, exclude=person.person_id) is not None:
            return None  # the crop slid onto a neighbour, who has an entry of their own
        return box

    def admit(self, pose: Pose, t_s: float) -> Person | None:
        """The search found `pose`: somebody new, on probation, unless it is somebody already
        followed or the roster is full."""
        box = person_box(pose)
        if box is None or not self.is_person(pose) or len(self._people) >= self._settings.max_people:
            return None
        if self._nearest(pose) is not None:
            return None
        person = Person(self._next_probation_key, pose, box, t_s, t_s, t_s, on_probation=True)
        self._people[person.person_id] = person
        self._next_probation_key -= 1
        return person

    def tidy(self, t_s: float) -> list[int]:
        """Forget people gone for `forget_after_s`, and the younger of two entries on one person.
        Returns the numbers forgotten."""
        gone = [p.person_id for p in self._people.values() if t_s - p.seen_s > self._settings.forget_after_s]
        for person_id in gone:
            del self._people[person_id]
        for person in sorted(self._people.values(), key=lambda p: (p.first_seen_s, p.person_id), reverse=True):
            if self._nearest(person.pose, exclude=person.person_id) is not None:
                del self._people[person.person_id]
                gone.append(person.person_id)
        return [person_id for person_id in gone if person_id > 0]

    def _nearest(self, pose: Pose, exclude: int | None = None) -> Person | None:
        """Somebody else whose anchor is so close to `pose`'s that they must be the same person."""
        centre = anchor_px(pose)
        scale = body_scale_px(pose)
        best, best_distance = None, float("inf")
        for person in self._people.values():
            if person.person_id == exclude:
                continue
            distance = float(np.hypot(*(centre - anchor_px(person.pose))))
            if distance < SAME_PERSON_SCALES * max(scale, body_scale_px(person.pose)) and distance < best_distance:
                best, best_distance = person, distance
        return best
