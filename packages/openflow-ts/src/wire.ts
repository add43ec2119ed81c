// Cursor helpers over a Buffer. Every read is checked against the cursor's current limit
// (`end`), so a structure that claims more bytes than its container holds throws
// OF_ERR_TRUNCATED instead of reading the neighbour's bytes or raising a RangeError.
// Decoders narrow `end` to a structure's own declared length while they read it.
import { encodeError, truncated } from './errors.ts';

export class Reader {
  buf: Buffer;
  pos: number;
  end: number;

  constructor(buf: Buffer, pos: number, end: number) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** Throws unless n more bytes lie before the limit. */
  need(n: number, what: string): void {
    if (this.pos + n > this.end) throw truncated(`${what} needs ${n} bytes, ${this.end - this.pos} left`);
  }

  u8(): number {
    if (this.pos + 1 > this.end) throw truncated('u8');
    return this.buf[this.pos++]!;
  }

  u16(): number {
    const p = this.pos;
    if (p + 2 > this.end) throw truncated('u16');
    this.pos = p + 2;
    return (this.buf[p]! << 8) | this.buf[p + 1]!;
  }

  u32(): number {
    const p = this.pos;
    if (p + 4 > this.end) throw truncated('u32');
    this.pos = p + 4;
    return this.buf.readUInt32BE(p);
  }

  u64(): bigint {
    const p = this.pos;
    if (p + 8 > this.end) throw truncated('u64');
    this.pos = p + 8;
    return this.buf.readBigUInt64BE(p);
  }

  skip(n: number): void {
    if (this.pos + n > this.end) throw truncated(`padding of ${n}`);
    this.pos += n;
  }

  /** A view (not a copy) of the next n bytes. */
  bytes(n: number): Buffer {
    const p = this.pos;
    if (n < 0 || p + n > this.end) throw truncated(`${n} bytes`);
    this.pos = p + n;
    return this.buf.subarray(p, p + n);
  }

  /** Everything up to the current limit, as a view. */
  rest(): Buffer {
    const p = this.pos;
    this.pos = this.end;
    return this.buf.subarray(p, this.end);
  }

  remaining(): number {
    return this.end - this.pos;
  }

  /** A NUL-terminated string in a fixed-size field (port names, descriptions). */
  fixedString(size: number): string {
    const p = this.pos;
    if (p + size > this.end) throw truncated(`string of ${size}`);
    this.pos = p + size;
    let z = p;
    const stop = p + size;
    while (z < stop && this.buf[z] !== 0) z++;
    return this.buf.toString('utf8', p, z);
  }

  mac(): string {
    const p = this.pos;
    if (p + 6 > this.end) throw truncated('mac');
    this.pos = p + 6;
    return formatMac(this.buf, p);
  }

  ipv4(): string {
    const p = this.pos;
    if (p + 4 > this.end) throw truncated('ipv4');
    this.pos = p + 4;
    const b = this.buf;
    return `${b[p]}.${b[p + 1]}.${b[p + 2]}.${b[p + 3]}`;
  }

  ipv6(): string {
    const p = this.pos;
    if (p + 16 > this.end) throw truncated('ipv6');
    this.pos = p + 16;
    return formatIpv6(this.buf, p);
  }
}

/** Writes into a buffer that was allocated at its final size; the encoder computed it. */
export class Writer {
  buf: Buffer;
  pos: number;

  constructor(buf: Buffer, pos = 0) {
    this.buf = buf;
    this.pos = pos;
  }

  // Direct byte stores with an explicit range check: faster than Buffer#writeUInt*BE and
  // still refuses values that do not fit (reported by encode() as OF_ERR_ENCODE).
  u8(v: number): void {
    if ((v & 0xff) !== v) throw encodeError(`${v} does not fit 8 bits`);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    if ((v & 0xffff) !== v) throw encodeError(`${v} does not fit 16 bits`);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 8;
    b[p + 1] = v & 0xff;
    this.pos = p + 2;
  }

  u32(v: number): void {
    if (v >>> 0 !== v) throw encodeError(`${v} does not fit 32 bits`);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 24;
    b[p + 1] = (v >>> 16) & 0xff;
    b[p + 2] = (v >>> 8) & 0xff;
    b[p + 3] = v & 0xff;
    this.pos = p + 4;
  }

