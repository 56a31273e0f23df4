/**
 * The browser side of report.html, as plain JavaScript (it runs in the page, not in Node). It
 * reads the embedded report JSON and draws the charts with Chart.js and its annotation plugin,
 * both inlined in the page. Steps are shaded bands on every time chart, so a dip lines up with
 * the step that caused it. Chart instances are kept on `window.__charts` for tests and for
 * poking at in the console. Animation is off: the page is a record, and it should be complete
 * the moment it loads (for screenshots and headless checks too).
 */
export const REPORT_SCRIPT = String.raw`
(function () {
  'use strict';
  var report = JSON.parse(document.getElementById('report-data').textContent);
  var plugin = window['chartjs-plugin-annotation'];
  if (plugin) Chart.register(plugin);
  Chart.defaults.animation = false;
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", sans-serif';
  Chart.defaults.maintainAspectRatio = false;
  window.__charts = [];
  var palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d'];
  var samples = report.samples;
  var hostNames = Object.keys(report.hosts);

  function stepBands() {
    var out = {};
    report.steps.forEach(function (s, i) {
      out['step' + s.index] = {
        type: 'box', xMin: s.startedAt, xMax: Math.max(s.endedAt, s.startedAt + 0.05),
        backgroundColor: i % 2 ? 'rgba(148,163,184,0.16)' : 'rgba(251,191,36,0.16)', borderWidth: 0,
        label: { display: true, content: 's' + s.index, position: { x: 'start', y: 'start' }, font: { size: 10 }, color: '#475569' }
      };
    });
    return out;
  }

  function timeChart(id, datasets, yOpts) {
    var el = document.getElementById(id);
    if (!el) return;
    var chart = new Chart(el, {
      type: 'line',
      data: { datasets: datasets },
      options: {
        parsing: false, normalized: true, spanGaps: false,
        elements: { point: { radius: 0 }, line: { borderWidth: 1.6 } },
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: { x: { type: 'linear', title: { display: true, text: 'seconds since start' } }, y: yOpts },
        plugins: {
          annotation: { annotations: stepBands() },
          tooltip: { callbacks: { title: function (items) { return items.length ? items[0].parsed.x.toFixed(1) + ' s' : ''; } } }
        }
      }
    });
    window.__charts.push(chart);
  }

  function series(label, pick, color, extra) {
    var data = samples.map(function (s) { var v = pick(s); return { x: s.t, y: v === null || v === undefined ? null : v }; });
    return Object.assign({ label: label, data: data, borderColor: color, backgroundColor: color }, extra || {});
  }

  // Zoomed to the data: a two-point dip is the story, and on a 0–100% axis it would be invisible.
  var lowest = Math.min.apply(null, samples.map(function (s) { return s.hitRatio === null ? 1 : s.hitRatio; }).concat([1]));
  var pctAxis = { min: Math.max(0, Math.floor((lowest - 0.05) * 20) / 20), max: 1, ticks: { callback: function (v) { return Math.round(v * 100) + '%'; } }, title: { display: true, text: 'hit ratio' } };
  var hit = [series('node hit ratio', function (s) { return s.hitRatio; }, palette[0])];
  if (report.l1.available) hit.push(series('L1 hit ratio', function (s) { return s.l1HitRatio; }, palette[2]));
  timeChart('chart-hit', hit, pctAxis);
  timeChart('chart-throughput', [
    series('ops/s', function (s) { return s.opsPerSec; }, palette[0]),
    series('origin loads/s', function (s, i) { return s.originLoads / (report.scenario.sampleMs / 1000); }, palette[4], { borderDash: [4, 3] })
  ], { beginAtZero: true, title: { display: true, text: 'per second' } });
  timeChart('chart-latency', [
    series('p99', function (s) { return s.p99; }, palette[1]),
    series('p50', function (s) { return s.p50; }, palette[0]),
    series('max', function (s) { return s.max; }, palette[8], { borderDash: [2, 3], borderWidth: 1 })
  ], { type: 'logarithmic', title: { display: true, text: 'ms (log scale)' } });
  var errCodes = {};
  samples.forEach(function (s) { Object.keys(s.errors).forEach(function (c) { errCodes[c] = true; }); });
  var errSets = Object.keys(errCodes).map(function (c, i) { return series(c, function (s) { return s.errors[c] || 0; }, palette[(i + 1) % palette.length], { stepped: true }); });
  errSets.push(series('acknowledged keys missed', function (s) { return s.missedAcked; }, palette[3], { stepped: true }));
  errSets.push(series('stale reads', function (s) { return s.staleReads; }, palette[6], { stepped: true }));
  timeChart('chart-errors', errSets, { beginAtZero: true, title: { display: true, text: 'per window' } });
  timeChart('chart-keys', hostNames.map(function (h, i) {
    return series(h, function (s) { var n = s.nodes[h]; return n && n.keys !== undefined ? n.keys : null; }, palette[i % palette.length], { stepped: true });
  }), { beginAtZero: true, title: { display: true, text: 'keys held' } });
  timeChart('chart-members', hostNames.map(function (h, i) {
    return series(h, function (s) { var n = s.nodes[h]; return n && n.live !== undefined ? n.live : null; }, palette[i % palette.length], { stepped: true });
  }), { beginAtZero: true, ticks: { stepSize: 1 }, title: { display: true, text: 'live members in its view' } });

  function total(s, field) {
    return Object.keys(s.nodes).reduce(function (n, h) { var v = s.nodes[h]; return n + (v && v[field] !== undefined ? v[field] : 0); }, 0);
  }
  timeChart('chart-handoff', [
    series('keys still to send', function (s) { return total(s, 'handoffLeft'); }, palette[0], { stepped: true }),
    series('arcs still expected', function (s) { return total(s, 'pendingArcs'); }, palette[4], { stepped: true })
  ], { beginAtZero: true, title: { display: true, text: 'summed over the nodes that answer' } });

  report.steps.forEach(function (s) {
    var el = document.getElementById('chart-step-keys-' + s.index);
    if (!el) return;
    var names = hostNames.filter(function (h) { return s.keysBefore[h] !== undefined || s.keysAfter[h] !== undefined; });
    window.__charts.push(new Chart(el, {
      type: 'bar',
      data: {
        labels: names,
        datasets: [
          { label: 'before', data: names.map(function (h) { return s.keysBefore[h] || 0; }), backgroundColor: '#94a3b8' },
          { label: 'after', data: names.map(function (h) { return s.keysAfter[h] || 0; }), backgroundColor: palette[0] }
        ]
      },
      options: { plugins: { legend: { position: 'bottom' }, title: { display: true, text: 's' + s.index + ': ' + s.label } }, scales: { y: { beginAtZero: true } } }
    }));
  });

  var moved = report.steps.filter(function (s) { return s.moved; });
  var movedEl = document.getElementById('chart-moved');
  if (movedEl && moved.length) {
    window.__charts.push(new Chart(movedEl, {
      type: 'bar',
      data: {
        labels: moved.map(function (s) { return 's' + s.index + ' ' + s.label; }),
        datasets: [
          { label: 'moved', data: moved.map(function (s) { return s.moved.actual; }), backgroundColor: palette[0] },
          { label: 'ideal for this ring', data: moved.map(function (s) { return s.moved.ringIdeal; }), backgroundColor: palette[2] },
          { label: 'balanced ring', data: moved.map(function (s) { return s.moved.balanced; }), backgroundColor: '#94a3b8' }
        ]
      },
      options: { plugins: { legend: { position: 'bottom' } }, scales: { y: { beginAtZero: true, title: { display: true, text: 'keys' } } } }
    }));
  }
  document.documentElement.setAttribute('data-charts', String(window.__charts.length));
})();
`;
