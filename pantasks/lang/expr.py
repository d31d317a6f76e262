# -*- test-case-name: tests.lang.test_expr -*-
"""The opihi expression evaluator (C{$X = ...}, C{if (...)}, C{{...}}).

Scripts depend on the exact quirks of the original evaluator: words are
split at operator characters, C{010} is octal, a one-token expression
keeps its spelling, strings compare on their raw text (quotes included),
C{<<}/C{>>} are min/max, results print as C{%lld} or C{%.12g}.  This
module reproduces them so that existing pantasks scripts behave the same.

Pipeline: L{tokenize} -> shunting-yard to RPN -> a tree of closures that
types each operand at run time (int / float / string, by the C
C{strtol}/C{strtod} rules) and applies the operators.  Compiled
expressions are cached by text, and L{compile_expr} lets the interpreter
substitute variable values into an already compiled token list.

Deliberate differences from the C program (all of which either crashed
it or made no sense):
  - integer C{%} by zero (and float C{%} whose divisor truncates to 0)
    raises L{ExprError} C{division by zero} instead of killing the process;
  - C{/} by zero gives C{inf}/C{-inf}/C{nan} like C doubles; domain errors
    of math functions (C{sqrt(-1)}, C{ln(0)}, ...) give C{nan}/C{-inf}/C{inf}
    like the C library (a negative NaN prints as C{nan}, not C{-nan});
  - the ternary accepts mixed int/float operands (the result is a float);
    the original rejected them;
  - there are no vectors or images: every non-numeric word is a string.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable

from pantasks.lang.errors import ExprError

__all__ = [
    "CompiledExpr",
    "compile_expr",
    "evaluate",
    "is_single_token",
    "result_truth",
    "tokenize",
    "truth",
]

# --------------------------------------------------------------------------
# constants and messages

_LLMIN = -(1 << 63)
_LLMAX = (1 << 63) - 1
_MAX_INT = 2147483647
_INF = math.inf
_NAN = math.nan
# the original's (slightly truncated) constants, from ohana.h
_DEG_RAD = 57.295779513082322
_RAD_DEG = 0.017453292519943

MSG_PAREN = "syntax error: mismatched parenthesis"
MSG_NOT_MATH = "syntax error: not a math expression"
MSG_EVAL = "syntax error in evaluation"
MSG_EMPTY = "syntax error: empty expression"
MSG_UNARY = "syntax error: unary operator with no operand"
MSG_DIV0 = "division by zero"
_TERNARY_NOTE = "(the : of a trinary operation must be protected by spaces)"

_WS = frozenset(" \t\n\v\f\r")
_ONE_OPS = frozenset("?^,@/*%+-()<>&|")
_TWO_OPS = frozenset(("<<", ">>", "&&", "||", "==", "!=", "<=", ">=", "<~", "~>"))
# every character at which the tokenizer may have to do something
_SPECIAL_RE = re.compile(r'[?^,@/*%+\-()<>&|=!~" \t\n\v\f\r]')

# operator classes, in the original's precedence order (higher binds tighter)
_LEFT, _RIGHT, _COMMA, _TRINARY, _OR, _AND, _LOGIC, _BITWISE = 1, 2, 3, 4, 5, 6, 7, 8
_ADD, _TIMES, _POWER, _UNARY, _BINARY, _VALUE = 9, 10, 11, 12, 13, 14

_UNARY_NAMES = (
    "abs int floor round ceil rint exp ten log ln sqrt erf sinh cosh asinh acosh "
    "sin cos tan dsin dcos dtan asin acos atan dasin dacos datan lgamma rnd drnd "
    "lrnd mrnd xramp yramp zramp ramp zero -- not isinf isnan "
    "isword isnum isint isflt length"
).split()

_CLASS: dict[str, int] = {name: _UNARY for name in _UNARY_NAMES}
_CLASS.update({
    "?": _TRINARY, ":": _COMMA, ",": _COMMA, "^": _POWER,
    "max": _BINARY, "min": _BINARY, "atan2": _BINARY, "datan2": _BINARY,
    "<~": _BINARY, "~>": _BINARY,
    "@": _TIMES, "/": _TIMES, "*": _TIMES, "%": _TIMES,
    "+": _ADD, "-": _ADD, "&": _BITWISE, "|": _BITWISE,
    "<": _LOGIC, ">": _LOGIC, "==": _LOGIC, "!=": _LOGIC,
    "<=": _LOGIC, ">=": _LOGIC, ">>": _LOGIC, "<<": _LOGIC,
    "&&": _AND, "||": _OR, "(": _LEFT, ")": _RIGHT,
})

_RANDOM_OPS = frozenset(("rnd", "drnd", "lrnd", "mrnd"))

_rng = random.Random()

Value = int | float | str
Node = Callable[[dict[str, str]], Value]


# --------------------------------------------------------------------------
# tokenizer


def _starts_with_op(s: str) -> bool:
    return s[:1] in _ONE_OPS or s[:2] in _TWO_OPS


def tokenize(text: str) -> list[str]:
    """Split an expression into tokens, as the original does.

    Operator characters split words (C{a-b} is three tokens); a unary
    C{-} becomes the token C{--} and a unary C{+} is dropped; a C{+}/C{-}
    right after C{e}/C{E} stays in its word (C{1e-5}); C{"..."} keeps its
    quotes (and a word running into a quote continues through it).

    @param text: the (already variable-expanded) expression.
    @return: the tokens.
    """
    out: list[str] = []
    cur: list[str] = []
    n = len(text)
    j = 0
    search = _SPECIAL_RE.search
    while j < n:
        m = search(text, j)
        if m is None:
            cur.append(text[j:])
            break
        k = m.start()
        if k > j:
            # a run of ordinary characters
            cur.append(text[j:k])
            j = k
        c = text[j]
        if c == "-" or c == "+":
            if not out and not cur:
                kind = "unary"
            else:
                prev = "".join(cur) if cur else out[-1]
                if prev[0] != ")" and _starts_with_op(prev):
                    kind = "unary"
                elif j > 0 and text[j - 1] in "eE":
                    kind = "sci"
                else:
                    kind = "binary"
            j += 1
            if kind == "sci":
                cur.append(c)
            elif kind == "binary" or c == "-":
                if cur:
                    out.append("".join(cur))
                    cur = []
                out.append(c if kind == "binary" else "--")
            continue
        two = text[j:j + 2]
        if c in _ONE_OPS or two in _TWO_OPS:
            if cur:
                out.append("".join(cur))
                cur = []
            if two in _TWO_OPS:
                out.append(two)
                j += 2
            else:
                out.append(c)
                j += 1
            continue
        if c == '"':
            k = text.find('"', j + 1)
            if k < 0:
                cur.append(text[j:])
                break
            cur.append(text[j:k + 1])
            out.append("".join(cur))
            cur = []
            j = k + 1
            continue
        if c in _WS:
            if cur:
                out.append("".join(cur))
                cur = []
        else:
            cur.append(c)  # a lone = ! or ~
        j += 1
    if cur:
        out.append("".join(cur))
    return out


def _to_rpn(tokens: list[str]) -> list[tuple[int, str]]:
    """Shunting-yard conversion, with the original's precedence rules."""
    out: list[tuple[int, str]] = []
    ops: list[tuple[int, str]] = []
    for tok in tokens:
        kind = _CLASS.get(tok, _VALUE)
        if kind == _VALUE:
            out.append((kind, tok))
        elif kind == _UNARY or kind == _LEFT:
            ops.append((kind, tok))
        elif kind == _POWER:
            # right-associative: only pops strictly higher classes
            while ops and ops[-1][0] > kind:
                out.append(ops.pop())
            ops.append((kind, tok))
        elif kind == _RIGHT:
            while ops and ops[-1][0] != _LEFT:
                out.append(ops.pop())
            if not ops:
                raise ExprError(MSG_PAREN)
            ops.pop()
        elif kind == _COMMA:
            while ops and ops[-1][0] != _LEFT and ops[-1][0] != _TRINARY:
                out.append(ops.pop())
        else:
            while ops and ops[-1][0] >= kind:
                out.append(ops.pop())
            ops.append((kind, tok))
    while ops:
        item = ops.pop()
        if item[0] == _LEFT:
            raise ExprError(MSG_PAREN)
        out.append(item)
    return out


