"""One person's pelvis reading from their pose and the picture: the hip joints' line and its gates
(kiosk.body.pelvis), the belt line the picture shows (kiosk.body.belt), and a worn marker's line
(kiosk.body.marker).  Single mode, group mode and calibration read people the same way through it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from kiosk.body.belt import with_picture
from kiosk.body.marker import MarkerColor, with_marker
from kiosk.body.pelvis import hip_line, read_pelvis, read_pelvis_legs_only
from kiosk.core.types import Image, NoVerdict, PelvisReading, Pose
from kiosk.settings.config import MARKER_AUTO, MARKER_FULL_ABOVE, MARKER_OFF, MarkerConfig, PelvisConfig


@dataclass(frozen=True)
class PelvisReader:
    """Reads one pose's pelvis in one picture."""

    settings: PelvisConfig
    marker: MarkerConfig = field(default_factory=MarkerConfig)
    marker_color: MarkerColor | None = None
    """The marker to look for (resolve_marker_color); None: none is worn, or markers are off."""
    legs_only: bool = False
    """Treadmill mode: the hips and legs alone (kiosk.body.pelvis.read_pelvis_legs_only), no belt
    picture (the belt is at or above the picture's edge)."""

    def read(self, pose: Pose | None, image: Image) -> PelvisReading | NoVerdict:
        """The pose's hip line, with the picture's belt line and the marker's line when they are seen."""
        if pose is None:
            return NoVerdict.NO_PERSON
        if self.legs_only:
            return with_marker(read_pelvis_legs_only(pose, self.settings), image, self.marker_color)
        pelvis = read_pelvis(pose, self.settings)
        if pelvis is NoVerdict.NOT_FACING and self.marker_color is not None:
            # the facing gates judge the shoulders and the head, which the model collapses now and
            # then on a far walker; a marker read across the body says the pelvis faces the camera
            seen = with_marker(hip_line(pose, self.settings), image, self.marker_color)
            if isinstance(seen, PelvisReading) and seen.marker is not None \
                    and seen.marker.confidence >= self.marker.min_confidence + MARKER_FULL_ABOVE:
                return seen
            return pelvis
        return with_marker(with_picture(pelvis, pose, image, self.settings), image, self.marker_color)

    def with_learned_marker(self, learned: str | None) -> PelvisReader:
        """This reader after a calibration that found the marker `learned` (None: none): with
        `[marker] color = "auto"` it now looks for that one; a named colour or "off" stays."""
        if self.marker.color != MARKER_AUTO:
            return self
        return dataclasses.replace(self, marker_color=resolve_marker_color(self.marker, learned))


def resolve_marker_color(settings: MarkerConfig, learned: str | None) -> MarkerColor | None:
    """The marker colour in force: the configured one; with "auto", the one a calibration found
    (`learned`, #RRGGBB, None when it found none); with "off", none."""
    if settings.color == MARKER_OFF:
        return None
    if settings.color == MARKER_AUTO:
        return MarkerColor.from_hex(learned) if learned else None
    return MarkerColor.from_hex(settings.color)
