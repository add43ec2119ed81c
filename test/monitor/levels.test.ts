import assert from 'node:assert/strict';
import { defaultLevelSettings, initialLevelState, nextLevel, validateLevelSettings, type LevelState } from '../../controller/monitor/levels.ts';
import { RateTracker } from '../../controller/monitor/rates.ts';

function run(samples: readonly number[], s = defaultLevelSettings): LevelState[] {
  const out: LevelState[] = [];
  let st = initialLevelState;
  for (const u of samples) out.push((st = nextLevel(st, u, s)));
  return out;
}

describe('congestion levels', () => {
  const sharp = { ...defaultLevelSettings, alpha: 1 };

  it('raises congestion only after onsetSamples consecutive samples above the onset', () => {
    const levels = run([0.1, 0.95, 0.95, 0.95], sharp).map((x) => x.level);
    assert.deepEqual(levels, ['ok', 'ok', 'congested', 'congested']);
  });

  it('with the defaults, a step from idle to a full link is congested on the third sample', () => {
    const levels = run([0.95, 0.95, 0.95]).map((x) => x.level);
    assert.equal(levels[2], 'congested');
    assert.ok(levels[0] !== 'congested' && levels[1] !== 'congested', levels.join(','));
  });

  it('ignores one noisy sample', () => {
    const levels = run([0.1, 0.99, 0.1, 0.1, 0.99, 0.1], sharp).map((x) => x.level);
    assert.ok(levels.every((l) => l === 'ok'), levels.join(','));
  });

  it('clears only below the clear threshold, after clearSamples samples', () => {
    // 0.8 is below the onset (0.85) but above the clear threshold (0.7): congestion holds.
    const levels = run([0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.3, 0.3, 0.3], sharp).map((x) => x.level);
    assert.deepEqual(levels, ['ok', 'congested', 'congested', 'congested', 'congested', 'congested', 'congested', 'congested', 'ok']);
  });

  it('does not flap when utilization hovers at the onset threshold', () => {
    const hover = Array.from({ length: 200 }, (_, i) => defaultLevelSettings.congestedOnset + (i % 2 ? 0.03 : -0.03));
    const levels = run(hover).map((x) => x.level);
    const changes = levels.filter((l, i) => i > 0 && l !== levels[i - 1]).length;
    assert.ok(changes <= 1, `${changes} level changes`);
  });

  it('smooths with the EWMA weight', () => {
    const [a, b] = run([1, 1], { ...defaultLevelSettings, alpha: 0.5 });
    assert.equal(a!.smoothed, 0.5);
    assert.equal(b!.smoothed, 0.75);
  });

  it('rejects settings whose clear threshold is not below the onset', () => {
    assert.throws(() => validateLevelSettings({ ...defaultLevelSettings, congestedClear: 0.9 }), /congestedClear/);
    assert.doesNotThrow(() => validateLevelSettings(defaultLevelSettings));
  });
});

describe('port rates', () => {
  const c = (tx: number, rx = 0, txd = 0) => ({ txBytes: BigInt(tx), rxBytes: BigInt(rx), txDropped: BigInt(txd), rxDropped: 0n });

  it('turns byte counters into bits per second', () => {
    const t = new RateTracker();
    assert.equal(t.update('a', 1, c(0), 0), undefined);
    const r = t.update('a', 1, c(125_000, 250_000, 10), 1000)!;
    assert.equal(r.txBps, 1_000_000);
    assert.equal(r.rxBps, 2_000_000);
    assert.equal(r.txDropsPerSec, 10);
  });

  it('re-bases on a counter reset instead of reporting a negative rate', () => {
    const t = new RateTracker();
    t.update('a', 1, c(1_000_000), 0);
    assert.equal(t.update('a', 1, c(10), 1000), undefined);
    assert.equal(t.update('a', 1, c(125_010), 2000)!.txBps, 1_000_000);
  });

  it('forgets a reconnected switch', () => {
    const t = new RateTracker();
    t.update('a', 1, c(0), 0);
    t.update('b', 1, c(0), 0);
    t.forgetSwitch('a');
    assert.equal(t.update('a', 1, c(100), 1000), undefined);
    assert.ok(t.update('b', 1, c(100), 1000));
  });
});
