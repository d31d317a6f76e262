# -*- test-case-name: tests.net.test_security -*-
"""Security tests against a real C{pantasks_server}: bad passwords, lockout,
bad HMACs, the watch role, hostile bytes and stalled connections.  After
each, the server must still serve everyone else."""

from __future__ import annotations

import os
import threading
import time

from pantasks.net.auth import hmac_response
from tests.net.procs import Conn, ServerProcess

DENIED = "E {}: permission denied (user bob has the watch role)"
RUNS_DENIED = ("E {}: permission denied (user bob has the watch role: it would start a program "
               "on the server host)")


def still_serving(server: ServerProcess) -> None:
    c = Conn(server.port)
    assert c.login() == "OK pantasks control"
    assert c.ask("echo alive") == (["O alive"], "STATUS 1")
    c.close()


def test_wrong_password_is_delayed_and_closed(main_server: ServerProcess) -> None:
    c = Conn(main_server.port, source="127.0.0.3")
    c.greeting()
    t0 = time.monotonic()
    c.send("PASS nope\necho sneaky\n")
    assert c.readline() == "NO authentication failed"
    assert time.monotonic() - t0 >= 0.9
    assert c.at_eof()
    still_serving(main_server)


def test_many_wrong_passwords_lock_the_address(main_server: ServerProcess) -> None:
    results: list[str] = []

    def attempt() -> None:
        c = Conn(main_server.port, source="127.0.0.4")
        results.append(c.login("wrong"))

    threads = [threading.Thread(target=attempt) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert results == ["NO authentication failed"] * 3
    locked = Conn(main_server.port, source="127.0.0.4")
    assert locked.login("secret") == "NO authentication failed", "right password, locked out"
    other = Conn(main_server.port, source="127.0.0.14")
    assert other.login("secret") == "OK pantasks control"
    err = (main_server.dir / "server.err").read_text()
    assert "address 127.0.0.4 blocked for 600 s after 3 failed logins" in err


def test_auth_with_wrong_hmac(main_server: ServerProcess) -> None:
    c = Conn(main_server.port, source="127.0.0.5")
    c.greeting()
    c.send(f"AUTH alice {hmac_response('alicepw', '0' * 32)}\n")  # not this nonce
    assert c.readline() == "NO authentication failed"
    assert c.at_eof()
    good = Conn(main_server.port, source="127.0.0.5")
    assert good.login("alicepw", user="alice") == "OK alice control"


def test_watch_user_refused(main_server: ServerProcess) -> None:
    c = Conn(main_server.port)
    assert c.login("bobpw", user="bob") == "OK bob watch"
    for line, name in [("run", "run"), ("kill 1", "kill"), ("stop", "stop"),
                       ("server halt", "server"), ("shutdown now", "shutdown")]:
        assert c.ask(line) == ([DENIED.format(name)], "STATUS 0"), line
    assert c.ask("exec touch /tmp/pantasks-pwned") == ([RUNS_DENIED.format("exec")], "STATUS 0")
    assert c.ask("$x = `touch /tmp/pantasks-pwned`") == ([RUNS_DENIED.format("`touch`")],
                                                         "STATUS 0")
    assert c.ask("task evil") == ([], "MORE 1")
    assert c.ask("command rm -rf /") == ([], "MORE 1")
    assert c.ask("end") == ([DENIED.format("task")], "STATUS 0")
    assert not os.path.exists("/tmp/pantasks-pwned")
    lines, status = c.ask("status")
    assert status == "STATUS 1" and "evil" not in "\n".join(lines)
    assert c.ask("watch on") == (["O watch: log on, jobs off"], "STATUS 1")


def test_garbage_bytes(main_server: ServerProcess) -> None:
    pre = Conn(main_server.port)
    pre.greeting()
    pre.send(b"\x00\x01\x02garbage\xff\n")
    assert pre.readline() == "ERR expected PASS, AUTH or QUIT"
    c = Conn(main_server.port)
    c.login()
    c.send(b"echo \xc3\x28 bad\n")
    assert c.reply() == (["E request is not valid UTF-8"], "STATUS 0")
    c.send(b"\x00\x01\x02\x7f\n")
    lines, status = c.reply()
    assert status == "STATUS 0" and lines and lines[0].startswith("E "), lines
    assert c.ask("echo still fine") == (["O still fine"], "STATUS 1")


def test_ten_megabyte_line(main_server: ServerProcess) -> None:
    c = Conn(main_server.port)
    c.login()
    bystander = Conn(main_server.port)
    bystander.login()
    chunk = b"x" * 65536
    try:
        for _ in range(160):  # 10 MiB, no newline
            c.send(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server hung up once the line was too long: fine
    assert c.readline() == "ERR line too long"
    assert c.at_eof()
    assert bystander.ask("echo unaffected") == (["O unaffected"], "STATUS 1")


def test_half_open_and_vanishing_clients(main_server: ServerProcess) -> None:
    silent = Conn(main_server.port)  # connects, never says anything
    silent.greeting()
    stalled = Conn(main_server.port)
    stalled.login()
    stalled.send("echo half")  # no newline yet
    vanish = Conn(main_server.port)
    vanish.login()
    vanish.send("exec sleep 1; $vanished = done\n")
    vanish.close()  # gone while its command runs
    still_serving(main_server)
    stalled.send(" line\n")
    assert stalled.reply() == (["O half line"], "STATUS 1")
    time.sleep(1.3)
    c = Conn(main_server.port)
    c.login()
    # Nobody was left to read its reply: the request was cancelled.
    assert c.ask("echo $?vanished") == (["O 0"], "STATUS 1"), "the command was cancelled"
    silent.close()
