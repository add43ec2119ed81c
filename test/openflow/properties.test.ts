// Property tests (fast-check). Arbitraries first: shaped like what decode() returns
// (canonical address text, padded experimenter payloads, no `mask` key when unmasked),
// so decode(encode(m)) must deep-equal m. Then malformed input: decode throws OpenFlowError only.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type {
  Action,
  Bucket,
  Instruction,
  Match,
  MeterBand,
  OfMessage,
  OxmField,
  Port,
  PortStats,
} from 'openflow-ts';
import { decode, encode, OpenFlowError, OF_ERROR_CODES, OXM_BASIC_FIELDS } from 'openflow-ts';
import { formatIpv6, formatMac } from 'openflow-ts/wire';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const xid = u32;
const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
/** Payloads that sit in 8-aligned TLVs after an 8-byte header come back padded, so generate them padded. */
const bytes8 = (maxWords: number) =>
  fc.integer({ min: 0, max: maxWords }).chain((n) => fc.uint8Array({ minLength: 8 * n, maxLength: 8 * n }).map((a) => Buffer.from(a)));

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => formatMac(b, 0));
const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => b.join('.'));
const ipv6 = fc
  .oneof(
    fc.uint8Array({ minLength: 16, maxLength: 16 }),
    // zero runs exercise the '::' compression
    fc.array(fc.constantFrom(0, 0, 0, 1, 0xffff), { minLength: 8, maxLength: 8 }).map((gs) => {
      const b = new Uint8Array(16);
      gs.forEach((g, i) => ((b[2 * i] = g >> 8), (b[2 * i + 1] = g & 0xff)));
      return b;
    }),
  )
  .map((b) => formatIpv6(b, 0));

function valueArb(kind: string, size: number): fc.Arbitrary<number | bigint | string> {
  switch (kind) {
    case 'u64':
      return u64;
    case 'mac':
      return mac;
    case 'ipv4':
      return ipv4;
    case 'ipv6':
      return ipv6;
    default:
      return fc.integer({ min: 0, max: 2 ** (8 * size) - 1 });
  }
}

const basicOxm: fc.Arbitrary<OxmField> = fc.constantFrom(...OXM_BASIC_FIELDS).chain(([name, size, kind]) =>
  fc
    .tuple(valueArb(kind, size), fc.option(valueArb(kind, size), { nil: undefined }))
    .map(([value, mask]) => (mask === undefined ? { field: name, value } : { field: name, value, mask }) as OxmField),
);

const experimenterOxm: fc.Arbitrary<OxmField> = fc.record({
  field: fc.constant('experimenter' as const),
  oxmClass: fc.constant(0xffff),
  fieldCode: fc.integer({ min: 0, max: 127 }),
  hasMask: fc.boolean(),
  experimenter: u32,
  data: bytes(12),
});

const unknownOxm: fc.Arbitrary<OxmField> = fc.oneof(
  fc.record({
    field: fc.constant('unknown' as const),
    oxmClass: fc.constantFrom(0x0000, 0x0001, 0x8001),
    fieldCode: fc.integer({ min: 0, max: 127 }),
    hasMask: fc.boolean(),
    data: bytes(16),
  }),
  // basic class, but a field code newer than 1.3.5
  fc.record({
    field: fc.constant('unknown' as const),
    oxmClass: fc.constant(0x8000),
    fieldCode: fc.integer({ min: OXM_BASIC_FIELDS.length, max: 127 }),
    hasMask: fc.boolean(),
    data: bytes(16),
  }),
);

const oxm: fc.Arbitrary<OxmField> = fc.oneof({ weight: 8, arbitrary: basicOxm }, { weight: 1, arbitrary: experimenterOxm }, { weight: 1, arbitrary: unknownOxm });
const match: fc.Arbitrary<Match> = fc.array(oxm, { maxLength: 6 });

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ type: fc.constant('output' as const), port: u32, maxLen: u16 }),
  fc.constantFrom<Action>(
    { type: 'copy_ttl_out' },
    { type: 'copy_ttl_in' },
    { type: 'dec_mpls_ttl' },
    { type: 'pop_vlan' },
    { type: 'dec_nw_ttl' },
    { type: 'pop_pbb' },
  ),
  fc.record({ type: fc.constant('set_mpls_ttl' as const), mplsTtl: u8 }),
  fc.record({ type: fc.constantFrom('push_vlan' as const, 'push_mpls' as const, 'pop_mpls' as const, 'push_pbb' as const), ethertype: u16 }),
  fc.record({ type: fc.constant('set_queue' as const), queueId: u32 }),
  fc.record({ type: fc.constant('group' as const), groupId: u32 }),
  fc.record({ type: fc.constant('set_nw_ttl' as const), nwTtl: u8 }),
  fc.record({ type: fc.constant('set_field' as const), field: oxm }),
  fc.record({ type: fc.constant('experimenter' as const), experimenter: u32, data: bytes8(3) }),
);
const actions = fc.array(action, { maxLength: 5 });

