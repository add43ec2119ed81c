#!/usr/bin/python3
"""meshflow's one Mininet builder: turns a resolved topology into a running network
and serves a small JSON-lines protocol on stdin/stdout (see topologies/README.md).

Run it with /usr/bin/python3 (Debian's Mininet package lives there). stdout carries
protocol replies only; Mininet's own output and our progress lines go to stderr.
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import runstate  # noqa: E402  (after the path tweak on purpose)

RUN_ID = re.compile(r'^[a-z0-9]{4}$')
SHORT_SWITCH = re.compile(r'^[a-z][a-z0-9]{0,3}$')
MAX_IFNAME = 15
HOST_INTF = 'eth0'  # lives in the host's own namespace, so it never collides with another run
SIGNALS = {'TERM': signal.SIGTERM, 'KILL': signal.SIGKILL, 'INT': signal.SIGINT, 'HUP': signal.SIGHUP}


def log(msg):
    sys.stderr.write('builder: %s\n' % msg)
    sys.stderr.flush()


class BuilderError(Exception):
    """An error reported to the client as {id, error}; the builder keeps serving."""


def ovs_names(run_id, topo):
    """OVS bridge and switch-port interface names of one run, all carrying the run id.
    Switch names are kept when every one is short (s1 -> mfab12s1), because that reads
    well in ovs-vsctl output; otherwise switches are numbered in file order."""
    switches = [s['name'] for s in topo['switches']]
    use_names = all(SHORT_SWITCH.match(n) for n in switches)
    bridges = {}
    for i, name in enumerate(switches):
        bridges[name] = 'mf' + run_id + (name if use_names else 's%d' % (i + 1))
    return bridges


def port_intf(bridge, port):
    name = '%s-%d' % (bridge, port)
    if len(name) > MAX_IFNAME:
        raise BuilderError('interface name %s is longer than %d characters; use smaller port '
                           'numbers or shorter switch names' % (name, MAX_IFNAME))
    return name


class Network(object):
    """One Mininet network of one run, plus the processes spawned into its hosts."""

    def __init__(self, req):
        topo = req['topology']
        run_id = req['runId']
        if not RUN_ID.match(run_id or ''):
            raise BuilderError('runId must be 4 characters [a-z0-9], got %r' % run_id)
        fail_mode = req.get('failMode', 'secure')
        if fail_mode not in ('secure', 'standalone'):
            raise BuilderError('failMode must be secure or standalone')
        self.run_id = run_id
        self.topo = topo
        self.fail_mode = fail_mode
        self.controller = req.get('controller')  # None: no controller at all
        self.stp = bool(req.get('stp', False))
        self.bridges = ovs_names(run_id, topo)
        self.host_names = {h['name']: 'mf%s-%s' % (run_id, h['name']) for h in topo['hosts']}
        self.switch_set = set(self.bridges)
        self.links = []  # (topology link, mininet link, a intf name, b intf name)
        self.spawned = {}  # pid -> (Popen, host, logFile)
        self.inflight = set()  # Popen of running `cmd` requests
        self.lock = threading.Lock()
        self.net = None
        self.spawn_count = 0
        self.state = None

    # ---- build ---------------------------------------------------------------------------------

    def plan(self):
        """Every root-namespace name this run will create, known before anything is created."""
        intfs = []
        for link in self.topo['links']:
            for end, port in ((link['a'], link.get('aPort')), (link['b'], link.get('bPort'))):
                if end in self.switch_set:
                    intfs.append(port_intf(self.bridges[end], port))
        clash = set(self.bridges.values()) & set(existing_bridges())
        if clash:
            raise BuilderError('bridges already exist: %s' % ', '.join(sorted(clash)))
        return intfs

    def start(self):
        # Mininet is imported late so that a client error (bad request) needs no Mininet.
        from mininet.net import Mininet
        from mininet.node import OVSSwitch, RemoteController, Host
        from mininet.link import TCLink

        runstate.sweep_stale(log)
        intfs = self.plan()
        self.state = runstate.RunState(self.run_id)
        self.state.add('bridges', sorted(self.bridges.values()))
        self.state.add('intfs', intfs)
        self.state.add('netns', sorted(self.host_names.values()))
        os.makedirs(self.state.data['logDir'], exist_ok=True)

        net = Mininet(topo=None, build=False, controller=None, switch=OVSSwitch, host=Host,
                      link=TCLink, autoSetMacs=False, autoStaticArp=False)
        self.net = net
        if self.controller is not None:
            c = net.addController(RemoteController('mf%sc0' % self.run_id,
                                                   ip=self.controller['host'],
                                                   port=int(self.controller['port'])))
            self.state.add('pids', [runstate.ident(c.pid)])
        for sw in self.topo['switches']:
            node = net.addSwitch(self.bridges[sw['name']], cls=OVSSwitch, dpid=sw['dpid'],
                                 datapath='user', protocols='OpenFlow13',
                                 failMode=self.fail_mode, stp=self.stp, batch=True)
            self.state.add('pids', [runstate.ident(node.pid)])
        for h in self.topo['hosts']:
            name = self.host_names[h['name']]
            node = net.addHost(name, cls=Host, ip=h['ip'], mac=h['mac'])
            # Pin the namespace under our own name: cleanup can then find every process in it
            # (ip netns pids) even after the host shell died, and no other run can own it.
            out = runstate.run_quiet(['ip', 'netns', 'attach', name, str(node.pid)])
            if out.returncode != 0:
                raise BuilderError('ip netns attach %s: %s' % (name, out.stdout.strip()))
        for link in self.topo['links']:
            self.links.append(self.add_link(net, link, TCLink))
        log('run %s: %d switches, %d hosts, %d links created; starting' % (
            self.run_id, len(self.bridges), len(self.host_names), len(self.links)))
        net.build()
        net.start()
        for h in self.topo['hosts']:
            node = net.get(self.host_names[h['name']])
            # TCP through the userspace datapath stalls unless the host fills in checksums itself.
            out = node.cmd('ethtool -K %s tx off >/dev/null 2>&1; echo $?' % HOST_INTF).strip()
            if not out.endswith('0'):
                raise BuilderError('ethtool -K %s tx off failed on %s' % (HOST_INTF, h['name']))
        self.check_ofports()
        return self.ifaces()

    def add_link(self, net, link, link_cls):
        a, b = link['a'], link['b']
        if a not in self.switch_set:  # a is a host: put it first, its end is eth0 in its namespace
            host, sw, sw_port = a, b, link['bPort']
        elif b not in self.switch_set:
            host, sw, sw_port = b, a, link['aPort']
        else:
            host = None
        if host is not None:
            h = next(x for x in self.topo['hosts'] if x['name'] == host)
            sw_intf = port_intf(self.bridges[sw], sw_port)
            ml = net.addLink(self.host_names[host], self.bridges[sw], port1=0, port2=sw_port,
                             intfName1=HOST_INTF, intfName2=sw_intf, addr1=h['mac'],
                             cls=link_cls, bw=link['bw'])
            names = (HOST_INTF, sw_intf) if host == a else (sw_intf, HOST_INTF)
        else:
            a_intf = port_intf(self.bridges[a], link['aPort'])
            b_intf = port_intf(self.bridges[b], link['bPort'])
            ml = net.addLink(self.bridges[a], self.bridges[b], port1=link['aPort'],
                             port2=link['bPort'], intfName1=a_intf, intfName2=b_intf,
                             cls=link_cls, bw=link['bw'])
            names = (a_intf, b_intf)
        return (link, ml, names[0], names[1])

    def check_ofports(self):
        """Mininet asks OVS for each port number (ofport_request); make sure it got them."""
        want = {}
        for link, _ml, a_intf, b_intf in self.links:
            if link['a'] in self.switch_set:
                want[a_intf] = link['aPort']
            if link['b'] in self.switch_set:
                want[b_intf] = link['bPort']
        if not want:
            return
        deadline = time.monotonic() + 10
        while True:
            out = runstate.run_quiet(['ovs-vsctl', '--format=json', '--columns=name,ofport',
                                      'list', 'Interface'] + sorted(want))
            got = {}
            if out.returncode == 0:
                for name, ofport in json.loads(out.stdout)['data']:
                    got[name] = ofport
            wrong = [n for n, p in want.items() if got.get(n) != p]
            if not wrong:
                return
            if time.monotonic() > deadline:
                raise BuilderError('OVS did not assign the requested port numbers: ' + ', '.join(
                    '%s wants %s has %s' % (n, want[n], got.get(n)) for n in sorted(wrong)))
            time.sleep(0.1)

    # ---- queries and operations ----------------------------------------------------------------

    def ifaces(self):
        links = []
        for link, _ml, a_intf, b_intf in self.links:
            links.append({'a': link['a'], 'b': link['b'], 'bw': link['bw'],
                          'aPort': link.get('aPort'), 'bPort': link.get('bPort'),
                          'aIntf': a_intf, 'bIntf': b_intf})
        hosts = []
        for h in self.topo['hosts']:
            link = next(l for l in links if h['name'] in (l['a'], l['b']))
            at_a = link['a'] == h['name']
            hosts.append({'name': h['name'], 'ip': h['ip'], 'mac': h['mac'], 'intf': HOST_INTF,
                          'switch': link['b'] if at_a else link['a'],
                          'port': link['bPort'] if at_a else link['aPort'],
                          'switchIntf': link['bIntf'] if at_a else link['aIntf'],
                          'netns': self.host_names[h['name']]})
        return {
            'runId': self.run_id,
            'switches': [{'name': s['name'], 'bridge': self.bridges[s['name']], 'dpid': s['dpid']}
                         for s in self.topo['switches']],
            'links': links,
            'hosts': hosts,
        }

    def host(self, name):
        if name not in self.host_names:
            raise BuilderError('unknown host %r' % name)
        return self.net.get(self.host_names[name])

    def run_cmd(self, req, reply):
        """Runs on its own thread: a command may take as long as an iperf3 run."""
        try:
            node = self.host(req['host'])
            timeout = req.get('timeoutMs', 60000) / 1000.0
            proc = popen_in(node, req['command'], subprocess.PIPE)
            with self.lock:
                self.inflight.add(proc)
            try:
                out, _ = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                kill_group(proc.pid, signal.SIGKILL)
                out, _ = proc.communicate()
                raise BuilderError('command timed out after %d ms on %s: %s; output: %s' % (
                    timeout * 1000, req['host'], req['command'], tail(out)))
            finally:
                with self.lock:
                    self.inflight.discard(proc)
            reply({'id': req['id'], 'result': {'output': out.decode('utf-8', 'replace'),
                                                'code': proc.returncode}})
        except Exception as e:  # pylint: disable=broad-except
            reply({'id': req['id'], 'error': describe(e)})

    def spawn(self, req):
        node = self.host(req['host'])
        log_file = req.get('logFile')
        if not log_file:
            self.spawn_count += 1
            log_file = os.path.join(self.state.data['logDir'],
                                    '%s-%d.log' % (req['host'], self.spawn_count))
        with open(log_file, 'ab') as out:
            proc = popen_in(node, req['command'], out)
        self.spawned[proc.pid] = (proc, req['host'], log_file)
        return {'pid': proc.pid, 'logFile': log_file}

    def kill(self, req):
        pid = req['pid']
        if pid not in self.spawned:
            raise BuilderError('pid %r was not spawned by this run (or was already killed)' % pid)
        sig = SIGNALS.get(req.get('signal', 'TERM'))
        if sig is None:
            raise BuilderError('signal must be one of %s' % ', '.join(sorted(SIGNALS)))
        proc = self.spawned.pop(pid)[0]
        return {'code': stop_process(proc, sig)}

    def set_link(self, req):
        a, b, state = req['a'], req['b'], req['state']
        if state not in ('up', 'down'):
            raise BuilderError('state must be up or down')
        for link, ml, _ai, _bi in self.links:
            if {link['a'], link['b']} == {a, b}:
                ml.intf1.ifconfig(state)
                ml.intf2.ifconfig(state)
                return {}
        raise BuilderError('no link between %s and %s' % (a, b))

    def reap(self):
        """Forget spawned processes that ended on their own (and collect their exit status)."""
        for pid, (proc, _h, _f) in list(self.spawned.items()):
            if proc.poll() is not None:
                del self.spawned[pid]

    # ---- teardown ------------------------------------------------------------------------------

    def stop(self):
        for proc, _h, _f in list(self.spawned.values()):
            stop_process(proc, signal.SIGTERM)
        self.spawned.clear()
        with self.lock:
            inflight = list(self.inflight)
        for proc in inflight:
            kill_group(proc.pid, signal.SIGKILL)
        if self.net is not None:
            try:
                self.net.stop()
            except Exception as e:  # pylint: disable=broad-except
                log('mininet stop failed (%s); removing by name' % describe(e))
            self.net = None
        leftovers = []
        if self.state is not None:
            leftovers = runstate.clean_run(self.state.data, log)
            if not leftovers:
                self.state.remove()
            self.state = None
        return {'leftovers': leftovers}


PR_SET_CHILD_SUBREAPER = 36


def become_subreaper():
    """Orphans of spawned process trees (a pipeline whose shell was killed) are reparented to us
    instead of to pid 1, which on these machines does not reap them: they would stay zombies."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        log('prctl(PR_SET_CHILD_SUBREAPER) failed; orphaned zombies may linger')


