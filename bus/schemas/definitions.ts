// The hint contract, written once. The TypeScript types (`Static<>`) and the shipped
// JSON Schema files (bus/schemas/<kind>.schema.json, written by generate.ts) both come
// from these definitions, so a sidecar in another language checks exactly what we check.
import { Type, type TSchema } from '@sinclair/typebox';

// A plain `enum` rather than TypeBox's anyOf-of-consts: one clear error, and simpler for other languages.
function StringEnum<const T extends readonly string[]>(values: T, description?: string) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...(description === undefined ? {} : { description }) });
}

export const HINT_KINDS = ['link_state', 'event', 'cost_row', 'weights', 'sidecar_status', 'controller_status'] as const;
export type HintKind = (typeof HINT_KINDS)[number];

/**
 * The schema version of each kind (`v` in the envelope). A kind's version moves when its shape
 * changes in a way an older reader would misread; the others stay. cost_row 2: one entry per
 * destination with the best and worst path's figures, by column, and no path lists. link_state 2:
 * the capacity may be unknown (0) and the one-way delay figures of the probes may come along.
 */
export const HINT_VERSIONS = {
  link_state: 2,
  event: 1,
  cost_row: 2,
  weights: 1,
  sidecar_status: 1,
  controller_status: 1,
} as const satisfies Record<HintKind, number>;

// Identifiers that become one MQTT topic level must not contain a level separator or a wildcard.
const TOPIC_LEVEL_PATTERN = '^[^/+#\\u0000]+$';
const topicLevel = (description: string) =>
  Type.String({ minLength: 1, maxLength: 256, pattern: TOPIC_LEVEL_PATTERN, description });

// Lower-case only, so one switch never appears under two spellings (and two retained topics).
export const DPID_PATTERN = '^[0-9a-f]{16}$';
export const LINK_ID_PATTERN = '^[0-9a-f]{16}:[0-9]+-[0-9a-f]{16}:[0-9]+$';

const Dpid = Type.String({ pattern: DPID_PATTERN, description: 'datapath id, 16 lower-case hex digits' });
// OpenFlow 1.3 port numbers are 32-bit.
const Port = Type.Integer({ minimum: 0, maximum: 0xffffffff });
const LinkId = Type.String({
  pattern: LINK_ID_PATTERN,
  description: 'one direction of a link: <src dpid>:<src port>-<dst dpid>:<dst port>',
});
const Endpoint = Type.Object({ dpid: Dpid, port: Port }, { additionalProperties: false });
export const LEVELS = ['ok', 'warning', 'congested', 'down'] as const;
const Level = StringEnum(LEVELS);
const NonNegative = (description?: string) =>
  Type.Number(description === undefined ? { minimum: 0 } : { minimum: 0, description });

// The publisher's signature, always the last member (see bus/signing.ts for what it covers).
const Signature = Type.Object(
  {
    key: Type.String({ pattern: '^[A-Za-z0-9._-]+$', description: "the signer's key id" }),
    ed25519: Type.String({ pattern: '^[A-Za-z0-9+/]+={0,2}$', description: 'base64 Ed25519 signature of topic + "\\n" + the hint JSON without sig' }),
  },
  { additionalProperties: false, description: 'signature of the publisher; consumers verify it against the keys they trust' },
);

// Fields every hint carries. `replayed`/`originalTs` appear only on hints re-published by replay.
function envelope<K extends HintKind>(kind: K) {
  return {
    v: Type.Literal(HINT_VERSIONS[kind] as (typeof HINT_VERSIONS)[K]),
    kind: Type.Literal(kind),
    ts: Type.Integer({ minimum: 0, description: 'ms since the epoch, when the publisher stamped it' }),
    seq: Type.Integer({ minimum: 0, description: 'per publisher, strictly increasing' }),
    ttlMs: Type.Integer({ minimum: 0, description: 'stale once ts + ttlMs < now' }),
    source: Type.String({ minLength: 1, maxLength: 256, description: 'publisher id' }),
    replayed: Type.Optional(Type.Literal(true)),
    originalTs: Type.Optional(Type.Integer({ minimum: 0, description: 'ts of the recorded hint (replay only)' })),
    // A group of controllers speaks as one source: readers keep the rows of the highest epoch.
    controller: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'the controller of a group that published it' })),
    epoch: Type.Optional(Type.Integer({ minimum: 0, description: "fencing number of the publisher's lease: a higher epoch supersedes a lower one" })),
    sig: Type.Optional(Signature),
  };
}

