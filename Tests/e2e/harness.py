"""Processes and sinks for the end-to-end tests: redis-server, the broker binary, and a local
HTTP server posing as the SMS gateway's Twilio Messages API.

Everything listens on 127.0.0.1 on a free port. Every wait is bounded and fails with a message
that says what was being waited for (plus the tail of the broker's log).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
import urllib3

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

REPO = Path(__file__).resolve().parents[2]
WAIT = 10.0          # default bound for "until the system gets there" waits, seconds
STARTUP_WAIT = 20.0  # the broker's own startup (scripts load, agents sync)


def binary_path() -> Path:
    return Path(os.environ.get("SWITCHBOARD_BIN") or REPO / ".build" / "release" / "switchboard")


def _ephemeral_range() -> tuple[int, int]:
    try:
        lo, hi = (int(x) for x in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
        return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A loopback port that is free now, chosen outside the kernel's ephemeral range: a port
    handed out by bind(0) and released can be taken as the local end of some outgoing connection
    before the server binds it (EADDRINUSE). Servers still retry on a bind failure."""
    lo, hi = _ephemeral_range()
    candidates = (10000, lo - 1) if lo - 10000 > 1000 else (hi + 1, 65535)
    for _ in range(200):
        port = random.randint(*candidates)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Fatal(AssertionError):
    """Raised inside a `wait_until` predicate: stop waiting at once (e.g. the process exited)."""


