// Must show: `npm pack` of @meshflow/hint-bus, installed into an empty project, where a plain
// Node ESM script (no tsx, no TypeScript) subscribes to a hint from a real Mosquitto and prints
// it, and a TypeScript consumer type-checks against the shipped .d.ts.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connectBus } from '../../bus/client.ts';
import { HintPublisher } from '../../bus/publisher.ts';
import { routeOf } from '../../bus/topics.ts';
import { bodies } from '../bus/fixtures.ts';
import { startMosquitto } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGE = join(REPO, 'packages', 'hint-bus');

const CONSUMER_MJS = `import { connectHints } from '@meshflow/hint-bus';
const bus = await connectHints({
  brokers: process.argv[2],
  on: {
    link_state: async (hint, meta) => {
      console.log(JSON.stringify({ topic: meta.topic, hint }));
      await bus.close();
    },
  },
  invalid: (e) => console.log(JSON.stringify({ invalid: e.reason, message: e.message })),
});
console.log(JSON.stringify({ ready: true }));
`;

const CONSUMER_TS = `import { connectHints, type LinkStateHint, type Level } from '@meshflow/hint-bus';
const levels: Level[] = [];
export const open = () =>
  connectHints({
    brokers: ['mqtts://a.example:8883', 'mqtts://b.example:8883'],
    on: {
      link_state: (h: LinkStateHint) => levels.push(h.level),
      // @ts-expect-error a cost row has no utilization field
      cost_row: (h) => h.utilization,
    },
  });
`;

describe('hint-bus package: npm pack, installed elsewhere', function () {
  this.timeout(240_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshflow-hint-bus-pack-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('packs JavaScript, types, schemas and the Python example, and a plain node script subscribes with it', async () => {
    await run('npm', ['pack', '--pack-destination', dir], { cwd: PACKAGE });
    const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, 'no tarball');
    const { stdout: listing } = await run('tar', ['tzf', join(dir, tarball)]);
    const files = listing.split('\n').filter((f) => f !== '').sort();
    for (const f of ['src/index.js', 'src/index.d.ts', 'src/subscriber.js', 'schemas/link_state.schema.json', 'python/meshflow_hints.py', 'README.md']) {
      assert.ok(files.includes(`package/${f}`), `${f} missing from ${files.join(', ')}`);
    }
    assert.deepEqual(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), [], 'TypeScript sources shipped');
    // postpack leaves the sources alone: no build output beside them in the repository.
    assert.deepEqual((await readdir(join(PACKAGE, 'src'))).filter((f) => !f.endsWith('.ts') || f.endsWith('.d.ts')), []);

    const project = join(dir, 'consumer');
    await run('mkdir', ['-p', project]);
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    // Dependencies (mqtt, ajv) come from the npm cache when it has them, else the registry.
    await run('npm', ['install', join(dir, tarball), '--no-audit', '--no-fund', '--prefer-offline'], { cwd: project });
    await writeFile(join(project, 'consumer.mjs'), CONSUMER_MJS);
    await writeFile(join(project, 'consumer.ts'), CONSUMER_TS);

    // The shipped .d.ts type a consumer's callbacks (the @ts-expect-error must be needed).
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--typeRoots', join(REPO, 'node_modules', '@types'), '--types', 'node', 'consumer.ts'], { cwd: project }).catch((err: { stdout?: string }) => {
      assert.fail(`consumer.ts does not type-check:\n${err.stdout ?? String(err)}`);
    });

    const mosq = await startMosquitto();
    const client = await connectBus(mosq.url);
    const node = spawn(process.execPath, ['consumer.mjs', mosq.url], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    node.stdout.on('data', (d: Buffer) => (out += d.toString()));
    node.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => node.once('exit', resolve));
    try {
      await waitFor(`the consumer to subscribe (${err})`, () => out.includes('"ready"') || node.exitCode !== null);
      const pub = new HintPublisher(client, { source: 'ctl-1' });
      const bad = pub.stamp(bodies.link_state);
      await client.publishAsync(routeOf(bad).topic, JSON.stringify({ ...bad, level: 'jammed' }), { qos: 1 });
      const hint = await pub.publish(bodies.link_state);
      assert.equal(await exited, 0, err);
      const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(lines[0], { ready: true });
      assert.equal(lines[1]?.['invalid'], 'schema');
      assert.match(String(lines[1]?.['message']), /^\/level must be equal to one of the allowed values/);
      assert.deepEqual(lines[2], { topic: routeOf(hint as never).topic, hint });
    } finally {
      if (node.exitCode === null && node.pid !== undefined) process.kill(node.pid, 'SIGTERM');
      await client.endAsync(true);
      await mosq.stop();
    }
  });
});
