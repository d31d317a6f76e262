# -*- test-case-name: tests.lang.test_args -*-
"""Helpers for the option style of opihi commands.

Options such as C{-var V} may appear anywhere on the command line; the
original removed them from argv before looking at the positional words.
"""

from __future__ import annotations

from pantasks.lang.errors import UsageError


def take_flag(argv: list[str], *names: str) -> bool:
    """Remove every occurrence of any of C{names} from C{argv}; True if found."""
    found = False
    i = 1
    while i < len(argv):
        if argv[i] in names:
            del argv[i]
            found = True
        else:
            i += 1
    return found


def take_value(argv: list[str], name: str, usage: str = "", count: int = 1):
    """Remove C{name} and the C{count} words after it from C{argv}.

    @return: None when the option is absent, the word when C{count} is 1,
        else a list of C{count} words.
    @raise UsageError: the option is present but its values are missing.
    """
    for i in range(1, len(argv)):
        if argv[i] == name:
            if len(argv) - 1 - i < count:
                raise UsageError(usage or f"missing value for {name}")
            values = argv[i + 1 : i + 1 + count]
            del argv[i : i + 1 + count]
            return values[0] if count == 1 else values
    return None


def take_values(argv: list[str], name: str, usage: str = "") -> list[str]:
    """Remove every C{name VALUE} pair; return the values in order."""
    values = []
    while True:
        v = take_value(argv, name, usage)
        if v is None:
            return values
        values.append(v)
