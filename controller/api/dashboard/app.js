// The dashboard's entry: loads what REST knows, then keeps it current from /api/v1/stream.
// Endpoints that do not exist (yet) simply contribute nothing: the page shows what there is.
import { DashboardState } from '/dashboard/state.js';
import { TopologyView } from '/dashboard/topology.js';
import { renderTimeline } from '/dashboard/timeline.js';
import { WeightsView } from '/dashboard/weights.js';
import { LabView } from '/dashboard/lab.js';
import { connectStream } from '/dashboard/stream.js';
import { LEVEL_COLORS } from '/dashboard/colors.js';

const $ = (id) => document.getElementById(id);
const POLL_MS = 5000;

const state = new DashboardState();
const topology = new TopologyView($('graph'), $('topology-mirror'), state);
const weights = new WeightsView($('weights'), $('weights-empty'));
const lab = new LabView($('lab'));
/** Set once a stream snapshot carried links: from then on the stream, not REST, owns the link list. */
let linksFromStream = false;

for (const li of document.querySelectorAll('#legend [data-level]')) {
  li.querySelector('.swatch').style.backgroundColor = LEVEL_COLORS[li.dataset.level];
}

// --- drawing: changes are batched into one redraw per frame ---------------------------------------

const dirty = new Set();
let frame = 0;
state.subscribe((parts) => {
  for (const p of parts) dirty.add(p);
  if (!frame) frame = requestAnimationFrame(draw);
});

function draw() {
  frame = 0;
  const parts = new Set(dirty);
  dirty.clear();
  if (parts.has('topology') || parts.has('links')) {
    topology.render();
    renderCounts();
  }
  if (parts.has('events')) renderTimeline($('timeline'), $('timeline-empty'), state.events);
  if (parts.has('weights')) weights.render(state.weights);
  if (parts.has('lab')) lab.render(state.lab);
  if (parts.has('connection')) {
    const pill = $('connection');
    pill.dataset.state = state.connection;
    pill.textContent = state.connection;
  }
}

function renderCounts() {
  $('count-switches').textContent = String(state.switches.size);
  $('count-links').textContent = String(state.links.size);
  $('count-hosts').textContent = String(state.hosts.size);
  $('count-congested').textContent = String([...state.links.values()].filter((l) => state.linkLevel(l) === 'congested').length);
}

// --- REST -----------------------------------------------------------------------------------------

async function getJson(path) {
  try {
    const res = await fetch(path, { headers: { accept: 'application/json' } });
    return res.ok ? await res.json() : undefined;
  } catch {
    return undefined;
  }
}

async function loadRest() {
  const [switches, links, hosts, congestion, events] = await Promise.all(
    ['/api/v1/switches', '/api/v1/links', '/api/v1/hosts', '/api/v1/congestion', '/api/v1/events'].map(getJson),
  );
  state.setSwitches(switches);
  if (!linksFromStream) state.setLinks(links);
  state.setHosts(hosts);
  if (Array.isArray(congestion)) for (const row of congestion) state.applyLinkState(row);
  // /events may answer a list, or {events: [...]}; events from the stream since then are kept.
  const list = Array.isArray(events) ? events : Array.isArray(events?.events) ? events.events : undefined;
  if (list && state.events.length === 0) state.setEvents(list.filter((e) => e.kind === undefined || e.kind === 'event'));
}

async function poll() {
  const hosts = await getJson('/api/v1/hosts');
  if (hosts) state.setHosts(hosts);
  // Roles (a group of controllers) change without an event of their own: read them with the rest.
  const switches = await getJson('/api/v1/switches');
  if (switches && switches.some((s) => s.role)) state.setSwitches(switches);
  if (!linksFromStream) {
    const links = await getJson('/api/v1/links');
    if (links) state.setLinks(links);
  }
}

// --- stream ---------------------------------------------------------------------------------------

const LINK_EVENT_LEVEL = { link_down: 'down', link_up: 'ok', congestion_clear: 'ok' };

function onMessage(m) {
  switch (m.kind) {
    case 'hello': {
      const s = m.snapshot ?? {};
      if (s.switches) state.setSwitches(s.switches);
      if (s.links) {
        linksFromStream = true;
        state.setLinks(s.links);
      }
      if (s.hosts) state.setHosts(s.hosts);
      if (Array.isArray(s.congestion)) for (const row of s.congestion) state.applyLinkState(row);
      return;
    }
    case 'link_state':
      state.applyLinkState(m);
      return;
    case 'event':
      state.addEvent(m);
      if (m.event === 'switch_up') state.upsertSwitch(m.detail?.switch);
      else if (m.event === 'switch_down') state.removeSwitch(m.dpid);
      else if (m.linkId) {
        // Discovery's link events carry the link itself: that is how new links appear without a reload.
        if (m.detail?.link) state.upsertLink(m.detail.link);
        state.setLinkLevel(m.linkId, m.level ?? LINK_EVENT_LEVEL[m.event]);
      }
      return;
    case 'host':
      if (m.change === 'removed') state.removeHost(m.host?.mac);
      else state.upsertHost(m.host);
      return;
    case 'port_status':
      state.updatePort(m.dpid, m.port, m.reason);
      return;
    case 'weights':
      state.addWeights(m);
      return;
    case 'lab_progress':
      state.setLab(m);
      return;
    default:
    // cost_row and kinds added later: not drawn here.
  }
}

const stream = connectStream({ onMessage, onStatus: (s) => state.setConnection(s) });
const ready = loadRest();
setInterval(poll, POLL_MS);

// For tests and the console: the page's model as plain data, and the graph itself.
window.meshflowDashboard = {
  ready,
  state: () => state.snapshot(),
  cy: topology.cy,
  /** The colour the graph actually draws a link with (cytoscape's computed style). */
  linkColor: (id) => {
    const el = topology.cy.getElementById(id);
    return el.empty() ? null : el.style('line-color');
  },
  stream,
};
