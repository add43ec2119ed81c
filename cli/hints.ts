// `meshflow hints`: watch the bus live, one line per hint.
import { addBusClientOptions, busConnectOptions, mqttUrlsOption, type BusClientFlags } from './bus-flags.ts';
import type { Command } from 'commander';
import { costEntries, type Hint } from '../bus/hints.ts';
import { subscribeHints, type HintMeta } from '../bus/subscriber.ts';
import { ALL_HINTS } from '../bus/topics.ts';
import { DEFAULT_MQTT_URL } from './replay.ts';
import { KEY_DIR_FLAG, KEY_DIR_HELP, trustFor, trustSpecOption } from './keys.ts';

interface HintsFlags extends BusClientFlags {
  mqttUrl: string;
  topic: string[];
  json: boolean;
  verify: boolean;
  trust?: string[];
  keyDir?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('hints')
    .description('subscribe to the hint bus and print each hint as it arrives')
    .option('--mqtt-url <url>', 'broker to subscribe to (several: a comma list)', mqttUrlsOption, DEFAULT_MQTT_URL)
    .option('--topic <pattern>', 'MQTT topic filter (repeatable)', collect, [])
    .option('--json', 'one JSON object per line: {"topic", "retained", "hint"}', false)
    .option('--trust <id=file...>', 'print only hints signed by these public keys (<signer id>=<id>.pub, repeatable); default: every key in --key-dir', trustSpecOption)
    .option('--no-verify', 'print every well-formed hint, signed or not (what a forger would see taken)')
    .option(KEY_DIR_FLAG, KEY_DIR_HELP);
  addBusClientOptions(cmd, 'reader').action(async (flags: HintsFlags) => {
      const filters = flags.topic.length > 0 ? flags.topic : [ALL_HINTS];
      // What the bridge and the sidecars would take: signed by a trusted key (sidecars don't sign their status).
      const trust = flags.verify ? await trustFor(flags.trust, flags.keyDir, '--trust') : undefined;
      const sub = await subscribeHints(
        flags.mqttUrl,
        filters,
        (hint, meta) => {
          process.stdout.write((flags.json ? JSON.stringify({ ...meta, hint }) : formatHintLine(hint, meta)) + '\n');
        },
        {
          connect: busConnectOptions(flags, 'reader'),
          ...(trust === undefined ? {} : { trust, unsignedKinds: ['sidecar_status'] as const }),
          onInvalid: (err, topic) => process.stderr.write(`skipped ${topic}: ${err.code} ${err.message}\n`),
        },
      );
      // Runs until interrupted.
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      await sub.close();
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** One human-readable line: time, kind, seq, source, then what matters for the kind. */
export function formatHintLine(hint: Hint, meta: HintMeta): string {
  const time = new Date(hint.ts).toISOString().slice(11, 23);
  const head = `${time} ${hint.kind.padEnd(14)} ${hint.source}#${hint.seq}${meta.retained ? ' (retained)' : ''}${hint.replayed ? ' (replayed)' : ''}`;
  return `${head}  ${summary(hint)}`;
}

function summary(hint: Hint): string {
  const pct = (u: number) => `${(u * 100).toFixed(1)}%`;
  switch (hint.kind) {
    case 'link_state':
      return `${hint.linkId} ${hint.level} util=${pct(hint.utilization)} rate=${hint.rateBps}/${hint.capacityBps}bps drops=${hint.drops}/s`;
    case 'event':
      return [hint.event, hint.linkId, hint.dpid, hint.level, hint.utilization === undefined ? undefined : `util=${pct(hint.utilization)}`]
        .filter((x) => x !== undefined)
        .join(' ');
    case 'cost_row':
      // best/worst utilization, hops, and the equal-cost path count
      return `${hint.srcPid} -> ${costEntries(hint.costs)
        .map((c) => `${c.dstPid}:${c.worstLevel}/${pct(c.bottleneckUtilization)}-${pct(c.worstUtilization)}/${c.hops}h×${c.paths}`)
        .join(' ')}`;
    case 'weights':
      return `${hint.sidecarId} ${Object.entries(hint.services)
        .map(([svc, reps]) => `${svc}{${Object.entries(reps).map(([r, w]) => `${r}=${w}`).join(',')}}`)
        .join(' ')}`;
    case 'sidecar_status':
      return `${hint.sidecarId} ${hint.state}${hint.host === undefined ? '' : ` on ${hint.host}`}`;
    case 'controller_status':
      return `${hint.controllerId} ${hint.state}${hint.apiUrl === undefined ? '' : ` at ${hint.apiUrl}`}`;
  }
}
