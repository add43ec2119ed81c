// The cluster's pure parts: the bus gate of the group's voice, the bridge's rule that a higher epoch
// supersedes, the publisher's origin stamp, the programmer held while not master, and the lab's
// parsers (dump-flows, ping).
import assert from 'node:assert/strict';
import { VirtualClock } from '../../bus/clock.ts';
import { HintPublisher, type PublishClient } from '../../bus/publisher.ts';
import { costColumns, type CostRowHint } from '../../bus/hints.ts';
import { initialPolicyState, rowOrder, withHint } from '../../bridge/policy.ts';
import { VoiceGate } from '../../controller/cluster/voice.ts';
import { groupInstance } from '../../controller/cluster/index.ts';
import { isTableMiss } from '../../controller/cluster/adopt.ts';
import { Programmer } from '../../controller/programmer.ts';
import { NotMasterError } from '../../controller/session/errors.ts';
import { flowMod } from 'openflow-ts';
import type { Unnumbered } from 'openflow-ts';
import { diffFlows, parseDump } from '../../labs/failover/flows.ts';
import { longestRun, parsePing } from '../../labs/failover/pings.ts';
import { decodeRecord, encodeRecord } from '../../controller/cluster/intents.ts';
import type { IntentRecord } from '../../controller/intents/types.ts';

const SRC = '0000000000000001';
function row(ts: number, epoch: number | undefined, utilization: number): CostRowHint {
  const entry = { dstPid: '0000000000000002', hops: 1, paths: 1, bottleneckUtilization: utilization, availableBps: 1e6, worstUtilization: utilization, worstAvailableBps: 1e6, aggregateBps: 1e6, level: 'ok' as const, worstLevel: 'ok' as const };
  return { v: 2, kind: 'cost_row', ts, seq: ts, ttlMs: 30_000, source: 'test', srcPid: SRC, costs: costColumns([entry]), ...(epoch === undefined ? {} : { controller: `c${epoch}`, epoch }) };
}

describe('cluster: the voice on the bus', () => {
  it('passes nothing but controller status while another controller speaks', () => {
    const clock = new VirtualClock(1000);
    const gate = new VoiceGate({ controllerId: 'b', warmupMs: 3000, clock });
    assert.equal(gate.passes('meshflow/v1/controllers/b/status'), true);
    assert.equal(gate.passes('meshflow/v1/events'), false);
    assert.equal(gate.passes(`meshflow/v1/costs/${SRC}`), false);
    assert.equal(gate.origin(), undefined);
  });

  it('a new voice holds link states and cost rows back until its monitor has a baseline, events not', () => {
    const clock = new VirtualClock(1000);
    const gate = new VoiceGate({ controllerId: 'b', warmupMs: 3000, clock });
    gate.speak(7);
    assert.deepEqual(gate.origin(), { controller: 'b', epoch: 7 });
    assert.equal(gate.passes('meshflow/v1/events'), true);
    assert.equal(gate.passes(`meshflow/v1/costs/${SRC}`), false);
    assert.equal(gate.passes('meshflow/v1/links/x'), false);
    clock.advance(3000);
    assert.equal(gate.passes(`meshflow/v1/costs/${SRC}`), true);
    // A renewed lease (same voice, new epoch number after a flap) does not restart the warm-up.
    gate.speak(8);
    assert.equal(gate.passes(`meshflow/v1/costs/${SRC}`), true);
    gate.silence();
    assert.equal(gate.passes(`meshflow/v1/costs/${SRC}`), false);
  });

  it('the publisher stamps controller and epoch, and the hint still validates', async () => {
    const sent: string[] = [];
    const client: PublishClient = { publishAsync: async (_t: string, m: string | Buffer) => void sent.push(String(m)) } as PublishClient;
    let origin: { controller: string; epoch: number } | undefined = { controller: 'b', epoch: 4 };
    const p = new HintPublisher(client, { source: 'x', origin: () => origin });
    const h = await p.publish({ kind: 'event', event: 'switch_up', dpid: SRC });
    assert.equal(h?.controller, 'b');
    assert.equal(h?.epoch, 4);
    assert.match(sent[0]!, /"controller":"b","epoch":4/);
    origin = undefined;
    const h2 = await p.publish({ kind: 'event', event: 'switch_up', dpid: SRC });
    assert.equal(h2?.epoch, undefined);
  });

  it('every controller of a group shares one LLDP instance, groups differ', () => {
    assert.equal(groupInstance('g1'), groupInstance('g1'));
    assert.notEqual(groupInstance('g1'), groupInstance('g2'));
    assert.match(groupInstance('g1'), /^[0-9a-f]{16}$/);
  });
});

describe('bridge: a group of controllers is one source', () => {
  it('a higher epoch supersedes a later row of a lower one; a stale master is ignored', () => {
    const s1 = withHint(initialPolicyState, row(1000, 3, 0.9));
    // The new master's first row may carry an earlier ts than the old master's last (clocks differ).
    const s2 = withHint(s1, row(999, 4, 0.8));
    assert.equal(s2.costs[SRC]?.epoch, 4);
    // The old master, cut off, still sends: ignored, however recent.
    const s3 = withHint(s2, row(2000, 3, 0.1));
    assert.equal(s3, s2);
    const s4 = withHint(s3, row(2001, 4, 0.7));
    assert.equal(s4.costs[SRC]?.ts, 2001);
  });

  it('rows without an epoch (a lone controller) keep ordering by ts', () => {
    assert.ok(rowOrder({ ts: 5 }, { ts: 4 }) > 0);
    assert.ok(rowOrder({ ts: 5, epoch: 2 }, { ts: 6 }) < 0);
    const s1 = withHint(initialPolicyState, row(1000, undefined, 0.9));
    assert.equal(withHint(s1, row(900, undefined, 0.1)), s1);
  });
});

