/**
 * The seam between the agent's node supervisor and where nodes actually run. The supervisor owns
 * health checks, restart policy, events and capacity; a platform only starts, stops, watches and
 * re-adopts instances. Implementations: process (this folder), docker.
 */

import type { DirOwner } from './node-dir.js';
import type { NodeReplicationSpec } from './replication-assignment.js';

/** Everything a platform needs to start one storage node. Paths are already validated. */
export interface NodeLaunchSpec {
  readonly nodeId: string;
  readonly port: number;
  readonly memoryMb: number;
  /** Absolute path, already checked to be under the agent's data dir. */
  readonly storagePath: string;
  readonly cluster: string;
  readonly role: string;
  readonly generation: number;
  /** Grid, term, leader and durability of a leader or replica (see replicationArgs); absent otherwise. */
  readonly replication?: NodeReplicationSpec | undefined;
  /**
   * A leader's or replica's write lease at start: wall-clock ms until which it may take writes as
   * leader (0: not before the agent renews it). Set afresh at every launch (lease-keeper.ts).
   */
  readonly writeLeaseUntilMs?: number | undefined;
  /** Host the node binds (process platform). @default '127.0.0.1' */
  readonly host?: string | undefined;
  /** The node's credential directory (`--tls-dir`): with it the node speaks mutual TLS only. */
  readonly tlsDir?: string | undefined;
  /** With `tlsDir`: this agent's id, the only agent certificate the node then accepts (`--agent-id`). */
  readonly agentId?: string | undefined;
}

/** A started instance of a node. */
export interface NodeInstance {
  /** OS pid (process) or the container's init pid (docker); 0 if unknown. */
  readonly pid: number;
  readonly containerId?: string;
  /**
   * Resolves when the instance itself says it serves (a readiness notification, see
   * runtime/storage/ready-notify.ts): the supervisor runs its health check then instead of polling
   * for it. Never rejects; may never resolve (an instance that exits first or never says so).
   * Absent when the platform has no such notification: the supervisor polls.
   */
  readonly ready?: Promise<void>;
}

/** How an instance ended: exactly one of exitCode / signal is set, or both null when unknown. */
export interface ExitInfo {
  readonly exitCode: number | null;
  readonly signal: string | null;
}

/** An instance found still running after an agent restart, with what it was launched with. */
export interface AdoptedNode {
  readonly spec: NodeLaunchSpec;
  readonly instance: NodeInstance;
  /**
   * When the instance was started, if known. Reported as the node's start time: the master tells a
   * stale copy from its replacement by it, so adoption must not make an old process look new.
   */
  readonly startedAtMs?: number;
}

export type ExitListener = (nodeId: string, instance: NodeInstance, exit: ExitInfo) => void;

export interface NodePlatform {
  readonly name: 'process' | 'docker';
  /**
   * The uid:gid nodes run as when it is not the agent's own (a root agent's container nodes): files
   * a node must read, its credential, are handed to it. Undefined: the agent's own user.
   */
  readonly nodeUser?: DirOwner | undefined;
  /**
   * Where the agent reaches a node's port when the platform, not the node's bind host, decides it:
   * a bridged container listens inside its own network namespace and is reached where its port is
   * published. Undefined: where the node binds.
   */
  readonly nodeDialHost?: string | undefined;
  /** Starts an instance and returns once it is started (not yet healthy). Throws GridError on failure. */
  start(spec: NodeLaunchSpec): Promise<NodeInstance>;
  /** Stops an instance: graceful signal, then forced after `graceMs`. Resolves once it is gone. */
  stop(nodeId: string, graceMs: number): Promise<void>;
  /** Registers the listener told at once when any instance exits (not on a poll). */
  onExit(listener: ExitListener): void;
  /**
   * Whether the listener on `port` is the node's own instance (true), someone else's or nobody's
   * (false); undefined or absent when the platform cannot tell. The supervisor does not believe a
   * SERVING health check that came from another process holding the node's port.
   */
  listensOn?(nodeId: string, port: number): boolean | undefined;
  /** Instances left running by a previous agent process, to re-adopt instead of starting new ones. */
  adopt(): Promise<AdoptedNode[]>;
  /** Releases watchers; does not stop instances (the supervisor does that first). */
  close(): Promise<void>;
}
