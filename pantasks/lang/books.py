# -*- test-case-name: tests.lang.test_books -*-
"""Books, pages and words: the record store of pantasks scripts.

A L{Book} is an ordered list of named L{Page}s; a page is an ordered list
of word -> value pairs (all strings).  Scripts use books as work queues
(C{ipptool2book} fills them, a task claims C{pantaskState INIT} pages) and
as configuration tables (C{ipphosts}).  This module is pure data.

Books hold tens of thousands of pages, so:
  - pages are kept in a list in book order, each with an increasing
    sequence number, so a page is found in the list by bisection;
  - page names are indexed (a book may hold several pages with the same
    name, as in the original: the first one in book order wins);
  - key-filtered queries (C{-key WORD VALUE}), used by polling loops, go
    through a per-word index built the first time a word is queried and
    kept up to date by L{Page.set} afterwards.  A book keeps the indexes
    of its L{MAX_INDEXED_WORDS} most recently queried words only: each
    costs memory in proportion to the book, and anyone may query any word
    (a loop over 20,000 made-up words once grew the indexes by 314 MB).
"""

from __future__ import annotations

import random
from bisect import bisect_left, insort
from typing import Generator, Iterator, Optional, Union

from pantasks.lang.chunks import CHUNK, chunked

#: The value that also matches a missing word in key-filtered queries.
NULL = "NULL"
#: How many words of one book have a lookup index at a time (the least
#: recently queried one is dropped, and rebuilt when queried again).
MAX_INDEXED_WORDS = 8


def _seq(page: "Page") -> int:
    return page._seq


def _remove_sorted(pages: list["Page"], page: "Page") -> bool:
    i = bisect_left(pages, page._seq, key=_seq)
    if i < len(pages) and pages[i] is page:
        del pages[i]
        return True
    return False


class Page:
    """A named, ordered set of word -> value pairs.

    Change words only through L{set} (and rename through C{name}), so that
    the owning book's indexes stay right.
    """

    __slots__ = ("_name", "_words", "_book", "_seq")

    def __init__(self, name: str, words: Optional[dict[str, str]] = None) -> None:
        self._name = name
        self._words: dict[str, str] = dict(words) if words else {}
        self._book: Optional[Book] = None
        self._seq = 0

    def __repr__(self) -> str:
        return f"<Page {self._name!r} {len(self._words)} words>"

    @property
    def name(self) -> str:
        """The page name; assigning renames the page in its book."""
        return self._name

    @name.setter
    def name(self, new: str) -> None:
        if self._book is not None:
            self._book._rename(self, new)
        else:
            self._name = new

    @property
    def book(self) -> Optional["Book"]:
        """The book holding this page, or None."""
        return self._book

    def get(self, word: str) -> Optional[str]:
        """The value of C{word}, or None when the page lacks it."""
        return self._words.get(word)

    def set(self, word: str, value: str) -> None:
        """Set C{word} to C{value}: overwrite in place or append."""
        old = self._words.get(word)
        self._words[word] = value
        book = self._book
        if book is not None and old != value:
            book._changes += 1
            if word in book._index:
                book._reindex(self, word, old, value)

    def __getitem__(self, word: str) -> str:
        return self._words[word]

    def __contains__(self, word: object) -> bool:
        return word in self._words

    def __len__(self) -> int:
        return len(self._words)

    def __iter__(self) -> Iterator[str]:
        return iter(self._words)

    def words(self) -> list[str]:
        """The word names in order."""
        return list(self._words)

    def items(self) -> list[tuple[str, str]]:
        """The (word, value) pairs in order."""
        return list(self._words.items())


