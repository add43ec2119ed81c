// Reaction times of the coordination loop, from what was recorded: the controller's
// congestion_onset event, the first weights hint that moved weight away from the congested
// replica, and the first second in which the traffic itself moved.
import { replicaShare, type SecondRow } from './stats.ts';

export interface OnsetEvent {
  readonly ts: number;
  readonly event: string;
  readonly linkId?: string;
}

export interface WeightSample {
  readonly ts: number;
  /** weight (of 1000) of the congested replica in this hint */
  readonly weight: number;
}

export interface ReactionInput {
  /** When the lab started the congestion (ms epoch). */
  readonly injectedAt: number;
  /** Link ids whose congestion counts (the path to the congested replica). */
  readonly links: readonly string[];
  readonly events: readonly OnsetEvent[];
  /** Weights hints of the client's sidecar for the congested replica, in time order. */
  readonly weights: readonly WeightSample[];
  readonly seconds: readonly SecondRow[];
  /** ms epoch of second 0 of `seconds` */
  readonly startMs: number;
  readonly replica: string;
  /** A share drop this large (absolute, 0..1) below the pre-injection share counts as a shift. */
  readonly shiftThreshold?: number;
}

export interface Reaction {
  /** First congestion_onset on one of the links, at or after the injection. */
  readonly onsetTs?: number;
  /** First weights hint after the injection giving the replica less than before it. */
  readonly weightTs?: number;
  /** Start of the first second after the injection whose share dropped by the threshold. */
  readonly shiftTs?: number;
  readonly injectToOnsetMs?: number;
  /** weightTs − onsetTs: may be negative, as the bridge already reacts to rising utilization. */
  readonly onsetToWeightMs?: number;
  readonly onsetToShiftMs?: number;
  readonly injectToWeightMs?: number;
  readonly injectToShiftMs?: number;
}

export function reactionTimes(input: ReactionInput): Reaction {
  const onset = input.events.find((e) => e.event === 'congestion_onset' && e.ts >= input.injectedAt && e.linkId !== undefined && input.links.includes(e.linkId));
  const before = [...input.weights].reverse().find((w) => w.ts < input.injectedAt)?.weight ?? 500;
  const moved = input.weights.find((w) => w.ts >= input.injectedAt && w.weight < before);
  const injectSecond = Math.floor((input.injectedAt - input.startMs) / 1000);
  const pre = input.seconds.slice(Math.max(0, injectSecond - 5), injectSecond).map((r) => replicaShare(r, input.replica)).filter((s): s is number => s !== undefined);
  const preShare = pre.length ? pre.reduce((a, b) => a + b, 0) / pre.length : 0.5;
  const threshold = input.shiftThreshold ?? 0.15;
  const shiftRow = input.seconds.find((r) => {
    if (r.second < injectSecond) return false;
    const s = replicaShare(r, input.replica);
    return s !== undefined && s <= preShare - threshold;
  });
  const shiftTs = shiftRow ? input.startMs + shiftRow.second * 1000 : undefined;
  const diff = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a - b);
  return {
    ...(onset ? { onsetTs: onset.ts } : {}),
    ...(moved ? { weightTs: moved.ts } : {}),
    ...(shiftTs !== undefined ? { shiftTs } : {}),
    ...opt('injectToOnsetMs', diff(onset?.ts, input.injectedAt)),
    ...opt('onsetToWeightMs', diff(moved?.ts, onset?.ts)),
    ...opt('onsetToShiftMs', diff(shiftTs, onset?.ts)),
    ...opt('injectToWeightMs', diff(moved?.ts, input.injectedAt)),
    ...opt('injectToShiftMs', diff(shiftTs, input.injectedAt)),
  };
}

function opt<K extends string>(key: K, v: number | undefined): Partial<Record<K, number>> {
  return v === undefined ? {} : ({ [key]: v } as Record<K, number>);
}
