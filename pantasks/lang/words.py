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

Lines may be a megabyte long (generated scripts, binary junk), so the
scanners below work with C{str.find} and compiled patterns rather than
a Python loop per character.
"""

from __future__ import annotations

import re

from pantasks.lang.errors import ScriptError

#: The C{isspace} characters of the C locale: what separates words.
WHITESPACE = " \t\n\v\f\r"

_PLAIN_WORD = re.compile(r"[^ \t\n\v\f\r]+")
_SKIP_SPACE = re.compile(r"[ \t\n\v\f\r]*")
_PARENS = re.compile(r"[()]")


def split_pieces(line: str) -> list[str]:
    """Split a line at C{;} outside double quotes; drop empty pieces.

    The original split at every C{;} (a documented defect); a C{;} inside
    C{"..."} now stays part of the word.  An unbalanced quote leaves the
    rest of the line in one piece, where word splitting reports it.

    @param line: one raw script line.
    @return: the stripped, non-empty pieces in order.
    """
    if ";" not in line:
        s = line.strip(WHITESPACE)
        return [s] if s else []
    if '"' not in line:
        parts = line.split(";")
    else:
        parts = []
        start = 0
        pos = 0
        n = len(line)
        while pos < n:
            semi = line.find(";", pos)
            quote = line.find('"', pos)
            if semi < 0:
                break
            if 0 <= quote < semi:
                close = line.find('"', quote + 1)
                if close < 0:
                    break
                pos = close + 1
                continue
            parts.append(line[start:semi])
            start = pos = semi + 1
        parts.append(line[start:])
    return [p for p in (x.strip(WHITESPACE) for x in parts) if p]


def split_words(line: str) -> list[str]:
    """Split one command into words (see the module docstring).

    @param line: one piece, already expanded.
    @return: the words, quotes removed, parentheses kept.
    @raise ScriptError: C{misbalanced quotes} or C{misbalanced parenthesis}.
    """
    if '"' not in line and "(" not in line:
        return _PLAIN_WORD.findall(line)
    words = []
    i = 0
    n = len(line)
    skip = _SKIP_SPACE.match
    plain = _PLAIN_WORD.match
    while True:
        i = skip(line, i).end()
        if i >= n:
            return words
        c = line[i]
        if c == '"':
            j = line.find('"', i + 1)
            if j < 0:
                raise ScriptError("misbalanced quotes")
            words.append(line[i + 1 : j])
            i = j + 1
        elif c == "(":
            depth = 0
            for m in _PARENS.finditer(line, i):
                if m.group() == "(":
                    depth += 1
                else:
                    depth -= 1
                    if depth == 0:
                        j = m.start()
                        break
            else:
                raise ScriptError("misbalanced parenthesis")
            words.append(line[i : j + 1])
            i = j + 1
        else:
            m = plain(line, i)
            end = m.end()
            words.append(line[i:end])
            i = end


def first_word(line: str) -> str:
    """The first white-space separated word of C{line} (raw, no quote rules).

    @param line: any text.
    @return: the word, or an empty string.
    """
    parts = line.split(None, 1)
    return parts[0] if parts else ""
