/*! Switchboard web-chat widget.
 * <script src="https://broker.example/widget.js" data-channel="web" async></script>
 * Optional: data-lang="en", data-title="…", data-color="#1c64d9", data-position="left",
 *           data-name / data-email (a signed-in citizen: skips the pre-chat form).
 * Any host element with data-switchboard-open opens the chat; so does SwitchboardWidget.open().
 * Everything lives in a Shadow DOM so the host page's CSS can't break it and ours can't leak.
 * Protocol: DESIGN §9, visitor WebSocket (/v1/visitor, subprotocol switchboard.visitor.v1). */
(function () {
  'use strict';
  if (window.__switchboardWidget) return; // included twice by a CMS: keep one
  const script = document.currentScript ||
    [...document.querySelectorAll('script[src]')].reverse().find((s) => /\/widget\.js(?:[?#]|$)/.test(s.src));
  if (!script || !window.WebSocket || !document.body || !document.body.attachShadow) return;
  window.__switchboardWidget = true;

  // The broker is where this script came from, not the page embedding it.
  const origin = new URL(script.src, location.href);
  const WS_URL = (origin.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + origin.host + '/v1/visitor';
  const ds = script.dataset;
  const cfg = {
    channel: ds.channel || 'web',
    lang: ds.lang === 'en' ? 'en' : 'zh',
    color: /^#[0-9a-f]{3,8}$/i.test(ds.color || '') ? ds.color : '#1c64d9',
    left: ds.position === 'left',
    name: (ds.name || '').slice(0, 100),
    email: plausibleEmail(ds.email) ? ds.email : '',
  };
  // The server refuses a hello whose email is implausible, so such an address is left out.
  function plausibleEmail(e) { return typeof e === 'string' && e.length <= 200 && /^[^\s@]+@[^\s@.][^\s@]*\.[^\s@]*[^\s@.]$/.test(e); }
  const KEY = 'sbw:' + origin.host + ':' + cfg.channel; // one visitor identity per broker+channel

  const S = {
    zh: {
      title: '在线咨询', open: '在线咨询', minimize: '收起', sub: '人工客服 7×24 小时为您服务',
      connecting: '正在连接…', offline: '网络中断，正在重连…', waiting: '正在为您接通人工客服…',
      serving: '客服 {n} 为您服务', bot: '智能助手为您服务', ended: '会话已结束',
      queue: '您前面还有 {p} 位，预计等待约 {m} 分钟', queueNoEta: '您前面还有 {p} 位，请稍候',
      queueNext: '马上为您接通，请稍候', joined: '客服 {n} 已接入，为您服务', closed: '本次会话已结束，感谢您的咨询。',
      transferring: '正在为您转接…', typing: '客服正在输入…', placeholder: '请输入您的问题，Enter 发送', send: '发送',
      preTitle: '您好！欢迎咨询，请留下称呼方便客服与您沟通（均为选填）。',
      preName: '称呼', preEmail: '邮箱', start: '开始咨询', you: '我', agent: '客服', system: '系统',
      csatTitle: '请为本次服务评分', csatComment: '您的意见或建议（选填）', csatSubmit: '提交评价',
      csatThanks: '感谢您的评价！', stars: ['非常不满意', '不满意', '一般', '满意', '非常满意'],
      failed: '发送失败，点击重试', sending: '发送中…', image: '[图片]', file: '[文件]', unsupported: '[暂不支持显示的内容]',
      err: { rate_limited: '发送太频繁，请稍后再试', unavailable: '服务暂时不可用，请稍后再试', bad_request: '消息无法发送', too_large: '消息太长' },
      errOther: '出现错误：{m}', greeting: '您好，请问有什么可以帮您？',
    },
    en: {
      title: 'Chat with us', open: 'Chat with us', minimize: 'Minimise', sub: 'We are here to help',
      connecting: 'Connecting…', offline: 'Connection lost, reconnecting…', waiting: 'Connecting you to an agent…',
      serving: '{n} is helping you', bot: 'Our assistant is helping you', ended: 'Conversation ended',
      queue: '{p} ahead of you, about {m} min wait', queueNoEta: '{p} ahead of you, please hold on',
      queueNext: 'You are next, please hold on', joined: '{n} has joined the chat', closed: 'This conversation has ended. Thank you.',
      transferring: 'Transferring you…', typing: 'Agent is typing…', placeholder: 'Type your question, Enter to send', send: 'Send',
      preTitle: 'Hello! Tell us how to address you (optional).',
      preName: 'Name', preEmail: 'Email', start: 'Start chat', you: 'Me', agent: 'Agent', system: 'System',
      csatTitle: 'How did we do?', csatComment: 'Comments (optional)', csatSubmit: 'Submit',
      csatThanks: 'Thank you for your feedback!', stars: ['Very poor', 'Poor', 'OK', 'Good', 'Excellent'],
      failed: 'Not sent, tap to retry', sending: 'Sending…', image: '[Image]', file: '[File]', unsupported: '[Unsupported content]',
      err: { rate_limited: 'Too many messages, please slow down', unavailable: 'Service unavailable, please try later', bad_request: 'The message could not be sent', too_large: 'The message is too long' },
      errOther: 'Error: {m}', greeting: 'Hello, how can we help you?',
    },
  }[cfg.lang];
  const t = (k, v) => String(S[k]).replace(/\{(\w)\}/g, (m, x) => (v && v[x] !== undefined ? v[x] : m));
  const title = (ds.title || S.title).slice(0, 40);

  // ---- persistence (localStorage may be unavailable: private mode, sandboxed iframes) ----
  function load() { try { return JSON.parse(localStorage.getItem(KEY) || '{}') || {}; } catch (_) { return {}; } }
  function save() { try { localStorage.setItem(KEY, JSON.stringify({ token: st.token, open: !!st.convId })); } catch (_) { /* memory only */ } }

  const saved = load();
  const st = {
    token: saved.token || null, convId: null, ws: null, ready: false, attempt: 0, retry: null,
    panelOpen: false, unread: 0, started: !!saved.token || !!(cfg.name || cfg.email),
    msgs: [], byId: new Map(), byClient: new Map(), agentName: null, queue: null, ended: false,
    typingUntil: 0, lastTyping: 0, csat: null, bot: false, transferring: false,
    refs: new Map(), refN: 0, ping: null, // ref → what the ack or error settles
  };

  // ---- DOM ----
  const host = document.createElement('div');
  host.setAttribute('data-switchboard-widget', '');
  const root = host.attachShadow({ mode: 'closed' });
  const h = (tag, attrs, ...kids) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v); else if (k === 'class') el.className = v; else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of kids.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return el;
  };
  const ICON = '<svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true"><path fill="currentColor" d="M12 3C6.5 3 2 6.9 2 11.7c0 2.6 1.3 4.9 3.4 6.5L4.6 22l4.3-2.3c1 .3 2 .4 3.1.4 5.5 0 10-3.9 10-8.7S17.5 3 12 3z"/></svg>';

  const style = document.createElement('style');
  style.textContent = `
  :host { all: initial; }
  * { box-sizing: border-box; }
  [hidden] { display: none !important; }
  .sbw { position: fixed; ${cfg.left ? 'left' : 'right'}: 20px; bottom: 20px; z-index: 2147483000;
    font: 14px/1.5 -apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Segoe UI", Roboto, Arial, sans-serif;
    color: #1d2430; --c: ${cfg.color}; }
  button { font: inherit; cursor: pointer; }
  .launch { width: 58px; height: 58px; border-radius: 50%; border: 0; background: var(--c); color: #fff;
    box-shadow: 0 6px 20px rgba(0,0,0,.25); display: flex; align-items: center; justify-content: center; position: relative; margin-${cfg.left ? 'right' : 'left'}: auto; }
  .launch:focus-visible, .panel button:focus-visible, textarea:focus-visible, input:focus-visible { outline: 2px solid var(--c); outline-offset: 2px; }
  .badge { position: absolute; top: -4px; right: -4px; min-width: 20px; height: 20px; border-radius: 10px; background: #e23b2e;
    color: #fff; font-size: 12px; font-weight: 700; line-height: 20px; text-align: center; padding: 0 5px; }
  .panel { width: 360px; height: 540px; max-height: calc(100vh - 110px); margin-bottom: 12px; background: #fff; border-radius: 12px; overflow: hidden;
    box-shadow: 0 12px 40px rgba(0,0,0,.25); display: flex; flex-direction: column; }
  .hd { background: var(--c); color: #fff; padding: 10px 14px; display: flex; align-items: center; gap: 10px; }
  .hd-t { font-weight: 600; font-size: 15px; }
  .hd-s { font-size: 12px; opacity: .9; }
  .hd-x { margin-left: auto; background: transparent; border: 0; color: #fff; font-size: 22px; line-height: 1; padding: 0 4px; }
  .list { flex: 1; overflow-y: auto; padding: 10px 12px; background: #f5f6f8; }
  .m { display: flex; flex-direction: column; margin: 6px 0; max-width: 80%; }
  .m-in { margin-left: auto; align-items: flex-end; }
  .m-out { align-items: flex-start; }
  .m-sys { max-width: 100%; align-items: center; color: #6b7585; font-size: 12px; text-align: center; margin: 8px auto; }
  .who { font-size: 11px; color: #6b7585; margin: 0 4px 1px; }
  .b { padding: 7px 11px; border-radius: 12px; background: #fff; border: 1px solid #e3e6eb; white-space: pre-wrap; overflow-wrap: anywhere; }
  .m-in .b { background: var(--c); color: #fff; border-color: transparent; }
  .m-in .b a { color: #fff; }
  .b img { display: block; max-width: 220px; max-height: 200px; border-radius: 6px; }
  .st { font-size: 11px; color: #6b7585; margin: 1px 4px 0; }
  .st.fail { color: #e23b2e; cursor: pointer; text-decoration: underline; background: none; border: 0; padding: 0; }
  .banner { padding: 7px 12px; font-size: 13px; background: #fff8e6; color: #8a5a00; border-bottom: 1px solid #f3e3b8; }
  .typing { font-size: 12px; color: #6b7585; padding: 2px 14px; background: #f5f6f8; }
  .ft { display: flex; gap: 8px; padding: 8px 10px; border-top: 1px solid #e3e6eb; background: #fff; }
  textarea, input { font: inherit; color: inherit; border: 1px solid #d5dae2; border-radius: 8px; padding: 7px 9px; width: 100%; background: #fff; }
  textarea { flex: 1; resize: none; height: 40px; max-height: 110px; }
  .send { background: var(--c); color: #fff; border: 0; border-radius: 8px; padding: 0 14px; }
  .send:disabled { opacity: .5; cursor: default; }
  .pre { padding: 18px; display: flex; flex-direction: column; gap: 10px; background: #fff; flex: 1; }
  .pre label { font-size: 12px; color: #6b7585; display: flex; flex-direction: column; gap: 3px; }
  .pre .go { background: var(--c); color: #fff; border: 0; border-radius: 8px; padding: 9px; margin-top: 6px; }
  .csat { background: #fff; border: 1px solid #e3e6eb; border-radius: 10px; padding: 10px; margin: 10px 0; text-align: center; }
  .stars { display: flex; justify-content: center; gap: 4px; margin: 6px 0; }
  .star { background: none; border: 0; font-size: 26px; color: #c9ced8; padding: 0 2px; line-height: 1; }
  .star.on { color: #f5a623; }
  .csat textarea { height: 54px; margin: 4px 0 8px; }
  .csat .go { background: var(--c); color: #fff; border: 0; border-radius: 8px; padding: 6px 16px; }
  .hint { font-size: 12px; color: #6b7585; min-height: 16px; }
  @media (max-width: 480px) {
    .sbw { ${cfg.left ? 'left' : 'right'}: 12px; bottom: 12px; }
    .panel.open { position: fixed; inset: 0; width: auto; height: auto; max-height: none; border-radius: 0; }
  }`;

  const badge = h('span', { class: 'badge', hidden: true });
  const launch = h('button', { class: 'launch', type: 'button', 'aria-label': S.open, title: S.open });
  launch.innerHTML = ICON; // a constant SVG literal, no user data
  launch.append(badge);
  const sub = h('div', { class: 'hd-s' }, S.connecting);
  const banner = h('div', { class: 'banner', hidden: true, role: 'status' });
  const list = h('div', { class: 'list', role: 'log', 'aria-live': 'polite' });
  const typing = h('div', { class: 'typing', hidden: true }, S.typing);
  const input = h('textarea', { placeholder: S.placeholder, 'aria-label': S.placeholder, maxlength: '4000' });
  const sendBtn = h('button', { class: 'send', type: 'button' }, S.send);
  const footer = h('div', { class: 'ft' }, input, sendBtn);
  const preName = h('input', { type: 'text', maxlength: '100', autocomplete: 'name' });
  const preEmail = h('input', { type: 'email', maxlength: '200', autocomplete: 'email' });
  const pre = h('form', { class: 'pre' }, h('div', null, S.preTitle),
    h('label', null, S.preName, preName), h('label', null, S.preEmail, preEmail),
    h('button', { class: 'go', type: 'submit' }, S.start));
  const panel = h('div', { class: 'panel', hidden: true, role: 'dialog', 'aria-label': title },
    h('div', { class: 'hd' }, h('div', null, h('div', { class: 'hd-t' }, title), sub),
      h('button', { class: 'hd-x', type: 'button', 'aria-label': S.minimize, title: S.minimize, onclick: () => toggle(false) }, '×')),
    banner, pre, list, typing, footer);
  root.append(style, h('div', { class: 'sbw' }, panel, launch));
  document.body.appendChild(host);

  // ---- rendering ----
  function safeUrl(u, img) {
    if (typeof u !== 'string') return null;
    if (img && /^data:image\/(png|jpe?g|gif|webp);base64,[A-Za-z0-9+/=]+$/i.test(u)) return u;
    try { const p = new URL(u, origin); return p.protocol === 'https:' || p.protocol === 'http:' ? p.href : null; } catch (_) { return null; }
  }
  function textWithLinks(s) {
    const frag = document.createDocumentFragment();
    const re = /\bhttps?:\/\/[^\s<>"'，。！？、）)]+/g;
    let last = 0, m;
    while ((m = re.exec(s))) {
      frag.append(s.slice(last, m.index));
      const u = safeUrl(m[0]);
      frag.append(u ? h('a', { href: u, target: '_blank', rel: 'noopener noreferrer' }, m[0]) : m[0]);
      last = m.index + m[0].length;
    }
    frag.append(s.slice(last));
    return frag;
  }
  function renderParts(parts) {
    const out = [];
    for (const p of parts || []) {
      if (p.type === 'text') out.push(textWithLinks(String(p.text ?? '')));
      else if (p.type === 'media') {
        const img = String(p.mime || '').startsWith('image/') && safeUrl(p.url, true);
        const u = safeUrl(p.url);
        if (img) out.push(h('a', { href: img, target: '_blank', rel: 'noopener noreferrer' }, h('img', { src: img, alt: p.name || S.image })));
        else if (u) out.push(h('a', { href: u, target: '_blank', rel: 'noopener noreferrer' }, (p.name ? S.file + ' ' + p.name : S.file)));
      } else if (p.type === 'email' && p.subject) out.push(String(p.subject));
      else out.push(S.unsupported);
    }
    return out;
  }

  function msgNode(m) {
    if (m.author === 'system') return h('div', { class: 'm m-sys' }, renderParts(m.parts));
    const mine = m.direction === 'in';
    const who = mine ? null : (m.authorName || S.agent);
    const node = h('div', { class: 'm ' + (mine ? 'm-in' : 'm-out') }, who ? h('div', { class: 'who' }, who) : null, h('div', { class: 'b' }, renderParts(m.parts)));
    if (mine && m._state === 'failed') node.append(h('button', { class: 'st fail', type: 'button', onclick: () => transmit(m) }, S.failed));
    else if (mine && m._state === 'sending') node.append(h('div', { class: 'st' }, S.sending));
    return node;
  }

  function atBottom() { return list.scrollHeight - list.scrollTop - list.clientHeight < 60; }
  function render() {
    const stick = atBottom();
    list.replaceChildren(...st.msgs.map((m) => (m._node = msgNode(m))));
    if (!st.msgs.length && st.started) list.append(h('div', { class: 'm m-out' }, h('div', { class: 'b' }, S.greeting)));
    if (st.csat) list.append(csatNode());
    if (stick || !st.panelOpen) list.scrollTop = list.scrollHeight;
    renderChrome();
  }
  function rerender(m) {
    if (!m._node || !m._node.parentNode) return render();
    const n = msgNode(m);
    m._node.replaceWith(n);
    m._node = n;
  }

  function renderChrome() {
    pre.hidden = st.started;
    list.hidden = footer.hidden = !st.started;
    sendBtn.disabled = !input.value.trim();
    let s;
    if (!st.started) s = S.sub;
    else if (!st.ready) s = st.attempt > 0 ? S.offline : S.connecting;
    else if (st.agentName) s = t('serving', { n: st.agentName });
    else if (st.transferring) s = S.transferring;
    else if (st.ended) s = S.ended;
    else if (st.bot) s = S.bot;
    else if (st.convId) s = S.waiting;
    else s = title;
    sub.textContent = s;
    const q = st.queue;
    banner.hidden = !q || !!st.agentName;
    if (q) {
      // position 1 means "next": the people ahead are position − 1.
      const p = (Number(q.position) || 1) - 1, secs = Number(q.estimatedWaitSeconds) || 0;
      banner.textContent = p <= 0 ? S.queueNext : secs > 0 ? t('queue', { p, m: Math.max(1, Math.round(secs / 60)) }) : t('queueNoEta', { p });
    }
    typing.hidden = !(st.typingUntil > Date.now());
    badge.hidden = !st.unread;
    badge.textContent = st.unread > 9 ? '9+' : String(st.unread);
  }

  function csatNode() {
    const c = st.csat;
    const box = h('div', { class: 'csat' });
    if (c.done) { box.append(S.csatThanks); return box; }
    const stars = h('div', { class: 'stars', role: 'radiogroup', 'aria-label': S.csatTitle });
    for (let i = 1; i <= 5; i++) {
      stars.append(h('button', { type: 'button', class: 'star' + (i <= c.rating ? ' on' : ''), role: 'radio',
        'aria-checked': String(i === c.rating), 'aria-label': S.stars[i - 1], title: S.stars[i - 1],
        onclick: () => { c.rating = i; render(); } }, '★'));
    }
    const comment = h('textarea', { placeholder: S.csatComment, maxlength: '500' });
    comment.value = c.comment || '';
    comment.addEventListener('input', () => { c.comment = comment.value; });
    box.append(h('div', null, S.csatTitle), stars, h('div', { class: 'hint' }, c.rating ? S.stars[c.rating - 1] : ''), comment,
      h('button', { class: 'go', type: 'button', disabled: !c.rating, onclick: () => {
        // The conversation this card was made for: the server rates that one, never the one open now.
        const frame = { type: 'csat', rating: c.rating };
        if (c.convId) frame.conversationId = c.convId;
        if ((c.comment || '').trim()) frame.comment = c.comment.trim().slice(0, 500);
        if (send(frame, { csat: c })) { c.done = true; render(); }
      } }, S.csatSubmit));
    return box;
  }

  // Removes the rating card (rated or not) once another conversation starts: `convId` is that
  // conversation's id (null: the visitor started one by writing).
  function dropCsat(convId) {
    if (!st.csat || (convId && convId === st.csat.convId)) return;
    st.csat = null;
    render();
  }

  function system(text) { upsert({ author: 'system', direction: 'out', parts: [{ type: 'text', text }] }); }

  // ---- messages ----
  function upsert(m) {
    const ex = (m.id && st.byId.get(m.id)) || (m.clientId && st.byClient.get(m.clientId));
    if (ex) {
      Object.assign(ex, m, { _state: null });
      if (ex.id) st.byId.set(ex.id, ex);
      rerender(ex);
      return { m: ex, isNew: false };
    }
    const msg = Object.assign({}, m);
    st.msgs.push(msg);
    if (msg.id) st.byId.set(msg.id, msg);
    if (msg.clientId) st.byClient.set(msg.clientId, msg);
    const stick = atBottom();
    // The greeting placeholder and the rating card sit at the end: rebuild around them.
    if (st.csat || st.msgs.length === 1) render();
    else { list.append(msg._node = msgNode(msg)); if (stick || msg.direction === 'in') list.scrollTop = list.scrollHeight; }
    return { m: msg, isNew: true };
  }

  function clientId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
  }

  function submit() {
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    grow();
    st.ended = false;
    // A new message starts a new conversation: the rating card of the last one goes away.
    dropCsat();
    const m = { clientId: clientId(), direction: 'in', author: 'contact', parts: [{ type: 'text', text }], createdAt: Date.now(), _state: 'sending' };
    upsert(m);
    transmit(st.byClient.get(m.clientId));
    renderChrome();
  }

  // Sends or re-sends with the same clientId: the server dedups, so a retry after a lost
  // connection can't post the message twice. Unconfirmed messages are re-sent after reconnect.
  function transmit(m) {
    m._state = 'sending';
    rerender(m);
    // The ack {ref, messageId, conversationId} confirms it; an error with the ref fails it.
    send({ type: 'message.send', text: m.parts[0].text, clientId: m.clientId }, { msg: m });
  }

  // Every frame but hello carries a ref, so the server's ack or error names what it answers.
  function send(frame, settle) {
    if (!st.ws || st.ws.readyState !== 1 || !st.ready) return false;
    const ref = 'w' + (++st.refN);
    try { st.ws.send(JSON.stringify(Object.assign({}, frame, { ref }))); } catch (_) { return false; }
    if (settle) st.refs.set(ref, settle);
    return true;
  }

  // ---- connection ----
  function connect() {
    clearTimeout(st.retry);
    if (st.ws) return;
    let ws;
    try { ws = new WebSocket(WS_URL, 'switchboard.visitor.v1'); } catch (_) { return schedule(); }
    st.ws = ws;
    ws.onopen = () => {
      const hello = { type: 'hello', channel: cfg.channel };
      if (st.token) hello.visitorToken = st.token;
      const name = cfg.name || st.name, email = cfg.email || st.email;
      if (name) hello.name = name;
      if (email) hello.email = email;
      ws.send(JSON.stringify(hello));
      // Keep-alive: proxies and NATs drop idle sockets, and a silent drop loses agent replies.
      clearInterval(st.ping);
      st.ping = setInterval(() => send({ type: 'ping' }), 25000);
    };
    ws.onmessage = (e) => {
      if (typeof e.data !== 'string') return;
      for (const line of e.data.split('\n')) {
        if (!line.trim()) continue;
        let ev;
        try { ev = JSON.parse(line); } catch (_) { continue; }
        try { onEvent(ev); } catch (err) { console.error('switchboard widget:', err); }
      }
    };
    ws.onclose = (e) => {
      if (st.ws !== ws) return;
      st.ws = null;
      st.ready = false;
      clearInterval(st.ping);
      // Unanswered sends are re-sent (same clientId) after the next ready.
      for (const s of st.refs.values()) if (s.msg && !s.msg.id) s.msg._state = 'sending';
      st.refs.clear();
      renderChrome();
      if (e.code === 1012) { st.attempt = 0; schedule(Math.random() * 500); } else schedule();
    };
  }

  function schedule(delay) {
    clearTimeout(st.retry);
    if (delay === undefined) delay = Math.min(15000, 1000 * 2 ** st.attempt) * (0.8 + Math.random() * 0.4);
    st.attempt++;
    renderChrome();
    st.retry = setTimeout(connect, delay);
  }

  function onEvent(ev) {
    switch (ev.type) {
      case 'ready': {
        st.ready = true;
        st.attempt = 0;
        st.refs.clear();
        if (!ev.conversationId) { st.agentName = null; st.queue = null; st.transferring = false; }
        if (ev.visitorToken) st.token = ev.visitorToken;
        st.convId = ev.conversationId || null;
        if (ev.conversationId) dropCsat(ev.conversationId);
        save();
        for (const m of Array.isArray(ev.history) ? ev.history : []) upsert(m);
        // Anything typed but not confirmed before the drop goes again (same clientId).
        for (const m of st.msgs) if (m.clientId && m.direction === 'in' && !m.id) transmit(m);
        render();
        break;
      }
      case 'message': {
        const m = ev.message;
        if (!m) break;
        if (m.conversationId) { st.convId = m.conversationId; dropCsat(m.conversationId); save(); }
        const r = upsert(m);
        if (m.direction === 'out' && m.author !== 'system') {
          st.typingUntil = 0;
          if (m.author === 'bot') st.bot = true;
          if (r.isNew && (!st.panelOpen || document.hidden)) st.unread++;
        }
        renderChrome();
        break;
      }
      case 'ack': {
        const s = st.refs.get(ev.ref);
        st.refs.delete(ev.ref);
        if (s && s.msg && ev.messageId) upsert({ clientId: s.msg.clientId, id: ev.messageId });
        if (ev.conversationId && !(s && s.csat) && ev.conversationId !== st.convId) {
          st.convId = ev.conversationId; st.ended = false; dropCsat(ev.conversationId); save(); renderChrome();
        }
        break;
      }
      case 'pong': break;
      case 'typing':
        st.typingUntil = Date.now() + 5000;
        renderChrome();
        setTimeout(renderChrome, 5100);
        break;
      case 'queue':
        st.queue = { position: ev.position, estimatedWaitSeconds: ev.estimatedWaitSeconds };
        st.bot = false;
        renderChrome();
        break;
      case 'agent.joined': {
        const name = ev.name || S.agent;
        // Sent again on every reconnect to a served conversation: announce only a change.
        if (name !== st.agentName) system(t('joined', { n: name }));
        st.agentName = name;
        st.transferring = false;
        st.queue = null;
        st.bot = false;
        renderChrome();
        break;
      }
      case 'conversation.transferring':
        // The agent handed the conversation on: no longer theirs until the next agent.joined.
        st.agentName = null;
        st.transferring = true;
        st.typingUntil = 0;
        system(S.transferring);
        renderChrome();
        break;
      case 'conversation.closed':
        // Ask for a rating after a human served the visitor, even if the server sends no
        // csat.request (the socket still names the conversation, so csat is accepted).
        if (st.agentName && !st.csat) st.csat = { rating: 0, comment: '', done: false, convId: ev.conversationId || st.convId };
        st.ended = true;
        st.agentName = null;
        st.transferring = false;
        st.queue = null;
        st.convId = null;
        save();
        system(S.closed);
        render();
        break;
      case 'csat.request':
        st.csat = { rating: 0, comment: '', done: false, convId: ev.conversationId || (st.csat && st.csat.convId) || null };
        if (!st.panelOpen) st.unread++;
        render();
        break;
      case 'error': {
        const text = (ev.code && S.err[ev.code]) || t('errOther', { m: ev.message || ev.code || '' });
        const s = st.refs.get(ev.ref);
        st.refs.delete(ev.ref);
        if (s && s.msg && !s.msg.id) { s.msg._state = 'failed'; rerender(s.msg); }
        if (s && s.csat) { s.csat.done = false; render(); }
        system(text);
        break;
      }
      default: break;
    }
  }

  // ---- interaction ----
  function grow() { input.style.height = '40px'; input.style.height = Math.min(input.scrollHeight + 2, 110) + 'px'; }
  function toggle(open) {
    st.panelOpen = open;
    panel.hidden = !open;
    panel.classList.toggle('open', open);
    launch.hidden = open && window.matchMedia('(max-width: 480px)').matches;
    if (open) {
      st.unread = 0;
      if (st.started) connect();
      render();
      (st.started ? input : preName).focus();
    }
    renderChrome();
  }

  launch.addEventListener('click', () => toggle(!st.panelOpen));
  pre.addEventListener('submit', (e) => {
    e.preventDefault();
    st.name = preName.value.trim().slice(0, 100);
    const email = preEmail.value.trim();
    st.email = plausibleEmail(email) ? email : '';
    st.started = true;
    connect();
    render();
    input.focus();
  });
  input.addEventListener('keydown', (e) => {
    // Chinese IMEs confirm candidates with Enter; only a real Enter sends.
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); submit(); }
  });
  input.addEventListener('input', () => {
    grow();
    sendBtn.disabled = !input.value.trim();
    if (input.value.trim() && Date.now() - st.lastTyping > 3000 && send({ type: 'typing' })) st.lastTyping = Date.now();
  });
  sendBtn.addEventListener('click', submit);
  panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') { toggle(false); launch.focus(); } });
  // Host pages open the chat from their own buttons with a data-switchboard-open attribute
  // (no script needed), or from script through window.SwitchboardWidget.
  document.addEventListener('click', (e) => {
    if (e.target instanceof Element && e.target.closest('[data-switchboard-open]')) { e.preventDefault(); toggle(true); }
  });
  window.SwitchboardWidget = Object.freeze({ open: () => toggle(true), close: () => toggle(false) });
  window.addEventListener('online', () => { if (!st.ws && st.started && st.retry) { st.attempt = 0; connect(); } });

  // A returning visitor with an open conversation reconnects at once, so an agent's reply shows
  // up as a badge even before they open the panel. Others connect when they open the chat.
  if (saved.token && saved.open) connect();
  renderChrome();
})();
