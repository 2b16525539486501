// Console state: the agent, presence, offers, conversations and per-conversation threads.
// Pure data plus a tiny event bus; the UI modules listen and render. Every update here is
// idempotent because the server may replay events after a reconnect (DESIGN §9, resume).
'use strict';
window.SB = window.SB || {};

SB.bus = {
  handlers: new Map(),
  on(name, fn) { (this.handlers.get(name) || this.handlers.set(name, []).get(name)).push(fn); },
  emit(name, ...args) { for (const fn of this.handlers.get(name) || []) fn(...args); },
};

const OPEN_ENDED = ['wrapup', 'closed', 'abandoned'];
const STATUS_RANK = { pending: 0, sent: 1, delivered: 2, read: 3, failed: 4 };

SB.state = {
  me: null,                 // {id, name, role, skills}
  presence: { status: 'offline', reason: null },
  convs: new Map(),         // id → conversation (wire form, plus _ended / _order)
  offers: new Map(),        // offerId → {offerId, conversation, expiresAt}
  threads: new Map(),       // conversation id → Thread
  activeId: null,
  orderN: 0,
  acceptedConvs: new Set(), // conversations this agent accepted: open them when assigned

  reset() {
    this.me = null;
    this.presence = { status: 'offline', reason: null };
    this.convs.clear();
    this.offers.clear();
    this.threads.clear();
    this.activeId = null;
    this.acceptedConvs.clear();
  },

  thread(id) {
    let t = this.threads.get(id);
    if (!t) { t = new SB.Thread(id); this.threads.set(id, t); }
    return t;
  },

  activeConvs() {
    return [...this.convs.values()].filter((c) => !c._ended).sort((a, b) => a._order - b._order);
  },

  endedConvs() {
    return [...this.convs.values()].filter((c) => c._ended).sort((a, b) => (b._endedAt || 0) - (a._endedAt || 0));
  },

  // Applies a conversation as the server sent it (welcome, assigned, conversation.updated).
  // Returns the stored object, or null when it isn't (and never was) ours to show.
  upsertConv(conv, { assigned = false } = {}) {
    if (!conv || !conv.id) return null;
    const old = this.convs.get(conv.id);
    const mine = !conv.assignee || !this.me || conv.assignee === this.me.id;
    let ended = null;
    if (OPEN_ENDED.includes(conv.status)) ended = conv.status;
    else if (conv.status === 'assigned' && mine) ended = null;
    else if (assigned) ended = null; // an explicit `assigned` event is the server saying "yours"
    else ended = 'transferred';      // requeued, offered elsewhere or assigned to someone else
    // An update that ends a conversation we never showed (old replay, someone else's) is noise.
    if (!old && ended && !assigned) return null;
    const c = Object.assign(old || { _order: ++this.orderN }, conv);
    if (ended && !c._ended) c._endedAt = Date.now();
    if (!ended && c._ended) c._order = ++this.orderN; // came back (e.g. transferred back to us)
    c._ended = ended;
    this.convs.set(c.id, c);
    // The conversation is no longer an offer once it is assigned or gone.
    for (const [oid, o] of this.offers) if (o.conversation && o.conversation.id === c.id && (c.status !== 'offered')) this.offers.delete(oid);
    return c;
  },

  // After a reconnect the welcome snapshot is the truth: anything active here that the server
  // no longer lists was taken back (e.g. reconnect_grace expired, DESIGN §7).
  applySnapshot(conversations) {
    const seen = new Set();
    for (const conv of conversations || []) { const c = this.upsertConv(conv, { assigned: true }); if (c) seen.add(c.id); }
    for (const c of this.convs.values()) {
      if (!c._ended && !seen.has(c.id)) { c._ended = 'reassigned'; c._endedAt = Date.now(); }
    }
  },

  dismiss(id) {
    const c = this.convs.get(id);
    if (!c || !c._ended) return;
    this.convs.delete(id);
    this.threads.delete(id);
    if (this.activeId === id) this.activeId = null;
  },

  // Keeps the ended list short: an agent closes ~100 conversations a day.
  trimEnded(max = 15) {
    const ended = this.endedConvs();
    for (const c of ended.slice(max)) if (c.id !== this.activeId) this.dismiss(c.id);
  },
};

// Wire kind → i18n key. Older servers may only send `channel` (the instance id), so the kind is
// guessed from it as a fallback (`sms-main` → sms, `wx-kf` → wechat).
SB.kindOf = function (conv) {
  const kinds = ['webchat', 'sms', 'wechat', 'email', 'voice', 'mailbox'];
  if (conv && kinds.includes(conv.kind)) return conv.kind;
  const ch = String((conv && conv.channel) || '').toLowerCase();
  if (ch.startsWith('web')) return 'webchat';
  if (/^(wx|weixin|wecom|wework)([-_.]|$)/.test(ch)) return 'wechat';
  if (ch.startsWith('phone') || ch.startsWith('voice') || ch.startsWith('call')) return 'voice';
  return kinds.find((k) => ch.startsWith(k)) || 'webchat';
};

