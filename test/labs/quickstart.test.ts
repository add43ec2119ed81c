// The quickstart lab, short: it runs against real Mininet and OVS (root only), writes a
// well-formed report, shows coordination beating the baseline on p99 during congestion (with
// the numbers in report.md), and leaves none of the run's bridges behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quickstart } from '../../labs/quickstart/lab.ts';
import type { QuickstartSummary } from '../../labs/quickstart/report.ts';
import { leftovers } from '../../labs/env.ts';
import { runLab, type LabRunResult } from '../../labs/runner.ts';
import { readFileLog } from '../../bus/eventlog/file.ts';
import { ms } from '../../labs/report.ts';


describe('labs: quickstart (real Mininet, ~90 s, root)', function () {
  this.timeout(300_000);
  let dir: string;
  let result: LabRunResult;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'mf-lab-qs-'));
    result = await runLab(quickstart, { durationSec: 24, outDir: dir, log: () => undefined });
    // The run's own numbers, so a CI log shows what was measured.
    for (const line of result.headline) process.stdout.write(`      ${line}\n`);
  });

  after(() => {
    if (dir && !process.env['KEEP_LAB_RUNS']) rmSync(dir, { recursive: true, force: true });
  });

  it('writes report.md, charts, summary, events and raw data', () => {
    for (const f of ['report.md', 'summary.json', 'latency.svg', 'share.svg', 'weights.svg', 'links-off.svg', 'links-on.svg']) {
      assert.ok(existsSync(join(dir, f)), `${f} missing`);
    }
    for (const f of ['latency.svg', 'share.svg', 'weights.svg', 'links-on.svg']) {
      const svg = readFileSync(join(dir, f), 'utf8');
      assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.match(svg, /<\/svg>\n$/);
      assert.match(svg, /aria-roledescription="line mark" d="M/, `${f} draws no line`);
    }
    for (const v of ['off', 'on']) {
      for (const f of ['events.jsonl', 'requests.jsonl', 'seconds.csv', 'seconds.json', 'links.json', 'weights.json']) assert.ok(existsSync(join(dir, v, f)), `${v}/${f} missing`);
      const csv = readFileSync(join(dir, v, 'seconds.csv'), 'utf8').trim().split('\n');
      assert.equal(csv.length, 25, 'one header and one row per second');
    }
    const md = readFileSync(result.reportPath, 'utf8');
    for (const img of ['latency.svg', 'share.svg', 'weights.svg', 'links-off.svg', 'links-on.svg']) assert.ok(md.includes(`](${img})`), `report does not show ${img}`);
  });

  it('records the bus, replayable: congestion onset, cost rows, the failed cable, and (on) weights for the client sidecar', async () => {
    const on = await readFileLog(join(dir, 'on', 'events.jsonl'));
    assert.ok(on.some((h) => h.kind === 'event' && h.event === 'congestion_onset'), 'no congestion_onset recorded');
    assert.ok(on.some((h) => h.kind === 'cost_row'));
    assert.ok(on.some((h) => h.kind === 'weights' && h.sidecarId === 'client'));
    const off = await readFileLog(join(dir, 'off', 'events.jsonl'));
    assert.ok(!off.some((h) => h.kind === 'weights'), 'coordination off must publish no weights');
    // The cable that fails and recovers on the timeline: both directions go down, then come back.
    for (const log of [on, off]) {
      const events = log.flatMap((h) => (h.kind === 'event' ? [h] : []));
      const down = events.filter((e) => e.event === 'link_down').map((e) => e.linkId);
      const up = events.filter((e) => e.event === 'link_up' && e.ts > (events.find((x) => x.event === 'link_down')?.ts ?? Infinity)).map((e) => e.linkId);
      assert.equal(new Set(down).size, 2, `link_down for both directions of the failed cable: ${down.join(', ')}`);
      assert.deepEqual(new Set(up), new Set(down), 'both directions rediscovered');
    }
  });

  it('coordination beats the baseline on p99 during congestion, and the report says so with the numbers', () => {
    const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as QuickstartSummary;
    const off = s.variants.find((v) => v.variant === 'off');
    const on = s.variants.find((v) => v.variant === 'on');
    assert.ok(off && on);
    assert.ok(off.during.count > 100 && on.during.count > 100, 'too few requests during congestion');
    assert.ok(on.congestedShareDuring < off.congestedShareDuring / 3, `on sent ${on.congestedShareDuring} to the congested replica`);
    assert.equal(s.verdict.coordinationWins, true, `p99 during congestion: off ${off.during.p99Ms} ms, on ${on.during.p99Ms} ms`);
    assert.ok(on.during.p99Ms < off.during.p99Ms);
    assert.ok(on.reaction.weightTs !== undefined && on.reaction.shiftTs !== undefined, 'no reaction measured');
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    assert.ok(md.includes(`**${ms(off.during.p99Ms)}**`) && md.includes(`**${ms(on.during.p99Ms)}**`), 'report lacks the p99 numbers');
    assert.ok(md.includes('coordination wins'));
  });

  it('leaves no bridge of the run behind', async () => {
    assert.deepEqual(result.teardown, []);
    assert.deepEqual(await leftovers(result.runId), []);
    const brs = execFileSync('ovs-vsctl', ['list-br'], { encoding: 'utf8' });
    assert.ok(!brs.split('\n').some((b) => b.startsWith(`mf${result.runId}`)));
  });
});
