# -*- test-case-name: tests.test_config -*-
"""Configuration files: the original's C{ptolemy.rc} and our C{pantasks.conf}.

Two files, because they have two jobs.  C{ptolemy.rc} is shared with the
rest of the Ohana tools and with every deployment of the original
pantasks, so it is found and read exactly as the original did (the only
change: a key on the very first line is no longer invisible).  Settings the
original never had (listen endpoint, TLS, users and roles, limits, the
controller's connect command) live in C{pantasks.conf}, checked against a
configspec when it loads, so a bad value stops the load with one line that
names the file, the line and the key, and a reload with a bad file changes
nothing (the caller keeps the old object).

Every problem is a L{ConfigError}; none reaches the user as a traceback.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import shlex
import string
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from configobj import ConfigObj, ConfigObjError, get_extra_values
from validate import (
    ValidateError,
    Validator,
    VdtTypeError,
    VdtValueTooBigError,
    VdtValueTooLongError,
    VdtValueTooShortError,
    VdtValueTooSmallError,
)

__all__ = [
    "ConfigError",
    "ControllerSection",
    "JobsSection",
    "LimitsSection",
    "MAX_INPUT_DEPTH",
    "PANTASKS_KEYS",
    "PtolemyConfig",
    "ROLES",
    "SERVER_CONFIGSPEC",
    "ServerConfig",
    "ServerSection",
    "User",
    "WebSection",
    "find_config_file",
    "load_ptolemy_config",
    "load_server_config",
    "server_config_from_text",
]


class ConfigError(Exception):
    """
    A configuration file (or option) is wrong.

    C{str()} is always one line: C{FILE:LINE: message}, or C{FILE: message}
    when no line applies (an unreadable file, for instance).

    @ivar filename: the file (or C{-D}/C{-C} for command-line options).
    @type filename: C{str}
    @ivar lineno: 1-based line number, or L{None}.
    @type lineno: C{int} or L{None}
    @ivar message: the problem, without the location.
    @type message: C{str}
    """

    def __init__(self, filename: str, lineno: int | None, message: str) -> None:
        self.filename = filename
        self.lineno = lineno
        self.message = " ".join(message.split("\n"))
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.lineno is None:
            return f"{self.filename}: {self.message}"
        return f"{self.filename}:{self.lineno}: {self.message}"


# ---------------------------------------------------------------------------
# ptolemy.rc
# ---------------------------------------------------------------------------

#: How deep C{input} lines may nest (as the original's 20 passes).
MAX_INPUT_DEPTH = 20

#: The ptolemy.rc keys pantasks itself reads.  L{PtolemyConfig} expands
#: their values when it loads, so a bad C{$NAME} in one of them is reported
#: at start-up rather than at first use.
PANTASKS_KEYS = (
    "PANTASKS_SERVER",
    "PANTASKS_SERVER_PORT",
    "PASSWORD",
    "PANTASKS_SERVER_STDOUT",
    "PANTASKS_SERVER_STDERR",
    "VALID_IP",
    "CONTROLLER",
)

# The original's OHANA_WHITESPACE: what may follow a key, and what a value
# is trimmed of.
_WS = " \t\n\v\f\r"
_KEY_RE = re.compile(r"([^ \t\n\v\f\r]+)(.*)\Z", re.DOTALL)
# $NAME: name characters as the original's expandline (C isalnum, _ and -).
_VAR_RE = re.compile(r"\$([A-Za-z0-9_-]*)")


class _Entry:
    """One C{KEY value} line, with where it came from."""

    __slots__ = ("key", "value", "filename", "lineno", "depth", "chain")

    def __init__(
        self,
        key: str,
        value: str,
        filename: str,
        lineno: int,
        depth: int,
        chain: tuple[str, ...],
    ) -> None:
        self.key = key
        self.value = value
        self.filename = filename
        self.lineno = lineno
        # depth: how many input lines led here; chain: the real paths of the
        # files that did (to report an include loop as such).
        self.depth = depth
        self.chain = chain


def _parse_rc(text: str, filename: str, depth: int, chain: tuple[str, ...]) -> list[_Entry]:
    """
    Split ptolemy.rc text into entries.

    A key starts in column 0 and ends at the first whitespace (or the end
    of the line); the value is the rest of the line, trimmed.  Lines that
    start with whitespace or C{#} hold no key.  Lines end at LF only, as
    in the original; a CR is trimmed with the rest of the whitespace.
    """
    entries = []
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line or line[0] in _WS or line[0] == "#":
            continue
        match = _KEY_RE.match(line)
        assert match is not None
        key, rest = match.groups()
        entries.append(_Entry(key, rest.strip(_WS), filename, lineno, depth, chain))
    return entries


def _read_text(path: str, shown: str, origin: tuple[str, int] | None = None) -> str:
    """
    Read a UTF-8 text file.

    @param path: the file to open.
    @param shown: its name in error messages.
    @param origin: C{(file, line)} of the C{input} line that named it, or
        L{None} for a top-level file; a file that cannot be opened is
        reported there.
    @raise ConfigError: the file cannot be read or is not UTF-8.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        if origin is None:
            raise ConfigError(shown, None, f"cannot read: {e.strerror}") from None
        raise ConfigError(*origin, f"input {shown}: cannot read: {e.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        bad_line = data.count(b"\n", 0, e.start) + 1
        raise ConfigError(shown, bad_line, "not valid UTF-8 text") from None
    return text.removeprefix("\ufeff")


def find_config_file(
    explicit: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    home: str | None = None,
) -> str | None:
    """
    Choose the ptolemy.rc file as the original did; the first match wins.

      1. C{explicit} (the C{-c FILE} option), even if it does not exist: the
         load then reports it;
      2. C{$PTOLEMY} (when set and not empty), likewise;
      3. C{ptolemy.rc} in C{cwd}, if it is a readable file;
      4. C{.ptolemyrc} in C{home}, if it is a readable file.

    (The original's comment also lists C{./.ptolemyrc}, but its code never
    looked there; neither do we.)

    @param explicit: the C{-c} argument, or L{None}.
    @param env: the environment; L{os.environ} when L{None}.
    @param cwd: the directory to look in for C{ptolemy.rc}; the process's
        current directory when L{None}.
    @param home: the home directory; C{env["HOME"]} when L{None}.
    @return: the path, or L{None} when there is no config file.
    """
    if env is None:
        env = os.environ
    if explicit is not None:
        return explicit
    from_env = env.get("PTOLEMY")
    if from_env:
        return from_env
    local = "ptolemy.rc" if cwd is None else os.path.join(cwd, "ptolemy.rc")
    if _readable(local):
        return local
    if home is None:
        home = env.get("HOME")
    if home:
        dot = os.path.join(home, ".ptolemyrc")
        if _readable(dot):
            return dot
    return None


def _readable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.R_OK)


class PtolemyConfig:
    """
    A loaded ptolemy.rc: C{KEY value} lines, the last match of a key wins.

    The text is the file, then C{CONFIG WORD} for C{-C WORD}, then one
    C{KEY VALUE} line per C{-D KEY VALUE} (so they override the file); then
    every C{input PATH} line is replaced by that file's lines, recursively,
    up to L{MAX_INPUT_DEPTH} levels.  A relative C{PATH} is looked up in
    C{cwd} first (as the original did) and then beside the file holding the
    C{input} line.  C{$NAME} in a value (and in an C{input} path) becomes
    the value of config key C{NAME}, itself expanded; a C{$} not followed
    by a name character is kept as it is.

    Differences from the original, all deliberate: a key on the first line
    is found; C{#} lines are comments (they never matched anyway); a missing
    C{input} file, an undefined C{$NAME}, an include loop or nesting past
    the limit is an error instead of a warning; C{-D} lines are not cut at
    256 bytes.

    @ivar filename: the main file, or L{None} when there is none.
    @ivar lookup_override: L{None} or a callable taking a key and returning
        a string or L{None}; when it returns a string, L{get} and
        L{get_all} return that instead of the file's value (the original
        let a shell variable of the key's name win).
    """

    def __init__(
        self,
        text: str = "",
        filename: str | None = None,
        defines: Iterable[tuple[str, str]] = (),
        config_word: str | None = None,
        lookup_override: Callable[[str], str | None] | None = None,
        cwd: str | None = None,
        check: Iterable[str] | None = PANTASKS_KEYS,
    ) -> None:
        """
        @param text: the main file's text.
        @param filename: its name, for error messages.
        @param defines: C{(KEY, VALUE)} pairs from C{-D} options, in order.
        @param config_word: the C{-C WORD} argument, or L{None}.
        @param lookup_override: see the class's C{lookup_override}.
        @param cwd: the directory relative C{input} paths are tried in
            first; the process's current directory when L{None}.
        @param check: keys whose values are expanded now, so errors in them
            surface at load time; L{None} means every key.  Other keys are
            expanded when read.
        @raise ConfigError: for a bad C{-D} key or value, an unreadable or
            looping C{input} file, or a bad C{$NAME} in a checked key.
        """
        self.filename = filename
        self.lookup_override = lookup_override
        self._cwd = os.getcwd() if cwd is None else cwd
        shown = filename if filename is not None else "<config>"
        top_chain: tuple[str, ...] = ()
        if filename is not None:
            top_chain = (os.path.realpath(filename),)
        entries = _parse_rc(text, shown, 0, top_chain)
        if config_word is not None:
            entries.extend(self._option_entries("-C", [("CONFIG", config_word)]))
        entries.extend(self._option_entries("-D", list(defines)))
        self._entries = self._include(entries)
        self._index = self._make_index(self._entries)
        self._memo: dict[_Entry, str] = {}
        self.validate(check)

    @classmethod
    def from_file(
        cls,
        path: str,
        defines: Iterable[tuple[str, str]] = (),
        config_word: str | None = None,
        lookup_override: Callable[[str], str | None] | None = None,
        cwd: str | None = None,
        check: Iterable[str] | None = PANTASKS_KEYS,
    ) -> PtolemyConfig:
        """
        Load a ptolemy.rc file; the other arguments are as for the
        constructor.

        @param path: the file, relative to the process's current directory
            (like C{-c FILE}).

        @raise ConfigError: the file cannot be read, or see the constructor.
        """
        text = _read_text(path, path)
        return cls(text, path, defines, config_word, lookup_override, cwd, check)

    @staticmethod
    def _option_entries(option: str, pairs: Sequence[tuple[str, str]]) -> list[_Entry]:
        """Entries for C{-C}/C{-D} options, located as C{-D:N} (N-th one)."""
        entries = []
        for n, (key, value) in enumerate(pairs, 1):
            if not key or any(c in _WS for c in key) or key[0] == "#":
                raise ConfigError(option, n, f"bad key {key!r}")
            if "\n" in value:
                raise ConfigError(option, n, f"{key}: value contains a newline")
            entries.append(_Entry(key, value.strip(_WS), option, n, 0, ()))
        return entries

    @staticmethod
    def _make_index(entries: list[_Entry]) -> dict[str, list[_Entry]]:
        index: dict[str, list[_Entry]] = {}
        for entry in entries:
            index.setdefault(entry.key, []).append(entry)
        return index

    def _include(self, entries: list[_Entry]) -> list[_Entry]:
        """
        Replace C{input} lines by their files' entries, pass by pass, as the
        original did (so an C{input} path may use C{$NAME} from anywhere).
        """
        while any(e.key == "input" for e in entries):
            index = self._make_index(entries)
            memo: dict[_Entry, str] = {}
            result = []
            for entry in entries:
                if entry.key != "input":
                    result.append(entry)
                    continue
                where = (entry.filename, entry.lineno)
                if entry.depth >= MAX_INPUT_DEPTH:
                    raise ConfigError(
                        *where, f"input nested more than {MAX_INPUT_DEPTH} levels deep"
                    )
                path = self._expand(entry, index, memo, ())
                if not path:
                    raise ConfigError(*where, "input needs a file name")
                found = self._find_input(path, entry.filename)
                real = os.path.realpath(found)
                if real in entry.chain:
                    raise ConfigError(*where, f"input {path}: file includes itself")
                text = _read_text(found, path, where)
                result.extend(_parse_rc(text, path, entry.depth + 1, entry.chain + (real,)))
            entries = result
        return entries

    def _find_input(self, path: str, including: str) -> str:
        """Where an C{input} path points: C{cwd} first, then beside C{including}."""
        first = os.path.join(self._cwd, path)
        if os.path.isabs(path) or os.path.exists(first):
            return first
        beside = os.path.join(os.path.dirname(including), path)
        return beside if os.path.exists(beside) else first

    def _expand(
        self,
        entry: _Entry,
        index: dict[str, list[_Entry]],
        memo: dict[_Entry, str],
        stack: tuple[_Entry, ...],
    ) -> str:
        """The entry's value with every C{$NAME} replaced (recursively)."""
        if entry in memo:
            return memo[entry]
        stack = stack + (entry,)
        parts = []
        pos = 0
        for match in _VAR_RE.finditer(entry.value):
            parts.append(entry.value[pos : match.start()])
            pos = match.end()
            name = match.group(1)
            if not name:
                parts.append("$")
                continue
            found = index.get(name)
            if not found:
                raise ConfigError(
                    entry.filename,
                    entry.lineno,
                    f"{entry.key}: variable {name} not found in config",
                )
            target = found[-1]
            if target in stack:
                raise ConfigError(
                    entry.filename,
                    entry.lineno,
                    f"{entry.key}: ${name} refers back to itself",
                )
            parts.append(self._expand(target, index, memo, stack))
        parts.append(entry.value[pos:])
        value = "".join(parts)
        memo[entry] = value
        return value

    def validate(self, keys: Iterable[str] | None = None) -> None:
        """
        Expand every value of C{keys} (of every key when L{None}) now.

        @raise ConfigError: the first bad C{$NAME} found, in file order.
        """
        wanted = None if keys is None else set(keys)
        for entry in self._entries:
            if wanted is None or entry.key in wanted:
                self._expand(entry, self._index, self._memo, ())

    def get(self, key: str, default: str | None = None) -> str | None:
        """
        The value of C{key}: the override's, else the last matching line's.

        @param key: the key, case-sensitive.
        @param default: returned when the key is nowhere.
        @raise ConfigError: the value names an undefined C{$NAME}.
        """
        if self.lookup_override is not None:
            value = self.lookup_override(key)
            if value is not None:
                return value
        found = self._index.get(key)
        if not found:
            return default
        return self._expand(found[-1], self._index, self._memo, ())

    def get_all(self, key: str) -> list[str]:
        """
        Every value of C{key}, in file order (for repeatable keys such as
        C{VALID_IP}); just the override's value when it has one.

        @raise ConfigError: a value names an undefined C{$NAME}.
        """
        if self.lookup_override is not None:
            value = self.lookup_override(key)
            if value is not None:
                return [value]
        return [self._expand(e, self._index, self._memo, ()) for e in self._index.get(key, ())]

    def where(self, key: str) -> tuple[str, int] | None:
        """
        Where the value L{get} returns comes from: C{(file, line)}, or
        L{None} when the key is not in the config.  The file is C{-D} or
        C{-C} for options (the line is then the option's position).
        """
        found = self._index.get(key)
        if not found:
            return None
        return (found[-1].filename, found[-1].lineno)

    def error(self, key: str, message: str) -> ConfigError:
        """
        A L{ConfigError} about C{key}'s value, located where it is set.

        For callers that check a value's meaning (a port range, an IP
        address): C{raise config.error("PANTASKS_SERVER_PORT", "...")}.
        """
        location = self.where(key)
        if location is None:
            name = self.filename if self.filename is not None else "<config>"
            return ConfigError(name, None, f"{key}: {message}")
        return ConfigError(location[0], location[1], f"{key}: {message}")

    def keys(self) -> list[str]:
        """Every key in the config, in order of first appearance."""
        return list(self._index)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __repr__(self) -> str:
        return f"<PtolemyConfig {self.filename!r}: {len(self._entries)} lines>"


def load_ptolemy_config(
    explicit: str | None = None,
    defines: Iterable[tuple[str, str]] = (),
    config_word: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    home: str | None = None,
    lookup_override: Callable[[str], str | None] | None = None,
) -> PtolemyConfig:
    """
    Find (L{find_config_file}) and load the ptolemy.rc.

    With no file at all, the config holds only the C{-C}/C{-D} options.

    @raise ConfigError: the chosen file cannot be read, or is bad.
    """
    path = find_config_file(explicit, env, cwd, home)
    if path is None:
        return PtolemyConfig("", None, defines, config_word, lookup_override, cwd=cwd)
    return PtolemyConfig.from_file(path, defines, config_word, lookup_override, cwd=cwd)


# ---------------------------------------------------------------------------
# pantasks.conf
# ---------------------------------------------------------------------------

#: The roles a user may have: C{control} may change things, C{watch} may
#: only look.
ROLES = ("control", "watch")

_USER_NAME_RE = re.compile(r"[A-Za-z0-9_.@-]+\Z")

#: The configspec of pantasks.conf; it is the only place defaults live.
SERVER_CONFIGSPEC = """\
# pantasks.conf: what ptolemy.rc never had.  Every key is optional.

[server]
# Twisted server endpoint description to listen on, for example
# "tcp:2000:interface=0.0.0.0" or "ssl:2000:privateKey=key.pem".  When set,
# interface, tls_key, tls_cert and PANTASKS_SERVER_PORT are not used.
# Empty: the first free port of the PANTASKS_SERVER_PORT range (ptolemy.rc,
# default 2000..2010) on `interface`.
endpoint = endpoint(default="")
# Address to listen on when endpoint is empty; "" means every interface.
# "auto": every interface when a password is configured (ptolemy.rc
# PASSWORD or [users]), as the original did; loopback only when the server
# runs on its generated password (no configuration at all).
interface = interface(default="auto")
# Longest request line in bytes; a longer one gets "ERR line too long".
# (Before login the bound is 1024 bytes.)
max_line_length = integer(min=256, default=65536)
# Logged-in sessions at most; a login beyond gets "ERR too many connections".
max_connections = integer(min=1, default=200)
# Of max_connections, the last this many are only for control users.
control_reserve = integer(min=0, default=10)
# Watch sessions from one address at most (control sessions not counted).
max_per_address = integer(min=1, default=32)
# Connections not logged in yet, at most; when full, the oldest one of the
# address holding the most is closed to make room for a newcomer.
max_pending = integer(min=1, default=128)
# Connections not logged in yet from one address; beyond, that address's
# oldest one is closed.
max_pending_per_address = integer(min=1, default=64)
# Seconds a connection may take to log in; 0 = no limit.
login_timeout = float(min=0, default=10)
# Seconds without a request before an idle connection is closed; 0 = never.
idle_timeout = float(min=0, default=0)
# The same for watch sessions (the smaller of the two applies); 0 = never.
watch_idle_timeout = float(min=0, default=3600)
# Accept "PASS <password>" (plain text); false leaves only AUTH.
allow_plain_pass = boolean(default=True)
# Seconds to wait before answering a failed PASS/AUTH; doubled for each
# earlier failure of the address within lockout_window, up to
# auth_fail_delay_max.
auth_fail_delay = float(min=0, default=1.0)
auth_fail_delay_max = float(min=0, default=30)
# Failures from one address within lockout_window seconds that block it for
# lockout_time seconds; 0 = never block.  A successful login clears nothing.
lockout_failures = integer(min=0, default=5)
lockout_window = float(min=0, default=60)
lockout_time = float(min=0, default=300)
# Failures for one user name within lockout_window that block that name for
# lockout_time seconds from every address that failed a login in that time
# (a clean address still gets in); 0 = never.
lockout_user_failures = integer(min=0, default=10)
# PEM files for TLS on the port range (endpoint empty); both empty = plain
# TCP.  tls_key alone is fine if it holds the certificate too.
tls_key = file(default="")
tls_cert = file(default="")
# The name this server gives in its greeting, so clients say which server
# they reached (pantasks_client --name refuses another).  A word: letters,
# digits and ._- only.  Empty: ptolemy.rc's PANTASKS_SERVER_NAME, else the
# last part of the server's working directory (stdscience for
# ~ipp/stdscience).
name = server_name(default="")

[users]
# One line per user: name = password, role  (role: control or watch).
# Quote a password holding a comma: bob = "a,b", watch
__many__ = user()

[jobs]
# Bytes of a job's stdout (and of its stderr) kept in memory; the rest is
# only in the task's output files.
max_output_bytes = integer(min=0, default=16777216)
# Seconds between SIGTERM and SIGKILL when a job is killed.
kill_grace = float(min=0, default=5.0)
# Spread task executions a little in time so tasks due together do not
# all start in the same instant.
exec_jitter = boolean(default=True)

[controller]
# Command that starts the agent on a remote host; {host} is replaced by the
# host name.
connect_command = command(default="ssh -x -o BatchMode=yes {host} pantasks_agent")
# The agent program, for agents started on this host.
agent_path = string(min=1, default="pantasks_agent")
# Times a job lost with its host is run again before it fails.
max_retries = integer(min=0, default=3)

[limits]
# The longest value a variable, list element, queue line or book word may
# hold, in characters (every role); storing a longer one is an error and
# stores nothing.  A command line may expand to twice this (plus 64 KiB).
max_value = integer(min=1024, default=16777216)
# A watch user's own variables (kept for its session, never shared; local
# variables of a running request count too): at most this many ...
watch_session_lines = integer(min=0, default=10000)
# ... and at most this many characters (names and values).
watch_session_size = integer(min=0, default=33554432)
# All watch sessions together keep at most this many characters.
watch_total_size = integer(min=0, default=134217728)
# Seconds an execution (a request, a task macro, a script load) may compute
# before it gives the server back to the others; they take turns.
slice = float(min=0.001, max=1.0, default=0.01)
# CPU seconds one request may use, by the role of who sent it; 0 = no limit.
request_cpu_watch = float(min=0, default=5)
request_cpu_control = float(min=0, default=0)
# CPU seconds one run of a task.exec or exit macro may use; 0 = no limit.
macro_cpu = float(min=0, default=60)
# Bytes all connections' open (MORE) blocks may hold together.
max_open_block_bytes = integer(min=0, default=67108864)
# Bytes a client that does not read its replies may leave unread before
# its connection is closed.
max_unread_bytes = integer(min=65536, default=16777216)
# Bytes of L/J watch lines kept for a client that does not read them.
max_held_watch_bytes = integer(min=4096, default=1048576)

[web]
# Twisted endpoint of the read-only web status page and /metrics, e.g.
# "tcp:8080:interface=127.0.0.1" or "ssl:8443:privateKey=key.pem"; empty:
# no web page.  Users log in as on the line protocol (HTTP Basic only over
# TLS or from loopback) or with a token from the client command web token;
# VALID_IP applies.
endpoint = endpoint(default="")
# Seconds a web token stays valid.
token_lifetime = float(min=60, default=43200)
# Pages update live at most this often (seconds).
update_interval = float(min=0.2, default=1.0)
# Live-update streams (open pages) at once; more are refused.
max_streams = integer(min=1, default=32)
# Ended jobs the jobs page remembers.
recent_jobs = integer(min=10, max=100000, default=500)
"""


class _Invalid(ValidateError):
    """A custom check failed; the message is complete."""


def _check_endpoint(value: object) -> str:
    if not isinstance(value, str):
        raise VdtTypeError(value)
    if value:
        from twisted.internet.endpoints import serverFromString

        try:
            # The reactor is only stored, so None does for checking.
            serverFromString(None, value)
        except Exception as e:
            raise _Invalid(f"{value!r} is not a valid endpoint ({e})") from None
    return value


def _check_interface(value: object) -> str:
    if not isinstance(value, str):
        raise VdtTypeError(value)
    if value and value != "auto":
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise _Invalid(f"{value!r} is not an IP address") from None
    return value


_SERVER_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}\Z")


