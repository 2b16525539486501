"""Driving the agent console in Debian's chromium (DESIGN §13): the browser's options, polling a
selenium condition from an async test, and the login every console test starts with.

Selenium is pointed at /usr/bin/chromedriver explicitly, so Selenium Manager never tries to
download a driver, and its usage statistics are off: only loopback traffic.
"""

from __future__ import annotations

import asyncio
import os
import shutil

import pytest

os.environ.setdefault("SE_AVOID_STATS", "true")
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def need_browser():
    missing = [p for p in (CHROMEDRIVER, CHROMIUM) if not os.path.exists(p)]
    if not missing:
        return
    message = f"browser test needs Debian's chromium and chromium-driver (missing: {', '.join(missing)})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def start_chromium():
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
    return driver


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


async def log_in_available(driver, base: str, token: str, name: str):
    """Opens the console, signs in with `token`, waits for the agent's `name`, goes available."""
    from selenium.webdriver.common.by import By

    driver.get(base + "/")
    token_input = await wait_for(driver, lambda d: d.find_element(By.ID, "login-token"), "the login form shows")
    token_input.send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit], #login-form button").click()
    await wait_for(driver, lambda d: d.find_element(By.ID, "agent-name").text == name, "the agent's name shows after login")
    driver.find_element(By.ID, "pres-available").click()
    await wait_for(driver, lambda d: "on" in d.find_element(By.ID, "pres-available").get_attribute("class").split()
                   and d.find_element(By.ID, "presence-now").text != "", "presence becomes available")
