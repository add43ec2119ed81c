// What the built-in sidecar adds to a request, side by side with HAProxy in the same run.
// Run: node --import tsx bench/sidecar.ts [--seconds 10] [--rates 1000,5000]
//
// Two HTTP replicas (a process of their own), the built-in sidecar with class scheduling on
// (`meshflow sidecar`, its own process) and HAProxy (round robin, keep-alive to the servers) in
// front of them. autocannon offers each target the same fixed rate (half interactive, half
// batch) over 64 connections: straight to one replica, through the sidecar, through HAProxy.
// A hop's cost is its percentile minus the direct one, measured in the same round; each rate
// runs the three targets in turn, twice, and prints the round where the direct path was
// fastest (the one the shared machine disturbed least).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import * as hdr from 'hdr-histogram-js';
import { accepts, freePort } from '../labs/ports.ts';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const SECONDS = Number(arg('seconds', '10'));
const RATES = arg('rates', '1000,5000').split(',').map(Number);
const CONNECTIONS = 64;
const ROUNDS = 2;

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

interface Figures {
  readonly p50: number;
  readonly p99: number;
  readonly rps: number;
  readonly errors: number;
}

/**
 * One run. autocannon's own histogram keeps whole milliseconds, too coarse for a hop that costs
 * a fraction of one; its per-response times (from hrtime) go into a microsecond histogram here.
 */
async function load(port: number, rate: number): Promise<Figures> {
  const us = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  let run!: autocannon.Instance;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    run = autocannon(
      {
        url: `http://127.0.0.1:${port}/`,
        connections: CONNECTIONS,
        overallRate: rate,
        duration: SECONDS,
        requests: [
          { method: 'GET', path: '/', headers: { host: 'svc', 'x-meshflow-priority': 'interactive' } },
          { method: 'GET', path: '/', headers: { host: 'svc', 'x-meshflow-priority': 'batch' } },
        ],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
  run.on('response', (_client, status, _bytes, ms) => {
    if (status < 300) us.recordValue(Math.max(1, Math.round(ms * 1000)));
  });
  const r = await done;
  return { p50: us.getValueAtPercentile(50) / 1000, p99: us.getValueAtPercentile(99) / 1000, rps: r.requests.average, errors: r.errors + r.non2xx + r.timeouts };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'meshflow-bench-sidecar-'));
  const children: ChildProcess[] = [];
  const stop = (): void => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  process.once('SIGINT', () => (stop(), process.exit(130)));
  try {
    const [r1, r2, sidecarPort, adminPort, haproxyPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const replicas = spawn(process.execPath, ['-e', REPLICA, String(r1), String(r2)], { stdio: 'inherit' });
    children.push(replicas);
    await waitListening(r1, replicas, 'replicas');
    await waitListening(r2, replicas, 'replicas');

    const config = join(dir, 'sidecar.json');
    await writeFile(config, JSON.stringify({
      id: 'bench',
      listen: { port: sidecarPort },
      admin: { port: adminPort },
      services: { svc: { replicas: [{ id: 'r1', host: '127.0.0.1', port: r1 }, { id: 'r2', host: '127.0.0.1', port: r2 }] } },
      ...(process.argv.includes('--no-scheduling') ? {} : { scheduling: { classes: [{ name: 'interactive' }, { name: 'batch' }], concurrencyPerReplica: 64, queueLimit: 4096 } }),
    }));
    const sidecar = spawn(process.execPath, ['bin/meshflow.js', 'sidecar', '--config', config, '--log-level', 'warn'], { stdio: 'inherit' });
    children.push(sidecar);
    await waitListening(sidecarPort, sidecar, 'sidecar');

    const cfg = join(dir, 'haproxy.cfg');
    await writeFile(cfg, [
      'global', '  nbthread 1',
      'defaults', '  mode http', '  timeout connect 1s', '  timeout client 10s', '  timeout server 10s', '  http-reuse always',
      'frontend fe', `  bind 127.0.0.1:${haproxyPort}`, '  default_backend svc',
      'backend svc', '  balance roundrobin',
      `  server r1 127.0.0.1:${r1}`, `  server r2 127.0.0.1:${r2}`, '',
    ].join('\n'));
    const haproxy = spawn('haproxy', ['-db', '-f', cfg], { stdio: 'inherit' });
    children.push(haproxy);
    await waitListening(haproxyPort, haproxy, 'haproxy');

    const targets = [
      { name: 'direct', port: r1 },
      { name: 'sidecar', port: sidecarPort },
      { name: 'haproxy', port: haproxyPort },
    ];
    process.stdout.write(`sidecar hop cost: ${SECONDS} s per run, ${CONNECTIONS} connections, half interactive and half batch, class scheduling on\n`);
    process.stdout.write(`load average at start: ${loadavg().map((v) => v.toFixed(2)).join(' ')}\n\n`);
    const fmt = (v: number): string => v.toFixed(2).padStart(7);
    process.stdout.write(`${'rate/s'.padStart(7)} ${'target'.padEnd(8)} ${'req/s'.padStart(7)} ${'errors'.padStart(6)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'+p50'.padStart(7)} ${'+p99'.padStart(7)}\n`);
    for (const rate of RATES) {
      // Warm every path (connections, JIT) before measuring.
      for (const t of targets) await autocannon({ url: `http://127.0.0.1:${t.port}/`, connections: CONNECTIONS, overallRate: rate, duration: 2, headers: { host: 'svc' } });
      const rounds: Map<string, Figures>[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const m = new Map<string, Figures>();
        for (const t of targets) m.set(t.name, await load(t.port, rate));
        rounds.push(m);
      }
      // The better round is the one where the direct path was fastest: the least disturbed by the machine.
      const best = rounds.reduce((a, b) => ((b.get('direct')?.p99 ?? Infinity) < (a.get('direct')?.p99 ?? Infinity) ? b : a));
      const direct = best.get('direct') as Figures;
      for (const t of targets) {
        const f = best.get(t.name) as Figures;
        const extra = t.name === 'direct' ? ['', ''] : [fmt(f.p50 - direct.p50), fmt(f.p99 - direct.p99)];
        process.stdout.write(`${String(rate).padStart(7)} ${t.name.padEnd(8)} ${f.rps.toFixed(0).padStart(7)} ${String(f.errors).padStart(6)} ${fmt(f.p50)} ${fmt(f.p99)} ${(extra[0] ?? '').padStart(7)} ${(extra[1] ?? '').padStart(7)}\n`);
      }
    }
  } finally {
    stop();
    await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
