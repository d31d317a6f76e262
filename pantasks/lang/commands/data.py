# -*- test-case-name: tests.lang.test_data_commands -*-
"""Data built-ins: the C{queue*} commands, C{book}, and
C{queue2book}/C{ipptool2book}.

Scripts keep their work lists in books (C{ipptool2book stdout
chipPendingImfile -key chip_id:class_id -uniq ...} in an exit macro, then
C{book getpage chipPendingImfile 0 -var p -key pantaskState INIT} in a
task) and read command output through queues (C{queueload tmp -x "cat
FILE"}, C{queueprint stdout}).  Messages, streams and return values follow
the original commands (C{Ohana/src/opihi/cmd.data}), because scripts and
operators depend on them; the few deliberate differences are noted on the
commands.

Queue names resolve through L{Context.find_queue}, so an exit macro sees
its own job's C{stdout}/C{stderr} queues.  Books are global
(C{ctx.interp.books}, a L{pantasks.lang.books.BookStore}).
"""

from __future__ import annotations

import re
from array import array
from collections import deque
from types import GeneratorType
from typing import Any, Callable, Generator, Optional

from pantasks.lang.args import take_flag, take_value
from pantasks.lang.books import Book, BookStore, Page
from pantasks.lang.chunks import chunked, run_steps
from pantasks.lang.context import Context
from pantasks.lang.errors import CommandError, UsageError
from pantasks.lang.metadata import queue_to_book_steps
from pantasks.lang.policy import check_value, check_values, value_too_long
from pantasks.lang.queues import WHITESPACE, Queue, QueueChanged, c_atoi
from pantasks.lang.registry import READS, RUNS, VARIABLES, WRITES, command
from pantasks.lang.safeopen import FileRefused, open_output


def _need_queue(ctx: Context, name: str) -> Queue:
    q = ctx.find_queue(name)
    if q is None:
        raise CommandError(f"ERROR: queue {name} not found")
    return q


def _wait_status(code: int) -> int:
    """The C{pclose} status the original printed: exit code * 256, or the
    signal number (C{code} is negative for a signal)."""
    return code * 256 if code >= 0 else -code


# ---------------------------------------------------------------------------
# queues
# ---------------------------------------------------------------------------


@command("queueinit", help="create an empty queue (or empty an existing one)", effect=WRITES)
def queueinit(ctx: Context, argv: list[str]) -> int:
    """C{queueinit Q}: create C{Q}, or remove all its lines."""
    if len(argv) != 2:
        raise UsageError("USAGE: queueinit (name)")
    ctx.queue(argv[1]).clear()
    return 1


@command("queueload", help="load queue from command", effect=RUNS)
def queueload(ctx: Context, argv: list[str]) -> Generator[Any, Any, int]:
    """C{queueload Q -x "command" [-trap|-trap-failure]}.

    Runs the command with C{/bin/sh -c} (without blocking the reactor) and
    appends each non-blank line of its standard output to C{Q} (created if
    needed), leading white space removed.  A non-zero exit prints
    C{warning: exit status of command N} (N as C{pclose} gives it, e.g.
    256 for exit 1); with C{-trap} the command then fails and nothing is
    pushed.  The lines remember where they came from (C{FILE line N} for
    C{cat FILE}), so that C{ipptool2book} can name the line it stops at.
    """
    argv = list(argv)
    trap = take_flag(argv, "-trap-failure")
    trap = take_flag(argv, "-trap") or trap
    if len(argv) != 4 or argv[2] != "-x":
        raise UsageError("USAGE: queueload (queue) -x (command)")
    name, cmd = argv[1], argv[3]
    ctx.queue(name)  # created before the command runs, as in the original
    try:
        code, text = yield ctx.interp.shell_capture(cmd, ctx.err)
    except Exception as e:
        raise CommandError(f"error reading from command: {e}") from None
    if code:
        ctx.err(f"warning: exit status of command {_wait_status(code)}\n")
        if trap:
            return 0
    # Split in chunks (a large output would hold the reactor), aside: the
    # queue gets every line at once at the end, or none.
    pieces: deque[str] = deque()
    numbers = array("I")
    lineno = 0
    limit = ctx.interp.max_value
    pos, end = 0, len(text)
    while pos <= end:
        stop = text.find("\n", pos + _LOAD_CHUNK)
        if stop < 0:
            stop = end
        for piece in text[pos:stop].split("\n"):
            lineno += 1
            piece = piece.lstrip(WHITESPACE)
            if piece:
                if len(piece) > limit:  # nothing is stored then
                    raise value_too_long(f"queue {name}", len(piece), limit)
                pieces.append(piece)
                numbers.append(lineno)
        pos = stop + 1
        yield from ctx.checkpoint()
    q = ctx.queue(name)  # again: it may have been deleted meanwhile
    if not len(q):
        q.lines = pieces  # (no copy of a million lines in one turn)
        q.set_origin(_origin(cmd), numbers)
    else:
        q.lines.extend(pieces)
    return 1


