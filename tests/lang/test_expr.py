"""Tests for L{pantasks.lang.expr}, the opihi expression evaluator."""

from __future__ import annotations

import pytest

from pantasks.lang import expr
from pantasks.lang.errors import ExprError, ScriptError
from pantasks.lang.expr import (
    compile_expr,
    evaluate,
    is_single_token,
    result_truth,
    tokenize,
    truth,
)


def _wrap64(v: int) -> int:
    return ((v + (1 << 63)) % (1 << 64)) - (1 << 63)


def _err(text: str) -> str:
    with pytest.raises(ExprError) as info:
        evaluate(text)
    return str(info.value)


# --------------------------------------------------------------------------
# tokenizer


@pytest.mark.parametrize("text, tokens", [
    ("a-b", ["a", "-", "b"]),
    ("/data/x", ["/", "data", "/", "x"]),
    ("$L:0", ["$L:0"]),
    ("$L:0-1", ["$L:0", "-", "1"]),
    ("c ? a : b", ["c", "?", "a", ":", "b"]),
    ("1?2:3", ["1", "?", "2:3"]),
    ("1e-5", ["1e-5"]),
    ("1E+5*2", ["1E+5", "*", "2"]),
    ("1e-5-2", ["1e-5", "-", "2"]),
    ("name-1", ["name-1"]),            # quirk: '-' after 'e' stays in the word
    ("-3", ["--", "3"]),
    ("+3", ["3"]),
    ("2*-3", ["2", "*", "--", "3"]),
    ("2*+3", ["2", "*", "3"]),
    ("a--b", ["a", "-", "--", "b"]),
    ("(a)-1", ["(", "a", ")", "-", "1"]),
    ("a<<b>>c", ["a", "<<", "b", ">>", "c"]),
    ("a&&b||c", ["a", "&&", "b", "||", "c"]),
    ("a==b!=c<=d>=e", ["a", "==", "b", "!=", "c", "<=", "d", ">=", "e"]),
    ("a<~b~>c", ["a", "<~", "b", "~>", "c"]),
    ("a?b^c,d@e/f*g%h+i", ["a", "?", "b", "^", "c", ",", "d", "@", "e", "/", "f",
                           "*", "g", "%", "h", "+", "i"]),
    ("a<b>c&d|e", ["a", "<", "b", ">", "c", "&", "d", "|", "e"]),
    ("a=b !x ~y", ["a=b", "!x", "~y"]),
    ('"a b" == "x"', ['"a b"', "==", '"x"']),
    ('"a-b"', ['"a-b"']),
    ('"ab"cd', ['"ab"', "cd"]),
    ('ab"c d"e', ['ab"c d"', "e"]),
    ('"open x', ['"open x']),
    ("  a \t b\n", ["a", "b"]),
    ("", []),
])
def test_tokenize(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


# --------------------------------------------------------------------------
# single-token passthrough and formatting


@pytest.mark.parametrize("text", ["007", "1.50", "0x10", "1e3", "08", "inf", "nan", "0",
                                  "2147483648", "99999999999999"])
def test_single_token_keeps_spelling(text: str) -> None:
    assert evaluate(text) == text


@pytest.mark.parametrize("text, result", [
    ("(5)", "5"),
    ("((007))", "007"),
    (" 42 ", "42"),
    ("+5", "5"),
    ("-5", "-5"),
    ("-007", "-7"),
])
def test_single_token_after_parsing(text: str, result: str) -> None:
    """The passthrough applies when the RPN has one element."""
    assert evaluate(text) == result


@pytest.mark.parametrize("text", ["abc", '"abc"', "(abc)", "$x", "a:b", '""'])
def test_lone_string_is_not_math(text: str) -> None:
    assert _err(text) == "syntax error: not a math expression"


@pytest.mark.parametrize("text, result", [
    ("1/3", "0.333333333333"),
    ("1e20+0", "1e+20"),
    ("7/2", "3.5"),
    ("6/2", "3"),
    ("2+3", "5"),
    ("2.5*2", "5"),
    ("1e15*10", "1e+16"),
    ("0.0 * -1", "-0"),
    ("1.5e-7 * 1", "1.5e-07"),
    ("123456789 * 10000", "1234567890000"),       # ints print in full
    ("123456789012.0 * 10", "1.23456789012e+12"),  # floats with %.12g
    ("2 ^ 0.5", "1.41421356237"),
])
def test_formatting(text: str, result: str) -> None:
    assert evaluate(text) == result


# --------------------------------------------------------------------------
# operand typing


@pytest.mark.parametrize("text, result", [
    ("010 + 0", "8"),             # octal
    ("0x1f + 1", "32"),           # hex
    ("0X1F + 0", "31"),
    ("08 + 0", "8"),              # not octal: strtod gives a float
    ("09.5 + 0", "9.5"),
    ("2010-01-05", "2004"),
    ("1e3 + 0", "1000"),
    ("1e3 % 7", "6"),             # float % -> float 6.0 -> "6"
    ("2147483647 + 1", "2147483648"),   # int arithmetic in 64 bits
    ("2147483648 / 2", "1073741824"),
    ("99999999999 + 1", "100000000000"),
    ("1234567890123 + 0", "1.23456789012e+12"),  # > 2^31-1: a float
    ("0x7fffffff + 0", "2147483647"),
    ("0x80000000 + 0", "2147483648"),
    ("inf + 1", "inf"),
    ("-inf + 1", "-inf"),
    ("nan + 1", "nan"),
    ("0x1.8p1 + 0", "3"),
    (".5 + 0", "0.5"),
    ("5. + 0", "5"),
])
def test_typing(text: str, result: str) -> None:
    assert evaluate(text) == result


def test_classify() -> None:
    c = expr._classify
    assert c("10") == 10 and type(c("10")) is int
    assert c("010") == 8 and type(c("010")) is int
    assert c("0x10") == 16 and type(c("0x10")) is int
    assert type(c("08")) is float
    assert type(c("2147483647")) is int
    assert type(c("2147483648")) is float
    assert type(c("037777777777")) is float   # its strtod (decimal) value is big
    assert c("037777777777") == 37777777777.0
    assert type(c("1e3")) is float
    assert type(c("1.")) is float
    assert c("abc") == "abc"
    assert c("1_000") == "1_000"    # Python syntax, not C
    assert c("0x") == "0x"
    assert c("1e") == "1e"
    assert c(" 5") == " 5"
    assert c("\u0663") == "\u0663"  # a non-ASCII digit is not a number
    assert c("-5") == -5
    assert c("1" * 5000) == float("1" * 5000)


def test_integer_results_stay_int() -> None:
    assert evaluate("7 % 3") == "1"
    assert evaluate("7 * 3") == "21"
    assert evaluate("3 < 4") == "1"
    assert evaluate("3.0 < 4") == "1"
    assert evaluate("2 ^ 3") == "8"


def test_int_overflow_wraps_like_long_long() -> None:
    assert evaluate("2147483647 * 2147483647 * 4") == str(_wrap64(2147483647 ** 2 * 4))
    big = "2147483647 * 2147483647 * 2 + 2147483647 * 2147483647 * 2 + 10"
    assert evaluate(big) == str(_wrap64(2147483647 ** 2 * 4 + 10))


@pytest.mark.parametrize("text, result", [
    ("-7 % 3", "-1"),     # C truncating modulo
    ("7 % -3", "1"),
    ("-7 % -3", "-1"),
    ("7.9 % 2", "1"),
    ("-7.9 % 2", "-1"),
])
def test_modulo_is_c(text: str, result: str) -> None:
    assert evaluate(text) == result


# --------------------------------------------------------------------------
# operators and precedence


@pytest.mark.parametrize("text, result", [
    ("1 + 2 * 3", "7"),
    ("(1 + 2) * 3", "9"),
    ("2 * 3 ^ 2", "18"),
    ("2^3", "8"),
    ("2^3^2", "512"),        # right-associative
    ("-2^2", "4"),           # quirk: unary binds tighter than ^
    ("2^-1", "0.5"),
    ("5 - 3 - 1", "1"),
    ("8 / 4 / 2", "1"),
    ("1 + 2 == 3", "1"),
    ("1 || 0 && 0", "1"),
    ("(1 || 0) && 0", "0"),
    ("1 < 2 & 0", "0"),      # & binds tighter than <
    ("6 & 3 + 1", "4"),      # + binds tighter than &
    ("1 | 2 == 3", "1"),
    ("2 << 3 + 1", "2"),     # << (min) is a comparison-level operator
    ("2 * max(3, 4)", "8"),
    ("1 + 3 max 4", "5"),
    ("sin 0 + 1", "1"),
    ("not 0 + 1", "2"),
    ("not(1)", "0"),
    ("-(2 + 3)", "-5"),
    ("--5", "5"),
    ("3 - -2", "5"),
    ("15*(4 - 1)", "45"),
])
def test_precedence(text: str, result: str) -> None:
    assert evaluate(text) == result


@pytest.mark.parametrize("text, result", [
    ("1 ? 2 : 3", "2"),
    ("0 ? 2 : 3", "3"),
    ("1 > 0 ? 10 : 20", "10"),
    ("(1 > 2) ? 5 : 6", "6"),
    ("1 ? 2 + 3 : 4", "5"),
    ("1 ? 0 : 1 ? 2 : 3", "3"),   # quirk: chains group to the left
    ("0.5 ? 7 : 8", "7"),         # non-zero is true
    ("1 ? 2.5 : 3", "2.5"),
    ("1 ? 2 : 3.5", "2"),         # mixed types: accepted (the C rejected them)
])
def test_ternary(text: str, result: str) -> None:
    assert evaluate(text) == result


def test_ternary_errors() -> None:
    assert _err("1?2:3").startswith("syntax error: trinary operator without three operands")
    assert _err("1 ? abc : 3").startswith("invalid operands for trinary operator")


@pytest.mark.parametrize("text, result", [
    ("3 << 5", "3"),
    ("3 >> 5", "5"),
    ("max(3, 5)", "5"),
    ("min(3, 5)", "3"),
    ("3 max 5", "5"),
    ("3 min 5", "3"),
    ("2.5 min 3", "2.5"),
    ("max(1, 2.5)", "2.5"),
    ("max(-1, -2) + 1", "0"),
    ("1 @ 1", "45"),
    ("0 @ -1", "180"),
    ("atan2(1, 1)", "0.785398163397"),
    ("datan2(1, 1)", "45"),
    ("1 <~ 4", "16"),
    ("256 ~> 4", "16"),
    ("-16 ~> 2", "-4"),
    ("1.5 <~ 1", "nan"),
    ("6 & 3", "2"),
    ("6 | 3", "7"),
    ("6.5 & 3", "2"),
    ("1 && 2", "1"),
    ("0 || 0", "0"),
    ("0.5 && 1", "1"),
    ("3 >= 3", "1"),
    ("3 <= 2", "0"),
    ("3 != 3", "0"),
    ("3 == 3.0", "1"),
])
def test_binary_operators(text: str, result: str) -> None:
    assert evaluate(text) == result


@pytest.mark.parametrize("text, result", [
    ("abs(-5)", "5"),
    ("abs(-2.5)", "2.5"),
    ("int(3.7)", "3"),
    ("int(-3.7)", "-3"),
    ("int(7)", "7"),
    ("floor(-2.5)", "-3"),
    ("ceil(2.1)", "3"),
    ("exp(0)", "1"),
    ("ten(2)", "100"),
    ("log(1000)", "3"),
    ("ln(1)", "0"),
    ("sqrt(16)", "4"),
    ("erf(0)", "0"),
    ("sinh(0)", "0"),
    ("cosh(0)", "1"),
    ("asinh(0)", "0"),
    ("acosh(1)", "0"),
    ("sin(0)", "0"),
    ("cos(0)", "1"),
    ("tan(0)", "0"),
    ("dsin(90)", "1"),
    ("dsin(30)", "0.5"),
    ("dcos(0)", "1"),
    ("dtan(45)", "1"),
    ("asin(1) * 2", "3.14159265359"),
    ("acos(1)", "0"),
    ("atan(0)", "0"),
    ("dasin(1)", "90"),
    ("dacos(0)", "90"),
    ("datan(1)", "45"),
    ("lgamma(1)", "0"),
    ("not(0)", "1"),
    ("not(5)", "0"),
    ("not(0.0)", "1"),
    ("isinf(1/0)", "1"),
    ("isinf(1)", "0"),
    ("isinf(0/0)", "1"),       # quirk: !finite()
    ("isnan(0/0)", "1"),
    ("isnan(1)", "0"),
    ("sqrt 16", "4"),          # prefix form without parentheses
])
def test_unary_functions(text: str, result: str) -> None:
    assert evaluate(text) == result


@pytest.mark.parametrize("text, result", [
    ('length("ab")', "4"),     # the quotes count
    ("length(abc)", "3"),
    ("isword(abc)", "1"),
    ("isword(5)", "0"),
    ("isnum(5)", "1"),
    ("isnum(abc)", "0"),
    ("isint(5)", "1"),
    ("isint(5.5)", "0"),
    ("isint(abc)", "0"),
    ("isflt(5.5)", "1"),
    ("isflt(5)", "0"),
    ("isflt(abc)", "0"),
])
def test_string_functions(text: str, result: str) -> None:
    assert evaluate(text) == result


def test_unary_errors() -> None:
    assert "not defined as unary scalar op for a numerical value" in _err("length(5)")
    assert "not defined as unary scalar op for a numerical value" in _err("round(1)")
    assert "not defined as unary scalar op for a string value" in _err("sin(abc)")
    assert "not defined as unary scalar op for a string value" in _err("-abc")
    assert _err("abs -5") == "syntax error: unary operator with no operand"


# --------------------------------------------------------------------------
# strings


@pytest.mark.parametrize("text, result", [
    ('"abc" == "abc"', "1"),
    ('"abc" == abc', "0"),       # raw text, quotes included
    ("abc == abc", "1"),
    ('"a" != "b"', "1"),
    ('"a" != "a"', "0"),
    ('"5" == 5', "0"),           # a quoted number is a string
    ('"a" == 1', "0"),
    ('"a" != 1', "1"),
    ('1 != "a"', "1"),
    ('1.5 == "a"', "0"),
    ('("NULL" == "NULL")', "1"),
    ('("x" == "NULL")', "0"),
    ('"a b" == "a b"', "1"),
    ('("a" == "a") + 1', "2"),
])
def test_string_compare(text: str, result: str) -> None:
    assert evaluate(text) == result


@pytest.mark.parametrize("text", ["abc < abd", "abc + 1", "a-b", '"a" * 2', "1 && abc",
                                  "abc max 1", "abc <~ 1"])
def test_other_string_ops_fail(text: str) -> None:
    assert "not defined for string operations" in _err(text)


def test_no_short_circuit() -> None:
    """Both sides are always evaluated."""
    with pytest.raises(ExprError):
        evaluate("1 || sin(abc)")
    with pytest.raises(ExprError):
        evaluate("0 && sin(abc)")
    with pytest.raises(ExprError):
        evaluate("1 ? 2 : sin(abc)")


# --------------------------------------------------------------------------
# errors and division by zero


@pytest.mark.parametrize("text, message", [
    ("(1 + 2", "syntax error: mismatched parenthesis"),
    ("1 + 2)", "syntax error: mismatched parenthesis"),
    ("max(1, 2", "syntax error: mismatched parenthesis"),
    ("", "syntax error: empty expression"),
    ("   ", "syntax error: empty expression"),
    ("+", "syntax error: empty expression"),
    ("1 2", "syntax error in evaluation"),
    ("1, 2", "syntax error in evaluation"),
    ("a = b", "syntax error in evaluation"),
    ("1 +", "syntax error: binary operator with one operand: +"),
    ("* 2", "syntax error: binary operator with one operand: *"),
    ("sin", "syntax error: not a math expression"),
    ("-", "syntax error: not a math expression"),
    ("5 % 0", "division by zero"),
    ("5.5 % 0.5", "division by zero"),
    ("0 % 0", "division by zero"),
])
def test_errors(text: str, message: str) -> None:
    assert _err(text) == message


def test_errors_are_script_errors() -> None:
    with pytest.raises(ScriptError):
        evaluate("(")


@pytest.mark.parametrize("text, result", [
    ("1/0", "inf"),
    ("-1/0", "-inf"),
    ("1 / -0.0", "-inf"),
    ("0/0", "nan"),
    ("0 ^ -1", "inf"),
    ("(0 - 8) ^ (1/3)", "nan"),
    ("10 ^ 400", "inf"),
    ("(0 - 10) ^ 401", "-inf"),
    ("sqrt(-1)", "nan"),
    ("ln(0)", "-inf"),
    ("log(0)", "-inf"),
    ("log(-1)", "nan"),
    ("exp(1000)", "inf"),
    ("sinh(-1000)", "-inf"),
    ("cosh(1000)", "inf"),
    ("acos(2)", "nan"),
    ("asin(2)", "nan"),
    ("acosh(0)", "nan"),
    ("lgamma(0)", "inf"),
    ("lgamma(-2)", "inf"),
    ("sin(1/0)", "nan"),
    ("floor(1/0)", "inf"),
    ("ceil(0/0)", "nan"),
    ("int(1/0)", "-9.22337203685e+18"),   # (long long) inf on x86-64
    ("0x1p99999 + 0", "inf"),
    ("1e999 + 0", "inf"),
])
def test_division_by_zero_and_domain_errors(text: str, result: str) -> None:
    assert evaluate(text) == result


@pytest.mark.parametrize("text", [
    "1/0", "1%0", "1.0%0", "0/0", "0^-1", "ln(-1)", "sqrt(-4)", "exp(1e6)", "ten(1e6)",
    "int(0/0)", "abs(1/0)", "1/0 & 1", "(0/0) | 1", "1/0 <~ 1", "lgamma(-1)", "lgamma(1e308)",
    "(1/0) % 2", "2 % (1/0)", "(0/0) ? 1 : 2", "not(0/0)", "acosh(-5)", "dtan(90)",
    "1e308 * 1e308", "(1/0) - (1/0)", "max(0/0, 1)", "atan2(0, 0)", "1 @ 0", "0 @ 0",
    "isint(0/0)", "-(0/0)", "1e308 / 1e-308",
])
def test_no_python_exception(text: str) -> None:
    """Only ExprError may come out, whatever the arithmetic."""
    try:
        r = evaluate(text)
    except ExprError:
        return
    assert isinstance(r, str) and r


# --------------------------------------------------------------------------
# random functions


def test_rnd_is_uniform_unit_interval() -> None:
    values = [float(evaluate("rnd(0)")) for _ in range(500)]
    assert all(0.0 <= v < 1.0 for v in values)
    assert len(set(values)) > 400          # not memoized
    values = [float(evaluate("drnd(1)")) for _ in range(50)]
    assert all(0.0 <= v < 1.0 for v in values)


def test_rnd_in_real_script_expression() -> None:
    for _ in range(50):
        r = evaluate("int(6e8 * rnd(0))")
        assert r.isdigit()
        assert 0 <= int(r) < 600000000


def test_lrnd_mrnd_ranges() -> None:
    for _ in range(100):
        v = int(evaluate("lrnd(0)"))
        assert 0 <= v < 2 ** 31
        v = int(evaluate("mrnd(0)"))
        assert -2 ** 31 <= v < 2 ** 31
    assert "." not in evaluate("lrnd(0) + 0")


# --------------------------------------------------------------------------
# expressions taken from real scripts


@pytest.mark.parametrize("text, result", [
    ("(1 == 1)", "1"),
    ("(2 == 1)", "0"),
    ('("NULL" == "NULL")', "1"),
    ("(0 == 0)", "1"),
    ("not(1)", "0"),
    ("not(0)", "1"),
    ("(3000 % 1000 == 0)", "1"),
    ("(3001 % 1000 == 0)", "0"),
    ("15*(3 - 1)", "30"),
    ("2^3", "8"),
    ('(5 >= 3 && b != "a")', "1"),
    ('(2 >= 3 && b != "a")', "0"),
    ('(5 >= 3 && "a" != "a")', "0"),
    ("(1 || 0)", "1"),
    ("5 + 17 % 7", "8"),
])
def test_real_script_expressions(text: str, result: str) -> None:
    assert evaluate(text) == result


# --------------------------------------------------------------------------
# truth


@pytest.mark.parametrize("text, expected", [
    ("(1)", True),
    ("(0)", False),
    ("(0.5)", False),           # truncated to int
    ("(-0.5)", False),
    ("(1.5)", True),
    ("(-1)", True),
    ("(0x10)", True),
    ("(0x0)", False),
    ("(000)", False),
    ("(0/0)", True),            # NaN -> INT_MIN on x86: true
    ("(1/0)", True),
    ("(1e12)", True),
    ("(1 || 0)", True),
    ("(1 == 1)", True),
    ("(1 == 2)", False),
    ('("x" == "NULL")', False),
    ("(0.9999999999999)", False),
    ("(0.9999999999999 + 0)", True),   # "%.12g" rounds it to "1" first
])
def test_truth(text: str, expected: bool) -> None:
    assert truth(text) is expected


def test_truth_errors() -> None:
    for text in ("(abc)", "(1 +)", "((1)", "()"):
        with pytest.raises(ExprError):
            truth(text)


@pytest.mark.parametrize("result, expected", [
    ("0", False), ("1", True), ("0.5", False), ("-0.99", False), ("-1", True),
    ("nan", True), ("inf", True), ("-inf", True), ("0x10", True), ("0x0", False),
    ("010", True), ("nan(1)", True), ("3000000000", True),
])
def test_result_truth(result: str, expected: bool) -> None:
    assert result_truth(result) is expected


def test_atof() -> None:
    assert expr._atof("12abc") == 12.0
    assert expr._atof("  -1.5e3x") == -1500.0
    assert expr._atof("abc") == 0.0
    assert expr._atof("1e") == 1.0
    assert expr._atof("0x1g") == 1.0


# --------------------------------------------------------------------------
# compile_expr / run(subst)


def test_compile_is_cached() -> None:
    assert compile_expr("$n + $i % 7") is compile_expr("$n + $i % 7")


def test_cache_is_bounded() -> None:
    for i in range(expr.CACHE_MAX + 100):
        compile_expr(f"{i} + 1")
    assert len(expr._cache) <= expr.CACHE_MAX
    assert evaluate("3 + 1") == "4"


def test_compile_defers_errors() -> None:
    c = compile_expr("(1 + $a")
    with pytest.raises(ExprError, match="mismatched parenthesis"):
        c.run({"$a": "1"})


def test_compiled_attributes() -> None:
    c = compile_expr("$n + $i % 7")
    assert c.tokens == ("$n", "+", "$i", "%", "7")
    assert c.operands == frozenset({"$n", "$i", "7"})
    assert c.deterministic
    assert not compile_expr("rnd(0) + $a").deterministic


def test_run_loop_body() -> None:
    c = compile_expr("$n + $i % 7")
    n = "0"
    total = 0
    for i in range(1000):
        n = c.run({"$n": n, "$i": str(i)})
        total += i % 7
    assert n == str(total)


def test_run_without_subst() -> None:
    c = compile_expr("$x + 1")
    with pytest.raises(ExprError):
        c.run()
    assert compile_expr("2 + 3").run() == "5"
    assert compile_expr("2 + 3").run({}) == "5"


def test_run_single_token() -> None:
    c = compile_expr("$x")
    assert c.run({"$x": "007"}) == "007"
    assert c.run({"$x": "1.50"}) == "1.50"
    with pytest.raises(ExprError, match="not a math expression"):
        c.run({"$x": "abc"})
    assert compile_expr("($x)").run({"$x": "0x10"}) == "0x10"


def test_run_replaces_only_exact_operand_tokens() -> None:
    c = compile_expr('"$x" == "NULL"')
    assert c.run({"$x": "NULL"}) == "0"     # '"$x"' is not the token '$x'
    with pytest.raises(ExprError):
        compile_expr("$xy + 1").run({"$x": "1"})
    # any operand token can be a key, not just $names
    assert compile_expr("a + 1").run({"a": "41"}) == "42"


_TEMPLATES = [
    "$a + $b", "$a - $b", "$a * $b", "$a / $b", "$a % 7", "$a % $b", "$a ^ 2",
    "$a == $b", "$a != $b", "$a < $b", "$a >= $b", "$a << $b", "$a >> $b",
    "$a && $b", "$a || $b", "$a & $b", "$a | $b", "$a <~ 2", "$a @ $b",
    '($a >= 3 && $b != "a")', "max($a, $b)", "min($a, $b)",
    "-$a", "$a", "($a)", "not($a)", "$a ? $b : 0", "15*($a - 1)", "int($a)",
    "abs($a)", "isnum($a)", "length($a)", "isint($a)", "$a-1", "$a+$b", "2*-$a",
    "$a == \"abc\"", "$a max $b", "sqrt($a) + $b", "($a % 1000 == 0)",
]
_VALUES = ["0", "1", "7", "-3", "007", "010", "08", "0x1f", "1.5", "1e3", "2147483648",
           "abc", '"abc"', '"a"', "inf", "nan", "NULL", "1E5", "a:b", "x=y", "12abc"]


def test_subst_equals_evaluate_of_substituted_text() -> None:
    checked = 0
    for template in _TEMPLATES:
        c = compile_expr(template)
        for a in _VALUES:
            for b in ("2", "0", "2.5", "abc", "a", "3"):
                subst = {"$a": a, "$b": b}
                if not all(is_single_token(v) for v in subst.values()):
                    continue
                text = template.replace("$a", a).replace("$b", b)
                try:
                    expected = evaluate(text)
                except ExprError as e:
                    expected = "ERROR " + str(e)
                try:
                    got = c.run(subst)
                except ExprError as e:
                    got = "ERROR " + str(e)
                assert got == expected, (template, subst, text)
                checked += 1
    assert checked > 1000


# --------------------------------------------------------------------------
# is_single_token


@pytest.mark.parametrize("value", ["5", "007", "abc", "1.5", "0x10", "NULL", "a:b", "x=y",
                                   "a!b", "~x", '"abc"', '"a-b"', '""', "inf", "1e5",
                                   "data", "path.log", "_x_"])
def test_is_single_token_true(value: str) -> None:
    assert is_single_token(value)
    assert len(tokenize(value)) == 1


@pytest.mark.parametrize("value", [
    "", "-5", "+5", "a b", "a-b", "a+b", "/data/x", "(", ")", "sin", "max", "not", "int",
    ":", "?", ",", "--", "a==b", "a!=b", "a~>b", "a<b", "1e", "none", "$x", "a{b}",
    "a[0]", "a\\b", '"a b"', '"ab', 'ab"', 'a"b"', '"a"b"', "a\tb", "x&y", "x|y",
])
def test_is_single_token_false(value: str) -> None:
    assert not is_single_token(value)


def test_is_single_token_agrees_with_tokenizer() -> None:
    """Whenever is_single_token says yes, the value is one operand token, even when
    followed by an operator (e.g. C{$x-1})."""
    samples = ["5", "abc", "1.5", "x1", "1e5", "a:b", '"q"', "file", "NULL", "0x1f"]
    for v in samples:
        if is_single_token(v):
            for suffix in ("-1", "+1", " - 1", ")", "*2"):
                assert tokenize(v + suffix)[0] == v, (v, suffix)
