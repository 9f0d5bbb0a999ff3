// Sources: each source's health, refreshed every 10 seconds while shown.

import { h, fmtN, fmtDur, when, replace, errorBox, empty } from '../dom.js';
import { api } from '../api.js';

function state(s) {
  const start = s.last_run_start ? Date.parse(s.last_run_start) : 0;
  const end = s.last_run_end ? Date.parse(s.last_run_end) : 0;
  if (!start) return ['waiting', 'not run yet'];
  if (start > end) return ['running', 'running'];
  if (s.last_error) return ['failed', 'last run failed'];
  return ['ok', 'ok'];
}

// progress shows a backfill's progress when the server reports one: a share
// (0..1), or {done, total} with optional eta_seconds.
function progress(p) {
  if (p === undefined || p === null) return h('span', { class: 'muted' }, '—');
  let share = null, text = '';
  if (typeof p === 'number') share = p;
  else if (typeof p === 'object') {
    if (typeof p.share === 'number') share = p.share;
    else if (p.total) share = (p.done || 0) / p.total;
    text = p.total ? `${fmtN(p.done || 0)} / ${fmtN(p.total)} ${p.unit || ''}` : '';
    if (p.eta_seconds) text += ` · ${fmtDur(p.eta_seconds)} left`;
  }
  if (share === null) return h('span', {}, JSON.stringify(p));
  const pct = Math.max(0, Math.min(100, share * 100));
  return h('div', { class: 'progress' }, h('progress', { max: 100, value: pct.toFixed(1) }), h('small', {}, `${pct.toFixed(0)}% ${text}`));
}

function table(list) {
  if (!list.length) return empty('No sources are configured.');
  return h('table', { class: 'grid sources' },
    h('thead', {}, h('tr', {}, ['Source', 'Type', 'State', 'Last run started', 'Last run ended', 'Lag', 'Objects', 'Events', 'Errors', 'Backfill', 'Last error'].map((c) => h('th', {}, c)))),
    h('tbody', {}, list.map((s) => {
      const [cls, label] = state(s);
      return h('tr', { class: 'source-row state-' + cls },
        h('td', { class: 'strong' }, s.name), h('td', { class: 'mono' }, s.type),
        h('td', {}, h('span', { class: 'pill pill-' + cls }, label)),
        h('td', {}, when(s.last_run_start)), h('td', {}, when(s.last_run_end)),
        h('td', { class: s.lag_seconds > 3600 ? 'warn' : '' }, s.lag_seconds ? fmtDur(s.lag_seconds) : '—'),
        h('td', { class: 'num' }, fmtN(s.objects)), h('td', { class: 'num' }, fmtN(s.events)),
        h('td', { class: ['num', s.errors ? 'bad' : ''] }, fmtN(s.errors)),
        h('td', {}, progress(s.progress)),
        h('td', { class: 'errtext' }, s.last_error || ''));
    })));
}

export async function render(main, ctx) {
  const body = h('div', { class: 'panel-body' });
  const stamp = h('small', { class: 'muted' });
  main.append(h('h1', {}, 'Sources ', stamp), h('section', { class: 'panel wide' }, body));
  const load = async () => {
    try {
      const r = await api('/sources');
      if (!ctx.alive()) return;
      replace(body, table(r.sources || []));
      stamp.textContent = 'updated ' + new Date().toISOString().slice(11, 19) + ' UTC';
    } catch (e) {
      if (ctx.alive() && e.status !== 401) replace(body, errorBox(e));
    }
  };
  await load();
  const timer = setInterval(() => (ctx.alive() ? load() : clearInterval(timer)), 10000);
}
