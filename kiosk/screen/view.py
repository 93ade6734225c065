"""The mirror: the screens a person sees (with kiosk.screen.draw, the only modules that import pygame).

Shows the camera image mirrored and scaled to the screen, the ruler through the belt loops
(green level, red tilted) with the tilt in words, and calm instructions when there is no
verdict.  Draws on a logical canvas that is rotated for portrait-mounted screens.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

# Before pygame is imported: it prints a banner on import otherwise.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame

from kiosk.body.fatigue import PLOT_S
from kiosk.core.errors import DisplayError
from kiosk.core.geometry import Fit, fit_inside, frame_to_screen, rulers_kept_apart
from kiosk.core.types import (
    ExerciseStatus,
    FatigueTrend,
    Frame,
    NoVerdict,
    PersonVerdict,
    ReplayScreen,
    RepVerdict,
    SetSummary,
    ShowTiming,
    Side,
    State,
    Verdict,
    WalkStatus,
    WalkSummary,
)
from kiosk.core.words import (
    EXERCISE_GET_READY,
    EXERCISE_LIFT,
    EXERCISE_SHOW_FEET,
    EXERCISE_STILL_FIRST,
    HIKE_CUE,
    LEAN_CUE,
    NO_VERDICT_WORDS,
    SOURCE_WORDS,
    TREND_LEGEND,
    fatigue_words,
    last_step_words,
    lifting_words,
    rep_counter_words,
    rep_words,
    replay_words,
    set_summary_lines,
    steps_words,
    verdict_words,
    walk_summary_lines,
)
from kiosk.screen.draw import (
    CALIBRATION_BLUE,
    GUIDE_WHITE,
    NOTICE_EDGE,
    OUTLINE,
    TEXT_WHITE,
    WAITING_GREY,
    Point,
    badge_colour,
    draw_disc,
    draw_ticks,
    state_colour,
    thick_line,
)
from kiosk.settings.config import DisplayConfig


@dataclass(frozen=True, slots=True)
class _Layout:
    fit: Fit
    frame_w: int
    frame_h: int


@dataclass(frozen=True, slots=True)
class TextBox:
    """One text the last screen showed, where its drawn pixels (and the plate under them) are on
    the canvas (the screen before any rotation): for the review sheet's size and overlap checks."""

    words: str
    left_px: int
    top_px: int
    width_px: int
    height_px: int
    letter_height_px: int
    """How tall the font's letters are as drawn, from the top of a capital to the foot of a 'g'."""
    ink_px: int
    """How many pixels of the words are drawn in full white (where a later drawing would show as a gap)."""

    @property
    def rect(self) -> tuple[int, int, int, int]:
        return self.left_px, self.top_px, self.width_px, self.height_px


MIN_TEXT_SHARE = 1 / 30
"""No text on the mirror is smaller than this share of the screen's height: readable at 3 m."""


def _letter_height(font: pygame.font.Font) -> int:
    return int(font.render("Hg", True, TEXT_WHITE).get_bounding_rect().height)


def _font_at_least(height_px: float) -> pygame.font.Font:
    """pygame's own font, the smallest size whose letters are drawn at least `height_px` tall."""
    size = max(8, int(height_px / 0.7))
    while True:
        font = pygame.font.Font(None, size)
        if _letter_height(font) >= height_px:
            return font
        size += 1


def wrapped(words: str, font: pygame.font.Font, width_px: float) -> list[str]:
    """Words broken into lines no wider than `width_px` where spaces allow (a single long word stays whole)."""
    lines: list[str] = []
    for paragraph in words.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and font.size(candidate)[0] > width_px:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


def sdl_video_drivers() -> tuple[str, ...]:
    """The video drivers built into the SDL library pygame loaded (kmsdrm, x11, wayland, dummy, ...).

    pip's pygame wheel brings its own SDL; on a Pi it has no kmsdrm, which the console kiosk needs.
    Empty when the library cannot be asked (not Linux, or no SDL 2 found among the loaded files).
    """
    import ctypes

    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = {line.split(maxsplit=5)[-1].strip() for line in maps if "libSDL2" in line}
    except OSError:
        return ()
    for path in sorted(paths):
        try:
            sdl = ctypes.CDLL(path)
        except OSError:
            continue
        sdl.SDL_GetVideoDriver.restype = ctypes.c_char_p
        sdl.SDL_GetVideoDriver.argtypes = [ctypes.c_int]
        count = int(sdl.SDL_GetNumVideoDrivers())
        return tuple(sdl.SDL_GetVideoDriver(index).decode() for index in range(count))
    return ()


