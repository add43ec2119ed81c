import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { VirtualClock } from '../../bus/clock.ts';
import { connectBus } from '../../bus/client.ts';
import { FileEventLog, openEventSource } from '../../bus/eventlog/index.ts';
import type { Hint } from '../../bus/hints.ts';
import { HintPublisher, type PublishClient } from '../../bus/publisher.ts';
import { recordHints } from '../../bus/recorder.ts';
import { bodyOf, parseTimeBound, replayHints } from '../../bus/replay.ts';
import { subscribeHints } from '../../bus/subscriber.ts';
import { topics } from '../../bus/topics.ts';
import { register as registerReplay } from '../../cli/replay.ts';
import { register as registerHints, formatHintLine } from '../../cli/hints.ts';
import { startMosquitto, type Service } from '../support/services.ts';
import { bodies, eventAt, full } from './fixtures.ts';
import { until } from './support.ts';

/** A publish client that records instead of sending: replay's unit tests need no broker. */
function recordingClient(clock: VirtualClock) {
  const sent: Array<{ topic: string; hint: Hint; at: number }> = [];
  const client: PublishClient = {
    publishAsync: async (topic: string, message: string | Buffer) => {
      sent.push({ topic, hint: JSON.parse(message.toString()) as Hint, at: clock.now() });
      return undefined;
    },
  } as PublishClient;
  return { client, sent };
}

const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const recorded: Hint[] = [
  eventAt(T0, 1, 'link_up'),
  eventAt(T0 + 1000, 2, 'congestion_onset'),
  eventAt(T0 + 3000, 3, 'link_down'),
  eventAt(T0 + 3500, 4, 'link_up'),
];

