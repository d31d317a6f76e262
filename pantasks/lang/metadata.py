# -*- test-case-name: tests.lang.test_metadata -*-
"""The MULTI/METADATA ("MDC") text format, and the C{queue2book} engine.

ippTools print their results in this format and the C{ipphosts.*.config}
files are written in it by hand::

    chipPendingImfile MULTI

    chipPendingImfile  METADATA
       chip_id          S64       12345
       uri              STR       neb://any/a b.fits    # a comment
       label            STR       NULL
    END

Two readers live here, because they must behave differently:

  - L{parse_metadata} is a standalone parser with typed values (the psLib
    reader's rules: C{name TYPE value [# comment]}, nested C{METADATA} ...
    C{END} blocks, C{name MULTI} for repeated names, C{TYPE} templates,
    C{@vector} items).  A C{"quoted"} value keeps its spaces (and any
    C{#}); an unquoted value runs to the first C{#}.
    L{format_metadata} writes the same format back.
  - L{queue_to_book} is what the C{queue2book}/C{ipptool2book} commands
    do: consume the lines of a queue into the pages of a book, ignoring the
    TYPE column and storing every value as a string, with the original
    command's messages and quirks (see its docstring).
"""

from __future__ import annotations

import re
import struct
import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Generator, Iterable, Iterator, Optional

from pantasks.lang.books import Book, Page
from pantasks.lang.chunks import CHUNK, SETTLE_OBJECTS, finish, settle
from pantasks.lang.queues import WHITESPACE, Queue, iter_word_spans

# ---------------------------------------------------------------------------
# the standalone parser
# ---------------------------------------------------------------------------

#: Integer types: name -> (bits, signed).
INT_TYPES = {
    "S8": (8, True),
    "S16": (16, True),
    "S32": (32, True),
    "S64": (64, True),
    "U8": (8, False),
    "U16": (16, False),
    "U32": (32, False),
    "U64": (64, False),
}
#: Floating point types.
FLOAT_TYPES = ("F32", "F64")
#: Time types (value: ISO 8601 text, or NULL).
TIME_TYPES = ("UTC", "TAI", "UT1", "TT")
#: All scalar types.
SCALAR_TYPES = ("STR", "BOOL", *INT_TYPES, *FLOAT_TYPES, *TIME_TYPES)

_C_FLOAT = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)\Z", re.IGNORECASE
)
_TYPE_TOKEN = re.compile(r"([^ #]*)(.*)\Z", re.DOTALL)
_C_INT = re.compile(r"([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\Z")


class MetadataError(ValueError):
    """A line of MDC text could not be parsed.

    @ivar lineno: the 1-based line number, or None.
    @ivar message: the message without the line number.
    """

    def __init__(self, message: str, lineno: Optional[int] = None) -> None:
        self.message = message
        self.lineno = lineno
        super().__init__(f"line {lineno}: {message}" if lineno else message)


@dataclass
class MetadataItem:
    """One named value.

    @ivar type: C{STR}, C{BOOL}, C{S8}...C{U64}, C{F32}, C{F64}, a time
        type (C{UTC}, C{TAI}, C{UT1}, C{TT}), C{VECTOR}, C{METADATA} (the
        value is a nested L{Metadata}; also for C{TYPE} template values) or
        C{MULTI} (the value is a list of L{MetadataItem}s of that name).
    @ivar value: the typed value: C{str} or None (C{NULL}) for C{STR},
        C{bool}, C{int}, C{float}, C{datetime} or None, a list of numbers
        for vectors.
    @ivar text: the value as written (None for C{METADATA} and C{MULTI}).
    @ivar elem_type: the element type of a C{VECTOR}.
    """

    name: str
    type: str
    value: Any
    comment: str = ""
    text: Optional[str] = None
    elem_type: Optional[str] = None


