// The roles of one controller in a group sharing switches: per switch, master while it holds the
// switch's Redis lease (ROLE_REQUEST master, generation_id = the lease's fencing number), slave
// otherwise (ROLE_REQUEST slave: the switch still sends it port status, by the default async
// config); and the group's voice on the bus while it holds the "voice" lease.
//
// Never two masters: a master stops programming (its programmer is held, then ROLE_REQUEST slave)
// once `leaseMs - guardMs` have passed since it sent the last claim round Redis answered, which is
// before Redis can let the lease go to anyone else (Redis counts the expiry from when it ran the
// renewal, after we sent it). The switch fences as well: a new master's larger generation_id makes
// the switch treat the old one as a slave, whatever the old one believes.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { OFPBRC_IS_SLAVE, OFPCR_ROLE_MASTER, OFPCR_ROLE_SLAVE, OFPET_BAD_REQUEST } from 'openflow-ts';
import type { ErrorMsg, OpenFlowError, RoleReply } from 'openflow-ts';
import { systemClock, type Cancel, type Clock } from '../../bus/clock.ts';
import type { Claim, LeaseStore } from './lease.ts';

/** What the roles need of a switch session. */
export interface RoleSwitch {
  readonly dpid: string;
  readonly programmer: { hold(reason: string): void; release(): void; readonly held: boolean };
  request(msg: { readonly type: 'role_request'; readonly role: number; readonly generationId: bigint }): Promise<RoleReply>;
  on(event: 'protocol_error', f: (e: OpenFlowError | ErrorMsg) => void): unknown;
  off(event: 'protocol_error', f: (e: OpenFlowError | ErrorMsg) => void): unknown;
}

/** What the roles need of the listener. */
export interface RoleSource<S extends RoleSwitch> {
  readonly switches: ReadonlyMap<string, S>;
  prependListener(event: 'switch_up', f: (s: S) => void): unknown;
  prependListener(event: 'switch_down', f: (s: S) => void): unknown;
  off(event: 'switch_up' | 'switch_down', f: (s: S) => void): unknown;
}

export type Role = 'pending' | 'master' | 'slave';

export interface SwitchRole {
  readonly dpid: string;
  readonly role: Role;
  /** Our fencing number while master; the switch's latest known otherwise. */
  readonly epoch: number;
  /** The controller holding the switch's lease, as last seen (undefined: nobody). */
  readonly master: string | undefined;
  /** When this role began (ms). */
  readonly since: number;
}

export interface ClusterSettings {
  /** This controller's name in the group (the lease owner, and `controller` on its hints). */
  readonly controllerId: string;
  /** Lease lifetime (default 2,000 ms). */
  readonly leaseMs: number;
  /** Claim round period (default leaseMs / 4). */
  readonly renewMs: number;
  /** A master gives up this long before its lease could expire in Redis (default renewMs). */
  readonly guardMs: number;
}

export interface ClusterCounters {
  /** Switches this controller became master of after another controller had been (or could have been). */
  takeovers: number;
  promotions: number;
  demotions: number;
  /** OFPBRC_IS_SLAVE errors the switches sent back (a write that raced a role change). */
  isSlaveErrors: number;
  /** Claim rounds Redis did not answer. */
  claimFailures: number;
}

export interface ClusterEvents<S> {
  /** We are the switch's master now (after its ROLE_REPLY); `takeover`: another controller was before. */
  master: [S, epoch: number, takeover: boolean];
  /** We stopped being the switch's master. */
  demoted: [dpid: string, reason: string];
  /** We speak for the group on the bus now, with this epoch. */
  voice: [epoch: number];
  /** We no longer do. */
  silenced: [reason: string];
}

interface State<S> {
  readonly session: S;
  role: Role;
  epoch: number;
  master: string | undefined;
  since: number;
  /** A ROLE_REQUEST master is out. */
  promoting: boolean;
  /** Bumped whenever the lease is found lost, so a promotion answered after that does not count. */
  losses: number;
  /** We saw another controller (or nobody) hold the lease while we were slave. */
  sawOther: boolean;
  /** Claim rounds in a row that found the lease free. */
  freeRounds: number;
  /** The last ROLE_REQUEST slave we sent carried this counter (0: none sent). */
  slaveSent: number;
  readonly onError: (e: OpenFlowError | ErrorMsg) => void;
}

export const VOICE_LEASE = 'voice';
export const switchLease = (dpid: string): string => `switch:${dpid}`;

