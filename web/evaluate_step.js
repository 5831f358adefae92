/* Step 5, Evaluate: metrics of every split, the test split's per-class report, confusion
 * matrix (a cell lists its rows), ROC and PR curves (one-vs-rest; binary: the positive
 * class), calibration, the misclassified rows (images as thumbnails) and, for regression,
 * predicted against actual and the residuals. */
import { $, h, fmt, CLASS_COLORS } from './dom.js';
import { Chart } from './chart.js';
import { cellText, targetIndex } from './data_step.js';

const MAX_EXAMPLES = 60;

export class EvaluateStep {
  constructor(app) {
    this.app = app;
    const unit = [0, 1];
    this.roc = new Chart($('roc-chart'), {
      xy: true,
      range: unit,
      x: 'false positive rate',
      y: 'true positive rate',
      series: [],
    });
    this.pr = new Chart($('pr-chart'), { xy: true, range: unit, x: 'recall', y: 'precision', series: [] });
    this.calibration = new Chart($('calibration-chart'), {
      xy: true,
      range: unit,
      x: 'mean predicted probability',
      y: 'fraction right',
      series: [],
    });
    this.scatter = new Chart($('scatter-chart'), { xy: true, x: 'actual', y: 'predicted', series: [] });
    this.residuals = new Chart($('residual-chart'), { xy: true, x: 'predicted', y: 'predicted − actual', series: [] });
  }

  render(result) {
    this.renderMetrics(result.metrics);
    const report = result.report;
    const classification = report && report.task === 'classification' && report.rows > 0;
    $('evaluation').hidden = !classification;
    $('regression').hidden = !(report && report.task === 'regression' && report.rows > 0);
    if (classification) {
      this.renderClassReport(report);
      this.renderCurves(report);
      this.renderMisclassified(report);
    } else if (report && report.points) {
      this.renderRegression(report);
    }
  }

  renderMetrics(metrics) {
    const regression = metrics.test && metrics.test.accuracy === null && metrics.test.mse !== null;
    $('metric-name').textContent = regression ? 'R²' : 'accuracy';
    $('metrics').tBodies[0].replaceChildren(
      ...['train', 'validation', 'test']
        .filter((s) => metrics[s] && metrics[s].rows > 0)
        .map((split) => {
          const m = metrics[split];
          const value = regression ? m.r2 : m.accuracy;
          return h(
            'tr',
            {},
            h('td', {}, split),
            h('td', {}, String(m.rows)),
            h('td', {}, m.loss === null ? '—' : m.loss.toFixed(4)),
            h('td', {}, value === null ? '—' : value.toFixed(4)),
          );
        }),
    );
  }

