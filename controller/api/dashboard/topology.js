// The topology graph: switches, hosts and link directions drawn with cytoscape, coloured by level, and
// mirrored into a table (the canvas is not readable by assistive tools or tests; the table is).
import cytoscape from '/dashboard/vendor/cytoscape.mjs';
import { levelColor } from '/dashboard/colors.js';
import { hostIp } from '/dashboard/state.js';

const switchNodeId = (dpid) => `sw:${dpid}`;
const hostNodeId = (mac) => `host:${mac}`;

/** A short name for a switch: its bridge name (the LOCAL port's name) when known, else the dpid without leading zeros. */
export function switchLabel(sw) {
  const local = (sw.ports ?? []).find((p) => p.number === 'local');
  const short = sw.dpid.replace(/^0+(?=.)/, '');
  // In a group of controllers, this controller's OpenFlow role for the switch (and its master's name when not us).
  const r = sw.role;
  const role = r ? `\n${r.role}${r.role !== 'master' && r.master ? ` (master ${r.master})` : ''} · epoch ${r.epoch}` : '';
  return (local?.name ? `${local.name}\n${short}` : short) + role;
}

function percent(u) {
  return typeof u === 'number' ? `${Math.round(u * 100)}%` : '';
}

const STYLE = [
  {
    selector: 'node',
    style: {
      label: 'data(label)',
      'font-size': 10,
      'text-wrap': 'wrap',
      'text-valign': 'bottom',
      'text-margin-y': 4,
      color: '#1f2937',
    },
  },
  {
    selector: 'node.switch',
    style: { shape: 'round-rectangle', width: 46, height: 30, 'background-color': '#1e3a8a', 'border-width': 0 },
  },
  {
    selector: 'node.host',
    style: { shape: 'ellipse', width: 18, height: 18, 'background-color': '#94a3b8', 'font-size': 9 },
  },
  {
    selector: 'edge.link',
    style: {
      width: 3,
      'curve-style': 'bezier',
      'control-point-step-size': 22,
      'line-color': 'data(color)',
      'target-arrow-color': 'data(color)',
      'target-arrow-shape': 'triangle',
      'arrow-scale': 0.8,
      label: 'data(label)',
      'font-size': 9,
      'text-rotation': 'autorotate',
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.85,
      'text-background-padding': 1,
    },
  },
  { selector: 'edge.link[level = "down"]', style: { 'line-style': 'dashed' } },
  {
    selector: 'edge.attach',
    style: { width: 1.5, 'line-color': '#cbd5e1', 'curve-style': 'straight' },
  },
];

export class TopologyView {
  constructor(container, mirror, state) {
    this.state = state;
    this.mirror = mirror;
    this.cy = cytoscape({ container, style: STYLE, wheelSensitivity: 0.3, minZoom: 0.2, maxZoom: 3 });
    this.layoutTimer = undefined;
  }

  /** The elements the state implies: nodes for switches and hosts, one edge per link direction. */
  wanted() {
    const s = this.state;
    const nodes = new Map();
    for (const sw of s.switches.values()) {
      nodes.set(switchNodeId(sw.dpid), { classes: 'switch', data: { id: switchNodeId(sw.dpid), label: switchLabel(sw), dpid: sw.dpid } });
    }
    const edges = new Map();
    for (const l of s.links.values()) {
      const source = l.src && switchNodeId(l.src.dpid);
      const target = l.dst && switchNodeId(l.dst.dpid);
      // Only links between switches we can see are drawn; the table still lists the rest.
      if (!nodes.has(source) || !nodes.has(target)) continue;
      const level = s.linkLevel(l);
      edges.set(l.id, {
        classes: 'link',
        data: { id: l.id, source, target, level, color: levelColor(level), label: percent(l.utilization) },
      });
    }
    for (const h of s.hosts.values()) {
      const at = switchNodeId(h.dpid);
      if (!nodes.has(at)) continue;
      nodes.set(hostNodeId(h.mac), { classes: 'host', data: { id: hostNodeId(h.mac), label: h.name || hostIp(h) || h.mac, mac: h.mac } });
      edges.set(`attach:${h.mac}`, { classes: 'attach', data: { id: `attach:${h.mac}`, source: hostNodeId(h.mac), target: at } });
    }
    return { nodes, edges };
  }

