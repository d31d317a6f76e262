"""Tests for L{pantasks.lang.commands.data}: queue, book and ipptool2book
commands, called directly with argv lists on a fake interpreter."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet import defer

from pantasks.lang.commands import data
from pantasks.lang.context import CollectingSink, Context
from pantasks.lang.errors import ScriptError
from pantasks.lang.queues import Queue
from pantasks.lang.registry import LANGUAGE, READS, RUNS, VARIABLES, WRITES

from tests.lang.fakes import FakeInterp, err, out, run
from tests.lang.test_metadata import IPPHOSTS, IPPTOOL


@pytest.fixture
def interp() -> FakeInterp:
    """Every shell command run by the fake prints C{out}."""
    return FakeInterp((0, "out\n"))


def drive(ctx: Context, *argv: str) -> int:
    """Run a generator command by hand, feeding each yielded Deferred's
    result back in."""
    func = LANGUAGE.commands[argv[0]].func
    gen = func(ctx, list(argv))
    try:
        d = next(gen)
        while True:
            results: list[Any] = []
            d.addBoth(results.append)
            d = gen.send(results[0])
    except StopIteration as stop:
        return stop.value
    except ScriptError as e:
        ctx.error(str(e))
        return 0


def lines(ctx: Context, name: str) -> list[str]:
    return list(ctx.find_queue(name))


class TestRegistration:
    names = (
        "queueinit queueload queuepush queuepop queuesize queuelist queueprint "
        "queuedelete queuedrop queuesave queuesubstr book ipptool2book queue2book"
    ).split()

    def test_all_registered(self) -> None:
        for name in self.names:
            assert name in LANGUAGE.commands, name
            assert LANGUAGE.commands[name].help

    def test_effects(self) -> None:
        effects = {n: LANGUAGE.commands[n].effect for n in self.names}
        assert {n for n, e in effects.items() if e == READS} == {"queuelist", "queueprint"}
        assert effects["queuesize"] == VARIABLES
        assert effects["queueload"] == RUNS

    def test_book_readers_change_only_variables(self) -> None:
        book = LANGUAGE.commands["book"]
        assert book.effect_of(["book", "listbook", "b"]) == VARIABLES
        assert book.effect_of(["book", "getword", "b", "p", "w", "-var", "v"]) == VARIABLES
        assert book.effect_of(["book", "setword", "b", "p", "w", "x"]) == WRITES
        assert book.effect_of(["book", "init", "b"]) == WRITES
        assert book.effect_of(["book"]) == WRITES

    def test_queueload_is_a_generator(self) -> None:
        assert LANGUAGE.commands["queueload"].generator
        assert not LANGUAGE.commands["queuepush"].generator

    def test_aliases_share_the_function(self) -> None:
        cmds = LANGUAGE.commands
        assert cmds["ipptool2book"].func is cmds["queue2book"].func is data.queue2book


class TestQueueCommands:
    def test_init_creates_and_empties(self, ctx: Context) -> None:
        assert run(ctx, "queueinit", "q") == 1
        assert lines(ctx, "q") == []
        run(ctx, "queuepush", "q", "a")
        assert run(ctx, "queueinit", "q") == 1
        assert lines(ctx, "q") == []
        assert run(ctx, "queueinit") == 0
        assert err(ctx) == "USAGE: queueinit (name)\n"

    def test_push_splits_lines(self, ctx: Context) -> None:
        assert run(ctx, "queuepush", "q", "a\n\nb\n") == 1
        assert lines(ctx, "q") == ["a", "", "b"]

    def test_push_uniq_replace(self, ctx: Context) -> None:
        run(ctx, "queuepush", "q", "a 1")
        run(ctx, "queuepush", "q", "b 2")
        run(ctx, "queuepush", "q", "a 9", "-uniq", "-key", "0")
        assert lines(ctx, "q") == ["a 1", "b 2"]
        run(ctx, "queuepush", "q", "-replace", "a 9", "-key", "0")
        assert lines(ctx, "q") == ["a 9", "b 2"]
        run(ctx, "queuepush", "q", "b 2", "-uniq")
        assert lines(ctx, "q") == ["a 9", "b 2"]
        # both: the unique push is skipped, then the replace happens
        run(ctx, "queuepush", "q", "b 7", "-uniq", "-replace", "-key", "0")
        assert lines(ctx, "q") == ["a 9", "b 7"]

    def test_push_usage(self, ctx: Context) -> None:
        assert run(ctx, "queuepush", "q") == 0
        assert run(ctx, "queuepush", "q", "v", "-key") == 0
        usage = "USAGE: queuepush (queue) (value) [-key N] [-uniq] [-replace]\n"
        assert err(ctx) == usage * 2

    def test_pop_prints_to_stdout(self, ctx: Context) -> None:
        run(ctx, "queuepush", "q", "first line\nsecond")
        assert run(ctx, "queuepop", "q") == 1
        assert out(ctx) == "first line\n"
        assert lines(ctx, "q") == ["second"]

    def test_pop_empty_fails(self, ctx: Context) -> None:
        run(ctx, "queueinit", "q")
        assert run(ctx, "queuepop", "q") == 0
        assert err(ctx) == "queue q is empty or match not found\n"
        assert out(ctx) == ""

    def test_pop_var(self, ctx: Context) -> None:
        run(ctx, "queuepush", "q", "x y")
        assert run(ctx, "queuepop", "q", "-var", "V") == 1
        assert ctx.get_var("V") == "x y"
        assert run(ctx, "queuepop", "-var", "V", "q") == 1
        assert ctx.get_var("V") == "NULL"
        assert out(ctx) == err(ctx) == ""

    def test_pop_key(self, ctx: Context) -> None:
        run(ctx, "queuepush", "q", "a 1\nb 2\nc 2")
        assert run(ctx, "queuepop", "q", "-key", "1", "2", "-var", "V") == 1
        assert ctx.get_var("V") == "b 2"
        assert run(ctx, "queuepop", "q", "-key", "1", "5") == 0
        assert err(ctx) == "queue q is empty or match not found\n"

    def test_unknown_queue(self, ctx: Context) -> None:
        for argv in (
            ("queuepop", "nope"),
            ("queuesize", "nope"),
            ("queueprint", "nope"),
            ("queuedelete", "nope"),
            ("queuedrop", "nope", "-key", "0", "x"),
            ("queuesave", "nope", "/dev/null"),
            ("queuesubstr", "nope", "a", "b"),
        ):
            assert run(ctx, *argv) == 0
        assert err(ctx) == "ERROR: queue nope not found\n" * 7

    def test_size(self, ctx: Context) -> None:
        run(ctx, "queuepush", "q", "a\nb\nc")
        assert run(ctx, "queuesize", "q") == 1
        assert err(ctx) == "Nlines: 3\n"
        assert run(ctx, "queuesize", "q", "-var", "n") == 1
        assert ctx.get_var("n") == "3"

    def test_list(self, ctx: Context) -> None:
        run(ctx, "queuepush", "tmp", "a\nb")
        run(ctx, "queueinit", "averyveryverylongname")
        assert run(ctx, "queuelist") == 1
        assert out(ctx) == "tmp               2\naveryveryverylongname   0\n"
        assert run(ctx, "queuelist", "x") == 0
        assert err(ctx) == "USAGE: queuelist\n"

    def test_print(self, ctx: Context) -> None:
        run(ctx, "queuepush", "q", "  one\n\ntwo  ")
        assert run(ctx, "queueprint", "q") == 1
        assert out(ctx) == "  one\n\ntwo  \n"
        run(ctx, "queueinit", "empty")
        assert run(ctx, "queueprint", "empty") == 1
        assert out(ctx) == "  one\n\ntwo  \n"

    def test_delete(self, ctx: Context) -> None:
        run(ctx, "queueinit", "q")
        assert run(ctx, "queuedelete", "q") == 1
        assert ctx.find_queue("q") is None

    def test_drop(self, ctx: Context) -> None:
        run(ctx, "queuepush", "q", "a 1\nb 2\nc 2")
        assert run(ctx, "queuedrop", "q", "-key", "1", "2") == 1
        assert lines(ctx, "q") == ["a 1"]
        assert run(ctx, "queuedrop", "q") == 0
        assert err(ctx) == "USAGE: queuedrop (queue) [-key N value]\n"

    def test_save_appends(self, ctx: Context, tmp_path) -> None:
        path = tmp_path / "saved"
        path.write_text("old\n")
        run(ctx, "queuepush", "q", "a\nb")
        assert run(ctx, "queuesave", "q", str(path)) == 1
        assert run(ctx, "queuesave", "q", str(path)) == 1
        assert path.read_text() == "old\na\nb\na\nb\n"
        run(ctx, "queueinit", "e")
        assert run(ctx, "queuesave", "e", str(tmp_path / "never")) == 1
        assert not (tmp_path / "never").exists()
        bad = str(tmp_path / "no" / "dir")
        assert run(ctx, "queuesave", "q", bad) == 0
        assert err(ctx) == f"unable to open output file {bad}\n"

    def test_substr(self, ctx: Context) -> None:
        run(ctx, "queuepush", "tmp", "name STR @CAMERA@\ncheck STR x-@CAMERA@-@CAMERA@")
        assert run(ctx, "queuesubstr", "tmp", "@CAMERA@", "gpc1") == 1
        assert lines(ctx, "tmp") == ["name STR gpc1", "check STR x-gpc1-gpc1"]
        assert run(ctx, "queuesubstr", "tmp", "x") == 0
        assert err(ctx) == "USAGE: queuesubstr (queue) (match) (replace)\n"

    def test_private_queues_first(self, ctx: Context) -> None:
        run(ctx, "queuepush", "stdout", "global")
        ctx.private_queues["stdout"] = Queue("stdout", ["job line 1", "job line 2"])
        assert run(ctx, "queuesize", "stdout", "-var", "n") == 1
        assert ctx.get_var("n") == "2"
        assert run(ctx, "queueprint", "stdout") == 1
        assert out(ctx) == "job line 1\njob line 2\n"
        assert run(ctx, "queuelist") == 1
        assert out(ctx).endswith("stdout            2\n")
        assert run(ctx, "queuedelete", "stdout") == 1
        assert "stdout" not in ctx.private_queues
        assert list(ctx.interp.queues["stdout"]) == ["global"]


class TestQueueLoad:
    def test_loads_lines(self) -> None:
        interp = FakeInterp((0, "  MULTI line\n\n   \n\tb  \nlast"))
        ctx = Context(interp, sink=CollectingSink())
        run(ctx, "queuepush", "tmp", "existing")
        assert drive(ctx, "queueload", "tmp", "-x", "cat x.config") == 1
        assert interp.commands == ["cat x.config"]
        assert lines(ctx, "tmp") == ["existing", "MULTI line", "b  ", "last"]
        assert out(ctx) == err(ctx) == ""

    def test_creates_queue(self, ctx: Context) -> None:
        assert drive(ctx, "queueload", "new", "-x", "echo out") == 1
        assert lines(ctx, "new") == ["out"]

    def test_exit_status_warning(self) -> None:
        ctx = Context(FakeInterp((1, "partial\n")), sink=CollectingSink())
        assert drive(ctx, "queueload", "q", "-x", "false") == 1
        assert err(ctx) == "warning: exit status of command 256\n"
        assert lines(ctx, "q") == ["partial"]

    @pytest.mark.parametrize("flag", ["-trap", "-trap-failure"])
    def test_trap(self, flag: str) -> None:
        ctx = Context(FakeInterp((2, "partial\n")), sink=CollectingSink())
        assert drive(ctx, "queueload", "q", flag, "-x", "exit 2") == 0
        assert err(ctx) == "warning: exit status of command 512\n"
        assert lines(ctx, "q") == []

    def test_signal(self) -> None:
        ctx = Context(FakeInterp((-9, "")), sink=CollectingSink())
        assert drive(ctx, "queueload", "q", "-x", "kill -9 $$") == 1
        assert err(ctx) == "warning: exit status of command 9\n"

    @pytest.mark.parametrize(
        "argv", [("q",), ("q", "-x"), ("q", "-y", "cmd"), ("q", "-x", "a", "b")]
    )
    def test_usage(self, ctx: Context, argv: tuple[str, ...]) -> None:
        assert drive(ctx, "queueload", *argv) == 0
        assert err(ctx) == "USAGE: queueload (queue) -x (command)\n"
        assert ctx.interp.commands == []

    def test_failure_of_the_runner(self) -> None:
        interp = FakeInterp()
        interp.shell_capture = lambda cmd, err=None: defer.fail(OSError("no shell"))
        ctx = Context(interp, sink=CollectingSink())
        func = LANGUAGE.commands["queueload"].func
        gen = func(ctx, ["queueload", "q", "-x", "x"])
        d = next(gen)
        failures: list[Any] = []
        d.addErrback(failures.append)
        with pytest.raises(ScriptError, match="error reading from command: no shell"):
            failures[0].throwExceptionIntoGenerator(gen)


class TestBookCommand:
    def test_bare_and_unknown(self, ctx: Context) -> None:
        assert run(ctx, "book") == 0
        assert err(ctx).startswith("USAGE: book (command)\n    book list ")
        assert err(ctx).count("\n") == 16
        ctx.sink.chunks.clear()
        assert run(ctx, "book", "frobnicate") == 0
        assert err(ctx) == "unknown book command frobnicate\n"

    def test_create_list_delete(self, ctx: Context) -> None:
        assert run(ctx, "book", "create", "b1") == 1
        assert run(ctx, "book", "create", "b1") == 1
        run(ctx, "book", "newpage", "b1", "p")
        assert run(ctx, "book", "create", "ipphosts") == 1
        assert run(ctx, "book", "list") == 1
        assert err(ctx) == "b1                1\nipphosts          0\n"
        assert out(ctx) == ""
        assert run(ctx, "book", "delete", "b1") == 1
        assert run(ctx, "book", "delete", "b1") == 0
        assert err(ctx).endswith("book b1 not found\n")

    def test_init_moves_to_end(self, ctx: Context) -> None:
        run(ctx, "book", "create", "a")
        run(ctx, "book", "newpage", "a", "p")
        run(ctx, "book", "create", "b")
        assert run(ctx, "book", "init", "a") == 1
        assert ctx.interp.books.names() == ["b", "a"]
        assert len(ctx.interp.books.find("a")) == 0

    def test_getbook(self, ctx: Context) -> None:
        for name in ("a", "b", "c"):
            run(ctx, "book", "create", name)
        assert run(ctx, "book", "getbook", "0") == 1
        assert run(ctx, "book", "getbook", "-1") == 1
        assert out(ctx) == "a\nc\n"
        assert run(ctx, "book", "getbook", "5", "-var", "B") == 1
        assert ctx.get_var("B") == "NULL"
        assert run(ctx, "book", "getbook", "-var", "B", "1") == 1
        assert ctx.get_var("B") == "b"
        assert run(ctx, "book", "getbook", "7") == 0
        assert err(ctx) == "book 7 not found\n"

    def test_newpage_requires_book(self, ctx: Context) -> None:
        assert run(ctx, "book", "newpage", "nobook", "p") == 0
        assert err(ctx) == "book nobook not found\n"

    def _fill(self, ctx: Context) -> None:
        run(ctx, "book", "create", "B")
        for i, state in enumerate(["INIT", "RUN", "INIT", None]):
            run(ctx, "book", "newpage", "B", f"p{i}")
            run(ctx, "book", "setword", "B", f"p{i}", "id", str(i))
            if state:
                run(ctx, "book", "setword", "B", f"p{i}", "pantaskState", state)

    def test_listbook_and_listpage(self, ctx: Context) -> None:
        self._fill(ctx)
        assert run(ctx, "book", "listbook", "B") == 1
        assert err(ctx) == (
            "p0                2\np1                2\np2                2\np3                1\n"
        )
        ctx.sink.chunks.clear()
        assert run(ctx, "book", "listpage", "B", "p1") == 1
        assert err(ctx) == "id                            1\npantaskState                RUN\n"
        assert out(ctx) == ""
        assert run(ctx, "book", "listpage", "B", "zz") == 0
        assert err(ctx).endswith("page zz in book B not found\n")
        assert run(ctx, "book", "listbook", "nobook") == 0

    def test_npages(self, ctx: Context) -> None:
        self._fill(ctx)
        assert run(ctx, "book", "npages", "B") == 1
        assert err(ctx) == "4 pages\n"
        assert run(ctx, "book", "npages", "B", "-var", "N", "-key", "pantaskState", "INIT") == 1
        assert ctx.get_var("N") == "2"
        run(ctx, "book", "npages", "B", "-key", "pantaskState", "NULL", "-var", "N")
        assert ctx.get_var("N") == "1"
        assert run(ctx, "book", "npages", "nobook", "-var", "N") == 0
        assert err(ctx).endswith("book nobook not found\n")
        ctx.sink.chunks.clear()
        assert run(ctx, "book", "npages") == 0
        assert err(ctx) == (
            "USAGE: book npages (book) [-var result] [-key name value]\n"
            "  reports the number of pages (optionally limited to those matching the key)\n"
        )

    def test_getpage(self, ctx: Context) -> None:
        self._fill(ctx)
        assert run(ctx, "book", "getpage", "B", "0") == 1
        assert run(ctx, "book", "getpage", "B", "-1") == 1
        assert out(ctx) == "p0\np3\n"
        run(ctx, "book", "getpage", "B", "1", "-var", "P", "-key", "pantaskState", "INIT")
        assert ctx.get_var("P") == "p2"
        run(ctx, "book", "getpage", "B", "2", "-var", "P", "-key", "pantaskState", "INIT")
        assert ctx.get_var("P") == "NULL"
        run(ctx, "book", "getpage", "B", "0", "-var", "P", "-key", "pantaskState", "NULL")
        assert ctx.get_var("P") == "p3"
        run(ctx, "book", "getpage", "nobook", "0", "-var", "P")
        assert ctx.get_var("P") == "NULL"
        assert run(ctx, "book", "getpage", "B", "9") == 0
        assert run(ctx, "book", "getpage", "nobook", "0") == 0
        assert err(ctx) == "page 9 not found in B\nbook nobook not found\n"
        assert run(ctx, "book", "getpage", "B") == 0
        assert err(ctx).endswith("USAGE: book getpage (book) (where) [-var var] [-key key value]\n")

    def test_run_task_claim_loop(self, ctx: Context) -> None:
        """The idiom of every C{*.run} task: claim INIT pages one by one."""
        self._fill(ctx)
        claimed = []
        while True:
            run(
                ctx, "book", "getpage", "B", "0", "-var", "pageName", "-key", "pantaskState", "INIT"
            )
            page = ctx.get_var("pageName")
            if page == "NULL":
                break
            run(ctx, "book", "setword", "B", page, "pantaskState", "RUN")
            claimed.append(page)
        assert claimed == ["p0", "p2"]
        run(ctx, "book", "delpage", "B", "-key", "pantaskState", "RUN")
        assert ctx.interp.books.find("B").page_names() == ["p3"]

    def test_delpage(self, ctx: Context) -> None:
        self._fill(ctx)
        assert run(ctx, "book", "delpage", "B", "p1") == 1
        assert run(ctx, "book", "delpage", "B", "p1") == 0
        assert err(ctx) == "page p1 in book B not found\n"
        assert run(ctx, "book", "delpage", "B", "-key", "pantaskState", "NULL") == 1
        assert ctx.interp.books.find("B").page_names() == ["p0", "p2", "p3"]
        assert run(ctx, "book", "delpage", "B", "-key", "pantaskState", "INIT") == 1
        assert ctx.interp.books.find("B").page_names() == ["p3"]
        ctx.sink.chunks.clear()
        assert run(ctx, "book", "delpage", "B") == 0
        assert err(ctx) == (
            "USAGE: book delpage (book) (page)\nUSAGE: book delpage (book) -key name value\n"
        )

    def test_setword_getword(self, ctx: Context) -> None:
        run(ctx, "book", "create", "B")
        assert run(ctx, "book", "setword", "B", "p", "w", "v") == 0
        assert err(ctx) == "page p in book B not found\n"
        run(ctx, "book", "newpage", "B", "p")
        assert run(ctx, "book", "setword", "B", "p", "w", "two words") == 1
        assert run(ctx, "book", "getword", "B", "p", "w") == 1
        assert out(ctx) == "two words\n"
        run(ctx, "book", "getword", "B", "p", "w", "-var", "X")
        assert ctx.get_var("X") == "two words"
        for argv in (("B", "p", "zz"), ("B", "zz", "w"), ("zz", "p", "w")):
            ctx.set_var("X", "old")
            assert run(ctx, "book", "getword", *argv, "-var", "X") == 1
            assert ctx.get_var("X") == "NULL"
        ctx.sink.chunks.clear()
        assert run(ctx, "book", "getword", "B", "p", "zz") == 0
        assert run(ctx, "book", "getword", "B", "zz", "w") == 0
        assert run(ctx, "book", "getword", "zz", "p", "w") == 0
        assert err(ctx) == (
            "value zz on page p in book B not found\n"
            "page zz in book B not found\n"
            "book zz not found\n"
        )
        assert run(ctx, "book", "setword", "B", "p", "w") == 0
        assert err(ctx).endswith("USAGE: book setword (book) (page) (word) (value)\n")

    def test_shuffle(self, ctx: Context) -> None:
        self._fill(ctx)
        assert run(ctx, "book", "shuffle", "B") == 1
        assert sorted(ctx.interp.books.find("B").page_names()) == ["p0", "p1", "p2", "p3"]
        assert run(ctx, "book", "shuffle", "zz") == 0


class TestIpptool2book:
    def test_exit_macro_line(self, ctx: Context) -> None:
        """C{ipptool2book stdout chipPendingImfile -key chip_id:class_id -uniq
        -setword dbname $options:0 -setword pantaskState INIT} in an exit
        macro reads the job's own stdout queue."""
        run(ctx, "queuepush", "stdout", "not this one")  # the global queue
        ctx.private_queues["stdout"] = Queue("stdout")
        ctx.private_queues["stdout"].push(IPPTOOL)
        argv = (
            "ipptool2book stdout chipPendingImfile -key chip_id:class_id -uniq "
            "-setword dbname gpc1 -setword pantaskState INIT"
        ).split()
        assert run(ctx, *argv) == 1
        assert out(ctx) == err(ctx) == ""
        assert len(ctx.private_queues["stdout"]) == 0
        assert list(ctx.interp.queues["stdout"]) == ["not this one"]
        book = ctx.interp.books.find("chipPendingImfile")
        assert book.page_names() == ["12345:XY01", "12346:XY02"]
        run(ctx, "book", "getword", "chipPendingImfile", "12345:XY01", "label", "-var", "L")
        assert ctx.get_var("L") == "NULL"
        run(ctx, "book", "getword", "chipPendingImfile", "12346:XY02", "dbname", "-var", "D")
        assert ctx.get_var("D") == "gpc1"
        # a second poll returning the same rows adds nothing (-uniq)
        run(ctx, "book", "setword", "chipPendingImfile", "12345:XY01", "pantaskState", "RUN")
        ctx.private_queues["stdout"].push(IPPTOOL)
        assert run(ctx, *argv) == 1
        assert book.page_names() == ["12345:XY01", "12346:XY02"]
        run(ctx, "book", "npages", "chipPendingImfile", "-key", "pantaskState", "INIT", "-var", "N")
        assert ctx.get_var("N") == "1"

    def test_ipphosts_host_lookup(self) -> None:
        """C{init.site}: queueload the config, ipptool2book it keyed by
        camera, then C{set.host.for.camera} looks up hosts."""
        ctx = Context(FakeInterp((0, IPPHOSTS)), sink=CollectingSink())
        assert drive(ctx, "queueload", "tmp", "-x", "cat ipphosts.mhpcc.config") == 1
        assert run(ctx, "ipptool2book", "tmp", "ipphosts", "-key", "camera") == 1
        assert err(ctx) == ""
        run(ctx, "book", "getword", "ipphosts", "GPC1", "XY02", "-var", "host")
        assert ctx.get_var("host") == "ipp015.1"
        run(ctx, "book", "getword", "ipphosts", "GPC1", "XY77", "-var", "host")
        assert ctx.get_var("host") == "NULL"
        run(ctx, "book", "getword", "ipphosts", "skycell", "sky01", "-var", "host")
        assert ctx.get_var("host") == "ipp021.0"
        run(ctx, "book", "getword", "ipphosts", "distribution", "10", "-var", "host")
        assert ctx.get_var("host") == "ipp031.0"

    def test_quoted_commands_survive(self) -> None:
        text = (
            "automate MULTI\n\nautomate METADATA\n  name  STR BIAS\n"
            '  check STR "regtool -processedexp -exp_type BIAS -inst @CAMERA@"\nEND\n'
        )
        ctx = Context(FakeInterp((0, text)), sink=CollectingSink())
        drive(ctx, "queueload", "tmp", "-x", "cat simtest.basic.auto")
        run(ctx, "queuesubstr", "tmp", "@CAMERA@", "SIMTEST")
        assert run(ctx, "ipptool2book", "tmp", "automate", "-key", "name") == 1
        run(ctx, "book", "getword", "automate", "BIAS", "check", "-var", "cmd")
        assert ctx.get_var("cmd") == "regtool -processedexp -exp_type BIAS -inst SIMTEST"

    def test_usage_and_missing_queue_succeed(self, ctx: Context) -> None:
        usage = (
            "USAGE: queue2book (queue) (book) [-uniq] [-key key[:key..]] "
            "[-setword (word) (value)] [-raw-columns] \n"
            "       converts the named queue  with ipptool metadata output into book format\n"
        )
        assert run(ctx, "queue2book", "q") == 1
        assert run(ctx, "ipptool2book", "q", "b", "-setword", "x") == 1
        assert run(ctx, "ipptool2book", "q", "b", "-key", "a", "-key", "b") == 1
        assert err(ctx) == usage * 3
        ctx.sink.chunks.clear()
        assert run(ctx, "ipptool2book", "nope", "b") == 1
        assert err(ctx) == "queue nope not found\n"
        assert ctx.interp.books.find("b") is None

    def test_format_error_succeeds_leaves_rest_and_no_book(self, ctx: Context) -> None:
        run(ctx, "queuepush", "tmp", "x MULTI\ny METADATA\n a S32 1\nEND\n")
        assert run(ctx, "ipptool2book", "tmp", "B") == 1
        assert err(ctx) == (
            "ERROR: unexpected metadata name y (line 2 of queue tmp): every block here starts"
            " with x METADATA (the first line says x MULTI); nothing was loaded into book B\n")
        assert lines(ctx, "tmp") == [" a S32 1", "END"]
        assert ctx.interp.books.find("B") is None  # not even created

    def test_missing_key_fails_and_leaves_the_book_as_it_was(self, ctx: Context) -> None:
        run(ctx, "book", "create", "B")
        run(ctx, "book", "newpage", "B", "old")
        run(ctx, "queuepush", "tmp", "x MULTI\nx METADATA\n a S32 1\nEND\n")
        assert run(ctx, "queue2book", "tmp", "B", "-key", "b") == 0
        assert err(ctx) == (
            "ERROR: missing key b for ID (the block x METADATA at line 2 of queue tmp): add a b"
            " line to it, or name other words with -key; nothing was loaded into book B\n")
        assert ctx.interp.books.find("B").page_names() == ["old"]

    def test_queueload_lines_name_their_file(self, tmp_path) -> None:
        """The operators' wiki abridges ipphosts without END lines: the
        message names the file, the block and where the next one starts."""
        text = ("ipphosts MULTI\n\nipphosts METADATA\n   camera STR GPC1\n   XY01 STR ipp014.0\n"
                "\nipphosts METADATA\n   camera STR skycell\n   count S32 2\n")
        interp = FakeInterp((0, text))
        ctx = Context(interp, sink=CollectingSink())
        assert drive(ctx, "queueload", "tmp", "-x", "cat /etc/ipphosts.config") == 1
        assert run(ctx, "ipptool2book", "tmp", "ipphosts", "-key", "camera") == 1
        assert err(ctx) == (
            "ERROR: the block ipphosts METADATA that starts at /etc/ipphosts.config line 3 is not"
            " closed by END before the next block starts at /etc/ipphosts.config line 7: add a"
            " line END before it; nothing was loaded into book ipphosts\n")
        assert ctx.interp.books.find("ipphosts") is None
        ctx.sink.chunks.clear()
        interp.shell_result = (0, "a MULTI\na METADATA\n\n  x\n")
        assert drive(ctx, "queueload", "q2", "-x", "gen | sort") == 1
        assert run(ctx, "ipptool2book", "q2", "b") == 1
        assert err(ctx).startswith(
            'ERROR: missing value for x (line 4 of the output of "gen | sort"): ')

    def test_raw_columns(self, ctx: Context) -> None:
        run(ctx, "queuepush", "tmp", "host state\nipp014 up\nipp015 down\n")
        assert run(ctx, "queue2book", "tmp", "hosts", "-raw-columns", "-key", "host") == 1
        book = ctx.interp.books.find("hosts")
        assert book.page_names() == ["ipp014", "ipp015"]
        assert book.find_page("ipp015").items() == [("host", "ipp015"), ("state", "down")]
