// The per-switch programmer with no socket: a fake sink records each write and the test answers
// barriers and errors as a switch would, turn by turn.
import assert from 'node:assert/strict';
import { Programmer, type BatchSink } from '../../controller/programmer.ts';
import { SessionClosedError, SwitchRequestError, SwitchTimeoutError } from '../../controller/session/errors.ts';
import { encodeAll, flowMod, OFPET_FLOW_MOD_FAILED } from 'openflow-ts';
import type { ErrorMsg, Unnumbered } from 'openflow-ts';

interface Write {
  readonly first: number;
  readonly messages: readonly Unnumbered[];
  readonly barrier: boolean;
}

class FakeSink implements BatchSink {
  readonly writes: Write[] = [];
  private next = 100;
  write(messages: readonly Unnumbered[], barrier: boolean): number {
    const first = this.next;
    this.next += messages.length;
    this.writes.push({ first, messages: [...messages], barrier });
    return first;
  }
  /** The xid the switch sees for the i-th message of write w. */
  xid(w: number, i: number): number {
    return this.writes[w]!.first + i;
  }
  barrierXid(w: number): number {
    const write = this.writes[w]!;
    return write.first + write.messages.length - 1;
  }
}

/** A programmer whose end-of-turn flush runs when the test says. */
function setup(maxBatch?: number): { p: Programmer; sink: FakeSink; endTurn: () => void } {
  const sink = new FakeSink();
  let due: (() => void)[] = [];
  const p = new Programmer(sink, { defer: (fn) => due.push(fn), ...(maxBatch === undefined ? {} : { maxBatch }) });
  return {
    p,
    sink,
    endTurn: () => {
      const run = due;
      due = [];
      for (const fn of run) fn();
    },
  };
}

const rule = (priority: number): Unnumbered => flowMod({ priority });
const refusal = (xid: number): ErrorMsg => ({ type: 'error', xid, errorType: OFPET_FLOW_MOD_FAILED, code: 5, data: Buffer.alloc(0) });

