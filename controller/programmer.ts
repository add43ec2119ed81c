// One way out per switch: everything that programs a switch (the handshake's table-miss entry,
// forwarding, intents) is submitted here. Submissions made in one turn of the event loop go out as
// one batch: one socket write holding their messages in submission order, then one barrier. The
// barrier's reply settles every submitter of the batch; a submitter whose message the switch
// refused (OFPT_ERROR under that message's xid) is rejected with the switch's error.
//
// Order on the wire is the order of submission, per switch; nothing orders switches against each
// other (plans do that by waiting for a wave's barriers, see routing/programs.ts).
import type { ErrorMsg, Unnumbered } from 'openflow-ts';
import { NotMasterError, SessionClosedError, SwitchRequestError } from './session/errors.ts';

/** Where a programmer writes: the switch's session. */
export interface BatchSink {
  /**
   * Writes the messages as one write, numbered consecutively from the xid it returns. With
   * `barrier`, the last message is a barrier request whose reply the sink reports through
   * barrierReplied (or barrierFailed).
   */
  write(messages: readonly Unnumbered[], barrier: boolean): number;
}

export interface ProgrammerOptions {
  /** Runs the flush later in this turn of the event loop; setImmediate unless a test drives it. */
  readonly defer?: (fn: () => void) => void;
  /** A batch this long is written at once rather than at the end of the turn. */
  readonly maxBatch?: number;
}

export interface ProgrammerCounters {
  batches: number;
  messages: number;
  barriers: number;
  /** Submissions the switch refused (or that its session's end cut short). */
  rejected: number;
}

interface Submitter {
  /** Index range of its messages in the batch. */
  readonly from: number;
  readonly to: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  error: ErrorMsg | undefined;
}

interface Batch {
  readonly messages: Unnumbered[];
  readonly submitters: Submitter[];
}

interface InFlight {
  readonly first: number;
  readonly barrierXid: number;
  readonly submitters: Submitter[];
}

const BARRIER: Unnumbered = Object.freeze({ type: 'barrier_request' });

export class Programmer {
  readonly counters: ProgrammerCounters = { batches: 0, messages: 0, barriers: 0, rejected: 0 };
  /** Submissions and sends refused because this controller is not the switch's master (see hold). */
  heldCount = 0;
  private batch: Batch = { messages: [], submitters: [] };
  private readonly inFlight: InFlight[] = [];
  private scheduled = false;
  private closedBy: string | undefined;
  private heldBy: string | undefined;
  private readonly defer: (fn: () => void) => void;
  private readonly maxBatch: number;
  private readonly flushBound = (): void => {
    this.scheduled = false;
    this.flush();
  };

  constructor(
    private readonly sink: BatchSink,
    opts: ProgrammerOptions = {},
  ) {
    this.defer = opts.defer ?? setImmediate;
    this.maxBatch = opts.maxBatch ?? 1024;
  }

  /** Messages in flight or waiting for the end of the turn. */
  get busy(): boolean {
    return this.batch.messages.length > 0 || this.batch.submitters.length > 0 || this.inFlight.length > 0;
  }

  /**
   * Queues messages that have no reply of their own (flow-mods, group-mods, meter-mods); resolves
   * once the switch has processed them (its barrier reply), rejects with SwitchRequestError if it
   * refused any of them. An empty submission is a fence: it settles when everything before it has.
   */
  submit(messages: readonly Unnumbered[]): Promise<void> {
    if (this.closedBy !== undefined) {
      this.counters.rejected++;
      return Promise.reject(new SessionClosedError(`session closed (${this.closedBy}) before the program was sent`));
    }
    if (this.heldBy !== undefined) {
      this.heldCount++;
      return Promise.reject(new NotMasterError(`not the switch's master (${this.heldBy}): program not sent`));
    }
    return new Promise<void>((resolve, reject) => {
      const b = this.batch;
      const from = b.messages.length;
      for (let i = 0; i < messages.length; i++) b.messages.push(messages[i]!);
      b.submitters.push({ from, to: b.messages.length, resolve, reject, error: undefined });
      this.queued();
    });
  }

  /** Queues messages in order with the rest, wanting no answer (packet-outs after their rules). */
  send(messages: readonly Unnumbered[]): void {
    if (this.closedBy !== undefined) return;
    if (this.heldBy !== undefined) {
      this.heldCount++;
      return;
    }
    for (let i = 0; i < messages.length; i++) this.batch.messages.push(messages[i]!);
    this.queued();
  }

  /** Whether programs are being refused (this controller is not the switch's master). */
  get held(): boolean {
    return this.heldBy !== undefined;
  }

