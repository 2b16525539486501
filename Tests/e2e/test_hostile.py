"""The hostile-input tier (issue 9): a few hundred malformed, oversize, forged and out-of-protocol
inputs against a live broker, across every class of the public surface: HTTP framing, the REST API,
every webhook (Twilio, the generic gateway, Aliyun, Tencent, WeChat in plain and safe mode, WeCom
customer service), the visitor and agent WebSockets.

For every case: the answer is a 4xx (501 for CONNECT, RFC 9110 §9.3.6), the documented close or
the expected WebSocket close code or `error` event; no answer carries internal error text (`ERR `,
`script:`, `.lua`, `Fatal`). For each test as a whole: Redis is byte-for-byte what it was before
the cases ran (every key's DUMP), the broker is alive, /readyz answers, and a legitimate message
still gets through afterwards.

Expectations are what the broker should answer, not what it happened to answer: where a case
could not be answered (lws closes before the broker sees it), the README's "The HTTP edge" says
so and the case expects exactly that."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import urllib.parse
import xml.etree.ElementTree as ET

import requests

from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto

from harness import API_KEY, RespClient, token
from hostile import (CLIENT_ERROR, CLOSED, Expect, Ledger, Outcome, RawSocket, close_code, either, error_event, frame,
                     http_exchange, is_error, redis_changes, redis_snapshot, requests_outcome, status, text)

TWILIO_TOKEN = "e2e-hostile-twilio-token"
TWILIO_PUBLIC = "https://sms.example.org/v1/channels/sms-main/twilio"
VOICE_PUBLIC = "https://voice.example.org/v1/channels/call-main/twilio"
PBX_SECRET = b"e2e-hostile-pbx-secret"
GW_SECRET = b"e2e-hostile-gw-secret"
ALI_TOKEN, TC_TOKEN = "e2e-ali-token", "e2e-tc-token"
WX_TOKEN, WX_KEY, WX_APPID = "e2e-wx-token", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx0123456789abcdef"
KF_TOKEN, KF_KEY, CORP_ID = "e2e-kf-token", "Zx9Qm3Lp7Rt2Vw5Yb8Nc1Kd4Hf6Jg0Ts3Ua7We9Ri2O", "ww0123456789abcdef"
CHANNELS = [
    {"id": "web", "kind": "webchat", "skill": "general"},
    {"id": "sms-main", "kind": "sms", "provider": "twilio", "auth_token": TWILIO_TOKEN, "public_url": TWILIO_PUBLIC,
     "skill": "general"},
    {"id": "sms-gw", "kind": "sms", "provider": "generic", "hmac_secret": GW_SECRET.decode(), "skill": "general"},
    {"id": "sms-ali", "kind": "sms", "provider": "aliyun", "webhook_token": ALI_TOKEN, "skill": "general"},
    {"id": "sms-tc", "kind": "sms", "provider": "tencent", "webhook_token": TC_TOKEN, "skill": "general"},
    # The WeChat APIs are never reached (nothing hostile gets that far): a closed loopback port.
    {"id": "wx-plain", "kind": "wechat", "provider": "official_account", "app_id": WX_APPID,
     "app_secret": "e2e-app-secret", "token": WX_TOKEN, "api_base": "http://127.0.0.1:9", "skill": "general"},
    {"id": "wx-safe", "kind": "wechat", "provider": "official_account", "app_id": WX_APPID,
     "app_secret": "e2e-app-secret", "token": WX_TOKEN, "encoding_aes_key": WX_KEY, "api_base": "http://127.0.0.1:9",
     "skill": "general"},
    {"id": "wx-kf", "kind": "wechat", "provider": "wecom_kf", "corp_id": CORP_ID, "secret": "e2e-kf-secret",
     "token": KF_TOKEN, "encoding_aes_key": KF_KEY, "api_base": "http://127.0.0.1:9", "skill": "general"},
    # Phone: Twilio Voice and a PBX's JSON events (issue 10).
    {"id": "call-main", "kind": "voice", "provider": "twilio", "account_sid": "AC1", "auth_token": TWILIO_TOKEN,
     "public_url": VOICE_PUBLIC, "api_base": "http://127.0.0.1:9", "skill": "general"},
    {"id": "pbx", "kind": "voice", "provider": "generic", "hmac_secret": PBX_SECRET.decode(), "control_url": "http://127.0.0.1:9/c",
     "skill": "general"},
]
OVERRIDES = {"channels": CHANNELS, "limits": {"request_timeout": "1s"}}
# Keys the broker rewrites on its own while idle (the node's heartbeat); everything else must hold.
VOLATILE = re.compile(rb":node[s]?:|heartbeat")
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def start(start_broker, redis):
    broker = start_broker(redis, overrides=OVERRIDES)
    visitor = RawSocket(broker.port, "/v1/visitor", protocol="switchboard.visitor.v1")
    visitor.send(text('{"type":"hello","channel":"web"}'))
    visitor.events_until(lambda e: '"ready"' in e)
    visitor.send(text('{"type":"message.send","text":"setup","clientId":"s1","ref":"s1"}'))
    ack = visitor.events_until(lambda e: '"ref":"s1"' in e)
    conversation = json.loads(next(e for e in ack.events if '"ref":"s1"' in e))["conversationId"]
    return broker, visitor, conversation


class Tier:
    """One broker, a Redis snapshot before the cases, the ledger, and the checks after them."""

    def __init__(self, broker, redis):
        self.broker, self.redis, self.ledger = broker, redis, Ledger()
        time.sleep(0.5)   # let the setup's routing settle before the snapshot
        with RespClient(redis.url) as r:
            self.before = redis_snapshot(r, VOLATILE)

    def http(self, cls: str, name: str, method: str, path: str, expect=CLIENT_ERROR, **kw) -> None:
        kw.setdefault("timeout", 8)
        kw.setdefault("allow_redirects", False)
        try:
            outcome = requests_outcome(self.broker.session.request(method, self.broker.base + path, **kw))
        except requests.exceptions.ConnectionError:
            outcome = Outcome("closed")
        self.ledger.add(cls, name, outcome, expect)

    def raw(self, cls: str, name: str, data: bytes, expect=CLIENT_ERROR) -> None:
        self.ledger.add(cls, name, http_exchange(self.broker.port, data), expect)

    def finish(self, at_least: int, legit) -> None:
        self.broker.check_alive()
        with RespClient(self.redis.url) as r:
            changes = redis_changes(self.before, redis_snapshot(r, VOLATILE))
        self.ledger.assert_all_passed(at_least)
        assert not changes, "hostile input reached Redis:\n" + "\n".join(changes)
        assert self.broker.get("/readyz").status_code == 200
        assert "incident=" not in self.broker.log_tail(100000), "an internal error was logged"
        legit()


# -- HTTP framing and the REST API -----------------------------------------------------------------

def framing_cases(t: Tier, conversation: str) -> None:
    c = "http-framing"
    msgs = f"/v1/conversations/{conversation}/messages"
    for name, request in [
        ("request line alone", b"GET\r\n\r\n"),
        ("unknown method", b"FOO /healthz HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("bad % escape", b"GET /healthz%zz HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("truncated % escape", b"GET /healthz% HTTP/1.1\r\nHost: a\r\n\r\n"),
    ]:
        t.raw(c, name, request, status(403))   # README: lws' own 403 page
    t.raw(c, "CONNECT", b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", status(501))
    for name, request in [
        ("TRACE", b"TRACE /healthz HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("DELETE on a webhook", b"DELETE /v1/channels/sms-main/twilio HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("traversal", b"GET /../../../../etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("encoded traversal", b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("traversal into the media route", b"GET /v1/media/sms-main/..%2f..%2f..%2fetc%2fpasswd HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("NUL in the path", b"GET /v1/conversations/%00/messages HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("NUL in a header value", b"GET /v1/queues HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer x\x00y\r\n\r\n"),
        ("NUL in Content-Type", f"POST {msgs} HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\x00x\r\n"
                                "Content-Length: 2\r\n\r\n{}".encode()),
        ("Content-Length -1", f"POST {msgs} HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n".encode()),
        ("Content-Length 2^64", f"POST {msgs} HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n".encode()),
        ("Content-Length not a number", f"POST {msgs} HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n".encode()),
        ("Content-Length past the body limit", f"POST {msgs} HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                                               "Content-Length: 10000000\r\n\r\n{".encode()),
        ("body announced, never sent", f"POST {msgs} HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n{{".encode()),
        ("bad chunk size", f"POST {msgs} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n".encode()),
        ("chunked past the body limit", f"POST {msgs} HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {API_KEY}\r\n"
                                        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
         + b"".join(b"4000\r\n" + b" " * 0x4000 + b"\r\n" for _ in range(6)) + b"0\r\n\r\n"),
        ("webhook body past its limit", b"POST /v1/channels/sms-main/twilio HTTP/1.1\r\nHost: a\r\n"
                                        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 300000\r\n\r\n"
         + b"a" * 300000),
        ("Expect 100-continue past the limit", f"POST {msgs} HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                                               "Content-Type: application/json\r\nContent-Length: 99999999\r\n\r\n".encode()),
        ("unknown route", b"GET /v1/nope HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("WebSocket path without an upgrade", b"GET /v1/agent HTTP/1.1\r\nHost: a\r\n\r\n"),
    ]:
        t.raw(c, name, request)
    for name, request in [
        ("a header line without a colon", b"GET /healthz HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n"),
        ("obs-fold", b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  folded\r\n\r\n"),
        ("headers that never end", b"GET /healthz HTTP/1.1\r\nHost: a\r\n"),
        ("an 8 KiB header", b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: " + b"x" * 8192 + b"\r\n\r\n"),
        ("an 8 KiB request target", b"GET /healthz?" + b"q" * 8192 + b" HTTP/1.1\r\nHost: a\r\n\r\n"),
    ]:
        t.raw(c, name, request, CLOSED)   # README "The HTTP edge": lws closes these itself


def rest_cases(t: Tier, conversation: str) -> None:
    routes = [("GET", "/v1/queues"), ("GET", "/v1/agents"), ("GET", f"/v1/conversations/{conversation}"),
              ("GET", f"/v1/conversations/{conversation}/messages"), ("POST", f"/v1/conversations/{conversation}/messages")]
    body = json.dumps({"text": "未授权", "clientId": "h1"})
    for method, path in routes:
        for name, headers in [("no key", {}), ("wrong key", {"Authorization": "Bearer wrong-key"}),
                              ("Basic scheme", {"Authorization": "Basic " + API_KEY}),
                              ("empty bearer", {"Authorization": "Bearer "}),
                              ("a 3000-byte key", {"Authorization": "Bearer " + "k" * 3000}),
                              ("an agent token", {"Authorization": f"Bearer {token('ana')}"}),
                              ("key in the query", {})]:
            query = f"?api_key={API_KEY}" if name == "key in the query" else ""
            t.http("rest-auth", f"{method} {path}: {name}", method, path + query, status(401),
                   headers={**headers, "Content-Type": "application/json"}, data=body if method == "POST" else None)
        # Past lws' 4 KiB header space: closed at once (README "The HTTP edge").
        t.http("rest-auth", f"{method} {path}: a 5000-byte key", method, path, CLOSED,
               headers={"Authorization": "Bearer " + "k" * 5000})
        for verb in ("PUT", "DELETE", "PATCH"):
            t.http("rest-method", f"{verb} {path}", verb, path, status(405), headers=AUTH)

    for raw_id in ["nope", "c" * 300, "会话", "%00", "..%2f..%2fetc", "*", "%7B%7D", "1;2", "%20", "%ff%fe",
                   "sb:conv:{x}", "-1"]:
        for suffix, method in [("", "GET"), ("/messages", "GET"), ("/messages", "POST")]:
            t.http("rest-unknown-id", f"{method} /v1/conversations/{raw_id}{suffix}", method,
                   f"/v1/conversations/{raw_id}{suffix}", headers={**AUTH, "Content-Type": "application/json"},
                   data=json.dumps({"text": "给不存在的会话", "clientId": "u1"}) if method == "POST" else None)

    msgs = f"/v1/conversations/{conversation}/messages"
    for query in ["before=99999999999999999999999-0", "before=18446744073709551616-0", "before=1-2-3", "before=abc",
                  "before=-1-0", "before=1--0", "before=1-0%20", "limit=abc", "limit=0",
                  "limit=-5", "limit=201", "limit=1e3", "limit=", "limit=99999999999999999999", "limit=1.5",
                  "before=1-0&before=2-0", "limit=5&limit=x", "limit=%2B5", "before=%201-0"]:
        t.http("rest-query", f"history {query}", "GET", f"{msgs}?{query}", status(400), headers=AUTH)
    for query in ["before=%00", "limit=%00"]:   # README "The HTTP edge": lws closes on %00 in a query
        t.http("rest-query", f"history {query}", "GET", f"{msgs}?{query}", CLOSED, headers=AUTH)

    deep = "[" * 10000 + "]" * 10000
    for name, data, content_type, expect in [
        ("empty body", b"", "application/json", status(400)),
        ("not JSON", b"hello", "application/json", status(400)),
        ("truncated JSON", b'{"text":"a"', "application/json", status(400)),
        ("an array", b'["text"]', "application/json", status(400)),
        ("null", b"null", "application/json", status(400)),
        ("a string", b'"text"', "application/json", status(400)),
        ("10,000-deep nesting", deep.encode(), "application/json", status(400)),
        ("deep nesting in a field", ('{"text":' + deep + ',"clientId":"d"}').encode(), "application/json", status(400)),
        ("text not a string", b'{"text":1,"clientId":"a"}', "application/json", status(400)),
        ("text an object", b'{"text":{"a":1},"clientId":"a"}', "application/json", status(400)),
        ("text empty", b'{"text":"","clientId":"a"}', "application/json", status(400)),
        ("text only spaces", b'{"text":"   ","clientId":"a"}', "application/json", status(400)),
        ("neither text nor parts", b'{"clientId":"a"}', "application/json", status(400)),
        ("parts empty", b'{"parts":[],"clientId":"a"}', "application/json", status(400)),
        ("a part of unknown type", b'{"parts":[{"type":"script","text":"a"}]}', "application/json", status(400)),
        ("a media part without a url", b'{"parts":[{"type":"media","mime":"image/png"}]}', "application/json", status(400)),
        ("a media part at file://", b'{"parts":[{"type":"media","url":"file:///etc/passwd","mime":"image/png"}]}',
         "application/json", status(400)),
        ("a media part at gopher://", b'{"parts":[{"type":"media","url":"gopher://127.0.0.1:6379/_FLUSHALL","mime":"image/png"}]}',
         "application/json", status(400)),
        ("clientId an array", b'{"text":"a","clientId":[1]}', "application/json", status(400)),
        ("clientId of 5000 bytes", json.dumps({"text": "a", "clientId": "c" * 5000}).encode(), "application/json", status(400)),
        ("authorName a number", b'{"text":"a","clientId":"a","authorName":5}', "application/json", status(400)),
        ("invalid UTF-8", b'{"text":"\xff\xfe","clientId":"a"}', "application/json", status(400)),
        ("a lone surrogate", b'{"text":"\\ud800","clientId":"a"}', "application/json", status(400)),
        ("NaN", b'{"text":NaN,"clientId":"a"}', "application/json", status(400)),
        ("a number past double", b'{"text":"a","clientId":"a","x":1e999}', "application/json", status(400)),
        ("trailing garbage", b'{"text":"a","clientId":"a"} x', "application/json", status(400)),
        ("a control character raw in a string", b'{"text":"a\x01b","clientId":"a"}', "application/json", status(400)),
        ("text past the length limit", json.dumps({"text": "长" * 20000, "clientId": "a"}).encode(), "application/json",
         status(400, 413)),
        ("text/plain", b'{"text":"a","clientId":"a"}', "text/plain", status(415)),
        ("form encoded", b"text=a&clientId=a", "application/x-www-form-urlencoded", status(415)),
        ("no content type", b'{"text":"a","clientId":"a"}', None, status(415)),
        ("a body past max_body_bytes", json.dumps({"text": "a", "clientId": "a", "pad": "x" * 70000}).encode(),
         "application/json", status(413)),
    ]:
        headers = {**AUTH, **({"Content-Type": content_type} if content_type else {})}
        t.http("rest-body", f"POST messages: {name}", "POST", msgs, expect, headers=headers, data=data)

    for name, path, headers, expect in [
        ("no token", "/v1/media/sms-main/m1", {}, status(401)),
        ("the API key", "/v1/media/sms-main/m1", AUTH, status(401)),
        ("a bad token", "/v1/media/sms-main/m1", {"Authorization": "Bearer nope"}, status(401)),
        ("an unknown channel", "/v1/media/nope/m1", {"Authorization": f"Bearer {token('ana')}"}, status(404)),
        ("an unknown id", "/v1/media/sms-main/m1", {"Authorization": f"Bearer {token('ana')}"}, status(404)),
        # lws decodes %2f and folds the `..` away before the broker sees the path: /v1/etc/passwd, a REST 401.
        ("a traversal id", "/v1/media/sms-main/..%2f..%2fetc%2fpasswd", {"Authorization": f"Bearer {token('ana')}"},
         CLIENT_ERROR),
        ("a 2000-byte id", "/v1/media/sms-main/" + "m" * 2000, {"Authorization": f"Bearer {token('ana')}"},
         status(400, 404)),
        ("no id", "/v1/media/sms-main/", {"Authorization": f"Bearer {token('ana')}"}, status(400, 404)),
        ("extra segments", "/v1/media/sms-main/m1/x/y", {"Authorization": f"Bearer {token('ana')}"}, status(400, 404)),
    ]:
        t.http("media", name, "GET", path, expect, headers=headers)


def test_hostile_http_framing_and_rest(start_broker, redis):
    broker, visitor, conversation = start(start_broker, redis)
    tier = Tier(broker, redis)
    framing_cases(tier, conversation)
    rest_cases(tier, conversation)

    def legit():
        r = broker.post(f"/v1/conversations/{conversation}/messages", headers=AUTH,
                        json={"text": "之后", "clientId": "after-1"})
        assert r.status_code in (200, 201), r.text
    tier.finish(at_least=175, legit=legit)
    visitor.close()


# -- webhooks ------------------------------------------------------------------------------------

def twilio_signature(url: str, pairs: list[tuple[str, str]], key: str = TWILIO_TOKEN) -> str:
    """Twilio's X-Twilio-Signature (https://www.twilio.com/docs/usage/security#validating-requests)."""
    import base64
    data = url + "".join(k + v for k, v in sorted(pairs))
    return base64.b64encode(hmac.new(key.encode(), data.encode(), hashlib.sha1).digest()).decode()


