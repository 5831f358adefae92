/* Charts drawn on a canvas, with no library: lines over a shared x (the training curves, with
 * a readout of the values under the pointer), or curves and dots with their own x (ROC, PR,
 * calibration, predicted against actual). A Chart keeps its data and follows its box's width,
 * so a chart built in a hidden step draws when the step shows. */
const PAD = { left: 56, right: 12, top: 10, bottom: 38 }; // px around the plot area
const FONT = '12px system-ui, sans-serif';

/** About five round steps over [lo, hi]: 1, 2, 2.5 or 5 × 10^k (whole numbers when whole). */
function ticks(lo, hi, whole) {
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  if (whole) step = Math.max(1, Math.round(step));
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** [lo, hi] of the finite values, widened when empty or flat. */
function extent(values, pad) {
  let lo = Infinity,
    hi = -Infinity;
  for (const v of values) if (v !== null && Number.isFinite(v)) ((lo = Math.min(lo, v)), (hi = Math.max(hi, v)));
  if (lo > hi) return [0, 1];
  if (lo === hi) return [lo - 1, hi + 1];
  const m = (hi - lo) * pad;
  return [lo - m, hi + m];
}

const label = (v) => String(Number(v.toPrecision(4)));

export class Chart {
  /** box: the element to draw in; opts: {series: [{label, stroke, dash, width, points}], x, y:
   * axis labels, xy: true for curves with their own x per series, range: [min, max] for both
   * axes of an xy chart, height, wholeX: ticks only at whole x}. */
  constructor(box, opts) {
    this.box = box;
    this.opts = opts;
    this.data = opts.xy ? [] : [[], ...opts.series.map(() => [])];
    this.canvas = document.createElement('canvas');
    this.legend = document.createElement('p');
    this.legend.className = 'chart-legend';
    box.replaceChildren(this.canvas, this.legend);
    this.hover = -1; // the x index under the pointer (line charts), or -1
    this.canvas.addEventListener('pointermove', (e) => this.#point(e));
    this.canvas.addEventListener('pointerleave', () => this.#point(null));
    // drawn in the next frame: drawing may change the box's size, which the observer would
    // report again in this frame (the "ResizeObserver loop" error)
    new ResizeObserver(() => requestAnimationFrame(() => this.#draw())).observe(box);
  }

  /** Replaces the data: xy charts take [[xs, ys], …] per series; others [xs, ys1, ys2, …]. */
  set(data) {
    this.data = data;
    this.box.chartData = data; // what is drawn, for tests
    this.#draw();
  }

  /** Redraws with new series (e.g. one per class), their data and other changed options. */
  reset(series, data, opts = {}) {
    this.opts = { ...this.opts, ...opts, series };
    this.set(data);
  }

  /** Changes the y axis's label (the chart is drawn again with its data). */
  relabel(y) {
    if (this.opts.y === y) return;
    this.opts = { ...this.opts, y };
    this.#draw();
  }

  /** The series as [xs, ys] pairs, whatever the mode. */
  #curves() {
    const o = this.opts;
    return o.xy ? this.data : o.series.map((_, i) => [this.data[0] || [], this.data[i + 1] || []]);
  }

  #draw() {
    const width = Math.floor(this.box.clientWidth);
    if (width < 50) return; // hidden: drawn when shown
    const o = this.opts;
    const height = o.height || 220;
    const ratio = globalThis.devicePixelRatio || 1;
    const c = this.canvas;
    c.width = width * ratio;
    c.height = height * ratio;
    c.style.width = `${width}px`;
    c.style.height = `${height}px`;
    const g = c.getContext('2d');
    if (!g) {
      this.box.textContent = 'No chart: this browser does not draw on a canvas here.';
      return;
    }
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.font = FONT;
    const curves = this.#curves();
    const [x0, x1] =
      o.range ||
      extent(
        curves.flatMap(([xs]) => [...xs]),
        o.xy ? 0.02 : 0,
      );
    const [y0, y1] =
      o.range ||
      extent(
        curves.flatMap(([, ys]) => [...ys]),
        0.05,
      );
    const w = width - PAD.left - PAD.right,
      h = height - PAD.top - PAD.bottom;
    const px = (v) => PAD.left + ((v - x0) / (x1 - x0)) * w;
    const py = (v) => PAD.top + (1 - (v - y0) / (y1 - y0)) * h;
    this.scale = { px, x0, x1 };
    // axes: grid lines, tick labels, axis labels
    g.strokeStyle = '#e3e8ef';
    g.fillStyle = '#52606d';
    g.lineWidth = 1;
    g.textAlign = 'center';
    g.textBaseline = 'top';
    for (const v of ticks(x0, x1, o.wholeX)) {
      g.beginPath();
      g.moveTo(px(v), PAD.top);
      g.lineTo(px(v), PAD.top + h);
      g.stroke();
      g.fillText(label(v), px(v), PAD.top + h + 4);
    }
    if (o.x) g.fillText(o.x, PAD.left + w / 2, height - 16);
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    for (const v of ticks(y0, y1, false)) {
      g.beginPath();
      g.moveTo(PAD.left, py(v));
      g.lineTo(PAD.left + w, py(v));
      g.stroke();
      g.fillText(label(v), PAD.left - 6, py(v));
    }
    if (o.y) {
      g.save();
      g.translate(12, PAD.top + h / 2);
      g.rotate(-Math.PI / 2);
      g.textAlign = 'center';
      g.fillText(o.y, 0, 0);
      g.restore();
    }
    g.strokeRect(PAD.left, PAD.top, w, h);
    // the series, clipped to the plot area; a missing value is stepped over
    g.save();
    g.beginPath();
    g.rect(PAD.left, PAD.top, w, h);
    g.clip();
    curves.forEach(([xs, ys], i) => {
      const s = o.series[i] || {};
      g.strokeStyle = s.stroke || '#0b62d6';
      g.fillStyle = `${s.stroke || '#0b62d6'}99`;
      g.lineWidth = s.width || 2;
      g.setLineDash(s.dash || []);
      g.beginPath();
      let drawn = false;
      for (let k = 0; k < xs.length; k++) {
        if (ys[k] === null || !Number.isFinite(ys[k])) continue;
        const x = px(xs[k]),
          y = py(ys[k]);
        if (s.points) {
          g.moveTo(x + 2.5, y);
          g.arc(x, y, 2.5, 0, 2 * Math.PI);
        } else if (drawn) g.lineTo(x, y);
        else g.moveTo(x, y);
        drawn = true;
      }
      if (s.points) g.fill();
      else g.stroke();
    });
    if (this.hover >= 0 && !o.xy) {
      g.setLineDash([]);
      g.strokeStyle = '#9aa5b1';
      g.lineWidth = 1;
      g.beginPath();
      g.moveTo(px(this.data[0][this.hover]), PAD.top);
      g.lineTo(px(this.data[0][this.hover]), PAD.top + h);
      g.stroke();
    }
    g.restore();
    this.#legend();
  }

  /** The series' names and colours; on a line chart, their values at the pointer's x. */
  #legend() {
    const o = this.opts;
    const k = this.hover;
    const at = k >= 0 && !o.xy ? `${o.x} ${this.data[0][k]}: ` : '';
    const items = o.series.map((s, i) => {
      const item = document.createElement('span');
      const swatch = document.createElement('i');
      swatch.style.borderTop = `${s.points ? 6 : 2}px ${s.dash ? 'dashed' : 'solid'} ${s.stroke}`;
      const v = at ? this.data[i + 1][k] : undefined;
      item.append(swatch, `${s.label}${v === undefined ? '' : ` ${v === null ? '–' : label(v)}`}`);
      return item;
    });
    this.legend.replaceChildren(at, ...items);
  }

  /** Follows the pointer over a line chart: the nearest x's values in the legend. */
  #point(e) {
    const xs = this.data[0];
    let k = -1;
    if (e && !this.opts.xy && this.scale && xs && xs.length) {
      const x = e.offsetX;
      let best = Infinity;
      xs.forEach((v, i) => {
        const d = Math.abs(this.scale.px(v) - x);
        if (d < best) ((best = d), (k = i));
      });
    }
    if (k !== this.hover) {
      this.hover = k;
      this.#draw();
    }
  }
}
