"""The roster of people in group mode, on synthetic keypoints: numbers, continuity, entering and leaving."""

from kiosk.body.people import PersonBox, Roster, person_box, plausible_body
from kiosk.settings.config import PeopleConfig

from conftest import synthetic_pose

SETTINGS = PeopleConfig(mode="group", max_people=4, min_torso_score=0.3, forget_after_s=1.0)


def person_at(x: float, y: float = 400.0, score: float = 0.9):
    """A frontal person whose hip centre is at (x, y): hips 40 px apart, shoulders 120 px above."""
    return synthetic_pose(left_hip=(x + 20, y), right_hip=(x - 20, y), left_shoulder=(x + 30, y - 120),
                          right_shoulder=(x - 30, y - 120), score=score, frame=(1280, 720))


def numbered(roster, pose, t_s: float = 0.0):
    """Somebody the search finds and the next look finds again: their number (None if refused)."""
    person = roster.admit(pose, t_s)
    return None if person is None else roster.confirm(person.person_id, pose, t_s)


def test_box_overlap():
    a = PersonBox(0, 0, 10, 10)
    assert a.overlap(a) == 1.0
    assert a.overlap(PersonBox(20, 0, 30, 10)) == 0.0
    assert abs(a.overlap(PersonBox(5, 0, 15, 10)) - 50 / 150) < 1e-9
    assert a.grown(0.1).as_tuple() == (-1.0, -1.0, 11.0, 11.0)


def test_a_pose_with_few_confident_keypoints_has_no_box():
    pose = person_at(300)
    pose.scores[:] = 0.05
    pose.scores[11:13] = 0.9
    assert person_box(pose) is None


def test_people_found_get_increasing_numbers_and_one_person_is_not_admitted_twice():
    roster = Roster(SETTINGS)
    assert (numbered(roster, person_at(300)), numbered(roster, person_at(700))) == (1, 2)
    assert roster.admit(person_at(305), 0.0) is None  # the same hips as person 1
    assert len(roster) == 2


def test_somebody_found_gets_a_number_only_once_the_next_look_finds_them_again():
    roster = Roster(SETTINGS)
    found = roster.admit(person_at(300), 0.0)
    assert found is not None and found.on_probation
    assert roster.people == [] and len(roster) == 1  # followed, looked at, not shown
    assert [p.person_id for p in roster.due(1)] == [found.person_id]
    assert roster.confirm(found.person_id, person_at(304), 0.033) == 1
    assert [(p.person_id, p.on_probation) for p in roster.people] == [(1, False)]


def test_a_faint_find_that_the_next_look_does_not_find_again_is_dropped_and_takes_no_number():
    roster = Roster(SETTINGS)
    ghost = roster.admit(person_at(300), 0.0)
    assert roster.confirm(ghost.person_id, person_at(300, score=0.1), 0.033) is None
    assert len(roster) == 0 and roster.tidy(0.033) == []
    assert numbered(roster, person_at(700), 0.1) == 1


def test_an_unsure_pose_is_not_a_person():
    roster = Roster(SETTINGS)
    assert roster.admit(person_at(300, score=0.2), 0.0) is None


def test_a_pose_stitched_from_two_neighbours_is_refused():
    stitched = synthetic_pose(left_hip=(420, 400), right_hip=(300, 400), left_shoulder=(430, 330),
                              right_shoulder=(290, 330), frame=(1280, 720))
    assert not plausible_body(stitched)
    assert plausible_body(person_at(300))
    assert Roster(SETTINGS).admit(stitched, 0.0) is None


def test_a_person_is_followed_while_they_move_smoothly():
    roster = Roster(SETTINGS)
    numbered(roster, person_at(300))
    for i in range(1, 30):
        assert roster.confirm(1, person_at(300 + 5 * i), i / 30) == 1
    assert roster.people[0].box.left_px > 400


def test_a_crop_that_jumps_to_someone_else_is_not_accepted():
    roster = Roster(SETTINGS)
    numbered(roster, person_at(300))
    assert roster.confirm(1, person_at(600), 0.033) is None  # 300 px is 7 hip widths: somebody else
    assert roster.people[0].seen_s == 0.0


def test_a_crop_that_slides_onto_a_followed_neighbour_is_not_accepted():
    roster = Roster(SETTINGS)
    numbered(roster, person_at(300))
    numbered(roster, person_at(360))
    # person 1's crop came back with hips right on person 2
    assert roster.confirm(1, person_at(358), 0.033) is None
    assert [p.person_id for p in roster.people] == [1, 2]


def test_people_not_found_for_a_while_are_forgotten_and_their_number_not_reused():
    roster = Roster(SETTINGS)
    numbered(roster, person_at(300))
    numbered(roster, person_at(700))
    for i in range(1, 40):
        roster.confirm(2, person_at(700), i / 30)  # only person 2 is still there
        gone = roster.tidy(i / 30)
        if gone:
            assert gone == [1]
            assert i / 30 > SETTINGS.forget_after_s
    assert [p.person_id for p in roster.people] == [2]
    assert numbered(roster, person_at(300), 2.0) == 3


def test_two_entries_that_end_up_on_one_person_keep_the_older_number():
    roster = Roster(SETTINGS)
    numbered(roster, person_at(300), 0.0)
    numbered(roster, person_at(420), 0.5)
    roster._people[2].pose = person_at(302)  # person 2's entry drifted onto person 1
    assert roster.tidy(0.6) == [2]
    assert [p.person_id for p in roster.people] == [1]


def test_the_roster_is_full_at_max_people():
    roster = Roster(SETTINGS)
    for i in range(6):
        roster.admit(person_at(150 + 200 * i), 0.0)
    assert len(roster) == SETTINGS.max_people


def test_those_looked_at_longest_ago_are_due_first():
    roster = Roster(SETTINGS)
    for x in (200, 500, 800):
        numbered(roster, person_at(x))
    roster.confirm(1, person_at(200), 0.1)
    roster.confirm(2, person_at(500), 0.2)
    assert [p.person_id for p in roster.due(2)] == [3, 1]
    newcomer = roster.admit(person_at(1100), 0.3)
    assert [p.person_id for p in roster.due(2)] == [newcomer.person_id, 3]  # on probation: looked at first
