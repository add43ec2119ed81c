// `meshflow controller` under a packet-in storm: SIGTERM still ends it, cleanly. A scripted switch
// finishes the handshake and then keeps the socket full of ARP packet-ins from new source MACs.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode, encodeAll, FrameReader } from 'openflow-ts';
import type { OfMessage, Unnumbered } from 'openflow-ts';
import { arpRequest, buildArp } from '../../controller/packet/arp.ts';
import { buildEthernet } from '../../controller/packet/ethernet.ts';
import { waitFor } from '../support/wait.ts';

const BIN = fileURLToPath(new URL('../../bin/meshflow.js', import.meta.url));

/** A switch that answers the handshake by type byte and otherwise only drains what it is sent. */
function stormingSwitch(port: number, dpid: bigint): { socket: Socket; ready: Promise<void>; flood: () => void; stop: () => void } {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const reader = new FrameReader();
  const send = (m: OfMessage): boolean => socket.write(encode(m));
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  socket.on('data', (chunk: Buffer) => {
    for (const frame of reader.push(chunk)) {
      const xid = frame.readUInt32BE(4);
      switch (frame[1]) {
        case 2: // echo request
          send({ type: 'echo_reply', xid, data: Buffer.alloc(0) });
          break;
        case 5: // features request
          send({ type: 'features_reply', xid, datapathId: dpid, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0 });
          break;
        case 18: // multipart request: port descriptions answered, anything else left to the barrier
          if (frame.readUInt16BE(8) === 13) {
            send({
              type: 'multipart_reply', xid, flags: 0,
              body: { kind: 'port_desc', ports: [1, 2].map((n) => ({ portNo: n, hwAddr: `02:00:00:00:00:0${n}`, name: `p${n}`, config: 0, state: 0, curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 10_000_000, maxSpeed: 0 })) },
            });
          }
          break;
        case 20: // barrier request
          send({ type: 'barrier_reply', xid });
          // The second barrier follows the table-miss entry: the switch is ready.
          if (frame.length === 8 && ++barriers === 2) markReady();
          break;
        default:
      }
    }
  });
  let barriers = 0;
  let flooding = false;
  let n = 0;
  const batch = (): Buffer => {
    const msgs: Unnumbered[] = [];
    for (let i = 0; i < 256; i++, n++) {
      const mac = `02:${[(n >> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff, 1].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
      const data = buildEthernet({ dst: 'ff:ff:ff:ff:ff:ff', src: mac, ethType: 0x0806, payload: buildArp(arpRequest(mac, `10.${(n >> 16) & 0xff}.${(n >> 8) & 0xff}.${n & 0xff}`, '10.0.0.1')) });
      msgs.push({ type: 'packet_in', bufferId: 0xffffffff, totalLen: data.length, reason: 0, tableId: 0, cookie: 0n, match: [{ field: 'in_port', value: 1 }], data });
    }
    return encodeAll(msgs, 1);
  };
  const pump = (): void => {
    // Keep the socket full: a batch per turn (this process must keep answering too) until the
    // kernel pushes back, then again on drain.
    if (flooding && socket.write(batch())) setImmediate(pump);
  };
  socket.on('drain', pump);
  socket.write(encode({ type: 'hello', xid: 1, elements: [{ type: 'versionbitmap', versions: [4] }] }));
  return {
    socket,
    ready,
    flood: () => {
      flooding = true;
      pump();
    },
    stop: () => {
      flooding = false;
      socket.destroy();
    },
  };
}

describe('meshflow controller shutdown', function () {
  this.timeout(60_000);
  let dir: string;
  let child: ChildProcess | undefined;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'meshflow-stop-'));
  });
  after(() => {
    if (child?.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends on SIGTERM, exit code 0, while a switch floods it with packet-ins', async () => {
    const proc = spawn(
      process.execPath,
      [BIN, 'controller', '--of-host', '127.0.0.1', '--of-port', '0', '--api-port', '0', '--broker-port', '0', '--event-log', join(dir, 'events.jsonl')],
      { env: { ...process.env, MESHFLOW_LOG: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child = proc;
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    const [ofPort, apiUrl] = await waitFor('the controller to listen', () => {
      const m = /"ofPort":(\d+),"api":"([^"]+)"/.exec(stderr);
      return m ? ([Number(m[1]), m[2]!] as const) : undefined;
    }, { timeoutMs: 30_000 }).catch((err: Error) => {
      throw new Error(`${err.message}; the controller said: ${stderr.slice(0, 3000)}`);
    });
    const sw = stormingSwitch(ofPort, 0x5a5an);
    try {
      await sw.ready;
      sw.flood();
      // The storm is being handled (hosts learned from it), not merely queued.
      await waitFor('hosts learned from the storm', async () => {
        const res = await fetch(`${apiUrl}/api/v1/hosts`);
        return res.ok && ((await res.json()) as unknown[]).length > 0;
      });
      proc.kill('SIGTERM');
      const code = await exited;
      assert.equal(code, 0, stderr.split('\n').slice(-20).join('\n'));
      assert.doesNotMatch(stderr, /stop took too long/);
    } finally {
      sw.stop();
    }
  });
});
