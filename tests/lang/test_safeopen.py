# -*- test-case-name: tests.lang.test_safeopen -*-
"""L{pantasks.lang.safeopen}: files scripts name are opened without ever
blocking, and only when they are regular files (or /dev/null)."""

from __future__ import annotations

import os
import signal
import socket
import stat
from pathlib import Path
from typing import Any, Iterator

import pytest

from pantasks.lang.safeopen import FileRefused, open_input, open_output, output_problem


@pytest.fixture(autouse=True)
def no_blocking() -> Iterator[None]:
    """Any open that blocks fails the test instead of hanging it."""
    def hung(*_: Any) -> None:
        raise AssertionError("an open blocked")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _write(fd: int, data: bytes) -> None:
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


@pytest.mark.parametrize("name", ["plain.log", "with space.log", "new\nline.log", "-dash",
                                  "ünï.log", "bad\udcff.log", ".hidden", "x" * 255])
def test_odd_names_are_just_names(tmp_path: Path, name: str) -> None:
    path = str(tmp_path / name)
    assert output_problem(path) is None
    _write(open_output(path), b"one\n")
    _write(open_output(path), b"two\n")  # appended
    fd = open_input(path)
    with os.fdopen(fd, "rb") as f:
        assert f.read() == b"one\ntwo\n"
    assert stat.S_IMODE(os.stat(path).st_mode) & 0o600 == 0o600


def test_descriptor_is_blocking_and_close_on_exec(tmp_path: Path) -> None:
    fd = open_output(str(tmp_path / "f"))
    try:
        assert os.get_blocking(fd) and not os.get_inheritable(fd)
    finally:
        os.close(fd)


def test_truncate(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"old contents\n")
    _write(open_output(str(path), append=False), b"new\n")
    assert path.read_bytes() == b"new\n"


def test_dev_null_allowed() -> None:
    assert output_problem("/dev/null") is None
    _write(open_output("/dev/null"), b"gone\n")


def test_fifo_without_reader_refused_at_once(tmp_path: Path) -> None:
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    assert output_problem(fifo) == "not a regular file (a FIFO)"
    with pytest.raises(FileRefused, match=r"^not a regular file \(a FIFO\)$"):
        open_output(fifo)
    with pytest.raises(FileRefused, match="FIFO"):
        open_input(fifo)  # a reader would block until a writer came


def test_fifo_with_reader_refused(tmp_path: Path) -> None:
    """Even when the open itself would succeed, a FIFO is refused (the
    check after opening: the name may have changed since the look)."""
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        import pantasks.lang.safeopen as so

        real = so.output_problem
        so.output_problem = lambda path: None  # as if it were a file when looked at
        try:
            with pytest.raises(FileRefused, match="FIFO"):
                open_output(fifo)
        finally:
            so.output_problem = real
    finally:
        os.close(reader)


def test_directory_device_socket_refused(tmp_path: Path) -> None:
    with pytest.raises(FileRefused, match=r"a directory"):
        open_output(str(tmp_path))
    with pytest.raises(FileRefused, match=r"a device"):
        open_output("/dev/zero")
    with pytest.raises(FileRefused, match=r"a device"):
        open_input("/dev/zero")  # would read for ever
    with pytest.raises(FileRefused, match=r"a directory"):
        open_input(str(tmp_path))
    sock_path = str(tmp_path / "s")
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind(sock_path)
        with pytest.raises(FileRefused, match=r"a socket"):
            open_output(sock_path)
    finally:
        s.close()


def test_bad_names_refused(tmp_path: Path) -> None:
    with pytest.raises(FileRefused, match="NUL"):
        open_output(str(tmp_path / "a\x00b"))
    with pytest.raises(FileRefused, match="invalid file name"):
        open_input(str(tmp_path / "a\x00b"))
    with pytest.raises(FileRefused, match="too long"):
        open_output(str(tmp_path / ("x" * 300)))
    with pytest.raises(FileRefused, match="No such file"):
        open_output(str(tmp_path / "no" / "dir" / "f"))
    with pytest.raises(FileRefused, match="No such file"):
        open_input(str(tmp_path / "missing"))

