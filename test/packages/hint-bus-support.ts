// Shared by the hint-bus SDK tests: signed payloads made per the signing format with node:crypto
// alone (an independent witness of the SDK's verifier), and a waiter for collected callbacks.
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export interface TestKey {
  readonly id: string;
  readonly privateKey: KeyObject;
  /** SPKI PEM, as a consumer would be given it. */
  readonly publicPem: string;
}

export function testKey(id: string): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { id, privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** `T.slice(0, -1) + ',"sig":{"key":…,"ed25519":…}}'` over `topic + "\n" + T`. */
export function signedPayload(topic: string, hint: object, key: TestKey): string {
  const text = JSON.stringify(hint);
  const sig = sign(null, Buffer.from(`${topic}\n${text}`, 'utf8'), key.privateKey).toString('base64');
  return `${text.slice(0, -1)},"sig":{"key":"${key.id}","ed25519":"${sig}"}}`;
}
