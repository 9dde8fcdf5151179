"""Shared fixtures: paths to the hand-written feed files and to ../shared when present."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
PROJECT = Path(__file__).resolve().parent.parent
SHARED_REAL = PROJECT.parent / "shared" / "real"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def shared_real() -> Path:
    if not (SHARED_REAL / "dev.jsonl").is_file():
        pytest.skip("../shared/real is absent (a user's clone has none)")
    return SHARED_REAL
