/* The Prepare step's before-and-after preview, drawn from the worker's 'preview' answer (the
 * data prepared by the core, no network) and the table the Data step read: the row counts
 * before and after, the first training rows as raw cells and as the model's inputs, and each
 * feature's statistics over the training rows before and after the steps. Loaded when the
 * Prepare step first previews. */
import { h, fmt } from './dom.js';
import { cellText } from './data_step.js';
import { drawImage } from './evaluate_step.js';

const SHOWN_COLUMNS = 6; // raw columns and prepared features in the rows tables
const SHOWN_STATS = 8; // features with their own line in the statistics table

/** The preview's elements for reply = {info, statsRows, stats, all, source, head} and the
 * table {info, columns} it was prepared from. */
export function renderPreview(reply, table, image) {
  const { info } = reply;
  const [train, validation, test] = info.rows;
  const f = info.features.length;
  const summary = h(
    'p',
    { className: 'summary', 'data-testid': 'prepare-summary' },
    `Before: ${fmt(info.table[0])} rows × ${fmt(info.table[1])} columns. After: ${fmt(train)} training, ${fmt(validation)} validation and ${fmt(test)} test rows × ${fmt(f)} feature${f === 1 ? '' : 's'}`,
    info.classes ? `; ${info.classes.length} classes.` : '; a number to predict.',
  );
  const images = Array.isArray(image) && image.length === 3 && image[0] * image[1] * image[2] === f;
  return [summary, images ? imagesView(reply, table, image) : rowsView(reply, table), statsView(reply, table)];
}

/** For image data: the first training rows as pictures, as the table has them and as the
 * model reads them (each drawn over its own range, darker for larger values). */
function imagesView(reply, table, image) {
  const { info, head, source } = reply;
  const f = info.features.length;
  const names = table.info.columns.map((c) => c.name);
  const inputs = info.inputs.map((input) => names.indexOf(input.column));
  const strip = (caption, pixels, testid) =>
    h(
      'figure',
      { className: 'thumbs-row' },
      h('figcaption', {}, caption),
      h(
        'ul',
        { className: 'thumbs', 'data-testid': testid },
        ...[...Array(head.y.length).keys()].map((i) => {
          const canvas = h('canvas', {
            width: image[2],
            height: image[1],
            role: 'img',
            'aria-label': `table row ${source[i] + 1}`,
          });
          drawImage(canvas, image, pixels(i));
          return h('li', {}, canvas, h('span', {}, info.classes ? info.classes[head.y[i]] : fmt(head.y[i])));
        }),
      ),
    );
  return h(
    'div',
    { className: 'before-after' },
    strip(
      `Before: the first ${head.y.length} training images as the table has them`,
      (i) => inputs.map((j) => table.columns[j][source[i]]),
      'preview-before-images',
    ),
    strip('After: what the model reads', (i) => head.x.subarray(i * f, (i + 1) * f), 'preview-after-images'),
  );
}

/** The first training rows side by side: their raw cells (the input columns and the target)
 * and what the model reads. */
function rowsView(reply, table) {
  const { info, head, source } = reply;
  const f = info.features.length;
  const n = head.y.length;
  if (!n) return h('p', { className: 'hint' }, 'The training split has no rows.');
  const names = table.info.columns.map((c) => c.name);
  const inputs = info.inputs.map((input) => names.indexOf(input.column)).filter((j) => j >= 0);
  const target = names.indexOf(info.target);
  const rawCols = [...inputs.slice(0, SHOWN_COLUMNS), target].filter((j) => j >= 0);
  const more = (total, shown) =>
    total > shown ? h('th', { scope: 'col', className: 'more' }, `+${fmt(total - shown)} more`) : null;
  const rawHead = h(
    'tr',
    {},
    h('th', { scope: 'col' }, 'table row'),
    ...rawCols.map((j) => h('th', { scope: 'col' }, names[j])),
    more(inputs.length, SHOWN_COLUMNS),
  );
  const rawRows = [...Array(n).keys()].map((i) =>
    h(
      'tr',
      {},
      h('td', {}, fmt(source[i] + 1)),
      ...rawCols.map((j) => h('td', {}, cellText(table.info.columns[j], table.columns[j], source[i]))),
      inputs.length > SHOWN_COLUMNS ? h('td', {}) : null,
    ),
  );
  const shownFeatures = Math.min(f, SHOWN_COLUMNS);
  const afterHead = h(
    'tr',
    {},
    ...info.features.slice(0, shownFeatures).map((name) => h('th', { scope: 'col' }, name)),
    more(f, shownFeatures),
    h('th', { scope: 'col' }, info.classes ? 'class' : 'target'),
  );
  const afterRows = [...Array(n).keys()].map((i) =>
    h(
      'tr',
      {},
      ...[...Array(shownFeatures).keys()].map((j) => h('td', {}, fmt(head.x[i * f + j], 3))),
      f > shownFeatures ? h('td', {}) : null,
      h('td', {}, info.classes ? info.classes[head.y[i]] : fmt(head.y[i])),
    ),
  );
  const tableOf = (caption, headRow, rows, testid) =>
    h(
      'div',
      { className: 'scroll' },
      h(
        'table',
        { className: 'compact', 'data-testid': testid },
        h('caption', {}, caption),
        h('thead', {}, headRow),
        h('tbody', {}, ...rows),
      ),
    );
  return h(
    'div',
    { className: 'before-after' },
    tableOf(`Before: the first ${n} training rows as the table has them`, rawHead, rawRows, 'preview-before'),
    tableOf('After: what the model reads for the same rows', afterHead, afterRows, 'preview-after'),
  );
}

