# -*- test-case-name: tests.web.test_service -*-
"""C{web}: where the web page is, and a link that logs you in.

C{web} prints the page's address; C{web token} prints a link with a new
token for the user who asks (any role: the page only shows), valid for
C{[web] token_lifetime} seconds; C{web revoke} ends every link of that
user.  The token is printed to that user's own connection only.
"""

from __future__ import annotations

from typing import Any, Optional

from pantasks.lang.context import Context
from pantasks.lang.errors import ScriptError, UsageError
from pantasks.lang.registry import SESSION, Command

USAGE = "USAGE: web [token|revoke]"


def web_command(web: Optional[Any]) -> Command:
    """The C{web} command for a server whose web service is C{web} (None:
    the page is off, and the command says so)."""

    def cmd_web(ctx: Context, argv: list[str]) -> int:
        if len(argv) > 2 or (len(argv) == 2 and argv[1] not in ("token", "revoke")):
            raise UsageError(USAGE)
        if web is None:
            raise ScriptError("web: the web page is off (set [web] endpoint in pantasks.conf)")
        if not web.url:
            raise ScriptError("web: the web page is not listening (see the server log)")
        if len(argv) == 1:
            ctx.out(f"web page: {web.url}\n")
            return 1
        user = ctx.user
        if not user:
            raise ScriptError(f"web {argv[1]}: only for users logged in over the network")
        if argv[1] == "revoke":
            n = web.auth.revoke(user)
            ctx.out(f"web: {n} link{'s' if n != 1 else ''} of {user} revoked\n")
            return 1
        token = web.auth.issue(user)
        hours = web.auth.token_lifetime / 3600
        ctx.out(f"{web.url}login?token={token}\n")
        ctx.out(f"(logs in as {user} for {hours:g} h; anyone with this link can look: "
                "web revoke ends it)\n")
        return 1

    return Command("web", cmd_web,
                   "web [token|revoke]: the web page's address; token: a link that logs you "
                   "in; revoke: end your links", effect=SESSION)


def install(interp: Any, web: Optional[Any]) -> None:
    """Add the C{web} command to C{interp}."""
    interp.commands.setdefault("web", web_command(web))
    interp.macros_changed()
