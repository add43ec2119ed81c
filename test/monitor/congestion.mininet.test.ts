// Congestion end to end on the diamond in Mininet: an iperf3 flow fills one of the two paths; the
// controller must call exactly the links it loads congested (seen by mosquitto_sub on a real
// Mosquitto, each hint valid against the shipped JSON Schemas), leave the idle ones ok, clear them when
// the flow stops, and show the loaded path as the worst of the two in the cost map. The same events land in
// the file log and, through a recorder on the bus, in a real Redis stream; replaying the file gives
// them back in order.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Ajv } from 'ajv';
import { costEntries, type Hint, type CostRowHint, type EventHint, type LinkStateHint } from '../../bus/hints.ts';
import { recordHints } from '../../bus/recorder.ts';
import { RedisEventLog, readFileLog } from '../../bus/eventlog/index.ts';
import type { HintSubscription } from '../../bus/subscriber.ts';
import type { Assessment } from '../../controller/monitor/assess.ts';
import { startMosquitto, startRedis, type Service } from '../support/services.ts';
import { startControlledNetwork, type ControlledNetwork } from '../support/mininet.ts';
import { waitFor } from '../support/wait.ts';

const POLL_MS = 500;
const schemaDir = new URL('../../bus/schemas/', import.meta.url);

/** mosquitto_sub -v: every message on the bus, as (topic, parsed payload), validated by the shipped schemas. */
class BusWitness {
  readonly seen: { topic: string; hint: Hint }[] = [];
  readonly invalid: string[] = [];
  private constructor(private readonly child: ChildProcess) {}

  static async start(port: number): Promise<BusWitness> {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validators = new Map<string, ReturnType<typeof ajv.compile>>();
    for (const f of (await readdir(schemaDir)).filter((n) => n.endsWith('.schema.json'))) {
      const schema = JSON.parse(await readFile(new URL(f, schemaDir), 'utf8')) as { $id?: string };
      validators.set(f.replace('.schema.json', ''), ajv.compile(schema));
    }
    const child = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-v', '-t', 'meshflow/v1/#', '-q', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const w = new BusWitness(child);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const space = line.indexOf(' ');
      const topic = line.slice(0, space);
      const payload = JSON.parse(line.slice(space + 1)) as Hint;
      const validate = validators.get(payload.kind);
      if (!validate || !validate(payload)) w.invalid.push(`${topic}: ${JSON.stringify(validate?.errors ?? 'unknown kind')}`);
      else w.seen.push({ topic, hint: payload });
    });
    return w;
  }

  of<K extends Hint['kind']>(kind: K): Extract<Hint, { kind: K }>[] {
    return this.seen.map((s) => s.hint).filter((h): h is Extract<Hint, { kind: K }> => h.kind === kind);
  }

  stop(): void {
    this.child.kill();
  }
}