def proc_stats():
    """(pid, fields after the command name) of every process in /proc/<pid>/stat: fields[0] is
    the state, [1] the parent, [2] the process group, [3] the session. Processes that exit
    while being read are skipped."""
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                yield int(entry), f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue


def reap_orphans():
    """Reap zombie orphans that were reparented to us. Only processes in a session led by another
    process qualify: our own children (Mininet's Popen objects, which wait for themselves) are
    either in our session or lead their own, and must not have their exit status stolen."""
    me, my_sid = os.getpid(), os.getsid(0)
    for pid, fields in proc_stats():
        state, ppid, sid = fields[0], int(fields[1]), int(fields[3])
        if state == 'Z' and ppid == me and sid not in (pid, my_sid):
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def reaper_loop():
    while True:
        time.sleep(0.5)
        reap_orphans()


def popen_in(node, command, stdout):
    """Run `bash -c command` in a host's namespace as the leader of a new session, so that
    kill_group() reaches it and its children. The session is created by Popen before exec
    (not by mnexec -d after it), so a kill right after spawn cannot miss the group."""
    return node.popen(['bash', '-c', command], mncmd=['mnexec', '-a', str(node.pid)],
                      start_new_session=True, stdin=subprocess.DEVNULL, stdout=stdout,
                      stderr=subprocess.STDOUT)


