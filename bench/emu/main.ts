// The emulator process: `node --import tsx bench/emu/main.ts`, started by driver.ts with an IPC
// channel. It serves one emulator; it exits when told to stop or when its driver goes away.
import { Emulator } from './emulator.ts';
import type { EmuRequest, EmuResponse } from './protocol.ts';
import { allLinkIds } from './wiring.ts';

if (process.send === undefined) {
  console.error('bench/emu/main.ts runs under driver.ts (it needs an IPC channel)');
  process.exit(2);
}

let emu: Emulator | undefined;

function reply(r: EmuResponse): void {
  process.send?.(r);
}

async function handle(req: EmuRequest): Promise<unknown> {
  if (req.cmd === 'start') {
    if (emu !== undefined) throw new Error('already started');
    emu = new Emulator(req.config);
    await emu.start();
    return {
      dpids: emu.wiring.switches.map((s) => s.dpid.toString(16).padStart(16, '0')),
      links: allLinkIds(emu.wiring),
      hosts: emu.wiring.hosts.map((h) => ({ mac: h.mac, ipv4: h.ipv4, dpid: emu!.wiring.switches[h.switchIndex]!.dpid.toString(16).padStart(16, '0'), port: h.port })),
    };
  }
  if (req.cmd === 'stop') {
    emu?.stop();
    setImmediate(() => process.exit(0));
    return null;
  }
  if (emu === undefined) throw new Error(`${req.cmd} before start`);
  switch (req.cmd) {
    case 'announce':
      return emu.announce();
    case 'traffic':
      emu.traffic(req.mode, req.cap);
      return null;
    case 'storm':
      return emu.storm(req.switchIndex, req.durationMs);
    case 'stats':
      return emu.stats();
    case 'setLoad':
      return emu.setLoad(req.target, req.bps);
    case 'cable':
      emu.cable(req.linkId, req.up);
      return null;
  }
}

process.on('message', (m: { id: number } & EmuRequest) => {
  handle(m).then(
    (result) => reply({ id: m.id, ok: true, result: result ?? null }),
    (err: unknown) => reply({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
// The driver died or closed the channel: nothing left to serve.
process.on('disconnect', () => {
  emu?.stop();
  process.exit(0);
});
