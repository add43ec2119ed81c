// Test parts for the cluster: a TCP proxy a test can cut (one controller's way to Redis), and
// switches that keep OpenFlow 1.3 role state the way a switch does (the highest generation_id seen,
// one master at a time), so a test can check what the switch believed, not only what controllers did.
import { EventEmitter } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { OFPCR_ROLE_MASTER, OFPCR_ROLE_SLAVE } from 'openflow-ts';
import type { ErrorMsg, OpenFlowError, RoleReply } from 'openflow-ts';
import type { RoleSwitch } from '../../controller/cluster/roles.ts';

export interface Proxy {
  readonly url: string;
  /** Drops every connection and refuses new ones until restored. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<Proxy> {
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('proxy has no port');
  return {
    url: `redis://127.0.0.1:${addr.port}`,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore() {
      open = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** What a switch believes of its controllers' roles (OpenFlow 1.3 §6.3.7). */
export class SwitchModel {
  maxGeneration: bigint | undefined;
  master: string | undefined;
  /** Every change of master, in order, with the time. */
  readonly history: { controller: string | undefined; at: number }[] = [];

  /** A role request from a controller: the reply, or a refusal for a stale generation_id. */
  role(controller: string, role: number, generationId: bigint): 'ok' | 'stale' {
    if (role === OFPCR_ROLE_MASTER || role === OFPCR_ROLE_SLAVE) {
      if (this.maxGeneration !== undefined && generationId < this.maxGeneration) return 'stale';
      this.maxGeneration = generationId;
    }
    if (role === OFPCR_ROLE_MASTER && this.master !== controller) {
      this.master = controller;
      this.history.push({ controller, at: Date.now() });
    } else if (role === OFPCR_ROLE_SLAVE && this.master === controller) {
      this.master = undefined;
      this.history.push({ controller: undefined, at: Date.now() });
    }
    return 'ok';
  }
}

/** One controller's connection to a modelled switch. */
export class FakeSwitch extends EventEmitter implements RoleSwitch {
  /** When this controller's programmer was released (became master) and held again. */
  readonly writable: { from: number; to: number | undefined }[] = [];
  private heldBy: string | undefined = 'new';
  readonly programmer = {
    hold: (reason: string): void => {
      if (this.heldBy === undefined) this.writable.at(-1)!.to = Date.now();
      this.heldBy = reason;
    },
    release: (): void => {
      if (this.heldBy !== undefined) this.writable.push({ from: Date.now(), to: undefined });
      this.heldBy = undefined;
    },
    get held(): boolean {
      return false;
    },
  };

  constructor(
    readonly dpid: string,
    readonly controller: string,
    readonly model: SwitchModel,
  ) {
    super();
    const self = this;
    Object.defineProperty(this.programmer, 'held', { get: () => self.heldBy !== undefined });
  }

  async request(msg: { readonly type: 'role_request'; readonly role: number; readonly generationId: bigint }): Promise<RoleReply> {
    await new Promise((r) => setImmediate(r));
    if (this.model.role(this.controller, msg.role, msg.generationId) === 'stale') throw new Error('OFPRRFC_STALE');
    return { type: 'role_reply', xid: 0, role: msg.role, generationId: msg.generationId };
  }

  override on(event: 'protocol_error', f: (e: OpenFlowError | ErrorMsg) => void): this {
    return super.on(event, f);
  }

  override off(event: 'protocol_error', f: (e: OpenFlowError | ErrorMsg) => void): this {
    return super.off(event, f);
  }
}

/** A listener stand-in: the switches one controller is connected to. */
export class FakeSource extends EventEmitter {
  readonly switches = new Map<string, FakeSwitch>();

  add(s: FakeSwitch): void {
    this.switches.set(s.dpid, s);
    this.emit('switch_up', s);
  }
}

/** Whether two controllers ever both believed they could program one switch at the same time. */
export function overlaps(a: FakeSwitch, b: FakeSwitch): boolean {
  for (const x of a.writable) {
    for (const y of b.writable) {
      const xEnd = x.to ?? Infinity;
      const yEnd = y.to ?? Infinity;
      if (x.from < yEnd && y.from < xEnd) return true;
    }
  }
  return false;
}