#: How many characters of a command's output C{queueload} splits between
#: two checkpoints (about 500 lines of ipptool output).
_LOAD_CHUNK = 32 * 1024
_CAT_FILE = re.compile(r"\s*cat\s+([^\s;|&<>()$`'\"\\*?]+)\s*\Z")


def _origin(cmd: str) -> str:
    """How messages name a line loaded from C{cmd} (see L{Queue.place_at}):
    C{FILE line N} for C{cat FILE}, else C{line N of the output of "CMD"}."""
    m = _CAT_FILE.match(cmd)
    if m:
        return m.group(1) + " line {line}"
    return 'line {line} of the output of "' + cmd.replace("\n", " ") + '"'


@command("queuepush", help="push value onto queue", effect=WRITES)
def queuepush(ctx: Context, argv: list[str]) -> Any:
    """C{queuepush Q VALUE [-key K] [-uniq] [-replace]} (creates C{Q})."""
    usage = "USAGE: queuepush (queue) (value) [-key N] [-uniq] [-replace]"
    argv = list(argv)
    unique = take_flag(argv, "-uniq")
    replace = take_flag(argv, "-replace")
    key = take_value(argv, "-key", usage)
    if len(argv) != 3:
        raise UsageError(usage)
    check_value(ctx.interp, f"queue {argv[1]}", argv[2])
    q = ctx.queue(argv[1])
    if unique or replace:
        return _push_keyed(ctx, q, argv[2], key, unique, replace)
    q.push(argv[2])
    return 1


def _push_keyed(
    ctx: Context, q: Queue, text: str, key: Optional[str], unique: bool, replace: bool
) -> Generator[Any, Any, int]:
    """C{queuepush -uniq/-replace}: the queue's keys are read in chunks."""
    try:
        if unique:
            yield from run_steps(ctx, q.push_unique_steps(text, key))
        if replace:
            yield from run_steps(ctx, q.push_replace_steps(text, key))
    except QueueChanged:
        raise CommandError(_CHANGED.format(q.name, "queuepush")) from None
    return 1


@command("queuepop", help="pop value from queue to variable", effect=WRITES)
def queuepop(ctx: Context, argv: list[str]) -> Any:
    """C{queuepop Q [-var V] [-key K VALUE]}.

    With C{-var} the variable gets the line, or C{NULL} when there is none
    (still a success); without it the line is printed.
    """
    usage = "USAGE: queuepop (queue) [-var variable] [-key N value]"
    argv = list(argv)
    var = take_value(argv, "-var", usage)
    kv = take_value(argv, "-key", usage, count=2)
    if len(argv) != 2:
        raise UsageError(usage)
    q = _need_queue(ctx, argv[1])
    if kv is None:
        return _popped(ctx, q, var, q.pop())
    return _pop_keyed(ctx, q, var, kv[0], kv[1])


def _pop_keyed(
    ctx: Context, q: Queue, var: Optional[str], keylist: str, value: str
) -> Generator[Any, Any, int]:
    """C{queuepop -key}: the lines are looked at in chunks."""
    try:
        line = yield from run_steps(ctx, q.pop_match_steps(keylist, value))
    except QueueChanged:
        raise CommandError(_CHANGED.format(q.name, "queuepop")) from None
    return _popped(ctx, q, var, line)


def _popped(ctx: Context, q: Queue, var: Optional[str], line: Optional[str]) -> int:
    if var is None:
        if line is None:
            raise CommandError(f"queue {q.name} is empty or match not found")
        ctx.out(line + "\n")
        return 1
    ctx.set_var(var, "NULL" if line is None else line)
    return 1


