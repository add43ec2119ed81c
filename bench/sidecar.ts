// What the built-in sidecar adds to a request, side by side with HAProxy in the same run.
// Run: node --import tsx bench/sidecar.ts [--seconds 10] [--rates 1000,5000] [--load paced|autocannon] [--tracing]
//
// Two HTTP replicas (a process of their own), the built-in sidecar with class scheduling on
// (`meshflow sidecar`, its own process) and HAProxy (one thread, round robin, keep-alive to the
// servers, set up for the sidecar's job: the class header read or set, batch queued behind
// interactive at 64 requests per replica, X-Forwarded-For, a traceparent made when none came) in
// front of them. Each target is offered the same rate (half interactive, half batch)
// over at most 64 keep-alive raw-socket connections from this process (the load generator; the
// sidecar has a process of its own): straight to one replica, through a bare Node TCP relay,
// through the sidecar, through HAProxy. A hop's cost is its percentile minus the direct one (with
// a 90% interval for p99, from resampling the rounds of slices: the run's own noise, so two
// targets whose intervals overlap were not told apart), and the CPU its process spent per request,
// user and system apart. The relay does no HTTP at all: it
// is the floor of any proxy written for Node on this machine, so the sidecar's own work is what it
// adds above the relay. The targets take
// turns in one-second slices (the order rotating every slice) and each gathers its slices into one
// histogram, so whatever else runs on the shared machine falls on all three alike. Read the CPU
// column first when the machine is busy: the percentiles then carry other work's noise.
//
// The load is paced by default: request i is due at start + i/rate, open loop, and its latency
// counts from the timer tick that sends it (waiting for a free connection included). autocannon (`--load autocannon`) is kept for comparison, but its
// overallRate is a per-second budget each connection spends back to back at the top of every
// second: all 64 connections burst together until the budget is gone, so what it measures is
// the queue of 64 requests at the target's peak throughput, not the hop at the rate asked for.
//
// `--tracing` adds a second sidecar, the same but writing a span per hop as OTLP JSON lines to a
// file ("traced"), so what spans cost shows beside the sidecar without them, in the same run; at
// the end it counts the spans the file holds against the answers the traced sidecar gave.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import * as hdr from 'hdr-histogram-js';
import { BodyTracker, headEnd, parseResponseHead, responseFraming, type ResponseHead } from '../bridge/sidecar/http1.ts';
import { accepts, freePort } from '../labs/ports.ts';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const SECONDS = Number(arg('seconds', '10'));
const RATES = arg('rates', '1000,5000').split(',').map(Number);
const CONNECTIONS = 64;
const LOAD = arg('load', 'paced');
if (LOAD !== 'paced' && LOAD !== 'autocannon') throw new Error(`--load: paced or autocannon, not ${LOAD}`);
const TRACING = process.argv.includes('--tracing');

