// What a lab records while it runs, besides the generator's own per-request file: every hint on
// the bus (events.jsonl, replayable), link utilization from the monitor, and the weights in
// force at the client's sidecar (its admin port, over the management network).
import { readFile } from 'node:fs/promises';
import { ALL_HINTS } from '../bus/topics.ts';
import { openEventLog } from '../bus/eventlog/index.ts';
import { readFileLog } from '../bus/eventlog/file.ts';
import { recordHints } from '../bus/recorder.ts';
import type { Hint } from '../bus/hints.ts';
import type { Monitor } from '../controller/monitor/monitor.ts';
import type { Assessment } from '../controller/monitor/assess.ts';
import { parseRecords, type RequestRecord } from './loadgen/record.ts';

export interface LinkSample {
  readonly ts: number;
  readonly linkId: string;
  readonly utilization: number;
  readonly level: string;
}

export interface WeightsSample {
  readonly ts: number;
  readonly fresh: boolean;
  /** service → replica → weight in force */
  readonly services: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** Records every hint on the bus into a JSON-lines event log, replayable with `meshflow replay`. */
export async function startHintRecorder(brokerUrl: string, path: string): Promise<{ stop(): Promise<Hint[]> }> {
  const log = await openEventLog(path);
  const sub = await recordHints(brokerUrl, log, [ALL_HINTS]);
  let stopped: Promise<Hint[]> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        await sub.close();
        await log.close();
        return readFileLog(path);
      })();
      return stopped;
    },
  };
}

/** Link utilization as the monitor assessed it, every poll. */
export function sampleLinks(monitor: Monitor, links: ReadonlySet<string>): { stop(): LinkSample[] } {
  const samples: LinkSample[] = [];
  const on = (a: Assessment): void => {
    const ts = Date.now();
    for (const l of a.loads.values()) if (links.has(l.linkId)) samples.push({ ts, linkId: l.linkId, utilization: Math.round(l.utilization * 1000) / 1000, level: l.level });
  };
  monitor.on('assessed', on);
  return {
    stop() {
      monitor.off('assessed', on);
      return samples;
    },
  };
}

/** Polls a built-in sidecar's /weights (admin port) every `everyMs`. */
export function pollWeights(adminUrl: string, everyMs = 500): { stop(): WeightsSample[] } {
  const samples: WeightsSample[] = [];
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    fetch(`${adminUrl}/weights`, { signal: AbortSignal.timeout(1000) })
      .then(async (r) => {
        const body = (await r.json()) as { fresh: boolean; services: Record<string, Record<string, number>> };
        samples.push({ ts: Date.now(), fresh: body.fresh, services: body.services });
      })
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

/** Reads what the generators wrote so far (they append one line per finished request). */
export async function readRecords(paths: readonly string[]): Promise<RequestRecord[]> {
  const all: RequestRecord[] = [];
  for (const p of paths) {
    const text = await readFile(p, 'utf8').catch(() => '');
    all.push(...parseRecords(text));
  }
  return all.sort((a, b) => a.due - b.due);
}
