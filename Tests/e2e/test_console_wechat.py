"""WeChat in the agent console (DESIGN §10.3, §10.8, §9): a citizen's picture, voice note (AMR,
with WeChat's speech recognition) and location arrive through a safe-mode Official Account
callback signed and encrypted by wechatpy; the agent takes the offer in Chromium and sees the
WeChat mark, the picture (fetched with the console token, shown from a blob URL), the transcript
and a download link for the voice that Chromium cannot play; a picture the platform would not hand
out shows 加载失败 and loads on retry; a reply outside the 48-hour window shows the broker's hint. Screenshots go to the test's tmp dir and /tmp/console-wechat-*.png."""

from __future__ import annotations

import shutil
import struct
import time
import zlib

import pytest

from console_page import log_in_available, texts_of, wait_for
from fake_wechat_api import FakeWeChatAPI
from harness import AGENTS
from test_wechat import OA_ACCOUNT, OPENID, call, overrides, post_safe

HINT = "超出48小时客服消息窗口，可改用短信联系"
TRANSCRIPT = "我想问一下医保卡丢了怎么补办"


def png(width: int, height: int) -> bytes:
    """A real RGB PNG: a blue-to-green gradient, so the screenshot shows whether it rendered."""
    rows = b"".join(b"\x00" + b"".join(bytes((40, 90 + 160 * x // width, 200 - 120 * y // height))
                                        for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def wx_xml(msg_type: str, msg_id: int, fields: str) -> str:
    return (f"<xml><ToUserName><![CDATA[{OA_ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{fields}"
            f"<MsgId>{msg_id}</MsgId></xml>")


@pytest.fixture
def wxapi():
    api = FakeWeChatAPI()
    yield api
    api.close()


def shoot(driver, tmp_path, name: str):
    path = tmp_path / f"console-wechat-{name}.png"
    driver.save_screenshot(str(path))
    shutil.copy(path, f"/tmp/console-wechat-{name}.png")
    return path


async def test_wechat_media_transcript_and_delivery_hint_in_the_console(start_broker, redis, wxapi, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    wxapi.media["IMG_MEDIA_1"] = png(120, 80)
    wxapi.media["VOICE_MEDIA_1"] = b"#!AMR\n" + bytes(range(256)) * 4
    wxapi.media["VIDEO_MEDIA_1"] = b"\x00\x00\x00\x18ftypmp42" + bytes(1024)
    broker = start_broker(redis, overrides(wxapi))
    d = browser
    await log_in_available(d, broker.base, AGENTS["ana"][0], "Ana")

    image = wx_xml("image", 8101, "<PicUrl><![CDATA[http://mmbiz.invalid/pic]]></PicUrl><MediaId><![CDATA[IMG_MEDIA_1]]></MediaId>")
    r = await call(post_safe, broker, image)
    assert r.status_code == 200, r.text
    card = await wait_for(d, lambda d: d.find_element(By.CSS_SELECTOR, ".offer-card .chan-wechat svg"), "a WeChat offer card")
    card = d.find_element(By.CSS_SELECTOR, ".offer-card")
    assert "微信" in card.text and OPENID not in card.text, card.text
    shoot(d, tmp_path, "offer")
    card.find_element(By.CSS_SELECTOR, "button.primary").click()

    # The picture: fetched with the token, shown from a blob URL, really decoded.
    img = await wait_for(d, lambda d: d.find_element(By.CSS_SELECTOR, ".msg-in .part-image img"), "the picture renders")
    await wait_for(d, lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) == 120,
                   "the picture decodes at its natural width")
    assert img.get_attribute("src").startswith("blob:"), img.get_attribute("src")

    voice = wx_xml("voice", 8102, "<MediaId><![CDATA[VOICE_MEDIA_1]]></MediaId><Format><![CDATA[amr]]></Format>"
                                  f"<Recognition><![CDATA[{TRANSCRIPT}]]></Recognition>")
    location = wx_xml("location", 8103, "<Location_X>39.915119</Location_X><Location_Y>116.403963</Location_Y>"
                                        "<Scale>16</Scale><Label><![CDATA[北京市东城区天安门广场]]></Label>")
    # A picture the platform no longer hands out (errcode 40007): the broker answers 502.
    lost = wx_xml("image", 8104, "<PicUrl><![CDATA[http://mmbiz.invalid/lost]]></PicUrl><MediaId><![CDATA[IMG_LOST]]></MediaId>")
    video = wx_xml("video", 8105, "<MediaId><![CDATA[VIDEO_MEDIA_1]]></MediaId><ThumbMediaId><![CDATA[THUMB_1]]></ThumbMediaId>")
    for xml in (voice, location, lost, video):
        r = await call(post_safe, broker, xml)
        assert r.status_code == 200, r.text
    failed = await wait_for(d, lambda d: d.find_element(By.CSS_SELECTOR, ".msg-in .media-error"), "the lost picture's error state")
    assert "加载失败" in failed.text and "502" in failed.text, failed.text
    await wait_for(d, lambda d: any(TRANSCRIPT in t and "语音转文字" in t for t in texts_of(d, ".msg-in .part-transcript")),
                   "the transcript shows, labelled")
    # Chromium cannot play AMR: a download link of the blob instead of a dead player.
    dl = await wait_for(d, lambda d: d.find_element(By.CSS_SELECTOR, ".msg-in .part-voicemail a.media-dl"), "the voice download link")
    assert dl.text == "下载语音" and dl.get_attribute("href").startswith("blob:"), (dl.text, dl.get_attribute("href"))
    assert dl.get_attribute("download").endswith(".amr"), dl.get_attribute("download")
    assert not d.find_elements(By.CSS_SELECTOR, ".msg-in .part-voicemail audio")
    await wait_for(d, lambda d: any("天安门广场" in t for t in texts_of(d, ".msg-in .part-location")), "the location shows")
    # The video (bytes only sniffed as MP4 here): a player if Chromium takes the type, a download either way.
    video_dl = await wait_for(d, lambda d: d.find_element(By.CSS_SELECTOR, ".msg-in .media-video a.media-dl"), "the video's link")
    assert video_dl.get_attribute("href").startswith("blob:") and video_dl.get_attribute("download").endswith(".mp4")

    header = d.find_element(By.ID, "thread-header")
    assert header.find_elements(By.CSS_SELECTOR, ".chan-wechat svg"), "the header carries the WeChat mark"
    assert "微信 · wx-main" in header.text and OPENID not in header.text, header.text
    # Channel ids name the kind when an older server sends no `kind` (a WeCom account is WeChat too).
    assert d.execute_script("return ['wx-main', 'wx-kf', 'wecom', 'webchat-1', 'sms-main']"
                            ".map(c => SB.kindOf({channel: c}))") == ["wechat", "wechat", "wechat", "webchat", "sms"]
    item = d.find_element(By.CSS_SELECTOR, "#conv-list .conv-item")
    assert item.find_elements(By.CSS_SELECTOR, ".chan-wechat svg") and "微信" in item.text, item.text
    shoot(d, tmp_path, "thread")
    # Retry: the platform has it now.
    wxapi.media["IMG_LOST"] = png(60, 90)
    failed.find_element(By.CSS_SELECTOR, "button").click()
    await wait_for(d, lambda d: d.execute_script(
        "return [...document.querySelectorAll('.msg-in .part-image img')].map(i => i.complete && i.naturalWidth)") == [120, 60],
        "the lost picture shows after a retry")

    # A reply outside the 48-hour window: the hint leads, the raw error follows.
    wxapi.fail_next = [45015]
    reply = d.find_element(By.ID, "reply-text")
    reply.send_keys("您好，补办需要携带身份证。")
    reply.send_keys(Keys.ENTER)
    hint = await wait_for(d, lambda d: d.find_element(By.CSS_SELECTOR, ".msg-out .fail-hint"), "the delivery hint shows")
    assert hint.text == HINT, hint.text
    raw = d.find_element(By.CSS_SELECTOR, ".msg-out .fail-raw").text
    assert "45015" in raw, raw
    shoot(d, tmp_path, "hint")

    # English: the labels follow, the picture is shown again (from the kept blob).
    d.find_element(By.ID, "lang-en").click()
    await wait_for(d, lambda d: any("Transcript" in t for t in texts_of(d, ".msg-in .part-transcript")), "the English label")
    await wait_for(d, lambda d: d.execute_script(
        "const i = document.querySelector('.msg-in .part-image img'); return i && i.complete && i.naturalWidth") == 120,
        "the picture renders again after the language switch")
    assert "WeChat · wx-main" in d.find_element(By.ID, "thread-header").text
    assert d.find_element(By.CSS_SELECTOR, ".msg-in .part-voicemail a.media-dl").text == "Download voice"
    # The re-rendered pictures grow as they load; the thread stays at the bottom, the hint in view.
    await wait_for(d, lambda d: d.execute_script(
        "const s = document.getElementById('thread-scroll').getBoundingClientRect();"
        "const h = document.querySelector('.msg-out .fail-hint').getBoundingClientRect();"
        "return h.top >= s.top && h.bottom <= s.bottom"), "the hint stays in view")
    # The re-rendered messages' old blob URLs are revoked, not leaked.
    await wait_for(d, lambda d: d.execute_script("return SB.media.liveCount()") == 4, "only the shown blob URLs stay alive")
    shoot(d, tmp_path, "english")
