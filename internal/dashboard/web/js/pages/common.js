// Pieces several pages share.

import { h, fmtN, when, levelBadge, empty, short } from '../dom.js';
import { href } from '../nav.js';
import { summarize, CLOUD_LABEL } from '../summary.js';

// alertTable lists alerts; each row opens the alert's page.
export function alertTable(list, opts = {}) {
  if (!list.length) return empty(opts.empty || 'No alerts match.');
  const cols = opts.compact ? ['Time', 'Level', 'Rule', 'Description', 'Principal']
    : ['Time', 'Level', 'Rule', 'Description', 'Cloud', 'Account', 'Principal', 'Source IP'];
  const head = h('tr', {}, cols.map((c) => {
    const key = c.toLowerCase();
    if (!opts.onSort || !['time', 'level', 'rule'].includes(key)) return h('th', {}, c);
    const dir = opts.sort === key ? ' ▲' : opts.sort === '-' + key ? ' ▼' : '';
    return h('th', { class: 'sortable', 'data-sort': key, onclick: () => opts.onSort(key) }, c + dir);
  }));
  const rows = list.map((a) => {
    const sm = summarize(a);
    const open = href('alert/' + encodeURIComponent(a.id));
    const cells = [
      h('td', {}, when(a.timestamp)),
      h('td', {}, levelBadge(a.rule?.level)),
      h('td', { class: 'mono' }, a.rule?.id || ''),
      h('td', { class: 'desc' }, h('a', { href: open }, a.rule?.description || '(no description)')),
    ];
    // Agent alerts have no cloud account: the agent stands in for it, and
    // the decoded srcip for the source address.
    const agent = !sm.provider && a.agent && a.agent.id !== '000' ? `agent ${a.agent.id} ${a.agent.name || ''}` : '';
    if (!opts.compact) cells.push(h('td', {}, CLOUD_LABEL[sm.provider]), h('td', { class: 'mono trunc', title: sm.account || agent }, sm.account || agent));
    cells.push(h('td', { class: 'trunc', title: sm.principal }, short(sm.principal, 40)));
    if (!opts.compact) cells.push(h('td', { class: 'mono' }, sm.srcip || (typeof a.data?.srcip === 'string' ? a.data.srcip : '')));
    const tr = h('tr', { class: 'alert-row', 'data-id': a.id }, cells);
    tr.addEventListener('click', (ev) => { if (!ev.target.closest('a')) location.hash = open; });
    return tr;
  });
  return h('table', { class: 'grid alerts' }, h('thead', {}, head), h('tbody', {}, rows));
}

// kpi is one big number with a label, optionally a link.
export function kpi(label, value, link, cls) {
  const body = [h('div', { class: 'kpi-value' }, fmtN(value)), h('div', { class: 'kpi-label' }, label)];
  return link ? h('a', { class: ['kpi', cls], href: link }, body) : h('div', { class: ['kpi', cls] }, body);
}

// settle waits for every promise, so a page is "ready" only when all its
// panels are filled (or failed).
export const settle = (...ps) => Promise.allSettled(ps);
