// Signed hints: keys on disk, the wire format, verification and its refusals, and the
// publisher and parser that use them.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HintPublisher, type PublishClient } from '../../bus/publisher.ts';
import { parseHint, validateHint } from '../../bus/parse.ts';
import {
  DirectoryTrust,
  HintSigner,
  KeyFileError,
  loadOrCreateSigner,
  parseTrustSpec,
  StaticTrust,
  trustFrom,
  verifyPayload,
} from '../../bus/signing.ts';
import { topics } from '../../bus/topics.ts';
import { costColumns } from '../../bus/hints.ts';

const ROW_TOPIC = topics.costs('0000000000000001');
const rowBody = { kind: 'cost_row' as const, srcPid: '0000000000000001', costs: costColumns([]) };

function signerOf(keyId: string): { signer: HintSigner; trust: StaticTrust } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { signer: new HintSigner(keyId, privateKey), trust: new StaticTrust([[keyId, publicKey]]) };
}

/** A publisher that keeps what it would have sent. */
function capture(signer?: HintSigner): { pub: HintPublisher; sent: { topic: string; payload: string; retain: boolean }[] } {
  const sent: { topic: string; payload: string; retain: boolean }[] = [];
  const client: PublishClient = {
    publishAsync: async (topic: string, message: string | Buffer, opts?: { retain?: boolean }) => {
      sent.push({ topic, payload: String(message), retain: opts?.retain === true });
      return undefined;
    },
  } as PublishClient;
  return { pub: new HintPublisher(client, { source: 'controller-1', ...(signer ? { signer } : {}) }), sent };
}

