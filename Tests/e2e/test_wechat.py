"""WeChat end to end (DESIGN §10.3): callbacks signed and encrypted by the real peer, wechatpy 1.8.18
(`wechatpy.crypto.WeChatCrypto` for the Official Account, `wechatpy.enterprise.crypto.WeChatCrypto`
for WeCom customer service), the WeChat APIs played by a local fake (`fake_wechat_api.py`), agents
on real sockets. Bad input is refused with a clear error and nothing stored."""

import asyncio
import hashlib
import time
import xml.etree.ElementTree as ET

import pytest
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto

from clients import Agent, texts
from fake_wechat_api import FakeWeChatAPI
from harness import AGENTS, RespClient, sha256_hex, token

OA_TOKEN = "e2e-wx-token"
OA_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OA_APPID = "wx0123456789abcdef"
OA_ACCOUNT = "gh_e2e0account"
KF_TOKEN = "e2e-kf-token"
KF_KEY = "Zx9Qm3Lp7Rt2Vw5Yb8Nc1Kd4Hf6Jg0Ts3Ua7We9Ri2O"
CORP_ID = "ww0123456789abcdef"
OPEN_KFID = "wkE2EkfAccount01"
OPENID = "oE2E_citizen_openid_0001"
WELCOME = "您好，这里是12345热线，请直接留言。"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 32


@pytest.fixture
def wxapi():
    api = FakeWeChatAPI()
    yield api
    api.close()


def overrides(api: FakeWeChatAPI, **extra) -> dict:
    agents = [{"id": aid, "name": aid.capitalize(), "role": role, "token_sha256": sha256_hex(tok), "skills": skills,
               "capacity": {**cap, "wechat": 2}} for aid, (tok, skills, cap, role) in AGENTS.items()]
    channels = [
        {"id": "wx-main", "kind": "wechat", "provider": "official_account", "app_id": OA_APPID,
         "app_secret": "e2e-app-secret", "token": OA_TOKEN, "encoding_aes_key": OA_KEY, "api_base": api.base,
         "skill": "general", "welcome": WELCOME, "menu_skills": {"COMPLAINT": "complaints"}},
        {"id": "wx-kf", "kind": "wechat", "provider": "wecom_kf", "corp_id": CORP_ID, "secret": "e2e-kf-secret",
         "token": KF_TOKEN, "encoding_aes_key": KF_KEY, "api_base": api.base, "skill": "general"},
    ]
    return {"agents": agents, "channels": channels, **extra}


def signature(*values: str) -> str:
    return hashlib.sha1("".join(sorted(values)).encode()).hexdigest()


def text_xml(content: str, msg_id: int, sender: str = OPENID) -> str:
    return (f"<xml><ToUserName><![CDATA[{OA_ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")


def event_xml(event: str, key: str = "", sender: str = OPENID) -> str:
    return (f"<xml><ToUserName><![CDATA[{OA_ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[{event}]]></Event><EventKey><![CDATA[{key}]]></EventKey></xml>")


def post_safe(broker, xml: str, tamper: bool = False, nonce: str = "n0nce123"):
    """Posts `xml` in safe mode as the platform does: encrypted by wechatpy, signed twice."""
    ts = str(int(time.time()))
    envelope = WeChatCrypto(OA_TOKEN, OA_KEY, OA_APPID).encrypt_message(xml, nonce, ts)
    encrypt = ET.fromstring(envelope).find("Encrypt").text
    msg_signature = signature(OA_TOKEN, ts, nonce, encrypt)
    if tamper:
        msg_signature = ("0" if msg_signature[0] != "0" else "1") + msg_signature[1:]
    query = {"signature": signature(OA_TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": OPENID,
             "encrypt_type": "aes", "msg_signature": msg_signature}
    body = f"<xml><ToUserName><![CDATA[{OA_ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    return broker.session.post(broker.base + "/v1/channels/wx-main/wechat", params=query, data=body.encode(),
                               headers={"Content-Type": "text/xml"}, timeout=10)


