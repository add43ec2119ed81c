// SIGTERM ends `meshflow controller` whatever is down: the broker stopped (by PID), Redis paused.
// The order is: stop accepting, drop the switches, then flush to the bus and the log with bounded
// waits. The time taken is printed; speed itself is the bench's business.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMosquitto, startRedis, type Service } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';

const BIN = fileURLToPath(new URL('../../bin/meshflow.js', import.meta.url));

interface Started {
  readonly proc: ChildProcess;
  readonly ofPort: number;
  readonly exited: Promise<number | null>;
  stderr(): string;
}

async function startController(args: string[]): Promise<Started> {
  const proc = spawn(process.execPath, [BIN, 'controller', '--of-host', '127.0.0.1', '--of-port', '0', '--api-port', '0', ...args], {
    env: { ...process.env, MESHFLOW_LOG: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const ofPort = await waitFor('the controller to listen', () => {
    if (proc.exitCode !== null) throw new Error(`exited ${proc.exitCode}: ${stderr}`);
    const m = /"ofPort":(\d+)/.exec(stderr);
    return m ? Number(m[1]) : undefined;
  }, { timeoutMs: 30_000 });
  return { proc, ofPort, exited, stderr: () => stderr };
}

/** A TCP peer on the OpenFlow port, connected: `closed` resolves when the controller drops it. */
async function peer(port: number): Promise<{ closed: Promise<void> }> {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  // Reading, so the controller's FIN is seen.
  s.resume();
  const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  return { closed };
}

async function sigterm(c: Started, what: string): Promise<number | null> {
  const { closed } = await peer(c.ofPort);
  const t0 = Date.now();
  c.proc.kill('SIGTERM');
  const code = await c.exited;
  console.log(`      ${what}: exited ${code} ${Date.now() - t0} ms after SIGTERM`);
  await closed;
  return code;
}

describe('reliability: SIGTERM with parts down', function () {
  this.timeout(60_000);
  let dir: string;
  const cleanup: (() => Promise<void> | void)[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'meshflow-shutdown-'));
  });
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the broker stopped: the process exits, cleanly', async () => {
    const mosquitto: Service = await startMosquitto();
    cleanup.push(() => mosquitto.stop());
    const c = await startController(['--mqtt-url', mosquitto.url, '--event-log', join(dir, 'a.jsonl')]);
    cleanup.push(() => void (c.proc.exitCode === null && c.proc.kill('SIGKILL')));
    await mosquitto.stop();
    const code = await sigterm(c, "broker down");
    assert.equal(code, 0, c.stderr().split('\n').slice(-10).join('\n'));
    assert.doesNotMatch(c.stderr(), /stop took too long/);
  });

  it('Redis paused (SIGSTOP) under the event log: the process exits', async () => {
    const redis = await startRedis();
    let paused = false;
    cleanup.push(async () => {
      if (paused) process.kill(redis.pid, 'SIGCONT');
      await redis.stop();
    });
    const mosquitto = await startMosquitto();
    cleanup.push(() => mosquitto.stop());
    const c = await startController(['--mqtt-url', mosquitto.url, '--redis-url', redis.url]);
    cleanup.push(() => void (c.proc.exitCode === null && c.proc.kill('SIGKILL')));
    process.kill(redis.pid, 'SIGSTOP');
    paused = true;
    const code = await sigterm(c, 'redis paused');
    assert.equal(code, 0, c.stderr().split('\n').slice(-10).join('\n'));
  });
});
