// Delay probes without switches: the frame format, the sliding baseline, the prober's arithmetic
// (receive − send − both control-channel delays) on a virtual clock, the delay level beside the
// utilization level, the admission of probe packet-ins, and the hints carrying the figures.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Controller } from '../../controller/controller.ts';
import type { Discovery } from '../../controller/topology/discovery.ts';
import { linkId, type Endpoint, type Link } from '../../controller/topology/types.ts';
import { VirtualClock } from '../../bus/clock.ts';
import { buildEthernet, buildProbe, ETH_TYPE_PROBE, parseProbe, PROBE_MULTICAST, type Probe } from '../../controller/packet/index.ts';
import { Prober, probeOverheadBps, PROBE_WIRE_BYTES, slidingMin, type DelayFigures } from '../../controller/monitor/probes.ts';
import { assess, emptyAssessment, type Assessment } from '../../controller/monitor/assess.ts';
import { defaultDelayLevelSettings, defaultLevelSettings, validateLevelSettings } from '../../controller/monitor/levels.ts';
import type { PortRate } from '../../controller/monitor/rates.ts';
import { isLldpPacketIn } from '../../controller/admission.ts';
import { encode } from 'openflow-ts';
import { validateHint } from '../../bus/parse.ts';

const A = '00000000000000aa';
const B = '00000000000000bb';
const up = (src: Endpoint, dst: Endpoint): Link => ({ id: linkId(src, dst), src, dst, capacityBps: 1e7, state: 'up', since: 0, lastSeen: 0 });

describe('delay probe frames', () => {
  const probe: Probe = { instance: '0123456789abcdef', src: { dpid: A, port: 1 }, dst: { dpid: B, port: 2 }, seq: 7, sentAt: 1_700_000_000_123.456 };

  it('round-trips every field, the send time to the microsecond', () => {
    const r = parseProbe(buildProbe(probe));
    assert.ok(r.ok);
    assert.deepEqual(r.value, probe);
  });

  it('rejects a frame of the same ethertype without our mark, and a short one', () => {
    const other = buildProbe(probe);
    other[0] = 0;
    const r = parseProbe(other);
    assert.ok(!r.ok && r.code === 'PKT_NOT_THIS_PROTOCOL');
    const short = parseProbe(buildProbe(probe).subarray(0, 20));
    assert.ok(!short.ok && short.code === 'PKT_TRUNCATED');
  });

  it('costs well under 1% of a 10 Mbit/s link at one probe a second', () => {
    assert.equal(PROBE_WIRE_BYTES, 86);
    const share = probeOverheadBps(1000) / 10e6;
    console.log(`      probe overhead: ${probeOverheadBps(1000)} bit/s per link direction at 1 probe/s = ${(share * 100).toFixed(4)}% of 10 Mbit/s`);
    assert.ok(share < 0.01);
  });
});

describe('the sliding minimum (baseline)', () => {
  it('is the least value of the window, forgetting values older than it', () => {
    const w: { at: number; d: number }[] = [];
    assert.equal(slidingMin(w, 0, 5, 100), 5);
    assert.equal(slidingMin(w, 10, 7, 100), 5);
    assert.equal(slidingMin(w, 20, 3, 100), 3);
    assert.equal(slidingMin(w, 50, 9, 100), 3);
    // 3 (at 20) falls out of the window at 121: the least of what remains is 9.
    assert.equal(slidingMin(w, 121, 12, 100), 9);
    assert.equal(slidingMin(w, 500, 20, 100), 20);
    assert.ok(w.length <= 2);
  });
});

/** A switch that records packet-outs and answers echoes when the test says so. */
class FakeSwitch {
  readonly sent: Buffer[] = [];
  readonly echoes: (() => void)[] = [];
  readonly ports: Map<number, { hwAddr: string }>;
  constructor(
    readonly dpid: string,
    ports: number[],
  ) {
    this.ports = new Map(ports.map((p) => [p, { hwAddr: `02:00:00:00:00:${p.toString(16).padStart(2, '0')}` }]));
  }
  send(msg: { type: string; data?: Buffer }): number {
    if (msg.type === 'packet_out' && msg.data) this.sent.push(msg.data);
    return 1;
  }
  request(): Promise<unknown> {
    return new Promise((resolve) => this.echoes.push(() => resolve({ type: 'echo_reply' })));
  }
}

