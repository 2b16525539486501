"""Phone calls end to end (issue 10): Twilio Voice webhooks signed by the real `twilio` library, a
call offered to an agent for voice_offer_timeout, the caller moved to the agent, talk time kept,
abandons counted (short ones apart), voicemail as a call-back task; a PBX's signed JSON events;
forged and malformed callbacks refused with nothing stored."""

import asyncio
import hashlib
import hmac
import json
import time
import xml.etree.ElementTree as ET

from clients import Agent
from harness import AGENTS, RespClient, TWILIO_AUTH_TOKEN, basic_auth, sha256_hex, token

CALLER = "+8613800138000"
HOTLINE = "+8612345000"
VIC_PHONE = "+8613900000001"
PBX_SECRET = "e2e-pbx-secret"


def voice_overrides(sink, **channel) -> dict:
    agents = [{"id": aid, "name": aid.capitalize(), "role": role, "token_sha256": sha256_hex(tok), "skills": skills, "capacity": cap}
              for aid, (tok, skills, cap, role) in AGENTS.items() if aid == "ana"]
    tok, skills, cap, role = AGENTS["cy"]   # the complaints agent, on the phone too
    agents.append({"id": "cy", "name": "Cy", "role": role, "token_sha256": sha256_hex(tok), "skills": skills,
                   "capacity": {**cap, "voice": 1}, "phone": "+8613900000003"})
    agents.append({"id": "vic", "name": "Vic", "token_sha256": sha256_hex("tok-vic-0009"), "skills": {"general": 5},
                   "capacity": {"voice": 1, "webchat": 2}, "phone": VIC_PHONE})
    agents.append({"id": "wu", "name": "Wu", "token_sha256": sha256_hex("tok-wu-0010"), "skills": {"general": 5},
                   "capacity": {"voice": 1}, "sip": "sip:1010@pbx.example"})
    return {
        "agents": agents,
        "channels": [
            {"id": "web", "kind": "webchat", "skill": "general"},
            {"id": "hotline", "kind": "voice", "provider": "twilio", "skill": "general", "account_sid": "AC1",
             "auth_token": TWILIO_AUTH_TOKEN, "public_url": "{base}/v1/channels/hotline/twilio", "api_base": f"http://127.0.0.1:{sink.port}",
             "greeting": "您好，欢迎致电12345热线。", "voice_offer_timeout": "15s", "voicemail_after": "60s", **channel},
            {"id": "pbx", "kind": "voice", "provider": "generic", "skill": "general", "hmac_secret": PBX_SECRET,
             "control_url": f"http://127.0.0.1:{sink.port}/control"},
        ],
    }


def call_sid(n: int) -> str:
    return f"CA{n:032x}"


class Twilio:
    """What Twilio sends a voice channel: each callback to the URL the broker's TwiML named."""

    def __init__(self, broker, sid: str):
        self.broker, self.sid = broker, sid
        self.base = f"{broker.base}/v1/channels/hotline/twilio"
        self.sequence = 0

    def post(self, suffix: str, **params):
        url = self.base + suffix
        form = {"CallSid": self.sid, "AccountSid": "AC1", "From": CALLER, "To": HOTLINE, "Direction": "inbound",
                "ApiVersion": "2010-04-01", **params}
        return self.broker.post_twilio(url, form)

    def status(self, status: str, **params):
        self.sequence += 1
        return self.post("/status", CallStatus=status, SequenceNumber=str(self.sequence), **params)

    def agent_leg(self, status: str, sequence: int, **params):
        url = self.base + "/status?leg=agent"
        form = {"CallSid": "CB" + self.sid[2:], "ParentCallSid": self.sid, "AccountSid": "AC1", "From": HOTLINE, "To": VIC_PHONE,
                "CallStatus": status, "SequenceNumber": str(sequence), **params}
        return self.broker.post_twilio(url, form)


def twiml(response) -> list[ET.Element]:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/xml"), response.headers
    root = ET.fromstring(response.content)
    assert root.tag == "Response", response.text
    return list(root.iter())[1:]