def post_kf_event(broker, token_value: str = "ENCTOKEN1"):
    ts, nonce = str(int(time.time())), "kfnonce1"
    inner = (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><CreateTime>{ts}</CreateTime>"
             f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>"
             f"<Token><![CDATA[{token_value}]]></Token><OpenKfId><![CDATA[{OPEN_KFID}]]></OpenKfId></xml>")
    envelope = WeComCrypto(KF_TOKEN, KF_KEY, CORP_ID).encrypt_message(inner, nonce, ts)
    root = ET.fromstring(envelope)
    query = {"msg_signature": root.find("MsgSignature").text, "timestamp": ts, "nonce": nonce}
    return broker.session.post(broker.base + "/v1/channels/wx-kf/wechat", params=query, data=envelope.encode(),
                               headers={"Content-Type": "text/xml"}, timeout=10)


async def call(fn, *args, **kw):
    return await asyncio.to_thread(fn, *args, **kw)


def log_length(redis, conversation_id: str) -> int:
    with RespClient(redis.url) as r:
        return r.command("XLEN", f"sb:conv:{{{conversation_id}}}:log")


async def test_url_verification_for_both_providers(start_broker, redis, wxapi):
    broker = start_broker(redis, overrides(wxapi))
    ts, nonce = "1700000000", "v3r1fy"
    ok = await call(broker.get, "/v1/channels/wx-main/wechat",
                    params={"signature": signature(OA_TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "echostr": "echo-42"})
    assert ok.status_code == 200 and ok.text == "echo-42", ok.text
    bad = await call(broker.get, "/v1/channels/wx-main/wechat",
                     params={"signature": "0" * 40, "timestamp": ts, "nonce": nonce, "echostr": "echo-42"})
    assert bad.status_code == 403, bad.text

    # WeCom: the echostr is encrypted; the broker answers its plaintext.
    envelope = WeComCrypto(KF_TOKEN, KF_KEY, CORP_ID).encrypt_message("1616140317555161061", nonce, ts)
    echostr = ET.fromstring(envelope).find("Encrypt").text
    kf = await call(broker.get, "/v1/channels/wx-kf/wechat",
                    params={"msg_signature": signature(KF_TOKEN, ts, nonce, echostr), "timestamp": ts, "nonce": nonce,
                            "echostr": echostr})
    assert kf.status_code == 200 and kf.text == "1616140317555161061", kf.text


async def test_safe_mode_text_reaches_an_agent_and_the_reply_goes_out_with_a_valid_token(start_broker, redis, wxapi):
    broker = start_broker(redis, overrides(wxapi))
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)

    r = await call(post_safe, broker, text_xml("你好", 7001))
    assert r.status_code == 200 and r.text == "success", r.text
    conv = await ana.accept_offer()
    assert conv["kind"] == "wechat" and conv["channel"] == "wx-main", conv
    assert texts(await ana.history(conv["id"])) == ["你好"]

    # The platform retries a message it got no answer for: the same MsgId is stored once.
    again = await call(post_safe, broker, text_xml("你好", 7001))
    assert again.status_code == 200, again.text
    assert log_length(redis, conv["id"]) == 1

    sent = await ana.reply(conv["id"], "您好，请问有什么可以帮您？")
    call_ = (await call(wxapi.wait_for, "/cgi-bin/message/custom/send", 1))[0]
    assert call_.query["access_token"] == wxapi.valid_token, "the reply used the token the API issued"
    assert call_.json() == {"touser": OPENID, "msgtype": "text", "text": {"content": "您好，请问有什么可以帮您？"}}
    await ana.expect("delivery", lambda e: e["messageId"] == sent["messageId"] and e["status"] == "sent")
    assert len(wxapi.calls_to("/cgi-bin/stable_token")) == 1


