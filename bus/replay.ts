// Replay: re-publish recorded hints with their original spacing (scaled by speed), each
// marked replayed with a fresh envelope from the replaying publisher.
import { systemClock, type Clock } from './clock.ts';
import type { EnvelopeField, Hint, HintBody } from './hints.ts';
import type { EventSource } from './eventlog/types.ts';

/** The slice of HintPublisher replay needs. */
export interface ReplayPublisher {
  publish(body: HintBody, options: { ttlMs?: number; replayedFrom?: { originalTs: number } }): Promise<Hint | undefined>;
}

export interface ReplayProgress {
  readonly done: number;
  readonly total: number;
  readonly hint: Hint;
  /** What was published in its place. */
  readonly published: Hint | undefined;
}

export interface ReplayOptions {
  readonly publisher: ReplayPublisher;
  /** > 0; 2 plays twice as fast. Infinity sends back to back. */
  readonly speed?: number;
  /** Inclusive cuts on the recorded ts (ms epoch or ISO 8601 text). */
  readonly from?: number | string;
  readonly to?: number | string;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: ReplayProgress) => void;
}

export interface ReplayResult {
  readonly published: number;
  /** On the replay clock, first publish to last. */
  readonly elapsedMs: number;
}

/** ms epoch from a number, a digit string, or ISO 8601 text. */
export function parseTimeBound(value: number | string): number {
  if (typeof value === 'number') return value;
  if (/^\d+$/.test(value.trim())) return Number(value);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new RangeError(`not a time (ms epoch or ISO 8601): ${value}`);
  return t;
}

export async function replayHints(source: EventSource | readonly Hint[], options: ReplayOptions): Promise<ReplayResult> {
  const speed = options.speed ?? 1;
  if (!(speed > 0)) throw new RangeError(`speed must be > 0, got ${speed}`);
  const clock = options.clock ?? systemClock;
  const since = options.from === undefined ? undefined : parseTimeBound(options.from);
  const until = options.to === undefined ? undefined : parseTimeBound(options.to);
  const query = { ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }) };
  const hints = isLog(source)
    ? await source.read(query)
    : source.filter((h) => (since === undefined || h.ts >= since) && (until === undefined || h.ts <= until));

  const first = hints[0];
  if (first === undefined) return { published: 0, elapsedMs: 0 };
  const start = clock.now();
  let done = 0;
  for (const hint of hints) {
    // Aim each publish at start + offset/speed rather than sleeping the gaps one by one,
    // so publish time never accumulates drift over a long replay.
    const due = start + (hint.ts - first.ts) / speed;
    const wait = due - clock.now();
    if (wait > 0) await clock.sleep(wait, options.signal);
    options.signal?.throwIfAborted();
    const published = await options.publisher.publish(bodyOf(hint), {
      ttlMs: hint.ttlMs,
      replayedFrom: { originalTs: hint.originalTs ?? hint.ts },
    });
    done++;
    options.onProgress?.({ done, total: hints.length, hint, published });
  }
  return { published: done, elapsedMs: clock.now() - start };
}

const ENVELOPE: readonly EnvelopeField[] = ['v', 'ts', 'seq', 'ttlMs', 'source', 'replayed', 'originalTs', 'sig'];

/** A recorded hint without its envelope: what gets re-stamped. */
export function bodyOf(hint: Hint): HintBody {
  const body: Record<string, unknown> = { ...hint };
  for (const f of ENVELOPE) delete body[f];
  return body as HintBody;
}

function isLog(source: EventSource | readonly Hint[]): source is EventSource {
  return !Array.isArray(source);
}