/** Each feature's mean, standard deviation, minimum and maximum over the first statsRows
 * training rows, before (the raw column at the same rows; one-hot features have none) and
 * after the steps; then all features together. */
function statsView(reply, table) {
  const { info, stats, all, source, statsRows } = reply;
  const f = info.features.length;
  if (!statsRows) return h('p', {});
  const names = table.info.columns.map((c) => c.name);
  const rawOf = new Map(); // feature index -> raw column index, for features that are a column
  for (const input of info.inputs) {
    const j = names.indexOf(input.column);
    if (j >= 0 && input.width === 1 && table.info.columns[j].type !== 'categorical') rawOf.set(input.first, j);
  }
  const rawStats = (indices) =>
    moments(
      indices.map((j) => table.columns[j]),
      source,
    );
  // |v| < 5e-6 prints 0: a z-scored feature's mean is 0 up to float rounding
  const cells = (s) =>
    s
      ? [s.mean, s.std, s.min, s.max].map((v) => h('td', {}, fmt(Math.abs(v) < 5e-6 ? 0 : v, 3)))
      : [h('td', { colSpan: 4, className: 'hint' }, 'one-hot: 0 or 1 per category')];
  const shown = Math.min(f, SHOWN_STATS, stats.length);
  const rows = [...Array(shown).keys()].map((k) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, info.features[k]),
      ...cells(rawOf.has(k) ? rawStats([rawOf.get(k)]) : null),
      ...cells(stats[k]),
    ),
  );
  const everyRaw = [...rawOf.values()];
  rows.push(
    h(
      'tr',
      { className: 'total' },
      h('th', { scope: 'row' }, `all ${fmt(f)} features`),
      ...(everyRaw.length === f ? cells(rawStats(everyRaw)) : [h('td', { colSpan: 4, className: 'hint' }, '—')]),
      ...cells(all),
    ),
  );
  const sub = ['mean', 'std', 'min', 'max'];
  return h(
    'div',
    { className: 'scroll' },
    h(
      'table',
      { className: 'compact stats', 'data-testid': 'preview-stats' },
      h(
        'caption',
        {},
        `Feature statistics over ${statsRows === info.rows[0] ? 'all' : 'the first'} ${fmt(statsRows)} training rows${f > shown ? ` (the first ${shown} of ${fmt(f)} features, then all together)` : ''}`,
      ),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('td', {}),
          h('th', { scope: 'colgroup', colSpan: 4 }, 'before'),
          h('th', { scope: 'colgroup', colSpan: 4 }, 'after'),
        ),
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'feature'),
          ...sub.map((s) => h('th', { scope: 'col' }, s)),
          ...sub.map((s) => h('th', { scope: 'col' }, s)),
        ),
      ),
      h('tbody', {}, ...rows),
    ),
  );
}

/** {mean, std (population), min, max} of the non-missing values of columns at rows, or null
 * when there is none. */
function moments(columns, rows) {
  let n = 0,
    mean = 0,
    m2 = 0,
    min = Infinity,
    max = -Infinity;
  for (const column of columns) {
    for (const r of rows) {
      const v = column[r];
      if (Number.isNaN(v)) continue;
      n++;
      const d = v - mean;
      mean += d / n;
      m2 += d * (v - mean);
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return n ? { mean, std: Math.sqrt(m2 / n), min, max } : null;
}
