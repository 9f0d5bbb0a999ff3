// Overview: alerts over time by level, counts by cloud, the top lists and the
// newest high-level alerts. Two API calls: one aggregation, whose provider
// facet gives the counts by cloud, and one search.

import { h, panel, BANDS } from '../dom.js';
import { api } from '../api.js';
import { href, go, apiTime, iso } from '../nav.js';
import { stackedBars, barList } from '../charts.js';
import { alertTable, kpi, settle } from './common.js';

export const HIGH = 12;

export async function render(main, ctx) {
  const t = apiTime(ctx.time);
  const keep = ctx.keep;
  const stats = api('/alerts/stats', { ...t, top: 10, facet: 'provider' });
  // The provider facet has at most four keys (aws, azure, gcp, and "" for
  // the rest), so top 10 never cuts a cloud off.
  const count = (st, p) => ((st.facets && st.facets.provider) || []).filter((c) => c.key === p).reduce((n, c) => n + c.count, 0);
  const clouds = stats.then((st) => [st, count(st, 'aws'), count(st, 'azure'), count(st, 'gcp')]);
  const newest = api('/alerts', { ...t, level: HIGH, limit: 10 });
  const zoom = (from, to) => go('overview', { from: iso(from), to: iso(to) });
  const link = (filters) => href('alerts', { ...keep, ...filters });

  const kpis = clouds.then(([st, aws, az, gcp]) => {
    const high = (st.levels || []).filter((l) => Number(l.key) >= HIGH).reduce((n, l) => n + l.count, 0);
    const crit = BANDS[3];
    return h('div', { class: 'kpis' },
      kpi('Alerts', st.total, link({})),
      kpi(`Level ${crit.min}+`, high, link({ level: HIGH }), high ? 'kpi-crit' : null),
      kpi('AWS', aws, href('cloud/aws', keep), 'kpi-aws'),
      kpi('Azure', az, href('cloud/azure', keep), 'kpi-azure'),
      kpi('GCP', gcp, href('cloud/gcp', keep), 'kpi-gcp'),
      kpi('Agents & other', Math.max(0, st.total - aws - az - gcp), null, 'kpi-agent'));
  });
  main.append(
    h('h1', {}, 'Overview'),
    panel('Alerts by cloud', kpis, { wide: true, class: 'kpi-panel' }),
    panel('Alerts over time', stats.then((st) => stackedBars(st, zoom)), { wide: true }),
    h('div', { class: 'cols' },
      panel('Top rules', stats.then((st) => barList(st.top_rules, { label: (c) => `${c.key} · ${c.label || ''}`, href: (c) => link({ rule_id: c.key }) }))),
      panel('Top principals', stats.then((st) => barList(st.top_principals, { href: (c) => link({ principal: c.key }) }))),
      panel('Top source IPs', stats.then((st) => barList(st.top_srcips, { href: (c) => link({ srcip: c.key }) }))),
      panel('Top accounts / subscriptions / projects', stats.then((st) => barList(st.top_accounts, { href: (c) => link({ account: c.key }) })))),
    panel(`Newest alerts of level ${HIGH} and above`, newest.then((p) => alertTable(p.alerts, { empty: `No alerts of level ${HIGH} or above in this range.` })),
      { wide: true, extra: h('a', { class: 'more', href: link({ level: HIGH }) }, 'all →') }),
  );
  await settle(stats, clouds, newest);
}