  renderClassReport(report) {
    const f3 = (v) => (v === null || v === undefined ? '—' : v.toFixed(3));
    $('per-class').tBodies[0].replaceChildren(
      ...report.per_class.map((c) =>
        h(
          'tr',
          {},
          [
            c.class,
            f3(c.precision),
            f3(c.recall),
            f3(c.f1),
            String(c.support),
            f3(c.roc_auc),
            f3(c.average_precision),
          ].map((t) => h('td', {}, t)),
        ),
      ),
    );
    $('averages').textContent =
      `Macro F1 ${f3(report.f1_macro)}, weighted F1 ${f3(report.f1_weighted)}, ` +
      `macro ROC AUC ${f3(report.roc_auc_macro)}, log loss ${f3(report.log_loss)}.`;
    const classes = report.classes;
    const max = Math.max(1, ...report.confusion.flat());
    const head = h(
      'tr',
      {},
      h('th', {}, h('span', { className: 'visually-hidden' }, 'true class')),
      classes.map((n) => h('th', { scope: 'col' }, n)),
    );
    const rows = report.confusion.map((counts, t) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, classes[t]),
        counts.map((count, p) => {
          const shade = count / max;
          const button = h(
            'button',
            {
              type: 'button',
              className: t === p ? 'diagonal' : '',
              'aria-label': `${count} rows of class ${classes[t]} predicted as ${classes[p]}`,
            },
            String(count),
          );
          button.style.background = `rgba(11, 98, 214, ${(0.08 + 0.85 * shade).toFixed(3)})`;
          button.style.color = shade > 0.5 ? '#fff' : '#1d232b';
          button.addEventListener('click', () => this.showCell(report, t, p));
          return h('td', {}, button);
        }),
      ),
    );
    $('confusion').replaceChildren(head, ...rows);
    $('cell-rows').textContent = '';
    $('cell-examples').replaceChildren();
  }

  showCell(report, t, p) {
    const classes = report.classes;
    const hits = report.examples.filter((e) => e[0] === t && e[1] === p);
    const rows = hits.map((e) => e[2] + 1);
    $('cell-rows').textContent =
      rows.length === 0
        ? `No test rows of class ${classes[t]} were predicted as ${classes[p]}.`
        : `${rows.length} test row${rows.length === 1 ? '' : 's'} of class ${classes[t]} predicted as ${classes[p]}: data row${rows.length === 1 ? '' : 's'} ${rows.slice(0, 50).join(', ')}${rows.length > 50 ? ', …' : ''}.`;
    $('cell-examples').replaceChildren(this.examples(report, hits));
  }

  renderCurves(report) {
    const binary = report.classes.length === 2;
    const which = report.curves.map((c, k) => ({ c, k })).filter(({ c, k }) => c.roc && (!binary || k === 1));
    const series = (name) =>
      which.map(({ k }) => ({
        label: `${report.classes[k]}${name(k)}`,
        stroke: CLASS_COLORS[k % CLASS_COLORS.length],
      }));
    const auc = (k) => {
      const v = report.per_class[k].roc_auc;
      return v === null ? '' : ` (AUC ${v.toFixed(3)})`;
    };
    const ap = (k) => {
      const v = report.per_class[k].average_precision;
      return v === null ? '' : ` (AP ${v.toFixed(3)})`;
    };
    this.roc.reset(
      series(auc),
      which.map(({ c }) => [c.roc.fpr, c.roc.tpr]),
    );
    // PR as steps: precision P_k holds from R_{k-1} to R_k, the area average precision sums.
    this.pr.reset(
      series(ap),
      which.map(({ c }) => {
        const xs = [],
          ys = [];
        c.pr.recall.forEach((r, i) => {
          if (i > 0) {
            xs.push(c.pr.recall[i - 1]);
            ys.push(c.pr.precision[i]);
          }
          xs.push(r);
          ys.push(c.pr.precision[i]);
        });
        return [xs, ys];
      }),
    );
    $('curves-note').textContent = binary
      ? `Binary: the curves of the positive class '${report.classes[1]}'.`
      : 'One curve per class, that class against the rest.';
    const bins = report.calibration.bins.filter((b) => b.count > 0);
    this.calibration.reset(
      [
        { label: 'perfectly calibrated', stroke: '#9aa5b1', dash: [4, 4], width: 1 },
        {
          label: binary ? `model (probability of '${report.classes[1]}')` : 'model (confidence of the predicted class)',
          stroke: '#0b62d6',
          points: false,
        },
      ],
      [
        [
          [0, 1],
          [0, 1],
        ],
        [bins.map((b) => b.mean_predicted), bins.map((b) => b.fraction_positive)],
      ],
      {
        x: binary ? 'mean predicted probability' : 'mean confidence',
        y: binary ? `fraction '${report.classes[1]}'` : 'fraction right',
      },
    );
  }

  renderMisclassified(report) {
    const wrong = report.examples.filter((e) => e[0] !== e[1]);
    $('misclassified-note').textContent =
      wrong.length === 0
        ? 'Every test row is classified correctly.'
        : `${wrong.length} of ${report.rows} test rows are misclassified${wrong.length > MAX_EXAMPLES ? `; the first ${MAX_EXAMPLES} are shown` : ''}.`;
    $('misclassified').replaceChildren(wrong.length ? this.examples(report, wrong) : '');
  }

  /** The rows of examples [true, predicted, data row]: thumbnails for image data, else a
   * table of the row's values. */
  examples(report, list) {
    const { state } = this.app;
    const { table } = state;
    const shown = list.slice(0, MAX_EXAMPLES);
    if (!table) return h('p', { className: 'hint' }, 'The data is not loaded.');
    const t = targetIndex(state);
    const image = state.imageShape();
    const cols = table.info.columns.map((c, j) => j).filter((j) => j !== t);
    if (image && image[0] * image[1] * image[2] === cols.length) {
      return h(
        'ul',
        { className: 'thumbs', 'data-testid': 'thumbnails' },
        shown.map(([tc, pc, row]) => {
          const canvas = h('canvas', {
            width: image[2],
            height: image[1],
            role: 'img',
            'aria-label': `data row ${row + 1}: ${report.classes[tc]} predicted as ${report.classes[pc]}`,
          });
          drawImage(
            canvas,
            image,
            cols.map((j) => table.columns[j][row]),
          );
          return h(
            'li',
            {},
            canvas,
            h('span', {}, `row ${row + 1}`),
            h('span', {}, `${report.classes[tc]} → ${report.classes[pc]}`),
          );
        }),
      );
    }
    const head = h(
      'tr',
      {},
      h('th', { scope: 'col' }, 'row'),
      h('th', { scope: 'col' }, 'true'),
      h('th', { scope: 'col' }, 'predicted'),
      cols.map((j) => h('th', { scope: 'col' }, table.info.columns[j].name)),
    );
    const body = shown.map(([tc, pc, row]) =>
      h(
        'tr',
        {},
        h('td', {}, String(row + 1)),
        h('td', {}, report.classes[tc]),
        h('td', {}, report.classes[pc]),
        cols.map((j) => h('td', {}, cellText(table.info.columns[j], table.columns[j], row) || '—')),
      ),
    );
    return h(
      'div',
      { className: 'scroll' },
      h('table', { className: 'examples', 'data-testid': 'example-rows' }, h('thead', {}, head), h('tbody', {}, body)),
    );
  }

  renderRegression(report) {
    const pts = report.points;
    const actual = pts.map((p) => p[0]),
      predicted = pts.map((p) => p[1]);
    const lo = Math.min(...actual, ...predicted),
      hi = Math.max(...actual, ...predicted);
    this.scatter.reset(
      [
        { label: 'y = x', stroke: '#9aa5b1', dash: [4, 4], width: 1 },
        { label: 'test rows', stroke: '#0b62d6', points: true },
      ],
      [
        [
          [lo, hi],
          [lo, hi],
        ],
        [actual, predicted],
      ],
    );
    this.residuals.reset(
      [
        { label: 'zero', stroke: '#9aa5b1', dash: [4, 4], width: 1 },
        { label: 'test rows', stroke: '#c2410c', points: true },
      ],
      [
        [
          [Math.min(...predicted), Math.max(...predicted)],
          [0, 0],
        ],
        [predicted, pts.map((p) => p[1] - p[0])],
      ],
    );
    $('regression-note').textContent =
      `MSE ${fmt(report.mse)}, MAE ${fmt(report.mae)}, RMSE ${fmt(report.rmse)}, R² ${fmt(report.r2 ?? null)} on ${report.rows} test rows${report.rows > pts.length ? ` (${pts.length} plotted)` : ''}.`;
  }
}

/** Draws an image row (C, H, W) of raw pixel values, scaled to its own range. */
export function drawImage(canvas, [C, H, W], values) {
  const ctx = canvas.getContext('2d');
  if (!ctx) return; // no 2-D context: the canvas keeps its label
  const img = ctx.createImageData(W, H);
  let lo = Infinity,
    hi = -Infinity;
  for (const v of values)
    if (!Number.isNaN(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  for (let p = 0; p < H * W; p++) {
    for (let k = 0; k < 3; k++) {
      const v = values[(C === 3 ? k : 0) * H * W + p];
      img.data[4 * p + k] = 255 - Math.round((v - lo) * scale);
    }
    img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
