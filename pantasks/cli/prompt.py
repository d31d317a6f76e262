# -*- test-case-name: tests.cli.test_client_shell,tests.shell.test_shell -*-
"""The prompt shared by the standalone shell and the client: reading one
typed command (a whole block, continued at a C{> } prompt) and setting up
readline (history and completion)."""

from __future__ import annotations

from typing import Any, Callable, Optional

from pantasks.lang.source import block_depth

CONTINUE_PROMPT = "> "


def read_command(
    read: Callable[[str], Optional[str]],
    prompt: str,
    depth: Callable[[list[str]], int] = block_depth,
) -> Optional[list[str]]:
    """One typed command: a line read with C{prompt} then, while C{depth}
    says a block is still open, more lines read with C{> }.

    @param read: reads one line after showing its prompt; L{None} at the
        end of input.
    @return: the lines (cut short if the input ends inside a block), or
        L{None} when the input ends before the first line.
    """
    line = read(prompt)
    if line is None:
        return None
    lines = [line]
    while depth(lines) > 0:
        more = read(CONTINUE_PROMPT)
        if more is None:
            break
        lines.append(more)
    return lines


def setup_readline(
    interp: Any, complete: Optional[Callable[[str, int], Optional[str]]] = None
) -> None:
    """History in $HISTORY (saved at exit); completion with C{complete},
    by default of the names of C{interp}'s commands and macros."""
    try:
        import readline
    except ImportError:  # pragma: no cover
        return
    import atexit

    history = interp.variables.get("HISTORY", ".pantasks")
    try:
        readline.read_history_file(history)
    except OSError:
        pass

    def save() -> None:
        try:
            readline.write_history_file(history)
        except OSError:
            pass

    atexit.register(save)

    def complete_names(text: str, state: int) -> Optional[str]:
        names = [n for n in list(interp.names()) if n.startswith(text)]
        return names[state] if state < len(names) else None

    readline.set_completer_delims(" \t\n;")
    readline.set_completer(complete or complete_names)
    readline.parse_and_bind("tab: complete")


class Terminal:
    """
    The terminal the prompt thread reads from, as the reactor thread sees
    it: lines that arrive while the user types (watch lines, job output,
    "connection lost") are written above the prompt, and the prompt and
    the half-typed line are drawn again below them; Control-C at the
    prompt clears the half-typed line, as in bash.

    The prompt thread calls L{reading} before C{input()} and L{idle}
    after; everything else runs on the reactor thread.
    """

    def __init__(self, out: Any = None) -> None:
        import sys
        import threading

        self.out = out if out is not None else sys.stdout
        self.prompt: Optional[str] = None
        self._lock = threading.Lock()

    def reading(self, prompt: str) -> None:
        """The prompt thread shows C{prompt} and waits for a line."""
        with self._lock:
            self.prompt = prompt

    def idle(self) -> None:
        """The prompt thread has its line (a command runs now)."""
        with self._lock:
            self.prompt = None

    def write(self, text: str, stream: Any = None) -> None:
        """Write C{text} (whole lines) to C{stream} (default: L{out});
        at the prompt, above it, and then draw the prompt again."""
        stream = stream if stream is not None else self.out
        with self._lock:
            prompt = self.prompt
            if prompt is None:
                stream.write(text)
                stream.flush()
                return
            typed = line_buffer()
            self.out.write("\r" + " " * (len(prompt) + len(typed)) + "\r")
            self.out.flush()
            stream.write(text if text.endswith("\n") else text + "\n")
            stream.flush()
            if not redisplay():
                self.out.write(prompt + typed)
                self.out.flush()

    def interrupt_line(self, hint: str) -> None:
        """Control-C at the prompt: drop the half-typed line (C{^C}, then
        a fresh prompt), or, on an empty line, say C{hint}."""
        with self._lock:
            prompt = self.prompt
            if prompt is None:
                return
            typed = line_buffer()
            cleared = clear_line_buffer() if typed else True
            self.out.write("^C\n" if typed else f"^C\n{hint}\n")
            self.out.flush()
            if not (cleared and redisplay()):
                self.out.write(prompt)
                self.out.flush()


def _libreadline() -> Any:
    """GNU readline as loaded by Python's readline module (through ctypes),
    or None: its C functions that the module does not offer."""
    global _RL
    if _RL is not None:
        return _RL or None
    _RL = False
    try:
        import ctypes

        import readline  # noqa: F401  (loads the library)

        with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
            paths = [line.split()[-1] for line in maps if "libreadline" in line]
        if paths:
            _RL = ctypes.CDLL(paths[0])
    except (ImportError, OSError):
        pass
    return _RL or None


_RL: Any = None


def line_buffer() -> str:
    """What the user has typed on the current line, or empty."""
    try:
        import readline

        return readline.get_line_buffer()
    except ImportError:  # pragma: no cover
        return ""


def clear_line_buffer() -> bool:
    """Empty readline's current line (C{rl_replace_line("", 0)});
    False when that cannot be done."""
    lib = _libreadline()
    if lib is None:
        return False
    try:
        import ctypes

        lib.rl_replace_line(b"", 0)
        ctypes.c_int.in_dll(lib, "rl_point").value = 0
        return True
    except (AttributeError, ValueError):
        return False


def redisplay() -> bool:
    """Make readline draw its prompt and line again, on the line the
    cursor is on now; False when that cannot be done."""
    lib = _libreadline()
    if lib is None:
        return False
    try:
        lib.rl_on_new_line()
        lib.rl_redisplay()
        return True
    except AttributeError:
        return False
