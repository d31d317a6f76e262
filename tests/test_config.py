# -*- test-case-name: tests.test_config -*-
"""Tests for L{pantasks.config}: ptolemy.rc as the original read it, and
the validated pantasks.conf."""

import dataclasses
import os
import re
from pathlib import Path

import pytest

from pantasks.config import (
    MAX_INPUT_DEPTH,
    PANTASKS_KEYS,
    ROLES,
    SERVER_CONFIGSPEC,
    ConfigError,
    ControllerSection,
    JobsSection,
    LimitsSection,
    PtolemyConfig,
    ServerConfig,
    ServerSection,
    User,
    WebSection,
    find_config_file,
    load_ptolemy_config,
    load_server_config,
    server_config_from_text,
)

ETC = Path(__file__).resolve().parent.parent / "etc"


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def rc(text: str, **kwargs) -> PtolemyConfig:
    kwargs.setdefault("filename", "ptolemy.rc")
    return PtolemyConfig(text, **kwargs)


# ---------------------------------------------------------------------------
# ConfigError
# ---------------------------------------------------------------------------


class TestConfigError:
    def test_with_line(self):
        e = ConfigError("a.rc", 3, "bad")
        assert str(e) == "a.rc:3: bad"
        assert (e.filename, e.lineno, e.message) == ("a.rc", 3, "bad")

    def test_without_line(self):
        assert str(ConfigError("a.rc", None, "cannot read")) == "a.rc: cannot read"

    def test_always_one_line(self):
        assert "\n" not in str(ConfigError("a.rc", 1, "two\nlines"))


# ---------------------------------------------------------------------------
# find_config_file
# ---------------------------------------------------------------------------


class TestFindConfigFile:
    @pytest.fixture
    def dirs(self, tmp_path):
        cwd = tmp_path / "cwd"
        home = tmp_path / "home"
        cwd.mkdir()
        home.mkdir()
        return cwd, home

    def test_explicit_wins(self, dirs, tmp_path):
        cwd, home = dirs
        write(cwd / "ptolemy.rc", "x\n")
        write(home / ".ptolemyrc", "x\n")
        env = {"PTOLEMY": str(tmp_path / "env.rc"), "HOME": str(home)}
        assert find_config_file("my.rc", env, str(cwd), str(home)) == "my.rc"

    def test_explicit_returned_even_if_missing(self, dirs):
        cwd, home = dirs
        assert find_config_file("/no/such.rc", {}, str(cwd), str(home)) == "/no/such.rc"

    def test_env_next(self, dirs):
        cwd, home = dirs
        write(cwd / "ptolemy.rc", "x\n")
        env = {"PTOLEMY": "/some/where.rc"}
        assert find_config_file(None, env, str(cwd), str(home)) == "/some/where.rc"

    def test_empty_env_ignored(self, dirs):
        cwd, home = dirs
        path = write(cwd / "ptolemy.rc", "x\n")
        assert find_config_file(None, {"PTOLEMY": ""}, str(cwd), str(home)) == path

    def test_local_rc_then_home(self, dirs):
        cwd, home = dirs
        local = write(cwd / "ptolemy.rc", "x\n")
        dot = write(home / ".ptolemyrc", "x\n")
        assert find_config_file(None, {}, str(cwd), str(home)) == local
        os.remove(local)
        assert find_config_file(None, {}, str(cwd), str(home)) == dot

    def test_home_from_env(self, dirs):
        cwd, home = dirs
        dot = write(home / ".ptolemyrc", "x\n")
        assert find_config_file(None, {"HOME": str(home)}, str(cwd)) == dot

    def test_local_dot_ptolemyrc_not_used(self, dirs):
        """The original's comment lists ./.ptolemyrc; its code never looked."""
        cwd, home = dirs
        write(cwd / ".ptolemyrc", "x\n")
        assert find_config_file(None, {}, str(cwd), str(home)) is None

    def test_directory_is_not_a_config(self, dirs):
        cwd, home = dirs
        (cwd / "ptolemy.rc").mkdir()
        assert find_config_file(None, {}, str(cwd), str(home)) is None

    def test_unreadable_skipped(self, dirs, monkeypatch):
        cwd, home = dirs
        local = write(cwd / "ptolemy.rc", "x\n")
        dot = write(home / ".ptolemyrc", "x\n")
        # chmod 0 would not stop root, so os.access is what says no.
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: p != local and real_access(p, mode))
        assert find_config_file(None, {}, str(cwd), str(home)) == dot
        monkeypatch.setattr(os, "access", lambda p, mode: False)
        assert find_config_file(None, {}, str(cwd), str(home)) is None

    def test_nothing(self, dirs):
        cwd, home = dirs
        assert find_config_file(None, {}, str(cwd), str(home)) is None
        assert find_config_file(None, {}, str(cwd)) is None


# ---------------------------------------------------------------------------
# PtolemyConfig: format
# ---------------------------------------------------------------------------


