// Media kept by the broker (`/v1/media/<channel>/<id>`, DESIGN §10.8): served only with the
// agent's console token in an Authorization header, so no <img src> can load it. It is fetched
// here, shown from a blob URL, and the URL is revoked once its message leaves the console (a
// re-render, a language switch, a dismissed conversation, a sign-out). Blobs are kept in a small
// cache, so a re-render does not download the same picture again.
'use strict';
window.SB = window.SB || {};

(function () {
  const h = SB.h;
  const M = SB.media = {};
  const CACHE_BYTES = 40 * 1048576;
  const cache = new Map();      // url → Promise<Blob>, oldest first (re-inserted on use)
  const live = new Set();       // {el, url}: object URLs and the element that owns each

  // Only the broker's own media route takes the token; other URLs never see it.
  M.isBrokerMedia = function (url) {
    if (typeof url !== 'string') return false;
    try {
      const u = new URL(url, location.href);
      return u.origin === location.origin && u.pathname.startsWith('/v1/media/');
    } catch (_) { return false; }
  };

  function token() { return (SB.conn && SB.conn.token) || sessionStorage.getItem('sb.token') || ''; }

  function trim() {
    let total = 0;
    const entries = [...cache.entries()].reverse(); // newest first
    for (const [url, p] of entries) {
      if (!p.size) continue;
      total += p.size;
      if (total > CACHE_BYTES) cache.delete(url);
    }
  }

  // The media's bytes as a Blob typed by the server's Content-Type. A failure is not cached,
  // so "retry" asks again. Errors carry `status` (0: the network) for the error line. `no-store`:
  // a citizen's pictures stay out of the browser's disk cache on a shared agent PC.
  M.blob = function (url) {
    const hit = cache.get(url);
    if (hit) { cache.delete(url); cache.set(url, hit); return hit; }
    const p = fetch(url, { headers: { Authorization: 'Bearer ' + token() }, credentials: 'omit', cache: 'no-store' })
      .catch(() => { throw Object.assign(new Error('network'), { status: 0 }); })
      .then((r) => {
        if (!r.ok) throw Object.assign(new Error('HTTP ' + r.status), { status: r.status });
        const name = /filename="?([^";]+)"?/i.exec(r.headers.get('content-disposition') || '');
        return r.blob().then((b) => { b.fileName = name ? name[1] : null; p.size = b.size; trim(); return b; });
      });
    p.catch(() => { if (cache.get(url) === p) cache.delete(url); });
    cache.set(url, p);
    return p;
  };

  // An object URL owned by `el`: revoked by the sweep once `el` is gone for good.
  M.objectUrl = function (blob, el) {
    const url = URL.createObjectURL(blob);
    live.add({ el, url });
    return url;
  };

  // A message node is alive while it is in the page or in a kept (inactive) thread's DOM.
  function alive(el) {
    if (el.isConnected) return true;
    for (const t of SB.state.threads.values()) if (t.el && t.el.contains(el)) return true;
    return false;
  }

  M.sweep = function () {
    for (const rec of live) if (!alive(rec.el)) { URL.revokeObjectURL(rec.url); live.delete(rec); }
  };

  M.liveCount = function () { return live.size; };

  M.reset = function () {
    for (const rec of live) URL.revokeObjectURL(rec.url);
    live.clear();
    cache.clear();
  };

  function fileNameFor(blob, fallback) {
    if (blob.fileName) return blob.fileName;
    const ext = (blob.type.split('/')[1] || 'bin').split(';')[0];
    return fallback + '.' + ext;
  }

  // "audio/amr" → "AMR": what the agent may recognise from a file name.
  function formatName(type) {
    const sub = (type.split('/')[1] || '').split(';')[0].replace(/^x-/, '');
    return sub ? sub.toUpperCase() : '?';
  }

  function downloadLink(src, blob, labelKey, fallback) {
    return h('a', { class: 'media-dl', href: src, download: fileNameFor(blob, fallback) }, SB.t(labelKey));
  }

  // Revokes the object URLs `el` owns now (a retry replaces them).
  function release(el) {
    for (const rec of live) if (rec.el === el) { URL.revokeObjectURL(rec.url); live.delete(rec); }
  }

  function errorLine(box, e, retry) {
    const detail = e && e.decode ? SB.t('media.undecodable') : e && e.status ? 'HTTP ' + e.status : SB.t('media.network');
    box.replaceChildren(h('span', { class: 'media-err-text' }, SB.t('media.failed')),
      h('span', { class: 'muted small' }, ' (' + detail + ') '),
      h('button', { type: 'button', class: 'linkish', onclick: retry }, SB.t('msg.retry')));
    box.classList.remove('media-loading');
    box.classList.add('media-error');
  }

  // A box that shows "loading", then `fill(box, blob)` or the error state with a retry button.
  function loader(url, cls, fill) {
    const box = h('div', { class: 'media-box media-loading ' + cls, dataset: { media: url } });
    const start = () => {
      release(box);
      box.className = 'media-box media-loading ' + cls;
      box.replaceChildren(h('span', { class: 'muted' }, SB.t('media.loading')));
      M.blob(url).then((blob) => {
        box.classList.remove('media-loading');
        box.replaceChildren();
        fill(box, blob, (e) => errorLine(box, e, start));
      }, (e) => errorLine(box, e, start));
    };
    start();
    return box;
  }

  // An image: the placeholder keeps a size, so the thread does not jump much when it arrives.
  M.image = function (url, alt) {
    return loader(url, 'media-image', (box, blob, fail) => {
      const src = M.objectUrl(blob, box);
      const img = h('img', { src, alt, decoding: 'async' });
      box.classList.add('media-decoding');
      img.addEventListener('load', () => box.classList.remove('media-decoding'), { once: true });
      img.addEventListener('error', () => fail({ status: 0, decode: true }), { once: true });
      box.append(h('a', { href: src, target: '_blank', rel: 'noopener', title: alt }, img));
    });
  };

  // Audio or video: a player when this browser can play the type (WeChat voice is AMR, which
  // Chromium cannot), and a download link either way.
  M.player = function (url, tag) {
    const isVideo = tag === 'video';
    return loader(url, isVideo ? 'media-video' : 'media-audio', (box, blob) => {
      const type = blob.type || '';
      const src = M.objectUrl(blob, box);
      const fallback = isVideo ? 'video' : 'voice';
      const downloadOnly = () => box.replaceChildren(downloadLink(src, blob, isVideo ? 'media.downloadVideo' : 'media.downloadVoice', fallback),
        h('span', { class: 'muted small' }, SB.t('media.cannotPlay', { t: formatName(type) })));
      if (!type || !document.createElement(tag).canPlayType(type)) return downloadOnly();
      // "maybe" is not "yes": a codec the browser lacks (HEVC in MP4) fails only when decoding.
      const player = h(tag, { controls: true, preload: 'metadata', src });
      player.addEventListener('error', downloadOnly, { once: true });
      box.append(player, downloadLink(src, blob, 'media.download', fallback));
    });
  };

  // Any other kept file: fetched when the agent asks for it, then saved under its name.
  M.fileButton = function (url, name) {
    const btn = h('button', { type: 'button', class: 'linkish' }, name);
    btn.addEventListener('click', () => {
      btn.disabled = true;
      M.blob(url).then((blob) => {
        h('a', { href: M.objectUrl(blob, btn), download: blob.fileName || name }).click();
      }, (e) => SB.ui.toast(SB.t('media.failed') + (e.status ? ' (HTTP ' + e.status + ')' : ''), 'error'))
        .finally(() => { btn.disabled = false; });
    });
    return btn;
  };

  setInterval(M.sweep, 5000);
  SB.bus.on('convs', () => setTimeout(M.sweep, 0));
})();
