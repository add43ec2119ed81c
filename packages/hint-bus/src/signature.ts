// Signed hints (Ed25519): the publisher appends `,"sig":{"key":…,"ed25519":…}` to the hint's JSON
// text T and signs `topic + "\n" + T`, so a row signed for one topic cannot be replayed on another.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

const SIG = /^,"sig":\{"key":"([A-Za-z0-9._-]+)","ed25519":"([A-Za-z0-9+/]+={0,2})"\}\}$/;

export interface SplitPayload {
  /** The hint's JSON text without its signature (T). */
  readonly text: string;
  readonly signature?: { readonly key: string; readonly ed25519: string };
}

/** Separates the signature from the hint text; a payload without one is returned whole. */
export function splitSignature(payload: string): SplitPayload {
  // Key ids and base64 hold no quotes, so the signature can only start at the last `,"sig":`.
  const at = payload.lastIndexOf(',"sig":');
  const m = at < 0 ? null : SIG.exec(payload.slice(at));
  if (m === null) return { text: payload };
  return { text: payload.slice(0, at) + '}', signature: { key: m[1] as string, ed25519: m[2] as string } };
}

/** Trusted public keys by key id (PEM text, SPKI, or KeyObjects). */
export type TrustedKeys = Readonly<Record<string, string | Buffer | KeyObject>>;

export function loadKeys(keys: TrustedKeys): Map<string, KeyObject> {
  return new Map(Object.entries(keys).map(([id, k]) => [id, typeof k === 'string' || Buffer.isBuffer(k) ? createPublicKey(k) : k]));
}

/** Whether `signature` is the key's Ed25519 signature of `topic + "\n" + text`. */
export function verifySignature(topic: string, text: string, signatureB64: string, key: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(`${topic}\n${text}`, 'utf8'), key, Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}
