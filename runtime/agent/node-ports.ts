import { RuntimeError } from '../errors.js';
import { portFree } from './spawn-checks.js';

/** A node's claim on a port, as the supervisor's records hold it. */
export interface PortClaim {
  readonly nodeId: string;
  readonly port: number;
}

/**
 * Ports of the agent's range for its nodes. A port is handed out when no other node of this agent
 * claims it and nothing on the host listens on it. That is only a snapshot: another process (another
 * agent on the host, anything else) may bind it before the node does, which the supervisor handles
 * by moving the node (see NodeSupervisor).
 */
export class NodePorts {
  /** Ports being checked for a node that has not claimed them yet. */
  private readonly reserved = new Set<number>();

  constructor(
    private readonly range: { readonly start: number; readonly size: number },
    private readonly agentId: string,
    private readonly claims: () => Iterable<PortClaim>,
  ) {}

  /** An explicitly requested port, if free. @throws GridError PORT_IN_USE */
  async checkFree(port: number, nodeId: string): Promise<number> {
    if (this.reserved.has(port) || !(await portFree(port))) {
      throw new RuntimeError('PORT_IN_USE', `port ${port} is in use`, { nodeId, field: 'port' });
    }
    return port;
  }

  /**
   * The first free port of the range, skipping `avoid` (the port a node just failed to bind: its
   * holder may let go and take it back at any moment). @throws GridError CAPACITY_EXCEEDED
   */
  async pick(nodeId: string, avoid?: number): Promise<number> {
    const { start, size } = this.range;
    for (let port = start; port < start + size; port++) {
      if (port === avoid || this.reserved.has(port) || this.claimedByOther(port, nodeId)) continue;
      this.reserved.add(port);
      try {
        if ((await portFree(port)) && !this.claimedByOther(port, nodeId)) return port;
      } finally {
        this.reserved.delete(port);
      }
    }
    throw new RuntimeError('CAPACITY_EXCEEDED', `no free port in ${start}-${start + size - 1} on agent ${this.agentId}`, { nodeId, field: 'port' });
  }

  private claimedByOther(port: number, nodeId: string): boolean {
    for (const c of this.claims()) if (c.port === port && c.nodeId !== nodeId) return true;
    return false;
  }
}