def sms_form(**over) -> dict:
    params = {"MessageSid": "SMhostile1", "SmsSid": "SMhostile1", "AccountSid": "AC1", "From": "+8613800138000",
              "To": "+8610690000", "Body": "hostile", "NumMedia": "0"}
    params.update(over)
    return {k: v for k, v in params.items() if v is not None}


def sha1(*values: str) -> str:
    return hashlib.sha1("".join(sorted(values)).encode()).hexdigest()


def twilio_cases(t: Tier) -> None:
    c, path = "webhook-twilio", "/v1/channels/sms-main/twilio"
    form = "application/x-www-form-urlencoded"

    def post(name, params, signature, expect=CLIENT_ERROR, content_type=form, body=None, url_path=path):
        headers = {"Content-Type": content_type} if content_type else {}
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        data = body if body is not None else urllib.parse.urlencode(params).encode()
        t.http(c, name, "POST", url_path, expect, headers=headers, data=data)

    good = sms_form()
    sig = twilio_signature(TWILIO_PUBLIC, list(good.items()))
    post("unsigned", good, None, status(403))
    post("an empty signature", good, "", status(403))
    post("a bad signature", good, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", status(403))
    post("a signature of 3000 bytes", good, "A" * 3000, status(403))
    post("signed for another URL", good, twilio_signature("https://evil.example/hook", list(good.items())), status(403))
    post("signed with another token", good, twilio_signature(TWILIO_PUBLIC, list(good.items()), "other"), status(403))
    post("the signature of other parameters", sms_form(Body="changed"), sig, status(403))
    post("signed, then a parameter appended", None, sig, status(403),
         body=urllib.parse.urlencode(good).encode() + b"&Extra=1")
    post("the status route with an inbound signature", good, sig, status(403), url_path=path + "/status")
    for name, params in [("no MessageSid", sms_form(MessageSid=None, SmsSid=None)), ("no From", sms_form(From=None)),
                         ("From not a number", sms_form(From="not-a-number")), ("From empty", sms_form(From="")),
                         ("a MessageSid of 5000 bytes", sms_form(MessageSid="S" * 5000, SmsSid="S" * 5000)),
                         ("NumMedia not a number", sms_form(NumMedia="abc")),
                         ("NumMedia negative", sms_form(NumMedia="-1")),
                         ("NumMedia past 10", sms_form(NumMedia="99999999999999999999")),
                         ("NumMedia 1 without a MediaUrl0", sms_form(NumMedia="1")),
                         ("a media URL at file://", sms_form(NumMedia="1", MediaUrl0="file:///etc/passwd",
                                                            MediaContentType0="image/png")),
                         ("neither a body nor media", sms_form(Body=None))]:
        post(f"signed, {name}", params, twilio_signature(TWILIO_PUBLIC, list(params.items())), status(400))
    for name, body in [("a bad % escape", b"MessageSid=SM1&From=%zz&Body=a"),
                       ("invalid UTF-8 in a value", b"MessageSid=SM1&From=%2B8613800138000&Body=%ff%fe"),
                       ("a NUL in a value", b"MessageSid=SM%001&From=%2B8613800138000&Body=a"),
                       ("not a form at all", b"\x00\x01\x02\xff")]:
        post(f"signed bytes: {name}", None, sig, CLIENT_ERROR, body=body)
    for content_type in ["application/json", "text/plain", "multipart/form-data; boundary=x", None]:
        post(f"content type {content_type}", good, sig, status(415), content_type=content_type)
    status_form = {"MessageSid": "SMstatus1", "AccountSid": "AC1", "MessageStatus": "delivered"}
    for name, params in [("no MessageSid", {k: v for k, v in status_form.items() if k != "MessageSid"}),
                         ("no MessageStatus", {k: v for k, v in status_form.items() if k != "MessageStatus"})]:
        post(f"status, {name}", params, twilio_signature(TWILIO_PUBLIC + "/status", list(params.items())), status(400),
             url_path=path + "/status")


def voice_cases(t: Tier) -> None:
    """Twilio Voice callbacks and a PBX's events: forged, malformed, or naming a call the broker never
    saw (acknowledged, nothing stored: Twilio must not retry it)."""
    c, form = "webhook-voice", "application/x-www-form-urlencoded"
    call = {"CallSid": "CAhostile1", "AccountSid": "AC1", "From": "+8613800138000", "To": "+8612345000", "CallStatus": "ringing"}

    def post(name, suffix, params, signature="sign", expect=CLIENT_ERROR, content_type=form, body=None):
        url = VOICE_PUBLIC + suffix
        headers = {"Content-Type": content_type} if content_type else {}
        if signature == "sign":
            signature = twilio_signature(url, list(params.items()))
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        data = body if body is not None else urllib.parse.urlencode(params).encode()
        t.http(c, name, "POST", "/v1/channels/call-main/twilio" + suffix, expect, headers=headers, data=data)

    post("incoming, unsigned", "", call, None, status(403))
    post("incoming, signed for the SMS URL", "", call, twilio_signature(TWILIO_PUBLIC, list(call.items())), status(403))
    post("gather, signed without its query", "/gather?attempt=1", {**call, "Digits": "1"},
         twilio_signature(VOICE_PUBLIC + "/gather", list({**call, "Digits": "1"}.items())), status(403))
    for name, suffix, params in [
            ("incoming, no CallSid", "", {k: v for k, v in call.items() if k != "CallSid"}),
            ("incoming, a CallSid with markup", "", {**call, "CallSid": "CA<script>"}),
            ("incoming, a CallSid of 5000 bytes", "", {**call, "CallSid": "C" * 5000}),
            ("incoming, CallStatus completed", "", {**call, "CallStatus": "completed"}),
            ("incoming, no From", "", {k: v for k, v in call.items() if k != "From"}),
            ("gather, digits that are not keys", "/gather", {**call, "Digits": "1;DROP"}),
            ("gather, a bad attempt", "/gather?attempt=x", {**call, "Digits": "1"}),
            ("queue, an unknown QueueResult", "/queue", {**call, "QueueResult": "exploded"}),
            ("queue, QueueTime negative", "/queue", {**call, "QueueResult": "hangup", "QueueTime": "-5"}),
            ("status, an unknown CallStatus", "/status", {**call, "CallStatus": "vanished"}),
            ("status, CallDuration not a number", "/status", {**call, "CallStatus": "completed", "CallDuration": "long"}),
            ("agent leg without ParentCallSid", "/status?leg=agent", {**call, "CallStatus": "completed"}),
            ("recording at file://", "/recording", {**call, "RecordingSid": "RE1", "RecordingUrl": "file:///etc/passwd"}),
            ("recording without RecordingSid", "/recording", {**call, "RecordingUrl": "https://api.twilio.com/r"})]:
        post(f"signed: {name}", suffix, params, expect=status(400))
    post("content type application/json", "", call, content_type="application/json", expect=status(415))
    # Reports about a call the broker never saw: 200, nothing stored.
    for suffix, params in [("/status", {**call, "CallStatus": "completed", "SequenceNumber": "3"}),
                           ("/wait", {**call, "QueueTime": "3"}), ("/gather?attempt=1", {**call, "Digits": "2"}),
                           ("/recording", {**call, "RecordingSid": "RE9", "RecordingUrl": "https://api.twilio.com/r/RE9"})]:
        post(f"signed: {suffix} for an unknown call", suffix, params, expect=status(200))

    def pbx(name, body: bytes, signature: str | None = "sign", expect=CLIENT_ERROR, content_type="application/json"):
        headers = {"Content-Type": content_type}
        if signature == "sign":
            signature = "sha256=" + hmac.new(PBX_SECRET, body, hashlib.sha256).hexdigest()
        if signature is not None:
            headers["X-Signature"] = signature
        t.http(c, name, "POST", "/v1/channels/pbx/events", expect, headers=headers, data=body)

    good = b'{"event":"call.incoming","call_id":"fs-hostile","from":"13800138000"}'
    pbx("pbx, unsigned", good, None, status(403))
    pbx("pbx, signed with another secret", good, "sha256=" + hmac.new(b"other", good, hashlib.sha256).hexdigest(), status(403))
    for name, body in json_cases() + [
            ("an unknown event", b'{"event":"call.dance","call_id":"a"}'),
            ("incoming without from", b'{"event":"call.incoming","call_id":"a"}'),
            ("incoming with an undeclared skill", b'{"event":"call.incoming","call_id":"a","from":"1","skill":"nope"}'),
            ("a call_id with a space", b'{"event":"call.waiting","call_id":"a b"}'),
            ("status with a negative duration", b'{"event":"call.status","call_id":"a","status":"completed","duration":-1}'),
            ("voicemail at file://", b'{"event":"call.voicemail","call_id":"a","recording_url":"file:///etc/passwd"}')]:
        pbx(f"pbx, signed: {name}", body, expect=status(400))
    pbx("pbx, status for an unknown call", b'{"event":"call.status","call_id":"nobody","status":"completed","sequence":1}',
        expect=status(200))


def json_cases() -> list[tuple[str, bytes]]:
    """Bodies that are not a JSON object a webhook could take, for every JSON webhook."""
    deep = b"[" * 10000 + b"]" * 10000
    return [("empty", b""), ("not JSON", b"hello"), ("truncated", b'{"id":"a"'), ("null", b"null"),
            ("a number", b"12"), ("10,000-deep nesting", deep), ("invalid UTF-8", b'{"id":"\xff"}'),
            ("a lone surrogate", b'{"id":"\\udc00"}'), ("NaN", b'{"id":NaN}'), ("trailing garbage", b'{} {}'),
            ("a raw control character", b'{"id":"a\x01"}'), ("a BOM then JSON", b"\xef\xbb\xbf{}")]


def generic_cases(t: Tier) -> None:
    c, path = "webhook-generic", "/v1/channels/sms-gw/generic"

    def post(name, body: bytes, signature: str | None, expect=CLIENT_ERROR, url_path=path, content_type="application/json"):
        headers = {"Content-Type": content_type}
        if signature is not None:
            headers["X-Signature"] = signature
        t.http(c, name, "POST", url_path, expect, headers=headers, data=body)

    def signed(body: bytes) -> str:
        return "sha256=" + hmac.new(GW_SECRET, body, hashlib.sha256).hexdigest()

    good = json.dumps({"id": "gw-hostile-1", "from": "+8613800138000", "to": "+8610690000", "text": "hostile"}).encode()
    post("unsigned", good, None, status(403))
    post("a bad signature", good, "sha256=" + "0" * 64, status(403))
    post("a signature not hex", good, "sha256=zz", status(403))
    post("sha1 named", good, signed(good).replace("sha256=", "sha1="), status(403))
    post("the signature of another body", good.replace(b"hostile", b"changed"), signed(good), status(403))
    post("the signature without its prefix", good, signed(good)[7:], status(403))
    for name, body in json_cases() + [
            ("an array", b"[]"), ("no id", b'{"from":"+8613800138000","text":"a"}'),
            ("no from", b'{"id":"g1","text":"a"}'), ("id an object", b'{"id":{},"from":"+8613800138000","text":"a"}'),
            ("from a number", b'{"id":"g1","from":8613800138000,"text":"a"}'),
            ("from not a phone number", b'{"id":"g1","from":"hello","text":"a"}'),
            ("text a number", b'{"id":"g1","from":"+8613800138000","text":5}'),
            ("media not a list", b'{"id":"g1","from":"+8613800138000","media":"x"}'),
            ("a media item without url", b'{"id":"g1","from":"+8613800138000","media":[{"mime":"image/png"}]}'),
            ("a media url at file://", b'{"id":"g1","from":"+8613800138000","media":[{"url":"file:///etc/passwd"}]}'),
            ("an id of 5000 bytes", json.dumps({"id": "g" * 5000, "from": "+8613800138000", "text": "a"}).encode()),
            ("neither text nor media", b'{"id":"g1","from":"+8613800138000"}')]:
        post(f"signed: {name}", body, signed(body), status(400))
    post("content type text/plain", good, signed(good), status(415), content_type="text/plain")
    for name, body in [("no status", b'{"id":"x1"}'), ("an unknown status", b'{"id":"x1","status":"exploded"}'),
                       ("no id", b'{"status":"delivered"}'), ("status a number", b'{"id":"x1","status":1}')]:
        post(f"status, signed: {name}", body, signed(body), status(400), url_path=path + "/status")


def token_json_cases(t: Tier, c: str, path: str, token_value: str, bad_bodies: list[tuple[str, bytes]], good: bytes) -> None:
    """The Aliyun and Tencent pushes: unsigned, so the URL's `?token=` is all that stands guard."""
    for name, query in [("no token", ""), ("a wrong token", "?token=wrong"), ("an empty token", "?token="),
                        ("the token twice", f"?token={token_value}&token=wrong")]:
        t.http(c, name, "POST", path + query, CLIENT_ERROR, headers={"Content-Type": "application/json"}, data=good)
    for name, body in json_cases() + bad_bodies:
        t.http(c, f"with the token: {name}", "POST", f"{path}?token={token_value}",
               status(400, 413) if "body limit" in name else status(400),
               headers={"Content-Type": "application/json"}, data=body)
    t.http(c, "content type text/plain", "POST", f"{path}?token={token_value}", status(415),
           headers={"Content-Type": "text/plain"}, data=good)


def sms_push_cases(t: Tier) -> None:
    ali = json.dumps([{"phone_number": "13800000001", "content": "你好", "sequence_id": 1}]).encode()
    token_json_cases(t, "webhook-aliyun", "/v1/channels/sms-ali/aliyun", ALI_TOKEN, [
        ("an object, not a list", b'{"phone_number":"13800000001","content":"a","sequence_id":1}'),
        ("an empty list", b"[]"), ("a list of numbers", b"[1,2]"),
        ("no phone_number", b'[{"content":"a","sequence_id":1}]'),
        ("phone_number not a number", b'[{"phone_number":"abc","content":"a","sequence_id":1}]'),
        ("content empty", b'[{"phone_number":"13800000001","content":"","sequence_id":1}]'),
        ("no sequence_id", b'[{"phone_number":"13800000001","content":"a"}]'),
        ("sequence_id an object", b'[{"phone_number":"13800000001","content":"a","sequence_id":{}}]'),
        ("1001 items (or past the body limit)", json.dumps([{"phone_number": "13800000001", "content": "a", "sequence_id": i}
                                   for i in range(1001)]).encode()),
        ("one bad item among good ones", b'[{"phone_number":"13800000001","content":"a","sequence_id":7},'
                                         b'{"phone_number":"x","content":"a","sequence_id":8}]'),
    ], ali)
    # (1001 items are 69 KB here, past limits.max_body_bytes: 413 is the right refusal too.)
    tc = json.dumps({"mobile": "13800000001", "nationcode": "86", "text": "你好", "time": 1764790000}).encode()
    token_json_cases(t, "webhook-tencent", "/v1/channels/sms-tc/tencent", TC_TOKEN, [
        ("a list", b'[{"mobile":"13800000001","text":"a","time":1}]'),
        ("no mobile", b'{"text":"a","time":1764790000}'),
        ("mobile not a number", b'{"mobile":"abc","text":"a","time":1764790000}'),
        ("text empty", b'{"mobile":"13800000001","text":"","time":1764790000}'),
        ("no time", b'{"mobile":"13800000001","text":"a"}'),
        ("time not a number", b'{"mobile":"13800000001","text":"a","time":"abc"}'),
        ("time of 30 digits", b'{"mobile":"13800000001","text":"a","time":123456789012345678901234567890}'),
        ("nationcode of 9 digits", b'{"mobile":"13800000001","nationcode":"123456789","text":"a","time":1764790000}'),
        ("extend of 100 bytes", json.dumps({"mobile": "13800000001", "text": "a", "time": 1764790000,
                                            "extend": "e" * 100}).encode()),
    ], tc)


XXE = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       '<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>'
       '<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>')
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
          + ']><xml><MsgType>text</MsgType><Content>&lol9;</Content></xml>')
