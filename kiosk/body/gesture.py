"""Hands-free control: a deliberate pose held for a couple of seconds (pure; time is an argument).

A clinic screen or a home mirror has no keyboard within reach of the person in front of it.  Two
poses nobody makes by accident while walking, exercising or standing about, each held without a
break for `hold_s`:

- **both hands above the head** (both wrists clearly above the top of the head — the eyes and
  ears — by a third of the trunk's length, both elbows above the shoulders): switches between
  walking and exercise;
- **both arms straight out to the sides** (a "T": wrists and elbows at shoulder height, the wrists
  further out than an arm's length from the shoulders' midpoint): starts a calibration.

Each fires once; the pose must be let go for `release_s` before it can fire again.
"""

from __future__ import annotations

from collections.abc import Callable

from kiosk.core.types import Keypoint, Pose

HEAD = (Keypoint.NOSE, Keypoint.LEFT_EYE, Keypoint.RIGHT_EYE, Keypoint.LEFT_EAR, Keypoint.RIGHT_EAR)
ARMS = (Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER, Keypoint.LEFT_ELBOW, Keypoint.RIGHT_ELBOW,
        Keypoint.LEFT_WRIST, Keypoint.RIGHT_WRIST)
MIN_SCORE = 0.4
ABOVE_HEAD_TORSOS = 0.33
"""How far above the head's top keypoint each wrist must be, in trunk lengths."""
GAP_S = 0.25
"""A pose missed for this long (a blurred frame) does not break the hold."""
ARM_LEVEL_TORSOS = 0.25
"""Arms out: elbows and wrists within this many trunk lengths of their shoulder's height."""
ARM_OUT_SHOULDER_WIDTHS = 0.9
"""Arms out: each wrist this many shoulder widths beyond its shoulder."""


def hands_above_head(pose: Pose) -> bool:
    """Both wrists well above the head and both elbows above the shoulders, every keypoint sure."""
    if not pose.finite or min(pose.score(k) for k in (*ARMS, Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP)) < MIN_SCORE:
        return False
    head = [k for k in HEAD if pose.score(k) >= MIN_SCORE]
    if len(head) < 2:
        return False
    torso = pose.torso_length_px
    if not torso > 0:
        return False
    head_top_y = min(float(pose.xy(k)[1]) for k in head)  # y grows downward
    limit_y = head_top_y - ABOVE_HEAD_TORSOS * torso
    wrists_up = all(float(pose.xy(k)[1]) < limit_y for k in (Keypoint.LEFT_WRIST, Keypoint.RIGHT_WRIST))
    elbows_up = (float(pose.xy(Keypoint.LEFT_ELBOW)[1]) < float(pose.xy(Keypoint.LEFT_SHOULDER)[1])
                 and float(pose.xy(Keypoint.RIGHT_ELBOW)[1]) < float(pose.xy(Keypoint.RIGHT_SHOULDER)[1]))
    return wrists_up and elbows_up


def arms_out_to_the_sides(pose: Pose) -> bool:
    """Both arms held out level to the sides, straight, every keypoint sure."""
    if not pose.finite or min(pose.score(k) for k in (*ARMS, Keypoint.LEFT_HIP, Keypoint.RIGHT_HIP)) < MIN_SCORE:
        return False
    torso = pose.torso_length_px
    shoulder_width = pose.shoulder_width_px
    if not torso > 0 or not shoulder_width > 0:
        return False
    middle = pose.shoulder_mid_px
    for shoulder, elbow, wrist in ((Keypoint.LEFT_SHOULDER, Keypoint.LEFT_ELBOW, Keypoint.LEFT_WRIST),
                                   (Keypoint.RIGHT_SHOULDER, Keypoint.RIGHT_ELBOW, Keypoint.RIGHT_WRIST)):
        level_y = float(pose.xy(shoulder)[1])
        if max(abs(float(pose.xy(k)[1]) - level_y) for k in (elbow, wrist)) > ARM_LEVEL_TORSOS * torso:
            return False
        out = float(pose.xy(shoulder)[0] - middle[0])  # this side's direction, from the middle
        reach = float(pose.xy(wrist)[0] - middle[0])
        elbow_reach = float(pose.xy(elbow)[0] - middle[0])
        if out == 0 or reach / out < 1.0 + ARM_OUT_SHOULDER_WIDTHS * 2 or elbow_reach / out < 1.5:
            return False
    return True


class HeldPose:
    """Feed it every frame's pose; `update` is True on the one frame the held pose fires."""

    def __init__(self, test: Callable[[Pose], bool], hold_s: float = 2.0, release_s: float = 0.5) -> None:
        self.test = test
        self.hold_s = hold_s
        self.release_s = release_s
        self.fired = 0
        """How many times it has fired."""
        self._since: float | None = None
        self._seen_s: float | None = None
        self._armed = True
        self._down_since: float | None = None

    def update(self, pose: Pose | None, t_s: float) -> bool:
        up = pose is not None and self.test(pose)
        if up:
            self._down_since = None
            if self._since is None or (self._seen_s is not None and t_s - self._seen_s > GAP_S):
                self._since = t_s
            self._seen_s = t_s
            if self._armed and self.hold_s > 0 and t_s - self._since >= self.hold_s:
                self._armed = False
                self.fired += 1
                return True
            return False
        if self._seen_s is not None and t_s - self._seen_s <= GAP_S:
            return False  # a frame or two missed: still holding
        self._since = None
        self._down_since = t_s if self._down_since is None else self._down_since
        if not self._armed and t_s - self._down_since >= self.release_s:
            self._armed = True
        return False

    @property
    def progress(self) -> float:
        """How far through the hold the gesture is (0 when not held), for a progress ring on screen."""
        if self._since is None or self._seen_s is None or not self._armed or self.hold_s <= 0:
            return 0.0
        return min((self._seen_s - self._since) / self.hold_s, 1.0)


def hands_up_gesture(hold_s: float = 2.0, release_s: float = 0.5) -> HeldPose:
    """Both hands above the head, held `hold_s`: switches between walking and exercise."""
    return HeldPose(hands_above_head, hold_s, release_s)


def arms_out_gesture(hold_s: float = 2.0, release_s: float = 0.5) -> HeldPose:
    """Both arms out to the sides, held `hold_s`: starts a calibration."""
    return HeldPose(arms_out_to_the_sides, hold_s, release_s)
