import shutil

import pytest

from kiosk.core.errors import ModelError
from kiosk.settings import model_files
from kiosk.settings.model_files import MODEL_ENV_VAR, resolve_model_path

from conftest import PROJECT


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(PROJECT / "models" / "manifest.toml", folder / "manifest.toml")
    monkeypatch.setattr(model_files, "models_dirs", lambda: [folder])
    monkeypatch.delenv(MODEL_ENV_VAR, raising=False)
    return folder


def test_without_any_model_the_error_says_where_it_looked_and_what_to_do(models_dir):
    with pytest.raises(ModelError) as caught:
        resolve_model_path(None, "")
    assert str(models_dir) in str(caught.value)
    assert "fetch-models" in str(caught.value)


def test_the_manifest_model_in_models_is_the_default(models_dir, model_path):
    (models_dir / model_path.name).symlink_to(model_path)
    assert resolve_model_path(None, "") == models_dir / model_path.name


def test_cli_beats_environment_beats_config(models_dir, model_path, tmp_path, monkeypatch):
    other = tmp_path / "other.tflite"
    other.write_bytes(b"x")
    monkeypatch.setenv(MODEL_ENV_VAR, str(other))
    assert resolve_model_path(str(model_path), "/config.tflite") == model_path
    assert resolve_model_path(None, "/config.tflite") == other
    monkeypatch.delenv(MODEL_ENV_VAR)
    assert resolve_model_path(None, str(model_path)) == model_path


def test_a_named_model_that_is_missing_is_not_silently_replaced(models_dir, model_path, tmp_path):
    (models_dir / model_path.name).symlink_to(model_path)
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model_path(str(tmp_path / "typo.tflite"), "")
