// The global failure handler: common failures say which flag to change, with documented exit codes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import type { Resolution } from '../../cli/config.ts';
import { EXIT, explainFailure } from '../../cli/failures.ts';
import { MissingTokenError } from '../../controller/api/auth.ts';

const BIN = fileURLToPath(new URL('../../bin/meshflow.js', import.meta.url));

function sysError(code: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(`${code} (test)`), { code, ...fields });
}

const resolution: Resolution = {
  command: new Command('bridge'),
  options: {
    apiPort: { flag: '--api-port', env: 'MESHFLOW_API_PORT', value: 8181, from: 'default' },
    mqttUrl: { flag: '--mqtt-url', env: 'MESHFLOW_MQTT_URL', value: 'mqtt://127.0.0.1:1883', from: 'default' },
    controllerUrl: { flag: '--controller-url', env: 'MESHFLOW_CONTROLLER_URL', value: 'http://localhost:8080', from: 'flag' },
    redisUrl: { flag: '--redis-url', env: 'MESHFLOW_REDIS_URL', value: 'redis://cache.example:6379', from: 'file' },
    registry: { flag: '--registry', env: 'MESHFLOW_REGISTRY', value: 'services.yaml', from: 'flag' },
  },
};

describe('cli failures: what to do next, and the exit code', () => {
  it('a port in use names the flag that set it (exit 3)', () => {
    const f = explainFailure(sysError('EADDRINUSE', { syscall: 'listen', address: '127.0.0.1', port: 8181 }), resolution);
    assert.equal(f.exitCode, EXIT.unavailable);
    assert.match(f.message ?? '', /^port 8181 on 127\.0\.0\.1 is in use: pick another with --api-port \(or MESHFLOW_API_PORT\), or stop what holds it/);
  });

  it('no permission to listen suggests a port above 1023 and the flag', () => {
    const f = explainFailure(sysError('EACCES', { syscall: 'listen', address: '0.0.0.0', port: 8181 }), resolution);
    assert.equal(f.exitCode, EXIT.unavailable);
    assert.match(f.message ?? '', /no permission to listen on port 8181 .*CAP_NET_BIND_SERVICE.*--api-port/);
  });

  it('a refused connection names the service and the URL flag, also inside fetch\'s cause and AggregateError', () => {
    const broker = explainFailure(sysError('ECONNREFUSED', { syscall: 'connect', address: '127.0.0.1', port: 1883 }), resolution);
    assert.equal(broker.exitCode, EXIT.unavailable);
    assert.match(broker.message ?? '', /cannot reach the MQTT broker at 127\.0\.0\.1:1883 \(connection refused\): start it, or point --mqtt-url \(or MESHFLOW_MQTT_URL\)/);

    const both = new AggregateError([sysError('ECONNREFUSED', { address: '::1', port: 8080 }), sysError('ECONNREFUSED', { address: '127.0.0.1', port: 8080 })]);
    const controller = explainFailure(new TypeError('fetch failed', { cause: both }), resolution);
    assert.match(controller.message ?? '', /cannot reach the controller API .*--controller-url/);

    const redis = explainFailure(sysError('ENOTFOUND', { hostname: 'cache.example', syscall: 'getaddrinfo' }), resolution);
    assert.match(redis.message ?? '', /cannot reach Redis at cache\.example \(no such host\).*--redis-url/);
  });

  it('a missing file names the flag (exit 2)', () => {
    const f = explainFailure(sysError('ENOENT', { syscall: 'open', path: 'services.yaml' }), resolution);
    assert.equal(f.exitCode, EXIT.usage);
    assert.match(f.message ?? '', /no such file or directory: services\.yaml: check the path given with --registry/);
  });

  it('usage errors exit 2 (commander printed them), help exits 0, production without a token exits 2, the rest 1', () => {
    assert.deepEqual(explainFailure(new CommanderError(1, 'commander.unknownOption', 'x'), undefined), { exitCode: EXIT.usage });
    assert.deepEqual(explainFailure(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), undefined), { exitCode: EXIT.ok });
    assert.equal(explainFailure(new MissingTokenError('the bridge'), undefined).exitCode, EXIT.usage);
    assert.deepEqual(explainFailure(new Error('boom'), resolution), { message: 'boom', exitCode: EXIT.failed });
  });

  describe('on the real command', function () {
    this.timeout(30_000);
    let busy: Server;
    let port: number;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'meshflow-fail-'));
      busy = createServer();
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
      const addr = busy.address();
      port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    });
    after(() => {
      busy.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('meshflow controller on a busy API port: says so, names --api-port, exits 3', async () => {
      const child = spawn(
        process.execPath,
        [BIN, 'controller', '--api-port', String(port), '--of-port', '0', '--broker-port', '0', '--event-log', join(dir, 'events.jsonl')],
        { env: { ...process.env, MESHFLOW_LOG: 'silent' }, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      assert.equal(code, 3, stderr);
      assert.match(stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use: pick another with --api-port \\(or MESHFLOW_API_PORT\\)`));
    });
  });
});
