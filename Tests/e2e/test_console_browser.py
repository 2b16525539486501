"""The agent console in a real browser (DESIGN §13: selenium with Debian's chromium and
chromium-driver): log in, go available, take a web-chat offer, answer, read the visitor's reply,
close with a category. The visitor is a real `websockets` peer.

Selenium is pointed at /usr/bin/chromedriver explicitly, so Selenium Manager never tries to
download a driver, and its usage statistics are off: only loopback traffic.
"""

from __future__ import annotations

import asyncio
import os
import shutil

import pytest

from clients import Visitor
from harness import AGENTS

os.environ.setdefault("SE_AVOID_STATS", "true")
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _need_browser():
    missing = [p for p in (CHROMEDRIVER, CHROMIUM) if not os.path.exists(p)]
    if not missing:
        return
    message = f"browser test needs Debian's chromium and chromium-driver (missing: {', '.join(missing)})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def browser():
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1366,768",
                "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


async def wait_for(driver, condition, what: str, timeout: float = 10.0):
    """Polls a selenium condition without blocking the asyncio loop for long."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last_error = None
    while loop.time() < deadline:
        try:
            value = condition(driver)
            if value:
                return value
        except Exception as error:  # element not there yet, stale element: poll again
            last_error = error
        await asyncio.sleep(0.1)
    raise AssertionError(f"console: {what} within {timeout:.0f}s (last error: {last_error}); "
                         f"page text: {driver.find_element('tag name', 'body').text[:500]!r}")


def texts_of(driver, css: str) -> list[str]:
    return [e.text for e in driver.find_elements("css selector", css)]


async def test_agent_answers_a_visitor_in_the_browser_console(broker, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    d = browser
    d.get(broker.base + "/")
    token_input = await wait_for(d, lambda d: d.find_element(By.ID, "login-token"), "the login form shows")
    token_input.send_keys(AGENTS["ana"][0])
    d.find_element(By.CSS_SELECTOR, "#login-form button[type=submit], #login-form button").click()
    await wait_for(d, lambda d: d.find_element(By.ID, "agent-name").text == "Ana", "the agent's name shows after login")

    d.find_element(By.ID, "pres-available").click()
    await wait_for(d, lambda d: "p-available" in d.find_element(By.ID, "pres-available").get_attribute("class")
                   and d.find_element(By.ID, "presence-now").text != "", "presence becomes available")

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