/** Settles a promise into an observable outcome without awaiting it. */
function watch(p: Promise<void>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
  const w: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { state: 'pending' };
  p.then(
    () => (w.state = 'resolved'),
    (e: unknown) => {
      w.state = 'rejected';
      w.error = e;
    },
  );
  return w;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('per-switch programmer', () => {
  it('writes one turn of submissions as one write, in submission order, ending in one barrier', () => {
    const { p, sink, endTurn } = setup();
    void p.submit([rule(1), rule(2)]);
    void p.submit([rule(3)]);
    p.send([{ type: 'packet_out', bufferId: 0xffffffff, inPort: 1, actions: [], data: Buffer.alloc(0) }]);
    void p.submit([rule(4)]);
    assert.equal(sink.writes.length, 0, 'nothing leaves before the end of the turn');
    endTurn();
    assert.equal(sink.writes.length, 1);
    const w = sink.writes[0]!;
    assert.equal(w.barrier, true);
    assert.deepEqual(
      w.messages.map((m) => (m.type === 'flow_mod' ? m.priority : m.type)),
      [1, 2, 3, 'packet_out', 4, 'barrier_request'],
    );
    assert.deepEqual(p.counters, { batches: 1, messages: 5, barriers: 1, rejected: 0 });
  });

  it('resolves every submitter of a batch by its barrier reply, and not before', async () => {
    const { p, sink, endTurn } = setup();
    const a = watch(p.submit([rule(1)]));
    const b = watch(p.submit([rule(2)]));
    endTurn();
    await tick();
    assert.deepEqual([a.state, b.state], ['pending', 'pending']);
    p.barrierReplied(sink.barrierXid(0));
    await tick();
    assert.deepEqual([a.state, b.state], ['resolved', 'resolved']);
  });

  it('rejects only the submitter whose message the switch refused, with the switch error', async () => {
    const { p, sink, endTurn } = setup();
    const a = watch(p.submit([rule(1), rule(2)]));
    const b = watch(p.submit([rule(3), rule(4)]));
    const c = watch(p.submit([rule(5)]));
    endTurn();
    // The switch refuses the fourth message of the write: b's second rule.
    assert.equal(p.errorReceived(refusal(sink.xid(0, 3))), true);
    p.barrierReplied(sink.barrierXid(0));
    await tick();
    assert.deepEqual([a.state, b.state, c.state], ['resolved', 'rejected', 'resolved']);
    assert.ok(b.error instanceof SwitchRequestError && b.error.error.code === 5);
    assert.equal(p.counters.rejected, 1);
  });

  it('does not claim errors for xids it never wrote', () => {
    const { p, sink, endTurn } = setup();
    void p.submit([rule(1)]);
    endTurn();
    assert.equal(p.errorReceived(refusal(sink.barrierXid(0) + 10)), false);
    assert.equal(p.errorReceived(refusal(sink.xid(0, 0) - 1)), false);
  });

  it('keeps batches apart: a later batch settles on its own barrier', async () => {
    const { p, sink, endTurn } = setup();
    const a = watch(p.submit([rule(1)]));
    endTurn();
    const b = watch(p.submit([rule(2)]));
    endTurn();
    assert.equal(sink.writes.length, 2);
    p.barrierReplied(sink.barrierXid(0));
    await tick();
    assert.deepEqual([a.state, b.state], ['resolved', 'pending']);
    p.barrierReplied(sink.barrierXid(1));
    await tick();
    assert.equal(b.state, 'resolved');
  });

  it('sends messages that want no answer without a barrier', () => {
    const { p, sink, endTurn } = setup();
    p.send([rule(1)]);
    endTurn();
    assert.deepEqual(sink.writes.map((w) => [w.messages.length, w.barrier]), [[1, false]]);
    assert.equal(p.busy, false);
  });

  it('writes at once when a batch grows large', () => {
    const { p, sink } = setup(3);
    void p.submit([rule(1), rule(2)]);
    assert.equal(sink.writes.length, 0);
    void p.submit([rule(3)]);
    assert.equal(sink.writes.length, 1);
    assert.equal(sink.writes[0]!.messages.length, 4);
  });

  it('rejects a batch whose barrier failed, and everything when the session ends', async () => {
    const { p, sink, endTurn } = setup();
    const a = watch(p.submit([rule(1)]));
    endTurn();
    const b = watch(p.submit([rule(2)]));
    endTurn();
    const c = watch(p.submit([rule(3)]));
    p.barrierFailed(sink.barrierXid(0), new SwitchTimeoutError('late'));
    p.close('gone');
    const d = watch(p.submit([rule(4)]));
    await tick();
    assert.ok(a.state === 'rejected' && a.error instanceof SwitchTimeoutError);
    for (const w of [b, c, d]) assert.ok(w.state === 'rejected' && w.error instanceof SessionClosedError);
    endTurn();
    assert.equal(sink.writes.length, 2, 'nothing is written after the end');
  });

  it('fails only the submitter whose message cannot be encoded; the rest of its batch goes out', async () => {
    const sink = new FakeSink();
    const encoding: BatchSink = {
      write: (messages, barrier) => {
        encodeAll(messages, 1);
        return sink.write(messages, barrier);
      },
    };
    const due: (() => void)[] = [];
    const p = new Programmer(encoding, { defer: (fn) => due.push(fn) });
    const a = watch(p.submit([rule(1)]));
    const bad = watch(p.submit([rule(2), rule(0x1ffff)]));
    p.send([rule(3)]);
    const c = watch(p.submit([rule(4)]));
    for (const fn of due.splice(0)) fn();
    assert.deepEqual(
      sink.writes.map((w) => w.messages.map((m) => (m.type === 'flow_mod' ? m.priority : m.type))),
      [[1, 'barrier_request'], [3, 4, 'barrier_request']],
    );
    sink.writes.forEach((_, i) => p.barrierReplied(sink.barrierXid(i)));
    await tick();
    assert.deepEqual([a.state, bad.state, c.state], ['resolved', 'rejected', 'resolved']);
    assert.match(String(bad.error), /16 bits/);
  });

  it('settles once everything submitted so far has, whatever the outcome', async () => {
    const { p, sink, endTurn } = setup();
    const idle = watch(p.settled());
    await tick();
    assert.equal(idle.state, 'resolved', 'an idle programmer is settled');
    void p.submit([rule(1)]).catch(() => undefined);
    const s = watch(p.settled());
    endTurn();
    assert.equal(sink.writes.length, 1, 'the fence rides in the same batch');
    p.errorReceived(refusal(sink.xid(0, 0)));
    p.barrierReplied(sink.barrierXid(0));
    await tick();
    assert.equal(s.state, 'resolved');
  });
});
