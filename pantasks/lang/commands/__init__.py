# -*- test-case-name: tests.lang.test_basic -*-
"""Built-in commands, grouped by theme; importing this registers them all
into L{pantasks.lang.registry.LANGUAGE}."""

from pantasks.lang.commands import basic, data, files, flow, lists, strings  # noqa: F401