# --------------------------------------------------------------------------
# operand typing (C strtol base 0 / strtod)

_INT_RE = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\Z")
_FLT_BODY = (
    r"[+-]?(?:0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
    r"|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?)"
)
_FLT_RE = re.compile(_FLT_BODY + r"\Z", re.IGNORECASE)
_FLT_PREFIX_RE = re.compile(r"[ \t\n\v\f\r]*(" + _FLT_BODY + ")", re.IGNORECASE)

_classify_cache: dict[str, Value] = {}
_CLASSIFY_CACHE_MAX = 4096


def _strtod_value(s: str) -> float:
    """Value of a string that C{strtod} consumes completely."""
    body = s.lstrip("+-")
    low = body[:2].lower()
    if low == "0x":
        try:
            return float.fromhex(s)
        except OverflowError:
            return -_INF if s[0] == "-" else _INF
    if low[:1] == "n":
        return -_NAN if s[0] == "-" else _NAN
    return float(s)


def _strtol_value(s: str) -> int:
    """Value of a string that C{strtol(s, 0, 0)} consumes completely."""
    neg = s[0] == "-"
    body = s.lstrip("+-")
    if body[:2] in ("0x", "0X"):
        v = int(body[2:], 16)
    elif body[:1] == "0":
        v = int(body, 8)
    else:
        v = int(body)
    return -v if neg else v


