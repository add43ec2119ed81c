// Soak: the long versions of the reliability suite against a real `meshflow controller` process
// and a real Mosquitto. Three phases, each followed by a health check and an RSS reading:
//   1. malformed OpenFlow messages (random, truncated, bit-flipped; well framed and not), over
//      many connections (default 1,000,000 messages);
//   2. switch flaps: an emulated switch (bench/emu) connects, finishes its handshake, drops
//      (default 1,000 flaps over 10 datapath ids);
//   3. broker restarts: Mosquitto stopped and started again on its port (default 10).
// Prints crashes (must be 0), RSS before/after each phase, open file descriptors, log lines written.
//
//   npm run bench:soak                     # the long version
//   SOAK_SCALE=0.1 npm run bench:soak      # shorter: 100,000 messages, 100 flaps, 10 restarts
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { systemClock } from '../bus/clock.ts';
import { encode } from 'openflow-ts';
import { startMosquitto, type Service } from '../test/support/services.ts';
import { benchDir, removeBenchDir, startMeshflow, type RunningProcess } from './emu/controllers.ts';
import { EmuOfSwitch, type SwitchHooks } from './emu/switch.ts';

const SCALE = Number(process.env.SOAK_SCALE ?? '1');
const MALFORMED = Math.max(1000, Math.round(1_000_000 * SCALE));
const FLAPS = Math.max(10, Math.round(1000 * SCALE));
const RESTARTS = Math.max(2, Math.round(10 * Math.min(1, SCALE * 10)));
/** Connections in flight at once in the malformed phase. */
const CONNECTIONS = 32;

interface Reading {
  readonly rssKb: number;
  readonly fds: number;
  readonly logLines: number;
}

