// meshflow decode: print OpenFlow 1.3 messages as JSON lines, like `ovs-ofctl ofp-print`.
// Input is one or many concatenated binary messages (a file, or stdin for '-' or no file),
// or hex text with --hex. Each message prints as one JSON object per line: bigints as
// decimal strings, Buffers as hex. A malformed message stops the run with its offset on
// stderr and a non-zero exit, after the messages that decoded before it.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { decode, OpenFlowError, type OfMessage } from 'openflow-ts';

export interface DecodedStream {
  readonly messages: readonly { readonly offset: number; readonly message: OfMessage }[];
  /** The first fault, if any; decoding stops there. */
  readonly error?: { readonly offset: number; readonly code: string; readonly message: string };
}

/** Splits concatenated messages by their header length and decodes each. */
export function decodeStream(bytes: Buffer): DecodedStream {
  const messages: { offset: number; message: OfMessage }[] = [];
  let off = 0;
  while (off < bytes.length) {
    const fail = (code: string, message: string): DecodedStream => ({ messages, error: { offset: off, code, message } });
    if (bytes.length - off < 8) return fail('OF_ERR_TRUNCATED', `${bytes.length - off} trailing bytes, shorter than a header`);
    const len = bytes.readUInt16BE(off + 2);
    if (len < 8) return fail('OF_ERR_BAD_LENGTH', `length field ${len} is below the 8-byte header`);
    if (off + len > bytes.length) return fail('OF_ERR_TRUNCATED', `length field ${len} runs past the input (${bytes.length - off} bytes left)`);
    try {
      messages.push({ offset: off, message: decode(bytes.subarray(off, off + len)) });
    } catch (e) {
      const err = e instanceof OpenFlowError ? e : new OpenFlowError('OF_ERR_INTERNAL', String(e));
      return fail(err.code, err.message);
    }
    off += len;
  }
  return { messages };
}

/** One message as a JSON line: bigints as decimal strings, binary as hex. */
export function toJsonLine(msg: OfMessage): string {
  return JSON.stringify(msg, function (this: Record<string, unknown>, key: string, value: unknown) {
    const original = this[key];
    if (Buffer.isBuffer(original)) return original.toString('hex');
    if (typeof value === 'bigint') return value.toString();
    return value;
  });
}

export function parseHex(text: string): Buffer {
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) throw new Error('--hex input is not an even number of hex digits');
  return Buffer.from(clean, 'hex');
}

function readInput(file: string | undefined): Buffer {
  // fd 0 reads all of stdin synchronously, pipes and files alike.
  return file === undefined || file === '-' ? readFileSync(0) : readFileSync(file);
}

export function register(program: Command): void {
  program
    .command('decode [file]')
    .description('print OpenFlow 1.3 messages (binary, concatenated; stdin for - or no file) as JSON lines')
    .option('--hex', 'the input is hex text (whitespace ignored) instead of binary')
    .action((file: string | undefined, o: { hex?: boolean }) => {
      const raw = readInput(file);
      const bytes = o.hex ? parseHex(raw.toString('utf8')) : raw;
      const result = decodeStream(bytes);
      for (const { message } of result.messages) process.stdout.write(`${toJsonLine(message)}\n`);
      if (result.error) {
        const { offset, code, message } = result.error;
        process.stderr.write(`meshflow decode: malformed message at offset ${offset} (0x${offset.toString(16)}): ${code}: ${message}\n`);
        process.exitCode = 1;
      }
    });
}
