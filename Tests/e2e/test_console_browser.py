"""The agent console in a real browser (DESIGN §13: selenium with Debian's chromium and
chromium-driver): log in, go available, take a web-chat offer, answer, read the visitor's reply,
close with a category. The visitor is a real `websockets` peer. The browser: console_page.py.
"""

from __future__ import annotations

from clients import Visitor
from console_page import log_in_available, texts_of, wait_for
from harness import AGENTS


async def test_agent_answers_a_visitor_in_the_browser_console(broker, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    d = browser
    await log_in_available(d, broker.base, AGENTS["ana"][0], "Ana")

    visitor = await Visitor.connect(broker, name="刘女士")
    await visitor.say("你好，我想咨询公租房申请")
    card = await wait_for(d, lambda d: d.find_element(By.CSS_SELECTOR, ".offer-card"), "the offer card appears")
    assert "刘女士" in card.text
    card.find_element(By.CSS_SELECTOR, "button.primary").click()

    await wait_for(d, lambda d: any("你好，我想咨询公租房申请" in t for t in texts_of(d, ".msg.msg-in")),
                   "the visitor's message shows in the thread")
    joined = await visitor.expect("agent.joined")
    assert joined["name"] == "Ana"

    reply = d.find_element(By.ID, "reply-text")
    reply.send_keys("您好，需要身份证和收入证明。")
    reply.send_keys(Keys.ENTER)
    message = await visitor.expect("message")
    assert message["message"]["parts"][0]["text"] == "您好，需要身份证和收入证明。"
    await wait_for(d, lambda d: any("您好，需要身份证和收入证明。" in t for t in texts_of(d, ".msg.msg-out")),
                   "the reply shows as sent")

    await visitor.say("好的，谢谢！")
    await wait_for(d, lambda d: any("好的，谢谢！" in t for t in texts_of(d, ".msg.msg-in")),
                   "the visitor's second message arrives live")

    header = d.find_element(By.ID, "thread-header")
    header.find_element(By.CSS_SELECTOR, "button.danger").click()
    category = await wait_for(d, lambda d: d.find_element(By.CSS_SELECTOR, "#close-cats input[value='业务咨询']"),
                              "the close dialog offers the categories")
    category.click()
    d.find_element(By.CSS_SELECTOR, "#dlg-close button[type=submit]").click()
    await visitor.expect("conversation.closed")
    conversation = broker.conversation(visitor.conversation_id)
    assert conversation["status"] in ("wrapup", "closed"), conversation
    assert conversation["category"] == "业务咨询", conversation
