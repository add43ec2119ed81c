// Port queues: which ports high-priority intents need queues on (both directions of the path,
// by interface name), the tc commands, and the service that runs them against a fake tc: queues go
// on at the rate the port is shaped to, move with the intent, and come off when it goes.
import assert from 'node:assert/strict';
import type { IntentPath, IntentRecord, IntentSpec } from '../../controller/intents/types.ts';
import { desiredQueues, highMark, queueChanges, type PortQueueSpec } from '../../controller/qos/plan.ts';
import { PortQueues } from '../../controller/qos/port-queues.ts';
import { HIGH_CLASSID, LOW_CLASSID, plainCommands, queueCommands, tosByte } from '../../controller/qos/tc-commands.ts';
import { parseRootQdiscs, htbRate } from '../../controller/topology/shaping.ts';

const S1 = '0000000000000001';
const S2 = '0000000000000002';
const S3 = '0000000000000003';
/** s1 —3/1— s2, host a on s1:2, host b on s2:2; s1 —4/1— s3 —2/3— s2 as the other way. */
const direct: IntentPath = {
  switches: [S1, S2],
  hops: [{ dpid: S1, inPort: 2, outPort: 3 }, { dpid: S2, inPort: 1, outPort: 2 }],
  links: ['l12'],
  reverseHops: [{ dpid: S2, inPort: 2, outPort: 1 }, { dpid: S1, inPort: 3, outPort: 2 }],
  reverseLinks: ['l21'],
  bottleneck: 0,
};
const around: IntentPath = {
  switches: [S1, S3, S2],
  hops: [{ dpid: S1, inPort: 2, outPort: 4 }, { dpid: S3, inPort: 1, outPort: 2 }, { dpid: S2, inPort: 3, outPort: 2 }],
  links: ['l13', 'l32'],
  reverseHops: [{ dpid: S2, inPort: 2, outPort: 3 }, { dpid: S3, inPort: 2, outPort: 1 }, { dpid: S1, inPort: 4, outPort: 2 }],
  reverseLinks: ['l23', 'l31'],
  bottleneck: 0,
};
const names: Record<string, string> = { [S1]: 's1', [S2]: 's2', [S3]: 's3' };
const portName = (dpid: string, port: number): string | undefined => (names[dpid] === undefined ? undefined : `${names[dpid]}-eth${port}`);

function record(id: string, extra: Partial<IntentSpec>, path: IntentPath = direct): IntentRecord {
  const spec: IntentSpec = { src: 'a', dst: 'b', srcMac: 'm1', dstMac: 'm2', traffic: { srcIp: '10.0.0.2', dstIp: '10.0.0.3', ipProto: 6, dstPort: 8081 }, policy: { name: 'shortest' }, ...extra };
  return { id, num: 1, spec, createdAt: 0, status: 'active', path, reason: undefined, version: 1, touched: new Set(), movedAt: 0 };
}

describe('qos: which ports get queues', () => {
  it('every egress port of a high intent, both directions, named as the interface', () => {
    const want = desiredQueues([record('i1', { priority: 'high', dscp: 46 })], portName);
    assert.deepEqual([...want.keys()].sort(), ['s1-eth2', 's1-eth3', 's2-eth1', 's2-eth2']);
    assert.deepEqual(want.get('s1-eth3'), { highDscps: [46] });
  });
  it('low, normal, unmarked and unsatisfiable intents need none; dscp 46 asked for directly is high', () => {
    const recs = [record('l', { priority: 'low', dscp: 8 }), record('n', { priority: 'normal', dscp: 0 }), record('u', {}), { ...record('x', { priority: 'high', dscp: 46 }), status: 'unsatisfiable' as const, path: undefined }];
    assert.equal(desiredQueues(recs, portName).size, 0);
    assert.equal(highMark(record('d', { dscp: 46 })), 46);
    assert.equal(highMark(record('d', { dscp: 10 })), undefined);
  });
  it('ports whose name is unknown are skipped', () => {
    assert.equal(desiredQueues([record('i', { priority: 'high', dscp: 46 })], () => undefined).size, 0);
  });
  it('changes: new ports and changed marks are applied, ports no longer wanted removed', () => {
    const spec = (d: number[]): PortQueueSpec => ({ highDscps: d });
    const c = queueChanges(new Map([['p1', spec([46])], ['p2', spec([46])], ['p3', spec([46])]]), new Map([['p1', spec([46])], ['p2', spec([34, 46])], ['p4', spec([46])]]));
    assert.deepEqual([...c.apply.keys()], ['p2', 'p4']);
    assert.deepEqual(c.remove, ['p3']);
  });
});

