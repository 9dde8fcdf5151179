"""Finding and reading the TOML files in ``configs/``: the single source of truth for settings."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from .errors import SociabilityError

PACKAGE_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_ROOT.parent.parent


def configs_dir() -> Path:
    """Where the shipped configs live: ``$SOCIABILITY_CONFIGS``, else the project's ``configs/``."""
    override = os.environ.get("SOCIABILITY_CONFIGS")
    return Path(override) if override else PROJECT_ROOT / "configs"


def config_path(name_or_path: str | Path) -> Path:
    """A config given by path, or by file name inside :func:`configs_dir`."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = configs_dir() / path.name
    if shipped.is_file():
        return shipped
    raise SociabilityError(f"{name_or_path}: config file not found (looked here and in {configs_dir()})")


def load_toml(name_or_path: str | Path) -> dict[str, Any]:
    """Parse a TOML config, with a one-line error naming the file and line on a syntax error."""
    path = config_path(name_or_path)
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise SociabilityError(f"{path}: invalid TOML: {exc}") from None
