// Redis through Sentinel: a real redis-server and a real Sentinel watching it (both ours, on free
// ports, stopped by PID); the event log and the lease store reach the master by asking Sentinel.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEventLog } from '../../bus/eventlog/index.ts';
import { openRedis, RedisUrlError, sentinelOptions } from '../../bus/redis.ts';
import { eventAt } from './fixtures.ts';
import { freePort } from '../../labs/ports.ts';
import { startRedis, type Service } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';

async function startSentinel(masterPort: number): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'meshflow-sentinel-'));
  const conf = join(dir, 'sentinel.conf');
  // Sentinel rewrites its own configuration file, so it gets one of its own.
  await writeFile(conf, [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor mymaster 127.0.0.1 ${masterPort} 1`, ''].join('\n'));
  const child = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  await waitFor('sentinel listening', () => new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  }));
  return { port, stop };
}

describe('Redis through Sentinel (redis+sentinel:// URLs)', () => {
  let redis: Service;
  let sentinel: { port: number; stop(): Promise<void> };
  before(async () => {
    redis = await startRedis();
    sentinel = await startSentinel(redis.port);
  });
  after(async () => {
    await sentinel?.stop();
    await redis?.stop();
  });

  it('reads the master, the sentinels, credentials and db from the URL, and names what is wrong', () => {
    assert.deepEqual(sentinelOptions('redis+sentinel://u:p%40ss@s1:26380/mymaster?sentinel=s2:26381&sentinel=s3&db=2'), {
      name: 'mymaster',
      sentinels: [{ host: 's1', port: 26380 }, { host: 's2', port: 26381 }, { host: 's3', port: 26379 }],
      username: 'u',
      password: 'p@ss',
      db: 2,
    });
    assert.equal(sentinelOptions('redis://127.0.0.1:6379'), undefined);
    assert.throws(() => sentinelOptions('redis+sentinel://s1:26379/'), RedisUrlError);
    assert.throws(() => sentinelOptions('redis+sentinel://s1/m?sentinel=s2:99999'), /not a sentinel host:port/);
  });

  it('finds the master through Sentinel: commands land in the Redis that Sentinel watches', async () => {
    const viaSentinel = openRedis(`redis+sentinel://127.0.0.1:${sentinel.port}/mymaster`, { maxRetriesPerRequest: 1 });
    const direct = openRedis(redis.url);
    try {
      await viaSentinel.set('meshflow:sentinel-test', 'through sentinel');
      assert.equal(await direct.get('meshflow:sentinel-test'), 'through sentinel');
    } finally {
      viaSentinel.disconnect();
      direct.disconnect();
    }
  });

  it('the event log records into a stream reached through Sentinel', async () => {
    const log = await openEventLog(`redis+sentinel://127.0.0.1:${sentinel.port}/mymaster?key=meshflow:sentinel-events`);
    try {
      await log.append(eventAt(1, 1));
      const direct = openRedis(redis.url);
      try {
        await waitFor('the entry in the stream', async () => (await direct.xlen('meshflow:sentinel-events')) === 1);
      } finally {
        direct.disconnect();
      }
    } finally {
      await log.close();
    }
  });
});
