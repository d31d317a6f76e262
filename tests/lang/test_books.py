"""Tests for L{pantasks.lang.books}."""

from __future__ import annotations

import random
import time

import pytest

from pantasks.lang.books import Book, BookStore, Page


def make_book(states: list[str | None], name: str = "b") -> Book:
    """A book with pages p0, p1... whose word C{state} is the given value
    (None: no such word)."""
    book = Book(name)
    for i, state in enumerate(states):
        page = book.new_page(f"p{i}")
        page.set("id", str(i))
        if state is not None:
            page.set("state", state)
    return book


class TestPage:
    def test_words_keep_order_and_overwrite_in_place(self) -> None:
        page = Page("p")
        page.set("a", "1")
        page.set("b", "2")
        page.set("a", "3")
        assert page.items() == [("a", "3"), ("b", "2")]
        assert page.words() == ["a", "b"]
        assert page.get("a") == "3"
        assert page.get("zz") is None
        assert page["b"] == "2"
        assert "a" in page and "c" not in page
        assert len(page) == 2
        assert list(page) == ["a", "b"]

    def test_initial_words(self) -> None:
        page = Page("p", {"x": "1"})
        assert page.items() == [("x", "1")]
        assert page.book is None


class TestBook:
    def test_new_page_reuses_existing(self) -> None:
        book = Book("b")
        p = book.new_page("x")
        p.set("w", "1")
        assert book.new_page("x") is p
        assert len(book) == 1

    def test_pages_in_order_and_index(self) -> None:
        book = make_book(["A", "B", "C"])
        assert book.page_names() == ["p0", "p1", "p2"]
        assert book.get_page(0).name == "p0"
        assert book.get_page(-1).name == "p2"
        assert book.get_page(-3).name == "p0"
        assert book.get_page(3) is None
        assert book.get_page(-4) is None

    def test_duplicate_names_first_wins(self) -> None:
        book = Book("b")
        first = book.append_page(Page("x", {"n": "1"}))
        second = book.append_page(Page("x", {"n": "2"}))
        assert book.find_page("x") is first
        assert book.count_named("x") == 2
        book.delete_page(first)
        assert book.find_page("x") is second

    def test_append_page_twice_refused(self) -> None:
        book = Book("b")
        page = book.append_page(Page("x"))
        with pytest.raises(ValueError):
            Book("c").append_page(page)

    def test_rename(self) -> None:
        book = Book("b")
        a = book.new_page("a")
        b = book.new_page("b")
        b.name = "a"
        assert book.find_page("a") is a
        assert book.find_page("b") is None
        a.name = "z"
        assert book.find_page("a") is b
        assert book.find_page("z") is a
        assert book.page_names() == ["z", "a"]

    def test_delete_page(self) -> None:
        book = make_book(["A", "B", "C"])
        page = book.find_page("p1")
        assert book.delete_page(page)
        assert not book.delete_page(page)
        assert book.page_names() == ["p0", "p2"]
        assert page.book is None
        assert book.find_page("p1") is None

    def test_count_matching_null_matches_missing(self) -> None:
        book = make_book(["INIT", None, "RUN", "NULL", "INIT"])
        assert book.count_matching("state", "INIT") == 2
        assert book.count_matching("state", "RUN") == 1
        assert book.count_matching("state", "NULL") == 2
        assert book.count_matching("state", "DONE") == 0
        assert book.count_matching("nosuchword", "NULL") == 5

    def test_get_page_matching(self) -> None:
        book = make_book(["INIT", None, "RUN", "NULL", "INIT"])
        assert book.get_page_matching(0, "state", "INIT").name == "p0"
        assert book.get_page_matching(1, "state", "INIT").name == "p4"
        assert book.get_page_matching(2, "state", "INIT") is None
        assert book.get_page_matching(-1, "state", "INIT").name == "p4"
        assert book.get_page_matching(-2, "state", "INIT").name == "p0"
        assert book.get_page_matching(-3, "state", "INIT") is None
        assert book.get_page_matching(0, "state", "NULL").name == "p1"
        assert book.get_page_matching(1, "state", "NULL").name == "p3"
        assert book.get_page_matching(0, "state", "DONE") is None
        assert [p.name for p in book.matching("state", "NULL")] == ["p1", "p3"]

    def test_index_follows_changes(self) -> None:
        book = make_book(["INIT", "INIT", "INIT"])
        assert book.count_matching("state", "INIT") == 3  # builds the index
        book.find_page("p0").set("state", "RUN")
        assert book.get_page_matching(0, "state", "INIT").name == "p1"
        assert book.get_page_matching(0, "state", "RUN").name == "p0"
        book.find_page("p0").set("state", "INIT")
        assert book.get_page_matching(0, "state", "INIT").name == "p0"
        new = book.new_page("p3")
        assert book.count_matching("state", "NULL") == 1
        new.set("state", "INIT")
        assert book.get_page_matching(-1, "state", "INIT") is new
        book.delete_page(book.find_page("p0"))
        assert book.get_page_matching(0, "state", "INIT").name == "p1"
        assert book.count_matching("state", "INIT") == 3

    def test_delete_matching_missing_word_never_matches(self) -> None:
        book = make_book(["DONE", None, "NULL", "RUN", "DONE"])
        assert book.delete_matching("state", "DONE") == 2
        assert book.page_names() == ["p1", "p2", "p3"]
        assert book.delete_matching("state", "NULL") == 1
        assert book.page_names() == ["p1", "p3"]

    def test_delete_matching_bulk(self) -> None:
        states = ["DONE" if i % 3 else "RUN" for i in range(300)]
        book = make_book(states)
        assert book.count_matching("id", "7") == 1  # a second index
        assert book.delete_matching("state", "DONE") == 200
        assert len(book) == 100
        assert all(p.get("state") == "RUN" for p in book)
        assert book.count_matching("state", "DONE") == 0
        assert book.count_matching("id", "7") == 0
        assert book.count_matching("id", "9") == 1
        assert book.find_page("p1") is None
        assert book.find_page("p3") is not None
        book.find_page("p3").set("state", "DONE")
        assert book.delete_matching("state", "DONE") == 1

    def test_shuffle_keeps_pages_and_indexes(self) -> None:
        book = make_book(["INIT"] * 50 + ["RUN"] * 50)
        assert book.count_matching("state", "INIT") == 50
        book.shuffle(random.Random(4))
        names = book.page_names()
        assert sorted(names) == sorted(f"p{i}" for i in range(100))
        assert names != [f"p{i}" for i in range(100)]
        first_init = next(p for p in book if p.get("state") == "INIT")
        assert book.get_page_matching(0, "state", "INIT") is first_init
        assert book.find_page("p7").get("id") == "7"
        late = book.new_page("late")
        assert book.get_page(-1) is late

    def test_unused_name(self) -> None:
        book = Book("b")
        assert book.unused_name() == "page.000"
        book.new_page("page.000")
        book.new_page("page.001")
        book.delete_page(book.find_page("page.000"))
        assert book.unused_name() == "page.002"
        assert book.unused_name("x.", 5) == "x.005"

    def test_iteration_is_a_snapshot(self) -> None:
        book = make_book(["A", "B", "C"])
        for page in book:
            book.delete_page(page)
        assert len(book) == 0

    def test_random_operations_agree_with_brute_force(self) -> None:
        rng = random.Random(1)
        book = Book("b")
        values = ["INIT", "RUN", "DONE", "NULL"]
        for step in range(3000):
            op = rng.random()
            pages = book.pages()
            if op < 0.3 or not pages:
                page = book.append_page(Page(f"n{rng.randrange(50)}"))
                if rng.random() < 0.8:
                    page.set("state", rng.choice(values))
            elif op < 0.6:
                rng.choice(pages).set("state", rng.choice(values))
            elif op < 0.7:
                book.delete_page(rng.choice(pages))
            elif op < 0.75:
                book.delete_matching("state", rng.choice(values))
            elif op < 0.8:
                rng.choice(pages).name = f"n{rng.randrange(50)}"
            elif op < 0.82:
                book.shuffle(rng)
            value = rng.choice(values)
            pages = book.pages()
            expect = [
                p
                for p in pages
                if p.get("state") == value or (value == "NULL" and "state" not in p)
            ]
            assert book.count_matching("state", value) == len(expect)
            assert book.matching("state", value) == expect
            i = rng.randrange(-3, 3)
            want = expect[i] if -len(expect) <= i < len(expect) else None
            assert book.get_page_matching(i, "state", value) is want
            name = f"n{rng.randrange(50)}"
            first = next((p for p in pages if p.name == name), None)
            assert book.find_page(name) is first

    def test_hundred_thousand_pages(self) -> None:
        """Loading and claiming pages stays cheap with 100,000 pages."""
        start = time.perf_counter()
        book = Book("chipPendingImfile")
        for i in range(100_000):
            page = book.append_page(Page(f"{i}:XY{i % 60:02d}"))
            page.set("chip_id", str(i))
            page.set("pantaskState", "RUN" if i < 99_000 else "INIT")
        # the run task's loop: find an INIT page, claim it
        claimed = 0
        while True:
            page = book.get_page_matching(0, "pantaskState", "INIT")
            if page is None:
                break
            page.set("pantaskState", "DONE")
            claimed += 1
        assert claimed == 1000
        assert book.count_matching("pantaskState", "DONE") == 1000
        assert book.delete_matching("pantaskState", "DONE") == 1000
        assert len(book) == 99_000
        assert book.find_page("98999:XY59") is not None
        assert time.perf_counter() - start < 20