def _classify_slow(s: str) -> Value:
    v = _classify_cache.get(s)
    if v is not None:
        return v
    if _FLT_RE.match(s):
        f = _strtod_value(s)
        if abs(f) > _MAX_INT:
            v = f
        elif _INT_RE.match(s):
            v = _strtol_value(s)
        else:
            v = f
    else:
        v = s
    if len(_classify_cache) >= _CLASSIFY_CACHE_MAX:
        _classify_cache.clear()
    _classify_cache[s] = v
    return v


def _classify(s: str) -> Value:
    """Type one operand word: an C{int}, a C{float}, or the C{str} itself.

    int if C{strtol} (base 0) consumes the whole word and its C{strtod}
    value is at most 2147483647 in size; else float if C{strtod} consumes
    it; else a string.
    """
    if s.isdigit() and s.isascii():
        if s[0] != "0":
            if len(s) <= 10:
                v = int(s)
                return v if v <= _MAX_INT else float(v)
            return float(s)
        if len(s) == 1:
            return 0
        f = float(s)
        if f > _MAX_INT or "8" in s or "9" in s:
            return f
        return int(s, 8)
    return _classify_slow(s)


# --------------------------------------------------------------------------
# C arithmetic helpers


def _wrap(r: int) -> int:
    """Wrap an integer to a signed 64-bit C{long long}."""
    if _LLMIN <= r <= _LLMAX:
        return r
    return ((r - _LLMIN) & 0xFFFFFFFFFFFFFFFF) + _LLMIN


def _ll(x: float) -> int:
    """C{(long long) x} as x86-64 does it (out of range or NaN: LLONG_MIN)."""
    if x != x or not (-9.223372036854775808e18 <= x < 9.223372036854775808e18):
        return _LLMIN
    return int(x)


def _cmod(a: int, b: int) -> int:
    """C integer C{%} (truncating); raises on a zero divisor."""
    if b == 0:
        raise ExprError(MSG_DIV0)
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def _is_odd_int(y: float) -> bool:
    return math.isfinite(y) and y == math.floor(y) and math.fmod(y, 2.0) != 0.0