async def test_a_refused_token_is_refreshed_once_and_the_send_retried_once(start_broker, redis, wxapi):
    broker = start_broker(redis, overrides(wxapi))
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    await call(post_safe, broker, text_xml("查询社保", 7101))
    conv = await ana.accept_offer()
    await ana.reply(conv["id"], "第一条")
    await call(wxapi.wait_for, "/cgi-bin/message/custom/send", 1)

    wxapi.fail_next = [40001]
    sent = await ana.reply(conv["id"], "第二条")
    await ana.expect("delivery", lambda e: e["messageId"] == sent["messageId"] and e["status"] == "sent")
    sends = wxapi.calls_to("/cgi-bin/message/custom/send")
    assert len(sends) == 3, "the refused send and exactly one retry"
    tokens = wxapi.calls_to("/cgi-bin/stable_token")
    assert len(tokens) == 2, "exactly one refresh"
    assert tokens[1].json().get("force_refresh") is True
    assert sends[2].query["access_token"] == wxapi.valid_token != sends[1].query["access_token"]


async def test_outside_the_48_hour_window_the_agent_is_told_why_and_what_to_do(start_broker, redis, wxapi):
    broker = start_broker(redis, overrides(wxapi))
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    await call(post_safe, broker, text_xml("在吗", 7201))
    conv = await ana.accept_offer()
    wxapi.fail_next = [45015]
    sent = await ana.reply(conv["id"], "您好")
    failed = await ana.expect("delivery", lambda e: e["messageId"] == sent["messageId"] and e["status"] == "failed")
    assert "45015" in failed["error"], failed
    assert failed["hint"] == "超出48小时客服消息窗口，可改用短信联系", failed
    assert len(wxapi.calls_to("/cgi-bin/message/custom/send")) == 1, "45015 is not retried"


