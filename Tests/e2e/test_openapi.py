"""The REST contract (docs/openapi.yaml, issue 9): the spec is valid OpenAPI 3.1, and a live broker
keeps it under schemathesis's stateful and negative tests."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml
from openapi_spec_validator import validate

from clients import Agent, close_all_sockets
from harness import API_KEY, TWILIO_AUTH_TOKEN, token

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


def load_spec() -> dict:
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))


def test_the_spec_is_valid_openapi_3_1():
    spec = load_spec()
    assert spec["openapi"].startswith("3.1"), spec["openapi"]
    validate(spec)   # raises OpenAPIValidationError naming the path of the first problem


# -- schemathesis against a live broker --------------------------------------------------------

# Every channel kind the spec names, so each webhook route exists (its channelId is pinned below);
# the Twilio channel signs over a fixed public URL, as behind a proxy.
TWILIO_PUBLIC = "https://sms.example.org/v1/channels/sms-main/twilio"
CHANNELS = [
    {"id": "web", "kind": "webchat", "skill": "general"},
    {"id": "sms-main", "kind": "sms", "provider": "twilio", "auth_token": TWILIO_AUTH_TOKEN,
     "public_url": TWILIO_PUBLIC, "skill": "general"},
    {"id": "sms-ali", "kind": "sms", "provider": "aliyun", "webhook_token": "e2e-ali-token", "skill": "general"},
    {"id": "sms-tc", "kind": "sms", "provider": "tencent", "skill": "general"},
    {"id": "sms-gw", "kind": "sms", "provider": "generic", "hmac_secret": "e2e-gw-secret", "skill": "general"},
    # The API is never called (no reply is sent to WeChat here): a closed loopback port.
    {"id": "wx-main", "kind": "wechat", "provider": "official_account", "app_id": "wx1234567890abcdef",
     "app_secret": "e2e-app-secret", "token": "e2e-wx-token", "api_base": "http://127.0.0.1:9", "skill": "general"},
    {"id": "call-main", "kind": "voice", "provider": "twilio", "account_sid": "AC1", "auth_token": TWILIO_AUTH_TOKEN,
     "public_url": "https://voice.example.org/v1/channels/call-main/twilio", "api_base": "http://127.0.0.1:9", "skill": "general"},
    {"id": "pbx", "kind": "voice", "provider": "generic", "hmac_secret": "e2e-pbx-secret", "control_url": "http://127.0.0.1:9/c",
     "skill": "general"},
]
WEBHOOK_CHANNEL = {"twilioInbound": "sms-main", "twilioStatus": "sms-main", "aliyunSmsUp": "sms-ali",
                   "tencentSmsReply": "sms-tc", "genericInbound": "sms-gw", "genericStatus": "sms-gw",
                   "wechatUrlCheck": "wx-main", "wechatCallback": "wx-main", "voiceEvents": "pbx"} | {
    op: "call-main" for op in ("twilioVoiceGather", "twilioVoiceWait", "twilioVoiceQueue", "twilioVoiceDial", "twilioVoiceRecording",
                               "twilioVoiceTranscription")}

# Checks switched off for one operation, each with its reason (remove an entry once its reason is gone).
EXCLUDED: dict[str, dict[str, str]] = {
}
# Extra statuses a check accepts for one operation, with the reason.
EXPECTED: dict[str, tuple[str, list[str], str]] = {
    op: ("positive_data_acceptance", ["2xx", "400", "401", "403", "404"],
         "which of signature / msg_signature is required (else 400) depends on the channel's provider, "
         "which one path cannot say")
    for op in ("wechatUrlCheck", "wechatCallback")
} | {
    op: ("positive_data_acceptance", ["2xx", "400", "401", "403", "404", "413"],
         "a phone number is checked semantically (E.164 after normalization, docs/openapi.yaml PhoneNumber), "
         "beyond what a schema can say; and a batch of up to 1000 can pass limits.max_body_bytes (413)")
    for op in ("aliyunSmsUp", "tencentSmsReply")
}

EXAMPLES_PER_OPERATION = 80   # ~35 s for the run on this 2-core machine


def schemathesis_config(conversation_id: str) -> str:
    """schemathesis.toml: the seeded conversation id for most conversationId draws, the agent
    token for the media route, each webhook pinned to its channel, and the exclusions."""
    lines = [
        "# A body past the route's limit is refused with 413: a rejection too.",
        "[checks.negative_data_rejection]",
        'expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]',
        "[generation]",
        f"max-examples = {EXAMPLES_PER_OPERATION}",
        "# libwebsockets' URI parser drops a connection whose URI holds %00, unanswered, before the broker sees it.",
        "allow-x00 = false",
        "[phases.stateful]",
        "max-steps = 6",
        "[dictionaries.conversations]",
        f"values = [{json.dumps(conversation_id)}]",
        "[parameters]",
        '"path.conversationId" = { dictionary = "conversations", probability = 0.7 }',
        "[[operations]]",
        'include-operation-id = "getMedia"',
        f'headers = {{ Authorization = "Bearer {token("ana")}" }}',
        "[[operations]]",
        'include-operation-id = "getRecording"',
        f'headers = {{ Authorization = "Bearer {token("ana")}" }}',
    ]
    for operation, channel in WEBHOOK_CHANNEL.items():
        token_arg = ', token = "e2e-ali-token"' if channel == "sms-ali" else ""
        lines += ["[[operations]]", f'include-operation-id = "{operation}"',
                  f'parameters = {{ channelId = "{channel}"{token_arg} }}']
    for operation, (check, statuses, reason) in EXPECTED.items():
        lines += ["[[operations]]", f'include-operation-id = "{operation}"', f"# {reason}",
                  f"checks.{check}.expected-statuses = {json.dumps(statuses)}"]
    for operation, checks in EXCLUDED.items():
        lines += ["[[operations]]", f'include-operation-id = "{operation}"']
        for check, reason in checks.items():
            lines += [f"# {reason}", f"checks.{check}.enabled = false"]
    return "\n".join(lines) + "\n"


def seed_conversation(broker) -> str:
    """A signed Twilio SMS opens a conversation; an agent takes it, which tells its id."""
    from twilio.request_validator import RequestValidator

    params = broker.sms_params("SM" + "a" * 32, "契约测试")
    signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(TWILIO_PUBLIC, params)
    r = broker.post_twilio(broker.sms_url, params, signature=signature)
    assert r.status_code == 200, r.text

    async def take() -> str:
        try:
            ana = await Agent.connect(broker, "ana", token("ana"), available=True)
            return (await ana.accept_offer())["id"]
        finally:
            await close_all_sockets()

    return asyncio.run(take())


def test_schemathesis_finds_nothing_against_a_live_broker(start_broker, redis, tmp_path):
    broker = start_broker(redis, overrides={"channels": CHANNELS})
    conversation_id = seed_conversation(broker)
    config = tmp_path / "schemathesis.toml"
    config.write_text(schemathesis_config(conversation_id))
    command = [str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(config), "--no-color",
               "run", str(SPEC), "--url", broker.base, "--header", f"Authorization: Bearer {API_KEY}",
               # unsupported_method: TRACE is refused by libwebsockets (403) before the broker sees it; the
               # other undeclared methods are test_every_route_answers_undeclared_methods_405_with_allow's.
               "--exclude-checks", "unsupported_method", "--mode", "all", "--phases", "examples,coverage,fuzzing,stateful",
               "--seed", "20261203", "--workers", "1", "--request-timeout", "5", "--suppress-health-check", "all",
               "--report", "junit", "--report-dir", str(tmp_path / "report")]
    # One worker: with two, hypothesis describing strategies in parallel threads hit CPython 3.11's
    # "AST constructor recursion depth mismatch" (a runtime error in the tool, not a finding).
    started = time.monotonic()
    run = subprocess.run(command, capture_output=True, text=True, timeout=150, cwd=tmp_path,
                         env={**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"})
    elapsed = time.monotonic() - started
    output = tmp_path / "schemathesis.txt"
    output.write_text(run.stdout + run.stderr)
    broker.check_alive()
    assert run.returncode == 0, f"schemathesis failed after {elapsed:.0f}s (all of it: {output}):\n{run.stdout[-12000:]}\n{run.stderr[-2000:]}"


def test_every_route_answers_undeclared_methods_405_with_allow(start_broker, redis):
    """What schemathesis's unsupported_method check covers, minus TRACE (which libwebsockets refuses
    before the broker sees it): every other undeclared method is 405 naming the declared ones."""
    broker = start_broker(redis, overrides={"channels": CHANNELS})
    spec = load_spec()
    channel_of = {op["operationId"]: WEBHOOK_CHANNEL.get(op["operationId"])
                  for item in spec["paths"].values() for op in item.values() if isinstance(op, dict) and "operationId" in op}
    for template, item in spec["paths"].items():
        declared = sorted(m.upper() for m in item if m in ("get", "post", "put", "patch", "delete", "options"))
        channel = next((channel_of[op["operationId"]] for op in item.values()
                        if isinstance(op, dict) and channel_of.get(op.get("operationId"))), None)
        path = (template.replace("{channelId}", channel or "sms-main").replace("{conversationId}", "c-none")
                .replace("{channel}", "wx-main").replace("{mediaId}", "m-none").replace("{recordingId}", "RE-none"))
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
            if method in declared:
                continue
            r = broker.session.request(method, broker.base + path, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=5)
            assert r.status_code == 405, (method, path, r.status_code, r.text)
            assert r.json()["error"]["code"] == "method_not_allowed", r.text
            assert sorted(m.strip() for m in r.headers["Allow"].split(",")) == declared, (method, path, r.headers)


def test_unread_bodies_and_missing_bodies_get_answers(broker):
    """Found by schemathesis: a GET/DELETE with a body left its bytes unread on a keep-alive
    connection and lws spun the loop (no one was answered); a PUT/PATCH without a body, or with
    Content-Length 0, waited for a body that never came."""
    auth = {"Authorization": f"Bearer {API_KEY}"}
    for method in ("GET", "DELETE", "OPTIONS"):
        for _ in range(3):   # the same keep-alive session each time
            r = broker.session.request(method, broker.base + "/v1/channels/sms-main/twilio", data=b'{"x":1}' * 20,
                                       headers={**auth, "Content-Type": "application/json"}, timeout=5)
            assert r.status_code == 405, (method, r.status_code, r.text)
    assert broker.get("/healthz", timeout=2).status_code == 200
    r = broker.session.get(broker.base + "/v1/queues", data=b"ignored", headers=auth, timeout=5)
    assert r.status_code == 200 and "queues" in r.json(), r.text
    for method in ("PUT", "PATCH", "POST"):
        r = broker.session.request(method, broker.base + "/v1/agents", headers={**auth, "Content-Length": "0"}, timeout=5)
        assert r.status_code == 405 and r.headers["Allow"] == "GET", (method, r.status_code, r.text)
    r = broker.post("/v1/conversations/c-none/messages", headers={**auth, "Content-Type": "application/json"}, timeout=5)
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request", r.text