def _pow(x: float, y: float) -> float:
    """C C{pow()}: no exceptions, C{inf}/C{nan} as the C library gives."""
    try:
        return math.pow(x, y)
    except OverflowError:
        return -_INF if (x < 0 and _is_odd_int(y)) else _INF
    except ValueError:
        if x == 0.0:
            return math.copysign(_INF, x) if _is_odd_int(y) else _INF
        return _NAN


def _fdiv(x: float, y: float) -> float:
    if y == 0.0:
        if x != x or x == 0.0:
            return _NAN
        return math.copysign(_INF, x) * math.copysign(1.0, y)
    return x / y


def _string_error(name: str) -> ExprError:
    return ExprError(f"error: op {name} not defined for string operations!")


# --------------------------------------------------------------------------
# binary operators: (a, b) -> value; int op int gives int where C does


def _op_add(a: Value, b: Value) -> Value:
    if type(a) is int and type(b) is int:
        r = a + b
        return r if _LLMIN <= r <= _LLMAX else _wrap(r)
    if type(a) is str or type(b) is str:
        raise _string_error("+")
    return float(a) + float(b)


def _op_sub(a: Value, b: Value) -> Value:
    if type(a) is int and type(b) is int:
        r = a - b
        return r if _LLMIN <= r <= _LLMAX else _wrap(r)
    if type(a) is str or type(b) is str:
        raise _string_error("-")
    return float(a) - float(b)


def _op_mul(a: Value, b: Value) -> Value:
    if type(a) is int and type(b) is int:
        return _wrap(a * b)
    if type(a) is str or type(b) is str:
        raise _string_error("*")
    return float(a) * float(b)


def _op_mod(a: Value, b: Value) -> Value:
    if type(a) is int and type(b) is int:
        if a >= 0 and b > 0:
            return a % b
        return _wrap(_cmod(a, b))
    if type(a) is str or type(b) is str:
        raise _string_error("%")
    ia = a if type(a) is int else _ll(a)
    ib = b if type(b) is int else _ll(b)
    return float(_wrap(_cmod(ia, ib)))


def _float_op(name: str, fn: Callable[[float, float], float]) -> Callable[[Value, Value], Value]:
    """An operator whose result is always a float (C{/ ^ @ atan2 datan2})."""
    def op(a: Value, b: Value) -> Value:
        if type(a) is str or type(b) is str:
            raise _string_error(name)
        return fn(float(a), float(b))
    return op


def _op_min(a: Value, b: Value) -> Value:
    if type(a) is int and type(b) is int:
        return a if a < b else b
    if type(a) is str or type(b) is str:
        raise _string_error("min")
    x = float(a)
    y = float(b)
    return x if x < y else y


def _op_max(a: Value, b: Value) -> Value:
    if type(a) is int and type(b) is int:
        return a if a > b else b
    if type(a) is str or type(b) is str:
        raise _string_error("max")
    x = float(a)
    y = float(b)
    return x if x > y else y


def _compare(name: str, fn: Callable[[float, float], bool]) -> Callable[[Value, Value], Value]:
    """C{< > <= >=}: 1/0, an int for two ints, else a float."""
    def op(a: Value, b: Value) -> Value:
        if type(a) is int and type(b) is int:
            return 1 if fn(a, b) else 0
        if type(a) is str or type(b) is str:
            raise _string_error(name)
        return 1.0 if fn(float(a), float(b)) else 0.0
    return op


def _op_eq(a: Value, b: Value) -> Value:
    if type(a) is int and type(b) is int:
        return 1 if a == b else 0
    if type(a) is str or type(b) is str:
        # raw text (quotes included); a string never equals a number
        return 1.0 if (type(a) is str and type(b) is str and a == b) else 0.0
    return 1.0 if float(a) == float(b) else 0.0


