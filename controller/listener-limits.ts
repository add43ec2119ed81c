// What the OpenFlow listener allows: how many connections, how many of them still in their
// handshake, for how long, and when a newcomer may take over a datapath id that is already
// connected. Decisions only (numbers in, a verdict out); controller.ts carries them out.
import { readFileSync } from 'node:fs';
import type { TlsPeer } from './listener-tls.ts';

export interface ListenerLimits {
  /** Open connections at most, ready switches included; beyond it, a newcomer is refused unless an unready one can go. */
  readonly maxConnections: number;
  /** Connections still in their handshake at most; beyond it, the oldest of them is closed for the newcomer. */
  readonly maxUnready: number;
  /** A connection that has not completed the features handshake (TLS included) within this is closed. */
  readonly handshakeTimeoutMs: number;
  /** How long a connected switch has to answer the echo that decides a takeover of its datapath id. */
  readonly livenessTimeoutMs: number;
}

/**
 * Switches get at most half of the process's file descriptors, and 4096 at most: the other half
 * stays for the API, the bus, the event log and the files they open, so a flood of connections
 * reaches our limit (refused and counted) before the process runs out of descriptors (EMFILE,
 * where accepts fail silently and everything else that opens a socket fails too).
 */
export function maxConnectionsFor(openFilesLimit: number | undefined): number {
  if (openFilesLimit === undefined || !Number.isFinite(openFilesLimit)) return 4096;
  return Math.max(64, Math.min(4096, Math.floor(openFilesLimit / 2)));
}

/** The soft limit on open files (Linux: /proc/self/limits), or undefined where it cannot be read. */
export function openFilesLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m?.[1] === undefined || m[1] === 'unlimited' ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/**
 * Generous for real fabrics (a switch completes its handshake in milliseconds, so even a thousand
 * switches reconnecting at once never hold 64 unready slots for long), small enough that an idle
 * flood costs file descriptors we can spare.
 */
export const DEFAULT_LISTENER_LIMITS: ListenerLimits = {
  maxConnections: maxConnectionsFor(openFilesLimit()),
  maxUnready: 64,
  handshakeTimeoutMs: 10_000,
  livenessTimeoutMs: 1000,
};

/** Throws a message that names the limit at fault (the CLI checks its flags before this). */
export function checkListenerLimits(l: ListenerLimits): void {
  const whole = (name: string, v: number, min: number): void => {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`OpenFlow listener ${name} must be a whole number of at least ${min}, got ${v}`);
  };
  whole('maxConnections', l.maxConnections, 1);
  whole('maxUnready', l.maxUnready, 1);
  whole('handshakeTimeoutMs', l.handshakeTimeoutMs, 100);
  whole('livenessTimeoutMs', l.livenessTimeoutMs, 10);
  if (l.maxUnready > l.maxConnections) throw new RangeError(`OpenFlow listener maxUnready (${l.maxUnready}) cannot exceed maxConnections (${l.maxConnections})`);
}

/**
 * A new connection arrives with `open` connections already open, `unready` of them in their
 * handshake. Unready connections make room first, oldest first: an idle flood then only ever delays
 * a real switch by its own handshake, and never locks it out. Ready switches are never dropped for
 * a newcomer.
 */
export function admitConnection(open: number, unready: number, limits: ListenerLimits): 'accept' | 'evict_oldest_unready' | 'refuse' {
  if (unready >= limits.maxUnready) return 'evict_oldest_unready';
  if (open < limits.maxConnections) return 'accept';
  return unready > 0 ? 'evict_oldest_unready' : 'refuse';
}

/**
 * A newcomer completed its handshake with a datapath id that a live session holds. It replaces
 * that session at once only when both showed the same TLS certificate: the holder of that key is
 * the switch itself, reconnecting while its old connection is not yet known dead. A certificate's
 * subject says nothing of datapath ids (ovs-pki names a switch by a UUID, and a datapath id is
 * configurable on the switch), so any other newcomer waits for the old session's liveness check.
 */
export function takeoverRule(held: TlsPeer | undefined, newcomer: TlsPeer | undefined): 'same_certificate' | 'check_liveness' {
  return held !== undefined && newcomer !== undefined && held.fingerprint === newcomer.fingerprint ? 'same_certificate' : 'check_liveness';
}