HOSTILE_XML = [
    ("XXE", XXE), ("billion laughs", LAUGHS),
    ("an external DTD", '<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/evil.dtd"><xml><MsgType>text</MsgType></xml>'),
    ("a parameter entity", '<!DOCTYPE xml [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><xml/>'),
    ("3,000-deep nesting", "<a>" * 3000 + "</a>" * 3000),
    ("unclosed", "<xml><MsgType>text</MsgType><Content>a"),
    ("empty", ""), ("not XML", '{"MsgType":"text"}'), ("two roots", "<xml></xml><xml></xml>"),
    ("a control character", "<xml><MsgType>text</MsgType><Content>a\x01b</Content></xml>"),
    ("no MsgType", "<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName><Content>a</Content></xml>"),
    ("no FromUserName", "<xml><ToUserName>gh_1</ToUserName><MsgType>text</MsgType><Content>a</Content><MsgId>1</MsgId></xml>"),
    ("a text without Content", "<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName>"
                               "<MsgType>text</MsgType><MsgId>2</MsgId></xml>"),
]


def wechat_cases(t: Tier) -> None:
    c = "webhook-wechat"
    now, nonce = str(int(time.time())), "h0stile"
    plain = "/v1/channels/wx-plain/wechat"
    good_query = {"signature": sha1(WX_TOKEN, now, nonce), "timestamp": now, "nonce": nonce, "openid": "o1"}

    def post(name, path, query, body: bytes | str, expect=CLIENT_ERROR, content_type="text/xml"):
        data = body.encode() if isinstance(body, str) else body
        t.http(c, name, "POST", path, expect, params=query, data=data, headers={"Content-Type": content_type})

    t.http(c, "URL check, no signature", "GET", plain, CLIENT_ERROR, params={"timestamp": now, "nonce": nonce, "echostr": "e"})
    t.http(c, "URL check, a bad signature", "GET", plain, status(403),
           params={"signature": "0" * 40, "timestamp": now, "nonce": nonce, "echostr": "e"})
    t.http(c, "URL check, no echostr", "GET", plain, status(400), params=good_query)
    text_xml = ("<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>"
                "<MsgType>text</MsgType><Content>a</Content><MsgId>9</MsgId></xml>")
    post("unsigned", plain, {"timestamp": now, "nonce": nonce}, text_xml)
    post("a bad signature", plain, {**good_query, "signature": "0" * 40}, text_xml, status(403))
    post("no timestamp", plain, {k: v for k, v in good_query.items() if k != "timestamp"}, text_xml)
    post("no nonce", plain, {k: v for k, v in good_query.items() if k != "nonce"}, text_xml)
    post("signed for another token", plain, {**good_query, "signature": sha1("other", now, nonce)}, text_xml, status(403))
    for name, xml in HOSTILE_XML:
        post(f"plain, signed: {name}", plain, good_query, xml, status(400))
    post("plain, signed: invalid UTF-8", plain, good_query, b"<xml><MsgType>text</MsgType><Content>\xff\xfe</Content></xml>",
         status(400))
    post("plain, signed: 300 KB", plain, good_query, "<xml><Content>" + "a" * 300000 + "</Content></xml>", status(413))

    safe = "/v1/channels/wx-safe/wechat"
    post("safe mode: a plain callback", safe, good_query, text_xml, status(403))

    def encrypted(name, inner: str, crypto=None, tamper=False, encrypt: str | None = None, expect=CLIENT_ERROR):
        crypto = crypto or WeChatCrypto(WX_TOKEN, WX_KEY, WX_APPID)
        if encrypt is None:
            encrypt = ET.fromstring(crypto.encrypt_message(inner, nonce, now)).find("Encrypt").text
        msg_signature = sha1(WX_TOKEN, now, nonce, encrypt)
        if tamper:
            msg_signature = "0" * 40
        query = {**good_query, "encrypt_type": "aes", "msg_signature": msg_signature}
        post(f"safe mode: {name}", safe, query, f"<xml><ToUserName>gh_1</ToUserName><Encrypt>{encrypt}</Encrypt></xml>", expect)

    encrypted("a bad msg_signature", text_xml, tamper=True, expect=status(403))
    encrypted("Encrypt not base64", "", encrypt="!!!not-base64!!!", expect=status(400))
    encrypted("Encrypt not whole blocks", "", encrypt="QUJDREVGR0g=", expect=status(400))
    encrypted("Encrypt empty", "", encrypt="", expect=status(400))
    encrypted("encrypted for another app id", text_xml, crypto=WeChatCrypto(WX_TOKEN, WX_KEY, "wxffffffffffffffff"))
    encrypted("encrypted with another key", text_xml,
              crypto=WeChatCrypto(WX_TOKEN, "Zx9Qm3Lp7Rt2Vw5Yb8Nc1Kd4Hf6Jg0Ts3Ua7We9Ri2O", WX_APPID))
    for name, xml in HOSTILE_XML:
        if xml:   # wechatpy refuses to encrypt an empty message
            encrypted(f"encrypted: {name}", xml, expect=status(400))
    post("safe mode: an envelope without Encrypt", safe, {**good_query, "encrypt_type": "aes", "msg_signature": "0" * 40},
         "<xml><ToUserName>gh_1</ToUserName></xml>")
    post("safe mode: an XXE envelope", safe, {**good_query, "encrypt_type": "aes", "msg_signature": "0" * 40}, XXE)

    kf = "/v1/channels/wx-kf/wechat"
    kf_crypto = WeComCrypto(KF_TOKEN, KF_KEY, CORP_ID)
    echostr = ET.fromstring(kf_crypto.encrypt_message("12345", nonce, now)).find("Encrypt").text
    t.http(c, "WeCom URL check, a bad msg_signature", "GET", kf, status(403),
           params={"msg_signature": "0" * 40, "timestamp": now, "nonce": nonce, "echostr": echostr})
    t.http(c, "WeCom URL check, echostr not base64", "GET", kf, status(400),
           params={"msg_signature": sha1(KF_TOKEN, now, nonce, "%%%"), "timestamp": now, "nonce": nonce, "echostr": "%%%"})
    t.http(c, "WeCom URL check, echostr of another corp", "GET", kf, CLIENT_ERROR,
           params=(lambda e: {"msg_signature": sha1(KF_TOKEN, now, nonce, e), "timestamp": now, "nonce": nonce, "echostr": e})(
               ET.fromstring(WeComCrypto(KF_TOKEN, KF_KEY, "wwffffffffffffffff").encrypt_message("1", nonce, now)).find("Encrypt").text))

    def kf_post(name, inner: str, crypto=kf_crypto, tamper=False, expect=CLIENT_ERROR):
        root = ET.fromstring(crypto.encrypt_message(inner, nonce, now))
        encrypt = root.find("Encrypt").text
        query = {"msg_signature": "0" * 40 if tamper else sha1(KF_TOKEN, now, nonce, encrypt), "timestamp": now, "nonce": nonce}
        post(f"WeCom: {name}", kf, query, f"<xml><ToUserName>{CORP_ID}</ToUserName><Encrypt>{encrypt}</Encrypt></xml>", expect)

    event = ("<xml><ToUserName>ww0123456789abcdef</ToUserName><CreateTime>1</CreateTime><MsgType>event</MsgType>"
             "<Event>kf_msg_or_event</Event><Token>T</Token><OpenKfId>wk1</OpenKfId></xml>")
    kf_post("a bad msg_signature", event, tamper=True, expect=status(403))
    kf_post("encrypted for another corp", event, crypto=WeComCrypto(KF_TOKEN, KF_KEY, "wwffffffffffffffff"))
    kf_post("an event without Token", event.replace("<Token>T</Token>", ""), expect=status(400))
    kf_post("an event without OpenKfId", event.replace("<OpenKfId>wk1</OpenKfId>", ""), expect=status(400))
    for name, xml in HOSTILE_XML[:6]:
        kf_post(f"encrypted: {name}", xml, expect=status(400))

    for name, method, path, expect in [
        ("an unknown channel", "POST", "/v1/channels/nope/twilio", status(404)),
        ("a channel id of 300 bytes", "POST", "/v1/channels/" + "c" * 300 + "/twilio", status(404)),
        ("another provider's route", "POST", "/v1/channels/sms-main/generic", status(404)),
        ("a WeChat route on an SMS channel", "POST", "/v1/channels/sms-main/wechat", status(404)),
        ("an SMS route on a WeChat channel", "POST", "/v1/channels/wx-plain/twilio", status(404)),
        ("no channel", "POST", "/v1/channels//twilio", CLIENT_ERROR),
        ("GET on an inbound route", "GET", "/v1/channels/sms-main/twilio", status(405)),
        ("PUT on the WeChat route", "PUT", plain, status(405)),
        ("a route below a route", "POST", "/v1/channels/sms-main/twilio/status/x", status(404)),
    ]:
        t.http("webhook-routing", name, method, path, expect, data=b"a=b",
               headers={"Content-Type": "application/x-www-form-urlencoded"})


