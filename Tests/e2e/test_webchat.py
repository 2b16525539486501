"""Web chat end to end: a visitor on /v1/visitor reaches the agent with the right skill and free
capacity, and both sides talk (DESIGN §7 picking an agent, §9 both sockets)."""

from clients import Agent, Visitor, texts
from harness import token


async def test_visitor_reaches_the_skilled_agent_and_both_sides_talk(broker):
    # cy (complaints only) and dee (general, but no webchat capacity) are made available first, so
    # they are the longest idle: only the skill and the capacity rule keep the offer from them.
    cy = await Agent.connect(broker, "cy", token("cy"), available=True)
    dee = await Agent.connect(broker, "dee", token("dee"), available=True)
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)

    visitor = await Visitor.connect(broker, name="王女士")
    assert visitor.ready["visitorToken"], visitor.ready
    assert visitor.ready["history"] == []
    first = await visitor.say("你好")
    cid = first["conversationId"]

    offer = await ana.expect("offer", lambda e: e["conversation"]["id"] == cid)
    assert offer["conversation"]["channel"] == "web"
    assert offer["conversation"]["kind"] == "webchat"
    assert offer["conversation"]["skill"] == "general"
    assert offer["expiresAt"] > 0
    # An offered conversation may be read before accepting it.
    assert texts(await ana.history(cid)) == ["你好"]
    await ana.ok({"type": "offer.accept", "offerId": offer["offerId"]})
    assigned = await ana.expect("assigned", lambda e: e["conversation"]["id"] == cid)
    assert assigned["conversation"]["assignee"] == "ana"
    assert assigned["conversation"]["status"] == "assigned"

    joined = await visitor.expect("agent.joined")
    assert joined["name"] == "Ana"

    # agent -> visitor
    reply = await ana.reply(cid, "您好，请问有什么可以帮您？")
    got = await visitor.expect("message")
    assert got["message"]["id"] == reply["messageId"]
    assert texts([got["message"]]) == ["您好，请问有什么可以帮您？"]
    assert got["message"]["direction"] == "out"
    assert got["message"]["author"] == "agent"

    # visitor -> agent
    second = await visitor.say("我想咨询社保转移")
    event = await ana.expect("message", lambda e: e["message"]["id"] == second["messageId"])
    assert event["conversationId"] == cid
    assert texts([event["message"]]) == ["我想咨询社保转移"]
    assert event["message"]["direction"] == "in"
    assert event["message"]["author"] == "contact"

    history = await ana.history(cid)
    assert texts(history) == ["你好", "您好，请问有什么可以帮您？", "我想咨询社保转移"]
    assert [m["direction"] for m in history] == ["in", "out", "in"]
    assert [m["id"] for m in history] == [first["messageId"], reply["messageId"], second["messageId"]]
    assert all(m["conversationId"] == cid for m in history)
    # The REST view of the same conversation agrees.
    assert [m["id"] for m in broker.messages(cid)] == [m["id"] for m in history]
    assert broker.conversation(cid)["assignee"] == "ana"

    # Nobody else was offered it. Their presence change goes through the same pub/sub channel after
    # any offer would have, so once it is seen, an offer could not still be on its way.
    await cy.set_presence("away")
    await dee.set_presence("away")
    assert cy.of_type("offer") == [], cy.of_type("offer")
    assert dee.of_type("offer") == [], dee.of_type("offer")
    assert len([o for o in ana.of_type("offer") if o["conversation"]["id"] == cid]) == 1


async def test_returning_visitor_gets_history(broker):
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    visitor = await Visitor.connect(broker)
    first = await visitor.say("在吗？")
    conv = await ana.accept_offer(first["conversationId"])
    await ana.reply(conv["id"], "在的")
    await visitor.expect("message")
    saved_token = visitor.ready["visitorToken"]
    await visitor.close()

    again = await Visitor.connect(broker, token=saved_token)
    assert again.ready["conversationId"] == conv["id"]
    assert texts(again.ready["history"]) == ["在吗？", "在的"]
    # The assignee is still serving, and the visitor is told who.
    assert (await again.expect("agent.joined"))["name"] == "Ana"


async def test_typing_both_ways_and_leaving_after_assignment_does_not_abandon(broker):
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    visitor = await Visitor.connect(broker)
    cid = (await visitor.say("打字测试"))["conversationId"]
    await ana.accept_offer(cid)
    await visitor.expect("agent.joined")

    await visitor.send({"type": "typing"})
    typing = await ana.expect("typing")
    assert typing["conversationId"] == cid, typing
    await ana.send({"type": "typing", "conversationId": cid})
    await visitor.expect("typing")

    # Once an agent has it, a visitor closing the tab does not abandon it.
    await visitor.close()
    await ana.reply(cid, "还在吗？")
    assert broker.conversation(cid)["status"] == "assigned"
    await ana.ok({"type": "conversation.close", "conversationId": cid, "category": "业务咨询"})
    assert broker.conversation(cid)["status"] in ("wrapup", "closed")
    assert broker.conversation(cid).get("category") == "业务咨询"


async def test_a_transfer_tells_the_visitor_until_the_next_agent_joins(broker):
    # The widget used to show the first agent's name until the new one joined: the visitor was told
    # nothing of the transfer.
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    visitor = await Visitor.connect(broker)
    cid = (await visitor.say("我要办理退款"))["conversationId"]
    await ana.accept_offer(cid)
    assert (await visitor.expect("agent.joined"))["name"] == "Ana"
    bo = await Agent.connect(broker, "bo", token("bo"), available=True)
    await ana.ok({"type": "conversation.transfer", "conversationId": cid, "toAgent": "bo", "note": "退款流程"})

    transferring = await visitor.expect("conversation.transferring")
    # Who or which skill it went to, and the note, are internal.
    assert transferring == {"type": "conversation.transferring", "conversationId": cid}, transferring
    await bo.accept_offer(cid)
    assert (await visitor.expect("agent.joined", lambda e: e["name"] == "Bo"))["name"] == "Bo"