  u64(v: bigint): void {
    // Most 64-bit fields are 0 (cookie masks, counters in requests): the buffer is already zero.
    if (v === 0n) {
      this.pos += 8;
      return;
    }
    if (typeof v !== 'bigint' || v < 0n || v > 0xffffffffffffffffn) throw encodeError(`${String(v)} is not a u64 bigint`);
    if (v <= 0xffffffffn) {
      this.pos += 4;
      this.u32(Number(v));
      return;
    }
    this.buf.writeBigUInt64BE(v, this.pos);
    this.pos += 8;
  }

  /** Padding: the buffer is zero-filled at allocation, so padding only moves the cursor. */
  pad(n: number): void {
    this.pos += n;
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  fixedString(s: string, size: number): void {
    const n = Buffer.byteLength(s, 'utf8');
    if (n > size) throw encodeError(`string "${s}" is ${n} bytes, field holds ${size}`);
    this.buf.write(s, this.pos, size, 'utf8');
    this.pos += size;
  }

  mac(s: string): void {
    writeMac(this.buf, this.pos, s);
    this.pos += 6;
  }

  ipv4(s: string): void {
    writeIpv4(this.buf, this.pos, s);
    this.pos += 4;
  }

  ipv6(s: string): void {
    writeIpv6(this.buf, this.pos, s);
    this.pos += 16;
  }
}

/** A zero-filled buffer of exactly n bytes, from Node's pool when small (cheaper than Buffer.alloc). */
export function allocZeroed(n: number): Buffer {
  return Buffer.allocUnsafe(n).fill(0);
}

export const pad8 = (n: number): number => (n + 7) & ~7;

// ---- addresses ----------------------------------------------------------------------

const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function formatMac(b: Uint8Array, p: number): string {
  return `${HEX2[b[p]!]}:${HEX2[b[p + 1]!]}:${HEX2[b[p + 2]!]}:${HEX2[b[p + 3]!]}:${HEX2[b[p + 4]!]}:${HEX2[b[p + 5]!]}`;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** 'aa:bb:cc:dd:ee:ff' (also '-' separated) into 6 bytes at p. */
export function writeMac(b: Buffer, p: number, s: string): void {
  if (typeof s !== 'string' || s.length !== 17) throw encodeError(`MAC address ${String(s)}`);
  for (let i = 0; i < 6; i++) {
    const hi = hexDigit(s.charCodeAt(i * 3));
    const lo = hexDigit(s.charCodeAt(i * 3 + 1));
    if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] !== ':' && s[i * 3 + 2] !== '-')) throw encodeError(`MAC address ${s}`);
    b[p + i] = (hi << 4) | lo;
  }
}

export function writeIpv4(b: Buffer, p: number, s: string): void {
  if (typeof s !== 'string') throw encodeError(`IPv4 address ${String(s)}`);
  let part = 0;
  let val = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i === s.length ? 46 : s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 3) throw encodeError(`IPv4 address ${s}`);
      b[p + part++] = val;
      val = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      val = val * 10 + (c - 48);
      digits++;
      if (val > 255) throw encodeError(`IPv4 address ${s}`);
    } else throw encodeError(`IPv4 address ${s}`);
  }
  if (part !== 4) throw encodeError(`IPv4 address ${s}`);
}

/** RFC 5952 canonical text: lower case, no leading zeros, the longest run (>= 2) of zero groups as '::'. */
export function formatIpv6(b: Uint8Array, p: number): string {
  const g: number[] = new Array<number>(8);
  for (let i = 0; i < 8; i++) g[i] = (b[p + 2 * i]! << 8) | b[p + 2 * i + 1]!;
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += g[i]!.toString(16);
  }
  return out;
}

/** Parses any RFC 4291 text form (with '::' and an optional dotted IPv4 tail). */
export function writeIpv6(b: Buffer, p: number, s: string): void {
  if (typeof s !== 'string') throw encodeError(`IPv6 address ${String(s)}`);
  const bad = (): never => {
    throw encodeError(`IPv6 address ${s}`);
  };
  const halves = s.split('::');
  if (halves.length > 2) bad();
  const parse = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (i === pieces.length - 1 && piece.includes('.')) {
        const tmp = Buffer.alloc(4);
        writeIpv4(tmp, 0, piece);
        out.push((tmp[0]! << 8) | tmp[1]!, (tmp[2]! << 8) | tmp[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) bad();
        out.push(parseInt(piece, 16));
      }
    }
    return out;
  };
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const groups = halves.length === 2 ? head.length + tail.length : head.length;
  if (halves.length === 2 ? groups > 7 : groups !== 8) bad();
  const all = [...head, ...new Array<number>(8 - groups).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    b[p + 2 * i] = all[i]! >> 8;
    b[p + 2 * i + 1] = all[i]! & 0xff;
  }
}
