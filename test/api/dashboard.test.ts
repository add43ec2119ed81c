// The dashboard in a real headless Chromium against a running controller with two real Open vSwitch
// bridges joined by a veth pair: the page shows every switch, link (found by LLDP) and host, and a congested link_state
// published through the StreamHub turns that link red, in the page's model and in the drawn graph.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { runController, type RunningController } from '../../controller/run.ts';
import { TestBridge, cleanStale, sh, vsctl } from '../support/ovs.ts';
import { waitFor } from '../support/wait.ts';
import { launchChromium, type Browser } from './browser.ts';

// The page's palette (controller/api/dashboard/colors.js) as cytoscape reports computed colours.
const GREEN = 'rgb(31,157,85)';
const RED = 'rgb(220,38,38)';

interface PageLink {
  id: string;
  level: string;
  utilization: number | null;
}
interface PageState {
  connection: string;
  switches: { dpid: string }[];
  links: PageLink[];
  events: { event: string; linkId: string | null }[];
  weights: Record<string, unknown>;
  lab: { phase?: string } | null;
}

/** Polls the page until `probe` (run in the page) returns something truthy. */
async function pageWait<T>(page: Page, what: string, probe: () => T, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const handle = await page.waitForFunction(probe, undefined, { timeout: timeoutMs, polling: 50 }).catch((err: unknown) => {
    throw new Error(`timed out waiting for ${what}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  });
  return (await handle.jsonValue()) as NonNullable<T>;
}

const pageState = (page: Page): Promise<PageState> =>
  page.evaluate(() => (window as unknown as { meshflowDashboard: { state(): PageState } }).meshflowDashboard.state());

const linkColor = (page: Page, id: string): Promise<string | null> =>
  page.evaluate((linkId) => (window as unknown as { meshflowDashboard: { linkColor(id: string): string | null } }).meshflowDashboard.linkColor(linkId), id);

describe('api: dashboard in headless Chromium', function () {
  this.timeout(90_000);
  let running: RunningController;
  let bridges: TestBridge[] = [];
  let dpids: string[] = [];
  let trunk: string | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let dir: string;
  const pageErrors: string[] = [];
  let ab: string;
  let ba: string;

  before(async () => {
    await cleanStale();
    dir = await mkdtemp(join(tmpdir(), 'meshflow-dashboard-'));
    running = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, echoIntervalMs: 1000, lldpIntervalMs: 300 });
    const base = 10 + (process.pid % 100) * 2;
    for (let i = 0; i < 2; i++) bridges.push(await TestBridge.create({ controllerPort: running.ofPort, hosts: 2, subnet: base + i }));
    const [a, b] = bridges as [TestBridge, TestBridge];
    // One real link between the bridges, on port 3 of each; named after bridge a so cleanup finds it.
    trunk = `${a.name}t`;
    await sh('ip', ['link', 'add', `${trunk}a`, 'type', 'veth', 'peer', 'name', `${trunk}b`]);
    for (const [br, end] of [[a, `${trunk}a`], [b, `${trunk}b`]] as const) {
      await sh('ip', ['link', 'set', end, 'up']);
      await vsctl('add-port', br.name, end, '--', 'set', 'interface', end, 'ofport_request=3');
    }
    dpids = await Promise.all(bridges.map((br) => br.dpid()));
    await waitFor('both bridges to connect', () => dpids.every((d) => running.controller.switches.get(d)?.ports.has(3)));
    const [da, db] = dpids as [string, string];
    ab = `${da}:3-${db}:3`;
    ba = `${db}:3-${da}:3`;
    // Discovery finds the trunk by LLDP; the page must then show it without being told.
    await waitFor('LLDP to find both directions of the trunk', () =>
      [ab, ba].every((id) => running.network.discovery.links.get(id)?.state === 'up'),
    );

    // The kernel adds a new interface's IPv6 link-local address once duplicate address detection
    // ends, a second or two after it came up. Chromium takes that for a network change and aborts
    // the page's loads in flight (net::ERR_NETWORK_CHANGED), so the page opens once ours are settled.
    const ours = (line: string) => bridges.some((br) => line.includes(br.name));
    await waitFor('IPv6 duplicate address detection on the test links to end', async () => !(await sh('ip', ['-6', '-o', 'addr', 'show', 'tentative'])).split('\n').some(ours));
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('response', (res) => {
      // The page's own files and libraries must all load; API endpoints may be missing (the page copes).
      if (res.status() >= 400 && !new URL(res.url()).pathname.startsWith('/api/')) pageErrors.push(`${res.status()} ${res.url()}`);
    });
    page.on('console', (msg) => {
      // Endpoints that do not exist yet answer 404; the page copes, and Chromium logs each one.
      // A stream connect that hangs is given up and retried by the page; Chromium logs that as well.
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource') && !msg.text().includes('closed before the connection is established')) pageErrors.push(msg.text());
    });
    await page.goto(`${running.apiUrl}/`);
  });

  after(async () => {
    await browser?.close();
    for (const br of bridges) await br.destroy();
    if (trunk) await sh('ip', ['link', 'del', `${trunk}a`]).catch(() => undefined);
    await running?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('shows every switch and link of the running network, live over the stream', async () => {
    await pageWait(page, 'the stream to be live', () => document.getElementById('connection')?.dataset.state === 'live');
    await pageWait(page, 'both switches and both links in the table', () =>
      document.querySelectorAll('#topology-mirror tr[data-kind="switch"]').length === 2 &&
      document.querySelectorAll('#topology-mirror tr[data-kind="link"][data-drawn="true"]').length === 2,
    );
    const state = await pageState(page);
    assert.deepEqual(state.switches.map((s) => s.dpid).sort(), [...dpids].sort());
    assert.deepEqual(state.links.map((l) => l.id).sort(), [ab, ba].sort());
    assert.ok(state.links.every((l) => l.level === 'ok'));
    for (const dpid of dpids) assert.equal(await page.locator(`#topology-mirror tr[data-dpid="${dpid}"]`).count(), 1);
    // The graph itself: a node per switch, an edge per link direction, green while ok.
    const drawn = await page.evaluate(() => {
      const cy = (window as unknown as { meshflowDashboard: { cy: { nodes(s: string): { map<T>(f: (n: { data(k: string): string }) => T): T[] } } } }).meshflowDashboard.cy;
      return cy.nodes('.switch').map((n) => n.data('dpid'));
    });
    assert.deepEqual(drawn.sort(), [...dpids].sort());
    assert.equal(await linkColor(page, ab), GREEN);
    assert.equal(await page.locator('#count-switches').textContent(), '2');
    assert.equal(await page.locator('#legend [data-level]').count(), 4, 'a visible legend of the four levels');
  });

  it('shows hosts as discovery learns them', async () => {
    const [a] = bridges as [TestBridge];
    const [h1, h2] = a.hosts;
    // Traffic is what teaches discovery where hosts are.
    await a.inNs(h1!, 'ping', ['-c', '2', '-i', '0.2', '-W', '1', h2!.ip]).catch(() => undefined);
    await waitFor('discovery to learn both hosts', () => running.network.discovery.hosts.size >= 2);
    const n = await pageWait(page, 'the hosts in the page', () => {
      const rows = document.querySelectorAll('#topology-mirror tr[data-kind="host"]').length;
      return rows >= 2 ? rows : false;
    });
    assert.equal(n, running.network.discovery.hosts.size);
    const hostNodes = await page.evaluate(
      () => (window as unknown as { meshflowDashboard: { cy: { nodes(s: string): { length: number } } } }).meshflowDashboard.cy.nodes('.host').length,
    );
    assert.equal(hostNodes, n);
  });

  it('turns a link red when a congested link_state arrives, and only that direction', async () => {
    const [da, db] = dpids as [string, string];
    running.hub.publish({
      kind: 'link_state',
      linkId: ab,
      src: { dpid: da, port: 3 },
      dst: { dpid: db, port: 3 },
      capacityBps: 1e9,
      rateBps: 9.4e8,
      utilization: 0.94,
      drops: 12,
      level: 'congested',
    });
    await pageWait(page, 'the link to be congested in the table', () =>
      document.querySelector(`#topology-mirror tr[data-link-id$=":3"][data-level="congested"]`) !== null,
    );
    const row = page.locator(`#topology-mirror tr[data-link-id="${ab}"]`);
    assert.equal(await row.getAttribute('data-level'), 'congested');
    assert.equal(await page.locator(`#topology-mirror tr[data-link-id="${ba}"]`).getAttribute('data-level'), 'ok');
    await waitFor('the drawn edge to turn red', async () => (await linkColor(page, ab)) === RED, { timeoutMs: 10_000 });
    assert.equal(await linkColor(page, ba), GREEN);
    const link = (await pageState(page)).links.find((l) => l.id === ab);
    assert.equal(link?.utilization, 0.94);
    assert.equal(await page.locator('#count-congested').textContent(), '1');
  });

  it('lists congestion events, charts sidecar weights and shows lab progress', async () => {
    running.hub.publish({ kind: 'event', event: 'congestion_onset', linkId: ab, level: 'congested', utilization: 0.94 });
    await pageWait(page, 'the onset in the timeline', () => document.querySelector('#timeline li[data-event="congestion_onset"]') !== null);
    assert.equal(await page.locator('#timeline li').first().getAttribute('data-link-id'), ab);

    for (const w of [500, 300, 200]) {
      running.hub.publish({ kind: 'weights', sidecarId: 'sc-front', services: { api: { 'api-1': w, 'api-2': 1000 - w } } });
    }
    await pageWait(page, 'the weights chart', () =>
      document.querySelector('#weights figure[data-sidecar="sc-front"] canvas') !== null &&
      document.querySelector('#weights [data-series="api/api-1"]')?.textContent === '200',
    );

    running.hub.publish({ kind: 'lab_progress', phase: 'congest', elapsedMs: 65_000, remainingMs: 55_000, p99Ms: 42.5 });
    await pageWait(page, 'the lab panel', () => document.getElementById('lab')?.dataset.active === 'true');
    assert.equal(await page.locator('#lab-phase').textContent(), 'congest');
    assert.equal(await page.locator('#lab-elapsed').textContent(), '1:05');
    assert.equal(await page.locator('#lab-p99').textContent(), '42.5 ms');
  });

  it('takes a screenshot that is a real PNG', async () => {
    const file = join(dir, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    const png = await readFile(file);
    assert.ok(png.length > 10_000, `screenshot of ${png.length} bytes`);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // For a person (or CI artifacts) to look at: the temp dir itself is removed after the run.
    if (process.env.MESHFLOW_SCREENSHOT_DIR) await copyFile(file, join(process.env.MESHFLOW_SCREENSHOT_DIR, 'dashboard.png'));
  });

  it('drops a switch that leaves the network', async () => {
    const gone = bridges[1]!;
    await gone.destroy();
    bridges = bridges.slice(0, 1);
    await pageWait(page, 'the switch to leave the table', () => document.querySelectorAll('#topology-mirror tr[data-kind="switch"]').length === 1);
    const state = await pageState(page);
    assert.deepEqual(state.switches.map((s) => s.dpid), [dpids[0]]);
    // Its links stay listed for a while, down, but can no longer be drawn.
    await pageWait(page, 'the trunk to be down', () => document.querySelectorAll('#topology-mirror tr[data-kind="link"][data-level="down"]').length === 2);
    assert.equal(await page.locator(`#topology-mirror tr[data-link-id="${ab}"]`).getAttribute('data-drawn'), 'false');
  });

  it('ran without script errors or missing files', () => {
    assert.deepEqual(pageErrors, []);
  });
});
