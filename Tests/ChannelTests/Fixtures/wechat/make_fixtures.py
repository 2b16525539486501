#!/usr/bin/env python3
"""Signs and encrypts the WeChat callback fixtures with wechatpy 1.8.18, the independent peer
named in DESIGN §10.3 (wechatpy.crypto.WeChatCrypto for the Official Account,
wechatpy.enterprise.crypto.WeChatCrypto for WeCom).

    python3 -m venv /tmp/wxvenv && /tmp/wxvenv/bin/pip install wechatpy==1.8.18 cryptography
    /tmp/wxvenv/bin/python Tests/ChannelTests/Fixtures/wechat/make_fixtures.py

Deterministic: wechatpy draws the 16-byte plaintext prefix from `random.sample` in
`BasePrpCrypto.get_random_string` (wechatpy/crypto/base.py → utils.random_string). That method
is replaced by one drawing from a `random.Random` seeded per fixture, and the 16 bytes are
written to the fixture (`random16`), so re-running gives the same files and the Swift tests can
re-encrypt with the same bytes and compare the ciphertext byte for byte.

Each fixture is checked back through wechatpy (decrypt_message / check_signature) before it is
written.
"""
import base64
import json
import os
import random
import string

import wechatpy
from wechatpy.crypto import WeChatCrypto, PrpCrypto, _get_signature
from wechatpy.crypto.base import BasePrpCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto, PrpCrypto as WeComPrpCrypto
from wechatpy.utils import check_signature

assert wechatpy.__version__ == "1.8.18", wechatpy.__version__

HERE = os.path.dirname(os.path.abspath(__file__))

# Official Account. The EncodingAESKey is the docs' example, whose last character ('G') has
# non-zero low bits: the key parser must drop them as every SDK does.
OA_TOKEN = "switchboard-wx-token"
OA_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OA_PREVIOUS_KEY = "Zx9Qm3Lp7Rt2Vw5Yb8Nc1Kd4Hf6Jg0Ts3Ua7We9Ri2O"
OA_APPID = "wxd0c1a9e4f2b38765"
OA_ACCOUNT = "gh_3f2a1b0c9d8e"
OPENID = "oR5GjjgEhCMJFyzaVZdrxZ2zRRF4"

# WeCom (微信客服): the example values of the WeCom callback docs (token, key, corp id).
WECOM_TOKEN = "QDG6eK"
WECOM_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
WECOM_CORP = "wx5823bf96d3bd56c7"

TIMESTAMP = "1714112445"
ALPHABET = string.ascii_letters + string.digits