describe('qos: tc commands', () => {
  it('root HTB at the port rate, high (prio 0) and low (prio 1) children, EF and LLDP to high, everything else to low', () => {
    const cmds = queueCommands('s1-eth3', 10e6, [46]).map((c) => c.join(' '));
    assert.deepEqual(cmds, [
      'qdisc del dev s1-eth3 root',
      'qdisc add dev s1-eth3 root handle 1: htb',
      'class add dev s1-eth3 parent 1: classid 1:1 htb rate 10000kbit ceil 10000kbit burst 15k',
      `class add dev s1-eth3 parent 1:1 classid ${HIGH_CLASSID} htb rate 7000kbit ceil 10000kbit burst 15k prio 0`,
      `class add dev s1-eth3 parent 1:1 classid ${LOW_CLASSID} htb rate 3000kbit ceil 10000kbit burst 15k prio 1`,
      'qdisc add dev s1-eth3 parent 1:10 handle 10: pfifo limit 50',
      'qdisc add dev s1-eth3 parent 1:20 handle 20: pfifo limit 30',
      'filter add dev s1-eth3 parent 1: protocol ip prio 1 u32 match ip tos 0xb8 0xfc flowid 1:10',
      'filter add dev s1-eth3 parent 1: protocol 0x88cc prio 99 u32 match u32 0 0 flowid 1:10',
      'filter add dev s1-eth3 parent 1: protocol all prio 100 u32 match u32 0 0 flowid 1:20',
    ]);
    assert.equal(tosByte(8), 0x20);
    assert.throws(() => tosByte(64));
    assert.throws(() => queueCommands('x', 0, [46]), /rate/);
  });
  it('the queued tree still reads as the port rate to the capacity reader (no default class)', () => {
    const qjson = JSON.stringify([{ kind: 'htb', handle: '1:', root: true, options: { r2q: 10, default: '0' } }]);
    const root = parseRootQdiscs(qjson, 's1-eth3')[0];
    assert.ok(root);
    assert.equal(root.defaultClass, undefined);
    const classes = `class htb 1:10 parent 1:1 leaf 10: prio 0 rate 7Mbit ceil 10Mbit burst 15Kb cburst 1600b
class htb 1:1 root rate 10Mbit ceil 10Mbit burst 15Kb cburst 1600b
class htb 1:20 parent 1:1 leaf 20: prio 1 rate 3Mbit ceil 10Mbit burst 15Kb cburst 1600b
`;
    assert.equal(htbRate(classes, root), 10e6);
  });
  it('plain shaping put back: one HTB class at the rate, as a TCLink has it', () => {
    assert.deepEqual(plainCommands('p', 20e6).map((c) => c.join(' ')), ['qdisc del dev p root', 'qdisc add dev p root handle 5: htb default 1', 'class add dev p parent 5: classid 5:1 htb rate 20000kbit burst 15k']);
  });
});

/** A tc that knows each interface's root qdisc and classes as a TCLink leaves them, and records what it is asked. */
class FakeTc {
  readonly calls: string[] = [];
  readonly missing = new Set<string>();
  readonly netem = new Set<string>();
  constructor(private readonly rates: Record<string, number | undefined>) {}
  run = async (args: readonly string[]): Promise<string> => {
    const line = args.join(' ');
    this.calls.push(line);
    const dev = args[args.indexOf('dev') + 1] ?? '';
    if (this.missing.has(dev)) throw new Error(`Cannot find device "${dev}"`);
    const rate = this.rates[dev];
    if (line.startsWith('-j qdisc show dev')) {
      const root = rate === undefined ? [{ kind: 'noqueue', handle: '0:', root: true }] : [{ kind: 'htb', handle: '5:', root: true, options: { default: '0x1' } }];
      return JSON.stringify(this.netem.has(dev) ? [...root, { kind: 'netem', handle: '10:', parent: '5:1', options: { delay: { delay: 0.005 } } }] : root);
    }
    if (line.startsWith('class show dev')) return rate === undefined ? '' : `class htb 5:1 root prio 0 rate ${rate / 1e6}Mbit ceil ${rate / 1e6}Mbit burst 15Kb cburst 1600b\n`;
    return '';
  };
  changes(): string[] {
    return this.calls.filter((c) => !c.includes('show'));
  }
}