def _op_ne(a: Value, b: Value) -> Value:
    if type(a) is int and type(b) is int:
        return 1 if a != b else 0
    if type(a) is str or type(b) is str:
        return 0.0 if (type(a) is str and type(b) is str and a == b) else 1.0
    return 1.0 if float(a) != float(b) else 0.0


def _logical(name: str, is_and: bool) -> Callable[[Value, Value], Value]:
    def op(a: Value, b: Value) -> Value:
        if type(a) is str or type(b) is str:
            raise _string_error(name)
        r = (bool(a) and bool(b)) if is_and else (bool(a) or bool(b))
        if type(a) is int and type(b) is int:
            return 1 if r else 0
        return 1.0 if r else 0.0
    return op


def _bitwise(name: str, is_and: bool) -> Callable[[Value, Value], Value]:
    def op(a: Value, b: Value) -> Value:
        if type(a) is str or type(b) is str:
            raise _string_error(name)
        ia = a if type(a) is int else _ll(a)
        ib = b if type(b) is int else _ll(b)
        r = (ia & ib) if is_and else (ia | ib)
        if type(a) is int and type(b) is int:
            return r
        return float(r)
    return op


def _shift(name: str, left: bool) -> Callable[[Value, Value], Value]:
    """C{<~} / C{~>}: bit shifts of ints (count masked to 6 bits as on
    x86-64); a float operand gives NaN, as in the original."""
    def op(a: Value, b: Value) -> Value:
        if type(a) is str or type(b) is str:
            raise _string_error(name)
        if type(a) is not int or type(b) is not int:
            return _NAN
        n = b & 63
        return _wrap(a << n) if left else a >> n
    return op


_BINARY_OPS: dict[str, Callable[[Value, Value], Value]] = {
    "+": _op_add,
    "-": _op_sub,
    "*": _op_mul,
    "%": _op_mod,
    "/": _float_op("/", _fdiv),
    "^": _float_op("^", _pow),
    "@": _float_op("@", lambda x, y: _DEG_RAD * math.atan2(x, y)),
    "datan2": _float_op("datan2", lambda x, y: _DEG_RAD * math.atan2(x, y)),
    "atan2": _float_op("atan2", math.atan2),
    "min": _op_min,
    "<<": _op_min,
    "max": _op_max,
    ">>": _op_max,
    "<": _compare("<", lambda x, y: x < y),
    ">": _compare(">", lambda x, y: x > y),
    "<=": _compare("<=", lambda x, y: x <= y),
    ">=": _compare(">=", lambda x, y: x >= y),
    "==": _op_eq,
    "!=": _op_ne,
    "&&": _logical("&&", True),
    "||": _logical("||", False),
    "&": _bitwise("&", True),
    "|": _bitwise("|", False),
    "<~": _shift("<~", True),
    "~>": _shift("~>", False),
}


# --------------------------------------------------------------------------
# unary operators


def _c_math(fn: Callable[[float], float], on_value_error: Callable[[float], float] | None = None,
            on_overflow: Callable[[float], float] | None = None) -> Callable[[float], float]:
    """Wrap a math function so that it behaves like the C library one."""
    def g(x: float) -> float:
        try:
            return fn(x)
        except ValueError:
            return on_value_error(x) if on_value_error else _NAN
        except OverflowError:
            return on_overflow(x) if on_overflow else _INF
    return g


def _log_domain(x: float) -> float:
    return -_INF if x == 0.0 else _NAN


def _floor(x: float) -> float:
    return float(math.floor(x)) if math.isfinite(x) else x


def _ceil(x: float) -> float:
    return float(math.ceil(x)) if math.isfinite(x) else x