def tags(response) -> list[str]:
    return [e.tag for e in twiml(response)]


def conv_field(broker, conv: str, field: str) -> str | None:
    with RespClient(broker.redis_url) as r:
        value = r.command("HGET", f"sb:conv:{{{conv}}}", field)
    return value.decode() if value is not None else None


async def post(fn, *args, **kw):
    return await asyncio.to_thread(fn, *args, **kw)


async def test_a_call_rings_an_agent_moves_the_caller_to_the_agent_and_closes_with_its_talk_time(start_broker, redis, sink):
    broker = start_broker(redis, overrides=voice_overrides(sink))
    vic = await Agent.connect(broker, "vic", "tok-vic-0009", available=True)
    call = Twilio(broker, call_sid(1))

    answer = await post(call.post, "", CallStatus="ringing")
    elements = twiml(answer)
    assert [e.tag for e in elements] == ["Say", "Enqueue"], answer.text
    assert elements[0].text == "您好，欢迎致电12345热线。" and elements[0].get("language") == "zh-CN"
    assert elements[1].text == call.sid, "each call waits in its own Twilio queue"
    assert elements[1].get("waitUrl") == call.base + "/wait"

    offered_at = time.time()
    offer = await vic.expect("offer")
    conv = offer["conversation"]
    assert conv["kind"] == "voice" and conv["channel"] == "hotline"
    assert conv["call"]["id"] == call.sid
    assert 13 <= offer["expiresAt"] / 1000 - offered_at <= 16, "voice_offer_timeout 15 s, not the broker's 20 s"

    # Ringing: Twilio asks what to play; the caller is not in the queue any more (offered).
    assert "Pause" in tags(await post(call.post, "/wait", QueueTime="5", QueuePosition="1"))

    await vic.ok({"type": "offer.accept", "offerId": offer["offerId"]})
    await vic.expect("assigned", lambda e: e["conversation"]["id"] == conv["id"])
    # The acceptance sends Twilio "update call" with the <Dial> to the agent's phone, once.
    update = (await post(sink.wait_for, 1))[0]
    assert update.path == f"/2010-04-01/Accounts/AC1/Calls/{call.sid}.json"
    assert update.headers["authorization"] == basic_auth("AC1", TWILIO_AUTH_TOKEN)
    dial = list(ET.fromstring(update.form["Twiml"][0]).iter())[1:]
    assert [e.tag for e in dial] == ["Dial", "Number"], update.form
    assert dial[1].text == VIC_PHONE
    assert dial[1].get("statusCallback") == call.base + "/status?leg=agent"
    bridge = await vic.expect("delivery", lambda e: e["conversationId"] == conv["id"] and e["status"] == "sent")
    # Twilio has moved the caller: the queue's action reports it, nothing more to do.
    assert tags(await post(call.post, "/queue", QueueResult="redirected", QueueTime="10")) == []

    assert tags(await post(call.agent_leg, "in-progress", 0)) == []
    assert tags(await post(call.agent_leg, "completed", 1, CallDuration="42")) == []
    assert tags(await post(call.status, "completed", CallDuration="60")) == []
    closed = await vic.expect("conversation.updated", lambda e: e["conversation"]["status"] in ("wrapup", "closed"))
    assert closed["conversation"]["call"]["talkSeconds"] == 42
    assert conv_field(broker, conv["id"], "talkSeconds") == "42"
    # Twilio retries the same status callback: nothing twice.
    call.sequence -= 1
    assert tags(await post(call.status, "completed", CallDuration="60")) == []
    messages = broker.messages(conv["id"])
    assert [m["parts"][0].get("event") for m in messages] == ["incoming", "bridge", "completed"], messages
    assert [m["id"] for m in messages if m["parts"][0].get("event") == "bridge"] == [bridge["messageId"]]
    assert len(sink.requests) == 1, "the bridge was sent once"
    def calls(event):
        return broker.metric("switchboard_calls_total", f'channel="hotline",event="{event}"')
    assert (calls("offered"), calls("answered"), calls("answered_15s"), calls("abandoned"), calls("connected")) == (1, 1, 1, 0, 1)
    assert broker.metric("switchboard_call_talk_seconds_total", 'channel="hotline"') == 42
    assert broker.metric("switchboard_call_answer_seconds_total", 'channel="hotline"') < 15
    assert broker.conversation(conv["id"])["call"]["answerSeconds"] < 15


