// The accounts an embedded broker checks passwords against: from a users file (re-read when
// the file changes, so `meshflow bus add-user` takes effect without a restart) or from memory.
import { statSync } from 'node:fs';
import { newAccount, passwordMatches, readUsersFile, type BusAccount, type BusRole } from './accounts.ts';
import type { Principal } from './acl.ts';

export class AccountRegistry {
  private byName = new Map<string, BusAccount>();
  /** inode, mtime and size of the file last read: a rename-over changes the inode even within one clock tick. */
  private loaded = '';

  private constructor(private readonly file?: string) {}

  static fromFile(file: string): AccountRegistry {
    const r = new AccountRegistry(file);
    r.refresh();
    return r;
  }

  static inMemory(accounts: readonly BusAccount[]): AccountRegistry {
    const r = new AccountRegistry();
    for (const a of accounts) r.byName.set(a.username, a);
    return r;
  }

  get usersFile(): string | undefined {
    return this.file;
  }

  /** The principal for these credentials, or why not. */
  verify(username: string | undefined, password: Buffer | undefined): Principal | 'anonymous' | 'bad_password' {
    if (username === undefined || username === '') return 'anonymous';
    this.refresh();
    const account = this.byName.get(username);
    // Compare even for unknown names, so timing does not tell which names exist.
    const ok = passwordMatches(account?.password ?? '\u0000', password?.toString('utf8') ?? '');
    return account && ok ? { username: account.username, role: account.role } : 'bad_password';
  }

  get(username: string): BusAccount | undefined {
    this.refresh();
    return this.byName.get(username);
  }

  list(): BusAccount[] {
    this.refresh();
    return [...this.byName.values()];
  }

  /** An in-memory account for tests and labs (file-backed registries: use ensureAccount on the file). */
  add(role: BusRole, username: string): BusAccount {
    if (this.file !== undefined) throw new Error('accounts of a users file are added to the file (meshflow bus add-user)');
    const existing = this.byName.get(username);
    if (existing) {
      if (existing.role !== role) throw new Error(`bus account ${username} exists with role ${existing.role}, not ${role}`);
      return existing;
    }
    const account = newAccount(role, username);
    this.byName.set(username, account);
    return account;
  }

  private refresh(): void {
    if (this.file === undefined) return;
    // A broken edit (or a file moved away) keeps the accounts we had rather than locking everyone out.
    try {
      const st = statSync(this.file);
      const version = `${st.ino}:${st.mtimeMs}:${st.size}`;
      if (version === this.loaded) return;
      const users = readUsersFile(this.file);
      this.byName = new Map(users.accounts.map((a) => [a.username, a]));
      this.loaded = version;
    } catch (err) {
      if (this.loaded === '') throw err;
    }
  }
}
