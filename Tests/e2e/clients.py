"""WebSocket peers for the end-to-end tests, on python `websockets` (asyncio).

A server frame may carry several events separated by `\\n` (DESIGN §9): every frame is split and
each event buffered. `expect(type, predicate)` returns the first buffered or arriving event that
matches and leaves the others buffered for later `expect`s; `seen` keeps every event ever received,
in arrival order, for "exactly once" and "never" checks.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import ssl
import time

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

AGENT_PROTOCOL = "switchboard.agent.v1"
VISITOR_PROTOCOL = "switchboard.visitor.v1"
EXPECT_TIMEOUT = 5.0

_refs = itertools.count(1)
# Every socket a test opened, so the harness closes them on the test's own loop when it ends (a
# socket left open makes the broker's shutdown wait for its close handshake).
OPEN_SOCKETS: list = []


def insecure_ssl_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def open_socket(url: str, protocol: str):
    kw = {}
    if url.startswith("wss://"):
        kw["ssl"] = insecure_ssl_context()
    ws = await connect(url, subprotocols=[protocol], compression=None, proxy=None, open_timeout=5,
                       close_timeout=2, **kw)
    OPEN_SOCKETS.append(ws)
    return ws


async def close_all_sockets() -> None:
    sockets = list(OPEN_SOCKETS)
    OPEN_SOCKETS.clear()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


class Peer:
    def __init__(self, ws, name: str):
        self.ws = ws
        self.name = name
        self.buffer: list[dict] = []
        self.seen: list[dict] = []
        self.frames: list[str] = []

    async def send(self, obj) -> None:
        await self.ws.send(obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False))

    async def _receive(self, timeout: float) -> None:
        frame = await asyncio.wait_for(self.ws.recv(), timeout)
        assert isinstance(frame, str), f"{self.name}: server sent a binary frame: {frame!r}"
        self.frames.append(frame)
        for line in frame.split("\n"):
            if not line.strip():
                continue
            event = json.loads(line)
            self.buffer.append(event)
            self.seen.append(event)

    async def _take(self, match, what: str, timeout: float) -> dict:
        """Removes and returns the first buffered event `match` accepts, reading frames for up to
        `timeout` seconds; `what` names the wait in the failure message."""
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.buffer):
                if match(event):
                    return self.buffer.pop(i)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{self.name}: no {what} within {timeout:.0f}s; events seen: {self._summary()}")
            try:
                await self._receive(remaining)
            except asyncio.TimeoutError:
                continue
            except ConnectionClosed as e:
                raise AssertionError(f"{self.name}: connection closed ({e}) while waiting for {what}; "
                                     f"events seen: {self._summary()}") from None

    async def expect(self, type_: str, predicate=None, timeout: float = EXPECT_TIMEOUT) -> dict:
        """The first event of `type_` (matching `predicate`), buffered or arriving within
        `timeout` seconds. Other events stay buffered."""
        return await self._take(lambda e: e.get("type") == type_ and (predicate is None or predicate(e)),
                                f"'{type_}' event", timeout)

    async def request(self, command: dict, timeout: float = EXPECT_TIMEOUT) -> dict:
        """Sends `command` with a fresh `ref`; returns the `ack`, `error` or `pong` carrying it."""
        ref = f"r{next(_refs)}"
        await self.send({**command, "ref": ref})
        return await self._take(lambda e: e.get("ref") == ref and e.get("type") in ("ack", "error", "pong"),
                                f"answer to {command.get('type')} (ref {ref})", timeout)

    async def ok(self, command: dict, timeout: float = EXPECT_TIMEOUT) -> dict:
        answer = await self.request(command, timeout)
        assert answer["type"] == "ack", f"{self.name}: {command['type']} was refused: {answer}"
        return answer

    async def ping(self) -> None:
        answer = await self.request({"type": "ping"})
        assert answer["type"] == "pong", f"{self.name}: ping answered with {answer}"

    async def closed_with(self, timeout: float = EXPECT_TIMEOUT) -> int | None:
        """Reads until the server closes; returns the close code it sent."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{self.name}: the server did not close within {timeout:.0f}s; "
                                     f"events seen: {self._summary()}")
            try:
                await self._receive(remaining)
            except asyncio.TimeoutError:
                continue
            except ConnectionClosed as e:
                return e.rcvd.code if e.rcvd is not None else None

    def start_reading(self) -> None:
        """Reads every frame into `buffer`/`seen` in a background task until the socket closes
        or `stop_reading()` (meanwhile nothing else may read: no `expect`/`request`). For peers
        that must keep up with a flood while the test does something else."""
        async def pump():
            try:
                while True:
                    await self._receive(3600)
            except (ConnectionClosed, asyncio.CancelledError):
                pass
        self._reader = asyncio.get_running_loop().create_task(pump())

    async def stop_reading(self) -> None:
        reader = getattr(self, "_reader", None)
        if reader is not None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            self._reader = None

    def of_type(self, type_: str) -> list[dict]:
        return [e for e in self.seen if e.get("type") == type_]

    def _summary(self) -> str:
        return json.dumps(self.seen[-15:], ensure_ascii=False)[:3000]

    async def close(self) -> None:
        await self.ws.close()


