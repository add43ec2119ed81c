// What a client may send to POST /api/v1/intents, checked in two steps: the JSON Schema (shapes and
// ranges; the same schema documents the route), then what a schema cannot say (fields that go
// together, hosts and links that must exist). Every refusal names the field it is about.
import { Ajv, type ErrorObject } from 'ajv';
import type { LinkTable } from '../topology/links.ts';
import type { Host } from '../topology/types.ts';
import { IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP } from '../packet/index.ts';
import { avoids } from './plan.ts';
import { defaultIntentSettings, POLICIES, PRIORITIES, PRIORITY_DSCP, type AvoidItem, type IntentSpec, type Policy, type PolicyName, type PriorityName, type TrafficClass } from './types.ts';

const HEX16 = '(0x)?[0-9a-fA-F]{1,16}';
const DPID_PATTERN = `^${HEX16}$`;
const AVOID_PATTERN = `^${HEX16}(:[0-9]{1,10})?-${HEX16}(:[0-9]{1,10})?$`;
const hostText = { type: 'string', minLength: 1, maxLength: 64, description: 'host name (from the topology file), IPv4 address or MAC' } as const;
const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;

export const intentRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['src', 'dst', 'policy'],
  properties: {
    src: hostText,
    dst: hostText,
    policy: {
      type: 'string',
      enum: [...POLICIES],
      description: `shortest: fewest hops; least-congested: lowest bottleneck utilization, then fewest hops, moved only off a path at least ${defaultIntentSettings.hotMark * 100}% busy (its own traffic left out) to one busy at least ${defaultIntentSettings.moveMargin * 100} points less (the controller's defaults); avoid: fewest hops without avoidLinks; explicit: exactly path`,
    },
    ipProto: { type: 'integer', enum: [IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP], description: '1 ICMP, 6 TCP, 17 UDP; every IPv4 protocol when absent' },
    srcPort: { ...port, description: 'with ipProto 6 or 17' },
    dstPort: { ...port, description: 'with ipProto 6 or 17' },
    avoidLinks: {
      type: 'array',
      minItems: 1,
      maxItems: 64,
      items: { type: 'string', pattern: AVOID_PATTERN },
      description: 'policy avoid: link ids "<dpid>:<port>-<dpid>:<port>" (the cable, both directions) or switch pairs "<dpid>-<dpid>" (every cable between them)',
    },
    path: {
      type: 'array',
      minItems: 1,
      maxItems: 64,
      items: { type: 'string', pattern: DPID_PATTERN },
      description: "policy explicit: datapath ids from src's switch to dst's, each joined to the next by a live link",
    },
    priority: { type: 'string', enum: [...PRIORITIES], description: 'marks the class with DSCP where it enters the network: high 46 (EF), normal 0, low 8 (CS1)' },
    dscp: { type: 'integer', minimum: 0, maximum: 63, description: 'an explicit DSCP mark instead of priority' },
  },
} as const;

/** The body as the schema admits it. */
export interface IntentRequest {
  readonly src: string;
  readonly dst: string;
  readonly policy: PolicyName;
  readonly ipProto?: number;
  readonly srcPort?: number;
  readonly dstPort?: number;
  readonly avoidLinks?: readonly string[];
  readonly path?: readonly string[];
  readonly priority?: PriorityName;
  readonly dscp?: number;
}

// Strict and without coercion: "5201" is not a port, and an unknown field is a mistake worth telling.
const validate = new Ajv({ allErrors: false, strict: true }).compile<IntentRequest>(intentRequestSchema);

/** Friendlier words for the patterns than the regular expressions themselves. */
const PATTERN_WORDS: Readonly<Record<string, string>> = {
  avoidLinks: 'must be a link id "<dpid>:<port>-<dpid>:<port>" or a switch pair "<dpid>-<dpid>"',
  path: 'must be a datapath id (up to 16 hex digits)',
};

export function formatSchemaError(e: ErrorObject): string {
  const at = e.instancePath === '' ? '' : e.instancePath;
  switch (e.keyword) {
    case 'required':
      return `${at}/${String(e.params['missingProperty'])}: is required`;
    case 'additionalProperties':
      return `${at}/${String(e.params['additionalProperty'])}: is not a field of an intent`;
    case 'enum':
      return `${at}: must be one of ${(e.params['allowedValues'] as unknown[]).map(String).join(', ')}`;
    case 'pattern': {
      const field = at.split('/')[1] ?? '';
      return `${at}: ${PATTERN_WORDS[field] ?? e.message ?? 'is malformed'}`;
    }
    default:
      return `${at || '/'}: ${e.message ?? 'is invalid'}`;
  }
}

/** What resolving a request needs to know about the network. */
export interface RequestContext {
  findHost(text: string): Host | undefined;
  isHostSyntax(text: string): boolean;
  /** Every link known, up or down: an avoided link may be down at the moment. */
  readonly links: LinkTable;
  /** Connected switches. */
  readonly switches: ReadonlySet<string>;
}

export type Parsed = { readonly ok: true; readonly spec: IntentSpec } | { readonly ok: false; readonly message: string };

