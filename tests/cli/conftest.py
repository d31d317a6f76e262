"""Fixtures of the client's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import make_env


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment the client runs in (see L{make_env})."""
    return make_env(tmp_path)
