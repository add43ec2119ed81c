// Turns the failures people actually hit (a port in use, no permission, a broker that is not up,
// a wrong path) into one line that says which flag to change, and an exit code scripts can test.
// The flag is found by value: the option of the command that ran whose value is the port, path or
// URL in the error, so new flags are covered without a table to keep up to date.
import { CommanderError } from 'commander';
import type { Resolution, ResolvedOption } from './config.ts';

/** Exit codes, documented in README "Exit codes". */
export const EXIT = {
  ok: 0,
  /** The command ran and failed (bad input data, an unexpected error). */
  failed: 1,
  /** Usage: a bad flag, variable or config file; production mode without a token. */
  usage: 2,
  /** The environment: a port in use, no permission, a broker, Redis or controller out of reach. */
  unavailable: 3,
} as const;

export interface Failure {
  /** What to print on stderr; none when commander already printed it. */
  readonly message?: string;
  readonly exitCode: number;
}

interface SystemError {
  readonly code: string;
  readonly syscall?: string;
  readonly address?: string;
  readonly port?: number;
  readonly path?: string;
  readonly hostname?: string;
  readonly message: string;
}

function isSystemError(e: unknown): e is SystemError {
  const code: unknown = e instanceof Error ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^E[A-Z_]+$/.test(code);
}

/** The errno error inside wrappers: fetch's `cause`, AggregateError's `errors` (IPv4 and IPv6 tries). */
function findSystemError(err: unknown, depth = 0): SystemError | undefined {
  if (depth > 5 || typeof err !== 'object' || err === null) return undefined;
  if (isSystemError(err)) return err;
  const { cause, errors } = err as { cause?: unknown; errors?: unknown };
  if (Array.isArray(errors)) for (const e of errors) {
    const found = findSystemError(e, depth + 1);
    if (found) return found;
  }
  return findSystemError(cause, depth + 1);
}

function describeFlag(o: ResolvedOption): string {
  return o.env ? `${o.flag} (or ${o.env})` : o.flag;
}

const DEFAULT_PORTS: Record<string, number> = { 'mqtt:': 1883, 'mqtts:': 8883, 'redis:': 6379, 'rediss:': 6379, 'redis+sentinel:': 26379, 'http:': 80, 'https:': 443, 'ws:': 80 };
const WHAT: Record<string, string> = { 'mqtt:': 'the MQTT broker', 'mqtts:': 'the MQTT broker', 'redis:': 'Redis', 'rediss:': 'Redis', 'redis+sentinel:': 'Redis Sentinel', 'http:': 'the controller API', 'https:': 'the controller API' };

function urlOf(value: unknown): URL | undefined {
  if (typeof value !== 'string' || !value.includes('://')) return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

const sameHost = (a: string, b: string): boolean => {
  const norm = (h: string) => (h === 'localhost' || h === '::1' || h === '[::1]' ? '127.0.0.1' : h.replace(/^\[|\]$/g, ''));
  return norm(a) === norm(b);
};

/** The option whose URL value points at host:port (or at `hostname`, for a DNS failure). */
function urlOption(r: Resolution | undefined, e: SystemError): { option: ResolvedOption; url: URL } | undefined {
  for (const option of Object.values(r?.options ?? {})) {
    const url = urlOf(option.value);
    if (!url) continue;
    const port = url.port === '' ? DEFAULT_PORTS[url.protocol] : Number(url.port);
    if (e.hostname !== undefined ? sameHost(url.hostname, e.hostname) : port === e.port && (e.address === undefined || sameHost(url.hostname, e.address))) {
      return { option, url };
    }
  }
  return undefined;
}

function optionWithValue(r: Resolution | undefined, value: unknown): ResolvedOption | undefined {
  return Object.values(r?.options ?? {}).find((o) => o.value === value);
}

function explainSystemError(e: SystemError, r: Resolution | undefined): Failure | undefined {
  const where = e.address === undefined ? '' : ` on ${e.address}`;
  if (e.code === 'EADDRINUSE' && e.port !== undefined) {
    const o = optionWithValue(r, e.port);
    const pick = o ? `pick another with ${describeFlag(o)}` : 'pick another port with the command\'s port flag (see --help)';
    return {
      message: `port ${e.port}${where} is in use: ${pick}, or stop what holds it (\`ss -ltnp 'sport = :${e.port}'\` shows the process).`,
      exitCode: EXIT.unavailable,
    };
  }
  if ((e.code === 'EACCES' || e.code === 'EPERM') && e.syscall === 'listen' && e.port !== undefined) {
    const o = optionWithValue(r, e.port);
    return {
      message: `no permission to listen on port ${e.port}${where} (ports below 1024 need root or CAP_NET_BIND_SERVICE): use a port above 1023${o ? ` with ${describeFlag(o)}` : ''}.`,
      exitCode: EXIT.unavailable,
    };
  }
  if ((e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS') && e.path !== undefined) {
    const o = optionWithValue(r, e.path);
    return {
      message: `no permission to use ${e.path}: make it ${e.syscall === 'open' ? 'readable or writable' : 'accessible'} by this user${o ? `, or choose another path with ${describeFlag(o)}` : ''}.`,
      exitCode: EXIT.unavailable,
    };
  }
  if (e.code === 'ENOENT' && e.path !== undefined) {
    const o = optionWithValue(r, e.path);
    return { message: `no such file or directory: ${e.path}: check the path${o ? ` given with ${describeFlag(o)}` : ''}.`, exitCode: EXIT.usage };
  }
  if (['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN'].includes(e.code)) {
    const hit = urlOption(r, e);
    const target = e.hostname ?? (e.port === undefined ? e.address ?? 'the server' : `${e.address ?? ''}:${e.port}`);
    const why = e.code === 'ECONNREFUSED' ? 'connection refused' : e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' ? 'no such host' : e.code.toLowerCase();
    if (hit) {
      const what = WHAT[hit.url.protocol] ?? 'the server';
      return {
        message: `cannot reach ${what} at ${target} (${why}): start it, or point ${describeFlag(hit.option)} at one that runs.`,
        exitCode: EXIT.unavailable,
      };
    }
    return { message: `cannot reach ${target} (${why}): check that it runs and the URL flags of this command (see --help).`, exitCode: EXIT.unavailable };
  }
  return undefined;
}

/** What to print and which code to exit with, for an error that ended a command. */
export function explainFailure(err: unknown, resolved: Resolution | undefined): Failure {
  if (err instanceof CommanderError) {
    // Help and version exit 0; commander has printed its own message for everything else.
    return { exitCode: err.exitCode === 0 ? EXIT.ok : EXIT.usage };
  }
  const declared = (err as { exitCode?: unknown } | null)?.exitCode;
  if (err instanceof Error && typeof declared === 'number') return { message: err.message, exitCode: declared };
  const sys = findSystemError(err);
  const explained = sys ? explainSystemError(sys, resolved) : undefined;
  if (explained) return explained;
  const message = err instanceof Error ? err.message : String(err);
  if (/not authori[sz]ed|bad user ?name or password/i.test(message)) {
    const mqtt = Object.values(resolved?.options ?? {}).find((o) => urlOf(o.value)?.protocol.startsWith('mqtt'));
    return {
      message: `the broker refused the credentials (${message}): set user:password in ${mqtt ? describeFlag(mqtt) : 'the broker URL'} (mqtt://user:pass@host:port).`,
      exitCode: EXIT.unavailable,
    };
  }
  return { message, exitCode: EXIT.failed };
}