// "微信 · wx-kf": the kind's name, and the instance id when a kind may have several (an Official
// Account and a WeCom customer-service account are both WeChat).
SB.channelTitle = function (conv) {
  const kind = SB.kindOf(conv);
  const ch = conv && conv.channel;
  return SB.t('channel.' + kind) + (ch && ch !== kind ? ' · ' + ch : '');
};

// A WeChat contact without a name is known only by an openid (28 opaque characters): shown as
// "微信用户 …0001", which still tells two citizens apart.
SB.contactName = function (conv) {
  const ct = (conv && conv.contact) || {};
  if (!ct.name && ct.address && SB.kindOf(conv) === 'wechat') return SB.t('contact.wechat', { tail: String(ct.address).slice(-4) });
  return ct.name || ct.address || ct.id || (conv && conv.id) || '';
};

// The name in the left column: a phone number standing in for a name is masked.
SB.listName = function (conv) {
  const name = SB.contactName(conv);
  return conv && conv.contact && name === conv.contact.address ? SB.maskAddress(name) : name;
};

// Phone numbers are shown with the middle masked unless the agent opens the conversation
// header: shoulder-surfing in an open-plan floor is the realistic threat (DESIGN §11 spirit).
SB.maskAddress = function (addr) {
  const s = String(addr || '');
  if (!/^\+?\d{7,}$/.test(s)) return s;
  return s.slice(0, Math.min(5, s.length - 4)) + '****' + s.slice(-4);
};

SB.Thread = class {
  constructor(convId) {
    this.convId = convId;
    this.messages = [];       // sorted oldest → newest
    this.byId = new Map();
    this.byClient = new Map();
    this.deliveries = new Map(); // messageId → {status, error} that arrived before the message
    this.loaded = false;      // first history page received
    this.loading = false;
    this.hasMore = true;
    this.unread = 0;
    this.typingUntil = 0;
    this.localN = 0;
    this.scrollTop = null;    // remembered per thread so switching keeps the reading position
  }

  static cmp(a, b) {
    if (!a.id || !b.id) {
      if (!a.id && !b.id) return a._localN - b._localN;
      return a.id ? -1 : 1; // unconfirmed local messages stay at the bottom until acknowledged
    }
    const pa = /^(\d+)-(\d+)$/.exec(a.id), pb = /^(\d+)-(\d+)$/.exec(b.id);
    // Message ids are Redis stream ids (DESIGN §8): their order is the log order.
    if (pa && pb) return (Number(pa[1]) - Number(pb[1])) || (Number(pa[2]) - Number(pb[2]));
    return ((a.createdAt || 0) - (b.createdAt || 0)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  }

  // Inserts or merges a message; returns {msg, isNew, moved}. Dedup is by server id and by
  // clientId, because our own send may come back first as a `message` event, then as the ack.
  upsert(m) {
    if (!m || typeof m !== 'object') return null;
    let ex = (m.id && this.byId.get(m.id)) || (m.clientId && this.byClient.get(m.clientId)) || null;
    if (ex) {
      const hadId = !!ex.id;
      const status = ex.status;
      Object.assign(ex, m);
      ex.status = SB.advanceStatus(status, m.status);
      if (m.id) {
        ex._local = null;
        ex._error = ex.status === 'failed' ? (m.error || ex._error) : null;
        ex._hint = ex.status === 'failed' ? (m.hint || ex._hint) : null;
      }
      this.register(ex);
      const moved = !hadId && !!ex.id && this.resort(ex);
      return { msg: ex, isNew: false, moved };
    }
    const msg = Object.assign({}, m);
    if (msg.status === 'failed' && msg.error) msg._error = msg.error; // history carries the reason
    if (msg.status === 'failed' && msg.hint) msg._hint = msg.hint;
    msg._key = msg.clientId ? 'c:' + msg.clientId : (msg.id || 'l:' + (++this.localN));
    msg._localN = ++this.localN;
    this.insert(msg);
    this.register(msg);
    return { msg, isNew: true, moved: false };
  }

  register(msg) {
    if (msg.id) {
      this.byId.set(msg.id, msg);
      const d = this.deliveries.get(msg.id);
      if (d) { this.deliveries.delete(msg.id); this.applyDelivery(msg.id, d.status, d.error, d.hint); }
    }
    if (msg.clientId) this.byClient.set(msg.clientId, msg);
  }

  insert(msg) {
    let i = this.messages.length;
    while (i > 0 && SB.Thread.cmp(this.messages[i - 1], msg) > 0) i--;
    this.messages.splice(i, 0, msg);
  }

  resort(msg) {
    const i = this.messages.indexOf(msg);
    this.messages.splice(i, 1);
    this.insert(msg);
    return this.messages.indexOf(msg) !== i;
  }

  // Returns the message if its status changed (so the UI can update one tick, not the thread).
  // `hint` is the provider's advice to the agent on a failure (Chinese, from the server).
  applyDelivery(messageId, status, error, hint) {
    const msg = this.byId.get(messageId);
    if (!msg) { this.deliveries.set(messageId, { status, error, hint }); return null; }
    const next = SB.advanceStatus(msg.status, status);
    const news = status === 'failed' && ((error && msg._error !== error) || (hint && msg._hint !== hint));
    if (next === msg.status && !news) return null;
    msg.status = next;
    if (status === 'failed') { msg._error = error || msg._error || ''; msg._hint = hint || msg._hint || null; }
    return msg;
  }

  oldestId() {
    const m = this.messages.find((x) => x.id);
    return m ? m.id : undefined;
  }

  last() {
    for (let i = this.messages.length - 1; i >= 0; i--) if (this.messages[i].author !== 'system') return this.messages[i];
    return this.messages[this.messages.length - 1];
  }

  // Server ms of the oldest contact message not yet answered by an agent, or null: the
  // "every message answered within 15 minutes" target (DESIGN §1) made visible.
  waitingSince() {
    let since = null;
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const m = this.messages[i];
      if (m.direction === 'out' && m.author === 'agent' && !m._local && m.status !== 'failed') break; // answered
      if (m.direction === 'in' && m.author === 'contact') since = m.createdAt || since;
    }
    return since;
  }
};

