/* A small line chart on a canvas: one solid and one dashed series over epochs. No DOM
 * beyond the canvas it is given. */
export class LossChart {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.series = { train: [], validation: [] };
    this.draw();
  }

  reset() {
    this.series = { train: [], validation: [] };
    this.draw();
  }

  add(point) {
    if (Number.isFinite(point.loss)) this.series.train.push([point.epoch, point.loss]);
    if (Number.isFinite(point.validationLoss)) this.series.validation.push([point.epoch, point.validationLoss]);
    this.draw();
  }

  draw() {
    const { ctx, canvas } = this;
    const w = canvas.width, h = canvas.height, pad = 40;
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, w, h);
    const all = [...this.series.train, ...this.series.validation];
    ctx.strokeStyle = '#9aa5b1';
    ctx.beginPath();
    ctx.moveTo(pad, 10); ctx.lineTo(pad, h - pad); ctx.lineTo(w - 10, h - pad);
    ctx.stroke();
    ctx.fillStyle = '#5b6673';
    ctx.font = '12px system-ui, sans-serif';
    if (all.length === 0) {
      ctx.fillText('The loss curve appears here during training.', pad + 10, h / 2);
      return;
    }
    const maxX = Math.max(...all.map((p) => p[0]), 1);
    const maxY = Math.max(...all.map((p) => p[1]), 1e-6);
    const x = (v) => pad + (v / maxX) * (w - pad - 20);
    const y = (v) => h - pad - (v / maxY) * (h - pad - 20);
    ctx.fillText('0', pad - 14, h - pad + 4);
    ctx.fillText(maxY.toPrecision(3), 2, 16);
    ctx.fillText(`epoch ${maxX}`, w - 80, h - pad + 18);
    const line = (points, color, dash) => {
      if (points.length === 0) return;
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.setLineDash(dash);
      ctx.beginPath();
      points.forEach(([px, py], i) => (i ? ctx.lineTo(x(px), y(py)) : ctx.moveTo(x(px), y(py))));
      ctx.stroke();
      ctx.setLineDash([]);
    };
    line(this.series.train, '#0b62d6', []);
    line(this.series.validation, '#c2410c', [6, 4]);
  }
}
