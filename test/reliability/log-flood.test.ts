// Log floods: a warning an outside party can repeat at will becomes a few lines and a count.
import assert from 'node:assert/strict';
import { VirtualClock } from '../../bus/clock.ts';
import { LogLimiter, type LogSink } from '../../bus/log-limiter.ts';

interface Line {
  readonly level: string;
  readonly fields: Record<string, unknown>;
  readonly msg: string;
}

function sink(): { log: LogSink; lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => void lines.push({ level, fields, msg });
  return { log: { warn: at('warn'), info: at('info'), error: at('error') } as unknown as LogSink, lines };
}

describe('reliability: log floods become lines with counts', () => {
  it('100,000 malformed-message warnings in one window: 5 lines, then one "… and N more" line', () => {
    const clock = new VirtualClock(0);
    const { log, lines } = sink();
    const limited = new LogLimiter(log, { clock });
    for (let i = 0; i < 100_000; i++) limited.warn({ address: `10.0.0.1:${i}` }, 'malformed OpenFlow message');
    assert.equal(lines.length, 5);
    clock.advance(10_000);
    assert.equal(lines.length, 6);
    const summary = lines[5]!;
    assert.equal(summary.msg, 'malformed OpenFlow message … and 99995 more in the last 10 s');
    assert.equal(summary.fields['suppressed'], 99_995);
    // The last one stands as the example.
    assert.equal(summary.fields['address'], '10.0.0.1:99999');
    assert.equal(limited.suppressedTotal, 99_995);
  });

  it('a sustained flood: at most burst + 1 lines per window, whatever the rate', () => {
    const clock = new VirtualClock(0);
    const { log, lines } = sink();
    const limited = new LogLimiter(log, { clock, windowMs: 1000, burst: 2 });
    for (let t = 0; t < 10_000; t += 1) {
      limited.warn({}, 'bus client refused');
      clock.advance(1);
    }
    // Ten windows of 1 s: 2 lines and a summary each.
    assert.equal(lines.length, 30);
    assert.ok(lines.filter((l) => / … and \d+ more in the last 1 s$/.test(l.msg)).length === 10);
  });

  it('kinds are counted apart, and their number is bounded', () => {
    const clock = new VirtualClock(0);
    const { log, lines } = sink();
    const limited = new LogLimiter(log, { clock, burst: 1, maxKinds: 3 });
    for (let i = 0; i < 1000; i++) limited.warn({}, `kind ${i % 10}`);
    // Three kinds of their own, and one for every other: one line each before counting.
    assert.equal(lines.length, 4);
    limited.flush();
    assert.equal(lines.length, 8);
    assert.match(lines.map((l) => l.msg).join('\n'), /kind 0 … and 99 more/);
  });

  it('a quiet kind logs every line; flush writes nothing when nothing was held back', () => {
    const clock = new VirtualClock(0);
    const { log, lines } = sink();
    const limited = new LogLimiter(log, { clock, burst: 5 });
    for (let i = 0; i < 4; i++) {
      limited.error({ i }, 'switch reported an error');
      clock.advance(20_000);
    }
    limited.flush();
    assert.deepEqual(lines.map((l) => [l.level, l.fields['i']]), [['error', 0], ['error', 1], ['error', 2], ['error', 3]]);
  });
});
