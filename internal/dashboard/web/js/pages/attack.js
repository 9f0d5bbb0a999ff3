// ATT&CK: tactics (kill-chain order) by techniques, each cell coloured by how
// many alerts carry the technique; a click opens those alerts. Two calls: the
// matrix layout (cached for the session) and one aggregation.

import { h, fmtN, panel, empty } from '../dom.js';
import { api, mitre } from '../api.js';
import { href, go, apiTime } from '../nav.js';
import { heat, barList } from '../charts.js';
import { settle } from './common.js';

export async function render(main, ctx) {
  const all = ctx.route.q.get('all') === '1';
  const stats = api('/alerts/stats', { ...apiTime(ctx.time), top: 100 });
  const layout = mitre().catch((e) => (e.status === 404 ? null : Promise.reject(e)));
  const toggle = h('label', { class: 'toggle' }, h('input', { type: 'checkbox', id: 'show-all', checked: all }), ' show techniques without alerts');
  toggle.firstChild.addEventListener('change', (ev) => {
    const q = Object.fromEntries(ctx.route.q);
    if (ev.target.checked) q.all = '1'; else delete q.all;
    go('attack', q);
  });
  const alertsOf = (id) => href('alerts', { ...ctx.keep, technique: id });
  const body = Promise.all([layout, stats]).then(([m, st]) => {
    const counts = new Map((st.techniques || []).map((c) => [c.key, c.count]));
    const tcounts = new Map((st.tactics || []).map((c) => [c.key, c.count]));
    if (!m) {
      return h('div', {}, h('p', { class: 'notice' }, 'This server does not serve the ATT&CK layout (/api/v1/mitre) yet: techniques only.'),
        barList(st.techniques, { href: (c) => alertsOf(c.key) }));
    }
    let max = 1;
    const cols = m.tactics.map((ta) => {
      const subs = new Map();
      for (const te of ta.techniques) if (te.parent) (subs.get(te.parent) || subs.set(te.parent, []).get(te.parent)).push(te);
      const parents = ta.techniques.filter((te) => !te.parent).map((te) => {
        const sub = (subs.get(te.id) || []).map((x) => ({ ...x, n: counts.get(x.id) || 0 }));
        const n = (counts.get(te.id) || 0) + sub.reduce((a, x) => a + x.n, 0);
        max = Math.max(max, n);
        return { ...te, n, sub: sub.filter((x) => x.n > 0) };
      }).filter((te) => all || te.n > 0).sort((a, b) => b.n - a.n || a.name.localeCompare(b.name));
      return { ta, parents };
    });
    const cell = (te, cls) => h('a', { class: ['cell', cls, heat(te.n, max)], href: alertsOf(te.id), 'data-technique': te.id, 'data-count': te.n, title: `${te.id} ${te.name}: ${fmtN(te.n)} alerts` },
      h('span', { class: 'tname' }, te.name), h('span', { class: 'tid' }, te.id), h('span', { class: 'tcount' }, te.n ? fmtN(te.n) : ''));
    const total = cols.reduce((a, c) => a + c.parents.length, 0);
    if (!total) return empty('No alert in this range carries an ATT&CK technique.');
    return h('div', {},
      h('div', { class: 'heat-legend' }, 'fewer', [1, 2, 3, 4, 5].map((i) => h('i', { class: 'sw heat-' + i })), 'more alerts', h('span', { class: 'muted' }, ` · ATT&CK ${m.version || ''}`)),
      h('div', { class: 'matrix', id: 'matrix' }, cols.map(({ ta, parents }) =>
        h('div', { class: ['tactic', parents.length ? null : 'tactic-empty'] },
          h('div', { class: 'thead', title: ta.id }, h('strong', {}, ta.name), h('small', {}, `${fmtN(tcounts.get(ta.name) || 0)} alerts · ${parents.length} techniques`)),
          parents.map((te) => h('div', { class: 'tech' }, cell(te, 'parent'), te.sub.map((x) => cell(x, 'sub'))))))));
  });
  main.append(h('h1', {}, 'MITRE ATT&CK', toggle), panel('Tactics × techniques', body, { wide: true }));
  await settle(body);
}