def test_hostile_webhooks(start_broker, redis):
    broker, visitor, _ = start(start_broker, redis)
    tier = Tier(broker, redis)
    twilio_cases(tier)
    generic_cases(tier)
    sms_push_cases(tier)
    wechat_cases(tier)
    voice_cases(tier)

    def legit():
        params = sms_form(MessageSid="SMafter1", SmsSid="SMafter1", Body="之后")
        r = broker.post("/v1/channels/sms-main/twilio", data=params,
                        headers={"X-Twilio-Signature": twilio_signature(TWILIO_PUBLIC, list(params.items()))})
        assert r.status_code == 200, r.text
    tier.finish(at_least=220, legit=legit)
    visitor.close()



# -- the WebSockets ------------------------------------------------------------------------------

VISITOR, AGENT = ("/v1/visitor", "switchboard.visitor.v1"), ("/v1/agent", "switchboard.agent.v1")
# The WebSocket's 4xx: every code an `error` event may carry except `internal` and `unavailable`.
REFUSED = error_event("bad_request", "unknown_type", "not_found", "forbidden", "conflict", "unauthenticated",
                      "too_large", "rate_limited")
LWS_DROPS = Expect("the socket closed without a close frame (README: lws drops it)", lambda o: o.kind == "ws-eof")
# Frames any of our sockets refuses the same way, before or after hello/auth.
BAD_FRAMES = [
    ("a binary frame", frame(0x2, b"\x00\x01"), close_code(1003)),
    ("a message past max_ws_message_bytes", text('{"type":"ping","pad":"' + "x" * 70000 + '"}'), close_code(1009)),
    ("a fragmented message past the limit", frame(0x1, b'{"type":"ping","pad":"' + b"x" * 40000, fin=False)
     + frame(0x0, b"x" * 40000 + b'"}'), close_code(1009)),
    ("a header announcing 2^63 bytes, then 8 KiB", bytes([0x81, 0xFF]) + (2 ** 63 - 1).to_bytes(8, "big") + b"mask"
     + b"x" * 8192, close_code(1009)),
    ("a close with code 5000", frame(0x8, b"\x13\x88bye"), close_code(1002)),
    ("a close with code 1005", frame(0x8, b"\x03\xed"), close_code(1002)),
    ("a close with code 2999", frame(0x8, b"\x0b\xb7"), close_code(1002)),
    ("a close of 1 byte", frame(0x8, b"\x03"), close_code(1002)),
    ("RSV1 without an extension", frame(0x1, b'{"type":"ping"}', rsv=4), close_code(1002)),
    ("reserved data opcode 3", frame(0x3, b"x"), close_code(1002)),
    ("reserved control opcode 0xB", frame(0xB, b"x"), close_code(1002)),
    ("a fragmented ping", frame(0x9, b"x", fin=False), close_code(1002)),
    ("a continuation with nothing to continue", frame(0x0, b"x"), close_code(1002)),
    ("a new message inside a fragmented one", frame(0x1, b'{"type":', fin=False) + frame(0x1, b'"ping"}'),
     close_code(1002)),
    ("text that is not UTF-8", frame(0x1, b'{"type":"ping","x":"\xff"}'), close_code(1007)),
    ("a ping of 126 bytes", frame(0x9, b"x" * 126), LWS_DROPS),
    ("a close whose reason is not UTF-8", frame(0x8, b"\x03\xe8\xff"), LWS_DROPS),
    ("not JSON", text("hello"), REFUSED), ("a JSON array", text("[]"), REFUSED), ("JSON null", text("null"), REFUSED),
    ("10,000-deep nesting", text("[" * 10000 + "]" * 10000), REFUSED),
    ("no type", text('{"ref":"r"}'), REFUSED), ("type a number", text('{"type":7}'), REFUSED),
    ("an unknown type", text('{"type":"shutdown"}'), REFUSED),
    ("a 2000-byte type", text(json.dumps({"type": "t" * 2000})), REFUSED),
    ("ref an object", text('{"type":"nope","ref":{"a":1}}'), REFUSED),
    ("a lone surrogate", text('{"type":"\\ud800"}'), REFUSED),
    ("duplicate keys", text('{"type":"ping","type":"shutdown"}'), either(REFUSED, Expect("pong", lambda o: any(
        '"pong"' in e for e in o.events)))),
]