# name -> function of a float, always giving a float result
_FLOAT_UNARY: dict[str, Callable[[float], float]] = {
    "floor": _floor,
    "ceil": _ceil,
    "exp": _c_math(math.exp),
    "ten": lambda x: _pow(10.0, x),
    "log": _c_math(math.log10, _log_domain),
    "ln": _c_math(math.log, _log_domain),
    "sqrt": _c_math(math.sqrt),
    "erf": math.erf,
    "sinh": _c_math(math.sinh, None, lambda x: math.copysign(_INF, x)),
    "cosh": _c_math(math.cosh),
    "asinh": math.asinh,
    "acosh": _c_math(math.acosh),
    "sin": _c_math(math.sin),
    "cos": _c_math(math.cos),
    "tan": _c_math(math.tan),
    "dsin": _c_math(lambda x: math.sin(x * _RAD_DEG)),
    "dcos": _c_math(lambda x: math.cos(x * _RAD_DEG)),
    "dtan": _c_math(lambda x: math.tan(x * _RAD_DEG)),
    "asin": _c_math(math.asin),
    "acos": _c_math(math.acos),
    "atan": math.atan,
    "dasin": _c_math(lambda x: math.asin(x) * _DEG_RAD),
    "dacos": _c_math(lambda x: math.acos(x) * _DEG_RAD),
    "datan": lambda x: math.atan(x) * _DEG_RAD,
    "lgamma": _c_math(math.lgamma, lambda x: _INF),
    "isinf": lambda x: 0.0 if math.isfinite(x) else 1.0,  # !finite(): NaN counts
    "isnan": lambda x: 1.0 if x != x else 0.0,
    "rnd": lambda x: _rng.random(),
    "drnd": lambda x: _rng.random(),
}


def _lrand48() -> int:
    return _rng.getrandbits(31)


def _mrand48() -> int:
    return _rng.getrandbits(32) - (1 << 31)


# name -> (function of an int giving an int, function of a float giving a float)
_TYPED_UNARY: dict[str, tuple[Callable[[int], int], Callable[[float], float]]] = {
    "abs": (lambda a: _ll(abs(float(a))), abs),
    "int": (lambda a: a, lambda x: float(_ll(x))),
    "not": (lambda a: 0 if a else 1, lambda x: 0.0 if x else 1.0),
    "--": (lambda a: _wrap(-a), lambda x: -x),
    "lrnd": (lambda a: _lrand48(), lambda x: float(_lrand48())),
    "mrnd": (lambda a: _mrand48(), lambda x: float(_mrand48())),
    "isword": (lambda a: 0, lambda x: 0.0),
    "isnum": (lambda a: 1, lambda x: 1.0),
    "isint": (lambda a: 1, lambda x: 0.0),
    "isflt": (lambda a: 0, lambda x: 1.0),
}

_STRING_UNARY: dict[str, Callable[[str], int]] = {
    "isword": lambda s: 1,
    "isnum": lambda s: 0,
    "isint": lambda s: 0,
    "isflt": lambda s: 0,
    "length": lambda s: len(s.encode("utf-8", "surrogateescape")),  # C strlen
}


def _unary_fn(name: str) -> Callable[[Value], Value]:
    flt = _FLOAT_UNARY.get(name)
    typed = _TYPED_UNARY.get(name)
    on_str = _STRING_UNARY.get(name)

    def op(v: Value) -> Value:
        t = type(v)
        if t is str:
            if on_str is None:
                raise ExprError(f"error: op {name} not defined as unary scalar op "
                                "for a string value!")
            return on_str(v)
        if typed is not None:
            return typed[0](v) if t is int else typed[1](v)
        if flt is not None:
            return flt(float(v))
        raise ExprError(f"error: op {name} not defined as unary scalar op "
                        "for a numerical value!")
    return op


_UNARY_OPS: dict[str, Callable[[Value], Value]] = {n: _unary_fn(n) for n in _UNARY_NAMES}


# --------------------------------------------------------------------------
# closure tree


def _leaf(tok: str) -> Node:
    const = _classify(tok)

    def leaf(subst: dict[str, str]) -> Value:
        s = subst.get(tok)
        if s is None:
            return const
        return _classify(s)
    return leaf