const instruction: fc.Arbitrary<Instruction> = fc.oneof(
  fc.record({ type: fc.constant('goto_table' as const), tableId: u8 }),
  fc.record({ type: fc.constant('write_metadata' as const), metadata: u64, metadataMask: u64 }),
  fc.record({ type: fc.constantFrom('write_actions' as const, 'apply_actions' as const, 'clear_actions' as const), actions }),
  fc.record({ type: fc.constant('meter' as const), meterId: u32 }),
  fc.record({ type: fc.constant('experimenter' as const), experimenter: u32, data: bytes8(3) }),
);

const portName = fc.stringMatching(/^[a-z0-9-]{0,15}$/);
const port: fc.Arbitrary<Port> = fc.record({
  portNo: u32,
  hwAddr: mac,
  name: portName,
  config: u32,
  state: u32,
  curr: u32,
  advertised: u32,
  supported: u32,
  peer: u32,
  currSpeed: u32,
  maxSpeed: u32,
});

const portStats: fc.Arbitrary<PortStats> = fc.record({
  portNo: u32,
  rxPackets: u64,
  txPackets: u64,
  rxBytes: u64,
  txBytes: u64,
  rxDropped: u64,
  txDropped: u64,
  rxErrors: u64,
  txErrors: u64,
  rxFrameErr: u64,
  rxOverErr: u64,
  rxCrcErr: u64,
  collisions: u64,
  durationSec: u32,
  durationNsec: u32,
});

const bucket: fc.Arbitrary<Bucket> = fc.record({ weight: u16, watchPort: u32, watchGroup: u32, actions });
const band: fc.Arbitrary<MeterBand> = fc.oneof(
  fc.record({ type: fc.constant('drop' as const), rate: u32, burstSize: u32 }),
  fc.record({ type: fc.constant('dscp_remark' as const), rate: u32, burstSize: u32, precLevel: u8 }),
  fc.record({ type: fc.constant('experimenter' as const), rate: u32, burstSize: u32, experimenter: u32, data: bytes(8) }),
);
const pair = fc.tuple(u32, u32);