def wait_until(predicate, what: str, timeout: float = WAIT, interval: float = 0.05, detail=None):
    """Polls `predicate` until it returns something truthy (which is returned); fails after
    `timeout` seconds naming `what` and, if given, `detail()` (e.g. the last value seen)."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Fatal:
            raise
        except Exception as e:  # noqa: BLE001 - the last error goes into the failure message
            last_error = e
        if time.monotonic() > deadline:
            extra = f"; last error: {last_error!r}" if last_error else ""
            if detail is not None:
                extra += f"; {detail()}"
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{extra}")
        time.sleep(interval)


# ----------------------------------------------------------------------------------------------
# redis-server


class RedisServer:
    """An external redis-server on a fixed loopback port, without persistence (fast) unless
    `persistent` (AOF, appendfsync always: its data survives a restart)."""

    def __init__(self, workdir: Path, port: int | None = None, persistent: bool = False):
        self.workdir = workdir
        self.port = port or free_port()
        self.persistent = persistent
        self.proc: subprocess.Popen | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self):
        """Starts redis-server; on its first start, a port taken meanwhile is replaced by another
        one (a restart keeps its port: that is what the outage tests need)."""
        for attempt in range(3):
            try:
                return self._start_once()
            except AssertionError:
                if self.started_once or attempt == 2:
                    raise
                self.port = free_port()

    started_once = False

    def _start_once(self):
        assert self.proc is None or self.proc.poll() is not None, "redis-server already running"
        self.log = open(self.workdir / "redis.log", "ab")
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *persistence,
             "--dir", str(self.workdir), "--daemonize", "no", "--loglevel", "warning"],
            stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_until(self.ping, f"redis-server to answer PING on port {self.port}",
                       detail=lambda: f"redis exit status {self.proc.poll()}")
        except AssertionError:
            self.stop()
            raise
        self.started_once = True

    def ping(self) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            if self.proc is not None:
                raise Fatal(f"redis-server exited with status {self.proc.returncode}")
            return False
        return self.command("PING") == b"+PONG\r\n"

    def command(self, *args: str) -> bytes:
        """One RESP command; returns the raw reply (enough for PING and simple checks)."""
        payload = f"*{len(args)}\r\n".encode()
        for a in args:
            b = a.encode()
            payload += b"$%d\r\n%s\r\n" % (len(b), b)
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall(payload)
            return s.recv(65536)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None
        self.log.close()


class RedisError(Exception):
    """An error reply from Redis."""


class RespClient:
    """A minimal blocking RESP2 client (no dependency): `command(...)` returns bytes, int, None,
    or a list of those; an error reply raises RedisError. `address` is "host:port" or
    "unix:///path.sock" / "redis://host:port". For reading state and Redis facts in tests."""

    def __init__(self, address: str, timeout: float = 5):
        if address.startswith("unix://"):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(address[len("unix://"):])
        else:
            host, _, port = address.removeprefix("redis://").partition(":")
            self.sock = socket.create_connection((host, int(port.split("/")[0])), timeout=timeout)
        self.reader = self.sock.makefile("rb")

    def command(self, *args):
        payload = b"*%d\r\n" % len(args)
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            payload += b"$%d\r\n%s\r\n" % (len(b), b)
        self.sock.sendall(payload)
        return self._read()

    def _read(self):
        line = self.reader.readline()
        if not line:
            raise ConnectionError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest
        if kind == b"-":
            raise RedisError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.reader.read(n + 2)
            return data[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RedisError(f"unexpected reply {line!r}")

    def close(self):
        self.reader.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ----------------------------------------------------------------------------------------------
# The gateway sink (Twilio Messages API stand-in)


@dataclass
class SinkRequest:
    method: str
    path: str
    headers: dict
    body: bytes
    form: dict = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)   # arrival, time.monotonic()


class GatewaySink:
    """Records every request and answers like Twilio's Messages API: 201 `{"sid":"SM…"}`.
    `fail_with` makes it answer that status (with a Twilio-style error body) instead: always, or
    only for the next `fail_times` requests when that is set. `hold()` makes it record requests
    but keep them unanswered until `release()` (a gateway that is slow to answer)."""

    def __init__(self):
        self.requests: list[SinkRequest] = []
        self.sids: list[str] = []
        self.fail_with: int | None = None
        self.fail_times: int | None = None
        self.recording = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 4   # what GET of a recording answers
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._released = threading.Event()
        self._released.set()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_GET(self):
                # A recording file, as Twilio's Recording resource hands it out (.mp3): an ID3 header.
                with sink._cond:
                    sink.requests.append(SinkRequest("GET", self.path, {k.lower(): v for k, v in self.headers.items()}, b""))
                    sink._cond.notify_all()
                reply = sink.recording if self.path.startswith("/2010-04-01/") else b""
                self.send_response(200 if reply else 404)
                self.send_header("Content-Type", "audio/mpeg")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                form = {}
                if (self.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
                    for k, v in urllib.parse.parse_qsl(body.decode(), keep_blank_values=True):
                        form.setdefault(k, []).append(v)
                with sink._cond:
                    n = len(sink.requests) + 1
                    status = sink.fail_with
                    if status is not None and sink.fail_times is not None:
                        if sink.fail_times > 0:
                            sink.fail_times -= 1
                        else:
                            status = None
                    sid = f"SM{n:032x}"
                    if status is None:
                        sink.sids.append(sid)
                    sink.requests.append(SinkRequest("POST", self.path, {k.lower(): v for k, v in self.headers.items()},
                                                     body, form))
                    sink._cond.notify_all()
                sink._released.wait(timeout=60)
                if status is None:
                    reply = json.dumps({"sid": sid, "status": "queued"}).encode()
                    self.send_response(201)
                else:
                    reply = json.dumps({"code": 20500, "message": "sink told to fail", "status": status}).encode()
                    self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                try:
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:   # the broker that asked is gone (a test killed it)
                    self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="gateway-sink", daemon=True)
        self.thread.start()

    @property
    def messages_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/2010-04-01/Accounts/AC1/Messages.json"

    def hold(self):
        """From now on requests are recorded at once but answered only after `release()`."""
        self._released.clear()

    def release(self):
        self._released.set()

    def wait_for(self, count: int, timeout: float = WAIT) -> list[SinkRequest]:
        """Blocks until at least `count` requests arrived; returns them all."""
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.requests) >= count, timeout=timeout)
            if not ok:
                raise AssertionError(f"the gateway sink got {len(self.requests)} requests within {timeout:.0f}s, expected {count}")
            return list(self.requests)

    def close(self):
        self.release()
        self.server.shutdown()
        self.server.server_close()


# ----------------------------------------------------------------------------------------------
# The broker


AGENTS = {
    # id: (token, skills, capacity, role). Ids sort in the order tests make them available, so a
    # same-millisecond idleSince tie still ranks them as intended.
    "ana": ("tok-ana-0001", {"general": 5}, {"webchat": 2, "sms": 2}, "agent"),
    "bo": ("tok-bo-0002", {"general": 5}, {"webchat": 2, "sms": 2}, "agent"),
    "cy": ("tok-cy-0003", {"complaints": 7}, {"webchat": 2, "sms": 2}, "agent"),
    "dee": ("tok-dee-0004", {"general": 9}, {"sms": 1}, "agent"),
    "eve": ("tok-eve-0005", {"general": 5}, {"webchat": 2, "sms": 2}, "agent"),
}
API_KEY = "e2e-api-key-1234"
TWILIO_AUTH_TOKEN = "e2e-twilio-auth-token"
SMS_FROM = "+8610690000"


def token(agent_id: str) -> str:
    return AGENTS[agent_id][0]


def deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


class Broker:
    """The release binary on a free port with a per-test config (JSON, which is YAML)."""

    def __init__(self, workdir: Path, *, redis_url: str | None, sink_url: str, overrides: dict | None = None,
                 tls: tuple[Path, Path] | None = None, env: dict | None = None):
        self.workdir = workdir
        self.env = env or {}   # extra environment for the broker process
        workdir.mkdir(parents=True, exist_ok=True)
        self.tls = tls
        self.redis_url = redis_url
        self.sink_url = sink_url
        self.overrides = overrides or {}
        self.config_path = workdir / "config.yaml"
        self.log_path = workdir / "broker.log"
        self.proc: subprocess.Popen | None = None
        self.session = requests.Session()
        self.session.verify = False
        self.session.trust_env = False   # loopback only: never through a proxy from the environment
        self.configure(free_port())

    def configure(self, port: int):
        """Writes the config for listening on `port` (JSON, which is YAML)."""
        tls, redis_url, sink_url = self.tls, self.redis_url, self.sink_url
        workdir = self.workdir
        self.port = port
        self.scheme = "https" if tls else "http"
        self.base = f"{self.scheme}://127.0.0.1:{self.port}"
        self.ws_base = f"{'wss' if tls else 'ws'}://127.0.0.1:{self.port}"
        self.sms_url = f"{self.base}/v1/channels/sms-main/twilio"
        self.sms_status_url = self.sms_url + "/status"
        config = {
            "listen": f"127.0.0.1:{self.port}",
            "public_base_url": self.base,
            "data_dir": str(workdir / "data"),
            "node": {"id": "e2e-node", "heartbeat_interval": "1s", "heartbeat_ttl": "5s"},
            "redis": {"prefix": "sb:"},
            "limits": {"max_body_bytes": "64KiB", "max_ws_message_bytes": "64KiB", "max_send_queue_bytes": "4MiB",
                       "auth_timeout": "2s", "public_rate_per_ip": 1000, "public_burst_per_ip": 1000},
            "routing": {"offer_timeout": "20s", "offer_missed_limit": 3, "reconnect_grace": "30s",
                        "wrapup_seconds": "1s", "strategy": "longest_idle", "sweep_interval": "100ms",
                        "aging_seconds_per_priority": "60s"},
            "skills": ["general", "complaints"],
            "agents": [
                {"id": aid, "name": aid.capitalize(), "role": role, "token_sha256": sha256_hex(tok),
                 "skills": skills, "capacity": cap}
                for aid, (tok, skills, cap, role) in AGENTS.items()
            ],
            "api_keys": [{"id": "e2e-bot", "key_sha256": sha256_hex(API_KEY)}],
            "visitor_token_secret": "e2e-visitor-secret-0123456789abcdef",
            "outbox": {"max_attempts": 3, "initial_backoff": "200ms", "max_backoff": "1s",
                       "request_timeout": "3s", "claim_min_idle": "10s"},
            "channels": [
                {"id": "web", "kind": "webchat", "skill": "general"},
                {"id": "sms-main", "kind": "sms", "provider": "twilio", "auth_token": TWILIO_AUTH_TOKEN,
                 "public_url": self.sms_url, "skill": "general", "priority": 0,
                 "outbound": {"url": sink_url, "account_sid": "AC1", "from": SMS_FROM}},
            ],
            "log_level": "info",
        }
        if redis_url:
            config["redis"]["url"] = redis_url
        if tls:
            config["tls"] = {"cert": str(tls[0]), "key": str(tls[1])}
        # Overrides may name the broker's own address as `{base}` (a voice channel's public_url):
        # the port is only chosen here.
        self.config = json.loads(json.dumps(deep_merge(config, self.overrides)).replace("{base}", self.base))
        self.config_path.write_text(json.dumps(self.config, indent=2, ensure_ascii=False))

    # -- lifecycle

    def start(self):
        """Starts the broker and waits for /readyz; if its port was taken in the meantime (it
        exits saying it could not listen), it is started again on another port."""
        for attempt in range(3):
            self.log = open(self.log_path, "ab")
            mark = self.log.tell()
            self.proc = subprocess.Popen([str(binary_path()), "serve", "--config", str(self.config_path)],
                                         stdout=self.log, stderr=subprocess.STDOUT, cwd=self.workdir,
                                         start_new_session=True, env={**os.environ, **self.env})
            try:
                return self.wait_ready(timeout=STARTUP_WAIT)
            except AssertionError:
                exited = self.proc.poll() is not None
                output = self.log_path.read_bytes()[mark:].decode(errors="replace")
                if attempt == 2 or not exited or "could not listen" not in output:
                    raise
                self.proc = None
                self.log.close()
                self.configure(free_port())

    def wait_ready(self, timeout: float = WAIT):
        def ready():
            self.check_alive()
            return self.get("/readyz", timeout=1).status_code == 200
        wait_until(ready, f"{self.base}/readyz to answer 200", timeout=timeout, detail=self.log_tail)

    def check_alive(self):
        if self.proc is not None and self.proc.poll() is not None:
            raise Fatal(f"the broker exited with status {self.proc.returncode}\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no broker log)"
        return "broker log tail:\n" + "\n".join(text[-lines:])

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.proc = None
        self.log.close()
        self.session.close()
        self._kill_leftover_managed_redis()

    def kill(self):
        """SIGKILL, as a crash would: no shutdown, no goodbye to sockets. A managed redis-server
        (its own session) survives it; `stop()` at teardown stops that one."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=5)
        self.log.close()

    def managed_redis_pid(self) -> int:
        """The pid of the managed redis-server the broker logged last (started or restarted)."""
        pids = [int(m.group(1)) for line in self.log_path.read_text(errors="replace").splitlines()
                if "redis-server" in line for m in [re.search(r"\bpid=(\d+)", line)] if m]
        assert pids, f"no managed redis-server pid in the broker log\n{self.log_tail()}"
        return pids[-1]

    @property
    def managed_redis_url(self) -> str:
        """The unix socket of this broker's managed redis-server (for a second node, or a test)."""
        match = re.search(r"\bsocket=(\S+).*managed redis-server started", self.log_path.read_text(errors="replace"))
        assert match, f"no managed redis-server socket in the broker log\n{self.log_tail()}"
        return "unix://" + match.group(1)

    def _kill_leftover_managed_redis(self):
        """A broker that had to be killed leaves its managed redis-server behind (it runs in its
        own session, out of reach of killpg): find it by the pid the broker logged, and stop it if
        it is still a redis-server working in this broker's data_dir."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return
        data_dir = os.path.realpath(self.config["data_dir"])
        for line in lines:
            match = re.search(r"\bpid=(\d+)", line)
            if not match or "redis-server" not in line:
                continue
            pid = int(match.group(1))
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                cwd = os.path.realpath(os.readlink(f"/proc/{pid}/cwd"))
                if "redis-server" in cmdline and cwd.startswith(data_dir):
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    # -- HTTP

    def get(self, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", 5)
        return self.session.get(self.base + path, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", 5)
        return self.session.post(self.base + path, **kw)

    def api_get(self, path: str) -> requests.Response:
        return self.get(path, headers={"Authorization": f"Bearer {API_KEY}"})

    def conversation(self, conversation_id: str) -> dict:
        r = self.api_get(f"/v1/conversations/{conversation_id}")
        assert r.status_code == 200, f"GET conversation {conversation_id}: {r.status_code} {r.text}"
        return r.json()

    def messages(self, conversation_id: str) -> list[dict]:
        r = self.api_get(f"/v1/conversations/{conversation_id}/messages")
        assert r.status_code == 200, f"GET messages of {conversation_id}: {r.status_code} {r.text}"
        return r.json()["messages"]

    def metrics(self) -> str:
        r = self.get("/metrics")
        assert r.status_code == 200, r.text
        return r.text

    def metric(self, name: str, labels: str = "") -> float | None:
        """The value of one sample, e.g. metric("switchboard_offers_total", 'outcome="made"')."""
        want = f"{name}{{{labels}}}" if labels else name
        for line in self.metrics().splitlines():
            if line.startswith("#"):
                continue
            key, _, value = line.rpartition(" ")
            if key == want:
                return float(value)
        return None

    # -- Twilio webhooks, signed with the real twilio library

    def sms_params(self, sid: str, body: str, sender: str = "+8613800138000", **extra) -> dict:
        params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC1", "From": sender, "To": SMS_FROM,
                  "Body": body, "NumMedia": "0", "NumSegments": "1", "ApiVersion": "2010-04-01"}
        params.update(extra)
        return params

    def post_twilio(self, url: str, params: dict, *, signature: str | None = None, **kw) -> requests.Response:
        from twilio.request_validator import RequestValidator
        if signature is None:
            signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(url, params)
        path = url[len(self.base):]
        headers = {"X-Twilio-Signature": signature, **kw.pop("headers", {})}
        return self.post(path, data=params, headers=headers, **kw)

    def sms(self, sid: str, body: str, sender: str = "+8613800138000") -> requests.Response:
        return self.post_twilio(self.sms_url, self.sms_params(sid, body, sender))

    def sms_status(self, sid: str, status: str, **extra) -> requests.Response:
        params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC1", "MessageStatus": status,
                  "SmsStatus": status, "To": "+8613800138000", "From": SMS_FROM, "ApiVersion": "2010-04-01"}
        params.update(extra)
        return self.post_twilio(self.sms_status_url, params)


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def make_self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for CN=localhost (and IP 127.0.0.1), made with the openssl CLI."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key