def _node1(fn: Callable[[Value], Value], a: Node) -> Node:
    def node(subst: dict[str, str]) -> Value:
        return fn(a(subst))
    return node


def _node2(fn: Callable[[Value, Value], Value], a: Node, b: Node) -> Node:
    def node(subst: dict[str, str]) -> Value:
        return fn(a(subst), b(subst))
    return node


def _node3(c: Node, a: Node, b: Node) -> Node:
    def node(subst: dict[str, str]) -> Value:
        vc = c(subst)
        va = a(subst)
        vb = b(subst)
        tc, ta, tb = type(vc), type(va), type(vb)
        if tc is str or ta is str or tb is str:
            raise ExprError("invalid operands for trinary operator ? (mismatch types?) "
                            + _TERNARY_NOTE)
        r = va if vc else vb
        if tc is int and ta is int and tb is int:
            return r
        return float(r)
    return node


def _build(rpn: list[tuple[int, str]]) -> Node:
    stack: list[Node] = []
    for kind, tok in rpn:
        if kind == _VALUE:
            stack.append(_leaf(tok))
        elif kind == _UNARY:
            if not stack:
                raise ExprError(MSG_UNARY)
            stack.append(_node1(_UNARY_OPS[tok], stack.pop()))
        elif kind == _TRINARY:
            if len(stack) < 3:
                raise ExprError("syntax error: trinary operator without three operands: ? "
                                + _TERNARY_NOTE)
            b = stack.pop()
            a = stack.pop()
            stack.append(_node3(stack.pop(), a, b))
        else:
            if len(stack) < 2:
                raise ExprError(f"syntax error: binary operator with one operand: {tok}")
            b = stack.pop()
            stack.append(_node2(_BINARY_OPS[tok], stack.pop(), b))
    if len(stack) != 1:
        raise ExprError(MSG_EVAL)
    return stack[0]


_EMPTY: dict[str, str] = {}


class CompiledExpr:
    """An expression tokenized and converted once, to be run many times.

    @ivar text: the source text.
    @ivar tokens: the tokens, as L{tokenize} gives them.
    @ivar operands: the set of operand (value) tokens; only these are
        replaced by L{run}'s C{subst}.
    @ivar deterministic: False when the expression calls a random function.
    """

    __slots__ = ("text", "tokens", "operands", "deterministic", "_error", "_single",
                 "_root", "_memo")

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: tuple[str, ...] = tuple(tokenize(text))
        self._error: str | None = None
        self._single: str | None = None
        self._root: Node | None = None
        self._memo: str | None = None
        rpn: list[tuple[int, str]] = []
        try:
            rpn = _to_rpn(list(self.tokens))
            if not rpn:
                raise ExprError(MSG_EMPTY)
            if len(rpn) == 1:
                # a lone token keeps its exact spelling (if it is a number)
                if rpn[0][0] != _VALUE:
                    raise ExprError(MSG_NOT_MATH)
                self._single = rpn[0][1]
            else:
                self._root = _build(rpn)
        except ExprError as e:
            self._error = str(e)
        self.operands = frozenset(tok for kind, tok in rpn if kind == _VALUE)
        self.deterministic = not any(tok in _RANDOM_OPS for _, tok in rpn)

    def run(self, subst: dict[str, str] | None = None) -> str:
        """Evaluate, replacing each operand token that is a key of C{subst}
        by its value before the operand is typed.

        @param subst: token -> value text; each value should satisfy
            L{is_single_token} for the result to equal L{evaluate} of the
            substituted text.
        @return: the result text.
        @raise ExprError: the expression cannot be evaluated.
        """
        if self._error is not None:
            raise ExprError(self._error)
        if subst is None:
            subst = _EMPTY
        single = self._single
        if single is not None:
            s = subst.get(single, single)
            if type(_classify(s)) is str:
                raise ExprError(MSG_NOT_MATH)
            return s
        v = self._root(subst)  # type: ignore[misc]
        if type(v) is int:
            return str(v)
        return "%.12g" % v

    def __repr__(self) -> str:
        return f"CompiledExpr({self.text!r})"