TREND_COLOURS = {Side.LEFT: (40, 110, 220), Side.RIGHT: (190, 90, 20)}
"""The trend plot's hips: blue and a dark orange, told apart by colour-blind eyes, white words on both."""
TREND_SMOOTH_STEPS = 10
"""The trend plot draws each hip's running mean over this many of its steps."""
TREND_FLOOR_DEG = 8.0
"""The plot's height is at least this many degrees (a walk of small drops draws low and flat)."""


class MirrorView:
    """A pygame window or full screen that shows frames and verdicts."""

    def __init__(self, settings: DisplayConfig, windowed: bool, offscreen_size: tuple[int, int] | None = None) -> None:
        """`offscreen_size`: draw on a picture of this size in memory, with no window and no screen
        (`analyze --video`); the rotation is then ignored."""
        self._settings = settings
        self._offscreen = offscreen_size is not None
        try:
            pygame.font.init()
            if offscreen_size is not None:
                self._screen = pygame.Surface(offscreen_size)
                settings = self._settings = dataclasses.replace(settings, rotation=0)
            elif windowed or not settings.fullscreen:
                pygame.display.init()
                self._screen = pygame.display.set_mode((settings.window_width, settings.window_height))
            else:
                pygame.display.init()
                self._screen = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
                pygame.mouse.set_visible(False)
        except pygame.error as error:
            pygame.quit()
            raise DisplayError(
                f"no display to draw on ({error}); run it on a desktop or console, or set SDL_VIDEODRIVER"
            ) from error
        if not self._offscreen:
            pygame.display.set_caption("Beltline")
        screen_w, screen_h = self._screen.get_size()
        if settings.rotation in (90, 270):
            self._canvas = pygame.Surface((screen_h, screen_w))
        elif settings.rotation == 180:
            self._canvas = pygame.Surface((screen_w, screen_h))
        else:
            self._canvas = self._screen
        canvas_w, canvas_h = self._canvas.get_size()
        short_side = min(canvas_w, canvas_h)
        self._ruler_width_px = max(6, round(short_side / 45))
        smallest = canvas_h * MIN_TEXT_SHARE
        self._fonts = {_SMALL: _font_at_least(smallest),
                       _MEDIUM: _font_at_least(max(smallest * 1.25, short_side / 21)),
                       _BANNER: _font_at_least(max(smallest * 1.5, short_side / 13.5))}
        self._letters = {key: _letter_height(self._font(key)) for key in (_SMALL, _MEDIUM, _BANNER)}
        self._boxes: list[TextBox] = []
        self._dimmer = pygame.Surface((canvas_w, canvas_h), pygame.SRCALPHA)
        self._dimmer.fill((0, 0, 0, 110))
        self._layout: _Layout | None = None
        self._scaled: np.ndarray | None = None
        self._mirrored: np.ndarray | None = None
        self._trend_cache: tuple[FatigueTrend, dict[Side, list[tuple[float, float]]]] | None = None

    @property
    def screen_size(self) -> tuple[int, int]:
        return self._screen.get_size()

    @property
    def driver(self) -> str:
        return "offscreen" if self._offscreen else pygame.display.get_driver()

    @property
    def text_boxes(self) -> tuple[TextBox, ...]:
        """Every text the last screen drew, with its plate, on the canvas."""
        return tuple(self._boxes)

    @property
    def picture_box(self) -> tuple[int, int, int, int] | None:
        """Where the last camera picture sits on the canvas (left, top, width, height)."""
        if self._layout is None:
            return None
        fit = self._layout.fit
        return fit.left_px, fit.top_px, fit.width_px, fit.height_px

    def show(self, frame: Frame, verdict: Verdict, fps: float | None = None,
             walk: WalkStatus | None = None, exercise: ExerciseStatus | None = None,
             notice: str | None = None) -> ShowTiming:
        """Draw one frame with its verdict and put it on the screen (`exercise`: the coach's screen)."""
        started = time.perf_counter()
        layout = self._draw_camera(frame)
        if notice is not None:
            self._draw_notice(notice)
        if verdict.state is State.NONE:
            self._canvas.blit(self._dimmer, (0, 0))
            self._draw_message(NO_VERDICT_WORDS[verdict.reason or NoVerdict.NO_PERSON])
        elif exercise is not None:
            self._draw_exercise(verdict, layout, exercise)
        else:
            self._draw_ruler(verdict, layout)
            self._draw_banner(verdict_words(verdict), state_colour(verdict.state))
            if walk is not None and walk.steps:
                corner = self._draw_walk_corner(walk)
                if walk.trend is not None:
                    self._draw_trend(walk.trend, corner.bottom + self._margin())
            self._draw_source_mark(verdict, layout)
        return self._present_timed(started, fps)

    def show_group(self, frame: Frame, people: list[PersonVerdict], fps: float | None = None,
                   notice: str | None = None) -> ShowTiming:
        """Group mode: a ruler and a numbered badge per person, and a panel for the coach."""
        started = time.perf_counter()
        layout = self._draw_camera(frame)
        if notice is not None:
            self._draw_notice(notice)
        if not people:
            self._canvas.blit(self._dimmer, (0, 0))
            self._draw_message(NO_VERDICT_WORDS[NoVerdict.NO_PERSON])
        judged = [p for p in people if p.verdict.state is not State.NONE and p.verdict.ruler_left_end_px is not None
                  and p.verdict.ruler_right_end_px is not None]
        ends = [self._ruler_ends(p.verdict, layout) for p in judged]
        width = self._ruler_width_px
        kept = rulers_kept_apart([e[0] for e in ends], clearance_px=3 * width, gap_px=3 * width)
        for person, (_, level), shown in zip(judged, ends, kept, strict=True):
            # The level guide gives way as its ruler did, and reaches at most a ruler's width past
            # its ends: guides of neighbours never meet.
            reach = math.dist(*shown) / 2 + width
            half = math.dist(*level) / 2
            share = min(1.0, reach / max(half, 1e-6))
            middle = ((level[0][0] + level[1][0]) / 2, (level[0][1] + level[1][1]) / 2)
            guide = tuple((middle[0] + (x - middle[0]) * share, middle[1] + (y - middle[1]) * share) for x, y in level)
            self._draw_ruler_at(shown, (guide[0], guide[1]), state_colour(person.verdict.state))
        if people:
            self._draw_group_panel(people)
        for person in people:
            self._draw_badge(person, layout)
        return self._present_timed(started, fps)

    def show_calibration(self, frame: Frame, verdict: Verdict, words: str, progress: float) -> None:
        """Calibration: the mirror, the ruler in a neutral colour, what to do, and how far along it is."""
        layout = self._draw_camera(frame)
        canvas = self._canvas
        if verdict.state is not State.NONE:
            self._draw_ruler(verdict, layout, CALIBRATION_BLUE)
        banner = self._draw_banner(words, CALIBRATION_BLUE)
        canvas_w, canvas_h = canvas.get_size()
        bar = pygame.Rect(0, 0, int(canvas_w * 0.6), max(8, canvas_h // 40))
        bar.midbottom = (canvas_w // 2, banner.top - banner.height // 2)
        pygame.draw.rect(canvas, OUTLINE, bar.inflate(6, 6), border_radius=bar.height)
        filled = bar.copy()
        filled.width = max(0, int(bar.width * min(max(progress, 0.0), 1.0)))
        if filled.width:
            pygame.draw.rect(canvas, TEXT_WHITE, filled, border_radius=bar.height)
        self._present()

    def show_walk_summary(self, frame: Frame, summary: WalkSummary) -> None:
        """After a walk: the mirror dimmed, and what the walk showed, in a few large lines."""
        self._draw_summary(frame, "Your walk", walk_summary_lines(summary))

    def show_set_summary(self, frame: Frame, summary: SetSummary) -> None:
        """After a set: the mirror dimmed, the reps per side, how far out, and how many were clean."""
        self._draw_summary(frame, "Your set", set_summary_lines(
            summary.count(Side.LEFT), summary.count(Side.RIGHT), summary.mean_range_deg(Side.LEFT),
            summary.mean_range_deg(Side.RIGHT), summary.best_range_deg(Side.LEFT), summary.best_range_deg(Side.RIGHT),
            summary.clean_reps, summary.range_difference_deg))

    def _draw_summary(self, frame: Frame, heading: str, lines: list[str]) -> None:
        """A heading and lines on one dark plate in the middle, each line wrapped to the picture."""
        self._draw_camera(frame)
        canvas = self._canvas
        canvas.blit(self._dimmer, (0, 0))
        canvas.blit(self._dimmer, (0, 0))
        canvas_w, canvas_h = canvas.get_size()
        width = self._text_width()
        title = self._block(heading, _BANNER, width)
        body = [self._block(line, _MEDIUM, width) for line in lines]
        gap = self._fonts[_MEDIUM].get_height() // 2
        pad = gap
        inner_w = max([title.get_width()] + [b.get_width() for b in body])
        inner_h = title.get_height() + sum(b.get_height() + gap for b in body)
        plate = pygame.Rect(0, 0, inner_w + 4 * pad, inner_h + 2 * pad)
        plate.center = (canvas_w // 2, canvas_h // 2)
        plate.clamp_ip(canvas.get_rect())
        pygame.draw.rect(canvas, OUTLINE, plate, border_radius=pad)
        y = plate.top + pad
        for surface, words, key in [(title, heading, _BANNER)] + [(b, w, _MEDIUM) for b, w in zip(body, lines,
                                                                                                  strict=True)]:
            box = surface.get_rect(midtop=(plate.centerx, y))
            canvas.blit(surface, box)
            self._record(words, box, key, width)
            y = box.bottom + gap
        self._present()

    def _draw_exercise(self, verdict: Verdict, layout: _Layout, status: ExerciseStatus) -> None:
        """The ruler green while the pelvis stays level, red while it hikes; the counter on top; one line below."""
        hiking = state_colour(State.TILTED if status.hiking else State.LEVEL)
        self._draw_ruler(verdict, layout, hiking)
        last = status.last_rep
        if status.feet_unseen:
            self._draw_banner(EXERCISE_SHOW_FEET, CALIBRATION_BLUE)
        elif not status.ready:
            self._draw_banner(EXERCISE_STILL_FIRST if status.still_first else EXERCISE_GET_READY, CALIBRATION_BLUE)
        elif status.lifting is not None and status.lift_deg is not None:
            self._draw_banner(lifting_words(status.lifting, status.lift_deg), hiking)
        elif last is not None and last.verdict is RepVerdict.PELVIS_HIKED:
            self._draw_banner(HIKE_CUE, CALIBRATION_BLUE)
        elif last is not None and last.verdict is RepVerdict.TRUNK_LEANED:
            self._draw_banner(LEAN_CUE, CALIBRATION_BLUE)
        else:
            self._draw_banner(EXERCISE_LIFT, state_colour(State.LEVEL))
        canvas_w = self._canvas.get_width()
        counter = self._put(rep_counter_words(status.left, status.right), _BANNER, OUTLINE,
                            midtop=(canvas_w // 2, self._margin()))
        if last is not None:
            self._put(rep_words(last.side, last.peak_angle_deg, last.pelvis_hike_deg,
                                last.verdict is RepVerdict.PELVIS_HIKED, last.verdict is RepVerdict.TRUNK_LEANED),
                      _MEDIUM, OUTLINE, midtop=(canvas_w // 2, counter.bottom + self._margin() // 2))
        self._draw_source_mark(verdict, layout)

    def show_replay(self, screen: ReplayScreen) -> None:
        """A walk played again in slow motion: the kept picture, mirrored as the mirror is, the ruler
        as it was shown, the steps along a timeline with where the replay is, and the largest drop in
        words while the replay stands still on it."""
        layout = self._draw_picture(screen.image, screen.frame_width_px, screen.frame_height_px)
        verdict = screen.verdict
        self._draw_ruler(verdict, layout)
        self._put(replay_words(screen.speed), _SMALL, OUTLINE, topleft=(self._margin(), self._margin()))
        frozen = screen.frozen_words is not None
        banner = self._draw_banner(screen.frozen_words or verdict_words(verdict),
                                   state_colour(screen.frozen_state if frozen else verdict.state))
        self._draw_timeline(screen, banner.top - self._margin())
        self._present()

    def _draw_timeline(self, screen: ReplayScreen, bottom_px: int) -> None:
        """Above the banner: a bar for the replay, a tick for each step (red where its drop reached
        the tolerance), and a disc where the replay is."""
        canvas_w = self._canvas.get_width()
        width = self._ruler_width_px
        length = round(self._text_width() * 0.8)
        left = (canvas_w - length) // 2
        y = bottom_px - 2 * width
        thick_line(self._canvas, (left, y), (left + length, y), width + 4, OUTLINE)
        thick_line(self._canvas, (left, y), (left + length, y), width, GUIDE_WHITE)
        for mark in screen.steps:
            x = left + mark.position * length
            colour = state_colour(State.TILTED if mark.dropped else State.LEVEL)
            thick_line(self._canvas, (x, y - 2 * width), (x, y + 2 * width), width // 2 + 4, OUTLINE)
            thick_line(self._canvas, (x, y - 2 * width), (x, y + 2 * width), width // 2, colour)
        head = (round(left + screen.position * length), y)
        draw_disc(self._canvas, head, width + 4, OUTLINE)
        draw_disc(self._canvas, head, width + 1, TEXT_WHITE)

    def show_message(self, words: str) -> None:
        """A calm dark screen with one line of words: the camera is gone, the model is missing..."""
        self._boxes.clear()
        self._canvas.fill((18, 18, 22))
        self._draw_message(words)
        self._present()

    def _draw_camera(self, frame: Frame) -> _Layout:
        """The mirrored picture, fitted to the screen, under whatever is drawn next."""
        return self._draw_picture(frame.image, frame.width_px, frame.height_px)

    def _draw_picture(self, image: np.ndarray, frame_w_px: int, frame_h_px: int) -> _Layout:
        """`image` (the camera's frame, or a smaller copy of one of `frame_w_px` × `frame_h_px`: a
        replay's), mirrored and fitted to the screen as that frame would be; the texts start afresh."""
        self._boxes.clear()
        layout = self._layout_for(frame_w_px, frame_h_px)
        if (layout.fit.width_px, layout.fit.height_px) != self._canvas.get_size():
            self._canvas.fill((0, 0, 0))  # the bars beside or above the picture
        self._canvas.blit(self._camera_surface(image, layout), (layout.fit.left_px, layout.fit.top_px))
        return layout

    def _present_timed(self, started: float, fps: float | None) -> ShowTiming:
        """The optional fps counter, then onto the screen; how long drawing and flipping took."""
        if fps is not None and self._settings.show_fps:
            self._put(f"{fps:.0f} fps", _SMALL, OUTLINE, bottomleft=(self._margin(), self._canvas.get_height()),
                      away=-1)
        self._rotate_onto_screen()
        drawn = time.perf_counter()
        if not self._offscreen:
            pygame.display.flip()
        return ShowTiming(drawn - started, time.perf_counter() - drawn)

    def _present(self) -> None:
        self._rotate_onto_screen()
        if not self._offscreen:
            pygame.display.flip()

    def _rotate_onto_screen(self) -> None:
        if self._canvas is not self._screen:
            self._screen.blit(pygame.transform.rotate(self._canvas, -self._settings.rotation), (0, 0))

    def quit_requested(self) -> bool:
        """True when Esc or q was pressed or the window was closed."""
        if self._offscreen:
            return False
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                return True
            if event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE, pygame.K_q):
                return True
        return False

    def save_snapshot(self, path: Path) -> None:
        """Write what the screen shows now as a PNG."""
        try:
            pygame.image.save(self._screen, str(path))
        except (pygame.error, OSError) as error:
            raise DisplayError(f"cannot write snapshot {path}: {error}") from error

    def pixels(self) -> np.ndarray:
        """What the screen shows now, as an (H, W, 3) uint8 RGB array (a copy)."""
        width, height = self._screen.get_size()
        return np.frombuffer(pygame.image.tobytes(self._screen, "RGB"), dtype=np.uint8).reshape(height, width, 3)

    def close(self) -> None:
        if self._offscreen:
            return  # no window to close; pygame's fonts stay for whoever else draws
        pygame.display.quit()
        pygame.quit()

    def _layout_for(self, frame_w_px: int, frame_h_px: int) -> _Layout:
        layout = self._layout
        if layout is None or (layout.frame_w, layout.frame_h) != (frame_w_px, frame_h_px):
            canvas_w, canvas_h = self._canvas.get_size()
            fit = fit_inside(frame_w_px, frame_h_px, canvas_w, canvas_h)
            layout = _Layout(fit, frame_w_px, frame_h_px)
            self._layout = layout
            self._scaled = np.empty((fit.height_px, fit.width_px, 3), dtype=np.uint8)
            self._mirrored = np.empty_like(self._scaled)
        return layout

    def _camera_surface(self, image: np.ndarray, layout: _Layout) -> pygame.Surface:
        assert self._scaled is not None and self._mirrored is not None
        fit = layout.fit
        shown = image
        if (fit.width_px, fit.height_px) != (image.shape[1], image.shape[0]):
            shown = cv2.resize(image, (fit.width_px, fit.height_px), dst=self._scaled, interpolation=cv2.INTER_LINEAR)
        if self._settings.mirror:
            shown = cv2.flip(shown, 1, dst=self._mirrored)
        elif shown is image:
            # Not mirrored and not scaled: copy, so the surface never points into a pooled frame buffer.
            np.copyto(self._scaled, image)
            shown = self._scaled
        return pygame.image.frombuffer(shown.data, (fit.width_px, fit.height_px), "RGB")

    def _to_screen(self, xy: np.ndarray, layout: _Layout) -> tuple[float, float]:
        return frame_to_screen(xy, layout.fit, layout.frame_w, self._settings.mirror)

    def _ruler_ends(self, verdict: Verdict, layout: _Layout) -> tuple[tuple[Point, Point], tuple[Point, Point]]:
        """The ruler's ends and its level guide's ends on the canvas."""
        assert verdict.ruler_left_end_px is not None and verdict.ruler_right_end_px is not None
        a = self._to_screen(verdict.ruler_left_end_px, layout)
        b = self._to_screen(verdict.ruler_right_end_px, layout)
        # A thin level guide, longer than the ruler so its ends show beside it: the ruler's tilt
        # against it is what the person corrects.
        if verdict.level_left_end_px is not None and verdict.level_right_end_px is not None:
            return (a, b), (self._to_screen(verdict.level_left_end_px, layout),
                            self._to_screen(verdict.level_right_end_px, layout))
        center = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        reach = math.hypot(b[0] - a[0], b[1] - a[1]) / 2 * 1.25
        return (a, b), ((center[0] - reach, center[1]), (center[0] + reach, center[1]))

    def _draw_ruler(self, verdict: Verdict, layout: _Layout, colour: tuple[int, int, int] | None = None) -> None:
        if verdict.ruler_left_end_px is None or verdict.ruler_right_end_px is None:
            return
        ruler, level = self._ruler_ends(verdict, layout)
        self._draw_ruler_at(ruler, level, colour or state_colour(verdict.state))

    def _draw_ruler_at(self, ruler: tuple[Point, Point], level: tuple[Point, Point],
                       colour: tuple[int, int, int]) -> None:
        (a, b), (level_a, level_b) = ruler, level
        width = self._ruler_width_px
        thick_line(self._canvas, level_a, level_b, 5, OUTLINE)
        thick_line(self._canvas, level_a, level_b, 2, GUIDE_WHITE)
        thick_line(self._canvas, a, b, width + 4, OUTLINE)
        thick_line(self._canvas, a, b, width, colour)
        draw_ticks(self._canvas, a, b, width)

    def _draw_source_mark(self, verdict: Verdict, layout: _Layout) -> None:
        """Under the ruler's middle: which reading the ruler shows (kiosk.core.words.SOURCE_WORDS)."""
        if verdict.source is None or verdict.ruler_left_end_px is None or verdict.ruler_right_end_px is None:
            return
        a = self._to_screen(verdict.ruler_left_end_px, layout)
        b = self._to_screen(verdict.ruler_right_end_px, layout)
        self._put(SOURCE_WORDS[verdict.source], _SMALL, OUTLINE,
                  midtop=(round((a[0] + b[0]) / 2), round(max(a[1], b[1]) + 1.5 * self._ruler_width_px)), away=-1)

    def _draw_badge(self, person: PersonVerdict, layout: _Layout) -> None:
        """The person's number in a coloured disc above their belt (grey while they get no verdict)."""
        verdict = person.verdict
        if verdict.ruler_left_end_px is not None and verdict.ruler_right_end_px is not None:
            a = self._to_screen(verdict.ruler_left_end_px, layout)
            b = self._to_screen(verdict.ruler_right_end_px, layout)
            x, y = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
        else:
            hips = person.pose.hip_mid_px
            if not np.isfinite(hips).all():
                return
            x, y = self._to_screen(hips, layout)
        number = self._block(str(person.person_id), _SMALL, self._canvas.get_width())
        radius = max(number.get_width(), number.get_height()) * 2 // 3 + 2
        disc = pygame.Rect(0, 0, 2 * radius, 2 * radius)
        disc.center = (round(x), round(y - radius - self._ruler_width_px * 2))
        disc = self._free(disc, away=-1)
        colour = badge_colour(person.person_id) if verdict.state is not State.NONE else WAITING_GREY
        draw_disc(self._canvas, disc.center, radius, OUTLINE)
        draw_disc(self._canvas, disc.center, radius - 2, colour)
        self._canvas.blit(number, number.get_rect(center=disc.center))
        self._record(str(person.person_id), disc, _SMALL, self._canvas.get_width())

    def _draw_group_panel(self, people: list[PersonVerdict]) -> None:
        """Along the bottom, one cell per person: badge number, state in its colour, steps; rows
        wrap upward when the cells do not fit side by side."""
        canvas_w, canvas_h = self._canvas.get_size()
        pad = self._margin()
        x, bottom = pad, canvas_h - pad
        for person in people:
            words = f"{person.person_id}  {verdict_words(person.verdict, short=True)}"
            if person.steps:
                words += f", {steps_words(person.steps)}"
            text = self._block(words, _MEDIUM, canvas_w - 6 * pad)
            box = pygame.Rect(0, 0, text.get_width() + 4 * pad, text.get_height() + pad)
            if x + box.width > canvas_w - pad and x > pad:  # wrap onto a row above
                x, bottom = pad, bottom - box.height - pad
            box.bottomleft = (x, bottom)
            background = state_colour(person.verdict.state) if person.verdict.state is not State.NONE else OUTLINE
            pygame.draw.rect(self._canvas, background, box, border_radius=pad)
            edge = pygame.Rect(box.left, box.top, 3 * pad // 2, box.height)
            pygame.draw.rect(self._canvas, badge_colour(person.person_id), edge,
                             border_top_left_radius=pad, border_bottom_left_radius=pad)
            self._canvas.blit(text, text.get_rect(midleft=(box.left + 5 * pad // 2, box.centery)))
            self._record(words, box, _MEDIUM, canvas_w - 6 * pad)
            x = box.right + pad

    def _draw_walk_corner(self, walk: WalkStatus) -> pygame.Rect:
        """Top right: the step count and the last step's drop, in words.  The ruler stays the message."""
        words = steps_words(walk.steps)
        if walk.last_step is not None:
            words += "\n" + last_step_words(walk.last_step)
        return self._put(words, _SMALL, OUTLINE,
                         topright=(self._canvas.get_width() - self._margin(), self._margin()))

    def _draw_trend(self, trend: FatigueTrend, top_px: int) -> None:
        """Under the walk corner: each hip's drop over the last minutes as a line (its running mean,
        read from 2 m: thick lines, a large dot at the newest step, the legend in the smallest
        text), once there is a line to draw; and one calm line when a hip's drop has grown
        (kiosk.body.fatigue)."""
        series = self._trend_series(trend)
        if not any(len(points) >= 2 for points in series.values()):
            return
        canvas_w, canvas_h = self._canvas.get_size()
        margin = self._margin()
        plot = pygame.Rect(0, 0, round(canvas_w * 0.32), round(canvas_h * 0.2))
        plot.topright = (canvas_w - margin, top_px)
        pygame.draw.rect(self._canvas, OUTLINE, plot, border_radius=margin)
        inner = plot.inflate(-2 * margin, -2 * margin)
        top = max([TREND_FLOOR_DEG] + [d.peak_drop_deg for d in trend.recent])
        for side, colour in TREND_COLOURS.items():
            points = [(inner.left + inner.width * x, inner.bottom - inner.height * min(y / top, 1.0))
                      for x, y in series[side]]
            if len(points) >= 2:
                pygame.draw.lines(self._canvas, colour, False, points, max(4, self._ruler_width_px // 2))
            for point in points[-1:]:
                draw_disc(self._canvas, (round(point[0]), round(point[1])), max(4, margin), colour)
        words = f"{top:.0f}\u00b0"
        label = self._block(words, _SMALL, inner.width)
        self._canvas.blit(label, label.get_rect(topleft=inner.topleft))
        self._record(words, label.get_rect(topleft=inner.topleft), _SMALL, inner.width)
        legend = self._put(TREND_LEGEND[Side.LEFT], _SMALL, TREND_COLOURS[Side.LEFT],
                           topright=(plot.right, plot.bottom + margin // 2))
        self._put(TREND_LEGEND[Side.RIGHT], _SMALL, TREND_COLOURS[Side.RIGHT],
                  topright=(legend.left - margin, plot.bottom + margin // 2))
        fatigue = fatigue_words(trend)
        if fatigue is not None:
            self._put(fatigue, _SMALL, OUTLINE, edge=NOTICE_EDGE, topright=(plot.right, legend.bottom + margin // 2),
                      width_px=canvas_w * 0.5)

    def _trend_series(self, trend: FatigueTrend) -> dict[Side, list[tuple[float, float]]]:
        """Per hip, (share of the plot's width, running mean drop in degrees) of its steps in the
        plot's window; worked out again only when the trend changes (a new step), not every frame."""
        if self._trend_cache is not None and self._trend_cache[0] is trend:
            return self._trend_cache[1]
        start_s = trend.now_s - PLOT_S
        series: dict[Side, list[tuple[float, float]]] = {}
        for side in TREND_COLOURS:
            drops = [d for d in trend.recent if d.drop_side is side and d.end_s >= start_s]
            if len(drops) < TREND_SMOOTH_STEPS:
                series[side] = []
                continue
            means = np.convolve([d.peak_drop_deg for d in drops], np.full(TREND_SMOOTH_STEPS, 1 / TREND_SMOOTH_STEPS),
                                mode="valid")
            series[side] = [((d.end_s - start_s) / PLOT_S, float(m))
                            for d, m in zip(drops[TREND_SMOOTH_STEPS - 1:], means, strict=True)]
        self._trend_cache = (trend, series)
        return series

    def _draw_notice(self, words: str) -> None:
        """Top left, until it no longer holds: something staff should fix (a lost calibration)."""
        self._put(words, _SMALL, OUTLINE, topleft=(self._margin(), self._margin()), edge=NOTICE_EDGE,
                  width_px=self._canvas.get_width() * 0.5)

    def _draw_banner(self, words: str, colour: tuple[int, int, int]) -> pygame.Rect:
        canvas_w, canvas_h = self._canvas.get_size()
        return self._put(words, _BANNER, colour, midbottom=(canvas_w // 2, canvas_h - self._margin()), away=-1)

    def _draw_message(self, words: str) -> None:
        canvas_w, canvas_h = self._canvas.get_size()
        self._put(words, _BANNER, OUTLINE, center=(canvas_w // 2, canvas_h // 2))

    # ---- text: every word goes through _put (or _record), so the review sheet sees every box ----------

    def _margin(self) -> int:
        return max(4, self._fonts[_SMALL].get_height() // 3)

    def _text_width(self) -> float:
        """How wide a line may be: the picture's width when it fills most of the screen (so words do
        not run off the picture into the bars), else the screen's."""
        canvas_w = self._canvas.get_width()
        layout = self._layout
        wide = layout is not None and layout.fit.width_px >= 0.6 * canvas_w
        return 0.92 * (layout.fit.width_px if layout is not None and wide else canvas_w)

    def _font(self, key: str) -> pygame.font.Font:
        return self._fonts[key]

    # Few entries: a banner surface is ~100 kB, and a walker's tilt visits hundreds of values.
    def _block(self, words: str, key: str, width_px: float) -> pygame.Surface:
        return self._inked(words, key, width_px)[0]

    @functools.lru_cache(maxsize=24)  # noqa: B019 - one view per process
    def _inked(self, words: str, key: str, width_px: float) -> tuple[pygame.Surface, int]:
        """Words in one of the view's fonts, wrapped to `width_px`, the lines centred; and their ink."""
        font = self._font(key)
        lines = [font.render(line, True, TEXT_WHITE) for line in wrapped(words, font, width_px)]
        block = pygame.Surface((max(line.get_width() for line in lines), sum(line.get_height() for line in lines)),
                               pygame.SRCALPHA)
        y = 0
        for line in lines:
            block.blit(line, line.get_rect(midtop=(block.get_width() // 2, y)))
            y += line.get_height()
        return block, int(np.count_nonzero(pygame.surfarray.pixels_alpha(block) == 255))

    def _put(self, words: str, key: str, colour: tuple[int, int, int], edge: tuple[int, int, int] | None = None,
             away: int = 1, width_px: float | None = None, **anchor: tuple[int, int]) -> pygame.Rect:
        """Words on a rounded plate in `colour`, the plate placed at `anchor` (pygame's rect
        attributes: midtop=..., topright=...) and moved down (`away` 1) or up (-1) past any text
        already drawn; recorded for the review sheet.  The plate's rect."""
        text = self._block(words, key, width_px or self._text_width())
        pad = max(3, self._font(key).get_height() // 4)
        plate = text.get_rect().inflate(3 * pad, pad)
        for name, point in anchor.items():
            setattr(plate, name, point)
        plate = self._free(plate, away)
        pygame.draw.rect(self._canvas, colour, plate, border_radius=pad)
        if edge is not None:
            pygame.draw.rect(self._canvas, edge, plate, width=max(2, pad // 2), border_radius=pad)
        self._canvas.blit(text, text.get_rect(center=plate.center))
        self._record(words, plate, key, width_px)
        return plate

    def _free(self, rect: pygame.Rect, away: int) -> pygame.Rect:
        """`rect` kept on the canvas and moved along the screen's height, past the texts it would cover."""
        bounds = self._canvas.get_rect()
        rect = rect.clamp(bounds)
        gap = max(2, self._margin() // 2)
        for _ in range(len(self._boxes)):
            hit = next((pygame.Rect(box.rect) for box in self._boxes if rect.colliderect(box.rect)), None)
            if hit is None:
                break
            if away > 0:
                rect.top = hit.bottom + gap
            else:
                rect.bottom = hit.top - gap
        return rect.clamp(bounds)

    def _record(self, words: str, rect: pygame.Rect, key: str, width_px: float | None = None) -> None:
        ink = self._inked(words, key, width_px or self._text_width())[1]
        self._boxes.append(TextBox(words, rect.left, rect.top, rect.width, rect.height,
                                   self._letters[key], ink))


_SMALL, _MEDIUM, _BANNER = "small", "medium", "banner"