  render() {
    const { nodes, edges } = this.wanted();
    const cy = this.cy;
    let structural = false;
    cy.batch(() => {
      for (const el of cy.elements()) {
        const keep = el.isNode() ? nodes.get(el.id()) : edges.get(el.id());
        // An edge whose endpoints changed is replaced, not edited (cytoscape keeps endpoints fixed).
        if (!keep || (el.isEdge() && (el.data('source') !== keep.data.source || el.data('target') !== keep.data.target))) {
          el.remove();
          structural = true;
        }
      }
      for (const [id, def] of [...nodes, ...edges]) {
        const el = cy.getElementById(id);
        if (el.empty()) {
          cy.add({ group: nodes.has(id) ? 'nodes' : 'edges', ...def });
          structural = true;
        } else {
          el.data(def.data);
        }
      }
    });
    if (structural) this.scheduleLayout();
    this.renderMirror(nodes, edges);
  }

  scheduleLayout() {
    clearTimeout(this.layoutTimer);
    this.layoutTimer = setTimeout(() => {
      const few = this.cy.nodes().length <= 2;
      this.cy
        .layout(
          few
            ? { name: 'grid', padding: 40, animate: false }
            : { name: 'cose', animate: false, padding: 30, nodeRepulsion: () => 9000, idealEdgeLength: () => 90, randomize: false, nodeDimensionsIncludeLabels: true },
        )
        .run();
      this.cy.fit(undefined, 30);
    }, 80);
  }

  renderMirror(nodes, edges) {
    const rows = [];
    const drawn = (id) => !this.cy.getElementById(id).empty();
    for (const sw of this.state.switches.values()) {
      rows.push(row({ kind: 'switch', id: sw.dpid, label: switchLabel(sw).replace('\n', ' · '), attrs: { 'data-dpid': sw.dpid, 'data-drawn': String(nodes.has(switchNodeId(sw.dpid))) } }));
    }
    for (const l of this.state.links.values()) {
      const level = this.state.linkLevel(l);
      rows.push(
        row({
          kind: 'link',
          id: l.id,
          label: capacityLabel(l),
          level,
          utilization: percent(l.utilization),
          attrs: { 'data-link-id': l.id, 'data-level': level, 'data-color': levelColor(level), 'data-drawn': String(edges.has(l.id) && drawn(l.id)) },
        }),
      );
    }
    for (const h of this.state.hosts.values()) {
      rows.push(row({ kind: 'host', id: h.mac, label: `${h.name ? `${h.name} ` : ''}${h.mac}${hostIp(h) ? ` (${hostIp(h)})` : ''} at ${h.dpid}:${h.port}`, attrs: { 'data-mac': h.mac } }));
    }
    this.mirror.replaceChildren(...rows);
  }
}

/** "<id> · 8 Mbit/s (tc)": the capacity and where it came from, when the link list said. */
function capacityLabel(l) {
  if (typeof l.capacityBps !== 'number') return l.id;
  const bps = l.capacityBps;
  const text = bps <= 0 ? 'capacity unknown' : bps >= 1e9 ? `${+(bps / 1e9).toFixed(2)} Gbit/s` : bps >= 1e6 ? `${+(bps / 1e6).toFixed(2)} Mbit/s` : `${+(bps / 1e3).toFixed(2)} kbit/s`;
  return `${l.id} · ${text}${l.capacitySource ? ` (${l.capacitySource})` : ''}`;
}

function row({ kind, id, label, level = '', utilization = '', attrs }) {
  const tr = document.createElement('tr');
  tr.dataset.kind = kind;
  for (const [k, v] of Object.entries(attrs)) tr.setAttribute(k, v);
  for (const text of [kind, label ?? id, level, utilization]) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.append(td);
  }
  if (level) tr.querySelector('td:nth-child(3)').classList.add(`level-${level}`);
  return tr;
}
