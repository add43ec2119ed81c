// Fuzzing the OpenFlow codec (not part of CI): a million random, truncated and mutated inputs
// through decode() and the stream framer. Every input must end as a decode or an OpenFlowError
// with a codec code; anything else (another exception type, or OF_ERR_INTERNAL, which is the
// codec's wrapper for an exception it did not expect) is a bug and is counted and shown.
// Decoded inputs are also re-encoded, and the re-encoding decoded again, which must give the
// same value.
// Run: node --import tsx bench/fuzz-openflow.ts [--n 1000000] [--seed 1]   (npm run bench:fuzz)
import { isDeepStrictEqual } from 'node:util';
import { decode, encode, FrameReader, OpenFlowError } from 'openflow-ts';
import { fixtureIndex, loadFixture } from '../packages/openflow-ts/test/support/fixture-json.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const N = arg('n', 1_000_000);
let seed = arg('seed', 1) >>> 0;

// xorshift32: reproducible from --seed.
function rand(): number {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed;
}
const below = (n: number): number => rand() % n;

const seeds = fixtureIndex().map((e) => loadFixture(e).bytes);

/** Makes the header's length field agree with the buffer, as a framer would have cut it. */
function fixLength(b: Buffer): Buffer {
  if (b.length >= 4) b.writeUInt16BE(Math.min(b.length, 0xffff), 2);
  return b;
}

function randomInput(): Buffer {
  const b = Buffer.allocUnsafe(below(160));
  for (let i = 0; i < b.length; i++) b[i] = below(256);
  // Half of them look like OpenFlow 1.3 headers, so they get past the header checks.
  if (b.length >= 8 && below(2) === 0) {
    b[0] = 4;
    b[1] = below(32);
    fixLength(b);
  }
  return b;
}

function truncatedInput(): Buffer {
  const s = seeds[below(seeds.length)]!;
  const b = Buffer.from(s.subarray(0, below(s.length)));
  return below(2) === 0 ? fixLength(b) : b;
}

function mutatedInput(): Buffer {
  let b = Buffer.from(seeds[below(seeds.length)]!);
  const edits = 1 + below(8);
  for (let e = 0; e < edits; e++) {
    const at = below(Math.max(b.length, 1));
    switch (below(5)) {
      case 0: // flip a bit
        if (b.length > 0) b[at] = b[at]! ^ (1 << below(8));
        break;
      case 1: // a random byte
        if (b.length > 0) b[at] = below(256);
        break;
      case 2: // an interesting 16-bit value (lengths, types live in u16s)
        if (b.length > at + 1) b.writeUInt16BE([0, 1, 4, 7, 8, 0xffff, 0xfff8, b.length][below(8)]! & 0xffff, at);
        break;
      case 3: // insert bytes
        b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + below(8) }, () => below(256))), b.subarray(at)]);
        break;
      default: // delete bytes
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + below(8))]);
    }
  }
  // Most keep a consistent header length, so the fuzzing reaches the bodies.
  return below(8) === 0 ? b : fixLength(b);
}

const counts = { decoded: 0, typedErrors: 0, other: 0, internal: 0, reencoded: 0, reencodeErrors: 0, unstable: 0 };
const byKind = { random: 0, truncated: 0, mutated: 0 };
const errorCodes = new Map<string, number>();
const examples: string[] = [];
const refusals: string[] = [];

function note(kind: string, input: Buffer, e: unknown): void {
  if (examples.length < 5) examples.push(`${kind}: ${input.toString('hex').slice(0, 120)} → ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
}

function check(input: Buffer): void {
  let msg;
  try {
    msg = decode(input);
  } catch (e) {
    if (e instanceof OpenFlowError && e.code !== 'OF_ERR_INTERNAL') {
      counts.typedErrors++;
      errorCodes.set(e.code, (errorCodes.get(e.code) ?? 0) + 1);
    } else if (e instanceof OpenFlowError) {
      counts.internal++;
      note('internal', input, e.cause ?? e);
    } else {
      counts.other++;
      note('other', input, e);
    }
    return;
  }
  counts.decoded++;
  try {
    const again = encode(msg);
    counts.reencoded++;
    if (!isDeepStrictEqual(decode(again), msg)) {
      counts.unstable++;
      note('unstable', input, 'decode(encode(m)) differs from m');
    }
  } catch (e) {
    if (e instanceof OpenFlowError && e.code !== 'OF_ERR_INTERNAL') {
      counts.reencodeErrors++;
      if (refusals.length < 3) refusals.push(e.message);
    }
    else {
      counts.other++;
      note('re-encode', input, e);
    }
  }
}

const framer = { frames: 0, typedErrors: 0, other: 0 };
/** Feeds a stream of inputs in random chunks; a framing error ends that connection, as a session would. */
function checkFramer(inputs: readonly Buffer[]): void {
  const stream = Buffer.concat(inputs);
  let reader = new FrameReader();
  for (let off = 0; off < stream.length; ) {
    const n = 1 + below(200);
    try {
      for (const f of reader.push(stream.subarray(off, off + n))) {
        framer.frames++;
        check(f);
      }
    } catch (e) {
      if (e instanceof OpenFlowError) framer.typedErrors++;
      else {
        framer.other++;
        note('framer', stream.subarray(off, off + n), e);
      }
      reader = new FrameReader();
    }
    off += n;
  }
}

const started = process.hrtime.bigint();
const batch: Buffer[] = [];
for (let i = 0; i < N; i++) {
  const pick = below(3);
  const input = pick === 0 ? randomInput() : pick === 1 ? truncatedInput() : mutatedInput();
  byKind[pick === 0 ? 'random' : pick === 1 ? 'truncated' : 'mutated']++;
  check(input);
  // One input in ten also goes through the framer, in streams of 20.
  if (i % 10 === 0) {
    batch.push(input);
    if (batch.length === 20) checkFramer(batch.splice(0));
  }
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;

console.log(`openflow fuzz: ${N} inputs (random ${byKind.random}, truncated ${byKind.truncated}, mutated ${byKind.mutated}) from ${seeds.length} fixtures, seed ${arg('seed', 1)}, ${seconds.toFixed(1)} s`);
console.log(`  decode() calls ${counts.decoded + counts.typedErrors + counts.other + counts.internal} (every input, plus the frames the framer cut)`);
console.log(`  decoded        ${counts.decoded}`);
console.log(`  typed errors   ${counts.typedErrors}  (${[...errorCodes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ')})`);
console.log(`  anything else  ${counts.other + counts.internal}  (other exceptions ${counts.other}, OF_ERR_INTERNAL ${counts.internal})`);
console.log(`  re-encoded     ${counts.reencoded} of ${counts.decoded} decodes (${counts.reencodeErrors} refused with OF_ERR_ENCODE), unstable round trips ${counts.unstable}`);
console.log(`  framer         ${framer.frames} frames (also decoded above), ${framer.typedErrors} typed errors, ${framer.other} other`);
for (const e of examples) console.log(`  example ${e}`);
// A decode is lossy where the wire holds what the value type cannot say (e.g. a name that is not UTF-8): re-encoding then refuses.
for (const r of refusals) console.log(`  refused re-encode: ${r}`);
process.exitCode = counts.other + counts.internal + framer.other + counts.unstable === 0 ? 0 : 1;
