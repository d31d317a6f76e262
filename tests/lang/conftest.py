"""Fixtures for the tests that call language commands on a fake
interpreter (L{tests.lang.fakes}); a module may override C{interp}."""

from __future__ import annotations

import pytest

from pantasks.lang.context import CollectingSink, Context

from tests.lang.fakes import FakeInterp


@pytest.fixture
def interp() -> FakeInterp:
    return FakeInterp()


@pytest.fixture
def ctx(interp: FakeInterp) -> Context:
    return Context(interp, sink=CollectingSink())
