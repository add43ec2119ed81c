// Before a command starts its parts: the servers it was pointed at answer, within a bounded wait,
// or it exits 3 with one line naming the flag (README "Exit codes"). A server that accepts the TCP
// connection but never answers (a paused Redis, a wedged broker) fails the same way as one that
// refuses it, instead of leaving a process that looks started and records nothing.
import { openRedis } from '../bus/redis.ts';
import { brokerUrls, connectBus, type BusConnectOptions } from '../bus/client.ts';
import { splitRedisTarget } from '../bus/eventlog/index.ts';
import { EXIT } from './failures.ts';

/** How long a start-up check waits for an answer. */
export const REACH_TIMEOUT_MS = 3000;

/** A server a flag points at did not answer in time; main.ts prints the message and exits 3. */
export class UnreachableError extends Error {
  readonly exitCode = EXIT.unavailable;
}

/** What a connect error says, briefly ("connection refused", "no answer in 3 s"). */
function reason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'no such host';
  if (typeof code === 'string') return code.toLowerCase();
  return err instanceof Error ? err.message : String(err);
}

/** "host:port" of a URL, or of each in a comma list of brokers. */
function hostPort(url: string, defaultPort: number): string {
  return url
    .split(',')
    .map((one) => {
      try {
        const u = new URL(one.trim());
        return `${u.hostname}:${u.port === '' ? defaultPort : u.port}`;
      } catch {
        return one.trim();
      }
    })
    .join(', ');
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`no answer in ${ms / 1000} s`));
    }, ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Redis answers PING (and AUTH, if the URL has a password) within `timeoutMs`. */
export async function checkRedis(target: string, flag: string, timeoutMs = REACH_TIMEOUT_MS): Promise<void> {
  const { url } = splitRedisTarget(target);
  const redis = openRedis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs });
  // The socket's own error (ECONNREFUSED) says more than the "Connection is closed." that follows it.
  let socketError: unknown;
  redis.on('error', (err: unknown) => (socketError ??= err));
  try {
    await withTimeout(redis.connect().then(() => redis.ping()), timeoutMs, () => redis.disconnect());
  } catch (err) {
    throw new UnreachableError(`cannot reach Redis at ${hostPort(url, 6379)} (${reason(socketError ?? err)}): start it, or point ${flag} at one that runs.`);
  } finally {
    redis.disconnect();
  }
}

/** The broker accepts an MQTT connection (credentials included) within `timeoutMs`. */
export async function checkBroker(url: string, flag: string, timeoutMs = REACH_TIMEOUT_MS, options: BusConnectOptions = {}): Promise<void> {
  const client = await connectBus(url, { ...options, clientId: `meshflow-check-${process.pid}`, connectTimeoutMs: timeoutMs, waitForConnect: false });
  // With several brokers, one that is down is no failure: wait for any to answer (or a refusal).
  const several = brokerUrls(url).length > 1;
  const first = brokerUrls(url)[0] as string;
  const defaultPort = first.startsWith('mqtts') ? 8883 : first.startsWith('ws') ? (first.startsWith('wss') ? 443 : 80) : 1883;
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.on('error', (err: Error) => {
          if (!several || typeof (err as { code?: unknown }).code === 'number') reject(err);
        });
      }),
      timeoutMs,
      () => undefined,
    );
  } catch (err) {
    const message = reason(err);
    const refusedCredentials = /not authori[sz]ed|bad user ?name or password/i.test(message);
    throw new UnreachableError(
      refusedCredentials
        ? `the broker at ${hostPort(first, defaultPort)} refused the credentials (${message}): set user:password in ${flag} (mqtt://user:pass@host:port).`
        : `cannot reach the MQTT broker at ${hostPort(first, defaultPort)}${several ? ' (and the others listed)' : ''} (${message}): start it, or point ${flag} at one that runs.`,
    );
  } finally {
    client.end(true);
  }
}
