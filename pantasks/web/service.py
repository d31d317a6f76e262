# -*- test-case-name: tests.web.test_service -*-
"""The web service: resources, the guard in front of them, live events.

One L{WebService} in the server's service tree (pantasks.conf C{[web]
endpoint}) listens with a C{twisted.web} site.  It serves

  - C{/} (overview), C{/tasks}, C{/task/NAME}, C{/jobs}, C{/hosts}: HTML
    (a page's fragment alone with C{?fragment=1});
  - C{/metrics}: the Prometheus exposition text;
  - C{/events}: server-sent events, one when something changed (at most
    one per C{update_interval});
  - C{/login?token=T}: turns a C{web token} link into a cookie;
  - C{/static/...}: the style sheet and the live-update script.

Only C{GET} and C{HEAD}: nothing here changes anything.  A peer outside
C{VALID_IP} is closed before it can send a request, and so is any
connection beyond L{MAX_CONNECTIONS}.  Every response says
C{no-store}, forbids framing and scripts from anywhere but here.
"""

from __future__ import annotations

import base64
import binascii
import socket
from typing import Any, Callable, Optional

from twisted.application import service
from twisted.cred.error import UnauthorizedLogin
from twisted.internet import task as itask
from twisted.internet.endpoints import serverFromString
from twisted.logger import Logger
from twisted.protocols import policies
from twisted.web import resource, server
from twisted.web.util import DeferredResource
from zope.interface import Attribute, Interface

from pantasks.web import pages
from pantasks.web.auth import COOKIE, Viewer, WebAuth, is_loopback
from pantasks.web.lag import LagMonitor
from pantasks.web.metrics import CONTENT_TYPE, Metrics
from pantasks.web.snapshot import Snapshot
from pantasks.web.static import LIVE_JS, STYLE_CSS

log = Logger()

SECURITY_HEADERS = {
    b"content-security-policy": (b"default-src 'none'; script-src 'self'; style-src 'self'; "
                                 b"img-src 'self'; connect-src 'self'; form-action 'self'; "
                                 b"frame-ancestors 'none'; base-uri 'none'"),
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
    b"cache-control": b"no-store",
}

#: Seconds an idle HTTP connection is kept.
HTTP_TIMEOUT = 120

#: HTTP connections at once (a browser opens up to 6 per page).
MAX_CONNECTIONS = 128

#: An event stream is closed after this long (the browser reconnects, and
#: is authenticated again).
STREAM_MAX_AGE = 600.0

#: Seconds between keep-alive comments on event streams.
KEEPALIVE = 15.0

#: Longest filter text taken from a URL.
MAX_FILTER = 200


class IViewer(Interface):
    """Who a request is from (a component of the request)."""

    name = Attribute("user name")
    role = Attribute("role")


def _arg(request: Any, name: bytes, limit: int = MAX_FILTER) -> str:
    values = request.args.get(name) or [b""]
    return values[0][:limit].decode("utf-8", "replace")


def _html(request: Any, code: int, title: str, text: str) -> bytes:
    request.setResponseCode(code)
    request.setHeader(b"content-type", b"text/html; charset=utf-8")
    return pages.message_page(title, text).encode("utf-8")


class Message(resource.Resource):
    """A short HTML answer with a status code."""

    isLeaf = True

    def __init__(self, code: int, title: str, text: str,
                 headers: Optional[dict[bytes, bytes]] = None) -> None:
        super().__init__()
        self.code, self.title, self.text = code, title, text
        self.headers = headers or {}

    def render(self, request: Any) -> bytes:
        for name, value in self.headers.items():
            request.setHeader(name, value)
        return _html(request, self.code, self.title, self.text)


class Static(resource.Resource):
    isLeaf = True

    def __init__(self, body: bytes, content_type: bytes) -> None:
        super().__init__()
        self.body, self.content_type = body, content_type

    def render_GET(self, request: Any) -> bytes:
        request.setHeader(b"content-type", self.content_type)
        return self.body


class Page(resource.Resource):
    """An HTML page: a fragment from C{build}, in the frame unless the
    request asks for the fragment alone."""

    def __init__(self, web: "WebService", here: str, title: str,
                 build: Callable[[Any], Optional[pages.Markup]]) -> None:
        super().__init__()
        self.web, self.here, self.title, self.build = web, here, title, build

    def render_GET(self, request: Any) -> bytes:
        fragment = self.build(request)
        if fragment is None:
            return _html(request, 404, "Not found", "There is no such page here.")
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        if request.args.get(b"fragment") == [b"1"]:
            return fragment.encode("utf-8")
        viewer = request.getComponent(IViewer)
        who = f"{viewer.name} ({viewer.role})" if viewer is not None else ""
        return pages.frame(self.title, self.here, fragment, self.web.server_name,
                           who).encode("utf-8")


