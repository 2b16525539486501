"""Several broker nodes on one Redis (DESIGN §4 "run more broker processes against the same
Redis", §7 "Disconnects and dead nodes", §8 `sb:node:<id>` pushes): whichever node holds a socket,
whichever node runs a script, every event reaches its socket once."""

import asyncio
import time

from clients import Agent, Visitor, texts
from harness import RespClient, token, wait_until


def node(node_id: str, **routing) -> dict:
    """Overrides for one node of a cluster: its id, a quick heartbeat, and routing settings."""
    return {"node": {"id": node_id, "heartbeat_interval": "500ms", "heartbeat_ttl": "2s"},
            "routing": routing}


async def test_visitor_on_one_node_chats_with_an_agent_on_another_and_resume_moves_nodes(start_broker, redis):
    # Only node A sweeps (B's sweep interval is an hour): the second offer below is made by A's
    # sweeper for an agent whose socket is on B.
    a = start_broker(redis, node("node-a", offer_timeout="2s", sweep_interval="100ms"), name="a")
    b = start_broker(redis, node("node-b", offer_timeout="2s", sweep_interval="1h"), name="b")

    ana = await Agent.connect(a, "ana", token("ana"), available=True)   # longest idle: offered first
    bo = await Agent.connect(b, "bo", token("bo"), available=True)

    visitor = await Visitor.connect(a, name="张先生")
    first = await visitor.say("你好，我在节点A")
    cid = first["conversationId"]
    offer_a = await ana.expect("offer", lambda e: e["conversation"]["id"] == cid)
    # ana lets it time out; A's sweeper moves it on to bo, on B.
    rescinded = await ana.expect("offer.rescinded", lambda e: e["offerId"] == offer_a["offerId"], timeout=6)
    assert rescinded["reason"] == "timeout", rescinded
    await bo.accept_offer(cid, timeout=6)
    await visitor.expect("agent.joined")

    # agent on B -> visitor on A
    reply = await bo.reply(cid, "您好，我在节点B")
    got = await visitor.expect("message")
    assert got["message"]["id"] == reply["messageId"] and texts([got["message"]]) == ["您好，我在节点B"]
    # visitor on A -> agent on B
    second = await visitor.say("请问怎么办理居住证")
    event = await bo.expect("message", lambda e: e["message"]["id"] == second["messageId"])
    assert event["conversationId"] == cid

    # bo's console drops; while it is away the visitor keeps writing (A runs those scripts).
    before = bo.seqs
    assert before == list(range(1, len(before) + 1)), f"seq must count up from 1 without gaps: {before}"
    last = bo.last_seq
    await bo.close()
    missed = [await visitor.say(t) for t in ("第三句", "第四句", "第五句")]

    # bo reconnects to the OTHER node, A, with resume.
    again = await Agent.connect(a, "bo", token("bo"), resume=last)
    target = again.welcome["lastSeq"]
    await again.until_seq(target)
    assert [c["id"] for c in again.welcome["conversations"]] == [cid], again.welcome
    replayed = [e for e in again.seen if "seq" in e]
    assert [e["seq"] for e in replayed] == list(range(last + 1, target + 1)), \
        f"expected seq {last + 1}…{target} exactly once, got {[e['seq'] for e in replayed]}"
    assert [e["message"]["id"] for e in replayed if e["type"] == "message"] == [m["messageId"] for m in missed]

    # Live again, now on A: the next message arrives once, with the next seq.
    nxt = await visitor.say("第六句")
    live = await again.expect("message", lambda e: e["message"]["id"] == nxt["messageId"])
    assert live["seq"] == target + 1, live
    reply2 = await again.reply(cid, "收到，马上为您查询")
    got2 = await visitor.expect("message")
    assert got2["message"]["id"] == reply2["messageId"]
    await again.ping()   # every event pushed before the pong has been read
    all_seqs = before + [e["seq"] for e in again.seen if "seq" in e]
    assert all_seqs == list(range(1, len(all_seqs) + 1)), f"seqs across both nodes: {all_seqs}"
    ids = [e["message"]["id"] for e in bo.seen + again.seen if e.get("type") == "message"]
    assert len(ids) == len(set(ids)), f"a message reached bo twice: {ids}"
    assert texts(a.messages(cid)) == texts(b.messages(cid)) == [
        "你好，我在节点A", "您好，我在节点B", "请问怎么办理居住证", "第三句", "第四句", "第五句", "第六句",
        "收到，马上为您查询"]