export function parseIntentRequest(body: unknown, ctx: RequestContext): Parsed {
  if (!validate(body)) {
    const first = validate.errors?.[0];
    return bad(first ? formatSchemaError(first) : '/: is not a valid intent');
  }
  const r = body;
  const ends: Host[] = [];
  for (const field of ['src', 'dst'] as const) {
    const text = r[field];
    if (!ctx.isHostSyntax(text)) return bad(`/${field}: ${JSON.stringify(text)} is neither a host name, an IPv4 address (a.b.c.d) nor a MAC address`);
    const h = ctx.findHost(text);
    if (h === undefined) return bad(`/${field}: unknown host ${JSON.stringify(text)} (hosts are learned from their traffic)`);
    if (h.ipv4 === undefined) return bad(`/${field}: host ${JSON.stringify(text)} has no known IPv4 address`);
    ends.push(h);
  }
  const [src, dst] = ends as [Host, Host];
  if (src.mac === dst.mac) return bad('/dst: is the same host as src');
  const traffic = trafficOf(r, src.ipv4 as string, dst.ipv4 as string);
  if (typeof traffic === 'string') return bad(traffic);
  const policy = policyOf(r, ctx);
  if (typeof policy === 'string') return bad(policy);
  if (r.priority !== undefined && r.dscp !== undefined) return bad('/dscp: give either priority or dscp, not both');
  const dscp = r.dscp ?? (r.priority !== undefined ? PRIORITY_DSCP[r.priority] : undefined);
  return {
    ok: true,
    spec: {
      src: r.src,
      dst: r.dst,
      srcMac: src.mac,
      dstMac: dst.mac,
      traffic,
      policy,
      ...(r.priority !== undefined ? { priority: r.priority } : {}),
      ...(dscp !== undefined ? { dscp } : {}),
    },
  };
}

function trafficOf(r: IntentRequest, srcIp: string, dstIp: string): TrafficClass | string {
  const ports = r.srcPort !== undefined || r.dstPort !== undefined;
  if (ports && r.ipProto === undefined) return '/ipProto: is required with srcPort or dstPort (6 for TCP, 17 for UDP)';
  if (ports && r.ipProto === IP_PROTO_ICMP) return `/${r.srcPort !== undefined ? 'srcPort' : 'dstPort'}: only with ipProto 6 (TCP) or 17 (UDP)`;
  return {
    srcIp,
    dstIp,
    ...(r.ipProto !== undefined ? { ipProto: r.ipProto } : {}),
    ...(r.srcPort !== undefined ? { srcPort: r.srcPort } : {}),
    ...(r.dstPort !== undefined ? { dstPort: r.dstPort } : {}),
  };
}

function policyOf(r: IntentRequest, ctx: RequestContext): Policy | string {
  if (r.avoidLinks !== undefined && r.policy !== 'avoid') return '/avoidLinks: only with policy "avoid"';
  if (r.path !== undefined && r.policy !== 'explicit') return '/path: only with policy "explicit"';
  switch (r.policy) {
    case 'shortest':
    case 'least-congested':
      return { name: r.policy };
    case 'avoid': {
      if (r.avoidLinks === undefined) return '/avoidLinks: is required with policy "avoid"';
      const avoid: AvoidItem[] = [];
      for (const [i, text] of r.avoidLinks.entries()) {
        const item = avoidItem(text);
        if (typeof item === 'string') return `/avoidLinks/${i}: ${item}`;
        if (![...ctx.links.values()].some((l) => avoids(item, l))) {
          return `/avoidLinks/${i}: no link ${item.kind === 'link' ? item.id : `between ${item.a} and ${item.b}`} is known`;
        }
        avoid.push(item);
      }
      return { name: 'avoid', avoid };
    }
    case 'explicit': {
      if (r.path === undefined) return '/path: is required with policy "explicit"';
      const switches = r.path.map(normalDpid);
      const missing = switches.findIndex((d) => !ctx.switches.has(d));
      if (missing >= 0) return `/path/${missing}: no switch ${switches[missing]} is connected`;
      return { name: 'explicit', switches };
    }
    default:
      return assertNever(r.policy);
  }
}

function avoidItem(text: string): AvoidItem | string {
  const [a = '', b = ''] = text.split('-');
  const end = (s: string): { dpid: string; port?: number } => {
    const [d = '', p] = s.split(':');
    return { dpid: normalDpid(d), ...(p !== undefined ? { port: Number(p) } : {}) };
  };
  const x = end(a);
  const y = end(b);
  if (x.port !== undefined && y.port !== undefined) return { kind: 'link', id: `${x.dpid}:${x.port}-${y.dpid}:${y.port}` };
  if (x.port === undefined && y.port === undefined) return { kind: 'switches', a: x.dpid, b: y.dpid };
  return 'give both ports (a link id) or neither (a switch pair)';
}

/** "0x3", "3" and "0000000000000003" name the same switch. */
export function normalDpid(text: string): string {
  return text.toLowerCase().replace(/^0x/, '').padStart(16, '0');
}

function bad(message: string): Parsed {
  return { ok: false, message };
}

function assertNever(x: never): never {
  throw new Error(`unhandled case ${JSON.stringify(x)}`);
}
