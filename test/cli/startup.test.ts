// Validation at start, on the real command (bin/meshflow.js): every bad value the issue met exits
// 2 (a bad value) or 3 (a server out of reach) with one line that names the flag or the file,
// before anything starts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../labs/ports.ts';
import { startRedis, type Service } from '../support/services.ts';

const BIN = fileURLToPath(new URL('../../bin/meshflow.js', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stderr: string;
  /** The line that names what to fix (commander adds a "(run with --help …)" line after its own). */
  readonly line: string;
}

function meshflow(args: string[], cwd: string): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, MESHFLOW_LOG: 'silent' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    // A command that started instead of refusing would run until killed: the test's timeout ends it.
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = stderr.split('\n').find((l) => l.trim() !== '') ?? '';
      resolve({ code, stderr, line });
    });
  });
}

/** Ports and logs that cannot collide, for commands that would start if the check were missing. */
const SAFE = ['--of-host', '127.0.0.1', '--of-port', '0', '--api-port', '0', '--broker-port', '0'];

describe('cli: validation at start (real command)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'meshflow-startup-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const badValues: { name: string; args: string[]; flag: RegExp }[] = [
    { name: '--echo-interval 0 (would drop every switch at once)', args: ['controller', ...SAFE, '--echo-interval', '0'], flag: /--echo-interval.*100\.\.600000 ms/ },
    { name: '--poll-interval 0', args: ['controller', ...SAFE, '--poll-interval', '0'], flag: /--poll-interval.*100\.\.3600000 ms/ },
    { name: '--of-port above 65535', args: ['controller', '--of-port', '70000'], flag: /--of-port.*1\.\.65535/ },
    { name: '--api-port above 65535', args: ['controller', '--api-port', '65536'], flag: /--api-port.*1\.\.65535/ },
    { name: '--broker-port above 65535', args: ['controller', '--broker-port', '99999'], flag: /--broker-port.*1\.\.65535/ },
    { name: '--redis-url http:// (was written as a file named "http:")', args: ['controller', ...SAFE, '--redis-url', 'http://127.0.0.1:26379'], flag: /--redis-url.*redis:\/\/, rediss:\/\/, redis\+sentinel:\/\/ URL, got http:\/\// },
    { name: '--event-log http://', args: ['controller', ...SAFE, '--event-log', 'http://127.0.0.1:26379/x'], flag: /--event-log.*file path or a redis:\/\// },
    { name: '--mqtt-url http:// (said "cannot reach the controller API")', args: ['controller', ...SAFE, '--mqtt-url', 'http://127.0.0.1:1883'], flag: /--mqtt-url.*mqtt:\/\/, mqtts:\/\/, ws:\/\/, wss:\/\/ URL, got http:\/\// },
    { name: 'bridge --mqtt-url http://', args: ['bridge', '--mqtt-url', 'http://127.0.0.1:1883'], flag: /--mqtt-url.*got http:\/\// },
    { name: 'bridge --controller-url mqtt://', args: ['bridge', '--controller-url', 'mqtt://127.0.0.1:8080'], flag: /--controller-url.*http:\/\/, https:\/\/ URL/ },
    { name: 'bridge --controller-url with one bad URL of a group', args: ['bridge', '--controller-url', 'http://127.0.0.1:8080,mqtt://127.0.0.1:8081'], flag: /--controller-url.*got mqtt:\/\// },
    { name: 'bridge --levers bogus', args: ['bridge', '--levers', 'bogus'], flag: /--levers.*arbitrated, independent/ },
    { name: 'bridge --weights-ttl 0', args: ['bridge', '--weights-ttl', '0'], flag: /--weights-ttl.*300\.\.3600000 ms/ },
    { name: 'bridge --api-port above 65535', args: ['bridge', '--api-port', '70000'], flag: /--api-port.*1\.\.65535/ },
  ];
  for (const c of badValues) {
    it(`${c.name}: exit 2, the flag named`, async () => {
      const r = await meshflow(c.args, dir);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.line, c.flag);
    });
  }

  it('a bad value in the config file: exit 2, the file key and the flag named', async () => {
    const cfg = join(dir, 'meshflow.yaml');
    writeFileSync(cfg, 'controller:\n  echoInterval: 0\n');
    const r = await meshflow(['--config', cfg, 'controller', ...SAFE], dir);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.line, /key "controller\.echoInterval": 0 is not valid for --echo-interval/);
  });

  it('a broken topology file: exit 2, the file and the JSON pointer of the bad value named', async () => {
    const file = join(dir, 'broken-topology.json');
    writeFileSync(file, JSON.stringify({ name: 'broken', switches: [{ name: 's1', dpid: 'xyz' }], hosts: [], links: [] }));
    const r = await meshflow(['controller', ...SAFE, '--topology', file], dir);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.line, new RegExp(`topology file ${file.replace(/[.]/g, '\\.')} \\(--topology\\): at /switches/0/dpid: `));
  });

  it('a topology file that is not JSON: exit 2, the file named', async () => {
    const file = join(dir, 'not-json.json');
    writeFileSync(file, '{ "switches": [ ');
    const r = await meshflow(['controller', ...SAFE, '--topology', file], dir);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.line, /topology file .*not-json\.json \(--topology\): at \/: invalid JSON/);
  });

  it('a broken registry: exit 2, the file and the JSON pointer named', async () => {
    const file = join(dir, 'services.yaml');
    writeFileSync(file, 'services:\n  - name: inventory\n    port: 99999\nreplicas: []\nsidecars: []\nattachments: {}\n');
    const r = await meshflow(['bridge', '--registry', file, '--api-port', '0'], dir);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.line, /registry file .*services\.yaml \(--registry\): at \/services\/0\/port: must be <= 65535/);
  });

  describe('servers out of reach: exit 3 within a bounded wait', () => {
    let redis: Service | undefined;
    let paused = false;
    after(async () => {
      if (paused && redis) process.kill(redis.pid, 'SIGCONT');
      await redis?.stop();
    });

    it('--redis-url with nothing listening: exit 3, names --redis-url (it used to start silently)', async () => {
      const r = await meshflow(['controller', ...SAFE, '--redis-url', `redis://127.0.0.1:${await freePort()}`], dir);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.line, /cannot reach Redis at 127\.0\.0\.1:\d+ \([^)]+\): start it, or point --redis-url at one that runs/);
    });

    it('--redis-url at a paused Redis (accepts, never answers): exit 3, names --redis-url', async () => {
      redis = await startRedis();
      process.kill(redis.pid, 'SIGSTOP');
      paused = true;
      const r = await meshflow(['controller', ...SAFE, '--redis-url', redis.url], dir);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.line, /cannot reach Redis at .*\(no answer in 3 s\).*--redis-url/);
    });

    it('--mqtt-url with nothing listening: exit 3, names --mqtt-url', async () => {
      const r = await meshflow(['controller', ...SAFE, '--mqtt-url', `mqtt://127.0.0.1:${await freePort()}`], dir);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.line, /cannot reach the MQTT broker at 127\.0\.0\.1:\d+ \(connection refused\).*--mqtt-url/);
    });

    it('bridge --mqtt-url with nothing listening: exit 3, names --mqtt-url', async () => {
      const r = await meshflow(['bridge', '--api-port', '0', '--mqtt-url', `mqtt://127.0.0.1:${await freePort()}`], dir);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.line, /cannot reach the MQTT broker .*--mqtt-url/);
    });
  });
});