@command("queuesize", help="show queue size", effect=VARIABLES)
def queuesize(ctx: Context, argv: list[str]) -> int:
    """C{queuesize Q [-var V]}: without C{V} prints C{Nlines: N} (stderr)."""
    usage = "USAGE: queuesize (name) [-var variable]"
    argv = list(argv)
    var = take_value(argv, "-var", usage)
    if len(argv) != 2:
        raise UsageError(usage)
    q = _need_queue(ctx, argv[1])
    if var is None:
        ctx.err(f"Nlines: {len(q)}\n")
    else:
        ctx.set_var(var, str(len(q)))
    return 1


@command("queuelist", help="list defined queues", effect=READS)
def queuelist(ctx: Context, argv: list[str]) -> int:
    """C{queuelist}: C{%-15s %3d} (name, lines) per queue, to stdout.

    An exit macro's private C{stdout}/C{stderr} queues stand in for the
    global queues of the same name.
    """
    if len(argv) != 1:
        raise UsageError("USAGE: queuelist")
    private = ctx.private_queues
    queues = [private.get(name, q) for name, q in ctx.interp.queues.items()]
    queues += [q for name, q in private.items() if name not in ctx.interp.queues]
    text = "".join("%-15s %3d\n" % (q.name, len(q)) for q in queues)
    if text:
        ctx.out(text)
    return 1


@command("queueprint", help="print the contents of a queue", effect=READS)
def queueprint(ctx: Context, argv: list[str]) -> Generator[Any, Any, int]:
    """C{queueprint Q}: every line, to stdout (in chunks: a queue may hold
    a million lines)."""
    if len(argv) != 2:
        raise UsageError("USAGE: queueprint (name)")
    q = _need_queue(ctx, argv[1])
    for part in chunked(list(q.lines)):
        ctx.out("".join(line + "\n" for line in part))
        yield from ctx.checkpoint()
    return 1


@command("queuedelete", help="delete a queue", effect=WRITES)
def queuedelete(ctx: Context, argv: list[str]) -> int:
    """C{queuedelete Q}."""
    if len(argv) != 2:
        raise UsageError("USAGE: queuedelete (name)")
    name = argv[1]
    _need_queue(ctx, name)
    if name in ctx.private_queues:
        del ctx.private_queues[name]
    else:
        del ctx.interp.queues[name]
    return 1


@command("queuedrop", help="drop values from queue matching a key", effect=WRITES)
def queuedrop(ctx: Context, argv: list[str]) -> Generator[Any, Any, int]:
    """C{queuedrop Q -key K VALUE}: remove every matching line (in
    chunks; the queue changes at the end, or not at all)."""
    usage = "USAGE: queuedrop (queue) [-key N value]"
    argv = list(argv)
    kv = take_value(argv, "-key", usage, count=2)
    if len(argv) != 2 or kv is None:
        raise UsageError(usage)
    q = _need_queue(ctx, argv[1])
    try:
        yield from run_steps(ctx, q.drop_steps(kv[0], kv[1]))
    except QueueChanged:
        raise CommandError(_CHANGED.format(q.name, "queuedrop")) from None
    return 1


@command("queuesave", help="append the contents of a queue to a file", effect=WRITES)
def queuesave(ctx: Context, argv: list[str]) -> int:
    """C{queuesave Q FILE}: append the lines to C{FILE}.

    Unlike the original, a file that cannot be opened makes the command
    fail (it printed C{unable to open output file F} and succeeded).
    """
    if len(argv) != 3:
        raise UsageError("USAGE: queuesave (name) (file)")
    q = _need_queue(ctx, argv[1])
    if not len(q):
        return 1
    try:  # never blocks on a FIFO or a device
        with open(argv[2], "a", encoding="utf-8", errors="surrogateescape",
                  opener=lambda path, flags: open_output(path)) as f:
            f.write("".join(line + "\n" for line in q))
    except (FileRefused, OSError, ValueError):  # ValueError: a NUL in the name
        raise CommandError(f"unable to open output file {argv[2]}") from None
    return 1


