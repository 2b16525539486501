// The left column (presence, offers, conversation list), the header, dialogs, toasts and
// attention signals (sound, desktop notification, tab title).
'use strict';
window.SB = window.SB || {};

(function () {
  const h = SB.h;
  const st = SB.state;
  const $ = (id) => document.getElementById(id);
  const UI = SB.ui = {};
  const pendingOffers = new Set(); // offer ids with an accept/reject in flight
  const waitSpans = new Map();     // conversation id → its "waiting" label, updated every second

  // ---- toasts and errors ----

  UI.toast = function (text, kind = 'info', ms) {
    const el = h('div', { class: 'toast toast-' + kind, role: kind === 'error' ? 'alert' : 'status' }, text);
    el.addEventListener('click', () => el.remove());
    $('toasts').append(el);
    while ($('toasts').children.length > 5) $('toasts').firstChild.remove();
    setTimeout(() => el.remove(), ms || (kind === 'error' ? 8000 : 4000));
  };

  // The translated meaning of an error code first (agents read Chinese), then the server's own
  // words, which name the detail (e.g. which conversation).
  UI.errorText = function (e) {
    const code = (e && e.code) || 'other';
    const known = SB.tOr('err.' + code, '');
    const msg = (e && e.message) || '';
    if (known && msg && msg !== known) return known + '（' + msg + '）';
    return known || msg || code;
  };

  UI.error = function (e) { UI.toast(UI.errorText(e), 'error'); };

  // ---- attention: sound, notifications, title ----

  let audio = null;
  UI.unlockAudio = function () {
    if (audio || !window.AudioContext) return;
    try { audio = new AudioContext(); } catch (_) { audio = null; }
  };

  // Synthesised tones, so the console needs no sound files and no external resources.
  UI.beep = function (kind) {
    if (!audio || localStorage.getItem('sb.sound') === 'off') return;
    // A call rings like a telephone (two 0.4 s bursts of 440 + 480 Hz); a chat offer chimes.
    const tones = kind === 'ring' ? [[440, 0], [480, 0], [440, 0.6], [480, 0.6]]
      : kind === 'offer' ? [[880, 0], [1175, 0.18]] : [[660, 0]];
    const length = kind === 'ring' ? 0.4 : 0.16;
    for (const [freq, at] of tones) {
      const o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = freq;
      g.gain.setValueAtTime(0.0001, audio.currentTime + at);
      g.gain.exponentialRampToValueAtTime(0.25, audio.currentTime + at + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + at + length);
      o.connect(g).connect(audio.destination);
      o.start(audio.currentTime + at);
      o.stop(audio.currentTime + at + length + 0.02);
    }
  };

  UI.notify = function (title, body, tag) {
    if (!document.hidden && document.hasFocus()) return;
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    try {
      const n = new Notification(title, { body, tag, renotify: true });
      n.onclick = () => { window.focus(); n.close(); };
    } catch (_) { /* some browsers only allow notifications from a service worker */ }
  };

  UI.askNotify = function () {
    if ('Notification' in window && Notification.permission === 'default') Notification.requestPermission().catch(() => {});
  };

  UI.renderTitle = function () {
    const n = st.offers.size;
    const unread = st.activeConvs().reduce((a, c) => a + (st.threads.get(c.id)?.unread || 0), 0);
    document.title = (n ? SB.t('title.offers', { n }) + ' ' : '') + (unread ? '(' + unread + ') ' : '') + SB.t('app.title');
  };

  // ---- header ----

  UI.renderHeader = function () {
    const me = st.me;
    $('agent-name').textContent = me ? (me.name || me.id) : '';
    $('agent-role').textContent = me ? SB.tOr('role.' + me.role, me.role || '') + (me.id ? ' · ' + me.id : '') : '';
    $('lang-zh').classList.toggle('on', SB.lang === 'zh');
    $('lang-en').classList.toggle('on', SB.lang === 'en');
    $('sound-toggle').checked = localStorage.getItem('sb.sound') !== 'off';
  };

  let connInfo = { state: 'offline' };
  let connTimer = null;
  UI.renderConn = function (info) {
    if (info) connInfo = info;
    const el = $('conn-state');
    const s = connInfo.state;
    el.className = 'conn conn-' + s;
    clearTimeout(connTimer);
    let text;
    if (s === 'connected') text = SB.t('conn.connected');
    else if (s === 'reconnecting' && connInfo.retryAt) {
      const left = Math.max(0, Math.ceil((connInfo.retryAt - Date.now()) / 1000));
      text = left > 0 ? SB.t('conn.reconnecting', { s: left }) : SB.t('conn.reconnectingNow');
      connTimer = setTimeout(UI.renderConn, 500);
    } else if (s === 'reconnecting') text = SB.t('conn.reconnectingNow');
    else if (s === 'connecting') text = SB.t('conn.connecting');
    else text = connInfo.replaced ? SB.t('conn.replaced') : SB.t('conn.offline');
    $('conn-text').textContent = text;
    $('conn-retry').hidden = !(s === 'reconnecting' || (s === 'offline' && connInfo.replaced));
    document.body.classList.toggle('disconnected', s !== 'connected');
  };

  // ---- presence ----

  UI.renderPresence = function () {
    const p = st.presence || {};
    for (const s of ['available', 'away', 'offline']) $('pres-' + s).classList.toggle('on', p.status === s);
    const sel = $('away-reason');
    sel.hidden = p.status !== 'away';
    // A reason the agent can't pick (e.g. "missed", set by the router) still shows as selected.
    sel.querySelectorAll('option[data-extra]').forEach((o) => o.remove());
    if (p.status === 'away' && p.reason) {
      if (!SB.AWAY_REASONS.includes(p.reason)) {
        sel.append(h('option', { value: p.reason, disabled: true, dataset: { extra: '1' } }, SB.tOr('reason.' + p.reason, p.reason)));
      }
      sel.value = p.reason;
    }
    // A "missed" away was set by the router, not the agent: it must be impossible to overlook.
    const missed = p.status === 'away' && p.reason === 'missed';
    $('missed-banner').hidden = !missed;
    $('presence').classList.toggle('is-missed', missed);
    const label = SB.t('presence.' + p.status) + (p.status === 'away' && p.reason ? ' · ' + SB.tOr('reason.' + p.reason, p.reason) : '');
    $('presence-now').textContent = label;
  };

  UI.setPresence = function (status, reason) {
    const msg = { type: 'presence.set', status };
    if (status === 'away') {
      const picked = reason || $('away-reason').value;
      msg.reason = SB.AWAY_REASONS.includes(picked) ? picked : 'break'; // never re-send "missed"
    }
    $('presence').classList.add('busy');
    SB.conn.request(msg).then(() => {
      // The server also echoes a `presence` event; the ack alone is enough to show the change.
      st.presence = { status, reason: msg.reason || null };
      UI.renderPresence();
    }).catch(UI.error).finally(() => $('presence').classList.remove('busy'));
  };

  // ---- offers ----

  UI.renderOffers = function () {
    const list = $('offer-list');
    list.replaceChildren();
    const offers = [...st.offers.values()].sort((a, b) => a.expiresAt - b.expiresAt);
    $('offers-count').textContent = offers.length ? String(offers.length) : '';
    $('offers').classList.toggle('has-offers', offers.length > 0);
    if (!offers.length) list.append(h('div', { class: 'empty' }, SB.t('offers.empty')));
    for (const o of offers) {
      const conv = o.conversation || {};
      const kind = SB.kindOf(conv);
      const busy = pendingOffers.has(o.offerId);
      // A call rings: the caller is on the line. A voicemail's call-back task is not ringing.
      const call = kind === 'voice' ? (conv.call || {}) : null;
      const ringing = !!call && !call.callback;
      // Only a new card flashes; re-renders (a countdown, a busy button) must not re-alert.
      o._el = h('div', { class: 'offer-card' + (o._shown ? '' : ' fresh') + (ringing ? ' ringing' : ''), dataset: { offer: o.offerId } },
        h('div', { class: 'offer-top' },
          SB.chanMark(conv),
          h('span', { class: 'offer-chan', title: SB.channelTitle(conv) },
            call ? SB.t(call.callback ? 'offers.callback' : 'offers.call') : SB.t('channel.' + kind)),
          conv.priority ? h('span', { class: 'chip chip-prio' }, SB.t('offers.priority', { p: conv.priority })) : null,
          h('span', { class: 'offer-left' })),
        h('div', { class: 'offer-contact' }, SB.listName(conv)),
        h('div', { class: 'offer-sub muted' }, [conv.skill, conv.subject].filter(Boolean).join(' · '),
          call ? h('span', { class: 'offer-waited' }) : null),
        h('div', { class: 'offer-bar' }, h('div', { class: 'offer-fill' })),
        h('div', { class: 'offer-actions' },
          h('button', { type: 'button', class: 'primary', disabled: busy, onclick: () => UI.acceptOffer(o.offerId) }, SB.t('offers.accept')),
          h('button', { type: 'button', disabled: busy, onclick: () => UI.rejectOffer(o.offerId) }, SB.t('offers.reject'))));
      list.append(o._el);
      o._shown = true;
    }
    tickOffers();
    UI.renderTitle();
  };

  // Live countdowns. The deadline is server time; SB.clock converts it (see console-ws.js).
  // A ringing call rings again every RING_EVERY ms until it is taken, refused or gone.
  const RING_EVERY = 3000;
  let lastRing = 0;

  function tickOffers() {
    let ringing = false;
    for (const o of st.offers.values()) {
      if (!o._el) continue;
      const left = SB.clock.remaining(o.expiresAt);
      const conv = o.conversation || {};
      if (conv.call) {
        // The caller's wait so far, from when the call was queued (server time).
        const since = Number(conv.queuedAt || conv.createdAt);
        const waited = o._el.querySelector('.offer-waited');
        if (waited && since) waited.textContent = ' · ' + SB.t('offers.waited', { s: SB.fmtDuration(Math.max(0, -SB.clock.remaining(since))) });
        if (!conv.call.callback && left > 0 && !pendingOffers.has(o.offerId)) ringing = true;
      }
      if (o._total === undefined) o._total = Math.max(left, 1000);
      const secs = Math.max(0, Math.ceil(left / 1000));
      o._el.querySelector('.offer-left').textContent = left > 0 ? SB.t('offers.left', { s: secs }) : SB.t('offers.expired');
      o._el.querySelector('.offer-fill').style.width = Math.max(0, Math.min(100, (left / o._total) * 100)) + '%';
      o._el.classList.toggle('urgent', left > 0 && left < 5000);
      o._el.classList.toggle('expired', left <= 0);
      // The server rescinds expired offers; drop a stale card ourselves if that never arrives.
      if (left < -5000) { st.offers.delete(o.offerId); UI.renderOffers(); return; }
    }
    if (ringing && Date.now() - lastRing >= RING_EVERY) {
      lastRing = Date.now();
      UI.beep('ring');
    }
  }

  UI.acceptOffer = function (offerId) {
    const o = st.offers.get(offerId);
    if (!o || pendingOffers.has(offerId)) return;
    pendingOffers.add(offerId);
    if (o.conversation) st.acceptedConvs.add(o.conversation.id);
    UI.renderOffers();
    SB.conn.request({ type: 'offer.accept', offerId }).then((ack) => {
      st.offers.delete(offerId);
      // The ack carries the assigned conversation; the `assigned` event says the same.
      if (ack.conversation && ack.conversation.id) st.upsertConv(ack.conversation, { assigned: true });
      // The `assigned` event normally comes first; if it already did, open the conversation now.
      if (o.conversation && st.convs.has(o.conversation.id) && !st.convs.get(o.conversation.id)._ended) {
        st.acceptedConvs.delete(o.conversation.id);
        SB.threadView.open(o.conversation.id);
      }
    }).catch((e) => {
      if (o.conversation) st.acceptedConvs.delete(o.conversation.id);
      // Gone or taken: the card is useless. Other errors (e.g. unavailable) leave it to retry.
      if (e.code === 'not_found' || e.code === 'conflict' || e.code === 'forbidden') st.offers.delete(offerId);
      UI.error(e);
    }).finally(() => { pendingOffers.delete(offerId); UI.renderOffers(); });
  };

  UI.rejectOffer = function (offerId) {
    if (!st.offers.has(offerId) || pendingOffers.has(offerId)) return;
    pendingOffers.add(offerId);
    UI.renderOffers();
    SB.conn.request({ type: 'offer.reject', offerId }).then(() => st.offers.delete(offerId)).catch((e) => {
      if (e.code === 'not_found' || e.code === 'conflict') st.offers.delete(offerId);
      else UI.error(e);
    }).finally(() => { pendingOffers.delete(offerId); UI.renderOffers(); });
  };

  // ---- conversation list ----

  UI.renderConvs = function () {
    const list = $('conv-list');
    list.replaceChildren();
    waitSpans.clear();
    const active = st.activeConvs();
    $('convs-count').textContent = active.length ? String(active.length) : '';
    if (!active.length) list.append(h('div', { class: 'empty' }, SB.t('convs.empty')));
    active.forEach((c, i) => list.append(convItem(c, i)));
    const ended = st.endedConvs();
    $('ended').hidden = ended.length === 0;
    $('ended-count').textContent = String(ended.length);
    const el = $('ended-list');
    el.replaceChildren();
    for (const c of ended) el.append(convItem(c, -1));
    UI.renderTitle();
    tickWaits();
  };

  function convItem(c, i) {
    const kind = SB.kindOf(c);
    const t = st.threads.get(c.id);
    const last = t && t.last();
    const unread = (t && t.unread) || 0;
    const status = c._ended || c.status;
    const wait = h('span', { class: 'ci-wait' });
    if (!c._ended) waitSpans.set(c.id, wait);
    const item = h('div', {
      class: 'conv-item' + (c.id === st.activeId ? ' active' : '') + (unread ? ' unread' : '') + (c._ended ? ' ended' : ''),
      role: 'button', tabindex: '0', title: i >= 0 && i < 9 ? 'Alt+' + (i + 1) : undefined,
      // mousedown, not click: the list re-renders when messages arrive, and a node replaced
      // between press and release would swallow the click. It also feels faster.
      onmousedown: (e) => { if (e.button === 0) SB.threadView.open(c.id); },
      onkeydown: (e) => { if (e.key === 'Enter') SB.threadView.open(c.id); },
    },
    SB.chanMark(c),
    h('div', { class: 'ci-main' },
      h('div', { class: 'ci-top' },
        h('span', { class: 'ci-name' }, SB.listName(c)),
        c._ended || c.status !== 'assigned' ? h('span', { class: 'badge badge-' + status }, SB.tOr('status.' + status, status)) : null,
        wait,
        h('span', { class: 'ci-time muted' }, last ? SB.fmtTime(last.createdAt) : '')),
      h('div', { class: 'ci-prev' },
        SB.threadView.hasDraft(c.id) && c.id !== st.activeId ? h('span', { class: 'ci-draft' }, '✎ ') : null,
        h('span', { class: 'muted' }, SB.t('channel.' + kind) + ' · '),
        last ? SB.preview(last, kind) : (c.subject || ''))),
    unread ? h('span', { class: 'ci-unread' }, unread > 99 ? '99+' : String(unread)) : null);
    if (c._ended) {
      item.append(h('button', {
        type: 'button', class: 'ci-x', title: SB.t('convs.dismiss'), 'aria-label': SB.t('convs.dismiss'),
        onmousedown: (e) => e.stopPropagation(),
        onclick: (e) => { e.stopPropagation(); const was = st.activeId === c.id; st.dismiss(c.id); if (was) SB.threadView.showEmpty(); UI.renderConvs(); },
      }, '×'));
    }
    return item;
  }

  // "Waiting m:ss" on conversations whose contact is waiting for an answer; amber from 5 min,
  // red from 10 min, ahead of the 15-minute answer target (DESIGN §1).
  function tickWaits() {
    for (const [id, span] of waitSpans) {
      const t = st.threads.get(id);
      // A call is answered on the phone, not by a written reply: no "waiting for a reply".
      const since = t && SB.kindOf(st.convs.get(id)) !== 'voice' && t.waitingSince();
      if (!since) { span.textContent = ''; span.className = 'ci-wait'; continue; }
      const ms = SB.clock.serverNow() - since;
      const text = SB.t('convs.wait', { t: SB.fmtDuration(ms) });
      const cls = 'ci-wait' + (ms >= 600000 ? ' late' : ms >= 300000 ? ' warn' : '');
      if (span.textContent !== text) span.textContent = text;
      if (span.className !== cls) span.className = cls;
    }
  }

  // ---- dialogs ----

  function skillNames() {
    const sk = st.me && st.me.skills;
    if (Array.isArray(sk)) return sk.map((s) => (typeof s === 'string' ? s : s && (s.name || s.skill || s.id))).filter(Boolean);
    if (sk && typeof sk === 'object') return Object.keys(sk);
    return [];
  }

  UI.openTransfer = function (convId) {
    const dlg = $('dlg-transfer');
    const form = dlg.querySelector('form');
    form.reset();
    form.dataset.conv = convId;
    const conv = st.convs.get(convId) || {};
    const names = new Set(skillNames());
    if (conv.skill) names.add(conv.skill);
    $('skills-list').replaceChildren(...[...names].map((n) => h('option', { value: n })));
    $('transfer-error').textContent = '';
    syncTransferMode();
    dlg.showModal();
    $('transfer-skill').focus();
  };

  function syncTransferMode() {
    const toAgent = $('transfer-mode-agent').checked;
    $('transfer-skill-row').hidden = toAgent;
    $('transfer-agent-row').hidden = !toAgent;
  }

  function submitTransfer(e) {
    e.preventDefault();
    const form = e.target;
    const convId = form.dataset.conv;
    const msg = { type: 'conversation.transfer', conversationId: convId };
    if ($('transfer-mode-agent').checked) msg.toAgent = $('transfer-agent').value.trim();
    else msg.toSkill = $('transfer-skill').value.trim();
    if (!msg.toAgent && !msg.toSkill) { $('transfer-error').textContent = SB.t('transfer.missing'); return; }
    const note = $('transfer-note').value.trim();
    if (note) msg.note = note;
    form.classList.add('busy');
    SB.conn.request(msg).then(() => {
      $('dlg-transfer').close();
      UI.toast(SB.t('transfer.done'), 'ok');
    }).catch((err) => { $('transfer-error').textContent = UI.errorText(err); })
      .finally(() => form.classList.remove('busy'));
  }

  UI.openClose = function (convId) {
    const dlg = $('dlg-close');
    const form = dlg.querySelector('form');
    form.reset();
    form.dataset.conv = convId;
    const conv = st.convs.get(convId) || {};
    const box = $('close-cats');
    box.replaceChildren(...SB.CATEGORIES.map((cat, i) => h('label', { class: 'cat' },
      h('input', { type: 'radio', name: 'category', value: cat, required: true, checked: conv.category === cat }),
      h('span', null, SB.t('cat.' + cat)), h('kbd', null, String(i + 1)))));
    $('close-error').textContent = '';
    // A call's notes (typed in the reply box while on the phone) become its disposition.
    if (SB.kindOf(conv) === 'voice' && convId === st.activeId) $('close-disposition').value = $('reply-text').value.trim();
    dlg.showModal();
    (box.querySelector('input:checked') || box.querySelector('input')).focus();
  };

  function submitClose(e) {
    e.preventDefault();
    const form = e.target;
    const convId = form.dataset.conv;
    const cat = form.querySelector('input[name=category]:checked');
    if (!cat) return;
    const msg = { type: 'conversation.close', conversationId: convId, category: cat.value };
    const disp = $('close-disposition').value.trim();
    if (disp) msg.disposition = disp;
    form.classList.add('busy');
    SB.conn.request(msg).then(() => {
      $('dlg-close').close();
      UI.toast(SB.t('close.done'), 'ok');
      const c = st.convs.get(convId);
      // The server's conversation.updated will say wrapup/closed; don't wait for it to move on.
      if (c && !c._ended) { c.status = 'wrapup'; c.category = msg.category; c._ended = 'wrapup'; c._endedAt = Date.now(); }
      const next = st.activeConvs()[0];
      if (next) SB.threadView.open(next.id); else if (st.activeId === convId) { SB.threadView.renderHeader(); SB.threadView.renderReply(); }
      SB.bus.emit('convs');
    }).catch((err) => { $('close-error').textContent = UI.errorText(err); })
      .finally(() => form.classList.remove('busy'));
  }

  // ---- wiring ----

  UI.init = function () {
    for (const s of ['available', 'away', 'offline']) $('pres-' + s).addEventListener('click', () => UI.setPresence(s));
    $('away-reason').replaceChildren(...SB.AWAY_REASONS.map((r) => h('option', { value: r }, SB.t('reason.' + r))));
    $('away-reason').addEventListener('change', () => { if (st.presence.status === 'away') UI.setPresence('away', $('away-reason').value); });
    $('missed-resume').addEventListener('click', () => UI.setPresence('available'));
    $('transfer-mode-skill').addEventListener('change', syncTransferMode);
    $('transfer-mode-agent').addEventListener('change', syncTransferMode);
    $('dlg-transfer').querySelector('form').addEventListener('submit', submitTransfer);
    $('dlg-close').querySelector('form').addEventListener('submit', submitClose);
    $('dlg-close').addEventListener('keydown', (e) => {
      // Digits 1–5 pick a category, so closing is two keystrokes and Enter.
      if (e.target.tagName === 'TEXTAREA' || !/^[1-5]$/.test(e.key)) return;
      const r = $('close-cats').querySelectorAll('input')[Number(e.key) - 1];
      if (r) { r.checked = true; r.focus(); e.preventDefault(); }
    });
    for (const d of document.querySelectorAll('dialog')) {
      d.querySelector('[data-cancel]').addEventListener('click', () => d.close());
    }
    $('ended-toggle').addEventListener('click', () => $('ended').classList.toggle('open'));
    $('sound-toggle').addEventListener('change', (e) => localStorage.setItem('sb.sound', e.target.checked ? 'on' : 'off'));
    setInterval(() => { if (st.offers.size) tickOffers(); tickWaits(); }, 250);
    SB.bus.on('offers', UI.renderOffers);
    SB.bus.on('convs', UI.renderConvs);
    SB.bus.on('presence', UI.renderPresence);
  };

  UI.rerenderAll = function () {
    SB.applyI18n();
    $('away-reason').replaceChildren(...SB.AWAY_REASONS.map((r) => h('option', { value: r }, SB.t('reason.' + r))));
    UI.renderHeader();
    UI.renderConn();
    UI.renderPresence();
    UI.renderOffers();
    UI.renderConvs();
    SB.threadView.invalidate();
  };
})();
