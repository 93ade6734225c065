"""scripts/fetch-models against file:// URLs (no network here): the real model, a good and a bad sum."""

import subprocess
import sys

from kiosk.settings.model_files import read_manifest, sha256_of

from conftest import PROJECT

SCRIPT = PROJECT / "scripts" / "fetch-models"


def _manifest(tmp_path, url: str, sha256: str) -> str:
    text = (
        "[[model]]\n"
        'name = "movenet-lightning-int8"\n'
        'file = "lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite"\n'
        f'url = "{url}"\n'
        f'sha256 = "{sha256}"\n'
        "input_px = 192\n"
    )
    path = tmp_path / "manifest.toml"
    path.write_text(text)
    return str(path)


def _fetch(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], check=False, capture_output=True, text=True,
                          timeout=120)


def test_the_shipped_manifest_names_the_shared_model(model_path):
    entries = read_manifest(PROJECT / "models" / "manifest.toml")
    assert entries[0].file == model_path.name
    assert entries[0].sha256 == sha256_of(model_path)
    assert entries[0].url.startswith("https://")
    assert entries[0].input_px == 192


def test_download_is_verified_and_kept(tmp_path, model_path):
    want = sha256_of(model_path)
    dest = tmp_path / "models"
    result = _fetch("--manifest", _manifest(tmp_path, model_path.as_uri(), want), "--dest", str(dest))
    assert result.returncode == 0, result.stderr
    fetched = dest / model_path.name
    assert sha256_of(fetched) == want
    again = _fetch("--manifest", _manifest(tmp_path, model_path.as_uri(), want), "--dest", str(dest))
    assert again.returncode == 0 and "already present" in again.stdout


def test_a_wrong_checksum_is_refused_and_nothing_is_left(tmp_path, model_path):
    dest = tmp_path / "models"
    result = _fetch("--manifest", _manifest(tmp_path, model_path.as_uri(), "0" * 64), "--dest", str(dest))
    assert result.returncode == 1
    assert "does not match" in result.stderr
    assert list(dest.iterdir()) == []


def test_an_unreachable_url_fails_with_advice(tmp_path):
    dest = tmp_path / "models"
    manifest = _manifest(tmp_path, (tmp_path / "absent.tflite").as_uri(), "0" * 64)
    result = _fetch("--manifest", manifest, "--dest", str(dest))
    assert result.returncode == 1
    assert "FAIL movenet-lightning-int8" in result.stderr
    assert list(dest.iterdir()) == []
