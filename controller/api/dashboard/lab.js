// The lab panel: the running experiment's phase, time and live p99 latency, from lab_progress messages.
import uPlot from '/dashboard/vendor/uplot.mjs';
import { timeRange } from '/dashboard/colors.js';

function duration(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '–';
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export class LabView {
  constructor(root) {
    this.root = root;
    this.el = (id) => root.querySelector(`#${id}`);
    this.chart = undefined;
    new ResizeObserver(() => this.chart?.setSize({ width: Math.max(this.el('lab-chart').clientWidth, 200), height: 120 })).observe(root);
  }

  render(lab) {
    const m = lab.latest;
    this.root.dataset.active = String(m !== null);
    if (m === null) return;
    this.root.dataset.phase = String(m.phase ?? '');
    this.el('lab-phase').textContent = String(m.phase ?? '–');
    this.el('lab-elapsed').textContent = duration(m.elapsedMs);
    this.el('lab-remaining').textContent = duration(m.remainingMs);
    this.el('lab-p99').textContent = typeof m.p99Ms === 'number' ? `${m.p99Ms.toFixed(1)} ms` : '–';
    const total = (m.elapsedMs ?? 0) + (m.remainingMs ?? 0);
    this.el('lab-progress').value = total > 0 ? (m.elapsedMs ?? 0) / total : 0;
    if (lab.times.length === 0) return;
    const data = [lab.times, lab.p99];
    if (!this.chart) {
      const plot = this.el('lab-chart');
      this.chart = new uPlot(
        {
          width: Math.max(plot.clientWidth, 200),
          height: 120,
          legend: { show: false },
          scales: { x: { time: true, range: timeRange }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.2)] } },
          series: [{}, { label: 'p99 ms', stroke: '#7c3aed', width: 2, fill: 'rgba(124,58,237,0.08)' }],
          axes: [{}, { size: 56, label: 'p99 ms' }],
        },
        data,
        plot,
      );
    } else {
      this.chart.setData(data);
    }
  }
}
