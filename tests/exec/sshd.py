"""A real OpenSSH server on 127.0.0.1 for the controller's tests.

Keys (host and user) are generated per run in a temporary directory; the
client configuration names the server as two distinct hosts, C{hosta} and
C{hostb} (each with its own C{HostKeyAlias}, so each is checked against
its own known_hosts line), and C{refused}, a port nobody listens on.
C{connect_command} starts this virtualenv's agent on the far side by its
full path.  sshd must run as root (privilege separation, logins as root);
without root the tests that use it are skipped.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import time

from tests.exec.remote_helpers import AGENT_COMMAND

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"

#: Why SSH tests cannot run here, or None.
SKIP_REASON: str | None = None
if os.geteuid() != 0:
    SKIP_REASON = "a real sshd on 127.0.0.1 needs root (make test installs openssh-server as root)"
elif not os.access(SSHD, os.X_OK) or shutil.which("ssh") is None or not shutil.which("ssh-keygen"):
    SKIP_REASON = "openssh-server/openssh-client are not installed (make debs installs them)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SSHServer:
    """
    One sshd process and the client side to reach it.

    @ivar dir: the temporary directory holding keys and configuration.
    @ivar port: where sshd listens.
    @ivar ssh_config: the client configuration file (C{ssh -F}).
    @ivar connect_command: a C{connect_command} for L{RemoteRunner}.
    """

    #: The address sshd listens on; the host names in the client config.
    listen_ip = "127.0.0.1"
    names = ("hosta", "hostb")
    #: ssh's ConnectTimeout for them.
    connect_timeout = 20

    def __init__(self, max_startups: str = "10:30:60") -> None:
        self.dir = tempfile.mkdtemp(prefix="pantasks-sshd-")
        self.port = free_port()
        self.refused_port = free_port()
        self.max_startups = max_startups
        self.proc: subprocess.Popen | None = None
        self.ssh_config = os.path.join(self.dir, "ssh_config")
        self.connect_command = (
            f"ssh -F {shlex.quote(self.ssh_config)} -x -o BatchMode=yes {{host}} {AGENT_COMMAND}"
        )

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def start(self) -> SSHServer:
        d = self.dir
        for key in ("host_key", "id_user"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.path(key)],
                check=True, stdin=subprocess.DEVNULL,
            )
        shutil.copy(self.path("id_user.pub"), self.path("authorized_keys"))
        with open(self.path("host_key.pub")) as f:
            host_pub = " ".join(f.read().split()[:2])
        with open(self.path("known_hosts"), "w") as f:
            f.writelines(f"{name} {host_pub}\n" for name in self.names)
        with open(self.path("sshd_config"), "w") as f:
            f.write(
                f"ListenAddress {self.listen_ip}:{self.port}\n"
                f"HostKey {d}/host_key\n"
                f"PidFile {d}/sshd.pid\n"
                f"AuthorizedKeysFile {d}/authorized_keys\n"
                "StrictModes no\nUsePAM no\nPasswordAuthentication no\n"
                "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
                "PermitRootLogin prohibit-password\n"
                f"MaxStartups {self.max_startups}\nMaxSessions 100\n"
                "PrintMotd no\nPrintLastLog no\nX11Forwarding no\nAllowTcpForwarding no\n"
                "LogLevel ERROR\n"
            )
        common = (
            f"  HostName {self.listen_ip}\n  User root\n"
            f"  IdentityFile {d}/id_user\n  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {d}/known_hosts\n  GlobalKnownHostsFile /dev/null\n"
            "  StrictHostKeyChecking yes\n  UpdateHostKeys no\n  BatchMode yes\n"
            "  ControlMaster no\n  LogLevel ERROR\n"
            f"  ConnectTimeout {self.connect_timeout}\n"
        )
        with open(self.ssh_config, "w") as f:
            for name in self.names:
                f.write(f"Host {name}\n  HostKeyAlias {name}\n  Port {self.port}\n{common}")
            f.write(f"Host refused\n  HostKeyAlias hosta\n  Port {self.refused_port}\n{common}")
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.setup_network()
        log = open(self.path("sshd.log"), "wb")
        self.proc = subprocess.Popen(
            self.prefix() + [SSHD, "-D", "-e", "-f", self.path("sshd_config")],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                with open(self.path("sshd.log")) as f:
                    raise RuntimeError(f"sshd exited: {f.read().strip()}")
            try:
                socket.create_connection((self.listen_ip, self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("sshd did not start listening within 20s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            # sshd and its sessions: the listener's group (its own session).
            try:
                os.killpg(self.proc.pid, 15)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.teardown_network()
        shutil.rmtree(self.dir, ignore_errors=True)

    def prefix(self) -> list[str]:
        """What sshd's command line starts with (a namespace, if any)."""
        return []

    def setup_network(self) -> None:
        pass

    def teardown_network(self) -> None:
        pass


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


class NetnsSSHServer(SSHServer):
    """
    An sshd in a network namespace of its own, reached as C{hostc} through a
    veth pair whose link L{link} takes down and up again: a host whose
    network goes away while the processes on it live on.
    """

    names = ("hostc",)
    connect_timeout = 3

    def __init__(self) -> None:
        tag = f"{os.getpid() % 100000}"
        self.netns = f"pantasks-{tag}"
        self.veth = f"ptv{tag}a"
        self.veth_peer = f"ptv{tag}b"
        net = 16 + os.getpid() % 200
        self.local_ip = f"10.231.{net}.1"
        self.listen_ip = f"10.231.{net}.2"
        super().__init__()

    def prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.netns]

    def setup_network(self) -> None:
        _ip("netns", "add", self.netns)
        _ip("link", "add", self.veth, "type", "veth", "peer", "name", self.veth_peer)
        _ip("link", "set", self.veth_peer, "netns", self.netns)
        _ip("addr", "add", f"{self.local_ip}/30", "dev", self.veth)
        _ip("link", "set", self.veth, "up")
        inside = ["netns", "exec", self.netns, "ip"]
        _ip(*inside, "addr", "add", f"{self.listen_ip}/30", "dev", self.veth_peer)
        _ip(*inside, "link", "set", self.veth_peer, "up")
        _ip(*inside, "link", "set", "lo", "up")

    def teardown_network(self) -> None:
        for args in (("link", "del", self.veth), ("netns", "del", self.netns)):
            try:
                _ip(*args)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                pass

    def link(self, up: bool) -> None:
        """Take the host's link down, or bring it back."""
        _ip("link", "set", self.veth, "up" if up else "down")
