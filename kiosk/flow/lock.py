"""Single mode's lock: the ruler belongs to the person nearest the screen."""

from __future__ import annotations

from kiosk.body.people import SEARCH_BLANK_MARGIN, is_person, person_box
from kiosk.core.geometry import CropSquare, full_frame_square
from kiosk.core.types import Frame, Pose
from kiosk.model.inputs import PreparedInput
from kiosk.model.pose import PoseModel
from kiosk.settings.config import PeopleConfig


class NearestPersonLock:
    """Single mode: the ruler belongs to the person nearest the screen.

    The model's crop follows whoever it found first, and bystanders further away never take the
    ruler.  But when the ruler went to a figure far behind (someone across the room, a
    reflection) before the walker came in, the walker would wait for that figure to leave.  So
    every `challenge_every_s` the rest of the frame is searched (the person followed painted
    black); somebody `takeover_size_ratio` times taller in the picture is nearer and takes over.
    """

    def __init__(self, model: PoseModel, settings: PeopleConfig) -> None:
        self._model = model
        self._settings = settings
        self._checked_s: float | None = None
        self.takeovers = 0

    def due(self, t_s: float) -> bool:
        """Whether the frame at `t_s` will be searched (the capture thread prepares its input ahead)."""
        every = self._settings.challenge_every_s
        return every > 0 and (self._checked_s is None or not 0 <= t_s - self._checked_s < every)

    def whole_frame(self, frame: Frame) -> CropSquare:
        return full_frame_square(frame.width_px, frame.height_px)

    def nearer_person(self, frame: Frame, current: Pose, prepared: PreparedInput | None = None) -> Pose | None:
        """A pose of somebody nearer the screen than `current`, when it is time to look and there is one.

        `prepared`: the whole frame already cut and scaled for the model (`whole_frame`), so that
        the look costs only the model; the lock takes it over (it is released either way)."""
        if not self.due(frame.t_s):
            if prepared is not None:
                prepared.release()
            return None
        self._checked_s = frame.t_s
        box = person_box(current) if is_person(current, self._settings.min_torso_score) else None
        hide = [] if box is None else [box.grown(SEARCH_BLANK_MARGIN).as_tuple()]
        if prepared is None:
            rival = self._model.look(frame, self.whole_frame(frame), hide)
        else:  # the same as `look`: the boxes painted black into the input made ahead, then the model
            self._model.blank(prepared, hide)
            rival = self._model.infer(prepared)
        rival_box = person_box(rival)
        if rival_box is None or not is_person(rival, self._settings.min_torso_score):
            return None
        if box is not None and rival_box.height_px < self._settings.takeover_size_ratio * box.height_px:
            return None
        self.takeovers += 1
        self._model.follow(rival)
        return rival
