"""Redis goes away and comes back (DESIGN §5 reconnect, §9 503 + Retry-After, §11 nothing
acknowledged unless stored). The external redis-server here has persistence off, so its restart
loses the data: only the recovery is asserted, never older state."""

import asyncio

from clients import Agent, texts
from harness import RedisServer, token, wait_until


async def test_redis_outage_gives_503_and_recovers_without_a_broker_restart(broker, redis):
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    assert (await asyncio.to_thread(broker.sms, "SM" + "a" * 32, "停电前")).status_code == 200
    cid = (await ana.accept_offer())["id"]

    redis.stop()

    def not_ready():
        r = broker.get("/readyz")
        return [r] if r.status_code == 503 else None   # (a Response with an error status is falsy)
    [r] = await asyncio.to_thread(wait_until, not_ready, "/readyz to answer 503 after redis-server stopped")
    assert r.json()["ready"] is False, r.text
    assert broker.get("/healthz").status_code == 200   # alive, just not ready
    assert "switchboard_ready 0" in broker.metrics()

    # A provider's webhook is not acknowledged: 503 with Retry-After, so the provider retries.
    r = await asyncio.to_thread(broker.sms, "SM" + "b" * 32, "停电中")
    assert r.status_code == 503, r.text
    assert r.headers.get("Retry-After"), r.headers
    assert r.json()["error"]["code"] == "unavailable", r.text
    # REST reads are unavailable too.
    assert broker.api_get(f"/v1/conversations/{cid}").status_code == 503

    # An agent's reply is refused with `unavailable`, and the console stays connected.
    answer = await ana.request({"type": "message.send", "conversationId": cid, "text": "在吗", "clientId": "o1"})
    assert answer["type"] == "error" and answer["code"] == "unavailable", answer
    await ana.ping()

    # redis-server back on the same port: the broker reconnects by itself.
    redis.start()
    await asyncio.to_thread(broker.wait_ready)
    assert broker.get("/readyz").json()["ready"] is True

    # That Redis lost everything (no persistence), so the console signs in again, as it does after
    # any drop; the broker re-synced the configured agents on reconnecting.
    await ana.close()
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    r = await asyncio.to_thread(broker.sms, "SM" + "b" * 32, "恢复后")
    assert r.status_code == 200, r.text
    conv = await ana.accept_offer()
    assert texts(await ana.history(conv["id"])) == ["恢复后"]
    sent = await ana.reply(conv["id"], "收到")
    await ana.expect("delivery", lambda e: e["messageId"] == sent["messageId"] and e["status"] == "sent")


async def test_consoles_stay_connected_across_a_restart_of_a_persistent_redis(start_broker, tmp_path):
    """With Redis' data intact (AOF), a console that stayed connected through the outage keeps
    working afterwards: it is offered new conversations and its replies go out."""
    redis = RedisServer(tmp_path / "aof-redis", persistent=True)
    redis.start()
    try:
        broker = start_broker(redis)
        ana = await Agent.connect(broker, "ana", token("ana"), available=True)
        assert (await asyncio.to_thread(broker.sms, "SM" + "c" * 32, "第一条")).status_code == 200
        cid = (await ana.accept_offer())["id"]

        redis.stop()
        await asyncio.to_thread(wait_until, lambda: broker.get("/readyz").status_code == 503,
                                "/readyz to answer 503 after redis-server stopped")
        redis.start()
        await asyncio.to_thread(broker.wait_ready)

        # The same socket, never reconnected: the assigned conversation still works both ways …
        assert (await asyncio.to_thread(broker.sms, "SM" + "d" * 32, "第二条")).status_code == 200
        await ana.expect("message", lambda e: e["conversationId"] == cid and texts([e["message"]]) == ["第二条"])
        sent = await ana.reply(cid, "好的")
        await ana.expect("delivery", lambda e: e["messageId"] == sent["messageId"] and e["status"] == "sent")
        # … and a new conversation is offered to it.
        assert (await asyncio.to_thread(broker.sms, "SM" + "e" * 32, "新来的", "+8613700137000")).status_code == 200
        conv = await ana.accept_offer()
        assert conv["contact"]["address"] == "+8613700137000"
        assert texts(await ana.history(cid)) == ["第一条", "第二条", "好的"]
        seqs = ana.seqs
        assert seqs == list(range(1, len(seqs) + 1)), seqs
    finally:
        redis.stop()
