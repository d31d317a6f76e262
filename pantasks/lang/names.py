# -*- test-case-name: tests.lang.test_names -*-
"""The safe set of characters for task, macro and host names.

These names reach other people verbatim: watchers receive
C{J <jobid> <task> <STATE> [<exit>] <host>} lines, and the log and
C{status} tables print them in columns.  A name with a space could forge
the rest of such a line (C{task "a b EXIT 0 fakehost"}), one with escape
codes could rewrite a watcher's terminal, and an empty name shifts every
field.  So names are restricted to ASCII letters, digits and C{. _ - : + @}
-- every name in the IPP's own scripts (C{chip.imfile.load},
C{set.host.for.camera}, C{ipp004}, C{user@host}) fits -- and to
L{MAX_NAME} characters.
"""

from __future__ import annotations

import re

from pantasks.lang.errors import ScriptError
from pantasks.lang.text import quote

#: The longest name accepted.
MAX_NAME = 128

#: The characters allowed, as documented in pantasks-script(7).
SAFE_CHARACTERS = "letters, digits and . _ - : + @"

_SAFE = re.compile(r"[A-Za-z0-9._:+@-]+", re.ASCII)


def is_safe_name(name: str) -> bool:
    """True when C{name} is non-empty, at most L{MAX_NAME} characters and
    made only of the safe characters."""
    return len(name) <= MAX_NAME and _SAFE.fullmatch(name) is not None


def check_name(kind: str, name: str) -> str:
    """C{name} when it is safe (see L{is_safe_name}).

    @param kind: what is being named (C{task}, C{macro}, C{host}), for the
        message.
    @raise ScriptError: one line naming the problem, with the name shown
        escaped and cut.
    """
    if is_safe_name(name):
        return name
    if not name:
        raise ScriptError(f"invalid {kind} name: the name is empty")
    if len(name) > MAX_NAME:
        raise ScriptError(f"invalid {kind} name '{quote(name)}': longer than {MAX_NAME} characters")
    raise ScriptError(f"invalid {kind} name '{quote(name)}': use only {SAFE_CHARACTERS}")
