# -*- test-case-name: tests.web.test_web_server -*-
"""The web page of a real C{pantasks_server} running real jobs, seen by a
real browser (headless Chromium), by HTTP clients and by Prometheus's
parser: pages load, a job's end shows without a reload, who may look and
who may not.  Screenshots are written under the test's tmp directory
(their paths are printed)."""

from __future__ import annotations

import base64
import re
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator, Optional

import pytest

from tests.net.procs import Conn, ServerProcess, clean_env, free_port_base, server_argv, write
from tests.web.browser import Browser, chromium

SCRIPT = """\
task quick
  command sh -c "echo quick says hi; exit 0"
  periods -exec 1 -timeout 60
  nmax 3
end
task failing
  command sh -c "echo '<script>document.title=1</script> & <b>bold</b>' >&2; exit 3"
  periods -exec 1 -timeout 60
  nmax 2
end
task slow
  command sh -c "while [ ! -e release ]; do sleep 0.1; done"
  periods -exec 1 -timeout 300
  nmax 1
end
run
"""


def start_server(d: Path, valid_ip: str = "", web: str = "tcp:0:interface=127.0.0.1",
                 script: str = SCRIPT) -> tuple[ServerProcess, str]:
    base = free_port_base()
    write(d / "ptolemy.rc", f"PASSWORD secret\nPANTASKS_SERVER_PORT {base}:{base + 20}\n"
          + (f"VALID_IP {valid_ip}\n" if valid_ip else ""))
    write(d / "pantasks.conf",
          "[server]\nauth_fail_delay = 0.1\nlockout_failures = 50\nlockout_user_failures = 50\n"
          "[users]\nalice = alicepw, control\nbob = bobpw, watch\n"
          f"[web]\nendpoint = {web}\nupdate_interval = 0.3\n")
    write(d / "jobs.pro", script)
    server = ServerProcess(server_argv() + ["-c", "ptolemy.rc", "--config", "pantasks.conf",
                                            "--load", "jobs.pro"], d, clean_env(d))
    server.dir = d  # type: ignore[attr-defined]
    url = server.wait_for(r"web page at (https?://\S+/)").group(1)
    server.wait_port()
    return server, url


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, str]]:
    server, url = start_server(tmp_path_factory.mktemp("web_server"))
    try:
        yield server, url
    finally:
        (server.dir / "release").write_text("")  # the slow job ends, if it still runs
        assert server.stop() == 0, server.stderr


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    chromium()
    b = Browser(tmp_path / "profile")
    try:
        yield b
    finally:
        b.close()


