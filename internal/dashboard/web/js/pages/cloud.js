// One cloud: its alerts over time and the views the seed product shows for
// it, as facet counts of one /alerts/stats call. Each bar opens the alert
// list filtered on that value.

import { h, panel, replace, errorBox } from '../dom.js';
import { api } from '../api.js';
import { href, go, apiTime, iso } from '../nav.js';
import { stackedBars, barList } from '../charts.js';
import { settle } from './common.js';

// Per cloud: [facet, title]; facet names are the API's (account, principal,
// srcip, region, rule are facets too).
export const CLOUDS = {
  aws: { title: 'AWS', facets: [['service', 'Services / log sources'], ['account', 'Accounts'], ['region', 'Regions'], ['action', 'Event names'], ['principal', 'Principals'], ['srcip', 'Source IPs']] },
  azure: { title: 'Azure', facets: [['action', 'Operations'], ['resource_group', 'Resource groups'], ['principal', 'Callers'], ['tag', 'Tags'], ['account', 'Subscriptions / tenants'], ['service', 'Log types']] },
  gcp: { title: 'GCP', facets: [['account', 'Projects'], ['service', 'Services'], ['action', 'Methods'], ['principal', 'Principals'], ['cluster', 'GKE clusters'], ['region', 'Locations']] },
};

// The filter parameter each facet's value goes back in as.
const PARAM = { rule: 'rule_id' };

// The top lists every /alerts/stats answer has, for a server without facets.
const BUILTIN = { account: 'top_accounts', principal: 'top_principals', srcip: 'top_srcips', rule: 'top_rules' };

export async function render(main, ctx) {
  const provider = ctx.route.args[0];
  const c = CLOUDS[provider];
  if (!c) {
    main.append(errorBox(new Error(`unknown cloud ${provider}: want aws, azure or gcp`)));
    return;
  }
  const t = apiTime(ctx.time);
  const note = h('div');
  const stats = api('/alerts/stats', { ...t, provider, top: 10, facet: c.facets.map(([f]) => f) }).catch((e) => {
    if (e.status !== 400 || !/facet/.test(e.message)) throw e;
    // A server older than facets: the built-in top lists only.
    replace(note, h('p', { class: 'notice' }, 'This server does not report facets yet: service, action, resource group, tag and cluster views are empty.'));
    return api('/alerts/stats', { ...t, provider, top: 10 });
  });
  const link = (f, key) => href('alerts', { ...ctx.keep, provider, [PARAM[f] || f]: key });
  const zoom = (from, to) => go('cloud/' + provider, { from: iso(from), to: iso(to) });
  const list = (f) => (st) => {
    const items = (st.facets && st.facets[f]) || st[BUILTIN[f]] || [];
    return barList(items, { href: (x) => link(f, x.key), empty: 'No values in this range.' });
  };
  main.append(
    h('h1', {}, c.title, h('a', { class: 'more', href: href('alerts', { ...ctx.keep, provider }) }, 'all alerts →')),
    note,
    panel(`${c.title} alerts over time`, stats.then((st) => h('div', {}, h('p', { class: 'muted total' }, `${st.total.toLocaleString('en-US')} alerts`), stackedBars(st, zoom))), { wide: true }),
    h('div', { class: 'cols' },
      c.facets.map(([f, title]) => panel(title, stats.then(list(f)), { class: 'facet-' + f })),
      panel('Top rules', stats.then((st) => barList(st.top_rules, { label: (x) => `${x.key} · ${x.label || ''}`, href: (x) => link('rule', x.key) })))),
  );
  await settle(stats);
}