class TestFormat:
    def test_first_line_key_found(self):
        """The original could not see a key on line 1; we can."""
        c = rc("PANTASKS_SERVER ipp001\nPASSWORD x\n")
        assert c.get("PANTASKS_SERVER") == "ipp001"
        assert c.where("PANTASKS_SERVER") == ("ptolemy.rc", 1)

    def test_last_match_wins(self):
        c = rc("# c\nPASSWORD one\nPASSWORD two\nOTHER x\n")
        assert c.get("PASSWORD") == "two"
        assert c.where("PASSWORD") == ("ptolemy.rc", 3)

    def test_get_all_in_order(self):
        c = rc("VALID_IP 10.1.1.1\nX y\nVALID_IP 10.2.0.0/16\nVALID_IP 192.168.1.0\n")
        assert c.get_all("VALID_IP") == ["10.1.1.1", "10.2.0.0/16", "192.168.1.0"]
        assert c.get_all("NOPE") == []

    def test_default(self):
        c = rc("A 1\n")
        assert c.get("B") is None
        assert c.get("B", "dflt") == "dflt"

    def test_prefix_key_does_not_match(self):
        c = rc("PANTASKS_SERVER_PORT 2000\n")
        assert c.get("PANTASKS_SERVER") is None
        assert c.get("PANTASKS") is None
        c = rc("PANTASKS_SERVER h1\nPANTASKS_SERVER_PORT 3000\n")
        assert c.get("PANTASKS_SERVER") == "h1"
        assert c.get("PANTASKS_SERVER_PORT") == "3000"

    def test_value_trimmed(self):
        c = rc("A \t  spaced  value \t \r\nB\tx\n")
        assert c.get("A") == "spaced  value"
        assert c.get("B") == "x"

    def test_trailing_text_is_part_of_value(self):
        c = rc("PASSWORD secret # not a comment\n")
        assert c.get("PASSWORD") == "secret # not a comment"

    def test_key_alone_has_empty_value(self):
        c = rc("A\nB   \n")
        assert c.get("A") == ""
        assert c.get("B") == ""
        assert "A" in c

    def test_no_final_newline(self):
        assert rc("A 1\nB 2").get("B") == "2"

    def test_crlf(self):
        c = rc("A 1\r\nB\r\n")
        assert c.get("A") == "1"
        assert c.get("B") == ""

    def test_key_must_be_in_column_0(self):
        c = rc(" A 1\n\tB 2\n")
        assert c.get("A") is None
        assert c.get("B") is None

    def test_comments(self):
        c = rc("# A 1\n#A 2\nA 3\n")
        assert c.get("A") == "3"
        assert c.get("#") is None
        assert c.get("#A") is None

    def test_case_sensitive(self):
        assert rc("password x\n").get("PASSWORD") is None

    def test_keys_and_contains(self):
        c = rc("B 1\nA 2\nB 3\n")
        assert c.keys() == ["B", "A"]
        assert "A" in c and "C" not in c

    def test_empty(self):
        c = PtolemyConfig()
        assert c.get("A") is None
        assert c.keys() == []
        assert c.filename is None

    def test_dollar_not_followed_by_name_kept(self):
        assert rc("PASSWORD a$ b$\n").get("PASSWORD") == "a$ b$"


# ---------------------------------------------------------------------------
# -D and -C
# ---------------------------------------------------------------------------


class TestOptions:
    def test_define_overrides_file(self):
        c = rc("PASSWORD file\n", defines=[("PASSWORD", "cmdline")])
        assert c.get("PASSWORD") == "cmdline"
        assert c.where("PASSWORD") == ("-D", 1)

    def test_later_define_wins(self):
        c = rc("", defines=[("A", "1"), ("A", "2")])
        assert c.get("A") == "2"
        assert c.get_all("A") == ["1", "2"]
        assert c.where("A") == ("-D", 2)

    def test_define_new_key_and_trim(self):
        assert rc("X 1\n", defines=[("NEW", "  v  ")]).get("NEW") == "v"

    def test_define_long_value_not_cut(self):
        value = "x" * 1000
        assert rc("", defines=[("A", value)]).get("A") == value

    def test_config_word(self):
        c = rc("CONFIG file\n", config_word="test")
        assert c.get("CONFIG") == "test"
        assert c.where("CONFIG") == ("-C", 1)

    def test_define_beats_config_word(self):
        c = rc("", config_word="w", defines=[("CONFIG", "d")])
        assert c.get("CONFIG") == "d"

    def test_define_can_refer_to_file(self):
        c = rc("BASE /data\n", defines=[("DIR", "$BASE/x")])
        assert c.get("DIR") == "/data/x"

    def test_file_sees_define(self):
        c = rc("LOG $BASE/log\n", defines=[("BASE", "/tmp")])
        assert c.get("LOG") == "/tmp/log"

    @pytest.mark.parametrize("key", ["", "A B", "#A", "A\tB"])
    def test_bad_define_key(self, key):
        with pytest.raises(ConfigError) as e:
            rc("", defines=[("OK", "1"), (key, "v")])
        assert str(e.value).startswith("-D:2: bad key")

    def test_define_value_with_newline(self):
        with pytest.raises(ConfigError, match=r"^-D:1: A: value contains a newline$"):
            rc("", defines=[("A", "x\nPASSWORD y")])


