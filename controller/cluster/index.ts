// A controller as one of a group sharing switches: the roles (roles.ts) over Redis leases
// (lease.ts), what a new master does with a switch (adopt.ts), the group's hosts in Redis
// (hosts.ts), and the bus gate (voice.ts): only the group's voice publishes hints, stamped with its
// controller id and epoch. run.ts starts one of these when given --cluster-redis.
import type { Logger } from 'pino';
import type { Controller } from '../controller.ts';
import type { SwitchSession, TableMissPolicy } from '../session.ts';
import type { Network } from '../routing/network.ts';
import { systemClock, type Clock } from '../../bus/clock.ts';
import { RedisLeaseStore } from './lease.ts';
import { ClusterRoles, type ClusterSettings } from './roles.ts';
import { HostMirror } from './hosts.ts';
import { IntentMirror } from './intents.ts';
import type { IntentService } from '../intents/service.ts';
import { adoptSwitch, readFlows } from './adopt.ts';
import { flowsFromRules, type SwitchRules } from '../routing/adopt.ts';
import { VoiceGate } from './voice.ts';
import { hearLinksAsSlave } from './slave-links.ts';
import { createHash } from 'node:crypto';

export { ClusterRoles, type SwitchRole, type Role } from './roles.ts';

export interface ClusterOptions {
  /** redis:// URL of the group's Redis (ioredis also takes Sentinel and TLS URLs). */
  readonly redisUrl: string;
  readonly controllerId: string;
  /** Key prefix: one Redis may hold several groups (default "meshflow:cluster"). */
  readonly prefix?: string;
  readonly leaseMs?: number;
  readonly renewMs?: number;
  /** A new voice publishes link states and cost rows only after this long, once its monitor has a baseline (default 3,000 ms). */
  readonly warmupMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface RunningCluster {
  readonly roles: ClusterRoles<SwitchSession>;
  readonly store: RedisLeaseStore;
  readonly hosts: HostMirror;
  readonly intents: IntentMirror;
  readonly voice: VoiceGate;
  readonly settings: ClusterSettings;
  /** The LLDP instance every controller of the group uses. */
  readonly lldpInstance: string;
  /** What a switch gets at its handshake in a group: nothing (its master adopts it, adopt.ts). */
  readonly handshakeTableMiss: TableMissPolicy;
  /** Starts taking roles; call before the OpenFlow port opens, after the network's listeners. */
  start(controller: Controller, network: Network, tableMiss: TableMissPolicy, intentService?: IntentService): Promise<void>;
  stop(): Promise<void>;
}

/** The group's LLDP instance: the same 16 hex digits for every controller with this prefix. */
export function groupInstance(prefix: string): string {
  return createHash('sha256').update(`meshflow-lldp:${prefix}`).digest('hex').slice(0, 16);
}

export async function openCluster(opts: ClusterOptions): Promise<RunningCluster> {
  const prefix = opts.prefix ?? 'meshflow:cluster';
  const log = opts.logger;
  const clock = opts.clock ?? systemClock;
  const store = new RedisLeaseStore(opts.redisUrl, { prefix });
  await store.connect();
  let roles: ClusterRoles<SwitchSession> | undefined;
  let hosts: HostMirror | undefined;
  let stopAdopt = (): void => undefined;
  let offSwitchUp = (): void => undefined;
  const voice = new VoiceGate({ controllerId: opts.controllerId, warmupMs: opts.warmupMs ?? 3000, clock });
  const intents = new IntentMirror(store.redis, `${prefix}:intents`, () => voice.origin() !== undefined, log);
  const running: RunningCluster = {
    get roles() {
      if (roles === undefined) throw new Error('cluster not started');
      return roles;
    },
    store,
    get hosts() {
      if (hosts === undefined) throw new Error('cluster not started');
      return hosts;
    },
    intents,
    voice,
    get settings() {
      return running.roles.settings;
    },
    lldpInstance: groupInstance(prefix),
    handshakeTableMiss: () => [],
    async start(controller, network, tableMiss, intentService) {
      // A range of flow numbers of our own, above every earlier process's (forwarding cookies).
      const range = await store.redis.incr(`${prefix}:flow-range`);
      network.forwarding.numberFromEpoch(range);
      const r = new ClusterRoles<SwitchSession>(controller, store, { controllerId: opts.controllerId, leaseMs: opts.leaseMs, renewMs: opts.renewMs }, { clock, logger: log });
      const h = new HostMirror(store.redis, network.discovery, `${prefix}:hosts`, log);
      roles = r;
      hosts = h;
      h.start();
      const hear = (s: SwitchSession): void => {
        hearLinksAsSlave(s).catch((err: Error) => log?.warn({ dpid: s.dpid, err: err.message }, 'cluster: asking to hear LLDP as slave failed'));
      };
      for (const s of controller.switches.values()) hear(s);
      controller.on('switch_up', hear);
      offSwitchUp = () => controller.off('switch_up', hear);
      let restored = -Infinity;
      let cancelAdopt: (() => void) | undefined;
      // Once the links are back (an LLDP round after the last takeover of a burst), the previous
      // master's forwarding rules on every switch we master become our flows (routing/adopt.ts).
      const adoptFlows = async (): Promise<void> => {
        const tables: SwitchRules[] = [];
        for (const role of r.roles()) {
          const s = controller.switches.get(role.dpid);
          if (role.role !== 'master' || s === undefined) continue;
          tables.push({ dpid: role.dpid, flows: await readFlows(s) });
        }
        const flows = flowsFromRules(tables, network.discovery.snapshot());
        const n = network.forwarding.adopt(flows);
        log?.info({ switches: tables.length, flows: n }, 'cluster: adopted the forwarding flows on the switches');
        if (intentService !== undefined) {
          const k = await intents.restore(intentService);
          if (k > 0) log?.info({ intents: k }, 'cluster: adopted the group\'s intents');
        }
      };
      r.on('master', (s, epoch, takeover) => {
        network.discovery.probe(s.dpid);
        adoptSwitch(s, tableMiss).then(
          (a) => log?.info({ dpid: s.dpid, epoch, takeover, flows: a.flows, installedTableMiss: a.installedTableMiss }, 'cluster: adopted switch'),
          (err: Error) => log?.warn({ dpid: s.dpid, err: err.message }, 'cluster: adopting the switch failed'),
        );
        cancelAdopt?.();
        cancelAdopt = clock.setTimeout(() => {
          cancelAdopt = undefined;
          adoptFlows().catch((err: Error) => log?.warn({ err: err.message }, 'cluster: adopting forwarding flows failed'));
        }, network.discovery.intervalMs + 500);
        // One read of the group's hosts per burst of takeovers (a master's death hands over every switch at once).
        if (clock.now() - restored > r.settings.leaseMs) {
          restored = clock.now();
          h.restore().then(
            (n) => log?.info({ hosts: n }, 'cluster: hosts restored from Redis'),
            (err: Error) => log?.warn({ err: err.message }, 'cluster: reading hosts from Redis failed'),
          );
        }
      });
      stopAdopt = () => cancelAdopt?.();
      r.on('voice', (epoch) => voice.speak(epoch));
      r.on('silenced', () => voice.silence());
      r.start();
    },
    async stop() {
      hosts?.stop();
      stopAdopt();
      offSwitchUp();
      await roles?.stop();
      await store.close();
    },
  };
  return running;
}
