// The bridge's one view of the hint bus. Until bus/ ships its schema-derived types and
// parser, the shapes the bridge consumes and produces live here, validated once at the
// edge; the rest of bridge/ imports only from this module, so switching to bus/ later
// touches this file alone.
import { Type, type Static } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';

export const TOPIC_ROOT = 'meshflow/v1';

/** Topic names, mirroring the table in ARCHITECTURE.md. */
export const topics = {
  costs: (srcPid: string): string => `${TOPIC_ROOT}/costs/${srcPid}`,
  costsAll: `${TOPIC_ROOT}/costs/+`,
  events: `${TOPIC_ROOT}/events`,
  weights: (sidecarId: string): string => `${TOPIC_ROOT}/sidecars/${sidecarId}/weights`,
  status: (sidecarId: string): string => `${TOPIC_ROOT}/sidecars/${sidecarId}/status`,
} as const;

const Level = Type.Union([
  Type.Literal('ok'),
  Type.Literal('warning'),
  Type.Literal('congested'),
  Type.Literal('down'),
]);
export type Level = Static<typeof Level>;

const envelope = {
  v: Type.Literal(1),
  ts: Type.Number({ minimum: 0 }),
  seq: Type.Integer({ minimum: 0 }),
  ttlMs: Type.Number({ minimum: 0 }),
  source: Type.String(),
};

const CostEntry = Type.Object({
  dstPid: Type.String({ minLength: 1 }),
  bottleneckUtilization: Type.Number({ minimum: 0 }),
  availableBps: Type.Number({ minimum: 0 }),
  hops: Type.Integer({ minimum: 0 }),
  level: Level,
  path: Type.Optional(Type.Array(Type.String())),
});
export type CostEntry = Static<typeof CostEntry>;

const CostRowHint = Type.Object({
  ...envelope,
  kind: Type.Literal('cost_row'),
  srcPid: Type.String({ minLength: 1 }),
  costs: Type.Array(CostEntry),
});
export type CostRowHint = Static<typeof CostRowHint>;

const EventHint = Type.Object({
  ...envelope,
  kind: Type.Literal('event'),
  event: Type.String({ minLength: 1 }),
  linkId: Type.Optional(Type.String()),
  level: Type.Optional(Level),
  utilization: Type.Optional(Type.Number()),
  detail: Type.Optional(Type.Unknown()),
});
export type EventHint = Static<typeof EventHint>;

const ServiceWeights = Type.Record(
  Type.String(),
  Type.Record(Type.String(), Type.Integer({ minimum: 0, maximum: 1000 })),
);
/** Per service, per replica weight 0..1000. */
export type ServiceWeights = Static<typeof ServiceWeights>;

const WeightsHint = Type.Object({
  ...envelope,
  kind: Type.Literal('weights'),
  sidecarId: Type.String({ minLength: 1 }),
  services: ServiceWeights,
});
export type WeightsHint = Static<typeof WeightsHint>;

const SidecarStatusHint = Type.Object({
  ...envelope,
  kind: Type.Literal('sidecar_status'),
  sidecarId: Type.String({ minLength: 1 }),
  status: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
  services: Type.Optional(Type.Array(Type.String())),
});
export type SidecarStatusHint = Static<typeof SidecarStatusHint>;

export type Hint = CostRowHint | EventHint | WeightsHint | SidecarStatusHint;

const ajv = new Ajv({ allErrors: false, strict: false });
const validators: Record<Hint['kind'], ValidateFunction> = {
  cost_row: ajv.compile(CostRowHint),
  event: ajv.compile(EventHint),
  weights: ajv.compile(WeightsHint),
  sidecar_status: ajv.compile(SidecarStatusHint),
};

export class HintError extends Error {
  constructor(
    readonly code: 'HINT_JSON' | 'HINT_KIND' | 'HINT_SCHEMA',
    message: string,
  ) {
    super(message);
    this.name = 'HintError';
  }
}

function isKind(k: unknown): k is Hint['kind'] {
  return typeof k === 'string' && Object.hasOwn(validators, k);
}

/** Parses one MQTT payload into a typed hint; throws HintError naming what is wrong. */
export function parseHint(payload: Buffer | string): Hint {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString());
  } catch {
    throw new HintError('HINT_JSON', 'payload is not JSON');
  }
  const kind = typeof value === 'object' && value !== null ? (value as { kind?: unknown }).kind : undefined;
  if (!isKind(kind)) throw new HintError('HINT_KIND', `unknown kind ${JSON.stringify(kind)}`);
  const validate = validators[kind];
  if (!validate(value)) {
    const e = validate.errors?.[0];
    throw new HintError('HINT_SCHEMA', `${kind}${e?.instancePath ?? ''}: ${e?.message ?? 'invalid'}`);
  }
  return value as Hint;
}

/** A hint is stale once its ttl has passed, judged by the sender's timestamp. */
export function isStale(h: { ts: number; ttlMs: number }, now: number): boolean {
  return now > h.ts + h.ttlMs;
}

/** Per-publisher sequence numbers, strictly increasing as the contract requires. */
export class Envelope {
  private seq = 0;
  constructor(
    readonly source: string,
    private readonly clock: () => number = Date.now,
  ) {}
  next(ttlMs: number): { v: 1; ts: number; seq: number; ttlMs: number; source: string } {
    return { v: 1, ts: this.clock(), seq: this.seq++, ttlMs, source: this.source };
  }
}

