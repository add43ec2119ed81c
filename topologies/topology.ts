// Topology files: load, validate, resolve. A Topology is fully resolved: every switch has its
// dpid, every host its MAC, every switch end of a link its OpenFlow port number, so that the
// builder, the controller tests and the labs all agree on the same numbers.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { TopologyFile } from './schema.ts';

export interface SwitchSpec {
  readonly name: string;
  /** 16 lowercase hex digits, as OVS other_config:datapath-id wants it. */
  readonly dpid: string;
}

export interface HostSpec {
  readonly name: string;
  /** IPv4 address with prefix length, e.g. 10.0.0.1/24. */
  readonly ip: string;
  /** Given in the file, or 02:00 followed by the four IPv4 bytes (locally administered). */
  readonly mac: string;
  readonly switch: string;
}

export interface LinkSpec {
  readonly a: string;
  readonly b: string;
  /** Mbit/s, applied in both directions. */
  readonly bw: number;
  /** OpenFlow port on `a` when `a` is a switch; null when `a` is a host. */
  readonly aPort: number | null;
  readonly bPort: number | null;
}

export interface Topology {
  readonly name: string;
  readonly description?: string;
  /** Where it came from (file path, or what the caller passed to parseTopology). */
  readonly source: string;
  readonly switches: readonly SwitchSpec[];
  readonly hosts: readonly HostSpec[];
  readonly links: readonly LinkSpec[];
}

/** A broken topology file. `pointer` is a JSON pointer into the file ('' for the whole file). */
export class TopologyError extends Error {
  override readonly name = 'TopologyError';
  constructor(
    readonly source: string,
    readonly pointer: string,
    readonly detail: string,
  ) {
    super(`${source}#${pointer}: ${detail}`);
  }
}

const HERE = dirname(fileURLToPath(import.meta.url));

/** Names of the topologies shipped in this folder. */
export const SHIPPED = ['diamond', 'leaf-spine', 'fat-tree-4', 'linear-4'] as const;