def existing_bridges():
    out = runstate.run_quiet(['ovs-vsctl', '--timeout=10', 'list-br'])
    if out.returncode != 0:
        raise BuilderError('ovs-vsctl list-br failed: %s (run scripts/system.sh)' % out.stdout.strip())
    return out.stdout.split()


def kill_group(pid, sig):
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def stop_process(proc, sig, grace_s=5.0):
    """Signal a spawned process group and wait until every member has ended (a pipeline's other
    members outlive its shell by a moment); SIGKILL whatever is left after the grace time."""
    deadline = time.monotonic() + grace_s
    kill_group(proc.pid, sig)
    try:
        code = proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid, signal.SIGKILL)
        code = proc.wait()
    killed = False
    while group_alive(proc.pid):
        if time.monotonic() > deadline:
            if killed:
                log('process group %d survives SIGKILL' % proc.pid)
                break
            kill_group(proc.pid, signal.SIGKILL)
            killed, deadline = True, time.monotonic() + 2
        time.sleep(0.02)
    reap_orphans()
    return code


def group_alive(pgid):
    """True while a process of the group is still running (zombies do not count)."""
    for _pid, fields in proc_stats():
        if int(fields[2]) == pgid and fields[0] != 'Z':
            return True
    return False


def tail(out, n=400):
    text = (out or b'').decode('utf-8', 'replace')
    return text[-n:]


