"""SMS end to end (DESIGN §10): Twilio-signed webhooks signed by the real `twilio` library, an agent
answering, the reply leaving through the outbox to a local gateway sink, delivery callbacks; and
every kind of bad input refused with a JSON error and nothing stored."""

import asyncio
import json

from clients import Agent, texts
from harness import SMS_FROM, TWILIO_AUTH_TOKEN, basic_auth, token

CITIZEN = "+8613800138000"


def sid(n: int) -> str:
    return f"SM{n:032x}"


def assert_json_error(response, status: int, code: str | None = None):
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"].get("code"), str) and body["error"]["code"], body
    assert isinstance(body["error"].get("message"), str) and body["error"]["message"], body
    if code:
        assert body["error"]["code"] == code, body


async def post(fn, *args, **kw):
    return await asyncio.to_thread(fn, *args, **kw)


async def test_signed_sms_reaches_agent_and_reply_goes_out_through_the_gateway(broker, sink):
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)

    r = await post(broker.sms, sid(1), "你好，我的快递三天没到", CITIZEN)
    assert r.status_code == 200, r.text
    assert "xml" in r.headers["Content-Type"]
    assert "<Response" in r.text

    conv = await ana.accept_offer()
    cid = conv["id"]
    assert conv["channel"] == "sms-main" and conv["kind"] == "sms"
    assert conv["contact"]["address"] == CITIZEN
    assert texts(await ana.history(cid)) == ["你好，我的快递三天没到"]

    sent = await ana.reply(cid, "您好，已为您登记，单号稍后短信告知。")
    mid = sent["messageId"]

    request = (await post(sink.wait_for, 1))[0]
    assert request.path == "/2010-04-01/Accounts/AC1/Messages.json"
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert request.headers["authorization"] == basic_auth("AC1", TWILIO_AUTH_TOKEN)
    assert request.headers.get("i-twilio-idempotency-token"), request.headers
    assert request.form["To"] == [CITIZEN]
    assert request.form["From"] == [SMS_FROM]
    assert request.form["Body"] == ["您好，已为您登记，单号稍后短信告知。"]
    assert request.form["StatusCallback"] == [broker.sms_status_url]

    delivery = await ana.expect("delivery", lambda e: e["messageId"] == mid and e["status"] == "sent")
    assert delivery["conversationId"] == cid

    provider_sid = sink.sids[0]
    r = await post(broker.sms_status, provider_sid, "delivered")
    assert r.status_code == 200, r.text
    await ana.expect("delivery", lambda e: e["messageId"] == mid and e["status"] == "delivered")
    assert status_of(broker, cid, mid) == "delivered"

    # A late `sent` callback must not move the status backwards …
    r = await post(broker.sms_status, provider_sid, "sent")
    assert r.status_code == 200, r.text
    assert status_of(broker, cid, mid) == "delivered"
    # … and gives the agent no event: a later forward move (read) is the next delivery event.
    r = await post(broker.sms_status, provider_sid, "read")
    assert r.status_code == 200, r.text
    await ana.expect("delivery", lambda e: e["messageId"] == mid and e["status"] == "read")
    assert [e["status"] for e in ana.of_type("delivery") if e["messageId"] == mid] == ["sent", "delivered", "read"]
    assert status_of(broker, cid, mid) == "read"
    assert [m["status"] for m in await ana.history(cid) if m["id"] == mid] == ["read"]

    # Sent exactly once.
    assert len(sink.requests) == 1


def status_of(broker, conversation_id: str, message_id: str) -> str:
    found = [m for m in broker.messages(conversation_id) if m["id"] == message_id]
    assert len(found) == 1, found
    return found[0]["status"]


async def test_failing_gateway_is_retried_then_reported_failed(start_broker, redis, sink):
    broker = start_broker(redis, overrides={"outbox": {"max_attempts": 2, "initial_backoff": "100ms", "max_backoff": "200ms"}})
    sink.fail_with = 503
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    assert (await post(broker.sms, sid(50), "喂？")).status_code == 200
    conv = await ana.accept_offer()
    sent = await ana.reply(conv["id"], "请讲")
    failed = await ana.expect("delivery", lambda e: e["messageId"] == sent["messageId"] and e["status"] == "failed",
                              timeout=10)
    assert "503" in failed.get("error", ""), failed
    assert len(sink.requests) == 2   # max_attempts
    assert [e["status"] for e in ana.of_type("delivery")] == ["failed"]
    assert status_of(broker, conv["id"], sent["messageId"]) == "failed"


async def test_gateway_error_is_retried_with_the_same_idempotency_token(start_broker, redis, sink):
    broker = start_broker(redis, overrides={"outbox": {"max_attempts": 3, "initial_backoff": "100ms", "max_backoff": "200ms"}})
    sink.fail_with, sink.fail_times = 500, 1
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    assert (await post(broker.sms, sid(60), "重试测试")).status_code == 200
    conv = await ana.accept_offer()
    sent = await ana.reply(conv["id"], "第二次会成功")
    await ana.expect("delivery", lambda e: e["messageId"] == sent["messageId"] and e["status"] == "sent", timeout=10)
    first, second = sink.requests
    assert first.form == second.form
    assert first.headers["i-twilio-idempotency-token"] == second.headers["i-twilio-idempotency-token"]
    assert [e["status"] for e in ana.of_type("delivery")] == ["sent"]
    assert status_of(broker, conv["id"], sent["messageId"]) == "sent"


