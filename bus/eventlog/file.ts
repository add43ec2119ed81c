// The default event log: one JSON object per line, append-only. Readable with `jq`,
// and a torn last line (crash mid-write) costs that one line, not the file.
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Hint } from '../hints.ts';
import { parseHint } from '../parse.ts';
import { inRange, type EventLog, type ReadQuery } from './types.ts';

export class FileEventLog implements EventLog {
  /** Lines skipped on read because they did not parse as hints. */
  skippedLines = 0;
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  static async open(path: string): Promise<FileEventLog> {
    await mkdir(dirname(path), { recursive: true });
    return new FileEventLog(path, await open(path, 'a'));
  }

  append(event: Hint): Promise<void> {
    if (this.closed) return Promise.reject(new Error('event log closed'));
    const line = JSON.stringify(event) + '\n';
    // Writes are chained so lines land whole and in call order.
    const done = this.tail.then(() => this.handle.appendFile(line));
    this.tail = done.catch(() => undefined);
    return done;
  }

  async read(query: ReadQuery = {}): Promise<Hint[]> {
    await this.tail;
    return readFileLog(this.path, query, () => this.skippedLines++);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    await this.handle.close();
  }
}

/** Reads a JSON-lines log without opening it for writing (replay uses this). */
export async function readFileLog(path: string, query: ReadQuery = {}, onSkip: () => void = () => {}): Promise<Hint[]> {
  const out: Hint[] = [];
  const limit = query.limit ?? Infinity;
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (out.length >= limit) break;
      if (line.trim() === '') continue;
      const parsed = parseHint(line);
      if (!parsed.ok) {
        onSkip();
        continue;
      }
      if (inRange(parsed.hint, query)) out.push(parsed.hint);
    }
  } finally {
    lines.close();
  }
  return out;
}