  /**
   * Stops programming: later submissions reject with NotMasterError and sends are dropped, and
   * what waits for the end of this turn is dropped too (a demoted master must not write after
   * the moment it gave up). Batches already written are the switch's to answer.
   */
  hold(reason: string): void {
    if (this.heldBy !== undefined || this.closedBy !== undefined) {
      this.heldBy ??= reason;
      return;
    }
    this.heldBy = reason;
    const waiting = this.batch.submitters;
    this.batch = { messages: [], submitters: [] };
    for (const s of waiting) {
      this.heldCount++;
      s.reject(new NotMasterError(`not the switch's master (${reason}): program not sent`));
    }
  }

  /** Programs flow again (this controller became the switch's master). */
  release(): void {
    this.heldBy = undefined;
  }

  /** Resolves once everything submitted so far has settled, however it went. */
  settled(): Promise<void> {
    if (!this.busy || this.closedBy !== undefined || this.heldBy !== undefined) return Promise.resolve();
    return this.submit([]).catch(() => undefined);
  }

  /** Writes the current batch now. */
  flush(): void {
    const b = this.batch;
    if (b.messages.length === 0 && b.submitters.length === 0) return;
    if (this.closedBy !== undefined) return;
    this.batch = { messages: [], submitters: [] };
    try {
      this.write(b.messages, b.submitters);
    } catch (err) {
      // A message that cannot be encoded (a planner's bad value) must not sink the programs that
      // share its batch: each submitter's part goes out on its own, and only the bad one fails.
      this.writeApart(b, err);
    }
  }

  private write(messages: Unnumbered[], submitters: Submitter[]): void {
    const barrier = submitters.length > 0;
    if (barrier) messages.push(BARRIER);
    let first: number;
    try {
      first = this.sink.write(messages, barrier);
    } catch (err) {
      if (barrier) messages.pop();
      throw err;
    }
    this.counters.batches++;
    this.counters.messages += messages.length - (barrier ? 1 : 0);
    if (!barrier) return;
    this.counters.barriers++;
    this.inFlight.push({ first, barrierXid: first + messages.length - 1, submitters });
  }

  private writeApart(b: Batch, cause: unknown): void {
    let at = 0;
    const part = (to: number, s: Submitter | undefined): void => {
      const messages = b.messages.slice(at, to);
      at = to;
      if (messages.length === 0 && s === undefined) return;
      const own = s === undefined ? [] : [{ ...s, from: s.from - (to - messages.length), to: s.to - (to - messages.length) }];
      try {
        this.write(messages, own);
      } catch (err) {
        if (s === undefined) return;
        this.counters.rejected++;
        s.reject(err instanceof Error ? err : new Error(String(err ?? cause)));
      }
    };
    for (const s of b.submitters) part(s.to, s);
    part(b.messages.length, undefined);
  }

  /** The barrier of a batch was answered: the switch has processed (or refused) all of it. */
  barrierReplied(xid: number): void {
    const f = this.take(xid);
    if (f === undefined) return;
    for (const s of f.submitters) {
      if (s.error === undefined) s.resolve();
      else {
        this.counters.rejected++;
        s.reject(new SwitchRequestError(s.error));
      }
    }
  }

  /** The barrier went unanswered (timeout): nothing can be said about the batch but that it failed. */
  barrierFailed(xid: number, error: Error): void {
    const f = this.take(xid);
    if (f === undefined) return;
    for (const s of f.submitters) {
      this.counters.rejected++;
      s.reject(s.error === undefined ? error : new SwitchRequestError(s.error));
    }
  }

  /** An OFPT_ERROR nobody else claimed: true if it names a message of a batch in flight. */
  errorReceived(msg: ErrorMsg): boolean {
    for (const f of this.inFlight) {
      if (msg.xid < f.first || msg.xid >= f.barrierXid) continue;
      const at = msg.xid - f.first;
      for (const s of f.submitters) {
        if (at >= s.from && at < s.to) {
          s.error ??= msg;
          return true;
        }
      }
      return true;
    }
    return false;
  }

  /** The session ended: every submission not yet settled is rejected, later ones at once. */
  close(reason: string): void {
    if (this.closedBy !== undefined) return;
    this.closedBy = reason;
    const waiting = [...this.inFlight.splice(0).flatMap((f) => f.submitters), ...this.batch.submitters];
    this.batch = { messages: [], submitters: [] };
    for (const s of waiting) {
      this.counters.rejected++;
      s.reject(new SessionClosedError(`session closed (${reason}) before the switch confirmed the program`));
    }
  }

  private queued(): void {
    if (this.batch.messages.length >= this.maxBatch) {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      this.defer(this.flushBound);
    }
  }

  private take(barrierXid: number): InFlight | undefined {
    // Barrier replies come in order: the match is nearly always the oldest batch.
    const i = this.inFlight.findIndex((f) => f.barrierXid === barrierXid);
    if (i < 0) return undefined;
    return this.inFlight.splice(i, 1)[0];
  }
}
