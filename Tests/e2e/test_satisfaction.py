"""Satisfaction ratings from the web widget (DESIGN §16): a rating is tied to the conversation its
card was made for, never to "whatever conversation is current"; once per conversation; only the
visitor's own, closed conversations."""

from clients import Agent, Visitor
from harness import RespClient, token


def csat_of(redis, cid: str):
    with RespClient(redis.url) as r:
        return r.command("HGET", f"sb:conv:{{{cid}}}", "csat")


async def closed_then_new(broker):
    """The reported scenario: ana serves and closes a chat, the rating card stays in the widget, the
    visitor starts a new chat which bo takes. Returns (visitor, closed id, open id)."""
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    visitor = await Visitor.connect(broker)
    first = (await visitor.say("我的快递丢了"))["conversationId"]
    await ana.accept_offer(first)
    await visitor.expect("agent.joined")
    await ana.ok({"type": "conversation.close", "conversationId": first})
    closed = await visitor.expect("conversation.closed")
    request = await visitor.expect("csat.request")
    # The card knows which conversation it rates.
    assert closed.get("conversationId") == first, closed
    assert request.get("conversationId") == first, request

    await ana.set_presence("away")
    bo = await Agent.connect(broker, "bo", token("bo"), available=True)
    second = (await visitor.say("还有一个问题"))["conversationId"]
    assert second != first
    assert (await bo.accept_offer(second))["assignee"] == "bo"
    return visitor, first, second


async def test_the_rating_lands_on_the_closed_conversation_not_the_new_one(broker, redis):
    visitor, first, second = await closed_then_new(broker)

    # 4 stars on the card of the first chat, while the second one is open.
    ack = await visitor.ok({"type": "csat", "rating": 4, "conversationId": first})
    assert ack.get("conversationId") == first, ack
    assert csat_of(redis, first) == b"4"
    assert csat_of(redis, second) is None

    # Once per conversation: rating it again is refused.
    again = await visitor.request({"type": "csat", "rating": 1, "conversationId": first})
    assert again["type"] == "error" and again["code"] == "conflict", again
    # The open conversation cannot be rated.
    open_one = await visitor.request({"type": "csat", "rating": 5, "conversationId": second})
    assert open_one["type"] == "error" and open_one["code"] == "conflict", open_one
    assert csat_of(redis, first) == b"4"
    assert csat_of(redis, second) is None

    # Someone else's conversation is refused.
    stranger = await Visitor.connect(broker)
    await stranger.say("你好")
    other = await stranger.request({"type": "csat", "rating": 1, "conversationId": first})
    assert other["type"] == "error" and other["code"] == "not_found", other
    assert csat_of(redis, first) == b"4"


async def test_a_rating_without_a_conversation_id_rates_the_closed_one(broker, redis):
    # What an older widget sends: no id. It used to land on the conversation open now.
    visitor, first, second = await closed_then_new(broker)
    ack = await visitor.ok({"type": "csat", "rating": 4})
    assert ack.get("conversationId") == first, ack
    assert csat_of(redis, first) == b"4"
    assert csat_of(redis, second) is None
