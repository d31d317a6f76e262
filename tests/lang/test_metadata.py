"""Tests for L{pantasks.lang.metadata}: the MDC parser and queue2book."""

from __future__ import annotations

from datetime import datetime

import pytest

from pantasks.lang.books import Book, Page
from pantasks.lang.metadata import (
    Metadata,
    MetadataError,
    MetadataItem,
    convert_value,
    format_metadata,
    parse_metadata,
    queue_to_book,
)
from pantasks.lang.queues import Queue

#: What an ipptool prints for two pending imfiles, with the variations
#: seen in practice: trailing blanks, tab indentation, a one-space indent,
#: comments, blank lines, empty strings as NULL.
IPPTOOL = (
    "chipPendingImfile MULTI\n"
    "\n"
    "chipPendingImfile  METADATA  \n"
    "   chip_id          S64       12345          \n"
    "   class_id         STR       XY01            \n"
    "   uri              STR       neb://ipp014.0/gpc1/o5000g0001o.XY01.fits \n"
    "   fault            S16       0              \n"
    "   magicked         BOOL      T              \n"
    "   zp               F32       24.5           \n"
    "   label            STR       NULL            \n"
    "END\n"
    "\n"
    "# a comment between blocks\n"
    "\n"
    "chipPendingImfile  METADATA  # second block\n"
    "\tchip_id\tS64\t12346\n"
    " class_id STR XY02   # trailing comment\n"
    "   uri              STR       neb://ipp015.0/gpc1/o5000g0001o.XY02.fits \n"
    "   fault            S16       -3\n"
    "   magicked         BOOL      F\n"
    "   zp               F32       24.25\n"
    "   label            STR       OSS.nightlyscience\n"
    "END\n"
)

#: An ipphosts-style configuration: blocks keyed by camera.
IPPHOSTS = """\
ipphosts MULTI

## hosts for chips and skycells
ipphosts METADATA
  camera STR GPC1
  XY01  STR  ipp014.0
  XY02  STR  ipp015.1
END

# skycells
ipphosts METADATA
 camera   STR skycell
 count    S32 2
   sky00  STR  ipp020.0
   sky01  STR  ipp021.0
END

ipphosts METADATA
  camera STR distribution
  count  S32  2
  0      STR ipp030.0
 10      STR ipp031.0
END
"""


def load(text: str, book: Book | None = None, **kw) -> tuple[Book, Queue, list[str], bool]:
    queue = Queue("tmp")
    queue.push(text)
    book = book if book is not None else Book("out")
    messages: list[str] = []
    ok = queue_to_book(queue, book, err=messages.append, **kw)
    return book, queue, messages, ok


