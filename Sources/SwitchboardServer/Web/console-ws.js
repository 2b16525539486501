// The agent WebSocket (DESIGN §9): auth + resume, newline-split frames, seq dedup, request refs,
// keep-alive and reconnect with backoff. It knows nothing about the page; console.js wires it up.
'use strict';
window.SB = window.SB || {};

// Server time ≈ local time + offset. Deadlines (offer expiresAt) are server milliseconds; an agent
// PC with a wrong clock would otherwise show a countdown that is off by minutes. The offset is
// learnt from an explicit server time if a frame carries one (`now`/`serverTime`), else from the
// arrival of live messages: a message id is a Redis stream id whose first part is the server's
// clock when it was stored, moments before it reached us.
SB.clock = {
  offset: 0,
  known: false,
  samples: [],
  serverNow() { return Date.now() + this.offset; },
  // Sample: the server said `serverMs` in a reply to a request sent at local `sentAt`.
  sample(serverMs, sentAt) {
    if (typeof serverMs !== 'number' || !isFinite(serverMs)) return;
    const now = Date.now();
    const mid = sentAt ? (sentAt + now) / 2 : now; // half the round trip, NTP-style
    this.offset = serverMs - mid;
    this.known = true;
  },
  // A server timestamp of something that happened just before it arrived here. Transit only makes
  // (stamp − arrival) smaller, so the largest of recent samples is the best estimate; replayed
  // old events give very negative samples and never win.
  observe(serverMs) {
    if (this.known || typeof serverMs !== 'number' || !isFinite(serverMs)) return;
    const s = serverMs - Date.now();
    if (Math.abs(s) > 6 * 3600 * 1000) return; // not a live stamp
    this.samples.push(s);
    if (this.samples.length > 20) this.samples.shift();
    this.offset = Math.max(...this.samples);
  },
  // Milliseconds left until a server deadline, as of now.
  remaining(serverDeadline) { return serverDeadline - this.serverNow(); },
};

function serverTimeOf(ev) {
  for (const k of ['now', 'serverTime', 'time']) if (typeof ev[k] === 'number') return ev[k];
  return undefined;
}