# ---------------------------------------------------------------------------
# $NAME expansion
# ---------------------------------------------------------------------------


class TestExpansion:
    def test_simple(self):
        c = rc("LOGDIR /var/log\nOUT $LOGDIR/out.log\n")
        assert c.get("OUT") == "/var/log/out.log"

    def test_uses_last_match_anywhere_in_file(self):
        c = rc("OUT $D/x\nD /a\nD /b\n")
        assert c.get("OUT") == "/b/x"

    def test_recursive(self):
        c = rc("A 1\nB $A-2\nC [$B]\n")
        # '-' is a name character: $A-2 names key "A-2".
        with pytest.raises(ConfigError, match="variable A-2 not found"):
            c.get("C")
        c = rc("A 1\nB ${A}\nC $A.$A\nD x$A$A\n")
        assert c.get("B") == "${A}"
        assert c.get("C") == "1.1"
        assert c.get("D") == "x11"

    def test_nested_values(self):
        c = rc("ROOT /r\nSUB $ROOT/s\nLEAF $SUB/l\n")
        assert c.get("LEAF") == "/r/s/l"

    def test_name_characters(self):
        c = rc("my_key-1 v\nX <$my_key-1>\nY $my_key-1/z\n")
        assert c.get("X") == "<v>"
        assert c.get("Y") == "v/z"

    def test_missing_key_error_names_file_and_line(self):
        c = rc("# header\nA 1\nOUT $NOPE/x\n", check=())
        with pytest.raises(ConfigError) as e:
            c.get("OUT")
        assert str(e.value) == "ptolemy.rc:3: OUT: variable NOPE not found in config"
        assert (e.value.filename, e.value.lineno) == ("ptolemy.rc", 3)

    def test_missing_key_in_pantasks_key_fails_at_load(self):
        with pytest.raises(ConfigError, match=r"^ptolemy.rc:2: PASSWORD: variable X not found"):
            rc("# c\nPASSWORD $X\n")

    def test_missing_key_elsewhere_fails_only_when_read(self):
        c = rc("OTHER_TOOL $1\nPASSWORD p\n")
        assert c.get("PASSWORD") == "p"
        with pytest.raises(ConfigError):
            c.get("OTHER_TOOL")

    def test_validate_everything(self):
        c = rc("A 1\nB $Q\n", check=())
        with pytest.raises(ConfigError, match="^ptolemy.rc:2: "):
            c.validate()
        with pytest.raises(ConfigError):
            rc("A 1\nB $Q\n", check=None)

    def test_get_all_expands(self):
        c = rc("NET 10.0\nVALID_IP $NET.0.1\nVALID_IP $NET.0.2\n")
        assert c.get_all("VALID_IP") == ["10.0.0.1", "10.0.0.2"]

    def test_self_reference(self):
        with pytest.raises(ConfigError, match=r"^ptolemy.rc:1: PASSWORD: \$PASSWORD refers back"):
            rc("PASSWORD x$PASSWORD\n")

    def test_loop(self):
        c = rc("A $B\nB $A\n", check=())
        with pytest.raises(ConfigError, match="refers back to itself"):
            c.get("A")

    def test_not_an_environment_variable(self, monkeypatch):
        monkeypatch.setenv("HOMEDIR_X", "/env")
        with pytest.raises(ConfigError):
            rc("A $HOMEDIR_X\n", check=None)


# ---------------------------------------------------------------------------
# input
# ---------------------------------------------------------------------------