def describe(e):
    if isinstance(e, (BuilderError, RuntimeError)):
        return str(e)
    if isinstance(e, KeyError):
        return 'missing field %s' % e
    return '%s: %s' % (type(e).__name__, e)


class Server(object):
    """Reads requests from stdin, one JSON object a line, and writes replies to `out`."""

    def __init__(self, out):
        self.out = out
        self.out_lock = threading.Lock()
        self.network = None

    def reply(self, msg):
        line = json.dumps(msg)
        with self.out_lock:
            self.out.write(line + '\n')
            self.out.flush()

    def serve(self):
        while True:
            line = sys.stdin.readline()
            if not line:
                log('stdin closed: stopping')
                return
            line = line.strip()
            if not line:
                continue
            try:
                req = json.loads(line)
                if not isinstance(req, dict) or 'op' not in req:
                    raise BuilderError('a request is a JSON object with "id" and "op"')
            except (ValueError, BuilderError) as e:
                self.reply({'id': None, 'error': 'bad request: %s' % e})
                continue
            if self.handle(req):
                return

    def handle(self, req):
        """Handle one request; returns True once the builder should exit."""
        rid = req.get('id')
        op = req['op']
        if self.network is not None:
            self.network.reap()
        try:
            if op == 'cmd':
                net = self.need_network()
                threading.Thread(target=net.run_cmd, args=(req, self.reply), daemon=True).start()
                return False
            if op == 'start':
                if self.network is not None:
                    raise BuilderError('a network is already running in this builder')
                net = Network(req)
                try:
                    result = net.start()
                except BaseException:
                    net.stop()
                    raise
                self.network = net
            elif op == 'spawn':
                result = self.need_network().spawn(req)
            elif op == 'kill':
                result = self.need_network().kill(req)
            elif op == 'link':
                result = self.need_network().set_link(req)
            elif op == 'ifaces':
                result = self.need_network().ifaces()
            elif op == 'stop':
                result = self.stop()
                self.reply({'id': rid, 'result': result})
                return True
            else:
                raise BuilderError('unknown op %r' % op)
            self.reply({'id': rid, 'result': result})
        except Exception as e:  # pylint: disable=broad-except
            self.reply({'id': rid, 'error': describe(e)})
        return False

    def need_network(self):
        if self.network is None:
            raise BuilderError('no network: send start first')
        return self.network

    def stop(self):
        if self.network is None:
            return {'leftovers': []}
        net, self.network = self.network, None
        return net.stop()


