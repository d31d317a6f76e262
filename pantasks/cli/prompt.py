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
