# -*- test-case-name: tests.lang.test_queues -*-
"""Named FIFO queues of text lines, the data behind the C{queue*} commands.

Scripts use queues for the output of shell commands (C{queueload}), for a
job's captured C{stdout}/C{stderr} in its exit macro, and as the input of
C{ipptool2book}.  This module is pure data: no I/O, no printing.

Keys: several commands select lines by a I{key}, a list of 0-based word
indexes joined by C{:} (C{"0:1"}).  The key text of a line is the selected
words (split by the opihi word rules) joined by C{:}; a missing word gives
an empty piece, index C{-1} means the whole line.
"""

from __future__ import annotations

from array import array
from collections import deque
from typing import Generator, Iterator, Optional

from pantasks.lang.errors import UsageError
from pantasks.lang.numbers import LONG_MAX, LONG_MIN, int_of_digits
from pantasks.lang.chunks import chunked, finish

#: Characters that separate words (the opihi set).
WHITESPACE = " \t\n\v\f\r"


def split_push_text(text: str) -> list[str]:
    """Split C{text} into the lines a push adds.

    The text is split at every newline; a trailing empty piece is dropped
    but empty inner lines are kept (C{"a\\n\\nb\\n"} gives C{a}, C{""},
    C{b}; C{"\\n"} gives one empty line; C{""} gives nothing).
    """
    pieces = text.split("\n")
    if pieces[-1] == "":
        pieces.pop()
    return pieces


def iter_word_spans(line: str) -> Iterator[tuple[str, int]]:
    """Yield C{(word, end)} for each word of C{line}, lazily, by the rules
    of L{pantasks.lang.words.split_words}; C{end} is the index just after
    the word (after the closing quote or parenthesis).

    Unlike C{split_words}, a misbalanced quote or parenthesis only stops
    the iteration when that word is reached (the words before it are still
    produced): a key or a value taken from an early word of a data line
    must not fail because of junk later on the line.  The iteration then
    raises C{ValueError} with C{misbalanced quotes} or
    C{misbalanced parenthesis}.
    """
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
                raise ValueError("misbalanced quotes")
            yield line[i + 1 : j], j + 1
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
                raise ValueError("misbalanced parenthesis")
            yield line[i : j + 1], j + 1
            i = j + 1
        else:
            j = i
            while j < n and line[j] not in WHITESPACE:
                j += 1
            yield line[i:j], j
            i = j


def iter_words(line: str) -> Iterator[str]:
    """Yield the words of C{line} lazily (see L{iter_word_spans})."""
    for word, _ in iter_word_spans(line):
        yield word


def nth_word(line: str, index: int) -> Optional[str]:
    """The word number C{index} (0-based) of C{line}, or None.

    None when the line has fewer words or the word is misbalanced.
    """
    try:
        for k, word in enumerate(iter_words(line)):
            if k == index:
                return word
    except ValueError:
        return None
    return None


def c_atoi(text: str, usage: Optional[str] = None) -> int:
    """C{atoi}: optional white space and sign, then digits; junk ends the
    number and no digits give 0.

    @param usage: when given, a number beyond a C long is this usage error.
    """
    s = text.lstrip(WHITESPACE)
    sign = 1
    if s[:1] in ("+", "-"):
        if s[0] == "-":
            sign = -1
        s = s[1:]
    k = 0
    while k < len(s) and s[k].isdigit() and s[k].isascii():
        k += 1
    value = sign * int_of_digits(s[:k]) if k else 0
    if usage is not None and not LONG_MIN <= value <= LONG_MAX:
        raise UsageError(usage)
    return value


def parse_key(keylist: str) -> list[int]:
    """The word indexes of a key list such as C{"0:1"} (C{atoi} each)."""
    return [c_atoi(part) for part in keylist.split(":")]


def line_key(line: str, keylist: Optional[str]) -> str:
    """The key text of C{line} for C{keylist} (see the module docstring).

    With C{keylist} None the key is the whole line.  An index of C{-1}
    selects the whole line, any other negative index the first word.
    """
    if keylist is None:
        return line
    return _key_for(line, parse_key(keylist))


def _key_for(line: str, indexes: list[int]) -> str:
    parts = []
    for k in indexes:
        if k == -1:
            parts.append(line)
            continue
        word = nth_word(line, max(k, 0))
        parts.append("" if word is None else word)
    return ":".join(parts)


