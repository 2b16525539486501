"""REST, metrics and process lifecycle (DESIGN §9 REST, §11, README operations)."""

import asyncio
import re
import signal
import subprocess

from clients import Agent, Visitor, texts
from harness import API_KEY, token, wait_until


async def test_metrics_after_traffic(broker, sink):
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    visitor = await Visitor.connect(broker)
    web_cid = (await visitor.say("你好"))["conversationId"]
    await ana.accept_offer(web_cid)
    assert (await asyncio.to_thread(broker.sms, "SM" + "f" * 32, "短信")).status_code == 200
    sms = await ana.accept_offer()
    sent = await ana.reply(sms["id"], "回复")
    await ana.expect("delivery", lambda e: e["messageId"] == sent["messageId"] and e["status"] == "sent")

    r = broker.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain"), r.headers
    text = r.text
    for name in ("switchboard_inbound_messages_total", "switchboard_queue_depth", "switchboard_agents",
                 "switchboard_offers_total", "switchboard_deliveries_total"):
        assert re.search(rf"^# TYPE {name} (counter|gauge)$", text, re.M), f"{name} has no TYPE line:\n{text}"
    assert broker.metric("switchboard_inbound_messages_total", 'channel="web"') == 1.0
    assert broker.metric("switchboard_inbound_messages_total", 'channel="sms-main"') == 1.0
    assert broker.metric("switchboard_deliveries_total", 'outcome="sent"') == 1.0
    assert broker.metric("switchboard_offers_total", 'outcome="made"') == 2.0
    assert broker.metric("switchboard_offers_total", 'outcome="accepted"') == 2.0
    assert broker.metric("switchboard_agents", 'presence="available"') == 1.0
    assert broker.metric("switchboard_queue_depth", 'skill="general"') == 0.0
    assert broker.metric("switchboard_ready") == 1.0


async def test_rest_requires_the_api_key(broker):
    for path in ("/v1/queues", "/v1/agents", "/v1/conversations/c1", "/v1/conversations/c1/messages"):
        for headers in ({}, {"Authorization": "Bearer wrong-key"}, {"Authorization": API_KEY}):
            r = broker.get(path, headers=headers)
            assert r.status_code == 401, (path, headers, r.status_code, r.text)
            assert r.json()["error"]["code"], r.text
    queues = broker.api_get("/v1/queues")
    assert queues.status_code == 200, queues.text
    agents = broker.api_get("/v1/agents")
    assert agents.status_code == 200, agents.text
    assert "ana" in agents.text and "token" not in agents.text.lower()
    missing = broker.api_get("/v1/conversations/c-no-such")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found", missing.text
    assert broker.get("/no/such/route").status_code == 404


async def test_rest_reply_reaches_the_visitor(broker):
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    visitor = await Visitor.connect(broker)
    cid = (await visitor.say("机器人在吗"))["conversationId"]
    await ana.accept_offer(cid)
    body = {"text": "我是机器人助手", "clientId": "bot-1"}
    headers = {"Authorization": f"Bearer {API_KEY}"}
    r = broker.post(f"/v1/conversations/{cid}/messages", json=body, headers=headers)
    assert r.status_code == 201, r.text
    first_id = r.json()["messageId"]
    assert texts([(await visitor.expect("message"))["message"]]) == ["我是机器人助手"]
    # The same clientId again is the same message, not a second one.
    again = broker.post(f"/v1/conversations/{cid}/messages", json=body, headers=headers)
    assert again.status_code == 200 and again.json() == {"messageId": first_id, "duplicate": True}, again.text
    assert texts(broker.messages(cid)) == ["机器人在吗", "我是机器人助手"]
    # Without the key, or not JSON: refused.
    assert broker.post(f"/v1/conversations/{cid}/messages", json=body).status_code == 401
    r = broker.post(f"/v1/conversations/{cid}/messages", data="text=hi", headers=headers)
    assert r.status_code == 415, r.text


async def test_sigterm_stops_the_broker_and_its_managed_redis(start_broker):
    broker = start_broker(None)
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    match = wait_until(lambda: re.search(r"pid=(\d+)", broker.log_path.read_text()),
                       "the managed redis-server's pid in the broker log")
    redis_pid = int(match.group(1))
    assert process_alive(redis_pid)

    broker.proc.send_signal(signal.SIGTERM)
    # The console is told the server is restarting (1012) so that it reconnects elsewhere.
    assert await ana.closed_with(timeout=10) == 1012
    try:
        status = await asyncio.to_thread(broker.proc.wait, 10)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the broker did not exit within 10 s of SIGTERM\n{broker.log_tail()}") from None
    assert status == 0, broker.log_tail()
    assert not process_alive(redis_pid), "the managed redis-server outlived the broker"
    assert "stopped" in broker.log_path.read_text()


def process_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


async def test_sigterm_stops_an_idle_broker_promptly(start_broker, redis):
    # Nothing connected, nothing happening: shutdown must not wait for a packet to wake the loop.
    broker = start_broker(redis)
    broker.proc.send_signal(signal.SIGTERM)
    try:
        status = await asyncio.to_thread(broker.proc.wait, 5)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"an idle broker did not exit within 5 s of SIGTERM\n{broker.log_tail()}") from None
    assert status == 0, broker.log_tail()
