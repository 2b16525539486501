"""Routing seen from the outside (DESIGN §7): reject and timeout move an offer on, not back within
routing.reoffer_after (the Swift router tests drive the cooldown's end with a fake clock),
a visitor who leaves while waiting abandons, capacity frees on close."""

import asyncio

from clients import Agent, Visitor, texts
from harness import token, wait_until


def status_becomes(broker, cid: str, status: str):
    return wait_until(lambda: broker.conversation(cid)["status"] == status,
                      f"conversation {cid} to become {status}",
                      detail=lambda: f"it is {broker.conversation(cid)}")


async def test_rejected_offer_goes_to_the_next_agent_not_back(broker):
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    bo = await Agent.connect(broker, "bo", token("bo"), available=True)
    visitor = await Visitor.connect(broker)
    cid = (await visitor.say("有人吗"))["conversationId"]

    # ana has been idle longest, so she is offered it first.
    first = await ana.expect("offer", lambda e: e["conversation"]["id"] == cid)
    await ana.ok({"type": "offer.reject", "offerId": first["offerId"], "reason": "正忙"})
    second = await bo.expect("offer", lambda e: e["conversation"]["id"] == cid)
    assert second["offerId"] != first["offerId"]
    await bo.ok({"type": "offer.reject", "offerId": second["offerId"]})

    # Both declined and both are still available with free capacity: it waits in the queue.
    await asyncio.to_thread(status_becomes, broker, cid, "queued")
    queues = broker.api_get("/v1/queues")
    assert queues.status_code == 200, queues.text
    # Presence changes go through the same pub/sub channel after any offer would have.
    await ana.set_presence("away")
    await bo.set_presence("away")
    assert len([o for o in ana.of_type("offer") if o["conversation"]["id"] == cid]) == 1
    assert len([o for o in bo.of_type("offer") if o["conversation"]["id"] == cid]) == 1
    # Coming back within the cooldown (30 s) does not bring it back either …
    await ana.set_presence("available")
    await ana.set_presence("away")
    assert len([o for o in ana.of_type("offer") if o["conversation"]["id"] == cid]) == 1
    # … while an agent who never declined it gets it at once when she becomes available.
    eve = await Agent.connect(broker, "eve", token("eve"), available=True)
    conv = await eve.accept_offer(cid)
    assert conv["assignee"] == "eve"
    assert (await visitor.expect("agent.joined"))["name"] == "Eve"


async def test_offer_timeout_moves_the_offer_to_the_next_agent(start_broker, redis):
    broker = start_broker(redis, overrides={"routing": {"offer_timeout": "1s", "offer_missed_limit": 1}})
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    bo = await Agent.connect(broker, "bo", token("bo"), available=True)
    visitor = await Visitor.connect(broker)
    cid = (await visitor.say("等了好久"))["conversationId"]

    first = await ana.expect("offer", lambda e: e["conversation"]["id"] == cid)
    # ana lets it ring out.
    rescinded = await ana.expect("offer.rescinded", lambda e: e["offerId"] == first["offerId"], timeout=10)
    assert rescinded["reason"] == "timeout"
    assert rescinded.get("next") == "agent", rescinded   # the toast may say "passed to another agent"
    # One miss is the limit here: ana is set away(missed).
    presence = await ana.expect("presence", lambda e: e["status"] == "away")
    assert presence.get("reason") == "missed", presence
    conv = await bo.accept_offer(cid, timeout=10)
    assert conv["assignee"] == "bo"
    # Accepting the expired offer is refused.
    late = await ana.request({"type": "offer.accept", "offerId": first["offerId"]})
    assert late["type"] == "error", late
    assert broker.conversation(cid)["assignee"] == "bo"
    assert broker.metric("switchboard_offers_total", 'outcome="timeout"') == 1.0