class TestInput:
    def test_include(self, tmp_path):
        inc = write(tmp_path / "inc.rc", "B 2\nA from-inc\n")
        c = rc(f"A 1\ninput {inc}\nC 3\n")
        assert c.get("A") == "from-inc"
        assert c.get("B") == "2"
        assert c.get("C") == "3"
        assert c.where("B") == (inc, 1)
        assert "input" not in c

    def test_include_position_matters(self, tmp_path):
        inc = write(tmp_path / "inc.rc", "A from-inc\n")
        assert rc(f"input {inc}\nA after\n").get("A") == "after"

    def test_nested(self, tmp_path):
        write(tmp_path / "c.rc", "C deep\nA c\n")
        write(tmp_path / "b.rc", f"B mid\ninput {tmp_path / 'c.rc'}\n")
        c = rc(f"A top\ninput {tmp_path / 'b.rc'}\n")
        assert c.get("B") == "mid"
        assert c.get("C") == "deep"
        assert c.get("A") == "c"
        assert c.where("C") == (str(tmp_path / "c.rc"), 1)

    def test_same_file_twice(self, tmp_path):
        inc = write(tmp_path / "inc.rc", "VALID_IP 1.2.3.4\n")
        c = rc(f"input {inc}\ninput {inc}\n")
        assert c.get_all("VALID_IP") == ["1.2.3.4", "1.2.3.4"]

    def test_relative_to_cwd_first(self, tmp_path):
        (tmp_path / "conf").mkdir()
        write(tmp_path / "site.rc", "A cwd\n")
        write(tmp_path / "conf" / "site.rc", "A beside\n")
        main = write(tmp_path / "conf" / "main.rc", "X 1\ninput site.rc\n")
        c = PtolemyConfig.from_file(main, cwd=str(tmp_path))
        assert c.get("A") == "cwd"

    def test_relative_beside_including_file(self, tmp_path):
        (tmp_path / "conf").mkdir()
        write(tmp_path / "conf" / "site.rc", "A beside\n")
        main = write(tmp_path / "conf" / "main.rc", "X 1\ninput site.rc\n")
        c = PtolemyConfig.from_file(main, cwd=str(tmp_path))
        assert c.get("A") == "beside"

    def test_path_expansion(self, tmp_path):
        write(tmp_path / "inc.rc", "A 1\n")
        c = rc(f"DIR {tmp_path}\ninput $DIR/inc.rc\n")
        assert c.get("A") == "1"

    def test_included_values_see_whole_config(self, tmp_path):
        inc = write(tmp_path / "inc.rc", "OUT $BASE/out\n")
        c = rc(f"input {inc}\nBASE /b\n")
        assert c.get("OUT") == "/b/out"

    def test_define_input(self, tmp_path):
        inc = write(tmp_path / "inc.rc", "A inc\n")
        assert rc("A file\n", defines=[("input", inc)]).get("A") == "inc"

    def test_missing_file(self, tmp_path):
        with pytest.raises(ConfigError) as e:
            rc("# c\ninput /no/such/file.rc\n")
        assert str(e.value) == (
            "ptolemy.rc:2: input /no/such/file.rc: cannot read: No such file or directory"
        )

    def test_missing_file_in_nested(self, tmp_path):
        inc = write(tmp_path / "inc.rc", "A 1\n\ninput /no/such.rc\n")
        with pytest.raises(ConfigError, match=rf"^{inc}:3: input /no/such.rc: cannot read"):
            rc(f"input {inc}\n")

    def test_empty_input(self):
        with pytest.raises(ConfigError, match="^ptolemy.rc:1: input needs a file name$"):
            rc("input\n")

    def test_commented_input_ignored(self):
        assert rc("# input /no/such\nA 1\n").get("A") == "1"

    def test_chain_at_limit(self, tmp_path):
        """MAX_INPUT_DEPTH files, each including the next: fine."""
        for n in range(1, MAX_INPUT_DEPTH + 1):
            nxt = f"input {tmp_path / f'f{n + 1}.rc'}\n" if n < MAX_INPUT_DEPTH else ""
            write(tmp_path / f"f{n}.rc", f"LEVEL {n}\n{nxt}")
        c = rc(f"input {tmp_path / 'f1.rc'}\n")
        assert c.get("LEVEL") == str(MAX_INPUT_DEPTH)
        assert len(c.get_all("LEVEL")) == MAX_INPUT_DEPTH

    def test_chain_too_deep(self, tmp_path):
        n_files = MAX_INPUT_DEPTH + 1
        for n in range(1, n_files + 1):
            nxt = f"input {tmp_path / f'f{n + 1}.rc'}\n" if n < n_files else ""
            write(tmp_path / f"f{n}.rc", f"LEVEL {n}\n{nxt}")
        with pytest.raises(ConfigError) as e:
            rc(f"input {tmp_path / 'f1.rc'}\n")
        last = tmp_path / f"f{MAX_INPUT_DEPTH}.rc"
        assert str(e.value) == f"{last}:2: input nested more than 20 levels deep"

    def test_self_include(self, tmp_path):
        path = tmp_path / "loop.rc"
        write(path, f"A 1\ninput {path}\n")
        with pytest.raises(ConfigError) as e:
            PtolemyConfig.from_file(str(path))
        assert str(e.value) == f"{path}:2: input {path}: file includes itself"

    def test_include_loop(self, tmp_path):
        a, b = tmp_path / "a.rc", tmp_path / "b.rc"
        write(a, f"input {b}\n")
        write(b, f"X 1\ninput {a}\n")
        with pytest.raises(ConfigError, match=rf"^{b}:2: input {a}: file includes itself"):
            PtolemyConfig.from_file(str(a))

    def test_not_utf8(self, tmp_path):
        inc = tmp_path / "inc.rc"
        inc.write_bytes(b"A 1\nB \xff\n")
        with pytest.raises(ConfigError, match=rf"^{inc}:2: not valid UTF-8 text$"):
            rc(f"input {inc}\n")


# ---------------------------------------------------------------------------
# lookup_override, where, error, loading
# ---------------------------------------------------------------------------


