// Compute priority in the labs' services (labs/workers.ts): with every worker busy, waiting
// interactive requests start before batch ones that came earlier; the FIFO baseline keeps arrival
// order; a free worker starts work at once.
import assert from 'node:assert/strict';
import { workClassOf, Workers } from '../../labs/workers.ts';

describe('labs: compute priority (workers)', () => {
  const run = (w: Workers, log: string[], name: string, cls: 'high' | 'normal' | 'low'): void => w.submit(cls, () => log.push(name));

  it('starts at once while workers are free, then serves waiting high before normal before low', () => {
    const w = new Workers(2);
    const log: string[] = [];
    run(w, log, 'b1', 'low');
    run(w, log, 'b2', 'low');
    assert.deepEqual(log, ['b1', 'b2']);
    run(w, log, 'b3', 'low');
    run(w, log, 'n1', 'normal');
    run(w, log, 'i1', 'high');
    run(w, log, 'i2', 'high');
    assert.equal(w.waitingCount(), 4);
    for (let i = 0; i < 4; i++) w.done();
    assert.deepEqual(log, ['b1', 'b2', 'i1', 'i2', 'n1', 'b3']);
    assert.equal(w.counters.queued, 4);
  });

  it('FIFO baseline: arrival order whatever the class', () => {
    const w = new Workers(1, false);
    const log: string[] = [];
    for (const [n, c] of [['b1', 'low'], ['b2', 'low'], ['i1', 'high']] as const) run(w, log, n, c);
    w.done();
    w.done();
    assert.deepEqual(log, ['b1', 'b2', 'i1']);
  });

  it('a worker done with nobody waiting is free again', () => {
    const w = new Workers(1);
    const log: string[] = [];
    run(w, log, 'a', 'low');
    w.done();
    run(w, log, 'b', 'high');
    assert.deepEqual(log, ['a', 'b']);
    assert.equal(w.counters.queued, 0);
    assert.throws(() => new Workers(0));
    assert.equal(workClassOf('high'), 'high');
    assert.equal(workClassOf('bulk'), 'normal');
    assert.equal(workClassOf(undefined), 'normal');
  });
});