class TaskPages(resource.Resource):
    """C{/task/NAME}."""

    def __init__(self, web: "WebService") -> None:
        super().__init__()
        self.web = web

    def getChild(self, path: bytes, request: Any) -> resource.Resource:
        name = path.decode("utf-8", "replace")
        return Page(self.web, "/tasks", f"task {name}",
                    lambda r: pages.task_page(self.web.snapshot, name, self.web.now()))


class MetricsPage(resource.Resource):
    isLeaf = True

    def __init__(self, metrics: Metrics) -> None:
        super().__init__()
        self.metrics = metrics

    def render_GET(self, request: Any) -> bytes:
        request.setHeader(b"content-type", CONTENT_TYPE.encode("ascii"))
        return self.metrics.render()


class Events(resource.Resource):
    """C{/events}: a server-sent event stream (see L{EventHub})."""

    isLeaf = True

    def __init__(self, hub: "EventHub") -> None:
        super().__init__()
        self.hub = hub

    def render_GET(self, request: Any) -> Any:
        if not self.hub.add(request):
            return _html(request, 503, "Too many open pages",
                         "Too many pages are open on this server; close one and reload.")
        return server.NOT_DONE_YET


class EventHub:
    """
    The open event streams; tells them, at most once per C{interval},
    that something changed, so their pages fetch their fragment again.
    """

    def __init__(self, clock: Any, version: Callable[[], int], interval: float,
                 max_streams: int) -> None:
        self.clock = clock
        self.version = version
        self.interval = interval
        self.max_streams = max_streams
        self.streams: dict[Any, float] = {}  # request -> opened at
        self._call: Any = None
        self._last = 0.0
        self._ticker: Optional[itask.LoopingCall] = None

    def start(self) -> None:
        self._ticker = itask.LoopingCall(self._tick)
        self._ticker.clock = self.clock
        self._ticker.start(KEEPALIVE, now=False)

    def stop(self) -> None:
        if self._ticker is not None and self._ticker.running:
            self._ticker.stop()
        if self._call is not None and self._call.active():
            self._call.cancel()
        for request in list(self.streams):
            self._close(request)

    def add(self, request: Any) -> bool:
        if len(self.streams) >= self.max_streams:
            return False
        request.setHeader(b"content-type", b"text/event-stream")
        # The version now: a page rendered before its stream opened (or
        # reconnected) catches up with what changed meanwhile.
        request.write(f"retry: 3000\n\ndata: {self.version()}\n\n".encode("ascii"))
        self.streams[request] = self.clock.seconds()
        request.notifyFinish().addBoth(lambda _: self.streams.pop(request, None))
        return True

    def changed(self) -> None:
        """Something changed (a L{Snapshot} watcher): cheap, coalesced."""
        if not self.streams or (self._call is not None and self._call.active()):
            return
        delay = max(0.0, self._last + self.interval - self.clock.seconds())
        self._call = self.clock.callLater(delay, self._send)

    def _send(self) -> None:
        self._last = self.clock.seconds()
        self._write(f"data: {self.version()}\n\n".encode("ascii"))

    def _tick(self) -> None:
        now = self.clock.seconds()
        for request, opened in list(self.streams.items()):
            if now - opened >= STREAM_MAX_AGE:
                self._close(request)
        self._write(b": keep-alive\n\n")

    def _write(self, data: bytes) -> None:
        for request in list(self.streams):
            try:
                request.write(data)
            except Exception:  # gone meanwhile
                self.streams.pop(request, None)

    def _close(self, request: Any) -> None:
        self.streams.pop(request, None)
        try:
            request.finish()
        except Exception:
            pass