_cache: dict[str, CompiledExpr] = {}
CACHE_MAX = 4096


def compile_expr(text: str) -> CompiledExpr:
    """Tokenize and parse C{text} once (cached by text).

    Never raises: a syntax error is raised by every L{CompiledExpr.run}.

    @param text: the expression, e.g. C{"$n + $i % 7"}.
    @return: the compiled expression.
    """
    c = _cache.get(text)
    if c is None:
        c = CompiledExpr(text)
        if len(_cache) >= CACHE_MAX:
            # drop the older half (dicts keep insertion order)
            keep = list(_cache.items())[CACHE_MAX // 2:]
            _cache.clear()
            _cache.update(keep)
        _cache[text] = c
    return c


def evaluate(text: str) -> str:
    """Evaluate an already variable-expanded expression.

    A one-token expression returns its exact text (C{007}, C{1.50},
    C{0x10}); a lone non-numeric word is an error (C{not a math
    expression}), which is what makes C{$X = text} store text.  Otherwise
    an int result prints like C{%lld} and a float like C{%.12g}.

    @param text: the expression.
    @return: the result text.
    @raise ExprError: the expression cannot be evaluated.
    """
    c = _cache.get(text)
    if c is None:
        c = compile_expr(text)
    if c._memo is not None:
        return c._memo
    r = c.run()
    if c.deterministic:
        c._memo = r
    return r


def _atof(text: str) -> float:
    """C C{atof}: the longest numeric prefix, or 0."""
    m = _FLT_PREFIX_RE.match(text)
    if not m:
        return 0.0
    s = m.group(1)
    while s:
        if _FLT_RE.match(s):
            return _strtod_value(s)
        s = s[:-1]
    return 0.0


def result_truth(result: str) -> bool:
    """The truth of a result text as C{if}/C{while} see it:
    C{(int) atof(result) != 0}, so C{0.5} is false; NaN, infinities and
    values beyond the C{int} range are true (x86 conversion gives
    C{INT_MIN}).

    @param result: a result of L{evaluate} or L{CompiledExpr.run}.
    """
    try:
        x = float(result)
    except ValueError:
        x = _atof(result)
    return not (-1.0 < x < 1.0)


def truth(text: str) -> bool:
    """Evaluate an C{if}/C{while} condition (parentheses included).

    @param text: the condition text, e.g. C{"($a == 1)"}.
    @return: whether the condition holds.
    @raise ExprError: the condition cannot be evaluated.
    """
    return result_truth(evaluate(text))


_KEYWORDS = frozenset(_CLASS)
_UNSAFE_CHARS = frozenset(_ONE_OPS | _WS | frozenset('"$\\{}[]'))


def is_single_token(value: str) -> bool:
    """Whether C{value}, put in place of an operand token, tokenizes as
    exactly that one operand, so that substituting it into a compiled
    token list gives the same result as re-tokenizing the expanded text.

    Conservative: besides operator characters, white space and operator
    or function names, it also refuses values containing C{$ \\ { } [ ]}
    (the interpreter would expand them again) and values ending in C{e} or
    C{E} (a following C{-} would be read as an exponent sign).  A value
    C{"..."} without inner quotes or the characters above is accepted.

    @param value: the variable's value.
    """
    if value.isalnum() and value.isascii():
        return value[-1] not in "eE" and value not in _KEYWORDS
    if not value or value in _KEYWORDS:
        return False
    if value[0] == '"':
        inner = value[1:-1]
        return (len(value) >= 2 and value[-1] == '"' and '"' not in inner
                and not any(ch in _WS or ch in '$\\{}[]' for ch in inner))
    if value[-1] in "eE":
        return False
    for ch in value:
        if ch in _UNSAFE_CHARS:
            return False
    return "==" not in value and "!=" not in value and "~>" not in value
