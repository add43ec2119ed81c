// A switch that is not one: it speaks just enough OpenFlow 1.3 to complete the controller's
// handshake under any datapath id it is told to claim, over TCP or TLS. The attacks in
// openflow.ts (and the reliability tests that run them) use it to impersonate, churn and stall.
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { decode, encode, FrameReader, type OfMessage } from 'openflow-ts';

export interface FakeSwitchOptions {
  readonly port: number;
  readonly host?: string;
  readonly dpid: bigint;
  /** Answer echo requests (a live switch does; a dead or half-open one does not). Default true. */
  readonly answerEcho?: boolean;
  /** TLS client identity (PEM; none: connect without a certificate) and the CA that signs the controller's certificate. */
  readonly tls?: { readonly key?: Buffer; readonly cert?: Buffer; readonly ca: Buffer };
}

export class FakeSwitch {
  readonly socket: Socket;
  /** Resolves once the controller has sent the handshake's table-miss barrier and it was answered. */
  readonly handshaken: Promise<void>;
  /** Resolves when the connection has ended, whoever ended it. */
  readonly closed: Promise<void>;
  answerEcho: boolean;
  echoesAnswered = 0;
  private readonly reader = new FrameReader();
  private sawFlowMod = false;
  private done: (() => void) | undefined;
  isClosed = false;

  constructor(readonly opts: FakeSwitchOptions) {
    this.answerEcho = opts.answerEcho ?? true;
    const host = opts.host ?? '127.0.0.1';
    this.socket = opts.tls
      ? tlsConnect({ port: opts.port, host, ...opts.tls, checkServerIdentity: () => undefined })
      : tcpConnect(opts.port, host);
    this.handshaken = new Promise((resolve) => (this.done = resolve));
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    this.socket.on('close', () => (this.isClosed = true));
    this.socket.on('error', () => undefined);
    this.socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = this.reader.push(chunk);
      } catch {
        this.socket.destroy();
        return;
      }
      for (const f of frames) this.answer(decode(f));
    });
    this.send({ type: 'hello', xid: 1, elements: [{ type: 'versionbitmap', versions: [4] }] });
  }

  send(msg: OfMessage): void {
    if (!this.socket.destroyed) this.socket.write(encode(msg));
  }

  /** Leaves at once (no goodbye; anything unsent is lost). */
  end(): void {
    this.socket.destroy();
  }

  /** Leaves once what it has written is sent (a FIN after the last answer). */
  leave(): void {
    this.socket.end();
  }

  private answer(msg: OfMessage): void {
    switch (msg.type) {
      case 'features_request':
        return this.send({ type: 'features_reply', xid: msg.xid, datapathId: this.opts.dpid, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0 });
      case 'multipart_request':
        // No ports, no meters, no statistics: an empty answer of the asked kind where one exists.
        if (msg.body.kind === 'port_desc') this.send({ type: 'multipart_reply', xid: msg.xid, flags: 0, body: { kind: 'port_desc', ports: [] } });
        else if (msg.body.kind === 'port_stats') this.send({ type: 'multipart_reply', xid: msg.xid, flags: 0, body: { kind: 'port_stats', stats: [] } });
        return;
      case 'flow_mod':
        this.sawFlowMod = true;
        return;
      case 'barrier_request':
        this.send({ type: 'barrier_reply', xid: msg.xid });
        if (this.sawFlowMod) this.done?.();
        return;
      case 'echo_request':
        if (!this.answerEcho) return;
        this.echoesAnswered++;
        return this.send({ type: 'echo_reply', xid: msg.xid, data: msg.data });
      default:
    }
  }
}