async def test_a_dead_nodes_conversations_are_requeued_to_an_agent_on_a_live_node(start_broker, redis, sink):
    grace = 2.0
    a = start_broker(redis, node("node-a", reconnect_grace="2s"), name="a")
    b = start_broker(redis, node("node-b", reconnect_grace="2s"), name="b")

    # ana, on A, holds an SMS conversation and a web chat whose visitor is on A too.
    ana = await Agent.connect(a, "ana", token("ana"), available=True)
    assert (await asyncio.to_thread(a.sms, "SM" + "a1" * 16, "节点A上的短信")).status_code == 200
    sms_cid = (await ana.accept_offer())["id"]
    visitor = await Visitor.connect(a)
    web_cid = (await visitor.say("节点A上的网聊"))["conversationId"]
    await ana.accept_offer(web_cid)
    reply = await ana.reply(web_cid, "您好")
    await visitor.expect("message", lambda e: e["message"]["id"] == reply["messageId"])
    visitor_token = visitor.ready["visitorToken"]

    # bo, on B, is available but has nothing: the assigned conversations stay ana's while A lives.
    bo = await Agent.connect(b, "bo", token("bo"), available=True)
    await bo.ping()
    assert bo.of_type("offer") == []

    a.kill()
    killed_at = time.monotonic()

    # B notices A's heartbeat expired, ana's grace runs out, and both conversations are requeued
    # at the front and offered to bo, within reconnect_grace + 5 s of A's death.
    offered = set()
    while offered != {sms_cid, web_cid}:
        remaining = killed_at + grace + 5 - time.monotonic()
        assert remaining > 0, f"only {offered} of {sms_cid}, {web_cid} offered to bo within {grace + 5:.0f}s"
        offer = await bo.expect("offer", timeout=remaining)
        offered.add(offer["conversation"]["id"])
        await bo.ok({"type": "offer.accept", "offerId": offer["offerId"]})
    print(f"\nrequeued and offered on the live node {time.monotonic() - killed_at:.1f}s after the kill "
          f"(heartbeat_ttl 2s + reconnect_grace {grace:.0f}s)")
    for cid in (sms_cid, web_cid):
        await bo.expect("assigned", lambda e, cid=cid: e["conversation"]["id"] == cid)
        assert b.conversation(cid)["assignee"] == "bo"

    # The visitor's socket died with A; on reconnecting to B it gets its history and state.
    await visitor.closed_with(timeout=5)
    back = await Visitor.connect(b, token=visitor_token)
    assert back.ready["conversationId"] == web_cid, back.ready
    assert texts(back.ready["history"]) == ["节点A上的网聊", "您好"], back.ready
    later = await back.say("我换了一台服务器")
    await bo.expect("message", lambda e: e["message"]["id"] == later["messageId"])
    answer = await bo.reply(web_cid, "bo 接手了")
    await back.expect("message", lambda e: e["message"]["id"] == answer["messageId"])
    # ana is no longer the assignee anywhere, and B's view of the agents says so.
    with RespClient(redis.url) as r:
        assert r.command("SMEMBERS", "sb:{r}:agent:ana:convs") == []
        assert r.command("SISMEMBER", "sb:nodes", "node-a") == 0


