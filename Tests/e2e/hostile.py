"""The tools of the hostile-input tier (test_hostile.py, issue 9): raw HTTP and WebSocket peers that
can send what no well-behaved library would, a record of every case and what came back, and a
snapshot of Redis to show that nothing a hostile input carried was stored.

A case is named by its class (the kind of attack) and a short description; its expectation is a
predicate over the `Outcome`, with a description for the failure message."""

from __future__ import annotations

import base64
import os
import re
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Callable

# Internal error text that must never reach a client (issue 9): Redis's replies, a script's name,
# Swift's runtime traps.
LEAKS = (b"ERR ", b"script:", b".lua", b"Fatal")


@dataclass
class Outcome:
    """What one hostile input got back.

    kind: "http" (a response with `status`), "closed" (the connection closed with no answer),
    "silent" (still open, nothing answered, after the wait), "ws-close" (a close frame with
    `close_code`), "ws-events" (text events, `events`), "ws-eof" (the socket closed without a close
    frame after the upgrade)."""
    kind: str
    status: int | None = None
    close_code: int | None = None
    events: list[str] = field(default_factory=list)
    raw: bytes = b""

    def describe(self) -> str:
        detail = {"http": f"HTTP {self.status}", "ws-close": f"close {self.close_code}",
                  "ws-events": f"events {self.events[:3]}"}.get(self.kind, self.kind)
        return f"{detail} {self.raw[:200]!r}"


@dataclass
class Expect:
    what: str
    check: Callable[[Outcome], bool]


def status(*codes: int) -> Expect:
    return Expect(f"HTTP {' or '.join(map(str, codes))}", lambda o: o.kind == "http" and o.status in codes)


CLIENT_ERROR = Expect("a 4xx", lambda o: o.kind == "http" and o.status is not None and 400 <= o.status < 500)
CLOSED = Expect("a close without an answer (README: what lws answers)", lambda o: o.kind == "closed")


def close_code(*codes: int) -> Expect:
    return Expect(f"close {' or '.join(map(str, codes))}", lambda o: o.kind == "ws-close" and o.close_code in codes)


def error_event(*codes: str) -> Expect:
    """An `error` event whose code is one of `codes` (the WebSocket's 4xx)."""
    pattern = re.compile(r'"type":"error".*"code":"(%s)"' % "|".join(map(re.escape, codes)))
    return Expect(f"an error event ({', '.join(codes)})",
                  lambda o: o.kind == "ws-events" and any(pattern.search(e) for e in o.events))


def either(*expects: Expect) -> Expect:
    return Expect(" or ".join(e.what for e in expects), lambda o: any(e.check(o) for e in expects))


@dataclass
class Record:
    cls: str
    name: str
    outcome: Outcome
    expect: Expect
    seconds: float

    @property
    def leaks(self) -> list[bytes]:
        return [leak for leak in LEAKS if leak in self.outcome.raw]

    @property
    def passed(self) -> bool:
        return self.expect.check(self.outcome) and not self.leaks


class Ledger:
    """Every case run, for the per-class counts and one failure message naming every miss."""

    def __init__(self):
        self.records: list[Record] = []

        self.started = time.monotonic()

    def add(self, cls: str, name: str, outcome: Outcome, expect: Expect) -> None:
        now = time.monotonic()
        self.records.append(Record(cls, name, outcome, expect, now - self.started))
        self.started = now

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.records:
            out[r.cls] = out.get(r.cls, 0) + 1
        return out

    def assert_all_passed(self, at_least: int) -> None:
        misses = [r for r in self.records if not r.passed]
        slowest = sorted(self.records, key=lambda r: -r.seconds)[:5]
        print(f"\n{len(self.records)} hostile cases: {self.counts()}; slowest: "
              + ", ".join(f"{r.name} {r.seconds:.1f}s" for r in slowest))
        lines = [f"[{r.cls}] {r.name}: expected {r.expect.what}, got {r.outcome.describe()}"
                 + (f" LEAKS {r.leaks}" if r.leaks else "") for r in misses]
        assert not lines, f"{len(lines)} of {len(self.records)} hostile cases failed:\n" + "\n".join(lines)
        assert len(self.records) >= at_least, (len(self.records), self.counts())


# -- raw HTTP ------------------------------------------------------------------------------------

def http_exchange(port: int, data: bytes, wait: float = 8) -> Outcome:
    """Sends `data` on a fresh connection and reads until the broker closes or `wait` passes."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(wait)
    raw = b""
    timed_out = False
    try:
        s.sendall(data)
        while not response_complete(raw) and (chunk := s.recv(65536)):
            raw += chunk
    except socket.timeout:
        timed_out = True
    except ConnectionResetError:
        pass
    finally:
        s.close()
    return http_outcome(raw, timed_out)


def response_complete(raw: bytes) -> bool:
    """A whole response (head and a Content-Length body) has arrived: no need to wait for a close
    the broker owes no one on a keep-alive connection."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return False
    m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    return m is not None and len(body) >= int(m.group(1))


