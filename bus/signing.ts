// Signed hints: a publisher's Ed25519 key signs `topic + "\n" + hint JSON`, so a client with bus
// access but without the key (or a shared, compromised broker) cannot forge a cost row or a status.
// The wire format is fixed (docs/signing.md): the signature rides as the last
// member of the hint object, `"sig":{"key":"<keyId>","ed25519":"<base64>"}`.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { meshflowHome } from './home.ts';

/** What a key id may be: one file name, one JSON string without escapes. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]+$/;
const SIG_SUFFIX = /,"sig":\{"key":"([A-Za-z0-9._-]+)","ed25519":"([A-Za-z0-9+/]+={0,2})"\}\}$/;

/** Where keys live unless told otherwise: beside the rest of a user's meshflow state. */
export const KEY_DIR_ENV = 'MESHFLOW_KEY_DIR';
export function defaultKeyDir(): string {
  return process.env[KEY_DIR_ENV] || join(meshflowHome(), 'keys');
}

export interface HintSignature {
  readonly key: string;
  readonly ed25519: string;
}

export type VerifyFailure = 'unsigned' | 'bad_signature' | 'untrusted_key';
export type VerifyResult =
  | { readonly ok: true; readonly keyId: string }
  | { readonly ok: false; readonly reason: VerifyFailure; readonly keyId?: string };

/** Signs with one key; the key id is what verifiers look the public key up by. */
export class HintSigner {
  constructor(
    readonly keyId: string,
    private readonly privateKey: KeyObject,
  ) {
    if (!KEY_ID_PATTERN.test(keyId)) throw new RangeError(`not a key id (${KEY_ID_PATTERN.source}): ${JSON.stringify(keyId)}`);
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new TypeError(`key ${keyId} is not an Ed25519 key`);
  }

  /** The public half, for a publisher that also reads what it sent. */
  get publicKey(): KeyObject {
    return createPublicKey(this.privateKey);
  }

  /** The signature of JSON text `text` (an object, never `{}`) on `topic`. */
  signature(topic: string, text: string): HintSignature {
    if (!(text.length > 2 && text.startsWith('{') && text.endsWith('}'))) throw new TypeError('only a non-empty JSON object is signed');
    const s = sign(null, Buffer.from(`${topic}\n${text}`, 'utf8'), this.privateKey);
    return { key: this.keyId, ed25519: s.toString('base64') };
  }

  /**
   * The hint with its signature as last member: JSON.stringify of the result is exactly
   * `text.slice(0, -1) + ',"sig":{…}}'`, because key ids and base64 need no escaping.
   */
  signHint<T extends object>(topic: string, hint: T): T & { sig: HintSignature } {
    const { sig: _old, ...rest } = hint as T & { sig?: unknown };
    return { ...(rest as T), sig: this.signature(topic, JSON.stringify(rest)) };
  }
}

/** The public keys a consumer trusts, by key id. */
export interface TrustStore {
  /** The trusted key of this id, if any. */
  key(keyId: string): KeyObject | undefined;
  /** Key ids trusted now (for logs and start-up checks). */
  ids(): string[];
}

/** Checks a payload as received on `topic` against the keys trusted. */
export function verifyPayload(topic: string, payload: string, trust: TrustStore): VerifyResult {
  // The suffix can start only at the last `,"sig":` (key ids and base64 hold no quotes), so the
  // anchored pattern runs once on the tail instead of being tried at every offset.
  const at = payload.lastIndexOf(',"sig":');
  const m = at < 0 ? null : SIG_SUFFIX.exec(payload.slice(at));
  if (m === null) return { ok: false, reason: 'unsigned' };
  const [, keyId, b64] = m as unknown as [string, string, string];
  const key = trust.key(keyId);
  if (key === undefined) return { ok: false, reason: 'untrusted_key', keyId };
  const text = payload.slice(0, at) + '}';
  let good = false;
  try {
    good = verify(null, Buffer.from(`${topic}\n${text}`, 'utf8'), key, Buffer.from(b64, 'base64'));
  } catch {
    good = false;
  }
  return good ? { ok: true, keyId } : { ok: false, reason: 'bad_signature', keyId };
}

/** A fixed set of keys (from flags, or built in tests). */
export class StaticTrust implements TrustStore {
  private readonly keys: Map<string, KeyObject>;
  constructor(keys: Iterable<readonly [string, KeyObject]> = []) {
    this.keys = new Map(keys);
  }
  add(keyId: string, key: KeyObject): this {
    this.keys.set(keyId, key);
    return this;
  }
  key(keyId: string): KeyObject | undefined {
    return this.keys.get(keyId);
  }
  ids(): string[] {
    return [...this.keys.keys()];
  }
}

/** `trust`, plus one more key (a consumer always trusts what it signed itself). */
export function trustAlso(trust: TrustStore, keyId: string, key: KeyObject): TrustStore {
  return {
    key: (id) => (id === keyId ? key : trust.key(id)),
    ids: () => [...new Set([...trust.ids(), keyId])],
  };
}