class Book:
    """A named, ordered list of pages (see the module docstring)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._pages: list[Page] = []
        # name -> the page of that name, or the pages (in book order) when
        # several share it: one object per page, not a list per page (a
        # list each would double what the garbage collector walks)
        self._by_name: dict[str, Union[Page, list[Page]]] = {}
        # word -> value (None: word missing) -> pages in book order
        self._index: dict[str, dict[Optional[str], list[Page]]] = {}
        self._next_seq = 0
        # counts every change, so that an index built in chunks can tell
        # whether the book changed meanwhile
        self._changes = 0

    def __repr__(self) -> str:
        return f"<Book {self.name!r} {len(self._pages)} pages>"

    def __len__(self) -> int:
        return len(self._pages)

    def __iter__(self) -> Iterator[Page]:
        return iter(list(self._pages))

    def pages(self) -> list[Page]:
        """The pages in book order (a copy)."""
        return list(self._pages)

    def page_names(self) -> list[str]:
        """The page names in book order."""
        return [p._name for p in self._pages]

    # -- lookup -------------------------------------------------------------
    def find_page(self, name: str) -> Optional[Page]:
        """The first page named C{name}, or None."""
        found = self._by_name.get(name)
        if found is None or type(found) is not list:
            return found
        return found[0]

    def count_named(self, name: str) -> int:
        """How many pages are named C{name}."""
        found = self._by_name.get(name)
        if found is None:
            return 0
        return len(found) if type(found) is list else 1

    def get_page(self, index: int) -> Optional[Page]:
        """The page at C{index} (negative counts from the end), or None."""
        n = len(self._pages)
        if index < 0:
            index += n
        if 0 <= index < n:
            return self._pages[index]
        return None

    def matching(self, word: str, value: str) -> list[Page]:
        """The pages whose C{word} is C{value}, in book order.

        A C{value} of C{NULL} also matches pages that lack C{word}.
        """
        buckets = self._word_index(word)
        found = buckets.get(value, [])
        if value == NULL:
            missing = buckets.get(None, [])
            if missing:
                return sorted(found + missing, key=_seq)
        return list(found)

    def get_page_matching(self, index: int, word: str, value: str) -> Optional[Page]:
        """The C{index}-th page (0-based, negative from the end) among the
        pages whose C{word} is C{value} (C{NULL} matches a missing word)."""
        if index >= len(self._pages):
            return None
        buckets = self._word_index(word)
        if value == NULL and buckets.get(None):
            found = self.matching(word, value)
        else:
            found = buckets.get(value, [])
        if -len(found) <= index < len(found):
            return found[index]
        return None

    def count_matching(self, word: str, value: str) -> int:
        """How many pages have C{word} equal to C{value} (C{NULL} also
        counts pages lacking C{word})."""
        buckets = self._word_index(word)
        n = len(buckets.get(value, ()))
        if value == NULL:
            n += len(buckets.get(None, ()))
        return n

    # -- changes ------------------------------------------------------------
    def new_page(self, name: str) -> Page:
        """The first page named C{name}; a new empty one at the end if none."""
        page = self.find_page(name)
        if page is None:
            page = self.append_page(Page(name))
        return page

    def append_page(self, page: Page) -> Page:
        """Add C{page} at the end, even if another page has its name."""
        if page._book is not None:
            raise ValueError(f"page {page.name} already belongs to a book")
        page._book = self
        self._changes += 1
        page._seq = self._next_seq
        self._next_seq += 1
        self._pages.append(page)
        self._name_add(page)
        for word, buckets in self._index.items():
            buckets.setdefault(page._words.get(word), []).append(page)
        return page

    def unused_name(self, prefix: str = "page.", start: Optional[int] = None) -> str:
        """C{prefix} + a 3-digit number, the page count or above, unused."""
        n = len(self._pages) if start is None else start
        while True:
            name = f"{prefix}{n:03d}"
            if name not in self._by_name:
                return name
            n += 1

    def delete_page(self, page: Page) -> bool:
        """Remove C{page}; False when it is not in this book."""
        if page._book is not self or not _remove_sorted(self._pages, page):
            return False
        self._changes += 1
        self._unindex(page)
        page._book = None
        return True

    def delete_matching(self, word: str, value: str) -> int:
        """Delete every page whose C{word} is exactly C{value} (a missing
        word never matches); return how many."""
        victims = list(self._word_index(word).get(value, ()))
        self.delete_pages(victims)
        return len(victims)

    def delete_pages(self, victims: list[Page]) -> int:
        """Remove every page of C{victims} that is in this book; return
        how many were."""
        victims = [p for p in victims if p._book is self]
        self._changes += 1
        if len(victims) > 32:
            # bulk: one filtering pass of the page list (in C), then only
            # what the victims touch: their names and their index buckets
            doomed = set(map(id, victims))
            self._pages = [p for p in self._pages if id(p) not in doomed]
            for page in victims:
                self._name_remove(page)
                page._book = None
            if len(victims) * 8 > len(self._pages):
                # many: forget the indexes (the next query rebuilds one,
                # in chunks) rather than filter them here
                self._index = {}
            for word, buckets in self._index.items():
                for key in {page._words.get(word) for page in victims}:
                    kept = [p for p in buckets.get(key, ()) if id(p) not in doomed]
                    if kept:
                        buckets[key] = kept
                    else:
                        buckets.pop(key, None)
        else:
            for page in victims:
                self.delete_page(page)
        return len(victims)

    def shuffle(self, rng: Optional[random.Random] = None) -> None:
        """Put the pages in a random order."""
        self._changes += 1
        (rng or random).shuffle(self._pages)
        for seq, page in enumerate(self._pages):
            page._seq = seq
        self._next_seq = len(self._pages)
        self._names_rebuild()
        self._index = {}

    def index_steps(self, word: str) -> Generator[None, None, None]:
        """Build the lookup index of C{word} in chunks, yielding between
        them (see L{pantasks.lang.chunks}), so that the first C{-key}
        query of a large book does not hold the reactor.  Nothing is kept
        when the book changed meanwhile (the query then builds it at once).
        """
        if word in self._index or len(self._pages) <= 2 * CHUNK:
            return
        start = self._changes
        buckets: dict[Optional[str], list[Page]] = {}
        for part in chunked(list(self._pages)):
            for page in part:
                buckets.setdefault(page._words.get(word), []).append(page)
            yield
        if word in self._index or self._changes != start:
            return
        self._remember(word, buckets)

    # -- internals ------------------------------------------------------------
    def _remember(self, word: str, buckets: dict[Optional[str], list[Page]]) -> None:
        index = self._index
        while len(index) >= MAX_INDEXED_WORDS:
            del index[next(iter(index))]  # the least recently queried
        index[word] = buckets

    def _word_index(self, word: str) -> dict[Optional[str], list[Page]]:
        index = self._index
        buckets = index.pop(word, None)
        if buckets is None:
            buckets = {}
            for page in self._pages:
                buckets.setdefault(page._words.get(word), []).append(page)
            self._remember(word, buckets)
        else:
            index[word] = buckets  # (re)inserted last: the most recent
        return buckets

    def _name_add(self, page: Page) -> None:
        by_name = self._by_name
        found = by_name.get(page._name)
        if found is None:
            by_name[page._name] = page
        elif type(found) is list:
            insort(found, page, key=_seq)
        else:
            by_name[page._name] = sorted((found, page), key=_seq)

    def _name_remove(self, page: Page) -> None:
        by_name = self._by_name
        found = by_name.get(page._name)
        if found is page:
            del by_name[page._name]
        elif type(found) is list:
            _remove_sorted(found, page)
            if len(found) == 1:
                by_name[page._name] = found[0]

    def _names_rebuild(self) -> None:
        self._by_name = {}
        for page in self._pages:
            self._name_add(page)

    def release(self) -> None:
        """The book is being dropped: let its pages go without the cyclic
        garbage collector (a page refers to its book), so that a large
        book's memory comes back at once."""
        for page in self._pages:
            page._book = None
        self._pages = []
        self._by_name = {}
        self._index = {}

    def _unindex(self, page: Page) -> None:
        self._name_remove(page)
        for word, buckets in self._index.items():
            value = page._words.get(word)
            bucket = buckets.get(value)
            if bucket is not None:
                _remove_sorted(bucket, page)
                if not bucket:
                    del buckets[value]

    def _reindex(self, page: Page, word: str, old: Optional[str], new: str) -> None:
        buckets = self._index[word]
        bucket = buckets.get(old)
        if bucket is not None:
            _remove_sorted(bucket, page)
            if not bucket:
                del buckets[old]
        insort(buckets.setdefault(new, []), page, key=_seq)

    def _rename(self, page: Page, new: str) -> None:
        self._changes += 1
        self._name_remove(page)
        page._name = new
        self._name_add(page)