const message: fc.Arbitrary<OfMessage> = fc.oneof(
  fc.record({
    type: fc.constant('hello' as const),
    xid,
    elements: fc.array(
      fc.oneof(
        fc.uniqueArray(fc.integer({ min: 0, max: 95 }), { maxLength: 6 }).map((v) => ({ type: 'versionbitmap' as const, versions: v.sort((a, b) => a - b) })),
        fc.record({ type: fc.constant('unknown' as const), elementType: fc.integer({ min: 2, max: 0xffff }), data: bytes(12) }),
      ),
      { maxLength: 3 },
    ),
  }),
  fc.oneof(
    fc.record({ type: fc.constant('error' as const), xid, errorType: fc.integer({ min: 0, max: 0xfffe }), code: u16, data: bytes(64) }),
    fc.record({ type: fc.constant('error' as const), xid, errorType: fc.constant(0xffff), code: u16, experimenter: u32, data: bytes(64) }),
  ),
  fc.record({ type: fc.constantFrom('echo_request' as const, 'echo_reply' as const), xid, data: bytes(64) }),
  fc.record({ type: fc.constant('experimenter' as const), xid, experimenter: u32, expType: u32, data: bytes(32) }),
  fc.record({
    type: fc.constantFrom(
      'features_request' as const,
      'get_config_request' as const,
      'barrier_request' as const,
      'barrier_reply' as const,
      'get_async_request' as const,
    ),
    xid,
  }),
  fc.record({ type: fc.constant('features_reply' as const), xid, datapathId: u64, nBuffers: u32, nTables: u8, auxiliaryId: u8, capabilities: u32 }),
  fc.record({ type: fc.constantFrom('get_config_reply' as const, 'set_config' as const), xid, flags: u16, missSendLen: u16 }),
  fc.record({ type: fc.constant('packet_in' as const), xid, bufferId: u32, totalLen: u16, reason: u8, tableId: u8, cookie: u64, match, data: bytes(128) }),
  fc.record({
    type: fc.constant('flow_removed' as const),
    xid,
    cookie: u64,
    priority: u16,
    reason: u8,
    tableId: u8,
    durationSec: u32,
    durationNsec: u32,
    idleTimeout: u16,
    hardTimeout: u16,
    packetCount: u64,
    byteCount: u64,
    match,
  }),
  fc.record({ type: fc.constant('port_status' as const), xid, reason: u8, port }),
  fc.record({ type: fc.constant('packet_out' as const), xid, bufferId: u32, inPort: u32, actions, data: bytes(64) }),
  fc.record({
    type: fc.constant('flow_mod' as const),
    xid,
    cookie: u64,
    cookieMask: u64,
    tableId: u8,
    command: u8,
    idleTimeout: u16,
    hardTimeout: u16,
    priority: u16,
    bufferId: u32,
    outPort: u32,
    outGroup: u32,
    flags: u16,
    match,
    instructions: fc.array(instruction, { maxLength: 4 }),
  }),
  fc.record({ type: fc.constant('group_mod' as const), xid, command: u16, groupType: u8, groupId: u32, buckets: fc.array(bucket, { maxLength: 4 }) }),
  fc.record({ type: fc.constant('port_mod' as const), xid, portNo: u32, hwAddr: mac, config: u32, mask: u32, advertise: u32 }),
  fc.record({ type: fc.constant('table_mod' as const), xid, tableId: u8, config: u32 }),
  fc.record({
    type: fc.constant('multipart_request' as const),
    xid,
    flags: u16,
    body: fc.oneof(
      fc.record({ kind: fc.constant('port_stats' as const), portNo: u32 }),
      fc.record({ kind: fc.constant('port_desc' as const) }),
      fc.record({ kind: fc.constantFrom('flow' as const, 'aggregate' as const), tableId: u8, outPort: u32, outGroup: u32, cookie: u64, cookieMask: u64, match }),
      fc.record({ kind: fc.constant('experimenter' as const), experimenter: u32, expType: u32, data: bytes(16) }),
      fc.record({ kind: fc.constant('unknown' as const), mpType: fc.integer({ min: 14, max: 0xfffe }), data: bytes(16) }),
    ),
  }),
  fc.record({
    type: fc.constant('multipart_reply' as const),
    xid,
    flags: u16,
    body: fc.oneof(
      fc.record({ kind: fc.constant('port_stats' as const), stats: fc.array(portStats, { maxLength: 5 }) }),
      fc.record({ kind: fc.constant('port_desc' as const), ports: fc.array(port, { maxLength: 5 }) }),
      fc.record({
        kind: fc.constant('flow' as const),
        stats: fc.array(
          fc.record({
            tableId: u8,
            durationSec: u32,
            durationNsec: u32,
            priority: u16,
            idleTimeout: u16,
            hardTimeout: u16,
            flags: u16,
            cookie: u64,
            packetCount: u64,
            byteCount: u64,
            match,
            instructions: fc.array(instruction, { maxLength: 3 }),
          }),
          { maxLength: 3 },
        ),
      }),
      fc.record({ kind: fc.constant('group_desc' as const), groups: fc.array(fc.record({ groupType: u8, groupId: u32, buckets: fc.array(bucket, { maxLength: 3 }) }), { maxLength: 3 }) }),
    ),
  }),
  fc.record({ type: fc.constant('queue_get_config_request' as const), xid, port: u32 }),
  fc.record({
    type: fc.constant('queue_get_config_reply' as const),
    xid,
    port: u32,
    queues: fc.array(
      fc.record({
        queueId: u32,
        port: u32,
        properties: fc.array(
          fc.oneof(
            fc.record({ type: fc.constantFrom('min_rate' as const, 'max_rate' as const), rate: u16 }),
            fc.record({ type: fc.constant('experimenter' as const), experimenter: u32, data: bytes(8) }),
          ),
          { maxLength: 3 },
        ),
      }),
      { maxLength: 3 },
    ),
  }),
  fc.record({ type: fc.constantFrom('role_request' as const, 'role_reply' as const), xid, role: u32, generationId: u64 }),
  fc.record({ type: fc.constantFrom('get_async_reply' as const, 'set_async' as const), xid, packetInMask: pair, portStatusMask: pair, flowRemovedMask: pair }),
  fc.record({ type: fc.constant('meter_mod' as const), xid, command: u16, flags: u16, meterId: u32, bands: fc.array(band, { maxLength: 4 }) }),
);