def _check_server_name(value: object) -> str:
    if not isinstance(value, str):
        raise VdtTypeError(value)
    if value and not _SERVER_NAME_RE.match(value):
        raise _Invalid(f"{value!r} is not a name (1 to 64 letters, digits, '.', '_', '-')")
    return value


def server_name_from(text: str) -> str:
    """C{text} made a valid server name (other characters become C{_});
    C{pantasks} when nothing is left."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", text.strip())[:64]
    return name or "pantasks"


def _check_file(value: object) -> str:
    if not isinstance(value, str):
        raise VdtTypeError(value)
    if value and not _readable(value):
        raise _Invalid(f"{value!r} is not a readable file")
    return value


def _check_command(value: object) -> str:
    if not isinstance(value, str):
        raise VdtTypeError(value)
    fields_ = [f for _, f, _, _ in _formatter_parse(value)]
    if "host" not in fields_:
        raise _Invalid(f"{value!r} does not contain {{host}}")
    unknown = sorted({f for f in fields_ if f is not None and f != "host"})
    if unknown:
        raise _Invalid(f"{value!r}: unknown placeholder {{{unknown[0]}}}")
    try:
        words = shlex.split(value.format(host="HOST"))
    except ValueError as e:
        raise _Invalid(f"{value!r}: {e}") from None
    if not words:
        raise _Invalid("empty command")
    return value


def _formatter_parse(value: str) -> list[tuple[str, str | None, str | None, str | None]]:
    try:
        return list(string.Formatter().parse(value))
    except ValueError as e:
        raise _Invalid(f"{value!r}: {e}") from None


def _check_user(value: object) -> tuple[str, str]:
    if not isinstance(value, list) or len(value) != 2:
        raise _Invalid('expected "password, role"')
    password, role = value
    if not password:
        raise _Invalid("empty password")
    if role not in ROLES:
        raise _Invalid(f"role {role!r} is not one of {', '.join(ROLES)}")
    return (password, role)


_CHECKS = {
    "endpoint": _check_endpoint,
    "interface": _check_interface,
    "file": _check_file,
    "server_name": _check_server_name,
    "command": _check_command,
    "user": _check_user,
}


@dataclass(frozen=True)
class ServerSection:
    """The C{[server]} section; see L{SERVER_CONFIGSPEC} for each key."""

    endpoint: str
    interface: str
    max_line_length: int
    max_connections: int
    control_reserve: int
    max_per_address: int
    max_pending: int
    max_pending_per_address: int
    login_timeout: float
    idle_timeout: float
    watch_idle_timeout: float
    allow_plain_pass: bool
    auth_fail_delay: float
    auth_fail_delay_max: float
    lockout_failures: int
    lockout_window: float
    lockout_time: float
    lockout_user_failures: int
    tls_key: str
    tls_cert: str
    name: str = ""


@dataclass(frozen=True)
class User:
    """
    One C{[users]} entry.

    @ivar role: one of L{ROLES}.
    """

    name: str
    password: str
    role: str


@dataclass(frozen=True)
class JobsSection:
    """The C{[jobs]} section; see L{SERVER_CONFIGSPEC} for each key."""

    max_output_bytes: int
    kill_grace: float
    exec_jitter: bool


@dataclass(frozen=True)
class ControllerSection:
    """The C{[controller]} section; see L{SERVER_CONFIGSPEC} for each key."""

    connect_command: str
    agent_path: str
    max_retries: int


@dataclass(frozen=True)
class LimitsSection:
    """The C{[limits]} section; see L{SERVER_CONFIGSPEC} for each key."""

    max_value: int
    watch_session_lines: int
    watch_session_size: int
    watch_total_size: int
    slice: float
    request_cpu_watch: float
    request_cpu_control: float
    macro_cpu: float
    max_open_block_bytes: int
    max_unread_bytes: int
    max_held_watch_bytes: int


@dataclass(frozen=True)
class WebSection:
    """The C{[web]} section; see L{SERVER_CONFIGSPEC} for each key."""

    endpoint: str
    token_lifetime: float
    update_interval: float
    max_streams: int
    recent_jobs: int


@dataclass(frozen=True)
class ServerConfig:
    """
    A validated pantasks.conf.  Immutable: a reload builds a new one.

    @ivar users: user name to L{User} (read-only mapping).
    @ivar path: the file it came from, or L{None} for the defaults.
    """

    server: ServerSection
    users: Mapping[str, User]
    jobs: JobsSection
    controller: ControllerSection
    limits: LimitsSection
    web: WebSection
    path: str | None = None


_T = TypeVar("_T")
_Report = Callable[[Sequence[str], "str | None", str], None]

_SECTION_RE = re.compile(r"""\s*(\[+)\s*(?:"([^"]*)"|'([^']*)'|([^\]]*?))\s*\]+\s*(?:\#.*)?\Z""")
_KEYLINE_RE = re.compile(r"""\s*(?:"([^"]*)"|'([^']*)'|([^=#"'][^=]*?))\s*=""")