export class ClusterRoles<S extends RoleSwitch> extends EventEmitter<ClusterEvents<S>> {
  readonly settings: ClusterSettings;
  readonly counters: ClusterCounters = { takeovers: 0, promotions: 0, demotions: 0, isSlaveErrors: 0, claimFailures: 0 };
  private readonly states = new Map<string, State<S>>();
  private readonly clock: Clock;
  private readonly log: Logger | undefined;
  private voiceEpoch: number | undefined;
  /** When the last claim round that Redis answered was sent. */
  private lastOk = -Infinity;
  private inRound = false;
  private stopTimer: Cancel | undefined;
  private cancelDeadline: Cancel | undefined;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly source: RoleSource<S>,
    private readonly store: LeaseStore,
    settings: Partial<ClusterSettings> & { readonly controllerId: string },
    opts: { readonly clock?: Clock; readonly logger?: Logger } = {},
  ) {
    super();
    const leaseMs = settings.leaseMs ?? 2000;
    const renewMs = settings.renewMs ?? leaseMs / 4;
    this.settings = { leaseMs, renewMs, guardMs: settings.guardMs ?? renewMs, controllerId: settings.controllerId };
    if (this.settings.guardMs + renewMs >= leaseMs) throw new Error('cluster: the lease must outlast a renewal round plus the guard');
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger;
  }

  /** Listens before anything else does, so that no switch is programmed before its role is known. */
  start(): void {
    const up = (s: S): void => this.onUp(s);
    const down = (s: S): void => this.onDown(s);
    this.source.prependListener('switch_up', up);
    this.source.prependListener('switch_down', down);
    this.unsubscribe.push(() => this.source.off('switch_up', up), () => this.source.off('switch_down', down));
    for (const s of this.source.switches.values()) this.onUp(s);
    this.stopTimer = this.clock.setInterval(() => void this.round(), this.settings.renewMs);
    void this.round();
  }

  /** Stops claiming and hands over what we hold (an orderly stop; a killed process hands over at expiry). */
  async stop(): Promise<void> {
    this.stopTimer?.();
    this.cancelDeadline?.();
    for (const u of this.unsubscribe.splice(0)) u();
    const held = [...this.states.values()].filter((s) => s.role === 'master').map((s) => switchLease(s.session.dpid));
    for (const st of this.states.values()) this.demote(st, 'controller stopping');
    if (this.voiceEpoch !== undefined) held.push(VOICE_LEASE);
    this.silence('controller stopping');
    await this.store.release(held, this.settings.controllerId).catch(() => undefined);
  }

  roleOf(dpid: string): SwitchRole | undefined {
    const s = this.states.get(dpid);
    return s === undefined ? undefined : { dpid, role: s.role, epoch: s.epoch, master: s.master, since: s.since };
  }

  roles(): SwitchRole[] {
    return [...this.states.keys()].map((d) => this.roleOf(d)!);
  }

  /** The epoch we speak with on the bus, or undefined while another controller speaks. */
  get voice(): number | undefined {
    return this.voiceEpoch;
  }

  /** One claim round: the voice first, then every switch, as one pipeline. */
  async round(): Promise<void> {
    if (this.inRound) return;
    this.inRound = true;
    const sentAt = this.clock.now();
    const states = [...this.states.values()];
    const claims: Claim[] = [{ name: VOICE_LEASE, mode: 'take' }];
    for (const st of states) {
      // A switch free for two rounds is anyone's; before that, the voice's holder has it first.
      const mode = st.freeRounds >= 2 ? 'take' : 'with';
      claims.push({ name: switchLease(st.session.dpid), mode, with: VOICE_LEASE });
    }
    try {
      const results = await this.store.claim(claims, this.settings.controllerId, this.settings.leaseMs);
      this.lastOk = Math.max(this.lastOk, sentAt);
      this.armDeadline();
      const voice = results[0]!;
      if (voice.held) this.speak(voice.epoch);
      else this.silence(`the voice is ${voice.owner ?? 'nobody'}'s`);
      for (let i = 0; i < states.length; i++) {
        const st = states[i]!;
        const r = results[i + 1]!;
        // The switch left while the round was out.
        if (this.states.get(st.session.dpid) !== st) continue;
        st.master = r.owner;
        if (r.held) {
          st.freeRounds = 0;
          if (st.role !== 'master' || st.epoch !== r.epoch) this.promote(st, r.epoch);
        } else {
          st.freeRounds = r.owner === undefined ? st.freeRounds + 1 : 0;
          st.sawOther = true;
          st.losses++;
          if (st.role === 'master') this.demote(st, `lease held by ${r.owner ?? 'nobody'}`);
          else this.beSlave(st, r.epoch);
        }
      }
    } catch (err) {
      this.counters.claimFailures++;
      this.log?.warn({ err: (err as Error).message }, 'cluster: lease claim round failed');
      this.checkDeadline();
    } finally {
      this.inRound = false;
    }
  }

  private onUp(s: S): void {
    const old = this.states.get(s.dpid);
    if (old !== undefined) old.session.off('protocol_error', old.onError);
    // Nothing is written to the switch until its role is known.
    s.programmer.hold('role not yet known');
    const onError = (e: OpenFlowError | ErrorMsg): void => {
      if ('errorType' in e && e.errorType === OFPET_BAD_REQUEST && e.code === OFPBRC_IS_SLAVE) this.counters.isSlaveErrors++;
    };
    s.on('protocol_error', onError);
    this.states.set(s.dpid, { session: s, role: 'pending', epoch: 0, master: undefined, since: this.clock.now(), promoting: false, losses: 0, sawOther: false, freeRounds: 0, slaveSent: 0, onError });
  }

  private onDown(s: S): void {
    const st = this.states.get(s.dpid);
    if (st === undefined || st.session !== s) return;
    s.off('protocol_error', st.onError);
    this.states.delete(s.dpid);
    // Without a connection we cannot master it: let another controller have it now.
    if (st.role === 'master' || st.promoting) {
      this.counters.demotions++;
      this.emit('demoted', s.dpid, 'switch disconnected');
      void this.store.release([switchLease(s.dpid)], this.settings.controllerId).catch(() => undefined);
    }
  }

  private promote(st: State<S>, epoch: number): void {
    if (st.promoting) return;
    st.promoting = true;
    const s = st.session;
    const losses = st.losses;
    s.request({ type: 'role_request', role: OFPCR_ROLE_MASTER, generationId: BigInt(epoch) }).then(
      () => {
        st.promoting = false;
        // Lost it while the switch answered (deadline passed, or the switch left).
        if (this.states.get(s.dpid) !== st || st.losses !== losses || this.clock.now() >= this.deadline()) return;
        const takeover = st.sawOther;
        st.role = 'master';
        st.epoch = epoch;
        st.master = this.settings.controllerId;
        st.since = this.clock.now();
        st.sawOther = false;
        st.slaveSent = 0;
        s.programmer.release();
        this.counters.promotions++;
        if (takeover) this.counters.takeovers++;
        this.log?.info({ dpid: s.dpid, epoch, takeover }, 'cluster: master of switch');
        this.emit('master', s, epoch, takeover);
      },
      (err: Error) => {
        st.promoting = false;
        this.log?.warn({ dpid: s.dpid, epoch, err: err.message }, 'cluster: switch refused ROLE_REQUEST master');
      },
    );
  }

  private demote(st: State<S>, reason: string): void {
    const s = st.session;
    st.losses++;
    s.programmer.hold(reason);
    const was = st.role;
    st.role = 'slave';
    st.since = this.clock.now();
    if (was === 'master') {
      this.counters.demotions++;
      this.log?.warn({ dpid: s.dpid, reason }, 'cluster: no longer master of switch');
      this.emit('demoted', s.dpid, reason);
    }
    st.slaveSent = 0;
    this.beSlave(st, st.epoch);
  }

  /** Tells the switch we are a slave, once per fencing number (a stale one is refused, harmlessly). */
  private beSlave(st: State<S>, epoch: number): void {
    if (st.role === 'pending') {
      st.role = 'slave';
      st.since = this.clock.now();
    }
    if (st.slaveSent === epoch && epoch > 0) return;
    st.slaveSent = epoch;
    st.session.request({ type: 'role_request', role: OFPCR_ROLE_SLAVE, generationId: BigInt(epoch) }).catch(() => undefined);
  }

  private speak(epoch: number): void {
    if (this.voiceEpoch === epoch) return;
    this.voiceEpoch = epoch;
    this.log?.info({ epoch }, 'cluster: speaking for the group');
    this.emit('voice', epoch);
  }

  private silence(reason: string): void {
    if (this.voiceEpoch === undefined) return;
    this.voiceEpoch = undefined;
    this.emit('silenced', reason);
  }

  private deadline(): number {
    return this.lastOk + this.settings.leaseMs - this.settings.guardMs;
  }

  private armDeadline(): void {
    this.cancelDeadline?.();
    this.cancelDeadline = this.clock.setTimeout(() => this.checkDeadline(), Math.max(0, this.deadline() - this.clock.now()));
  }

  /** Past the deadline without a renewal Redis confirmed: give up everything before Redis can. */
  private checkDeadline(): void {
    if (this.clock.now() < this.deadline()) return;
    for (const st of this.states.values()) if (st.role === 'master') this.demote(st, 'lease not renewed in time (Redis unreachable)');
    this.silence('lease not renewed in time (Redis unreachable)');
  }
}
