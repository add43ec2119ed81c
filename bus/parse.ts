// parseHint: payload bytes → a typed hint, or a coded error naming the field at fault.
// Validators are compiled once from the same definitions that produce the shipped schemas.
// Given the keys a consumer trusts, the signature is checked first: a forged hint is never parsed.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { COST_FIELDS, OPTIONAL_COST_FIELDS, HINT_KINDS, HINT_VERSIONS, SCHEMAS, type HintKind } from './schemas/definitions.ts';
import type { Hint } from './hints.ts';
import { parseTopic } from './topics.ts';
import { verifyPayload, type TrustStore, type VerifyFailure } from './signing.ts';

export const HINT_ERROR_CODES = [
  'HINT_ERR_TOO_LARGE', // payload over the size limit, refused before parsing
  'HINT_ERR_JSON', // not JSON text
  'HINT_ERR_NOT_OBJECT', // JSON, but not an object
  'HINT_ERR_VERSION', // `v` missing or a version of its kind this code does not speak (cost_row 1 included)
  'HINT_ERR_KIND', // `kind` missing or unknown
  'HINT_ERR_SCHEMA', // fails the JSON Schema of its kind
  'HINT_ERR_MISMATCH', // valid fields that contradict each other (linkId vs endpoints, cost columns of unequal length)
  'HINT_ERR_TOPIC', // a valid hint on a topic that is not its own
  'HINT_ERR_UNSIGNED', // no signature, where the consumer verifies
  'HINT_ERR_SIGNATURE', // a signature that does not verify (forged, or altered on the way)
  'HINT_ERR_UNTRUSTED', // signed by a key the consumer does not trust, or by one not entitled to this hint
] as const;
export type HintErrorCode = (typeof HINT_ERROR_CODES)[number];

/** The codes of hints refused for who sent them rather than for what they say. */
export const SIGNATURE_ERROR_CODES: Readonly<Record<VerifyFailure, HintErrorCode>> = {
  unsigned: 'HINT_ERR_UNSIGNED',
  bad_signature: 'HINT_ERR_SIGNATURE',
  untrusted_key: 'HINT_ERR_UNTRUSTED',
};
export function isSignatureError(code: HintErrorCode): boolean {
  return code === 'HINT_ERR_UNSIGNED' || code === 'HINT_ERR_SIGNATURE' || code === 'HINT_ERR_UNTRUSTED';
}

export interface HintError {
  readonly code: HintErrorCode;
  /** JSON pointer of the offending field ('' for the whole payload). */
  readonly path: string;
  readonly message: string;
}

export type ParseResult = { readonly ok: true; readonly hint: Hint } | { readonly ok: false; readonly error: HintError };

/** Hints are small; anything near this size is a bug or an attack. */
export const MAX_HINT_BYTES = 256 * 1024;

const SPOKEN_VERSIONS: ReadonlySet<unknown> = new Set(Object.values(HINT_VERSIONS));

const ajv = new Ajv({ allErrors: false, strict: true, strictRequired: false, allowUnionTypes: true });
const validators = new Map<HintKind, ValidateFunction>(
  HINT_KINDS.map((kind) => [kind, ajv.compile(SCHEMAS[kind])]),
);

export interface ParseOptions {
  /** When given, the hint must belong on this topic (HINT_ERR_TOPIC otherwise). */
  readonly topic?: string;
  readonly maxBytes?: number;
  /** Verify signatures against these keys (needs `topic`): unsigned, forged or untrusted hints fail. */
  readonly trust?: TrustStore;
  /** Kinds taken unsigned even with `trust` (publishers without keys, e.g. sidecar status). */
  readonly unsignedKinds?: ReadonlySet<HintKind>;
}

export function parseHint(payload: Buffer | string, options: ParseOptions = {}): ParseResult {
  const maxBytes = options.maxBytes ?? MAX_HINT_BYTES;
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > maxBytes) return fail('HINT_ERR_TOO_LARGE', '', `payload is ${size} bytes, limit ${maxBytes}`);

  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  let signer: string | undefined;
  if (options.trust !== undefined) {
    const topic = options.topic ?? '';
    const v = verifyPayload(topic, text, options.trust);
    if (v.ok) signer = v.keyId;
    else if (!(v.reason === 'unsigned' && unsignedAllowed(topic, options.unsignedKinds))) {
      return fail(SIGNATURE_ERROR_CODES[v.reason], '/sig', verifyMessage(v.reason, v.keyId, topic));
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return fail('HINT_ERR_JSON', '', `not JSON: ${(err as Error).message}`);
  }
  const checked = validateHint(value);
  if (!checked.ok || options.topic === undefined) return checked;
  const placed = checkTopic(checked.hint, options.topic);
  if (!placed.ok || signer === undefined) return placed;
  return checkSigner(placed.hint, signer);
}

function unsignedAllowed(topic: string, kinds: ReadonlySet<HintKind> | undefined): boolean {
  if (kinds === undefined || kinds.size === 0) return false;
  const t = parseTopic(topic);
  return t !== undefined && kinds.has(t.kind);
}

function verifyMessage(reason: VerifyFailure, keyId: string | undefined, topic: string): string {
  switch (reason) {
    case 'unsigned':
      return `/sig: unsigned hint on ${topic}`;
    case 'bad_signature':
      return `/sig: signature by key ${JSON.stringify(keyId)} does not verify for ${topic}`;
    case 'untrusted_key':
      return `/sig: key ${JSON.stringify(keyId)} is not trusted here`;
  }
}

