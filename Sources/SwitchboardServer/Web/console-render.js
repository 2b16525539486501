// DOM building and message rendering. All user content goes through text nodes or vetted
// attributes: contacts can type anything, and an agent's browser holds a live session token.
'use strict';
window.SB = window.SB || {};

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

SB.renderPart = function (p) {
  const h = SB.h;
  if (!p || typeof p !== 'object') return null;
  switch (p.type) {
    case 'text':
      return h('div', { class: 'part-text' }, SB.linkify(String(p.text ?? '')));
    case 'media': {
      const mime = String(p.mime || '');
      const name = p.name || SB.t(SB.mediaKey(mime));
      const size = SB.fmtBytes(p.size);
      if (mime.startsWith('image/')) {
        const src = SB.safeUrl(p.url, { image: true });
        if (src) {
          return h('a', { class: 'part-image', href: src, target: '_blank', rel: 'noopener noreferrer', title: name },
            h('img', { src, alt: name, loading: 'lazy', referrerpolicy: 'no-referrer' }));
        }
      }
      if (mime.startsWith('audio/') && SB.safeUrl(p.url)) {
        return h('div', { class: 'part-media' }, h('audio', { controls: true, preload: 'none', src: SB.safeUrl(p.url) }),
          link(p.url, name));
      }
      return h('div', { class: 'part-file' }, h('span', { class: 'muted' }, SB.t('part.file') + ' '), link(p.url, name), size ? h('span', { class: 'muted' }, ' ' + size) : null);
    }
    case 'location': {
      const label = p.label ? p.label + ' ' : '';
      return h('div', { class: 'part-location' }, SB.t('part.location') + ' ' + label + '(' + Number(p.lat).toFixed(5) + ', ' + Number(p.lon).toFixed(5) + ')');
    }
    case 'call': {
      const bits = [h('span', null, SB.t('part.call') + ' ' + (p.event || ''))];
      if (typeof p.duration === 'number') bits.push(h('span', { class: 'muted' }, ' · ' + SB.t('part.duration', { d: SB.fmtDuration(p.duration * 1000) })));
      if (p.recordingUrl && SB.safeUrl(p.recordingUrl)) bits.push(h('audio', { controls: true, preload: 'none', src: SB.safeUrl(p.recordingUrl) }));
      return h('div', { class: 'part-call' }, bits);
    }
    case 'voicemail':
      return h('div', { class: 'part-voicemail' },
        h('div', null, SB.t('part.voicemail')),
        SB.safeUrl(p.recordingUrl) ? h('audio', { controls: true, preload: 'none', src: SB.safeUrl(p.recordingUrl) }) : null,
        p.transcript ? h('div', { class: 'part-text' }, h('span', { class: 'muted' }, SB.t('part.transcript')), p.transcript) : null);
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
  const cls = 'msg ' + (sys ? 'msg-sys' : msg.direction === 'out' ? 'msg-out' : 'msg-in') + (msg.author === 'bot' ? ' msg-bot' : '');
  const row = h('div', { class: cls, dataset: { key: msg._key } });
  const bubble = h('div', { class: 'bubble' });
  for (const p of msg.parts || []) { const el = SB.renderPart(p); if (el) bubble.append(el); }
  if (sys) { row.append(bubble); return row; }
  const meta = h('div', { class: 'meta' }, h('span', { class: 'author' }, SB.authorLabel(msg, conv)),
    h('time', { datetime: msg.createdAt ? new Date(msg.createdAt).toISOString() : undefined }, SB.fmtTime(msg.createdAt)));
  if (msg.direction === 'out') {
    const st = SB.statusOf(msg);
    meta.append(h('span', { class: 'tick tick-' + st, title: SB.t('msg.' + st) }, TICKS[st] || ''));
  }
  row.append(meta, bubble);
  if (msg.direction === 'out' && SB.statusOf(msg) === 'failed') {
    const err = msg._error || '';
    const fail = h('div', { class: 'fail' }, SB.t('msg.failedWith', { e: err || SB.t('err.other') }));
    // A message the server accepted but the provider failed to deliver can't be re-sent with the
    // same clientId (the server would dedup it); only local failures get the retry button.
    if (msg._local === 'failed' && onRetry) fail.append(' ', h('button', { type: 'button', class: 'linkish', onclick: () => onRetry(msg) }, SB.t('msg.retry')));
    row.append(fail);
  } else if (msg._local === 'queued') {
    row.append(h('div', { class: 'fail muted' }, SB.t('msg.queued')));
  }
  return row;
};
