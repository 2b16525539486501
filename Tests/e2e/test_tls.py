"""HTTPS and WSS on the same port when tls.cert/tls.key are set (DESIGN §11), with a self-signed
certificate made in the test. The managed redis-server is used here (no redis.url), so the
embedded default is covered end to end as well."""

import asyncio
import ssl
import socket

import requests

from clients import Agent, Visitor, texts
from harness import make_self_signed_cert, token


async def test_https_and_wss_with_a_self_signed_certificate(start_broker, tmp_path):
    cert, key = await asyncio.to_thread(make_self_signed_cert, tmp_path)
    broker = start_broker(None, tls=(cert, key))
    assert broker.base.startswith("https://")

    r = broker.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok", r.text
    # It really is TLS, with the certificate made above …
    with socket.create_connection(("127.0.0.1", broker.port), timeout=5) as raw:
        ctx = ssl.create_default_context(cafile=str(cert))
        ctx.check_hostname = False
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() is not None
            assert tls.getpeercert()["subject"] == ((("commonName", "localhost"),),)
    # … and plain HTTP on that port gets no answer.
    try:
        plain = requests.get(f"http://127.0.0.1:{broker.port}/healthz", timeout=3)
        assert plain.status_code != 200, plain.text
    except requests.RequestException:
        pass

    ana = await Agent.connect(broker, "ana", token("ana"), available=True)
    assert ana.welcome["agent"]["name"] == "Ana"
    visitor = await Visitor.connect(broker)
    ack = await visitor.say("通过 TLS 你好")
    conv = await ana.accept_offer(ack["conversationId"])
    await ana.reply(conv["id"], "收到")
    assert texts([(await visitor.expect("message"))["message"]]) == ["收到"]
