// Packet formats the controller reads from packet-ins and writes into packet-outs.
export * from './errors.ts';
export * from './addr.ts';
export * from './ethernet.ts';
export * from './arp.ts';
export * from './ipv4.ts';
export * from './lldp.ts';
export * from './frame.ts';
export * from './probe.ts';