@command("queuesubstr", help="bulk replace strings in queue", effect=WRITES)
def queuesubstr(ctx: Context, argv: list[str]) -> Generator[Any, Any, int]:
    """C{queuesubstr Q MATCH REPLACE}: replace in every line (see
    L{Queue.substr} for the guard against endless replacement).  A line
    that would grow past C{[limits] max_value} fails the command and leaves
    the queue as it was."""
    if len(argv) != 4:
        raise UsageError("USAGE: queuesubstr (queue) (match) (replace)")
    q = _need_queue(ctx, argv[1])
    try:
        yield from run_steps(ctx, q.substr_steps(argv[2], argv[3], ctx.interp.max_value))
    except QueueChanged:
        raise CommandError(_CHANGED.format(q.name, "queuesubstr")) from None
    return 1


_CHANGED = "queue {} changed while {} ran: nothing done, run it again"


# ---------------------------------------------------------------------------
# queue2book / ipptool2book
# ---------------------------------------------------------------------------

_Q2B_USAGE = (
    "USAGE: queue2book (queue) (book) [-uniq] [-key key[:key..]] "
    "[-setword (word) (value)] [-raw-columns] \n"
    "       converts the named queue  with ipptool metadata output into book format\n"
)


@command("queue2book", help="convert queue with ipptool output to book", effect=WRITES)
def queue2book(ctx: Context, argv: list[str]) -> Generator[Any, Any, int]:
    """C{queue2book|ipptool2book QUEUE BOOK [-key a[:b..]] [-uniq]
    [-setword W V]... [-raw-columns]}: consume the queue into the book (see
    L{pantasks.lang.metadata.queue_to_book}).

    As in the original, bad usage, a missing queue and format errors print
    a message but succeed (so they do not abort a script); only a page
    without a C{-key} word fails the command.  A C{"quoted"} value keeps
    its spaces.  Unlike the original, a format error (or cancelling the
    command) leaves the book as it was, and does not create it; the
    message names the file and line (see L{queueload}).  Large texts are
    read in chunks (L{pantasks.lang.chunks}).
    """
    argv = list(argv)
    try:
        setwords: list[tuple[str, str]] = []
        while True:
            pair = take_value(argv, "-setword", count=2)
            if pair is None:
                break
            setwords.append((pair[0], pair[1]))
        unique = take_flag(argv, "-uniq")
        raw = take_flag(argv, "-raw-columns")
        key = take_value(argv, "-key")
    except UsageError:
        argv = []
    if len(argv) != 3:
        ctx.err(_Q2B_USAGE)
        return 1
    check_values(ctx.interp, f"book {argv[2]}", [value for _word, value in setwords])
    q = ctx.find_queue(argv[1])
    if q is None:
        ctx.err(f"queue {argv[1]} not found\n")
        return 1
    books = _books(ctx)
    existed = argv[2] in books
    book = books.create(argv[2])
    keys = key.split(":") if key is not None else None
    failed: list[str] = []
    done = False
    try:
        ok = yield from run_steps(
            ctx, queue_to_book_steps(q, book, keys, unique, setwords, raw, err=failed.append)
        )
        done = not failed
    finally:
        if not done and not existed and not len(book) and books.find(book.name) is book:
            books.delete(book.name)  # nothing half-made: not even the book
    for message in failed:
        ctx.err(message + "\n")
    return 1 if ok else 0


command("ipptool2book", help="convert queue with ipptool output to book", effect=WRITES)(
    queue2book
)


# ---------------------------------------------------------------------------
# book
# ---------------------------------------------------------------------------

_BOOK_USAGE = """\
USAGE: book (command)
    book list                                  : list books
    book init     (book)                       : removes all pages from book
    book create   (book)                       : create a book
    book delete   (book)                       : delete a book
    book getbook  (where) [-var var]           : get book name
    book listbook (book)                       : list a book
    book shuffle  (book)                       : randomize pages in a book
    book npages   (book) [-var var] [-key key] : return number of pages in a book
    book newpage  (book) (page)                : create a new page in a book
    book getpage  (book) (where) [-var var] [-key key value] : get page name in a book
    book delpage  (book) (page) [-key key]     : delete a page in a book
    book delpage  (book) -key name value       : delete a page in a book
    book listpage (book) (page)                : list a page in a book
    book setword  (book) (page) (word) (value) : set the value of a word in a page
    book getword  (book) (page) (word) [-var var] : set the value of a word from a page
"""


def _books(ctx: Context) -> BookStore:
    return ctx.interp.books


def _need_book(ctx: Context, name: str) -> Book:
    book = _books(ctx).find(name)
    if book is None:
        raise CommandError(f"book {name} not found")
    return book


