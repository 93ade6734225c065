"""Group mode and single mode's lock on one person, with the real model on the real clips."""

import csv
import dataclasses
import itertools
import json
from collections import Counter

import numpy as np
import pygame
import pytest

from kiosk.app.assembly import Purpose, assemble
from kiosk.app.bench import SideBySide
from kiosk.camera.sources import ClipSource
from kiosk.core.types import State
from kiosk.settings.config import DisplayConfig, PeopleConfig

from conftest import pinned_config, run_beltline, shared_file

GROUP = PeopleConfig(mode="group")


@pytest.fixture(scope="module")
def group_kiosk(model_path):
    """Group mode as `beltline analyze --mode group` builds it."""
    return assemble(dataclasses.replace(pinned_config(), people=GROUP), model_path, Purpose.ANALYZE)


def _group_frames(group_kiosk, clip_name):
    """Every frame of the clip through group mode: (frame index, [(id, hip centre x, fresh, verdict)])."""
    pipeline = group_kiosk.restarted().pipeline
    clip = ClipSource(shared_file(clip_name), paced=False, loop=False)
    frames = []
    while (frame := clip.read()) is not None:
        people = pipeline.step(frame)
        frames.append((frame.index, [(p.person_id, float(p.pose.xy_px[11:13, 0].mean()), p.fresh, p.verdict)
                                     for p in people]))
        frame.release()
    clip.close()
    return frames


def test_two_walkers_get_two_stable_numbers_each_on_the_right_person(group_kiosk):
    """frontal_walk_two_people.gif: a woman on the left and a man on the right walk toward the
    camera side by side, both in full view in all 35 frames (checked on a contact sheet)."""
    frames = _group_frames(group_kiosk, "frontal_walk_two_people.gif")
    assert len(frames) == 35
    seen = Counter(person_id for _, people in frames for person_id, _, fresh, _ in people if fresh)
    (left_id, _), (right_id, _) = seen.most_common(2)
    if np.mean([x for _, people in frames for pid, x, _, _ in people if pid == left_id]) > np.mean(
            [x for _, people in frames for pid, x, _, _ in people if pid == right_id]):
        left_id, right_id = right_id, left_id
    right = 0
    for _, people in frames:
        fresh = {pid: x for pid, x, is_fresh, _ in people if is_fresh}
        if set(fresh) == {left_id, right_id} and fresh[left_id] < fresh[right_id]:
            right += 1
    assert right / len(frames) >= 0.8, f"both numbers on the right people in {right} of {len(frames)} frames"
    # each number stays on its side of the corridor the whole time: nobody's number jumps across
    for _, people in frames:
        for pid, x, _, _ in people:
            if pid == left_id:
                assert x < 290
            if pid == right_id:
                assert x > 270


def test_nobody_gets_a_verdict_while_their_hips_are_out_of_the_frame(group_kiosk):
    """group_three_people_standing.gif: three people framed from the chest up."""
    frames = _group_frames(group_kiosk, "group_three_people_standing.gif")
    assert frames
    assert any(people for _, people in frames), "the people were found"
    for _, people in frames:
        for _, _, _, verdict in people:
            assert verdict.state is State.NONE
    # three people standing still keep three numbers (hips below the picture make their hip
    # keypoints wander, so they are followed by their shoulders too)
    assert len({person_id for _, people in frames for person_id, _, _, _ in people}) <= 3


def test_single_mode_keeps_the_ruler_on_the_walker_and_never_on_a_bystander(kiosk):
    """frontal_walk_outdoor_cane.mp4: the walker comes down the middle; people sit on the steps
    at the top left and on a bench on the right.  The walker is in view in all 144 frames."""
    pipeline = kiosk.pipeline
    clip = ClipSource(shared_file("frontal_walk_outdoor_cane.mp4"), paced=False, loop=False)
    judged = 0
    total = 0
    while (frame := clip.read()) is not None:
        verdict = pipeline.step(frame)[0].verdict
        total += 1
        if verdict.reading is not None and verdict.state is not State.NONE:
            judged += 1
            x, y = (verdict.reading.left_hip_px + verdict.reading.right_hip_px) / 2
            # the walker's hips stay in the middle of the picture (measured 0.46-0.61 W, 0.34-0.42 H)
            assert 0.35 < x / frame.width_px < 0.72 and 0.28 < y / frame.height_px < 0.5, (frame.index, x, y)
        frame.release()
    clip.close()
    assert judged == total == 144


