// The filtered cost map request (RFC 7285 §11.3.2.3, application/alto-costmapfilter+json), read
// from the raw body into either a request or the one ALTO error (§8.5.2) that describes what is wrong.
import { metricFor, PID_NAME, type Constraint, type Metric } from './documents.ts';

export type AltoErrorCode = 'E_SYNTAX' | 'E_MISSING_FIELD' | 'E_INVALID_FIELD_TYPE' | 'E_INVALID_FIELD_VALUE';

/** The meta of an application/alto-error+json body. */
export interface AltoErrorMeta {
  readonly code: AltoErrorCode;
  /** Path of the field at fault, '/'-separated ("cost-type/cost-metric"). */
  readonly field?: string;
  /** The offending value as a string (only with field). */
  readonly value?: string;
  readonly 'syntax-error'?: string;
}

export interface FilterRequest {
  readonly metric: Metric;
  readonly constraints: readonly Constraint[];
  /** ALTO PID names as given, duplicates removed; empty: every PID. */
  readonly srcs: readonly string[];
  readonly dsts: readonly string[];
}

export type FilterResult = { readonly ok: true; readonly request: FilterRequest } | { readonly ok: false; readonly error: AltoErrorMeta };

const fail = (error: AltoErrorMeta): FilterResult => ({ ok: false, error });
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const asText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

const CONSTRAINT = /^(gt|lt|ge|le|eq)\s+(\S+)$/;

function parseConstraint(s: string): Constraint | undefined {
  const m = CONSTRAINT.exec(s.trim());
  if (!m?.[1] || !m[2]) return undefined;
  // A JSON number, as the cost values are.
  if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(m[2])) return undefined;
  return { op: m[1] as Constraint['op'], value: Number(m[2]) };
}

function pidList(pids: Record<string, unknown>, name: 'srcs' | 'dsts'): { ok: true; list: string[] } | { ok: false; error: AltoErrorMeta } {
  const field = `pids/${name}`;
  const v = pids[name];
  if (v === undefined) return { ok: false, error: { code: 'E_MISSING_FIELD', field } };
  if (!Array.isArray(v)) return { ok: false, error: { code: 'E_INVALID_FIELD_TYPE', field } };
  for (const p of v) {
    // §8.5.2: an array element of the wrong type is an invalid value, named by the array.
    if (typeof p !== 'string') return { ok: false, error: { code: 'E_INVALID_FIELD_VALUE', field, value: asText(p) } };
    // A malformed identifier is a parse error (§8.5.2 table); a well-formed unknown PID is ignored (§11.3.2.6).
    if (!PID_NAME.test(p)) return { ok: false, error: { code: 'E_SYNTAX', 'syntax-error': `${field}: ${JSON.stringify(p)} is not a PID name (1 to 64 of A-Z a-z 0-9 - : @ _)` } };
  }
  return { ok: true, list: [...new Set(v as string[])] };
}

/** Reads the body text of a filtered cost map request. Unknown fields are ignored (§8.3.7). */
export function parseFilterRequest(body: string): FilterResult {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    return fail({ code: 'E_SYNTAX', 'syntax-error': (err as Error).message });
  }
  if (!isObject(json)) return fail({ code: 'E_SYNTAX', 'syntax-error': 'the request must be a JSON object (ReqFilteredCostMap)' });

  const ct = json['cost-type'];
  if (ct === undefined) return fail({ code: 'E_MISSING_FIELD', field: 'cost-type' });
  if (!isObject(ct)) return fail({ code: 'E_INVALID_FIELD_TYPE', field: 'cost-type' });
  for (const f of ['cost-mode', 'cost-metric'] as const) {
    if (ct[f] === undefined) return fail({ code: 'E_MISSING_FIELD', field: `cost-type/${f}` });
    if (typeof ct[f] !== 'string') return fail({ code: 'E_INVALID_FIELD_TYPE', field: `cost-type/${f}` });
  }
  const mode = ct['cost-mode'] as string;
  const metricName = ct['cost-metric'] as string;
  if (mode !== 'numerical') return fail({ code: 'E_INVALID_FIELD_VALUE', field: 'cost-type/cost-mode', value: mode });
  const metric = metricFor({ 'cost-mode': mode, 'cost-metric': metricName });
  if (metric === undefined) return fail({ code: 'E_INVALID_FIELD_VALUE', field: 'cost-type/cost-metric', value: metricName });

  const constraints: Constraint[] = [];
  const cs = json.constraints;
  if (cs !== undefined) {
    if (!Array.isArray(cs)) return fail({ code: 'E_INVALID_FIELD_TYPE', field: 'constraints' });
    for (const c of cs) {
      const parsed = typeof c === 'string' ? parseConstraint(c) : undefined;
      if (parsed === undefined) return fail({ code: 'E_INVALID_FIELD_VALUE', field: 'constraints', value: asText(c) });
      constraints.push(parsed);
    }
  }

  let srcs: string[] = [];
  let dsts: string[] = [];
  const pids = json.pids;
  if (pids !== undefined) {
    if (!isObject(pids)) return fail({ code: 'E_INVALID_FIELD_TYPE', field: 'pids' });
    const s = pidList(pids, 'srcs');
    if (!s.ok) return fail(s.error);
    const d = pidList(pids, 'dsts');
    if (!d.ok) return fail(d.error);
    srcs = s.list;
    dsts = d.list;
  }
  return { ok: true, request: { metric, constraints, srcs, dsts } };
}