def ws_case(t: Tier, cls: str, name: str, where: tuple[str, str], opening: list[bytes], data: bytes, expect,
            headers: dict | None = None, wait: float = 5) -> None:
    """A fresh socket: the opening frames (answers read and dropped), then `data`, then what comes back."""
    s = RawSocket(t.broker.port, where[0], headers=headers, protocol=where[1])
    try:
        if not s.upgraded:
            t.ledger.add(cls, name, s.handshake_outcome(), expect)
            return
        for f in opening:
            s.send(f)
            s.events_until(lambda e: True, wait=3)
        s.raw = b""
        s.send(data)
        t.ledger.add(cls, name, s.events_until(lambda e: is_error(e) or '"ready"' in e or '"pong"' in e, wait=wait), expect)
    finally:
        s.close()


def on_socket(t: Tier, cls: str, name: str, s: RawSocket, command: dict, expect=REFUSED) -> None:
    """One command on a socket kept open across cases (a visitor after hello, an agent after auth),
    with a ref of its own: only the answer naming that ref counts."""
    ref = f"case-{len(t.ledger.records)}"
    s.raw = b""
    s.send(text(json.dumps({**command, "ref": ref})))
    marker = f'"ref":"{ref}"'
    outcome = s.events_until(lambda e: marker in e, wait=5)
    outcome.events = [e for e in outcome.events if marker in e]
    t.ledger.add(cls, name, outcome, expect)


