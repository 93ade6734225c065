import pytest

from kiosk.core.errors import ConfigError
from kiosk.settings.config import Config
from kiosk.settings.config_file import config_from_table, load_config


def test_no_file_gives_the_defaults():
    config = load_config(None)
    assert config == Config()
    assert config.display.fullscreen is True
    assert config.pelvis.tolerance_deg == 5.0


def test_values_are_read_and_typed(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[pelvis]\ntolerance_deg = 4\n[display]\nrotation = 90\n[model]\npath = "/x.tflite"\nthreads = 4\n')
    config = load_config(path)
    assert config.pelvis.tolerance_deg == 4.0
    assert isinstance(config.pelvis.tolerance_deg, float)
    assert config.display.rotation == 90
    assert config.model.path == "/x.tflite"
    assert config.model.threads == 4
    # untouched sections keep their defaults
    assert config.source == Config().source


@pytest.mark.parametrize(
    "text, names",
    [
        ("[display]\nrotaton = 90\n", "display.rotaton"),
        ("[dispaly]\nrotation = 90\n", "[dispaly]"),
        ("[display]\nrotation = 45\n", "display.rotation"),
        ('[display]\nfullscreen = "yes"\n', "display.fullscreen"),
        ("[model]\nthreads = 2.5\n", "model.threads"),
        ('[model]\nruntime = "onnx"\n', "model.runtime"),
        ("[pelvis]\ntolerance_deg = -1\n", "pelvis.tolerance_deg"),
        ("[pelvis]\nmin_hip_score = 1.5\n", "pelvis.min_hip_score"),
        ("[source]\nfps = 0\n", "source.fps"),
        ("display = 3\n", "display"),
    ],
)
def test_bad_keys_and_values_are_named(tmp_path, text, names):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert names in message
    assert "\n" not in message


def test_invalid_toml_is_reported_with_the_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[display\nrotation = 90\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_booleans_are_not_numbers():
    with pytest.raises(ConfigError, match=r"pelvis\.smoothing_s"):
        config_from_table({"pelvis": {"smoothing_s": True}})


def test_overrides_are_checked_like_the_file():
    from kiosk.settings.config import MirrorAverage
    from kiosk.settings.config_file import with_overrides

    config = with_overrides(Config(), ["model.refine_radius=1", "model.mirror_average=true", "people.mode=group"])
    assert config.model.refine_radius == 1 and config.model.mirror_average is MirrorAverage.ON
    assert config.people.mode == "group" and config.pelvis == Config().pelvis
    with pytest.raises(ConfigError, match=r"model\.refine_radius"):
        with_overrides(Config(), ["model.refine_radius=9"])
    with pytest.raises(ConfigError, match=r"not SECTION\.KEY=VALUE"):
        with_overrides(Config(), ["refine_radius"])


@pytest.mark.parametrize("line", ["[model]\nupright_crop = true", "[model]\ncrop_smoothing = 0.5",
                                  "[model]\nrefine_weight = \"softmax\"", "[model]\nrefine_offset_share = 0.5",
                                  "[model]\nrefine_keypoints = false", "[pelvis]\ntilt_filter = \"ema\"",
                                  "[model]\nmirror_average = false"])
def test_a_removed_setting_is_refused_by_name_with_where_its_measurement_is(tmp_path, line):
    from kiosk.settings.config_file import load_config

    path = tmp_path / "config.toml"
    path.write_text(line + "\n")
    key = line.split("\n")[1].split(" =")[0]
    with pytest.raises(ConfigError, match=rf"\.{key}.*was removed: .*docs/decisions\.md"):
        load_config(path)


def test_mirror_average_still_takes_true_for_on():
    from kiosk.settings.config import MirrorAverage
    from kiosk.settings.config_file import config_from_table

    assert config_from_table({"model": {"mirror_average": True}}).model.mirror_average is MirrorAverage.ON
    with pytest.raises(ConfigError, match=r"must be one of true, auto, alternate"):
        config_from_table({"model": {"mirror_average": "off"}})
