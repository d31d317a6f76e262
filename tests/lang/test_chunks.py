"""Built-ins that walk large data give the reactor back between chunks
(L{pantasks.lang.chunks}) and leave nothing half-made when stopped."""

from __future__ import annotations

from typing import Any

import pytest

import pantasks.lang.commands.data  # noqa: F401 (registers the commands)
from pantasks.lang.books import Book, Page
from pantasks.lang.chunks import CHUNK, finish, run_steps
from pantasks.lang.context import CollectingSink, Context
from pantasks.lang.metadata import queue_to_book_steps
from pantasks.lang.queues import Queue

from tests.lang.fakes import FakeInterp, run


def ipptool_text(pages: int) -> str:
    return "chip MULTI\n" + "".join(
        f"chip METADATA\n  chip_id S64 {i}\n  state STR new\nEND\n" for i in range(pages))


class Stop(Exception):
    """Stands for the cancellation the checkpoint raises."""


class Counting:
    """A checkpoint that counts its calls and raises at call C{fail_at}."""

    def __init__(self, fail_at: int = 0) -> None:
        self.calls = 0
        self.fail_at = fail_at

    def __call__(self) -> Any:
        self.calls += 1
        if self.calls == self.fail_at:
            raise Stop()
        return
        yield


def context(checkpoint: Counting, shell: tuple[int, str] = (0, "")) -> Context:
    ctx = Context(FakeInterp(shell), sink=CollectingSink())
    ctx.checkpoint = checkpoint  # type: ignore[method-assign]
    return ctx


def test_load_yields_every_chunk_of_lines() -> None:
    q = Queue("q")
    q.push(ipptool_text(2000))  # 8001 lines
    steps = queue_to_book_steps(q, Book("b"))
    yields = 0
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            assert stop.value is True
            break
        yields += 1
    assert yields == 8000 // CHUNK - 1  # not after the last chunk


def test_ipptool2book_checkpoints_and_loads() -> None:
    point = Counting()
    ctx = context(point)
    ctx.queue("q").push(ipptool_text(3000))
    assert run(ctx, "ipptool2book", "q", "chips", "-key", "chip_id") == 1
    assert point.calls >= 12000 // CHUNK - 1
    assert len(ctx.interp.books.find("chips")) == 3000


def test_cancelled_ipptool2book_leaves_nothing() -> None:
    ctx = context(Counting(fail_at=5))
    ctx.queue("q").push(ipptool_text(3000))
    with pytest.raises(Stop):
        run(ctx, "ipptool2book", "q", "chips", "-key", "chip_id")
    assert ctx.interp.books.find("chips") is None
    # an existing book keeps exactly its pages
    ctx = context(Counting(fail_at=5))
    ctx.interp.books.create("chips").append_page(Page("old", {"chip_id": "x"}))
    ctx.queue("q").push(ipptool_text(3000))
    with pytest.raises(Stop):
        run(ctx, "ipptool2book", "q", "chips", "-key", "chip_id")
    book = ctx.interp.books.find("chips")
    assert book.page_names() == ["old"]
    assert book.count_matching("state", "new") == 0


def test_cancelled_queueload_stores_nothing() -> None:
    text = "".join(f"line {i}\n" for i in range(20000))
    point = Counting(fail_at=3)
    ctx = context(point, shell=(0, text))
    with pytest.raises(Stop):
        run(ctx, "queueload", "q", "-x", "cat big")
    assert len(ctx.queue("q")) == 0
    point = Counting()
    ctx = context(point, shell=(0, text))
    assert run(ctx, "queueload", "q", "-x", "cat big") == 1
    assert len(ctx.queue("q")) == 20000
    assert point.calls > 3


def test_run_steps_and_finish_return_the_value() -> None:
    def steps() -> Any:
        yield
        yield
        return 7

    assert finish(steps()) == 7
    gen = run_steps(context(Counting()), steps())
    with pytest.raises(StopIteration) as e:
        while True:
            next(gen)
    assert e.value.value == 7


def test_list_split_of_many_words_is_chunked_and_all_or_nothing() -> None:
    import pantasks.lang.commands.lists  # noqa: F401 (registers list)

    words = [f"w{i}" for i in range(5000)]
    point = Counting()
    ctx = context(point)
    assert run(ctx, "list", "L", "-split", *words) == 1
    assert ctx.get_var("L:n") == "5000" and ctx.get_var("L:4999") == "w4999"
    assert point.calls >= 5000 // CHUNK
    # cancelled half-way: the old list is back, nothing of the new one stays
    ctx = context(Counting(fail_at=4))
    assert run(ctx, "list", "L", "-split", "old0", "old1") == 1
    with pytest.raises(Stop):
        run(ctx, "list", "L", "-split", *words)
    assert ctx.get_var("L:n") == "2"
    assert (ctx.get_var("L:0"), ctx.get_var("L:1"), ctx.get_var("L:2")) == ("old0", "old1", None)
    assert ctx.get_var("L:1999") is None


