"""Drawing primitives for the view: anti-aliased thick lines, ruler ticks, discs, and the colours."""

from __future__ import annotations

import math
import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # before pygame is imported
import pygame
import pygame.gfxdraw

from kiosk.core.geometry import ScreenPoint
from kiosk.core.types import State

Colour = tuple[int, int, int]
Point = ScreenPoint

LEVEL_GREEN = (40, 200, 90)
TILTED_RED = (235, 50, 40)
OUTLINE = (15, 15, 15)
TEXT_WHITE = (250, 250, 250)
GUIDE_WHITE = (255, 255, 255)
CALIBRATION_BLUE = (40, 110, 220)
WAITING_GREY = (120, 120, 120)
NOTICE_EDGE = (245, 160, 20)
"""Amber: a notice for staff, neither the ruler's green nor its red."""
# Group mode's person badges: none of them green or red, which belong to the ruler.
BADGE_COLOURS = ((40, 110, 220), (245, 160, 20), (150, 80, 200), (20, 180, 200), (230, 90, 170), (200, 200, 40))


def badge_colour(person_id: int) -> Colour:
    return BADGE_COLOURS[(person_id - 1) % len(BADGE_COLOURS)]


def state_colour(state: State) -> Colour:
    return LEVEL_GREEN if state is State.LEVEL else TILTED_RED


def thick_line(surface: pygame.Surface, a: Point, b: Point, width: int, colour: Colour) -> None:
    """An anti-aliased line of any width with round ends (pygame's aaline has no width)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy)
    radius = width / 2
    if length < 1e-6:
        return
    nx, ny = -dy / length * radius, dx / length * radius
    corners = [(a[0] + nx, a[1] + ny), (b[0] + nx, b[1] + ny), (b[0] - nx, b[1] - ny), (a[0] - nx, a[1] - ny)]
    pygame.draw.polygon(surface, colour, corners)
    pygame.draw.aalines(surface, colour, True, corners)
    if width >= 4:
        r = int(radius)
        for x, y in (a, b):
            pygame.gfxdraw.aacircle(surface, round(x), round(y), r, colour)
            pygame.gfxdraw.filled_circle(surface, round(x), round(y), r, colour)


def draw_ticks(surface: pygame.Surface, a: Point, b: Point, width: int) -> None:
    """Ruler graduations, so it reads as a ruler rather than a stripe."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy)
    if length < 1:
        return
    ux, uy = dx / length, dy / length
    nx, ny = -uy, ux
    count = 10
    for i in range(1, count):
        px, py = a[0] + ux * length * i / count, a[1] + uy * length * i / count
        reach = width * (0.45 if i % 5 else 0.5)
        thick_line(
            surface, (px - nx * reach, py - ny * reach), (px + nx * reach * 0.2, py + ny * reach * 0.2), 2, OUTLINE
        )


def draw_disc(surface: pygame.Surface, centre: tuple[int, int], radius: int, colour: Colour) -> None:
    """A filled, anti-aliased disc."""
    pygame.gfxdraw.filled_circle(surface, *centre, radius, colour)
    pygame.gfxdraw.aacircle(surface, *centre, radius, colour)
