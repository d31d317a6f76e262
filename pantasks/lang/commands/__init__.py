# -*- test-case-name: tests.lang.test_basic -*-
"""Built-in commands, grouped by theme; importing this registers them all."""

from pantasks.lang.commands import basic, flow  # noqa: F401

for _name in ("strings", "files", "lists", "data"):
    try:
        __import__(f"pantasks.lang.commands.{_name}")
    except ImportError as _e:  # a module still being written
        if _e.name != f"pantasks.lang.commands.{_name}":
            raise