async def test_a_node_restarted_under_the_same_id_releases_the_agents_it_no_longer_holds(start_broker, redis):
    """A crashed node that comes back at once with the same node.id (a supervisor restarting it)
    has a live heartbeat again before any other node saw it expire: it must itself let go of the
    agents whose sockets died with its previous process, or they would stay 'connected' forever,
    with their conversations."""
    a = start_broker(redis, node("node-a", reconnect_grace="2s"), name="a")
    b = start_broker(redis, node("node-b", reconnect_grace="2s"), name="b")
    ana = await Agent.connect(a, "ana", token("ana"), available=True)
    assert (await asyncio.to_thread(a.sms, "SM" + "f1" * 16, "重启前")).status_code == 200
    cid = (await ana.accept_offer())["id"]
    bo = await Agent.connect(b, "bo", token("bo"), available=True)

    a.kill()
    await asyncio.to_thread(a.start)   # same config, same node id, heartbeat back within the TTL
    restarted = time.monotonic()
    offer = await bo.expect("offer", lambda e: e["conversation"]["id"] == cid, timeout=2 + 5)
    await bo.ok({"type": "offer.accept", "offerId": offer["offerId"]})
    print(f"\nrestarted node: ana's conversation offered to bo {time.monotonic() - restarted:.1f}s after the restart")


async def test_two_nodes_carry_on_after_a_redis_outage_longer_than_the_heartbeat_ttl(start_broker, tmp_path):
    """Redis (AOF, data kept) is away longer than heartbeat_ttl: every heartbeat key has expired
    when it returns, and whichever node is back first sees the other as dead. That must not cost
    the other node's consoles their connection state: once both are back, each console still
    receives its conversation's messages and keeps its conversation past the grace."""
    from harness import RedisServer
    redis = RedisServer(tmp_path / "aof-redis", persistent=True)
    redis.start()
    try:
        a = start_broker(redis, node("node-a", reconnect_grace="2s"), name="a")
        b = start_broker(redis, node("node-b", reconnect_grace="2s"), name="b")
        ana = await Agent.connect(a, "ana", token("ana"), available=True)
        assert (await asyncio.to_thread(a.sms, "SM" + "a7" * 16, "给ana", "+8613700000001")).status_code == 200
        ana_cid = (await ana.accept_offer())["id"]
        await ana.set_presence("away")
        bo = await Agent.connect(b, "bo", token("bo"), available=True)
        assert (await asyncio.to_thread(b.sms, "SM" + "b7" * 16, "给bo", "+8613700000002")).status_code == 200
        bo_cid = (await bo.accept_offer())["id"]

        redis.stop()
        for broker in (a, b):
            await asyncio.to_thread(wait_until, lambda broker=broker: broker.get("/readyz").status_code == 503,
                                    f"{broker.base} to notice the outage")
        # The outage lasts past heartbeat_ttl (2 s): the keys expire meanwhile.
        await asyncio.sleep(2.5)
        redis.start()
        back = time.monotonic()
        for broker in (a, b):
            await asyncio.to_thread(broker.wait_ready)
        # Service resumes within 1 s of Redis answering again, without restarting anything.
        resumed = time.monotonic() - back
        print(f"\nboth nodes ready {resumed:.2f}s after Redis answered again")
        assert resumed < 1.0, f"the nodes took {resumed:.2f}s to be ready again"

        # Past the reconnect grace, both consoles still hold their conversations and get messages.
        await asyncio.sleep(2.5)
        for agent, entry, cid, sender in ((ana, b, ana_cid, "+8613700000001"), (bo, a, bo_cid, "+8613700000002")):
            r = await asyncio.to_thread(entry.sms, f"SM{agent.agent_id}{'c' * 30}", f"恢复后给{agent.agent_id}", sender)
            assert r.status_code == 200, r.text
            got = await agent.expect("message", lambda e, cid=cid: e["conversationId"] == cid and
                                     texts([e["message"]])[0].startswith("恢复后"))
            assert got, got
            assert entry.conversation(cid)["assignee"] == agent.agent_id
            with RespClient(redis.url) as rc:
                assert rc.command("HGET", f"sb:{{r}}:agent:{agent.agent_id}", "connected") == b"1"
    finally:
        redis.stop()