class Metadata:
    """An ordered set of named items; a C{MULTI} name holds several."""

    def __init__(self) -> None:
        self._items: dict[str, MetadataItem] = {}

    def __repr__(self) -> str:
        return f"<Metadata {list(self._items)}>"

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __getitem__(self, name: str) -> Any:
        item = self._items[name]
        if item.type == "MULTI":
            return [i.value for i in item.value]
        return item.value

    def get(self, name: str, default: Any = None) -> Any:
        """The value of C{name} (a list of values for a C{MULTI} name)."""
        return self[name] if name in self._items else default

    def item(self, name: str) -> Optional[MetadataItem]:
        """The item C{name} (for a C{MULTI}, the item holding the list)."""
        return self._items.get(name)

    def items(self) -> list[tuple[str, MetadataItem]]:
        """The (name, item) pairs in order."""
        return list(self._items.items())

    def getall(self, name: str) -> list[MetadataItem]:
        """Every item named C{name}: the members of a C{MULTI}, else a list
        of zero or one item."""
        item = self._items.get(name)
        if item is None:
            return []
        return list(item.value) if item.type == "MULTI" else [item]

    def declare_multi(self, name: str) -> None:
        """Allow C{name} to be repeated (C{name MULTI})."""
        old = self._items.get(name)
        if old is not None and old.type == "MULTI":
            raise MetadataError("Duplicate MULTI specifier.")
        members = [] if old is None else [old]
        self._items[name] = MetadataItem(name, "MULTI", members)

    def add(self, item: MetadataItem, overwrite: bool = False) -> None:
        """Add C{item}: appended to a C{MULTI} of its name, else stored
        under its name.

        @raise MetadataError: the name exists and C{overwrite} is false.
        """
        old = self._items.get(item.name)
        if old is not None and old.type == "MULTI":
            old.value.append(item)
        elif old is not None and not overwrite:
            raise MetadataError(f"Duplicate Metadata item, {item.name}, found.")
        else:
            self._items[item.name] = item

    def to_python(self) -> dict[str, Any]:
        """Plain nested dicts and lists of the typed values."""

        def conv(item: MetadataItem) -> Any:
            if item.type == "METADATA":
                return item.value.to_python()
            if item.type == "MULTI":
                return [conv(i) for i in item.value]
            return item.value

        return {name: conv(item) for name, item in self._items.items()}


def _c_int(text: str, bits: int, signed: bool) -> int:
    """C{strtol(text, 0)} on the whole text, cast to a C{bits} integer."""
    m = _C_INT.match(text)
    if not m:
        raise ValueError(text)
    digits = m.group(2)
    if digits[:2] in ("0x", "0X"):
        v = int(digits[2:], 16)
    elif len(digits) > 1 and digits[0] == "0":
        v = int(digits[1:], 8)
    else:
        v = int(digits)
    if m.group(1) == "-":
        v = -v
    v &= (1 << bits) - 1
    if signed and v >= 1 << (bits - 1):
        v -= 1 << bits
    return v


def _c_float(text: str, single: bool) -> float:
    if not _C_FLOAT.match(text):
        raise ValueError(text)
    v = float(text)
    if single:
        v = struct.unpack("f", struct.pack("f", v))[0]
    return v


def _c_bool(text: str) -> bool:
    low = text.lower()
    if low in ("t", "1", "true"):
        return True
    if low in ("f", "0", "false"):
        return False
    raise ValueError(text)


def _iso_time(text: str) -> Optional[datetime]:
    if text == "NULL":
        return None
    return datetime.fromisoformat(text)


def convert_value(type_: str, text: str, quoted: bool = False) -> Any:
    """The typed value of C{text} for the scalar type C{type_}.

    @param quoted: the text came from a C{"quoted"} value: a C{STR} keeps
        it as it is, even C{NULL}.
    @raise ValueError: C{text} is not a valid value of that type.
    """
    if type_ == "STR":
        if not quoted and text.lower() == "null":
            return None
        return text
    if type_ == "BOOL":
        return _c_bool(text)
    if type_ in INT_TYPES:
        return _c_int(text, *INT_TYPES[type_])
    if type_ in FLOAT_TYPES:
        return _c_float(text, type_ == "F32")
    if type_ in TIME_TYPES:
        return _iso_time(text)
    raise ValueError(f"unknown type {type_}")


def _vector(elem_type: str, text: str) -> list:
    out: list = []
    for tok in re.split(r"[, ]+", text.strip()):
        if not tok:
            continue
        v = _c_float(tok, elem_type == "F32")
        if elem_type in INT_TYPES:
            bits, signed = INT_TYPES[elem_type]
            out.append(_c_int(str(int(v)), bits, signed))
        else:
            out.append(v)
    return out


def _split_value(rest: str) -> tuple[str, str, bool]:
    """Split the text after the type into (value, comment, quoted)."""
    rest = rest.strip(" ")
    if rest.startswith('"'):
        j = rest.find('"', 1)
        if j < 0:
            raise MetadataError("misbalanced quotes")
        value = rest[1:j]
        after = rest[j + 1 :].strip(" ")
        if after and not after.startswith("#"):
            raise MetadataError(f"unexpected text after quoted value: {after}")
        return value, after[1:].strip(" "), True
    value, _, comment = rest.partition("#")
    return value.strip(" "), comment.strip(" "), False


