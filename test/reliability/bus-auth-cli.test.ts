// The commands on an authenticated bus: `meshflow controller` creates the accounts of its embedded
// broker on first start (users file 0600), and the bridge, a sidecar and `hints` log in with
// them; an anonymous client is refused and counted on the controller's /metrics.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectBus } from '../../bus/client.ts';
import { freePort } from '../../labs/ports.ts';
import { waitFor } from '../support/wait.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Proc {
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

function meshflow(args: readonly string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, ['bin/meshflow.js', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(child.pid, 'SIGTERM');
        await exited;
      }
    },
  };
}

describe('meshflow commands on an authenticated bus', function () {
  this.timeout(90_000);
  let home: string;
  const procs: Proc[] = [];
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'meshflow-home-'));
  });
  after(async () => {
    for (const p of procs.reverse()) await p.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('controller creates accounts; bridge, sidecar and hints log in; anonymous is refused and counted', async () => {
    const env = { MESHFLOW_HOME: home, MESHFLOW_LOG: 'info' };
    const keys = ['--key-dir', join(home, 'keys')];
    const port = await freePort();
    const ctl = meshflow(['controller', '--broker-port', String(port), '--of-host', '127.0.0.1', '--of-port', '0', '--api-port', '0', '--event-log', join(home, 'events.jsonl'), ...keys], env);
    procs.push(ctl);
    const apiUrl = await waitFor('controller running', () => /"api":"(http:\/\/[^"]+)".*controller running/.exec(ctl.output())?.[1], { timeoutMs: 40_000 });
    const users = join(home, 'bus', 'users.json');
    assert.equal((await stat(users)).mode & 0o777, 0o600);
    assert.match(ctl.output(), /meshflow bus url bridge --bus-state-dir/);

    const url = `mqtt://127.0.0.1:${port}`;
    await assert.rejects(connectBus(url), /Not authorized/i);
    const metrics = await waitFor('refusal on /metrics', async () => {
      const text = await (await fetch(`${apiUrl}/metrics`)).text();
      return /meshflow_bus_refusals_total\{reason="anonymous"\} [1-9]/.test(text) ? text : undefined;
    });
    assert.match(metrics, /meshflow_bus_refusals_total\{reason="publish"\} 0/);

    const add = meshflow(['bus', 'add-user', 'sidecar', 'sc-1'], env);
    const code = await waitFor('bus add-user to exit', () => add.child.exitCode ?? undefined, { timeoutMs: 40_000 });
    assert.equal(code, 0, add.output());
    const bridge = meshflow(['bridge', '--mqtt-url', url, '--bus-credentials', users, '--api-port', '0', ...keys], env);
    procs.push(bridge);
    const config = join(home, 'sc-1.json');
    await writeFile(config, JSON.stringify({ id: 'sc-1', listen: { port: 0 }, admin: { port: 0 }, services: {} }));
    const sidecar = meshflow(['sidecar', '--config', config, '--mqtt-url', url, '--bus-credentials', users, ...keys], env);
    procs.push(sidecar);
    const hints = meshflow(['hints', '--mqtt-url', url, '--bus-credentials', users, '--json'], env);
    procs.push(hints);
    await waitFor('bridge running', () => bridge.output().includes('bridge: running'), { timeoutMs: 40_000 });
    await waitFor('sidecar on the bus', () => sidecar.output().includes('sidecar: bus connected'), { timeoutMs: 40_000 });
    // `hints` (as reader) sees the controller's retained status and the sidecar's own.
    await waitFor('statuses through hints', () => hints.output().includes('"controllerId":"controller","state":"online"') && hints.output().includes('"sidecarId":"sc-1","state":"online"'), { timeoutMs: 40_000 });

    // A forger with the controller's bus password (a shared or compromised broker) still can't sign:
    // `hints` verifies against the key folder, as the bridge does, and says what it skipped.
    const forger = await connectBus(url, { username: 'controller', credentialsFile: users });
    const forged = { v: 1, kind: 'controller_status', ts: Date.now(), seq: 1, ttlMs: 60_000, source: 'forger', controllerId: 'controller', state: 'offline' };
    await forger.publishAsync('meshflow/v1/controllers/controller/status', JSON.stringify(forged), { qos: 1 });
    await forger.endAsync();
    await waitFor('the forged status skipped', () => hints.output().includes('skipped meshflow/v1/controllers/controller/status: HINT_ERR_UNSIGNED'), { timeoutMs: 20_000 });
    assert.ok(!hints.output().includes('"source":"forger"'), 'the forged status is not printed');
  });
});