def _locate(lines: Sequence[str], section: Sequence[str], key: str | None) -> int | None:
    """
    The line number of C{key} inside C{section} (or of the section's
    header when C{key} is L{None}); configobj's validation does not say.
    """
    path: list[str] = []
    for lineno, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        header = _SECTION_RE.match(line)
        if header is not None:
            depth = len(header.group(1))
            name = next(g for g in header.groups()[1:] if g is not None)
            path = path[: depth - 1] + [name]
            if key is None and path == list(section):
                return lineno
            continue
        if key is None or path != list(section):
            continue
        keyline = _KEYLINE_RE.match(line)
        if keyline is not None:
            name = next(g for g in keyline.groups() if g is not None)
            if name == key:
                return lineno
    return None


def _spec_limit(spec: str, which: str) -> str:
    match = re.search(which + r"\s*=\s*([^,)\s]+)", spec)
    return match.group(1) if match else "?"


def _describe(error: BaseException, spec: str, raw: object) -> str:
    """One-line wording of a validation failure of value C{raw}."""
    if isinstance(error, _Invalid):
        return str(error)
    if isinstance(raw, list):
        shown = ", ".join(str(x) for x in raw)
        return f"{shown!r} is a list (quote a value that holds a comma)"
    kind = spec.split("(", 1)[0].strip()
    if isinstance(error, VdtTypeError):
        wanted = {
            "integer": "an integer",
            "float": "a number",
            "boolean": "true or false",
        }.get(kind, "a " + kind)
        return f"{raw!r} is not {wanted}"
    if isinstance(error, VdtValueTooSmallError):
        return f"{raw!r} is below the minimum {_spec_limit(spec, 'min')}"
    if isinstance(error, VdtValueTooShortError):
        return "must not be empty" if raw == "" else f"{raw!r} is too short"
    if isinstance(error, VdtValueTooLongError):
        return f"{raw!r} is too long"
    if isinstance(error, VdtValueTooBigError):
        return f"{raw!r} is above the maximum {_spec_limit(spec, 'max')}"
    return f"{raw!r} is not valid"