class FakeDiscovery extends EventEmitter {
  readonly instance = 'feedfacecafebeef';
  readonly links = new Map<string, Link>();
  interceptor: ((at: Endpoint, data: Buffer) => boolean) | undefined;
  intercept(fn: (at: Endpoint, data: Buffer) => boolean): () => void {
    this.interceptor = fn;
    return () => (this.interceptor = undefined);
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function setup() {
  const clock = new VirtualClock(1_700_000_000_000);
  const controller = new EventEmitter() as EventEmitter & { switches: Map<string, FakeSwitch> };
  const a = new FakeSwitch(A, [1]);
  const b = new FakeSwitch(B, [1]);
  controller.switches = new Map([
    [A, a],
    [B, b],
  ]);
  const discovery = new FakeDiscovery();
  const ab = up({ dpid: A, port: 1 }, { dpid: B, port: 1 });
  const ba = up({ dpid: B, port: 1 }, { dpid: A, port: 1 });
  discovery.links.set(ab.id, ab);
  discovery.links.set(ba.id, ba);
  const prober = new Prober(controller as unknown as Controller, discovery as unknown as Discovery, { intervalMs: 1000, clock });
  /** Echo replies after rttMs, from both switches. */
  const answerEchoes = async (rttMs: number): Promise<void> => {
    clock.advance(rttMs);
    for (const s of [a, b]) for (const f of s.echoes.splice(0)) f();
    await tick();
  };
  /** The probe a switch sent last, delivered to the far end after ms. */
  const deliver = (from: FakeSwitch, to: Endpoint, afterMs: number): boolean => {
    const data = from.sent.at(-1);
    assert.ok(data, `${from.dpid} sent a probe`);
    clock.advance(afterMs);
    return discovery.interceptor!(to, data);
  };
  return { clock, a, b, ab, ba, discovery, prober, answerEchoes, deliver };
}

describe('the prober', () => {
  it('sends one probe per link direction per interval, spread over it, and one echo per switch', async () => {
    const { clock, a, b, prober } = setup();
    prober.start();
    assert.equal(a.echoes.length, 1);
    assert.equal(b.echoes.length, 1);
    assert.equal(a.sent.length + b.sent.length, 0, 'no probe before the echoes had time to come back');
    clock.advance(300);
    assert.equal(a.sent.length + b.sent.length, 1, 'the first slot');
    clock.advance(700);
    assert.equal(a.sent.length + b.sent.length, 2, 'the second slot, within the interval');
    clock.advance(1000);
    assert.equal(a.sent.length, 2);
    assert.equal(b.sent.length, 2);
    assert.equal(prober.counters.sent, 4);
    prober.stop();
    clock.advance(5000);
    assert.equal(prober.counters.sent, 4, 'nothing after stop');
  });

  it('past its budget, probes the next share of the directions each round, so every one takes its turn', () => {
    const clock = new VirtualClock(1_700_000_000_000);
    const ports = Array.from({ length: 25 }, (_, i) => i + 1);
    const sw = new FakeSwitch(A, ports);
    const controller = new EventEmitter() as EventEmitter & { switches: Map<string, FakeSwitch> };
    controller.switches = new Map([
      [A, sw],
      [B, new FakeSwitch(B, ports)],
    ]);
    const discovery = new FakeDiscovery();
    for (let p = 1; p <= 25; p++) {
      const l = up({ dpid: A, port: p }, { dpid: B, port: p });
      discovery.links.set(l.id, l);
    }
    const prober = new Prober(controller as unknown as Controller, discovery as unknown as Discovery, { intervalMs: 1000, maxProbesPerSec: 10, clock });
    assert.equal(prober.perRound, 10);
    prober.start();
    const perRound: number[] = [];
    const probed = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const before = sw.sent.length;
      clock.advance(1000);
      perRound.push(sw.sent.length - before);
      for (const f of sw.sent.slice(before)) {
        const p = parseProbe(f.subarray(14));
        if (p.ok) probed.add(`${p.value.src.port}`);
      }
    }
    assert.deepEqual(perRound, [10, 10, 10], 'never more than the budget');
    assert.equal(probed.size, 25, 'every direction probed within three rounds');
    prober.stop();
  });

  it('measures one-way delay less both control channels, keeps the baseline, and reports the queue above it', async () => {
    const { clock, a, ab, prober, answerEchoes, deliver } = setup();
    prober.start();
    await answerEchoes(2); // RTT 2 ms: 1 ms each way on both switches
    assert.equal(prober.controlDelayMs(A), 1);
    clock.advance(248); // the first slot: A→B
    assert.equal(a.sent.length, 1);
    // 7 ms from send to packet-in: 1 ms to A, 5 ms on the link, 1 ms from B.
    assert.equal(deliver(a, ab.dst, 7), true, 'the probe is consumed');
    let fig = prober.figures(ab.id)!;
    assert.ok(Math.abs(fig.delayMs - 5) < 1e-6, `delay ${fig.delayMs}`);
    assert.equal(fig.baseDelayMs, fig.delayMs);
    assert.equal(fig.queueDelayMs, 0);
    const first = prober.take();
    assert.deepEqual([...first.keys()], [ab.id]);
    assert.equal(prober.take().size, 0, 'taken once');

    // The next round: a 20 ms queue on the link.
    clock.advance(1000 - 7 - 2);
    await answerEchoes(2); // the second round's echoes, and its first slot at the same instant
    assert.equal(a.sent.length, 2);
    deliver(a, ab.dst, 27);
    fig = prober.figures(ab.id)!;
    assert.ok(Math.abs(fig.delayMs - 25) < 1e-6);
    assert.ok(Math.abs(fig.baseDelayMs - 5) < 1e-6);
    assert.ok(Math.abs(fig.queueDelayMs - 20) < 1e-6);
    assert.equal(prober.counters.received, 2);
    prober.stop();
  });

  it('consumes probes of another controller and probes that arrive elsewhere, and leaves other frames alone', async () => {
    const { clock, a, b, ab, discovery, prober, answerEchoes } = setup();
    prober.start();
    await answerEchoes(1);
    clock.advance(300);
    const foreign = buildEthernet({
      dst: PROBE_MULTICAST,
      src: '02:00:00:00:00:01',
      ethType: ETH_TYPE_PROBE,
      payload: buildProbe({ instance: '0000000000000001', src: ab.src, dst: ab.dst, seq: 1, sentAt: clock.now() }),
    });
    assert.equal(discovery.interceptor!(ab.dst, foreign), true);
    assert.equal(prober.counters.foreign, 1);
    // Ours, but out of another port than the link's far end: the cabling changed.
    assert.equal(discovery.interceptor!({ dpid: B, port: 9 }, (a.sent.at(-1) ?? b.sent.at(-1))!), true);
    assert.equal(prober.counters.misdelivered, 1);
    assert.equal(prober.take().size, 0);
    const arp = buildEthernet({ dst: 'ff:ff:ff:ff:ff:ff', src: '02:00:00:00:00:01', ethType: 0x0806, payload: Buffer.alloc(28) });
    assert.equal(discovery.interceptor!(ab.dst, arp), false, 'not a probe: discovery handles it');
    prober.stop();
  });

  it('forgets a link direction that goes down', async () => {
    const { clock, a, ab, discovery, prober, answerEchoes, deliver } = setup();
    prober.start();
    await answerEchoes(2);
    clock.advance(248);
    deliver(a, ab.dst, 7);
    assert.ok(prober.figures(ab.id));
    discovery.emit('link_down', ab, 'expired');
    assert.equal(prober.figures(ab.id), undefined);
    prober.stop();
  });
});

describe('the delay level beside the utilization level', () => {
  const ab = up({ dpid: A, port: 1 }, { dpid: B, port: 1 });
  const ba = up({ dpid: B, port: 1 }, { dpid: A, port: 1 });
  const idleRates = new Map<string, PortRate>([
    [`${A}:1`, { txBps: 1e5, rxBps: 0, txDropsPerSec: 0, rxDropsPerSec: 0 } ],
    [`${B}:1`, { txBps: 1e5, rxBps: 0, txDropsPerSec: 0, rxDropsPerSec: 0 } ],
  ]);
  const delays = (q: number): Map<string, DelayFigures> =>
    new Map([
      [ab.id, { delayMs: 2 + q, baseDelayMs: 2, queueDelayMs: q }],
      [ba.id, { delayMs: 2, baseDelayMs: 2, queueDelayMs: 0 }],
    ]);

  it('raises congested from queueing delay alone, on the second sample above the onset, and clears it once three samples agree', () => {
    let a: Assessment = emptyAssessment;
    const levels: string[] = [];
    for (const q of [0, 30, 30, 30, 0, 0, 0, 0, 0]) {
      a = assess([ab, ba], idleRates, a, defaultLevelSettings, delays(q));
      levels.push(a.loads.get(ab.id)!.level);
      assert.equal(a.loads.get(ba.id)!.level, 'ok', 'the idle direction');
      assert.ok(a.loads.get(ab.id)!.utilization < 0.1, 'utilization alone says nothing');
    }
    // Smoothed 29 ms falls to 8.7 (warning), 2.6, 0.8, 0.2 (ok): the clear takes three ok samples in a row.
    assert.deepEqual(levels, ['ok', 'ok', 'congested', 'congested', 'congested', 'congested', 'congested', 'ok', 'ok']);
    const load = a.loads.get(ab.id)!;
    assert.equal(load.delayMs, 2);
    assert.equal(load.baseDelayMs, 2);
    assert.equal(load.queueDelayMs, 0);
    assert.equal(load.delayLevel, 'ok');
  });

  it('keeps the figures and the delay level of a direction with no probe back this poll', () => {
    let a = assess([ab, ba], idleRates, emptyAssessment, defaultLevelSettings, delays(30));
    a = assess([ab, ba], idleRates, a, defaultLevelSettings, delays(30));
    assert.equal(a.loads.get(ab.id)!.level, 'congested');
    a = assess([ab, ba], idleRates, a, defaultLevelSettings, new Map());
    assert.equal(a.loads.get(ab.id)!.level, 'congested');
    assert.equal(a.loads.get(ab.id)!.queueDelayMs, 30);
  });

  it('without probes, the level is utilization alone and no delay figure appears', () => {
    const a = assess([ab, ba], idleRates, emptyAssessment, defaultLevelSettings);
    assert.equal(a.loads.get(ab.id)!.delayMs, undefined);
    assert.equal(a.loads.get(ab.id)!.delayLevel, undefined);
  });

  it('validates delay thresholds', () => {
    assert.doesNotThrow(() => validateLevelSettings(defaultDelayLevelSettings, 'delay level settings'));
    assert.throws(() => validateLevelSettings({ ...defaultDelayLevelSettings, congestedClear: 25 }, 'delay level settings'), /delay level settings: congestedClear/);
    assert.throws(() => validateLevelSettings({ ...defaultDelayLevelSettings, warningClear: -1 }, 'delay level settings'), /thresholds/);
  });
});

describe('probe packet-ins at admission', () => {
  it('take the discovery bucket, like LLDP', () => {
    const frame = buildEthernet({
      dst: PROBE_MULTICAST,
      src: '02:00:00:00:00:01',
      ethType: ETH_TYPE_PROBE,
      payload: buildProbe({ instance: '0000000000000001', src: { dpid: A, port: 1 }, dst: { dpid: B, port: 1 }, seq: 1, sentAt: 1 }),
    });
    const raw = encode({
      type: 'packet_in',
      xid: 0,
      bufferId: 0xffffffff,
      totalLen: frame.length,
      reason: 0,
      tableId: 0,
      cookie: 0n,
      match: [{ field: 'in_port', value: 1 }],
      data: frame,
    });
    assert.equal(isLldpPacketIn(raw), true);
  });
});

describe('hints with delay figures', () => {
  const env = { v: 1, ts: 1, seq: 1, ttlMs: 1000, source: 'test' };
  it('a link_state carries delayMs, baseDelayMs and queueDelayMs', () => {
    const r = validateHint({
      ...env,
      v: 2,
      kind: 'link_state',
      linkId: `${A}:1-${B}:1`,
      src: { dpid: A, port: 1 },
      dst: { dpid: B, port: 1 },
      capacityBps: 1e7,
      rateBps: 0,
      utilization: 0,
      drops: 0,
      level: 'congested',
      delayMs: 25.5,
      baseDelayMs: 0.4,
      queueDelayMs: 25.1,
    });
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    const neg = validateHint({ ...env, v: 2, kind: 'link_state', linkId: `${A}:1-${B}:1`, src: { dpid: A, port: 1 }, dst: { dpid: B, port: 1 }, capacityBps: 1, rateBps: 0, utilization: 0, drops: 0, level: 'ok', queueDelayMs: -1 });
    assert.ok(!neg.ok);
  });

  it('a cost_row may carry a queueDelayMs column, one element per destination', () => {
    const costs = {
      dstPid: [B],
      hops: [1],
      paths: [1],
      bottleneckUtilization: [0],
      availableBps: [1e7],
      worstUtilization: [0],
      worstAvailableBps: [1e7],
      aggregateBps: [1e7],
      level: ['ok'],
      worstLevel: ['ok'],
    };
    const base = { ...env, v: 2, kind: 'cost_row', srcPid: A };
    assert.ok(validateHint({ ...base, costs }).ok, 'without the column');
    assert.ok(validateHint({ ...base, costs: { ...costs, queueDelayMs: [3.2] } }).ok, 'with it');
    const r = validateHint({ ...base, costs: { ...costs, queueDelayMs: [3.2, 1] } });
    assert.ok(!r.ok && r.error.code === 'HINT_ERR_MISMATCH');
  });
});