class TestOverrideAndLoading:
    def test_override_wins(self):
        shell = {"PANTASKS_SERVER": "h2"}
        c = rc("PANTASKS_SERVER h1\nPASSWORD p\n", lookup_override=shell.get)
        assert c.get("PANTASKS_SERVER") == "h2"
        assert c.get("PASSWORD") == "p"
        assert c.get("NONE", "d") == "d"

    def test_override_can_change_later(self):
        shell: dict[str, str] = {}
        c = rc("PANTASKS_SERVER h1\n", lookup_override=shell.get)
        assert c.get("PANTASKS_SERVER") == "h1"
        shell["PANTASKS_SERVER"] = "h2"
        assert c.get("PANTASKS_SERVER") == "h2"
        c.lookup_override = None
        assert c.get("PANTASKS_SERVER") == "h1"

    def test_override_for_get_all(self):
        c = rc("VALID_IP 1.1.1.1\nVALID_IP 2.2.2.2\n", lookup_override={"VALID_IP": "3.3.3.3"}.get)
        assert c.get_all("VALID_IP") == ["3.3.3.3"]

    def test_override_not_used_for_expansion(self):
        """As the original: $NAME comes from the file only."""
        c = rc("A file\nB $A\n", lookup_override={"A": "shell"}.get)
        assert c.get("B") == "file"

    def test_error_helper(self):
        c = rc("# c\nPANTASKS_SERVER_PORT 99:1\n")
        e = c.error("PANTASKS_SERVER_PORT", "bad range")
        assert isinstance(e, ConfigError)
        assert str(e) == "ptolemy.rc:2: PANTASKS_SERVER_PORT: bad range"
        assert str(c.error("MISSING", "needed")) == "ptolemy.rc: MISSING: needed"
        assert str(PtolemyConfig().error("X", "y")) == "<config>: X: y"

    def test_from_file(self, tmp_path):
        path = write(tmp_path / "p.rc", "PASSWORD pw\n")
        c = PtolemyConfig.from_file(path, defines=[("X", "1")], config_word="w")
        assert c.filename == path
        assert (c.get("PASSWORD"), c.get("X"), c.get("CONFIG")) == ("pw", "1", "w")
        assert "p.rc" in repr(c)

    def test_from_missing_file(self, tmp_path):
        path = str(tmp_path / "nope.rc")
        with pytest.raises(ConfigError) as e:
            PtolemyConfig.from_file(path)
        assert str(e.value) == f"{path}: cannot read: No such file or directory"

    def test_load_searches(self, tmp_path):
        home = tmp_path / "home"
        home.mkdir()
        write(home / ".ptolemyrc", "PASSWORD home\n")
        c = load_ptolemy_config(env={"HOME": str(home)}, cwd=str(tmp_path))
        assert c.get("PASSWORD") == "home"
        assert c.filename == str(home / ".ptolemyrc")

    def test_load_env(self, tmp_path):
        path = write(tmp_path / "env.rc", "PASSWORD env\n")
        c = load_ptolemy_config(env={"PTOLEMY": path}, cwd=str(tmp_path), home=str(tmp_path))
        assert c.get("PASSWORD") == "env"

    def test_load_explicit_missing_is_error(self, tmp_path):
        with pytest.raises(ConfigError, match="cannot read"):
            load_ptolemy_config(str(tmp_path / "no.rc"), env={})

    def test_load_without_any_file(self, tmp_path):
        c = load_ptolemy_config(
            None, [("PASSWORD", "d")], "w", env={}, cwd=str(tmp_path), home=str(tmp_path)
        )
        assert c.filename is None
        assert c.get("PASSWORD") == "d"
        assert c.get("CONFIG") == "w"

    def test_pantasks_keys(self):
        assert "PANTASKS_SERVER" in PANTASKS_KEYS and "VALID_IP" in PANTASKS_KEYS

    def test_example_ptolemy_rc(self):
        path = str(ETC / "ptolemy.rc")
        c = PtolemyConfig.from_file(path, check=None)
        text = (ETC / "ptolemy.rc").read_text()
        assert text.startswith("#")
        assert c.get("PANTASKS_SERVER_PORT") == "2000:2010"
        assert c.get("PANTASKS_SERVER_STDOUT") == "stdout"
        assert c.get("PANTASKS_SERVER_STDERR") == "stderr"
        assert c.get_all("VALID_IP") == ["127.0.0.1"]
        for key in PANTASKS_KEYS[:-1]:
            assert key in text
        assert "/16" in text

    def test_example_ptolemy_rc_commented_lines_work(self, tmp_path):
        """Uncommenting every example line gives a valid config too."""
        inc = write(tmp_path / "site.rc", "SITE 1\n")
        lines = []
        for line in (ETC / "ptolemy.rc").read_text().split("\n"):
            if re.match(r"# [A-Z_]{4,} +\S", line):
                line = line[2:]
            if line.startswith("# input"):
                line = f"input {inc}"
            lines.append(line)
        c = PtolemyConfig("\n".join(lines), "ptolemy.rc", check=None)
        assert c.get("PANTASKS_SERVER_STDOUT") == "/var/log/pantasks/server.out"
        assert c.get_all("VALID_IP") == ["127.0.0.1", "192.168.1.0", "10.20.0.0/16"]
        assert c.get("PASSWORD") == "change-me"
        assert c.get("SITE") == "1"


# ---------------------------------------------------------------------------
# pantasks.conf
# ---------------------------------------------------------------------------

