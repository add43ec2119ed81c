// One logger shape for every command: JSON lines on stderr (pino), level from MESHFLOW_LOG.
import { pino, destination, type Logger } from 'pino';

export function createLogger(name: string): Logger {
  return pino({ name, level: process.env.MESHFLOW_LOG ?? 'info' }, destination(2));
}

/** The levels a --log-level flag takes (pino's). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
