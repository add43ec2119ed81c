// The service registry: which services exist, where their replicas run, which sidecars
// call them, and which attachment point (edge switch) each host hangs off. Loaded from a
// YAML or JSON file, checked once here, then handed around as plain readonly data.
import { readFile } from 'node:fs/promises';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';

const Name = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
const Port = Type.Integer({ minimum: 1, maximum: 65535 });
/** An attachment point: an edge switch datapath id as 16 hex characters. */
const Pid = Type.String({ pattern: '^[0-9a-fA-F]{16}$' });
const Host = Type.String({ minLength: 1, maxLength: 255 });

export const ServiceSchema = Type.Object(
  { name: Name, port: Port, latencySensitive: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export type Service = Static<typeof ServiceSchema>;

export const ReplicaSchema = Type.Object(
  { id: Name, service: Name, host: Host, port: Port },
  { additionalProperties: false },
);
export type Replica = Static<typeof ReplicaSchema>;

const HaproxyTarget = Type.Object(
  {
    socket: Type.String({ minLength: 1 }),
    /** The backend for the sidecar's only service … */
    backend: Type.Optional(Name),
    /** … or one backend per service when it calls several. */
    backends: Type.Optional(Type.Record(Type.String(), Name)),
  },
  { additionalProperties: false },
);
export type HaproxyTarget = Static<typeof HaproxyTarget>;

export const SidecarSchema = Type.Object(
  {
    id: Name,
    host: Host,
    calls: Type.Array(Name),
    kind: Type.Optional(Type.Union([Type.Literal('builtin'), Type.Literal('haproxy')])),
    haproxy: Type.Optional(HaproxyTarget),
  },
  { additionalProperties: false },
);
export type Sidecar = Static<typeof SidecarSchema>;

const HostPidMap = Type.Record(Host, Pid);

const RegistryFileSchema = Type.Object(
  {
    services: Type.Array(ServiceSchema),
    replicas: Type.Array(ReplicaSchema),
    sidecars: Type.Optional(Type.Array(SidecarSchema)),
    attachments: Type.Optional(HostPidMap),
    hostPid: Type.Optional(HostPidMap),
  },
  { additionalProperties: false },
);

export interface Registry {
  readonly services: readonly Service[];
  readonly replicas: readonly Replica[];
  readonly sidecars: readonly Sidecar[];
  /** host (topology name or IP) → attachment point; pids normalised to lower case. */
  readonly attachments: Readonly<Record<string, string>>;
}

/** One thing wrong with a registry, at a JSON pointer into the document. */
export interface Issue {
  readonly path: string;
  readonly message: string;
}

export class RegistryError extends Error {
  constructor(readonly issues: readonly Issue[]) {
    super(issues.map((i) => `${i.path || '/'}: ${i.message}`).join('; '));
    this.name = 'RegistryError';
  }
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validateFile = ajv.compile<Static<typeof RegistryFileSchema>>(RegistryFileSchema);

function ajvIssues(errors: readonly ErrorObject[] | null | undefined, prefix = ''): Issue[] {
  return (errors ?? []).map((e) => {
    // Name the offending key itself for missing and extra properties: the reader looks
    // for "/replicas/2/port", not for "/replicas/2".
    let path = prefix + e.instancePath;
    if (e.keyword === 'required') path += `/${String(e.params['missingProperty'])}`;
    if (e.keyword === 'additionalProperties') path += `/${String(e.params['additionalProperty'])}`;
    if (e.keyword === 'propertyNames') path += `/${String(e.params['propertyName'])}`;
    const message =
      e.keyword === 'additionalProperties' ? 'unknown field' : e.keyword === 'required' ? 'is required' : (e.message ?? 'invalid');
    return { path, message };
  });
}

/** Checks one item against a schema; issue paths are relative to the item. */
export function checkItem<T extends TSchema>(schema: T, value: unknown): Issue[] {
  const validate = ajv.compile(schema);
  return validate(value) ? [] : ajvIssues(validate.errors);
}

/** The checks a schema cannot express: unique ids, references, haproxy targets. */
export function crossCheck(reg: Registry): Issue[] {
  const issues: Issue[] = [];
  const services = new Set<string>();
  reg.services.forEach((s, i) => {
    if (services.has(s.name)) issues.push({ path: `/services/${i}/name`, message: `duplicate service "${s.name}"` });
    services.add(s.name);
  });
  const replicaIds = new Set<string>();
  reg.replicas.forEach((r, i) => {
    if (replicaIds.has(r.id)) issues.push({ path: `/replicas/${i}/id`, message: `duplicate replica "${r.id}"` });
    replicaIds.add(r.id);
    if (!services.has(r.service)) issues.push({ path: `/replicas/${i}/service`, message: `unknown service "${r.service}"` });
  });
  const sidecarIds = new Set<string>();
  reg.sidecars.forEach((s, i) => {
    if (sidecarIds.has(s.id)) issues.push({ path: `/sidecars/${i}/id`, message: `duplicate sidecar "${s.id}"` });
    sidecarIds.add(s.id);
    for (const issue of sidecarIssues(s, services)) issues.push({ path: `/sidecars/${i}${issue.path}`, message: issue.message });
  });
  return issues;
}

/** Reference checks for one sidecar, relative to it. */
export function sidecarIssues(s: Sidecar, services: ReadonlySet<string>): Issue[] {
  const issues: Issue[] = [];
  s.calls.forEach((c, j) => {
    if (!services.has(c)) issues.push({ path: `/calls/${j}`, message: `unknown service "${c}"` });
  });
  if (s.kind === 'haproxy') {
    if (!s.haproxy) issues.push({ path: '/haproxy', message: 'is required when kind is haproxy' });
    else if (!s.haproxy.backend && !s.haproxy.backends)
      issues.push({ path: '/haproxy/backend', message: 'backend or backends is required' });
    else if (s.haproxy.backend && s.calls.length > 1)
      issues.push({ path: '/haproxy/backends', message: 'a sidecar calling several services needs one backend per service' });
  }
  return issues;
}

/** Validates a parsed document (from YAML, JSON or an API body) into a Registry. */
export function parseRegistry(doc: unknown): Registry {
  if (!validateFile(doc)) throw new RegistryError(ajvIssues(validateFile.errors));
  const attachments: Record<string, string> = {};
  const issues: Issue[] = [];
  for (const [key, map] of [['attachments', doc.attachments], ['hostPid', doc.hostPid]] as const) {
    for (const [host, pid] of Object.entries(map ?? {})) {
      const prev = attachments[host];
      if (prev !== undefined && prev !== pid.toLowerCase())
        issues.push({ path: `/${key}/${host}`, message: `conflicts with the attachment point given earlier (${prev})` });
      attachments[host] = pid.toLowerCase();
    }
  }
  const reg: Registry = { services: doc.services, replicas: doc.replicas, sidecars: doc.sidecars ?? [], attachments };
  issues.push(...crossCheck(reg));
  if (issues.length > 0) throw new RegistryError(issues);
  return reg;
}

/** Parses file text; YAML is a superset of JSON, so one parser reads both. */
export function parseRegistryText(text: string): Registry {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new RegistryError([{ path: '', message: `not YAML or JSON: ${(err as Error).message}` }]);
  }
  return parseRegistry(doc);
}

export async function loadRegistry(file: string): Promise<Registry> {
  return parseRegistryText(await readFile(file, 'utf8'));
}

export const emptyRegistry: Registry = { services: [], replicas: [], sidecars: [], attachments: {} };

// Lookups the policy and the adapters share.

export function pidOf(reg: Registry, host: string): string | undefined {
  return reg.attachments[host];
}

export function replicasOf(reg: Registry, service: string): Replica[] {
  return reg.replicas.filter((r) => r.service === service);
}

export function serviceOf(reg: Registry, name: string): Service | undefined {
  return reg.services.find((s) => s.name === name);
}