describe('hint signing', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'meshflow-keys-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  describe('keys on disk', () => {
    it('creates a key pair on first use with owner-only permissions, and loads the same key after', async () => {
      const keys = join(dir, 'keys');
      const first = await loadOrCreateSigner(keys, 'controller');
      assert.equal(first.created, true);
      assert.equal((await stat(keys)).mode & 0o777, 0o700);
      assert.equal((await stat(first.files.key)).mode & 0o777, 0o600);
      assert.equal((await stat(first.files.pub)).isFile(), true);
      const again = await loadOrCreateSigner(keys, 'controller');
      assert.equal(again.created, false);
      const trust = await new DirectoryTrust(keys).load();
      const payload = JSON.stringify(again.signer.signHint(ROW_TOPIC, { a: 1 }));
      assert.deepEqual(verifyPayload(ROW_TOPIC, payload, trust), { ok: true, keyId: 'controller' });
    });

    it('refuses a private key that others can read, naming the file and the fix', async () => {
      const { files } = await loadOrCreateSigner(dir, 'bridge');
      await chmod(files.key, 0o644);
      await assert.rejects(loadOrCreateSigner(dir, 'bridge'), (e: unknown) => e instanceof KeyFileError && e.message.includes(files.key) && /chmod 600/.test(e.message));
    });

    it('refuses key ids that are not one plain file name', async () => {
      await assert.rejects(loadOrCreateSigner(dir, '../evil'), KeyFileError);
      await assert.rejects(loadOrCreateSigner(dir, 'a/b'), KeyFileError);
    });

    it('takes --trust-… specs as <id>=<file>, and names a bad one', async () => {
      const { files } = await loadOrCreateSigner(dir, 'c1');
      assert.deepEqual(parseTrustSpec(`c1=${files.pub}`), { keyId: 'c1', file: files.pub });
      assert.throws(() => parseTrustSpec('c1'), /expected <id>=<public key file>/);
      assert.throws(() => parseTrustSpec(`bad id=${files.pub}`), KeyFileError);
      const trust = await trustFrom({ specs: [`c1=${files.pub}`] });
      assert.deepEqual(trust.ids(), ['c1']);
      await writeFile(join(dir, 'junk.pem'), 'not a key');
      await assert.rejects(trustFrom({ specs: [`x=${join(dir, 'junk.pem')}`] }), (e: unknown) => e instanceof KeyFileError && e.message.includes('junk.pem'));
    });

    it('a directory trust finds a key created after it loaded, looking files up at a bounded rate', async () => {
      let now = 0;
      const trust = await new DirectoryTrust(dir, 1000, () => now).load();
      assert.equal(trust.key('late'), undefined);
      const { signer } = await loadOrCreateSigner(dir, 'late');
      now = 500;
      assert.equal(trust.key('late'), undefined, 'no second lookup within the interval');
      now = 1500;
      assert.notEqual(trust.key('late'), undefined);
      const payload = JSON.stringify(signer.signHint(ROW_TOPIC, { a: 1 }));
      assert.equal(verifyPayload(ROW_TOPIC, payload, trust).ok, true);
    });
  });

  describe('the wire format', () => {
    it('appends the signature as the last member: T without its brace, then ,"sig":{…}}', () => {
      const { signer, trust } = signerOf('controller');
      const hint = { v: 2, kind: 'cost_row', ts: 1, seq: 1, ttlMs: 1, source: 's', srcPid: 'p', costs: {} };
      const T = JSON.stringify(hint);
      const signed = signer.signHint(ROW_TOPIC, hint);
      const payload = JSON.stringify(signed);
      assert.equal(payload, `${T.slice(0, -1)},"sig":{"key":"controller","ed25519":"${signed.sig.ed25519}"}}`);
      assert.equal(Buffer.from(signed.sig.ed25519, 'base64').length, 64);
      assert.deepEqual(verifyPayload(ROW_TOPIC, payload, trust), { ok: true, keyId: 'controller' });
    });

    it('re-signing replaces an old signature instead of nesting it', () => {
      const { signer, trust } = signerOf('k');
      const once = signer.signHint(ROW_TOPIC, { a: 1 });
      const twice = signer.signHint(topics.events(), once);
      assert.equal(verifyPayload(topics.events(), JSON.stringify(twice), trust).ok, true);
      assert.equal(JSON.stringify(twice).match(/"sig"/g)?.length, 1);
    });

    it('refuses unsigned, altered, moved, untrusted and malformed payloads, each with its reason', () => {
      const { signer, trust } = signerOf('controller');
      const payload = JSON.stringify(signer.signHint(ROW_TOPIC, { kind: 'cost_row', level: 'ok' }));
      assert.deepEqual(verifyPayload(ROW_TOPIC, '{"kind":"cost_row","level":"ok"}', trust), { ok: false, reason: 'unsigned' });
      assert.equal(verifyPayload(ROW_TOPIC, payload.replace('"ok"', '"congested"'), trust).ok, false);
      assert.deepEqual(verifyPayload(ROW_TOPIC, payload.replace('"ok"', '"congested"'), trust), { ok: false, reason: 'bad_signature', keyId: 'controller' });
      // The topic is covered: a signed row for one source PID cannot be put on another's topic.
      assert.deepEqual(verifyPayload(topics.costs('0000000000000002'), payload, trust), { ok: false, reason: 'bad_signature', keyId: 'controller' });
      const other = signerOf('evil');
      assert.deepEqual(verifyPayload(ROW_TOPIC, JSON.stringify(other.signer.signHint(ROW_TOPIC, { kind: 'cost_row' })), trust), {
        ok: false,
        reason: 'untrusted_key',
        keyId: 'evil',
      });
      // A trusted key id with someone else's signature.
      const forged = JSON.stringify(other.signer.signHint(ROW_TOPIC, { kind: 'cost_row' })).replace('"key":"evil"', '"key":"controller"');
      assert.deepEqual(verifyPayload(ROW_TOPIC, forged, trust), { ok: false, reason: 'bad_signature', keyId: 'controller' });
      // Any other shape of signature is no signature.
      for (const bad of [
        payload.replace('"ed25519"', '"rsa"'),
        payload.replace(/}}$/, '} }'),
        payload.replace('{"key":"controller",', '{"key":"controller","x":1,'),
        payload.replace('"key":"controller"', '"key":"con troller"'),
        `${payload.slice(0, -1)},"x":1}`,
      ]) {
        assert.equal((verifyPayload(ROW_TOPIC, bad, trust) as { reason?: string }).reason, 'unsigned', bad);
      }
      // A signature of the wrong length never verifies and never throws.
      assert.deepEqual(verifyPayload(ROW_TOPIC, payload.replace(/"ed25519":"[^"]+"/, '"ed25519":"AAAA"'), trust), { ok: false, reason: 'bad_signature', keyId: 'controller' });
    });
  });

  describe('publisher and parser', () => {
    it('a publisher with a key signs every hint it sends, and its last will too', async () => {
      const { signer, trust } = signerOf('controller');
      const { pub, sent } = capture(signer);
      await pub.publish(rowBody);
      await pub.publish({ kind: 'event', event: 'switch_up', dpid: '0000000000000001' });
      for (const s of sent) assert.equal(verifyPayload(s.topic, s.payload, trust).ok, true, s.payload);
      const will = pub.stamp({ kind: 'controller_status', controllerId: 'controller', state: 'offline' });
      assert.equal(verifyPayload(topics.controller('controller'), JSON.stringify(will), trust).ok, true);
      assert.equal(validateHint(will).ok, true, 'the schemas allow sig');
    });

    it('a recorded hint re-published (replay) gets a new signature over its new envelope', async () => {
      const a = signerOf('controller');
      const b = signerOf('replay');
      const { pub: original, sent: first } = capture(a.signer);
      await original.publish(rowBody);
      const recorded = JSON.parse(first[0]!.payload) as typeof rowBody;
      const { pub: replay, sent } = capture(b.signer);
      await replay.publish(recorded, { replayedFrom: { originalTs: 1 } });
      assert.equal(verifyPayload(sent[0]!.topic, sent[0]!.payload, b.trust).ok, true);
      assert.equal(verifyPayload(sent[0]!.topic, sent[0]!.payload, a.trust).ok, false);
    });

    it('parseHint with trust: the refusal codes, and kinds allowed unsigned', async () => {
      const { signer, trust } = signerOf('controller');
      const { pub: unsigned, sent: plain } = capture();
      await unsigned.publish(rowBody);
      const r = parseHint(plain[0]!.payload, { topic: ROW_TOPIC, trust });
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.error.code, 'HINT_ERR_UNSIGNED');
      assert.equal(parseHint(plain[0]!.payload, { topic: ROW_TOPIC }).ok, true, 'without trust nothing is verified');

      const { pub, sent } = capture(signer);
      await pub.publish(rowBody);
      const ok = parseHint(sent[0]!.payload, { topic: ROW_TOPIC, trust });
      assert.equal(ok.ok && ok.hint.sig?.key, 'controller');
      const altered = parseHint(sent[0]!.payload.replace('"source":"controller-1"', '"source":"evil"'), { topic: ROW_TOPIC, trust });
      assert.equal(!altered.ok && altered.error.code, 'HINT_ERR_SIGNATURE');
      const other = signerOf('evil');
      const { pub: evil, sent: forged } = capture(other.signer);
      await evil.publish(rowBody);
      const untrusted = parseHint(forged[0]!.payload, { topic: ROW_TOPIC, trust });
      assert.equal(!untrusted.ok && untrusted.error.code, 'HINT_ERR_UNTRUSTED');

      const statusTopic = topics.status('web-1');
      await unsigned.publish({ kind: 'sidecar_status', sidecarId: 'web-1', state: 'online' });
      assert.equal(parseHint(plain[1]!.payload, { topic: statusTopic, trust, unsignedKinds: new Set(['sidecar_status']) }).ok, true);
      assert.equal(parseHint(plain[0]!.payload, { topic: ROW_TOPIC, trust, unsignedKinds: new Set(['sidecar_status']) }).ok, false);
    });

    it("a controller's status must be signed by that controller's own key", async () => {
      const c1 = signerOf('c1');
      const c2 = signerOf('c2');
      const trust = new StaticTrust([...['c1', 'c2'].map((id) => [id, (id === 'c1' ? c1 : c2).trust.key(id)!] as const)]);
      const { pub, sent } = capture(c2.signer);
      await pub.publish({ kind: 'controller_status', controllerId: 'c1', state: 'offline' });
      await pub.publish({ kind: 'controller_status', controllerId: 'c2', state: 'online' });
      const r = parseHint(sent[0]!.payload, { topic: topics.controller('c1'), trust });
      assert.equal(!r.ok && r.error.code, 'HINT_ERR_UNTRUSTED');
      assert.equal(parseHint(sent[1]!.payload, { topic: topics.controller('c2'), trust }).ok, true);
    });

    it('the schema refuses a sig of any other shape', () => {
      const { pub } = capture();
      const hint = pub.stamp(rowBody);
      assert.equal(validateHint({ ...hint, sig: { key: 'k', ed25519: 'AAAA', extra: 1 } }).ok, false);
      assert.equal(validateHint({ ...hint, sig: { key: 'a b', ed25519: 'AAAA' } }).ok, false);
      assert.equal(validateHint({ ...hint, sig: { key: 'k', ed25519: 'AAAA' } }).ok, true);
    });
  });
});
