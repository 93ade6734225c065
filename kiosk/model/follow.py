"""Where the model looks next, and how looks at the mirrored picture pair up: the two policies
MoveNet applies around its invokes, kept apart from the model itself.

`CropFollower`: after each frame the next crop is cut around the person just found, so someone far
down a hallway still fills the model's input; the whole frame again when nobody was found, a
frame of another size came, or the output was broken.

`AlternatePairing`: `mirror_average = "alternate"` looks at the crop as it is and mirrored in
turn, and averages each look with the one before, which looked the other way.
"""

from __future__ import annotations

from kiosk.core.geometry import CropSquare, crop_square_around_person, full_frame_square
from kiosk.core.types import Pose

CROP_MIN_SCORE = 0.2


def crop_around(pose: Pose) -> CropSquare:
    """The square the next frame is cut to: around the keypoints found with some confidence."""
    return crop_square_around_person(pose.xy_px, pose.scores, pose.frame_width_px, pose.frame_height_px,
                                     CROP_MIN_SCORE)


class CropFollower:
    """The crop the next frame is cut to."""

    def __init__(self, tracking: bool = True) -> None:
        """`tracking` False: always the whole frame."""
        self.tracking = tracking
        self.next_crop: CropSquare | None = None
        self._frame_size: tuple[int, int] | None = None

    def crop_for(self, width_px: int, height_px: int) -> tuple[CropSquare, bool]:
        """The crop for a frame of this size, and whether it is a whole-frame look that searches
        for somebody to follow (`acquiring`)."""
        crop = self.next_crop
        if crop is None or self._frame_size != (width_px, height_px):
            return full_frame_square(width_px, height_px), self.tracking
        return crop, False

    def follow(self, pose: Pose) -> None:
        """Cut the next frame around this person."""
        if not pose.finite:  # a broken output (NaN, infinite) is nobody to follow: the whole frame next
            self.next_crop = None
            return
        if self.tracking:
            self.next_crop = crop_around(pose)
            self._frame_size = (pose.frame_width_px, pose.frame_height_px)

    def forget(self) -> None:
        self.next_crop = None


class AlternatePairing:
    """Every other look mirrored, each averaged in frame pixels with the last one."""

    def __init__(self) -> None:
        self.mirror_next = False
        self._last: Pose | None = None

    def pair(self, look: Pose, acquiring: bool) -> Pose:
        """This look (at the crop as it is, or mirrored, in turn) averaged with the last one, so
        that what the model gets wrong asymmetrically cancels over two frames, at one invoke a frame."""
        last = self._last
        self.mirror_next = not self.mirror_next
        if acquiring:  # a whole-frame look, followed by a closer one: nothing to pair it with
            self._last = None
            return look
        self._last = look
        if last is None or (last.frame_width_px, last.frame_height_px) != (look.frame_width_px, look.frame_height_px):
            return look
        return Pose((last.xy_px + look.xy_px) / 2, (last.scores + look.scores) / 2,
                    look.frame_width_px, look.frame_height_px)

    def somebody_else(self) -> None:
        """Nothing to average the next look with (another person, perhaps)."""
        self._last = None

    def forget(self) -> None:
        """A new scene starts the same way whatever came before."""
        self._last = None
        self.mirror_next = False
