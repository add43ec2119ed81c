// Which cost rows go on the bus and when: material changes only, one per pid per interval,
// structure changes at once, and a refresh that keeps retained rows fresh.
import assert from 'node:assert/strict';
import type { CostEntry, CostMapChange } from '../../controller/monitor/costmap.ts';
import { materiallyChanged, RowGate } from '../../controller/monitor/rowgate.ts';

const P1 = '0000000000000001';
const P2 = '0000000000000002';

function entry(u: number, over: Partial<CostEntry> = {}): CostEntry {
  const room = Math.round((1 - u) * 1e9);
  return { dstPid: P2, hops: 2, paths: 2, bottleneckUtilization: u, availableBps: room, worstUtilization: u, worstAvailableBps: room, aggregateBps: 2 * room, level: 'ok', worstLevel: 'ok', ...over };
}

const changed = (structural = false): CostMapChange => ({ rows: new Set([P1]), structural: new Set(structural ? [P1] : []) });

describe('monitor: cost row gate', () => {
  it('sends a first row at once, then only material changes, at most once per interval', () => {
    const gate = new RowGate({ delta: 0.05, minIntervalMs: 1000, refreshMs: 10_000 });
    let row: CostEntry[] = [entry(0.1)];
    const rowOf = () => row;
    assert.deepEqual(gate.changed(changed(), rowOf, 0), [P1]);
    gate.sent(P1, row, 0);
    // Below delta: nothing now, nothing later (until the refresh).
    row = [entry(0.13)];
    assert.deepEqual(gate.changed(changed(), rowOf, 2000), []);
    assert.deepEqual(gate.due(3000, rowOf), []);
    // Material, but within the interval of the last send: held, then sent when due.
    gate.sent(P1, row, 2500);
    row = [entry(0.5)];
    assert.deepEqual(gate.changed(changed(), rowOf, 2700), []);
    assert.deepEqual(gate.due(3000, rowOf), []);
    assert.deepEqual(gate.due(3500, rowOf), [P1]);
    gate.sent(P1, row, 3500);
    assert.deepEqual(gate.due(3600, rowOf), []);
  });

  it('drops a held row that moved back before its turn', () => {
    const gate = new RowGate({ minIntervalMs: 1000 });
    let row: CostEntry[] = [entry(0.1)];
    const rowOf = () => row;
    gate.sent(P1, row, 0);
    row = [entry(0.6)];
    assert.deepEqual(gate.changed(changed(), rowOf, 100), []);
    row = [entry(0.11)];
    assert.deepEqual(gate.due(1500, rowOf), []);
  });

  it('sends a structure change at once, rate limit or not', () => {
    const gate = new RowGate({ minIntervalMs: 1000 });
    let row: CostEntry[] = [entry(0.1)];
    const rowOf = () => row;
    gate.sent(P1, row, 0);
    row = [entry(0, { hops: 0, paths: 0, level: 'down', worstLevel: 'down' })];
    assert.deepEqual(gate.changed(changed(true), rowOf, 10), [P1]);
  });

  it('refreshes every row it sent, within the refresh period but not all at once, and forgets pids that are gone', () => {
    const gate = new RowGate({ refreshMs: 10_000 });
    const row = [entry(0.1)];
    const pids = Array.from({ length: 64 }, (_, i) => (i + 1).toString(16).padStart(16, '0'));
    for (const p of pids) gate.sent(p, row, 0);
    assert.deepEqual(gate.due(7499, () => row), [], 'none before three quarters of the period');
    const firstHalf = gate.due(8750, () => row).length;
    assert.ok(firstHalf > 8 && firstHalf < 56, `${firstHalf} of 64 refreshed by 8.75 s: spread over the last quarter`);
    assert.deepEqual(gate.due(10_000, () => row).sort(), [...pids].sort());
    gate.keepOnly([P1]);
    assert.deepEqual(gate.due(20_000, () => row), [P1]);
  });

  it('calls a level, a path count or a room move beyond delta material', () => {
    const a = [entry(0.1)];
    assert.equal(materiallyChanged(a, [entry(0.1, { worstLevel: 'warning' })]), true);
    assert.equal(materiallyChanged(a, [entry(0.1, { paths: 1 })]), true);
    assert.equal(materiallyChanged(a, [entry(0.1, { paths: 4 })]), false, 'more paths rides along with the next row');
    assert.equal(materiallyChanged(a, [entry(0.1, { aggregateBps: a[0]!.aggregateBps / 2 })]), true);
    assert.equal(materiallyChanged(a, [entry(0.1, { worstUtilization: 0.2 })]), true);
    assert.equal(materiallyChanged(a, [entry(0.12)]), false);
    assert.equal(materiallyChanged(a, []), true);
  });
});
