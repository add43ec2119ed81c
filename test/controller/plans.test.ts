// Plans carried out through per-switch programmers, with fake switches that record each write and
// answer barriers when the test says: waves wait for barriers, packets wait for their rules, and
// plans do not wait for one another.
import assert from 'node:assert/strict';
import { Programmer, type BatchSink } from '../../controller/programmer.ts';
import { runPlan, type PlanOutcome, type SwitchMessages } from '../../controller/routing/programs.ts';
import { flowMod, OFPET_FLOW_MOD_FAILED, OFPP_TABLE } from 'openflow-ts';
import type { Unnumbered } from 'openflow-ts';
import type { SwitchProgram } from '../../controller/routing/forwarding.ts';

class FakeSwitch implements BatchSink {
  readonly writes: { first: number; messages: Unnumbered[] }[] = [];
  readonly programmer: Programmer;
  private next = 1;
  constructor(defer: (fn: () => void) => void) {
    this.programmer = new Programmer(this, { defer });
  }
  write(messages: readonly Unnumbered[]): number {
    const first = this.next;
    this.next += messages.length;
    this.writes.push({ first, messages: [...messages] });
    return first;
  }
  /** What reached the switch: flow-mod priorities and other message types, in order. */
  get wire(): (number | string)[] {
    return this.writes.flatMap((w) => w.messages.map((m) => (m.type === 'flow_mod' ? m.priority : m.type)));
  }
  /** Answers every barrier written so far. */
  confirm(): void {
    for (const w of this.writes) {
      if (w.messages.at(-1)?.type === 'barrier_request') this.programmer.barrierReplied(w.first + w.messages.length - 1);
    }
  }
}

function network(...dpids: string[]): { switches: Map<string, FakeSwitch>; endTurn: () => Promise<void> } {
  let due: (() => void)[] = [];
  const switches = new Map(dpids.map((d) => [d, new FakeSwitch((fn) => due.push(fn))]));
  return {
    switches,
    endTurn: async () => {
      // Let plans reach their next await, then flush what they submitted.
      for (let i = 0; i < 5; i++) await Promise.resolve();
      const run = due;
      due = [];
      for (const fn of run) fn();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    },
  };
}

const prog = (dpid: string, priority: number): SwitchProgram => ({ dpid, messages: [flowMod({ priority })] });
const packet = (dpid: string, port: number): SwitchMessages => ({
  dpid,
  messages: [{ type: 'packet_out', bufferId: 0xffffffff, inPort: 1, actions: [{ type: 'output', port, maxLen: 0 }], data: Buffer.from([1]) }],
});

describe('plans through programmers', () => {
  it('runs a wave on different switches at once and the next wave only after its barriers', async () => {
    const net = network('a', 'b');
    const a = net.switches.get('a')!;
    const b = net.switches.get('b')!;
    const done = runPlan(net, [prog('a', 1), prog('b', 2), prog('a', 3)], [], undefined, 'test');
    await net.endTurn();
    assert.deepEqual([a.wire, b.wire], [[1, 'barrier_request'], [2, 'barrier_request']]);
    a.confirm();
    await net.endTurn();
    assert.deepEqual(a.wire, [1, 'barrier_request'], 'the second wave waits for b too');
    b.confirm();
    await net.endTurn();
    assert.deepEqual(a.wire, [1, 'barrier_request', 3, 'barrier_request']);
    a.confirm();
    assert.deepEqual(await done, { failed: 0, sent: 0 });
  });

  it('releases packets after the last wave when their rules span switches', async () => {
    const net = network('a', 'b');
    const a = net.switches.get('a')!;
    const b = net.switches.get('b')!;
    const done = runPlan(net, [prog('a', 1), prog('b', 2)], [packet('a', 2)], undefined, 'test');
    await net.endTurn();
    a.confirm();
    await net.endTurn();
    assert.ok(!a.wire.includes('packet_out'), 'not before b has its rule');
    b.confirm();
    await net.endTurn();
    assert.deepEqual(a.wire, [1, 'barrier_request', 'packet_out']);
    assert.deepEqual(await done, { failed: 0, sent: 1 });
  });

  it('sends a packet behind its rules in the same write when they are all on its own switch', async () => {
    const net = network('a');
    const a = net.switches.get('a')!;
    const done = runPlan(net, [prog('a', 1)], [packet('a', 2)], undefined, 'test');
    await net.endTurn();
    assert.deepEqual(a.writes.map((w) => w.messages.map((m) => m.type)), [['flow_mod', 'packet_out', 'barrier_request']]);
    a.confirm();
    assert.deepEqual(await done, { failed: 0, sent: 1 });
  });

  it('waits for the barrier when the packet goes through the flow table', async () => {
    const net = network('a');
    const a = net.switches.get('a')!;
    const done = runPlan(net, [prog('a', 1)], [packet('a', OFPP_TABLE)], undefined, 'test');
    await net.endTurn();
    assert.deepEqual(a.wire, [1, 'barrier_request']);
    a.confirm();
    await net.endTurn();
    assert.deepEqual(a.wire, [1, 'barrier_request', 'packet_out']);
    await done;
  });

  it('does not hold a plan behind an earlier one that waits on another switch', async () => {
    const net = network('a', 'b');
    const a = net.switches.get('a')!;
    const first = runPlan(net, [prog('b', 1), prog('b', 2)], [], undefined, 'test');
    await net.endTurn();
    const second = runPlan(net, [prog('a', 7)], [], undefined, 'test');
    await net.endTurn();
    assert.deepEqual(a.wire, [7, 'barrier_request']);
    a.confirm();
    assert.deepEqual(await second, { failed: 0, sent: 0 });
    const b = net.switches.get('b')!;
    b.confirm();
    await net.endTurn();
    b.confirm();
    await first;
  });

  it('counts a refused program as failed, goes on with the plan, and skips a switch that is gone', async () => {
    const net = network('a', 'b');
    const a = net.switches.get('a')!;
    const b = net.switches.get('b')!;
    const done = runPlan(net, [prog('a', 1), prog('gone', 2), prog('a', 3)], [packet('b', 1)], undefined, 'test');
    await net.endTurn();
    const w = a.writes[0]!;
    a.programmer.errorReceived({ type: 'error', xid: w.first, errorType: OFPET_FLOW_MOD_FAILED, code: 0, data: Buffer.alloc(0) });
    a.confirm();
    await net.endTurn();
    a.confirm();
    await net.endTurn();
    const outcome: PlanOutcome = await done;
    assert.deepEqual(outcome, { failed: 1, sent: 1 });
    assert.deepEqual(a.wire, [1, 'barrier_request', 3, 'barrier_request']);
    assert.deepEqual(b.wire, ['packet_out']);
  });
});
