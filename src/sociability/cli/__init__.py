"""The ``sociability`` command: a thin layer that parses options, calls the library and renders.

Each command lives in its own module and registers itself on :data:`app`.
"""

from __future__ import annotations

from ._app import app
from . import data, profiles, read, train  # noqa: F401  (registers commands)


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
