// Rules: the loaded rules, searchable, with how many alerts each raised in the
// time range (one aggregation over the rules on the page), and a logtest box
// for admin tokens.

import { h, fmtN, panel, levelBadge, chip, prettyJSON, replace, errorBox, empty, loading } from '../dom.js';
import { api } from '../api.js';
import { href, go, apiTime } from '../nav.js';
import { settle } from './common.js';

const PAGE = 100;

export async function render(main, ctx) {
  const q = ctx.route.q;
  const f = { q: q.get('q') || '', level: q.get('level') || '', group: q.get('group') || '' };
  const offset = Math.max(0, Number(q.get('offset')) || 0);
  const search = h('form', { class: 'filters', id: 'rule-search' },
    h('label', {}, 'Search', h('input', { name: 'q', id: 'r-q', type: 'search', value: f.q, placeholder: 'id, description, group, T-id', class: 'wide' })),
    h('label', {}, 'Level', h('input', { name: 'level', id: 'r-level', value: f.level, placeholder: '12 or 10-16' })),
    h('label', {}, 'Group', h('input', { name: 'group', id: 'r-group', value: f.group })),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Search')));
  search.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const d = new FormData(search);
    go('rules', { ...ctx.keep, q: d.get('q').trim(), level: d.get('level').trim(), group: d.get('group').trim() });
  });
  const rules = api('/rules', { ...f, limit: PAGE, offset });
  // Counts only for the rules on this page: rule_id takes up to 100 values.
  const counts = rules.then((rp) => rp.rules.length
    ? api('/alerts/stats', { ...apiTime(ctx.time), rule_id: rp.rules.map((r) => r.id), top: 100, interval: '' }).then(
      (st) => new Map(st.top_rules.map((c) => [c.key, c.count])), () => null)
    : new Map());
  const body = Promise.all([rules, counts]).then(([rp, cnt]) => {
    if (!rp.rules.length) return empty('No rule matches.');
    const keep = { ...ctx.keep, ...f };
    return h('div', {},
      h('div', { class: 'pager' }, h('span', { id: 'rule-total' }, `${fmtN(rp.total)} rules`), h('span', { class: 'spacer' }),
        offset > 0 ? h('a', { class: 'button', href: href('rules', { ...keep, offset: Math.max(0, offset - PAGE) || '' }) }, '← Previous') : null,
        offset + PAGE < rp.total ? h('a', { class: 'button', href: href('rules', { ...keep, offset: offset + PAGE }) }, 'Next →') : null),
      h('table', { class: 'grid rules' },
        h('thead', {}, h('tr', {}, ['Id', 'Level', 'Description', 'Groups', 'ATT&CK', 'File', 'Alerts'].map((c) => h('th', {}, c)))),
        h('tbody', {}, rp.rules.map((r) => {
          const n = cnt ? cnt.get(String(r.id)) || 0 : null;
          return h('tr', { class: 'rule-row' },
            h('td', { class: 'mono' }, String(r.id)), h('td', {}, levelBadge(r.level)), h('td', { class: 'desc' }, r.description),
            h('td', {}, (r.groups || []).map((g) => chip(g, href('rules', { ...ctx.keep, group: g })))),
            h('td', {}, (r.mitre || []).map((t) => chip(t, href('alerts', { ...ctx.keep, technique: t }), 'chip-attack'))),
            h('td', { class: 'mono small' }, r.file),
            h('td', { class: 'num' }, n === null ? '—' : n ? h('a', { href: href('alerts', { ...ctx.keep, rule_id: r.id }) }, fmtN(n)) : '0'));
        }))));
  });
  main.append(h('h1', {}, 'Rules'), search, panel('Loaded rules', body, { wide: true }), logtest(ctx));
  await settle(body);
}

// logtest is the box that runs events through the loaded rules (admin only:
// the server refuses read tokens anyway).
function logtest(ctx) {
  const admin = ctx.me && ctx.me.role === 'admin';
  const text = h('textarea', { id: 'lt-event', rows: 6, spellcheck: 'false', disabled: !admin,
    placeholder: '{"integration":"aws","aws":{"source":"cloudtrail","eventName":"StopLogging"}}' });
  const loc = h('input', { id: 'lt-location', value: 'Wazuh-AWS', disabled: !admin });
  const btn = h('button', { id: 'lt-run', type: 'submit', disabled: !admin }, 'Run');
  const out = h('div', { id: 'lt-result' });
  const fm = h('form', { class: 'logtest', id: 'logtest' },
    h('label', {}, 'Events, one per line', text), h('label', {}, 'Location', loc), h('div', { class: 'actions' }, btn),
    admin ? null : h('p', { class: 'notice', id: 'lt-readonly' }, 'Logtest needs an admin token; this token can read only.'), out);
  fm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const events = text.value.split('\n').map((l) => l.trim()).filter(Boolean);
    if (!events.length) return;
    btn.disabled = true;
    replace(out, loading('results'));
    try {
      const r = await api('/logtest', null, { body: { events, location: loc.value.trim() || undefined } });
      replace(out, r.results.map((x, i) => {
        const o = x.output || {}, rule = o.rule;
        return h('div', { class: 'lt-one' },
          h('p', {}, h('strong', {}, `Event ${i + 1}: `), x.alert ? h('span', { class: 'pill pill-failed' }, 'alert') : h('span', { class: 'pill' }, 'no alert'),
            rule ? [' rule ', h('span', { class: 'mono' }, rule.id), ' ', levelBadge(rule.level), ' ', rule.description] : ' no rule matched'),
          h('details', {}, h('summary', {}, 'Output'), prettyJSON(o)));
      }));
    } catch (e) {
      if (e.status !== 401) replace(out, errorBox(e));
    } finally {
      btn.disabled = false;
    }
  });
  return h('section', { class: ['panel', 'wide', admin ? null : 'disabled'] }, h('h2', {}, 'Logtest'), fm);
}
