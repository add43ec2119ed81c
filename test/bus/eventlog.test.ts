// File log and Redis Streams log, the latter against a real redis-server.
import assert from 'node:assert/strict';
import { mkdtemp, rm, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { FileEventLog, RedisEventLog, openEventLog, splitRedisTarget } from '../../bus/eventlog/index.ts';
import type { Hint } from '../../bus/hints.ts';
import { startRedis, type Service } from '../support/services.ts';
import { eventAt } from './fixtures.ts';
import { until } from './support.ts';

describe('event log', function () {
  let dir: string;
  let redis: Service;
  let redisPid: number;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshflow-eventlog-'));
    redis = await startRedis();
    redisPid = redis.pid;
  });
  after(async () => {
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const events = (n: number, t0 = 1_000_000): Hint[] => Array.from({ length: n }, (_, i) => eventAt(t0 + i * 10, i + 1));

  it('file log: append, read back in order, since/until/limit', async () => {
    const path = join(dir, 'a.jsonl');
    const log = await FileEventLog.open(path);
    const evs = events(20);
    await Promise.all(evs.map((e) => log.append(e)));
    assert.deepEqual(await log.read(), evs);
    assert.deepEqual(await log.read({ since: 1_000_050, until: 1_000_100 }), evs.slice(5, 11));
    assert.deepEqual(await log.read({ limit: 3 }), evs.slice(0, 3));
    await log.close();
    // A torn line (crash mid-write) is skipped and counted, the rest survives.
    await appendFile(path, '{"v":1,"kin');
    const again = await FileEventLog.open(path);
    assert.equal((await again.read()).length, 20);
    assert.equal(again.skippedLines, 1);
    await again.close();
  });

  it('file log and Redis stream get the same events in the same order', async () => {
    const file = await openEventLog(join(dir, 'same.jsonl'));
    const stream = await openEventLog(`${redis.url}?key=same-${process.pid}`);
    const evs = events(250);
    for (const e of evs) {
      await file.append(e);
      await stream.append(e);
    }
    await (stream as RedisEventLog).flush();
    const fromFile = await file.read();
    const fromRedis = await stream.read();
    assert.deepEqual(fromFile, evs);
    assert.deepEqual(fromRedis, evs);
    assert.deepEqual(await stream.read({ since: 1_001_000, limit: 5 }), evs.slice(100, 105));
    await file.close();
    await stream.close();
  });

  it('trims the stream with MAXLEN ~', async () => {
    const key = `trim-${process.pid}`;
    const log = new RedisEventLog(redis.url, { key, maxLen: 100 });
    await until(() => log.redis.status === 'ready', 'redis ready');
    for (const e of events(1000)) await log.append(e);
    await log.flush();
    const len = await log.redis.xlen(key);
    // Approximate trimming works in whole macro nodes: a bit over 100, far under 1000.
    assert.ok(len >= 100 && len < 400, `xlen ${len}`);
    await log.close();
  });

  it('Redis stopped mid-run: appends never block, are buffered, and land in order after a restart on the same port', async () => {
    const key = `outage-${process.pid}`;
    const log = new RedisEventLog(redis.url, { key, batchSize: 10 });
    const evs = events(300);
    for (const e of evs.slice(0, 100)) await log.append(e);
    await log.flush();
    assert.equal(log.writtenCount, 100);

    await redis.stop();
    await until(() => log.redis.status !== 'ready', 'client sees redis gone');
    const t0 = Date.now();
    for (const e of evs.slice(100, 250)) await log.append(e);
    assert.ok(Date.now() - t0 < 500, 'append did not wait for Redis');
    assert.ok(log.buffered >= 150, `buffered ${log.buffered}`);
    // A fresh, empty redis on the same port: the first 100 are gone with the old process, as
    // they would be with --save ''. What matters is that nothing appended during the outage is lost.
    redis = await startRedis({ port: redis.port });
    assert.notEqual(redis.pid, redisPid);
    for (const e of evs.slice(250)) await log.append(e);
    await log.flush();
    assert.equal(log.droppedCount, 0);
    const got = await log.read();
    assert.deepEqual(got, evs.slice(100));
    await log.close();
  });

  it('a full buffer drops the oldest waiting entries and counts them', async () => {
    // Nothing listens here: every append is buffered.
    const log = new RedisEventLog('redis://127.0.0.1:1', { key: 'never', maxBuffered: 5, redis: { retryStrategy: () => 1000 } });
    for (const e of events(8)) await log.append(e);
    assert.equal(log.buffered, 5);
    assert.equal(log.droppedCount, 3);
    await log.close();
  });

  it('redis target parsing keeps the key out of the URL', () => {
    assert.deepEqual(splitRedisTarget('redis://127.0.0.1:6380/2?key=mf:ev'), { url: 'redis://127.0.0.1:6380/2', key: 'mf:ev' });
    assert.equal(splitRedisTarget('redis://h:1').key, 'meshflow:events');
  });

  it('read() hides a duplicate left by a retried write', async () => {
    const key = `dup-${process.pid}`;
    const raw = new Redis(redis.url);
    const [a, b] = events(2);
    for (const e of [a, a, b]) await raw.xadd(key, '*', 'hint', JSON.stringify(e));
    raw.disconnect();
    const log = new RedisEventLog(redis.url, { key });
    assert.deepEqual(await log.read(), [a, b]);
    await log.close();
  });
});