class TestParseMetadata:
    def test_ipptool_sample(self) -> None:
        md = parse_metadata(IPPTOOL)
        blocks = md["chipPendingImfile"]
        assert len(blocks) == 2
        first, second = blocks
        assert first.to_python() == {
            "chip_id": 12345,
            "class_id": "XY01",
            "uri": "neb://ipp014.0/gpc1/o5000g0001o.XY01.fits",
            "fault": 0,
            "magicked": True,
            "zp": 24.5,
            "label": None,
        }
        assert second["chip_id"] == 12346
        assert second["class_id"] == "XY02"
        assert second.item("class_id").comment == "trailing comment"
        assert second["fault"] == -3
        assert second["magicked"] is False
        assert second["zp"] == 24.25
        assert second["label"] == "OSS.nightlyscience"
        items = md.getall("chipPendingImfile")
        assert [i.type for i in items] == ["METADATA", "METADATA"]
        assert items[1].comment == "second block"
        assert md.item("chipPendingImfile").type == "MULTI"

    def test_ipphosts_sample(self) -> None:
        md = parse_metadata(IPPHOSTS)
        by_camera = {b["camera"]: b for b in md["ipphosts"]}
        assert by_camera["GPC1"]["XY02"] == "ipp015.1"
        assert by_camera["skycell"]["count"] == 2
        assert by_camera["distribution"]["10"] == "ipp031.0"

    def test_quoted_string_keeps_spaces_and_hash(self) -> None:
        md = parse_metadata(
            'check STR "regtool -processedexp -exp_type BIAS"  # the check\n'
            'odd STR "a # b"\n'
            'none STR "NULL"\n'
            'empty STR ""\n'
            "plain STR a b c   # cut at the hash\n"
        )
        assert md["check"] == "regtool -processedexp -exp_type BIAS"
        assert md.item("check").comment == "the check"
        assert md["odd"] == "a # b"
        assert md["none"] == "NULL"
        assert md["empty"] == ""
        assert md["plain"] == "a b c"

    @pytest.mark.parametrize(
        "type_, text, value",
        [
            ("S32", "42", 42),
            ("S32", "-7", -7),
            ("S32", "0x10", 16),
            ("S32", "010", 8),
            ("S8", "200", -56),
            ("U8", "-1", 255),
            ("S64", "9223372036854775807", 9223372036854775807),
            ("U64", "18446744073709551615", 18446744073709551615),
            ("F64", "1e3", 1000.0),
            ("F64", ".5", 0.5),
            ("F32", "0.1", 0.10000000149011612),
            ("BOOL", "t", True),
            ("BOOL", "TRUE", True),
            ("BOOL", "1", True),
            ("BOOL", "false", False),
            ("BOOL", "0", False),
            ("STR", "null", None),
            ("UTC", "2008-01-02T03:04:05", datetime(2008, 1, 2, 3, 4, 5)),
            ("TAI", "NULL", None),
        ],
    )
    def test_typed_values(self, type_: str, text: str, value: object) -> None:
        assert convert_value(type_, text) == value
        assert parse_metadata(f"x {type_} {text}\n")["x"] == value

    @pytest.mark.parametrize(
        "type_, text",
        [
            ("S32", "12abc"),
            ("S32", "1.5"),
            ("F32", "1.5f"),
            ("F64", "1_0"),
            ("BOOL", "yes"),
            ("UTC", "yesterday"),
        ],
    )
    def test_bad_values(self, type_: str, text: str) -> None:
        with pytest.raises(MetadataError) as e:
            parse_metadata(f"\n\nx {type_} {text}\n")
        assert e.value.lineno == 3
        assert str(e.value) == (
            f"line 3: Failed to parse the value '{text}' of metadata item x, type {type_}."
        )

    def test_nested_blocks(self) -> None:
        md = parse_metadata(
            "camera METADATA\n"
            "   name STR gpc1\n"
            "   chips METADATA\n"
            "      XY01 STR ipp014\n"
            "   END\n"
            "END\n"
            "after S32 1\n"
        )
        assert md.to_python() == {
            "camera": {"name": "gpc1", "chips": {"XY01": "ipp014"}},
            "after": 1,
        }

    def test_update_and_reset(self) -> None:
        # UPDATE adds to the block; a repeated item inside it needs overwrite
        md = parse_metadata(
            "a METADATA\n  x S32 1\nEND\n"
            "a METADATA UPDATE\n  z S32 4\nEND\n"
            "b METADATA\n  x S32 1\nEND\n"
            "b METADATA RESET # replace\n  w S32 9\nEND\n"
        )
        assert md.to_python() == {"a": {"x": 1, "z": 4}, "b": {"w": 9}}

    def test_vectors_and_type_templates(self) -> None:
        md = parse_metadata(
            "@coeffs F64 1, 2.5 3\n"
            "@counts S16 1 2 3\n"
            "TYPE filter name wavelength\n"
            "r filter rband 620\n"
        )
        item = md.item("coeffs")
        assert item.type == "VECTOR" and item.elem_type == "F64"
        assert md["coeffs"] == [1.0, 2.5, 3.0]
        assert md["counts"] == [1, 2, 3]
        assert md["r"].to_python() == {"name": "rband", "wavelength": "620"}

    @pytest.mark.parametrize(
        "text, message",
        [
            ("x S32 1\nx S32 2\n", "line 2: Duplicate Metadata item, x, found."),
            ("x STR\n", "line 1: missing value for x"),
            ("x\n", "line 1: Failed to read a metadata type for x."),
            ("x FOO 1\n", "line 1: Metadata TYPE 'FOO' is invalid."),
            ("END\n", "line 1: can not END the top level metadata"),
            ("a METADATA\n x S32 1\n",
             "unterminated METADATA a (opened at line 1): add a line END after its last line"),
            ("m MULTI\nm MULTI\n", "line 2: Duplicate MULTI specifier."),
            ("a METADATA FOO\nEND\n", "line 1: Invalid directive FOO for METADATA or MULTI."),
            ('x STR "abc\n', "line 1: misbalanced quotes"),
            ('x STR "a" b\n', "line 1: unexpected text after quoted value: b"),
            (
                "x S32 1\nx METADATA\nEND\n",
                "line 2: Duplicate Metadata declaration: x is not "
                "allowed without 'overwrite' or MULTI specifier.",
            ),
        ],
    )
    def test_errors(self, text: str, message: str) -> None:
        with pytest.raises(MetadataError) as e:
            parse_metadata(text)
        assert str(e.value) == message

    def test_overwrite(self) -> None:
        assert parse_metadata("x S32 1\nx S32 2\n", overwrite=True)["x"] == 2

    def test_collect_errors(self) -> None:
        errors: list[MetadataError] = []
        md = parse_metadata("a S32 1\nb S32 zz\nc S32 3\n", errors=errors)
        assert md.to_python() == {"a": 1, "c": 3}
        assert [str(e) for e in errors] == [
            "line 2: Failed to parse the value 'zz' of metadata item b, type S32."
        ]

    def test_metadata_container(self) -> None:
        md = Metadata()
        md.add(MetadataItem("a", "S32", 1))
        assert md.get("a") == 1
        assert md.get("b", 7) == 7
        assert list(md) == ["a"] and len(md) == 1 and "a" in md
        assert md.getall("a")[0].value == 1
        assert md.getall("zz") == []


