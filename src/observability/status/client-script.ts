// The status page's browser script (plain ES2017, no build step): draws the uPlot charts
// from the embedded document, then polls /status.json and updates cells and charts.
// Formats repeat format.ts. window.tracklaneStatus exposes the charts for tests.

export const CLIENT_SCRIPT = String.raw`
(function () {
  'use strict';
  var PALETTE = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2', '#65a30d', '#dc2626'];
  // Burn-rate windows, shortest to longest: light to dark, so one SLO's lines read as a family.
  var RAMP = ['#93c5fd', '#60a5fa', '#3b82f6', '#2563eb', '#1d4ed8', '#1e40af', '#1e3a8a', '#172554'];
  var DASH = '\u2014';
  var STATE_LABEL = { page: 'Paging', ticket: 'Ticket open', ok: 'Healthy', nodata: 'No data' };
  var status = { charts: {}, updates: 0, errors: 0, doc: null };
  window.tracklaneStatus = status;

  function isNum(n) { return typeof n === 'number' && isFinite(n); }
  function fmtCount(n) { return isNum(n) ? Math.round(n).toLocaleString('en-US') : DASH; }
  function fmtRate(n) { return isNum(n) ? (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1)) + '/s' : DASH; }
  function fmtRatio(r) { return isNum(r) ? (r * 100).toFixed(3) + '%' : DASH; }
  function fmtBudget(b) { return isNum(b) ? (b * 100).toFixed(1).replace('-', '\u2212') + '%' : DASH; }
  function fmtBurn(b) { return isNum(b) ? (b >= 100 ? String(Math.round(b)) : b.toFixed(2)) + '\u00d7' : DASH; }
  function budgetClass(b) { return !isNum(b) ? 'muted' : b <= 0 ? 'bad' : b < 0.25 ? 'warn' : 'good'; }

  function sloState(slo, r) {
    if (!r) return 'nodata';
    var sev = {};
    slo.tiers.forEach(function (t) { sev[t.name] = t.severity; });
    var page = false, any = false;
    Object.keys(r.firing).forEach(function (tier) {
      if (r.firing[tier] !== 1) return;
      any = true;
      if (sev[tier] === 'page') page = true;
    });
    if (page) return 'page';
    if (any) return 'ticket';
    return r.sliRatio === null && r.budgetRemaining === null ? 'nodata' : 'ok';
  }

  function sloByName(doc, name) {
    for (var i = 0; i < doc.slos.length; i++) if (doc.slos[i].name === name) return doc.slos[i];
    return null;
  }

  function updateCells(doc) {
    var latest = doc.latest;
    var cells = document.querySelectorAll('[data-field]');
    for (var i = 0; i < cells.length; i++) {
      var el = cells[i], d = el.dataset, r = latest && d.slo ? latest.slos[d.slo] : null;
      switch (d.field) {
        case 'count': el.textContent = fmtCount(latest ? latest.pipeline[d.key] : null); break;
        case 'rate': el.textContent = fmtRate(doc.rates[d.key]); break;
        case 'updated':
          el.textContent = latest ? 'sampled ' + new Date(latest.at).toISOString().slice(11, 19) + ' UTC' : 'no sample yet';
          break;
        case 'ratio': {
          var slo = sloByName(doc, d.slo);
          el.textContent = fmtRatio(r && r.sliRatio);
          el.className = r && isNum(r.sliRatio) && slo && r.sliRatio < slo.objective ? 'bad' : '';
          break;
        }
        case 'budget':
          el.textContent = fmtBudget(r && r.budgetRemaining);
          el.className = 'num big ' + budgetClass(r && r.budgetRemaining);
          break;
        case 'budget-bar': {
          var b = r && r.budgetRemaining;
          el.style.width = (isNum(b) ? Math.max(0, Math.min(1, b)) * 100 : 0).toFixed(1) + '%';
          el.className = 'bar-fill ' + budgetClass(b);
          break;
        }
        case 'burn': el.textContent = fmtBurn(r && r.burnRates[d.window]); break;
        case 'firing': {
          var f = r ? r.firing[d.tier] : undefined;
          el.textContent = f === undefined ? DASH : f ? 'firing' : 'ok';
          el.className = f === undefined ? 'pill pill-none' : f ? 'pill pill-' + d.severity : 'pill pill-ok';
          break;
        }
        case 'state': {
          var st = sloState(sloByName(doc, d.slo), r);
          el.textContent = STATE_LABEL[st];
          el.className = 'state state-' + st;
          break;
        }
        case 'nodata':
          el.className = 'pill pill-ticket' + (r && r.firing['no-data'] === 1 ? '' : ' hidden');
          break;
      }
    }
  }

  function axisValues(fmt) {
    return function (u, splits) { return splits.map(function (v) { return v === null ? '' : fmt(v); }); };
  }
  function pct(digits) { return function (v) { return (v * 100).toFixed(digits) + '%'; }; }

  // A ratio (an SLI, the budget left) never passes 100%: the axis runs from the lowest value
  // shown, with a little room under it, to exactly 100%, not to uPlot's padded 200%.
  function ratioRange(u, min) {
    if (!isNum(min)) return [0, 1];
    if (min >= 1) return [0.99, 1];
    return [min - (1 - min) * 0.05, 1];
  }

  // One chart = a title-less uPlot with x = sample time (s) and one line per column.
  function chartSpecs(doc) {
    var s = doc.series, specs = [];
    if (doc.slos.length) {
      specs.push({
        id: 'chart-sli-ratio', fmt: pct(2), legendFmt: fmtRatio, range: ratioRange,
        lines: doc.slos.map(function (slo, i) { return { label: slo.name, color: PALETTE[i % PALETTE.length], data: s.sliRatio[slo.name] }; }),
      });
      specs.push({
        id: 'chart-budget', fmt: pct(0), legendFmt: fmtBudget, range: ratioRange,
        lines: doc.slos.map(function (slo, i) { return { label: slo.name, color: PALETTE[i % PALETTE.length], data: s.budgetRemaining[slo.name] }; }),
      });
      doc.slos.forEach(function (slo) {
        if (!slo.windows.length) return;
        var step = slo.windows.length > 1 ? (RAMP.length - 1) / (slo.windows.length - 1) : 0;
        specs.push({
          id: 'chart-burn-' + slo.name, fmt: function (v) { return v.toFixed(v >= 10 ? 0 : 1) + '\u00d7'; }, legendFmt: fmtBurn,
          lines: slo.windows.map(function (w, i) { return { label: w, color: RAMP[Math.round(i * step)], data: s.burnRate[slo.name][w] }; }),
          guides: thresholdGuides(slo),
        });
      });
    }
    specs.push({
      id: 'chart-throughput', fmt: function (v) { return v >= 1000 ? (v / 1000).toFixed(1) + 'k' : String(Math.round(v)); }, legendFmt: fmtRate,
      lines: [
        { label: 'consumed', color: '#2563eb', data: s.throughput.consumed },
        { label: 'enriched', color: '#059669', data: s.throughput.enriched },
        { label: 'dead-lettered', color: '#dc2626', data: s.throughput.deadLettered },
      ],
    });
    return specs;
  }

  // Each tier's burn-rate threshold as a dashed line; tiers sharing a threshold share a line.
  function thresholdGuides(slo) {
    var byValue = {};
    slo.tiers.forEach(function (t) {
      var g = byValue[t.threshold] || (byValue[t.threshold] = { value: t.threshold, names: [], page: false });
      g.names.push(t.name);
      if (t.severity === 'page') g.page = true;
    });
    return Object.keys(byValue).map(function (k) {
      var g = byValue[k];
      return { value: g.value, color: g.page ? '#dc2626' : '#d97706', label: g.names.join(', ') + ' \u2265 ' + Number(g.value.toFixed(2)) + '\u00d7' };
    });
  }

  function drawGuides(guides) {
    return function (u) {
      var ctx = u.ctx, b = u.bbox, px = window.devicePixelRatio || 1;
      guides.forEach(function (g) {
        var y = Math.round(u.valToPos(g.value, 'y', true));
        if (!isFinite(y) || y < b.top || y > b.top + b.height) return;
        ctx.save();
        ctx.strokeStyle = g.color;
        ctx.globalAlpha = 0.7;
        ctx.lineWidth = px;
        ctx.setLineDash([5 * px, 4 * px]);
        ctx.beginPath(); ctx.moveTo(b.left, y); ctx.lineTo(b.left + b.width, y); ctx.stroke();
        ctx.setLineDash([]);
        ctx.globalAlpha = 1;
        ctx.fillStyle = g.color;
        ctx.font = (11 * px) + 'px system-ui, sans-serif';
        ctx.textAlign = 'left';
        ctx.textBaseline = 'bottom';
        ctx.fillText(g.label, b.left + 6 * px, y - 2 * px);
        ctx.restore();
      });
    };
  }

  function chartWidth(el) { return Math.max(280, el.clientWidth); }

  function drawCharts(doc) {
    if (typeof uPlot === 'undefined') return;
    chartSpecs(doc).forEach(function (spec) {
      var el = document.getElementById(spec.id);
      if (!el) return;
      var data = [doc.series.at].concat(spec.lines.map(function (l) { return l.data; }));
      var u = status.charts[spec.id];
      if (u) { u.setData(data); return; }
      var opts = {
        width: chartWidth(el), height: 220,
        cursor: { drag: { x: false, y: false } },
        // Labels only: the table above has the current values.
        legend: { live: false },
        scales: spec.range ? { x: { time: true }, y: { range: spec.range } } : { x: { time: true } },
        hooks: spec.guides ? { draw: [drawGuides(spec.guides)] } : {},
        axes: [
          { stroke: '#6b7280', grid: { stroke: '#eef0f3', width: 1 }, ticks: { stroke: '#e3e6eb', width: 1 } },
          { stroke: '#6b7280', size: 76, grid: { stroke: '#eef0f3', width: 1 }, ticks: { stroke: '#e3e6eb', width: 1 }, values: axisValues(spec.fmt) },
        ],
        series: [{ value: function (u, v) { return v === null ? DASH : new Date(v * 1000).toISOString().slice(11, 19); } }].concat(spec.lines.map(function (l) {
          return { label: l.label, stroke: l.color, width: 2, spanGaps: false, value: function (u, v) { return spec.legendFmt(v); } };
        })),
      };
      status.charts[spec.id] = new uPlot(opts, data, el);
    });
  }

  function update(doc) {
    status.doc = doc;
    updateCells(doc);
    drawCharts(doc);
    status.updates++;
  }

  function poll() {
    fetch('/status.json', { cache: 'no-store' })
      .then(function (res) { if (!res.ok) throw new Error('HTTP ' + res.status); return res.json(); })
      .then(update)
      .catch(function () { status.errors++; })
      .then(function () { setTimeout(poll, status.doc ? status.doc.sampleIntervalMs : 5000); });
  }

  window.addEventListener('resize', function () {
    Object.keys(status.charts).forEach(function (id) {
      var el = document.getElementById(id);
      if (el) status.charts[id].setSize({ width: chartWidth(el), height: 220 });
    });
  });

  var embedded = document.getElementById('status-data');
  update(JSON.parse(embedded.textContent));
  setTimeout(poll, status.doc.sampleIntervalMs);
})();
`;
