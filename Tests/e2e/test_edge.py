"""The HTTP and WebSocket edge (issue 9, docs/architecture.md "The edge"): malformed requests get a
JSON answer or a close within `limits.request_timeout`, internal errors never reach a client, header
values with NUL/CR/LF are refused, and the WebSocket handshake and close frames follow RFC 6455."""

import base64
import json
import os
import socket
import struct
import time
import urllib.parse

from clients import Agent, Visitor
from harness import SMS_FROM, TWILIO_AUTH_TOKEN, token


def exchange(broker, data: bytes, wait: float = 15) -> tuple[float, bytes]:
    """Sends `data` on a fresh connection; returns (seconds until EOF, everything received)."""
    s = socket.create_connection(("127.0.0.1", broker.port))
    s.settimeout(wait)
    start = time.monotonic()
    s.sendall(data)
    out = b""
    try:
        while chunk := s.recv(65536):
            out += chunk
    except socket.timeout:
        out += b"<no close>"
    finally:
        s.close()
    return time.monotonic() - start, out


def status_and_json(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 "), raw
    return int(head.split(b" ")[1]), json.loads(body)


def assert_json_error(raw: bytes, status: int, code: str) -> dict:
    got_status, body = status_and_json(raw)
    assert (got_status, body["error"]["code"]) == (status, code), raw
    return body["error"]


async def test_history_validates_its_query_and_never_shows_a_redis_error(broker):
    visitor = await Visitor.connect(broker)
    cid = (await visitor.say("历史"))["conversationId"]
    for query in ["before=99999999999999999999999-0", "before=18446744073709551616-0", "before=1-2-3",
                  "limit=abc", "limit=0", "limit=201"]:
        r = broker.api_get(f"/v1/conversations/{cid}/messages?{query}")
        assert r.status_code == 400, (query, r.status_code, r.text)
        assert r.json()["error"]["code"] == "bad_request"
        for leak in ("ERR", "script", "stream ID"):
            assert leak not in r.text, (query, r.text)
    assert broker.api_get(f"/v1/conversations/{cid}/messages?before=18446744073709551615-0&limit=200").status_code == 200

    # The agent socket's `history` takes the same rule (it took 20-digit parts past 2^64 - 1).
    ana = await Agent.connect(broker, "ana", token("ana"))
    answer = await ana.request({"type": "history", "conversationId": cid, "before": "18446744073709551616-0"})
    assert (answer["type"], answer["code"]) == ("error", "bad_request"), answer
    assert "ERR" not in json.dumps(answer), answer


def test_a_nul_in_a_header_value_is_refused(broker):
    from twilio.request_validator import RequestValidator
    params = {"MessageSid": "SMnul1", "SmsSid": "SMnul1", "AccountSid": "AC1", "From": "+8613800138000",
              "To": SMS_FROM, "Body": "NUL", "NumMedia": "0"}
    body = urllib.parse.urlencode(params).encode()
    signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(broker.sms_url, params)
    path = broker.sms_url[len(broker.base):]
    # (A bare CR inside a value never reaches the broker: lws drops it while parsing, README.)
    for content_type in [b"application/x-www-form-urlencoded\x00x", b"application/x-www-form-urlencoded\x00; charset=utf-8"]:
        request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Twilio-Signature: {signature}\r\n".encode()
                   + b"Content-Type: " + content_type + f"\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        _, raw = exchange(broker, request)
        error = assert_json_error(raw, 400, "bad_request")
        assert "content-type" in error["message"], error
    # The same request with a clean value is stored (the signature was right all along).
    assert broker.post_twilio(broker.sms_url, params).status_code == 200


def test_connect_and_broken_lengths_are_answered(broker):
    took, raw = exchange(broker, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
    assert_json_error(raw, 501, "not_implemented")
    assert took < 5, took
    for length in (b"-1", b"18446744073709551616"):
        took, raw = exchange(broker, b"POST /v1/conversations/c1/messages HTTP/1.1\r\nHost: a\r\nContent-Length: " + length + b"\r\n\r\n")
        assert_json_error(raw, 400, "bad_request")
        assert took < 5, took


def test_request_timeout_bounds_slow_headers_and_bodies(start_broker, redis):
    broker = start_broker(redis, overrides={"limits": {"request_timeout": "1s"}})
    # Headers that never end: closed (lws answers nothing before the blank line). lws' own bound was 10 s.
    took, raw = exchange(broker, b"GET /healthz HTTP/1.1\r\nHost: a\r\n")
    assert raw == b"" and took < 6, (took, raw)
    # A chunked body with a bad chunk size: lws waits for more; the deadline answers 408 (was 20 s, nothing).
    took, raw = exchange(broker, b"POST /v1/conversations/c1/messages HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n")
    assert_json_error(raw, 408, "request_timeout")
    assert took < 6, took
    # A body that is announced and never sent.
    took, raw = exchange(broker, b"POST /v1/conversations/c1/messages HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
    assert_json_error(raw, 408, "request_timeout")
    assert took < 6, took


def test_lws_answers_some_malformed_requests_itself_as_the_readme_says(broker):
    # README "The HTTP edge": these never reach the broker; lws answers 403 with its HTML page.
    for request in [b"GET\r\n\r\n", b"FOO /healthz HTTP/1.1\r\nHost: a\r\n\r\n", b"GET /healthz%zz HTTP/1.1\r\nHost: a\r\n\r\n"]:
        _, raw = exchange(broker, request)
        assert raw.startswith(b"HTTP/1.0 403 Forbidden\r\ncontent-type: text/html\r\n"), (request, raw)


def ws_handshake(broker, headers: dict[str, str]) -> tuple[socket.socket, bytes]:
    s = socket.create_connection(("127.0.0.1", broker.port))
    s.settimeout(10)
    lines = ["GET /v1/agent HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            break
        head += chunk
    return s, head


def test_the_websocket_handshake_requires_version_13_and_a_16_byte_key(broker):
    key = base64.b64encode(os.urandom(16)).decode()
    for headers, status in [({"Sec-WebSocket-Version": "8", "Sec-WebSocket-Key": key}, 426),
                            ({"Sec-WebSocket-Key": key}, 400),
                            ({"Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "abc"}, 400)]:
        s, head = ws_handshake(broker, headers)
        s.close()
        assert head.startswith(f"HTTP/1.1 {status} ".encode()), (headers, head)
        if status == 426:
            assert b"sec-websocket-version: 13" in head.lower(), head
    s, head = ws_handshake(broker, {"Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": key})
    s.close()
    assert head.startswith(b"HTTP/1.1 101 "), head


def masked_frame(opcode: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_frame(s: socket.socket) -> tuple[int, bytes]:
    head = s.recv(2)
    assert len(head) == 2, head
    length = head[1] & 0x7F
    payload = b""
    while len(payload) < length:
        payload += s.recv(length - len(payload))
    return head[0] & 0x0F, payload


def test_invalid_close_frames_are_answered_with_1002(broker):
    for payload in [struct.pack("!H", 5000) + b"bye", struct.pack("!H", 65535), b"\x03"]:
        s, head = ws_handshake(broker, {"Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()})
        assert head.startswith(b"HTTP/1.1 101 "), head
        s.sendall(masked_frame(0x8, payload))
        opcode, answer = read_frame(s)
        s.close()
        assert opcode == 0x8 and struct.unpack("!H", answer[:2])[0] == 1002, (payload, answer)
    # A valid close is echoed as before.
    s, _ = ws_handshake(broker, {"Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()})
    s.sendall(masked_frame(0x8, struct.pack("!H", 1000)))
    opcode, answer = read_frame(s)
    s.close()
    assert opcode == 0x8 and struct.unpack("!H", answer[:2])[0] == 1000, answer