async function waitListening(port: number, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    if (await accepts(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} is not listening on ${port}`);
}

const REPLICA = `
const http = require('node:http');
for (const port of process.argv.slice(1).map(Number)) {
  const s = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end('ok')); });
  s.keepAliveTimeout = 60000;
  s.listen(port, '127.0.0.1');
}`;

const RELAY = `
const net = require('node:net');
const [port, to] = process.argv.slice(1).map(Number);
net.createServer((c) => {
  const u = net.connect(to, '127.0.0.1');
  c.setNoDelay(true); u.setNoDelay(true);
  c.pipe(u); u.pipe(c);
  c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
}).listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));`;

/** What a target's slices add up to: latencies (µs) of the good answers, the failures, and its process's CPU (ms). */
interface Cpu {
  readonly userMs: number;
  readonly sysMs: number;
}

interface Tally {
  readonly us: hdr.Histogram;
  ok: number;
  errors: number;
  cpu: Cpu | undefined;
  /** Each paced slice's latencies (ms), in the order of the rounds: what the intervals resample. */
  readonly slices: Float64Array[];
}

const tally = (): Tally => ({ us: microseconds(), ok: 0, errors: 0, cpu: undefined, slices: [] });

/** Answers (any status) each target's port gave, warm-up included: the traced sidecar's spans are checked against them. */
const answered = new Map<number, number>();
const countAnswer = (port: number): void => void answered.set(port, (answered.get(port) ?? 0) + 1);

/** A process's CPU time so far, user and system, from /proc (Linux; clock ticks of 10 ms). */
function cpuOf(pid: number | undefined): Cpu | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { userMs: Number(fields[11]) * 10, sysMs: Number(fields[12]) * 10 };
  } catch {
    return undefined;
  }
}

const CLASSES = [
  { host: 'svc', 'x-meshflow-priority': 'interactive' },
  { host: 'svc', 'x-meshflow-priority': 'batch' },
];

const microseconds = (): hdr.Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });

/**
 * One keep-alive connection of the load generator: a request at a time, its answer's end found by
 * the sidecar's own HTTP/1.1 framing. Raw sockets rather than node:http's client: that client's
 * own cost and jitter (about 100 µs a request) would sit in every target's percentiles alike and
 * bury the fraction of a millisecond a hop adds.
 */
class LoadConnection {
  readonly socket: Socket;
  lastUsed = performance.now();
  private buf: Buffer | undefined;
  private head: ResponseHead | undefined;
  private body: BodyTracker | undefined;
  private done: ((status: number | undefined) => void) | undefined;

  constructor(port: number, private readonly onGone: (c: LoadConnection) => void) {
    this.socket = connect({ port, host: '127.0.0.1', noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.onGone(this);
      this.finish(undefined);
    });
  }

  send(request: Buffer, done: (status: number | undefined) => void): void {
    this.done = done;
    this.socket.write(request);
  }

  private onData(chunk: Buffer): void {
    let at = 0;
    if (!this.head) {
      const buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
      const end = headEnd(buf);
      if (end < 0) return void (this.buf = buf);
      this.buf = undefined;
      this.head = parseResponseHead(buf, end);
      this.body = new BodyTracker(responseFraming(this.head, 'GET') ?? { kind: 'close' });
      chunk = buf;
      at = end;
    }
    this.body?.take(chunk, at);
    if (this.body?.done) this.finish(this.head.status);
  }

  private finish(status: number | undefined): void {
    const done = this.done;
    this.done = undefined;
    this.head = undefined;
    this.body = undefined;
    this.lastUsed = performance.now();
    done?.(status);
  }
}

/** Up to CONNECTIONS keep-alive connections per target, kept across its slices; requests beyond them wait their turn. */
class LoadPool {
  private readonly idle: LoadConnection[] = [];
  private open = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly port: number) {}

  fire(request: Buffer, done: (status: number | undefined) => void): void {
    const go = (): void => {
      let c = this.idle.pop();
      // Idle past what a target keeps (the sidecar says 5 s): a fresh one, not a race with its close.
      while (c && performance.now() - c.lastUsed > 4000) {
        c.socket.destroy();
        c = this.idle.pop();
      }
      if (!c) {
        this.open++;
        c = new LoadConnection(this.port, () => {
          this.open--;
          const i = this.idle.indexOf(c as LoadConnection);
          if (i >= 0) this.idle.splice(i, 1);
        });
      }
      const conn = c;
      conn.send(request, (status) => {
        if (!conn.socket.destroyed) this.idle.push(conn);
        done(status);
        this.waiting.shift()?.();
      });
    };
    if (this.idle.length > 0 || this.open < CONNECTIONS) go();
    else this.waiting.push(go);
  }

  close(): void {
    for (const c of this.idle) c.socket.destroy();
  }
}

const REQUESTS = CLASSES.map((headers) => Buffer.from(`GET / HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`, 'latin1'));

/**
 * One paced run: requests fall due evenly at `rate` whatever the answers before them did (open
 * loop), over at most CONNECTIONS keep-alive connections; a request that finds them all busy
 * waits for one.
 */
async function paced(port: number, rate: number, seconds: number, tally: Tally): Promise<void> {
  const pool = poolFor(port);
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  let sent = 0;
  let settled = 0;
  const slice: number[] = [];
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  // Latency counts from the tick that sends a request, not from when it fell due: the timer's own
  // lateness (up to a millisecond) is the load generator's, the same for every target, and would
  // swamp the hop. Waiting for a free connection still counts, so a target that falls behind is
  // charged for it (no coordinated omission).
  const fire = (request: Buffer): void => {
    const due = performance.now();
    pool.fire(request, (status) => {
      if (status !== undefined) countAnswer(port);
      if (status !== undefined && status < 300) {
        const ms = performance.now() - due;
        tally.ok++;
        tally.us.recordValue(Math.max(1, Math.round(ms * 1000)));
        slice.push(ms);
      } else tally.errors++;
      if (++settled === total) finish();
    });
  };
  const start = performance.now();
  // A timer tick sends every request that has fallen due since the last one (timers run at ~1 ms).
  const tick = (): void => {
    const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1);
    for (; sent < due; sent++) fire(REQUESTS[sent % REQUESTS.length] as Buffer);
    if (sent < total) setTimeout(tick, 1);
  };
  tick();
  const timeout = setTimeout(finish, (seconds + 10) * 1000);
  await finished;
  clearTimeout(timeout);
  tally.errors += total - settled;
  tally.slices.push(Float64Array.from(slice));
}

/**
 * A 90% interval of what a target adds at percentile `p` (ms), by resampling whole rounds with
 * replacement: a round holds one slice of every target, run back to back, so the target and the
 * direct path are drawn from the same moments and the machine's slow seconds fall on both.
 * Undefined without enough paced slices (autocannon runs whole).
 */
function addedInterval(target: readonly Float64Array[], direct: readonly Float64Array[], p: number, draws = 200): readonly [number, number] | undefined {
  const rounds = Math.min(target.length, direct.length);
  if (rounds < 5) return undefined;
  const at = (slices: readonly Float64Array[], picked: readonly number[]): number => {
    const all = new Float64Array(picked.reduce((n, i) => n + (slices[i] as Float64Array).length, 0));
    let offset = 0;
    for (const i of picked) {
      all.set(slices[i] as Float64Array, offset);
      offset += (slices[i] as Float64Array).length;
    }
    all.sort();
    return all[Math.min(all.length - 1, Math.floor((p / 100) * all.length))] ?? Number.NaN;
  };
  const added: number[] = [];
  for (let d = 0; d < draws; d++) {
    const picked = Array.from({ length: rounds }, () => Math.floor(Math.random() * rounds));
    added.push(at(target, picked) - at(direct, picked));
  }
  added.sort((a, b) => a - b);
  return [added[Math.floor(0.05 * draws)] as number, added[Math.floor(0.95 * draws)] as number];
}

const pools = new Map<number, LoadPool>();
function poolFor(port: number): LoadPool {
  let p = pools.get(port);
  if (!p) {
    p = new LoadPool(port);
    pools.set(port, p);
  }
  return p;
}

/**
 * One autocannon run. autocannon's own histogram keeps whole milliseconds, too coarse for a hop that costs
 * a fraction of one; its per-response times (from hrtime) go into a microsecond histogram here.
 */
async function burst(port: number, rate: number, seconds: number, tally: Tally): Promise<void> {
  let run!: autocannon.Instance;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    run = autocannon(
      {
        url: `http://127.0.0.1:${port}/`,
        connections: CONNECTIONS,
        overallRate: rate,
        duration: seconds,
        requests: CLASSES.map((headers) => ({ method: 'GET', path: '/', headers })),
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
  run.on('response', (_client, status, _bytes, ms) => {
    countAnswer(port);
    if (status < 300) {
      tally.ok++;
      tally.us.recordValue(Math.max(1, Math.round(ms * 1000)));
    }
  });
  const r = await done;
  tally.errors += r.errors + r.non2xx + r.timeouts;
}

