# -*- test-case-name: tests.exec.test_agent -*-
"""The protocol between the controller and C{pantasks_agent}.

Twisted AMP boxes over the agent's standard input and output (through
SSH): every message is framed by length, so no byte a job prints or an
argument holds can be taken for protocol, and nothing is re-parsed on the
way (the original's pcontrol/pclient re-split job lines through two shells
and searched every argument for options).

Controller to agent: L{Hello} (first, answered with the agent's version),
L{SpecPart} and L{Run} (start a job), L{Kill}, L{Ping}.  Agent to
controller, pushed as they happen, never polled: L{Output} (a chunk of a
job's stdout or stderr) and L{Ended} (how the job ended).

An AMP value holds at most 65535 bytes, so argv and environment travel as
one byte string (L{encode_spec}) cut into L{CHUNK}-sized pieces: the
pieces but the last as L{SpecPart} boxes, the last inside L{Run}.
"""

from __future__ import annotations

import os
import struct

from twisted.protocols import amp

#: Bumped whenever a box changes incompatibly; L{Hello} compares it.
PROTOCOL = 1

#: The largest payload put in one AMP value (AMP's limit is 65535).
CHUNK = 60000

#: The largest job specification (argv + environment) the agent accepts.
MAX_SPEC = 64 * 2**20


class BadRequest(Exception):
    """The agent refuses a request; the description says why."""


class Hello(amp.Command):
    """First box on a connection: versions both ways, and the kill grace."""

    arguments = [
        (b"protocol", amp.Integer()),
        (b"version", amp.Unicode()),
        (b"kill_grace", amp.Float()),
    ]
    response = [
        (b"protocol", amp.Integer()),
        (b"version", amp.Unicode()),
        (b"hostname", amp.Unicode()),
        (b"pid", amp.Integer()),
    ]
    errors = {BadRequest: b"BAD_REQUEST"}


class SpecPart(amp.Command):
    """A leading piece of the encoded specification of job C{job}."""

    arguments = [(b"job", amp.Integer()), (b"data", amp.String())]
    requiresAnswer = False


class Run(amp.Command):
    """Start job C{job}: C{spec} ends its encoded specification."""

    arguments = [
        (b"job", amp.Integer()),
        (b"spec", amp.String()),
        (b"nice", amp.Integer()),
        (b"timeout", amp.Float(optional=True)),
    ]
    response = [(b"pid", amp.Integer(optional=True))]
    errors = {BadRequest: b"BAD_REQUEST"}


class Kill(amp.Command):
    """Kill job C{job} (SIGTERM, SIGKILL after the grace, whole group)."""

    arguments = [(b"job", amp.Integer())]
    response = [(b"killed", amp.Boolean())]


class Ping(amp.Command):
    """Heartbeat: answered at once by a live agent."""

    arguments: list = []
    response: list = []


class Output(amp.Command):
    """A chunk of job C{job}'s standard output (C{fd} 1) or error (2)."""

    arguments = [(b"job", amp.Integer()), (b"fd", amp.Integer()), (b"data", amp.String())]
    requiresAnswer = False


class Ended(amp.Command):
    """Job C{job} ended; the fields are those of L{JobResult}."""

    arguments = [
        (b"job", amp.Integer()),
        (b"state", amp.Unicode()),
        (b"exit_status", amp.Integer()),
        (b"term_signal", amp.Integer(optional=True)),
        (b"pid", amp.Integer(optional=True)),
        (b"dtime", amp.Float()),
        (b"messages", amp.ListOf(amp.Unicode())),
    ]
    requiresAnswer = False


_ITEM = struct.Struct("!cI")


def encode_spec(argv: list[str], env: dict[str, str] | None, cwd: str | None) -> bytes:
    """
    Encode what a job runs as bytes: records of a tag byte, a 4-byte length
    and the raw bytes (C{a} an argument, C{E} "an environment follows",
    C{e} one C{NAME=value}, C{c} the working directory).  Strings go
    through C{os.fsencode}, so arguments holding undecodable bytes (kept
    as surrogate escapes) arrive as the very bytes they were.
    """
    out = []

    def item(tag: bytes, data: bytes) -> None:
        out.append(_ITEM.pack(tag, len(data)))
        out.append(data)

    for arg in argv:
        item(b"a", os.fsencode(arg))
    if env is not None:
        item(b"E", b"")
        for name, value in env.items():
            item(b"e", os.fsencode(name) + b"=" + os.fsencode(value))
    if cwd is not None:
        item(b"c", os.fsencode(cwd))
    return b"".join(out)


def decode_spec(data: bytes) -> tuple[list[str], dict[str, str] | None, str | None]:
    """
    Decode L{encode_spec}'s bytes.

    @raise ValueError: on anything malformed (truncated, unknown tag, no
        argument, a NUL byte that exec could not pass on).
    """
    argv: list[str] = []
    env: dict[str, str] | None = None
    cwd: str | None = None
    view = memoryview(data)
    pos = 0
    while pos < len(view):
        if pos + _ITEM.size > len(view):
            raise ValueError("truncated job specification")
        tag, length = _ITEM.unpack_from(view, pos)
        pos += _ITEM.size
        if pos + length > len(view):
            raise ValueError("truncated job specification")
        raw = bytes(view[pos : pos + length])
        pos += length
        if b"\0" in raw:
            raise ValueError("a NUL byte in the job specification")
        if tag == b"a":
            argv.append(os.fsdecode(raw))
        elif tag == b"E":
            env = {}
        elif tag == b"e":
            if env is None or b"=" not in raw:
                raise ValueError("malformed environment entry")
            name, _, value = raw.partition(b"=")
            env[os.fsdecode(name)] = os.fsdecode(value)
        elif tag == b"c":
            cwd = os.fsdecode(raw)
        else:
            raise ValueError(f"unknown record {tag!r} in the job specification")
    if not argv:
        raise ValueError("a job needs a command")
    return argv, env, cwd


def chunks(data: bytes, size: int = CHUNK) -> list[bytes]:
    """Cut C{data} into pieces of at most C{size} bytes (at least one)."""
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]
