// The same accounts and ACL for Mosquitto: a password_file in Mosquitto's own PBKDF2-SHA512
// format (what `mosquitto_passwd` writes, "$7$"), and an acl_file from WRITE_RULES.
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BusAccount, BusRole } from './accounts.ts';
import { READ_FILTER, WRITE_RULES } from './acl.ts';

const ITERATIONS = 101;

/** `$7$<iterations>$<salt>$<hash>`, as mosquitto_passwd 2.x writes it. */
export function mosquittoHash(password: string, salt: Buffer = randomBytes(12)): string {
  const hash = pbkdf2Sync(password, salt, ITERATIONS, 64, 'sha512');
  return `$7$${ITERATIONS}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function renderPasswordFile(accounts: readonly BusAccount[]): string {
  return accounts.map((a) => `${a.username}:${mosquittoHash(a.password)}\n`).join('');
}

function rulesFor(role: BusRole, username: string): string[] {
  return WRITE_RULES.filter((r) => r.role === role).map((r) => `topic write ${r.topic.replace('%u', username)}`);
}

const HEADER = [
  '# meshflow hint bus: who may publish what (rendered from bus/auth/acl.ts; keep them in step).',
  '# Anything not granted here is refused: Mosquitto drops the publish, so forged hints reach',
  '# no subscriber and retained topics keep their value.',
  '',
  '# Every account reads every hint.',
  `pattern read ${READ_FILTER}`,
];

/** An acl_file for exactly these accounts: one `user` block each. */
export function renderAclFile(accounts: readonly Pick<BusAccount, 'username' | 'role'>[]): string {
  const blocks = accounts.map((a) => [``, `# ${a.role}`, `user ${a.username}`, ...rulesFor(a.role, a.username)].join('\n'));
  return `${[...HEADER, ...blocks].join('\n')}\n`;
}

/**
 * The shipped acl_file (bus/mosquitto/acl): named controller and bridge accounts, and a %u
 * pattern so that a new sidecar needs only `mosquitto_passwd <file> <sidecarId>`, no ACL edit.
 */
export function renderSharedAclFile(controllers: readonly string[] = ['controller'], bridge = 'bridge'): string {
  const sidecar = WRITE_RULES.filter((r) => r.role === 'sidecar').map((r) => `pattern write ${r.topic}`);
  const lines = [
    ...HEADER,
    '',
    '# A sidecar account is named after its sidecar id and writes only its own status.',
    '# (Mosquitto applies patterns to every account: name no sidecar like a controller or the bridge.)',
    ...sidecar,
    ...controllers.flatMap((c) => ['', '# controller', `user ${c}`, ...rulesFor('controller', c)]),
    '',
    '# bridge',
    `user ${bridge}`,
    ...rulesFor('bridge', bridge),
  ];
  return `${lines.join('\n')}\n`;
}

export const MOSQUITTO_PASSWD = 'mosquitto.passwd';
export const MOSQUITTO_ACL = 'mosquitto.acl';

/** Writes mosquitto.passwd (0600) and mosquitto.acl next to the users file. */
export function writeMosquittoFiles(dir: string, accounts: readonly BusAccount[]): { passwordFile: string; aclFile: string } {
  const passwordFile = join(dir, MOSQUITTO_PASSWD);
  const aclFile = join(dir, MOSQUITTO_ACL);
  writeFileSync(passwordFile, renderPasswordFile(accounts), { mode: 0o600 });
  chmodSync(passwordFile, 0o600);
  writeFileSync(aclFile, renderAclFile(accounts), { mode: 0o644 });
  return { passwordFile, aclFile };
}
