# -*- test-case-name: tests.lang.test_words -*-
"""Splitting command lines into pieces and words, as opihi does.

Rules (see pantasks-script(7)):
  - C{"..."} is one word without its quotes; no escapes inside; C{""} is
    an empty word; C{"ab"cd} is two words.
  - a word starting with C{(} runs to the matching C{)} and keeps them.
  - any other word runs to white space (or C{;}, which the line splitter
    has already used).
  - single quotes are ordinary characters.
Unlike the original, C{;} inside double quotes does not split a line.
"""

from __future__ import annotations

from pantasks.lang.errors import ScriptError

WHITESPACE = " \t\n\v\f\r"


def split_pieces(line: str) -> list[str]:
    """Split a line at C{;} outside double quotes; drop empty pieces.

    The original split at every C{;} (a documented defect); a C{;} inside
    C{"..."} now stays part of the word.
    """
    if ";" not in line:
        s = line.strip(WHITESPACE)
        return [s] if s else []
    pieces = []
    start = 0
    inq = False
    for i, c in enumerate(line):
        if c == '"':
            inq = not inq
        elif c == ";" and not inq:
            pieces.append(line[start:i])
            start = i + 1
    pieces.append(line[start:])
    return [p for p in (x.strip(WHITESPACE) for x in pieces) if p]


def split_words(line: str) -> list[str]:
    """Split one command into words (see the module docstring).

    @raise ScriptError: C{misbalanced quotes} or C{misbalanced parenthesis}.
    """
    words = []
    i = 0
    n = len(line)
    while i < n:
        c = line[i]
        if c in WHITESPACE:
            i += 1
            continue
        if c == '"':
            j = line.find('"', i + 1)
            if j < 0:
                raise ScriptError("misbalanced quotes")
            words.append(line[i + 1 : j])
            i = j + 1
        elif c == "(":
            depth = 0
            j = i
            while j < n:
                if line[j] == "(":
                    depth += 1
                elif line[j] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if j >= n:
                raise ScriptError("misbalanced parenthesis")
            words.append(line[i : j + 1])
            i = j + 1
        else:
            j = i
            while j < n and line[j] not in WHITESPACE:
                j += 1
            words.append(line[i:j])
            i = j
    return words


def first_word(line: str) -> str:
    """The first white-space separated word of C{line} (raw, no quote rules)."""
    parts = line.split(None, 1)
    return parts[0] if parts else ""