describe('programmer: held while not master', () => {
  const fm = flowMod({ priority: 1, match: [], instructions: [] });
  it('refuses submissions and drops sends while held, and what waited for the turn too', async () => {
    const writes: (readonly Unnumbered[])[] = [];
    let xid = 1;
    const p = new Programmer({ write: (m) => (writes.push([...m]), (xid += m.length) - m.length) }, { defer: () => undefined });
    const queued = p.submit([fm]);
    p.hold('slave');
    await assert.rejects(queued, NotMasterError);
    await assert.rejects(p.submit([fm]), NotMasterError);
    p.send([fm]);
    p.flush();
    assert.equal(writes.length, 0);
    assert.equal(p.heldCount, 3);
    await p.settled();
    p.release();
    void p.submit([fm]).catch(() => undefined);
    p.flush();
    assert.equal(writes.length, 1);
  });
});

describe('cluster: intents in Redis', () => {
  it('an intent record survives the trip through JSON, its touched switches included', () => {
    const r: IntentRecord = {
      id: 'i1',
      num: 7,
      spec: { src: 'h1', dst: 'h2', srcMac: '00:00:00:00:00:01', dstMac: '00:00:00:00:00:02', traffic: { srcIp: '10.0.0.1', dstIp: '10.0.0.2', ipProto: 6, dstPort: 80 }, policy: { name: 'shortest' } },
      createdAt: 1,
      status: 'active',
      path: undefined,
      reason: undefined,
      version: 3,
      touched: new Set(['0000000000000001', '0000000000000002']),
      movedAt: 2,
    };
    const back = decodeRecord(encodeRecord(r));
    assert.deepEqual(back, { ...r });
    assert.ok(back!.touched instanceof Set);
    assert.equal(decodeRecord('{"id":1}'), undefined);
    assert.equal(decodeRecord('not json'), undefined);
  });
});

describe('failover lab parsers', () => {
  it('reduces dump-flows to rule identities and tells removed rules from idle ones', () => {
    const dump = (n: number) => [
      'OFPST_FLOW reply (OF1.3) (xid=0x2):',
      ` cookie=0xf100000000000001, duration=3.1s, table=0, n_packets=${n}, n_bytes=${n * 98}, send_flow_rem idle_timeout=30, priority=1010,icmp,in_port=1,nw_src=10.0.0.1,nw_dst=10.0.0.2 actions=output:2`,
      ' cookie=0xf100000000000002, duration=9.0s, table=0, n_packets=4, n_bytes=392, idle_timeout=30, priority=1010,icmp,in_port=2,nw_src=10.0.0.2,nw_dst=10.0.0.1 actions=output:1',
      ' cookie=0x0, duration=20.5s, table=0, n_packets=7, n_bytes=700, priority=0 actions=meter:1,CONTROLLER:65535',
    ].join('\n');
    const earlier = parseDump(dump(10));
    const before = parseDump(dump(20));
    assert.equal(before.length, 3);
    assert.equal(before[0]!.key, parseDump(dump(99))[0]!.key, 'counters are not part of the identity');
    assert.ok(isTableMiss({ tableId: 0, priority: 0, match: [] } as unknown as Parameters<typeof isTableMiss>[0]));
    assert.deepEqual(diffFlows(earlier, before, before), { before: 3, after: 3, removed: [], expired: [], added: [] });
    const d = diffFlows(earlier, before, [before[2]!]);
    assert.equal(d.removed.length, 1, 'the busy rule is removed');
    assert.equal(d.expired.length, 1, 'the idle one expired');
    assert.deepEqual(diffFlows(earlier, [before[2]!], before).added, [before[0]!.key, before[1]!.key], 'rules written after the first dump are added');
  });

  it('finds lost pings by sequence number and dates them', () => {
    const text = ['PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.', '[1700000000.000000] 64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.5 ms', '[1700000000.300000] 64 bytes from 10.0.0.2: icmp_seq=4 ttl=64 time=0.5 ms', '[1700000000.400000] 64 bytes from 10.0.0.2: icmp_seq=5 ttl=64 time=0.5 ms'].join('\n');
    const r = parsePing('h1–h2', text, 0);
    assert.equal(r.sent, 5);
    assert.equal(r.received, 3);
    assert.deepEqual(r.lostAt, [1700000000100, 1700000000200]);
    assert.equal(longestRun(r.lostAt, 0, Infinity), 2);
    assert.equal(longestRun([0, 100, 300, 400, 500], 0, Infinity), 3);
    assert.equal(longestRun([0, 100, 300, 400, 500], 250, Infinity), 3);
    assert.equal(longestRun([0, 100, 300, 400, 500], 0, 350), 2);
  });
});
