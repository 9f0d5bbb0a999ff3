// DOM and formatting helpers. Every element is built with createElement and
// text goes in through textContent: alert data is attacker-controlled, and no
// string from the API is ever parsed as HTML.

const SVGNS = 'http://www.w3.org/2000/svg';

function build(el, attrs, kids) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

// h builds an HTML element: h('a', {href: '#/x', class: 'y'}, 'text', child).
export function h(tag, attrs, ...kids) {
  return build(document.createElement(tag), attrs, kids);
}

// s builds an SVG element.
export function s(tag, attrs, ...kids) {
  return build(document.createElementNS(SVGNS, tag), attrs, kids);
}

// short cuts a long value in the middle: ARNs, resource ids and e-mails
// differ at their ends, which a cut at the end would hide.
export function short(v, max = 36) {
  v = String(v ?? '');
  if (v.length <= max) return v;
  const tail = Math.ceil((max - 1) * 0.6);
  return v.slice(0, max - 1 - tail) + '…' + v.slice(v.length - tail);
}

const nf = new Intl.NumberFormat('en-US');
export const fmtN = (n) => (n === undefined || n === null ? '—' : nf.format(n));

const pad = (n) => String(n).padStart(2, '0');

// fmtTime shows a time in UTC, to the second.
export function fmtTime(t) {
  const d = t instanceof Date ? t : new Date(t);
  if (isNaN(d)) return String(t ?? '');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

// fmtDur shows a number of seconds as the two largest units.
export function fmtDur(sec) {
  sec = Math.max(0, Math.round(sec));
  if (sec < 60) return `${sec}s`;
  const units = [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]];
  const out = [];
  for (const [u, n] of units) {
    if (sec >= n || out.length) {
      out.push(`${Math.floor(sec / n)}${u}`);
      sec %= n;
    }
    if (out.length === 2) break;
  }
  return out.join(' ');
}

// relTime says how long ago (or ahead) t is.
export function relTime(t) {
  const d = new Date(t);
  if (isNaN(d)) return '';
  const diff = (Date.now() - d.getTime()) / 1000;
  if (Math.abs(diff) < 5) return 'just now';
  return diff > 0 ? `${fmtDur(diff)} ago` : `in ${fmtDur(-diff)}`;
}

// when is a time cell: UTC text with the relative time under it.
export function when(t) {
  if (!t) return h('span', { class: 'muted' }, '—');
  return h('span', { class: 'when', title: fmtTime(t) }, h('span', {}, fmtTime(t)), h('small', {}, relTime(t)));
}

// Level bands: the same four colours everywhere.
export const BANDS = [
  { key: 'low', label: 'Low 0–3', min: 0, max: 3 },
  { key: 'med', label: 'Medium 4–7', min: 4, max: 7 },
  { key: 'high', label: 'High 8–11', min: 8, max: 11 },
  { key: 'crit', label: 'Critical 12–16', min: 12, max: 16 },
];

export function band(level) {
  const l = Number(level) || 0;
  return BANDS.find((b) => l >= b.min && l <= b.max) || BANDS[3];
}

export function levelBadge(level) {
  return h('span', { class: ['lvl', 'lvl-' + band(level).key], title: band(level).label }, String(level ?? '?'));
}

export function loading(what) {
  return h('div', { class: 'loading' }, h('span', { class: 'spinner' }), `Loading ${what || ''}…`);
}

export function empty(msg) {
  return h('div', { class: 'empty' }, msg || 'Nothing here for this selection.');
}

export function errorBox(err) {
  const msg = err && err.message ? err.message : String(err);
  return h('div', { class: 'error', role: 'alert' }, h('strong', {}, 'Error: '), msg);
}

// replace puts new content in el.
export function replace(el, ...kids) {
  el.replaceChildren();
  build(el, {}, kids);
  return el;
}

// panel is a titled box whose body is filled when promise resolves with an
// element; loading and errors show in place, so one slow or failing call does
// not blank the page.
export function panel(title, promise, opts = {}) {
  const body = h('div', { class: 'panel-body' }, loading(title.toLowerCase()));
  const box = h('section', { class: ['panel', opts.wide && 'wide', opts.class] },
    h('h2', {}, title, opts.extra || null), body);
  Promise.resolve(promise).then(
    (content) => replace(body, content || empty()),
    (err) => { if (!err || err.status !== 401) replace(body, errorBox(err)); });
  return box;
}

// chip is a small labelled value, optionally a link.
export function chip(text, href, cls) {
  return href ? h('a', { class: ['chip', cls], href }, text) : h('span', { class: ['chip', cls] }, text);
}

// prettyJSON renders a value as indented JSON with spans for keys, strings,
// numbers and literals (for colour), as text nodes only.
export function prettyJSON(value) {
  const pre = h('pre', { class: 'json' });
  const put = (cls, text) => pre.append(cls ? h('span', { class: cls }, text) : document.createTextNode(text));
  const walk = (v, ind) => {
    if (Array.isArray(v)) {
      if (!v.length) return put(null, '[]');
      put(null, '[\n');
      v.forEach((x, i) => { put(null, ind + '  '); walk(x, ind + '  '); put(null, i < v.length - 1 ? ',\n' : '\n'); });
      return put(null, ind + ']');
    }
    if (v && typeof v === 'object') {
      const ks = Object.keys(v);
      if (!ks.length) return put(null, '{}');
      put(null, '{\n');
      ks.forEach((k, i) => {
        put(null, ind + '  '); put('j-key', JSON.stringify(k)); put(null, ': ');
        walk(v[k], ind + '  '); put(null, i < ks.length - 1 ? ',\n' : '\n');
      });
      return put(null, ind + '}');
    }
    if (typeof v === 'string') return put('j-str', JSON.stringify(v));
    if (typeof v === 'number') return put('j-num', String(v));
    return put('j-lit', String(v));
  };
  walk(value, '');
  return pre;
}