DEFAULTS = {
    "server": {
        "endpoint": "",
        "interface": "auto",
        "max_line_length": 65536,
        "max_connections": 200,
        "control_reserve": 10,
        "max_per_address": 32,
        "max_pending": 128,
        "max_pending_per_address": 64,
        "login_timeout": 10.0,
        "idle_timeout": 0.0,
        "watch_idle_timeout": 3600.0,
        "allow_plain_pass": True,
        "auth_fail_delay": 1.0,
        "auth_fail_delay_max": 30.0,
        "lockout_failures": 5,
        "lockout_window": 60.0,
        "lockout_time": 300.0,
        "lockout_user_failures": 10,
        "tls_key": "",
        "tls_cert": "",
        "name": "",
    },
    "jobs": {"max_output_bytes": 16 * 1024 * 1024, "kill_grace": 5.0, "exec_jitter": True},
    "controller": {
        "connect_command": "ssh -x -o BatchMode=yes {host} pantasks_agent",
        "agent_path": "pantasks_agent",
        "max_retries": 3,
    },
    "limits": {
        "max_value": 16 * 1024 * 1024,
        "watch_session_lines": 10000,
        "watch_session_size": 32 * 1024 * 1024,
        "watch_total_size": 128 * 1024 * 1024,
        "slice": 0.01,
        "request_cpu_watch": 5.0,
        "request_cpu_control": 0.0,
        "macro_cpu": 60.0,
        "max_open_block_bytes": 64 * 1024 * 1024,
        "max_unread_bytes": 16 * 1024 * 1024,
        "max_held_watch_bytes": 1024 * 1024,
    },
    "web": {
        "endpoint": "",
        "token_lifetime": 43200.0,
        "update_interval": 1.0,
        "max_streams": 32,
        "recent_jobs": 500,
    },
}


def conf_error(text: str) -> str:
    with pytest.raises(ConfigError) as e:
        server_config_from_text(text, "pantasks.conf")
    message = str(e.value)
    assert "\n" not in message
    return message


class TestServerConfigDefaults:
    def test_none_gives_defaults(self):
        c = load_server_config(None)
        assert isinstance(c, ServerConfig)
        assert c.path is None
        assert dataclasses.asdict(c.server) == DEFAULTS["server"]
        assert dataclasses.asdict(c.jobs) == DEFAULTS["jobs"]
        assert dataclasses.asdict(c.controller) == DEFAULTS["controller"]
        assert dataclasses.asdict(c.limits) == DEFAULTS["limits"]
        assert dataclasses.asdict(c.web) == DEFAULTS["web"]
        assert dict(c.users) == {}

    def test_types(self):
        c = load_server_config(None)
        assert type(c.server.max_line_length) is int
        assert type(c.server.idle_timeout) is float
        assert type(c.server.allow_plain_pass) is bool

    def test_empty_file_gives_defaults(self, tmp_path):
        path = write(tmp_path / "pantasks.conf", "# nothing\n")
        c = load_server_config(path)
        assert c.path == path
        assert c.server == load_server_config(None).server

    def test_sections_match_spec(self):
        """Every configspec key has a dataclass field, and back."""
        from configobj import ConfigObj

        spec = ConfigObj(SERVER_CONFIGSPEC.splitlines(), list_values=False, _inspec=True)
        for name, cls in [
            ("server", ServerSection),
            ("jobs", JobsSection),
            ("controller", ControllerSection),
            ("limits", LimitsSection),
            ("web", WebSection),
        ]:
            assert set(spec[name].scalars) == {f.name for f in dataclasses.fields(cls)}
        assert set(spec.sections) == {"server", "users", "jobs", "controller", "limits",
                                     "web"}

    def test_immutable(self):
        c = load_server_config(None)
        with pytest.raises(dataclasses.FrozenInstanceError):
            c.server.max_line_length = 1  # type: ignore[misc]
        with pytest.raises(TypeError):
            c.users["x"] = User("x", "y", "watch")  # type: ignore[index]

    def test_values(self):
        c = server_config_from_text(
            "[server]\n"
            "endpoint = tcp:2001:interface=0.0.0.0\n"
            "interface = ''\n"
            "max_line_length = 1024\n"
            "idle_timeout = 30\n"
            "allow_plain_pass = no\n"
            "[jobs]\n"
            "exec_jitter = off\n"
            "kill_grace = 0.5\n"
            "[controller]\n"
            "connect_command = 'ssh -o Ciphers=a,b {host} agent'\n"
            "max_retries = 0\n"
        )
        assert c.server.endpoint == "tcp:2001:interface=0.0.0.0"
        assert c.server.interface == ""
        assert c.server.max_line_length == 1024
        assert c.server.idle_timeout == 30.0
        assert c.server.allow_plain_pass is False
        assert c.jobs.exec_jitter is False
        assert c.jobs.kill_grace == 0.5
        assert c.controller.connect_command == "ssh -o Ciphers=a,b {host} agent"
        assert c.controller.max_retries == 0
        assert c.path == "pantasks.conf"

    def test_ipv6_interface(self):
        c = server_config_from_text("[server]\ninterface = ::1\n")
        assert c.server.interface == "::1"

    def test_users(self):
        c = server_config_from_text(
            '[users]\nalice = secret, control\nbob = "a,b", watch\nc.d@x-y_1 = p, watch\n'
        )
        assert c.users["alice"] == User("alice", "secret", "control")
        assert c.users["bob"] == User("bob", "a,b", "watch")
        assert c.users["c.d@x-y_1"].role == "watch"
        assert ROLES == ("control", "watch")

    def test_tls_files(self, tmp_path):
        key = write(tmp_path / "key.pem", "k")
        cert = write(tmp_path / "cert.pem", "c")
        c = server_config_from_text(f"[server]\ntls_key = {key}\ntls_cert = {cert}\n")
        assert (c.server.tls_key, c.server.tls_cert) == (key, cert)
        c = server_config_from_text(f"[server]\ntls_key = {key}\n")
        assert c.server.tls_cert == ""

    def test_example_file(self):
        """etc/pantasks.conf loads, shows every key, and holds the defaults."""
        path = str(ETC / "pantasks.conf")
        c = load_server_config(path)
        assert dataclasses.replace(c, path=None) == load_server_config(None)
        text = (ETC / "pantasks.conf").read_text()
        for section, values in DEFAULTS.items():
            assert f"[{section}]" in text
            for key in values:
                assert f"\n{key} = " in text, key
        assert "[users]" in text and "# alice = " in text

    def test_example_users_uncommented(self):
        text = (ETC / "pantasks.conf").read_text()
        text = text.replace("# alice = ", "alice = ").replace("# bob = ", "bob = ")
        c = server_config_from_text(text)
        assert c.users["alice"].role == "control"
        assert c.users["bob"].password == "pass,with,commas"


