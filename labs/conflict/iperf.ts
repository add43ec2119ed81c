// The bulk flows' throughput, from iperf3's JSON results (-J --logfile), as the receiver saw it.
import { readFile } from 'node:fs/promises';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null ? (v as Json) : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

async function readJson(path: string): Promise<Json | undefined> {
  try {
    return obj(JSON.parse(await readFile(path, 'utf8')));
  } catch {
    return undefined; // not written (iperf3 stopped early or never ran)
  }
}

/** UDP: the sender's rate less what was lost; TCP in reverse mode: what this end received. */
export async function parseIperf(udpFile: string, tcpFile: string): Promise<{ udpBps?: number; tcpBps?: number }> {
  const udp = obj(obj((await readJson(udpFile))?.['end'])?.['sum']);
  const tcp = obj(obj((await readJson(tcpFile))?.['end'])?.['sum_received']);
  const sent = num(udp?.['bits_per_second']);
  const lost = num(udp?.['lost_percent']) ?? 0;
  const udpBps = sent === undefined ? undefined : sent * (1 - lost / 100);
  const tcpBps = num(tcp?.['bits_per_second']);
  return { ...(udpBps === undefined ? {} : { udpBps }), ...(tcpBps === undefined ? {} : { tcpBps }) };
}
