// Each sidecar's weights over time: one line chart per sidecar, one line per service/replica,
// and the current weights as text beside it.
import uPlot from '/dashboard/vendor/uplot.mjs';
import { seriesColor, timeRange } from '/dashboard/colors.js';

const WEIGHT_MAX = 1000;

export class WeightsView {
  constructor(container, empty) {
    this.container = container;
    this.empty = empty;
    /** sidecarId -> { card, chart, keys: string, current } */
    this.cards = new Map();
    new ResizeObserver(() => this.resize()).observe(container);
  }

  render(weights) {
    this.empty.hidden = weights.size > 0;
    for (const [sidecarId, w] of weights) {
      let card = this.cards.get(sidecarId);
      if (!card) {
        card = this.makeCard(sidecarId);
        this.cards.set(sidecarId, card);
      }
      const keys = [...w.series.keys()];
      const data = [w.times, ...keys.map((k) => w.series.get(k))];
      // uPlot's series are fixed at creation: a new replica means a new chart.
      if (card.keys !== keys.join('|')) {
        card.chart?.destroy();
        card.keys = keys.join('|');
        card.chart = new uPlot(this.options(keys, card.plot), data, card.plot);
      } else {
        card.chart.setData(data);
      }
      this.renderCurrent(card.current, w.latest);
    }
  }

  makeCard(sidecarId) {
    const card = document.createElement('figure');
    card.className = 'sidecar';
    card.dataset.sidecar = sidecarId;
    const caption = document.createElement('figcaption');
    caption.textContent = sidecarId;
    const plot = document.createElement('div');
    plot.className = 'chart';
    const current = document.createElement('dl');
    current.className = 'current';
    card.append(caption, plot, current);
    this.container.append(card);
    return { card, plot, current, chart: undefined, keys: '' };
  }

  options(keys, plot) {
    return {
      width: Math.max(plot.clientWidth, 240),
      height: 160,
      scales: { x: { time: true, range: timeRange }, y: { range: [0, WEIGHT_MAX] } },
      legend: { live: false },
      series: [{}, ...keys.map((k, i) => ({ label: k, stroke: seriesColor(i), width: 2, spanGaps: false }))],
      axes: [{}, { size: 56 }],
    };
  }

  renderCurrent(dl, services) {
    const items = [];
    for (const [svc, replicas] of Object.entries(services ?? {})) {
      for (const [replica, weight] of Object.entries(replicas ?? {})) {
        const dt = document.createElement('dt');
        dt.textContent = `${svc}/${replica}`;
        const dd = document.createElement('dd');
        dd.textContent = String(weight);
        dd.dataset.series = `${svc}/${replica}`;
        items.push(dt, dd);
      }
    }
    dl.replaceChildren(...items);
  }

  resize() {
    for (const c of this.cards.values()) c.chart?.setSize({ width: Math.max(c.plot.clientWidth, 240), height: 160 });
  }
}
