// The structural part of the topology file format (see topologies/README.md): shapes, types and
// ranges. Cross-references (unknown names, duplicates, ports, host attachment) are checked by hand
// in topology.ts, because JSON Schema cannot say "this name must be one of those".
import { Type, type Static } from '@sinclair/typebox';

// Names end up in Mininet node names, netns names and log file names: keep them shell- and
// file-safe. Length is bounded so that derived names stay readable.
const Name = Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]{0,31}$' });

// OVS accepts ofport_request 1..65279 (0xfeff); higher numbers are reserved OpenFlow ports.
const Port = Type.Integer({ minimum: 1, maximum: 65279 });

export const SwitchFile = Type.Object(
  {
    name: Name,
    dpid: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

export const HostFile = Type.Object(
  {
    name: Name,
    ip: Type.String({ minLength: 1 }),
    mac: Type.Optional(Type.String({ minLength: 1 })),
    switch: Name,
  },
  { additionalProperties: false },
);

export const LinkFile = Type.Object(
  {
    a: Name,
    b: Name,
    // Mbit/s. Mininet's TCLink (HTB) accepts up to 1000.
    bw: Type.Number({ exclusiveMinimum: 0, maximum: 1000 }),
    aPort: Type.Optional(Port),
    bPort: Type.Optional(Port),
  },
  { additionalProperties: false },
);

export const TopologyFile = Type.Object(
  {
    name: Name,
    description: Type.Optional(Type.String()),
    switches: Type.Array(SwitchFile, { minItems: 1 }),
    hosts: Type.Array(HostFile),
    links: Type.Array(LinkFile),
  },
  { additionalProperties: false },
);

export type TopologyFile = Static<typeof TopologyFile>;