class TestBookStore:
    def test_create_find_delete(self) -> None:
        store = BookStore()
        a = store.create("a")
        assert store.create("a") is a
        assert store.find("a") is a
        assert store.find("b") is None
        assert "a" in store
        assert store.delete("a")
        assert not store.delete("a")
        assert len(store) == 0

    def test_init_empties_and_moves_to_end(self) -> None:
        store = BookStore()
        store.create("a").new_page("p")
        store.create("b")
        fresh = store.init("a")
        assert len(fresh) == 0
        assert store.names() == ["b", "a"]
        store.init("c")
        assert store.names() == ["b", "a", "c"]

    def test_get_by_index(self) -> None:
        store = BookStore()
        for name in "abc":
            store.create(name)
        assert store.get(0).name == "a"
        assert store.get(2).name == "c"
        assert store.get(-1).name == "c"
        assert store.get(-3).name == "a"
        assert store.get(3) is None
        assert store.get(-4) is None
        assert [b.name for b in store] == ["a", "b", "c"]


def test_word_indexes_are_bounded_and_stay_right() -> None:
    """Querying thousands of different words (the watch user's
    C{book npages big -key k$i x}) keeps at most MAX_INDEXED_WORDS indexes;
    a dropped index is rebuilt, and answers stay right after changes."""
    import tracemalloc

    from pantasks.lang.books import MAX_INDEXED_WORDS

    book = Book("big")
    for i in range(2000):
        book.append_page(Page(f"p{i}", {"state": "INIT" if i % 2 else "DONE"}))
    assert book.count_matching("state", "INIT") == 1000
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(1000):
        assert book.count_matching(f"k{i}", "x") == 0
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    # unbounded, this grew by 1000 indexes of 2000 pages (> 16 MB)
    assert grown < 1024 * 1024, grown
    assert len(book._index) <= MAX_INDEXED_WORDS
    # the dropped "state" index is rebuilt from the pages as they are now
    book.find_page("p1").set("state", "DONE")
    book.append_page(Page("new", {"state": "INIT"}))
    assert book.count_matching("state", "INIT") == 1000
    assert book.get_page_matching(-1, "state", "INIT").name == "new"
    assert book.count_matching("k1", "NULL") == 2001


