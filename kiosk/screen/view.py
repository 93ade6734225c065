"""The mirror: the screens a person sees (with kiosk.screen.draw, the only modules that import pygame).

Shows the camera image mirrored and scaled to the screen, the ruler through the belt loops
(green level, red tilted) with the tilt in words, and calm instructions when there is no
verdict.  Draws on a logical canvas that is rotated for portrait-mounted screens.
"""

from __future__ import annotations

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

from kiosk.core.errors import DisplayError
from kiosk.core.geometry import Fit, fit_inside, frame_to_screen
from kiosk.core.types import (
    ExerciseStatus,
    Frame,
    NoVerdict,
    PersonVerdict,
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
    HIKE_CUE,
    LEAN_CUE,
    NO_VERDICT_WORDS,
    SOURCE_WORDS,
    last_step_words,
    lifting_words,
    rep_counter_words,
    rep_words,
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


class MirrorView:
    """A pygame window or full screen that shows frames and verdicts."""

    def __init__(self, settings: DisplayConfig, windowed: bool) -> None:
        self._settings = settings
        try:
            pygame.display.init()
            pygame.font.init()
            if windowed or not settings.fullscreen:
                self._screen = pygame.display.set_mode((settings.window_width, settings.window_height))
            else:
                self._screen = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
                pygame.mouse.set_visible(False)
        except pygame.error as error:
            pygame.quit()
            raise DisplayError(
                f"no display to draw on ({error}); run it on a desktop or console, or set SDL_VIDEODRIVER"
            ) from error
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
        self._banner_font = pygame.font.Font(None, max(24, round(short_side / 9)))
        self._small_font = pygame.font.Font(None, max(16, round(short_side / 30)))
        self._medium_font = pygame.font.Font(None, max(20, round(short_side / 15)))
        self._dimmer = pygame.Surface((canvas_w, canvas_h), pygame.SRCALPHA)
        self._dimmer.fill((0, 0, 0, 110))
        self._layout: _Layout | None = None
        self._scaled: np.ndarray | None = None
        self._mirrored: np.ndarray | None = None

    @property
    def screen_size(self) -> tuple[int, int]:
        return self._screen.get_size()

    @property
    def driver(self) -> str:
        return pygame.display.get_driver()

    def show(self, frame: Frame, verdict: Verdict, fps: float | None = None,
             walk: WalkStatus | None = None, exercise: ExerciseStatus | None = None,
             notice: str | None = None) -> ShowTiming:
        """Draw one frame with its verdict and put it on the screen (`exercise`: the coach's screen)."""
        started = time.perf_counter()
        layout = self._draw_camera(frame)
        if verdict.state is State.NONE:
            self._canvas.blit(self._dimmer, (0, 0))
            self._draw_message(NO_VERDICT_WORDS[verdict.reason or NoVerdict.NO_PERSON])
        elif exercise is not None:
            self._draw_exercise(verdict, layout, exercise)
            self._draw_source_mark(verdict, layout)
        else:
            self._draw_ruler(verdict, layout)
            self._draw_source_mark(verdict, layout)
            self._draw_banner(verdict_words(verdict), state_colour(verdict.state))
        if walk is not None and walk.steps and verdict.state is not State.NONE:
            self._draw_walk_corner(walk)
        if notice is not None:
            self._draw_notice(notice)
        return self._present_timed(started, fps)

    def show_group(self, frame: Frame, people: list[PersonVerdict], fps: float | None = None,
                   notice: str | None = None) -> ShowTiming:
        """Group mode: a ruler and a numbered badge per person, and a panel for the coach."""
        started = time.perf_counter()
        layout = self._draw_camera(frame)
        if not people:
            self._canvas.blit(self._dimmer, (0, 0))
            self._draw_message(NO_VERDICT_WORDS[NoVerdict.NO_PERSON])
        for person in people:
            if person.verdict.state is not State.NONE:
                self._draw_ruler(person.verdict, layout)
            self._draw_badge(person, layout)
        if people:
            self._draw_group_panel(people)
        if notice is not None:
            self._draw_notice(notice)
        return self._present_timed(started, fps)

    def show_calibration(self, frame: Frame, verdict: Verdict, words: str, progress: float) -> None:
        """Calibration: the mirror, the ruler in a neutral colour, what to do, and how far along it is."""
        layout = self._draw_camera(frame)
        canvas = self._canvas
        if verdict.state is not State.NONE:
            self._draw_ruler(verdict, layout, CALIBRATION_BLUE)
        self._draw_banner(words, CALIBRATION_BLUE)
        canvas_w, canvas_h = canvas.get_size()
        bar = pygame.Rect(0, 0, int(canvas_w * 0.6), max(8, canvas_h // 40))
        bar.midbottom = (canvas_w // 2, canvas_h - self._banner_font.get_height() * 2)
        pygame.draw.rect(canvas, OUTLINE, bar.inflate(6, 6), border_radius=bar.height)
        filled = bar.copy()
        filled.width = max(0, int(bar.width * min(max(progress, 0.0), 1.0)))
        if filled.width:
            pygame.draw.rect(canvas, TEXT_WHITE, filled, border_radius=bar.height)
        self._present()

    def show_walk_summary(self, frame: Frame, summary: WalkSummary) -> None:
        """After a walk: the mirror dimmed, and what the walk showed, in a few large lines."""
        self._draw_summary(frame, "Your walk", walk_summary_lines(summary))

    def _draw_summary(self, frame: Frame, heading: str, lines: list[str]) -> None:
        self._draw_camera(frame)
        canvas = self._canvas
        canvas.blit(self._dimmer, (0, 0))
        canvas.blit(self._dimmer, (0, 0))
        canvas_w, canvas_h = canvas.get_size()
        line_h = self._medium_font.get_height() * 1.5
        title = self._text(heading)
        top = canvas_h / 2 - (title.get_height() + line_h * len(lines)) / 2
        canvas.blit(title, title.get_rect(midtop=(canvas_w // 2, int(top))))
        for i, line in enumerate(lines):
            text = self._medium_font.render(line, True, TEXT_WHITE)
            if text.get_width() > canvas_w * 0.94:
                scale = canvas_w * 0.94 / text.get_width()
                size = (int(text.get_width() * scale), int(text.get_height() * scale))
                text = pygame.transform.smoothscale(text, size)
            canvas.blit(text, text.get_rect(midtop=(canvas_w // 2, int(top + title.get_height() + line_h * i))))
        self._present()

    def show_set_summary(self, frame: Frame, summary: SetSummary) -> None:
        """After a set: the mirror dimmed, the reps per side, the range and how many were clean."""
        self._draw_summary(frame, "Your set", set_summary_lines(
            summary.count(Side.LEFT), summary.count(Side.RIGHT), summary.mean_range_deg(Side.LEFT),
            summary.mean_range_deg(Side.RIGHT), summary.best_range_deg(Side.LEFT), summary.best_range_deg(Side.RIGHT),
            summary.clean_fraction, summary.range_difference_deg))

    def _draw_exercise(self, verdict: Verdict, layout: _Layout, status: ExerciseStatus) -> None:
        """The ruler green while the pelvis stays level, red while it hikes; the counter on top; one line below."""
        self._draw_ruler(verdict, layout, state_colour(State.TILTED if status.hiking else State.LEVEL))
        canvas_w = self._canvas.get_width()
        counter = self._text(rep_counter_words(status.left, status.right))
        pad = counter.get_height() // 4
        box = counter.get_rect(midtop=(canvas_w // 2, 2 * pad)).inflate(3 * pad, pad)
        pygame.draw.rect(self._canvas, OUTLINE, box, border_radius=pad)
        self._canvas.blit(counter, counter.get_rect(center=box.center))
        last = status.last_rep
        if last is not None:
            words = rep_words(last.side, last.peak_angle_deg, last.pelvis_hike_deg,
                              last.verdict is RepVerdict.PELVIS_HIKED, last.verdict is RepVerdict.TRUNK_LEANED)
            text = self._medium_font.render(words, True, TEXT_WHITE)
            small = text.get_rect(midtop=(canvas_w // 2, box.bottom + pad)).inflate(2 * pad, pad // 2)
            pygame.draw.rect(self._canvas, OUTLINE, small, border_radius=pad)
            self._canvas.blit(text, text.get_rect(center=small.center))
        if status.feet_unseen:
            self._draw_banner(EXERCISE_SHOW_FEET, CALIBRATION_BLUE)
        elif not status.ready:
            self._draw_banner(EXERCISE_GET_READY, CALIBRATION_BLUE)
        elif status.lifting is not None and status.angle_deg is not None:
            self._draw_banner(lifting_words(status.lifting, status.angle_deg),
                              state_colour(State.TILTED if status.hiking else State.LEVEL))
        elif last is not None and last.verdict is RepVerdict.PELVIS_HIKED:
            self._draw_banner(HIKE_CUE, CALIBRATION_BLUE)
        elif last is not None and last.verdict is RepVerdict.TRUNK_LEANED:
            self._draw_banner(LEAN_CUE, CALIBRATION_BLUE)
        else:
            self._draw_banner(EXERCISE_LIFT, state_colour(State.LEVEL))

    def show_message(self, words: str) -> None:
        """A calm dark screen with one line of words: the camera is gone, the model is missing..."""
        self._canvas.fill((18, 18, 22))
        self._draw_message(words)
        self._present()

    def _draw_camera(self, frame: Frame) -> _Layout:
        """The mirrored picture, fitted to the screen, under whatever is drawn next."""
        layout = self._layout_for(frame)
        if (layout.fit.width_px, layout.fit.height_px) != self._canvas.get_size():
            self._canvas.fill((0, 0, 0))  # the bars beside or above the picture
        self._canvas.blit(self._camera_surface(frame.image, layout), (layout.fit.left_px, layout.fit.top_px))
        return layout

    def _present_timed(self, started: float, fps: float | None) -> ShowTiming:
        """The optional fps counter, then onto the screen; how long drawing and flipping took."""
        if fps is not None and self._settings.show_fps:
            self._canvas.blit(self._small_font.render(f"{fps:.0f} fps", True, TEXT_WHITE), (8, 8))
        self._rotate_onto_screen()
        drawn = time.perf_counter()
        pygame.display.flip()
        return ShowTiming(drawn - started, time.perf_counter() - drawn)

    def _present(self) -> None:
        self._rotate_onto_screen()
        pygame.display.flip()

    def _rotate_onto_screen(self) -> None:
        if self._canvas is not self._screen:
            self._screen.blit(pygame.transform.rotate(self._canvas, -self._settings.rotation), (0, 0))

    def quit_requested(self) -> bool:
        """True when Esc or q was pressed or the window was closed."""
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

    def close(self) -> None:
        pygame.display.quit()
        pygame.quit()

    def _layout_for(self, frame: Frame) -> _Layout:
        layout = self._layout
        if layout is None or (layout.frame_w, layout.frame_h) != (frame.width_px, frame.height_px):
            canvas_w, canvas_h = self._canvas.get_size()
            fit = fit_inside(frame.width_px, frame.height_px, canvas_w, canvas_h)
            layout = _Layout(fit, frame.width_px, frame.height_px)
            self._layout = layout
            self._scaled = np.empty((fit.height_px, fit.width_px, 3), dtype=np.uint8)
            self._mirrored = np.empty_like(self._scaled)
        return layout

    def _camera_surface(self, image: np.ndarray, layout: _Layout) -> pygame.Surface:
        assert self._scaled is not None and self._mirrored is not None
        fit = layout.fit
        shown = image
        if (fit.width_px, fit.height_px) != (layout.frame_w, layout.frame_h):
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

    def _draw_ruler(self, verdict: Verdict, layout: _Layout, colour: tuple[int, int, int] | None = None) -> None:
        if verdict.ruler_left_end_px is None or verdict.ruler_right_end_px is None:
            return
        a = self._to_screen(verdict.ruler_left_end_px, layout)
        b = self._to_screen(verdict.ruler_right_end_px, layout)
        center = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        half = math.hypot(b[0] - a[0], b[1] - a[1]) / 2
        width = self._ruler_width_px
        # A thin level guide, longer than the ruler so its ends show beside it: the ruler's tilt
        # against it is what the person corrects.
        if verdict.level_left_end_px is not None and verdict.level_right_end_px is not None:
            level_a = self._to_screen(verdict.level_left_end_px, layout)
            level_b = self._to_screen(verdict.level_right_end_px, layout)
        else:
            reach = half * 1.25
            level_a, level_b = (center[0] - reach, center[1]), (center[0] + reach, center[1])
        thick_line(self._canvas, level_a, level_b, 5, OUTLINE)
        thick_line(self._canvas, level_a, level_b, 2, GUIDE_WHITE)
        thick_line(self._canvas, a, b, width + 4, OUTLINE)
        thick_line(self._canvas, a, b, width, colour or state_colour(verdict.state))
        draw_ticks(self._canvas, a, b, width)

    def _draw_source_mark(self, verdict: Verdict, layout: _Layout) -> None:
        """Small, under the ruler's middle: which reading the ruler shows (kiosk.core.words.SOURCE_WORDS)."""
        if verdict.source is None or verdict.ruler_left_end_px is None or verdict.ruler_right_end_px is None:
            return
        a = self._to_screen(verdict.ruler_left_end_px, layout)
        b = self._to_screen(verdict.ruler_right_end_px, layout)
        text = self._mark(SOURCE_WORDS[verdict.source])
        pad = text.get_height() // 4
        box = text.get_rect().inflate(2 * pad, pad)
        box.midtop = (round((a[0] + b[0]) / 2), round(max(a[1], b[1]) + 1.5 * self._ruler_width_px))
        box.clamp_ip(self._canvas.get_rect())
        pygame.draw.rect(self._canvas, OUTLINE, box, border_radius=pad)
        self._canvas.blit(text, text.get_rect(center=box.center))

    @functools.lru_cache(maxsize=6)  # noqa: B019 - one view per process; three marks and a notice or two
    def _mark(self, words: str) -> pygame.Surface:
        return self._small_font.render(words, True, TEXT_WHITE)

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
        radius = max(10, self._small_font.get_height() * 2 // 3)
        y -= radius + self._ruler_width_px * 2
        colour = badge_colour(person.person_id) if verdict.state is not State.NONE else WAITING_GREY
        canvas_w, canvas_h = self._canvas.get_size()
        centre = (round(min(max(x, radius), canvas_w - radius)), round(min(max(y, radius), canvas_h - radius)))
        draw_disc(self._canvas, centre, radius + 2, OUTLINE)
        draw_disc(self._canvas, centre, radius, colour)
        number = self._small_font.render(str(person.person_id), True, TEXT_WHITE)
        self._canvas.blit(number, number.get_rect(center=centre))

    def _draw_group_panel(self, people: list[PersonVerdict]) -> None:
        """Along the bottom, one cell per person: badge number, state in its colour, steps."""
        canvas_w, canvas_h = self._canvas.get_size()
        font = self._small_font
        pad = font.get_height() // 3
        cells = []
        for person in people:
            words = f"{person.person_id}  {verdict_words(person.verdict, short=True)}"
            if person.steps:
                words += f" \u00b7 {steps_words(person.steps)}"
            cells.append((font.render(words, True, TEXT_WHITE), person))
        row_h = font.get_height() + 2 * pad
        x, y = pad, canvas_h - row_h - pad
        for text, person in cells:
            box = pygame.Rect(x, y, text.get_width() + 4 * pad, row_h)
            if box.right > canvas_w - pad and x > pad:  # wrap onto a row above
                x, y = pad, y - row_h - pad
                box.topleft = (x, y)
            background = state_colour(person.verdict.state) if person.verdict.state is not State.NONE else OUTLINE
            pygame.draw.rect(self._canvas, background, box, border_radius=pad)
            edge = pygame.Rect(box.left, box.top, 3 * pad // 2, box.height)
            pygame.draw.rect(self._canvas, badge_colour(person.person_id), edge,
                             border_top_left_radius=pad, border_bottom_left_radius=pad)
            self._canvas.blit(text, text.get_rect(midleft=(box.left + 5 * pad // 2, box.centery)))
            x = box.right + pad

    def _draw_walk_corner(self, walk: WalkStatus) -> None:
        """Small, in a corner: the step count and the last step's drop.  The ruler stays the message."""
        words = steps_words(walk.steps)
        if walk.last_step is not None:
            words += f" \u00b7 {last_step_words(walk.last_step)}"
        text = self._small_font.render(words, True, TEXT_WHITE)
        pad = text.get_height() // 3
        box = text.get_rect(topright=(self._canvas.get_width() - 2 * pad, 2 * pad)).inflate(2 * pad, pad)
        pygame.draw.rect(self._canvas, OUTLINE, box, border_radius=pad)
        self._canvas.blit(text, text.get_rect(center=box.center))

    def _draw_notice(self, words: str) -> None:
        """Small, top left, until it no longer holds: something staff should fix (a lost calibration)."""
        text = self._mark(words)
        pad = text.get_height() // 3
        box = text.get_rect(topleft=(2 * pad, 2 * pad)).inflate(2 * pad, pad)
        pygame.draw.rect(self._canvas, OUTLINE, box, border_radius=pad)
        pygame.draw.rect(self._canvas, NOTICE_EDGE, box, width=max(2, pad // 2), border_radius=pad)
        self._canvas.blit(text, text.get_rect(center=box.center))

    def _draw_banner(self, words: str, colour: tuple[int, int, int]) -> None:
        canvas_w, canvas_h = self._canvas.get_size()
        text = self._text(words)
        pad = text.get_height() // 3
        box = pygame.Rect(0, 0, text.get_width() + 2 * pad, text.get_height() + pad)
        box.midbottom = (canvas_w // 2, canvas_h - pad)
        pygame.draw.rect(self._canvas, colour, box, border_radius=pad)
        self._canvas.blit(text, text.get_rect(center=box.center))

    def _draw_message(self, words: str) -> None:
        canvas_w, canvas_h = self._canvas.get_size()
        text, shadow = self._message(words)
        rect = text.get_rect(center=(canvas_w // 2, canvas_h // 2))
        self._canvas.blit(shadow, rect.move(3, 3))
        self._canvas.blit(text, rect)

    # Few entries: a banner surface is ~100 kB, and a walker's tilt visits hundreds of values.
    @functools.lru_cache(maxsize=16)  # noqa: B019 - one view per process
    def _text(self, words: str) -> pygame.Surface:
        return self._banner_font.render(words, True, TEXT_WHITE)

    @functools.lru_cache(maxsize=8)  # noqa: B019 - one view per process; a handful of messages
    def _message(self, words: str) -> tuple[pygame.Surface, pygame.Surface]:
        """White words with a dark shadow, shrunk to fit a narrow (portrait) screen."""
        canvas_w = self._canvas.get_width()
        text = self._banner_font.render(words, True, TEXT_WHITE)
        shadow = self._banner_font.render(words, True, OUTLINE)
        if text.get_width() > canvas_w * 0.92:
            scale = canvas_w * 0.92 / text.get_width()
            size = (int(text.get_width() * scale), int(text.get_height() * scale))
            text = pygame.transform.smoothscale(text, size)
            shadow = pygame.transform.smoothscale(shadow, size)
        return text, shadow