class Guard(resource.Resource):
    """
    In front of every resource but C{/static}: the method check, the
    security headers, and authentication (see L{pantasks.web.auth}).
    """

    def __init__(self, tree: resource.Resource, auth: WebAuth, clock: Any) -> None:
        super().__init__()
        self.tree, self.auth, self.clock = tree, auth, clock

    def getChildWithDefault(self, path: bytes, request: Any) -> resource.Resource:
        for name, value in SECURITY_HEADERS.items():
            request.setHeader(name, value)
        if request.method not in (b"GET", b"HEAD"):
            return Message(405, "Read-only", "This page only shows; it changes nothing.",
                           {b"allow": b"GET, HEAD"})
        if path == b"static":
            return self.tree.getChildWithDefault(path, request)
        peer = str(getattr(request.getClientAddress(), "host", ""))
        if path == b"login":
            return self._token_login(request, peer)
        header = request.getHeader(b"authorization") or b""
        scheme, _, value = header.partition(b" ")
        scheme = scheme.lower()
        token = ""
        if scheme == b"bearer":
            token = value.strip().decode("ascii", "replace")
        elif not header:
            token = (request.getCookie(COOKIE) or b"").decode("ascii", "replace")
        if token:
            viewer = self.auth.token_viewer(token)
            if viewer is None:
                self.auth.failures.failed(peer)
                return self._unauthorized(request, peer, "That link has expired or is not "
                                          "valid; run web token again.")
            return self._let_in(request, viewer, path)
        if scheme == b"basic":
            return self._basic(request, peer, value, path)
        return self._unauthorized(request, peer, "Log in with a pantasks user, or open the "
                                  "link the client command web token prints.")

    def _basic_allowed(self, request: Any, peer: str) -> bool:
        return request.isSecure() or is_loopback(peer)

    def _unauthorized(self, request: Any, peer: str, text: str) -> resource.Resource:
        if self._basic_allowed(request, peer):
            return Message(401, "Log in", text,
                           {b"www-authenticate": b'Basic realm="pantasks", charset="UTF-8"'})
        return Message(401, "Log in", "Open the link the client command web token prints "
                       "(passwords are taken only over TLS or from this host).",
                       {b"www-authenticate": b'Bearer realm="pantasks"'})

    def _let_in(self, request: Any, viewer: Viewer, path: bytes) -> resource.Resource:
        request.setComponent(IViewer, viewer)
        return self.tree.getChildWithDefault(path, request)

    def _basic(self, request: Any, peer: str, value: bytes, path: bytes) -> resource.Resource:
        if not self._basic_allowed(request, peer):
            return Message(403, "Use TLS or a token",
                           "Passwords are taken only over TLS or from this host; open the "
                           "link the client command web token prints instead.")
        try:
            user, _, password = base64.b64decode(value.strip(), validate=True).decode(
                "utf-8", "replace").partition(":")
        except (binascii.Error, ValueError):
            user, password = "", ""
        if self.auth.failures.refused(peer, user):
            return Message(403, "Refused", "Too many failed logins from here; try later.")
        d = self.auth.check_password(user, password)

        def ok(viewer: Viewer) -> resource.Resource:
            self.auth.failures.succeeded(peer, user)
            return self._let_in(request, viewer, path)

        def failed(failure: Any) -> Any:
            failure.trap(UnauthorizedLogin)
            self.auth.failures.failed(peer, user)
            answer = self._unauthorized(request, peer, "Wrong user or password.")
            return itask.deferLater(self.clock, self.auth.failures.answer_delay(peer),
                                    lambda: answer)

        d.addCallbacks(ok, failed)
        return DeferredResource(d)

    def _token_login(self, request: Any, peer: str) -> resource.Resource:
        token = _arg(request, b"token", 256)
        viewer = self.auth.token_viewer(token) if token else None
        if viewer is None:
            self.auth.failures.failed(peer)
            return Message(403, "Link not valid",
                           "That link has expired or is not valid; run web token again.")
        request.addCookie(COOKIE, token.encode("ascii"), path=b"/", httpOnly=True,
                          secure=request.isSecure(), sameSite="strict",
                          max_age=str(int(self.auth.expires(token))).encode("ascii"))
        return Message(303, "Logged in", "Logged in; go to the overview.",
                       {b"location": b"/"})


class WebSite(server.Site):
    """The site: no tracebacks to clients, and no access log (the server
    log is for the scheduler)."""

    def __init__(self, root: resource.Resource, reactor: Any) -> None:
        super().__init__(root, timeout=HTTP_TIMEOUT, reactor=reactor)
        self.displayTracebacks = False

    def log(self, request: Any) -> None:
        pass


class Gate(policies.WrappingFactory):
    """
    What listens: closes a peer outside C{VALID_IP} before it can send a
    request, and any connection beyond L{MAX_CONNECTIONS}, so that
    nobody who can reach the port can take the server's file descriptors
    (which the scheduler needs for jobs).
    """

    def __init__(self, site: WebSite, access: Any, limit: int) -> None:
        super().__init__(site)
        self.access = access
        self.limit = limit

    def buildProtocol(self, addr: Any) -> Any:
        if not self.access.allows(str(getattr(addr, "host", ""))):
            return None
        if len(self.protocols) >= self.limit:
            return None
        return super().buildProtocol(addr)


