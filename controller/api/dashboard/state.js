// The page's model: everything the views draw, fed by REST answers and stream messages, and nothing
// else. Views subscribe to named parts ('topology', 'links', 'events', 'weights', 'lab', 'connection')
// and redraw only what changed.

const MAX_EVENTS = 200;
const MAX_POINTS = 600; // per chart: ten minutes at one point a second

/** Link level from what we know: a measured level wins, otherwise the link's own up/down state. */
function effectiveLevel(link) {
  if (link.level) return link.level;
  return link.state === 'down' ? 'down' : 'ok';
}

export class DashboardState {
  constructor() {
    /** dpid -> switch view as /api/v1/switches gives it */
    this.switches = new Map();
    /** linkId -> { id, src:{dpid,port}, dst:{dpid,port}, capacityBps, capacitySource, state, level, utilization, rateBps, drops, updatedAt } */
    this.links = new Map();
    /** mac -> { mac, ipv4, name?, dpid, port, lastSeen } as /api/v1/hosts gives them */
    this.hosts = new Map();
    /** newest first */
    this.events = [];
    /** sidecarId -> { times: number[] (s), series: Map<'svc/replica', (number|null)[]>, latest: services } */
    this.weights = new Map();
    /** latest lab_progress, plus p99 history */
    this.lab = { latest: null, times: [], p99: [] };
    this.connection = 'connecting';
    this.listeners = new Set();
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed(...parts) {
    for (const l of this.listeners) l(new Set(parts));
  }

  setConnection(status) {
    this.connection = status;
    this.changed('connection');
  }

  // --- topology ---------------------------------------------------------------------------------

  setSwitches(list) {
    if (!Array.isArray(list)) return;
    this.switches = new Map(list.filter((s) => s && typeof s.dpid === 'string').map((s) => [s.dpid, s]));
    this.changed('topology');
  }

  upsertSwitch(sw) {
    if (!sw || typeof sw.dpid !== 'string') return;
    this.switches.set(sw.dpid, sw);
    this.changed('topology');
  }

  removeSwitch(dpid) {
    if (this.switches.delete(dpid)) this.changed('topology');
  }

  updatePort(dpid, port, reason) {
    const sw = this.switches.get(dpid);
    if (!sw || !port) return;
    const ports = (sw.ports ?? []).filter((p) => p.number !== port.number);
    if (reason !== 'delete') ports.push(port);
    this.switches.set(dpid, { ...sw, ports });
    this.changed('topology');
  }

  /** Replaces the link list (REST or snapshot), keeping measurements of links that remain. */
  setLinks(list) {
    if (!Array.isArray(list)) return;
    const next = new Map();
    for (const l of list) {
      if (!l || typeof l.id !== 'string' && typeof l.linkId !== 'string') continue;
      const id = l.id ?? l.linkId;
      next.set(id, { ...this.links.get(id), ...l, id });
    }
    this.links = next;
    this.changed('topology', 'links');
  }

  /** A link_state hint (stream) or a /congestion row: measurement of one direction. */
  applyLinkState(m) {
    const id = m.linkId ?? m.id;
    if (typeof id !== 'string') return;
    const known = this.links.get(id);
    const link = {
      ...known,
      id,
      src: m.src ?? known?.src ?? parseLinkId(id)?.src,
      dst: m.dst ?? known?.dst ?? parseLinkId(id)?.dst,
      capacityBps: m.capacityBps ?? known?.capacityBps,
      rateBps: m.rateBps ?? known?.rateBps,
      utilization: m.utilization ?? known?.utilization,
      drops: m.drops ?? known?.drops,
      level: m.level ?? known?.level,
      updatedAt: m.ts ?? Date.now(),
    };
    this.links.set(id, link);
    this.changed(known ? 'links' : 'topology', 'links');
  }

  setLinkLevel(id, level) {
    const known = this.links.get(id);
    if (!known || !level) return;
    this.links.set(id, { ...known, level });
    this.changed('links');
  }

  /** A link as discovery describes it (link_up/link_down events carry one): endpoints and state, not load. */
  upsertLink(view) {
    if (!view || typeof view.id !== 'string') return;
    const known = this.links.get(view.id);
    this.links.set(view.id, { ...known, ...view });
    this.changed(known ? 'links' : 'topology', 'links');
  }

  upsertHost(h) {
    if (!h || typeof h.mac !== 'string') return;
    this.hosts.set(h.mac, h);
    this.changed('topology');
  }

  removeHost(mac) {
    if (this.hosts.delete(mac)) this.changed('topology');
  }

  setHosts(list) {
    if (!Array.isArray(list)) return;
    this.hosts = new Map(list.filter((h) => h && typeof h.mac === 'string').map((h) => [h.mac, h]));
    this.changed('topology');
  }

  linkLevel(link) {
    return effectiveLevel(link);
  }

  // --- events -----------------------------------------------------------------------------------

  addEvent(e) {
    if (!e || typeof e.event !== 'string') return;
    this.events.unshift({ ...e, ts: typeof e.ts === 'number' ? e.ts : Date.now() });
    if (this.events.length > MAX_EVENTS) this.events.length = MAX_EVENTS;
    this.changed('events');
  }

  setEvents(list) {
    if (!Array.isArray(list)) return;
    this.events = list
      .filter((e) => e && typeof e.event === 'string')
      .sort((a, b) => (b.ts ?? 0) - (a.ts ?? 0))
      .slice(0, MAX_EVENTS);
    this.changed('events');
  }

  // --- weights ----------------------------------------------------------------------------------

  addWeights(m) {
    if (typeof m.sidecarId !== 'string' || !m.services || typeof m.services !== 'object') return;
    let w = this.weights.get(m.sidecarId);
    if (!w) {
      w = { times: [], series: new Map(), latest: {} };
      this.weights.set(m.sidecarId, w);
    }
    const n = w.times.length;
    w.times.push((typeof m.ts === 'number' ? m.ts : Date.now()) / 1000);
    const seen = new Set();
    for (const [svc, replicas] of Object.entries(m.services)) {
      for (const [replica, weight] of Object.entries(replicas ?? {})) {
        const key = `${svc}/${replica}`;
        seen.add(key);
        if (!w.series.has(key)) w.series.set(key, new Array(n).fill(null));
        w.series.get(key).push(typeof weight === 'number' ? weight : null);
      }
    }
    // A replica missing from this message has no weight now: a gap, not its old value.
    for (const [key, values] of w.series) if (!seen.has(key)) values.push(null);
    if (w.times.length > MAX_POINTS) {
      w.times.shift();
      for (const values of w.series.values()) values.shift();
    }
    w.latest = m.services;
    this.changed('weights');
  }

  // --- lab --------------------------------------------------------------------------------------

  setLab(m) {
    this.lab.latest = m;
    if (typeof m.p99Ms === 'number') {
      this.lab.times.push((typeof m.ts === 'number' ? m.ts : Date.now()) / 1000);
      this.lab.p99.push(m.p99Ms);
      if (this.lab.times.length > MAX_POINTS) {
        this.lab.times.shift();
        this.lab.p99.shift();
      }
    }
    this.changed('lab');
  }

  /** A plain-data picture of what the page shows, for tests and for poking at in the console. */
  snapshot() {
    return {
      connection: this.connection,
      switches: [...this.switches.values()].map((s) => ({ dpid: s.dpid, ports: (s.ports ?? []).length })),
      links: [...this.links.values()].map((l) => ({
        id: l.id,
        src: l.src,
        dst: l.dst,
        level: effectiveLevel(l),
        utilization: l.utilization ?? null,
      })),
      hosts: [...this.hosts.values()].map((h) => ({ mac: h.mac, ip: hostIp(h), dpid: h.dpid, port: h.port })),
      events: this.events.map((e) => ({ event: e.event, linkId: e.linkId ?? null, level: e.level ?? null, ts: e.ts })),
      weights: Object.fromEntries([...this.weights].map(([id, w]) => [id, w.latest])),
      lab: this.lab.latest,
    };
  }
}

/** /hosts says ipv4; older shapes said ip. */
export function hostIp(h) {
  return h.ipv4 ?? h.ip ?? null;
}

/** `<src dpid>:<src port>-<dst dpid>:<dst port>`, as the bus names link directions. */
export function parseLinkId(id) {
  const m = /^([0-9a-f]{16}):(\d+)-([0-9a-f]{16}):(\d+)$/.exec(id);
  if (!m) return undefined;
  return { src: { dpid: m[1], port: Number(m[2]) }, dst: { dpid: m[3], port: Number(m[4]) } };
}
