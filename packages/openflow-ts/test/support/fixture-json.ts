// How a fixture's expected value is written as JSON: a decoded message with its two
// non-JSON types tagged, bigint as {"$bigint": "<decimal>"} and binary data as
// {"$hex": "<hex>"}. toFixtureJson and fromFixtureJson are inverses.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };

export function toFixtureJson(value: unknown): Json {
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (Buffer.isBuffer(value)) return { $hex: value.toString('hex') };
  if (Array.isArray(value)) return value.map(toFixtureJson);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toFixtureJson(v);
    return out;
  }
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
  throw new TypeError(`no fixture JSON for ${typeof value}`);
}

export function fromFixtureJson(json: Json): unknown {
  if (Array.isArray(json)) return json.map(fromFixtureJson);
  if (json !== null && typeof json === 'object') {
    const o = json as { readonly [k: string]: Json };
    if (typeof o.$bigint === 'string' && Object.keys(o).length === 1) return BigInt(o.$bigint);
    if (typeof o.$hex === 'string' && Object.keys(o).length === 1) return Buffer.from(o.$hex, 'hex');
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fromFixtureJson(v)]));
  }
  return json;
}

export const FIXTURES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');

export interface Fixture {
  /** File stem: `<message tag>` or `<message tag>.<multipart kind>`, plus a suffix for variants. */
  readonly name: string;
  readonly bytes: Buffer;
  readonly expected: unknown;
  /** Where the bytes came from: 'ovs' (captured from Open vSwitch) or 'encoder' (built, then witnessed). */
  readonly source: string;
}

export interface FixtureIndexEntry {
  readonly name: string;
  readonly source: 'ovs' | 'encoder';
  /** The ovs-ofctl command (for 'ovs') or the note (for 'encoder') the bytes came from. */
  readonly origin: string;
}

export function fixtureIndex(): FixtureIndexEntry[] {
  return JSON.parse(readFileSync(path.join(FIXTURES_DIR, 'index.json'), 'utf8')) as FixtureIndexEntry[];
}

export function loadFixture(entry: FixtureIndexEntry): Fixture {
  const hex = readFileSync(path.join(FIXTURES_DIR, `${entry.name}.hex`), 'utf8').replace(/\s+/g, '');
  const json = JSON.parse(readFileSync(path.join(FIXTURES_DIR, `${entry.name}.json`), 'utf8')) as Json;
  return { name: entry.name, bytes: Buffer.from(hex, 'hex'), expected: fromFixtureJson(json), source: entry.source };
}