class Queue:
    """A named FIFO of lines.

    @ivar name: the queue name.
    @ivar lines: the lines, oldest first (a C{deque}: popping from the
        front of a long queue is O(1)).
    """

    def __init__(self, name: str, lines: Optional[list[str]] = None) -> None:
        self.name = name
        self.lines: deque[str] = deque(lines or ())
        #: Where the lines came from (set by C{queueload}), for messages
        #: that must name a file and line; None when unknown.
        self.origin: Optional[str] = None
        # the origin's line number of each line loaded from it, and how many
        # of those lines have been removed from the front since
        self._numbers: Optional[array] = None
        self._popped = 0

    def set_origin(self, origin: str, numbers: array) -> None:
        """Say that the queue's lines (all of them) came from C{origin},
        line C{numbers[i]} for line C{i}."""
        self.origin = origin
        self._numbers = numbers
        self._popped = 0

    def forget_origin(self) -> None:
        """Lines were removed or reordered: line numbers no longer hold."""
        self.origin = None
        self._numbers = None
        self._popped = 0

    def popped(self, count: int) -> None:
        """C{count} lines were removed from the front (by a caller using
        C{lines.popleft} directly)."""
        self._popped += count

    def mark(self) -> int:
        """The position of the first line, for L{place_at}: how many lines
        were removed from the front since the queue was last emptied."""
        return self._popped

    def place_at(self, position: int) -> str:
        """Where the line at C{position} (see L{mark}) came from, for a
        message: C{FILE line N} or C{line N of the output of "CMD"} when the
        queue was loaded by C{queueload}, else C{line N of queue Q}."""
        numbers = self._numbers
        if self.origin is not None and numbers is not None and 0 <= position < len(numbers):
            return self.origin.replace("{line}", str(numbers[position]))
        return f"line {position + 1} of queue {self.name}"

    def __repr__(self) -> str:
        return f"<Queue {self.name!r} {len(self.lines)} lines>"

    def __len__(self) -> int:
        return len(self.lines)

    def __iter__(self) -> Iterator[str]:
        return iter(self.lines)

    def clear(self) -> None:
        """Remove every line."""
        self.lines.clear()
        self.forget_origin()

    def append_line(self, line: str) -> None:
        """Append one line as it is (no newline splitting)."""
        self.lines.append(line)

    def push(self, text: str) -> None:
        """Append the lines of C{text} (see L{split_push_text})."""
        self.lines.extend(split_push_text(text))

    def push_unique(self, text: str, keylist: Optional[str] = None) -> None:
        """Append each line of C{text} unless a line already in the queue
        (including one just added from C{text}) has the same key."""
        finish(self.push_unique_steps(text, keylist))

    def push_unique_steps(
        self, text: str, keylist: Optional[str] = None
    ) -> Generator[None, None, None]:
        """L{push_unique}, reading the queue's keys in chunks (yielding
        between them); the queue changes only at the end.

        @raise QueueChanged: someone else changed the queue meanwhile.
        """
        indexes = None if keylist is None else parse_key(keylist)
        snapshot = _Snapshot(self)
        seen: set[str] = set()
        for part in chunked(snapshot.lines):
            seen.update(self._key(old, indexes) for old in part)
            yield
        snapshot.check()
        for line in split_push_text(text):
            key = self._key(line, indexes)
            if key not in seen:
                seen.add(key)
                self.lines.append(line)

    def push_replace(self, text: str, keylist: Optional[str] = None) -> None:
        """For each line of C{text}: overwrite the first queue line with the
        same key, or append it when there is none."""
        finish(self.push_replace_steps(text, keylist))

    def push_replace_steps(
        self, text: str, keylist: Optional[str] = None
    ) -> Generator[None, None, None]:
        """L{push_replace}, reading the queue's keys in chunks (yielding
        between them); the queue changes only at the end.

        @raise QueueChanged: someone else changed the queue meanwhile.
        """
        indexes = None if keylist is None else parse_key(keylist)
        snapshot = _Snapshot(self)
        first: dict[str, int] = {}
        i = 0
        for part in chunked(snapshot.lines):
            for old in part:
                first.setdefault(self._key(old, indexes), i)
                i += 1
            yield
        snapshot.check()
        for line in split_push_text(text):
            key = self._key(line, indexes)
            where = first.get(key)
            if where is None:
                first[key] = len(self.lines)
                self.lines.append(line)
            else:
                self.lines[where] = line

    def pop(self) -> Optional[str]:
        """Remove and return the first line, or None when empty."""
        if not self.lines:
            return None
        self._popped += 1
        return self.lines.popleft()

    def pop_match(self, keylist: str, value: str) -> Optional[str]:
        """Remove and return the first line whose key equals C{value}."""
        return finish(self.pop_match_steps(keylist, value))

    def pop_match_steps(self, keylist: str, value: str) -> Generator[None, None, Optional[str]]:
        """L{pop_match}, looking in chunks (yielding between them).

        @raise QueueChanged: someone else changed the queue meanwhile.
        """
        indexes = parse_key(keylist)
        snapshot = _Snapshot(self)
        i = 0
        for part in chunked(snapshot.lines):
            for line in part:
                if _key_for(line, indexes) == value:
                    snapshot.check()
                    del self.lines[i]
                    self.forget_origin()
                    return line
                i += 1
            yield
        return None

    def drop(self, keylist: str, value: str) -> int:
        """Remove every line whose key equals C{value}; return how many."""
        return finish(self.drop_steps(keylist, value))

    def drop_steps(self, keylist: str, value: str) -> Generator[None, None, int]:
        """L{drop}, yielding after every L{CHUNK} lines (see
        L{pantasks.lang.chunks}); the queue changes only at the end.

        @raise QueueChanged: someone else changed the queue meanwhile.
        """
        indexes = parse_key(keylist)
        snapshot = _Snapshot(self)
        kept: list[str] = []
        for part in chunked(snapshot.lines):
            kept.extend(line for line in part if _key_for(line, indexes) != value)
            yield
        dropped = len(snapshot.lines) - len(kept)
        if dropped:
            snapshot.check()
            self.lines = deque(kept)
            self.forget_origin()
        return dropped

    #: Upper bound on replacement passes per line in L{substr}.
    MAX_SUBSTR_PASSES = 1000

    def substr(self, match: str, replace: str, max_line: Optional[int] = None) -> None:
        """L{substr_steps} in one go."""
        finish(self.substr_steps(match, replace, max_line))

    def substr_steps(
        self, match: str, replace: str, max_line: Optional[int] = None
    ) -> Generator[None, None, None]:
        """Replace every occurrence of C{match} by C{replace} in every line,
        repeating while the line still contains C{match}; yields after
        every L{CHUNK} lines, and changes the queue only at the end.

        The original repeated without bound, so a C{replace} containing
        C{match} (or an empty C{match}) hung the program.  Here an empty
        C{match} changes nothing, a C{replace} containing C{match} gets a
        single pass, and any line gets at most L{MAX_SUBSTR_PASSES} passes.

        @param max_line: the longest line allowed (C{[limits] max_value});
            a pass that would make a longer one is refused before it is
            made, and the queue is then left as it was.
        @raise ScriptError: a line would be longer than C{max_line}.
        @raise QueueChanged: someone else changed the queue meanwhile.
        """
        if not match:
            return
        passes = 1 if match in replace else self.MAX_SUBSTR_PASSES
        grow = len(replace) - len(match)
        snapshot = _Snapshot(self)
        out: list[str] = []
        for part in chunked(snapshot.lines):
            for line in part:
                n = 0
                while match in line and n < passes:
                    if max_line is not None and grow > 0 and \
                            len(line) + line.count(match) * grow > max_line:
                        from pantasks.lang.policy import value_too_long

                        raise value_too_long(f"queue {self.name}",
                                             len(line) + line.count(match) * grow, max_line)
                    line = line.replace(match, replace)
                    n += 1
                out.append(line)
            yield
        snapshot.check()
        self.lines = deque(out)

    @staticmethod
    def _key(line: str, indexes: Optional[list[int]]) -> str:
        return line if indexes is None else _key_for(line, indexes)


class QueueChanged(Exception):
    """A queue was changed by someone else while a chunked edit of it ran
    (the edit is dropped, the queue keeps the other change)."""


class _Snapshot:
    """The lines of a queue when an edit began, and a check that nobody
    changed the queue since (same deque, same length, same first and last
    line objects)."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue
        self.deque = queue.lines
        self.lines = list(queue.lines)
        self.ends = (self.lines[0], self.lines[-1]) if self.lines else None

    def check(self) -> None:
        dq = self.queue.lines
        ends = (dq[0], dq[-1]) if dq else None
        same = (
            dq is self.deque
            and len(dq) == len(self.lines)
            and (ends is None or (ends[0] is self.ends[0] and ends[1] is self.ends[1]))
        )
        if not same:
            raise QueueChanged(self.queue.name)
