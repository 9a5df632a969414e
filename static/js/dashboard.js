// The dashboard page: draws each panel of the open tab from the dashboard API (uPlot for charts),
// appends points pushed over the live websocket, refreshes on a timer, and edits the dashboard
// document (tabs, panels) through the same API that "dashboard as code" uses.
"use strict";

(() => {
  const config = JSON.parse(document.getElementById("dashboard-config")?.textContent || "null");
  if (!config) return;
  let spec = JSON.parse(document.getElementById("dashboard-spec").textContent);
  const panelsById = new Map();
  for (const tab of spec.tabs) for (const panel of tab.panels) panelsById.set(panel.id, panel);
  const charts = new Map(); // panel id -> {plot, data, snapshots, seriesIds}
  // Firing alert rules on a metric field (from the alerts app's banner): their panels are marked
  // and their thresholds drawn in red.
  // Kept apart from the panels: the dashboard document saved by the editor must not carry them.
  const firing = JSON.parse(document.getElementById("firing-alerts")?.textContent || "[]");
  const alertLines = new Map(); // panel id -> threshold lines of its firing rules
  for (const panel of panelsById.values()) {
    const hits = firing.filter((a) => a.metric && (panel.series || []).some((s) => s.metric === a.metric && s.field === a.field));
    if (!hits.length) continue;
    alertLines.set(panel.id, hits.filter((a) => typeof a.threshold === "number").map((a) => ({ value: a.threshold, label: `alert: ${a.rule}`, color: "#dc2626" })));
    const node = document.querySelector(`[data-panel-id="${CSS.escape(panel.id)}"]`);
    node?.classList.add("alerting");
    node?.querySelector(".panel-head h3")?.after(...hits.map((a) => {
      const link = document.createElement("a");
      link.className = `alert-badge severity-${a.severity}`;
      link.href = a.url;
      link.textContent = `firing: ${a.rule}`;
      link.dataset.testid = "alert-badge";
      return link;
    }));
  }
  const STATUS_COLORS = {
    SUCCESS: "#16a34a", WARNING: "#d97706", FAIL: "#dc2626", ERROR: "#7c3aed", SKIPPED: "#9ca3af",
  };
  const PALETTE = ["#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d"];

  // ---- formatting ---------------------------------------------------------------------------
  const trim = (text) => text.replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
  function format(value, panel) {
    if (value === null || value === undefined || Number.isNaN(value)) return "—";
    if (value === 0) value = 0; // -0 reads as 0
    const kind = panel?.format || "number";
    const unit = panel?.unit ? ` ${panel.unit}` : "";
    if (kind === "percent") return `${trim((value * 100).toFixed(Math.abs(value) < 0.1 ? 2 : 1))}%${unit}`;
    if (kind === "integer") return `${(Math.round(value) || 0).toLocaleString("en")}${unit}`;
    const abs = Math.abs(value);
    if (abs >= 1000) return `${value.toLocaleString("en", { maximumFractionDigits: 1 })}${unit}`;
    if (abs >= 1 || abs === 0) return `${trim(value.toFixed(3))}${unit}`;
    return `${Number(value.toPrecision(3))}${unit}`;
  }
  const when = (seconds) => new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ");
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  };
  const snapshotUrl = (id) => config.snapshotUrl.replace("SNAPSHOT", id);

  // ---- data ---------------------------------------------------------------------------------
  function windowQuery(extra = {}) {
    const params = new URLSearchParams(window.location.search);
    params.delete("tab");
    for (const [key, value] of Object.entries(extra)) params.set(key, value);
    return params;
  }

  async function api(path, options = {}) {
    const headers = { Accept: "application/json", ...(options.headers || {}) };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["X-CSRFToken"] = (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";
    }
    const response = await fetch(config.api + path, {
      credentials: "same-origin",
      ...options,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const body = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const error = new Error(body?.detail || `The server answered ${response.status}.`);
      error.status = response.status;
      error.body = body;
      throw error;
    }
    return body;
  }

  let loading = null;
  let dataWindow = config.window; // the range of the latest data read (relative ranges move on)
  async function load(panelIds = null) {
    if (!config.tab) return;
    const query = windowQuery(panelIds ? {} : { tab: config.tab });
    for (const id of panelIds || []) query.append("panel", id);
    try {
      const body = await api(`/data?${query}`);
      if (body.window) dataWindow = body.window;
      for (const [id, data] of Object.entries(body.panels)) draw(id, data);
      document.body.dataset.loaded = String(Date.now());
    } catch (error) {
      for (const node of document.querySelectorAll(".panel .loading")) {
        node.textContent = `Could not load the data: ${error.message} Reload the page to try again.`;
      }
    }
  }
  function reload() {
    if (!loading) loading = load().finally(() => { loading = null; });
    return loading;
  }

  // ---- drawing ------------------------------------------------------------------------------
  function body(panelId) {
    return document.querySelector(`[data-panel-id="${CSS.escape(panelId)}"] .panel-body`);
  }

  function empty(target, message = "No data in this range.") {
    target.replaceChildren(
      el("div", { class: "no-data", "data-testid": "no-data" },
        el("strong", { text: message }),
        el("span", { class: "muted small", text: "Widen the time range, clear the filters, or push a snapshot with this metric." })),
    );
  }

  function draw(panelId, data) {
    const panel = panelsById.get(panelId);
    const target = body(panelId);
    if (!panel || !target) return;
    charts.get(panelId)?.plot?.destroy();
    charts.delete(panelId);
    if (panel.type === "text") return;
    if (data.empty) {
      empty(target, data.missing || data.series?.every((s) => s.missing)
        ? "No data: this metric has not been received yet." : undefined);
      target.closest(".panel").dataset.state = "empty";
      return;
    }
    target.closest(".panel").dataset.state = "drawn";
    if (panel.type === "counter") drawCounter(panel, data, target);
    else if (panel.type === "test_counts") drawTestCounts(panel, data, target);
    else if (panel.type === "test_status") drawTestStatus(panel, data, target);
    else if (panel.type === "distribution") drawDistribution(panel, data, target);
    else drawSeries(panel, data, target);
  }

  function drawCounter(panel, data, target) {
    const value = data.value;
    const line = data.series[0];
    const spark = el("div", { class: "sparkline" });
    target.replaceChildren(
      el("div", { class: "counter", "data-testid": "counter-value", text: format(value, panel) }),
      el("div", { class: "muted small", text: `${panel.aggregate} of ${line.total} value${line.total === 1 ? "" : "s"} · ${line.label}` }),
      spark,
    );
    if (line.t.length > 1) {
      const plot = chart(panel, spark, [line.t, line.v], [{ stroke: "#2563eb", fill: "rgba(37,99,235,.08)", width: 1.5 }], {
        height: 48, axes: false, legend: false, cursor: false,
      });
      charts.set(panel.id, { plot, lines: [line] });
    }
  }

  // One x array for every line: the union of their times, gaps as nulls.
  function align(lines) {
    const times = [...new Set(lines.flatMap((s) => s.t))].sort((a, b) => a - b);
    const index = new Map(times.map((t, i) => [t, i]));
    const columns = lines.map((s) => {
      const values = new Array(times.length).fill(null);
      const snaps = new Array(times.length).fill(null);
      s.t.forEach((t, i) => { values[index.get(t)] = s.v[i]; snaps[index.get(t)] = s.snapshot[i]; });
      return { values, snaps };
    });
    return { times, columns };
  }

  function drawSeries(panel, data, target) {
    const lines = data.series.filter((s) => !s.missing);
    const { times, columns } = align(lines);
    const kind = panel.type;
    const series = lines.map((s, i) => {
      const color = panel.series.find((p) => p.metric === s.metric && p.field === s.field)?.color || PALETTE[i % PALETTE.length];
      const entry = { label: s.label, stroke: color, width: 2, spanGaps: true, value: (u, v) => format(v, panel) };
      if (kind === "scatter") Object.assign(entry, { paths: () => null, points: { show: true, size: 7, fill: color } });
      if (kind === "bar") Object.assign(entry, { paths: () => null, points: { show: false }, fill: color });
      if (kind === "line") entry.points = { show: times.length < 60 };
      return entry;
    });
    const notes = lines.filter((s) => s.downsampled).length
      ? el("p", { class: "muted small", text: "Long series are drawn from each time bucket's lowest and highest point." }) : null;
    const holder = el("div", { class: "chart" });
    // A ranked panel (its columns chosen by relevance) says which columns it shows, and why.
    const caption = data.caption ? el("p", { class: "panel-caption small", "data-testid": "panel-caption", text: data.caption }) : null;
    target.replaceChildren(...(caption ? [caption] : []), holder, ...(notes ? [notes] : []));
    const plot = chart(panel, holder, [times, ...columns.map((c) => c.values)], series, {
      bars: kind === "bar" ? { stacked: !!panel.stacked } : null,
      thresholds: data.thresholds,
    });
    charts.set(panel.id, { plot, lines, columns, times });
    holder.addEventListener("click", () => {
      const idx = plot.cursor.idx;
      if (idx === null || idx === undefined) return;
      const column = columns.find((c) => c.snaps[idx]);
      if (column) window.location.href = snapshotUrl(column.snaps[idx]);
    });
  }

  // The x range a chart draws: the selected time range (as Grafana and Evidently do), or for
  // "all time" the data's own span; never shorter than an hour, so that one snapshot, or two a
  // few milliseconds apart, sit in a readable day-and-hour axis rather than on a millisecond one.
  const MIN_SPAN = 3600;
  function xBounds(times) {
    const w = dataWindow || {};
    const now = Date.now() / 1000;
    const first = times.length ? times[0] : now;
    const last = times.length ? times[times.length - 1] : now;
    let from = w.since ? Date.parse(w.since) / 1000 : first;
    let to = w.until ? Date.parse(w.until) / 1000 : (w.since ? Math.max(now, last) : last);
    if (to - from < MIN_SPAN) {
      const middle = w.since && !w.until ? to - MIN_SPAN / 2 : (from + to) / 2;
      from = Math.min(from, middle - MIN_SPAN / 2);
      to = Math.max(to, middle + MIN_SPAN / 2);
    }
    return [from, to];
  }
  // Whole-number steps for series whose values are all whole numbers (counts, flags).
  const WHOLE_STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1e3, 2e3, 2500, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12];
  const integral = (data, panel) => panel.format === "integer"
    || (panel.format !== "percent" && data.slice(1).every((col) => col.every((v) => v === null || v === undefined || Number.isInteger(v))));

  // A uPlot chart sized to its container, with threshold lines, bands and (optionally) bars
  // drawn in a hook, so that grouped and stacked bars share the legend and cursor of uPlot.
  function chart(panel, holder, data, series, options = {}) {
    const width = Math.max(200, holder.clientWidth || holder.parentElement.clientWidth || 400);
    const height = options.height || (panel.size === "full" ? 280 : 240);
    const bars = options.bars;
    const lines = thresholdLines([...(panel.thresholds || []), ...(options.thresholds || []), ...(alertLines.get(panel.id) || [])], panel);
    // uPlot turns a series' fill into a function: keep the plain colours for the bars.
    const colors = series.map((s) => s.fill || s.stroke);
    const whole = integral(data, panel);
    const [fromX, toX] = xBounds(data[0]);
    const padX = (toX - fromX) * 0.03; // room for the first and last point or bar
    holder.dataset.rangeFrom = String(fromX);
    holder.dataset.rangeTo = String(toX);
    const yRange = (u, min, max) => {
      let low = min, high = max;
      if (bars) {
        low = Math.min(0, low ?? 0);
        if (bars.stacked) {
          const totals = u.data[0].map((_, i) => u.data.slice(1).reduce((sum, col) => sum + (col[i] || 0), 0));
          high = Math.max(0, ...totals);
        }
      }
      for (const t of lines) { low = Math.min(low ?? t.value, t.value); high = Math.max(high ?? t.value, t.value); }
      if (low === null || high === null) return [0, 1];
      const floor = low >= 0 ? 0 : -Infinity; // values that are never negative get no negative axis
      if (low === high) { const pad = Math.abs(low) * 0.1 || 1; return [Math.max(floor, low - pad), high + pad]; }
      const pad = (high - low) * 0.08;
      return [bars && low === 0 ? 0 : Math.max(floor, low - pad), high + pad];
    };
    const yTicks = (u, splits, axis, space, step) => splits.map((v) => {
      const value = Math.abs(v) < (step || 1) * 1e-9 ? 0 : v; // no -0 or 1e-17 from float steps
      return options.yLabels ? options.yLabels[Math.floor(value)] ?? "" : format(value, { ...panel, format: whole ? "integer" : panel.format, unit: "" });
    });
    const opts = {
      width,
      height,
      series: [{ value: (u, v) => (v === null ? "—" : when(v)) }, ...series],
      // A sparkline (no axes) follows its data; a chart the selected range.
      scales: { x: { time: true, ...(options.axes === false ? {} : { range: () => [fromX - padX, toX + padX] }) }, y: { range: yRange } },
      axes: options.axes === false ? [{ show: false }, { show: false }] : [
        { stroke: "#616e7c", grid: { stroke: "#eef0f3" } },
        {
          stroke: "#616e7c", grid: { stroke: "#eef0f3" },
          ...(whole && !options.yLabels ? { incrs: WHOLE_STEPS } : {}),
          size: (u, values) => Math.max(40, 14 + 7 * Math.max(0, ...(values || []).map((v) => String(v).length))),
          values: yTicks,
        },
      ],
      legend: { show: options.legend !== false },
      cursor: options.cursor === false ? { show: false } : { points: { size: 8 } },
      hooks: {
        drawAxes: [(u) => drawBands(u, panel)],
        draw: [(u) => {
          if (bars) holder.dataset.bars = JSON.stringify(drawBars(u, bars.stacked, colors));
          if (options.paint) options.paint(u);
          holder.dataset.thresholdLabels = JSON.stringify(drawThresholds(u, panel, lines));
          const ratio = devicePixelRatio;
          holder.dataset.plot = JSON.stringify([u.bbox.left / ratio, (u.bbox.left + u.bbox.width) / ratio]);
          holder.dataset.xScale = JSON.stringify([u.scales.x.min, u.scales.x.max]);
          holder.dataset.yTicks = JSON.stringify(u.axes[1]?._values || []);
        }],
      },
    };
    const plot = new uPlot(opts, data, holder);
    new ResizeObserver(() => {
      const next = Math.max(200, holder.clientWidth);
      if (Math.abs(next - plot.width) > 2) plot.setSize({ width: next, height });
    }).observe(holder);
    return plot;
  }

  // Threshold lines once each: a label that already shows the value ("5%") is not repeated.
  function thresholdLines(list, panel) {
    const seen = new Set();
    return list.filter((t) => {
      const key = `${t.value}|${t.label || ""}`;
      if (typeof t.value !== "number" || seen.has(key)) return false;
      seen.add(key);
      return true;
    }).map((t) => {
      const value = format(t.value, { ...panel, unit: "" });
      const label = t.label || "threshold";
      return { ...t, text: label.includes(value) ? label : `${label} ${value}` };
    });
  }

  function drawBands(u, panel) {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    for (const band of panel.bands || []) {
      const y1 = band.to === null ? top : u.valToPos(band.to, "y", true);
      const y2 = band.from === null ? top + height : u.valToPos(band.from, "y", true);
      ctx.save();
      ctx.fillStyle = `${band.color || "#059669"}1f`;
      ctx.fillRect(left, Math.max(top, Math.min(y1, y2)), width, Math.min(height, Math.abs(y2 - y1)));
      ctx.restore();
    }
  }

  // Each line dashed across the plot, its label on a light box at whichever end (above or below
  // the line) covers the fewest data points, so that labels do not hide the data they judge.
  // Returns the label boxes (CSS pixels) for the page's tests.
  function drawThresholds(u, panel, lines) {
    const ctx = u.ctx;
    const ratio = devicePixelRatio;
    const { left, top, width, height } = u.bbox;
    const points = [];
    u.series.forEach((s, i) => {
      if (i === 0 || !s.show) return;
      u.data[i].forEach((v, k) => {
        if (v !== null && v !== undefined) points.push([u.valToPos(u.data[0][k], "x", true), u.valToPos(v, "y", true)]);
      });
    });
    const boxes = [];
    for (const t of lines) {
      const y = Math.round(u.valToPos(t.value, "y", true));
      ctx.save();
      ctx.strokeStyle = t.color || "#dc2626";
      ctx.setLineDash([6 * ratio, 4 * ratio]);
      ctx.lineWidth = 1.5 * ratio;
      ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + width, y); ctx.stroke();
      ctx.setLineDash([]);
      ctx.font = `${11 * ratio}px sans-serif`;
      const w = ctx.measureText(t.text).width + 8 * ratio, h = 15 * ratio;
      const candidates = [
        [left + width - w - 2 * ratio, y - h - 2 * ratio], [left + 2 * ratio, y - h - 2 * ratio],
        [left + width - w - 2 * ratio, y + 2 * ratio], [left + 2 * ratio, y + 2 * ratio],
      ].filter(([, by]) => by >= top && by + h <= top + height);
      const covered = ([bx, by]) => points.filter(([px, py]) => px >= bx - 3 * ratio && px <= bx + w + 3 * ratio && py >= by - 3 * ratio && py <= by + h + 3 * ratio).length
        + boxes.filter((b) => b[0] * ratio < bx + w && bx < b[2] * ratio && b[1] * ratio < by + h && by < b[3] * ratio).length * 100;
      const [bx, by] = (candidates.length ? candidates : [[left + width - w - 2 * ratio, Math.max(top, y - h - 2 * ratio)]])
        .reduce((best, c) => (covered(c) < covered(best) ? c : best));
      ctx.fillStyle = "rgba(255,255,255,0.85)";
      ctx.fillRect(bx, by, w, h);
      ctx.fillStyle = t.color || "#dc2626";
      ctx.textAlign = "left";
      ctx.textBaseline = "middle";
      ctx.fillText(t.text, bx + 4 * ratio, by + h / 2);
      ctx.restore();
      boxes.push([bx / ratio, by / ratio, (bx + w) / ratio, (by + h) / ratio, covered([bx, by]) % 100]);
    }
    return boxes.map(([x0, y0, x1, y1, over], i) => ({ text: lines[i].text, box: [x0, y0, x1, y1], covers: over }));
  }

  // Bars centred on their times, never wider than the room to their neighbours or to the plot's
  // edges (so none is cut). Returns each bar's extent [left, right] in CSS pixels.
  function drawBars(u, stacked, colors) {
    const ctx = u.ctx;
    const xs = u.data[0];
    const shown = u.series.slice(1).map((s, i) => ({ s, values: u.data[i + 1], color: colors[i] })).filter(({ s }) => s.show);
    const extents = [];
    if (!xs.length || !shown.length) return extents;
    const { left, width } = u.bbox;
    const pixels = xs.map((x) => u.valToPos(x, "x", true));
    let gap = width / Math.max(1, xs.length);
    for (let i = 1; i < pixels.length; i++) gap = Math.min(gap, pixels[i] - pixels[i - 1]);
    const full = Math.max(2 * devicePixelRatio, Math.min(gap * 0.8, 60 * devicePixelRatio));
    const zero = u.valToPos(0, "y", true);
    xs.forEach((_, i) => {
      if (pixels[i] < left || pixels[i] > left + width) return; // outside the range drawn
      const group = Math.max(devicePixelRatio, Math.min(full, 2 * (pixels[i] - left), 2 * (left + width - pixels[i])));
      const start = pixels[i] - group / 2;
      let base = 0, drawn = false;
      shown.forEach(({ values, color }, k) => {
        const value = values[i];
        if (value === null || value === undefined) return;
        drawn = true;
        ctx.fillStyle = color;
        if (stacked) {
          const y0 = u.valToPos(base, "y", true), y1 = u.valToPos(base + value, "y", true);
          ctx.fillRect(start, Math.min(y0, y1), group, Math.abs(y0 - y1));
          base += value;
        } else {
          const w = group / shown.length;
          const y = u.valToPos(value, "y", true);
          ctx.fillRect(start + k * w, Math.min(y, zero), Math.max(1, w - devicePixelRatio), Math.abs(zero - y));
        }
      });
      if (drawn) extents.push([start / devicePixelRatio, (start + group) / devicePixelRatio]);
    });
    return extents;
  }

  function drawTestStatus(panel, data, target) {
    const statuses = Object.keys(STATUS_COLORS).filter((s) => data[s].some((n) => n > 0));
    const holder = el("div", { class: "chart" });
    target.replaceChildren(holder, el("p", { class: "muted small", text: `Tests per ${data.period}; click a bar for its snapshots.` }));
    const series = statuses.map((s) => ({
      label: s.toLowerCase(), stroke: STATUS_COLORS[s], fill: STATUS_COLORS[s], paths: () => null, points: { show: false },
      value: (u, v) => (v === null ? "—" : String(v)),
    }));
    const plot = chart({ ...panel, format: "integer" }, holder, [data.t, ...statuses.map((s) => data[s])], series, { bars: { stacked: true } });
    charts.set(panel.id, { plot });
    const spans = { hour: 3600, day: 86400, week: 7 * 86400, month: 31 * 86400 };
    holder.addEventListener("click", () => {
      const idx = plot.cursor.idx;
      if (idx === null || idx === undefined) return;
      const start = new Date(data.t[idx] * 1000);
      const end = new Date((data.t[idx] + spans[data.period]) * 1000);
      const day = (d) => d.toISOString().slice(0, 10);
      window.location.href = `${config.snapshotsUrl}?since=${day(start)}&until=${day(end)}`;
    });
  }

  function drawTestCounts(panel, data, target) {
    const totals = el("div", { class: "status-counts" });
    for (const status of Object.keys(STATUS_COLORS)) {
      if (!data.totals[status] && status !== "SUCCESS" && status !== "FAIL") continue;
      totals.append(el("div", { class: `status-count status-${status.toLowerCase()}` },
        el("strong", { text: data.totals[status].toLocaleString("en") }), el("span", { text: status.toLowerCase() })));
    }
    const parts = [totals, el("p", { class: "muted small", text: `${data.snapshots} snapshot${data.snapshots === 1 ? "" : "s"} in the range.` })];
    if (data.latest) {
      const link = el("a", { href: snapshotUrl(data.latest.snapshot), text: `Latest snapshot, ${when(data.latest.t)}` });
      parts.push(el("p", { class: "small" }, link));
      if (data.latest.problems.length) {
        const list = el("ul", { class: "problems" });
        for (const p of data.latest.problems) {
          list.append(el("li", {}, el("span", { class: `status status-${p.status.toLowerCase()}`, text: p.status.toLowerCase() }), " ", el("span", { text: p.description || p.name })));
        }
        parts.push(list);
      } else {
        parts.push(el("p", { class: "ok small", text: "Every test of the latest snapshot passed." }));
      }
    }
    target.replaceChildren(...parts);
  }

  // A heatmap: one column per sampled snapshot, one cell per bin, shaded by the bin's share.
  function drawDistribution(panel, data, target) {
    const columns = data.columns;
    const categorical = columns[0].kind === "categories";
    const labels = categorical ? [...new Set(columns.flatMap((c) => c.labels || []))] : null;
    const lows = categorical ? [0] : columns.map((c) => c.edges[0]);
    const highs = categorical ? [labels.length] : columns.map((c) => c.edges[c.edges.length - 1]);
    const low = Math.min(...lows), high = Math.max(...highs);
    const times = columns.map((c) => c.t);
    const holder = el("div", { class: "chart heatmap" });
    const readout = el("p", { class: "muted small readout", text: `${columns.length} snapshot${columns.length === 1 ? "" : "s"}; darker cells hold more of the rows. Click a column to open its snapshot.` });
    target.replaceChildren(holder, readout);
    const cells = (column) => {
      const total = column.counts.reduce((a, b) => a + b, 0) || 1;
      if (categorical) {
        return column.labels.map((label, i) => {
          const at = labels.indexOf(label);
          return { from: at, to: at + 1, share: column.counts[i] / total, name: label };
        });
      }
      return column.counts.map((n, i) => ({ from: column.edges[i], to: column.edges[i + 1], share: n / total, name: `${format(column.edges[i])} – ${format(column.edges[i + 1])}` }));
    };
    const prepared = columns.map(cells);
    const maxShare = Math.max(...prepared.flat().map((c) => c.share), 1e-9);
    const paint = (u) => {
      const ctx = u.ctx;
      const xs = times.map((t) => u.valToPos(t, "x", true));
      const step = xs.length > 1 ? Math.min(...xs.slice(1).map((x, i) => x - xs[i])) : u.bbox.width / 4;
      const { left, width } = u.bbox;
      prepared.forEach((list, i) => {
        // Never wider than the room to the plot's edges: the first and last columns are not cut.
        const w = Math.max(2, Math.min(step * 0.9, 60 * devicePixelRatio, 2 * (xs[i] - left), 2 * (left + width - xs[i])));
        for (const cell of list) {
          const y1 = u.valToPos(cell.to, "y", true), y0 = u.valToPos(cell.from, "y", true);
          ctx.fillStyle = `rgba(37, 99, 235, ${(0.06 + 0.94 * cell.share / maxShare).toFixed(3)})`;
          ctx.fillRect(xs[i] - w / 2, Math.min(y0, y1), w, Math.max(1, Math.abs(y0 - y1)));
        }
      });
    };
    const plot = chart({ ...panel, thresholds: [], bands: [] }, holder, [times, times.map(() => low), times.map(() => high)], [
      { label: "low", stroke: "transparent", paths: () => null, points: { show: false } },
      { label: "high", stroke: "transparent", paths: () => null, points: { show: false } },
    ], { legend: false, paint, yLabels: categorical ? labels : null });
    holder.addEventListener("mousemove", () => {
      const idx = plot.cursor.idx;
      const top = plot.cursor.top;
      if (idx === null || idx === undefined || top === null) return;
      const value = plot.posToVal(top, "y");
      const cell = prepared[idx].find((c) => value >= c.from && value < c.to);
      readout.textContent = `${when(times[idx])}: ${cell ? `${cell.name} holds ${format(cell.share, { format: "percent" })} of the rows` : "no rows here"}`;
    });
    holder.addEventListener("click", () => {
      const idx = plot.cursor.idx;
      if (idx !== null && idx !== undefined) window.location.href = snapshotUrl(columns[idx].snapshot);
    });
    charts.set(panel.id, { plot });
  }

  // ---- live updates -------------------------------------------------------------------------
  const status = document.getElementById("live-status");
  function setLive(state, text) {
    if (!status) return;
    status.dataset.state = state;
    status.querySelector("span").textContent = text;
  }

  function inWindow(seconds) {
    const w = config.window;
    if (w.tags.length || Object.keys(w.metadata).length) return false; // filters: re-fetch instead
    const since = w.since ? Date.parse(w.since) / 1000 : -Infinity;
    const until = w.until ? Date.parse(w.until) / 1000 : Infinity;
    return seconds >= since && seconds < until;
  }

  let refreshSoon = null;
  const appendedPanels = new Set(); // since the last refresh
  function refreshRest() {
    // The panels the points were appended to are up to date; the others (counters, tests,
    // distributions, charts of other series) are fetched again.
    const rest = [...panelsById.values()]
      .filter((p) => p.type !== "text" && !appendedPanels.has(p.id) && body(p.id))
      .map((p) => p.id);
    const whole = appendedPanels.size === 0;
    appendedPanels.clear();
    if (whole) reload();
    else if (rest.length) load(rest);
  }
  function onSnapshot(message) {
    const snapshot = message.snapshot;
    let appended = false;
    if (message.points && inWindow(snapshot.timestamp)) {
      for (const [panelId, entry] of charts) {
        const panel = panelsById.get(panelId);
        if (!entry.columns || !["line", "bar", "scatter"].includes(panel.type)) continue;
        const values = entry.lines.map((line) => message.points[String(line.series_id)]);
        if (values.every((v) => v === undefined)) continue;
        entry.times.push(snapshot.timestamp);
        entry.columns.forEach((column, i) => {
          column.values.push(values[i] === undefined ? null : values[i]);
          column.snaps.push(values[i] === undefined ? null : snapshot.id);
        });
        entry.plot.setData([entry.times, ...entry.columns.map((c) => c.values)]);
        const node = document.querySelector(`[data-panel-id="${CSS.escape(panelId)}"]`);
        node.dataset.lastSnapshot = snapshot.id;
        appendedPanels.add(panelId);
        appended = true;
      }
    }
    if (appended) document.body.dataset.lastLiveSnapshot = snapshot.id;
    // Counters, test panels and distributions aggregate: fetch them again, once for a burst.
    clearTimeout(refreshSoon);
    refreshSoon = setTimeout(refreshRest, appended ? 1500 : 300);
  }

  function connect(attempt = 0) {
    if (!("WebSocket" in window)) return;
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}${config.live}`);
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      setLive("open", "live");
      // The socket is a hint: what it may have missed (before it opened, while it was down)
      // comes over HTTP once it is open.
      clearTimeout(firstLoad);
      reload();
    });
    socket.addEventListener("message", (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      if (message.type === "snapshot") onSnapshot(message);
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4403) {
        setLive("closed", "access ended: reload the page");
        return; // the server ended this member's access: no point in retrying
      }
      setLive("closed", "reconnecting");
      const delay = Math.min(30000, 1000 * 2 ** Math.min(attempt, 5)) * (0.75 + Math.random() / 2);
      setTimeout(() => connect(opened ? 1 : attempt + 1), delay);
    });
  }

  // ---- auto-refresh and the range picker ----------------------------------------------------
  const refresh = document.getElementById("auto-refresh");
  let timer = null;
  if (refresh) {
    const saved = localStorage.getItem("dashboard-refresh");
    if (saved) refresh.value = saved;
    const apply = () => {
      clearInterval(timer);
      localStorage.setItem("dashboard-refresh", refresh.value);
      const seconds = Number(refresh.value);
      if (seconds > 0) timer = setInterval(reload, seconds * 1000);
    };
    refresh.addEventListener("change", apply);
    apply();
  }
  const rangeSelect = document.querySelector("#window-form [name=range]");
  rangeSelect?.addEventListener("change", (event) => {
    // "Custom" first shows the dates; the other ranges apply at once (data-autosubmit).
    if (rangeSelect.value === "custom") {
      event.stopImmediatePropagation();
      document.querySelector(".custom-range").hidden = false;
    }
  }, true);

  // ---- editing ------------------------------------------------------------------------------
  const editToggle = document.getElementById("edit-toggle");
  const editing = () => document.body.classList.contains("editing");
  function setEditing(on) {
    document.body.classList.toggle("editing", on);
    editToggle?.setAttribute("aria-pressed", String(on));
    if (editToggle) editToggle.textContent = on ? "Done" : "Edit";
    sessionStorage.setItem(`editing-${config.project}`, on ? "1" : "");
  }
  editToggle?.addEventListener("click", () => setEditing(!editing()));
  if (config.canEdit && sessionStorage.getItem(`editing-${config.project}`)) setEditing(true);

  async function save(next, goToTab = config.tab) {
    try {
      const saved = await api("", { method: "PUT", body: { ...next, version: config.version } });
      config.version = saved.version;
      const params = windowQuery();
      if (goToTab && saved.tabs.some((t) => t.id === goToTab)) params.set("tab", goToTab);
      window.location.search = params.toString();
      return saved;
    } catch (error) {
      if (error.status === 409) {
        alert("Someone changed this dashboard meanwhile. The page will reload with their version; make your change again.");
        window.location.reload();
      }
      throw error;
    }
  }
  const copy = () => JSON.parse(JSON.stringify({ tabs: spec.tabs }));
  const move = (list, index, by) => {
    const to = index + by;
    if (to < 0 || to >= list.length) return false;
    [list[index], list[to]] = [list[to], list[index]];
    return true;
  };

  document.addEventListener("click", async (event) => {
    const tabButton = event.target.closest("[data-tab-action]");
    if (tabButton) {
      const next = copy();
      const id = tabButton.closest("[data-tab-id]").dataset.tabId;
      const index = next.tabs.findIndex((t) => t.id === id);
      const action = tabButton.dataset.tabAction;
      if (action === "left" || action === "right") {
        if (move(next.tabs, index, action === "left" ? -1 : 1)) await save(next, id);
      } else if (action === "rename") {
        const title = prompt("Tab title", next.tabs[index].title);
        if (title && title.trim()) { next.tabs[index].title = title.trim().slice(0, 60); await save(next, id); }
      } else if (action === "delete" && confirm(`Delete the tab "${next.tabs[index].title}" and its panels?`)) {
        next.tabs.splice(index, 1);
        await save(next, next.tabs[0]?.id);
      }
      return;
    }
    const panelButton = event.target.closest("[data-panel-action]");
    if (panelButton) {
      const id = panelButton.closest("[data-panel-id]").dataset.panelId;
      const next = copy();
      const tab = next.tabs.find((t) => t.id === config.tab);
      const index = tab.panels.findIndex((p) => p.id === id);
      const action = panelButton.dataset.panelAction;
      if (action === "up" || action === "down") {
        if (move(tab.panels, index, action === "up" ? -1 : 1)) await save(next);
      } else if (action === "edit") {
        openEditor(tab.panels[index]);
      } else if (action === "delete" && confirm(`Delete the panel "${tab.panels[index].title}"?`)) {
        tab.panels.splice(index, 1);
        await save(next);
      }
      return;
    }
    if (event.target.closest("#add-panel")) openEditor(null);
    if (event.target.closest("#add-tab")) {
      const title = prompt("New tab title", "New tab");
      if (!title || !title.trim()) return;
      const next = copy();
      const id = `t-${Math.random().toString(16).slice(2, 10)}`;
      next.tabs.push({ id, title: title.trim().slice(0, 60), panels: [] });
      await save(next, id);
    }
    if (event.target.closest("#add-presets")) openPresets();
    const offer = event.target.closest("[data-add-preset]");
    if (offer) {
      offer.disabled = true;
      try {
        const saved = await api("/presets", { method: "POST", body: { presets: [offer.dataset.addPreset] } });
        const params = windowQuery();
        params.set("tab", saved.added[0]);
        window.location.search = params.toString();
      } catch (failure) {
        offer.disabled = false;
        alert([].concat(failure.body?.fields?.presets || failure.message).join(" "));
      }
    }
    if (event.target.closest("[data-close]")) event.target.closest("dialog").close();
  });

  let choices = null;
  async function loadChoices() {
    if (!choices) choices = await api("/choices");
    return choices;
  }

  const TYPE_LABELS = {
    counter: "Counter", line: "Line", bar: "Bar (grouped or stacked)", scatter: "Scatter",
    distribution: "Distribution over time", test_status: "Test results over time",
    test_counts: "Test counts by status", text: "Text",
  };
  const SERIES_TYPES = ["counter", "line", "bar", "scatter"];

  function describeParams(params) {
    const text = Object.entries(params).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`).join(", ");
    return text || "no parameters";
  }

  function field(label, control, hint) {
    return el("label", { class: "field" }, el("span", { text: label }), control, hint ? el("small", { class: "muted", text: hint }) : null);
  }
  function select(name, options, value) {
    const node = el("select", { name });
    for (const [key, label] of options) node.append(el("option", { value: key, text: label, selected: key === value ? "selected" : null }));
    return node;
  }

  // One row of the series list: the metric picker (one select grouped by metric, the useful
  // fields first, with a search box: static/js/picker.js), then a legend label.
  function seriesRow(entry, metrics) {
    const seriesSelect = el("select", { name: "series", "aria-label": "Metric — field", "data-testid": "series-select" });
    const pairs = [];
    metrics.forEach((m) => {
      const group = el("optgroup", { label: m.label || `${m.type} · ${describeParams(m.params)}` });
      for (const f of m.fields) {
        const chosen = entry && m.metric === entry.metric && f === entry.field;
        group.append(el("option", { value: String(pairs.length), text: f, "data-type": m.type, selected: chosen ? "selected" : null }));
        pairs.push({ metric: m.metric, field: f });
      }
      seriesSelect.append(group);
    });
    if (entry && !pairs.some((p) => p.metric === entry.metric && p.field === entry.field)) {
      // A series the project no longer has (or not yet): kept as chosen, said so.
      seriesSelect.prepend(el("option", { value: String(pairs.length), text: `${entry.field} (no data yet)`, selected: "selected" }));
      pairs.push({ metric: entry.metric, field: entry.field });
    }
    const label = el("input", { name: "label", type: "text", maxlength: "100", placeholder: "Legend label", value: entry?.label || "" });
    const remove = el("button", { type: "button", class: "icon danger", title: "Remove", text: "✕" });
    const row = el("div", { class: "series-row", "data-testid": "series-row" }, seriesSelect, label, remove);
    window.MetricPicker?.enhance(seriesSelect);
    row.read = () => {
      const value = { ...pairs[Number(seriesSelect.value)] };
      if (label.value.trim()) value.label = label.value.trim();
      const color = entry?.metric === value.metric && entry?.field === value.field ? entry.color : null;
      if (color) value.color = color;
      return value;
    };
    remove.addEventListener("click", () => row.remove());
    return row;
  }

  function numberRows(name, list, keys) {
    const box = el("div", { class: "number-rows", "data-rows": name });
    const add = (item = {}) => {
      const inputs = keys.map((key) => el("input", { type: key === "label" ? "text" : "number", step: "any", placeholder: key, "data-key": key, value: item[key] ?? "" }));
      const remove = el("button", { type: "button", class: "icon danger", text: "✕", title: "Remove" });
      const row = el("div", { class: "number-row" }, ...inputs, remove);
      remove.addEventListener("click", () => row.remove());
      box.insertBefore(row, box.lastChild);
    };
    box.append(el("button", { type: "button", class: "link", text: `+ ${name === "thresholds" ? "threshold line" : "band"}` }));
    box.lastChild.addEventListener("click", () => add());
    for (const item of list || []) add(item);
    box.read = () => [...box.querySelectorAll(".number-row")].map((row) => {
      const out = {};
      for (const input of row.querySelectorAll("input")) {
        const key = input.dataset.key;
        if (key === "label") { if (input.value.trim()) out.label = input.value.trim(); }
        else out[key] = input.value === "" ? null : Number(input.value);
      }
      return out;
    }).filter((row) => Object.values(row).some((v) => v !== null));
    return box;
  }

  const dialog = document.getElementById("panel-editor");
  async function openEditor(panel) {
    const { metrics, distributions, tests } = await loadChoices();
    const form = document.getElementById("panel-form");
    const bodyNode = form.querySelector(".editor-body");
    const error = form.querySelector(".form-error");
    error.hidden = true;
    document.getElementById("panel-editor-title").textContent = panel ? "Edit panel" : "Add a panel";
    const typeSelect = select("type", Object.entries(TYPE_LABELS), panel?.type || "line");
    const title = el("input", { name: "title", type: "text", maxlength: "200", required: "required", value: panel?.title || "" });
    const description = el("input", { name: "description", type: "text", maxlength: "1000", value: panel?.description || "" });
    const size = select("size", [["half", "Half width"], ["full", "Full width"], ["third", "A third"]], panel?.size || "half");
    const seriesBox = el("div", { class: "series-list" });
    // A pre-built panel whose columns are chosen by relevance keeps its rule unless unticked.
    const ranked = el("input", { type: "checkbox", name: "ranked", checked: panel?.columns ? "checked" : null, "data-testid": "ranked" });
    const rankedBox = el("label", { class: "check" }, ranked,
      ` Show the most ${panel?.columns?.rank === "missing" ? "missing" : "drifted"} columns (chosen when drawn) instead of the series below`);
    rankedBox.hidden = !panel?.columns;
    const addSeries = el("button", { type: "button", class: "link", text: "+ Series", "data-testid": "add-series" });
    addSeries.addEventListener("click", () => seriesBox.append(seriesRow(null, metrics)));
    for (const entry of panel?.series || []) seriesBox.append(seriesRow(entry, metrics));
    if (!seriesBox.children.length && metrics.length) seriesBox.append(seriesRow(null, metrics));
    const fmt = select("format", [["number", "Number"], ["integer", "Whole number"], ["percent", "Percent (0–1 shown as %)"]], panel?.format || "number");
    const unit = el("input", { name: "unit", type: "text", maxlength: "20", value: panel?.unit || "" });
    const thresholds = numberRows("thresholds", panel?.thresholds, ["value", "label"]);
    const bands = numberRows("bands", panel?.bands, ["from", "to", "label"]);
    const aggregate = select("aggregate", [["last", "Last value"], ["avg", "Average"], ["sum", "Sum"], ["min", "Minimum"], ["max", "Maximum"]], panel?.aggregate || "last");
    const stacked = el("input", { type: "checkbox", name: "stacked", checked: panel?.stacked ? "checked" : null });
    const distribution = select("metric", distributions.map((m) => [m, m]), panel?.metric);
    const side = select("side", [["current", "Current data"], ["reference", "Reference data"]], panel?.side || "current");
    const period = select("period", [["auto", "Automatic"], ["hour", "Hour"], ["day", "Day"], ["week", "Week"], ["month", "Month"]], panel?.period || "auto");
    const testList = el("div", { class: "test-list" }, ...tests.map((t) => el("label", { class: "check" },
      el("input", { type: "checkbox", value: t.id, checked: (panel?.tests || []).includes(t.id) ? "checked" : null }), ` ${t.name}`)));
    const text = el("textarea", { name: "text", rows: "5", maxlength: "5000" });
    text.value = panel?.text || "";
    const groups = {
      series: el("fieldset", {}, el("legend", { text: "Series" }), rankedBox, seriesBox, addSeries, field("Format", fmt), field("Unit", unit, "Shown after values, e.g. ms"), el("p", { class: "muted small", text: "Threshold lines" }), thresholds, el("p", { class: "muted small", text: "Bands" }), bands),
      counter: field("Show", aggregate, "Over the dashboard's time range"),
      bar: el("label", { class: "check" }, stacked, " Stack the bars"),
      distribution: el("fieldset", {}, field("Distribution", distribution, distributions.length ? "" : "No distributions received yet"), field("Data", side)),
      tests: el("fieldset", {}, el("legend", { text: "Tests (none ticked: all)" }), testList),
      period: field("Group by", period),
      text: field("Text", text),
    };
    bodyNode.replaceChildren(field("Panel type", typeSelect), field("Title", title), field("Description", description), field("Size", size), ...Object.values(groups));
    const sync = () => {
      const kind = typeSelect.value;
      groups.series.hidden = !SERIES_TYPES.includes(kind);
      addSeries.hidden = kind === "counter" && seriesBox.children.length >= 1;
      groups.counter.hidden = kind !== "counter";
      groups.bar.hidden = kind !== "bar";
      groups.distribution.hidden = kind !== "distribution";
      groups.tests.hidden = !["test_status", "test_counts"].includes(kind);
      groups.period.hidden = kind !== "test_status";
      groups.text.hidden = kind !== "text";
    };
    typeSelect.addEventListener("change", sync);
    seriesBox.addEventListener("click", sync);
    sync();
    form.onsubmit = async (event) => {
      event.preventDefault();
      const kind = typeSelect.value;
      const out = { id: panel?.id, type: kind, title: title.value.trim(), size: size.value };
      if (description.value.trim()) out.description = description.value.trim();
      if (SERIES_TYPES.includes(kind)) {
        out.series = [...seriesBox.children].map((row) => row.read()).slice(0, kind === "counter" ? 1 : 10);
        if (panel?.columns && ranked.checked && kind !== "counter") Object.assign(out, { columns: panel.columns, series: [] });
        Object.assign(out, { format: fmt.value, unit: unit.value.trim(), thresholds: thresholds.read(), bands: bands.read() });
      }
      if (kind === "counter") out.aggregate = aggregate.value;
      if (kind === "bar") out.stacked = stacked.checked;
      if (kind === "distribution") Object.assign(out, { metric: distribution.value, side: side.value });
      if (kind === "test_status" || kind === "test_counts") out.tests = [...testList.querySelectorAll("input:checked")].map((i) => i.value);
      if (kind === "test_status") out.period = period.value;
      if (kind === "text") out.text = text.value;
      if (!out.id) delete out.id;
      const next = copy();
      const tab = next.tabs.find((t) => t.id === config.tab);
      const index = panel ? tab.panels.findIndex((p) => p.id === panel.id) : -1;
      if (index >= 0) tab.panels[index] = out; else tab.panels.push(out);
      try {
        await save(next);
      } catch (failure) {
        const fields = failure.body?.fields || {};
        const list = Object.entries(fields).map(([path, messages]) => `${path.replace(/^tabs\[\d+\]\.panels\[\d+\]\.?/, "") || "panel"}: ${[].concat(messages).join(" ")}`);
        error.textContent = list.length ? list.join(" · ") : failure.message;
        error.hidden = false;
      }
    };
    dialog.showModal();
    title.focus();
  }

  const presetsDialog = document.getElementById("presets-editor");
  async function openPresets() {
    const form = document.getElementById("presets-form");
    const bodyNode = form.querySelector(".editor-body");
    const error = form.querySelector(".form-error");
    error.hidden = true;
    const { presets } = await api("/presets");
    bodyNode.replaceChildren(...presets.map((p) => el("label", { class: "check" },
      el("input", { type: "checkbox", value: p.id, disabled: p.available ? null : "disabled", checked: p.available ? "checked" : null }),
      ` ${p.title} `, el("span", { class: "muted small", text: p.available ? `${p.panels} panel${p.panels === 1 ? "" : "s"}` : "no data for it yet" }))));
    form.onsubmit = async (event) => {
      event.preventDefault();
      const chosen = [...bodyNode.querySelectorAll("input:checked")].map((i) => i.value);
      try {
        const saved = await api("/presets", { method: "POST", body: { presets: chosen } });
        const params = windowQuery();
        params.set("tab", saved.added[0]);
        window.location.search = params.toString();
      } catch (failure) {
        error.textContent = [].concat(failure.body?.fields?.presets || failure.message).join(" ");
        error.hidden = false;
      }
    };
    presetsDialog.showModal();
  }

  // Data first over the socket's open (see connect); if it does not open soon, without it.
  const firstLoad = setTimeout(reload, 1200);
  connect();
})();
