#!/usr/bin/python3
"""Sends ARP requests with a new source MAC each, as fast as it can, for a bounded count and time.

Run inside a host's network namespace: every frame misses the switch's tables and becomes a
packet-in, and every one teaches the controller a new host (the storm that froze it once).
Prints {"sent": n, "seconds": s} as JSON on exit.
"""
import argparse
import json
import socket
import struct
import time


def arp_request(mac: bytes, sender_ip: bytes, target_ip: bytes) -> bytes:
    eth = b"\xff" * 6 + mac + b"\x08\x06"
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + sender_ip + b"\x00" * 6 + target_ip
    return eth + arp + b"\x00" * 18  # padded to the 60-byte Ethernet minimum


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--iface", required=True)
    p.add_argument("--count", type=int, default=100_000)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--prefix", type=lambda s: int(s, 0), default=0x02AA, help="first two MAC bytes (locally administered)")
    p.add_argument("--net", default="10.250", help="first two bytes of the sender addresses")
    a = p.parse_args()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    net = bytes(int(x) for x in a.net.split("."))
    target = net + b"\xff\xfe"
    start = time.monotonic()
    deadline = start + a.seconds
    sent = 0
    while sent < a.count:
        if sent % 256 == 0 and time.monotonic() >= deadline:
            break
        mac = struct.pack("!HI", a.prefix, sent + 1)
        ip = net + struct.pack("!H", (sent % 65000) + 1)
        try:
            s.send(arp_request(mac, ip, target))
        except BlockingIOError:
            continue
        except OSError:
            # A full transmit queue: yield briefly and keep going.
            time.sleep(0.0005)
            continue
        sent += 1
    print(json.dumps({"sent": sent, "seconds": round(time.monotonic() - start, 3)}))


if __name__ == "__main__":
    main()