async def test_a_lost_update_is_recovered_by_the_next_wait_request(start_broker, redis, sink):
    broker = start_broker(redis, overrides=voice_overrides(sink))
    sink.fail_with = 503   # Twilio's answer to the update is lost: unknown whether it acted
    vic = await Agent.connect(broker, "vic", "tok-vic-0009", available=True)
    call = Twilio(broker, call_sid(5))
    twiml(await post(call.post, "", CallStatus="ringing"))
    await vic.accept_offer()
    await post(sink.wait_for, 1)
    # Not resent (a second <Dial> would ring the agent again); the caller still on hold is moved
    # by the next wait request: leave the queue, and the queue's action dials.
    assert tags(await post(call.post, "/wait", QueueTime="9")) == ["Leave"]
    dial = twiml(await post(call.post, "/queue", QueueResult="leave", QueueTime="10"))
    assert [e.tag for e in dial] == ["Dial", "Number"] and dial[1].text == VIC_PHONE
    await asyncio.sleep(1.5)
    assert len(sink.requests) == 1


async def test_an_agent_who_does_not_pick_up_loses_the_call_to_the_next_agent(start_broker, redis, sink):
    broker = start_broker(redis, overrides=voice_overrides(sink))
    vic = await Agent.connect(broker, "vic", "tok-vic-0009", available=True)
    call = Twilio(broker, call_sid(10))
    twiml(await post(call.post, "", CallStatus="ringing"))
    conv = await vic.accept_offer()
    update = (await post(sink.wait_for, 1))[0]
    dial = ET.fromstring(update.form["Twiml"][0]).find("Dial")
    assert dial.get("action") == call.base + "/dial"
    wu = await Agent.connect(broker, "wu", "tok-wu-0010", available=True)
    # Vic's phone rang 20 s unanswered: Twilio asks the Dial's action what next.
    back = twiml(await post(call.post, "/dial", DialCallStatus="no-answer", DialCallSid="CB" + "0" * 32))
    assert [e.tag for e in back] == ["Enqueue"] and back[0].text == call.sid, [e.tag for e in back]
    taken = await wu.accept_offer(conv["id"])
    assert taken["assignee"] == "wu"
    gone = await vic.expect("conversation.updated", lambda e: e["conversation"]["id"] == conv["id"])
    assert gone["conversation"].get("assignee") != "vic"
    assert broker.metric("switchboard_calls_total", 'channel="hotline",event="agent_missed"') == 1


async def test_a_caller_gone_before_the_bridge_tells_the_agent_plainly(start_broker, redis, sink):
    broker = start_broker(redis, overrides=voice_overrides(sink))
    sink.fail_with = 404   # Twilio: no such call in progress (the caller hung up as the agent accepted)
    vic = await Agent.connect(broker, "vic", "tok-vic-0009", available=True)
    call = Twilio(broker, call_sid(6))
    twiml(await post(call.post, "", CallStatus="ringing"))
    conv = await vic.accept_offer()
    failed = await vic.expect("delivery", lambda e: e["conversationId"] == conv["id"] and e["status"] == "failed")
    assert failed["hint"] == "来电者已挂机，通话未能接通。", failed
    # The offer became an abandon: the agent is free, the call counted as abandoned.
    gone = await vic.expect("conversation.updated", lambda e: e["conversation"]["status"] == "abandoned")
    assert gone["conversation"]["call"]["connected"] is False
    assert tags(await post(call.status, "completed", CallDuration="20")) == []
    assert broker.metric("switchboard_calls_total", 'channel="hotline",event="abandoned"') == 1


