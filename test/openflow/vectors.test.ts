// Ryu's OpenFlow 1.3 vectors, both ways: for each N-name.packet, decode succeeds, the
// decoded value deep-equals what N-name.packet.json describes, and re-encoding gives the
// same bytes. The vectors live outside the project (../shared/testdata/openflow13) and
// are never copied in; without them this suite says so with a pending test.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode, encode } from 'openflow-ts';
import { messageFromRyu, parseRyuJson } from './ryu-json.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const vectorsDir = path.resolve(repoRoot, '..', 'shared', 'testdata', 'openflow13');

describe('openflow: Ryu OpenFlow 1.3 vectors', () => {
  if (!existsSync(vectorsDir)) {
    it(`vectors folder missing: ${vectorsDir}`);
    return;
  }
  const packets = readdirSync(vectorsDir)
    .filter((f) => f.endsWith('.packet'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  it('finds vectors', () => assert.ok(packets.length > 0, `no .packet files in ${vectorsDir}`));
  for (const name of packets) {
    it(name, () => {
      const bytes = readFileSync(path.join(vectorsDir, name));
      const msg = decode(bytes);
      const expected = messageFromRyu(parseRyuJson(readFileSync(path.join(vectorsDir, `${name}.json`), 'utf8')), bytes.readUInt32BE(4));
      assert.deepStrictEqual(msg, expected);
      assert.deepStrictEqual(encode(msg), bytes);
      assert.deepStrictEqual(encode(expected), bytes);
    });
  }
});