def http_outcome(raw: bytes, timed_out: bool = False) -> Outcome:
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", raw)
    if m:
        return Outcome("http", status=int(m.group(1)), raw=raw)
    return Outcome("silent" if timed_out else "closed", raw=raw)


def requests_outcome(response) -> Outcome:
    head = "".join(f"{k}: {v}\r\n" for k, v in response.headers.items()).encode()
    return Outcome("http", status=response.status_code, raw=head + response.content)


# -- raw WebSocket -------------------------------------------------------------------------------

def ws_key() -> str:
    return base64.b64encode(os.urandom(16)).decode()


def frame(opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True, rsv: int = 0) -> bytes:
    """One client frame (RFC 6455 §5.2); `masked=False` and `rsv` to break the rules on purpose."""
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head = bytes([first, mask_bit | n])
    elif n < 65536:
        head = bytes([first, mask_bit | 126]) + struct.pack("!H", n)
    else:
        head = bytes([first, mask_bit | 127]) + struct.pack("!Q", n)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def text(payload: str | bytes) -> bytes:
    return frame(0x1, payload.encode() if isinstance(payload, str) else payload)


class RawSocket:
    """A WebSocket client on a plain socket: the handshake as given, frames as built by `frame`."""

    def __init__(self, port: int, path: str, headers: dict[str, str] | None = None, protocol: str | None = None):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.settimeout(5)
        lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1"]
        base = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": ws_key()}
        if protocol:
            base["Sec-WebSocket-Protocol"] = protocol
        for k, v in {**base, **(headers or {})}.items():
            if v is not None:
                lines.append(f"{k}: {v}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buffer = b""
        self.head = b""
        try:
            while b"\r\n\r\n" not in self.buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.buffer += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        self.head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        self.upgraded = self.head.startswith(b"HTTP/1.1 101 ")
        self.raw = self.head

    def handshake_outcome(self) -> Outcome:
        """The outcome of a handshake that was refused (or `ws-events` with nothing, if it was not)."""
        if self.upgraded:
            return Outcome("ws-events", raw=self.raw)
        rest = self.read_rest()
        return http_outcome(self.head + b"\r\n\r\n" + rest if self.head else rest)

    def read_rest(self) -> bytes:
        out = self.buffer
        try:
            while chunk := self.sock.recv(65536):
                out += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return out

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _read_exact(self, n: int, deadline: float) -> bytes | None:
        while len(self.buffer) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout()
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return None
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def read_frame(self, deadline: float) -> tuple[int, bytes] | None:
        """One server frame (opcode, payload), or None at EOF; raises socket.timeout at the deadline."""
        head = self._read_exact(2, deadline)
        if head is None:
            return None
        n = head[1] & 0x7F
        if n == 126:
            ext = self._read_exact(2, deadline)
            n = struct.unpack("!H", ext)[0] if ext else 0
        elif n == 127:
            ext = self._read_exact(8, deadline)
            n = struct.unpack("!Q", ext)[0] if ext else 0
        payload = self._read_exact(n, deadline) if n else b""
        if payload is None:
            return None
        self.raw += head + payload
        return head[0] & 0x0F, payload

    def events_until(self, done: Callable[[str], bool], wait: float = 5) -> Outcome:
        """Reads frames until an event for which `done` holds, a close frame, EOF or `wait`."""
        deadline = time.monotonic() + wait
        events: list[str] = []
        while True:
            try:
                got = self.read_frame(deadline)
            except socket.timeout:
                return Outcome("ws-events", events=events, raw=self.raw)
            if got is None:
                return Outcome("ws-eof", events=events, raw=self.raw)
            opcode, payload = got
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                return Outcome("ws-close", close_code=code, events=events, raw=self.raw)
            if opcode == 0x1:
                for line in payload.decode(errors="replace").split("\n"):
                    events.append(line)
                    if done(line):
                        return Outcome("ws-events", events=events, raw=self.raw)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def is_error(line: str) -> bool:
    return '"type":"error"' in line


# -- Redis ---------------------------------------------------------------------------------------

def redis_snapshot(client, ignore: re.Pattern[bytes]) -> dict[bytes, tuple[bytes, bytes]]:
    """Every key (except those matching `ignore`) with its type and DUMP, for an exact comparison."""
    keys: list[bytes] = []
    cursor = b"0"
    while True:
        cursor, batch = client.command("SCAN", cursor, "COUNT", "1000")
        keys += batch
        if cursor == b"0":
            break
    return {k: (client.command("TYPE", k), client.command("DUMP", k)) for k in sorted(set(keys)) if not ignore.search(k)}


def redis_changes(before: dict, after: dict) -> list[str]:
    changes = [f"new key {k!r} ({after[k][0]!r})" for k in after if k not in before]
    changes += [f"removed key {k!r}" for k in before if k not in after]
    changes += [f"changed key {k!r} ({after[k][0]!r})" for k in after if k in before and after[k] != before[k]]
    return changes
