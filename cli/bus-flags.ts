// Hint-bus flags shared by the commands: several broker URLs, a CA file, credentials from the
// users file; and for the controller's embedded broker, its state directory (accounts) and TLS.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { RefusalCounter } from '../bus/auth/refusals.ts';
import { startBroker, type EmbeddedBroker } from '../bus/broker.ts';
import { defaultBusStateDir, openStateDir, credentialsFrom } from '../bus/auth/accounts.ts';
import type { BusConnectOptions } from '../bus/client.ts';
import { MQTT_SCHEMES, urlListOption } from './options.ts';

/** `--mqtt-url a,b`: the brokers of one cluster, tried in order. */
export const mqttUrlsOption = urlListOption(MQTT_SCHEMES);

export interface BusClientFlags {
  readonly mqttCa?: string;
  readonly busCredentials?: string;
  readonly busUser?: string;
}

export function addBusClientOptions(cmd: Command, defaultUser: string): Command {
  return cmd
    .option('--mqtt-ca <file>', 'CA certificate (PEM) that signed the broker certificate, for mqtts:// URLs')
    .option('--bus-credentials <file>', 'bus users file (the embedded broker writes ~/.meshflow/bus/users.json) to take the password of --bus-user from')
    .option('--bus-user <name>', `bus account to log in as, with --bus-credentials (default: ${defaultUser})`);
}

/** How a command connects: CA and credentials from the flags (a user:pass in the URL still works). */
export function busConnectOptions(flags: BusClientFlags, defaultUser: string): BusConnectOptions {
  return {
    ...(flags.mqttCa === undefined ? {} : { caFile: flags.mqttCa }),
    ...(flags.busCredentials === undefined ? {} : { credentialsFile: flags.busCredentials, username: flags.busUser ?? defaultUser }),
    ...(flags.busCredentials === undefined && flags.busUser !== undefined ? { username: flags.busUser } : {}),
  };
}

export interface EmbeddedBrokerFlags {
  readonly busStateDir?: string;
  readonly busTlsCert?: string;
  readonly busTlsKey?: string;
  readonly busAnonymous?: boolean;
}

export function addEmbeddedBrokerOptions(cmd: Command): Command {
  return cmd
    .option('--bus-state-dir <dir>', 'embedded broker: where its accounts live (users.json, mode 0600; created on first start; default ~/.meshflow/bus or $MESHFLOW_HOME/bus)')
    .option('--bus-tls-cert <file>', 'embedded broker: serve mqtts:// only, with this certificate (PEM; with --bus-tls-key)')
    .option('--bus-tls-key <file>', 'embedded broker: the private key of --bus-tls-cert (PEM)')
    .option('--bus-anonymous', 'embedded broker: no accounts, no ACL (throwaway labs and tests only)', false);
}

export interface EmbeddedBus {
  readonly broker: EmbeddedBroker;
  readonly mqttUrl: string;
  /** How the controller itself connects to it. */
  readonly connect: BusConnectOptions;
}

/** Starts the controller's embedded broker on its accounts, and says where they are. */
export async function startEmbeddedBus(flags: EmbeddedBrokerFlags & BusClientFlags, port: number, controllerId: string, log: Logger): Promise<EmbeddedBus> {
  if ((flags.busTlsCert === undefined) !== (flags.busTlsKey === undefined)) {
    throw new InvalidArgumentError('--bus-tls-cert and --bus-tls-key go together');
  }
  const tls = flags.busTlsCert === undefined || flags.busTlsKey === undefined ? undefined : { cert: readFileSync(flags.busTlsCert), key: readFileSync(flags.busTlsKey) };
  // The controller trusts its own broker's certificate unless told which CA signed it.
  const ca = flags.mqttCa !== undefined ? { caFile: flags.mqttCa } : tls ? { ca: tls.cert } : {};
  if (flags.busAnonymous === true) {
    const broker = await startBroker({ port, auth: 'anonymous', ...(tls ? { tls } : {}) });
    log.warn({ url: broker.url }, 'embedded MQTT broker up WITHOUT accounts (--bus-anonymous): anyone who reaches it can steer the mesh');
    return { broker, mqttUrl: broker.url, connect: ca };
  }
  const dir = flags.busStateDir ?? defaultBusStateDir();
  const state = openStateDir(dir, [controllerId]);
  const broker = await startBroker({ port, auth: { usersFile: state.usersFile }, ...(tls ? { tls } : {}), log });
  const own = credentialsFrom(state.usersFile, controllerId);
  log.info(
    {
      url: broker.url,
      accounts: state.users.accounts.map((a) => `${a.username} (${a.role})`),
      usersFile: state.usersFile,
      created: state.created,
      readWith: `meshflow bus url bridge --bus-state-dir ${dir}`,
    },
    `embedded MQTT broker up; ${state.created ? 'created' : 'using'} its accounts in ${state.usersFile} (mode 0600). A URL with credentials: meshflow bus url <account> --bus-state-dir ${dir}; a sidecar account: meshflow bus add-user sidecar <id> --bus-state-dir ${dir}`,
  );
  return { broker, mqttUrl: broker.url, connect: { ...ca, username: own.username, password: own.password } };
}

/** The embedded broker's refusals on the controller's /metrics, read at scrape time. */
export function exposeRefusals(registry: Registry, refusals: RefusalCounter): void {
  new Counter({
    name: 'meshflow_bus_refusals_total',
    help: 'Connects, publishes and subscribes the embedded broker refused, by reason',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      // The counter is already a running total; a counter has no set(), so reset and add it.
      this.reset();
      for (const [reason, n] of Object.entries(refusals.snapshot())) this.inc({ reason }, n);
    },
  });
}
