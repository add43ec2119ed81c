// `meshflow bus`: the embedded broker's accounts: list them, add one, print a URL with an
// account's credentials, and write the same accounts and ACL for Mosquitto.
import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { BUS_ROLES, defaultBusStateDir, ensureAccount, openStateDir, type BusRole } from '../bus/auth/accounts.ts';
import { writeMosquittoFiles } from '../bus/auth/mosquitto.ts';
import { DEFAULT_BROKER_HOST, DEFAULT_BROKER_PORT } from '../bus/broker.ts';
import { portOption } from './options.ts';

interface StateFlags {
  busStateDir?: string;
}

function roleArgument(value: string): BusRole {
  if (!BUS_ROLES.includes(value as BusRole)) throw new InvalidArgumentError(`expected one of ${BUS_ROLES.join(', ')}, got ${JSON.stringify(value)}`);
  return value as BusRole;
}

const stateDirFlag = ['--bus-state-dir <dir>', 'where the embedded broker keeps its accounts (default ~/.meshflow/bus or $MESHFLOW_HOME/bus)'] as const;

export function register(program: Command): void {
  const bus = program.command('bus').description("the hint bus's accounts: list, add, print a URL with credentials, export for Mosquitto");
  const dirOf = (o: StateFlags) => o.busStateDir ?? defaultBusStateDir();

  bus
    .command('accounts')
    .description('list the accounts (names and roles) and where their users file is')
    .option(...stateDirFlag)
    .action((o: StateFlags) => {
      const s = openStateDir(dirOf(o));
      process.stdout.write(`# ${s.usersFile} (mode 0600)\n`);
      for (const a of s.users.accounts) process.stdout.write(`${a.username}\t${a.role}\n`);
    });

  bus
    .command('add-user')
    .description('add an account (a sidecar: named after its id); a running embedded broker sees it at once')
    .argument('<role>', BUS_ROLES.join(' | '), roleArgument)
    .argument('<name>', 'account name: a controller id, a sidecar id, or any name for the bridge and readers')
    .option(...stateDirFlag)
    .action((role: BusRole, name: string, o: StateFlags) => {
      const s = openStateDir(dirOf(o));
      const a = ensureAccount(s.usersFile, role, name);
      process.stdout.write(`${a.username} (${a.role}) in ${s.usersFile}; its URL: meshflow bus url ${a.username} --bus-state-dir ${s.dir}\n`);
    });

  bus
    .command('url')
    .description("print a broker URL carrying one account's credentials (a secret: don't paste it into logs)")
    .argument('<account>', 'account name (bridge, reader, a controller id, a sidecar id)')
    .option(...stateDirFlag)
    .option('--host <host>', 'broker host', DEFAULT_BROKER_HOST)
    .option('--port <port>', 'broker port', portOption, DEFAULT_BROKER_PORT)
    .option('--tls', 'an mqtts:// URL', false)
    .action((name: string, o: StateFlags & { host: string; port: number; tls: boolean }) => {
      const s = openStateDir(dirOf(o));
      const a = s.users.accounts.find((x) => x.username === name);
      if (!a) throw new InvalidArgumentError(`no account ${JSON.stringify(name)} in ${s.usersFile}; see meshflow bus accounts`);
      const u = new URL(`${o.tls ? 'mqtts' : 'mqtt'}://${o.host}:${o.port}`);
      u.username = encodeURIComponent(a.username);
      u.password = encodeURIComponent(a.password);
      process.stdout.write(`${u.toString().replace(/\/$/, '')}\n`);
    });

  bus
    .command('mosquitto')
    .description('write mosquitto.passwd (hashed, 0600) and mosquitto.acl for these accounts; see bus/mosquitto/mosquitto.conf')
    .requiredOption('--out <dir>', 'folder to write them to')
    .option(...stateDirFlag)
    .action((o: StateFlags & { out: string }) => {
      const s = openStateDir(dirOf(o));
      mkdirSync(o.out, { recursive: true });
      const files = writeMosquittoFiles(o.out, s.users.accounts);
      process.stdout.write(`${files.passwordFile}\n${files.aclFile}\n`);
    });
}