// Statuses only move forward; `failed` is terminal but can't undo delivered/read (as in Core's
// DeliveryStatus.canAdvance). Unknown statuses are ignored.
SB.advanceStatus = function (cur, next) {
  if (!(next in STATUS_RANK)) return cur;
  if (!(cur in STATUS_RANK)) return next;
  if (cur === 'failed') return cur;
  if (next === 'failed') return (cur === 'delivered' || cur === 'read') ? cur : 'failed';
  return STATUS_RANK[next] > STATUS_RANK[cur] ? next : cur;
};

// One line summarising a message for the conversation list and notifications. `kind` names a
// WeChat voice note as such (a phone recording is a voicemail).
SB.preview = function (msg, kind) {
  if (!msg) return '';
  const voice = SB.t(kind === 'wechat' ? 'part.voiceNote' : 'part.voicemail');
  for (const p of msg.parts || []) {
    if (p.type === 'text' && p.text) return p.text.replace(/\s+/g, ' ').slice(0, 80);
    if (p.type === 'email' && p.subject) return p.subject.slice(0, 80);
    if (p.type === 'voicemail' && p.transcript) return voice + ' ' + p.transcript.slice(0, 60);
    if (p.type === 'form' && p.title) return SB.t('part.form') + ' ' + p.title.slice(0, 60);
  }
  const p = (msg.parts || [])[0];
  if (!p) return '';
  if (p.type === 'media') return SB.t(SB.mediaKey(p.mime));
  if (p.type === 'voicemail') return voice;
  if (p.type === 'location' && p.label) return SB.t('part.location') + ' ' + String(p.label).slice(0, 60);
  return SB.tOr('part.' + p.type, SB.t('part.unknown'));
};

SB.mediaKey = function (mime) {
  const m = String(mime || '');
  if (m.startsWith('image/')) return 'part.image';
  if (m.startsWith('audio/')) return 'part.audio';
  if (m.startsWith('video/')) return 'part.video';
  return 'part.file';
};

SB.fmtTime = function (ms) {
  if (!ms) return '';
  const d = new Date(ms), now = new Date();
  const hm = String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
  if (d.toDateString() === now.toDateString()) return hm;
  return (d.getMonth() + 1) + '-' + String(d.getDate()).padStart(2, '0') + ' ' + hm;
};

SB.fmtDuration = function (ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return (h ? h + ':' + String(m).padStart(2, '0') : String(m)) + ':' + String(sec).padStart(2, '0');
};

SB.fmtBytes = function (n) {
  if (typeof n !== 'number') return '';
  if (n < 1024) return n + ' B';
  if (n < 1048576) return (n / 1024).toFixed(0) + ' KB';
  return (n / 1048576).toFixed(1) + ' MB';
};

// A unique client id for message.send idempotency (DESIGN §9).
SB.newClientId = function () {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
};