class Seeded:
    """Replaces BasePrpCrypto.get_random_string for one fixture and remembers what it drew."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.drawn = []

    def __call__(self):
        value = "".join(self.rng.sample(ALPHABET, 16))
        self.drawn.append(value)
        return value


def encrypt_with(prp_class, key_text, plaintext, receive_id, seed):
    seeded = Seeded(seed)
    original = BasePrpCrypto.get_random_string
    BasePrpCrypto.get_random_string = lambda _prp: seeded()
    try:
        key = base64.b64decode(key_text + "=")
        encrypt = prp_class(key).encrypt(plaintext, receive_id).decode()
    finally:
        BasePrpCrypto.get_random_string = original
    assert len(seeded.drawn) == 1
    return encrypt, seeded.drawn[0]


def pad_count(plaintext, receive_id):
    n = 16 + 4 + len(plaintext.encode()) + len(receive_id.encode())
    return 32 - n % 32


def text_xml(content, msg_id, to=OA_ACCOUNT, frm=OPENID, create="1714112445"):
    return ("<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>"
            "<CreateTime>%s</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content>"
            "<MsgId>%s</MsgId></xml>" % (to, frm, create, content, msg_id))


def write(name, fixture):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=2, sort_keys=True)
        f.write("\n")


def oa_encrypted(name, mode, plaintext, seed, key=OA_KEY, previous=None, nonce="1320562132"):
    encrypt, random16 = encrypt_with(PrpCrypto, key, plaintext, OA_APPID, seed)
    msg_signature = _get_signature(OA_TOKEN, TIMESTAMP, nonce, encrypt)
    signature = _sig3(OA_TOKEN, TIMESTAMP, nonce)
    if mode == "safe":
        body = "<xml><ToUserName><![CDATA[%s]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt></xml>" % (OA_ACCOUNT, encrypt)
    else:  # compatible: the plain fields and Encrypt side by side
        body = plaintext[:-len("</xml>")] + "<Encrypt><![CDATA[%s]]></Encrypt></xml>" % encrypt
    # The peer opens what it made, with the key the receiver holds for it.
    check = WeChatCrypto(OA_TOKEN, key, OA_APPID).decrypt_message(body, msg_signature, TIMESTAMP, nonce)
    assert check == plaintext, check
    write(name, {
        "peer": "wechatpy 1.8.18 wechatpy.crypto.WeChatCrypto",
        "mode": mode, "token": OA_TOKEN,
        "encoding_aes_key": OA_KEY if previous is None else previous["current"],
        "previous_encoding_aes_key": None if previous is None else previous["previous"],
        "receive_id": OA_APPID, "timestamp": TIMESTAMP, "nonce": nonce,
        "signature": signature, "msg_signature": msg_signature, "encrypt_type": "aes",
        "encrypt": encrypt, "random16": random16, "plaintext": plaintext,
        "pad_count": pad_count(plaintext, OA_APPID), "body": body,
    })


def main():
    # Plain mode: no encryption, the plain signature over token, timestamp and nonce only.
    plain = text_xml("你好，我想咨询一下快递的问题", "23637352235060880")
    nonce = "2080318462"
    check_signature(OA_TOKEN, _sig3(OA_TOKEN, TIMESTAMP, nonce), TIMESTAMP, nonce)
    write("oa-plain.json", {
        "peer": "wechatpy 1.8.18 wechatpy.utils.check_signature",
        "mode": "plain", "token": OA_TOKEN, "timestamp": TIMESTAMP, "nonce": nonce,
        "signature": _sig3(OA_TOKEN, TIMESTAMP, nonce), "echostr": "6917323489015126561",
        "plaintext": plain, "body": plain,
    })

    oa_encrypted("oa-compatible.json", "compatible", text_xml("兼容模式的消息", "23637352235060881"), seed=1)
    oa_encrypted("oa-safe.json", "safe", text_xml("安全模式：请问营业时间？", "23637352235060882"), seed=2)

    # Key rotation: encrypted under the key that has just been replaced.
    oa_encrypted("oa-previous-key.json", "safe", text_xml("旧密钥加密的消息", "23637352235060883"), seed=3,
                 key=OA_PREVIOUS_KEY, previous={"current": OA_KEY, "previous": OA_PREVIOUS_KEY})

    # Padding edges: 16 + 4 + len(xml) + len(appid) a multiple of 16 but not of 32 (pad 16),
    # and a multiple of 32 (a whole block of 32 pad bytes, which 16-byte PKCS#7 would reject).
    for name, wanted, seed in (("oa-padding-16.json", 16, 4), ("oa-padding-32.json", 32, 5)):
        filler = ""
        while pad_count(text_xml("padding edge " + filler, "23637352235060884"), OA_APPID) != wanted:
            filler += "x"
        xml = text_xml("padding edge " + filler, "23637352235060884")
        total = 16 + 4 + len(xml.encode()) + len(OA_APPID)
        assert total % 16 == 0 and (total % 32 != 0) == (wanted == 16), total
        oa_encrypted(name, "safe", xml, seed=seed)

    # A passive reply, encrypted and signed by wechatpy's encrypt_message.
    reply = ("<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>"
             "<CreateTime>1714112446</CreateTime><MsgType><![CDATA[text]]></MsgType>"
             "<Content><![CDATA[您好，客服正在为您转接]]></Content></xml>" % (OPENID, OA_ACCOUNT))
    seeded = Seeded(6)
    original = BasePrpCrypto.get_random_string
    BasePrpCrypto.get_random_string = lambda _prp: seeded()
    try:
        envelope = WeChatCrypto(OA_TOKEN, OA_KEY, OA_APPID).encrypt_message(reply, "1979164953", "1714112446")
    finally:
        BasePrpCrypto.get_random_string = original
    assert WeChatCrypto(OA_TOKEN, OA_KEY, OA_APPID).decrypt_message(
        envelope, _envelope_field(envelope, "MsgSignature"), "1714112446", "1979164953") == reply
    write("oa-reply.json", {
        "peer": "wechatpy 1.8.18 wechatpy.crypto.WeChatCrypto.encrypt_message",
        "token": OA_TOKEN, "encoding_aes_key": OA_KEY, "receive_id": OA_APPID,
        "timestamp": "1714112446", "nonce": "1979164953", "random16": seeded.drawn[0],
        "plaintext": reply, "envelope": envelope,
        "encrypt": _envelope_field(envelope, "Encrypt"), "msg_signature": _envelope_field(envelope, "MsgSignature"),
    })

    # WeCom URL verification: echostr is encrypted, msg_signature covers it.
    echo_plain = "1616140317555161061"
    echostr, random16 = encrypt_with(WeComPrpCrypto, WECOM_KEY, echo_plain, WECOM_CORP, seed=7)
    nonce = "1372623149"
    msg_signature = _get_signature(WECOM_TOKEN, TIMESTAMP, nonce, echostr)
    assert WeComCrypto(WECOM_TOKEN, WECOM_KEY, WECOM_CORP).check_signature(msg_signature, TIMESTAMP, nonce, echostr) == echo_plain
    write("wecom-echostr.json", {
        "peer": "wechatpy 1.8.18 wechatpy.enterprise.crypto.WeChatCrypto.check_signature",
        "token": WECOM_TOKEN, "encoding_aes_key": WECOM_KEY, "receive_id": WECOM_CORP,
        "timestamp": TIMESTAMP, "nonce": nonce, "msg_signature": msg_signature,
        "echostr": echostr, "random16": random16, "plaintext": echo_plain,
    })

    # WeCom 微信客服 callback: only "there is news", with a sync_msg token and the kf account.
    kf = ("<xml><ToUserName><![CDATA[%s]]></ToUserName><CreateTime>1714112447</CreateTime>"
          "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>"
          "<Token><![CDATA[ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR]]></Token>"
          "<OpenKfId><![CDATA[wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q]]></OpenKfId></xml>" % WECOM_CORP)
    encrypt, random16 = encrypt_with(WeComPrpCrypto, WECOM_KEY, kf, WECOM_CORP, seed=8)
    nonce = "1592618720"
    msg_signature = _get_signature(WECOM_TOKEN, TIMESTAMP, nonce, encrypt)
    body = "<xml><ToUserName><![CDATA[%s]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt></xml>" % (WECOM_CORP, encrypt)
    assert WeComCrypto(WECOM_TOKEN, WECOM_KEY, WECOM_CORP).decrypt_message(body, msg_signature, TIMESTAMP, nonce) == kf
    write("wecom-kf-event.json", {
        "peer": "wechatpy 1.8.18 wechatpy.enterprise.crypto.WeChatCrypto",
        "mode": "safe", "token": WECOM_TOKEN, "encoding_aes_key": WECOM_KEY, "previous_encoding_aes_key": None,
        "receive_id": WECOM_CORP, "timestamp": TIMESTAMP, "nonce": nonce, "signature": None,
        "msg_signature": msg_signature, "encrypt_type": "aes", "encrypt": encrypt, "random16": random16,
        "plaintext": kf, "pad_count": pad_count(kf, WECOM_CORP), "body": body,
    })


def _sig3(token, timestamp, nonce):
    from wechatpy.utils import WeChatSigner
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce)
    return signer.signature


def _envelope_field(envelope, name):
    import xmltodict
    return xmltodict.parse(envelope)["xml"][name]


if __name__ == "__main__":
    main()
