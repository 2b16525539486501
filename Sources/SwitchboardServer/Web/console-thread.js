// The main column: conversation header, message thread, reply box. Each conversation keeps its
// own rendered DOM, scroll position and draft, so switching between an agent's ~4 chats is a
// node swap, not a re-render or a server round trip.
'use strict';
window.SB = window.SB || {};

(function () {
  const h = SB.h;
  const st = SB.state;
  const $ = (id) => document.getElementById(id);
  const PAGE = 50;
  const drafts = new Map(loadDrafts());
  let saveTimer = null;

  function loadDrafts() {
    try { return Object.entries(JSON.parse(sessionStorage.getItem('sb.drafts') || '{}')); } catch (_) { return []; }
  }
  // Drafts survive a page reload in this tab; an agent mid-sentence must not lose a long answer.
  function saveDrafts() {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => {
      try { sessionStorage.setItem('sb.drafts', JSON.stringify(Object.fromEntries([...drafts].filter(([, v]) => v)))); } catch (_) { /* quota */ }
    }, 300);
  }

  const T = SB.threadView = {};

  T.clearDrafts = function () { drafts.clear(); sessionStorage.removeItem('sb.drafts'); };

  function scroller() { return $('thread-scroll'); }
  function nearBottom() { const s = scroller(); return s.scrollHeight - s.scrollTop - s.clientHeight < 80; }
  function toBottom() { const s = scroller(); s.scrollTop = s.scrollHeight; $('new-pill').hidden = true; }

  function ensureDom(t) {
    if (t.el) return;
    t.el = h('div', { class: 'msgs' });
    t.top = h('div', { class: 'thread-top' });
    t.el.append(t.top);
    t.nodes = new Map();
    for (const m of t.messages) place(t, m);
    renderTop(t);
  }

  // Drops the rendered DOM of every thread (language switch); it is rebuilt lazily.
  T.invalidate = function () {
    const active = st.activeId && st.threads.get(st.activeId);
    // Keep the distance from the bottom: the rebuilt thread has the same messages.
    const fromBottom = active && !nearBottom() ? scroller().scrollHeight - scroller().scrollTop : null;
    for (const t of st.threads.values()) { t.el = null; t.nodes = null; }
    if (!active) return;
    T.open(st.activeId, { keepScroll: true });
    if (fromBottom !== null) scroller().scrollTop = scroller().scrollHeight - fromBottom; else toBottom();
  };

  function renderTop(t) {
    if (!t.top) return;
    t.top.replaceChildren();
    if (t.loading) t.top.append(h('span', { class: 'muted' }, SB.t('thread.loading')));
    else if (t.loaded && t.hasMore) t.top.append(h('button', { type: 'button', class: 'linkish', onclick: () => T.loadHistory(t.convId, t.oldestId()) }, SB.t('thread.loadEarlier')));
    else if (t.loaded) t.top.append(h('span', { class: 'muted' }, SB.t('thread.noEarlier')));
  }

  // Puts (or re-puts) one message's node at its sorted position.
  function place(t, msg) {
    if (!t.nodes) return;
    const conv = st.convs.get(t.convId);
    const node = SB.renderMessage(msg, conv, (m) => T.retry(t.convId, m));
    const old = t.nodes.get(msg._key);
    if (old) old.remove();
    const i = t.messages.indexOf(msg);
    const next = t.messages.slice(i + 1).find((m) => t.nodes.has(m._key));
    t.el.insertBefore(node, next ? t.nodes.get(next._key) : null);
    t.nodes.set(msg._key, node);
  }

  function removeNode(t, key) {
    if (t.nodes && t.nodes.has(key)) { t.nodes.get(key).remove(); t.nodes.delete(key); }
  }

  // Applies a message from the server or from us; keeps the view pinned to the bottom if the
  // agent was there, otherwise shows a "new messages" pill instead of yanking the scroll.
  T.upsert = function (convId, m) {
    const t = st.thread(convId);
    if (!m.conversationId) m = Object.assign({ conversationId: convId }, m);
    const active = st.activeId === convId;
    const pinned = active && nearBottom();
    const res = t.upsert(m);
    if (!res) return null;
    place(t, res.msg);
    if (active) {
      if (pinned || (res.isNew && res.msg.direction === 'out')) toBottom();
      else if (res.isNew) $('new-pill').hidden = false;
    }
    if (res.msg.author === 'contact' && t.typingUntil) { t.typingUntil = 0; if (active) renderTyping(); }
    return res;
  };

  T.delivery = function (convId, messageId, status, error, hint) {
    const t = st.thread(convId);
    const msg = t.applyDelivery(messageId, status, error, hint);
    if (msg) place(t, msg);
    return msg;
  };

  T.loadHistory = async function (convId, before) {
    const t = st.thread(convId);
    if (t.loading) return;
    t.loading = true;
    renderTop(t);
    const req = { type: 'history', conversationId: convId, limit: PAGE };
    if (before) req.before = before;
    try {
      const ack = await SB.conn.request(req, { silent: !before && t.loaded });
      const msgs = Array.isArray(ack.messages) ? ack.messages : [];
      const active = st.activeId === convId;
      const s = scroller();
      const fromBottom = active ? s.scrollHeight - s.scrollTop : 0;
      const wasPinned = active && nearBottom();
      for (const m of msgs) {
        const res = t.upsert(Object.assign({ conversationId: convId }, m));
        if (res) place(t, res.msg);
      }
      // `hasMore` if the server says so; otherwise a full page means there may be more. A
      // refresh of the newest page (after a reconnect) must not undo "no earlier messages".
      const more = typeof ack.hasMore === 'boolean' ? ack.hasMore : msgs.length >= PAGE;
      if (before || !t.loaded) t.hasMore = more;
      const first = !t.loaded;
      t.loaded = true;
      if (active) {
        if (before) s.scrollTop = s.scrollHeight - fromBottom; // keep the reading position
        else if (first || wasPinned) toBottom();
      }
      SB.bus.emit('convs');
    } catch (e) {
      if (!e.silent && e.code !== 'disconnected') SB.ui.error(e);
    } finally {
      t.loading = false;
      renderTop(t);
    }
  };

  // Opens a conversation in the main column. Instant: the thread's DOM is kept between opens.
  T.open = function (convId, { keepScroll = false } = {}) {
    const conv = st.convs.get(convId);
    if (!conv) { T.showEmpty(); return; }
    const switching = st.activeId !== convId;
    const prev = st.activeId ? st.threads.get(st.activeId) : null;
    if (switching && prev) {
      prev.scrollTop = nearBottom() ? null : scroller().scrollTop; // null = follow the bottom
      stashDraft();
    }
    st.activeId = convId;
    const t = st.thread(convId);
    t.unread = 0;
    ensureDom(t);
    $('thread-empty').hidden = true;
    $('thread-pane').hidden = false;
    const s = scroller();
    const savedTop = keepScroll ? s.scrollTop : t.scrollTop;
    $('thread-scroll-body').replaceChildren(t.el);
    if (savedTop === null || savedTop === undefined) toBottom(); else s.scrollTop = savedTop;
    $('new-pill').hidden = true;
    T.renderHeader();
    renderTyping();
    if (switching) {
      const ta = $('reply-text');
      ta.value = drafts.get(convId) || '';
      autoGrow();
    }
    T.renderReply();
    if (!t.loaded && !t.loading) T.loadHistory(convId);
    if (switching && !$('reply-text').disabled) $('reply-text').focus();
    SB.bus.emit('convs');
  };

  T.showEmpty = function () {
    stashDraft();
    st.activeId = null;
    $('thread-pane').hidden = true;
    $('thread-empty').hidden = false;
    SB.bus.emit('convs');
  };

  function stashDraft() {
    if (!st.activeId) return;
    const v = $('reply-text').value;
    if (v) drafts.set(st.activeId, v); else drafts.delete(st.activeId);
    saveDrafts();
  }

  T.hasDraft = function (convId) {
    if (convId === st.activeId) return !!$('reply-text').value.trim();
    return !!(drafts.get(convId) || '').trim();
  };

  T.renderHeader = function () {
    const conv = st.convs.get(st.activeId);
    const hdr = $('thread-header');
    hdr.replaceChildren();
    if (!conv) return;
    const kind = SB.kindOf(conv);
    const ct = conv.contact || {};
    const status = conv._ended || conv.status;
    // A web visitor's address is an opaque visitor id, and so is a WeChat openid: noise to the
    // agent, kept as the name's tooltip (to quote to a supervisor or look up in WeChat's admin).
    const opaque = kind === 'webchat' || kind === 'wechat';
    const info = h('div', { class: 'th-info' },
      h('div', { class: 'th-name' },
        SB.chanMark(conv),
        h('span', { class: 'th-contact', title: opaque && ct.address ? ct.address : undefined }, SB.contactName(conv)),
        ct.address && ct.address !== ct.name && !opaque ? h('span', { class: 'th-addr' }, ct.address) : null,
        h('span', { class: 'badge badge-' + status }, SB.tOr('status.' + status, status))),
      h('div', { class: 'th-sub muted' },
        SB.channelTitle(conv),
        conv.skill ? ' · ' + SB.t('thread.skill', { s: conv.skill }) : '',
        conv.priority ? ' · ' + SB.t('offers.priority', { p: conv.priority }) : '',
        conv.category ? ' · ' + SB.tOr('cat.' + conv.category, conv.category) : '',
        conv.subject ? h('span', { class: 'th-subject' }, ' · ' + conv.subject) : null));
    const ended = !!conv._ended;
    const acts = h('div', { class: 'th-actions' });
    if (kind === 'voice') info.append(callLine(conv), historyLine(conv));
    if (!ended && kind === 'voice' && conv.call && conv.call.callback && conv.status === 'assigned') {
      // A voicemail's call-back: the agent calls from their own phone and records how it went.
      acts.append(h('a', { class: 'button primary', href: 'tel:' + (ct.address || '') }, SB.t('call.dial', { n: ct.address || '' })));
      for (const outcome of ['reached', 'unreached', 'wrong_number']) {
        acts.append(h('button', { type: 'button', dataset: { outcome }, onclick: () => T.callbackOutcome(conv.id, outcome) },
          SB.t('callback.' + outcome)));
      }
    }
    if (!ended) {
      acts.append(
        h('button', { type: 'button', onclick: () => SB.ui.openTransfer(conv.id) }, SB.t('act.transfer')),
        h('button', { type: 'button', class: 'danger', onclick: () => SB.ui.openClose(conv.id) }, SB.t('act.close')));
    } else {
      // A call ended by a hang-up: its agent still gives the category and notes (wrap-up).
      if (kind === 'voice' && (conv.status === 'wrapup' || conv.status === 'closed') && !conv.category
          && st.me && conv.assignee === st.me.id) {
        acts.append(h('button', { type: 'button', class: 'primary', onclick: () => SB.ui.openClose(conv.id) }, SB.t('act.categorize')));
      }
      acts.append(h('button', { type: 'button', onclick: () => { st.dismiss(conv.id); T.showEmpty(); } }, SB.t('convs.dismiss')));
    }
    hdr.append(info, acts);
  };

  // The call's line in the header: the running call time while the agent has it, then the talk
  // time; for a call-back task, its tries so far.
  // The caller's earlier conversations (every channel the contact used), asked once per call.
  const callerHistory = new Map();   // conversation id → [conversation] | 'loading'
  function historyLine(conv) {
    const el = h('div', { class: 'th-history muted' });
    const known = callerHistory.get(conv.id);
    if (known === undefined) {
      callerHistory.set(conv.id, 'loading');
      SB.conn.request({ type: 'contact.history', conversationId: conv.id }).then((ack) => {
        callerHistory.set(conv.id, Array.isArray(ack.conversations) ? ack.conversations : []);
        if (st.activeId === conv.id) T.renderHeader();
      }).catch(() => callerHistory.set(conv.id, []));
      return el;
    }
    if (!Array.isArray(known)) return el;
    if (!known.length) { el.append(SB.t('call.firstContact')); return el; }
    el.append(SB.t('call.history', { n: known.length }) + ' ');
    for (const c of known.slice(0, 5)) {
      const when = c.createdAt ? new Date(c.createdAt).toLocaleDateString() : '';
      const what = c.category ? SB.tOr('cat.' + c.category, c.category) : SB.tOr('status.' + c.status, c.status);
      el.append(h('span', { class: 'hist-item', title: c.id }, [when, SB.t('channel.' + SB.kindOf(c)), what].filter(Boolean).join(' · ')));
    }
    return el;
  }

  function callLine(conv) {
    const call = conv.call || {};
    const el = h('div', { class: 'th-call muted' });
    if (call.callback) el.append(SB.t('call.callbackTask'));
    else if (typeof call.talkSeconds === 'number') el.append(SB.t('call.talk', { t: SB.fmtDuration(call.talkSeconds * 1000) }));
    else if (conv.status === 'assigned' && conv.assignedAt) {
      const timer = h('span', { class: 'th-call-timer', dataset: { since: String(conv.assignedAt) } });
      el.append(SB.t('call.inCall'), ' ', timer);
    }
    return el;
  }

  // Running call timers (the header's), every second.
  setInterval(() => {
    for (const t of document.querySelectorAll('.th-call-timer')) {
      t.textContent = SB.fmtDuration(Math.max(0, -SB.clock.remaining(Number(t.dataset.since))));
    }
  }, 1000);

  // A call's notes become an internal note in its thread (conversation.note); the box empties
  // once the server has it.
  T.saveNote = function (convId, text) {
    SB.conn.request({ type: 'conversation.note', conversationId: convId, text }).then(() => {
      if (st.activeId === convId) { $('reply-text').value = ''; drafts.delete(convId); saveDrafts(); autoGrow(); }
      SB.ui.toast(SB.t('reply.noteSaved'), 'info');
    }).catch(SB.ui.error);
  };

  T.callbackOutcome = function (convId, outcome) {
    const note = convId === st.activeId ? $('reply-text').value.trim() : '';
    const msg = { type: 'callback.outcome', conversationId: convId, outcome };
    if (note) msg.note = note;
    SB.conn.request(msg).then(() => {
      SB.ui.toast(SB.t('callback.saved.' + outcome), 'info');
    }).catch(SB.ui.error);
  };

  T.renderReply = function () {
    const conv = st.convs.get(st.activeId);
    const ended = !conv || !!conv._ended;
    // A call is spoken on the phone: nothing typed here could reach the caller, so the box holds
    // the agent's notes on the call instead: saved as internal notes (the button, or Enter), and
    // what is left unsaved becomes the close dialog's disposition or a call-back outcome's note.
    const voice = !!conv && SB.kindOf(conv) === 'voice';
    // A call's notes may still be written in its wrap-up, until it is categorized.
    const notesOpen = voice && conv && (conv.status === 'wrapup' || conv.status === 'closed') && !conv.category;
    $('reply-text').disabled = ended && !notesOpen;
    $('reply-text').placeholder = SB.t(voice ? 'reply.voiceNotes' : 'reply.placeholder');
    $('reply-send').disabled = ended && !notesOpen;
    // A call's box saves an internal note (never sent to the caller).
    $('reply-send').textContent = SB.t(voice ? 'reply.saveNote' : 'reply.send');
    $('reply-ended').hidden = !ended || notesOpen;
    $('reply-ended').textContent = SB.t('thread.ended');
    updateCounter();
  };

  // SMS costs money per segment; show the count for SMS conversations. A message with any
  // non-ASCII character (Chinese) goes out as UCS-2: 70 per single SMS, 67 per concatenated part.
  function updateCounter() {
    const conv = st.convs.get(st.activeId);
    const el = $('reply-count');
    const text = $('reply-text').value;
    if (!conv || SB.kindOf(conv) !== 'sms' || !text) { el.textContent = ''; return; }
    const n = [...text].length;
    // eslint-disable-next-line no-control-regex
    const ucs2 = /[^\x00-\x7f]/.test(text);
    const m = ucs2 ? (n <= 70 ? 1 : Math.ceil(n / 67)) : (n <= 160 ? 1 : Math.ceil(n / 153));
    el.textContent = SB.t('reply.sms', { n, m });
  }

  function renderTyping() {
    const t = st.activeId && st.threads.get(st.activeId);
    const on = !!t && t.typingUntil > Date.now();
    $('typing').hidden = !on;
    if (on) {
      clearTimeout(renderTyping.timer);
      renderTyping.timer = setTimeout(renderTyping, t.typingUntil - Date.now() + 50);
    }
  }

  // Incoming typing{conversationId}: show the hint for a few seconds after the last signal.
  T.typing = function (convId) {
    st.thread(convId).typingUntil = Date.now() + 5000;
    if (convId === st.activeId) renderTyping();
  };

  function autoGrow() {
    const ta = $('reply-text');
    ta.style.height = 'auto';
    ta.style.height = Math.min(ta.scrollHeight + 2, 160) + 'px';
  }

  T.send = function () {
    const convId = st.activeId;
    const conv = st.convs.get(convId);
    const ta = $('reply-text');
    const text = ta.value.trim();
    if (!conv || !text) return;
    if (SB.kindOf(conv) === 'voice') return T.saveNote(convId, text);
    if (conv._ended) return;
    const me = st.me || {};
    const msg = {
      clientId: SB.newClientId(), conversationId: convId, direction: 'out', author: 'agent',
      authorId: me.id, authorName: me.name, parts: [{ type: 'text', text }], status: 'pending',
      createdAt: SB.clock.serverNow(), _local: 'sending',
    };
    ta.value = '';
    drafts.delete(convId);
    saveDrafts();
    autoGrow();
    updateCounter();
    const res = T.upsert(convId, msg);
    toBottom();
    transmit(convId, res.msg, text);
    SB.bus.emit('convs');
  };

  // Sends (or re-sends) one message. The clientId never changes, so a retry after a lost ack
  // can't post the message twice (DESIGN §9).
  function transmit(convId, msg, text) {
    const t = st.thread(convId);
    msg._text = text;
    if (!SB.conn.connected) { msg._local = 'queued'; place(t, msg); return; }
    msg._local = 'sending';
    msg._error = null;
    place(t, msg);
    SB.conn.request({ type: 'message.send', conversationId: convId, text, clientId: msg.clientId }).then((ack) => {
      const server = ack.message && typeof ack.message === 'object' ? ack.message : {};
      const id = ack.messageId || server.id;
      if (id) {
        // The same message may already be here as a `message` event without our clientId.
        const other = t.byId.get(id);
        if (other && other !== msg) {
          t.messages.splice(t.messages.indexOf(msg), 1);
          removeNode(t, msg._key);
          other.clientId = msg.clientId;
          t.byClient.set(msg.clientId, other);
          return;
        }
      }
      T.upsert(convId, Object.assign({}, server, { clientId: msg.clientId, id: id || msg.id }));
      if (!id) { msg._local = null; place(t, msg); }
      SB.bus.emit('convs');
    }).catch((e) => {
      if (msg.id) return; // confirmed meanwhile by a `message` event
      if (e.code === 'disconnected') { msg._local = 'queued'; place(t, msg); return; }
      msg._local = 'failed';
      msg._error = SB.ui.errorText(e);
      place(t, msg);
      if (e.code !== 'timeout') SB.ui.error(e);
    });
  }

  T.retry = function (convId, msg) { transmit(convId, msg, msg._text ?? SB.preview(msg)); };

  // After a reconnect: send everything that was typed while offline or lost its ack.
  T.flushQueued = function () {
    for (const t of st.threads.values()) {
      for (const m of t.messages) if (m._local === 'queued' || m._local === 'sending') transmit(t.convId, m, m._text);
    }
  };

  // After a reconnect, refresh the newest page of every thread we have loaded: the replay
  // covers what we missed, this also covers a trimmed event stream.
  T.refreshLoaded = function () {
    for (const t of st.threads.values()) {
      const c = st.convs.get(t.convId);
      if (t.loaded && c && !c._ended) T.loadHistory(t.convId);
    }
  };

  T.init = function () {
    const ta = $('reply-text');
    ta.addEventListener('keydown', (e) => {
      // Chinese input methods use Enter to commit a candidate: never send mid-composition.
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        T.send();
      }
    });
    ta.addEventListener('input', () => {
      autoGrow();
      updateCounter();
      const t = st.activeId && st.thread(st.activeId);
      if (t && ta.value.trim() && SB.conn && SB.conn.connected && Date.now() - (t.typingSent || 0) > 3000) {
        t.typingSent = Date.now(); // at most one typing event per 3 s per conversation
        SB.conn.send({ type: 'typing', conversationId: st.activeId });
      }
      if (st.activeId) { drafts.set(st.activeId, ta.value); saveDrafts(); }
    });
    $('reply-send').addEventListener('click', () => T.send());
    $('new-pill').addEventListener('click', toBottom);
    // Pictures and players fill in after their message is placed (console-media.js): a thread
    // the agent was reading at the bottom stays at the bottom as they grow.
    let pinned = true;
    if (window.ResizeObserver) new ResizeObserver(() => { if (pinned) toBottom(); }).observe($('thread-scroll-body'));
    scroller().addEventListener('scroll', () => {
      pinned = nearBottom();
      if (pinned) $('new-pill').hidden = true;
      const t = st.activeId && st.threads.get(st.activeId);
      // Reaching the top loads the previous page, as chat apps do.
      if (t && scroller().scrollTop < 20 && t.loaded && t.hasMore && !t.loading) T.loadHistory(t.convId, t.oldestId());
    }, { passive: true });
  };
})();
