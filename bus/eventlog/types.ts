// One interface for every event log; the file and Redis Streams logs implement it.
import type { Hint } from '../hints.ts';

export interface ReadQuery {
  /** Inclusive lower bound on hint ts (ms epoch). */
  readonly since?: number;
  /** Inclusive upper bound on hint ts (ms epoch). */
  readonly until?: number;
  /** At most this many, oldest first. */
  readonly limit?: number;
}

export interface EventLog {
  /** Records one hint (usually an `event`). Never waits on the network: the Redis log buffers. */
  append(event: Hint): Promise<void>;
  /** Recorded hints in the order they were appended. */
  read(query?: ReadQuery): Promise<Hint[]>;
  close(): Promise<void>;
}

export function inRange(hint: Hint, q: ReadQuery): boolean {
  return (q.since === undefined || hint.ts >= q.since) && (q.until === undefined || hint.ts <= q.until);
}

/** The read side alone: what replay needs, and all a log opened read-only offers. */
export type EventSource = Pick<EventLog, 'read' | 'close'>;
