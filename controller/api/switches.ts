// GET /api/v1/switches: the connected switches and their ports, as a person or a dashboard reads them.
import type { FastifyInstance } from 'fastify';
import type { Controller } from '../controller.ts';
import type { SwitchSession } from '../session.ts';
import type { Port } from 'openflow-ts';
import { OFPP_LOCAL, OFPPC_PORT_DOWN, OFPPS_LINK_DOWN } from 'openflow-ts';

export interface PortView {
  readonly number: number | 'local';
  readonly name: string;
  readonly hwAddr: string;
  readonly state: 'up' | 'down';
  readonly adminDown: boolean;
  readonly currSpeedKbps: number;
  readonly maxSpeedKbps: number;
}

/** What the API needs of a group's roles (cluster/roles.ts). */
export interface RoleView {
  roleOf(dpid: string): { readonly role: 'pending' | 'master' | 'slave'; readonly epoch: number; readonly master: string | undefined; readonly since: number } | undefined;
  readonly settings: { readonly controllerId: string };
  /** The epoch this controller speaks for the group with; undefined while another one does. */
  readonly voice: number | undefined;
}

/** This controller's role for the switch, when it is one of a group. */
export interface SwitchRoleView {
  readonly role: 'pending' | 'master' | 'slave';
  /** The fencing number (OpenFlow generation_id) of the switch's master as last seen. */
  readonly epoch: number;
  /** The controller holding the switch's lease (absent: nobody, as last seen). */
  readonly master?: string;
  readonly since: string;
  /** This controller's id in the group. */
  readonly controller: string;
}

export interface SwitchView {
  readonly dpid: string;
  /** Present when this controller is one of a group. */
  readonly role?: SwitchRoleView;
  readonly address: string;
  readonly connectedSince: string;
  readonly nTables: number;
  readonly ports: readonly PortView[];
}

export function portView(p: Port): PortView {
  return {
    number: p.portNo === OFPP_LOCAL ? 'local' : p.portNo,
    name: p.name,
    hwAddr: p.hwAddr,
    state: (p.state & OFPPS_LINK_DOWN) !== 0 || (p.config & OFPPC_PORT_DOWN) !== 0 ? 'down' : 'up',
    adminDown: (p.config & OFPPC_PORT_DOWN) !== 0,
    currSpeedKbps: p.currSpeed,
    maxSpeedKbps: p.maxSpeed,
  };
}

export function switchView(s: SwitchSession): SwitchView {
  return switchViewWith(undefined)(s);
}

/** switchView with this controller's role for each switch, when it is one of a group. */
export const switchViewWith = (roles: RoleView | undefined) => (s: SwitchSession): SwitchView => {
  const ports = [...s.ports.values()].sort((a, b) => a.portNo - b.portNo).map(portView);
  const r = roles?.roleOf(s.dpid);
  return {
    dpid: s.dpid,
    ...(r === undefined || roles === undefined
      ? {}
      : { role: { role: r.role, epoch: r.epoch, ...(r.master === undefined ? {} : { master: r.master }), since: new Date(r.since).toISOString(), controller: roles.settings.controllerId } }),
    address: s.address,
    connectedSince: new Date(s.connectedAt).toISOString(),
    nTables: s.features?.nTables ?? 0,
    ports,
  };
};

// Response schemas: they document the routes in /api/v1/openapi.json and drive serialization, so a field
// added to the views above must be added here too.
const portSchema = {
  type: 'object',
  properties: {
    number: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', enum: ['local'] }], description: 'OpenFlow port number, or "local" for the bridge port' },
    name: { type: 'string' },
    hwAddr: { type: 'string', description: 'MAC address' },
    state: { type: 'string', enum: ['up', 'down'] },
    adminDown: { type: 'boolean' },
    currSpeedKbps: { type: 'integer', minimum: 0 },
    maxSpeedKbps: { type: 'integer', minimum: 0 },
  },
  required: ['number', 'name', 'hwAddr', 'state', 'adminDown', 'currSpeedKbps', 'maxSpeedKbps'],
} as const;

export const switchViewSchema = {
  type: 'object',
  properties: {
    dpid: { type: 'string', pattern: '^[0-9a-f]{16}$', description: 'datapath id, 16 lower-case hex digits' },
    address: { type: 'string', description: 'host:port of the switch\'s OpenFlow connection' },
    connectedSince: { type: 'string', format: 'date-time' },
    nTables: { type: 'integer', minimum: 0 },
    ports: { type: 'array', items: portSchema },
    role: {
      type: 'object',
      description: "this controller's OpenFlow role for the switch, when it is one of a group sharing the switches",
      properties: {
        role: { type: 'string', enum: ['pending', 'master', 'slave'] },
        epoch: { type: 'integer', minimum: 0, description: "fencing number of the switch's lease: the master's OpenFlow generation_id" },
        master: { type: 'string', description: 'the controller holding the switch\'s lease, as last seen' },
        since: { type: 'string', format: 'date-time' },
        controller: { type: 'string', description: "this controller's id in the group" },
      },
      required: ['role', 'epoch', 'since', 'controller'],
    },
  },
  required: ['dpid', 'address', 'connectedSince', 'nTables', 'ports'],
} as const;

const notFoundSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' } },
  required: ['error', 'message'],
} as const;

export function switchRoutes(app: FastifyInstance, controller: Controller, roles?: RoleView): void {
  app.get(
    '/api/v1/switches',
    {
      schema: {
        summary: 'Connected switches and their ports',
        tags: ['topology'],
        response: { 200: { type: 'array', items: switchViewSchema } },
      },
    },
    async () => [...controller.switches.values()].sort((a, b) => a.dpid.localeCompare(b.dpid)).map(switchViewWith(roles)),
  );
  app.get<{ Params: { dpid: string } }>(
    '/api/v1/switches/:dpid',
    {
      schema: {
        summary: 'One connected switch',
        tags: ['topology'],
        params: {
          type: 'object',
          properties: { dpid: { type: 'string', description: 'datapath id in hex; leading zeros optional', examples: ['0000000000000001'] } },
          required: ['dpid'],
        },
        response: { 200: switchViewSchema, 404: notFoundSchema },
      },
    },
    async (req, reply) => {
      const s = controller.switches.get(req.params.dpid.toLowerCase().padStart(16, '0'));
      if (!s) return reply.code(404).send({ error: 'not_found', message: `no connected switch with dpid ${req.params.dpid}` });
      return switchViewWith(roles)(s);
    },
  );
}
