# Switchboard — the two commands that do everything on a fresh Debian machine:
#   make run    install what is missing, build (release), start a managed Redis and the broker
#   make test   install what is missing and run every test tier (unit, integration, e2e)
SHELL := /bin/bash
.DEFAULT_GOAL := run

CONFIG ?= config/demo.yaml
# libwebsockets-evlib-ev + libev-dev: the event loop runs on libev/epoll (docs/architecture.md §5.3).
# libgmime-3.0-dev: MIME for the email channel and the mailbox's multipart forms (issue 11).
APT_PACKAGES := libwebsockets-dev libwebsockets-evlib-ev libev-dev libhiredis-dev libssl-dev libxml2-dev libgmime-3.0-dev redis-server pkg-config openssl
# Only the tests need a browser: the console's browser test drives Debian's chromium. A small CJK
# font, so the console's screenshots (Tests/e2e/test_console_wechat.py) show Chinese, not boxes.
TEST_APT_PACKAGES := chromium chromium-driver fonts-wqy-microhei
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RELEASE_BIN := .build/release/switchboard
# The fake WeChat/WeCom API the demo's wx-main and wx-kf channels call (config/demo.yaml api_base).
FAKE_WECHAT_PORT := 9301
# libFuzzer targets (Tests/Fuzz/README.md): seconds per target for `make fuzz`, and for the short
# run in `make test` (11 targets x 10 s, under two minutes, after a one-time instrumented build).
FUZZ_SECONDS ?= 60
FUZZ_TEST_SECONDS ?= 10

.PHONY: run test deps test-deps apt venv build build-tests unit e2e fuzz bench bench-smoke fmt clean

## Install the Debian packages that are missing (apt-get update only when something is). A package
## removed but not purged still has a dpkg status, so "installed" is checked, not mere presence.
apt:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

## Python peers for the end-to-end tests (websockets, twilio, pytest, requests) in a venv.
venv: $(VENV)/.installed
$(VENV)/.installed: Tests/e2e/requirements.txt
	@python3 -m venv $(VENV) 2>/dev/null || { $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && python3 -m venv $(VENV); }
	$(PY) -m pip install -q --disable-pip-version-check -r Tests/e2e/requirements.txt
	@touch $@

deps:
	@$(MAKE) --no-print-directory apt PACKAGES="$(APT_PACKAGES)"

test-deps:
	@$(MAKE) --no-print-directory apt PACKAGES="$(APT_PACKAGES) $(TEST_APT_PACKAGES)"

build: deps
	swift build -c release

run: build
	@echo
	@echo "  Switchboard console:  http://127.0.0.1:8080/        (web-chat demo: http://127.0.0.1:8080/demo.html)"
	@echo "  Log in with an agent token: demo-wangfang, demo-liqiang or demo-zhangmin (supervisor)."
	@echo "  REST API key: demo-bot-key.  Stop with Ctrl-C (the managed Redis under ./var stops too)."
	@echo "  WeChat: wx-main and wx-kf call a fake WeChat API on 127.0.0.1:$(FAKE_WECHAT_PORT) (README \"Trying WeChat locally\")."
	@echo
	@# The fake WeChat API (stdlib Python) runs beside the broker and stops when it stops, Ctrl-C included.
	@python3 Tests/e2e/fake_wechat_api.py --port $(FAKE_WECHAT_PORT) & fake=$$!; \
	trap 'kill $$fake 2>/dev/null; wait $$fake 2>/dev/null' EXIT; \
	trap 'exit 130' INT; trap 'exit 143' TERM; \
	$(RELEASE_BIN) serve --config $(CONFIG)

## Every tier: Swift unit + integration tests (real redis-server on free ports), a short run of
## every fuzz target, then the black-box e2e suite against the release binary.
test: test-deps venv
	swift build --build-tests
	swift test --skip-build --disable-swift-testing
	FUZZ_SECONDS=$(FUZZ_TEST_SECONDS) Tests/Fuzz/run.sh
	swift build -c release
	SWITCHBOARD_BIN=$(CURDIR)/$(RELEASE_BIN) $(PY) -m pytest Tests/e2e -q -p no:cacheprovider

unit: deps
	swift test --filter 'SwitchboardCoreTests|ChannelTests'

e2e: test-deps venv
	swift build -c release
	SWITCHBOARD_BIN=$(CURDIR)/$(RELEASE_BIN) $(PY) -m pytest Tests/e2e -q -p no:cacheprovider

## Every libFuzzer target for FUZZ_SECONDS each (Tests/Fuzz/README.md), in .build-fuzz; a crash
## leaves its input in .build-fuzz/artifacts/<target>/ and fails.
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) Tests/Fuzz/run.sh

## Performance (Bench/README.md): release build, then the six scenarios on loopback (≤ 10 min);
## rewrites the results table in Bench/README.md.
bench: deps
	swift build -c release
	Bench/run.sh

## The LoadGen + Baseline smoke run alone (`make test` runs it too, in the e2e tier).
bench-smoke: test-deps venv
	swift build -c release
	SWITCHBOARD_BIN=$(CURDIR)/$(RELEASE_BIN) $(PY) -m pytest Tests/e2e/test_bench_smoke.py -q -p no:cacheprovider

fmt:
	swift format --in-place --recursive Sources Channels Tests

clean:
	rm -rf .build .build-fuzz var $(VENV)
