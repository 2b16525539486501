"""pytest harness for the black-box tests: the RELEASE binary, a real redis-server, real peers.

Nothing is built here. The binary is `$SWITCHBOARD_BIN` or `.build/release/switchboard`; without it
the tests are skipped, except under CI (`CI=true`), where a missing binary is an error.

`async def` tests run on a fresh asyncio loop each, bounded by TEST_TIMEOUT seconds.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil

import pytest

from clients import close_all_sockets
from harness import Broker, GatewaySink, RedisServer, binary_path

TEST_TIMEOUT = float(os.environ.get("E2E_TEST_TIMEOUT", "90"))


def pytest_collection_modifyitems(config, items):
    path = binary_path()
    if path.is_file() and os.access(path, os.X_OK):
        return
    message = f"switchboard binary not found at {path}: run `swift build -c release` or set SWITCHBOARD_BIN"
    if os.environ.get("CI", "").lower() == "true":
        raise pytest.UsageError(message)
    for item in items:
        item.add_marker(pytest.mark.skip(reason=message))


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}

    async def bounded():
        try:
            await asyncio.wait_for(pyfuncitem.obj(**args), TEST_TIMEOUT)
        except asyncio.TimeoutError:
            raise AssertionError(f"the test did not finish within {TEST_TIMEOUT:.0f}s") from None
        finally:
            await asyncio.wait_for(close_all_sockets(), 10)

    asyncio.run(bounded())
    return True


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


@pytest.fixture(scope="session", autouse=True)
def _tools():
    for tool in ("redis-server", "openssl"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (apt-get install redis-server openssl)")


@pytest.fixture
def sink():
    s = GatewaySink()
    yield s
    s.close()


@pytest.fixture
def redis(tmp_path):
    """An external redis-server without persistence, on a free loopback port."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def start_broker(request, tmp_path, sink):
    """`start_broker(redis=…, overrides={…}, tls=…, env={…})` starts a broker (redis=None: the managed
    redis-server) and waits for /readyz. Every broker is stopped at teardown; when the test failed,
    the tail of each broker's log is printed."""
    brokers: list[Broker] = []

    def start(redis: RedisServer | None, overrides: dict | None = None, tls=None, name: str = "broker",
              env: dict | None = None) -> Broker:
        broker = Broker(tmp_path / f"{name}{len(brokers)}", redis_url=redis.url if redis else None,
                        sink_url=sink.messages_url, overrides=overrides, tls=tls, env=env)
        brokers.append(broker)
        broker.start()
        return broker

    yield start
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for broker in brokers:
        if failed:
            print(f"\n--- {broker.base} ---\n{broker.log_tail(80)}")
        broker.stop()


@pytest.fixture
def browser():
    """Headless Debian chromium at 1366×768 (console_page.py); skipped without it, except in CI."""
    from console_page import need_browser, start_chromium

    need_browser()
    driver = start_chromium()
    yield driver
    driver.quit()


@pytest.fixture
def broker(start_broker, redis):
    """The default broker on an external redis-server."""
    return start_broker(redis)


def pytest_configure(config):
    # The TLS test talks to a self-signed certificate on purpose.
    config.addinivalue_line("filterwarnings", "ignore::urllib3.exceptions.InsecureRequestWarning")
