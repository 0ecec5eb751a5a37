/**
 * The internal form of a grid spec: every readable value ("15s", "512Mi") compiled to numbers,
 * every default filled in. Produced only by `compileGridSpec` from a spec that passed validation;
 * everything downstream (scheduler, plan, master, providers) consumes this shape.
 */

/** Platforms an agent may run storage nodes on. */
export type Platform = 'process' | 'docker' | 'kubernetes' | 'systemd';

/** How a cluster's nodes relate: independent nodes, or one leader and its replicas. */
export type Topology = 'standalone' | 'leader-replicas';

/** When a leader acknowledges a write: once durable on itself, or on itself and a quorum of replicas. */
export type Durability = 'async' | 'sync';

/** How a leader-replicas cluster replicates (every field defaulted). */
export interface CompiledReplication {
  readonly durability: Durability;
  /** Replicas that must hold a sync write before it is acknowledged. */
  readonly syncQuorum: number;
  /** How long a sync write waits for its quorum before it fails unacknowledged. */
  readonly syncTimeoutMs: number;
}

/** How a change that restarts nodes rolls through a cluster (every field defaulted). */
export interface CompiledUpdatePolicy {
  /** Nodes that may be down for the change at once. */
  readonly maxUnavailable: number;
  /** Extra copies a move may start before the old copy stops (0: stop first). */
  readonly maxSurge: number;
  /** How long a restarted node must run before the next step. */
  readonly minHealthyMs: number;
  /** A step not healthy (for minHealthyMs) this long after it started fails the rollout. */
  readonly healthyDeadlineMs: number;
  /** A failed rollout applies the last spec whose rollout succeeded. */
  readonly autoRevert: boolean;
}

/** How nodes are spread over eligible agents. */
export type PlacementStrategy = 'spread' | 'binpack';

/** A node's role inside its cluster. */
export type NodeRole = 'standalone' | 'leader' | 'replica';

export interface CompiledRestartPolicy {
  /** Restarts allowed within `windowMs` before the node is marked failed. */
  readonly maxRestarts: number;
  readonly windowMs: number;
  /** First restart delay; doubles on each further restart. */
  readonly backoffMs: number;
}

export interface CompiledMonitoring {
  readonly heartbeatIntervalMs: number;
  readonly degradedAfterMs: number;
  readonly offlineAfterMs: number;
  /** How long an agent may stay offline before its nodes are replaced on other agents. */
  readonly replaceAfterMs: number;
  readonly restart: CompiledRestartPolicy;
}

export interface CompiledStorageDefaults {
  /** Storage binary; undefined means the bundled storage-server. Agents use their own config's binary. */
  readonly binary?: string;
  readonly dataPath: string;
  readonly memoryMb: number;
  /** Inclusive port range nodes are allocated from. */
  readonly portRange: { readonly start: number; readonly end: number };
}

export interface CompiledAgentSpec {
  readonly id: string;
  readonly platform: Platform;
  /** host:port of the agent's gRPC service; undefined lets `up` choose one for local agents. */
  readonly address?: string;
  readonly capacity: {
    readonly nodes: number;
    /** 0 means not limited. */
    readonly memoryMb: number;
  };
  readonly labels: Readonly<Record<string, string>>;
  /**
   * True when the spec cordons the agent (`agents[].cordoned`): no new node is placed on it, its
   * nodes stay. Absent means false, so specs compiled before the field existed read the same.
   */
  readonly cordoned?: boolean;
}

export interface CompiledClusterSpec {
  readonly name: string;
  readonly nodes: number;
  readonly topology: Topology;
  /** Meaningful for leader-replicas; a standalone cluster carries the async default. */
  readonly replication: CompiledReplication;
  readonly update: CompiledUpdatePolicy;
  readonly memoryMb: number;
  readonly placement: {
    readonly strategy: PlacementStrategy;
    /** Pinned agent ids; empty means any agent. */
    readonly agents: readonly string[];
    /** Label selector (all must match); empty means any agent. */
    readonly selector: Readonly<Record<string, string>>;
  };
}

export interface CompiledGridSpec {
  readonly name: string;
  readonly master: { readonly address: string };
  readonly monitoring: CompiledMonitoring;
  readonly storage: CompiledStorageDefaults;
  readonly agents: readonly CompiledAgentSpec[];
  readonly clusters: readonly CompiledClusterSpec[];
}