def test_analyze_in_group_mode_writes_a_row_per_person_and_their_summaries(tmp_path, model_path):
    table = tmp_path / "people.csv"
    steps = tmp_path / "steps.csv"
    result = run_beltline("analyze", "--mode", "group", str(shared_file("frontal_walk_two_people.gif")),
                          "--model", str(model_path), "--csv", str(table), "--steps", str(steps))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["mode"] == "group"
    assert len(summary["people"]) >= 2
    rows = list(csv.DictReader(table.open()))
    people_per_frame = Counter(row["frame"] for row in rows if row["person"])
    assert max(people_per_frame.values()) >= 2
    assert len({row["person"] for row in rows if row["person"]}) >= 2
    assert steps.read_text().startswith("person,step,")


def test_group_screen_shows_a_numbered_ruler_per_person_and_the_coach_panel(tmp_path, group_kiosk):
    from kiosk.screen.draw import BADGE_COLOURS
    from kiosk.screen.view import MirrorView

    pipeline = group_kiosk.restarted().pipeline
    clip = ClipSource(shared_file("frontal_walk_two_people.gif"), paced=False, loop=False)
    view = MirrorView(DisplayConfig(window_width=960, window_height=540), windowed=True)
    try:
        for _ in range(20):
            frame = clip.read()
            people = pipeline.step(frame)
            view.show_group(frame, people)
            frame.release()
        shot = tmp_path / "group.png"
        view.save_snapshot(shot)
        pixels = pygame.surfarray.array3d(pygame.image.load(str(shot))).reshape(-1, 3)
    finally:
        view.close()
        clip.close()
    judged = [p for p in people if p.verdict.state is not State.NONE]
    assert len(judged) == 2
    for person in judged:  # each person's badge colour is on the screen
        colour = np.array(BADGE_COLOURS[(person.person_id - 1) % len(BADGE_COLOURS)])
        assert (np.abs(pixels.astype(int) - colour).sum(axis=1) < 10).sum() > 50


@pytest.mark.shared
def test_side_by_side_copies_put_the_people_next_to_each_other():
    clip = ClipSource(shared_file("frontal_walk_two_people.gif"), paced=False, loop=False)
    doubled = SideBySide(clip, 2)
    frame = doubled.read()
    assert frame.image.shape == (270, 960, 3)
    assert np.array_equal(frame.image[:, :480], frame.image[:, 480:])
    frame.release()
    doubled.close()


def test_bench_reports_group_mode_cost_per_person(model_path):
    result = run_beltline("bench", "--mode", "group", "--side-by-side", "2", "--frames", "40",
                          str(shared_file("frontal_walk_two_people.gif")), "--model", str(model_path))
    assert result.returncode == 0, result.stderr
    assert "group mode:" in result.stdout and "ms per person" in result.stdout


def test_people_entering_and_leaving_one_by_one_get_a_new_number_each(group_kiosk):
    """back_view_people_one_by_one.mp4: six people in turn walk in, stand with their back to the
    camera and walk out (the room is empty in between; checked on a contact sheet)."""
    frames = _group_frames(group_kiosk, "back_view_people_one_by_one.mp4")
    spans: dict[int, list[int]] = {}
    for index, people in frames:
        assert len(people) <= 1, f"frame {index}: one person at a time, got {len(people)}"
        for person_id, _, _, _ in people:
            spans.setdefault(person_id, []).append(index)
    assert sorted(spans) == list(range(1, 7))
    ranges = [(min(f), max(f)) for _, f in sorted(spans.items())]
    for (_, end), (start, _) in itertools.pairwise(ranges):
        assert end < start  # each number belongs to one visit
    for person_id, indices in spans.items():
        assert len(indices) == indices[-1] - indices[0] + 1, f"person {person_id} was dropped mid-visit"
        assert len(indices) > 100  # about 4 s and more per visit, at 10 fps


def test_single_mode_hands_the_ruler_to_a_walker_nearer_than_the_person_who_had_it(kiosk):
    """side_walk_normal.mp4: a small frontal figure stands far behind, seen through a glass
    cabinet, when the clip starts; a walker comes in from the left at about frame 20 and crosses
    the room side-on.  The figure may have the ruler until the walker arrives; then the walker
    owns it, and being side-on gets "turn to face the mirror" instead of a verdict."""
    pipeline = kiosk.pipeline
    lock = pipeline.lock
    assert lock is not None  # single mode locks on the person nearest the screen
    clip = ClipSource(shared_file("side_walk_normal.mp4"), paced=False, loop=False)
    late_verdicts = []
    while (frame := clip.read()) is not None:
        verdict = pipeline.step(frame)[0].verdict
        if frame.index >= 45 and verdict.state is not State.NONE:
            late_verdicts.append(frame.index)
        frame.release()
    clip.close()
    assert lock.takeovers >= 1
    assert late_verdicts == []
