"""Redis memory per conversation, measured on a real broker (README "Operations").

    SWITCHBOARD_BIN=$PWD/.build/release/switchboard .venv/bin/python Tests/e2e/measure_memory.py [conversations]

Starts redis-server (no persistence) and one broker with the e2e harness, then for each of N
conversations (default 1,000): one Twilio-signed SMS opens it, the agent accepts, and the
conversation gets 5 more inbound SMS and 4 agent replies (delivered through the outbox to a local
gateway sink): 10 messages of typical length. Prints INFO used_memory before and after (per
conversation) and MEMORY USAGE of every key one conversation owns, and the agent event stream's
share. Not a test (pytest does not collect it); it takes about a minute.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).parent))
from clients import Agent, close_all_sockets  # noqa: E402
from harness import (API_KEY, TWILIO_AUTH_TOKEN, Broker, GatewaySink, RedisServer, RespClient,  # noqa: E402
                     sha256_hex)

INBOUND = "您好，我想咨询一下社保转移的办理流程，需要带哪些材料？"   # 27 characters, ~80 bytes
REPLY = "您好，请携带身份证和社保卡到就近的服务网点办理，也可以在网上办理。"


def used_memory(r: RespClient) -> int:
    info = r.command("INFO", "memory").decode()
    return int(next(line.split(":")[1] for line in info.splitlines() if line.startswith("used_memory:")))


async def main(n: int):
    tmp = Path(tempfile.mkdtemp(prefix="sb-memory-"))
    redis = RedisServer(tmp / "redis")
    redis.start()
    sink = GatewaySink()
    # One agent with room for every conversation at once.
    broker = Broker(tmp / "broker", redis_url=redis.url, sink_url=sink.messages_url, overrides={
        "agents": [{"id": "ana", "name": "Ana", "role": "agent", "token_sha256": sha256_hex("tok-ana-0001"),
                    "skills": {"general": 5}, "capacity": {"sms": n}}],
        "api_keys": [{"id": "m", "key_sha256": sha256_hex(API_KEY)}],
        "limits": {"max_send_queue_bytes": "64MiB"},
    })
    broker.start()
    try:
        r = RespClient(redis.url)
        ana = await Agent.connect(broker, "ana", "tok-ana-0001", available=True)
        r.command("MEMORY", "PURGE")
        before = used_memory(r)
        validator = RequestValidator(TWILIO_AUTH_TOKEN)
        senders = [f"+86138{i:08d}" for i in range(n)]

        def post(args):
            sid, sender, body = args
            session = getattr(post, "s", None) or requests.Session()
            post.s = session
            params = broker.sms_params(sid, body, sender)
            sig = validator.compute_signature(broker.sms_url, params)
            resp = requests.post(broker.sms_url, data=params, headers={"X-Twilio-Signature": sig}, timeout=10)
            assert resp.status_code == 200, resp.text

        t0 = time.monotonic()
        conversations = []
        for i, sender in enumerate(senders):
            await asyncio.to_thread(post, (f"SMo{i:030x}", sender, INBOUND))
            conversations.append((await ana.accept_offer(timeout=10))["id"])
        more = [(f"SMm{i:06d}{k:024x}", senders[i], INBOUND) for i in range(n) for k in range(5)]
        with ThreadPoolExecutor(8) as pool:
            await asyncio.to_thread(lambda: list(pool.map(post, more)))
        replies = []
        for cid in conversations:
            for k in range(4):
                replies.append((await ana.reply(cid, REPLY, client_id=f"{cid}-{k}"))["messageId"])
        await asyncio.to_thread(sink.wait_for, len(replies), 120)
        # Let the last delivery outcomes land (statuses, provider ids).
        deadline = time.monotonic() + 30
        while r.command("XLEN", "sb:outbox") and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        elapsed = time.monotonic() - t0
        r.command("MEMORY", "PURGE")
        after = used_memory(r)

        cid = conversations[len(conversations) // 2]
        conv = dict(zip(*[iter(r.command("HGETALL", f"sb:conv:{{{cid}}}"))] * 2))
        contact = conv[b"contact"].decode()
        address = conv[b"address"].decode()
        keys = [f"sb:conv:{{{cid}}}", f"sb:conv:{{{cid}}}:log", f"sb:conv:{{{cid}}}:status",
                f"sb:conv:{{{cid}}}:clients", f"sb:conv:{{{cid}}}:declined", f"sb:contact:{contact}",
                f"sb:ident:sms:{address}", f"sb:contact:{contact}:open:sms-main"]
        i = conversations.index(cid)
        keys += [f"sb:dedup:sms-main:SMo{i:030x}"] + [f"sb:dedup:sms-main:SMm{i:06d}{k:024x}" for k in range(5)]
        pmids = [k.decode() for k in r.command("KEYS", "sb:pmid:*")]
        sample_pmids = [k for k in pmids if r.command("GET", k).decode().startswith(cid + " ")]
        keys += sample_pmids
        print(f"\n{n} conversations × 10 messages (6 inbound SMS, 4 replies delivered) in {elapsed:.0f}s")
        print(f"INFO used_memory: {before} → {after} bytes: {(after - before) / n:.0f} bytes per conversation "
              f"(everything: conversation keys, dedup and provider-id keys, the agent's events, outbox leftovers)")
        total = 0
        print(f"\nMEMORY USAGE of conversation {cid}'s keys:")
        for key in keys:
            usage = r.command("MEMORY", "USAGE", key)
            if usage is None:
                print(f"  {key:60s} (absent)")
                continue
            total += usage
            print(f"  {key:60s} {usage:6d}  {r.command('TYPE', key).decode()}")
        print(f"  {'total':60s} {total:6d}")
        events = r.command("MEMORY", "USAGE", "sb:agent:ana:events")
        xlen = r.command("XLEN", "sb:agent:ana:events")
        print(f"\nagent event stream sb:agent:ana:events: {xlen} events, {events} bytes "
              f"({events / xlen:.0f} bytes per event, {events / n:.0f} per conversation here)")
        print(f"dbsize {r.command('DBSIZE')}, redis-server {r.command('INFO', 'server').decode().split('redis_version:')[1].split()[0]}")
        await close_all_sockets()
    finally:
        broker.stop()
        redis.stop()
        sink.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
