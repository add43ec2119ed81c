// The registry as it changes at run time: every change is checked against the whole
// registry before it takes effect, so the policy never sees a dangling reference.
import { EventEmitter } from 'node:events';
import {
  checkItem,
  crossCheck,
  ReplicaSchema,
  ServiceSchema,
  SidecarSchema,
  sidecarIssues,
  type Issue,
  type Registry,
  type Replica,
  type Service,
  type Sidecar,
} from './registry.ts';

export type ChangeResult<T> = { ok: true; value: T; created: boolean } | { ok: false; status: 400 | 404 | 409; issues: Issue[] };

export class RegistryStore extends EventEmitter<{ change: [Registry] }> {
  constructor(private reg: Registry) {
    super();
  }

  get current(): Registry {
    return this.reg;
  }

  replace(reg: Registry): void {
    this.reg = reg;
    this.emit('change', reg);
  }

  putService(name: string, body: unknown): ChangeResult<Service> {
    const issues = [...keyIssues(body, 'name', name), ...checkItem(ServiceSchema, withKey(body, 'name', name))];
    if (issues.length) return { ok: false, status: 400, issues };
    const svc = withKey(body, 'name', name) as Service;
    const created = !this.reg.services.some((s) => s.name === name);
    return this.commit({ ...this.reg, services: upsert(this.reg.services, (s) => s.name === name, svc) }, svc, created);
  }

  deleteService(name: string): ChangeResult<Service> {
    const svc = this.reg.services.find((s) => s.name === name);
    if (!svc) return notFound('service', name);
    // Refuse rather than cascade: silently dropping replicas or calls would change
    // traffic for sidecars that nobody meant to touch.
    const users = [
      ...this.reg.replicas.filter((r) => r.service === name).map((r) => `replica "${r.id}"`),
      ...this.reg.sidecars.filter((s) => s.calls.includes(name)).map((s) => `sidecar "${s.id}"`),
    ];
    if (users.length) return { ok: false, status: 409, issues: [{ path: '', message: `service "${name}" is used by ${users.join(', ')}` }] };
    return this.commit({ ...this.reg, services: this.reg.services.filter((s) => s.name !== name) }, svc, false);
  }

  putReplica(id: string, body: unknown): ChangeResult<Replica> {
    const item = withKey(body, 'id', id);
    const issues = [...keyIssues(body, 'id', id), ...checkItem(ReplicaSchema, item)];
    if (issues.length) return { ok: false, status: 400, issues };
    const rep = item as Replica;
    if (!this.reg.services.some((s) => s.name === rep.service))
      return { ok: false, status: 400, issues: [{ path: '/service', message: `unknown service "${rep.service}"` }] };
    const created = !this.reg.replicas.some((r) => r.id === id);
    return this.commit({ ...this.reg, replicas: upsert(this.reg.replicas, (r) => r.id === id, rep) }, rep, created);
  }

  deleteReplica(id: string): ChangeResult<Replica> {
    const rep = this.reg.replicas.find((r) => r.id === id);
    if (!rep) return notFound('replica', id);
    return this.commit({ ...this.reg, replicas: this.reg.replicas.filter((r) => r.id !== id) }, rep, false);
  }

  putSidecar(id: string, body: unknown): ChangeResult<Sidecar> {
    const item = withKey(body, 'id', id);
    const issues = [...keyIssues(body, 'id', id), ...checkItem(SidecarSchema, item)];
    if (issues.length) return { ok: false, status: 400, issues };
    const sc = item as Sidecar;
    const refIssues = sidecarIssues(sc, new Set(this.reg.services.map((s) => s.name)));
    if (refIssues.length) return { ok: false, status: 400, issues: refIssues };
    const created = !this.reg.sidecars.some((s) => s.id === id);
    return this.commit({ ...this.reg, sidecars: upsert(this.reg.sidecars, (s) => s.id === id, sc) }, sc, created);
  }

  deleteSidecar(id: string): ChangeResult<Sidecar> {
    const sc = this.reg.sidecars.find((s) => s.id === id);
    if (!sc) return notFound('sidecar', id);
    return this.commit({ ...this.reg, sidecars: this.reg.sidecars.filter((s) => s.id !== id) }, sc, false);
  }

  putAttachment(host: string, pid: unknown): ChangeResult<string> {
    if (typeof pid !== 'string' || !/^[0-9a-fA-F]{16}$/.test(pid))
      return { ok: false, status: 400, issues: [{ path: '/pid', message: 'must be 16 hex characters' }] };
    const created = this.reg.attachments[host] === undefined;
    return this.commit({ ...this.reg, attachments: { ...this.reg.attachments, [host]: pid.toLowerCase() } }, pid.toLowerCase(), created);
  }

  deleteAttachment(host: string): ChangeResult<string> {
    const pid = this.reg.attachments[host];
    if (pid === undefined) return notFound('attachment', host);
    const attachments = { ...this.reg.attachments };
    delete attachments[host];
    return this.commit({ ...this.reg, attachments }, pid, false);
  }

  private commit<T>(next: Registry, value: T, created: boolean): ChangeResult<T> {
    // Belt and braces: the per-item checks above should make this pass.
    const issues = crossCheck(next);
    if (issues.length) return { ok: false, status: 409, issues };
    this.replace(next);
    return { ok: true, value, created };
  }
}

/** The URL names the item; a body may repeat the key but must not contradict it. */
function withKey(body: unknown, key: string, value: string): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  return { ...(body as Record<string, unknown>), [key]: value };
}

function keyIssues(body: unknown, key: string, value: string): Issue[] {
  if (typeof body !== 'object' || body === null) return [];
  const given = (body as Record<string, unknown>)[key];
  return given !== undefined && given !== value ? [{ path: `/${key}`, message: `must match the URL ("${value}")` }] : [];
}

function upsert<T>(items: readonly T[], match: (t: T) => boolean, item: T): T[] {
  const i = items.findIndex(match);
  return i < 0 ? [...items, item] : items.map((t, j) => (j === i ? item : t));
}

function notFound<T>(what: string, key: string): ChangeResult<T> {
  return { ok: false, status: 404, issues: [{ path: '', message: `no ${what} "${key}"` }] };
}
