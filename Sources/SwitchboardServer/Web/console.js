// Agent console bootstrap: login/logout, the server-event dispatcher and keyboard shortcuts.
// Protocol: DESIGN §9 (agent WebSocket). Modules: console-ws (socket), console-model (state),
// console-render (DOM), console-thread (main column), console-ui (left column, dialogs).
'use strict';

(function () {
  const st = SB.state;
  const T = SB.threadView;
  const UI = SB.ui;
  const $ = (id) => document.getElementById(id);
  const PREFETCH = 8; // history pages fetched up front so the first switch to a chat is instant

  SB.conn = new SB.Connection({
    url: (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/v1/agent',
    protocol: 'switchboard.agent.v1',
    onEvent,
    onState: (info) => {
      UI.renderConn(info);
      if (info.state !== 'connected') T.renderReply();
    },
    onAuthFailed: (wasWelcomed) => {
      sessionStorage.removeItem('sb.token');
      endSession();
      showLogin(wasWelcomed ? 'login.expired' : 'login.invalid');
    },
    onUnsolicitedError: (ev) => UI.error(ev),
  });

  // ---- server events ----

  function onEvent(ev, info) {
    switch (ev.type) {
      case 'welcome': return onWelcome(ev, info);
      case 'offer': return onOffer(ev, true);
      case 'offer.rescinded': return onRescinded(ev);
      case 'assigned': return onAssigned(ev);
      case 'conversation.updated': return onConvUpdated(ev);
      case 'message': return onMessage(ev);
      case 'delivery': return onDelivery(ev);
      case 'typing': if (ev.conversationId) T.typing(ev.conversationId); return;
      case 'presence': return onPresence(ev);
      case 'pong': return;
      default: console.debug('switchboard: unhandled event', ev.type);
    }
  }

  function onWelcome(ev) {
    st.me = ev.agent || st.me || {};
    if (ev.presence) st.presence = { status: ev.presence.status || 'offline', reason: ev.presence.reason || null };
    st.applySnapshot(Array.isArray(ev.conversations) ? ev.conversations : []);
    // Offers: the snapshot is the truth (expired or taken ones are simply absent).
    const old = new Map(st.offers);
    st.offers.clear();
    for (const o of ev.offers || []) { onOffer(o, false); const prev = old.get(o.offerId); if (prev && st.offers.has(o.offerId)) st.offers.get(o.offerId)._total = prev._total; }
    UI.renderHeader();
    UI.renderPresence();
    SB.bus.emit('offers');
    T.flushQueued();
    T.refreshLoaded();
    st.activeConvs().slice(0, PREFETCH).forEach((c) => { const t = st.thread(c.id); if (!t.loaded && !t.loading) T.loadHistory(c.id); });
    if (st.activeId && st.convs.has(st.activeId)) T.open(st.activeId, { keepScroll: true });
    else if (st.activeConvs().length) T.open(st.activeConvs()[0].id);
    else T.showEmpty();
    SB.bus.emit('convs');
  }

  function onOffer(ev, live) {
    if (!ev.offerId || !ev.conversation) return;
    // A replayed offer whose deadline passed long ago is dead; its rescind may be trimmed away.
    if (typeof ev.expiresAt === 'number' && SB.clock.remaining(ev.expiresAt) < -2000) return;
    const conv = st.convs.get(ev.conversation.id);
    if (conv && !conv._ended) return; // already ours (accepted in another tab or replay order)
    const isNew = !st.offers.has(ev.offerId);
    st.offers.set(ev.offerId, Object.assign(st.offers.get(ev.offerId) || {}, {
      offerId: ev.offerId, conversation: ev.conversation, expiresAt: Number(ev.expiresAt) || SB.clock.serverNow() + 30000,
    }));
    if (live) {
      SB.bus.emit('offers');
      if (isNew) {
        const call = SB.kindOf(ev.conversation) === 'voice' && ev.conversation.call && !ev.conversation.call.callback;
        // A call's ring repeats from the offer list's tick (console-ui.js); a chat offer chimes once.
        UI.beep(call ? 'ring' : 'offer');
        UI.notify(SB.t(call ? 'notify.call' : 'notify.offer', { c: SB.listName(ev.conversation) }),
          SB.t('channel.' + SB.kindOf(ev.conversation)) + (ev.conversation.skill ? ' · ' + ev.conversation.skill : ''), 'offer-' + ev.offerId);
      }
    }
  }

  function onRescinded(ev) {
    if (!st.offers.has(ev.offerId)) return;
    st.offers.delete(ev.offerId);
    SB.bus.emit('offers');
    const r = ev.reason || 'cancelled';
    // The agent's own reject or accept needs no notice.
    if (r === 'rejected' || r === 'accepted') return;
    // A timeout says where the conversation went (next: agent | queue), never more than is true.
    const key = 'rescind.' + r + (ev.next ? '.' + ev.next : '');
    UI.toast(SB.tOr(key, SB.tOr('rescind.' + r, SB.t('rescind.other', { r }))), r === 'timeout' ? 'warn' : 'info');
  }

  function onAssigned(ev) {
    const c = st.upsertConv(ev.conversation, { assigned: true });
    if (!c) return;
    const t = st.thread(c.id);
    if (!t.loaded && !t.loading) T.loadHistory(c.id);
    SB.bus.emit('offers');
    if (st.acceptedConvs.has(c.id) || !st.activeId) {
      st.acceptedConvs.delete(c.id);
      T.open(c.id);
    } else if (st.activeId === c.id) {
      T.renderHeader(); T.renderReply();
    }
    SB.bus.emit('convs');
  }

  function onConvUpdated(ev) {
    const conv = ev.conversation;
    if (!conv || !conv.id) return;
    let offerTouched = false;
    for (const o of st.offers.values()) if (o.conversation && o.conversation.id === conv.id) { Object.assign(o.conversation, conv); offerTouched = true; }
    const before = st.offers.size;
    const c = st.upsertConv(conv);
    if (c && st.activeId === c.id) { T.renderHeader(); T.renderReply(); }
    st.trimEnded();
    if (offerTouched || st.offers.size !== before) SB.bus.emit('offers');
    SB.bus.emit('convs');
  }

  function onMessage(ev) {
    const convId = ev.conversationId || (ev.message && ev.message.conversationId);
    if (!convId || !ev.message) return;
    const res = T.upsert(convId, ev.message);
    if (!res) return;
    const m = res.msg;
    const stamp = /^(\d+)-\d+$/.exec(m.id || '');
    // Only live pushes calibrate the clock: the replay right after a welcome is old news.
    if (stamp && res.isNew && SB.conn.liveFor() > 3000) SB.clock.observe(Number(stamp[1]));
    if (res.isNew && m.direction === 'in' && m.author === 'contact') {
      const t = st.thread(convId);
      const looking = st.activeId === convId && !document.hidden;
      if (!looking) t.unread++;
      if (!looking) {
        UI.beep('message');
        const c = st.convs.get(convId);
        UI.notify(SB.t('notify.message', { c: SB.contactName(c) || '' }), SB.preview(m, SB.kindOf(c)), 'conv-' + convId);
      }
    }
    SB.bus.emit('convs');
  }

  function onDelivery(ev) {
    if (!ev.conversationId || !ev.messageId) return;
    const m = T.delivery(ev.conversationId, ev.messageId, ev.status, ev.error, ev.hint);
    // A failed delivery in a chat the agent isn't looking at would go unnoticed in the thread.
    if (m && ev.status === 'failed' && ev.conversationId !== st.activeId) {
      UI.toast(SB.contactName(st.convs.get(ev.conversationId)) + ': ' + (ev.hint || SB.t('msg.failedWith', { e: ev.error || '' })), 'error', ev.hint ? 12000 : undefined);
    }
  }

  function onPresence(ev) {
    const was = st.presence;
    st.presence = { status: ev.status || 'offline', reason: ev.reason || null };
    UI.renderPresence();
    if (ev.status === 'away' && ev.reason === 'missed' && !(was.status === 'away' && was.reason === 'missed')) {
      UI.beep('offer');
      UI.toast(SB.t('presence.missedBanner'), 'warn', 10000);
      UI.notify(SB.t('presence.away') + ' · ' + SB.t('reason.missed'), SB.t('presence.missedBanner'), 'missed');
    }
  }

  // ---- session ----

  function showLogin(errKey) {
    $('app').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = errKey ? SB.t(errKey) : '';
    $('login-token').value = '';
    $('login-token').focus();
    document.title = SB.t('app.title');
  }

  function startSession(token) {
    $('login').hidden = true;
    $('app').hidden = false;
    UI.renderHeader();
    UI.renderPresence();
    UI.renderOffers();
    UI.renderConvs();
    T.showEmpty();
    SB.conn.start(token);
  }

  function endSession() {
    st.reset();
    SB.media.reset();
    T.clearDrafts();
    $('thread-scroll-body').replaceChildren();
  }

  async function logout() {
    // Going offline first stops new offers during the server's reconnect grace.
    if (SB.conn.connected) await SB.conn.request({ type: 'presence.set', status: 'offline' }, { timeout: 1500, silent: true }).catch(() => {});
    SB.conn.stop();
    sessionStorage.removeItem('sb.token');
    endSession();
    showLogin();
  }

  // ---- keyboard ----

  function onKey(e) {
    if (!e.altKey || e.ctrlKey || e.metaKey || $('app').hidden || document.querySelector('dialog[open]')) return;
    const list = st.activeConvs();
    // e.code, not e.key: with Alt held, macOS and IMEs change the produced character.
    const digit = /^Digit([1-9])$/.exec(e.code);
    if (digit) {
      const c = list[Number(digit[1]) - 1];
      if (c) { e.preventDefault(); T.open(c.id); }
    } else if (e.code === 'ArrowUp' || e.code === 'ArrowDown') {
      if (!list.length) return;
      e.preventDefault();
      const i = list.findIndex((c) => c.id === st.activeId);
      const j = i < 0 ? 0 : (i + (e.code === 'ArrowDown' ? 1 : -1) + list.length) % list.length;
      T.open(list[j].id);
    } else if (e.code === 'KeyA') {
      const first = [...st.offers.values()].sort((a, b) => a.expiresAt - b.expiresAt)[0];
      if (first) { e.preventDefault(); UI.acceptOffer(first.offerId); }
    }
  }

  // ---- start ----

  function init() {
    SB.setLang(SB.lang);
    SB.applyI18n();
    UI.init();
    T.init();
    $('login-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const token = $('login-token').value.trim();
      if (!token) { $('login-error').textContent = SB.t('login.required'); return; }
      // A user gesture: the moment browsers allow audio and the notification prompt.
      UI.unlockAudio();
      UI.askNotify();
      sessionStorage.setItem('sb.token', token);
      sessionStorage.removeItem('sb.lastSeq');
      SB.conn.lastSeq = 0;
      startSession(token);
    });
    $('logout').addEventListener('click', logout);
    $('conn-retry').addEventListener('click', () => SB.conn.reconnectNow());
    $('login-lang').addEventListener('click', () => { SB.setLang(SB.lang === 'zh' ? 'en' : 'zh'); UI.rerenderAll(); });
    for (const lang of ['zh', 'en']) {
      $('lang-' + lang).addEventListener('click', () => { SB.setLang(lang); UI.rerenderAll(); });
    }
    document.addEventListener('keydown', onKey);
    // The first click anywhere also unlocks audio after a reload (no login gesture then).
    document.addEventListener('pointerdown', UI.unlockAudio, { once: true });
    document.addEventListener('visibilitychange', () => {
      if (document.hidden || !st.activeId) return;
      const t = st.threads.get(st.activeId);
      if (t && t.unread) { t.unread = 0; SB.bus.emit('convs'); }
    });
    const token = sessionStorage.getItem('sb.token');
    if (token) startSession(token); else showLogin();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init); else init();
})();