def _label(section: Sequence[str], key: str | None) -> str:
    where = "".join(f"[{s}]" for s in section)
    if key is None:
        return where
    return f"{where} {key}" if where else key


def server_config_from_text(text: str, filename: str = "pantasks.conf") -> ServerConfig:
    """
    Parse and validate pantasks.conf text.

    @param text: the file's contents.
    @param filename: its name, for error messages and L{ServerConfig.path}.
    @raise ConfigError: the first problem in file order, as one line
        C{FILE:LINE: [section] key: problem}.
    """
    lines = text.removeprefix("\ufeff").split("\n")
    spec = ConfigObj(SERVER_CONFIGSPEC.splitlines(), list_values=False, _inspec=True)
    try:
        conf = ConfigObj(lines, configspec=spec, interpolation=False)
    except ConfigObjError as e:
        # One error is raised as itself; several come in e.errors.
        errors = getattr(e, "errors", None) or [e]
        first = min(errors, key=lambda x: getattr(x, "line_number", None) or 0)
        message = re.sub(r"\s*at line \d+\.?$", "", str(first))
        message = message[:1].lower() + message[1:]
        # Name the key, not the whole line: it may hold a password.
        bad = (getattr(first, "line", None) or "").split("=", 1)[0].strip()
        if bad and bad not in message:
            message += f": {bad}"
        raise ConfigError(filename, getattr(first, "line_number", None), message) from None

    problems: list[tuple[int, int | None, str]] = []

    def report(section: Sequence[str], key: str | None, message: str) -> None:
        lineno = _locate(lines, section, key)
        problems.append((lineno or 0, lineno, f"{_label(section, key)}: {message}"))

    def fail_if_any() -> None:
        if problems:
            _, lineno, message = min(problems, key=lambda p: p[0])
            raise ConfigError(filename, lineno, message)

    # configobj's validate() crashes on a section written as a key, so the
    # shape is checked first.
    _check_shape(conf, spec, (), report)
    fail_if_any()
    results = conf.validate(Validator(_CHECKS), preserve_errors=True)
    if results is not True:
        _collect(results, conf, spec, (), report)
    for section, name in get_extra_values(conf):
        value = conf
        for s in section:
            value = value[s]
        if isinstance(value[name], dict):
            report(tuple(section) + (name,), None, "unknown section")
        elif section:
            report(section, name, "unknown key")
        else:
            report(section, name, "unknown key outside any section")
    fail_if_any()
    for name in conf["users"]:
        if not _USER_NAME_RE.match(name):
            report(("users",), name, "a user name may hold only letters, digits and _ . @ -")
    if conf["server"]["tls_cert"] and not conf["server"]["tls_key"]:
        report(("server",), "tls_cert", "tls_cert needs tls_key")
    fail_if_any()

    users = {name: User(name, password, role) for name, (password, role) in conf["users"].items()}
    return ServerConfig(
        server=_section(ServerSection, conf["server"]),
        users=types.MappingProxyType(users),
        jobs=_section(JobsSection, conf["jobs"]),
        controller=_section(ControllerSection, conf["controller"]),
        limits=_section(LimitsSection, conf["limits"]),
        web=_section(WebSection, conf["web"]),
        path=filename,
    )