def _need_page(book: Book, name: str) -> Page:
    page = book.find_page(name)
    if page is None:
        raise CommandError(f"page {name} in book {book.name} not found")
    return page


def _book_list(ctx: Context, args: list[str]) -> int:
    if len(args) != 1:
        raise UsageError("USAGE: book list")
    text = "".join("%-15s %3d\n" % (b.name, len(b)) for b in _books(ctx))
    if text:
        ctx.err(text)
    return 1


def _book_create(ctx: Context, args: list[str]) -> int:
    if len(args) != 2:
        raise UsageError("USAGE: book create (book)")
    _books(ctx).create(args[1])
    return 1


def _book_delete(ctx: Context, args: list[str]) -> int:
    if len(args) != 2:
        raise UsageError("USAGE: book delete (book)")
    _need_book(ctx, args[1])
    _books(ctx).delete(args[1])
    return 1


def _book_init(ctx: Context, args: list[str]) -> int:
    if len(args) != 2:
        raise UsageError("USAGE: book init (book)")
    _books(ctx).init(args[1])
    return 1


def _book_getbook(ctx: Context, args: list[str]) -> int:
    usage = "USAGE: book getbook (where) [-var var]"
    var = take_value(args, "-var", usage)
    if len(args) != 2:
        raise UsageError(usage)
    book = _books(ctx).get(c_atoi(args[1], usage))
    if book is None:
        if var is not None:
            ctx.set_var(var, "NULL")
            return 1
        raise CommandError(f"book {args[1]} not found")
    if var is not None:
        ctx.set_var(var, book.name)
    else:
        ctx.out(book.name + "\n")
    return 1


def _book_listbook(ctx: Context, args: list[str]) -> Generator[Any, Any, int]:
    if len(args) != 2:
        raise UsageError("USAGE: book listbook (book)")
    book = _need_book(ctx, args[1])
    for part in chunked(book.pages()):
        ctx.err("".join("%-15s %3d\n" % (p.name, len(p)) for p in part))
        yield from ctx.checkpoint()
    return 1


def _book_shuffle(ctx: Context, args: list[str]) -> int:
    if len(args) != 2:
        raise UsageError("USAGE: book shuffle (book)")
    _need_book(ctx, args[1]).shuffle()
    return 1


def _book_npages(ctx: Context, args: list[str]) -> int:
    usage = "USAGE: book npages (book) [-var result] [-key name value]"
    var = take_value(args, "-var", usage)
    kv = take_value(args, "-key", usage, count=2)
    if len(args) != 2:
        ctx.err(
            usage
            + "\n  reports the number of pages (optionally limited to those matching the key)\n"
        )
        return 0
    book = _need_book(ctx, args[1])
    n = len(book) if kv is None else book.count_matching(kv[0], kv[1])
    if var is not None:
        ctx.set_var(var, str(n))
    else:
        ctx.err(f"{n} pages\n")
    return 1


def _book_newpage(ctx: Context, args: list[str]) -> int:
    if len(args) != 3:
        raise UsageError("USAGE: book newpage (book) (page)")
    _need_book(ctx, args[1]).new_page(args[2])
    return 1


def _book_getpage(ctx: Context, args: list[str]) -> int:
    usage = "USAGE: book getpage (book) (where) [-var var] [-key key value]"
    var = take_value(args, "-var", usage)
    kv = take_value(args, "-key", usage, count=2)
    if len(args) != 3:
        raise UsageError(usage)
    where = c_atoi(args[2], usage)
    book = _books(ctx).find(args[1])
    page: Optional[Page] = None
    if book is not None:
        if kv is None:
            page = book.get_page(where)
        else:
            page = book.get_page_matching(where, kv[0], kv[1])
    if page is None:
        if var is not None:
            ctx.set_var(var, "NULL")
            return 1
        if book is None:
            raise CommandError(f"book {args[1]} not found")
        raise CommandError(f"page {where} not found in {args[1]}")
    if var is not None:
        ctx.set_var(var, page.name)
    else:
        ctx.out(page.name + "\n")
    return 1


