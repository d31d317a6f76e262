"""Tests for L{pantasks.lang.commands.strings}."""

from __future__ import annotations

import pytest

from pantasks.lang.commands import strings
from pantasks.lang.context import Context
from pantasks.lang.registry import LANGUAGE, READS, VARIABLES

from tests.lang.fakes import err, one_error, out, run


# -- registration ----------------------------------------------------------


def test_registered_read_only() -> None:
    for name in (
        "strlen substr strstr strsub strpop strmatch getchr inthash strhash sprintf fprintf"
    ).split():
        cmd = LANGUAGE.commands[name]
        assert cmd.effect == (READS if name == "fprintf" else VARIABLES), name
        assert cmd.help


# -- C number readers ------------------------------------------------------


@pytest.mark.parametrize(
    "word, value",
    [("12abc", 12.0), ("  -3.5e2x", -350.0), ("abc", 0.0), ("0x10", 16.0), (".5", 0.5), ("", 0.0)],
)
def test_c_atof(word: str, value: float) -> None:
    assert strings.c_atof(word) == value


@pytest.mark.parametrize(
    "word, value",
    [("056", 56), ("12.9", 12), (" -7", -7), ("skycell", 0), ("4294967297", 1)],
)
def test_c_atoi(word: str, value: int) -> None:
    assert strings.c_atoi(word) == value


@pytest.mark.parametrize("word, value", [("0x1f", 31), ("017", 15), ("08", 0), ("-12z", -12)])
def test_c_strtol(word: str, value: int) -> None:
    assert strings.c_strtol(word) == value


# -- strlen ----------------------------------------------------------------


def test_strlen_var(ctx: Context) -> None:
    assert run(ctx, "strlen", "2010-01-05", "length") == 1
    assert ctx.get_var("length") == "10"
    assert err(ctx) == out(ctx) == ""


def test_strlen_stderr(ctx: Context) -> None:
    assert run(ctx, "strlen", "abc") == 1
    assert err(ctx) == "3\n"
    assert out(ctx) == ""


def test_strlen_usage(ctx: Context) -> None:
    assert run(ctx, "strlen") == 0
    one_error(ctx, "USAGE: strlen (string) [var]")


# -- substr ----------------------------------------------------------------


def test_substr_var(ctx: Context) -> None:
    assert run(ctx, "substr", "2010-01-05T10:00:00", "0", "4", "YEAR") == 1
    assert ctx.get_var("YEAR") == "2010"
    assert run(ctx, "substr", "2010-01-05T10:00:00", "5", "2", "MONTH") == 1
    assert ctx.get_var("MONTH") == "01"


def test_substr_stderr_and_float_words(ctx: Context) -> None:
    assert run(ctx, "substr", "abcdef", "1.9", "3") == 1
    assert err(ctx) == "bcd\n"


def test_substr_whole_and_empty(ctx: Context) -> None:
    assert run(ctx, "substr", "abc", "0", "3", "v") == 1
    assert ctx.get_var("v") == "abc"
    assert run(ctx, "substr", "abc", "2", "0", "v") == 1
    assert ctx.get_var("v") == ""


@pytest.mark.parametrize("start", ["-1", "3", "10"])
def test_substr_start_out_of_range(ctx: Context, start: str) -> None:
    assert run(ctx, "substr", "abc", start, "1", "v") == 0
    one_error(ctx, "ERROR: start value out of range in substr command")
    assert ctx.get_var("v") is None


@pytest.mark.parametrize("length", ["-1", "3"])
def test_substr_length_out_of_range(ctx: Context, length: str) -> None:
    assert run(ctx, "substr", "abc", "1", length) == 0
    one_error(ctx, "ERROR: length out of range in substr command")


def test_substr_bad_numbers(ctx: Context) -> None:
    assert run(ctx, "substr", "abc", "x", "1") == 0
    one_error(ctx, "ERROR: start value x is not a number in substr command")


def test_substr_bad_length(ctx: Context) -> None:
    assert run(ctx, "substr", "abc", "0", "2q", "v") == 0
    one_error(ctx, "ERROR: length 2q is not a number in substr command")


