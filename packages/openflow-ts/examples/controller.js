import net from 'node:net';
import { FrameReader, decode, encode, flowMod, OFPP_CONTROLLER, OFPP_FLOOD, OFPCML_NO_BUFFER } from 'openflow-ts';

// A hub: every switch that connects floods every packet. Listens on $PORT (default 6653).
const server = net.createServer((socket) => {
  let xid = 0;
  const send = (msg) => socket.write(encode({ ...msg, xid: ++xid }));
  const reader = new FrameReader();
  send({ type: 'hello', elements: [{ type: 'versionbitmap', versions: [4] }] });
  send({ type: 'features_request' });
  const handle = (msg) => {
    if (msg.type === 'echo_request') socket.write(encode({ type: 'echo_reply', xid: msg.xid, data: msg.data }));
    if (msg.type === 'features_reply') {
      console.log(`switch ${msg.datapathId.toString(16)} connected`);
      const toController = [{ type: 'output', port: OFPP_CONTROLLER, maxLen: OFPCML_NO_BUFFER }];
      send(flowMod({ priority: 0, instructions: [{ type: 'apply_actions', actions: toController }] }));
    }
    if (msg.type === 'packet_in') {
      const inPort = msg.match.find((f) => f.field === 'in_port')?.value ?? 0;
      send({ type: 'packet_out', bufferId: msg.bufferId, inPort, actions: [{ type: 'output', port: OFPP_FLOOD, maxLen: 0 }], data: msg.data });
    }
  };
  socket.on('data', (chunk) => {
    try {
      for (const frame of reader.push(chunk)) handle(decode(frame));
    } catch (e) {
      console.error(`closing: ${e.code} ${e.message}`); // an OpenFlowError ends this connection only
      socket.destroy();
    }
  });
  socket.on('error', () => socket.destroy());
});
server.listen(Number(process.env.PORT ?? 6653), () => console.log(`listening on ${server.address().port}`));
