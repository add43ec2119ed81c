// Scheduling by class: each replica takes at most `concurrency` requests at a time; the rest wait
// in one queue per class and the highest class waiting goes first when a slot frees. When the
// queue is full, or a request has waited too long, the lowest class is shed first. A replica
// whose network path has no room (the bridge says so) takes only the highest class, and the
// lower classes waiting go to it as soon as its room comes back; when no path has room, they are
// shed at once.
// No I/O here: the proxy says when a request starts and ends, and the scheduler says where it goes.
import type { SmoothWeightedRoundRobin } from './swrr.ts';

export interface SchedulerSettings {
  /** Classes from the highest priority down; a class not listed ranks below all of them. */
  readonly classes: readonly string[];
  /** Requests in flight per replica (default: unlimited, i.e. no queueing). */
  readonly concurrencyPerReplica: number;
  /** Requests waiting per service across all classes. */
  readonly queueLimit: number;
  /** A request that waited this long is answered 503 (ms). */
  readonly queueTimeoutMs: number;
}

export const DEFAULT_SCHEDULER: SchedulerSettings = { classes: [], concurrencyPerReplica: Number.POSITIVE_INFINITY, queueLimit: 1024, queueTimeoutMs: 5000 };

export type ShedReason = 'queue_full' | 'queue_timeout' | 'no_room';

export interface Ticket {
  readonly cls: string;
  readonly rank: number;
  readonly enqueuedAt: number;
  /** Called once with the replica the request may go to now. */
  readonly dispatch: (replica: string) => void;
  /** Called once instead of dispatch when the request is refused. */
  readonly shed: (reason: ShedReason) => void;
}

/** First in, first out, with O(1) push and shift (arrays' shift moves every element). */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  get size(): number {
    return this.items.length - this.head;
  }
  push(v: T): void {
    this.items.push(v);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  shift(): T | undefined {
    const v = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }
  last(): T | undefined {
    return this.size === 0 ? undefined : this.items[this.items.length - 1];
  }
  pop(): T | undefined {
    return this.size === 0 ? undefined : this.items.pop();
  }
}

class ServiceSchedule {
  readonly inFlight = new Map<string, number>();
  /** Replicas whose path has no room for any class below the first. */
  readonly full = new Set<string>();
  readonly queues: Fifo<Ticket>[];
  waiting = 0;
  constructor(classCount: number) {
    // One queue per listed class, and one for every class not listed.
    this.queues = Array.from({ length: classCount + 1 }, () => new Fifo<Ticket>());
  }
}

export class ClassScheduler {
  private readonly services = new Map<string, ServiceSchedule>();
  private readonly ranks: ReadonlyMap<string, number>;
  private readonly unlisted: number;

  constructor(
    private readonly settings: SchedulerSettings,
    private readonly pickerOf: (service: string) => SmoothWeightedRoundRobin | undefined,
    private readonly replicasOf: (service: string) => readonly string[],
    private readonly now: () => number,
  ) {
    this.ranks = new Map(settings.classes.map((c, i) => [c, i]));
    this.unlisted = settings.classes.length;
  }

  /** Smaller is more urgent. */
  rankOf(cls: string): number {
    return this.ranks.get(cls) ?? this.unlisted;
  }

  /** Whether a rank is kept off a path without room: every class below the first listed (none when no class is listed). */
  sheddable(rank: number): boolean {
    return this.unlisted > 0 && rank > 0;
  }

  /**
   * Marks a replica's path as having (no) room, e.g. from the bridge's view of the network. Room
   * coming back sends the requests waiting for it at once, up to the replica's free slots: lower
   * classes may have queued only because this path was closed to them, and no slot will free to
   * wake them if the replica is idle.
   */
  setRoom(service: string, replica: string, room: boolean): void {
    const s = this.schedule(service);
    if (room) {
      if (s.full.delete(replica)) this.drain(service, s);
      return;
    }
    s.full.add(replica);
    // No path left for the lower classes: those waiting are refused now, as a newcomer would be,
    // rather than when their wait times out.
    if (this.replicasOf(service).every((r) => s.full.has(r))) {
      for (let rank = 1; rank < s.queues.length; rank++) {
        const q = s.queues[rank];
        if (!q || !this.sheddable(rank)) continue;
        while (q.size > 0) {
          s.waiting--;
          q.shift()?.shed('no_room');
        }
      }
    }
  }

