/**
 * Port checks. Nodes take ports from `storage.portRange` on the host of the agent that runs them,
 * so agents sharing a host (all local `process` agents do) share one range, and the master's or an
 * agent's own port inside that range would collide with a node. Kubernetes agents are left out:
 * their nodes are pods with their own addresses.
 */
import type { SpecErrorCode } from './errors.js';
import { arr, int, obj, str, type Json } from './values.js';

/** A port problem and the path of the value to blame. */
export interface PortProblem {
  readonly code: SpecErrorCode;
  readonly path: ReadonlyArray<string | number>;
  readonly message: string;
}

const ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?):([0-9]{1,5})$/;

/** Splits `host:port`; undefined when it does not have that shape (the schema reported it). */
export function splitAddress(address: string): { host: string; port: number } | undefined {
  const match = ADDRESS.exec(address);
  if (!match) return undefined;
  return { host: match[1] ?? '', port: Number(match[3]) };
}

/** Hosts that all mean "this machine" share one port space. */
function hostKey(host: string): string {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '0.0.0.0' || h === '[::1]' || h === '[::]' || /^127\./.test(h) ? 'this machine' : h;
}

interface Service {
  readonly path: ReadonlyArray<string | number>;
  readonly what: string;
  readonly host: string;
  readonly port: number;
}

/** Every port problem of a (defaulted) spec. */
export function checkPorts(spec: Json): PortProblem[] {
  const problems: PortProblem[] = [];
  const services: Service[] = [];
  const readAddress = (value: unknown, path: ReadonlyArray<string | number>, what: string): Service | undefined => {
    const address = str(value);
    const parts = address === undefined ? undefined : splitAddress(address);
    if (!parts) return undefined;
    if (parts.port > 65535) {
      problems.push({ code: 'SPEC_ADDRESS', path, message: `port ${parts.port} is out of range (0-65535)` });
      return undefined;
    }
    const service = { path, what, host: hostKey(parts.host), port: parts.port };
    // Port 0 asks the OS for a free port, so it cannot collide.
    const twin = parts.port === 0 ? undefined : services.find((s) => s.host === service.host && s.port === service.port);
    if (twin) problems.push({ code: 'SPEC_ADDRESS', path, message: `${what} uses ${address}, already used by ${twin.what}` });
    services.push(service);
    return service;
  };

  const master = readAddress(obj(spec.master)?.address, ['master', 'address'], 'the master');
  // Agents with no address are started on this machine by `sutra-grid up` when they are processes.
  const agentHosts: Array<{ index: number; id: string; host: string; nodes: number; service?: Service }> = [];
  arr(spec.agents).forEach((value, index) => {
    const agent = obj(value);
    if (!agent) return;
    const id = str(agent.id) ?? `agents[${index}]`;
    const service = readAddress(agent.address, ['agents', index, 'address'], `agent ${id}`);
    if (agent.platform === 'kubernetes') return;
    const host = service?.host ?? (agent.platform === 'process' ? 'this machine' : `the host of agent ${id}`);
    agentHosts.push({ index, id, host, nodes: int(obj(agent.capacity)?.nodes) ?? 0, ...(service ? { service } : {}) });
  });

  const range = obj(obj(spec.storage)?.portRange);
  const start = int(range?.start);
  const end = int(range?.end);
  // A port outside 1-65535 was reported by the schema; checking the range further would only echo it.
  const valid = (port: number | undefined): port is number => port !== undefined && port >= 1 && port <= 65535;
  if (!valid(start) || !valid(end)) return problems;
  if (start > end) {
    problems.push({ code: 'SPEC_PORT_RANGE', path: ['storage', 'portRange', 'end'], message: `port range is inverted: end ${end} is before start ${start}` });
    return problems;
  }
  const size = end - start + 1;
  const inRange = (port: number): boolean => port >= start && port <= end;

  const totalNodes = arr(spec.clusters).reduce<number>((sum, c) => sum + Math.max(0, int(obj(c)?.nodes) ?? 0), 0);
  const byHost = new Map<string, { ids: string[]; nodes: number }>();
  for (const agent of agentHosts) {
    const entry = byHost.get(agent.host) ?? { ids: [], nodes: 0 };
    entry.ids.push(agent.id);
    entry.nodes += agent.nodes;
    byHost.set(agent.host, entry);
    if (agent.service && inRange(agent.service.port)) {
      problems.push({
        code: 'SPEC_PORT_RANGE',
        path: agent.service.path,
        message: `agent ${agent.id} listens on port ${agent.service.port}, inside storage.portRange ${start}-${end} used by its nodes`,
      });
    }
  }
  for (const [host, entry] of byHost) {
    const need = Math.min(totalNodes, entry.nodes);
    if (need > size) {
      problems.push({
        code: 'SPEC_PORT_RANGE',
        path: ['storage', 'portRange'],
        message: `storage.portRange ${start}-${end} has ${size} port${size === 1 ? '' : 's'} but ${need} nodes may run on ${host} (agents ${entry.ids.join(', ')})`,
      });
    }
  }
  if (master && inRange(master.port) && byHost.has(master.host)) {
    problems.push({
      code: 'SPEC_PORT_RANGE',
      path: master.path,
      message: `the master's port ${master.port} is inside storage.portRange ${start}-${end} used by nodes on ${master.host}`,
    });
  }
  return problems;
}
