// Alerts: the search form, the result table and cursor pagination. One call
// per page view. The filters, the page size, the sort and the cursor are in
// the URL, so a view can be shared as it is.

import { h, fmtN, panel, chip } from '../dom.js';
import { api } from '../api.js';
import { href, go, apiTime, RANGES } from '../nav.js';
import { alertTable, settle } from './common.js';

// The filters the form edits; others from the URL show as removable chips.
const FORM = ['level', 'rule_id', 'group', 'provider', 'account', 'principal', 'q'];
export const EXTRA = ['region', 'srcip', 'technique', 'service', 'action', 'resource_group', 'tag', 'cluster', 'resource'];
const SIZES = [25, 50, 100, 200];

// prevs remembers, per cursor, the cursor of the page before, so "Previous"
// works for pages reached with "Next" in this tab.
const prevs = new Map();

export async function render(main, ctx) {
  const q = ctx.route.q;
  const size = SIZES.includes(Number(q.get('limit'))) ? Number(q.get('limit')) : 50;
  const filters = {};
  for (const k of [...FORM, ...EXTRA]) {
    const v = q.getAll(k).filter(Boolean);
    if (v.length) filters[k] = v.length === 1 ? v[0] : v;
  }
  const cursor = q.get('cursor') || '';
  const sort = q.get('sort') || '';
  const state = { ...ctx.keep, ...filters, limit: size === 50 ? '' : size, sort };
  const nav = (changes) => go('alerts', { ...state, ...changes });

  main.append(h('h1', {}, 'Alerts'), form(ctx, filters, state));
  const chips = EXTRA.filter((k) => filters[k]).map((k) => {
    const rest = { ...state };
    delete rest[k];
    return chip(`${k} = ${filters[k]}  ✕`, href('alerts', rest), 'filter-chip');
  });
  if (chips.length) main.append(h('div', { class: 'chips' }, h('span', { class: 'muted' }, 'Also filtered by: '), chips));

  const page = api('/alerts', { ...apiTime(ctx.time), ...filters, limit: size, cursor });
  const body = page.then((p) => {
    let list = p.alerts;
    if (sort) {
      const [dir, key] = sort.startsWith('-') ? [-1, sort.slice(1)] : [1, sort];
      const val = { time: (a) => a.timestamp, level: (a) => a.rule?.level ?? 0, rule: (a) => Number(a.rule?.id) || 0 }[key];
      if (val) list = [...list].sort((a, b) => (val(a) < val(b) ? -dir : val(a) > val(b) ? dir : 0));
    }
    const onSort = (key) => nav({ sort: sort === key ? '-' + key : sort === '-' + key ? '' : key, cursor });
    const prev = prevs.get(cursor);
    const pager = h('div', { class: 'pager' },
      h('span', { id: 'total', class: 'total' }, `${fmtN(p.total)} alerts`, cursor ? '' : (p.total > list.length ? ` · showing the newest ${fmtN(list.length)}` : '')),
      h('span', { class: 'spacer' }),
      h('label', {}, 'Per page ', h('select', { id: 'page-size', onchange: (ev) => nav({ limit: ev.target.value, cursor: '' }) },
        SIZES.map((n) => h('option', { value: n, selected: n === size }, n)))),
      cursor ? h('a', { class: 'button', href: href('alerts', { ...state, cursor: prev || '' }), id: 'prev' }, prev !== undefined ? '← Previous' : '⇤ First page') : null,
      p.next ? h('a', { class: 'button', id: 'next', href: href('alerts', { ...state, cursor: p.next }), onclick: () => prevs.set(p.next, cursor) }, 'Next →') : null);
    return h('div', {}, pager, alertTable(list, { sort, onSort }),
      sort ? h('p', { class: 'muted small' }, 'Sorting orders the alerts of this page; pages follow time, newest first.') : null);
  });
  main.append(panel('Results', body, { wide: true, class: 'results' }));
  await settle(body);
}

function form(ctx, f, state) {
  const val = (k) => (Array.isArray(f[k]) ? f[k].join(',') : f[k] || '');
  const t = ctx.time;
  const input = (k, label, attrs = {}) => h('label', {}, label, h('input', { name: k, id: 'f-' + k, value: val(k), ...attrs }));
  const fm = h('form', { class: 'filters', id: 'filters' },
    h('label', {}, 'Time', h('select', { name: 'range', id: 'f-range' },
      Object.keys(RANGES).map((r) => h('option', { value: r, selected: t.range === r }, r === 'all' ? 'All time' : 'Last ' + r)),
      t.range ? null : h('option', { value: '', selected: true }, 'Custom'))),
    h('label', {}, 'From (UTC)', h('input', { name: 'from', id: 'f-from', value: t.range ? '' : t.from, placeholder: 'RFC 3339 or date' })),
    h('label', {}, 'To', h('input', { name: 'to', id: 'f-to', value: t.range ? '' : t.to, placeholder: 'RFC 3339 or date' })),
    h('label', {}, 'Level ≥', h('select', { name: 'level', id: 'f-level' }, h('option', { value: '' }, 'any'),
      [3, 5, 8, 10, 12, 15].map((l) => h('option', { value: l, selected: String(l) === val('level') }, l)))),
    input('rule_id', 'Rule ids', { placeholder: '80202, 400003' }),
    input('group', 'Groups', { placeholder: 'authentication_failed' }),
    h('label', {}, 'Cloud', h('select', { name: 'provider', id: 'f-provider' },
      [['', 'any'], ['aws', 'AWS'], ['azure', 'Azure'], ['gcp', 'GCP']].map(([v, l]) => h('option', { value: v, selected: v === val('provider') }, l)))),
    input('account', 'Account'),
    input('principal', 'Principal'),
    input('q', 'Text', { type: 'search', placeholder: 'words, "a phrase", prefix*', class: 'wide' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'apply' }, 'Search'),
      h('a', { class: 'button secondary', href: href('alerts', ctx.keep) }, 'Clear')));
  fm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const d = new FormData(fm);
    const next = {};
    for (const k of EXTRA) if (state[k]) next[k] = state[k];
    if (d.get('from') || d.get('to')) { next.from = d.get('from'); next.to = d.get('to'); } else next.range = d.get('range') || '';
    for (const k of FORM) {
      const v = String(d.get(k) || '').trim();
      if (!v) continue;
      next[k] = (k === 'rule_id' || k === 'group') ? v.split(/[\s,]+/).filter(Boolean) : v;
    }
    next.limit = state.limit;
    go('alerts', next);
  });
  // Choosing a relative range empties the absolute fields, so it takes effect.
  fm.querySelector('#f-range').addEventListener('change', () => { fm.querySelector('#f-from').value = ''; fm.querySelector('#f-to').value = ''; });
  return fm;
}