SB.Connection = class {
  constructor(opts) {
    this.url = opts.url;
    this.protocol = opts.protocol;
    this.onEvent = opts.onEvent;       // (event, {replay}) for every seq'd event and welcome
    this.onState = opts.onState;       // ({state, retryAt?, code?})
    this.onAuthFailed = opts.onAuthFailed;
    this.onUnsolicitedError = opts.onUnsolicitedError;
    this.ws = null;
    this.token = null;
    this.stopped = true;
    this.attempt = 0;
    this.pending = new Map();          // ref → {resolve, reject, timer, sentAt, silent}
    this.refN = 0;
    this.lastSeq = Number(sessionStorage.getItem('sb.lastSeq')) || 0;
    this.everWelcomed = false;
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastRx = 0;
    this.resumeSent = false;
    this.state = 'offline';
    window.addEventListener('online', () => { if (this.state === 'reconnecting') this.reconnectNow(); });
  }

  start(token) {
    this.token = token;
    this.stopped = false;
    this.attempt = 0;
    this.everWelcomed = false;
    this.open();
  }

  // Logout: no reconnect, forget the resume point (the next agent in this tab starts fresh).
  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stopPing();
    if (this.ws) { try { this.ws.close(1000, 'logout'); } catch (_) { /* already closing */ } }
    this.ws = null;
    this.failPending('disconnected');
    this.setLastSeq(0);
    this.setState('offline');
  }

  setLastSeq(n) {
    this.lastSeq = n;
    try { sessionStorage.setItem('sb.lastSeq', String(n)); } catch (_) { /* quota: in-memory is enough */ }
  }

  setState(state, extra) {
    this.state = state;
    this.onState(Object.assign({ state }, extra || {}));
  }

  open() {
    clearTimeout(this.retryTimer);
    let ws;
    try {
      ws = new WebSocket(this.url, this.protocol);
    } catch (e) {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    this.setState(this.everWelcomed ? 'reconnecting' : 'connecting', { now: true });
    ws.onopen = () => {
      if (ws !== this.ws) return;
      const auth = { type: 'auth', token: this.token };
      this.resumeSent = this.lastSeq > 0;
      if (this.resumeSent) auth.resume = this.lastSeq;
      ws.send(JSON.stringify(auth));
      this.lastRx = Date.now();
      // The server closes with 4401 on a bad token; a server that never answers is treated as a
      // dead connection so we don't sit in "connecting" forever.
      this.authTimer = setTimeout(() => { if (ws === this.ws && this.state !== 'connected') this.abandon(); }, 10000);
    };
    ws.onmessage = (e) => { if (ws === this.ws) this.receive(e.data); };
    ws.onerror = () => { /* onclose follows and carries the code */ };
    ws.onclose = (e) => { if (ws === this.ws) this.closed(e.code, e.reason); };
  }

  closed(code, reason) {
    clearTimeout(this.authTimer);
    this.stopPing();
    this.ws = null;
    this.failPending('disconnected');
    if (this.stopped) return;
    if (code === 4401) {
      this.stopped = true;
      this.setLastSeq(0);
      this.setState('offline', { code });
      this.onAuthFailed(this.everWelcomed);
      return;
    }
    if (code === 4409) {
      // Assumed code for "this agent connected elsewhere": reconnecting would kick the other
      // page off in a loop, so wait for the agent to choose.
      this.stopped = true;
      this.setState('offline', { code, replaced: true });
      return;
    }
    if (code === 1012) {
      // Service restart: another node (or this one, restarted) is ready now. A small random
      // delay keeps 50 consoles from landing in the same millisecond.
      this.attempt = 0;
      this.scheduleRetry(Math.random() * 400);
      return;
    }
    this.scheduleRetry();
  }

  scheduleRetry(delay) {
    clearTimeout(this.retryTimer);
    if (delay === undefined) {
      const base = Math.min(15000, 1000 * 2 ** this.attempt);
      delay = base * (0.8 + Math.random() * 0.4); // jitter, so a node restart isn't a stampede
      this.attempt++;
    }
    const retryAt = Date.now() + delay;
    this.setState(this.everWelcomed ? 'reconnecting' : 'connecting', { retryAt });
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  reconnectNow() {
    if (this.stopped && this.token) this.stopped = false;
    if (this.stopped) return;
    if (this.ws && this.ws.readyState <= 1) return;
    this.attempt = 0;
    this.open();
  }

  receive(data) {
    this.lastRx = Date.now();
    if (typeof data !== 'string') return;
    // Several events may share a frame, one JSON object per line (coalesced writes, DESIGN §12).
    for (const line of data.split('\n')) {
      if (!line.trim()) continue;
      let ev;
      try { ev = JSON.parse(line); } catch (e) { console.warn('switchboard: bad frame line', line); continue; }
      if (!ev || typeof ev !== 'object') continue;
      try { this.dispatch(ev); } catch (e) { console.error('switchboard: handler failed for', ev.type, e); }
    }
  }

  dispatch(ev) {
    // `pong` is the server's answer to `ping`: it settles the ping's ref like an ack.
    if (ev.type === 'ack' || ev.type === 'error' || ev.type === 'pong') {
      const p = ev.ref !== undefined ? this.pending.get(ev.ref) : undefined;
      if (p) {
        this.pending.delete(ev.ref);
        clearTimeout(p.timer);
        const st = serverTimeOf(ev);
        if (st !== undefined) SB.clock.sample(st, p.sentAt);
        if (ev.type !== 'error') p.resolve(ev);
        else p.reject({ code: ev.code || 'other', message: ev.message || '', silent: p.silent });
      } else if (ev.type === 'error' && ev.ref === undefined) {
        this.onUnsolicitedError(ev);
      }
      return;
    }
    if (ev.type === 'welcome') {
      // Welcome is a snapshot, never deduplicated (it may carry a seq we have already seen).
      clearTimeout(this.authTimer);
      const st = serverTimeOf(ev);
      if (st !== undefined) SB.clock.sample(st);
      const serverLast = typeof ev.lastSeq === 'number' ? ev.lastSeq : (typeof ev.seq === 'number' ? ev.seq : undefined);
      if (serverLast !== undefined) {
        // Fresh start: everything up to serverLast is in the snapshot. Resumed: keep our seq so
        // the replay that follows is applied (handlers are idempotent). A server seq below ours
        // means the event stream was reset; without this we'd drop every new event as "seen".
        if (!this.resumeSent || serverLast < this.lastSeq) this.setLastSeq(serverLast);
      }
      this.welcomedAt = Date.now();
      const wasWelcomed = this.everWelcomed;
      this.everWelcomed = true;
      this.attempt = 0;
      this.setState('connected');
      this.startPing();
      this.onEvent(ev, { reconnect: wasWelcomed });
      return;
    }
    if (typeof ev.seq === 'number') {
      if (ev.seq <= this.lastSeq) return; // already handled (replay overlap or a duplicate push)
      this.onEvent(ev, {});
      this.setLastSeq(ev.seq);
      return;
    }
    this.onEvent(ev, {}); // seq-less event: tolerated, just not deduplicated
  }

  // Sends a request with a fresh ref and returns a promise for its ack (rejects with
  // {code,message} on error, timeout or disconnect). `silent` requests don't toast their errors.
  request(msg, { timeout = 20000, silent = false } = {}) {
    const ref = 'r' + Date.now().toString(36) + '.' + (++this.refN);
    const frame = Object.assign({}, msg, { ref });
    return new Promise((resolve, reject) => {
      if (!this.ws || this.ws.readyState !== 1 || this.state !== 'connected') {
        reject({ code: 'disconnected', message: '', silent });
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject({ code: 'timeout', message: '', silent });
      }, timeout);
      this.pending.set(ref, { resolve, reject, timer, sentAt: Date.now(), silent });
      try {
        this.ws.send(JSON.stringify(frame));
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(ref);
        reject({ code: 'disconnected', message: '', silent });
      }
    });
  }

  // Fire-and-forget (typing): the server answers only on failure, and a lost hint is harmless.
  send(msg) {
    if (!this.ws || this.ws.readyState !== 1 || this.state !== 'connected') return false;
    try { this.ws.send(JSON.stringify(Object.assign({}, msg, { ref: 'f' + (++this.refN) }))); return true; } catch (_) { return false; }
  }

  // Milliseconds since the last welcome (0 when not connected).
  liveFor() { return this.state === 'connected' ? Date.now() - this.welcomedAt : 0; }

  get connected() { return this.state === 'connected'; }

  failPending(code) {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject({ code, message: '', silent: p.silent });
    }
    this.pending.clear();
  }

  // Keep-alive: a ping every 25 s (DESIGN brief). A socket that has received nothing for 60 s is
  // dead even if the browser hasn't noticed (NAT timeouts, sleeping laptops): drop and reconnect.
  startPing() {
    this.stopPing();
    this.pingTimer = setInterval(() => {
      if (!this.ws || this.ws.readyState !== 1) return;
      if (Date.now() - this.lastRx > 60000) { this.abandon(); return; }
      this.request({ type: 'ping' }, { timeout: 20000, silent: true }).catch(() => { /* staleness check handles it */ });
    }, 25000);
  }

  // Drops a socket we believe is dead without waiting for a close handshake that may never come.
  abandon() {
    const ws = this.ws;
    if (!ws) return;
    ws.onclose = null;
    ws.onmessage = null;
    try { ws.close(4000, 'stale'); } catch (_) { /* already closed */ }
    this.closed(4000, 'stale');
  }

  stopPing() { clearInterval(this.pingTimer); this.pingTimer = null; }
};
