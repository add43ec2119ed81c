// Unit tests of the labs' pure parts: the open-loop schedule, per-second aggregation and window
// percentiles, reaction times, and the charts' own parts (label layout, axis tops).
import assert from 'node:assert/strict';
import { dueCount, dueTime, totalRequests } from '../../labs/loadgen/schedule.ts';
import { parseRecords, traceKept, type RequestRecord } from '../../labs/loadgen/record.ts';
import { inWindow, percentiles, perSecond, replicaShare, secondsCsv } from '../../labs/stats.ts';
import { reactionTimes } from '../../labs/reaction.ts';
import { layoutLabels, lineChart, niceCeil } from '../../labs/chart.ts';
import { pickSubnet } from '../../labs/mgmt.ts';
import { formatProgress } from '../../labs/progress.ts';

const rec = (due: number, latencyMs: number, replica = 'a', status = 200): RequestRecord => ({ due, latencyMs, status, replica, tag: 'all', bytes: 1 });

describe('labs: open-loop schedule', () => {
  it('spaces requests evenly at the rate, from the start', () => {
    assert.equal(dueTime(1000, 10, 0), 1000);
    assert.equal(dueTime(1000, 10, 5), 1500);
    assert.equal(dueTime(0, 3, 3), 1000);
  });
  it('counts what is due by now, never more than the total, nothing before the start', () => {
    assert.equal(dueCount(1000, 10, 999, 100), 0);
    assert.equal(dueCount(1000, 10, 1000, 100), 1);
    assert.equal(dueCount(1000, 10, 1099, 100), 1);
    assert.equal(dueCount(1000, 10, 1100, 100), 2);
    assert.equal(dueCount(1000, 10, 1_000_000, 100), 100);
  });
  it('a late tick makes every missed request due at once (open loop: no skipping)', () => {
    assert.equal(dueCount(0, 100, 1000, 1000), 101);
  });
  it('total requests of a run', () => {
    assert.equal(totalRequests(16, 30_000), 480);
    assert.equal(totalRequests(3, 1500), 5);
  });
});

