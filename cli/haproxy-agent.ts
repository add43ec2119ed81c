// `meshflow haproxy-agent`: answers HAProxy's agent-checks for one sidecar with the weight in
// force, and with the configured weight once the weights' ttl passes (bridge/adapters/haproxy-agent.ts).
// Run it beside HAProxy, not inside the bridge: it has to outlive the bridge to fall back.
import { Option, type Command } from 'commander';
import { connectBus } from '../bus/client.ts';
import { HaproxyAgent } from '../bridge/adapters/haproxy-agent.ts';
import { addBusClientOptions, busConnectOptions, mqttUrlsOption, type BusClientFlags } from './bus-flags.ts';
import { KEY_DIR_FLAG, KEY_DIR_HELP, trustFor, trustSpecOption } from './keys.ts';
import { createLogger, LOG_LEVELS } from './logger.ts';
import { portOption } from './options.ts';

interface AgentFlags extends BusClientFlags {
  readonly sidecar: string;
  readonly mqttUrl: string;
  readonly host: string;
  readonly port: number;
  readonly logLevel?: string;
  readonly trustBridge?: string[];
  readonly keyDir?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('haproxy-agent')
    .description("answer HAProxy's agent-check for a sidecar's servers: the bridge's weights while fresh, the configured weight after their ttl")
    .requiredOption('--sidecar <id>', "the registry's sidecar id (kind haproxy) whose weights to answer")
    .option('--mqtt-url <url>', 'hint bus broker the bridge publishes to (several brokers of one cluster: a comma list)', mqttUrlsOption, 'mqtt://127.0.0.1:1883')
    .option('--host <host>', "address HAProxy's agent-checks connect to (agent-addr)", '127.0.0.1')
    .option('--port <port>', "agent-port in HAProxy's server lines", portOption, 5555)
    .addOption(new Option('--log-level <level>', 'pino log level').choices(LOG_LEVELS))
    .option('--trust-bridge <id=file...>', 'take weights only from bridges signing with these public keys (<bridge id>=<id>.pub, repeatable); default: every key in --key-dir', trustSpecOption)
    .option(KEY_DIR_FLAG, KEY_DIR_HELP);
  addBusClientOptions(cmd, 'the --sidecar id').action(async (o: AgentFlags) => {
    if (o.logLevel !== undefined) process.env.MESHFLOW_LOG = o.logLevel;
    const log = createLogger('haproxy-agent');
    // Weights are verified: an unsigned or forged weights hint changes no answer.
    const trust = await trustFor(o.trustBridge, o.keyDir, '--trust-bridge');
    const agent = new HaproxyAgent({ sidecarId: o.sidecar, host: o.host, port: o.port, log, subscribe: { trust } });
    // Listening comes first and never waits for the broker: without weights the answer is the configured weight.
    const port = await agent.listen();
    const client = await connectBus(o.mqttUrl, { ...busConnectOptions(o, o.sidecar), clientId: `meshflow-haproxy-agent-${o.sidecar}-${process.pid}`, waitForConnect: false });
    client.on('error', (err) => log.debug({ err: err.message }, 'haproxy agent: mqtt error'));
    await agent.follow(client);
    log.info({ sidecar: o.sidecar, host: o.host, port, mqtt: o.mqttUrl }, 'haproxy agent: answering agent-checks');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    setTimeout(() => process.exit(0), 1500).unref();
    await agent.close();
    client.end(true);
  });
}