def test_substr_usage(ctx: Context) -> None:
    assert run(ctx, "substr", "abc", "0") == 0
    one_error(ctx, "USAGE: substr (string) Nstart Nlength [var]")


# -- strstr ----------------------------------------------------------------


def test_strstr_found(ctx: Context) -> None:
    assert run(ctx, "strstr", "ipp014.0", ".", "-start", "s", "-length", "l") == 1
    assert (ctx.get_var("s"), ctx.get_var("l")) == ("6", "1")
    assert err(ctx) == "start: 6, length: 1\n"


def test_strstr_not_found_quiet(ctx: Context) -> None:
    assert run(ctx, "strstr", "-q", "abc", "zz", "-start", "s", "-length", "l") == 1
    assert (ctx.get_var("s"), ctx.get_var("l")) == ("-1", "0")
    assert err(ctx) == out(ctx) == ""


def test_strstr_usage(ctx: Context) -> None:
    assert run(ctx, "strstr", "abc") == 0
    one_error(ctx, "USAGE: strstr (haystack) (needle) [-start (var)] [-length (var)] [-q]")


def test_strstr_missing_option_value(ctx: Context) -> None:
    assert run(ctx, "strstr", "abc", "b", "-start") == 0
    assert err(ctx).count("\n") == 1


# -- strsub ----------------------------------------------------------------


def test_strsub_var_anywhere(ctx: Context) -> None:
    argv = ("strsub", "/data/@HOST@.0/x/@HOST@.0", "@HOST@.0", "ipp014", "-var", "dir")
    assert run(ctx, *argv) == 1
    assert ctx.get_var("dir") == "/data/ipp014/x/ipp014"
    assert run(ctx, "strsub", "-var", "d2", "aaa", "aa", "b") == 1
    assert ctx.get_var("d2") == "ba"


def test_strsub_stdout(ctx: Context) -> None:
    assert run(ctx, "strsub", "a.b.c", ".", " ") == 1
    assert out(ctx) == "a b c\n"
    assert err(ctx) == ""


def test_strsub_empty_key_and_no_match(ctx: Context) -> None:
    assert run(ctx, "strsub", "abc", "", "X", "-var", "v") == 1
    assert ctx.get_var("v") == "abc"
    assert run(ctx, "strsub", "abc", "z", "X", "-var", "v") == 1
    assert ctx.get_var("v") == "abc"


def test_strsub_usage(ctx: Context) -> None:
    assert run(ctx, "strsub", "abc", "b") == 0
    one_error(ctx, "USAGE: strsub (string) (key) (value) [-var out]")


def test_strsub_var_without_value(ctx: Context) -> None:
    assert run(ctx, "strsub", "abc", "b", "c", "-var") == 0
    one_error(ctx, "USAGE: strsub (string) (key) (value) [-var out]")


# -- strpop ----------------------------------------------------------------


def test_strpop_words(ctx: Context) -> None:
    ctx.set_var("s", '  one "two three"  (a b) four')
    assert run(ctx, "strpop", "s", "w") == 1
    assert (ctx.get_var("w"), ctx.get_var("s")) == ("one", '"two three"  (a b) four')
    assert run(ctx, "strpop", "s", "w") == 1
    assert (ctx.get_var("w"), ctx.get_var("s")) == ("two three", "(a b) four")
    assert run(ctx, "strpop", "s", "w") == 1
    assert (ctx.get_var("w"), ctx.get_var("s")) == ("(a b)", "four")
    assert run(ctx, "strpop", "s") == 1
    assert ctx.get_var("s") == "NULL"
    assert out(ctx) == "four\n"
    assert run(ctx, "strpop", "s", "w") == 1
    assert (ctx.get_var("w"), ctx.get_var("s")) == ("NULL", "NULL")


def test_strpop_missing_variable(ctx: Context) -> None:
    assert run(ctx, "strpop", "nothere", "w") == 0
    assert err(ctx) == out(ctx) == ""
    assert ctx.get_var("w") is None


