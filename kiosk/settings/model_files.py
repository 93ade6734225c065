"""Where the model file is, and whether it is the one the manifest promises.

Order: --model, then $BELTLINE_MODEL, then config `model.path`, then the first manifest
model present in a `models/` folder (the working directory's, then the checkout's).
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from kiosk.core.errors import ModelError
from kiosk.core.files import unreadable

MODEL_ENV_VAR = "BELTLINE_MODEL"
MANIFEST_NAME = "manifest.toml"


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    name: str
    file: str
    url: str
    sha256: str
    input_px: int


PACKAGED_MANIFEST = Path(__file__).resolve().parents[1] / "manifest.toml"
"""models/manifest.toml as installed with the package (in the checkout, a link to it)."""


def models_dirs() -> list[Path]:
    """The folders searched for a default model."""
    checkout = Path(__file__).resolve().parent.parent / "models"
    here = Path.cwd() / "models"
    return [here] if here.resolve() == checkout else [here, checkout]


def read_manifest(path: Path) -> list[ManifestEntry]:
    try:
        with open(path, "rb") as handle:
            table = tomllib.load(handle)
        return [
            ManifestEntry(m["name"], m["file"], m["url"], m["sha256"].lower(), int(m["input_px"]))
            for m in table.get("model", [])
        ]
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as error:
        raise ModelError(f"model manifest {path} cannot be read: {error}") from error


def resolve_model_path(cli_path: str | None, config_path: str) -> Path:
    """The model file to load; raises ModelError naming what was tried."""
    for given in (cli_path, os.environ.get(MODEL_ENV_VAR), config_path):
        if given:
            path = Path(given).expanduser()
            if problem := unreadable(path):
                raise ModelError(f"model file {path} {problem}")
            return path
    tried = []
    for folder in models_dirs():
        manifest = folder / MANIFEST_NAME
        if not manifest.is_file():
            continue
        for entry in read_manifest(manifest):
            candidate = folder / entry.file
            tried.append(str(candidate))
            if candidate.is_file():
                return candidate
    where = ", ".join(tried) if tried else ", ".join(str(d) for d in models_dirs())
    raise ModelError(
        f"no model found (looked in {where}); run scripts/fetch-models, or pass --model or set {MODEL_ENV_VAR}"
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
