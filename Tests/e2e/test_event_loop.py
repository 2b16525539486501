"""The event loop (docs/architecture.md §5.3): libev/epoll by default, lws' poll(2) loop when asked
for (SWITCHBOARD_EVENT_LOOP=poll) or when libwebsockets-evlib-ev is missing. Both must carry the
same traffic and fire the same timers (the broker's timers run on libev's own on the first)."""

import pytest

from clients import AGENT_PROTOCOL, Agent, Peer, Visitor, open_socket, texts
from harness import token


@pytest.mark.parametrize("loop", ["epoll", "poll"])
async def test_each_event_loop_carries_a_conversation_and_fires_timers(start_broker, redis, loop):
    env = {"SWITCHBOARD_EVENT_LOOP": "poll"} if loop == "poll" else {}
    broker = start_broker(redis, overrides={"limits": {"auth_timeout": "1s"}}, env=env)
    log = broker.log_path.read_text()
    if loop == "poll":
        assert "event_loop=poll" in log and "SWITCHBOARD_EVENT_LOOP=poll asks" in log, log
    else:
        assert "event_loop=epoll (libev)" in log, log
    assert "libev event loop is unavailable" not in log

    # A timer: the authentication deadline closes a silent console with 4401.
    silent = Peer(await open_socket(broker.ws_base + "/v1/agent", AGENT_PROTOCOL), "silent")
    assert await silent.closed_with(timeout=10) == 4401

    # Traffic both ways, with the offer made by the sweeper's timer and Redis on the loop.
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    visitor = await Visitor.connect(broker)
    first = await visitor.say("路灯坏了")
    cid = (await ana.accept_offer(first["conversationId"]))["id"]
    await ana.reply(cid, "已登记")
    got = await visitor.expect("message")
    assert texts([got["message"]]) == ["已登记"]
    assert texts(await ana.history(cid)) == ["路灯坏了", "已登记"]
