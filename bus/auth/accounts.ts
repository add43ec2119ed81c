// Who may use the bus: accounts with a role, kept in a users file with owner-only permissions.
// One file is the source of truth; the embedded broker reads it (and re-reads it when it
// changes), clients read their own password from it, and Mosquitto gets a password file and
// an ACL rendered from it (mosquitto.ts).
import { randomBytes, createHash, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { meshflowHome } from '../home.ts';

/**
 * controller: publishes link states, cost rows, events and its own status.
 * bridge: publishes sidecar weights. sidecar: publishes its own status. reader: reads only.
 */
export type BusRole = 'controller' | 'bridge' | 'sidecar' | 'reader';
export const BUS_ROLES: readonly BusRole[] = ['controller', 'bridge', 'sidecar', 'reader'];

export interface BusAccount {
  /** Also the id the account speaks for: a controller's --controller-id, a sidecar's id. */
  readonly username: string;
  readonly role: BusRole;
  readonly password: string;
}

export interface UsersFile {
  readonly v: 1;
  readonly accounts: readonly BusAccount[];
}

export const USERS_FILE = 'users.json';

/** Where the embedded broker keeps its accounts unless told otherwise. */
export function defaultBusStateDir(): string {
  return join(meshflowHome(), 'bus');
}

/** A username is also a topic level (its status topic): no MQTT wildcards, separators or ':'. */
export function checkUsername(username: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(username)) {
    throw new RangeError(`bus account name must be 1-64 of A-Z a-z 0-9 . _ -, got ${JSON.stringify(username)}`);
  }
  return username;
}

export function newPassword(): string {
  // URL-safe, so an account fits in mqtt://user:pass@host without escaping.
  return randomBytes(18).toString('base64url');
}

export function newAccount(role: BusRole, username: string): BusAccount {
  return { username: checkUsername(username), role, password: newPassword() };
}

/** The accounts a fresh state directory starts with. */
export function defaultAccounts(controllerIds: readonly string[] = ['controller']): BusAccount[] {
  return [...controllerIds.map((id) => newAccount('controller', id)), newAccount('bridge', 'bridge'), newAccount('reader', 'reader')];
}

export function parseUsersFile(text: string, file: string): UsersFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`bus users file ${file} is not JSON: ${(err as Error).message}`);
  }
  const accounts = (doc as { accounts?: unknown } | null)?.accounts;
  if (!Array.isArray(accounts)) throw new Error(`bus users file ${file}: expected {"v":1,"accounts":[...]}`);
  const seen = new Set<string>();
  const out: BusAccount[] = accounts.map((a: unknown, i) => {
    const { username, role, password } = (a ?? {}) as Record<string, unknown>;
    if (typeof username !== 'string' || typeof password !== 'string' || password.length === 0 || !BUS_ROLES.includes(role as BusRole)) {
      throw new Error(`bus users file ${file}: /accounts/${i} needs username, password and role (${BUS_ROLES.join(', ')})`);
    }
    checkUsername(username);
    if (seen.has(username)) throw new Error(`bus users file ${file}: account ${username} appears twice`);
    seen.add(username);
    return { username, role: role as BusRole, password };
  });
  return { v: 1, accounts: out };
}

/** Reads a users file, refusing one that others may read (as ssh does with private keys). */
export function readUsersFile(file: string): UsersFile {
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(`bus users file ${file} is readable by others (mode ${mode.toString(8)}): run chmod 600 ${file}`);
  }
  return parseUsersFile(readFileSync(file, 'utf8'), file);
}

/** Writes atomically with mode 0600 from the first byte. */
export function writeUsersFile(file: string, users: UsersFile): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(users, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export interface StateDir {
  readonly dir: string;
  readonly usersFile: string;
  /** True when this call created the accounts. */
  readonly created: boolean;
  readonly users: UsersFile;
}

/** Opens (or on first use creates) a state directory with its users file. */
export function openStateDir(dir: string, controllerIds: readonly string[] = ['controller']): StateDir {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const usersFile = join(dir, USERS_FILE);
  if (existsSync(usersFile)) {
    let users = readUsersFile(usersFile);
    // A controller id new to this directory gets its account on its first start.
    const missing = controllerIds.filter((id) => !users.accounts.some((a) => a.username === id));
    if (missing.length > 0) {
      users = { v: 1, accounts: [...users.accounts, ...missing.map((id) => newAccount('controller', id))] };
      writeUsersFile(usersFile, users);
    }
    return { dir, usersFile, created: false, users };
  }
  const users: UsersFile = { v: 1, accounts: defaultAccounts(controllerIds) };
  writeUsersFile(usersFile, users);
  return { dir, usersFile, created: true, users };
}

/** Adds an account to a users file (or returns the one there, if its role matches). */
export function ensureAccount(file: string, role: BusRole, username: string): BusAccount {
  const users = readUsersFile(file);
  const found = users.accounts.find((a) => a.username === username);
  if (found) {
    if (found.role !== role) throw new Error(`bus account ${username} exists with role ${found.role}, not ${role}`);
    return found;
  }
  const account = newAccount(role, username);
  writeUsersFile(file, { v: 1, accounts: [...users.accounts, account] });
  return account;
}

/** One account's credentials from a users file, for a client. */
export function credentialsFrom(file: string, username: string): { username: string; password: string } {
  const account = readUsersFile(file).accounts.find((a) => a.username === username);
  if (!account) throw new Error(`bus users file ${file} has no account ${JSON.stringify(username)}`);
  return { username: account.username, password: account.password };
}

/** Password comparison in constant time (over digests, so lengths don't leak either). */
export function passwordMatches(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}