class TestFormat:
    def test_layout(self) -> None:
        md = parse_metadata(
            "chipPendingImfile MULTI\n"
            "chipPendingImfile METADATA\n"
            "  chip_id S64 12345\n"
            "  label STR NULL\n"
            "  magicked BOOL T\n"
            "  zp F32 24.5\n"
            "END\n"
        )
        assert format_metadata(md) == (
            "chipPendingImfile MULTI\n"
            "\n"
            "chipPendingImfile  METADATA  \n"
            "   chip_id          S64       12345          \n"
            "   label            STR       NULL            \n"
            "   magicked         BOOL      T              \n"
            "   zp               F32       24.5           \n"
            "END\n"
        )

    def test_round_trip(self) -> None:
        text = IPPTOOL + 'extra STR "a # b"\nlit STR "NULL"\nf64 F64 0.1\n@v S32 1 2\n'
        md = parse_metadata(text)
        again = parse_metadata(format_metadata(md))
        assert again.to_python() == md.to_python()


class TestQueueToBook:
    def test_chip_pending_imfile(self) -> None:
        book, queue, messages, ok = load(
            IPPTOOL,
            keys=["chip_id", "class_id"],
            unique=True,
            setwords=[("dbname", "gpc1"), ("pantaskState", "INIT")],
        )
        assert ok and messages == [] and len(queue) == 0
        assert book.page_names() == ["12345:XY01", "12346:XY02"]
        page = book.find_page("12345:XY01")
        assert page.items() == [
            ("chip_id", "12345"),
            ("class_id", "XY01"),
            ("uri", "neb://ipp014.0/gpc1/o5000g0001o.XY01.fits"),
            ("fault", "0"),
            ("magicked", "T"),
            ("zp", "24.5"),
            ("label", "NULL"),
            ("dbname", "gpc1"),
            ("pantaskState", "INIT"),
        ]
        assert book.find_page("12346:XY02").get("fault") == "-3"

    def test_uniq_keeps_existing_page(self) -> None:
        kw = dict(keys=["chip_id", "class_id"], unique=True, setwords=[("pantaskState", "INIT")])
        book, _, _, _ = load(IPPTOOL, **kw)
        book.find_page("12345:XY01").set("pantaskState", "RUN")
        load(IPPTOOL, book=book, **kw)
        assert book.page_names() == ["12345:XY01", "12346:XY02"]
        assert book.find_page("12345:XY01").get("pantaskState") == "RUN"

    def test_without_uniq_duplicates_stay(self) -> None:
        book, _, _, _ = load(IPPTOOL, keys=["class_id"])
        load(IPPTOOL, book=book, keys=["class_id"], setwords=[("second", "1")])
        assert book.page_names() == ["XY01", "XY02", "XY01", "XY02"]
        assert book.find_page("XY01").get("second") is None

    def test_setword_overrides(self) -> None:
        book, _, _, _ = load(IPPTOOL, setwords=[("fault", "99"), ("fault", "100")])
        assert book.get_page(0).get("fault") == "100"

    def test_default_page_names(self) -> None:
        book = Book("out")
        book.new_page("page.000")
        book.new_page("page.003")
        book.delete_page(book.find_page("page.000"))
        load(IPPTOOL, book=book)
        # numbered from the page count, skipping names in use
        assert book.page_names() == ["page.003", "page.001", "page.002"]
        assert book.find_page("page.003").items() == []

    def test_ipphosts_by_camera(self) -> None:
        book, _, messages, ok = load(IPPHOSTS, keys=["camera"])
        assert ok and messages == []
        assert book.page_names() == ["GPC1", "skycell", "distribution"]
        assert book.find_page("GPC1").get("XY02") == "ipp015.1"
        assert book.find_page("skycell").get("count") == "2"
        assert book.find_page("distribution").get("10") == "ipp031.0"
        assert book.find_page("GPC1").get("XY99") is None

    def test_quoted_value_kept_whole(self) -> None:
        text = (
            "automate MULTI\n"
            "automate METADATA\n"
            "  name   STR BIAS\n"
            '  check  STR "regtool -processedexp -exp_type BIAS"\n'
            '  launch STR "dettool -definebyquery -inst @CAMERA@"  # trailing\n'
            "  block  STR NONE\n"
            "  note   STR two words\n"
            "END\n"
        )
        book, _, messages, ok = load(text, keys=["name"])
        assert ok and messages == []
        page = book.find_page("BIAS")
        assert page.get("check") == "regtool -processedexp -exp_type BIAS"
        assert page.get("launch") == "dettool -definebyquery -inst @CAMERA@"
        assert page.get("block") == "NONE"
        # unquoted: only the third word, as in the original
        assert page.get("note") == "two"

    def test_empty_queue(self) -> None:
        book, queue, messages, ok = load("\n  \n# only comments\n")
        assert ok and messages == [] and len(book) == 0 and len(queue) == 0

    NOTHING = "; nothing was loaded into book out"

    def test_missing_multi_line(self) -> None:
        book, queue, messages, ok = load("foo METADATA\n x S32 1\nEND\n")
        assert ok
        assert messages == [
            "ERROR: missing metadata output name on first line (line 1 of queue tmp):"
            " the text must start with a line NAME MULTI" + self.NOTHING]
        assert list(queue) == [" x S32 1", "END"]
        assert len(book) == 0

    def test_multi_with_comment_is_rejected(self) -> None:
        _, _, messages, _ = load("foo MULTI # c\n")
        assert messages[0].startswith("ERROR: missing metadata output name on first line")

    def test_unexpected_name_leaves_rest_and_undoes_the_load(self) -> None:
        book, queue, messages, ok = load(
            "a MULTI\na METADATA\n x STR 1\nEND\nb METADATA\n y STR 2\nEND\n"
        )
        assert ok
        assert messages == [
            "ERROR: unexpected metadata name b (line 5 of queue tmp): every block here"
            " starts with a METADATA (the first line says a MULTI)" + self.NOTHING]
        assert list(queue) == [" y STR 2", "END"]
        assert book.page_names() == []

    def test_missing_metadata_tag(self) -> None:
        _, queue, messages, ok = load("a MULTI\na STUFF\nEND\n")
        assert ok and messages == [
            "ERROR: missing METADATA tag (line 2 of queue tmp): a block starts with a line"
            " a METADATA" + self.NOTHING]
        assert list(queue) == ["END"]
        _, _, messages, _ = load("a MULTI\na\n")
        assert messages[0].startswith("ERROR: missing METADATA tag (line 2 of queue tmp)")

    def test_missing_value(self) -> None:
        book, queue, messages, ok = load("a MULTI\na METADATA\n x S32\n y S32 2\nEND\n")
        assert ok and messages == [
            "ERROR: missing value for x (line 3 of queue tmp): a line in a block is"
            " NAME TYPE VALUE" + self.NOTHING]
        assert list(queue) == [" y S32 2", "END"]
        assert len(book) == 0

    def test_misbalanced_quote_in_value(self) -> None:
        _, _, messages, ok = load('a MULTI\na METADATA\n x STR "oops\nEND\n')
        assert ok and messages == [
            "ERROR: missing value for x (line 3 of queue tmp): a line in a block is"
            " NAME TYPE VALUE, misbalanced quotes" + self.NOTHING]

    def test_block_without_end_names_both_blocks(self) -> None:
        """The operators' wiki abridges ipphosts without its END lines."""
        text = ("ipphosts MULTI\n\nipphosts METADATA\n  camera STR GPC1\n  XY01 STR ipp014.0\n"
                "\nipphosts METADATA  # the next one\n  camera STR skycell\n")
        book = Book("ipphosts")
        book.new_page("old")
        book, queue, messages, ok = load(text, book=book, keys=["camera"])
        assert ok
        assert messages == [
            "ERROR: the block ipphosts METADATA that starts at line 3 of queue tmp is not"
            " closed by END before the next block starts at line 7 of queue tmp: add a line"
            " END before it; nothing was loaded into book ipphosts"]
        assert book.page_names() == ["old"]

    def test_unterminated_leaves_nothing(self) -> None:
        book, _, messages, ok = load("a MULTI\na METADATA\n x S32 1\n", keys=["x"])
        assert ok and messages == [
            "ERROR: unterminated metadata: the block a METADATA that starts at line 2 of"
            " queue tmp has no END: add a line END after its last line" + self.NOTHING]
        assert book.page_names() == []

    def test_missing_key_fails_and_undoes_the_load(self) -> None:
        book = Book("out")
        book.new_page("old").set("x", "0")
        book, queue, messages, ok = load(
            "a MULTI\na METADATA\n x S32 1\nEND\na METADATA\n y S32 2\nEND\n"
            "a METADATA\n x S32 3\nEND\n",
            book=book,
            keys=["x"],
            setwords=[("s", "INIT")],
        )
        assert not ok
        assert messages == [
            "ERROR: missing key x for ID (the block a METADATA at line 5 of queue tmp):"
            " add a x line to it, or name other words with -key" + self.NOTHING]
        assert book.page_names() == ["old"]
        assert book.count_matching("s", "INIT") == 0
        assert list(queue) == ["a METADATA", " x S32 3", "END"]

    def test_places_name_the_file_a_queue_was_loaded_from(self) -> None:
        from array import array

        queue = Queue("tmp")
        queue.push("a MULTI\na METADATA\n x S32\nEND\n")
        queue.set_origin("hosts.config line {line}", array("I", [1, 3, 4, 9]))
        messages: list[str] = []
        queue_to_book(queue, Book("out"), err=messages.append)
        assert messages[0].startswith("ERROR: missing value for x (hosts.config line 4)")

    def test_comments_and_blank_lines_inside_blocks(self) -> None:
        book, _, messages, ok = load(
            "\n# header\na MULTI\n\na METADATA\n# inside\n\n  x S32 1\n  ## more\nEND\n"
        )
        assert ok and messages == []
        assert book.get_page(0).items() == [("x", "1")]

    def test_type_column_ignored(self) -> None:
        book, _, _, _ = load("a MULTI\na METADATA\n x BOGUS 007\nEND\n")
        assert book.get_page(0).get("x") == "007"

    def test_existing_pages_kept(self) -> None:
        book = Book("out")
        book.new_page("old").set("w", "1")
        load(IPPTOOL, book=book, keys=["chip_id"])
        assert book.page_names() == ["old", "12345", "12346"]

    def test_raw_columns(self) -> None:
        book, queue, messages, ok = load(
            "# exp_id state\nexp_id  state  label\n\n1 new a\n2 full\n",
            raw_columns=True,
            setwords=[("db", "gpc1")],
        )
        assert ok and messages == [] and len(queue) == 0
        # the index page (page.index) is dropped at the end; numbering
        # counted it
        assert book.page_names() == ["page.001", "page.002"]
        assert book.find_page("page.001").items() == [
            ("exp_id", "1"),
            ("state", "new"),
            ("label", "a"),
            ("db", "gpc1"),
        ]
        assert book.find_page("page.002").items() == [
            ("exp_id", "2"),
            ("state", "full"),
            ("db", "gpc1"),
        ]

    def test_raw_columns_keyed_and_too_many_items(self) -> None:
        book, queue, messages, ok = load("id v\n7 x\n8 y z w\n9 q\n", raw_columns=True, keys=["id"])
        assert not ok
        assert messages == [
            "ERROR: line has too many items: 8 y z w (line 3 of queue tmp): the first line"
            " names 2 columns" + self.NOTHING]
        assert list(queue) == ["9 q"]
        assert book.page_names() == []

    def test_words_are_shared(self) -> None:
        book, _, _, _ = load(IPPTOOL)
        a, b = book.pages()
        assert next(iter(a)) is next(iter(b))

    def test_page_in_book_is_visible_while_parsing(self) -> None:
        book = Book("out")
        book.append_page(Page("x"))
        load("a MULTI\na METADATA\n k STR 1\nEND\n", book=book, keys=["k"], unique=True)
        assert book.page_names() == ["x", "1"]

    def test_large_load(self) -> None:
        blocks = "".join(
            "chipPendingImfile METADATA\n"
            f"   chip_id S64 {i}\n   class_id STR XY{i % 60:02d}\n"
            "   uri STR neb://x/y.fits\n   fault S16 0\nEND\n"
            for i in range(20_000)
        )
        book, _, messages, ok = load(
            "chipPendingImfile MULTI\n" + blocks,
            keys=["chip_id", "class_id"],
            unique=True,
            setwords=[("pantaskState", "INIT")],
        )
        assert ok and messages == []
        assert len(book) == 20_000
        assert book.count_matching("pantaskState", "INIT") == 20_000
