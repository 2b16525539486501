"""Surviving failure (DESIGN §7 "Disconnects and dead nodes", §11 reliability; issue 3): a node
killed mid-flood, the managed redis-server killed under load, a node dying with deliveries in
flight, a client too slow to read, SIGTERM, and per-IP limits.

Counting tests print their counts (run with `-s` to see them)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from twilio.request_validator import RequestValidator

from clients import Agent, Visitor, texts
from harness import TWILIO_AUTH_TOKEN, RespClient, token, wait_until


def node(node_id: str, **routing) -> dict:
    return {"node": {"id": node_id, "heartbeat_interval": "500ms", "heartbeat_ttl": "2s"}, "routing": routing}


# ----------------------------------------------------------------------------------------------
# A gateway's view: signed webhooks, fired from a pool of threads, retried until acknowledged.


class Gateway:
    """Fires Twilio-signed SMS webhooks from `threads` threads (one keep-alive session each).
    Item i goes first to node i % len(nodes); an error status or no answer is retried against the
    next node, as a gateway behind a load balancer would, until 2xx or `deadline` seconds."""

    def __init__(self, nodes, threads: int = 8, deadline: float = 60):
        self.nodes = nodes
        self.threads = threads
        self.deadline = deadline
        self.lock = threading.Lock()
        self.acked: dict[str, str] = {}      # body -> node base that acknowledged it
        self.errors: dict[str, int] = {}     # first-attempt failures: status or "no answer"
        self.retried: set[str] = set()       # bodies that needed more than one attempt
        self.unacked: list[str] = []
        self.local = threading.local()
        self.validator = RequestValidator(TWILIO_AUTH_TOKEN)

    def session(self) -> requests.Session:
        s = getattr(self.local, "session", None)
        if s is None:
            s = self.local.session = requests.Session()
            s.trust_env = False
            adapter = requests.adapters.HTTPAdapter(max_retries=0)
            s.mount("http://", adapter)
        return s

    def post(self, broker, sid: str, sender: str, body: str) -> int | str:
        params = broker.sms_params(sid, body, sender)
        signature = self.validator.compute_signature(broker.sms_url, params)
        try:
            r = self.session().post(broker.sms_url, data=params, headers={"X-Twilio-Signature": signature}, timeout=5)
            return r.status_code
        except requests.RequestException:
            self.local.session = None   # a dead node's pooled connections are not reused
            return "no answer"

    def send_one(self, i: int, sid: str, sender: str, body: str):
        end = time.monotonic() + self.deadline
        target = i % len(self.nodes)
        attempt = 0
        while time.monotonic() < end:
            broker = self.nodes[target]
            outcome = self.post(broker, sid, sender, body)
            if isinstance(outcome, int) and 200 <= outcome < 300:
                with self.lock:
                    self.acked[body] = broker.base
                    if attempt:
                        self.retried.add(body)
                return
            if attempt == 0:
                with self.lock:
                    self.errors[str(outcome)] = self.errors.get(str(outcome), 0) + 1
            attempt += 1
            target = (target + 1) % len(self.nodes)
            if attempt % len(self.nodes) == 0:
                time.sleep(0.05)   # every node refused: back off a little, as a gateway does
        with self.lock:
            self.unacked.append(body)

    def run(self, items):
        """items: (sid, sender, body). Blocks until every item is acknowledged or given up on."""
        with ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(self.send_one, range(len(items)), *zip(*items)))

    @property
    def acked_count(self) -> int:
        with self.lock:
            return len(self.acked)


def all_messages(broker, cid: str) -> list[dict]:
    """Every message of a conversation through REST, paging backwards 200 at a time."""
    out: list[dict] = []
    before = ""
    while True:
        r = broker.api_get(f"/v1/conversations/{cid}/messages?limit=200" + (f"&before={before}" if before else ""))
        assert r.status_code == 200, r.text
        page = r.json()["messages"]
        if not page:
            return out
        out = page + out
        before = page[0]["id"]


async def first_offer(agents: list[Agent], timeout: float = 5) -> tuple[Agent, dict]:
    """The first offer any of `agents` receives (the others' reads are cancelled, which loses
    nothing: their frames stay buffered)."""
    tasks = {asyncio.ensure_future(a.expect("offer", timeout=timeout)): a for a in agents}
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    task = next(iter(done))
    return tasks[task], task.result()


async def assign_one_conversation_per_sender(entry, agents: list[Agent], senders: list[str]) -> dict[str, Agent]:
    """One SMS per sender (through `entry`); each offer is accepted by whoever gets it.
    Returns conversation id -> agent."""
    owners: dict[str, Agent] = {}
    for n, sender in enumerate(senders):
        r = await asyncio.to_thread(entry.sms, f"SM{n:032x}", f"开场-{sender}", sender)
        assert r.status_code == 200, r.text
        agent, offer = await first_offer(agents)
        await agent.ok({"type": "offer.accept", "offerId": offer["offerId"]})
        owners[offer["conversation"]["id"]] = agent
    for cid, agent in owners.items():
        await agent.expect("assigned", lambda e, cid=cid: e["conversation"]["id"] == cid)
    return owners


def count_and_check(gateway: Gateway, brokers_for_reading, owners: dict, received: dict[str, list[dict]],
                    bodies: list[str], label: str):
    """Stored = in a conversation log; delivered = reached the owning agent's console (over all
    its connections). Prints the counts and asserts duplicates 0 and lost 0."""
    reader = brokers_for_reading
    stored_count: dict[str, int] = {}
    stored_ids: dict[str, set[str]] = {}
    for cid in owners:
        msgs = all_messages(reader, cid)
        stored_ids[cid] = {m["id"] for m in msgs}
        for text in texts(msgs):
            stored_count[text] = stored_count.get(text, 0) + 1
    flood = set(bodies)
    acked = set(gateway.acked)
    stored = {b for b in flood if stored_count.get(b, 0) >= 1}
    duplicates = sum(stored_count[b] - 1 for b in stored if stored_count[b] > 1)
    lost = acked - stored

    delivered_ids: dict[str, list[str]] = {}
    for cid, agent in owners.items():
        delivered_ids[cid] = [e["message"]["id"] for e in received[agent.agent_id]
                              if e.get("type") == "message" and e["conversationId"] == cid]
    delivered_dups = sum(len(v) - len(set(v)) for v in delivered_ids.values())
    undelivered = sum(len(stored_ids[cid] - set(delivered_ids[cid])) for cid in owners) - len(owners)  # the opener came with the offer
    delivered = sum(len(set(v)) for v in delivered_ids.values())
    print(f"\n{label}: sent {len(bodies)}, acknowledged {len(acked)}, first-attempt errors {gateway.errors}, "
          f"retried until 2xx {len(gateway.retried)}, stored {len(stored)}, delivered {delivered}, "
          f"duplicates {duplicates}, delivered twice {delivered_dups}, lost {len(lost)}, "
          f"stored but not delivered {undelivered}")
    assert not gateway.unacked, f"{len(gateway.unacked)} webhooks were never acknowledged"
    assert duplicates == 0, f"{duplicates} messages stored more than once"
    assert not lost, f"{len(lost)} acknowledged webhooks are not stored, e.g. {sorted(lost)[:5]}"
    assert stored == flood
    assert delivered_dups == 0, "a message reached its agent twice"
    assert undelivered == 0, "stored messages did not reach their agent"
    return len(acked), len(stored), delivered


async def read_to_end_of_stream(agent: Agent, redis_address: str):
    """Reads until the agent has received the last seq its stream holds."""
    with RespClient(redis_address) as r:
        last = int(r.command("HGET", f"sb:{{r}}:agent:{agent.agent_id}", "seq"))
    await agent.until_seq(last, timeout=20)


def assert_contiguous(agent_id: str, seqs: list[int]):
    assert seqs == list(range(1, len(seqs) + 1)), \
        f"{agent_id}: seqs over all connections must be 1…n, once each: {seqs[:20]}…"


# ----------------------------------------------------------------------------------------------


async def test_kill_a_node_mid_flood_nothing_acknowledged_is_lost_or_doubled(start_broker, redis):
    total, senders = 3000, [f"+86138{n:08d}" for n in range(6)]
    a = start_broker(redis, node("node-a"), name="a")
    b = start_broker(redis, node("node-b"), name="b")
    ana = await Agent.connect(a, "ana", token("ana"), available=True)
    bo = await Agent.connect(a, "bo", token("bo"), available=True)
    eve = await Agent.connect(b, "eve", token("eve"), available=True)
    dee = await Agent.connect(b, "dee", token("dee"), available=True)
    agents = [ana, bo, eve, dee]
    owners = await assign_one_conversation_per_sender(a, agents, senders)
    assert {ag.agent_id for ag in owners.values()} & {"ana", "bo"}, "no conversation on node A's agents"
    assert {ag.agent_id for ag in owners.values()} & {"eve", "dee"}, "no conversation on node B's agents"

    bodies = [f"flood-{i:05d}" for i in range(total)]
    items = [(f"SMf{i:030x}", senders[i % len(senders)], bodies[i]) for i in range(total)]
    gateway = Gateway([a, b])
    for ag in agents:
        ag.start_reading()
    flood = asyncio.ensure_future(asyncio.to_thread(gateway.run, items))
    await asyncio.to_thread(wait_until, lambda: gateway.acked_count >= total // 3 or flood.done(),
                            "a third of the webhooks acknowledged", 30)
    if flood.done():
        flood.result()   # an exception in the gateway threads surfaces here
        raise AssertionError("the flood ended before the kill")
    a.kill()
    killed_at_ack = gateway.acked_count
    await flood

    # Node A's consoles lost their socket; they reconnect to B with resume.
    received = {}
    for ag in agents:
        await ag.stop_reading()
    for old in (ana, bo):
        again = await Agent.connect(b, old.agent_id, token(old.agent_id), resume=old.last_seq)
        await read_to_end_of_stream(again, redis.url)
        received[old.agent_id] = old.seen + again.seen
        assert_contiguous(old.agent_id, [e["seq"] for e in received[old.agent_id] if "seq" in e])
    for ag in (eve, dee):
        await read_to_end_of_stream(ag, redis.url)
        received[ag.agent_id] = ag.seen
        assert_contiguous(ag.agent_id, [e["seq"] for e in received[ag.agent_id] if "seq" in e])
    print(f"\nnode A was SIGKILLed after {killed_at_ack} acknowledgements")
    count_and_check(gateway, b, owners, received, bodies, "kill -9 of a node")


async def test_kill_9_of_the_managed_redis_under_load_loses_nothing_acknowledged(start_broker):
    """Node A owns the managed redis-server (AOF, appendfsync always); node B shares it over its
    unix socket. redis-server is SIGKILLed mid-flood; A's supervisor restarts it from the AOF and
    both nodes carry on by themselves."""
    total, senders = 2000, [f"+86139{n:08d}" for n in range(4)]
    a = start_broker(None, node("node-a"), name="a")
    redis_url = a.managed_redis_url
    b = start_broker(None, {**node("node-b"), "redis": {"url": redis_url}}, name="b")
    try:
        ana = await Agent.connect(a, "ana", token("ana"), available=True)
        eve = await Agent.connect(b, "eve", token("eve"), available=True)
        agents = [ana, eve]
        owners = await assign_one_conversation_per_sender(a, agents, senders)

        bodies = [f"load-{i:05d}" for i in range(total)]
        items = [(f"SMr{i:030x}", senders[i % len(senders)], bodies[i]) for i in range(total)]
        gateway = Gateway([a, b])
        for ag in agents:
            ag.start_reading()
        old_pid = a.managed_redis_pid()
        flood = asyncio.ensure_future(asyncio.to_thread(gateway.run, items))
        await asyncio.to_thread(wait_until, lambda: gateway.acked_count >= total // 3 or flood.done(),
                                "a third of the webhooks acknowledged", 30)
        if flood.done():
            flood.result()
            raise AssertionError("the flood ended before the kill")
        os.kill(old_pid, signal.SIGKILL)
        killed_at, killed_at_ack = time.monotonic(), gateway.acked_count
        await flood

        # Nobody restarted anything: A's supervisor brought redis-server back, both nodes are ready.
        for broker in (a, b):
            await asyncio.to_thread(broker.wait_ready)
        new_pid = a.managed_redis_pid()
        assert new_pid != old_pid, "the managed redis-server was not restarted"
        assert "managed redis-server restarted" in a.log_path.read_text()
        assert a.proc.poll() is None and b.proc.poll() is None

        # Consoles stayed connected through the outage and were resynced from their streams.
        for ag in agents:
            await ag.stop_reading()
        received = {}
        for ag in agents:
            await read_to_end_of_stream(ag, redis_url)
            received[ag.agent_id] = ag.seen
            assert_contiguous(ag.agent_id, [e["seq"] for e in received[ag.agent_id] if "seq" in e])
        print(f"\nredis-server (pid {old_pid}) SIGKILLed after {killed_at_ack} acknowledgements; restarted as "
              f"pid {new_pid}; flood done {time.monotonic() - killed_at:.1f}s after the kill")
        count_and_check(gateway, a, owners, received, bodies, "kill -9 of the managed redis-server")

        # And the service works as before: a reply goes out through the outbox.
        cid, owner = next(iter(owners.items()))
        sent = await owner.reply(cid, "恢复正常")
        await owner.expect("delivery", lambda e: e["messageId"] == sent["messageId"] and e["status"] == "sent")
    finally:
        b.stop()   # before A, whose Redis it uses


async def test_a_node_dying_with_deliveries_in_flight_has_them_delivered_by_another(start_broker, redis, sink):
    outbox = {"outbox": {"request_timeout": "1s", "claim_min_idle": "2s"}}
    a = start_broker(redis, {**node("node-a"), **outbox}, name="a")
    b = start_broker(redis, {**node("node-b"), **outbox}, name="b")
    ana = await Agent.connect(a, "ana", token("ana"), available=True)
    assert (await asyncio.to_thread(a.sms, "SM" + "c" * 32, "请回复我")).status_code == 200
    cid = (await ana.accept_offer())["id"]

    # The gateway is slow to answer: node A's deliveries are in flight (pending in the consumer
    # group under A's name) when A is killed.
    sink.hold()
    replies = [await ana.reply(cid, f"回复{n}") for n in range(5)]
    await asyncio.to_thread(sink.wait_for, 5)
    with RespClient(redis.url) as r:
        pending = {c[0].decode(): int(c[1]) for c in (r.command("XPENDING", "sb:outbox", "delivery")[3] or [])}
    assert pending.get("node-a", 0) >= 1, f"node A holds no pending delivery: {pending}"
    a.kill()
    killed_at = time.monotonic()
    sink.release()   # what A was sending dies with A's sockets

    # B claims A's pending entries after claim_min_idle and delivers them.
    def all_sent():
        statuses = {m["id"]: m.get("status") for m in b.messages(cid)}
        return all(statuses.get(rep["messageId"]) == "sent" for rep in replies)
    await asyncio.to_thread(wait_until, all_sent, "every reply to be delivered by node B", 15,
                            detail=lambda: f"statuses {[m.get('status') for m in b.messages(cid)]}")
    after_kill = [q for q in sink.requests if q.at > killed_at]
    tokens = {q.headers.get("i-twilio-idempotency-token") for q in sink.requests}
    tokens_after = {q.headers.get("i-twilio-idempotency-token") for q in after_kill}
    print(f"\noutbox claim: node A held {pending.get('node-a', 0)} of {len(replies)} deliveries when killed; "
          f"the gateway got {len(sink.requests)} requests, {len(tokens)} distinct idempotency tokens, "
          f"{len(after_kill)} after the kill; all delivered {time.monotonic() - killed_at:.1f}s after it")
    assert len(tokens) == len(replies) and None not in tokens, tokens
    assert len(tokens_after) >= pending["node-a"], "A's pending deliveries were not sent again"
    assert [f["Body"][0] for f in (q.form for q in sink.requests)].count("回复0") >= 1
    with RespClient(redis.url) as r:
        assert r.command("XPENDING", "sb:outbox", "delivery")[0] == 0, "deliveries left pending"

    # The agent, back on B, learns every outcome from its stream.
    again = await Agent.connect(b, "ana", token("ana"), resume=ana.last_seq)
    for rep in replies:
        await again.expect("delivery", lambda e, rep=rep: e["messageId"] == rep["messageId"] and e["status"] == "sent")


class RawAgent:
    """An agent console on a plain TCP socket with a tiny receive buffer, so the test decides
    exactly when (and whether) it reads: a client that stops reading, as a frozen browser tab."""

    def __init__(self, broker, agent_id: str):
        import base64
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(5)
        self.sock.connect(("127.0.0.1", broker.port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /v1/agent HTTP/1.1\r\nHost: 127.0.0.1:{broker.port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                           f"Sec-WebSocket-Protocol: switchboard.agent.v1\r\n\r\n").encode())
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            chunk = self.sock.recv(1)
            assert chunk, f"connection closed during the handshake: {head!r}"
            head += chunk
        assert head.startswith(b"HTTP/1.1 101"), head
        self.rx = b""
        self.events: list[dict] = []
        self.close_code: int | None = None
        self.send({"type": "auth", "token": token(agent_id)})

    def send(self, obj):
        payload = json.dumps(obj, ensure_ascii=False).encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        n = len(payload)
        header += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big")
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _frame(self):
        """One complete frame from `rx`, or None: (opcode, payload)."""
        if len(self.rx) < 2:
            return None
        n, at = self.rx[1] & 0x7F, 2
        if n == 126:
            if len(self.rx) < 4:
                return None
            n, at = int.from_bytes(self.rx[2:4], "big"), 4
        elif n == 127:
            if len(self.rx) < 10:
                return None
            n, at = int.from_bytes(self.rx[2:10], "big"), 10
        if len(self.rx) < at + n:
            return None
        opcode, payload = self.rx[0] & 0x0F, self.rx[at:at + n]
        self.rx = self.rx[at + n:]
        return opcode, payload

    def read(self, until=None, timeout: float = 5) -> bool:
        """Reads frames until `until(event)` holds (True), or the server closes (False)."""
        end = time.monotonic() + timeout
        while True:
            frame = self._frame()
            if frame is not None:
                opcode, payload = frame
                if opcode == 8:
                    self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
                    return False
                for line in payload.decode().split("\n"):
                    if line.strip():
                        self.events.append(json.loads(line))
                        if until is not None and until(self.events[-1]):
                            return True
                continue
            assert time.monotonic() < end, f"raw agent: nothing more within {timeout}s; last events {self.events[-3:]}"
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                return False   # closed without a close frame
            self.rx += chunk

    def close(self):
        self.sock.close()


async def raw_agent_with_a_conversation(broker, agent_id: str) -> tuple[RawAgent, Visitor, str]:
    """A raw console that signs in, takes one web chat, goes away (no more offers), and from
    then on reads nothing."""
    agent = await asyncio.to_thread(RawAgent, broker, agent_id)
    await asyncio.to_thread(agent.read, lambda e: e["type"] == "welcome")
    agent.send({"type": "presence.set", "status": "available", "ref": "p"})
    await asyncio.to_thread(agent.read, lambda e: e.get("type") == "presence")
    visitor = await Visitor.connect(broker)
    cid = (await visitor.say("开始"))["conversationId"]
    await asyncio.to_thread(agent.read, lambda e: e["type"] == "offer" and e["conversation"]["id"] == cid)
    agent.send({"type": "offer.accept", "offerId": agent.events[-1]["offerId"], "ref": "a"})
    await asyncio.to_thread(agent.read, lambda e: e["type"] == "assigned")
    agent.send({"type": "presence.set", "status": "away", "ref": "w"})
    await asyncio.to_thread(agent.read, lambda e: e.get("type") == "presence" and e["status"] == "away")
    return agent, visitor, cid


async def test_a_slow_agent_is_closed_with_1008_while_another_keeps_receiving(start_broker, redis):
    broker = start_broker(redis, {"limits": {"max_send_queue_bytes": "64KiB"}})
    # ana and eve stop reading; bo reads as usual.
    ana, ana_visitor, ana_cid = await raw_agent_with_a_conversation(broker, "ana")
    eve, eve_visitor, _ = await raw_agent_with_a_conversation(broker, "eve")
    try:
        bo = await Agent.connect(broker, "bo", token("bo"), available=True)
        visitor = await Visitor.connect(broker)
        cid = (await visitor.say("我也在"))["conversationId"]
        await bo.accept_offer(cid)

        def closing(agent_id):
            return f"socket=agent {agent_id}" in broker.log_path.read_text(errors="replace")
        big = "长" * 1300
        sent = 0
        deadline = time.monotonic() + 30
        while not (closing("ana") and closing("eve")):
            assert time.monotonic() < deadline, f"no slow-socket close after {sent} messages of {len(big.encode())} bytes"
            for _ in range(10):
                await ana_visitor.say(big)
                await eve_visitor.say(big)
                sent += 1
            # bo is not held up: each of his messages arrives while the others' queues fill.
            ack = await visitor.say(f"bo 第{sent}条")
            await bo.expect("message", lambda e: e["message"]["id"] == ack["messageId"], timeout=2)
        print(f"\nslow consoles closed after {sent} messages of {len(big.encode())} bytes each (max_send_queue_bytes 64KiB)")

        # ana reads again: what the kernel held, then the close frame: 1008.
        await asyncio.to_thread(ana.read, None, 10)
        assert ana.close_code == 1008, f"ana's socket closed with {ana.close_code} after {len(ana.events)} events"
        got = len([e for e in ana.events if e.get("type") == "message"])
        assert got < sent, "ana got everything: she was not too slow after all"
        # eve never reads again: her socket is dropped anyway (no close frame can reach her) and
        # she is no longer counted as connected, so she is not offered what she cannot see.
        def eve_gone():
            with RespClient(redis.url) as r:
                return r.command("HGET", "sb:{r}:agent:eve", "connected") == b"0"
        await asyncio.to_thread(wait_until, eve_gone, "eve's stalled socket to be dropped", 10)

        # bo kept going all along.
        ack = await visitor.say("还在吗")
        await bo.expect("message", lambda e: e["message"]["id"] == ack["messageId"])
        # ana comes back and resumes from what she really got: the backlog (her visitor wrote on,
        # far more than 64 KiB) is replayed as fast as she reads, not dropped with another 1008.
        for _ in range(100):
            await ana_visitor.say(big)
        sent += 100
        last = max(e["seq"] for e in ana.events if "seq" in e)
        again = await Agent.connect(broker, "ana", token("ana"), resume=last)
        await again.until_seq(again.welcome["lastSeq"], timeout=15)
        replayed = [e["seq"] for e in again.seen if "seq" in e]
        assert replayed == list(range(last + 1, again.welcome["lastSeq"] + 1))
        assert len([e for e in again.seen if e.get("type") == "message"]) == sent - got
        assert ana_cid in [c["id"] for c in again.welcome["conversations"]]
    finally:
        ana.close()
        eve.close()


async def test_sigterm_closes_consoles_with_1012_and_their_agents_keep_their_work_for_the_grace(start_broker, redis):
    a = start_broker(redis, node("node-a"), name="a")
    b = start_broker(redis, node("node-b"), name="b")
    ana = await Agent.connect(a, "ana", token("ana"), available=True)
    assert (await asyncio.to_thread(a.sms, "SM" + "d" * 32, "关机前")).status_code == 200
    cid = (await ana.accept_offer())["id"]

    a.proc.send_signal(signal.SIGTERM)
    started = time.monotonic()
    assert await ana.closed_with(timeout=10) == 1012
    try:
        status = await asyncio.to_thread(a.proc.wait, max(0.1, 10 - (time.monotonic() - started)))
    except subprocess.TimeoutExpired:
        raise AssertionError(f"node A did not exit within 10 s of SIGTERM\n{a.log_tail()}") from None
    assert status == 0, a.log_tail()
    print(f"\nSIGTERM: consoles closed with 1012, exit status 0 after {time.monotonic() - started:.1f}s")

    # ana is in her reconnect grace, not offline: presence and conversation kept.
    with RespClient(redis.url) as r:
        agent = dict(zip(*[iter(r.command("HGETALL", "sb:{r}:agent:ana"))] * 2))
        assert agent[b"connected"] == b"0" and agent[b"status"] == b"available", agent
        assert r.command("ZSCORE", "sb:{r}:grace", "ana") is not None, "ana is not in her reconnect grace"
    assert b.conversation(cid)["assignee"] == "ana"
    # A message arriving meanwhile waits in her stream; she reconnects to node B and resumes.
    assert (await asyncio.to_thread(b.sms, "SM" + "e" * 32, "关机后")).status_code == 200
    again = await Agent.connect(b, "ana", token("ana"), resume=ana.last_seq)
    assert [c["id"] for c in again.welcome["conversations"]] == [cid]
    missed = await again.expect("message", lambda e: e["conversationId"] == cid)
    assert texts([missed["message"]]) == ["关机后"]


async def test_per_ip_limits_answer_429_with_retry_after(start_broker, redis):
    broker = start_broker(redis, {
        "limits": {"public_rate_per_ip": 0.2, "public_burst_per_ip": 3},
        "channels": [
            {"id": "web", "kind": "webchat", "skill": "general"},
            {"id": "sms-ali", "kind": "sms", "provider": "aliyun", "skill": "general"},
            {"id": "sms-gw", "kind": "sms", "provider": "generic", "hmac_secret": "e2e-generic-secret", "skill": "general"},
        ]})
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    def aliyun(n: int) -> requests.Response:
        body = [{"phone_number": "13800138000", "send_time": "2026-11-20 09:15:32", "content": f"上行{n}",
                 "sign_name": "12345热线", "dest_code": "1234", "sequence_id": 1000 + n}]
        return broker.post("/v1/channels/sms-ali/aliyun", json=body)

    # The bucket (burst 3) is shared by the public endpoints of one address.
    await Visitor.connect(broker)
    await Visitor.connect(broker)
    assert (await asyncio.to_thread(aliyun, 1)).status_code == 200
    r = await asyncio.to_thread(aliyun, 2)
    assert r.status_code == 429, r.text
    assert r.json()["error"]["code"] == "rate_limited", r.text
    assert int(r.headers["Retry-After"]) >= 1, r.headers
    try:
        ws = await connect(broker.ws_base + "/v1/visitor", subprotocols=["switchboard.visitor.v1"], proxy=None, open_timeout=5)
        await ws.close()
        raise AssertionError("a visitor connection over the limit was accepted")
    except InvalidStatus as e:
        assert e.response.status_code == 429, e.response
        assert int(e.response.headers.get("Retry-After", "0")) >= 1, dict(e.response.headers)
    # Signed webhooks and agent consoles are not public: never limited.
    for n in range(5):
        body = json.dumps({"id": f"gw-{n}", "from": "+8613700001111", "to": "12345", "text": f"签名{n}"}).encode()
        sig = "sha256=" + hmac.new(b"e2e-generic-secret", body, hashlib.sha256).hexdigest()
        r = await asyncio.to_thread(broker.post, "/v1/channels/sms-gw/generic", data=body,
                                    headers={"Content-Type": "application/json", "X-Signature": sig})
        assert r.status_code == 200, r.text
    await Agent.connect(broker, "ana", token("ana"))
