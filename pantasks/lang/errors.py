# -*- test-case-name: tests.lang -*-
"""Exceptions the interpreter turns into one-line user errors.

A command reports a failure either by returning 0 or by raising one of
these; the dispatcher prints the message (with file and line when the
command came from a script) and sets the command's status to 0.  No
exception of this module ever reaches the user as a traceback.
"""


class ScriptError(Exception):
    """A user-visible error: the message is printed as one line."""


class CommandError(ScriptError):
    """A command failed; the message says why (e.g. C{book B not found})."""


class UsageError(CommandError):
    """A command was called with the wrong arguments; the message is its usage."""


class ExprError(ScriptError):
    """An expression could not be evaluated (also triggers the text fallback
    of C{$X = ...} assignments)."""


class RecursionTooDeep(ScriptError):
    """Macro calls nested beyond the interpreter's limit."""