// ---- properties ------------------------------------------------------------------------

const RUNS = 2000;

/** fast-check 4 builds records with a null prototype; rebuild them as plain objects for deepStrictEqual. */
function plain<T>(v: T): T {
  if (Array.isArray(v)) return v.map(plain) as T;
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) as T;
}

/** decode() either succeeds or throws an OpenFlowError carrying one of the codec's codes. */
function decodesOrThrowsCoded(frame: Buffer): void {
  try {
    decode(frame);
  } catch (e) {
    assert.ok(e instanceof OpenFlowError, `threw ${String(e)} instead of OpenFlowError`);
    assert.ok((OF_ERROR_CODES as readonly string[]).includes(e.code), `unknown code ${e.code}`);
    assert.notEqual(e.code, 'OF_ERR_INTERNAL', `safety net hit: ${e.message}`);
  }
}

/** Sets the header's length field to the frame's size so the header check passes and inner checks are reached. */
function withHeaderLength(frame: Buffer): Buffer {
  const copy = Buffer.from(frame);
  if (copy.length >= 4) copy.writeUInt16BE(copy.length, 2);
  return copy;
}

describe('openflow: properties', () => {
  it('decode(encode(m)) deep-equals m for generated messages', () => {
    fc.assert(
      fc.property(message, (m) => {
        const bytes = encode(m);
        assert.equal(bytes.readUInt16BE(2), bytes.length, 'header length is the buffer length');
        assert.deepStrictEqual(decode(bytes), plain(m));
      }),
      { numRuns: RUNS },
    );
  });

  it('encode(decode(b)) gives back b for encoded messages', () => {
    fc.assert(
      fc.property(message, (m) => {
        const bytes = encode(m);
        assert.deepStrictEqual(encode(decode(bytes)), bytes);
      }),
      { numRuns: RUNS / 4 },
    );
  });

  it('a truncated message throws OpenFlowError (header length left as sent)', () => {
    fc.assert(
      fc.property(message, fc.nat(), (m, cut) => {
        const bytes = encode(m);
        const frame = bytes.subarray(0, cut % bytes.length);
        assert.throws(() => decode(frame), (e: unknown) => e instanceof OpenFlowError && e.code === 'OF_ERR_BAD_LENGTH');
      }),
      { numRuns: RUNS },
    );
  });

  it('a truncated message with a consistent header decodes or throws OpenFlowError', () => {
    fc.assert(
      fc.property(message, fc.nat(), (m, cut) => {
        const bytes = encode(m);
        decodesOrThrowsCoded(withHeaderLength(bytes.subarray(0, 8 + (cut % Math.max(1, bytes.length - 8)))));
      }),
      { numRuns: RUNS },
    );
  });

  it('a corrupted header length field throws OF_ERR_BAD_LENGTH', () => {
    fc.assert(
      fc.property(message, u16, (m, len) => {
        const bytes = Buffer.from(encode(m));
        fc.pre(len !== bytes.length);
        bytes.writeUInt16BE(len, 2);
        assert.throws(() => decode(bytes), (e: unknown) => e instanceof OpenFlowError && e.code === 'OF_ERR_BAD_LENGTH');
      }),
      { numRuns: RUNS },
    );
  });

  it('corrupted inner bytes (lengths, types, counts) decode or throw OpenFlowError', () => {
    fc.assert(
      fc.property(message, fc.array(fc.tuple(fc.nat(), u8), { minLength: 1, maxLength: 4 }), (m, edits) => {
        const bytes = Buffer.from(encode(m));
        for (const [at, v] of edits) if (bytes.length > 8) bytes[8 + (at % (bytes.length - 8))] = v;
        decodesOrThrowsCoded(bytes);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('random bytes behind a valid-looking header decode or throw OpenFlowError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.uint8Array({ maxLength: 300 }), (type, body) => {
        const frame = Buffer.alloc(8 + body.length);
        frame[0] = 4;
        frame[1] = type;
        frame.writeUInt16BE(frame.length, 2);
        frame.set(body, 8);
        decodesOrThrowsCoded(frame);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('entirely random bytes throw OpenFlowError or decode', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => decodesOrThrowsCoded(Buffer.from(b))),
      { numRuns: RUNS },
    );
  });
});