class Agent(Peer):
    """An agent console on /v1/agent."""

    def __init__(self, ws, agent_id: str):
        super().__init__(ws, f"agent {agent_id}")
        self.agent_id = agent_id
        self.welcome: dict | None = None

    @classmethod
    async def connect(cls, broker, agent_id: str, token: str, resume: int | None = None,
                      available: bool = False) -> "Agent":
        agent = cls(await open_socket(broker.ws_base + "/v1/agent", AGENT_PROTOCOL), agent_id)
        auth = {"type": "auth", "token": token}
        if resume is not None:
            auth["resume"] = resume
        await agent.send(auth)
        agent.welcome = await agent.expect("welcome")
        assert agent.welcome["agent"]["id"] == agent_id, agent.welcome
        if available:
            await agent.set_presence("available")
        return agent

    async def set_presence(self, status: str) -> None:
        await self.ok({"type": "presence.set", "status": status})
        await self.expect("presence", lambda e: e["status"] == status)

    @property
    def seqs(self) -> list[int]:
        return [e["seq"] for e in self.seen if "seq" in e]

    @property
    def last_seq(self) -> int:
        seqs = self.seqs
        return max(seqs) if seqs else (self.welcome or {}).get("lastSeq", 0)

    async def until_seq(self, seq: int, timeout: float = EXPECT_TIMEOUT) -> None:
        """Reads until an event with `seq` ≥ the given one has arrived."""
        deadline = time.monotonic() + timeout
        while max(self.seqs, default=0) < seq:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{self.name}: no event with seq {seq} within {timeout:.0f}s; "
                                     f"events seen: {self._summary()}")
            try:
                await self._receive(remaining)
            except asyncio.TimeoutError:
                continue

    async def accept_offer(self, conversation_id: str | None = None, timeout: float = EXPECT_TIMEOUT) -> dict:
        """Waits for an offer (of `conversation_id` if given), accepts it, and returns the
        conversation of the `assigned` event."""
        offer = await self.expect("offer", (lambda e: e["conversation"]["id"] == conversation_id)
                                  if conversation_id else None, timeout=timeout)
        cid = offer["conversation"]["id"]
        await self.ok({"type": "offer.accept", "offerId": offer["offerId"]})
        assigned = await self.expect("assigned", lambda e: e["conversation"]["id"] == cid)
        assert assigned["conversation"]["status"] == "assigned", assigned
        assert assigned["conversation"]["assignee"] == self.agent_id, assigned
        return assigned["conversation"]

    async def reply(self, conversation_id: str, text: str, client_id: str | None = None) -> dict:
        return await self.ok({"type": "message.send", "conversationId": conversation_id, "text": text,
                              "clientId": client_id or f"c{next(_refs)}"})

    async def history(self, conversation_id: str) -> list[dict]:
        answer = await self.ok({"type": "history", "conversationId": conversation_id})
        return answer["messages"]


class Visitor(Peer):
    """A web-chat visitor on /v1/visitor."""

    def __init__(self, ws):
        super().__init__(ws, "visitor")
        self.ready: dict | None = None
        self.conversation_id: str | None = None

    @classmethod
    async def connect(cls, broker, channel: str = "web", token: str | None = None, name: str | None = None) -> "Visitor":
        visitor = cls(await open_socket(broker.ws_base + "/v1/visitor", VISITOR_PROTOCOL))
        hello = {"type": "hello", "channel": channel}
        if token:
            hello["visitorToken"] = token
        if name:
            hello["name"] = name
        await visitor.send(hello)
        visitor.ready = await visitor.expect("ready")
        visitor.conversation_id = visitor.ready.get("conversationId")
        return visitor

    async def say(self, text: str) -> dict:
        ack = await self.ok({"type": "message.send", "text": text, "clientId": f"v{next(_refs)}"})
        self.conversation_id = ack["conversationId"]
        return ack


def texts(messages: list[dict]) -> list[str]:
    """The text of each message (its text parts joined)."""
    return ["".join(p.get("text", "") for p in m["parts"] if p.get("type") == "text") for m in messages]