/** Load a topology by file path, or by the name of a file shipped in topologies/ ("diamond"). */
export function loadTopology(pathOrName: string): Topology {
  const isName = /^[A-Za-z0-9_-]+$/.test(pathOrName);
  const path = isName ? join(HERE, `${pathOrName}.json`) : pathOrName;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TopologyError(path, '', `cannot read: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TopologyError(path, '', `invalid JSON: ${describeJsonError(text, err as Error)}`);
  }
  return parseTopology(json, path);
}

/** The line and column of a JSON.parse error, which Node only reports as a character offset. */
function describeJsonError(text: string, err: Error): string {
  const m = /position (\d+)/.exec(err.message);
  if (!m) return err.message;
  const pos = Number(m[1]);
  const before = text.slice(0, pos).split('\n');
  return `${err.message} (line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1})`;
}

const ajv = new Ajv({ allErrors: false, strict: true });
const validateFile = ajv.compile<TopologyFile>(TopologyFile);

function schemaError(source: string, e: ErrorObject): TopologyError {
  // Point at the offending property itself where ajv reports its parent object.
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') {
    return new TopologyError(source, `${e.instancePath}/${String(params.additionalProperty)}`, 'unknown property');
  }
  if (e.keyword === 'required') {
    return new TopologyError(source, e.instancePath, `missing property "${String(params.missingProperty)}"`);
  }
  return new TopologyError(source, e.instancePath, e.message ?? e.keyword);
}

/** Validate a parsed JSON value as a topology and resolve its defaults. Throws TopologyError. */
export function parseTopology(json: unknown, source: string): Topology {
  if (!validateFile(json)) {
    const first = validateFile.errors?.[0];
    throw first ? schemaError(source, first) : new TopologyError(source, '', 'invalid topology');
  }
  return resolve(json, source);
}

function resolve(file: TopologyFile, source: string): Topology {
  const fail = (pointer: string, detail: string): never => {
    throw new TopologyError(source, pointer, detail);
  };
  // Switches and hosts share one name space: a link end names either.
  const nodes = new Map<string, string>(); // name -> pointer of its definition
  const claim = (name: string, pointer: string): void => {
    const prev = nodes.get(name);
    if (prev !== undefined) fail(pointer, `duplicate name "${name}" (first defined at ${prev})`);
    nodes.set(name, pointer);
  };

  const switchNames = new Set<string>();
  const dpids = new Map<string, string>();
  const switches = file.switches.map((s, i): SwitchSpec => {
    claim(s.name, `/switches/${i}/name`);
    switchNames.add(s.name);
    const where = s.dpid === undefined ? `/switches/${i}` : `/switches/${i}/dpid`;
    const dpid = s.dpid === undefined ? (i + 1).toString(16).padStart(16, '0') : parseDpid(s.dpid);
    if (dpid === null) fail(where, `dpid "${s.dpid}" is not 1 to 16 hex digits (optionally 0x...), or is zero`);
    const resolved = dpid as string;
    const prev = dpids.get(resolved);
    if (prev !== undefined) fail(where, `dpid ${resolved} is already used by ${prev}`);
    dpids.set(resolved, `/switches/${i}`);
    return { name: s.name, dpid: resolved };
  });

  const ips = new Map<string, string>();
  const macs = new Map<string, string>();
  const hostIndex = new Map<string, number>();
  const hosts = file.hosts.map((h, i): HostSpec => {
    claim(h.name, `/hosts/${i}/name`);
    hostIndex.set(h.name, i);
    const addr = parseCidr(h.ip);
    if (typeof addr === 'string') fail(`/hosts/${i}/ip`, addr);
    const address = (addr as Cidr).address;
    const prevIp = ips.get(address);
    if (prevIp !== undefined) fail(`/hosts/${i}/ip`, `address ${address} is already used by ${prevIp}`);
    ips.set(address, `/hosts/${i}`);
    let mac: string;
    if (h.mac === undefined) {
      mac = macFromIp(address);
    } else {
      const parsed = parseMac(h.mac);
      if (parsed === null) fail(`/hosts/${i}/mac`, `"${h.mac}" is not a unicast MAC address like 02:00:00:00:00:01`);
      mac = parsed as string;
    }
    const macWhere = h.mac === undefined ? `/hosts/${i}` : `/hosts/${i}/mac`;
    const prevMac = macs.get(mac);
    if (prevMac !== undefined) fail(macWhere, `MAC ${mac} is already used by ${prevMac}`);
    macs.set(mac, `/hosts/${i}`);
    if (!switchNames.has(h.switch)) {
      fail(`/hosts/${i}/switch`, `"${h.switch}" is not a switch of this topology`);
    }
    return { name: h.name, ip: h.ip, mac, switch: h.switch };
  });

  // Explicit ports first, so that a port picked automatically never takes one named later.
  const usedPorts = new Map<string, Map<number, string>>(); // switch -> port -> pointer
  for (const s of switchNames) usedPorts.set(s, new Map());
  const pairs = new Map<string, string>(); // "a\0b" (sorted) -> pointer of the link
  const attached = new Map<string, string>(); // host -> pointer of its link
  file.links.forEach((l, i) => {
    const at = `/links/${i}`;
    for (const [end, port, key] of [
      [l.a, l.aPort, 'a'],
      [l.b, l.bPort, 'b'],
    ] as const) {
      if (!nodes.has(end)) fail(`${at}/${key}`, `"${end}" is neither a switch nor a host of this topology`);
      if (!switchNames.has(end)) {
        if (port !== undefined) fail(`${at}/${key}Port`, `"${end}" is a host: only switch ends have OpenFlow ports`);
        continue;
      }
      if (port === undefined) continue;
      const ports = usedPorts.get(end) as Map<number, string>;
      const prev = ports.get(port);
      if (prev !== undefined) fail(`${at}/${key}Port`, `port ${port} of ${end} is already used by ${prev}`);
      ports.set(port, `${at}/${key}Port`);
    }
    if (l.a === l.b) fail(`${at}/b`, `a link from "${l.a}" to itself`);
    const pair = [l.a, l.b].sort().join('\0');
    const prev = pairs.get(pair);
    // Links are addressed by their two ends (setLink, reports), so parallel links are not allowed.
    if (prev !== undefined) fail(at, `a second link between ${l.a} and ${l.b} (first at ${prev})`);
    pairs.set(pair, at);
    const aHost = !switchNames.has(l.a);
    const bHost = !switchNames.has(l.b);
    if (aHost && bHost) fail(`${at}/b`, `links host ${l.a} to host ${l.b}: hosts attach to switches only`);
    if (aHost || bHost) {
      const [host, sw, key] = aHost ? [l.a, l.b, 'a'] : [l.b, l.a, 'b'];
      const first = attached.get(host);
      if (first !== undefined) fail(`${at}/${key}`, `host ${host} is already attached by ${first}: a host hangs off exactly one switch`);
      attached.set(host, at);
      const declared = hosts[hostIndex.get(host) as number]?.switch;
      if (declared !== sw) {
        fail(`${at}/${key === 'a' ? 'b' : 'a'}`, `host ${host} declares switch "${declared}" but this link attaches it to "${sw}"`);
      }
    }
  });
  hosts.forEach((h, i) => {
    if (!attached.has(h.name)) {
      fail(`/hosts/${i}`, `host ${h.name} is in no link: add {"a": "${h.name}", "b": "${h.switch}", "bw": ...}`);
    }
  });

  const nextFree = (sw: string): number => {
    const ports = usedPorts.get(sw) as Map<number, string>;
    let p = 1;
    while (ports.has(p)) p++;
    ports.set(p, 'automatic');
    return p;
  };
  const links = file.links.map((l): LinkSpec => ({
    a: l.a,
    b: l.b,
    bw: l.bw,
    aPort: switchNames.has(l.a) ? (l.aPort ?? nextFree(l.a)) : null,
    bPort: switchNames.has(l.b) ? (l.bPort ?? nextFree(l.b)) : null,
  }));

  return {
    name: file.name,
    ...(file.description === undefined ? {} : { description: file.description }),
    source,
    switches,
    hosts,
    links,
  };
}

function parseDpid(text: string): string | null {
  const m = /^(?:0x)?([0-9a-fA-F]{1,16})$/.exec(text);
  if (!m) return null;
  const hex = (m[1] as string).toLowerCase().padStart(16, '0');
  return /^0+$/.test(hex) ? null : hex;
}

interface Cidr {
  address: string;
  prefix: number;
}

/** Parses "a.b.c.d/len"; returns a reason string when it is not a usable host address. */
export function parseCidr(text: string): Cidr | string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  const usage = `"${text}" is not an IPv4 address with prefix length, like 10.0.0.1/24`;
  if (!m) return usage;
  const bytes = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (bytes.some((b) => b > 255) || prefix < 1 || prefix > 32) return usage;
  const value = bytes.reduce((acc, b) => acc * 256 + b, 0);
  if (prefix <= 30) {
    const size = 2 ** (32 - prefix);
    const offset = value % size;
    if (offset === 0) return `${text} is the network address of its subnet, not a host address`;
    if (offset === size - 1) return `${text} is the broadcast address of its subnet, not a host address`;
  }
  return { address: bytes.join('.'), prefix };
}

function parseMac(text: string): string | null {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text)) return null;
  const mac = text.toLowerCase();
  // The group bit must be clear: a host's own address is unicast.
  return (parseInt(mac.slice(0, 2), 16) & 1) === 0 && mac !== '00:00:00:00:00:00' ? mac : null;
}

function macFromIp(address: string): string {
  const hex = address.split('.').map((b) => Number(b).toString(16).padStart(2, '0'));
  return ['02', '00', ...hex].join(':');
}

/** True when `name` is a switch of the topology. */
export function isSwitch(topology: Topology, name: string): boolean {
  return topology.switches.some((s) => s.name === name);
}

/** True when the switch-to-switch links contain a cycle (standalone switches would flood forever). */
export function hasSwitchCycle(topology: Topology): boolean {
  const parent = new Map<string, string>(topology.switches.map((s) => [s.name, s.name]));
  const root = (n: string): string => {
    let r = n;
    while (parent.get(r) !== r) r = parent.get(r) as string;
    return r;
  };
  for (const l of topology.links) {
    if (!parent.has(l.a) || !parent.has(l.b)) continue;
    const [ra, rb] = [root(l.a), root(l.b)];
    if (ra === rb) return true;
    parent.set(ra, rb);
  }
  return false;
}
