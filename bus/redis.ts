// Connecting to Redis from a URL: redis:// and rediss:// as ioredis reads them, and
// redis+sentinel://[user:pass@]sentinel:26379/<master>[?sentinel=host:port…][&db=N], which asks
// Redis Sentinel where the master is and follows it through a failover. (The extra sentinels ride
// in the query because a URL's authority holds one host.)
import { Redis, type RedisOptions } from 'ioredis';

export const SENTINEL_PROTOCOL = 'redis+sentinel:';
const SENTINEL_PORT = 26379;

export class RedisUrlError extends Error {
  override name = 'RedisUrlError';
}

function hostPort(s: string, url: string): { host: string; port: number } {
  const m = /^([^:]+)(?::(\d+))?$/.exec(s);
  const port = Number(m?.[2] ?? SENTINEL_PORT);
  if (!m?.[1] || port < 1 || port > 65535) throw new RedisUrlError(`${url}: "${s}" is not a sentinel host:port`);
  return { host: m[1], port };
}

/** The ioredis options a Sentinel URL stands for; undefined for any other URL. */
export function sentinelOptions(url: string): RedisOptions | undefined {
  const u = new URL(url);
  if (u.protocol !== SENTINEL_PROTOCOL) return undefined;
  const name = decodeURIComponent(u.pathname.slice(1));
  if (!name) throw new RedisUrlError(`${url}: a Sentinel URL names the master after the host: redis+sentinel://host:${SENTINEL_PORT}/<master>`);
  const db = u.searchParams.get('db');
  if (db !== null && !/^\d+$/.test(db)) throw new RedisUrlError(`${url}: db must be a number`);
  return {
    name,
    sentinels: [hostPort(u.port ? `${u.hostname}:${u.port}` : u.hostname, url), ...u.searchParams.getAll('sentinel').map((s) => hostPort(s, url))],
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== null ? { db: Number(db) } : {}),
  };
}

export function openRedis(url: string, options: RedisOptions = {}): Redis {
  const sentinel = sentinelOptions(url);
  return sentinel ? new Redis({ ...options, ...sentinel }) : new Redis(url, options);
}