@dataclass
class _Level:
    md: Metadata
    templates: dict[str, list[str]] = field(default_factory=dict)
    name: str = ""
    lineno: int = 0  # where the block opened


def parse_metadata(
    text: str, overwrite: bool = False, errors: Optional[list[MetadataError]] = None
) -> Metadata:
    """Parse MDC text into a L{Metadata}.

    Lines are C{name TYPE value [# comment]}; blank lines and lines whose
    first non-blank character is C{#} are skipped; leading indentation
    (spaces or tabs) does not matter.  C{name METADATA [UPDATE|RESET]}
    opens a nested block closed by C{END}; C{name MULTI} lets C{name}
    repeat; C{TYPE tname f1 f2...} defines a template so that
    C{name tname v1 v2...} becomes a nested block of C{STR} items;
    C{@name TYPE v v v} is a vector.  Unquoted C{STR} C{NULL} is None.

    @param overwrite: a repeated (non-MULTI) name replaces the earlier
        value instead of being an error.
    @param errors: when given, a bad line is appended here (and skipped)
        instead of raising.
    @raise MetadataError: on the first bad line (when C{errors} is None),
        or for a block still open at the end.
    """
    stack = [_Level(Metadata())]
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.replace("\t", " ").strip(WHITESPACE)
        if not line or line.startswith("#"):
            continue
        try:
            depth = len(stack)
            _parse_line(stack, line, overwrite)
            if len(stack) > depth:
                stack[-1].lineno = lineno
        except MetadataError as e:
            e = MetadataError(e.message, lineno)
            if errors is None:
                raise e from None
            errors.append(e)
    if len(stack) > 1:
        raise MetadataError(
            f"unterminated METADATA {stack[-1].name} (opened at line {stack[-1].lineno}):"
            " add a line END after its last line"
        )
    return stack[0].md


def _parse_line(stack: list[_Level], line: str, overwrite: bool) -> None:
    level = stack[-1]
    name, _, rest = line.partition(" ")
    rest = rest.strip(" ")
    if name == "END":
        if len(stack) == 1:
            raise MetadataError("can not END the top level metadata")
        stack.pop()
        return
    m = _TYPE_TOKEN.match(rest)
    type_, rest = m.group(1), m.group(2)
    if not type_:
        raise MetadataError(f"Failed to read a metadata type for {name}.")
    if name == "TYPE":
        fields = rest.split("#", 1)[0].split()
        if type_ in level.templates:
            raise MetadataError(f"Specified type {type_} is already defined.")
        if not fields:
            raise MetadataError(f"Metadata type '{type_}' is invalid.")
        level.templates[type_] = fields
        return
    if type_ in ("METADATA", "MULTI"):
        directive, _, comment = rest.partition("#")
        directive = directive.strip(" ").upper()
        if directive not in ("", "UPDATE", "RESET"):
            raise MetadataError(f"Invalid directive {directive} for METADATA or MULTI.")
        comment = comment.strip(" ")
        if type_ == "MULTI":
            level.md.declare_multi(name)
            return
        old = level.md.item(name)
        if directive == "UPDATE" and old is not None and old.type == "METADATA":
            stack.append(_Level(old.value, name=name))
            return
        if old is not None and old.type != "MULTI" and not (overwrite or directive == "RESET"):
            raise MetadataError(
                f"Duplicate Metadata declaration: {name} is not allowed "
                "without 'overwrite' or MULTI specifier."
            )
        scope = Metadata()
        level.md.add(MetadataItem(name, "METADATA", scope, comment), overwrite=True)
        stack.append(_Level(scope, name=name))
        return
    if type_ in level.templates:
        fields = level.templates[type_]
        values = rest.split("#", 1)[0].split()
        if len(values) < len(fields):
            raise MetadataError(f"Failed to read Metadata TYPE {name}.")
        sub = Metadata()
        for f, v in zip(fields, values):
            sub.add(MetadataItem(f, "STR", v, text=v))
        level.md.add(MetadataItem(name, "METADATA", sub), overwrite)
        return
    value_text, comment, quoted = _split_value(rest)
    if not value_text and not quoted:
        raise MetadataError(f"missing value for {name}")
    if name.startswith("@"):
        if type_ not in INT_TYPES and type_ not in FLOAT_TYPES:
            raise MetadataError(f"Metadata TYPE '{type_}' is invalid for vector {name}.")
        try:
            vec = _vector(type_, value_text)
        except ValueError:
            raise MetadataError(
                f"Failed to parse the value '{value_text}' of metadata item {name}, type {type_}."
            ) from None
        item = MetadataItem(name[1:], "VECTOR", vec, comment, value_text, type_)
        level.md.add(item, overwrite)
        return
    if type_ not in SCALAR_TYPES:
        raise MetadataError(f"Metadata TYPE '{type_}' is invalid.")
    try:
        value = convert_value(type_, value_text, quoted)
    except ValueError:
        raise MetadataError(
            f"Failed to parse the value '{value_text}' of metadata item {name}, type {type_}."
        ) from None
    level.md.add(MetadataItem(name, type_, value, comment, value_text), overwrite)


