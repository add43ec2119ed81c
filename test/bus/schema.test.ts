import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { costColumns, costEntries, HINT_KINDS, isStale, linkIdOf, parseLinkId, formatDpid } from '../../bus/hints.ts';
import { parseHint, validateHint, type HintErrorCode } from '../../bus/parse.ts';
import { readFileLog } from '../../bus/eventlog/file.ts';
import { renderSchemaFiles, SCHEMA_DIR, schemaFileName } from '../../bus/schemas/generate.ts';
import { parseTopic, routeOf, topicMatches, topics, patterns, TOPIC_ROOT } from '../../bus/topics.ts';
import { A, B, LINK_AB, bodies, full } from './fixtures.ts';

async function shippedValidator(kind: string) {
  const json = JSON.parse(await readFile(join(SCHEMA_DIR, `${kind}.schema.json`), 'utf8')) as object;
  // A fresh, default Ajv: what a third party would do with the shipped file.
  return new Ajv({ strict: false }).compile(json);
}

describe('bus schemas', () => {
  it('committed schema files equal the generated ones (run bus/schemas/generate.ts)', async () => {
    for (const [name, text] of renderSchemaFiles()) {
      const committed = await readFile(join(SCHEMA_DIR, name), 'utf8');
      assert.equal(committed, text, `${name} is out of date`);
    }
    assert.deepEqual([...renderSchemaFiles().keys()], HINT_KINDS.map(schemaFileName));
  });

  for (const kind of HINT_KINDS) {
    it(`${kind}: valid both ways (parse ↔ JSON) and against the shipped schema`, async () => {
      const hint = full(kind);
      const text = JSON.stringify(hint);
      const parsed = parseHint(Buffer.from(text));
      assert.ok(parsed.ok, JSON.stringify(parsed));
      assert.deepEqual(parsed.hint, hint);
      assert.equal(JSON.stringify(parsed.hint), text);
      const validate = await shippedValidator(kind);
      assert.ok(validate(hint), JSON.stringify(validate.errors));
      // And the shipped schema rejects what we reject.
      assert.equal(validate({ ...hint, ts: -1 }), false);
      assert.equal(parseHint(JSON.stringify({ ...hint, ts: -1 })).ok, false);
    });
  }

  it('accepts replayed hints and optional fields left out', () => {
    assert.ok(parseHint(JSON.stringify(full('event', { replayed: true, originalTs: 5 }))).ok);
    const { host: _h, services: _s, ...bare } = full('sidecar_status') as unknown as Record<string, unknown>;
    assert.ok(parseHint(JSON.stringify(bare)).ok);
    assert.ok(parseHint(JSON.stringify(full('link_state', { utilization: 1.3 }))).ok, 'utilization may exceed 1');
  });

  const bad: Array<[string, string | Buffer, HintErrorCode, string]> = [
    ['not JSON', '{"v":1,', 'HINT_ERR_JSON', ''],
    ['empty', '', 'HINT_ERR_JSON', ''],
    ['array', '[1]', 'HINT_ERR_NOT_OBJECT', ''],
    ['null', 'null', 'HINT_ERR_NOT_OBJECT', ''],
    ['too large', Buffer.alloc(300 * 1024, 0x20), 'HINT_ERR_TOO_LARGE', ''],
    ['version 2', JSON.stringify(full('event', { v: 2 })), 'HINT_ERR_VERSION', '/v'],
    ['no version', JSON.stringify(full('event', { v: undefined })), 'HINT_ERR_VERSION', '/v'],
    ['unknown kind', JSON.stringify(full('event', { kind: 'gossip' })), 'HINT_ERR_KIND', '/kind'],
    ['missing seq', JSON.stringify(full('event', { seq: undefined })), 'HINT_ERR_SCHEMA', '/seq'],
    ['fractional seq', JSON.stringify(full('event', { seq: 1.5 })), 'HINT_ERR_SCHEMA', '/seq'],
    ['empty source', JSON.stringify(full('event', { source: '' })), 'HINT_ERR_SCHEMA', '/source'],
    ['replayed false', JSON.stringify(full('event', { replayed: false })), 'HINT_ERR_SCHEMA', '/replayed'],
    ['unknown field', JSON.stringify(full('event', { colour: 'red' })), 'HINT_ERR_SCHEMA', '/colour'],
    ['bad level', JSON.stringify(full('link_state', { level: 'red' })), 'HINT_ERR_SCHEMA', '/level'],
    ['upper-case dpid', JSON.stringify(full('link_state', { src: { dpid: A.toUpperCase().replace('1', 'A'), port: 2 } })), 'HINT_ERR_SCHEMA', '/src/dpid'],
    ['missing dst port', JSON.stringify(full('link_state', { dst: { dpid: B } })), 'HINT_ERR_SCHEMA', '/dst/port'],
    ['negative rate', JSON.stringify(full('link_state', { rateBps: -1 })), 'HINT_ERR_SCHEMA', '/rateBps'],
    ['linkId vs endpoints', JSON.stringify(full('link_state', { linkId: `${B}:1-${A}:2` })), 'HINT_ERR_MISMATCH', '/linkId'],
    ['link event without link', JSON.stringify(full('event', { event: 'link_down', linkId: undefined })), 'HINT_ERR_SCHEMA', '/linkId'],
    ['switch event without dpid', JSON.stringify(full('event', { event: 'switch_up', linkId: undefined })), 'HINT_ERR_SCHEMA', '/dpid'],
    ['unknown event', JSON.stringify(full('event', { event: 'meteor' })), 'HINT_ERR_SCHEMA', '/event'],
    ['cost hops fractional', JSON.stringify(full('cost_row', { costs: { ...bodies.cost_row.costs, hops: [1.5, 2] } })), 'HINT_ERR_SCHEMA', '/costs/hops/0'],
    ['cost column missing', JSON.stringify(full('cost_row', { costs: { ...bodies.cost_row.costs, worstLevel: undefined } })), 'HINT_ERR_SCHEMA', '/costs/worstLevel'],
    ['cost columns of unequal length', JSON.stringify(full('cost_row', { costs: { ...bodies.cost_row.costs, paths: [1] } })), 'HINT_ERR_MISMATCH', '/costs/paths'],
    ['cost entries as objects (version 1 layout)', JSON.stringify(full('cost_row', { costs: [{ dstPid: 'x', bottleneckUtilization: 0, availableBps: 1, hops: 1, level: 'ok' }] })), 'HINT_ERR_SCHEMA', '/costs'],
    ['cost row version 1', JSON.stringify(full('cost_row', { v: 1, costs: [{ dstPid: 'x', bottleneckUtilization: 0, availableBps: 1, hops: 1, level: 'ok', path: [LINK_AB] }] })), 'HINT_ERR_VERSION', '/v'],
    ['event version 2', JSON.stringify(full('event', { v: 2 })), 'HINT_ERR_VERSION', '/v'],
    ['srcPid with slash', JSON.stringify(full('cost_row', { srcPid: 'a/b' })), 'HINT_ERR_SCHEMA', '/srcPid'],
    ['weight over 1000', JSON.stringify(full('weights', { services: { s: { r: 1001 } } })), 'HINT_ERR_SCHEMA', '/services/s/r'],
    ['bad state', JSON.stringify(full('sidecar_status', { state: 'asleep' })), 'HINT_ERR_SCHEMA', '/state'],
  ];
  for (const [name, payload, code, path] of bad) {
    it(`rejects ${name} with ${code} at '${path}'`, () => {
      const r = parseHint(payload);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.error.code, code, r.error.message);
      assert.equal(r.error.path, path, r.error.message);
      if (path !== '') assert.match(r.error.message, new RegExp(path.replace(/\//g, '\\/')));
    });
  }

  it('checks a hint against the topic it arrived on', () => {
    const link = JSON.stringify(full('link_state'));
    assert.ok(parseHint(link, { topic: topics.link(LINK_AB) }).ok);
    const wrongId = parseHint(link, { topic: topics.link(`${B}:1-${A}:2`) });
    assert.equal(!wrongId.ok && wrongId.error.code, 'HINT_ERR_TOPIC');
    const wrongKind = parseHint(link, { topic: topics.events() });
    assert.equal(!wrongKind.ok && wrongKind.error.code, 'HINT_ERR_TOPIC');
    assert.ok(parseHint(JSON.stringify(full('weights')), { topic: topics.weights('sc-h1') }).ok);
  });

  it('isStale: ts + ttlMs < now', () => {
    const h = { ts: 1000, ttlMs: 500 };
    assert.equal(isStale(h, 1500), false);
    assert.equal(isStale(h, 1501), true);
  });

  it('validateHint refuses non-objects', () => {
    assert.equal(validateHint('x').ok, false);
  });
});

describe('bus topics', () => {
  it('builds and parses every topic', () => {
    assert.equal(TOPIC_ROOT, 'meshflow/v1/');
    assert.equal(topics.link(LINK_AB), `meshflow/v1/links/${LINK_AB}`);
    assert.deepEqual(parseTopic(topics.link(LINK_AB)), { kind: 'link_state', linkId: LINK_AB });
    assert.deepEqual(parseTopic('meshflow/v1/events'), { kind: 'event' });
    assert.deepEqual(parseTopic(topics.costs('edge-s1')), { kind: 'cost_row', srcPid: 'edge-s1' });
    assert.deepEqual(parseTopic(topics.weights('sc')), { kind: 'weights', sidecarId: 'sc' });
    assert.deepEqual(parseTopic(topics.status('sc')), { kind: 'sidecar_status', sidecarId: 'sc' });
    for (const t of ['meshflow/v2/events', 'meshflow/v1/links', 'meshflow/v1/links//', 'meshflow/v1/sidecars/x/other', 'other']) {
      assert.equal(parseTopic(t), undefined, t);
    }
    assert.throws(() => topics.costs('a/b'), RangeError);
    assert.throws(() => topics.weights('+'), RangeError);
  });

  it('routes each kind to its topic with the right retain flag', () => {
    const want = { link_state: true, event: false, cost_row: true, weights: true, sidecar_status: true, controller_status: true };
    for (const kind of HINT_KINDS) {
      const r = routeOf(full(kind));
      assert.equal(r.retain, want[kind], kind);
      assert.equal(parseTopic(r.topic)?.kind, kind);
    }
  });

  it('matches MQTT filters', () => {
    assert.ok(topicMatches(patterns.links, topics.link(LINK_AB)));
    assert.ok(topicMatches('meshflow/v1/#', 'meshflow/v1/events'));
    assert.ok(topicMatches('meshflow/v1/#', 'meshflow/v1'));
    assert.ok(topicMatches(patterns.sidecar('sc'), topics.status('sc')));
    assert.ok(!topicMatches(patterns.links, 'meshflow/v1/links/a/b'));
    assert.ok(!topicMatches(patterns.weights, topics.status('sc')));
    assert.ok(!topicMatches('#', '$SYS/broker'));
  });

  it('linkId helpers', () => {
    assert.equal(formatDpid(1), A);
    assert.equal(formatDpid('0x2'), B);
    assert.equal(linkIdOf({ dpid: '1', port: 2 }, { dpid: '2', port: 1 }), LINK_AB);
    assert.deepEqual(parseLinkId(LINK_AB), { src: { dpid: A, port: 2 }, dst: { dpid: B, port: 1 } });
    assert.equal(parseLinkId('nope'), undefined);
  });
});

describe('hint schema: cost rows', () => {
  it('say why a version 1 row is refused, and entries convert to columns and back', () => {
    const old = parseHint(JSON.stringify(full('cost_row', { v: 1 })));
    assert.equal(!old.ok && old.error.code, 'HINT_ERR_VERSION');
    assert.match(!old.ok ? old.error.message : '', /cost_row version 1 is not spoken here, expected 2/);
    const entries = costEntries(bodies.cost_row.costs);
    assert.equal(entries.length, 2);
    assert.deepEqual(entries[1], {
      dstPid: 'edge-s3',
      hops: 2,
      paths: 2,
      bottleneckUtilization: 0.1,
      availableBps: 9_000_000,
      worstUtilization: 0.7,
      worstAvailableBps: 3_000_000,
      aggregateBps: 12_000_000,
      level: 'ok',
      worstLevel: 'warning',
    });
    assert.deepEqual(costColumns(entries), bodies.cost_row.costs);
  });

  it('are skipped, and counted, when a replay reads a log recorded with version 1 rows', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mf-v1-log-'));
    try {
      const path = join(dir, 'old.jsonl');
      const v1row = full('cost_row', { v: 1, costs: [{ dstPid: 'edge-s2', bottleneckUtilization: 0.9, availableBps: 1e6, hops: 1, level: 'congested', path: [LINK_AB] }] });
      await writeFile(path, [JSON.stringify(v1row), JSON.stringify(full('event')), JSON.stringify(full('cost_row'))].join('\n') + '\n');
      let skipped = 0;
      const hints = await readFileLog(path, {}, () => skipped++);
      assert.deepEqual(hints.map((h) => `${h.kind}/${h.v}`), ['event/1', 'cost_row/2']);
      assert.equal(skipped, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
