// Fan-out benchmark: one hint to N subscribed MQTT clients, through the embedded aedes broker
// and through a Mosquitto this script starts (and stops, by PID).
//   node --import tsx bench/bus-fanout.ts [--subs 1000] [--rounds 50]
// Latency is publish call → each subscriber's message event, all in this process (one clock).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { connect, type MqttClient } from 'mqtt';
import { startBroker } from '../bus/broker.ts';
import { HintPublisher } from '../bus/publisher.ts';
import { topics } from '../bus/topics.ts';
import { freePort } from '../labs/ports.ts';

const { values } = parseArgs({ options: { subs: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '50' } } });
const SUBS = Number(values.subs);
const ROUNDS = Number(values.rounds);

interface Result {
  readonly broker: string;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly perSec: number;
  readonly delivered: number;
}

function fdLimit(pid: number | 'self'): string {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return line?.split(/\s+/).slice(3, 5).join('/') ?? '?';
}

async function connectAll(url: string, n: number): Promise<MqttClient[]> {
  const clients: MqttClient[] = [];
  // In batches: a thousand simultaneous SYNs overflow the listen backlog and cost retries.
  for (let i = 0; i < n; i += 100) {
    const batch = Array.from({ length: Math.min(100, n - i) }, () => connect(url, { reconnectPeriod: 0, protocolVersion: 4 }));
    await Promise.all(batch.map((c) => new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve());
      c.once('error', reject);
    })));
    await Promise.all(batch.map((c) => c.subscribeAsync(topics.events(), { qos: 1 })));
    clients.push(...batch);
  }
  return clients;
}

async function run(name: string, url: string): Promise<Result> {
  const subs = await connectAll(url, SUBS);
  const latencies: number[] = [];
  let sentAt = 0;
  let got = 0;
  let roundDone: () => void = () => {};
  for (const c of subs) {
    c.on('message', () => {
      latencies.push(performance.now() - sentAt);
      if (++got === SUBS) roundDone();
    });
  }
  const pubClient = connect(url, { reconnectPeriod: 0, protocolVersion: 4 });
  await new Promise((r) => pubClient.once('connect', r));
  const pub = new HintPublisher(pubClient, { source: 'bench' });
  const body = { kind: 'event', event: 'congestion_onset', linkId: '0000000000000001:2-0000000000000002:1', level: 'congested', utilization: 0.93 } as const;
  // One warm-up round, not measured.
  let busy = 0;
  for (let r = -1; r < ROUNDS; r++) {
    got = 0;
    const done = new Promise<void>((resolve) => (roundDone = resolve));
    const t0 = performance.now();
    sentAt = t0;
    if (r === -1) latencies.length = 0;
    void pub.publish(body);
    await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error(`${name}: round ${r} got ${got}/${SUBS}`)), 30_000))]);
    if (r === -1) latencies.length = 0;
    else busy += performance.now() - t0;
  }
  await pubClient.endAsync();
  await Promise.all(subs.map((c) => c.endAsync(true)));
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { broker: name, p50: q(0.5), p99: q(0.99), max: latencies.at(-1) ?? NaN, perSec: (latencies.length / busy) * 1000, delivered: latencies.length };
}

async function startMosquitto(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'meshflow-bench-mosq-'));
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_connections -1\n`);
  const child = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  const pid = child.pid;
  if (pid === undefined) throw new Error('mosquitto did not start');
  const exited = new Promise((r) => child.once('exit', r));
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = tcpConnect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (ok) break;
    if (i > 200) throw new Error('mosquitto not ready');
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    pid,
    stop: async () => {
      process.kill(pid, 'SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const results: Result[] = [];
console.log(`fan-out: ${SUBS} subscribers, ${ROUNDS} rounds, QoS 1; this process fd limit ${fdLimit('self')}`);
{
  const broker = await startBroker({ port: 0 });
  try {
    results.push(await run('aedes (embedded, same process)', broker.urlFor('controller')));
  } finally {
    await broker.stop();
  }
}
{
  const mosq = await startMosquitto();
  console.log(`mosquitto pid ${mosq.pid}, fd limit ${fdLimit(mosq.pid)}`);
  try {
    results.push(await run('mosquitto 2.0', mosq.url));
  } finally {
    await mosq.stop();
  }
}
for (const r of results) {
  console.log(
    `${r.broker.padEnd(32)} p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  max ${r.max.toFixed(2)} ms  ` +
      `${Math.round(r.perSec).toLocaleString('en')} hints delivered/s  (${r.delivered} deliveries)`,
  );
}