def _check_shape(conf: Any, spec: Any, section: tuple[str, ...], report: _Report) -> None:
    """Report sections written as keys and keys written as sections."""
    for name in spec.sections:
        if name in conf.scalars:
            report(section, name, f"must be a section [{name}], not a key")
        elif name in conf.sections:
            _check_shape(conf[name], spec[name], section + (name,), report)
    for name in spec.scalars:
        if name != "__many__" and name in conf.sections:
            report(section + (name,), None, "must be a key, not a section")


def _collect(results: Any, conf: Any, spec: Any, section: tuple[str, ...], report: _Report) -> None:
    """Report each failure in configobj's nested validation results."""
    for key, result in results.items():
        if result is True:
            continue
        if isinstance(result, dict):
            _collect(result, conf[key], spec[key], section + (key,), report)
            continue
        if key in spec.scalars:
            item_spec = spec[key]
        else:
            item_spec = spec.get("__many__", "")
        if result is False:
            report(section, key, "is missing")
        else:
            report(section, key, _describe(result, str(item_spec), conf.get(key)))


def _section(cls: type[_T], values: Mapping[str, Any]) -> _T:
    return cls(**{f.name: values[f.name] for f in fields(cls)})


def load_server_config(path: str | None) -> ServerConfig:
    """
    Load and validate pantasks.conf.

    @param path: the file, or L{None} for every default.
    @raise ConfigError: the file cannot be read, or holds a bad value, an
        unknown key or an unknown section (one line naming file and line).
    """
    if path is None:
        return dataclasses.replace(server_config_from_text("", "<defaults>"), path=None)
    return server_config_from_text(_read_text(path, path), path)
