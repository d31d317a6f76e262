"""Tests for L{pantasks.lang.commands.files}."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pantasks.lang.commands import files
from pantasks.lang.context import Context
from pantasks.lang.registry import LANGUAGE, VARIABLES, WRITES

from tests.lang.fakes import err, one_error, out, run


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch):
    """Run with TZ=UTC, restoring the zone afterwards."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_registration() -> None:
    for name in "date file pwd basename dirname".split():
        assert LANGUAGE.commands[name].effect == VARIABLES, name
    for name in "cd mkdir".split():
        assert LANGUAGE.commands[name].effect == WRITES, name


# -- date ------------------------------------------------------------------


def test_date_seconds(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "wallclock", lambda: 1262649600.25)
    assert run(ctx, "date", "-var", "start", "-seconds") == 1
    assert ctx.get_var("start") == "1262649600.25"
    assert run(ctx, "date", "-seconds", "-reftime", "1262649000", "-var", "dtime") == 1
    assert ctx.get_var("dtime") == "600.25"
    assert err(ctx) == out(ctx) == ""


def test_date_seconds_stderr(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "wallclock", lambda: 100.5)
    assert run(ctx, "date", "-seconds", "-reftime", "0.5") == 1
    assert err(ctx) == "100\n"
    assert out(ctx) == ""


def test_date_ctime(ctx: Context, monkeypatch: pytest.MonkeyPatch, utc: None) -> None:
    monkeypatch.setattr(files, "wallclock", lambda: 1000.9)
    assert run(ctx, "date", "-var", "rundate") == 1
    assert ctx.get_var("rundate") == "Thu Jan  1 00:16:40 1970"
    assert run(ctx, "date") == 1
    assert err(ctx) == "Thu Jan  1 00:16:40 1970\n"


def test_date_local_zone(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "HST10")
    time.tzset()
    try:
        monkeypatch.setattr(files, "wallclock", lambda: 0.0)
        assert run(ctx, "date", "-var", "d") == 1
        assert ctx.get_var("d") == "Wed Dec 31 14:00:00 1969"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_date_usage(ctx: Context) -> None:
    assert run(ctx, "date", "now") == 0
    one_error(ctx, "USAGE: date [-var variable] [-seconds] [-reftime seconds]")


def test_date_missing_value(ctx: Context) -> None:
    assert run(ctx, "date", "-seconds", "-var") == 0
    one_error(ctx, "USAGE: date [-var variable] [-seconds] [-reftime seconds]")


# -- file ------------------------------------------------------------------