def handshake_cases(t: Tier) -> None:
    c = "ws-handshake"
    for where in (VISITOR, AGENT):
        for name, headers, expect in [
            ("version 8", {"Sec-WebSocket-Version": "8"}, status(426)),
            ("no version", {"Sec-WebSocket-Version": None}, status(400)),
            ("a 3-character key", {"Sec-WebSocket-Key": "abc"}, status(400)),
            ("no key", {"Sec-WebSocket-Key": None}, status(400)),
            ("a key of 17 bytes", {"Sec-WebSocket-Key": "QUJDREVGR0hJSktMTU5PUFE="}, status(400)),
            ("a NUL in Origin", {"Origin": "https://a\x00b"}, status(400)),
            ("a NUL in the key", {"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ\x00="}, status(400)),
            ("an unknown subprotocol", {"Sec-WebSocket-Protocol": "evil"}, status(400)),
            ("the internal Redis protocol", {"Sec-WebSocket-Protocol": "sb-redis"}, status(400)),
            ("sb-redis listed first", {"Sec-WebSocket-Protocol": f"sb-redis, {where[1]}"}, status(400)),
            ("the http protocol", {"Sec-WebSocket-Protocol": "http"}, status(400)),
        ]:
            ws_case(t, c, f"{where[0]}: {name}", where, [], b"", expect, headers=headers)
    ws_case(t, c, "an unknown WebSocket path", ("/v1/admin", AGENT[1]), [], b"", status(404))