def get(url: str, user: Optional[str] = None, password: str = "",
        headers: Optional[dict] = None, method: str = "GET") -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    if user is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def wait_until(check, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def refused_login(browser: Browser, url: str) -> bool:
    """Whether the browser, loading C{url}, was asked to log in and shown
    nothing else (headless Chromium answers a 401 asking for Basic with
    its own error; a page only if it showed ours)."""
    error = browser.goto(url)
    if error is not None:
        return error == "net::ERR_INVALID_AUTH_CREDENTIALS"
    return (browser.js("document.title") == "Log in"
            and not browser.js("!!document.querySelector('#live')"))


# -- pages in a real browser ---------------------------------------------------
def test_pages_load_and_a_job_end_shows_without_reload(web, browser, tmp_path) -> None:
    _server, url = web
    browser.basic_auth("bob", "bobpw")
    # The jobs page, while the slow job runs (until the test releases it).
    assert browser.goto(url + "jobs") is None
    assert browser.js("document.title").startswith("jobs - pantasks")
    row = browser.wait_for("(document.querySelector('#running tr[id^=job-]') || {}).id")
    slow = browser.wait_for("[...document.querySelectorAll('#running tr[id^=job-]')]"
                            ".map(r => r.innerText).find(t => t.includes('slow'))")
    job_id = slow.split()[0]
    assert row
    browser.screenshot(tmp_path / "jobs.png")
    browser.js("window.notReloaded = true")
    (_server.dir / "release").write_text("")  # the slow job ends now
    browser.wait_for(f"!!document.querySelector('#recent #job-{job_id}')", timeout=40)
    assert browser.js("window.notReloaded") is True  # the same page, updated in place
    assert "EXIT" not in browser.text(f"#recent #job-{job_id}")
    assert "0" in browser.text(f"#recent #job-{job_id}")
    assert not browser.js(f"!!document.querySelector('#running #job-{job_id}')")

    # The overview.
    assert browser.goto(url) is None
    assert browser.text("#scheduler-state") == "running"
    browser.wait_for("document.querySelector('#problems') && "
                     "document.querySelector('#problems').innerText.includes('failing')")
    assert "failing (exit 3)" in browser.text("#problems")
    assert browser.js("document.querySelectorAll('svg.chart rect').length") >= 1
    browser.screenshot(tmp_path / "overview.png")

    # A task page: definition, counters, last jobs and their output, escaped.
    assert browser.goto(url + "task/failing") is None
    browser.wait_for("!!document.querySelector('#last-jobs tr.output')")
    assert "exit 3" not in browser.text("#counters")
    assert browser.text("#counters").split()[-7:][2] == "0"  # Ngood
    tail = browser.text("#last-jobs")
    assert "<script>document.title=1</script> & <b>bold</b>" in tail
    assert browser.js("document.scripts.length") == 1  # only ours
    assert browser.js("document.querySelectorAll('main b').length") == 0
    assert browser.js("document.title").startswith("task failing")
    browser.screenshot(tmp_path / "task.png")

    # Tasks: sortable and filtered by name.
    assert browser.goto(url + "tasks?filter=fail") is None
    assert "failing" in browser.text("#tasks") and "quick" not in browser.text("#tasks")
    assert browser.goto(url + "tasks?sort=njobs&desc=1") is None
    names = browser.js("[...document.querySelectorAll('#tasks tr td:first-child a')]"
                       ".map(a => a.innerText)")
    assert names[0] == "quick", names
    browser.screenshot(tmp_path / "tasks.png")
    assert browser.goto(url + "hosts") is None
    assert "jobs run on this host" in browser.text("#hosts")


def test_wrong_password_cannot_look(web, browser) -> None:
    _server, url = web
    browser.basic_auth("bob", "wrong")
    assert refused_login(browser, url)
    assert refused_login(browser, url + "jobs")
    status, headers, _ = get(url + "metrics", "bob", "wrong")
    assert status == 401 and headers["WWW-Authenticate"].startswith("Basic")
    status, _h, _b = get(url + "metrics", "nobody", "bobpw")
    assert status == 401
    status, _h, body = get(url)
    assert status == 401 and b"scheduler-state" not in body


def test_web_token_link_logs_a_watch_user_in_and_revoke_ends_it(web, browser) -> None:
    server, url = web
    c = Conn(server.port)
    assert c.login("bobpw", "bob") == "OK bob watch"
    lines, status = c.ask("web token")
    assert status == "STATUS 1", lines
    link = lines[0][2:]
    assert link.startswith(url + "login?token=")
    assert "logs in as bob" in lines[1]
    assert browser.goto(link) is None
    assert browser.js("location.pathname") == "/"
    assert browser.text("#scheduler-state") == "running"
    assert "bob (watch)" in browser.text("header")
    # The cookie cannot be read by a script.
    assert "pantasks_web" not in browser.js("document.cookie")
    token = link.split("token=", 1)[1]
    assert get(url + "metrics", headers={"Authorization": f"Bearer {token}"})[0] == 200
    assert c.ask("web revoke") == (["O web: 1 link of bob revoked"], "STATUS 1")
    assert refused_login(browser, url)
    assert get(url + "metrics", headers={"Authorization": f"Bearer {token}"})[0] == 401
    assert browser.goto(link) is None
    assert browser.wait_for("document.title == 'Link not valid'", timeout=10)
    assert c.ask("web") == ([f"O web page: {url}"], "STATUS 1")
    c.close()


def test_read_only_and_headers(web) -> None:
    _server, url = web
    status, headers, _ = get(url, "bob", "bobpw", method="POST")
    assert status == 405
    status, headers, body = get(url, "bob", "bobpw")
    assert status == 200
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY" and headers["Cache-Control"] == "no-store"
    assert get(url + "task/nosuch", "bob", "bobpw")[0] == 404
    assert get(url + "nosuch", "bob", "bobpw")[0] == 404


# -- /metrics ---------------------------------------------------------------------
def test_metrics_match_the_jobs_that_ran(web) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    _server, url = web
    (_server.dir / "release").write_text("")  # the slow job may end

    def samples() -> dict:
        status, headers, body = get(url + "metrics", "alice", "alicepw")
        assert status == 200 and headers["Content-Type"].startswith("text/plain")
        found = {}
        for family in text_string_to_metric_families(body.decode()):
            for s in family.samples:
                found[(s.name, tuple(sorted(s.labels.items())))] = s.value
        return found

    def done(s: dict) -> bool:
        return (s.get(("pantasks_jobs_ended_total", (("outcome", "success"), ("task", "quick"))))
                == 3 and
                s.get(("pantasks_jobs_ended_total", (("outcome", "failure"),
                                                     ("task", "failing")))) == 2 and
                s.get(("pantasks_jobs_ended_total", (("outcome", "success"),
                                                     ("task", "slow")))) == 1 and
                # All three reach nmax, so each is refused once since.
                s.get(("pantasks_task_launch_refusals_total", (("reason", "nmax"),)), 0) >= 3)

    s = wait_until(lambda: (lambda x: x if done(x) else None)(samples()), timeout=90)
    assert s[("pantasks_jobs_started_total", (("task", "quick"),))] == 3
    assert s[("pantasks_jobs_started_total", (("task", "failing"),))] == 2
    assert s[("pantasks_job_duration_seconds_count", (("task", "slow"),))] == 1
    assert s[("pantasks_job_duration_seconds_bucket", (("le", "+Inf"), ("task", "slow")))] == 1
    assert s[("pantasks_job_duration_seconds_bucket", (("le", "3600.0"), ("task", "quick")))] == 3
    assert s[("pantasks_jobs_running", ())] == 0
    assert s[("pantasks_tasks", ())] == 3
    assert s[("pantasks_scheduler_state", (("state", "running"),))] == 1
    assert s[("pantasks_task_launch_refusals_total", (("reason", "trange"),))] == 0
    assert ("pantasks_reactor_lag_seconds_count", ()) in s
    assert s[("process_open_fds", ())] > 0
    c = Conn(_server.port)
    assert c.login("bobpw", "bob") == "OK bob watch"
    s = samples()
    assert s[("pantasks_client_sessions", (("role", "watch"),))] >= 1
    c.close()


# -- addresses ------------------------------------------------------------------------
def test_an_address_outside_valid_ip_cannot_look(tmp_path, browser) -> None:
    server, url = start_server(tmp_path, valid_ip="127.0.0.2", script="")
    try:
        browser.basic_auth("bob", "bobpw")
        error = browser.goto(url)  # the browser comes from 127.0.0.1
        if error is None:
            assert not browser.js("!!document.querySelector('#live')")
        else:
            assert error.startswith("net::ERR_"), error
        # From an allowed address the same port answers.
        port = int(re.search(r":(\d+)/$", url).group(1))
        with socket.create_connection(("127.0.0.1", port), 10,
                                      source_address=("127.0.0.2", 0)) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.0 401")
        with socket.create_connection(("127.0.0.1", port), 10) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            try:
                answer = s.recv(100)
            except ConnectionResetError:
                answer = b""
            assert answer == b""  # closed, nothing said
    finally:
        assert server.stop() == 0


def _outside_address() -> Optional[str]:
    """An address of this host that is not loopback, if it has one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent
            address = s.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_passwords_only_over_tls_or_loopback(tmp_path) -> None:
    address = _outside_address()
    if address is None:
        pytest.skip("this host has no address outside loopback")
    server, url = start_server(tmp_path, web="tcp:0:interface=0.0.0.0", script="")
    try:
        port = int(re.search(r":(\d+)/$", url).group(1))
        outside = f"http://{address}:{port}/"
        status, headers, body = get(outside + "metrics", "bob", "bobpw")
        assert status == 403 and b"only over TLS or from this host" in body
        status, headers, _ = get(outside)
        assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
        assert get(f"http://127.0.0.1:{port}/metrics", "bob", "bobpw")[0] == 200
        c = Conn(server.port)
        assert c.login("bobpw", "bob") == "OK bob watch"
        token = c.ask("web token")[0][0].split("token=", 1)[1]
        c.close()
        status, _h, body = get(outside + "metrics", headers={"Authorization": f"Bearer {token}"})
        assert status == 200 and b"pantasks_jobs_running" in body
    finally:
        assert server.stop() == 0


def test_connections_are_capped(web) -> None:
    from pantasks.web.service import MAX_CONNECTIONS

    _server, url = web
    port = int(re.search(r":(\d+)/$", url).group(1))
    held = [socket.create_connection(("127.0.0.1", port), 10) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.5)
        with socket.create_connection(("127.0.0.1", port), 10) as s:
            s.settimeout(10)
            try:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                answer = s.recv(100)
            except (ConnectionResetError, BrokenPipeError):
                answer = b""
            assert answer == b""  # one too many: closed at once
    finally:
        for s in held:
            s.close()
    # Once they are gone, the page answers again.
    assert wait_until(lambda: get(url + "metrics", "bob", "bobpw")[0] == 200)


def test_passwords_over_tls_from_outside(tmp_path) -> None:
    import ssl
    import subprocess

    address = _outside_address()
    if address is None:
        pytest.skip("this host has no address outside loopback")
    key = tmp_path / "web.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=pantasks-test", "-keyout", str(key), "-out", str(key)],
                   check=True, capture_output=True)
    server, url = start_server(tmp_path, script="",
                               web=f"ssl:0:interface=0.0.0.0:privateKey={key}")
    try:
        assert url.startswith("https://")
        port = int(re.search(r":(\d+)/$", url).group(1))
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        token = base64.b64encode(b"bob:bobpw").decode()
        request = urllib.request.Request(f"https://{address}:{port}/metrics",
                                         headers={"Authorization": f"Basic {token}"})
        with urllib.request.urlopen(request, timeout=20, context=context) as response:
            assert response.status == 200
            assert b"pantasks_jobs_running" in response.read()
    finally:
        assert server.stop() == 0
