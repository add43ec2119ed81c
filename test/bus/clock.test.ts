import assert from 'node:assert/strict';
import { VirtualClock } from '../../bus/clock.ts';

describe('virtual clock', () => {
  it('fires timeouts once and intervals every period, in time order, as time advances', () => {
    const c = new VirtualClock(1000);
    const seen: string[] = [];
    c.setTimeout(() => seen.push(`t@${c.now()}`), 250);
    const stop = c.setInterval(() => seen.push(`i@${c.now()}`), 100);
    c.advance(300);
    assert.deepEqual(seen, ['i@1100', 'i@1200', 't@1250', 'i@1300']);
    stop();
    c.advance(1000);
    assert.equal(seen.length, 4, 'a cancelled interval stays quiet');
    assert.equal(c.now(), 2300);
  });

  it('moves time on sleep and records each wait', async () => {
    const c = new VirtualClock();
    let fired = 0;
    c.setTimeout(() => fired++, 50);
    await c.sleep(40);
    assert.equal(fired, 0);
    await c.sleep(10);
    assert.equal(fired, 1);
    assert.deepEqual(c.sleeps, [40, 10]);
  });
});
