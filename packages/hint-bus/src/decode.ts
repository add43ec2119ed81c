// decodeHint: one MQTT message → a typed hint, or the reason it is refused. Checks, in order:
// size, signature (when keys are trusted), JSON, kind and version, the shipped JSON Schema,
// what a schema cannot say (equal cost columns, linkId naming its endpoints), and the topic.
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { Ajv, type ValidateFunction } from 'ajv';
import { HINT_KINDS, HINT_VERSIONS, type Hint, type HintKind } from './hints.ts';
import { splitSignature, verifySignature } from './signature.ts';
import { parseTopic } from './topics.ts';

export const INVALID_REASONS = ['too_large', 'unsigned', 'untrusted_key', 'bad_signature', 'json', 'kind', 'version', 'schema', 'mismatch', 'topic'] as const;
export type InvalidReason = (typeof INVALID_REASONS)[number];

export type Decoded =
  | { readonly ok: true; readonly hint: Hint; /** Key id of a verified signature. */ readonly signer: string | undefined }
  | { readonly ok: false; readonly reason: InvalidReason; readonly message: string };

export interface DecodeOptions {
  /** Trusted keys by key id; when given, signatures are checked. */
  readonly keys?: ReadonlyMap<string, KeyObject>;
  /** With keys: refuse unsigned hints (default true). */
  readonly requireSignature?: boolean;
  readonly maxBytes?: number;
}

export const MAX_HINT_BYTES = 256 * 1024;

/** The JSON Schema shipped with this package for a kind (schemas/<kind>.schema.json). */
export function schemaOf(kind: HintKind): Record<string, unknown> {
  // One level up from both src/ (in the repository) and dist/ (installed).
  return JSON.parse(readFileSync(new URL(`../schemas/${kind}.schema.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

let validators: Map<HintKind, ValidateFunction> | undefined;
function validatorOf(kind: HintKind): ValidateFunction {
  // Compiled once, on first use.
  validators ??= new Map(HINT_KINDS.map((k) => [k, new Ajv({ strict: false, allErrors: false }).compile(schemaOf(k))]));
  return validators.get(kind) as ValidateFunction;
}

export function decodeHint(topic: string, payload: Buffer | string, options: DecodeOptions = {}): Decoded {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const maxBytes = options.maxBytes ?? MAX_HINT_BYTES;
  if (size > maxBytes) return refuse('too_large', `payload is ${size} bytes, limit ${maxBytes}`);
  const { text, signature } = splitSignature(typeof payload === 'string' ? payload : payload.toString('utf8'));

  let signer: string | undefined;
  if (options.keys !== undefined) {
    if (signature === undefined) {
      if (options.requireSignature ?? true) return refuse('unsigned', 'no signature, and only signed hints are trusted');
    } else {
      const key = options.keys.get(signature.key);
      if (key === undefined) return refuse('untrusted_key', `signed by ${signature.key}, which is not trusted`);
      if (!verifySignature(topic, text, signature.ed25519, key)) return refuse('bad_signature', `signature of ${signature.key} does not verify for ${topic}`);
      signer = signature.key;
    }
  }

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return refuse('json', `not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return refuse('json', 'not a JSON object');
  const { kind, v } = value as { kind?: unknown; v?: unknown };
  if (!HINT_KINDS.includes(kind as HintKind)) return refuse('kind', `unknown kind ${JSON.stringify(kind)}`);
  const k = kind as HintKind;
  if (v !== HINT_VERSIONS[k]) return refuse('version', `${k} version ${JSON.stringify(v)} is not spoken here, expected ${HINT_VERSIONS[k]}`);
  const validate = validatorOf(k);
  if (!validate(value)) {
    const e = validate.errors?.[0];
    const params = (e?.params ?? {}) as Record<string, unknown>;
    const field = params['missingProperty'] ?? params['additionalProperty'];
    const path = `${e?.instancePath ?? ''}${typeof field === 'string' ? `/${field}` : ''}` || '/';
    return refuse('schema', `${path} ${e?.message ?? 'is invalid'}`);
  }
  const hint = value as Hint;
  const mismatch = contradiction(hint);
  if (mismatch !== undefined) return refuse('mismatch', mismatch);
  const t = parseTopic(topic);
  const id = idOf(hint);
  if (t === undefined || t.kind !== hint.kind || t.id !== id) return refuse('topic', `a ${hint.kind} hint for ${JSON.stringify(id)} does not belong on ${topic}`);
  return { ok: true, hint, signer };
}

/** The id a hint's topic carries ('' for events). */
export function idOf(hint: Hint): string {
  switch (hint.kind) {
    case 'link_state':
      return hint.linkId;
    case 'cost_row':
      return hint.srcPid;
    case 'weights':
    case 'sidecar_status':
      return hint.sidecarId;
    case 'controller_status':
      return hint.controllerId;
    case 'event':
      return '';
  }
}

// What JSON Schema cannot say.
function contradiction(hint: Hint): string | undefined {
  if (hint.kind === 'cost_row') {
    const n = hint.costs.dstPid.length;
    const short = Object.entries(hint.costs).find(([, col]) => (col as unknown[]).length !== n);
    if (short !== undefined) return `/costs/${short[0]}: ${(short[1] as unknown[]).length} elements for ${n} destinations`;
  }
  if (hint.kind === 'link_state') {
    const named = `${hint.src.dpid}:${hint.src.port}-${hint.dst.dpid}:${hint.dst.port}`;
    if (hint.linkId !== named) return `/linkId: ${hint.linkId} does not name src/dst (${named})`;
  }
  return undefined;
}

function refuse(reason: InvalidReason, message: string): Decoded {
  return { ok: false, reason, message };
}
