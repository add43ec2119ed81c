"""Per-run state files for the meshflow Mininet builder, and the cleanup that uses them.

Every builder run records, before it creates anything, the names it is about to
create (OVS bridges, root-namespace interfaces, pinned network namespaces) and,
as they appear, the pids of the processes it started in the root namespace.
The file lives in STATE_DIR/<runId>.json and carries the builder's own pid and
start time as the owner. A later builder that finds a file whose owner is dead
(kill -9, power cut of the node process) removes exactly what the file names.

Nothing here acts machine-wide: bridges are deleted by name, interfaces by
name, processes by recorded pid (checked against their start time so that a
recycled pid is never hit) or because they live inside one of the run's own
pinned namespaces.
"""

import fcntl
import json
import os
import shutil
import signal
import subprocess
import time

STATE_DIR = '/tmp/meshflow-mininet'


def proc_start(pid):
    """Start time of a process in clock ticks since boot, or None if it is gone.
    A (pid, start) pair names one process for its whole life: pids get reused."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            stat = f.read()
    except (OSError, ValueError):
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    fields = stat[stat.rindex(')') + 2:].split()
    return fields[19]  # field 22 of stat, counted from 1


def alive(pid, start):
    return start is not None and proc_start(pid) == start


def ident(pid):
    """A {pid, start} record for a live process."""
    return {'pid': pid, 'start': proc_start(pid)}


class RunState(object):
    """The state file of the current run; every change is written at once (atomically)."""

    def __init__(self, run_id):
        os.makedirs(STATE_DIR, exist_ok=True)
        self.path = os.path.join(STATE_DIR, run_id + '.json')
        if os.path.exists(self.path):
            raise RuntimeError('run id %s is already in use (%s)' % (run_id, self.path))
        self.data = {
            'runId': run_id,
            'owner': ident(os.getpid()),
            'created': time.time(),
            'bridges': [],
            'intfs': [],
            'netns': [],
            'pids': [],
            'logDir': os.path.join(STATE_DIR, run_id),
        }
        self.write()

    def add(self, key, values):
        self.data[key].extend(v for v in values if v not in self.data[key])
        self.write()

    def write(self):
        tmp = self.path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(self.data, f, indent=1)
        os.rename(tmp, self.path)

    def remove(self):
        for path in (self.path, self.path + '.tmp'):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


def run_quiet(argv):
    """Run a system command; the caller decides whether failure matters."""
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)


def netns_pids(name):
    out = run_quiet(['ip', 'netns', 'pids', name])
    if out.returncode != 0:
        return []
    return [int(p) for p in out.stdout.split() if p.isdigit()]


def kill_netns_processes(name, deadline_s=5.0):
    """SIGKILL every process inside one of our pinned namespaces, until none is left.
    They are ours by construction: only this run ever entered that namespace."""
    end = time.monotonic() + deadline_s
    while True:
        pids = netns_pids(name)
        if not pids:
            return True
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if time.monotonic() > end:
            return False
        time.sleep(0.05)


def kill_recorded(records):
    for rec in records:
        if alive(rec['pid'], rec.get('start')):
            try:
                os.kill(rec['pid'], signal.SIGKILL)
            except ProcessLookupError:
                pass


def intf_exists(name):
    return os.path.exists('/sys/class/net/' + name)


def clean_run(data, log):
    """Remove everything a state file names. Idempotent; returns what was left over."""
    leftovers = []
    for ns in data.get('netns', []):
        if os.path.exists('/run/netns/' + ns):
            if not kill_netns_processes(ns):
                leftovers.append('processes in netns ' + ns)
            run_quiet(['ip', 'netns', 'delete', ns])
    kill_recorded(data.get('pids', []))
    bridges = data.get('bridges', [])
    if bridges:
        argv = ['ovs-vsctl', '--timeout=10']
        for i, br in enumerate(bridges):
            if i:
                argv.append('--')
            argv += ['--if-exists', 'del-br', br]
        out = run_quiet(argv)
        if out.returncode != 0:
            leftovers.append('bridges: ' + out.stdout.strip())
    # Root-namespace veth ends and the userspace datapath's tap devices (named like the bridges).
    for name in data.get('intfs', []) + bridges:
        if intf_exists(name):
            run_quiet(['ip', 'link', 'delete', name])
            if intf_exists(name):
                leftovers.append('interface ' + name)
    log_dir = data.get('logDir')
    if log_dir and os.path.isdir(log_dir):
        shutil.rmtree(log_dir, ignore_errors=True)
    return leftovers


def sweep_stale(log):
    """Clean every run whose owner (a builder process) is dead. Serialised by a lock
    so that two builders starting at once do not clean the same run twice."""
    os.makedirs(STATE_DIR, exist_ok=True)
    with open(os.path.join(STATE_DIR, '.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for entry in sorted(os.listdir(STATE_DIR)):
            if not entry.endswith('.json'):
                continue
            path = os.path.join(STATE_DIR, entry)
            try:
                with open(path) as f:
                    data = json.load(f)
            except (OSError, ValueError):
                continue
            owner = data.get('owner', {})
            if alive(owner.get('pid', -1), owner.get('start')):
                continue
            log('cleaning stale run %s (owner pid %s is gone)' % (data.get('runId'), owner.get('pid')))
            leftovers = clean_run(data, log)
            if leftovers:
                log('stale run %s: could not remove %s' % (data.get('runId'), ', '.join(leftovers)))
            else:
                os.unlink(path)
