/** The API's answers as the page reads them (runtime/http/views.ts builds them). */

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly field?: string;
  readonly grpcCode: string;
  readonly diagnostics?: ReadonlyArray<{ readonly text: string }>;
}

export type Health = 'healthy' | 'degraded' | 'offline';

export interface Agent {
  readonly id: string;
  readonly status: Health;
  readonly cordoned: boolean;
  readonly cordonedBy: string;
  readonly cordonReason: string;
  readonly drain: '' | 'draining' | 'drained';
  readonly drainDeadlineMs: number;
  readonly platform: string;
  readonly maxNodes: number;
  readonly nodes: number;
  readonly address: string;
  readonly hostname: string;
  readonly maxMemoryMb: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly lastHeartbeatMs: number;
}

export interface Replication {
  readonly role: string;
  readonly term: number;
  readonly leader: string;
  readonly durability: string;
  readonly logPosition: number;
  readonly leaderLogPosition: number;
  readonly catchingUp: boolean;
  readonly connected: boolean;
}

export interface GridNode {
  readonly nodeId: string;
  readonly agentId: string;
  readonly port: number;
  readonly pid: number;
  readonly status: string;
  readonly restarts: number;
  readonly cluster: string;
  readonly role: string;
  readonly term: number;
  readonly lastExit: string;
  readonly startedAtMs: number;
  readonly replication?: Replication;
}

export interface ClusterHealth {
  readonly name: string;
  readonly desired: number;
  readonly running: number;
  readonly health: 'healthy' | 'degraded' | 'critical';
  readonly leaderNodeId: string;
}

export interface GridStatus {
  readonly agents: { readonly total: number; readonly healthy: number; readonly degraded: number; readonly offline: number };
  readonly nodes: { readonly total: number; readonly running: number; readonly failed: number };
  readonly health: string;
  readonly clusters: readonly ClusterHealth[];
  readonly specGeneration: number;
  readonly reconcile: { readonly pendingActions: number; readonly unplaced: ReadonlyArray<{ readonly cluster: string; readonly nodeIds: readonly string[]; readonly reason?: string }> };
}

export interface GridEvent {
  readonly index: number;
  readonly timestampUs: number;
  readonly type: string;
  readonly severity: string;
  readonly agentId: string;
  readonly nodeId: string;
  readonly cluster: string;
  readonly message: string;
}

export interface PlanAnswer {
  readonly text: string;
  readonly generation: number;
  readonly hasChanges: boolean;
  readonly warnings: readonly string[];
}
