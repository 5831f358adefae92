/* Charts on uPlot. A Chart keeps its data and follows its box's width, so a chart built in a
 * hidden step draws when the step shows; uPlot itself (22 KB) is loaded then, the first time a
 * chart is shown, not with the page. */
let uPlotLoading = null;

/** Loads uPlot's script and style once (same origin, so the CSP allows them). Resolves only
 * once uPlot is defined: a script that loads but throws still fires 'load', and a #fit that
 * waited on it again would chain microtasks forever (a frozen tab). */
function loadUPlot() {
  if (!uPlotLoading) {
    // uPlot reads navigator.language into Intl.NumberFormat as it starts; WebKitGTK under the
    // C.UTF-8 locale (Debian's default) says "C", which Intl refuses: uPlot is then shown the
    // engine's own locale.
    try {
      Intl.getCanonicalLocales(navigator.language);
    } catch {
      Object.defineProperty(navigator, 'language', {
        value: Intl.NumberFormat().resolvedOptions().locale,
        configurable: true,
      });
    }
    uPlotLoading = new Promise((resolve, reject) => {
      const css = Object.assign(document.createElement('link'), { rel: 'stylesheet', href: 'uPlot.min.css' });
      const script = Object.assign(document.createElement('script'), { src: 'uPlot.iife.min.js' });
      script.onload = () => {
        delete navigator.language;
        if (globalThis.uPlot) resolve();
        else reject(new Error('the chart library did not start'));
      };
      script.onerror = () => {
        uPlotLoading = null;
        reject(new Error('the chart library did not load'));
      };
      document.head.append(css, script);
    });
  }
  return uPlotLoading;
}

/** uPlot path builder for a scatter series: a dot per point (xy charts). */
function dots(u, index) {
  const [xs, ys] = u.data[index];
  const path = new Path2D();
  const r = 2.5 * devicePixelRatio;
  for (let i = 0; i < xs.length; i++) {
    const x = u.valToPos(xs[i], 'x', true),
      y = u.valToPos(ys[i], 'y', true);
    path.moveTo(x + r, y);
    path.arc(x, y, r, 0, 2 * Math.PI);
  }
  return { stroke: path, fill: path };
}

export class Chart {
  /** box: the element to draw in; opts: {series: [{label, stroke, dash, points}], x, y:
   * axis labels, xy: true for curves with their own x per series (uPlot mode 2), range:
   * [min, max] for both axes of an xy chart, height, wholeX: ticks only at whole x}. */
  constructor(box, opts) {
    this.box = box;
    this.opts = opts;
    this.data = opts.xy ? [null, ...opts.series.map(() => [[], []])] : [[], ...opts.series.map(() => [])];
    this.plot = null;
    // fitted in the next frame: a plot built in the callback grows its box, which the observer
    // would report again in this frame (the "ResizeObserver loop" error)
    new ResizeObserver(() => requestAnimationFrame(() => this.#fit())).observe(box);
  }

  /** Replaces the data: xy charts take [[xs, ys], …] per series; others [xs, ys1, ys2, …]. */
  set(data) {
    this.data = this.opts.xy ? [null, ...data] : data;
    this.box.chartData = data; // what is drawn, for tests
    if (this.plot) this.plot.setData(this.data);
    else this.#fit();
  }

  /** Rebuilds with new series (e.g. one per class), their data and other changed options. */
  reset(series, data, opts = {}) {
    this.opts = { ...this.opts, ...opts, series };
    if (this.plot) this.plot.destroy();
    this.plot = null;
    this.set(data);
  }

  /** Changes the y axis's label (the chart is drawn again with its data). */
  relabel(y) {
    if (this.opts.y === y) return;
    this.opts = { ...this.opts, y };
    if (this.plot) this.plot.destroy();
    this.plot = null;
    this.#fit();
  }

  #fit() {
    const width = Math.floor(this.box.clientWidth);
    if (width < 50) return; // hidden: drawn when shown
    const uPlot = globalThis.uPlot;
    if (!uPlot) {
      loadUPlot().then(
        () => this.#fit(),
        (e) => {
          this.box.textContent = `No chart: ${e.message}.`;
        },
      );
      return;
    }
    const height = this.opts.height || 220;
    if (this.plot) {
      if (this.plot.width !== width) this.plot.setSize({ width, height });
      return;
    }
    const o = this.opts;
    const series = o.series.map((s) => ({
      label: s.label,
      stroke: s.stroke,
      width: s.width || 2,
      dash: s.dash,
      ...(s.points ? { paths: dots, fill: `${s.stroke}99`, points: { show: false } } : { points: { show: false } }),
      ...(o.xy
        ? {
            facets: [
              { scale: 'x', auto: !o.range },
              { scale: 'y', auto: !o.range },
            ],
          }
        : { spanGaps: true }),
    }));
    const scales = o.range
      ? { x: { time: false, auto: false, range: o.range }, y: { auto: false, range: o.range } }
      : { x: { time: false } };
    this.plot = new uPlot(
      {
        width,
        height,
        mode: o.xy ? 2 : 1,
        scales,
        legend: { live: !o.xy },
        cursor: o.xy ? { show: false } : undefined,
        // epochs are whole numbers: no tick at 1.25
        axes: [
          {
            label: o.x,
            size: 40,
            ...(o.wholeX ? { incrs: [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000] } : {}),
          },
          { label: o.y, size: 55 },
        ],
        series: [{ label: o.x }, ...series],
      },
      this.data,
      this.box,
    );
  }
}