def test_strpop_misbalanced(ctx: Context) -> None:
    ctx.set_var("s", '"open')
    assert run(ctx, "strpop", "s", "w") == 0
    one_error(ctx, "misbalanced quotes")


def test_strpop_usage(ctx: Context) -> None:
    assert run(ctx, "strpop") == 0
    one_error(ctx, "USAGE: strpop (var) [out]")


# -- strmatch --------------------------------------------------------------


@pytest.mark.parametrize(
    "text, cls, expect",
    [
        ("XY01abc", "alpha", "0 2"),
        ("12abCD3", "upper", "4 2"),
        ("12abCD3", "LOWER", "2 2"),
        ("ab-1.5e3", "float", "2 4"),
        ("ab12", "int", "2 2"),
        ("abc", "int", "-1 -1"),
    ],
)
def test_strmatch_stdout(ctx: Context, text: str, cls: str, expect: str) -> None:
    assert run(ctx, "strmatch", text, cls) == 1
    assert out(ctx) == f"match: {expect}\n"


def test_strmatch_output_vars(ctx: Context) -> None:
    assert run(ctx, "strmatch", "-output", "s", "n", "skycell.1234", "int") == 1
    assert (ctx.get_var("s"), ctx.get_var("n")) == ("8", "4")
    assert out(ctx) == ""


def test_strmatch_unknown_class(ctx: Context) -> None:
    assert run(ctx, "strmatch", "abc", "digit") == 0
    one_error(ctx, "unknown character class digit")


def test_strmatch_output_needs_two(ctx: Context) -> None:
    assert run(ctx, "strmatch", "abc", "int", "-output", "s") == 0
    one_error(ctx, "USAGE: strmatch (string) (class) [-output start length]")


# -- getchr ----------------------------------------------------------------


def test_getchr(ctx: Context) -> None:
    assert run(ctx, "getchr", "ipp014.0", ".", "p") == 1
    assert ctx.get_var("p") == "6"
    assert run(ctx, "getchr", "ipp014", ".x") == 1
    assert err(ctx) == "-1\n"


def test_getchr_usage(ctx: Context) -> None:
    assert run(ctx, "getchr", "abc") == 0
    one_error(ctx, "USAGE: getchr (string) (char) [var]")


# -- inthash / strhash -----------------------------------------------------


def test_inthash(ctx: Context) -> None:
    assert run(ctx, "inthash", "1234", "7", "-var", "h") == 1
    assert ctx.get_var("h") == "2"
    assert run(ctx, "inthash", "-var", "h", "skycell", "5") == 1
    assert ctx.get_var("h") == "0"
    assert run(ctx, "inthash", "056", "10") == 1
    assert run(ctx, "inthash", "-7", "3") == 1
    assert out(ctx) == "6\n-1\n"


def test_inthash_modulus_limit(ctx: Context) -> None:
    assert run(ctx, "inthash", "12", "256") == 0
    one_error(ctx, "for the moment, (modulus) is limited to 255")


def test_inthash_modulus_zero(ctx: Context) -> None:
    assert run(ctx, "inthash", "12", "x") == 0
    one_error(ctx, "(modulus) must not be zero: x")


def test_inthash_usage(ctx: Context) -> None:
    assert run(ctx, "inthash", "12") == 0
    one_error(ctx, "USAGE: inthash (word) (modulus) [-var value]")


def test_strhash(ctx: Context) -> None:
    assert run(ctx, "strhash", "abc", "10", "-var", "h") == 1
    assert ctx.get_var("h") == "4"  # (7 + 8 + 9) % 10
    assert run(ctx, "strhash", "skycell.1234", "255") == 1
    assert out(ctx) == "%d\n" % (sum(b % 255 for b in b"skycell.1234") % 255)


def test_strhash_signed_bytes(ctx: Context) -> None:
    # "é" is 0xC3 0xA9: signed chars -61 and -87; C remainders keep the sign
    assert run(ctx, "strhash", "é", "10", "-var", "h") == 1
    assert ctx.get_var("h") == "-8"  # (-1 + -7) % 10 in C