async def test_bad_webhooks_get_json_errors_and_store_nothing(start_broker, redis, sink):
    broker = start_broker(redis, overrides={"limits": {"max_body_bytes": "2KiB"}})
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)

    # Tampered: signed, then the body changed in transit.
    params = broker.sms_params(sid(2), "原文")
    from twilio.request_validator import RequestValidator
    signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(broker.sms_url, params)
    tampered = dict(params, Body="篡改后的内容")
    r = await post(broker.post_twilio, broker.sms_url, tampered, signature=signature)
    assert_json_error(r, 403)
    # Signed with the wrong auth token.
    wrong = RequestValidator("not-the-auth-token").compute_signature(broker.sms_url, params)
    assert_json_error(await post(broker.post_twilio, broker.sms_url, params, signature=wrong), 403)
    # Signed for another URL (public_url is what Twilio signs).
    other = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(broker.sms_url + "x", params)
    assert_json_error(await post(broker.post_twilio, broker.sms_url, params, signature=other), 403)
    # No signature at all.
    assert_json_error(await post(broker.post, "/v1/channels/sms-main/twilio", data=params), 403)

    # Unknown channel, unknown sub-path.
    assert_json_error(await post(broker.post_twilio, broker.base + "/v1/channels/nope/twilio", params), 404)
    assert_json_error(await post(broker.post_twilio, broker.sms_url + "/other", params), 404)
    # Wrong content type: the same fields as JSON.
    r = await post(broker.post, "/v1/channels/sms-main/twilio", data=json.dumps(params),
                   headers={"Content-Type": "application/json", "X-Twilio-Signature": signature})
    assert_json_error(r, 415)
    # Larger than limits.max_body_bytes (2 KiB).
    big = broker.sms_params(sid(3), "长" * 3000)
    assert_json_error(await post(broker.sms, sid(3), "长" * 3000), 413)
    del big
    # Malformed: validly signed, but no From.
    no_from = broker.sms_params(sid(4), "没有号码")
    del no_from["From"]
    assert_json_error(await post(broker.post_twilio, broker.sms_url, no_from), 400)

    # Nothing of that was stored or routed: no inbound counted, nothing enqueued, no offer. Then a
    # good webhook goes through, opens the first conversation, and holds only its own message.
    assert broker.metric("switchboard_inbound_messages_total", 'channel="sms-main"') in (None, 0.0)
    assert broker.metric("switchboard_conversations_total", 'event="enqueued"') == 0.0
    assert (await post(broker.sms, sid(5), "正常短信")).status_code == 200
    offer = await ana.expect("offer")
    assert texts(await ana.history(offer["conversation"]["id"])) == ["正常短信"]
    assert len(ana.of_type("offer")) == 1
    assert broker.metric("switchboard_conversations_total", 'event="enqueued"') == 1.0
    assert broker.metric("switchboard_inbound_messages_total", 'channel="sms-main"') == 1.0


async def test_same_message_sid_twice_is_stored_once(broker):
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)

    # A retried webhook before anyone took the conversation: one conversation, one message, one offer.
    for _ in range(2):
        r = await post(broker.sms, sid(10), "第一条")
        assert r.status_code == 200, r.text
    conv = await ana.accept_offer()
    cid = conv["id"]
    assert texts(await ana.history(cid)) == ["第一条"]

    # A retried webhook on the assigned conversation: one `message` event, one stored message.
    for _ in range(2):
        r = await post(broker.sms, sid(11), "第二条")
        assert r.status_code == 200, r.text
    # A later, different message arrives after any copy would have (same event stream, seq order).
    assert (await post(broker.sms, sid(12), "第三条")).status_code == 200
    await ana.expect("message", lambda e: texts([e["message"]]) == ["第三条"])

    assert texts(await ana.history(cid)) == ["第一条", "第二条", "第三条"]
    assert texts(broker.messages(cid)) == ["第一条", "第二条", "第三条"]
    assert [texts([e["message"]])[0] for e in ana.of_type("message")] == ["第二条", "第三条"]
    assert len(ana.of_type("offer")) == 1
    assert [m["externalId"] for m in broker.messages(cid)] == [sid(10), sid(11), sid(12)]
    seqs = ana.seqs
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"events skipped or repeated: {seqs}"


async def test_signature_covers_the_configured_public_url_and_the_query(start_broker, redis):
    # Behind a proxy Twilio signs the public URL, not the address the broker listens on.
    public = "https://sms.example.org/hooks/v1/channels/sms-main/twilio"
    broker = start_broker(redis, overrides={"channels": [
        {"id": "web", "kind": "webchat", "skill": "general"},
        {"id": "sms-main", "kind": "sms", "provider": "twilio", "auth_token": TWILIO_AUTH_TOKEN,
         "public_url": public, "skill": "general"},
    ]})
    from twilio.request_validator import RequestValidator
    validator = RequestValidator(TWILIO_AUTH_TOKEN)
    params = broker.sms_params(sid(70), "代理后面")
    # Signed over the listening URL: refused.
    assert_json_error(await post(broker.sms, sid(70), "代理后面"), 403)
    # Signed over the public URL: accepted.
    r = await post(broker.post_twilio, broker.sms_url, params, signature=validator.compute_signature(public, params))
    assert r.status_code == 200, r.text
    # A query string configured at Twilio is part of what it signs.
    params = broker.sms_params(sid(71), "带参数")
    r = await post(broker.post_twilio, broker.sms_url + "?tenant=12345", params,
                   signature=validator.compute_signature(public + "?tenant=12345", params))
    assert r.status_code == 200, r.text
    r = await post(broker.post_twilio, broker.sms_url + "?tenant=99999", params,
                   signature=validator.compute_signature(public + "?tenant=12345", params))
    assert_json_error(r, 403)
    # Both were stored: one conversation (same sender), two messages.
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    conv = await ana.accept_offer()
    assert texts(await ana.history(conv["id"])) == ["代理后面", "带参数"]