async def test_a_caller_who_hangs_up_in_the_queue_is_an_abandon_and_under_five_seconds_a_short_one(start_broker, redis, sink):
    broker = start_broker(redis, overrides=voice_overrides(sink))
    # Logged in but away: calls queue (nobody logged in would be voicemail).
    vic = await Agent.connect(broker, "vic", "tok-vic-0009", available=False)
    await vic.set_presence("away")
    call = Twilio(broker, call_sid(2))
    assert tags(await post(call.post, "", CallStatus="ringing")) == ["Say", "Enqueue"]
    wait = twiml(await post(call.post, "/wait", QueueTime="2"))
    assert wait[0].tag == "Say" and wait[0].text == "您是下一位，请稍候。", [e.text for e in wait]
    assert tags(await post(call.post, "/queue", QueueResult="hangup", QueueTime="3")) == [], "the caller is gone"
    metrics = broker.metrics()
    with RespClient(broker.redis_url) as r:
        stats = r.command("HGETALL", "sb:{r}:stats")
    stats = dict(zip(stats[::2], stats[1::2]))
    assert stats[b"abandoned"] == b"1" and stats[b"abandoned_short"] == b"1", stats
    assert 'switchboard_calls_total{channel="hotline",event="abandoned_short"} 1' in metrics, metrics
    assert 'switchboard_calls_total{channel="hotline",event="answered"} 0' in metrics
    assert vic is not None


async def test_nobody_logged_in_is_voicemail_and_the_recording_becomes_a_call_back_task(start_broker, redis, sink):
    broker = start_broker(redis, overrides=voice_overrides(sink))
    call = Twilio(broker, call_sid(3))
    elements = twiml(await post(call.post, "", CallStatus="ringing"))
    assert [e.tag for e in elements][:3] == ["Say", "Say", "Record"], [e.tag for e in elements]
    record = elements[2]
    assert record.get("action") == call.base + "/recording"
    assert record.get("transcribe") is None, "Twilio transcribes English only: off unless configured"
    # The call ends first; the recording's callback follows.
    assert tags(await post(call.status, "completed", CallDuration="50")) == []
    thanks = twiml(await post(call.post, "/recording", RecordingSid="RE1", RecordingDuration="31",
                              RecordingUrl="https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"))
    assert [e.tag for e in thanks] == ["Say", "Hangup"]
    vic = await Agent.connect(broker, "vic", "tok-vic-0009", available=True)
    offer = await vic.expect("offer")
    assert offer["conversation"]["call"]["callback"] is True
    assert offer["conversation"]["call"]["voicemail"] is True


async def test_forged_or_malformed_callbacks_are_refused_and_store_nothing(start_broker, redis, sink):
    broker = start_broker(redis, overrides=voice_overrides(sink))
    url = f"{broker.base}/v1/channels/hotline/twilio"
    form = {"CallSid": call_sid(4), "From": CALLER, "To": HOTLINE, "CallStatus": "ringing"}
    forged = await post(broker.post_twilio, url, form, signature="bm90IGEgc2lnbmF0dXJl")
    assert forged.status_code == 403 and forged.json()["error"]["code"], forged.text
    bad_status = await post(broker.post_twilio, url, {**form, "CallStatus": "dancing"})
    assert bad_status.status_code == 400 and "CallStatus" in bad_status.json()["error"]["message"], bad_status.text
    bad_sid = await post(broker.post_twilio, url, {**form, "CallSid": "CA<script>"})
    assert bad_sid.status_code == 400, bad_sid.text
    # A status callback for a call the broker never saw: 200 (Twilio must not retry it), nothing stored.
    unknown = await post(Twilio(broker, call_sid(99)).status, "completed", CallDuration="5")
    assert unknown.status_code == 200 and tags(unknown) == [], unknown.text
    with RespClient(broker.redis_url) as r:
        assert r.command("KEYS", "sb:call:*") == []
        assert r.command("KEYS", "sb:conv:*") == []
    assert "call report for an unknown call ignored" in broker.log_tail(20)