async def test_tampered_signature_and_hostile_xml_are_refused_and_nothing_is_stored(start_broker, redis, wxapi):
    broker = start_broker(redis, overrides(wxapi))
    r = await call(post_safe, broker, text_xml("伪造", 7301), tamper=True)
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "bad_signature"

    ts, nonce = str(int(time.time())), "n"
    plain = {"signature": signature(OA_TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
              "<xml><Content>&lol2;</Content></xml>")
    external = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Content>&xxe;</Content></xml>'
    for body, status in [(laughs, 400), (external, 400), ("<xml><ToUserName>", 400), ("<other/>", 400),
                         ("<xml>" + "x" * 70000 + "</xml>", 413)]:
        bad = await call(broker.session.post, broker.base + "/v1/channels/wx-main/wechat", params=plain, data=body.encode(),
                         headers={"Content-Type": "text/xml"}, timeout=10)
        assert bad.status_code == status, (body[:40], bad.status_code, bad.text)
        assert "error" in bad.json()
    # A plain callback (its signature does not cover the body) to a channel that has a key: 403.
    forged_plain = await call(broker.session.post, broker.base + "/v1/channels/wx-main/wechat", params=plain,
                              data=text_xml("明文伪造", 7303).encode(), headers={"Content-Type": "text/xml"}, timeout=10)
    assert forged_plain.status_code == 403, forged_plain.text
    wrong_app = WeChatCrypto(OA_TOKEN, OA_KEY, "wxffffffffffffffff")
    envelope = wrong_app.encrypt_message(text_xml("别的公众号", 7302), nonce, ts)
    encrypt = ET.fromstring(envelope).find("Encrypt").text
    r = await call(broker.session.post, broker.base + "/v1/channels/wx-main/wechat",
                   params={**plain, "encrypt_type": "aes", "msg_signature": signature(OA_TOKEN, ts, nonce, encrypt)},
                   data=f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode(), timeout=10)
    assert r.status_code == 400, r.text
    with RespClient(redis.url) as rc:
        assert rc.command("KEYS", "sb:conv:*") == [], "nothing was stored"


async def test_subscribe_gets_the_encrypted_welcome_and_a_menu_key_routes_to_its_skill(start_broker, redis, wxapi):
    broker = start_broker(redis, overrides(wxapi))
    r = await call(post_safe, broker, event_xml("subscribe"), nonce="welcome1")
    assert r.status_code == 200, r.text
    reply = WeChatCrypto(OA_TOKEN, OA_KEY, OA_APPID).decrypt_message(r.text, ET.fromstring(r.text).find("MsgSignature").text,
                                                                      ET.fromstring(r.text).find("TimeStamp").text, "welcome1")
    inner = ET.fromstring(reply)
    assert inner.find("Content").text == WELCOME and inner.find("ToUserName").text == OPENID

    cy = await Agent.connect(broker, "cy", token("cy"), available=True)
    await call(post_safe, broker, event_xml("CLICK", "COMPLAINT"))
    conv = await cy.accept_offer()
    assert conv["skill"] == "complaints", conv

    await call(post_safe, broker, event_xml("unsubscribe"))
    with RespClient(redis.url) as rc:
        assert rc.command("EXISTS", f"sb:optout:wx-main:wechat:{OPENID}") == 1


async def test_an_image_is_fetched_once_and_served_to_the_assigned_agent_only(start_broker, redis, wxapi):
    broker = start_broker(redis, overrides(wxapi))
    wxapi.media["MEDIA_PNG_1"] = PNG
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    image = (f"<xml><ToUserName><![CDATA[{OA_ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
             f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
             f"<PicUrl><![CDATA[http://mmbiz.example/1]]></PicUrl><MediaId><![CDATA[MEDIA_PNG_1]]></MediaId><MsgId>7401</MsgId></xml>")
    await call(post_safe, broker, image)
    conv = await ana.accept_offer()
    part = (await ana.history(conv["id"]))[0]["parts"][0]
    assert part["type"] == "media" and part["url"] == "/v1/media/wx-main/MEDIA_PNG_1", part
    await call(wxapi.wait_for, "/cgi-bin/media/get", 1)
    got = await call(broker.session.get, broker.base + part["url"], headers={"Authorization": f"Bearer {token('ana')}"}, timeout=10)
    assert got.status_code == 200 and got.content == PNG, got.status_code
    assert got.headers["Content-Type"] == "image/png"
    other = await call(broker.session.get, broker.base + part["url"], headers={"Authorization": f"Bearer {token('bo')}"}, timeout=10)
    assert other.status_code == 404, "an agent who may not see the conversation cannot tell the media exists"
    anonymous = await call(broker.session.get, broker.base + part["url"], timeout=10)
    assert anonymous.status_code == 401
    assert len(wxapi.calls_to("/cgi-bin/media/get")) == 1, "fetched once, served from Redis"


def kf_message(n: int, text: str, origin: int = 3) -> dict:
    return {"msgid": f"kfmsg{n}", "open_kfid": OPEN_KFID, "external_userid": "wmE2Ecustomer01", "send_time": int(time.time()),
            "origin": origin, "msgtype": "text", "text": {"content": text}}


async def test_wecom_callback_pulls_three_messages_over_two_pages_and_the_reply_goes_to_send_msg(start_broker, redis, wxapi):
    broker = start_broker(redis, overrides(wxapi))
    wxapi.pages[OPEN_KFID] = [
        [kf_message(1, "你好"), kf_message(2, "我想咨询公积金"), kf_message(90, "servicer note", origin=5)],
        [kf_message(3, "提取需要什么材料")],
    ]
    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    r = await call(post_kf_event, broker)
    assert r.status_code == 200 and r.text == "success", r.text
    conv = await ana.accept_offer()
    assert conv["kind"] == "wechat" and conv["channel"] == "wx-kf", conv
    await ana.expect("message", lambda e: e["conversationId"] == conv["id"] and e["message"]["parts"][0]["text"] == "提取需要什么材料")
    assert texts(await ana.history(conv["id"])) == ["你好", "我想咨询公积金", "提取需要什么材料"]
    pulls = wxapi.calls_to("/cgi-bin/kf/sync_msg")
    assert [p.json().get("cursor") for p in pulls[:2]] == [None, "1"], [p.json() for p in pulls]
    assert pulls[0].json()["token"] == "ENCTOKEN1" and pulls[0].json()["open_kfid"] == OPEN_KFID
    with RespClient(redis.url) as rc:
        assert rc.command("GET", f"sb:pull:wx-kf:{OPEN_KFID}:cursor") == b"2", "the cursor advanced past both pages"

    # The same callback again (the platform retries): nothing new is stored.
    await call(post_kf_event, broker, "ENCTOKEN2")
    await call(wxapi.wait_for, "/cgi-bin/kf/sync_msg", len(pulls) + 1)
    assert log_length(redis, conv["id"]) == 3

    long_reply = "您好，" + "材料清单：身份证、公积金卡。" * 200   # over 2,048 bytes: sent in pieces
    sent = await ana.reply(conv["id"], long_reply)
    await ana.expect("delivery", lambda e: e["messageId"] == sent["messageId"] and e["status"] == "sent")
    pieces = wxapi.calls_to("/cgi-bin/kf/send_msg")
    assert len(pieces) >= 2
    bodies = [p.json() for p in pieces]
    assert all(b["touser"] == "wmE2Ecustomer01" and b["open_kfid"] == OPEN_KFID for b in bodies)
    assert all(len(b["text"]["content"].encode()) <= 2048 for b in bodies)
    assert "".join(b["text"]["content"] for b in bodies) == long_reply
    assert len({b["msgid"] for b in bodies}) == len(bodies)


async def test_two_nodes_share_one_token_and_one_puller(start_broker, redis, wxapi):
    a = start_broker(redis, overrides(wxapi, node={"id": "wx-a"}), name="a")
    b = start_broker(redis, overrides(wxapi, node={"id": "wx-b"}), name="b")
    wxapi.pages[OPEN_KFID] = [[kf_message(i, f"第{i}条") for i in range(1, 4)], [kf_message(4, "第4条")]]
    ana = await Agent.connect(a, "ana", token("ana"), available=True)
    # The callback reaches both nodes at once (a load balancer's retry): one pulls, pages once.
    ra, rb = await asyncio.gather(call(post_kf_event, a, "T1"), call(post_kf_event, b, "T1"))
    assert ra.status_code == rb.status_code == 200
    conv = await ana.accept_offer()
    await ana.expect("message", lambda e: e["conversationId"] == conv["id"] and e["message"]["parts"][0]["text"] == "第4条")
    assert log_length(redis, conv["id"]) == 4, "every message stored once"
    firsts = [p for p in wxapi.calls_to("/cgi-bin/kf/sync_msg") if p.json().get("cursor") is None]
    assert len(firsts) == 1, "one node pulled from the start; the other saw the lock (or nothing left)"

    # Replies from both nodes use the one token issued.
    await ana.reply(conv["id"], "收到")
    await ana.set_presence("away")   # so the next conversation goes to bo, on the other node
    bo = await Agent.connect(b, "bo", token("bo"), available=True)
    await call(post_safe, b, text_xml("另一位市民", 7501, sender="oE2E_other"))
    conv2 = await bo.accept_offer()
    await bo.reply(conv2["id"], "您好")
    await call(wxapi.wait_for, "/cgi-bin/message/custom/send", 1)
    await call(wxapi.wait_for, "/cgi-bin/kf/send_msg", 1)
    assert len(wxapi.calls_to("/cgi-bin/gettoken")) == 1, "one WeCom token for both nodes"
    assert len(wxapi.calls_to("/cgi-bin/stable_token")) == 1, "one Official Account token for both nodes"