class TestServerConfigErrors:
    def test_example_from_brief(self):
        text = "# c\n\n[server]\nendpoint = ''\n\n# x\nmax_line_length = abc\n"
        assert conf_error(text) == (
            "pantasks.conf:7: [server] max_line_length: 'abc' is not an integer"
        )

    @pytest.mark.parametrize(
        "section,key,value,message",
        [
            ("server", "endpoint", "bogus:1", "'bogus:1' is not a valid endpoint"),
            ("server", "endpoint", "tcp:abc", "'tcp:abc' is not a valid endpoint"),
            ("server", "interface", "localhost", "'localhost' is not an IP address"),
            ("server", "interface", "10.0.0.300", "'10.0.0.300' is not an IP address"),
            ("server", "max_line_length", "abc", "'abc' is not an integer"),
            ("server", "max_line_length", "100", "'100' is below the minimum 256"),
            ("server", "max_connections", "0", "'0' is below the minimum 1"),
            ("server", "max_connections", "1.5", "'1.5' is not an integer"),
            ("server", "idle_timeout", "soon", "'soon' is not a number"),
            ("server", "idle_timeout", "-1", "'-1' is below the minimum 0"),
            ("server", "allow_plain_pass", "maybe", "'maybe' is not true or false"),
            ("server", "auth_fail_delay", "x", "'x' is not a number"),
            ("server", "lockout_failures", "-1", "'-1' is below the minimum 0"),
            ("server", "lockout_window", "x", "'x' is not a number"),
            ("limits", "max_value", "100", "'100' is below the minimum 1024"),
            ("limits", "watch_session_lines", "-1", "'-1' is below the minimum 0"),
            ("limits", "watch_session_size", "big", "'big' is not an integer"),
            ("server", "lockout_time", "x", "'x' is not a number"),
            ("server", "tls_key", "/no/such.pem", "'/no/such.pem' is not a readable file"),
            ("server", "tls_cert", "/no/such.pem", "'/no/such.pem' is not a readable file"),
            ("server", "interface", "a, b", "'a, b' is a list (quote a value that holds a comma)"),
            ("jobs", "max_output_bytes", "lots", "'lots' is not an integer"),
            ("jobs", "max_output_bytes", "-5", "'-5' is below the minimum 0"),
            ("jobs", "kill_grace", "x", "'x' is not a number"),
            ("jobs", "exec_jitter", "2", "'2' is not true or false"),
            ("controller", "connect_command", "ssh agent", "'ssh agent' does not contain {host}"),
            (
                "controller",
                "connect_command",
                "ssh {host} {user}",
                "'ssh {host} {user}': unknown placeholder {user}",
            ),
            ("controller", "connect_command", "ssh {host", "'ssh {host': "),
            ("controller", "connect_command", "'ssh {host} \"x'", "No closing quotation"),
            ("controller", "agent_path", "''", "must not be empty"),
            ("controller", "max_retries", "x", "'x' is not an integer"),
            ("controller", "max_retries", "-1", "'-1' is below the minimum 0"),
        ],
    )
    def test_bad_value(self, section, key, value, message):
        text = f"# pantasks.conf\n[{section}]\n# comment\n\n{key} = {value}\n"
        error = conf_error(text)
        assert error.startswith(f"pantasks.conf:5: [{section}] {key}: "), error
        assert message in error

    def test_line_found_in_right_section(self):
        """The same key name in an earlier section is not the one reported."""
        text = (
            "[users]\nmax_retries = p, watch\n[controller]\nagent_path = a\n  max_retries   =   x\n"
        )
        assert (
            conf_error(text) == "pantasks.conf:5: [controller] max_retries: 'x' is not an integer"
        )

    def test_first_error_in_file_order(self):
        text = "[jobs]\nkill_grace = x\n[server]\nmax_connections = y\n"
        assert conf_error(text).startswith("pantasks.conf:2: [jobs] kill_grace:")
        text = "[server]\nmax_connections = y\n[jobs]\nkill_grace = x\n"
        assert conf_error(text).startswith("pantasks.conf:2: [server] max_connections:")

    def test_unknown_key(self):
        text = "[server]\nendpoint = ''\nmax_line = 5\n"
        assert conf_error(text) == "pantasks.conf:3: [server] max_line: unknown key"

    def test_unknown_key_outside_section(self):
        assert conf_error("\nfoo = 1\n") == "pantasks.conf:2: foo: unknown key outside any section"

    def test_unknown_section(self):
        assert conf_error("[server]\n\n[sever]\nx = 1\n") == (
            "pantasks.conf:3: [sever]: unknown section"
        )

    def test_unknown_subsection(self):
        assert (
            conf_error("[server]\n[[tls]]\n") == "pantasks.conf:2: [server][tls]: unknown section"
        )
        assert conf_error("[users]\n[[admins]]\n") == (
            "pantasks.conf:2: [users][admins]: unknown section"
        )

    def test_section_written_as_key(self):
        assert conf_error("server = 1\n") == (
            "pantasks.conf:1: server: must be a section [server], not a key"
        )

    def test_key_written_as_section(self):
        assert conf_error("[server]\n[[endpoint]]\n") == (
            "pantasks.conf:2: [server][endpoint]: must be a key, not a section"
        )

    @pytest.mark.parametrize(
        "entry,message",
        [
            ("alice = secret", 'alice: expected "password, role"'),
            ("alice = a, b, c", 'alice: expected "password, role"'),
            ("alice = secret, admin", "alice: role 'admin' is not one of control, watch"),
            ("alice = '', watch", "alice: empty password"),
            ("'al ice' = p, watch", "al ice: a user name may hold only"),
        ],
    )
    def test_bad_user(self, entry, message):
        error = conf_error(f"[users]\nok = p, watch\n{entry}\n")
        assert error.startswith(f"pantasks.conf:3: [users] {message}"), error

    def test_bad_user_message_hides_password(self):
        error = conf_error("[users]\nalice = s3cret, admin\n")
        assert "s3cret" not in error
        error = conf_error('[users]\nalice = "s3cret, watch\n')
        assert "s3cret" not in error
        assert error.startswith("pantasks.conf:2: ")

    def test_tls_cert_without_key(self, tmp_path):
        cert = write(tmp_path / "cert.pem", "c")
        assert conf_error(f"[server]\n\ntls_cert = {cert}\n") == (
            "pantasks.conf:3: [server] tls_cert: tls_cert needs tls_key"
        )

    def test_duplicate_key(self):
        error = conf_error("[server]\nmax_connections = 1\nmax_connections = 2\n")
        assert error == "pantasks.conf:3: duplicate keyword name: max_connections"

    def test_duplicate_section(self):
        error = conf_error("[server]\n[jobs]\n[server]\n")
        assert error == "pantasks.conf:3: duplicate section name: [server]"

    def test_syntax_error(self):
        error = conf_error("[server]\nendpoint = 'unterminated\n")
        assert error.startswith("pantasks.conf:2: parse error in value")
        error = conf_error("[server\n")
        assert error.startswith("pantasks.conf:1: invalid line")

    def test_file_errors(self, tmp_path):
        missing = str(tmp_path / "none.conf")
        with pytest.raises(ConfigError) as e:
            load_server_config(missing)
        assert str(e.value) == f"{missing}: cannot read: No such file or directory"
        bad = tmp_path / "bad.conf"
        bad.write_bytes(b"[server]\n# \xff\n")
        with pytest.raises(ConfigError) as e:
            load_server_config(str(bad))
        assert str(e.value) == f"{bad}:2: not valid UTF-8 text"

    def test_error_names_given_path(self, tmp_path):
        path = write(tmp_path / "x.conf", "[jobs]\nkill_grace = never\n")
        with pytest.raises(ConfigError) as e:
            load_server_config(path)
        assert str(e.value) == f"{path}:2: [jobs] kill_grace: 'never' is not a number"
        assert (e.value.filename, e.value.lineno) == (path, 2)


class TestServerName:
    def test_a_name_is_one_word(self, tmp_path):
        good = tmp_path / "good.conf"
        good.write_text("[server]\nname = stdscience-2\n")
        assert load_server_config(str(good)).server.name == "stdscience-2"
        bad = tmp_path / "bad.conf"
        bad.write_text('[server]\nname = "two words"\n')
        with pytest.raises(ConfigError, match="name"):
            load_server_config(str(bad))

    def test_a_directory_name_becomes_a_word(self):
        from pantasks.config import server_name_from

        assert server_name_from("stdscience") == "stdscience"
        assert server_name_from("my pipe/é") == "my_pipe__"
        assert server_name_from("  ") == "pantasks"