/**
 * Every `<id>.pub` in a directory, plus ones that appear later: an unknown key id is looked up
 * as a file at most once per `lookupIntervalMs` (all ids together), so forged ids cannot turn
 * into a stream of file reads. The directory is the same-machine case: whoever may write it
 * may read the private keys beside it anyway.
 */
export class DirectoryTrust implements TrustStore {
  private readonly keys = new Map<string, KeyObject>();
  private lastLookup = -Infinity;

  constructor(
    readonly dir: string,
    private readonly lookupIntervalMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reads every `<id>.pub` now; a file that is not a key is an error naming it. */
  async load(): Promise<this> {
    const names = await readdir(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    for (const name of names) {
      const id = name.endsWith('.pub') ? name.slice(0, -4) : undefined;
      if (id === undefined || !KEY_ID_PATTERN.test(id)) continue;
      this.keys.set(id, await loadPublicKey(join(this.dir, name)));
    }
    return this;
  }

  key(keyId: string): KeyObject | undefined {
    const known = this.keys.get(keyId);
    if (known !== undefined || !KEY_ID_PATTERN.test(keyId)) return known;
    const now = this.now();
    if (now - this.lastLookup < this.lookupIntervalMs) return undefined;
    this.lastLookup = now;
    const file = join(this.dir, `${keyId}.pub`);
    if (!existsSync(file)) return undefined;
    try {
      const key = publicKeyFromPem(readFileSync(file, 'utf8'), file);
      this.keys.set(keyId, key);
      return key;
    } catch {
      return undefined;
    }
  }

  ids(): string[] {
    return [...this.keys.keys()];
  }
}

export class KeyFileError extends Error {
  override name = 'KeyFileError';
}

function publicKeyFromPem(pem: string, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new KeyFileError(`${file}: not a PEM public key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new KeyFileError(`${file}: not an Ed25519 key (${key.asymmetricKeyType})`);
  return key;
}

export async function loadPublicKey(file: string): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    throw new KeyFileError(`${file}: ${(err as Error).message}`);
  }
  return publicKeyFromPem(pem, file);
}

export function keyFiles(dir: string, keyId: string): { key: string; pub: string } {
  return { key: join(dir, `${keyId}.key`), pub: join(dir, `${keyId}.pub`) };
}

/**
 * The signer for `keyId` from `<dir>/<keyId>.key`, made on first use: the directory 0700, the
 * private key 0600, the public key beside it for others to trust. A private key readable by
 * group or others is refused, as ssh does.
 */
export async function loadOrCreateSigner(dir: string, keyId: string): Promise<{ signer: HintSigner; created: boolean; files: { key: string; pub: string } }> {
  if (!KEY_ID_PATTERN.test(keyId)) throw new KeyFileError(`not a key id (${KEY_ID_PATTERN.source}): ${JSON.stringify(keyId)}`);
  const files = keyFiles(dir, keyId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let created = false;
  if (!existsSync(files.key)) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    // 'wx': two processes starting at once never overwrite each other's key.
    try {
      await writeFile(files.key, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      await writeFile(files.pub, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const st = await stat(files.key);
  if ((st.mode & 0o077) !== 0) {
    throw new KeyFileError(`${files.key}: readable by others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${files.key}`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(await readFile(files.key, 'utf8'));
  } catch (err) {
    throw new KeyFileError(`${files.key}: not a PEM private key (${(err as Error).message})`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new KeyFileError(`${files.key}: not an Ed25519 key`);
  if (!existsSync(files.pub)) {
    // The public half can always be made again from the private one.
    await writeFile(files.pub, createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  }
  await chmod(dir, 0o700).catch(() => undefined);
  return { signer: new HintSigner(keyId, privateKey), created, files };
}

/** `<id>=<public key file>` as the trust flags take it. */
export function parseTrustSpec(spec: string): { keyId: string; file: string } {
  const eq = spec.indexOf('=');
  const keyId = eq < 0 ? '' : spec.slice(0, eq);
  const file = eq < 0 ? '' : spec.slice(eq + 1);
  if (!KEY_ID_PATTERN.test(keyId) || file === '') throw new KeyFileError(`expected <id>=<public key file>, got ${JSON.stringify(spec)}`);
  return { keyId, file };
}

/**
 * The keys a consumer trusts: those named (`<id>=<file>`) when any are, else every key in the
 * key directory (the same-machine default, where publishers create their keys).
 */
export async function trustFrom(o: { readonly specs?: readonly string[]; readonly dir?: string }): Promise<TrustStore> {
  const specs = o.specs ?? [];
  if (specs.length > 0) {
    const trust = new StaticTrust();
    for (const s of specs) {
      const { keyId, file } = parseTrustSpec(s);
      trust.add(keyId, await loadPublicKey(file));
    }
    return trust;
  }
  return new DirectoryTrust(o.dir ?? defaultKeyDir()).load();
}
