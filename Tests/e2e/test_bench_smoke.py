"""Smoke run of the benchmark harness (Bench/, `make bench`): the release LoadGen against the
Baseline and against the broker, a few seconds with small numbers, so the harness cannot rot.

No timing assertions. What is asserted is what the LoadGen itself verifies: every acknowledged
message reached every console of its agent exactly once (loss or duplicates make it print FAILED
and exit 1), every routed conversation was offered and accepted once, and idle sockets stay open.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
import requests

from harness import REPO, free_port, wait_until

BIN_DIR = Path(os.environ.get("BENCH_BIN_DIR") or REPO / ".build" / "release")
LOADGEN = BIN_DIR / "LoadGen"
BASELINE = BIN_DIR / "Baseline"
SWITCHBOARD = Path(os.environ.get("SWITCHBOARD_BIN") or BIN_DIR / "switchboard")


def _missing() -> list[str]:
    return [str(p) for p in (LOADGEN, BASELINE, SWITCHBOARD) if not (p.is_file() and os.access(p, os.X_OK))]


@pytest.fixture(autouse=True)
def _binaries():
    missing = _missing()
    if missing:
        message = f"bench binaries missing: {', '.join(missing)} (swift build -c release builds them)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


def loadgen(*args: str, timeout: float = 90) -> dict:
    """Runs the LoadGen; asserts it passed and returns its RESULT record."""
    proc = subprocess.run([str(LOADGEN), *args], capture_output=True, text=True, timeout=timeout)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "FAILED" not in proc.stdout, f"LoadGen {' '.join(args)} failed:\n{output}"
    results = [line[len("RESULT "):] for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert results, f"LoadGen printed no RESULT line:\n{output}"
    return json.loads(results[-1])


def _ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


class Server:
    """A release binary (Baseline or broker) on a free loopback port, stopped with SIGTERM."""

    def __init__(self, argv: list[str], log: Path, ready_url: str):
        self.log = open(log, "wb")
        self.log_path = log
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: self._alive() and _ok(ready_url), f"{ready_url} to answer 200", timeout=20,
                   detail=lambda: log.read_text(errors="replace")[-2000:])

    def _alive(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.proc.args[0]} exited with {self.proc.returncode}: "
                                 f"{self.log_path.read_text(errors='replace')[-2000:]}")
        return True

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()


@pytest.fixture
def baseline(redis, tmp_path):
    port = free_port()
    server = Server([str(BASELINE), "--listen", f"127.0.0.1:{port}", "--redis", f"127.0.0.1:{redis.port}"],
                    tmp_path / "baseline.log", f"http://127.0.0.1:{port}/healthz")
    server.address = f"127.0.0.1:{port}"
    yield server
    server.stop()


@pytest.fixture
def bench_broker(redis, tmp_path):
    port = free_port()
    config = tmp_path / "bench-config.yaml"
    loadgen_config = subprocess.run(
        [str(LOADGEN), "config", "--server", f"127.0.0.1:{port}", "--redis-url", redis.url, "--data-dir", str(tmp_path / "data"),
         "--agents", "6", "--skills", "2", "--capacity", "10", "--log-level", "info", "--out", str(config)],
        capture_output=True, text=True, timeout=30)
    assert loadgen_config.returncode == 0, loadgen_config.stdout + loadgen_config.stderr
    server = Server([str(SWITCHBOARD), "serve", "--config", str(config)], tmp_path / "broker.log",
                    f"http://127.0.0.1:{port}/readyz")
    server.address = f"127.0.0.1:{port}"
    yield server
    server.stop()


def test_loadgen_against_baseline(baseline, redis):
    r = loadgen("messages", "--target", "baseline", "--server", baseline.address, "--agents", "4", "--consoles", "2",
                "--contacts", "20", "--connections", "4", "--duration", "1", "--server-pid", str(baseline.pid),
                "--redis", f"127.0.0.1:{redis.port}", "--label", "smoke-baseline")
    assert r["lost"] == 0 and r["duplicates"] == 0 and r["errors"] == 0
    assert r["delivered"] > 0 and r["deliveries"] == 2 * r["delivered"]   # two consoles per agent
    assert r["redis_commands_per_msg"] > 0                                 # one XADD each (plus INFO)


def test_loadgen_against_broker(bench_broker, redis):
    common = ["--target", "broker", "--server", bench_broker.address, "--channel", "sms-s00",
              "--server-pid", str(bench_broker.pid), "--redis", f"127.0.0.1:{redis.port}"]
    # As fast as the broker answers, two consoles per agent (fan-out), plus idle visitors.
    r = loadgen("messages", *common, "--agents", "3", "--consoles", "2", "--contacts", "12", "--connections", "4",
                "--visitors", "5", "--duration", "1", "--label", "smoke-broker", "--run-id", "a")
    assert r["lost"] == 0 and r["duplicates"] == 0 and r["errors"] == 0 and r["delivered"] > 0
    assert r["redis_scripts_per_msg"] >= 1
    # At a fixed rate, on the same conversations (a second run against the same Redis).
    r = loadgen("messages", *common, "--agents", "3", "--contacts", "12", "--connections", "4", "--rate", "200",
                "--duration", "1", "--label", "smoke-broker-rate", "--run-id", "b")
    assert r["lost"] == 0 and r["duplicates"] == 0 and r["sent"] > 0


def test_loadgen_routing_and_idle(bench_broker):
    r = loadgen("routing", "--server", bench_broker.address, "--agents", "6", "--skills", "2", "--connections", "4",
                "--duration", "1", "--server-pid", str(bench_broker.pid), "--label", "smoke-routing")
    assert r["lost"] == 0 and r["duplicates"] == 0 and r["accepted"] > 0 and r["accepted"] == r["acked"]
    r = loadgen("idle", "--server", bench_broker.address, "--connections", "60", "--agents", "2", "--source-ips", "2",
                "--server-pid", str(bench_broker.pid), "--label", "smoke-idle")
    assert r["open"] == 60 and r["ready"] == 60
