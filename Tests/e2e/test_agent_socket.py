"""The agent WebSocket (DESIGN §9, §11): ownership checks, resume without loss or repeats,
bad frames, invalid UTF-8, authentication deadlines."""

import asyncio

from clients import AGENT_PROTOCOL, VISITOR_PROTOCOL, Agent, Peer, Visitor, open_socket, texts
from harness import token


async def test_agent_cannot_touch_another_agents_conversation(broker):
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    visitor = await Visitor.connect(broker)
    first = await visitor.say("请帮我查一下")
    conv = await ana.accept_offer(first["conversationId"])
    cid = conv["id"]

    bo = await Agent.connect(broker, "bo", token("bo"), available=True)
    for command in (
        {"type": "history", "conversationId": cid},
        {"type": "message.send", "conversationId": cid, "text": "我来冒充", "clientId": "x1"},
        {"type": "conversation.close", "conversationId": cid, "category": "业务咨询"},
        {"type": "conversation.transfer", "conversationId": cid, "toAgent": "bo"},
    ):
        answer = await bo.request(command)
        assert answer["type"] == "error" and answer["code"] == "forbidden", (command["type"], answer)
        await bo.ping()   # the connection stays usable

    # Nothing happened to the conversation: still ana's, no message from bo, still open.
    assert texts(await ana.history(cid)) == ["请帮我查一下"]
    assert broker.conversation(cid)["status"] == "assigned"
    assert broker.conversation(cid)["assignee"] == "ana"
    # The visitor never heard from bo.
    await ana.reply(cid, "正在为您查询")
    got = await visitor.expect("message")
    assert texts([got["message"]]) == ["正在为您查询"]
    assert all(m["message"].get("authorId") != "bo" for m in visitor.of_type("message"))

    # An offer belongs to the agent it was made to.
    second = await Visitor.connect(broker)
    await ana.set_presence("away")
    await bo.set_presence("away")
    await ana.set_presence("available")
    ack = await second.say("另一位市民")
    offer = await ana.expect("offer", lambda e: e["conversation"]["id"] == ack["conversationId"])
    answer = await bo.request({"type": "offer.accept", "offerId": offer["offerId"]})
    assert answer["type"] == "error" and answer["code"] == "forbidden", answer
    answer = await bo.request({"type": "offer.reject", "offerId": offer["offerId"]})
    assert answer["type"] == "error" and answer["code"] == "forbidden", answer
    await bo.ping()
    await ana.ok({"type": "offer.accept", "offerId": offer["offerId"]})
    assert broker.conversation(ack["conversationId"])["assignee"] == "ana"


async def test_resume_replays_every_missed_event_once_in_order(broker, sink):
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    visitor = await Visitor.connect(broker)
    first = await visitor.say("第一句")
    cid = (await ana.accept_offer(first["conversationId"]))["id"]
    seen_ack = await visitor.say("第二句")
    await ana.expect("message", lambda e: e["message"]["id"] == seen_ack["messageId"])
    assert (await asyncio.to_thread(broker.sms, "SM" + "1" * 32, "短信一")).status_code == 200
    sms_cid = (await ana.accept_offer())["id"]

    before = ana.seqs
    assert before == list(range(1, len(before) + 1)), f"seq must count up from 1 without gaps: {before}"
    last = ana.last_seq
    await ana.close()

    # While the console is away: visitor messages, an SMS, a new SMS conversation (its offer).
    missed_texts = ["第三句", "第四句"]
    for text in missed_texts:
        await visitor.say(text)
    assert (await asyncio.to_thread(broker.sms, "SM" + "2" * 32, "短信二")).status_code == 200
    assert (await asyncio.to_thread(broker.sms, "SM" + "3" * 32, "新号码来信", "+8613900139000")).status_code == 200
    # Ana is disconnected (inside her reconnect grace), so the new number's conversation is offered
    # to her when she is back: that offer belongs to what she gets on reconnecting, too.

    again = await Agent.connect(broker, "ana", token("ana"), resume=last)
    assert again.welcome["lastSeq"] > last
    target = again.welcome["lastSeq"]
    await again.until_seq(target)
    replayed = [e for e in again.seen if "seq" in e]
    seqs = [e["seq"] for e in replayed]
    assert seqs == list(range(last + 1, target + 1)), f"expected seq {last + 1}…{target} exactly once, got {seqs}"

    messages = [e for e in replayed if e["type"] == "message"]
    assert [texts([e["message"]])[0] for e in messages] == ["第三句", "第四句", "短信二"]
    assert [e["conversationId"] for e in messages] == [cid, cid, sms_cid]
    offers = [e for e in replayed if e["type"] == "offer"]
    assert len(offers) == 1 and offers[0]["conversation"]["contact"]["address"] == "+8613900139000", offers
    # The welcome lists the open offer too, and it can still be accepted.
    assert [o["offerId"] for o in again.welcome["offers"]] == [offers[0]["offerId"]]
    await again.ok({"type": "offer.accept", "offerId": offers[0]["offerId"]})

    # Live events continue after the replay, with the next seq.
    nxt = await visitor.say("第五句")
    live = await again.expect("message", lambda e: e["message"]["id"] == nxt["messageId"])
    assert live["seq"] > target
    all_seqs = again.seqs
    assert all_seqs == list(range(last + 1, all_seqs[-1] + 1)), all_seqs


