"""A call in the agent console, in real Chromium (issue 10): the offer rings (a telephone ring
repeated until it is answered, a desktop notification with the number masked), the card shows the
caller masked, the skill and the wait; accepting stops the ring and shows the call's course in
the thread, and the reply box says the call is on the phone. The platform is Twilio, played with
signed callbacks (test_voice.py); the screenshot is kept for a person to look at."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from console_page import log_in_available, texts_of, wait_for
from test_voice import Twilio, call_sid, post, voice_overrides

# Records what the page plays and shows, before any of its scripts run: the oscillators' tones
# (the ring is 440 + 480 Hz) and the notifications (granted; the page counts as not focused, as
# for an agent working in another window).
SPIES = """
window.__tones = [];
window.__notes = [];
const RealAudio = window.AudioContext;
window.AudioContext = class extends RealAudio {
  createOscillator() {
    const o = super.createOscillator();
    const start = o.start.bind(o);
    o.start = (when) => { window.__tones.push({ f: o.frequency.value, at: Date.now() }); return start(when); };
    return o;
  }
};
window.Notification = class { constructor(title, options) { window.__notes.push({ title, body: options && options.body }); }
  static get permission() { return 'granted'; } static requestPermission() { return Promise.resolve('granted'); } };
document.hasFocus = () => false;
"""

SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", "/tmp/switchboard-screenshots"))


async def test_a_call_rings_in_the_console_until_answered(start_broker, redis, sink, browser):
    from selenium.webdriver.common.by import By

    broker = start_broker(redis, overrides=voice_overrides(sink))
    d = browser
    d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": SPIES})
    await log_in_available(d, broker.base, "tok-vic-0009", "Vic")

    call = Twilio(broker, call_sid(7))
    await post(call.post, "", CallStatus="ringing")
    card = await wait_for(d, lambda d: d.find_element(By.CSS_SELECTOR, ".offer-card.ringing"), "a ringing call card appears")
    text = card.text
    assert "来电" in text, text
    assert "+8613****8000" in text and "+8613800138000" not in text, f"the caller is masked on the card: {text!r}"
    assert "general" in text and "已等待" in text, text

    # It rings like a phone, and again while unanswered.
    await wait_for(d, lambda d: sum(1 for t in d.execute_script("return window.__tones") if t["f"] == 440) >= 4,
                   "the ring repeats", timeout=8)
    notes = d.execute_script("return window.__notes")
    assert any(n["title"] == "来电：+8613****8000" for n in notes), notes

    SHOTS.mkdir(parents=True, exist_ok=True)
    d.save_screenshot(str(SHOTS / "voice-ringing-card.png"))

    card.find_element(By.CSS_SELECTOR, "button.primary").click()
    await wait_for(d, lambda d: any("正在转接到您的电话" in t for t in texts_of(d, ".msg")), "the bridge line shows in the thread")
    assert any("来电" in t for t in texts_of(d, ".msg")), texts_of(d, ".msg")
    # On the call: a running call timer, the reply box takes notes (nothing typed can reach a caller).
    await wait_for(d, lambda d: d.find_element(By.CSS_SELECTOR, ".th-call-timer").text.startswith("0:0"), "the call timer runs")
    assert "通话中" in d.find_element(By.CSS_SELECTOR, ".th-call").text
    await wait_for(d, lambda d: "来电者首次联系" in d.find_element(By.CSS_SELECTOR, ".th-history").text,
                   "the caller's history shows (a first call)")
    save = d.find_element(By.ID, "reply-send")
    assert save.text == "保存备注"
    notes = d.find_element(By.ID, "reply-text")
    assert "通话备注" in notes.get_attribute("placeholder")
    notes.send_keys("来电人王先生，住幸福路 12 号。")
    save.click()
    await wait_for(d, lambda d: any("来电人王先生" in t and "内部备注" in t for t in texts_of(d, ".msg-note")),
                   "the saved note shows in the thread as an internal note")
    assert notes.get_attribute("value") == ""
    notes.send_keys("市民反映路灯损坏，已登记转办。")
    d.save_screenshot(str(SHOTS / "voice-accepted.png"))

    # Answered: the ring stops.
    rings = sum(1 for t in d.execute_script("return window.__tones") if t["f"] == 440)
    await asyncio.sleep(3.5)
    assert sum(1 for t in d.execute_script("return window.__tones") if t["f"] == 440) == rings
    assert not any("市民反映" in t for t in texts_of(d, ".msg")), "an unsaved note stays in the box"

    # The caller hangs up: wrap-up with the talk time; the agent categorizes, the notes are kept.
    await post(call.agent_leg, "in-progress", 0)
    await post(call.agent_leg, "completed", 1, CallDuration="37")
    await post(call.status, "completed", CallDuration="52")
    await wait_for(d, lambda d: "通话时长 0:37" in d.find_element(By.CSS_SELECTOR, ".th-call").text, "the talk time shows")
    d.find_element(By.XPATH, "//button[text()='填写分类']").click()
    disposition = await wait_for(d, lambda d: d.find_element(By.ID, "close-disposition"), "the close dialog opens")
    assert disposition.get_attribute("value") == "市民反映路灯损坏，已登记转办。"
    d.find_element(By.CSS_SELECTOR, "#close-cats input[value='投诉申告']").click()
    d.find_element(By.CSS_SELECTOR, "#dlg-close button[type=submit]").click()
    conv_id = d.execute_script("return SB.state.activeId")
    await wait_for(d, lambda d: broker.conversation(conv_id).get("category") == "投诉申告", "the category is recorded")
    assert broker.conversation(conv_id)["call"]["talkSeconds"] == 37
    notes = [m for m in broker.messages(conv_id) if m.get("internal")]
    assert [m["parts"][0]["text"] for m in notes] == ["来电人王先生，住幸福路 12 号。"], notes
    assert [r.method for r in sink.requests] == ["POST"], "the note went nowhere: the one request is the bridge"
    d.save_screenshot(str(SHOTS / "voice-wrapup.png"))
