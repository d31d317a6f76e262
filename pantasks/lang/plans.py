# -*- test-case-name: tests.lang.test_interp -*-
"""Compiled plans for assignments in loops.

Loops run the same lines many times; for an assignment such as
C{$n = $n + $i % 7} a plan reads the variables and computes the result
without rebuilding and re-parsing the text.  A plan is used only when its
result is certain to equal the general path's; anything unusual takes the
general path (the plan returns False).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Optional

from pantasks.lang import expr as _expr
from pantasks.lang.context import Context

#: How many plans are kept (scripts are far smaller).
CACHE_MAX = 20000

_VAR_RE = re.compile(r"\$([A-Za-z0-9_:]+)")
_ASSIGN_RE = re.compile(r"^\$([A-Za-z0-9_:]+)[ \t]*=[ \t]*(.*)$", re.S)
_CANON_INT = re.compile(r"(?:0|[1-9][0-9]{0,9})\Z")
#: Longest line a fast plan is made for (plans are for loop bodies).
MAX_PLAN = 1000
_ATOM = re.compile(r"(?:v[0-9]+|[0-9]+)\Z")
_MAX_INT = 2147483647
_LLMAX = 2**63 - 1


class _NoFast(Exception):
    """The int plan cannot give the general path's answer (e.g. C{% 0})."""


def _cmod(x: int, y: int) -> int:
    if y > 0 and x >= 0:
        return x % y
    if y == 0:
        raise _NoFast()
    r = abs(x) % abs(y)
    return -r if x < 0 else r


#: Texts known to be canonical decimal ints in the C int range, with their
#: values: a memo of L{_slow_int} that loops fill as they go.
KNOWN_INTS: dict[str, int] = {}


def note_int(text: str, value: int) -> None:
    """Record that C{text} is the canonical spelling of C{value}.

    @param text: C{str(value)}.
    @param value: an int; ignored outside the C int range.
    """
    if -_MAX_INT <= value <= _MAX_INT:
        if len(KNOWN_INTS) > 8192:
            KNOWN_INTS.clear()
        KNOWN_INTS[text] = value


def _slow_int(s: str) -> Optional[int]:
    """C{s} as an int when it is a canonical decimal in the C int range."""
    neg = s[:1] == "-"
    body = s[1:] if neg else s
    if not _CANON_INT.match(body) or (neg and body == "0"):
        return None
    v = int(body)
    if v > _MAX_INT:
        return None
    v = -v if neg else v
    note_int(s, v)
    return v


_PLAN_CACHE: dict[str, Any] = {}


def make_plan(piece: str) -> Any:
    """The fast plan of C{piece} (see L{_make_plan}), shared by every
    interpreter: plans depend only on the text.

    @param piece: one command, e.g. C{$n = $n + $i % 7}.
    @return: C{f(ctx) -> bool}, or False when the piece has no plan.
    """
    plan = _PLAN_CACHE.get(piece)
    if plan is None:
        plan = _make_plan(piece)
        if len(_PLAN_CACHE) >= CACHE_MAX:
            _PLAN_CACHE.clear()
        _PLAN_CACHE[piece] = plan
    return plan


def _make_plan(piece: str) -> Any:
    """A fast plan for C{$X = expression-of-simple-variables}, or C{False}.

    The plan is C{f(ctx)}: it assigns and returns True, or returns False
    when the general path must run instead (a variable is missing or its
    value is not a plain operand, the expression fails...).
    """
    if len(piece) > MAX_PLAN:
        return False
    m = _ASSIGN_RE.match(piece)
    if m is None:
        return False
    target, rhs = m.group(1), m.group(2)
    if not rhs or any(c in rhs for c in '"{\\`\'') or rhs[0] in "+-=":
        return False
    names = _VAR_RE.findall(rhs)
    if rhs.count("$") != len(names):
        return False
    compiled = _expr.compile_expr(rhs)
    slots = []
    for name in names:
        token = "$" + name
        if token not in compiled.operands or name.isdigit():
            return False
        slots.append((token, name))
    slots = list(dict.fromkeys(slots))
    general = _general_plan(target, compiled, tuple(slots))
    fast = _int_plan(target, compiled, slots, general)
    return fast or general


def _general_plan(target: str, compiled: Any, slots: tuple) -> Callable[[Context], bool]:
    """Substitute each variable's value into the compiled expression."""
    single = _expr.is_single_token

    def plan(ctx: Context) -> bool:
        subst = {}
        get = ctx.get_var
        for token, name in slots:
            value = get(name)
            if value is None or "$" in value or not single(value):
                return False
            subst[token] = value
        try:
            result = compiled.run(subst)
        except Exception:  # the general path reports (or falls back)
            return False
        ctx.set_var(target, result)
        return True

    return plan