class WebService(service.Service):
    """
    The web page and C{/metrics} as a service of the server's tree.

    @ivar snapshot: the pages' L{Snapshot} (a scheduler observer).
    @ivar metrics: the L{Metrics} (a scheduler observer).
    @ivar port: the listening port once started.
    @ivar url: C{http://host:port/} once listening.
    """

    name = "web"

    def __init__(self, reactor: Any, endpoint: str, scheduler: Any, factory: Any, users: Any,
                 access: Any, conf: Any, say: Callable[[str], None],
                 server_name: str = "", hosts: Callable[[], list] = list) -> None:
        """
        @param endpoint: the C{[web] endpoint} description.
        @param scheduler: the scheduler observed.
        @param factory: the line server's factory (its portal, failure
            tracker and sessions).
        @param users: the L{pantasks.net.auth.UserDB}.
        @param access: the C{VALID_IP} L{pantasks.net.access.AccessList}.
        @param conf: the C{[web]} section (L{pantasks.config.WebSection}).
        @param say: writes one line to the server log.
        @param hosts: the controller's hosts (dicts), none without one.
        """
        self.reactor = reactor
        self.endpoint = endpoint
        self.scheduler = scheduler
        self.factory = factory
        self.say = say
        self.server_name = server_name or socket.gethostname().split(".")[0]
        self.hosts = hosts
        self.snapshot = Snapshot(scheduler, recent=conf.recent_jobs)
        self.lag = LagMonitor(reactor)
        self.metrics = Metrics(scheduler, sessions=self._roles, worst_lag=self.lag.take_worst)
        self.lag.on_lag = self.metrics.reactor_lag
        self.auth = WebAuth(factory.portal, users, factory.failures, reactor,
                            conf.token_lifetime)
        self.hub = EventHub(reactor, lambda: self.snapshot.version, conf.update_interval,
                            conf.max_streams)
        self.snapshot.watchers.append(self.hub.changed)
        self.site = WebSite(Guard(self._tree(), self.auth, reactor), reactor)
        self.gate = Gate(self.site, access, MAX_CONNECTIONS)
        self.port: Any = None
        self.url = ""

    def now(self) -> float:
        return self.reactor.seconds()

    def _roles(self) -> list[str]:
        return [c.avatar.role if c.avatar is not None else "login"
                for c in self.factory.connections]

    def _tree(self) -> resource.Resource:
        snap = self.snapshot
        root = resource.Resource()

        def tasks(request: Any) -> pages.Markup:
            number = _arg(request, b"page", 6)
            return pages.tasks_page(snap, self.now(), _arg(request, b"sort", 20),
                                    _arg(request, b"filter"), _arg(request, b"desc", 2) == "1",
                                    int(number) if number.isdigit() else 0)

        def hosts_down() -> list[str]:
            return [h["name"] for h in self.hosts() if h.get("state") == "DOWN"]

        root.putChild(b"", Page(self, "/", "overview",
                                lambda r: pages.overview(snap, self.now(), hosts_down())))
        root.putChild(b"tasks", Page(self, "/tasks", "tasks", tasks))
        root.putChild(b"task", TaskPages(self))
        root.putChild(b"jobs", Page(self, "/jobs", "jobs",
                                    lambda r: pages.jobs_page(snap, self.now())))
        root.putChild(b"hosts", Page(self, "/hosts", "hosts",
                                     lambda r: pages.hosts_page(snap, self.hosts())))
        root.putChild(b"metrics", MetricsPage(self.metrics))
        root.putChild(b"events", Events(self.hub))
        static = resource.Resource()
        static.putChild(b"live.js", Static(LIVE_JS, b"text/javascript; charset=utf-8"))
        static.putChild(b"style.css", Static(STYLE_CSS, b"text/css; charset=utf-8"))
        root.putChild(b"static", static)
        return root

    # -- service -------------------------------------------------------------
    def startService(self) -> None:
        service.Service.startService(self)
        self.scheduler.add_observer(self.snapshot)
        self.scheduler.add_observer(self.metrics)
        self.lag.start()
        self.hub.start()
        d = serverFromString(self.reactor, self.endpoint).listen(self.gate)
        d.addCallbacks(self._listening, self._cannot_listen)

    def _listening(self, port: Any) -> None:
        if not self.running:
            port.stopListening()
            return
        self.port = port
        host = port.getHost()
        address = host.host
        if address in ("0.0.0.0", "::", ""):
            address = socket.gethostname()
        elif ":" in address:
            address = f"[{address}]"
        scheme = "https" if self.endpoint.startswith("ssl:") else "http"
        self.url = f"{scheme}://{address}:{host.port}/"
        self.say(f"web page at {self.url} (log in as a pantasks user, or use web token)")

    def _cannot_listen(self, failure: Any) -> None:
        self.say(f"web page: cannot listen on {self.endpoint}: {failure.getErrorMessage()}")

    def stopService(self) -> Any:
        service.Service.stopService(self)
        self.scheduler.remove_observer(self.snapshot)
        self.scheduler.remove_observer(self.metrics)
        self.lag.stop()
        self.hub.stop()
        if self.port is not None:
            port, self.port = self.port, None
            return port.stopListening()
        return None
