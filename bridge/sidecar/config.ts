// The built-in sidecar's configuration file, checked once at start.
import { readFile } from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import { Type, type Static } from '@sinclair/typebox';
import { Ajv } from 'ajv';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const Name = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
const Endpoint = Type.Object(
  { host: Type.Optional(Type.String({ minLength: 1 })), port: Port },
  { additionalProperties: false },
);

const ReplicaAddress = Type.Object(
  { id: Name, host: Type.String({ minLength: 1 }), port: Type.Integer({ minimum: 1, maximum: 65535 }) },
  { additionalProperties: false },
);

/** One ingress rule: every condition given must hold; the first rule that matches wins. */
const IngressRule = Type.Object(
  {
    class: Name,
    pathPrefix: Type.Optional(Type.String({ minLength: 1 })),
    method: Type.Optional(Type.String({ minLength: 1 })),
    header: Type.Optional(
      Type.Object({ name: Type.String({ minLength: 1 }), value: Type.Optional(Type.String()) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);
export type IngressRule = Static<typeof IngressRule>;

/** A class the scheduler knows, highest priority first; its connections may leave from their own address. */
const ClassSetting = Type.Object(
  { name: Name, sourceAddress: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}(\\.[0-9]{1,3}){3}$' })) },
  { additionalProperties: false },
);

const Scheduling = Type.Object(
  {
    classes: Type.Array(ClassSetting, { minItems: 1 }),
    concurrencyPerReplica: Type.Optional(Type.Integer({ minimum: 1 })),
    queueLimit: Type.Optional(Type.Integer({ minimum: 0 })),
    queueTimeoutMs: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

const SidecarConfigSchema = Type.Object(
  {
    id: Name,
    /** The host this sidecar runs beside, as the registry names it (reported in status). */
    host: Type.Optional(Type.String({ minLength: 1 })),
    listen: Endpoint,
    admin: Endpoint,
    mqttUrl: Type.Optional(Type.String({ minLength: 1 })),
    services: Type.Record(
      Name,
      Type.Object({ replicas: Type.Array(ReplicaAddress, { minItems: 1 }) }, { additionalProperties: false }),
    ),
    ingress: Type.Optional(
      Type.Object(
        { defaultClass: Type.Optional(Name), rules: Type.Optional(Type.Array(IngressRule)) },
        { additionalProperties: false },
      ),
    ),
    connectTimeoutMs: Type.Optional(Type.Integer({ minimum: 1 })),
    scheduling: Type.Optional(Scheduling),
    /** Spans of every hop as OTLP JSON: lines in a file, and/or to an OTLP/HTTP traces endpoint. */
    tracing: Type.Optional(
      Type.Object(
        { file: Type.Optional(Type.String({ minLength: 1 })), url: Type.Optional(Type.String({ pattern: '^https?://' })) },
        { additionalProperties: false, minProperties: 1 },
      ),
    ),
  },
  { additionalProperties: false },
);
export type SidecarConfig = Static<typeof SidecarConfigSchema>;
export type ReplicaAddress = Static<typeof ReplicaAddress>;

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile<SidecarConfig>(SidecarConfigSchema);

export class SidecarConfigError extends Error {
  override name = 'SidecarConfigError';
}

export function parseSidecarConfig(value: unknown): SidecarConfig {
  if (!validate(value)) {
    const msg = (validate.errors ?? [])
      .map((e) => {
        const p = e.params as Record<string, unknown>;
        const child = p['missingProperty'] ?? p['additionalProperty'];
        return `${e.instancePath}${typeof child === 'string' ? `/${child}` : ''}: ${e.keyword === 'additionalProperties' ? 'unknown field' : e.message ?? 'invalid'}`;
      })
      .join('; ');
    throw new SidecarConfigError(msg);
  }
  const ids = new Set<string>();
  for (const [service, { replicas }] of Object.entries(value.services)) {
    replicas.forEach((r, i) => {
      const key = `${service}/${r.id}`;
      if (ids.has(key)) throw new SidecarConfigError(`/services/${service}/replicas/${i}/id: duplicate replica "${r.id}"`);
      ids.add(key);
    });
  }
  value.scheduling?.classes.forEach((c, i) => {
    if (c.sourceAddress !== undefined && !isIPv4(c.sourceAddress)) throw new SidecarConfigError(`/scheduling/classes/${i}/sourceAddress: not an IPv4 address`);
  });
  return value;
}

export async function loadSidecarConfig(file: string): Promise<SidecarConfig> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new SidecarConfigError(`${file}: ${(err as Error).message}`);
  }
  return parseSidecarConfig(value);
}