  inFlight(service: string, replica: string): number {
    return this.services.get(service)?.inFlight.get(replica) ?? 0;
  }

  waiting(service: string): number {
    return this.services.get(service)?.waiting ?? 0;
  }

  submit(service: string, cls: string, dispatch: Ticket['dispatch'], shed: Ticket['shed']): void {
    const s = this.schedule(service);
    const ticket: Ticket = { cls, rank: this.rankOf(cls), enqueuedAt: this.now(), dispatch, shed };
    const replica = this.pick(service, s, ticket.rank);
    if (replica !== undefined) return this.start(s, replica, ticket);
    if (this.sheddable(ticket.rank) && s.full.size > 0 && this.replicasOf(service).every((r) => s.full.has(r))) return shed('no_room');
    if (s.waiting >= this.settings.queueLimit) {
      // Make room by shedding the newest request of the lowest class waiting, if it ranks below this one.
      const victim = this.lowestWaiting(s);
      if (victim === undefined || victim.rank <= ticket.rank) return shed('queue_full');
      s.queues[victim.rank]?.pop();
      s.waiting--;
      victim.shed('queue_full');
    }
    s.queues[ticket.rank]?.push(ticket);
    s.waiting++;
  }

  /** A request to `replica` has ended (answered, failed or abandoned): its slot goes to the most urgent waiter. */
  release(service: string, replica: string): void {
    const s = this.services.get(service);
    if (!s) return;
    const n = (s.inFlight.get(replica) ?? 1) - 1;
    if (n > 0) s.inFlight.set(replica, n);
    else s.inFlight.delete(replica);
    this.drain(service, s);
  }

  /** A retry takes a slot on `replica` whatever the limit: it already waited its turn once. */
  acquire(service: string, replica: string): void {
    const s = this.schedule(service);
    s.inFlight.set(replica, (s.inFlight.get(replica) ?? 0) + 1);
  }

  /** Sheds requests that have waited longer than the timeout; call it periodically. */
  expire(): void {
    const deadline = this.now() - this.settings.queueTimeoutMs;
    for (const s of this.services.values()) {
      for (const q of s.queues) {
        while ((q.peek()?.enqueuedAt ?? Number.POSITIVE_INFINITY) <= deadline) {
          s.waiting--;
          q.shift()?.shed('queue_timeout');
        }
      }
    }
  }

  private drain(service: string, s: ServiceSchedule): void {
    for (let rank = 0; rank < s.queues.length && s.waiting > 0; rank++) {
      const q = s.queues[rank];
      while (q && q.size > 0) {
        const replica = this.pick(service, s, rank);
        if (replica === undefined) break;
        const t = q.shift() as Ticket;
        s.waiting--;
        this.start(s, replica, t);
      }
    }
  }

  private start(s: ServiceSchedule, replica: string, t: Ticket): void {
    s.inFlight.set(replica, (s.inFlight.get(replica) ?? 0) + 1);
    t.dispatch(replica);
  }

  /** The weighted pick among replicas with a free slot (and, below the first class, room on the path). */
  private pick(service: string, s: ServiceSchedule, rank: number): string | undefined {
    const picker = this.pickerOf(service);
    if (!picker) return undefined;
    const limit = this.settings.concurrencyPerReplica;
    let exclude: Set<string> | undefined;
    for (const [r, n] of s.inFlight) if (n >= limit) (exclude ??= new Set()).add(r);
    if (this.sheddable(rank)) for (const r of s.full) (exclude ??= new Set()).add(r);
    return picker.next(exclude);
  }

  private lowestWaiting(s: ServiceSchedule): Ticket | undefined {
    for (let rank = s.queues.length - 1; rank >= 0; rank--) {
      const q = s.queues[rank];
      const last = q?.last();
      if (last) return last;
    }
    return undefined;
  }

  private schedule(service: string): ServiceSchedule {
    let s = this.services.get(service);
    if (!s) {
      s = new ServiceSchedule(this.settings.classes.length);
      this.services.set(service, s);
    }
    return s;
  }
}