describe('labs: records and statistics', () => {
  it('a trace is kept when the last hop saw its trace id, whatever parent id each hop put on', () => {
    const sent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    assert.equal(traceKept(sent, sent), true);
    assert.equal(traceKept(sent, '00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01'), true);
    assert.equal(traceKept(sent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'), false);
    assert.equal(traceKept(sent, undefined), false);
    assert.equal(traceKept(sent, ''), false);
  });

  it('parses generator output, skipping a torn last line', () => {
    const text = `${JSON.stringify(rec(1, 2))}\n${JSON.stringify(rec(3, 4))}\n{"due":5,"lat`;
    assert.equal(parseRecords(text).length, 2);
  });
  it('percentiles over a window, failures counted as errors at the time they took', () => {
    const rs = Array.from({ length: 1000 }, (_, i) => rec(i, i + 1));
    rs.push(rec(500, 10_000, 'a', 0));
    const p = percentiles(rs);
    assert.equal(p.count, 1001);
    assert.equal(p.errors, 1);
    assert.ok(Math.abs(p.p50Ms - 501) <= 1, `p50 ${p.p50Ms}`);
    assert.ok(Math.abs(p.p99Ms - 991) <= 2, `p99 ${p.p99Ms}`);
    assert.ok(Math.abs(p.maxMs - 10_000) <= 10, `max ${p.maxMs}`);
    assert.deepEqual(percentiles([]), { count: 0, errors: 0, errorRate: 0, p50Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 });
  });
  it('windows are half-open by due time', () => {
    assert.deepEqual(inWindow([rec(0, 1), rec(10, 1), rec(20, 1)], 10, 20).map((r) => r.due), [10]);
  });
  it('aggregates per second, with empty seconds and per-replica counts', () => {
    const rows = perSecond([rec(1000, 5, 'a'), rec(1500, 7, 'b'), rec(3200, 9, 'a'), rec(3300, 1, 'x', 0)], 1000, 4);
    assert.equal(rows.length, 4);
    assert.deepEqual(rows.map((r) => r.count), [2, 0, 2, 0]);
    assert.deepEqual(rows[0]?.replicas, { a: 1, b: 1 });
    assert.deepEqual(rows[2]?.replicas, { a: 1 }); // the failed one names no replica
    assert.equal(rows[2]?.errors, 1);
    assert.equal(replicaShare(rows[0]!, 'a'), 0.5);
    assert.equal(replicaShare(rows[1]!, 'a'), undefined);
    const csv = secondsCsv(rows, ['a', 'b']).trim().split('\n');
    assert.equal(csv[0], 'second,count,errors,p50_ms,p99_ms,p999_ms,max_ms,n_a,n_b');
    assert.equal(csv.length, 5);
    assert.match(csv[1] ?? '', /^0,2,0,/);
  });
});

describe('labs: reaction times', () => {
  const startMs = 0;
  const seconds = perSecond(
    Array.from({ length: 200 }, (_, i) => rec(i * 100, 10, i * 100 >= 12_000 && i % 10 !== 0 ? 'b' : i % 2 ? 'a' : 'b')),
    startMs,
    20,
  );
  it('from the onset on a congested link to the weights hint and to the traffic shift', () => {
    const r = reactionTimes({
      injectedAt: 10_000,
      links: ['L1'],
      events: [
        { ts: 9_000, event: 'congestion_onset', linkId: 'L1' }, // before the injection: not it
        { ts: 10_500, event: 'congestion_onset', linkId: 'other' },
        { ts: 11_000, event: 'congestion_onset', linkId: 'L1' },
      ],
      weights: [
        { ts: 5_000, weight: 500 },
        { ts: 10_200, weight: 500 },
        { ts: 11_400, weight: 100 },
      ],
      seconds,
      startMs,
      replica: 'a',
    });
    assert.equal(r.onsetTs, 11_000);
    assert.equal(r.weightTs, 11_400);
    assert.equal(r.onsetToWeightMs, 400);
    assert.equal(r.shiftTs, 12_000);
    assert.equal(r.onsetToShiftMs, 1000);
    assert.equal(r.injectToShiftMs, 2000);
  });
  it('leaves out what did not happen (baseline: no weights, no shift)', () => {
    const flat = perSecond(Array.from({ length: 200 }, (_, i) => rec(i * 100, 10, i % 2 ? 'a' : 'b')), 0, 20);
    const r = reactionTimes({ injectedAt: 10_000, links: ['L1'], events: [{ ts: 10_900, event: 'congestion_onset', linkId: 'L1' }], weights: [], seconds: flat, startMs: 0, replica: 'a' });
    assert.equal(r.injectToOnsetMs, 900);
    assert.equal(r.weightTs, undefined);
    assert.equal(r.shiftTs, undefined);
    assert.equal('onsetToWeightMs' in r, false);
  });
  it('a weight change before the onset event is a negative reaction time, not dropped', () => {
    const r = reactionTimes({ injectedAt: 0, links: ['L'], events: [{ ts: 900, event: 'congestion_onset', linkId: 'L' }], weights: [{ ts: 400, weight: 300 }], seconds: [], startMs: 0, replica: 'a' });
    assert.equal(r.onsetToWeightMs, -500);
  });
});

describe('labs: charts', () => {
  it('draws series, spans, markers and a legend as one SVG document', async () => {
    const svg = await lineChart({
      title: 'p99 <latency> & more',
      xLabel: 'seconds',
      yLabel: 'ms',
      series: [
        { name: 'on', points: [[0, 10], [1, 20], [2, null], [3, 40]] },
        { name: 'off', points: [[0, 30], [1, 60]], dashed: true },
      ],
      spans: [{ from: 1, to: 2, label: 'congestion' }],
      markers: [{ x: 1.5, label: 'onset' }],
      yLog: true,
    });
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, /<\/svg>\n$/);
    assert.ok(svg.includes('p99 &lt;latency&gt; &amp; more'));
    for (const text of ['>congestion<', '>onset<', '>on<', '>off<', '>seconds<']) assert.ok(svg.includes(text), text);
    // The null breaks the first series into two pieces: its line path has two move commands.
    const lines = [...svg.matchAll(/<path [^>]*aria-roledescription="line mark" d="(M[^"]+)"[^>]*stroke="#1f77b4"/g)].map((m) => m[1] ?? '');
    assert.equal(lines.length, 1);
    assert.equal((lines[0]?.match(/M/g) ?? []).length, 2);
    assert.ok(svg.includes('stroke-dasharray="6,3"'));
  });
  it('does not fail on empty data', async () => {
    assert.match(await lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [] }), /<\/svg>/);
  });
  it('puts labels of nearby events in different lanes, and reuses a lane once it is clear', () => {
    const lanes = layoutLabels([
      { x: 100, text: 'congestion onset' },
      { x: 104, text: 'weights moved' },
      { x: 108, text: 'shift' },
      { x: 400, text: 'recovered' },
    ]).map((l) => l.lane);
    assert.deepEqual(lanes, [0, 1, 2, 0]);
  });
  it('nice axis tops', () => {
    assert.deepEqual([0.7, 1, 3, 7, 12, 999].map(niceCeil), [1, 1, 5, 10, 20, 1000]);
  });
});

describe('labs: management subnet and progress line', () => {
  it('picks a subnet per run, past the ones in use', () => {
    const n = pickSubnet('ab12', new Set());
    assert.ok(n >= 1 && n <= 250);
    assert.equal(pickSubnet('ab12', new Set()), n);
    assert.notEqual(pickSubnet('ab12', new Set([n])), n);
  });
  it('formats phase, elapsed, remaining and live p99', () => {
    assert.equal(formatProgress({ lab: 'q', variant: 'on', phase: 'congestion', elapsedMs: 12_400, remainingMs: 7_600, p99Ms: 123.4, requests: 5 }), 'q/on congestion  12s elapsed, 8s left, p99 123 ms, 5 requests');
  });
});
