"""scripts/pi-frame-count.py: the stage arithmetic on the counting plugin's log (the emulated run
itself needs ../shared/piemu's set-up and is not run here)."""

from conftest import load_script


def _script():
    return load_script("pi-frame-count.py")


def _log(marks):
    return "\n".join(f"ICOUNT mark {label} vcpu=0 insns={insns}" for label, insns in marks)


def test_stages_are_the_differences_between_marks_and_the_invokes_come_out_of_the_pipeline():
    script = _script()
    base = 1000
    marks = [(base, 0), (base + 1, 10), (base + 2, 27), (base + 3, 28), (base + 4, 149), (base + 5, 150),
             (base + 6, 271), (base + 7, 275), (base + 8, 283), (base + 9, 286), (script.BARE, 300),
             (script.BARE + 1, 421)]
    figures = script.summarize(_log([(label, insns * 1_000_000) for label, insns in marks]), frames=1)
    assert figures["frames"] == 1
    assert figures["median_minstr"] == {"capture": 10.0, "preprocess": 17.0, "invoke_1": 121.0, "invoke_2": 121.0,
                                        "decode_and_tracker": 6.0, "render": 8.0, "replay_keep": 3.0,
                                        "frame": 286.0}
    assert figures["bare_invoke_minstr"] == 121.0


def test_one_invoke_a_frame_has_no_second_invoke_stage():
    script = _script()
    marks = [(1000, 0), (1001, 10), (1002, 27), (1003, 28), (1004, 149), (1007, 151), (1008, 159)]
    figures = script.summarize(_log([(label, insns * 1_000_000) for label, insns in marks]), frames=1)
    assert "invoke_2" not in figures["median_minstr"] and "replay_keep" not in figures["median_minstr"]
    assert figures["median_minstr"]["frame"] == 159.0  # without the replay's mark, the frame ends at rendering
    assert figures["median_minstr"]["decode_and_tracker"] == 3.0
