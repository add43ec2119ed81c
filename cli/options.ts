// Option parsers shared by every command, so a bad flag reads the same everywhere. Every value is
// checked here, when it is parsed (flag, MESHFLOW_<FLAG> or config file alike), before anything
// starts: commander then names the flag and main.ts exits with 2.
import { InvalidArgumentError } from 'commander';

export function intOption(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number, got ${JSON.stringify(value)}`);
  return n;
}

export function floatOption(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got ${JSON.stringify(value)}`);
  return n;
}

/** A TCP port: 1..65535, or 0 for "any free port" (tests and side-by-side runs read the one picked from the log). */
export function portOption(value: string): number {
  const n = intOption(value);
  if (n > 65535) throw new InvalidArgumentError(`expected a TCP port, 1..65535 (0: any free port), got ${n}`);
  return n;
}

/** A whole number of milliseconds within [min, max]; `what` says why the bounds are what they are. */
export function msOption(min: number, max: number, what: string): (value: string) => number {
  return (value: string): number => {
    const n = intOption(value);
    if (n < min || n > max) throw new InvalidArgumentError(`expected ${min}..${max} ms (${what}), got ${n}`);
    return n;
  };
}

/** Schemes each URL flag takes. */
export const MQTT_SCHEMES = ['mqtt', 'mqtts', 'ws', 'wss'] as const;
export const REDIS_SCHEMES = ['redis', 'rediss', 'redis+sentinel'] as const;
export const HTTP_SCHEMES = ['http', 'https'] as const;

/** A URL whose scheme is one of `schemes` (`mqtt://host:port`), with a host. */
export function urlOption(schemes: readonly string[]): (value: string) => string {
  return (value: string): string => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new InvalidArgumentError(`expected a URL like ${schemes[0]}://host:port, got ${JSON.stringify(value)}`);
    }
    const scheme = url.protocol.replace(/:$/, '');
    if (!schemes.includes(scheme)) {
      throw new InvalidArgumentError(`expected a ${schemes.map((s) => `${s}://`).join(', ')} URL, got ${scheme}:// (${JSON.stringify(value)})`);
    }
    if (url.hostname === '') throw new InvalidArgumentError(`expected a host in ${JSON.stringify(value)}`);
    if (url.port !== '' && portOption(url.port) === 0) throw new InvalidArgumentError(`expected a port 1..65535 in ${JSON.stringify(value)}`);
    return value;
  };
}

/**
 * A comma list of URLs of one of `schemes` (a group's brokers or controllers, tried in order), each
 * checked. A comma list rather than a repeated flag, so that a flag still replaces a default or a
 * config-file value.
 */
export function urlListOption(schemes: readonly string[]): (value: string) => string {
  const one = urlOption(schemes);
  return (value: string): string => {
    const urls = value.split(',').map((u) => u.trim()).filter((u) => u !== '');
    if (urls.length === 0) throw new InvalidArgumentError('expected at least one URL');
    for (const u of urls) one(u);
    return urls.join(',');
  };
}

/**
 * A file path, or a URL of one of `schemes`. Anything else that looks like a URL (`http://…`) is
 * refused rather than taken for a file named `http:/…`.
 */
export function pathOrUrlOption(schemes: readonly string[]): (value: string) => string {
  const asUrl = urlOption(schemes);
  return (value: string): string => {
    if (value.trim() === '') throw new InvalidArgumentError('expected a file path, got an empty value');
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      try {
        return asUrl(value);
      } catch (err) {
        throw new InvalidArgumentError(`expected a file path or a ${schemes.map((s) => `${s}://`).join(', ')} URL: ${(err as Error).message}`);
      }
    }
    return value;
  };
}
