#!/usr/bin/python3
"""A Mininet network built the way users build theirs, with Mininet's own API and no meshflow
topology file: what `mn --topo linear,2 --switch ovs,datapath=user,protocols=OpenFlow13
--link tc,bw=8 --controller remote` builds, under names of this run (switches <run>s1, <run>s2;
hosts <run>h1, <run>h2) so that runs never meet. The switch-to-switch link is a TCLink shaped
to BW Mbit/s; host links are not shaped, so the switch link is the bottleneck.

Usage: capacity-net.py <runId> <controllerPort> [bwMbit]. Driven over stdin, one word a line:
  ping            h1 pings h2; replies {"ok": bool}
  iperf <secs>    iperf3 from h1 to h2 for secs seconds, in the background; replies {"started": true}
  iperf-wait      waits for that iperf3 to end; replies {"ok": bool, "output": "..."}
  stop            stops everything (so does end of input, or the driving process dying)
The first line it writes is {"ready": true, "dpids": [...], "intfs": {...}, "ips": {...}}.
Cleanup is by this run's names and pids, recorded with the project builder's run state
(topologies/runstate.py), so a later builder removes what a killed run left.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'topologies'))
import runstate  # noqa: E402


def log(msg):
    sys.stderr.write('capacity-net: %s\n' % msg)
    sys.stderr.flush()


def main():
    run_id, of_port = sys.argv[1], int(sys.argv[2])
    bw = float(sys.argv[3]) if len(sys.argv) > 3 else 8.0
    proto = os.fdopen(os.dup(1), 'w', buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def reply(msg):
        proto.write(json.dumps(msg) + '\n')
        proto.flush()

    from mininet.log import setLogLevel
    from mininet.net import Mininet
    from mininet.node import OVSSwitch, RemoteController, Host
    from mininet.link import TCLink, Link
    setLogLevel(os.environ.get('MESHFLOW_MININET_LOG', 'warning'))

    runstate.sweep_stale(log)
    s1, s2, h1n, h2n = run_id + 's1', run_id + 's2', run_id + 'h1', run_id + 'h2'
    state = runstate.RunState(run_id)
    state.add('bridges', [s1, s2])
    state.add('intfs', [s1 + '-eth1', s1 + '-eth2', s2 + '-eth1', s2 + '-eth2'])
    state.add('netns', [h1n, h2n])
    net = None
    iperf = {}
    stopping = threading.Event()

    def stop(*_args):
        if stopping.is_set():
            return
        stopping.set()
        for p in list(iperf.values()):
            if p.poll() is None:
                p.kill()
        if net is not None:
            try:
                net.stop()
            except Exception as e:  # pylint: disable=broad-except
                log('mininet stop failed (%s): removing by name' % e)
        left = runstate.clean_run(state.data, log)
        if left:
            log('left over: %s' % ', '.join(left))
        else:
            state.remove()

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, on_signal)
    parent = os.getppid()

    def watch_parent():
        while not stopping.is_set():
            time.sleep(1.0)
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGTERM)
                return

    threading.Thread(target=watch_parent, daemon=True).start()
    try:
        net = Mininet(topo=None, build=False, controller=None, autoSetMacs=True)
        c = net.addController(RemoteController(run_id + 'c0', ip='127.0.0.1', port=of_port))
        state.add('pids', [runstate.ident(c.pid)])
        sw1 = net.addSwitch(s1, cls=OVSSwitch, dpid='%016x' % 1, datapath='user', protocols='OpenFlow13')
        sw2 = net.addSwitch(s2, cls=OVSSwitch, dpid='%016x' % 2, datapath='user', protocols='OpenFlow13')
        state.add('pids', [runstate.ident(sw1.pid), runstate.ident(sw2.pid)])
        h1 = net.addHost(h1n, cls=Host, ip='10.0.0.1/24')
        h2 = net.addHost(h2n, cls=Host, ip='10.0.0.2/24')
        for h in (h1, h2):
            out = runstate.run_quiet(['ip', 'netns', 'attach', h.name, str(h.pid)])
            if out.returncode != 0:
                raise RuntimeError('ip netns attach %s: %s' % (h.name, out.stdout.strip()))
        net.addLink(h1, sw1, port2=1, intfName2=s1 + '-eth1', cls=Link)
        net.addLink(sw1, sw2, port1=2, port2=2, intfName1=s1 + '-eth2', intfName2=s2 + '-eth2', cls=TCLink, bw=bw)
        net.addLink(h2, sw2, port2=1, intfName2=s2 + '-eth1', cls=Link)
        net.build()
        net.start()
        for h in (h1, h2):
            # TCP through the userspace datapath stalls unless the host fills in checksums itself.
            h.cmd('ethtool -K %s tx off' % h.defaultIntf().name)
        reply({'ready': True, 'dpids': ['%016x' % 1, '%016x' % 2],
               'intfs': {'s1': s1, 's2': s2, 's1-s2': s1 + '-eth2', 's2-s1': s2 + '-eth2'},
               'ips': {'h1': '10.0.0.1', 'h2': '10.0.0.2'}})
        while True:
            line = sys.stdin.readline()
            if not line:
                break
            words = line.split()
            if not words:
                continue
            if words[0] == 'stop':
                break
            if words[0] == 'ping':
                out = h1.cmd('ping -c 3 -i 0.2 -W 2 10.0.0.2')
                reply({'ok': ' 0% packet loss' in out, 'output': out[-300:]})
            elif words[0] == 'iperf':
                secs = int(words[1]) if len(words) > 1 else 8
                iperf['server'] = h2.popen(['iperf3', '-s', '-1'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(0.5)
                iperf['client'] = h1.popen(['iperf3', '-c', '10.0.0.2', '-t', str(secs)],
                                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
                reply({'started': True})
            elif words[0] == 'iperf-wait':
                p = iperf.get('client')
                out = p.communicate()[0] if p is not None else ''
                reply({'ok': p is not None and p.returncode == 0, 'output': out[-600:]})
            else:
                reply({'error': 'unknown command %s' % words[0]})
    except SystemExit:
        pass
    except Exception as e:  # pylint: disable=broad-except
        log('failed: %s' % e)
        reply({'error': str(e)})
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop()


if __name__ == '__main__':
    main()