class QuietHtb(object):
    """Drops HTB's 'quantum of class ... is big' warning: it is printed for every link faster than
    about 16 Mbit/s, Mininet cannot change r2q, and shaping works regardless."""

    @staticmethod
    def filter(record):
        return 'quantum of class' not in str(record.getMessage())


def watch_parent(parent):
    """Stops the network when the process that drives it is gone, even if stdin stays open
    (a descendant of that process may still hold the other end of the pipe)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            log('driver process %d is gone: stopping' % parent)
            os.kill(os.getpid(), signal.SIGTERM)
            return


def main():
    if sys.argv[1:] == ['--sweep']:
        runstate.sweep_stale(log)
        return
    # Keep a private handle on the real stdout for protocol replies, and point fd 1 at stderr
    # so that nothing else (Mininet, a child process) can ever write into the protocol stream.
    proto = os.fdopen(os.dup(1), 'w', buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    from mininet.log import setLogLevel
    from mininet.log import lg
    setLogLevel(os.environ.get('MESHFLOW_MININET_LOG', 'warning'))
    lg.addFilter(QuietHtb())
    server = Server(proto)
    become_subreaper()
    threading.Thread(target=reaper_loop, daemon=True).start()

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, on_signal)
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    try:
        server.serve()
    finally:
        # Whatever ended the loop (stop, EOF, signal), leave nothing behind.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        result = server.stop()
        reap_orphans()
        if result['leftovers']:
            log('left over: %s' % ', '.join(result['leftovers']))


if __name__ == '__main__':
    main()