def test_queue_edits_of_many_lines_are_chunked_and_all_or_nothing() -> None:
    lines = "".join(f"job{i} {'DONE' if i % 3 else 'RUN'} x\n" for i in range(6000))
    point = Counting()
    ctx = context(point)
    ctx.queue("q").push(lines)
    assert run(ctx, "queuedrop", "q", "-key", "1", "DONE") == 1
    assert len(ctx.queue("q")) == 2000
    assert point.calls >= 6000 // CHUNK
    assert run(ctx, "queuesubstr", "q", "RUN", "DONE") == 1
    assert ctx.queue("q").lines[0] == "job0 DONE x"
    # cancelled: nothing changed
    ctx = context(Counting(fail_at=3))
    ctx.queue("q").push(lines)
    with pytest.raises(Stop):
        run(ctx, "queuedrop", "q", "-key", "1", "DONE")
    assert len(ctx.queue("q")) == 6000


def test_queue_changed_meanwhile_is_one_error_and_keeps_the_change() -> None:
    ctx = Context(FakeInterp(), sink=CollectingSink())
    q = ctx.queue("q")
    q.push("".join(f"l{i} a\n" for i in range(3000)))

    def meddle() -> Any:
        if len(q) == 3000:
            q.pop()  # another execution takes a line while queuedrop yields
        return
        yield

    ctx.checkpoint = meddle  # type: ignore[method-assign]
    assert run(ctx, "queuedrop", "q", "-key", "1", "a") == 0
    assert ctx.sink.stderr() == "queue q changed while queuedrop ran: nothing done, run it again\n"
    assert len(q) == 2999


def test_book_listbook_of_many_pages_is_chunked() -> None:
    point = Counting()
    ctx = context(point)
    book = ctx.interp.books.create("b")
    for i in range(3000):
        book.append_page(Page(f"p{i}", {"w": "1"}))
    assert run(ctx, "book", "listbook", "b") == 1
    assert ctx.sink.stderr().count("\n") == 3000
    assert point.calls >= 3000 // CHUNK


def test_first_key_query_of_a_large_book_builds_its_index_in_chunks() -> None:
    point = Counting()
    ctx = context(point)
    book = ctx.interp.books.create("b")
    for i in range(3000):
        book.append_page(Page(f"p{i}", {"state": "INIT" if i % 2 else "DONE"}))
    assert run(ctx, "book", "npages", "b", "-key", "state", "INIT", "-var", "n") == 1
    assert ctx.get_var("n") == "1500"
    assert point.calls >= 3000 // CHUNK
    calls = point.calls
    assert run(ctx, "book", "getpage", "b", "0", "-key", "state", "DONE", "-var", "p") == 1
    assert ctx.get_var("p") == "p0" and point.calls == calls  # indexed: no more chunks


def test_index_built_while_the_book_changes_stays_right() -> None:
    ctx = Context(FakeInterp(), sink=CollectingSink())
    book = ctx.interp.books.create("b")
    for i in range(3000):
        book.append_page(Page(f"p{i}", {"state": "INIT"}))

    def meddle() -> Any:
        book.find_page("p5").set("state", "RUN")  # another execution, meanwhile
        return
        yield

    ctx.checkpoint = meddle  # type: ignore[method-assign]
    assert run(ctx, "book", "npages", "b", "-key", "state", "INIT", "-var", "n") == 1
    assert ctx.get_var("n") == "2999"
    assert run(ctx, "book", "delpage", "b", "-key", "state", "RUN") == 1
    assert len(book) == 2999


def test_keyed_push_and_pop_on_a_long_queue_are_chunked() -> None:
    point = Counting()
    ctx = context(point)
    ctx.queue("q").push("".join(f"job{i} RUN\n" for i in range(3000)))
    assert run(ctx, "queuepush", "q", "job7 DONE\njob9999 NEW", "-uniq", "-key", "0") == 1
    assert len(ctx.queue("q")) == 3001 and ctx.queue("q").lines[-1] == "job9999 NEW"
    assert run(ctx, "queuepush", "q", "job7 DONE", "-replace", "-key", "0") == 1
    assert ctx.queue("q").lines[7] == "job7 DONE"
    assert run(ctx, "queuepop", "q", "-key", "0", "job2999", "-var", "v") == 1
    assert ctx.get_var("v") == "job2999 RUN" and len(ctx.queue("q")) == 3000
    assert run(ctx, "queuepop", "q", "-key", "0", "nosuch", "-var", "v") == 1
    assert ctx.get_var("v") == "NULL"
    assert point.calls >= 4 * (3000 // CHUNK)