describe('qos: PortQueues against a fake tc', () => {
  const high = record('i1', { priority: 'high', dscp: 46 });
  const rates = { 's1-eth2': 20e6, 's1-eth3': 10e6, 's2-eth1': 10e6, 's2-eth2': 20e6, 's1-eth4': 10e6, 's3-eth1': 10e6, 's3-eth2': 10e6, 's2-eth3': 10e6 };

  it('puts queues on every egress port at the rate found there, and takes them off when the intent goes', async () => {
    const tc = new FakeTc(rates);
    const q = new PortQueues(portName, { run: tc.run });
    q.update([high]);
    await q.settled();
    assert.deepEqual([...q.ports().keys()].sort(), ['s1-eth2', 's1-eth3', 's2-eth1', 's2-eth2']);
    assert.ok(tc.calls.includes('class add dev s1-eth3 parent 1: classid 1:1 htb rate 10000kbit ceil 10000kbit burst 15k'));
    assert.ok(tc.calls.includes('class add dev s1-eth2 parent 1: classid 1:1 htb rate 20000kbit ceil 20000kbit burst 15k'));
    assert.equal(q.counters.applied, 4);
    tc.calls.length = 0;
    q.update([]);
    await q.settled();
    assert.equal(q.ports().size, 0);
    assert.ok(tc.calls.includes('class add dev s1-eth3 parent 5: classid 5:1 htb rate 10000kbit burst 15k'), 'the rate it had comes back');
    assert.ok(!tc.calls.some((c) => c.includes('show')), 'removal reads nothing: the rate was kept');
    assert.equal(q.counters.removed, 4);
  });

  it('a second high intent on the same ports changes nothing; the queues follow a moved path', async () => {
    const tc = new FakeTc(rates);
    const q = new PortQueues(portName, { run: tc.run });
    q.update([high]);
    await q.settled();
    const n = tc.changes().length;
    q.update([high, record('i2', { priority: 'high', dscp: 46, traffic: { srcIp: '10.0.0.2', dstIp: '10.0.0.3', ipProto: 6, dstPort: 8084 } })]);
    await q.settled();
    assert.equal(tc.changes().length, n, 'no tc run for ports that already hold the same queues');
    tc.calls.length = 0;
    q.update([{ ...high, path: around }]);
    await q.settled();
    assert.deepEqual([...q.ports().keys()].sort(), ['s1-eth2', 's1-eth4', 's2-eth2', 's2-eth3', 's3-eth1', 's3-eth2']);
    assert.ok(tc.calls.includes('qdisc add dev s1-eth3 root handle 5: htb default 1'), 'the old path\'s port is plain again');
    assert.ok(!tc.calls.includes('qdisc del dev s1-eth2 root'), 'ports on both paths are left alone');
  });

  it('an unshaped port, or one emulating delay, gets no queues; a failing port is retried at the next update; stop() takes all off', async () => {
    const tc = new FakeTc({ ...rates, 's2-eth2': undefined });
    tc.missing.add('s1-eth2');
    tc.netem.add('s2-eth1');
    const q = new PortQueues(portName, { run: tc.run });
    q.update([high]);
    await q.settled();
    assert.deepEqual([...q.ports().keys()].sort(), ['s1-eth3']);
    assert.equal(q.counters.unshaped, 2);
    assert.ok(!tc.changes().some((c) => c.includes('s2-eth1')), 'the delayed port is left as it is');
    assert.equal(q.counters.failures, 1);
    tc.missing.clear();
    q.update([high]);
    await q.settled();
    assert.ok(q.ports().has('s1-eth2'));
    await q.stop();
    assert.equal(q.ports().size, 0);
  });

  it('updates during a pass are coalesced: the last one wins', async () => {
    const tc = new FakeTc(rates);
    const q = new PortQueues(portName, { run: tc.run });
    q.update([high]);
    q.update([]);
    q.update([{ ...high, path: around }]);
    await q.settled();
    assert.deepEqual([...q.ports().keys()].sort(), ['s1-eth2', 's1-eth4', 's2-eth2', 's2-eth3', 's3-eth1', 's3-eth2']);
  });
});