def test_strhash_limit(ctx: Context) -> None:
    assert run(ctx, "strhash", "abc", "300") == 0
    one_error(ctx, "for the moment, (modulus) is limited to 255")


# -- sprintf ---------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt, values, expect",
    [
        ("ippc%02d", ["5"], "ippc05"),
        ("sky%02d", ["7"], "sky07"),
        ("%s.%s", ["a", "b"], "a.b"),
        ("%-4s|%4s", ["ab", "cd"], "ab  |  cd"),
        ("%5.2f", ["3.14159"], " 3.14"),
        ("%.3e", ["12345"], "1.234e+04"),
        ("%x", ["255"], "ff"),
        ("%x", ["-1"], "ffffffff"),
        ("%+d % d", ["5", "5"], "+5  5"),
        ("%c%c", ["72", "105"], "Hi"),
        ("%d", ["12abc"], "12"),
        ("%d", ["0x10"], "0"),
        ("%f", ["abc"], "0.000000"),
        ("no conversions", [], "no conversions"),
        ("%s", [""], ""),
    ],
)
def test_sprintf(ctx: Context, fmt: str, values: list[str], expect: str) -> None:
    assert run(ctx, "sprintf", "target:3", fmt, *values) == 1
    assert ctx.get_var("target:3") == expect
    assert err(ctx) == out(ctx) == ""


@pytest.mark.parametrize("fmt", ["%g", "%%", "%ld", "abc%", "%5-3d", "%1.2.3f"])
def test_sprintf_bad_format(ctx: Context, fmt: str) -> None:
    assert run(ctx, "sprintf", "v", fmt, "1") == 0
    one_error(ctx, "syntax error in format (only e,f,s,d,c,x allowed)")
    assert ctx.get_var("v") is None


@pytest.mark.parametrize(
    "fmt, values",
    [("%d %d", ["1"]), ("%d", ["1", "2"]), ("text", ["1"]), ("100%", [])],
)
def test_sprintf_mismatch(ctx: Context, fmt: str, values: list[str]) -> None:
    assert run(ctx, "sprintf", "v", fmt, *values) == 0
    one_error(ctx, "mismatch between format and values")


def test_sprintf_too_long(ctx: Context) -> None:
    assert run(ctx, "sprintf", "v", "%2000d", "1") == 0
    one_error(ctx, "line too long")
    assert run(ctx, "sprintf", "v", "%s%s", "x" * 600, "y" * 600) == 0
    assert err(ctx) == "line too long\nline too long\n"


def test_sprintf_usage(ctx: Context) -> None:
    assert run(ctx, "sprintf", "v") == 0
    one_error(ctx, "USAGE: sprintf var format value value ...")


# -- fprintf ---------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt, values, expect",
    [
        ("test %03d", ["50"], "test 050"),
        ("test %6.3f", ["123.45678"], "test 123.457"),
        ("test %x", ["32"], "test 20"),
        ("test %10s", ["foobar"], "test     foobar"),
        ("%i %o %X %u", ["0x1f", "8", "255", "-1"], "31 10 FF 4294967295"),
        ("%g %G", ["0.0001", "1e20"], "0.0001 1E+20"),
        ("plain", [], "plain"),
    ],
)
def test_fprintf(ctx: Context, fmt: str, values: list[str], expect: str) -> None:
    assert run(ctx, "fprintf", fmt, *values) == 1
    assert out(ctx) == expect + "\n"
    assert err(ctx) == ""


def test_fprintf_bad_format(ctx: Context) -> None:
    assert run(ctx, "fprintf", "%%", "1") == 0
    one_error(ctx, "syntax error in format (e,f,g,E,F,G,c,s,d,i,o,x,X conversions allowed)")


def test_fprintf_mismatch(ctx: Context) -> None:
    assert run(ctx, "fprintf", "%d %d", "1") == 0
    one_error(ctx, "mismatch between format and values")


def test_fprintf_usage(ctx: Context) -> None:
    assert run(ctx, "fprintf") == 0
    one_error(ctx, "USAGE: fprintf format value value ...")