const load = LOAD === 'paced' ? paced : burst;
/** Long enough for a batch of spans (exported within a second of its first span) to be written. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 2000));

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'meshflow-bench-sidecar-'));
  const children: ChildProcess[] = [];
  const stop = (): void => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  process.once('SIGINT', () => (stop(), process.exit(130)));
  try {
    const [r1, r2, sidecarPort, haproxyPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const replicas = spawn(process.execPath, ['-e', REPLICA, String(r1), String(r2)], { stdio: 'inherit' });
    children.push(replicas);
    await waitListening(r1, replicas, 'replicas');
    await waitListening(r2, replicas, 'replicas');

    const scheduling = process.argv.includes('--no-scheduling') ? {} : { scheduling: { classes: [{ name: 'interactive' }, { name: 'batch' }], concurrencyPerReplica: 64, queueLimit: 4096 } };
    const services = { svc: { replicas: [{ id: 'r1', host: '127.0.0.1', port: r1 }, { id: 'r2', host: '127.0.0.1', port: r2 }] } };
    const startSidecar = async (id: string, port: number, extra: Record<string, unknown>): Promise<ChildProcess> => {
      const config = join(dir, `${id}.json`);
      await writeFile(config, JSON.stringify({ id, listen: { port }, admin: { port: await freePort() }, services, ...scheduling, ...extra }));
      const child = spawn(process.execPath, ['bin/meshflow.js', 'sidecar', '--config', config, '--log-level', 'warn'], { stdio: 'inherit' });
      children.push(child);
      await waitListening(port, child, id);
      return child;
    };
    const sidecar = await startSidecar('bench', sidecarPort, {});
    const spansFile = join(dir, 'spans.jsonl');
    const tracedPort = TRACING ? await freePort() : 0;
    const traced = TRACING ? await startSidecar('traced', tracedPort, { tracing: { file: spansFile } }) : undefined;

    const cfg = join(dir, 'haproxy.cfg');
    await writeFile(cfg, [
      'global', '  nbthread 1',
      'defaults', '  mode http', '  timeout connect 1s', '  timeout client 10s', '  timeout server 10s', '  timeout queue 5s', '  http-reuse always', '  option forwardfor',
      'frontend fe', `  bind 127.0.0.1:${haproxyPort}`,
      '  http-request set-header x-meshflow-priority default unless { req.hdr(x-meshflow-priority) -m found }',
      '  http-request set-priority-class int(1) if { req.hdr(x-meshflow-priority) -m str batch }',
      '  http-request set-header traceparent "00-%[uuid,regsub(-,,g)]-%[uuid,regsub(-,,g),bytes(0,16)]-01" unless { req.hdr(traceparent) -m found }',
      '  default_backend svc',
      'backend svc', '  balance roundrobin',
      `  server r1 127.0.0.1:${r1} maxconn 64`, `  server r2 127.0.0.1:${r2} maxconn 64`, '',
    ].join('\n'));
    const haproxy = spawn('haproxy', ['-db', '-f', cfg], { stdio: 'inherit' });
    children.push(haproxy);
    await waitListening(haproxyPort, haproxy, 'haproxy');

    const relayPort = await freePort();
    const relay = spawn(process.execPath, ['-e', RELAY, String(relayPort), String(r1)], { stdio: 'inherit' });
    children.push(relay);
    await waitListening(relayPort, relay, 'relay');

    const targets = [
      { name: 'direct', port: r1, pid: undefined },
      { name: 'relay', port: relayPort, pid: relay.pid },
      { name: 'sidecar', port: sidecarPort, pid: sidecar.pid },
      ...(traced ? [{ name: 'traced', port: tracedPort, pid: traced.pid }] : []),
      { name: 'haproxy', port: haproxyPort, pid: haproxy.pid },
    ];
    const how = LOAD === 'paced'
      ? `paced open-loop load over raw keep-alive connections, latency from the tick that sends each request, ${SECONDS} s per target in interleaved one-second slices, up to`
      : `autocannon load (per-second bursts), one ${SECONDS} s run per target,`;
    process.stdout.write(`sidecar hop cost: ${how} ${CONNECTIONS} connections per target, half interactive and half batch, class scheduling on${TRACING ? '; "traced" is the sidecar writing a span per hop to a file' : ''}\n`);
    process.stdout.write(`load average at start: ${loadavg().map((v) => v.toFixed(2)).join(' ')}\n\n`);
    const fmt = (v: number): string => v.toFixed(2).padStart(7);
    const perRequest = (ms: number | undefined, ok: number): string => (ms === undefined || ok === 0 ? '' : ((ms * 1000) / ok).toFixed(0)).padStart(7);
    process.stdout.write(`${'rate/s'.padStart(7)} ${'target'.padEnd(8)} ${'req/s'.padStart(7)} ${'errors'.padStart(6)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'+p50'.padStart(7)} ${'+p99'.padStart(7)} ${'+p99 90%'.padStart(13)} ${'+p99.9'.padStart(7)} ${'user µs'.padStart(7)} ${'sys µs'.padStart(7)}\n`);
    for (const rate of RATES) {
      // Warm every path (connections, JIT) before measuring.
      for (const t of targets) await load(t.port, rate, 2, tally());
      const tallies = new Map(targets.map((t) => [t.name, tally()]));
      // A process's CPU counts over the whole measurement and a settling pause after it, not only
      // during its own slices: work it defers (spans exported in batches a second later) is its cost
      // too. Idle, the processes spend next to nothing; the pause before lets the warm-up's settle.
      await settle();
      const cpuBefore = targets.map((t) => cpuOf(t.pid));
      // autocannon runs whole: a one-second run of it ends before a slow target has answered its burst.
      const sliceSeconds = LOAD === 'paced' ? 1 : SECONDS;
      for (let slice = 0; slice < SECONDS / sliceSeconds; slice++) {
        for (let i = 0; i < targets.length; i++) {
          const t = targets[(slice + i) % targets.length] as (typeof targets)[number];
          await load(t.port, rate, sliceSeconds, tallies.get(t.name) as Tally);
        }
      }
      await settle();
      targets.forEach((t, i) => {
        const [before, after] = [cpuBefore[i], cpuOf(t.pid)];
        if (before && after) (tallies.get(t.name) as Tally).cpu = { userMs: after.userMs - before.userMs, sysMs: after.sysMs - before.sysMs };
      });
      const at = (name: string, p: number): number => (tallies.get(name) as Tally).us.getValueAtPercentile(p) / 1000;
      for (const t of targets) {
        const f = tallies.get(t.name) as Tally;
        const extra = t.name === 'direct' ? ['', '', ''] : [50, 99, 99.9].map((p) => fmt(at(t.name, p) - at('direct', p)));
        const range = t.name === 'direct' ? undefined : addedInterval(f.slices, (tallies.get('direct') as Tally).slices, 99);
        const spread = range ? `${range[0].toFixed(2)}..${range[1].toFixed(2)}` : '';
        process.stdout.write(`${String(rate).padStart(7)} ${t.name.padEnd(8)} ${(f.ok / SECONDS).toFixed(0).padStart(7)} ${String(f.errors).padStart(6)} ${fmt(at(t.name, 50))} ${fmt(at(t.name, 99))} ${(extra[0] ?? '').padStart(7)} ${(extra[1] ?? '').padStart(7)} ${spread.padStart(13)} ${(extra[2] ?? '').padStart(7)} ${perRequest(f.cpu?.userMs, f.ok)} ${perRequest(f.cpu?.sysMs, f.ok)}\n`);
      }
    }
    process.stdout.write(`\nload average at end: ${loadavg().map((v) => v.toFixed(2)).join(' ')}\n`);
    if (traced) {
      // Stopping flushes the spans still held: every answer the traced sidecar gave has its span.
      traced.kill('SIGTERM');
      await once(traced, 'exit');
      let spans = 0;
      for (const line of readFileSync(spansFile, 'utf8').split('\n')) if (line) spans += (line.match(/"spanId"/g) ?? []).length;
      process.stdout.write(`traced: ${spans} spans in the file for ${answered.get(tracedPort) ?? 0} answers\n`);
    }
  } finally {
    for (const p of pools.values()) p.close();
    stop();
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, 'exit') : undefined)));
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
