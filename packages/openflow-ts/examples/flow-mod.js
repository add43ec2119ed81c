import { encode, flowMod, OFPFF_SEND_FLOW_REM } from 'openflow-ts';

// TCP to 10.0.1.7:80 arriving on port 1 leaves on port 2; idle flows expire after 30 s.
const msg = {
  ...flowMod({
    priority: 1000,
    idleTimeout: 30,
    flags: OFPFF_SEND_FLOW_REM,
    match: [
      { field: 'in_port', value: 1 },
      { field: 'eth_type', value: 0x0800 },
      { field: 'ip_proto', value: 6 },
      { field: 'ipv4_dst', value: '10.0.1.7' },
      { field: 'tcp_dst', value: 80 },
    ],
    instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 2, maxLen: 0 }] }],
  }),
  xid: 42,
};
console.log(encode(msg).toString('hex'));
