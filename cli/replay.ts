// `meshflow replay <file|redis://…>`: re-publish a recorded event log onto the bus.
import { pathOrUrlOption, REDIS_SCHEMES } from './options.ts';
import { addBusClientOptions, busConnectOptions, mqttUrlsOption, type BusClientFlags } from './bus-flags.ts';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { connectBus } from '../bus/client.ts';
import { openEventSource } from '../bus/eventlog/index.ts';
import { HintPublisher } from '../bus/publisher.ts';
import { replayHints } from '../bus/replay.ts';
import { KEY_DIR_FLAG, KEY_DIR_HELP, keyIdOption, signerFor } from './keys.ts';

export const DEFAULT_MQTT_URL = 'mqtt://127.0.0.1:1883';

interface ReplayFlags extends BusClientFlags {
  mqttUrl: string;
  speed: string;
  from?: string;
  to?: string;
  source: string;
  progress: boolean;
  keyId: string;
  keyDir?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('replay')
    .description('re-publish recorded hints from a JSON-lines file or a Redis stream (redis://host:port[/db][?key=stream])')
    .argument('<log>', 'event log: a file path or a redis:// URL', pathOrUrlOption(REDIS_SCHEMES))
    .option('--mqtt-url <url>', 'broker to publish to (several: a comma list)', mqttUrlsOption, DEFAULT_MQTT_URL)
    .option('--speed <n>', 'time scale: 2 plays twice as fast', '1')
    .option('--from <time>', 'first recorded time to replay (ms epoch or ISO 8601)')
    .option('--to <time>', 'last recorded time to replay (ms epoch or ISO 8601)')
    .option('--source <id>', 'publisher id stamped on replayed hints', `replay-${process.pid}`)
    .option('--no-progress', 'no progress bar')
    .option('--key-id <id>', 'key the replayed hints are signed with (made on first use); consumers must trust it, e.g. --trust-controller replay=<dir>/replay.pub, or give a controller id to sign as that controller', keyIdOption, 'replay')
    .option(KEY_DIR_FLAG, KEY_DIR_HELP);
  // Replayed links, costs and events need an account that may publish them: a controller's.
  addBusClientOptions(cmd, 'controller').action(async (log: string, flags: ReplayFlags) => {
      const speed = Number(flags.speed);
      if (!(speed > 0)) throw new Error(`--speed must be a number > 0, got ${flags.speed}`);
      const signer = await signerFor(flags.keyDir, flags.keyId);
      const events = openEventSource(log);
      const client = await connectBus(flags.mqttUrl, busConnectOptions(flags, 'controller'));
      const bar = new cliProgress.SingleBar(
        { format: 'replay [{bar}] {value}/{total} {kind} {when}', hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      let started = false;
      const abort = new AbortController();
      const onSigint = () => abort.abort(new Error('interrupted'));
      process.once('SIGINT', onSigint);
      try {
        const result = await replayHints(events, {
          publisher: new HintPublisher(client, { source: flags.source, signer }),
          speed,
          ...(flags.from === undefined ? {} : { from: flags.from }),
          ...(flags.to === undefined ? {} : { to: flags.to }),
          signal: abort.signal,
          onProgress: ({ done, total, hint }) => {
            if (!flags.progress) return;
            const payload = { kind: hint.kind, when: new Date(hint.ts).toISOString() };
            if (!started) {
              bar.start(total, 0, payload);
              started = true;
            }
            bar.update(done, payload);
          },
        });
        if (started) bar.stop();
        console.log(`replayed ${result.published} hints in ${(result.elapsedMs / 1000).toFixed(1)} s`);
      } finally {
        if (started) bar.stop();
        process.off('SIGINT', onSigint);
        await events.close();
        await client.endAsync();
      }
    });
}