def visitor_cases(t: Tier, visitor: RawSocket, conversation: str) -> None:
    hello = text('{"type":"hello","channel":"web"}')
    for name, data, expect in BAD_FRAMES:
        ws_case(t, "ws-frames", f"visitor before hello: {name}", VISITOR, [], data, expect)
        ws_case(t, "ws-frames", f"visitor after hello: {name}", VISITOR, [hello], data, expect)
    c = "ws-visitor"
    ws_case(t, c, "no hello within auth_timeout", VISITOR, [], b"", close_code(4401), wait=6)
    for name, command in [
        ("a message before hello", {"type": "message.send", "text": "a", "clientId": "x"}),
        ("csat before hello", {"type": "csat", "rating": 5}),
        ("hello for an unknown channel", {"type": "hello", "channel": "nope"}),
        ("hello for an SMS channel", {"type": "hello", "channel": "sms-main"}),
        ("hello for a WeChat channel", {"type": "hello", "channel": "wx-plain"}),
        ("hello with a number for channel", {"type": "hello", "channel": 1}),
        ("hello without a channel", {"type": "hello"}),
        ("hello with a 10 KB name", {"type": "hello", "channel": "web", "name": "n" * 10000}),
        ("hello with a bad email", {"type": "hello", "channel": "web", "email": "not an email"}),
        ("hello with a 600-byte token", {"type": "hello", "channel": "web", "visitorToken": "t" * 600}),
        ("hello with a token an array", {"type": "hello", "channel": "web", "visitorToken": ["x"]}),
    ]:
        ws_case(t, c, name, VISITOR, [], text(json.dumps(command)), REFUSED)
    # A forged token is not an error (DESIGN §9): it starts a fresh visitor, never someone else's conversation.
    ws_case(t, c, "hello with a forged token", VISITOR, [], text(json.dumps(
        {"type": "hello", "channel": "web", "visitorToken": "dl9hYWFhYWFhYWFhYWFhYWFhYWFhYWFh.forged"})),
        Expect("ready with no conversation", lambda o: any('"ready"' in e and '"conversationId"' not in e for e in o.events)))
    for name, command in [
        ("a second hello", {"type": "hello", "channel": "web"}),
        ("message.send without text", {"type": "message.send", "clientId": "h1"}),
        ("text a number", {"type": "message.send", "text": 5, "clientId": "h2"}),
        ("text empty", {"type": "message.send", "text": "", "clientId": "h3"}),
        ("text blank", {"type": "message.send", "text": " \n\t", "clientId": "h4"}),
        ("text of 4001 characters", {"type": "message.send", "text": "字" * 4001, "clientId": "h5"}),
        ("no clientId", {"type": "message.send", "text": "a"}),
        ("a clientId of 1000 bytes", {"type": "message.send", "text": "a", "clientId": "c" * 1000}),
        ("clientId a number", {"type": "message.send", "text": "a", "clientId": 7}),
        ("csat rating 0", {"type": "csat", "rating": 0}),
        ("csat rating 6", {"type": "csat", "rating": 6}),
        ("csat rating a string", {"type": "csat", "rating": "5"}),
        ("csat rating 4.5", {"type": "csat", "rating": 4.5}),
        ("csat of an unknown conversation", {"type": "csat", "rating": 5, "conversationId": "nope"}),
        ("csat of the open conversation", {"type": "csat", "rating": 5, "conversationId": conversation}),
        ("csat of a conversation id of 500 bytes", {"type": "csat", "rating": 5, "conversationId": "c" * 500}),
        ("a comment of 10 KB", {"type": "csat", "rating": 5, "comment": "c" * 10000}),
    ]:
        on_socket(t, c, f"after hello: {name}", visitor, command)


