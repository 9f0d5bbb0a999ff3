// Routes live in the hash: #/<page>/<arg>?<filters>. Everything a page shows
// is decided by its URL, so any view can be shared or bookmarked.

import { query } from './api.js';

export function current() {
  const raw = location.hash.replace(/^#/, '') || '/overview';
  const i = raw.indexOf('?');
  const path = i < 0 ? raw : raw.slice(0, i);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || 'overview', args: parts.slice(1), q: new URLSearchParams(i < 0 ? '' : raw.slice(i + 1)) };
}

// href builds a route link.
export function href(page, params) {
  const qs = query(params);
  return '#/' + page + (qs ? '?' + qs : '');
}

export function go(page, params) {
  location.hash = href(page, params);
}

// Time ranges. A relative range ("24h") stays relative in shared links; a zoom
// makes it absolute (from, to).
export const RANGES = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3, all: 0 };
export const DEFAULT_RANGE = '7d';

const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');

// timeOf reads the time range of a route's query: {from, to, range} with from
// and to as RFC 3339 (or '' for open).
export function timeOf(q) {
  if (q.get('from') || q.get('to')) return { from: q.get('from') || '', to: q.get('to') || '', range: '' };
  let r = q.get('range') || DEFAULT_RANGE;
  if (!(r in RANGES)) r = DEFAULT_RANGE;
  if (r === 'all') return { from: '', to: '', range: r };
  // Rounded up to the minute, so that the calls of one page agree on the range.
  const to = Math.ceil(Date.now() / 60e3) * 60e3;
  return { from: iso(to - RANGES[r]), to: iso(to), range: r };
}

// timeParams is the time range as it goes in a route link (kept as given).
export function timeParams(q) {
  if (q.get('from') || q.get('to')) return { from: q.get('from') || '', to: q.get('to') || '' };
  return q.get('range') ? { range: q.get('range') } : {};
}

// apiTime is the range as the API takes it.
export function apiTime(t) {
  return { from: t.from, to: t.to };
}

export { iso };