describe('congestion on the diamond (Mininet, Mosquitto, Redis)', function () {
  this.timeout(180_000);
  let mosquitto: Service;
  let redis: Service;
  let dir: string;
  let cn: ControlledNetwork;
  let witness: BusWitness;
  let recorder: HintSubscription;
  let redisLog: RedisEventLog;
  const assessments: Assessment[] = [];
  let loaded: string[] = [];
  let idle: string[] = [];

  before(async function () {
    this.timeout(300_000);
    dir = await mkdtemp(join(tmpdir(), 'meshflow-congestion-'));
    mosquitto = await startMosquitto();
    redis = await startRedis();
    witness = await BusWitness.start(mosquitto.port);
    redisLog = new RedisEventLog(redis.url, { key: 'meshflow:test:events' });
    recorder = await recordHints(mosquitto.url, redisLog);
    cn = await startControlledNetwork('diamond', { mqttUrl: mosquitto.url, eventLog: join(dir, 'events.jsonl'), pollIntervalMs: POLL_MS });
    cn.running.monitor.on('assessed', (a) => assessments.push(a));
    assert.ok(await cn.ping('h1', 'h3'), 'h1 reaches h3');
    await waitFor('all eight link directions', () => cn.running.network.discovery.links.size === 8 && [...cn.running.network.discovery.links.values()].every((l) => l.state === 'up'));
  });

  after(async () => {
    witness?.stop();
    await recorder?.close();
    await redisLog?.close();
    await cn?.stop();
    await redis?.stop();
    await mosquitto?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('calls congested exactly the links an iperf3 flow fills, within three polls, and leaves the rest ok', async () => {
    const { net } = cn;
    const server = await net.spawn('h3', 'iperf3 -s -1');
    await waitFor('iperf3 server', async () => (await net.cmd('h3', 'ss -ltn')).output.includes(':5201'));
    const client = await net.spawn('h1', `iperf3 -c ${cn.ip('h3')} -t 12`);
    const onsets = await waitFor(
      'congestion onset events',
      () => {
        const e = witness.of('event').filter((h) => h.event === 'congestion_onset');
        return e.length >= 2 ? e : undefined;
      },
      { timeoutMs: 20_000 },
    );
    loaded = [...new Set(onsets.map((e) => e.linkId!))].sort();
    const s1 = cn.dpid('s1');
    const s4 = cn.dpid('s4');
    const viaS2 = [`${s1}:3-${cn.dpid('s2')}:1`, `${cn.dpid('s2')}:2-${s4}:3`].sort();
    const viaS3 = [`${s1}:4-${cn.dpid('s3')}:1`, `${cn.dpid('s3')}:2-${s4}:4`].sort();
    assert.ok(
      JSON.stringify(loaded) === JSON.stringify(viaS2) || JSON.stringify(loaded) === JSON.stringify(viaS3),
      `congested links ${loaded.join(', ')} are one whole forward path`,
    );
    idle = [...cn.running.network.discovery.links.keys()].filter((id) => !loaded.includes(id));
    // Within three polling intervals: the level turns on, at most, the third sample that saw the load.
    for (const id of loaded) {
      const series = assessments.map((a) => a.loads.get(id)!).filter(Boolean);
      const firstLoaded = series.findIndex((l) => l.sampleUtilization > 0.85);
      const firstCongested = series.findIndex((l) => l.level === 'congested');
      assert.ok(firstLoaded >= 0 && firstCongested >= firstLoaded, `${id}: load seen at poll ${firstLoaded}, congested at ${firstCongested}`);
      assert.ok(firstCongested - firstLoaded <= 2, `${id}: congested ${firstCongested - firstLoaded + 1} polls after the load`);
    }
    const states = witness.of('link_state');
    for (const id of loaded) assert.ok(states.some((s) => s.linkId === id && s.level === 'congested'), `link_state congested for ${id}`);
    for (const id of idle) assert.ok(!states.some((s) => s.linkId === id && s.level === 'congested'), `${id} never congested`);
    assert.deepEqual(witness.invalid, [], 'every hint on the bus is valid against its schema');

    // The cost row of s1: one entry for s4 over two equal-cost paths, the most loaded one congested
    // and the best one not; the paths themselves come from the map (REST), not from the row.
    const entry = await waitFor('a cost row of s1 pricing the loaded path', () => {
      const rows = witness.of('cost_row').filter((r: CostRowHint) => r.srcPid === s1);
      const last = rows.at(-1);
      const toS4 = last === undefined ? undefined : costEntries(last.costs).find((c) => c.dstPid === s4);
      return toS4 !== undefined && toS4.paths === 2 && toS4.worstLevel === 'congested' ? toS4 : undefined;
    });
    assert.notEqual(entry.level, 'congested');
    assert.ok(entry.worstUtilization > entry.bottleneckUtilization);
    assert.ok(entry.worstAvailableBps < entry.availableBps);
    assert.ok(entry.aggregateBps >= entry.availableBps);
    const paths = cn.running.monitor.costMap.paths(s1, s4);
    assert.equal(paths.length, 2);
    assert.ok(paths.some((p) => [...p].sort().join() === loaded.join()), `one of ${JSON.stringify(paths)} is the loaded path ${loaded.join()}`);

    await net.kill(client);
    await net.kill(server).catch(() => undefined);
    const clears = await waitFor(
      'congestion to clear',
      () => {
        const c = witness.of('event').filter((h: EventHint) => h.event === 'congestion_clear');
        return loaded.every((id) => c.some((e) => e.linkId === id)) ? c : undefined;
      },
      { timeoutMs: 20_000 },
    );
    assert.ok(clears.length >= loaded.length);
    const lastState = (id: string): LinkStateHint | undefined => witness.of('link_state').filter((s) => s.linkId === id).at(-1);
    for (const id of loaded) assert.notEqual(lastState(id)?.level, 'congested');
  });

  it('records the same events in the file log and in a Redis stream, in the same order', async () => {
    const fromFile = (await readFileLog(join(dir, 'events.jsonl'))).filter((h) => h.kind === 'event');
    assert.ok(fromFile.some((h) => h.kind === 'event' && h.event === 'congestion_onset'));
    const key = (h: Hint): string => `${h.source}#${h.seq}`;
    await waitFor('the recorder to catch up', async () => {
      await redisLog.flush();
      return (await redisLog.read()).length >= fromFile.length;
    });
    const fromRedis = await redisLog.read();
    assert.deepEqual(fromRedis.map(key), fromFile.map(key));
    assert.deepEqual(fromRedis, fromFile);
  });

  it('replays the file log to a subscriber: the same events, in order, marked replayed, spacing scaled', async () => {
    const recorded = (await readFileLog(join(dir, 'events.jsonl'))).filter((h) => h.kind === 'event');
    const span = recorded.at(-1)!.ts - recorded[0]!.ts;
    const speed = 4;
    const before = witness.seen.length;
    const started = Date.now();
    const replay = spawn(process.execPath, ['bin/meshflow.js', 'replay', join(dir, 'events.jsonl'), '--mqtt-url', mosquitto.url, '--speed', String(speed), '--no-progress'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const code = await new Promise<number | null>((resolve) => replay.once('exit', resolve));
    assert.equal(code, 0);
    const took = Date.now() - started;
    const replayed = await waitFor('every replayed event', () => {
      const r = witness.seen.slice(before).map((s) => s.hint).filter((h) => h.replayed === true);
      return r.length >= recorded.length ? r : undefined;
    });
    assert.deepEqual(
      replayed.map((h) => (h.kind === 'event' ? `${h.event}:${h.linkId ?? h.dpid}:${h.originalTs}` : h.kind)),
      recorded.map((h) => (h.kind === 'event' ? `${h.event}:${h.linkId ?? h.dpid}:${h.ts}` : h.kind)),
    );
    // The replay took about span / speed (start-up of the command on top), not the recorded span.
    assert.ok(took >= span / speed - 50, `replay took ${took} ms for a ${span} ms recording at ${speed}x`);
    if (span > 8000) assert.ok(took < span * 0.75, `replay took ${took} ms, not scaled down from ${span} ms`);
  });
});
