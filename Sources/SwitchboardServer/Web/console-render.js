// DOM building and message rendering. All user content goes through text nodes or vetted
// attributes: contacts can type anything, and an agent's browser holds a live session token.
'use strict';
window.SB = window.SB || {};

(function () {
  // h('div', {class: 'x', onclick: fn}, 'text', child…): strings become text nodes, never HTML.
  SB.h = function (tag, attrs, ...children) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else if (k === 'class') el.className = v;
        else if (k === 'dataset') Object.assign(el.dataset, v);
        else if (k === 'text') el.textContent = v;
        else if (k in el && typeof v !== 'string') el[k] = v;
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  };

  // Only http(s), same-origin paths and inline images may become links or sources: a
  // `javascript:` URL in a media part would otherwise run in the agent's session.
  SB.safeUrl = function (url, { image = false } = {}) {
    if (typeof url !== 'string' || !url) return null;
    const u = url.trim();
    if (image && /^data:image\/(png|jpe?g|gif|webp);base64,[A-Za-z0-9+/=]+$/i.test(u)) return u;
    try {
      const parsed = new URL(u, location.href);
      if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return parsed.href;
    } catch (_) { /* not a URL */ }
    return null;
  };

  // Text with http(s) links made clickable, built from text nodes and anchors (no innerHTML).
  SB.linkify = function (text) {
    const frag = document.createDocumentFragment();
    const re = /\bhttps?:\/\/[^\s<>"'，。！？、）)]+/g;
    let last = 0, m;
    while ((m = re.exec(text))) {
      if (m.index > last) frag.append(text.slice(last, m.index));
      const href = SB.safeUrl(m[0]);
      frag.append(href ? SB.h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, m[0]) : m[0]);
      last = m.index + m[0].length;
    }
    if (last < text.length) frag.append(text.slice(last));
    return frag;
  };

  function link(url, label) {
    const href = SB.safeUrl(url);
    return href ? SB.h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, label || url) : SB.h('span', null, label || url || '');
  }

  // The original HTML of an email, shown only on request, inside a sandboxed frame with no
  // scripts and a CSP that blocks remote loads (tracking pixels, phishing forms).
  function emailHtml(html) {
    const box = SB.h('div', { class: 'part-email-html' });
    let frame = null;
    const btn = SB.h('button', { type: 'button', class: 'linkish', text: SB.t('part.showHtml') });
    btn.addEventListener('click', () => {
      if (frame) { frame.remove(); frame = null; btn.textContent = SB.t('part.showHtml'); return; }
      frame = SB.h('iframe', { sandbox: '', referrerpolicy: 'no-referrer', class: 'email-frame' });
      frame.srcdoc = '<!doctype html><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" ' +
        'content="default-src \'none\'; style-src \'unsafe-inline\'; img-src data:">' + html;
      box.append(frame);
      btn.textContent = SB.t('part.hideHtml');
    });
    box.append(btn);
    return box;
  }

  // A namespaced SVG element (the channel glyphs are drawn, not downloaded).
  function svg(tag, attrs, ...children) {
    const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    el.append(...children);
    return el;
  }

  // WeChat's two speech bubbles, white on the WeChat green of `.chan-wechat`.
  function wechatGlyph() {
    const eye = (cx, cy, r) => svg('circle', { cx, cy, r, class: 'eye' });
    return svg('svg', { viewBox: '0 0 24 24', width: 16, height: 16, 'aria-hidden': 'true', class: 'glyph' },
      svg('path', { d: 'M9.6 3.2C5.4 3.2 2 6 2 9.5c0 2 1.1 3.7 2.8 4.9L4.1 16.6l2.6-1.3c.9.3 1.9.4 2.9.4h.5a5.4 5.4 0 0 1-.2-1.4c0-3.4 3.2-6.1 7.2-6.1h.5C16.9 5.3 13.6 3.2 9.6 3.2z' }),
      svg('path', { class: 'front', d: 'M23 14.2c0-2.9-2.9-5.2-6.4-5.2s-6.4 2.3-6.4 5.2 2.9 5.2 6.4 5.2c.7 0 1.4-.1 2.1-.3l2.1 1.1-.6-1.8c1.7-1 2.8-2.5 2.8-4.2z' }),
      eye(6.9, 7.7, 1), eye(12.2, 7.7, 1), eye(14.4, 13.2, .8), eye(18.8, 13.2, .8));
  }

  // The channel mark of a conversation (list, header, offer card): a glyph or a character, with
  // the channel's name and instance id (`wx-main`, `wx-kf`) as its tooltip.
  SB.chanMark = function (conv) {
    const kind = SB.kindOf(conv);
    const title = SB.channelTitle(conv);
    return SB.h('span', { class: 'chan chan-' + kind, title, 'aria-label': title, role: 'img' },
      kind === 'wechat' ? wechatGlyph() : SB.t('icon.' + kind));
  };

  // Text parts of the media renderers: a link to a URL that needs no token, or null.
  function plainMedia(p, mime, name) {
    if (mime.startsWith('image/')) {
      const src = SB.safeUrl(p.url, { image: true });
      if (src) {
        return SB.h('a', { class: 'part-image', href: src, target: '_blank', rel: 'noopener noreferrer', title: name },
          SB.h('img', { src, alt: name, loading: 'lazy', referrerpolicy: 'no-referrer' }));
      }
    }
    if ((mime.startsWith('audio/') || mime.startsWith('video/')) && SB.safeUrl(p.url)) {
      const tag = mime.startsWith('video/') ? 'video' : 'audio';
      return SB.h('div', { class: 'part-media' }, SB.h(tag, { controls: true, preload: 'none', src: SB.safeUrl(p.url) }), link(p.url, name));
    }
    return null;
  }

  function mediaPart(p) {
    const h = SB.h;
    const mime = String(p.mime || '');
    const name = p.name || SB.t(SB.mediaKey(mime));
    if (SB.media.isBrokerMedia(p.url)) {
      if (mime.startsWith('image/')) return h('div', { class: 'part-image' }, SB.media.image(p.url, name));
      if (mime.startsWith('video/')) return h('div', { class: 'part-media' }, SB.media.player(p.url, 'video'));
      if (mime.startsWith('audio/')) return h('div', { class: 'part-media' }, SB.media.player(p.url, 'audio'));
    } else {
      const plain = plainMedia(p, mime, name);
      if (plain) return plain;
    }
    const size = SB.fmtBytes(p.size);
    const target = SB.media.isBrokerMedia(p.url) ? SB.media.fileButton(p.url, name) : link(p.url, name);
    return h('div', { class: 'part-file' }, h('span', { class: 'muted' }, SB.t('part.file') + ' '), target, size ? h('span', { class: 'muted' }, ' ' + size) : null);
  }

  // A voice note or voicemail: the recording, then its transcript, or a plain "no transcript".
  function voicePart(p, kind) {
    const h = SB.h;
    const url = p.recordingUrl;
    let player = null;
    if (SB.media.isBrokerMedia(url)) player = SB.media.player(url, 'audio');
    else if (SB.safeUrl(url)) player = h('audio', { controls: true, preload: 'none', src: SB.safeUrl(url) });
    const transcript = typeof p.transcript === 'string' && p.transcript.trim()
      ? h('div', { class: 'part-transcript' }, h('div', { class: 'tr-label' }, SB.t('part.transcriptLabel')), h('div', { class: 'tr-text' }, p.transcript))
      : h('div', { class: 'part-transcript tr-none muted' }, SB.t('part.noTranscript'));
    return h('div', { class: 'part-voicemail' },
      h('div', { class: 'part-label' }, SB.t(kind === 'wechat' ? 'part.voiceNote' : 'part.voicemail')), player, transcript);
  }

  function locationPart(p) {
    const h = SB.h;
    const lat = Number(p.lat), lon = Number(p.lon);
    const coords = Number.isFinite(lat) && Number.isFinite(lon) ? lat.toFixed(5) + ', ' + lon.toFixed(5) : '';
    return h('div', { class: 'part-location' },
      h('span', { class: 'part-label' }, SB.t('part.location')),
      p.label ? h('span', { class: 'loc-label' }, ' ' + p.label) : null,
      coords ? h('span', { class: 'loc-coords muted' }, ' (' + coords + ')') : null);
  }

  // One message part. `kind` is the conversation's channel kind (a WeChat voice note is labelled
  // as such, a phone voicemail as a voicemail).
  SB.renderPart = function (p, kind) {
    const h = SB.h;
    if (!p || typeof p !== 'object') return null;
    switch (p.type) {
      case 'text':
        return h('div', { class: 'part-text' }, SB.linkify(String(p.text ?? '')));
      case 'media':
        return mediaPart(p);
      case 'location':
        return locationPart(p);
      case 'call': {
        const bits = [h('span', null, SB.t('part.call') + ' ' + SB.tOr('call.event.' + (p.event || ''), p.event || ''))];
        if (typeof p.duration === 'number') bits.push(h('span', { class: 'muted' }, ' · ' + SB.t('part.duration', { d: SB.fmtDuration(p.duration * 1000) })));
        if (p.recordingUrl && SB.safeUrl(p.recordingUrl)) bits.push(h('audio', { controls: true, preload: 'none', src: SB.safeUrl(p.recordingUrl) }));
        return h('div', { class: 'part-call' }, bits);
      }
      case 'voicemail':
        return voicePart(p, kind);
      case 'form': {
        const rows = Object.entries(p.fields || {}).map(([k, v]) => h('tr', null, h('th', null, k), h('td', null, String(v))));
        return h('div', { class: 'part-form' }, h('div', { class: 'part-form-title' }, p.title || SB.t('part.form')),
          h('table', null, h('tbody', null, rows)));
      }
      case 'email':
        return h('div', { class: 'part-email' },
          h('div', { class: 'part-email-subject' }, h('span', { class: 'muted' }, SB.t('part.subject')), p.subject || ''),
          typeof p.html === 'string' && p.html ? emailHtml(p.html) : null);
      default:
        return h('div', { class: 'part-unknown muted' }, SB.t('part.unknown') + (p.type ? ' (' + p.type + ')' : ''));
    }
  };

  const TICKS = { sending: '◷', pending: '✓', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '!' };

  SB.authorLabel = function (msg, conv) {
    if (msg.author === 'contact') return SB.contactName(conv) || SB.t('author.contact');
    if (msg.author === 'bot') return msg.authorName || SB.t('author.bot');
    if (msg.author === 'system') return SB.t('author.system');
    if (msg.author === 'agent') {
      if (SB.state.me && msg.authorId === SB.state.me.id) return SB.t('author.me');
      if (!msg.authorId && msg._local) return SB.t('author.me');
      return msg.authorName || SB.t('author.agent');
    }
    return msg.authorName || '';
  };

  // The status line of an outbound message: local states (sending/queued/failed before the server
  // took it) first, then the server's delivery status.
  SB.statusOf = function (msg) {
    if (msg._local === 'sending') return 'sending';
    if (msg._local === 'queued') return 'sending';
    if (msg._local === 'failed') return 'failed';
    return msg.status || 'pending';
  };

  // Builds one message row. `onRetry(msg)` is called by the retry button of a failed send.
  SB.renderMessage = function (msg, conv, onRetry) {
    const h = SB.h;
    const sys = msg.author === 'system';
    const cls = 'msg ' + (sys ? 'msg-sys' : msg.direction === 'out' ? 'msg-out' : 'msg-in') + (msg.author === 'bot' ? ' msg-bot' : '')
      + (msg.internal ? ' msg-note' : '');
    const row = h('div', { class: cls, dataset: { key: msg._key } });
    const bubble = h('div', { class: 'bubble' });
    const kind = SB.kindOf(conv);
    for (const p of msg.parts || []) { const el = SB.renderPart(p, kind); if (el) bubble.append(el); }
    if (sys) {
      row.append(bubble);
      // A system line that failed (a call's bridge: 来电者已挂机) says why, its hint first.
      if (msg.direction === 'out' && SB.statusOf(msg) === 'failed') {
        row.append(h('div', { class: 'fail', role: 'alert' }, msg._hint || SB.t('msg.failedWith', { e: msg._error || SB.t('err.other') })));
      }
      return row;
    }
    if (msg.internal) bubble.prepend(h('div', { class: 'note-label' }, SB.t('msg.internalNote')));
    const meta = h('div', { class: 'meta' }, h('span', { class: 'author' }, SB.authorLabel(msg, conv)),
      h('time', { datetime: msg.createdAt ? new Date(msg.createdAt).toISOString() : undefined }, SB.fmtTime(msg.createdAt)));
    // An internal note is not delivered anywhere: no delivery ticks.
    if (msg.direction === 'out' && !msg.internal) {
      const st = SB.statusOf(msg);
      meta.append(h('span', { class: 'tick tick-' + st, title: SB.t('msg.' + st) }, TICKS[st] || ''));
    }
    row.append(meta, bubble);
    if (msg.direction === 'out' && SB.statusOf(msg) === 'failed') {
      const err = msg._error || '';
      // The provider's hint says what the agent can do (e.g. outside WeChat's 48-hour window: use
      // SMS); it leads, and the raw error follows in small print for the record.
      const fail = msg._hint
        ? h('div', { class: 'fail fail-hinted', role: 'alert' }, h('div', { class: 'fail-hint' }, msg._hint),
          h('div', { class: 'fail-raw' }, SB.t('msg.failedWith', { e: err || SB.t('err.other') })))
        : h('div', { class: 'fail' }, SB.t('msg.failedWith', { e: err || SB.t('err.other') }));
      // A message the server accepted but the provider failed to deliver can't be re-sent with the
      // same clientId (the server would dedup it); only local failures get the retry button.
      if (msg._local === 'failed' && onRetry) fail.append(' ', h('button', { type: 'button', class: 'linkish', onclick: () => onRetry(msg) }, SB.t('msg.retry')));
      row.append(fail);
    } else if (msg._local === 'queued') {
      row.append(h('div', { class: 'fail muted' }, SB.t('msg.queued')));
    }
    return row;
  };
})();
