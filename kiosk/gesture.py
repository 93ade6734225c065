"""Hands-free control: both hands held above the head for a couple of seconds (pure; time is an argument).

A clinic screen or a home mirror has no keyboard within reach of the person in front of it.  The
pose is one nobody makes by accident while walking, exercising or standing about: both wrists
clearly above the top of the head (the eyes and ears, raised by a third of the trunk's length),
both elbows above the shoulders, facing the mirror, and held without a break for `hold_s`.  It
fires once; the hands must come down for `release_s` before it can fire again.
"""

from __future__ import annotations

from kiosk.types import Keypoint, Pose

HEAD = (Keypoint.NOSE, Keypoint.LEFT_EYE, Keypoint.RIGHT_EYE, Keypoint.LEFT_EAR, Keypoint.RIGHT_EAR)
ARMS = (Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER, Keypoint.LEFT_ELBOW, Keypoint.RIGHT_ELBOW,
        Keypoint.LEFT_WRIST, Keypoint.RIGHT_WRIST)
MIN_SCORE = 0.4
ABOVE_HEAD_TORSOS = 0.33
"""How far above the head's top keypoint each wrist must be, in trunk lengths."""
GAP_S = 0.25
"""A pose missed for this long (a blurred frame) does not break the hold."""


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


class HandsUpGesture:
    """Feed it every frame's pose; `update` is True on the one frame the held gesture fires."""

    def __init__(self, hold_s: float = 2.0, release_s: float = 0.5) -> None:
        self.hold_s = hold_s
        self.release_s = release_s
        self.fired = 0
        """How many times it has fired."""
        self._since: float | None = None
        self._seen_s: float | None = None
        self._armed = True
        self._down_since: float | None = None

    def update(self, pose: Pose | None, t_s: float) -> bool:
        up = pose is not None and hands_above_head(pose)
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