def test_file_exists_var(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "labels.list"
    f.write_text("x\n")
    assert run(ctx, "file", str(f), "found") == 1
    assert ctx.get_var("found") == "1"
    assert run(ctx, "file", str(tmp_path / "nope"), "found") == 1
    assert ctx.get_var("found") == "0"
    assert out(ctx) == err(ctx) == ""


def test_file_messages(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "a"
    f.write_text("")
    assert run(ctx, "file", str(f)) == 1
    assert run(ctx, "file", str(tmp_path / "b")) == 1
    assert out(ctx) == f"file {f} is found\nfile {tmp_path / 'b'} is not found\n"
    assert err(ctx) == ""


def test_file_access(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "a"
    f.write_text("")
    missing = tmp_path / "m"
    assert run(ctx, "file", str(f), "-can-read") == 1
    assert run(ctx, "file", "-can-write", str(missing)) == 1
    assert run(ctx, "file", str(f), "w", "-can-write") == 1
    assert run(ctx, "file", str(missing), "r", "-can-read") == 1
    assert out(ctx) == f"file {f} can be read\nfile {missing} cannot be written\n"
    assert (ctx.get_var("w"), ctx.get_var("r")) == ("1", "0")


def test_file_stats_var(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "a"
    f.write_text("12345")
    os.utime(f, (1000, 2000))
    assert run(ctx, "file", str(f), "st", "-stats") == 1
    assert ctx.get_var("st:size") == "5"
    assert ctx.get_var("st:mode") == str(os.stat(f).st_mode)
    assert (ctx.get_var("st:atime"), ctx.get_var("st:mtime")) == ("1000", "2000")
    assert out(ctx) == ""


def test_file_stats_print(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "a"
    f.write_text("12345")
    os.utime(f, (1000, 86400 + 3661))
    assert run(ctx, "file", "-stats", str(f)) == 1
    lines = out(ctx).splitlines()
    assert [line[:10] for line in lines] == [
        "devID   : ",
        "inode   : ",
        "mode    : ",
        "nlink   : ",
        "uid     : ",
        "gid     : ",
        "rdev    : ",
        "size    : ",
        "blksize : ",
        "blocks  : ",
        "atime   : ",
        "mtime   : ",
        "ctime   : ",
    ]
    assert lines[2] == "mode    : " + format(os.stat(f).st_mode, "o")
    assert lines[7] == "size    : 5"
    assert lines[10] == "atime   : 1970/01/01,00:16:40"
    assert lines[11] == "mtime   : 1970/01/02,01:01:01"


def test_file_stats_missing(ctx: Context, tmp_path: Path) -> None:
    assert run(ctx, "file", str(tmp_path / "x"), "-stats") == 0
    one_error(ctx, f"file {tmp_path / 'x'} is not found")


def test_file_two_modes(ctx: Context) -> None:
    assert run(ctx, "file", "x", "-can-read", "-stats") == 0
    one_error(ctx, "only one (or none) of -can-read, -can-write, -stats is allowed")


def test_file_usage(ctx: Context) -> None:
    usage = "USAGE: file (path) [var] [-can-read | -can-write | -stats]"
    assert run(ctx, "file") == 0
    one_error(ctx, usage)
    assert run(ctx, "file", "a", "b", "c") == 0
    assert run(ctx, "file", "a", "-h") == 0
    assert err(ctx) == (usage + "\n") * 3


# -- mkdir -----------------------------------------------------------------


def test_mkdir_parents(ctx: Context, tmp_path: Path) -> None:
    d = tmp_path / "pantasks_logs" / "a" / "b"
    assert run(ctx, "mkdir", str(d)) == 1
    assert d.is_dir()
    assert run(ctx, "mkdir", str(d)) == 1  # existing directory: fine
    assert run(ctx, "mkdir", str(tmp_path / "x") + "/") == 1
    assert (tmp_path / "x").is_dir()
    assert out(ctx) == err(ctx) == ""


def test_mkdir_existing_file(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("")
    assert run(ctx, "mkdir", str(f)) == 0
    one_error(ctx, f"cannot create directory {f}: is an existing file")


def test_mkdir_fails(ctx: Context, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("")
    assert run(ctx, "mkdir", str(f / "sub")) == 0
    one_error(ctx, f"cannot create directory {f / 'sub'}: Not a directory")


def test_mkdir_usage(ctx: Context) -> None:
    assert run(ctx, "mkdir") == 0
    one_error(ctx, "USAGE: mkdir (path)")


# -- cd / pwd --------------------------------------------------------------


def test_cd(ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    assert run(ctx, "cd", "sub") == 1
    assert os.getcwd() == str(tmp_path.resolve() / "sub")
    assert out(ctx) == f"cwd: {tmp_path.resolve() / 'sub'}\n"
    assert run(ctx, "cd", "-q", "..") == 1
    assert os.getcwd() == str(tmp_path.resolve())
    assert out(ctx) == f"cwd: {tmp_path.resolve() / 'sub'}\n"
    assert err(ctx) == ""


def test_cd_missing(ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(ctx, "cd", "nowhere") == 0
    one_error(ctx, "error changing to nowhere: No such file or directory")
    assert os.getcwd() == str(tmp_path.resolve())


def test_cd_usage(ctx: Context) -> None:
    assert run(ctx, "cd") == 0
    one_error(ctx, "USAGE: cd [-q] (path)")


def test_pwd(ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(ctx, "pwd", "-var", "here") == 1
    assert ctx.get_var("here") == os.getcwd()
    assert run(ctx, "pwd") == 1
    assert out(ctx) == f"cwd: {os.getcwd()}\n"


def test_pwd_usage(ctx: Context) -> None:
    assert run(ctx, "pwd", "x") == 0
    one_error(ctx, "USAGE: pwd [-var variable]")


# -- basename / dirname ----------------------------------------------------


@pytest.mark.parametrize(
    "argv, expect",
    [
        (["/data/ipp/x.fits"], "x.fits"),
        (["/data/ipp/x.fits", "-suffix", ".fits"], "x"),
        (["x.fits", "-suffix", "x.fits"], "x.fits"),
        (["x.fits", "-suffix", ".fz"], "x.fits"),
        (["plain"], "plain"),
        (["dir/"], ""),
    ],
)
def test_basename(ctx: Context, argv: list[str], expect: str) -> None:
    assert run(ctx, "basename", *argv) == 1
    assert out(ctx) == expect + "\n"


def test_basename_var(ctx: Context) -> None:
    assert run(ctx, "basename", "-var", "b", "a/b.log", "-suffix", ".log") == 1
    assert ctx.get_var("b") == "b"
    assert out(ctx) == ""


@pytest.mark.parametrize(
    "path, expect",
    [("/data/ipp/x.fits", "/data/ipp"), ("x.fits", "."), ("a/b/", "a/b"), ("/x", "")],
)
def test_dirname(ctx: Context, path: str, expect: str) -> None:
    assert run(ctx, "dirname", path, "-var", "d") == 1
    assert ctx.get_var("d") == expect
    assert run(ctx, "dirname", path) == 1
    assert out(ctx) == expect + "\n"


def test_basename_dirname_usage(ctx: Context) -> None:
    assert run(ctx, "basename", "-var", "x") == 0
    assert run(ctx, "dirname") == 0
    assert err(ctx) == (
        "USAGE: basename (path) [-var name] [-suffix suffix]\nUSAGE: dirname (path) [-var name]\n"
    )
