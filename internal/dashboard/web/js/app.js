// The dashboard's entry point: the header, the router and the session.

import { h, replace, errorBox } from './dom.js';
import { token, whoami } from './api.js';
import { current, href, go, RANGES, timeOf, timeParams } from './nav.js';
import * as login from './pages/login.js';
import * as overview from './pages/overview.js';
import * as cloud from './pages/cloud.js';
import * as attack from './pages/attack.js';
import * as alerts from './pages/alerts.js';
import * as alert from './pages/alert.js';
import * as sources from './pages/sources.js';
import * as rules from './pages/rules.js';

const pages = { login, overview, cloud, attack, alerts, alert, sources, rules };

const NAV = [
  ['Overview', 'overview'], ['AWS', 'cloud/aws'], ['Azure', 'cloud/azure'], ['GCP', 'cloud/gcp'],
  ['ATT&CK', 'attack'], ['Alerts', 'alerts'], ['Sources', 'sources'], ['Rules', 'rules'],
];

// Pages whose data depend on the time range show the range picker.
const TIMED = new Set(['overview', 'cloud', 'attack', 'alerts', 'rules']);

let generation = 0;

function header(route, me) {
  const here = [route.page, ...route.args].join('/');
  const keep = timeParams(route.q);
  const nav = h('nav', { class: 'nav' }, NAV.map(([label, path]) =>
    h('a', { href: href(path, keep), class: (here === path || (path === route.page && !route.args.length)) ? 'active' : null }, label)));
  const right = h('div', { class: 'session' });
  if (TIMED.has(route.page)) {
    const t = timeOf(route.q);
    const sel = h('select', { id: 'range', 'aria-label': 'Time range' },
      Object.keys(RANGES).map((r) => h('option', { value: r, selected: t.range === r }, r === 'all' ? 'All time' : 'Last ' + r)),
      t.range ? null : h('option', { value: '', selected: true }, 'Zoomed range'));
    sel.addEventListener('change', () => {
      if (!sel.value) return;
      const q = new URLSearchParams(route.q);
      q.delete('from'); q.delete('to'); q.delete('cursor');
      q.set('range', sel.value);
      go([route.page, ...route.args].join('/'), Object.fromEntries(q));
    });
    right.append(sel);
  }
  if (me) {
    right.append(h('span', { class: ['who', 'role-' + me.role], id: 'whoami' }, (me.name ? me.name + ' · ' : '') + me.role),
      h('button', { id: 'logout', type: 'button', onclick: () => { token.clear(); go('login', { msg: 'Logged out.' }); } }, 'Log out'));
  }
  return h('header', { class: 'top' }, h('a', { class: 'brand', href: href('overview', keep) }, 'skywatch'), nav, right);
}

async function render() {
  const gen = ++generation;
  const route = current();
  const root = document.getElementById('app');
  let page = pages[route.page];
  if (!page) {
    go('overview');
    return;
  }
  if (route.page !== 'login' && !token.get()) {
    go('login', { next: location.hash.slice(1) });
    return;
  }
  const main = h('main', { id: 'main', 'data-page': route.page });
  let me = null;
  if (route.page !== 'login') {
    try {
      me = await whoami();
    } catch (e) {
      if (gen !== generation) return;
      if (e.status === 401) return; // api() has sent us to the login page
      replace(root, header(route, null), h('main', { id: 'main' }, errorBox(e)));
      return;
    }
    if (gen !== generation) return;
  }
  replace(root, route.page === 'login' ? null : header(route, me), main);
  const ctx = { route, me, alive: () => gen === generation, time: timeOf(route.q), keep: timeParams(route.q) };
  document.title = 'skywatch · ' + (route.page === 'cloud' ? (route.args[0] || '').toUpperCase() : route.page);
  try {
    await page.render(main, ctx);
  } catch (e) {
    if (e.status !== 401 && ctx.alive()) main.append(errorBox(e));
  }
  if (ctx.alive()) main.setAttribute('data-ready', '1');
}

window.addEventListener('hashchange', render);
render();