/** A controller speaks for its own status only: a trusted key of another id cannot mark it offline. */
function checkSigner(hint: Hint, keyId: string): ParseResult {
  if (hint.kind === 'controller_status' && hint.controllerId !== keyId) {
    return fail('HINT_ERR_UNTRUSTED', '/sig/key', `/sig/key: status of controller ${hint.controllerId} signed by key ${JSON.stringify(keyId)}`);
  }
  return { ok: true, hint };
}

/** Validates an already-decoded value (the publisher uses this on outgoing hints). */
export function validateHint(value: unknown): ParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('HINT_ERR_NOT_OBJECT', '', `expected an object, got ${Array.isArray(value) ? 'array' : typeof value}`);
  }
  const record = value as Record<string, unknown>;
  const v = record['v'];
  if (!SPOKEN_VERSIONS.has(v)) {
    return fail('HINT_ERR_VERSION', '/v', `/v: unsupported version ${JSON.stringify(v)}, expected one of ${[...SPOKEN_VERSIONS].join(', ')}`);
  }
  const kind = record['kind'];
  const validate = typeof kind === 'string' ? validators.get(kind as HintKind) : undefined;
  if (validate === undefined) {
    return fail('HINT_ERR_KIND', '/kind', `/kind: unknown kind ${JSON.stringify(kind)}, expected one of ${HINT_KINDS.join(', ')}`);
  }
  const expected = HINT_VERSIONS[kind as HintKind];
  if (v !== expected) {
    // Retired versions are refused, not converted: a reader never acts on figures it would misread.
    const why = kind === 'cost_row' && v === 1 ? ' (version 1 rows listed every path per destination; version 2 carries one entry per destination)' : '';
    return fail('HINT_ERR_VERSION', '/v', `/v: ${kind} version ${JSON.stringify(v)} is not spoken here, expected ${expected}${why}`);
  }
  if (!validate(value)) {
    const first = validate.errors?.[0];
    return first === undefined ? fail('HINT_ERR_SCHEMA', '', 'invalid') : schemaError(first);
  }
  const hint = value as Hint;
  if (hint.kind === 'cost_row') {
    // JSON Schema cannot say that arrays have equal lengths: every column has one element per destination.
    const n = hint.costs.dstPid.length;
    const short = [...COST_FIELDS, ...OPTIONAL_COST_FIELDS].find((f) => hint.costs[f] !== undefined && hint.costs[f].length !== n);
    if (short !== undefined) {
      return fail('HINT_ERR_MISMATCH', `/costs/${short}`, `/costs/${short}: ${hint.costs[short]?.length} elements for ${n} destinations`);
    }
  }
  if (hint.kind === 'link_state') {
    const expected = `${hint.src.dpid}:${hint.src.port}-${hint.dst.dpid}:${hint.dst.port}`;
    if (hint.linkId !== expected) {
      return fail('HINT_ERR_MISMATCH', '/linkId', `/linkId: ${hint.linkId} does not name src/dst (${expected})`);
    }
  }
  return { ok: true, hint };
}

function checkTopic(hint: Hint, topic: string): ParseResult {
  const t = parseTopic(topic);
  let idOk: boolean;
  if (t === undefined || t.kind !== hint.kind) idOk = false;
  else if (t.kind === 'link_state') idOk = hint.kind === 'link_state' && hint.linkId === t.linkId;
  else if (t.kind === 'cost_row') idOk = hint.kind === 'cost_row' && hint.srcPid === t.srcPid;
  else if (t.kind === 'weights' || t.kind === 'sidecar_status') {
    idOk = (hint.kind === 'weights' || hint.kind === 'sidecar_status') && hint.sidecarId === t.sidecarId;
  } else if (t.kind === 'controller_status') {
    idOk = hint.kind === 'controller_status' && hint.controllerId === t.controllerId;
  } else idOk = true;
  return idOk ? { ok: true, hint } : fail('HINT_ERR_TOPIC', '/kind', `/kind: a ${hint.kind} hint does not belong on ${topic}`);
}

function schemaError(e: ErrorObject): ParseResult {
  // `required` and `additionalProperties` errors point at the parent; name the field itself.
  const params = e.params as Record<string, unknown>;
  const child = params['missingProperty'] ?? params['additionalProperty'];
  const path = typeof child === 'string' ? `${e.instancePath}/${child}` : e.instancePath;
  let message = `${path || '/'} ${e.message ?? 'is invalid'}`;
  if (e.keyword === 'required') message = `${path} is required`;
  if (e.keyword === 'additionalProperties') message = `${path} is not allowed`;
  if (e.keyword === 'enum' || e.keyword === 'const') message += ` (${JSON.stringify(params['allowedValues'] ?? params['allowedValue'])})`;
  return fail('HINT_ERR_SCHEMA', path, message);
}

function fail(code: HintErrorCode, path: string, message: string): ParseResult {
  return { ok: false, error: { code, path, message } };
}

/** Thrown where an invalid hint is a programming error (the publisher in development). */
export class InvalidHintError extends Error {
  readonly code: HintErrorCode;
  readonly path: string;
  constructor(error: HintError) {
    super(`${error.code}: ${error.message}`);
    this.name = 'InvalidHintError';
    this.code = error.code;
    this.path = error.path;
  }
}