const strict = { additionalProperties: false } as const;

/** Where a link's capacity came from, most deliberate first (the controller's precedence). */
export const CAPACITY_SOURCES = ['api', 'config', 'topology', 'tc', 'port', 'none'] as const;

export const LinkStateSchema = Type.Object(
  {
    ...envelope('link_state'),
    linkId: LinkId,
    src: Endpoint,
    dst: Endpoint,
    capacityBps: NonNegative('bit/s; 0: unknown (utilization is then 0 and the level comes from delay alone)'),
    capacitySource: Type.Optional(
      Type.Union(CAPACITY_SOURCES.map((s) => Type.Literal(s)), { description: 'where the capacity came from: api, config, topology, tc (shaping), port (speed), none' }),
    ),
    rateBps: NonNegative(),
    // May exceed 1 briefly: counters are sampled, and queues absorb bursts.
    utilization: NonNegative('rateBps / capacityBps'),
    drops: NonNegative('dropped packets per second'),
    level: Level,
    // From the delay probes, when the controller runs them and a probe of this direction came back.
    delayMs: Type.Optional(NonNegative('one-way delay of this direction, ms (probe receive − send time, less both switches\' control-channel delays)')),
    baseDelayMs: Type.Optional(NonNegative('the least one-way delay over the baseline window, ms: the link with empty queues')),
    queueDelayMs: Type.Optional(NonNegative('queueing delay, ms: delayMs − baseDelayMs')),
  },
  { ...strict, title: 'meshflow link_state hint', $id: 'urn:meshflow:hint:v1:link_state' },
);

export const EVENT_NAMES = [
  'congestion_onset',
  'congestion_clear',
  'link_up',
  'link_down',
  'path_change',
  'switch_up',
  'switch_down',
  // The bridge's arbiter: which lever (path or weights) it moved or held for a sidecar's service, and why.
  'arbiter_decision',
] as const;
const LINK_EVENTS = ['congestion_onset', 'congestion_clear', 'link_up', 'link_down'] as const;
const SWITCH_EVENTS = ['switch_up', 'switch_down'] as const;

