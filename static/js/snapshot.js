// The snapshot viewer's distribution charts: current against reference as bars on shared bins,
// drawn with uPlot from the data the page embeds (json_script "snapshot-charts").
(() => {
  const source = document.getElementById("snapshot-charts");
  if (!source || typeof uPlot === "undefined") return;
  const charts = JSON.parse(source.textContent);
  const style = getComputedStyle(document.documentElement);
  const colour = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  const COLOURS = {
    current: colour("--chart-current", "#2563eb"),
    reference: colour("--chart-reference", "#94a3b8"),
    text: colour("--muted", "#616e7c"),
    grid: colour("--border", "#e1e5ea"),
  };
  const HEIGHT = 220;
  const FONT = "12px system-ui, sans-serif";
  const LABEL_CHARS = 14;

  // The two sides seldom have the same number of rows, so bars compare shares, not counts.
  const shares = (counts) => {
    const total = counts.reduce((sum, count) => sum + count, 0);
    return counts.map((count) => (total ? (100 * count) / total : 0));
  };
  const percent = (value) => (value == null ? "–" : `${value.toFixed(value < 10 ? 1 : 0)}%`);
  const shorten = (text) => (text.length > LABEL_CHARS ? `${text.slice(0, LABEL_CHARS - 1)}…` : text);

  // Histograms sit on their value axis (bin centres between the edges); categories, and
  // histograms with an open edge, on their position.
  function xValues(chart) {
    const edges = chart.edges;
    if (chart.kind === "histogram" && edges && edges.every((edge) => edge !== null)) {
      return {
        xs: chart.current.map((_, i) => (edges[i] + edges[i + 1]) / 2),
        range: [edges[0], edges[edges.length - 1]],
        positional: false,
      };
    }
    const n = chart.current.length;
    return { xs: chart.current.map((_, i) => i), range: [-0.5, n - 0.5], positional: true };
  }

  function options(chart, width) {
    const { range, positional } = xValues(chart);
    const bins = chart.bins;
    const counts = { 1: chart.current, 2: chart.reference };
    const hasReference = Array.isArray(chart.reference);
    const barSize = hasReference ? 0.42 : 0.8;
    const side = (name, index, align) => ({
      label: name,
      stroke: COLOURS[name],
      fill: COLOURS[name],
      width: 0,
      points: { show: false },
      paths: uPlot.paths.bars({ size: [barSize, 64], align }),
      value: (u, value, seriesIdx, idx) =>
        idx == null ? "–" : `${percent(value)} (${counts[index][idx].toLocaleString()})`,
    });
    // Category labels: every one if they fit, else every k-th; turned when long.
    const perBin = (u) => Math.max(1, (u.width - 60) / bins.length);
    const step = (u) => Math.max(1, Math.ceil(18 / perBin(u)));
    const turned = (u) => bins.some((label) => shorten(label).length * 7 > perBin(u) - 4);
    const axisX = positional
      ? {
          stroke: COLOURS.text,
          font: FONT,
          grid: { show: false },
          splits: (u) => bins.map((_, i) => i).filter((i) => i % step(u) === 0),
          values: (u, splits) => splits.map((i) => shorten(bins[i] ?? "")),
          rotate: (u) => (turned(u) ? 45 : 0),
          size: (u, values) => {
            if (!values || !turned(u)) return 30;
            const longest = Math.max(...values.map((value) => String(value).length));
            return Math.min(100, 20 + longest * 5);
          },
        }
      : { stroke: COLOURS.text, font: FONT, grid: { show: false }, size: 30 };
    return {
      width,
      height: HEIGHT,
      legend: { live: true },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: {
        x: { time: chart.columnType === "datetime" && !positional, range: () => range },
        y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        axisX,
        {
          stroke: COLOURS.text,
          font: FONT,
          size: 52,
          grid: { stroke: COLOURS.grid, width: 1 },
          values: (u, splits) => splits.map((value) => `${value}%`),
        },
      ],
      series: [
        {
          label: chart.kind === "histogram" ? "bin" : "value",
          value: (u, value, seriesIdx, idx) => (idx == null ? "–" : bins[idx]),
        },
        side("current", 1, hasReference ? -1 : 0),
        ...(hasReference ? [side("reference", 2, 1)] : []),
      ],
    };
  }

  function draw(holder) {
    const chart = charts[holder.dataset.chart];
    if (!chart) return;
    const width = holder.clientWidth || 320;
    const data = [xValues(chart).xs, shares(chart.current)];
    if (Array.isArray(chart.reference)) data.push(shares(chart.reference));
    const plot = new uPlot(options(chart, width), data, holder);
    // The figure's caption and data table describe the chart; the canvas names itself.
    const canvas = plot.root.querySelector("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute(
      "aria-label",
      `Share of rows per bin of ${chart.title}, current${chart.reference ? " against reference" : ""}`,
    );
    // The axes' label layout depends on the width, so a resize redraws them too.
    new ResizeObserver(() => {
      const next = holder.clientWidth;
      if (next && Math.abs(next - plot.width) > 1) {
        plot.setSize({ width: next, height: HEIGHT });
      }
    }).observe(holder);
  }

  // A long report has dozens of charts: a few per frame keeps the page responsive while they
  // draw, and all are drawn (not only those in view) so that printing shows them too.
  const holders = Array.from(document.querySelectorAll("[data-chart]"));
  const PER_FRAME = 6;
  const drawSome = () => {
    holders.splice(0, PER_FRAME).forEach(draw);
    if (holders.length) requestAnimationFrame(drawSome);
  };
  drawSome();
})();
