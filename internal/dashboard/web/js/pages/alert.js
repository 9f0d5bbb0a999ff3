// One alert: its rule, ATT&CK and compliance tags, the event as pretty JSON,
// and related alerts — the same principal, source IP or resource within an
// hour either side (one search each, ten alerts).

import { h, panel, chip, when, levelBadge, prettyJSON, fmtN, empty } from '../dom.js';
import { api } from '../api.js';
import { href, iso } from '../nav.js';
import { summarize, CLOUD_LABEL } from '../summary.js';
import { alertTable, settle } from './common.js';

const COMPLIANCE = [['pci_dss', 'PCI DSS'], ['gdpr', 'GDPR'], ['hipaa', 'HIPAA'], ['nist_800_53', 'NIST 800-53'], ['tsc', 'TSC'], ['gpg13', 'GPG13'], ['cis', 'CIS']];

const dl = (pairs) => h('dl', { class: 'kv' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && !v.length))
  .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));

export async function render(main, ctx) {
  const id = ctx.route.args[0] || '';
  const a = await api('/alerts/' + encodeURIComponent(id));
  if (!ctx.alive()) return;
  const r = a.rule || {};
  const sm = summarize(a);
  const filt = (k, v) => href('alerts', { ...ctx.keep, [k]: v });
  const m = r.mitre || {};
  main.append(
    h('p', { class: 'crumbs' }, h('a', { href: href('alerts', ctx.keep) }, '← Alerts')),
    h('h1', { class: 'alert-title' }, levelBadge(r.level), ' ', r.description || '(no description)'),
    h('p', { class: 'muted' }, when(a.timestamp), ' · id ', h('span', { class: 'mono', id: 'alert-id' }, a.id)),
    h('div', { class: 'cols' },
      h('section', { class: 'panel' }, h('h2', {}, 'Rule'), dl([
        ['Rule', h('a', { href: href('rules', { q: r.id }) }, r.id)],
        ['Level', levelBadge(r.level)],
        ['Groups', (r.groups || []).map((g) => chip(g, filt('group', g)))],
        ['Fired', r.firedtimes !== undefined ? fmtN(r.firedtimes) + ' times' : ''],
        ['Decoder', a.decoder?.name], ['Location', a.location],
        ['Agent', a.agent ? `${a.agent.id || ''} ${a.agent.name || ''}` : ''],
        ['All alerts of this rule', h('a', { href: filt('rule_id', r.id) }, 'open →')],
      ])),
      h('section', { class: 'panel' }, h('h2', {}, 'Who, where'), dl([
        ['Cloud', CLOUD_LABEL[sm.provider]],
        ['Account', sm.account && h('a', { href: filt('account', sm.account) }, sm.account)],
        ['Region', sm.region && h('a', { href: filt('region', sm.region) }, sm.region)],
        ['Principal', sm.principal && h('a', { href: filt('principal', sm.principal) }, sm.principal)],
        ['Source IP', sm.srcip && h('a', { href: filt('srcip', sm.srcip) }, sm.srcip)],
        ['Service', sm.service], ['Action', sm.action], ['Resource', sm.resource],
      ])),
      h('section', { class: 'panel', id: 'tags' }, h('h2', {}, 'ATT&CK and compliance'), dl([
        ['Techniques', (m.id || []).map((t, i) => chip(`${t} ${(m.technique || [])[i] || ''}`, filt('technique', t), 'chip-attack'))],
        ['Tactics', (m.tactic || []).map((t) => chip(t, null, 'chip-attack'))],
        ...COMPLIANCE.map(([k, label]) => [label, (r[k] || []).map((v) => chip(v, null, 'chip-comp'))]),
      ]), (m.id || []).length || COMPLIANCE.some(([k]) => (r[k] || []).length) ? null : empty('No ATT&CK or compliance tags.'))),
    h('section', { class: 'panel wide' }, h('h2', {}, 'Event'), h('div', { id: 'event-json' }, prettyJSON(a.data ?? {})),
      a.full_log ? h('details', {}, h('summary', {}, 'Full log'), h('pre', { class: 'json' }, a.full_log)) : null,
      a.previous_output ? h('details', {}, h('summary', {}, 'Previous output (correlation)'), h('pre', { class: 'json' }, a.previous_output)) : null,
      h('details', {}, h('summary', {}, 'The whole alert'), prettyJSON(a))),
  );
  const t0 = Date.parse(a.timestamp);
  const around = isNaN(t0) ? {} : { from: iso(t0 - 3600e3), to: iso(t0 + 3600e3) };
  const related = (label, k, v) => {
    if (!v) return null;
    const p = api('/alerts', { ...around, [k]: v, limit: 11 }).then((pg) => {
      const list = pg.alerts.filter((x) => x.id !== a.id).slice(0, 10);
      return h('div', {}, h('p', { class: 'muted' }, `${fmtN(Math.max(0, pg.total - 1))} other alerts within an hour · `,
        h('a', { href: href('alerts', { ...around, [k]: v }) }, 'open as a search →')),
      alertTable(list, { compact: true, empty: 'None.' }));
    });
    return { p, box: panel(`${label}: ${v}`, p, { wide: true, class: 'related' }) };
  };
  const rel = [related('Same principal', 'principal', sm.principal), related('Same source IP', 'srcip', sm.srcip),
    related('Same resource', 'resource', sm.resource)].filter(Boolean);
  main.append(h('h2', { class: 'section' }, 'Related alerts (± 1 hour)'),
    ...(rel.length ? rel.map((x) => x.box) : [empty('This alert names no principal, source IP or resource.')]));
  await settle(...rel.map((x) => x.p));
}
