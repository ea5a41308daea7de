// Live training curves with uPlot (from node_modules, served locally): loss per batch, and accuracy — the running
// training accuracy of the epoch and the held-out accuracy measured every few batches.
import uPlot from '../../node_modules/uplot/dist/uPlot.esm.js';

function chart(el, title, series, yRange) {
  const opts = {
    title, width: el.clientWidth || 460, height: 240,
    scales: { x: { time: false }, ...(yRange ? { y: { range: yRange } } : {}) },
    axes: [{ label: 'optimizer step' }, {}],
    series: [{ label: 'step' }, ...series.map((s) => ({ spanGaps: true, width: 2, points: { show: false }, ...s }))],
  };
  const data = [[], ...series.map(() => [])];
  const plot = new uPlot(opts, data, el);
  return { plot, data, redraw: () => plot.setData(data) };
}

/** The two charts in their elements; add(point) appends a step, redraw() draws (call it at most per frame). */
export function trainingCharts(lossEl, accEl) {
  const loss = chart(lossEl, 'loss (softmax cross-entropy)', [
    { label: 'batch', stroke: '#1f77b4' },
    { label: 'held-out', stroke: '#ff7f0e', points: { show: true, size: 5 } },
  ]);
  const acc = chart(accEl, 'accuracy', [
    { label: 'training (epoch so far)', stroke: '#1f77b4', value: (u, v) => (v == null ? '–' : `${(100 * v).toFixed(1)} %`) },
    { label: 'held-out', stroke: '#ff7f0e', points: { show: true, size: 5 }, value: (u, v) => (v == null ? '–' : `${(100 * v).toFixed(1)} %`) },
  ], [0, 1]);
  let dirty = false;
  // Follow the width of the chart's element (the page's grid reflows with the window).
  new ResizeObserver(() => {
    for (const [c, el] of [[loss, lossEl], [acc, accEl]]) if (el.clientWidth && el.clientWidth !== c.plot.width) c.plot.setSize({ width: el.clientWidth, height: 240 });
  }).observe(lossEl.parentElement);
  return {
    loss, acc,
    clear() {
      for (const c of [loss, acc]) for (const a of c.data) a.length = 0;
      dirty = true;
    },
    add(m) {
      loss.data[0].push(m.step); loss.data[1].push(m.loss); loss.data[2].push(m.testLoss ?? null);
      acc.data[0].push(m.step); acc.data[1].push(m.accuracy); acc.data[2].push(m.testAccuracy ?? null);
      dirty = true;
    },
    redraw() {
      if (!dirty) return;
      dirty = false;
      loss.redraw(); acc.redraw();
    },
    /** Points drawn so far (steps on the x axis) and held-out points. */
    counts() {
      return { steps: loss.plot.data[0].length, heldOut: acc.plot.data[2].filter((v) => v != null).length };
    },
  };
}