def agent_cases(t: Tier, agent: RawSocket, conversation: str) -> None:
    auth = text(json.dumps({"type": "auth", "token": token("bo")}))
    for name, data, expect in BAD_FRAMES:
        ws_case(t, "ws-frames", f"agent before auth: {name}", AGENT, [], data, expect)
    c = "ws-agent"
    ws_case(t, c, "no auth within auth_timeout", AGENT, [], b"", close_code(4401), wait=6)
    for name, command, expect in [
        ("a wrong token", {"type": "auth", "token": "wrong"}, close_code(4401)),
        ("an empty token", {"type": "auth", "token": ""}, either(close_code(4401), REFUSED)),
        ("the API key as a token", {"type": "auth", "token": API_KEY}, close_code(4401)),
        ("a token of 10 KB", {"type": "auth", "token": "t" * 10000}, either(close_code(4401), REFUSED)),
        ("a token an object", {"type": "auth", "token": {"$ne": None}}, either(close_code(4401), REFUSED)),
        ("a message before auth", {"type": "message.send", "conversationId": conversation, "text": "a", "clientId": "x"},
         either(close_code(4401), REFUSED)),
        ("presence before auth", {"type": "presence.set", "status": "available"}, either(close_code(4401), REFUSED)),
    ]:
        ws_case(t, c, name, AGENT, [], text(json.dumps(command)), expect)
    del auth
    for name, command in [
        ("a second auth", {"type": "auth", "token": token("ana")}),
        ("accept an unknown offer", {"type": "offer.accept", "offerId": "nope"}),
        ("accept an offer id of 1000 bytes", {"type": "offer.accept", "offerId": "o" * 1000}),
        ("reject an unknown offer", {"type": "offer.reject", "offerId": "nope"}),
        ("reply into an unknown conversation", {"type": "message.send", "conversationId": "nope", "text": "a", "clientId": "a1"}),
        ("reply into a conversation not hers", {"type": "message.send", "conversationId": conversation, "text": "a",
                                                "clientId": "a2"}),
        ("reply with a media part at file://", {"type": "message.send", "conversationId": conversation, "clientId": "a3",
                                                "parts": [{"type": "media", "url": "file:///etc/passwd", "mime": "image/png"}]}),
        ("reply with a part of unknown type", {"type": "message.send", "conversationId": conversation, "clientId": "a4",
                                               "parts": [{"type": "shell", "cmd": "id"}]}),
        ("reply with text and parts", {"type": "message.send", "conversationId": conversation, "clientId": "a5", "text": "a",
                                       "parts": [{"type": "text", "text": "b"}]}),
        ("history of an unknown conversation", {"type": "history", "conversationId": "nope"}),
        ("history before past 2^64", {"type": "history", "conversationId": conversation, "before": "18446744073709551616-0"}),
        ("history limit 0", {"type": "history", "conversationId": conversation, "limit": 0}),
        ("history limit a string", {"type": "history", "conversationId": conversation, "limit": "10"}),
        ("transfer an unknown conversation", {"type": "conversation.transfer", "conversationId": "nope", "toSkill": "general"}),
        ("transfer a conversation not hers", {"type": "conversation.transfer", "conversationId": conversation,
                                              "toSkill": "general"}),
        ("transfer to an unknown skill", {"type": "conversation.transfer", "conversationId": conversation, "toSkill": "nope"}),
        ("transfer to an unknown agent", {"type": "conversation.transfer", "conversationId": conversation, "toAgent": "nope"}),
        ("close an unknown conversation", {"type": "conversation.close", "conversationId": "nope"}),
        ("close a conversation not hers", {"type": "conversation.close", "conversationId": conversation}),
        ("presence an unknown status", {"type": "presence.set", "status": "sleeping"}),
        ("presence a number", {"type": "presence.set", "status": 1}),
        ("typing without a conversation", {"type": "typing"}),
        ("a conversation id of 1000 bytes", {"type": "history", "conversationId": "c" * 1000}),
    ]:
        on_socket(t, c, f"after auth: {name}", agent, command)


def test_hostile_websockets(start_broker, redis):
    broker, visitor, conversation = start(start_broker, redis)
    agent = RawSocket(broker.port, AGENT[0], protocol=AGENT[1])
    agent.send(text(json.dumps({"type": "auth", "token": token("ana")})))
    assert '"welcome"' in " ".join(agent.events_until(lambda e: '"welcome"' in e).events)
    tier = Tier(broker, redis)
    handshake_cases(tier)
    visitor_cases(tier, visitor, conversation)
    agent_cases(tier, agent, conversation)

    def legit():
        visitor.send(text('{"type":"message.send","text":"之后","clientId":"after-1","ref":"z"}'))
        answer = visitor.events_until(lambda e: '"ref":"z"' in e)
        assert any('"ack"' in e and conversation in e for e in answer.events), answer.describe()
    tier.finish(at_least=160, legit=legit)
    visitor.close()
    agent.close()