_INT_BINARY = {
    "+": ("({a} + {b})", lambda x, y: x + y),
    "-": ("({a} - {b})", lambda x, y: x + y),
    "*": ("({a} * {b})", lambda x, y: x * y),
    "%": ("_cmod({a}, {b})", lambda x, y: min(x, y)),
    "==": ("(1 if {a} == {b} else 0)", lambda x, y: 1),
    "!=": ("(1 if {a} != {b} else 0)", lambda x, y: 1),
    "<": ("(1 if {a} < {b} else 0)", lambda x, y: 1),
    ">": ("(1 if {a} > {b} else 0)", lambda x, y: 1),
    "<=": ("(1 if {a} <= {b} else 0)", lambda x, y: 1),
    ">=": ("(1 if {a} >= {b} else 0)", lambda x, y: 1),
    # C evaluates both sides; so does "&" on two bools.
    "&&": ("(1 if (({a}) != 0) & (({b}) != 0) else 0)", lambda x, y: 1),
    "||": ("(1 if (({a}) != 0) | (({b}) != 0) else 0)", lambda x, y: 1),
}


def _int_plan(target: str, compiled: Any, slots: list, general: Any) -> Any:
    """Python code for an expression of ints, when every operation stays
    exact in C's C{long long}: operands must be canonical decimal ints
    within the C C{int} range (so the original types them as ints), and
    the operators are C{+ - * %}, comparisons, C{&& ||} and negation,
    with bounds showing no intermediate result can overflow.  Otherwise
    (and at run time, for other values) it defers to C{general}."""
    try:
        rpn = _expr._to_rpn(list(compiled.tokens))
    except Exception:
        return None
    if not rpn or len(rpn) > 64:
        return None
    var_of = {token: f"v{i}" for i, (token, _name) in enumerate(slots)}
    stack: list[tuple[str, int]] = []
    value_kind = _expr._VALUE
    for kind, tok in rpn:
        if kind == value_kind:
            if tok in var_of:
                stack.append((var_of[tok], _MAX_INT))
            elif _CANON_INT.match(tok) and int(tok) <= _MAX_INT:
                stack.append((tok, int(tok)))
            else:
                return None
        elif tok == "--" and stack:
            a, ba = stack.pop()
            stack.append((f"(-{a})", ba))
        elif tok in _INT_BINARY and len(stack) >= 2:
            b, bb = stack.pop()
            a, ba = stack.pop()
            code, bound = _INT_BINARY[tok]
            if tok == "%" and _ATOM.match(a) and _ATOM.match(b):
                # Inline the common case (both sides are names or numbers).
                code = "({a} % {b} if {a} >= 0 and {b} > 0 else _cmod({a}, {b}))"
            stack.append((code.format(a=a, b=b), bound(ba, bb)))
        else:
            return None
        if stack[-1][1] > _LLMAX:
            return None
    if len(stack) != 1:
        return None
    expr_code = stack[0][0]
    lines = ["def plan(ctx):",
             "    variables = ctx.interp.variables",
             "    if ctx.locals or ctx.private_vars:",
             "        get = ctx.get_var",
             "        simple = False",
             "    else:",
             "        get = variables.get",
             "        simple = True"]
    for token, name in slots:
        v = var_of[token]
        lines += [
            f"    s = get({name!r})",
            "    if s is None:",
            "        return False",
            f"    {v} = known(s)",
            f"    if {v} is None:",
            f"        {v} = _slow_int(s)",
            f"        if {v} is None:",
            "            return general(ctx)",
        ]
    lines += [
        "    try:",
        f"        x = {expr_code}",
        "    except _NoFast:",
        "        return general(ctx)",
        "    r = str(x)",
        "    if -2147483647 <= x <= 2147483647:",
        "        if len(KNOWN_INTS) > 8192:",
        "            KNOWN_INTS.clear()",
        "        KNOWN_INTS[r] = x",
        "    if simple:",
        f"        variables[{target!r}] = r",
        "    else:",
        f"        ctx.set_var({target!r}, r)",
        "    return True",
    ]
    env = {"_cmod": _cmod, "_slow_int": _slow_int, "_NoFast": _NoFast,
           "general": general, "KNOWN_INTS": KNOWN_INTS, "known": KNOWN_INTS.get}
    exec(compile("\n".join(lines), "<assignment plan>", "exec"), env)
    return env["plan"]