def _format_scalar(item: MetadataItem) -> str:
    t = item.type
    v = item.value
    if t == "STR":
        s = v if v is not None and v.strip(" \t") else "NULL"
        if v and v.strip(" \t") and (v == "NULL" or "#" in v or v != v.strip(" ")):
            s = f'"{v}"'  # would not read back unquoted
    elif t == "BOOL":
        s = "T" if v else "F"
    elif t in INT_TYPES:
        s = "%d" % v
    elif t == "F32":
        s = "%.7g" % v
    elif t == "F64":
        s = "%.15g" % v
    elif t in TIME_TYPES:
        s = "NULL" if v is None else v.isoformat()
    else:
        raise ValueError(f"cannot format type {t}")
    out = "%-15s  %-8s  %-15s" % (item.name, t, s)
    if item.comment:
        out += f"  # {item.comment}"
    return out + (" \n" if t == "STR" else "\n")


def format_item(item: MetadataItem) -> str:
    """One item in the layout ippTools print (psLib's item formatter)."""
    if item.type == "MULTI":
        return f"{item.name} MULTI\n" + "".join(format_item(i) for i in item.value)
    if item.type == "METADATA":
        if item.comment:
            out = f"\n{item.name}  METADATA  # {item.comment}"
        else:
            out = f"\n{item.name}  METADATA  "
        inner = format_metadata(item.value)
        for line in inner.split("\n"):
            if line:
                out += f"\n   {line}"
        return out + "\nEND\n"
    if item.type == "VECTOR":
        vals = " ".join(str(v) for v in item.value)
        out = "%-15s  %-8s  %s" % ("@" + item.name, item.elem_type, vals)
        if item.comment:
            out += f"  # {item.comment}"
        return out + "\n"
    return _format_scalar(item)


def format_metadata(md: Metadata) -> str:
    """The MDC text of C{md} (what C{ipptool} would print).

    A C{STR} value that would not read back as it is (the text C{NULL},
    a C{#}, leading or trailing spaces) is written C{"quoted"}.
    """
    return "".join(format_item(item) for _, item in md.items())


# ---------------------------------------------------------------------------
# queue2book
# ---------------------------------------------------------------------------

_PLAIN_WORD = re.compile(r"[^ \t\n\v\f\r]+")


def _words(line: str, limit: int) -> tuple[list[str], Optional[str]]:
    """The first C{limit} words of C{line} (opihi rules) and the error
    message that stopped the split early, if any."""
    if '"' not in line and "(" not in line:
        return _PLAIN_WORD.findall(line)[:limit], None
    out: list[str] = []
    try:
        for word, _ in iter_word_spans(line):
            out.append(word)
            if len(out) >= limit:
                break
    except ValueError as e:
        return out, str(e)
    return out, None


def _rest_after_first_word(line: str) -> Optional[str]:
    try:
        for _, end in iter_word_spans(line):
            rest = line[end:].lstrip(WHITESPACE)
            return rest or None
    except ValueError:
        return None
    return None