def test_deleted_book_memory_comes_back_without_the_cycle_collector() -> None:
    """Pages refer to their book; C{book delete} and C{book init} break
    that, so a large book's memory returns at once (not at some later full
    collection, which would hold the server while it walks everything)."""
    import gc
    import tracemalloc

    store = BookStore()
    gc.disable()
    try:
        for how in ("delete", "init"):
            tracemalloc.start()
            book = store.create("big")
            for i in range(20000):
                book.append_page(Page(f"p{i}", {"state": "INIT", "n": str(i)}))
            book.find_page("p7").name = "p8"  # two pages of one name
            full = tracemalloc.get_traced_memory()[0]
            del book
            getattr(store, how)("big")
            left = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            assert left < full / 10, (how, full, left)
    finally:
        gc.enable()


def test_shared_page_names_stay_in_book_order() -> None:
    book = Book("b")
    a, b, c = (book.append_page(Page(n)) for n in ("x", "y", "x"))
    assert book.find_page("x") is a and book.count_named("x") == 2
    b.name = "x"
    assert book.count_named("x") == 3 and book.find_page("x") is a
    book.delete_page(a)
    assert book.find_page("x") is b
    c.name = "z"
    b.name = "z"
    assert book.find_page("z") is b and book.count_named("x") == 0
    book.delete_page(b)
    assert book.find_page("z") is c and book.count_named("z") == 1
