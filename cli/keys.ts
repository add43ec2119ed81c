// Signing keys and trust for the commands that publish or consume hints: the flags, and loading
// them before anything starts (a bad key file exits 2 naming the flag and the file).
import { InvalidArgumentError } from 'commander';
import type { Logger } from 'pino';
import { BadFileError } from './files.ts';
import {
  defaultKeyDir,
  KEY_ID_PATTERN,
  KeyFileError,
  loadOrCreateSigner,
  parseTrustSpec,
  trustFrom,
  type HintSigner,
  type TrustStore,
} from '../bus/signing.ts';

/** `--trust-… <id=file...>`: repeatable, each item checked for shape now (the file when loaded). */
export function trustSpecOption(value: string, previous: readonly string[] | undefined): string[] {
  try {
    parseTrustSpec(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return [...(previous ?? []), value];
}

export function keyIdOption(value: string): string {
  if (!KEY_ID_PATTERN.test(value)) throw new InvalidArgumentError(`expected a key id (letters, digits, . _ -), got ${JSON.stringify(value)}`);
  return value;
}

/** The --key-dir flag every command that signs or verifies takes. */
export const KEY_DIR_FLAG = '--key-dir <dir>';
export const KEY_DIR_HELP = 'directory of hint signing keys: <id>.key (private, 0600, made on first start) and <id>.pub (default ~/.meshflow/keys)';

/** The signer for `keyId`, made on first start; says where the public key is when it was made. */
export async function signerFor(dir: string | undefined, keyId: string, log?: Pick<Logger, 'info'>): Promise<HintSigner> {
  const where = dir ?? defaultKeyDir();
  try {
    const { signer, created, files } = await loadOrCreateSigner(where, keyId);
    if (created) log?.info({ key: files.key, pub: files.pub }, `created signing key "${keyId}": consumers elsewhere trust it by its public key (${files.pub})`);
    return signer;
  } catch (err) {
    throw new BadFileError(`signing key "${keyId}" in ${where} (--key-dir): ${(err as Error).message}`);
  }
}

/** The keys a consumer trusts: the `<id>=<file>` given with `flag`, or else every key in the key directory. */
export async function trustFor(specs: readonly string[] | undefined, dir: string | undefined, flag: string): Promise<TrustStore> {
  try {
    return await trustFrom({ ...(specs === undefined ? {} : { specs }), dir: dir ?? defaultKeyDir() });
  } catch (err) {
    if (err instanceof KeyFileError) throw new BadFileError(`trusted key (${specs?.length ? flag : '--key-dir'}): ${err.message}`);
    throw err;
  }
}