class BookStore:
    """All books of an interpreter, in creation order."""

    def __init__(self) -> None:
        self._books: dict[str, Book] = {}

    def __len__(self) -> int:
        return len(self._books)

    def __iter__(self) -> Iterator[Book]:
        return iter(list(self._books.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._books

    def names(self) -> list[str]:
        """The book names in order."""
        return list(self._books)

    def find(self, name: str) -> Optional[Book]:
        """The book C{name}, or None."""
        return self._books.get(name)

    def create(self, name: str) -> Book:
        """The book C{name}, created empty at the end when missing."""
        book = self._books.get(name)
        if book is None:
            book = self._books[name] = Book(name)
        return book

    def init(self, name: str) -> Book:
        """Delete the book C{name} if present and create it again, empty
        and at the end of the list."""
        old = self._books.pop(name, None)
        if old is not None:
            old.release()
        return self.create(name)

    def delete(self, name: str) -> bool:
        """Delete the book C{name}; False when there is none."""
        old = self._books.pop(name, None)
        if old is None:
            return False
        old.release()
        return True

    def get(self, index: int) -> Optional[Book]:
        """The book at C{index} (negative counts from the end), or None."""
        n = len(self._books)
        if index < 0:
            index += n
        if 0 <= index < n:
            for i, book in enumerate(self._books.values()):
                if i == index:
                    return book
        return None