describe('replay', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshflow-replay-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('re-publishes a file log: same events, same order, spacing scaled by speed (injected clock)', async () => {
    const path = join(dir, 'rec.jsonl');
    const log = await FileEventLog.open(path);
    for (const h of recorded) await log.append(h);
    await log.close();

    const clock = new VirtualClock(5_000_000);
    const { client, sent } = recordingClient(clock);
    const progress: number[] = [];
    const result = await replayHints(openEventSource(path), {
      publisher: new HintPublisher(client, { source: 'replayer', clock }),
      speed: 2,
      clock,
      onProgress: (p) => progress.push(p.done * 10 + p.total),
    });
    assert.equal(result.published, 4);
    assert.deepEqual(clock.sleeps, [500, 1000, 250]);
    assert.deepEqual(sent.map((s) => s.at - 5_000_000), [0, 500, 1500, 1750]);
    assert.equal(result.elapsedMs, 1750);
    assert.deepEqual(sent.map((s) => bodyOf(s.hint)), recorded.map(bodyOf));
    assert.deepEqual(sent.map((s) => s.topic), recorded.map(() => topics.events()));
    for (const [i, s] of sent.entries()) {
      assert.equal(s.hint.replayed, true);
      assert.equal(s.hint.originalTs, recorded[i]?.ts);
      assert.equal(s.hint.source, 'replayer');
      assert.equal(s.hint.seq, i + 1);
      assert.equal(s.hint.ts, s.at);
    }
    assert.deepEqual(progress, [14, 24, 34, 44]);
  });

  it('speed 1 keeps the original spacing; speed 0.5 doubles it', async () => {
    for (const [speed, want] of [[1, [1000, 2000, 500]], [0.5, [2000, 4000, 1000]]] as const) {
      const clock = new VirtualClock(0);
      const { client } = recordingClient(clock);
      await replayHints(recorded, { publisher: new HintPublisher(client, { source: 'r', clock }), speed, clock });
      assert.deepEqual(clock.sleeps, want);
    }
  });

  it('cuts with from/to, as ms epoch or ISO 8601', async () => {
    const clock = new VirtualClock(0);
    const { client, sent } = recordingClient(clock);
    await replayHints(recorded, {
      publisher: new HintPublisher(client, { source: 'r', clock }),
      from: '2025-01-01T00:00:01.000Z',
      to: String(T0 + 3000),
      clock,
    });
    assert.deepEqual(sent.map((s) => s.hint.originalTs), [T0 + 1000, T0 + 3000]);
    // The first hint after a cut goes at once: the gap before it is not replayed.
    assert.deepEqual(clock.sleeps, [2000]);
    assert.equal(parseTimeBound(' 1234 '), 1234);
    assert.throws(() => parseTimeBound('yesterday'), RangeError);
  });

  it('a re-replayed hint keeps the first originalTs', async () => {
    const clock = new VirtualClock(0);
    const { client, sent } = recordingClient(clock);
    const twice = full('event', { ts: 900, replayed: true, originalTs: 100 });
    await replayHints([twice], { publisher: new HintPublisher(client, { source: 'r', clock }), clock });
    assert.equal(sent[0]?.hint.originalTs, 100);
  });

  it('stops when aborted', async () => {
    const clock = new VirtualClock(0);
    const { client, sent } = recordingClient(clock);
    const abort = new AbortController();
    await assert.rejects(
      replayHints(recorded, {
        publisher: new HintPublisher(client, { source: 'r', clock }),
        clock,
        signal: abort.signal,
        onProgress: (p) => p.done === 2 && abort.abort(new Error('stop')),
      }),
      /stop/,
    );
    assert.equal(sent.length, 2);
  });

  describe('over Mosquitto', () => {
    let mosq: Service;
    before(async () => {
      mosq = await startMosquitto();
    });
    after(async () => {
      await mosq?.stop();
    });

    it('record from the bus, then replay for real at speed 10 (generous timing bound)', async () => {
      // Record: events published live go through the recorder into a file.
      const path = join(dir, 'live.jsonl');
      const log = await FileEventLog.open(path);
      const rec = await recordHints(mosq.url, log);
      const live = await connectBus(mosq.url);
      const pub = new HintPublisher(live, { source: 'ctl' });
      const originals: Hint[] = [];
      for (const [i, name] of (['link_up', 'congestion_onset', 'congestion_clear', 'link_down'] as const).entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, 100));
        const h = await pub.publish({ kind: 'event', event: name, linkId: bodies.event.linkId });
        if (h !== undefined) originals.push(h);
      }
      await until(() => rec.receivedCount === 4, 'recorded 4');
      await rec.close();
      await log.close();

      // Replay: ~300 ms of recording at speed 10 is ~30 ms.
      const got: Hint[] = [];
      const sub = await subscribeHints(mosq.url, [topics.events()], (h) => void got.push(h));
      const t0 = Date.now();
      const result = await replayHints(openEventSource(path), {
        publisher: new HintPublisher(live, { source: 'replayer' }),
        speed: 10,
      });
      const wall = Date.now() - t0;
      await until(() => got.length === 4, 'replayed 4');
      await sub.close();
      await live.endAsync();
      const span = originals[3]!.ts - originals[0]!.ts;
      assert.ok(result.elapsedMs >= span / 10 - 5, `elapsed ${result.elapsedMs} for span ${span}`);
      assert.ok(wall < span / 10 + 1000, `wall ${wall}`);
      assert.deepEqual(got.map(bodyOf), originals.map(bodyOf));
      assert.deepEqual(got.map((h) => h.originalTs), originals.map((h) => h.ts));
      assert.ok(got.every((h) => h.replayed === true && h.source === 'replayer'));
    });

    it('the replay CLI publishes a file (and the hints CLI formats lines)', async () => {
      const path = join(dir, 'cli.jsonl');
      const log = await FileEventLog.open(path);
      for (const h of recorded) await log.append(h);
      await log.close();
      const got: Hint[] = [];
      const sub = await subscribeHints(mosq.url, [topics.events()], (h) => void got.push(h));
      const program = new Command('meshflow').exitOverride();
      registerReplay(program);
      registerHints(program);
      const log0 = console.log;
      console.log = () => {};
      try {
        await program.parseAsync(['replay', path, '--mqtt-url', mosq.url, '--speed', '1000', '--no-progress', '--from', String(T0 + 1)], { from: 'user' });
      } finally {
        console.log = log0;
      }
      await until(() => got.length === 3, 'three after --from');
      await sub.close();
      assert.deepEqual(got.map((h) => h.originalTs), [T0 + 1000, T0 + 3000, T0 + 3500]);
      const line = formatHintLine(got[0]!, { topic: topics.events(), retained: false });
      assert.match(line, /event .*\(replayed\) +congestion_onset/);
      assert.match(formatHintLine(full('link_state'), { topic: 't', retained: true }), /congested util=92\.0%/);
    });
  });
});
