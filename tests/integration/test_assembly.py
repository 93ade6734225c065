"""One assembly: every command and script builds the kiosk through kiosk.app.assembly, and what a
purpose changes is written down in KioskSettings."""

import dataclasses
import subprocess
import sys
import zipfile

import pytest

from kiosk.app.assembly import Purpose, assemble, settings_for, with_mode
from kiosk.flow.group import GroupPipeline
from kiosk.flow.lock import NearestPersonLock
from kiosk.flow.pipeline import PelvisPipeline
from kiosk.settings.config import Config, MirrorAverage, Mode, ModelConfig, PeopleConfig

from conftest import PROJECT
from fakes import GlitchingModel


def test_the_soak_builds_the_kiosk_that_run_builds(model_path):
    import soak

    # Pinned on: "auto" decides from the invoke time measured at start, which a loaded machine moves.
    config = Config(model=ModelConfig(mirror_average=MirrorAverage.ON))
    run = assemble(config, model_path, Purpose.RUN)
    soaked = soak.build_soak_kiosk(config, model_path)
    assert soaked.settings == run.settings
    assert soaked.config == run.config
    assert isinstance(soaked.model, GlitchingModel)  # the one seam the soak wraps
    assert type(soaked.pipeline) is type(run.pipeline) is PelvisPipeline
    assert isinstance(soaked.pipeline.lock, NearestPersonLock) and isinstance(run.pipeline.lock, NearestPersonLock)
    assert soaked.model.invokes_per_frame == run.model.invokes_per_frame == 2
    assert soaked.model.refines_keypoints and run.model.refines_keypoints  # vote decoding, the default
    assert run.settings.supervised and not run.settings.on_demand
    assert run.settings.paced


def test_each_purpose_reads_its_input_as_the_command_does():
    config = Config()
    analyze = settings_for(config, Purpose.ANALYZE)
    assert (analyze.paced, analyze.repeat_stills, analyze.loops, analyze.keep_steps) == (False, False, False, True)
    bench = settings_for(config, Purpose.BENCH)
    assert bench.on_demand and bench.loops and bench.decoder_threads == 1 and not bench.supervised
    run = settings_for(config, Purpose.RUN)
    assert run.loops is None and run.calibrated and not run.keep_steps  # weeks of walks are not all kept
    check = settings_for(config, Purpose.CHECK)
    assert not check.calibrated


def test_calibration_is_always_single_mode_even_when_the_config_says_group():
    group = Config(people=PeopleConfig(mode="group"))
    assert settings_for(group, Purpose.RUN).mode is Mode.GROUP
    assert settings_for(group, Purpose.CALIBRATE).mode is Mode.SINGLE


def test_group_mode_builds_the_group_pipeline(model_path):
    kiosk = assemble(with_mode(Config(), Mode.GROUP), model_path, Purpose.ANALYZE)
    assert isinstance(kiosk.pipeline, GroupPipeline)
    restarted = kiosk.restarted(baseline_deg=2.0)
    assert restarted.pipeline is not kiosk.pipeline and restarted.pipeline.baseline_deg == 2.0
    assert restarted.model is kiosk.model


def test_run_refuses_to_run_unsupervised(model_path):
    kiosk = assemble(Config(), model_path, Purpose.RUN)
    with pytest.raises(ValueError, match="supervised"):
        kiosk.run(source=None, view=None)


def test_the_installed_package_is_the_kiosk_only(tmp_path):
    """The wheel (what `pip install .` installs) carries no test double, harness or script."""
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path),
                             str(PROJECT)], capture_output=True, text=True, check=False, timeout=600)
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("beltline-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    modules = {name for name in names if name.endswith(".py")}
    assert all(name.startswith("kiosk/") for name in modules), modules
    assert not {"kiosk/fakes.py", "kiosk/harness.py"} & modules
    text = "".join(zipfile.ZipFile(wheel).read(name).decode() for name in modules)
    for double in ("class GlitchingModel", "class UnpluggableCamera", "class ScriptedModel", "TruthPhoto"):
        assert double not in text


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings_for(Config(), Purpose.RUN).paced = False  # type: ignore[misc]