def _book_delpage(ctx: Context, args: list[str]) -> int:
    usage = "USAGE: book delpage (book) (page)"
    kv = take_value(args, "-key", usage, count=2)
    if len(args) not in (2, 3) or (kv is None and len(args) != 3):
        ctx.err(usage + "\nUSAGE: book delpage (book) -key name value\n")
        return 0
    book = _need_book(ctx, args[1])
    if kv is not None:
        book.delete_matching(kv[0], kv[1])
        return 1
    book.delete_page(_need_page(book, args[2]))
    return 1


def _book_listpage(ctx: Context, args: list[str]) -> int:
    if len(args) != 3:
        raise UsageError("USAGE: book listpage (book) (page)")
    page = _need_page(_need_book(ctx, args[1]), args[2])
    text = "".join("%-15s %15s\n" % item for item in page.items())
    if text:
        ctx.err(text)
    return 1


def _book_setword(ctx: Context, args: list[str]) -> int:
    if len(args) != 5:
        raise UsageError("USAGE: book setword (book) (page) (word) (value)")
    check_value(ctx.interp, f"book {args[1]}", args[4])
    _need_page(_need_book(ctx, args[1]), args[2]).set(args[3], args[4])
    return 1


def _book_getword(ctx: Context, args: list[str]) -> int:
    var = take_value(args, "-var", "USAGE: book getword (book) (page) (word)")
    if len(args) != 4:
        raise UsageError("USAGE: book getword (book) (page) (word)")
    book = _books(ctx).find(args[1])
    page = book.find_page(args[2]) if book is not None else None
    value = page.get(args[3]) if page is not None else None
    if value is None:
        if var is not None:
            ctx.set_var(var, "NULL")
            return 1
        if book is None:
            raise CommandError(f"book {args[1]} not found")
        if page is None:
            raise CommandError(f"page {args[2]} in book {args[1]} not found")
        raise CommandError(f"value {args[3]} on page {args[2]} in book {args[1]} not found")
    if var is not None:
        ctx.set_var(var, value)
    else:
        ctx.out(value + "\n")
    return 1


#: The C{book} sub-commands (exact names).
BOOK_COMMANDS: dict[str, Callable[[Context, list[str]], Any]] = {
    "list": _book_list,
    "init": _book_init,
    "create": _book_create,
    "delete": _book_delete,
    "getbook": _book_getbook,
    "listbook": _book_listbook,
    "shuffle": _book_shuffle,
    "npages": _book_npages,
    "newpage": _book_newpage,
    "getpage": _book_getpage,
    "delpage": _book_delpage,
    "listpage": _book_listpage,
    "setword": _book_setword,
    "getword": _book_getword,
}


#: book sub-commands that only read books (C{-var} sets a variable).
BOOK_READERS = frozenset(
    ("list", "listbook", "listpage", "npages", "getpage", "getword", "getbook")
)


def _book_effect(argv: list[str]) -> str:
    return VARIABLES if argv[1:2] and argv[1] in BOOK_READERS else WRITES


@command("book", help="commands to manipulate book/page/word data", effect=_book_effect)
def book(ctx: Context, argv: list[str]) -> Any:
    """C{book SUBCOMMAND ...}: see L{BOOK_COMMANDS} and pantasks-script(7).

    Listings (C{list}, C{listbook}, C{listpage}) and C{N pages} go to
    stderr; names and values asked for without C{-var} go to stdout.
    """
    if len(argv) < 2:
        ctx.err(_BOOK_USAGE)
        return 0
    func = BOOK_COMMANDS.get(argv[1])
    if func is None:
        raise CommandError(f"unknown book command {argv[1]}")
    if argv[1] in _KEYED and "-key" in argv:
        # the first -key query of a word builds its index: in chunks
        k = argv.index("-key")
        found = _books(ctx).find(argv[2]) if len(argv) > 2 else None
        if found is not None and k + 1 < len(argv):
            steps = found.index_steps(argv[k + 1])
            return _after(ctx, steps, func, list(argv[1:]))
    return func(ctx, list(argv[1:]))


#: book sub-commands whose -key option looks pages up by a word's value.
_KEYED = frozenset(("npages", "getpage", "delpage"))


def _after(
    ctx: Context, steps: Generator[None, None, None], func: Callable[..., Any], args: list[str]
) -> Generator[Any, Any, Any]:
    yield from run_steps(ctx, steps)
    result = func(ctx, args)
    if isinstance(result, GeneratorType):
        result = yield from result
    return result
