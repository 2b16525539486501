#!/usr/bin/env python3
"""A local stand-in for the WeChat Official Account and WeCom APIs (DESIGN §10.3), for the e2e
tests and for `make run`'s demo (`python3 Tests/e2e/fake_wechat_api.py --port 9301`). Stdlib only.

It speaks the documented shapes:
- POST /cgi-bin/stable_token {grant_type, appid, secret[, force_refresh]} -> {access_token, expires_in}
- GET  /cgi-bin/gettoken?corpid&corpsecret -> {errcode:0, access_token, expires_in}
- POST /cgi-bin/message/custom/send?access_token -> {errcode, errmsg}
- POST /cgi-bin/kf/sync_msg?access_token {cursor, token, limit, open_kfid} -> a page of `pages`
- POST /cgi-bin/kf/send_msg?access_token -> {errcode:0, errmsg, msgid}
- GET  /cgi-bin/media/get?access_token&media_id -> the bytes in `media`, or errcode 40007

Tokens are `TOKEN-<n>`; only the newest one issued is valid (a refused token is answered 40001
on the Official Account and 42001 on WeCom). `fail_next` queues errcodes that the next sends
answer instead of success (45015, 40001, -1 …). Every request is recorded."""
import argparse
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class ApiCall:
    method: str
    path: str
    query: dict
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json(self) -> dict:
        return json.loads(self.body or b"{}")


class FakeWeChatAPI:
    def __init__(self, port: int = 0):
        self.calls: list[ApiCall] = []
        self.token_count = 0
        self.valid_token: str | None = None
        self.fail_next: list[int] = []
        self.pages: dict[str, list[dict]] = {}   # open_kfid -> pages in order, one per cursor step
        self.media: dict[str, bytes] = {}
        self._cond = threading.Condition()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: bytes, content_type: str = "application/json"):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _handle(self, method: str):
                parsed = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with api._cond:
                    api.calls.append(ApiCall(method, parsed.path, query, body))
                    api._cond.notify_all()
                    status, reply, ctype = api._route(method, parsed.path, query, body)
                try:
                    self._answer(status, reply, ctype)
                except OSError:
                    self.close_connection = True

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-wechat-api", daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- answers (called with the lock held)

    def _issue(self) -> dict:
        self.token_count += 1
        self.valid_token = f"TOKEN-{self.token_count}"
        return {"access_token": self.valid_token, "expires_in": 7200}

    def _route(self, method, path, query, body):
        def js(obj, status=200):
            return status, json.dumps(obj, ensure_ascii=False).encode(), "application/json"
        if path == "/cgi-bin/stable_token" and method == "POST":
            return js(self._issue())
        if path == "/cgi-bin/gettoken" and method == "GET":
            return js({"errcode": 0, "errmsg": "ok", **self._issue()})
        token_ok = query.get("access_token") == self.valid_token and self.valid_token is not None
        wecom = path.startswith("/cgi-bin/kf/")
        if path in ("/cgi-bin/message/custom/send", "/cgi-bin/kf/send_msg", "/cgi-bin/kf/sync_msg", "/cgi-bin/media/get"):
            if not token_ok:
                return js({"errcode": 42001 if wecom else 40001, "errmsg": "access_token expired or invalid"})
        if path in ("/cgi-bin/message/custom/send", "/cgi-bin/kf/send_msg"):
            if self.fail_next:
                code = self.fail_next.pop(0)
                if code in (40001, 42001):
                    self.valid_token = None   # the platform revoked it: only a new token works
                return js({"errcode": code, "errmsg": "fake failure"})
            return js({"errcode": 0, "errmsg": "ok", "msgid": f"msg{len(self.calls)}"})
        if path == "/cgi-bin/kf/sync_msg":
            request = json.loads(body or b"{}")
            pages = self.pages.get(request.get("open_kfid", ""), [])
            index = int(request.get("cursor") or 0)
            if index >= len(pages):
                return js({"errcode": 0, "errmsg": "ok", "next_cursor": str(index), "has_more": 0, "msg_list": []})
            page = pages[index]
            return js({"errcode": 0, "errmsg": "ok", "next_cursor": str(index + 1),
                       "has_more": 1 if index + 1 < len(pages) else 0, "msg_list": page})
        if path == "/cgi-bin/media/get":
            data = self.media.get(query.get("media_id", ""))
            if data is None:
                return js({"errcode": 40007, "errmsg": "invalid media_id"})
            return 200, data, "image/jpeg"
        return js({"errcode": 404, "errmsg": f"no such API {method} {path}"}, status=404)

    # -- for tests

    def calls_to(self, path: str) -> list[ApiCall]:
        with self._cond:
            return [c for c in self.calls if c.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 10) -> list[ApiCall]:
        with self._cond:
            ok = self._cond.wait_for(lambda: len([c for c in self.calls if c.path == path]) >= count, timeout=timeout)
            found = [c for c in self.calls if c.path == path]
            if not ok:
                raise AssertionError(f"the fake WeChat API got {len(found)} calls to {path} within {timeout:.0f}s, expected {count}")
            return found

    def close(self):
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A fake WeChat/WeCom API on loopback, for trying Switchboard's WeChat channels.")
    parser.add_argument("--port", type=int, default=9301)
    args = parser.parse_args()
    api = FakeWeChatAPI(args.port)
    print(f"fake WeChat API on {api.base} (stable_token, gettoken, custom/send, kf/sync_msg, kf/send_msg, media/get)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        api.close()