export const EventSchema = Type.Object(
  {
    ...envelope('event'),
    event: StringEnum(EVENT_NAMES),
    linkId: Type.Optional(LinkId),
    dpid: Type.Optional(Dpid),
    level: Type.Optional(Level),
    utilization: Type.Optional(NonNegative()),
    // Free-form context (e.g. a path change's srcPid, dstPid, old and new path). Open on purpose.
    detail: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  {
    ...strict,
    title: 'meshflow event hint',
    $id: 'urn:meshflow:hint:v1:event',
    // A link event without its link, or a switch event without its switch, tells nobody anything.
    allOf: [
      { if: { properties: { event: { enum: [...LINK_EVENTS] } } }, then: { required: ['linkId'] } },
      { if: { properties: { event: { enum: [...SWITCH_EVENTS] } } }, then: { required: ['dpid'] } },
    ],
  },
);

// The fields of one destination's entry (the controller's CostEntry), in the order rows list them.
export const COST_FIELDS = [
  'dstPid',
  'hops',
  'paths',
  'bottleneckUtilization',
  'availableBps',
  'worstUtilization',
  'worstAvailableBps',
  'aggregateBps',
  'level',
  'worstLevel',
] as const;
/** Columns a row carries only sometimes (queueDelayMs: when the controller runs delay probes). */
export const OPTIONAL_COST_FIELDS = ['queueDelayMs'] as const;

// Stored by column: entry i is the i-th element of every array. Field names spelled once per row
// rather than per entry keep a 127-entry row (a fat-tree with k=16) near 11 KiB instead of 28.
const CostColumns = Type.Object(
  {
    dstPid: Type.Array(topicLevel('destination attachment point (ALTO PID)')),
    hops: Type.Array(Type.Integer({ minimum: 0 }), { description: 'hops of the shortest paths (0: unreachable)' }),
    paths: Type.Array(Type.Integer({ minimum: 0 }), { description: 'how many equal-cost shortest paths (0: unreachable)' }),
    bottleneckUtilization: Type.Array(NonNegative(), { description: "the best path's bottleneck utilization (min over paths of the max)" }),
    availableBps: Type.Array(NonNegative(), { description: "the best path's room, bit/s (max over paths of the min)" }),
    worstUtilization: Type.Array(NonNegative(), { description: "the most loaded path's bottleneck utilization (max over paths of the max)" }),
    worstAvailableBps: Type.Array(NonNegative(), { description: "the most loaded path's room, bit/s (min over paths of the min)" }),
    aggregateBps: Type.Array(NonNegative(), { description: 'room of the equal-cost set: the smallest total room of any hop layer, bit/s' }),
    level: Type.Array(Level, { description: "the best path's level ('down': unreachable)" }),
    worstLevel: Type.Array(Level, { description: "the most loaded path's level" }),
    queueDelayMs: Type.Optional(
      Type.Array(NonNegative(), {
        description: 'with delay probes: the least queueing delay (ms) of any equal-cost path, each the sum over its links (0: unreachable)',
      }),
    ),
  },
  { ...strict, description: 'one entry per destination, by column: every array has one element per dstPid' },
);

export const CostRowSchema = Type.Object(
  {
    ...envelope('cost_row'),
    srcPid: topicLevel('source attachment point (ALTO PID)'),
    costs: CostColumns,
  },
  { ...strict, title: 'meshflow cost_row hint', $id: 'urn:meshflow:hint:v2:cost_row' },
);

export const WEIGHT_MAX = 1000;
/** The most equal-cost paths a weights hint names for one replica. */
export const EQUAL_COST_MAX = 65_536;
export const WeightsSchema = Type.Object(
  {
    ...envelope('weights'),
    sidecarId: topicLevel('sidecar id'),
    services: Type.Record(
      Type.String(),
      Type.Record(Type.String(), Type.Number({ minimum: 0, maximum: WEIGHT_MAX })),
      { description: 'service -> replica id -> weight (0..1000)' },
    ),
    // Optional, so a hint without it reads as before: every path has room and no path is known.
    replicas: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object(
          {
            room: Type.Optional(
              Type.Boolean({ description: "false: the path from the sidecar's attachment point to this replica's has no room; the sidecar sends it only its highest class (absent: room)" }),
            ),
            path: Type.Optional(
              Type.Array(Type.Object({ link: LinkId, level: Type.Optional(Level) }, strict), {
                maxItems: 64,
                description: "the links the controller forwards this traffic over, in order, each with its level when the hint was made (absent: the link's state is not known)",
              }),
            ),
            equalCost: Type.Optional(
              Type.Integer({
                minimum: 2,
                maximum: EQUAL_COST_MAX,
                description: 'with ECMP: connections are hashed over this many equal-cost paths, of which `path` is the one a flow without ports takes (absent: `path` is the only one)',
              }),
            ),
          },
          strict,
        ),
        { description: 'replica id -> what the network says of the path to it' },
      ),
    ),
  },
  { ...strict, title: 'meshflow weights hint', $id: 'urn:meshflow:hint:v1:weights' },
);

export const SidecarStatusSchema = Type.Object(
  {
    ...envelope('sidecar_status'),
    sidecarId: topicLevel('sidecar id'),
    state: StringEnum(['online', 'offline'] as const),
    host: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    services: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  { ...strict, title: 'meshflow sidecar_status hint', $id: 'urn:meshflow:hint:v1:sidecar_status' },
);

// The controller announces itself like a sidecar does; its last will marks it offline, so readers
// learn at once that link states and cost rows will no longer be refreshed.
export const ControllerStatusSchema = Type.Object(
  {
    ...envelope('controller_status'),
    controllerId: topicLevel('controller id'),
    state: StringEnum(['online', 'offline'] as const),
    apiUrl: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'base URL of its REST API' })),
  },
  { ...strict, title: 'meshflow controller_status hint', $id: 'urn:meshflow:hint:v1:controller_status' },
);

export const SCHEMAS = {
  link_state: LinkStateSchema,
  event: EventSchema,
  cost_row: CostRowSchema,
  weights: WeightsSchema,
  sidecar_status: SidecarStatusSchema,
  controller_status: ControllerStatusSchema,
} as const satisfies Record<HintKind, TSchema>;