async def test_visitor_leaving_while_queued_abandons_the_conversation(broker):
    visitor = await Visitor.connect(broker)
    ack = await visitor.say("没有人在吗")
    cid = ack["conversationId"]
    # Nobody is available: the visitor waits, first in line (position 1 is next, as the widget reads it).
    queue = await visitor.expect("queue")
    assert queue["position"] == 1, queue
    assert queue["estimatedWaitSeconds"] > 0, queue
    behind = await Visitor.connect(broker)
    behind_cid = (await behind.say("我也在等"))["conversationId"]
    assert (await behind.expect("queue"))["position"] == 2
    assert broker.conversation(cid)["status"] == "queued"

    await visitor.close()
    await asyncio.to_thread(status_becomes, broker, cid, "abandoned")
    assert broker.metric("switchboard_conversations_total", 'event="abandoned"') == 1.0
    # The one behind moves up (the broker refreshes queue positions every few seconds).
    assert (await behind.expect("queue", timeout=10))["position"] == 1

    # Nobody is offered an abandoned conversation; the one still waiting is offered.
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    await ana.accept_offer(behind_cid)
    await ana.set_presence("away")
    assert [o["conversation"]["id"] for o in ana.of_type("offer")] == [behind_cid]


async def test_closing_frees_capacity_and_the_next_waiting_conversation_is_offered(start_broker, redis):
    broker = start_broker(redis, overrides={"routing": {"wrapup_seconds": "0s"}})
    dee = await Agent.connect(broker, "dee", token("dee"), available=True)   # sms capacity 1
    assert (await asyncio.to_thread(broker.sms, "SM" + "1" * 32, "第一位", "+8613800000001")).status_code == 200
    first = await dee.accept_offer()
    assert (await asyncio.to_thread(broker.sms, "SM" + "2" * 32, "第二位", "+8613800000002")).status_code == 200
    # dee is full (sms capacity 1): the second one waits.
    await asyncio.to_thread(wait_until, lambda: any_queued(broker), "the second conversation to wait in the queue")
    await dee.ok({"type": "conversation.close", "conversationId": first["id"], "category": "业务咨询"})
    updated = await dee.expect("conversation.updated", lambda e: e["conversation"]["id"] == first["id"])
    assert updated["conversation"]["status"] in ("wrapup", "closed")
    assert updated["conversation"].get("category") == "业务咨询"
    offer = await dee.expect("offer")
    second_cid = offer["conversation"]["id"]
    assert second_cid != first["id"]
    assert offer["conversation"]["contact"]["address"] == "+8613800000002"
    assert broker.conversation(first["id"])["status"] == "closed"


def any_queued(broker) -> bool:
    text = broker.metrics()
    return any(line.startswith('switchboard_queue_depth{skill="general"} ') and not line.endswith(" 0")
               for line in text.splitlines())


async def test_visitor_leaving_while_offered_rescinds_the_offer(broker):
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    visitor = await Visitor.connect(broker)
    cid = (await visitor.say("算了不等了"))["conversationId"]
    offer = await ana.expect("offer", lambda e: e["conversation"]["id"] == cid)
    await visitor.close()
    rescinded = await ana.expect("offer.rescinded", lambda e: e["offerId"] == offer["offerId"])
    assert rescinded["reason"] == "abandoned"
    assert broker.conversation(cid)["status"] == "abandoned"
    late = await ana.request({"type": "offer.accept", "offerId": offer["offerId"]})
    assert late["type"] == "error", late


async def test_transfer_to_another_agent(broker):
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    bo = await Agent.connect(broker, "bo", token("bo"), available=True)
    visitor = await Visitor.connect(broker)
    cid = (await visitor.say("我要投诉"))["conversationId"]
    offer = await ana.expect("offer", lambda e: e["conversation"]["id"] == cid)
    await ana.ok({"type": "offer.accept", "offerId": offer["offerId"]})
    await ana.ok({"type": "conversation.transfer", "conversationId": cid, "toAgent": "bo", "note": "请李强处理"})
    conv = await bo.accept_offer(cid)
    assert conv["assignee"] == "bo"
    assert broker.conversation(cid)["assignee"] == "bo"
    # The previous assignee no longer acts on it.
    answer = await ana.request({"type": "message.send", "conversationId": cid, "text": "还是我", "clientId": "t1"})
    assert answer["type"] == "error" and answer["code"] == "forbidden", answer
    await bo.reply(cid, "您好，我接手了")
    got = await visitor.expect("message")
    assert got["message"]["authorId"] == "bo" and texts([got["message"]]) == ["您好，我接手了"], got