async def test_resume_with_the_latest_seq_replays_nothing(broker):
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    last = ana.last_seq
    await ana.close()
    again = await Agent.connect(broker, "ana", token("ana"), resume=last)
    assert again.welcome["lastSeq"] == last
    await again.set_presence("away")
    assert again.seqs == [last + 1], again.seen


async def test_bad_frames_get_errors_and_the_connection_stays(broker):
    ana = await Agent.connect(broker, "ana", token("ana"))
    for frame in ("this is not json", "[1,2,3]", '{"type":"no.such.thing"}', '{"type":"offer.accept"}',
                  '{"type":"message.send","conversationId":"c1","clientId":"x"}',
                  '{"type":"presence.set","status":"sleeping"}', '{"type":"history","conversationId":42}',
                  '{"no_type":true}'):
        await ana.send(frame)
        error = await ana.expect("error")
        assert error["code"] and error["message"], error
        await ana.ping()
    # A ref is echoed on the error of a frame that has one.
    answer = await ana.request({"type": "offer.accept"})
    assert answer["type"] == "error" and answer["code"] == "bad_request", answer
    # An unknown conversation is not_found, not a crash.
    answer = await ana.request({"type": "history", "conversationId": "c-does-not-exist"})
    assert answer["type"] == "error", answer
    await ana.ping()

    visitor = await Visitor.connect(broker)
    for frame in ("{{{", '{"type":"dance"}', '{"type":"message.send","clientId":"x"}'):
        await visitor.send(frame)
        error = await visitor.expect("error")
        assert error["code"] and error["message"], error
        await visitor.ping()


async def test_invalid_utf8_text_frame_is_closed_with_1007(broker):
    ana = await Agent.connect(broker, "ana", token("ana"))
    await ana.ws.send(b'{"type":"ping","x":"\xff\xfe"}', text=True)
    assert await ana.closed_with() == 1007

    visitor_ws = await open_socket(broker.ws_base + "/v1/visitor", VISITOR_PROTOCOL)
    visitor = Peer(visitor_ws, "visitor")
    await visitor_ws.send(b"\xc3\x28", text=True)
    assert await visitor.closed_with() == 1007


async def test_authentication_deadline_and_wrong_token_close_4401(start_broker, redis):
    broker = start_broker(redis, overrides={"limits": {"auth_timeout": "1s"}})
    silent = Peer(await open_socket(broker.ws_base + "/v1/agent", AGENT_PROTOCOL), "silent")
    assert await silent.closed_with(timeout=10) == 4401

    wrong = Peer(await open_socket(broker.ws_base + "/v1/agent", AGENT_PROTOCOL), "wrong token")
    await wrong.send({"type": "auth", "token": "not-a-token"})
    assert await wrong.closed_with() == 4401
    assert wrong.of_type("welcome") == []

    # Commands before auth are refused without a welcome.
    early = Peer(await open_socket(broker.ws_base + "/v1/agent", AGENT_PROTOCOL), "early")
    answer = await early.request({"type": "presence.set", "status": "available"})
    assert answer["type"] == "error", answer
    await early.send({"type": "auth", "token": token("bo")})
    assert (await early.expect("welcome"))["agent"]["id"] == "bo"


async def test_commands_pipelined_behind_auth_run_after_the_welcome(broker):
    peer = Peer(await open_socket(broker.ws_base + "/v1/agent", AGENT_PROTOCOL), "pipelined")
    await peer.send({"type": "auth", "token": token("ana")})
    await peer.send({"type": "presence.set", "status": "available", "ref": "p1"})
    await peer.send({"type": "ping", "ref": "p2"})
    welcome = await peer.expect("welcome")
    ack = await peer.expect("ack", lambda e: e.get("ref") == "p1")
    await peer.expect("pong", lambda e: e.get("ref") == "p2")
    kinds = [e["type"] for e in peer.seen]
    assert kinds.index("welcome") < kinds.index("ack"), kinds
    assert welcome["agent"]["id"] == "ana" and ack
    assert (await peer.expect("presence"))["status"] == "available"


async def test_oversized_ws_message_is_closed_with_1009(start_broker, redis):
    broker = start_broker(redis, overrides={"limits": {"max_ws_message_bytes": "4KiB"}})
    ana = await Agent.connect(broker, "ana", token("ana"))
    await ana.send({"type": "ping", "padding": "x" * 8192})
    assert await ana.closed_with() == 1009