function read(c: RunningProcess): Reading {
  const status = readFileSync(`/proc/${c.pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const fds = readdirSync(`/proc/${c.pid}/fd`).length;
  const logLines = readFileSync(c.logFile, 'utf8').split('\n').length - 1;
  return { rssKb, fds, logLines };
}

async function healthy(c: RunningProcess): Promise<{ ok: boolean; switches: number }> {
  try {
    const res = await fetch(`${c.apiUrl}/api/v1/healthz`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { ok: boolean; switches: number };
    return { ok: res.ok && body.ok, switches: body.switches };
  } catch {
    return { ok: false, switches: -1 };
  }
}

async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (!(await probe())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - t0;
}

// ---------------------------------------------------------------- phase 1: malformed messages

/** A deterministic generator, so a run can be repeated. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const VALID = [
  encode({ type: 'echo_request', xid: 7, data: Buffer.from('soak') }),
  encode({ type: 'features_reply', xid: 8, datapathId: 0x50a4n, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0 }),
  encode({ type: 'barrier_reply', xid: 9 }),
];

/**
 * One bad message: mostly a random body under a good header (the session lives on), sometimes a
 * truncated valid one (the framing reads into the next message) or a bit-flipped valid one.
 */
function malformed(r: () => number): Buffer {
  const pick = r();
  if (pick < 0.9) {
    const len = 8 + Math.floor(r() * 56);
    const b = Buffer.alloc(len);
    for (let i = 8; i < len; i++) b[i] = Math.floor(r() * 256);
    b[0] = 4;
    b[1] = Math.floor(r() * 35);
    b.writeUInt16BE(len, 2);
    b.writeUInt32BE(Math.floor(r() * 2 ** 32), 4);
    return b;
  }
  const v = VALID[Math.floor(r() * VALID.length)]!;
  const b = Buffer.from(v);
  if (pick < 0.95) {
    // Keep the header's length, cut the body: the framing reads into the next message.
    return b.subarray(0, Math.max(8, Math.floor(r() * b.length)));
  }
  const bit = 8 * 8 + Math.floor(r() * Math.max(1, (b.length - 8) * 8));
  const at = Math.min(b.length - 1, bit >> 3);
  b[at] = (b[at] ?? 0) ^ (1 << (bit & 7));
  return b;
}

/**
 * Sends `count` bad messages, one per connection (a malformed message ends its connection): HELLO,
 * the bad message, FIN, then wait for the controller to close. `parallel` connections at a time.
 */
async function flood(port: number, count: number, seed: number): Promise<{ sent: number }> {
  const r = rng(seed);
  const hello = encode({ type: 'hello', xid: 1, elements: [{ type: 'versionbitmap', versions: [4] }] });
  let sent = 0;
  while (sent < count) {
    sent++;
    const socket: Socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    // Answers are read and dropped, so the controller's FIN is seen.
    socket.resume();
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.once('connect', () => socket.end(Buffer.concat([hello, malformed(r)])));
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    socket.destroy();
  }
  return { sent };
}

/** A counter from the controller's /metrics (NaN when absent). */
async function metric(c: RunningProcess, name: string): Promise<number> {
  const text = await fetch(`${c.apiUrl}/metrics`).then((res) => res.text(), () => '');
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

// ---------------------------------------------------------------- phase 2: flaps

const hooks: SwitchHooks = { packetOut: () => undefined, flowMod: () => undefined, connected: () => undefined };

async function flap(port: number, index: number, dpid: bigint): Promise<void> {
  const sw = new EmuOfSwitch(index, dpid, 4, hooks, { host: '127.0.0.1', port, clock: systemClock, reconnectMs: 60_000 });
  await sw.start();
  // Configured: the controller has installed its table-miss entry and asked for a barrier.
  await until(`switch ${dpid} configured`, () => sw.counters.barriers > 0 || sw.counters.flowMods > 0, 10_000);
  sw.stop();
}

// ---------------------------------------------------------------- the run

interface PhaseFigures {
  readonly phase: string;
  readonly count: string;
  readonly seconds: number;
  readonly before: Reading;
  readonly after: Reading;
  readonly healthy: boolean;
  readonly note: string;
}

async function main(): Promise<void> {
  const dir = benchDir('soak');
  let broker: Service | undefined = await startMosquitto();
  const brokerPort = broker.port;
  const c = await startMeshflow({ dir, args: ['--mqtt-url', broker.url, '--echo-interval', '1000'] });
  let crashes = 0;
  const figures: PhaseFigures[] = [];
  const phase = async (name: string, run: () => Promise<{ count: string; note: string }>): Promise<void> => {
    const before = read(c);
    const t0 = performance.now();
    let result: { count: string; note: string };
    try {
      result = await run();
    } catch (err) {
      result = { count: '-', note: `failed: ${(err as Error).message}` };
    }
    const seconds = (performance.now() - t0) / 1000;
    if (c.exited()) {
      crashes++;
      figures.push({ phase: name, count: result.count, seconds, before, after: before, healthy: false, note: 'controller exited' });
      return;
    }
    // Let the tail of the phase settle (sessions closing, timers) before reading RSS.
    await new Promise((r) => setTimeout(r, 2000));
    const h = await healthy(c);
    figures.push({ phase: name, count: result.count, seconds, before, after: read(c), healthy: h.ok, note: `${result.note}; switches after: ${h.switches}` });
  };

  try {
    process.stdout.write(`soak: scale ${SCALE}: ${MALFORMED} malformed messages, ${FLAPS} flaps, ${RESTARTS} broker restarts; controller pid ${c.pid}\n`);
    await phase('malformed', async () => {
      const per = Math.ceil(MALFORMED / CONNECTIONS);
      const seen0 = await metric(c, 'meshflow_malformed_messages_total');
      const t0 = performance.now();
      const runs = await Promise.all(Array.from({ length: CONNECTIONS }, (_v, i) => flood(c.ofPort, per, 1000 + i)));
      const sent = runs.reduce((n, x) => n + x.sent, 0);
      const seen = (await metric(c, 'meshflow_malformed_messages_total')) - seen0;
      const rate = Math.round(sent / ((performance.now() - t0) / 1000));
      return { count: `${sent}`, note: `one connection each, ${rate}/s; counted malformed by the controller: ${seen}` };
    });
    await phase('flaps', async () => {
      const ids = 10;
      let done = 0;
      await Promise.all(
        Array.from({ length: ids }, async (_v, i) => {
          for (let k = i; k < FLAPS; k += ids) {
            await flap(c.ofPort, i, 0x50a0000n + BigInt(i));
            done++;
          }
        }),
      );
      return { count: `${done}`, note: `${ids} datapath ids` };
    });
    await phase('broker restarts', async () => {
      const backMs: number[] = [];
      for (let i = 0; i < RESTARTS; i++) {
        await broker?.stop();
        broker = undefined;
        await new Promise((r) => setTimeout(r, 500));
        broker = await startMosquitto({ port: brokerPort });
        const t0 = performance.now();
        // Reconnected: the controller's bus gauge says so (when the build has it).
        const ms = await until('the controller back on the bus', async () => {
          const text = await fetch(`${c.apiUrl}/metrics`).then((r) => r.text(), () => '');
          return /^meshflow_bus_connected 1$/m.test(text) || !/^meshflow_bus_connected /m.test(text);
        }, 30_000).catch(() => Number.NaN);
        backMs.push(Number.isNaN(ms) ? Number.NaN : performance.now() - t0);
      }
      const finite = backMs.filter((x) => Number.isFinite(x));
      return { count: `${RESTARTS}`, note: `back on the bus after ${finite.length ? `${Math.round(Math.max(...finite))} ms at most` : 'n/a'}` };
    });
  } finally {
    const stop = await c.stop(5000);
    await broker?.stop();
    const mb = (kb: number) => (kb / 1024).toFixed(1);
    process.stdout.write('\nphase            count      s      RSS before→after MB (ratio)   fds    log lines   healthy  note\n');
    for (const f of figures) {
      process.stdout.write(
        `${f.phase.padEnd(16)} ${f.count.padStart(8)} ${f.seconds.toFixed(1).padStart(6)}   ${mb(f.before.rssKb).padStart(6)} → ${mb(f.after.rssKb).padEnd(6)} (${(f.after.rssKb / f.before.rssKb).toFixed(2)})` +
          `   ${String(f.before.fds).padStart(3)}→${String(f.after.fds).padEnd(4)} +${String(f.after.logLines - f.before.logLines).padEnd(9)} ${String(f.healthy).padEnd(8)} ${f.note}\n`,
      );
    }
    process.stdout.write(`\ncrashes: ${crashes}   SIGTERM at the end: ${stop.killed ? 'killed' : `${Math.round(stop.termMs ?? 0)} ms`}\n`);
    if (process.env.SOAK_KEEP === undefined && crashes === 0 && !stop.killed) removeBenchDir(dir);
    else process.stdout.write(`logs kept in ${dir}\n`);
    if (crashes > 0) process.exitCode = 1;
  }
}

await main();
