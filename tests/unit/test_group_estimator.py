"""Group mode's estimator on a fake single-person model over synthetic people: budget, turns,
entering and leaving.  (The real model on real clips is in test_group.py.)"""

from dataclasses import dataclass, field

import numpy as np

from kiosk.core.geometry import CropSquare
from kiosk.core.types import Frame, Pose
from kiosk.flow.group import GroupPoseEstimator
from kiosk.model.pose import PoseTiming
from kiosk.settings.config import PeopleConfig

from conftest import synthetic_pose

WIDTH, HEIGHT = 1280, 720


def person_at(x: float) -> Pose:
    return synthetic_pose(left_hip=(x + 20, 420), right_hip=(x - 20, 420), left_shoulder=(x + 30, 300),
                          right_shoulder=(x - 30, 300), frame=(WIDTH, HEIGHT))


@dataclass
class _Look:
    crop: CropSquare
    blanked: list = field(default_factory=list)


class FakeSinglePoseModel:
    """Finds, like SinglePose, one person per look: the one nearest the crop's centre whose hips
    are inside the crop and not painted black.  `people` is the scene (hip centre x of each)."""

    def __init__(self) -> None:
        self.people: list[float] = []
        self.looks = 0
        self.last_timing = PoseTiming(0.0, 0.001, 0.0)

    def prepare(self, frame: Frame, crop: CropSquare) -> _Look:
        return _Look(crop)

    def blank(self, look: _Look, boxes) -> None:
        look.blanked.extend(boxes)

    def look(self, frame: Frame, crop: CropSquare, hide) -> Pose:
        prepared = self.prepare(frame, crop)
        self.blank(prepared, hide)
        return self.infer(prepared)

    def infer(self, look: _Look) -> Pose:
        self.looks += 1
        centre = look.crop.left_px + look.crop.side_px / 2
        visible = [x for x in self.people
                   if look.crop.left_px <= x <= look.crop.left_px + look.crop.side_px
                   and not any(left <= x <= right and top <= 420 <= bottom
                               for left, top, right, bottom in look.blanked)]
        if not visible:
            nobody = person_at(centre)
            nobody.scores[:] = 0.05
            return nobody
        return person_at(min(visible, key=lambda x: abs(x - centre)))


def _run(model, estimator, seconds, fps=30.0, start_s=0.0):
    looks = []
    for i in range(int(seconds * fps)):
        before = model.looks
        look = estimator.look(Frame(np.zeros((HEIGHT, WIDTH, 3), np.uint8), i, start_s + i / fps))
        looks.append((look, model.looks - before))
    return looks


def test_more_people_than_the_budget_are_all_followed_in_turn_within_it():
    model = FakeSinglePoseModel()
    model.people = [200.0, 500.0, 800.0, 1100.0]
    estimator = GroupPoseEstimator(model, PeopleConfig(mode="group", model_runs_per_frame=3))
    looks = _run(model, estimator, 2.0)
    assert all(runs <= 3 for _, runs in looks)
    final = looks[-1][0]
    assert sorted(round(float(p.pose.xy_px[11:13, 0].mean())) for p in final.people) == [200, 500, 800, 1100]
    # once everybody is found, nobody waits more than two frames for a look
    last_fresh = {}
    for index, (look, _) in enumerate(looks[15:], start=15):
        for person_id in look.refreshed:
            if person_id in last_fresh:
                assert index - last_fresh[person_id] <= 3
            last_fresh[person_id] = index


def test_people_keep_their_numbers_and_newcomers_get_new_ones():
    model = FakeSinglePoseModel()
    settings = PeopleConfig(mode="group", forget_after_s=0.5)
    estimator = GroupPoseEstimator(model, settings)
    model.people = [300.0, 900.0]
    first = _run(model, estimator, 1.0)[-1][0]
    numbers = {round(float(p.pose.xy_px[11:13, 0].mean())): p.person_id for p in first.people}
    assert set(numbers) == {300, 900}
    model.people = [900.0]  # the person at 300 leaves
    after_leaving = _run(model, estimator, 1.0, start_s=1.0)[-1][0]
    assert [p.person_id for p in after_leaving.people] == [numbers[900]]
    model.people = [900.0, 600.0]  # someone new comes in
    after_arrival = _run(model, estimator, 1.0, start_s=2.0)[-1][0]
    new = {round(float(p.pose.xy_px[11:13, 0].mean())): p.person_id for p in after_arrival.people}
    assert new[900] == numbers[900]
    assert new[600] not in numbers.values()  # a number is never reused