class _Stop(Exception):
    """A format error: the load stops and is undone.

    @ivar message: the message (the place and the fix included).
    @ivar status: the command status (the original failed the command
        only for a missing key and, in raw mode, a line with too many
        items).
    """

    def __init__(self, message: str, status: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class _Reader:
    """The lines of a queue, consumed from the front, each with its place
    (file and line) for messages."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue
        self.start = queue.mark()
        self.count = 0  # lines taken so far
        self.synced = 0  # of which the queue was told

    def sync(self) -> None:
        """Tell the queue how many lines were taken from its front."""
        self.queue.popped(self.count - self.synced)
        self.synced = self.count

    def where(self, index: int) -> str:
        """The place of the line taken as number C{index} (0-based)."""
        return self.queue.place_at(self.start + index)

    def content(self) -> Optional[str]:
        """Take lines until one is neither blank nor a C{#} comment."""
        lines = self.queue.lines
        while lines:
            line = lines.popleft().strip(WHITESPACE)
            self.count += 1
            if line and line[0] != "#":
                return line
        return None


class _Finisher:
    """What happens to a page when its block (or raw line) ends."""

    def __init__(
        self,
        book: Book,
        keys: Optional[list[str]],
        unique: bool,
        setwords: list[tuple[str, str]],
    ) -> None:
        self.book = book
        self.keys = keys
        self.unique = unique
        self.setwords = setwords

    def __call__(self, page: Page, where: str) -> None:
        if self.keys:
            values = []
            for key in self.keys:
                value = page.get(key)
                if value is None:
                    raise _Stop(
                        f"ERROR: missing key {key} for ID ({where}): add a {key} line "
                        "to it, or name other words with -key",
                        status=False,
                    )
                values.append(value)
            page.name = ":".join(values)
        for word, value in self.setwords:
            page.set(word, value)
        if self.unique and self.book.count_named(page.name) > 1:
            self.book.delete_page(page)


def queue_to_book(
    queue: Queue,
    book: Book,
    keys: Optional[list[str]] = None,
    unique: bool = False,
    setwords: Iterable[tuple[str, str]] = (),
    raw_columns: bool = False,
    err: Optional[Callable[[str], None]] = None,
) -> bool:
    """L{queue_to_book_steps} run to its end in one go."""
    return finish(queue_to_book_steps(queue, book, keys, unique, setwords, raw_columns, err))


def queue_to_book_steps(
    queue: Queue,
    book: Book,
    keys: Optional[list[str]] = None,
    unique: bool = False,
    setwords: Iterable[tuple[str, str]] = (),
    raw_columns: bool = False,
    err: Optional[Callable[[str], None]] = None,
) -> Generator[None, None, bool]:
    """Consume the lines of C{queue} into pages of C{book}; a generator
    that yields after every L{CHUNK} lines (see L{pantasks.lang.chunks}).

    MDC mode: the first line (blank and C{#} lines are skipped everywhere)
    must be C{NAME MULTI}; then each C{NAME METADATA} ... C{END} block
    becomes a page.  Inside a block a line gives word = first word, value =
    third word, split by the opihi word rules, so a C{"quoted value"} is
    kept whole (with its spaces).  The TYPE column is ignored.  A page is
    first named C{page.NNN} (NNN = page count, or the next unused number);
    at C{END} it is renamed from the C{keys} words (joined by C{:}), gets
    the C{setwords} words (which override), and with C{unique} is deleted
    again if another page already has its name.

    Raw-columns mode: the first line names the columns, each later line
    becomes a page whose words are its columns by position.

    A format error is reported through C{err} (one message, no newline)
    naming the place (C{FILE line N} when the queue was loaded from a file,
    see L{Queue.place_at}) and the fix, and the book is left as it was:
    every page this call added is removed again (also when the execution
    is cancelled meanwhile).  As in the original, parsing stops at the
    error and the rest of the queue is left in place, and the status is
    True except after a missing C{-key} word and (raw mode) a line with
    too many items.

    @param keys: the word names of C{-key a:b} (None: no renaming).
    @return: (as the generator's value) the command status.
    """
    report = err or (lambda message: None)
    finisher = _Finisher(book, keys or None, unique, list(setwords))
    added: list[Page] = []
    reader = _Reader(queue)
    # a text of about SETTLE_OBJECTS pages: the server's objects out of the way first
    settle(len(queue.lines) // 20)
    try:
        if raw_columns:
            yield from _raw_columns(reader, book, finisher, added)
        else:
            yield from _mdc(reader, book, finisher, added)
    except _Stop as stop:
        book.delete_pages(added)
        report(f"{stop.message}; nothing was loaded into book {book.name}")
        return stop.status
    except BaseException:
        book.delete_pages(added)
        raise
    finally:
        reader.sync()
    settle(len(added))
    return True


def _mdc(
    reader: _Reader, book: Book, finisher: _Finisher, added: list[Page]
) -> Generator[None, None, None]:
    line = reader.content()
    if line is None:
        return
    first, problem = _words(line, 1)
    rest = _rest_after_first_word(line)
    if problem or not first or rest != "MULTI":
        raise _Stop(
            f"ERROR: missing metadata output name on first line ({reader.where(reader.count - 1)}):"
            f" the text must start with a line NAME MULTI{', ' + problem if problem else ''}"
        )
    block_name = first[0]
    head = f"{block_name} METADATA"

    # The hot loop of a large load (100,000 pages of 20 words): the page
    # being read is a plain dict, attached to the book as a Page at its
    # END.  Its name is chosen when it is attached; nothing else touches
    # the book meanwhile, so that is the name the original gave at the
    # METADATA line.
    intern = sys.intern
    values: dict[str, str] = {}  # share repeated value strings
    words_of: Optional[dict[str, str]] = None  # the open block, if any
    opened = 0  # where the open block started (line index)
    count = reader.count
    budget = CHUNK
    settled = 0  # how many times SETTLE_OBJECTS pages were settled
    while True:
        lines = reader.queue.lines  # again after each yield: it may be replaced
        popleft = lines.popleft
        while lines and budget:
            line = popleft().strip(WHITESPACE)
            count += 1
            budget -= 1
            if not line or line[0] == "#":
                continue
            if '"' in line or "(" in line or not line.isascii():
                words, problem = _words(line, 3)
            else:
                # fast path; str.split also splits at the ASCII controls
                # \x1c-\x1f, which never occur in this text
                words, problem = line.split(None, 3), None
            reader.count = count
            if not words:
                raise _Stop(f"{problem or 'misbalanced quotes'} ({reader.where(count - 1)})")
            if words_of is None:
                if words[0] != block_name:
                    raise _Stop(
                        f"ERROR: unexpected metadata name {words[0]} ({reader.where(count - 1)}):"
                        f" every block here starts with {head} (the first line says"
                        f" {block_name} MULTI)"
                    )
                if len(words) < 2 or words[1] != "METADATA":
                    raise _Stop(
                        f"ERROR: missing METADATA tag ({reader.where(count - 1)}):"
                        f" a block starts with a line {head}"
                        f"{', ' + problem if problem else ''}"
                    )
                words_of = {}
                opened = count - 1
                continue
            if words[0] == "END":
                page = book.append_page(Page(book.unused_name(), words_of))
                added.append(page)
                words_of = None
                finisher(page, f"the block {head} at {reader.where(opened)}")
                continue
            if len(words) >= 2 and words[1] == "METADATA" and (
                len(words) == 2 or words[2][:1] == "#"
            ):
                raise _Stop(
                    f"ERROR: the block {head} that starts at {reader.where(opened)} is not"
                    f" closed by END before the next block starts at"
                    f" {reader.where(count - 1)}: add a line END before it"
                )
            if len(words) < 3:
                raise _Stop(
                    f"ERROR: missing value for {words[0]} ({reader.where(count - 1)}):"
                    " a line in a block is NAME TYPE VALUE"
                    f"{', ' + problem if problem else ''}"
                )
            value = words[2]
            words_of[intern(words[0])] = values.setdefault(value, value)
        reader.count = count
        if not lines:
            break
        reader.sync()
        if len(added) // SETTLE_OBJECTS > settled:
            settled = len(added) // SETTLE_OBJECTS
            settle(SETTLE_OBJECTS)
        yield
        budget = CHUNK
    if words_of is not None:
        raise _Stop(
            f"ERROR: unterminated metadata: the block {head} that starts at"
            f" {reader.where(opened)} has no END: add a line END after its last line"
        )


def _raw_columns(
    reader: _Reader, book: Book, finisher: _Finisher, added: list[Page]
) -> Generator[None, None, None]:
    index_page: Optional[Page] = None
    budget = CHUNK
    while True:
        line = reader.content()
        if line is None:
            if index_page is not None:
                book.delete_page(index_page)
            return
        where = reader.where(reader.count - 1)
        name = "page.index" if index_page is None else book.unused_name()
        page = book.append_page(Page(name))
        added.append(page)
        columns = index_page.words() if index_page is not None else None
        words, problem = _words(line, sys.maxsize)
        for n, word in enumerate(words):
            if columns is not None:
                if n >= len(columns):
                    raise _Stop(
                        f"ERROR: line has too many items: {line} ({where}): the first line"
                        f" names {len(columns)} columns",
                        status=False,
                    )
                page.set(columns[n], word)
            else:
                page.set(word, "index")
        if problem:
            raise _Stop(f"{problem} ({where})")
        finisher(page, where)
        if index_page is None:
            index_page = page
        budget -= 1
        if not budget:
            reader.sync()
            yield
            budget = CHUNK
