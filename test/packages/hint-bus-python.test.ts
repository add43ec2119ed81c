// The Python example subscriber (packages/hint-bus/python/meshflow_hints.py, Debian's
// python3-paho-mqtt, python3-jsonschema, python3-cryptography) against a real Mosquitto, fed
// genuine hints by the repository's publisher.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';
import { connectBus } from '../../bus/client.ts';
import { HintPublisher } from '../../bus/publisher.ts';
import { routeOf } from '../../bus/topics.ts';
import { bodies } from '../bus/fixtures.ts';
import { startMosquitto, type Service } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';
import { signedPayload, testKey } from './hint-bus-support.ts';

const SCRIPT = fileURLToPath(new URL('../../packages/hint-bus/python/meshflow_hints.py', import.meta.url));
// Debian's interpreter, where the apt packages live (a pyenv python3 earlier on PATH lacks them).
const PYTHON = process.env['MESHFLOW_PYTHON'] ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

interface Line {
  readonly event: string;
  readonly [field: string]: unknown;
}

function runPython(args: string[]): { child: ChildProcess; lines: Line[]; stderr: () => string } {
  const child = spawn(PYTHON, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    const parts = out.split('\n');
    out = parts.pop() ?? '';
    for (const p of parts) if (p.trim() !== '') lines.push(JSON.parse(p) as Line);
  });
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  return { child, lines, stderr: () => err };
}

describe('hint-bus Python example subscriber over Mosquitto', function () {
  this.timeout(30_000);
  let mosq: Service;
  let dir: string;
  let client: MqttClient;
  let pub: HintPublisher;
  const children: ChildProcess[] = [];
  const start = async (args: string[]) => {
    const run = runPython(['--broker', mosq.url, ...args]);
    children.push(run.child);
    await waitFor(`the Python subscriber to subscribe (${run.stderr()})`, () => run.lines.some((l) => l.event === 'ready') || run.child.exitCode !== null);
    assert.equal(run.child.exitCode, null, run.stderr());
    return run;
  };

  before(async () => {
    mosq = await startMosquitto();
    dir = await mkdtemp(join(tmpdir(), 'meshflow-hint-bus-py-'));
    client = await connectBus(mosq.url);
    pub = new HintPublisher(client, { source: 'ctl-1' });
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGTERM');
  });
  after(async () => {
    await client?.endAsync(true);
    await mosq?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints a published hint, typed, and a malformed one as rejected', async () => {
    const run = await start(['--kind', 'cost_row', '--kind', 'weights']);
    const bad = pub.stamp(bodies.cost_row);
    await client.publishAsync(routeOf(bad).topic, JSON.stringify({ ...bad, costs: { ...bodies.cost_row.costs, level: ['congested', 'jammed'] } }), { qos: 1 });
    const row = await pub.publish(bodies.cost_row);
    await pub.publish(bodies.weights, { ttlMs: 500 });
    await waitFor('the expiry of the weights', () => run.lines.some((l) => l.event === 'expired'));
    assert.deepEqual(
      run.lines.map((l) => [l.event, l['kind'] ?? l['reason']]),
      [
        ['ready', undefined],
        ['invalid', 'schema'],
        ['hint', 'cost_row'],
        ['hint', 'weights'],
        ['expired', 'weights'],
      ],
    );
    assert.match(String(run.lines[1]?.['message']), /^\/costs\/level\/1 'jammed' is not one of/);
    assert.deepEqual(run.lines[2]?.['hint'], row);
    assert.equal(run.lines[2]?.['summary'], 'costs from edge-s1: edge-s2 congested 800000 bit/s, edge-s3 ok 9000000 bit/s');
    assert.equal(run.lines[3]?.['summary'], "weights for sc-h1: catalog {'catalog-1': 100, 'catalog-2': 900}");
  });

  it('checks signatures against the keys it trusts', async () => {
    const key = testKey('controller');
    const pem = join(dir, 'controller.pub');
    await writeFile(pem, key.publicPem);
    const run = await start(['--kind', 'link_state', '--trust', `controller=${pem}`]);
    const link = pub.stamp(bodies.link_state);
    const topic = routeOf(link).topic;
    const signed = signedPayload(topic, link, key);
    await client.publishAsync(topic, JSON.stringify(link), { qos: 1 });
    await client.publishAsync(topic, signed.replace('"drops":3.5', '"drops":0'), { qos: 1 });
    await client.publishAsync(topic, signedPayload(topic, link, testKey('rogue')), { qos: 1 });
    await client.publishAsync(topic, signed, { qos: 1 });
    await waitFor('the signed hint', () => run.lines.some((l) => l.event === 'hint'));
    assert.deepEqual(
      run.lines.slice(1).map((l) => [l.event, l['reason'] ?? l['signer']]),
      [
        ['invalid', 'unsigned'],
        ['invalid', 'bad_signature'],
        ['invalid', 'untrusted_key'],
        ['hint', 'controller'],
      ],
    );
    assert.deepEqual(run.lines[4]?.['hint'], link);
  });
});