async def test_a_pbx_sends_signed_json_with_its_own_ivr_choice(start_broker, redis, sink):
    broker = start_broker(redis, overrides=voice_overrides(sink))
    wu = await Agent.connect(broker, "wu", "tok-wu-0010", available=True)

    def send(event: dict):
        body = json.dumps(event).encode()
        signature = "sha256=" + hmac.new(PBX_SECRET.encode(), body, hashlib.sha256).hexdigest()
        return broker.post("/v1/channels/pbx/events", data=body,
                           headers={"Content-Type": "application/json", "X-Signature": signature})

    r = await post(send, {"event": "call.incoming", "call_id": "fs-1", "from": "13800138000", "to": "12345", "skill": "general"})
    assert r.status_code == 200, r.text
    assert r.json()["action"] == "queue", r.text
    await wu.accept_offer()
    control = (await post(sink.wait_for, 1))[0]
    assert control.path == "/control"
    assert json.loads(control.body) == {"action": "bridge", "call_id": "fs-1", "endpoint": "sip:1010@pbx.example",
                                        "idempotency_key": json.loads(control.body)["idempotency_key"]}
    expected = "sha256=" + hmac.new(PBX_SECRET.encode(), control.body, hashlib.sha256).hexdigest()
    assert control.headers["x-signature"] == expected
    r = await post(send, {"event": "call.waiting", "call_id": "fs-1"})
    assert r.json() == {"action": "bridge", "endpoint": "sip:1010@pbx.example"}, r.text
    r = await post(send, {"event": "call.status", "call_id": "fs-1", "status": "answered", "sequence": 1})
    assert r.json() == {"action": "none"}
    unsigned = await post(broker.post, "/v1/channels/pbx/events", data=b'{"event":"call.waiting","call_id":"fs-1"}',
                          headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 403, unsigned.text


async def test_ivr_digit_two_reaches_the_complaints_agent(start_broker, redis, sink):
    broker = start_broker(redis, overrides=voice_overrides(sink, menu={"prompt": "咨询请按1，投诉请按2",
                                                                        "options": {"1": "general", "2": "complaints"},
                                                                        "default": "general"}))
    cy = await Agent.connect(broker, "cy", token("cy"), available=True)
    vic = await Agent.connect(broker, "vic", "tok-vic-0009", available=True)
    call = Twilio(broker, call_sid(8))
    menu = twiml(await post(call.post, "", CallStatus="ringing"))
    assert [e.tag for e in menu] == ["Say", "Gather", "Say"], [e.tag for e in menu]
    gather = menu[1]
    assert gather.get("action") == call.base + "/gather?attempt=1"
    # A digit outside the menu: the menu again, then (not here) the default.
    again = twiml(await post(call.post, "/gather?attempt=1", Digits="9"))
    assert [e.tag for e in again] == ["Gather", "Say"] and again[0].get("action").endswith("attempt=2")
    queued = twiml(await post(call.post, "/gather?attempt=2", Digits="2"))
    assert [e.tag for e in queued] == ["Enqueue"], [e.tag for e in queued]
    conv = await cy.accept_offer()
    assert conv["skill"] == "complaints" and conv["kind"] == "voice"
    assert not vic.of_type("offer"), "vic has no complaints skill"


async def test_voicemail_with_a_transcript_becomes_a_call_back_task_that_an_agent_completes(start_broker, redis, sink):
    broker = start_broker(redis, overrides=voice_overrides(sink, voicemail_transcribe="true"))
    call = Twilio(broker, call_sid(9))
    record = twiml(await post(call.post, "", CallStatus="ringing"))[2]
    assert record.tag == "Record" and record.get("transcribeCallback") == call.base + "/transcription"
    twiml(await post(call.post, "/recording", RecordingSid="RE9", RecordingDuration="21",
                     RecordingUrl=f"http://127.0.0.1:{sink.port}/2010-04-01/Accounts/AC1/Recordings/RE9"))
    assert tags(await post(call.post, "/transcription", RecordingSid="RE9", TranscriptionStatus="completed",
                           TranscriptionText="我家门口的路灯坏了")) == []
    assert tags(await post(call.status, "completed", CallDuration="40")) == []
    vic = await Agent.connect(broker, "vic", "tok-vic-0009", available=True)
    conv = await vic.accept_offer()
    assert conv["call"]["callback"] is True
    history = await vic.history(conv["id"])
    voicemail = [p for m in history for p in m["parts"] if p.get("type") == "voicemail"]
    assert voicemail and voicemail[0]["recordingUrl"] == "/v1/media/recording/hotline/RE9", history
    # The console plays it through the proxy, which adds the account's credentials; the agent's
    # browser never sees them or the platform's URL.
    played = await post(broker.get, "/v1/media/recording/hotline/RE9", headers={"Authorization": "Bearer tok-vic-0009"})
    assert played.status_code == 200 and played.content == sink.recording, played.status_code
    assert played.headers["Content-Type"] == "audio/mpeg"
    fetched = [r for r in sink.requests if r.method == "GET"][-1]
    assert fetched.path == "/2010-04-01/Accounts/AC1/Recordings/RE9.mp3"
    assert fetched.headers["authorization"] == basic_auth("AC1", TWILIO_AUTH_TOKEN)
    assert (await post(broker.get, "/v1/media/recording/hotline/RE9")).status_code == 401
    other = await post(broker.get, "/v1/media/recording/hotline/RE9", headers={"Authorization": f"Bearer {token('ana')}"})
    assert other.status_code == 404, "not ana's conversation"
    assert (await post(broker.get, "/v1/media/recording/hotline/RE0", headers={"Authorization": "Bearer tok-vic-0009"})).status_code == 404
    assert any("我家门口的路灯坏了" in (p.get("text") or "") for m in history for p in m["parts"]), history
    # Nobody answers the first call-back: it leaves the agent and waits for its retry.
    await vic.ok({"type": "callback.outcome", "conversationId": conv["id"], "outcome": "unreached", "note": "无人接听"})
    assert broker.conversation(conv["id"])["status"] == "bot"
    with RespClient(broker.redis_url) as r:
        r.command("ZADD", "sb:{r}:callbacks", "0", conv["id"])   # its retry time has come
    again = await vic.accept_offer()
    assert again["id"] == conv["id"]
    await vic.ok({"type": "callback.outcome", "conversationId": conv["id"], "outcome": "reached", "note": "已回电，已转办"})
    done = broker.conversation(conv["id"])
    assert done["status"] in ("wrapup", "closed"), done
    assert conv_field(broker, conv["id"], "cbOutcome") == "reached"
    assert conv_field(broker, conv["id"], "disposition") == "已回电，已转办"


async def test_the_call_card_shows_the_callers_earlier_calls(start_broker, redis, sink):
    broker = start_broker(redis, overrides=voice_overrides(sink))
    vic = await Agent.connect(broker, "vic", "tok-vic-0009", available=False)
    await vic.set_presence("away")
    first = Twilio(broker, call_sid(11))
    twiml(await post(first.post, "", CallStatus="ringing"))
    await post(first.post, "/queue", QueueResult="hangup", QueueTime="40")   # gave up waiting
    await vic.set_presence("available")
    second = Twilio(broker, call_sid(12))
    twiml(await post(second.post, "", CallStatus="ringing"))
    conv = await vic.accept_offer()
    answer = await vic.ok({"type": "contact.history", "conversationId": conv["id"]})
    earlier = answer["conversations"]
    assert [c["call"]["id"] for c in earlier] == [first.sid], earlier
    assert earlier[0]["status"] == "abandoned" and earlier[0]["call"]["abandonWait"] == 40
    refused = await vic.request({"type": "contact.history", "conversationId": "c-none"})
    assert refused["type"] == "error", refused

