# -*- test-case-name: tests.lang.test_string_commands -*-
"""String built-ins: strlen, substr, strstr, strsub, strpop, strmatch,
getchr, inthash, strhash, sprintf and fprintf.

Scripts have no string operators, so these commands are how they cut,
search and format text (C{substr $DATEOBS 0 4 YEAR},
C{sprintf skyname "sky%02d" $skyhash}).  Numbers given as words are read
the way the original read them (C C{atoi}/C{atof}: the leading number, 0
when there is none) unless noted, because scripts rely on it
(C{inthash skycell 4} hashes 0).  The helpers L{c_atof}, L{c_atoi} and
L{c_strtol} are public so the other command modules can share them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from pantasks.lang.args import take_flag, take_value
from pantasks.lang.context import Context
from pantasks.lang.errors import CommandError, ScriptError, UsageError
from pantasks.lang.text import quote
from pantasks.lang.numbers import LONG_MAX, LONG_MIN, clamp_long, int_of_digits
from pantasks.lang.policy import value_too_long
from pantasks.lang.registry import READS, VARIABLES, command

_WS = " \t\n\v\f\r"

_HEXFLOAT = re.compile(
    r"([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?)"
)
_DECFLOAT = re.compile(
    r"[+-]?(?:inf(?:inity)?|nan|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)",
    re.IGNORECASE,
)
_DECINT = re.compile(r"[+-]?[0-9]+")
_CINT = re.compile(r"([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")


#: The longest text C{sprintf} and C{fprintf} build, as in the original.
MAX_FORMATTED = 1024


def _wrap32(value: int) -> int:
    """C{(int)} cast of a long: keep the low 32 bits, signed."""
    value &= 0xFFFFFFFF
    return value - 0x100000000 if value >= 0x80000000 else value


def c_atof(word: str) -> float:
    """Read C{word} like C C{atof}: its leading number, or 0.0.

    @param word: any text; leading white space is skipped.
    @return: the value of the longest numeric prefix (decimal, hex,
        C{inf}, C{nan}), 0.0 when there is none.
    """
    s = word.lstrip(_WS)
    m = _HEXFLOAT.match(s)
    if m:
        body = m.group(2)
        if "p" not in body.lower():
            body += "p0"
        try:
            value = float.fromhex(body)
        except OverflowError:  # strtod gives HUGE_VAL
            value = math.inf
        return -value if m.group(1) == "-" else value
    m = _DECFLOAT.match(s)
    if m:
        return float(m.group(0))
    return 0.0


def c_atoi(word: str, usage: str | None = None) -> int:
    """Read C{word} like C C{atoi}: its leading decimal integer, or 0.

    The value is clamped to a C long and then cut to a 32-bit int, as
    glibc does.

    @param usage: when given, a leading integer beyond a C long (which C
        clamps silently) is this usage error instead.
    """
    m = _DECINT.match(word.lstrip(_WS))
    if not m:
        return 0
    text = m.group(0)
    value = int_of_digits(text.lstrip("+-"))
    return _wrap32(_clamp(-value if text[0] == "-" else value, usage))


def _clamp(value: int, usage: str | None) -> int:
    if usage is not None and not LONG_MIN <= value <= LONG_MAX:
        raise UsageError(usage)
    return clamp_long(value)


def c_strtol(word: str, usage: str | None = None) -> int:
    """Read C{word} like C C{strtol(word, NULL, 0)}: C{0x} is hex, a
    leading C{0} octal; the value is clamped to a C long (or, with
    C{usage}, beyond a C long it is that usage error)."""
    m = _CINT.match(word.lstrip(_WS))
    if not m:
        return 0
    digits = m.group(2)
    if digits[:2].lower() == "0x":
        value = int_of_digits(digits[2:], 16)
    elif digits.startswith("0"):
        value = int_of_digits(digits, 8)
    else:
        value = int_of_digits(digits)
    if m.group(1) == "-":
        value = -value
    return _clamp(value, usage)


def is_number(word: str) -> bool:
    """True when the whole of C{word} (white space aside) is a number."""
    s = word.strip(_WS)
    return bool(s) and bool(_DECFLOAT.fullmatch(s) or _HEXFLOAT.fullmatch(s))


def c_mod(a: int, b: int) -> int:
    """C integer remainder: truncating division, sign of C{a}."""
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def fmt_g12(value: float) -> str:
    """A number as the original stored numeric results (C{%.12g})."""
    return format(value, ".12g")


# -- strlen / substr / strstr / strsub ------------------------------------


@command("strlen", help="string length", effect=VARIABLES)
def strlen(ctx: Context, argv: list[str]) -> int:
    """C{strlen S [V]}: the length of S into V, else to stderr."""
    if len(argv) not in (2, 3):
        raise UsageError("USAGE: strlen (string) [var]")
    n = str(len(argv[1]))
    if len(argv) == 3:
        ctx.set_var(argv[2], n)
    else:
        ctx.err(n + "\n")
    return 1


@command("substr", help="extract a substring", effect=VARIABLES)
def substr(ctx: Context, argv: list[str]) -> int:
    """C{substr S START LEN [V]}: LEN characters of S from START (0-based).

    The result goes to V, else to stderr.  Unlike the original, which read
    a non-numeric START or LEN as 0, a word that is not a number is an
    error.
    """
    if len(argv) not in (4, 5):
        raise UsageError("USAGE: substr (string) Nstart Nlength [var]")
    text = argv[1]
    for word, what in ((argv[2], "start value"), (argv[3], "length")):
        if not is_number(word):
            raise CommandError(f"ERROR: {what} {word} is not a number in substr command")
    start = _to_int(c_atof(argv[2]))
    length = _to_int(c_atof(argv[3]))
    if start < 0 or start >= len(text):
        raise CommandError("ERROR: start value out of range in substr command")
    if length < 0 or start + length > len(text):
        raise CommandError("ERROR: length out of range in substr command")
    piece = text[start : start + length]
    if len(argv) == 5:
        ctx.set_var(argv[4], piece)
    else:
        ctx.err(piece + "\n")
    return 1


def _to_int(value: float) -> int:
    """C double-to-int conversion (truncation); NaN and infinities give a
    value that every range check rejects."""
    if math.isnan(value) or math.isinf(value):
        return -1
    return int(value)


@command("strstr", help="find a substring", effect=VARIABLES)
def strstr(ctx: Context, argv: list[str]) -> int:
    """C{strstr HAY NEEDLE [-start V] [-length V] [-q]}.

    Start is -1 and length 0 when NEEDLE is absent.  Unless C{-q}, prints
    C{start: S, length: L} to stderr.
    """
    usage = "USAGE: strstr (haystack) (needle) [-start (var)] [-length (var)] [-q]"
    quiet = take_flag(argv, "-q")
    start_var = take_value(argv, "-start", usage)
    length_var = take_value(argv, "-length", usage)
    if len(argv) != 3:
        raise UsageError(usage)
    start = argv[1].find(argv[2])
    length = len(argv[2]) if start >= 0 else 0
    if start_var is not None:
        ctx.set_var(start_var, str(start))
    if length_var is not None:
        ctx.set_var(length_var, str(length))
    if not quiet:
        ctx.err(f"start: {start}, length: {length}\n")
    return 1


@command("strsub", help="replace instances of a key in a string", effect=VARIABLES)
def strsub(ctx: Context, argv: list[str]) -> int:
    """C{strsub S KEY VALUE [-var V]}: every KEY in S replaced by VALUE.

    Non-overlapping, left to right.  The result goes to V, else to stdout.
    An empty KEY replaces nothing (the original looped forever).
    """
    usage = "USAGE: strsub (string) (key) (value) [-var out]"
    var = take_value(argv, "-var", usage)
    if len(argv) != 4:
        raise UsageError(usage)
    text, key, value = argv[1], argv[2], argv[3]
    if key and len(value) > len(key):
        # Refuse a result longer than any value may be before building it.
        size = len(text) + text.count(key) * (len(value) - len(key))
        if size > ctx.interp.max_value:
            raise value_too_long(f"${var}" if var is not None else "strsub", size,
                                 ctx.interp.max_value)
    out = text.replace(key, value) if key else text
    if var is not None:
        ctx.set_var(var, out)
    else:
        ctx.out(out + "\n")
    return 1


# -- strpop ----------------------------------------------------------------


def pop_word(text: str) -> tuple[str | None, str | None]:
    """Split C{text} into its first word and the raw rest.

    Words follow the command-line rules (C{"..."} loses its quotes,
    C{(...)} keeps its parentheses).  The rest starts at the next word,
    unchanged (quotes kept); it is None when nothing follows.

    @return: (word, rest); the word is None when C{text} is blank.
    @raise ScriptError: C{misbalanced quotes} or C{misbalanced parenthesis}.
    """
    n = len(text)
    i = 0
    while i < n and text[i] in _WS:
        i += 1
    if i >= n:
        return None, None
    if text[i] == '"':
        j = text.find('"', i + 1)
        if j < 0:
            raise ScriptError("misbalanced quotes")
        word, end = text[i + 1 : j], j + 1
    elif text[i] == "(":
        depth = 0
        j = i
        while j < n:
            if text[j] == "(":
                depth += 1
            elif text[j] == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if j >= n:
            raise ScriptError("misbalanced parenthesis")
        word, end = text[i : j + 1], j + 1
    else:
        j = i
        while j < n and text[j] not in _WS:
            j += 1
        word, end = text[i:j], j
    while end < n and text[end] in _WS:
        end += 1
    return word, (text[end:] if end < n else None)


@command("strpop", help="pop a string", effect=VARIABLES)
def strpop(ctx: Context, argv: list[str]) -> int:
    """C{strpop VAR [OUT]}: remove the first word of VAR's value.

    VAR keeps the rest, or C{NULL} when nothing is left; the word goes to
    OUT, else to stdout.  A missing VAR fails silently, as in the
    original.  A blank value pops an empty word.
    """
    if len(argv) not in (2, 3):
        raise UsageError("USAGE: strpop (var) [out]")
    value = ctx.get_var(argv[1])
    if value is None:
        return 0
    word, rest = pop_word(value)
    ctx.set_var(argv[1], "NULL" if rest is None else rest)
    word = word or ""
    if len(argv) == 3:
        ctx.set_var(argv[2], word)
    else:
        ctx.out(word + "\n")
    return 1


# -- strmatch / getchr -----------------------------------------------------


def _is_upper(c: str) -> bool:
    return "A" <= c <= "Z"


def _is_lower(c: str) -> bool:
    return "a" <= c <= "z"


def _is_digit(c: str) -> bool:
    return "0" <= c <= "9"


_CLASSES: dict[str, Callable[[str], bool]] = {
    "alpha": lambda c: _is_upper(c) or _is_lower(c),
    "upper": _is_upper,
    "lower": _is_lower,
    "float": lambda c: _is_digit(c) or c in "-.",
    "int": _is_digit,
}


@command("strmatch", help="find a run of a character class", effect=VARIABLES)
def strmatch(ctx: Context, argv: list[str]) -> int:
    """C{strmatch S CLASS [-output STARTV LENV]}: the first run of CLASS.

    CLASS is C{alpha}, C{upper}, C{lower}, C{float} (digits, C{-}, C{.})
    or C{int}, in any case.  Start and length are both -1 without a match.
    Without C{-output}, prints C{match: S L} to stdout.  An unknown class
    is an error (the original printed it but succeeded).
    """
    usage = "USAGE: strmatch (string) (class) [-output start length]"
    names = take_value(argv, "-output", usage, count=2)
    if len(argv) != 3:
        raise UsageError(usage)
    test = _CLASSES.get(argv[2].lower())
    if test is None:
        raise CommandError(f"unknown character class {argv[2]}")
    text = argv[1]
    start = length = -1
    for i, c in enumerate(text):
        if test(c):
            start = i
            length = 1
            while i + length < len(text) and test(text[i + length]):
                length += 1
            break
    if names is not None:
        ctx.set_var(names[0], str(start))
        ctx.set_var(names[1], str(length))
    else:
        ctx.out(f"match: {start} {length}\n")
    return 1


@command("getchr", help="find character in string", effect=VARIABLES)
def getchr(ctx: Context, argv: list[str]) -> int:
    """C{getchr S C [V]}: index of the first character of C in S, or -1.

    The result goes to V, else to stderr.  An empty C finds the end of S
    (its length), as C C{strchr} does for the NUL character.
    """
    if len(argv) not in (3, 4):
        raise UsageError("USAGE: getchr (string) (char) [var]")
    text, chars = argv[1], argv[2]
    pos = text.find(chars[0]) if chars else len(text)
    if len(argv) == 4:
        ctx.set_var(argv[3], str(pos))
    else:
        ctx.err(f"{pos}\n")
    return 1


# -- inthash / strhash -----------------------------------------------------


def _modulus(word: str, usage: str) -> int:
    modulus = c_atoi(word, usage)
    if modulus > 255:
        raise CommandError("for the moment, (modulus) is limited to 255")
    if modulus == 0:
        raise CommandError(f"(modulus) must not be zero: {word}")
    return modulus


@command("inthash", help="generate a hash for a word treated as an integer", effect=VARIABLES)
def inthash(ctx: Context, argv: list[str]) -> int:
    """C{inthash WORD MOD [-var V]}: C{atoi(WORD) % MOD} (C remainder).

    A word without a leading number counts as 0.  MOD is at most 255 and
    must not be 0.  The result goes to V, else to stdout.
    """
    usage = "USAGE: inthash (word) (modulus) [-var value]"
    var = take_value(argv, "-var", usage)
    if len(argv) != 3:
        raise UsageError(usage)
    modulus = _modulus(argv[2], usage)
    value = str(c_mod(c_atoi(argv[1], usage), modulus))
    if var is not None:
        ctx.set_var(var, value)
    else:
        ctx.out(value + "\n")
    return 1


@command("strhash", help="generate a hash for a string", effect=VARIABLES)
def strhash(ctx: Context, argv: list[str]) -> int:
    """C{strhash S MOD [-var V]}: the sum of each byte of S modulo MOD,
    taken modulo MOD again.

    Bytes are the UTF-8 encoding of S read as signed C chars, and both
    remainders are C remainders, so the result matches the original.
    MOD is at most 255 and must not be 0.  The result goes to V, else to
    stdout.
    """
    usage = "USAGE: strhash (string) (modulus) [-var value]"
    var = take_value(argv, "-var", usage)
    if len(argv) != 3:
        raise UsageError(usage)
    modulus = _modulus(argv[2], usage)
    total = 0
    for b in argv[1].encode("utf-8", "surrogateescape"):
        total += c_mod(b - 256 if b >= 128 else b, modulus)
    value = str(c_mod(total, modulus))
    if var is not None:
        ctx.set_var(var, value)
    else:
        ctx.out(value + "\n")
    return 1


# -- sprintf / fprintf -----------------------------------------------------

_SPEC_CHARS = set(".-+ 0123456789")
_NUMBERS_IN_SPEC = re.compile(r"[0-9]+")


def format_values(
    fmt: str,
    values: list[str],
    conversions: str,
    bad_format: str,
    read_int: Callable[[str, str], int] = c_atoi,
) -> str:
    """Fill C{fmt} with C{values} the way opihi's C{sprintf} did.

    Every C{%} starts a conversion C{%[-+ .0-9]*X}; there is no C{%%}.
    C{e f g E F G} take a float (C{atof}), C{s} the word, C{d i c} a
    32-bit int, C{o u x X} an unsigned 32-bit int.

    @param conversions: the allowed conversion letters.
    @param bad_format: the message for a conversion that is not allowed.
    @param read_int: how integer values are read: L{c_atoi} for
        C{sprintf}, L{c_strtol} (base 0) for C{fprintf}.
    @return: the formatted text (at most L{MAX_FORMATTED} characters).
    @raise CommandError: C{mismatch between format and values},
        C{bad_format}, or C{line too long}.
    """
    out: list[str] = []
    size = 0
    pos = 0
    for value in values:
        pct = fmt.find("%", pos)
        if pct < 0:
            raise CommandError("mismatch between format and values")
        out.append(fmt[pos:pct])
        size += pct - pos
        end = pct + 1
        while end < len(fmt) and fmt[end] in _SPEC_CHARS:
            end += 1
        conv = fmt[end] if end < len(fmt) else ""
        if not conv or conv not in conversions:
            raise CommandError(bad_format)
        flags = fmt[pct + 1 : end]
        if any(int_of_digits(n) > MAX_FORMATTED for n in _NUMBERS_IN_SPEC.findall(flags)):
            raise CommandError("line too long")
        piece = _convert(flags, conv, value, read_int, bad_format)
        size += len(piece)
        if size > MAX_FORMATTED:
            raise CommandError("line too long")
        out.append(piece)
        pos = end + 1
    if "%" in fmt[pos:]:
        raise CommandError("mismatch between format and values")
    out.append(fmt[pos:])
    size += len(fmt) - pos
    if size > MAX_FORMATTED:
        raise CommandError("line too long")
    return "".join(out)


def _convert(
    flags: str, conv: str, word: str, read_int: Callable[[str, str], int], bad_format: str
) -> str:
    """One conversion, done with Python's C{%} operator.

    An integer beyond a C long is refused (C clamped it silently)."""
    out_of_range = f"value out of range for %{conv}: {quote(word)}"
    arg: object
    if conv in "efgEFG":
        arg = c_atof(word)
    elif conv == "s":
        arg = word
    elif conv in "dic":
        arg = _wrap32(read_int(word, out_of_range))
        if conv == "c":
            arg &= 0xFF
    else:  # o u x X: unsigned; C ignores the sign flags here
        arg = read_int(word, out_of_range) & 0xFFFFFFFF
        flags = flags.replace("+", "").replace(" ", "")
    try:
        text = ("%" + flags + conv) % arg
    except (ValueError, TypeError, OverflowError):
        raise CommandError(bad_format) from None
    # C stops a string at NUL (a %c of 0)
    return text.split("\0", 1)[0]


@command("sprintf", help="formatted print to a variable", effect=VARIABLES)
def sprintf(ctx: Context, argv: list[str]) -> int:
    """C{sprintf VAR FORMAT VALUE...}: store the formatted text in VAR.

    Only C{%[-+ .0-9]*[efsdcx]} conversions; see L{format_values}.
    """
    if len(argv) < 3:
        raise UsageError("USAGE: sprintf var format value value ...")
    text = format_values(
        argv[2],
        argv[3:],
        "efsdcx",
        "syntax error in format (only e,f,s,d,c,x allowed)",
    )
    ctx.set_var(argv[1], text)
    return 1


@command("fprintf", help="formatted print to standard output", effect=READS)
def fprintf(ctx: Context, argv: list[str]) -> int:
    """C{fprintf FORMAT VALUE...}: print the formatted text and a newline
    to stdout.

    Allows more conversions than C{sprintf} (C{e f g E F G c s d i o u x X})
    and reads integers with C{strtol} base 0 (C{0x1f}, C{017}).
    """
    if len(argv) < 2:
        raise UsageError("USAGE: fprintf format value value ...")
    text = format_values(
        argv[1],
        argv[2:],
        "efgEFGsdiouxXc",
        "syntax error in format (e,f,g,E,F,G,c,s,d,i,o,x,X conversions allowed)",
        read_int=c_strtol,
    )
    ctx.out(text + "\n")
    return 1
