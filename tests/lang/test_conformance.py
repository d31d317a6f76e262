# -*- test-case-name: tests.lang.test_conformance -*-
"""The script conformance suite: every C{tests/lang/conformance/*.pro}
runs through the engine (interpreter plus scheduler commands, as the
C{pantasks} program builds it) and its complete standard output and
error are compared with C{NAME.out} and C{NAME.err}.

The scripts exercise the idioms real IPP scripts live on (round robin
over C{$DB:$i}, books as work queues, C{ipptool2book} of ipptool output,
host lookups from an ipphosts book, C{$$1} indirection, one-line
C{if (...) set X = v}, C{$?VAR} defaults, C{list NAME -x "cmd"}, a
top-level C{break} in a file...).  Each runs in a scratch directory
holding a copy of the conformance directory, with its C{bin/} (fake
C{chiptool} and friends) first on C{PATH}.

A script may say what status it ends with in a line
C{# expect-status: N} (default 1).

To regenerate the expected files after a deliberate change, run
C{PANTASKS_REGEN=1 .venv/bin/pytest tests/lang/test_conformance.py}
and review the diff by hand: an expected file is only as good as the
reading that approved it.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from twisted.internet import defer, reactor
from twisted.trial import unittest

from pantasks.engine import make_engine
from pantasks.lang.context import CollectingSink

HERE = Path(__file__).parent / "conformance"
REGEN = os.environ.get("PANTASKS_REGEN") == "1"
_STATUS = re.compile(r"^# expect-status: (\d+)$", re.M)


def scripts() -> list[Path]:
    """The conformance scripts, in name order."""
    return sorted(HERE.glob("*.pro"))


class ConformanceMixin:
    """Runs one script in a scratch copy of the conformance directory."""

    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="pantasks-conf-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        for item in HERE.iterdir():
            if item.suffix in (".out", ".err"):
                continue
            dest = os.path.join(self.tmp, item.name)
            if item.is_dir():
                shutil.copytree(item, dest)
            else:
                shutil.copy2(item, dest)
        old_cwd = os.getcwd()
        os.chdir(self.tmp)
        self.addCleanup(os.chdir, old_cwd)
        old_path = os.environ.get("PATH", "")
        os.environ["PATH"] = os.path.join(self.tmp, "bin") + os.pathsep + old_path
        self.addCleanup(os.environ.__setitem__, "PATH", old_path)
        old_shell = os.environ.pop("SHELL", None)
        if old_shell is not None:
            self.addCleanup(os.environ.__setitem__, "SHELL", old_shell)

    @defer.inlineCallbacks
    def check_script(self, script: Path, expected_out: str | None = None) -> Any:
        sink = CollectingSink()
        engine = make_engine(reactor, log_sink=sink)
        interp = engine.interp
        interp.variables["HOME"] = "/home/conformance"
        ctx = interp.new_context(sink)
        status = yield interp.execute_text(ctx, f"input {script.name}")
        text = script.read_text()
        m = _STATUS.search(text)
        expected_status = int(m.group(1)) if m else 1
        out, err = sink.stdout(), sink.stderr()
        out_file = script.with_suffix(".out")
        err_file = script.with_suffix(".err")
        if REGEN and expected_out is None:
            out_file.write_text(out)
            err_file.write_text(err)
        if expected_out is None:
            expected_out = out_file.read_text()
        self.assertEqual(err, err_file.read_text(), f"standard error of {script.name}")
        self.assertEqual(out, expected_out, f"standard output of {script.name}")
        self.assertEqual(status, expected_status, f"status of {script.name}")


def _make_test(script: Path) -> Any:
    def test(self: Any) -> Any:
        return self.check_script(script)

    test.__name__ = "test_" + re.sub(r"\W", "_", script.stem)
    test.__doc__ = f"{script.name} gives exactly {script.stem}.out and {script.stem}.err."
    return test


class ConformanceTests(ConformanceMixin, unittest.TestCase):
    """One test per conformance script."""

    timeout = 30

    def test_suite_is_not_empty(self) -> None:
        """The suite found its scripts, each with both expected files."""
        found = scripts()
        self.assertGreaterEqual(len(found), 10)
        for s in found:
            self.assertTrue(s.with_suffix(".out").exists() or REGEN, s)
            self.assertTrue(s.with_suffix(".err").exists() or REGEN, s)

    @defer.inlineCallbacks
    def test_a_wrong_expectation_fails(self) -> Any:
        """The comparison is real: a script whose expected output is
        altered by one character fails."""
        script = HERE / "expansion.pro"
        real = script.with_suffix(".out").read_text()
        altered = real.replace("a", "b", 1)
        self.assertNotEqual(real, altered)
        yield self.check_script(script, real)
        with self.assertRaises(self.failureException):
            yield self.check_script(script, altered)


for _script in scripts():
    _test = _make_test(_script)
    setattr(ConformanceTests, _test.__name__, _test)
del _script, _test
