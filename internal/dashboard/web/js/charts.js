// Charts drawn as inline SVG: a histogram stacked by level band (drag or
// click to zoom), horizontal bar lists, and the colour scale of the heat-map.

import { h, s, fmtN, fmtTime, BANDS, band, empty, short } from './dom.js';

const W = 1000, H = 220, ML = 48, MR = 8, MT = 10, MB = 26;

// niceMax rounds a maximum up to 1, 2 or 5 times a power of ten.
function niceMax(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

// parseDur reads Go's duration text (1h0m0s, 5m0s, 30s, 168h0m0s) in ms.
export function parseDur(text) {
  let ms = 0;
  const re = /([\d.]+)(h|ms|m|s|us|µs|ns)/g;
  const unit = { h: 3600e3, m: 60e3, s: 1e3, ms: 1, us: 1e-3, 'µs': 1e-3, ns: 1e-6 };
  for (const [, n, u] of String(text).matchAll(re)) ms += parseFloat(n) * unit[u];
  return ms;
}

// stackedBars draws the histogram of /alerts/stats. onZoom(fromMs, toMs) is
// called when the user drags across bars or clicks one.
export function stackedBars(agg, onZoom) {
  const hist = agg.histogram || [];
  if (!hist.length || !agg.total) return empty('No alerts in this time range.');
  const step = parseDur(agg.interval) || 1;
  const sums = hist.map((b) => {
    const by = { low: 0, med: 0, high: 0, crit: 0 };
    for (const [l, n] of Object.entries(b.by_level || {})) by[band(l).key] += n;
    return by;
  });
  const max = niceMax(Math.max(...hist.map((b) => b.count)));
  const pw = W - ML - MR, ph = H - MT - MB;
  const bw = pw / hist.length;
  const y = (v) => MT + ph - (v / max) * ph;
  const svg = s('svg', { class: 'chart chart-bars', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Alerts over time by level' });
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    svg.append(s('line', { class: 'grid', x1: ML, x2: W - MR, y1: y(v), y2: y(v) }),
      s('text', { class: 'axis', x: ML - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmtN(v)));
  }
  const labelEvery = Math.max(1, Math.ceil(hist.length / 8));
  hist.forEach((b, i) => {
    const x = ML + i * bw;
    const g = s('g', { class: 'bar', 'data-i': i });
    let base = 0;
    for (const bd of BANDS) {
      const n = sums[i][bd.key];
      if (!n) continue;
      g.append(s('rect', { class: 'seg seg-' + bd.key, x: x + 0.5, width: Math.max(1, bw - 1), y: y(base + n), height: y(base) - y(base + n), 'data-count': n }));
      base += n;
    }
    const tip = [fmtTime(b.start), `${fmtN(b.count)} alerts`, ...BANDS.filter((bd) => sums[i][bd.key]).map((bd) => `${bd.label}: ${fmtN(sums[i][bd.key])}`)];
    g.append(s('rect', { class: 'hit', x, width: bw, y: MT, height: ph }), s('title', {}, tip.join('\n')));
    svg.append(g);
    if (i % labelEvery === 0 && x + bw / 2 < W - MR - 40) {
      const d = new Date(b.start);
      const short = step >= 86400e3 ? fmtTime(d).slice(5, 10) : fmtTime(d).slice(5, 16);
      svg.append(s('text', { class: 'axis', x: x + bw / 2, y: H - 8, 'text-anchor': 'middle' }, short));
    }
  });
  const sel = s('rect', { class: 'selection', y: MT, height: ph, x: 0, width: 0, visibility: 'hidden' });
  svg.append(sel);

  // Zoom: drag across bars (or click one) to narrow the time range.
  const index = (ev) => {
    const r = svg.getBoundingClientRect();
    const vx = ((ev.clientX - r.left) / r.width) * W;
    return Math.min(hist.length - 1, Math.max(0, Math.floor((vx - ML) / bw)));
  };
  let start = null;
  const show = (a, b) => {
    const lo = Math.min(a, b), hi = Math.max(a, b);
    sel.setAttribute('x', ML + lo * bw);
    sel.setAttribute('width', (hi - lo + 1) * bw);
    sel.setAttribute('visibility', 'visible');
  };
  svg.addEventListener('mousedown', (ev) => { start = index(ev); show(start, start); ev.preventDefault(); });
  svg.addEventListener('mousemove', (ev) => { if (start !== null) show(start, index(ev)); });
  const finish = (ev) => {
    if (start === null) return;
    const end = index(ev);
    const lo = Math.min(start, end), hi = Math.max(start, end);
    start = null;
    sel.setAttribute('visibility', 'hidden');
    if (onZoom) onZoom(Date.parse(hist[lo].start), Date.parse(hist[hi].start) + step);
  };
  svg.addEventListener('mouseup', finish);
  svg.addEventListener('mouseleave', () => { start = null; sel.setAttribute('visibility', 'hidden'); });

  const legend = h('div', { class: 'legend' }, BANDS.map((bd) => h('span', { class: 'key' }, h('i', { class: 'sw seg-' + bd.key }), bd.label)),
    h('span', { class: 'muted' }, `Bars of ${agg.interval.replace(/(\D)0s$/, '$1').replace(/h0m$/, 'h')}; drag or click to zoom.`));
  return h('div', { class: 'chart-wrap' }, svg, legend);
}

// barList draws a top list: label (a link when href gives one), a bar as
// long as the count, and the count.
export function barList(items, opts = {}) {
  if (!items || !items.length) return empty(opts.empty || 'No values.');
  const max = Math.max(...items.map((c) => c.count)) || 1;
  return h('ol', { class: 'barlist' }, items.map((c) => {
    const label = opts.label ? opts.label(c) : short(c.key, 34);
    const link = opts.href ? opts.href(c) : null;
    return h('li', {},
      link ? h('a', { href: link, title: c.label || c.key }, label) : h('span', { title: c.key }, label),
      s('svg', { class: 'hbar', viewBox: '0 0 100 10', preserveAspectRatio: 'none' },
        s('rect', { x: 0, y: 0, height: 10, width: Math.max(0.5, (c.count / max) * 100), class: opts.cls || 'bar-fill' })),
      h('span', { class: 'num' }, fmtN(c.count)));
  }));
}

// heat picks one of six colour steps for a count, on a square-root scale
// against the largest count: busy techniques stand out, and one with a few
// alerts is still visibly warmer than one with none.
export function heat(n, max) {
  if (!n) return 'heat-0';
  return 'heat-' + Math.min(5, 1 + Math.floor(Math.sqrt(n / Math.max(1, max)) * 4.999));
}
