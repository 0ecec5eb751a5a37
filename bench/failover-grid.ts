/**
 * One failover of the replication benchmark, on a real grid: a master and three agents as
 * processes, a 3-node `sync` leader-replicas cluster (quorum 1) applied with the CLI, then the
 * leader's host lost (its agent and its storage process killed with -9) while a client tries every
 * node every ~20 ms. Measured from the kill: the master's AgentOffline and LeaderChanged events
 * (their timestamps), and the first write a node accepts. Each failover gets a grid of its own, so
 * the samples are independent; the grid is gone when it returns (or throws).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeInfo } from '../proto/gen/sutra/grid/v1/agent.pb.js';
import type { MasterClient } from '../client/index.js';
import { addressOf, runCli, startBenchGrid } from './bench-grid.js';
import { BenchStorageClient, sleep, waitFor, type BenchScope } from './replication-support.js';

/** Agent heartbeat interval of the grid (the spec's monitoring and the master's flag agree). */
export const HEARTBEAT_MS = 200;
const AGENTS = ['a1', 'a2', 'a3'];
/** How often the client tries each node after the kill. */
const RETRY_MS = 20;

/** What one failover measured, in ms from the kill. */
export interface FailoverSample {
  /** The master's AgentOffline for the lost agent. */
  readonly offlineMs: number;
  /** The master's LeaderChanged naming the new leader. */
  readonly leaderChangedMs: number;
  /** The first write a node acknowledged (sync: durable on it and on the other replica). */
  readonly firstWriteMs: number;
  readonly oldLeader: string;
  readonly newLeader: string;
}

function spec(offlineAfterMs: number): string {
  return [
    'name: bench',
    `monitoring: { heartbeatInterval: ${HEARTBEAT_MS}ms, degradedAfter: ${Math.round(offlineAfterMs / 2)}ms, offlineAfter: ${offlineAfterMs}ms, replaceAfter: 10m, restart: { backoff: 50ms } }`,
    'storage: { memory: 64Mi }',
    'agents:',
    ...AGENTS.map((id) => `  - { id: ${id}, platform: process, capacity: { nodes: 2 } }`),
    'clusters:',
    '  - { name: kg, nodes: 3, topology: leader-replicas, replication: { durability: sync, syncQuorum: 1 } }',
    '',
  ].join('\n');
}

/** The cluster once its leader leads and both replicas follow it, caught up, in the leader's term. */
async function steadyCluster(master: MasterClient): Promise<{ leader: NodeInfo; replicas: NodeInfo[] }> {
  return waitFor('a leader and two replicas following it', async () => {
    const { nodes } = await master.call('listNodes', { agentId: '', cluster: 'kg' });
    const running = nodes.filter((n) => n.status === 'running');
    const leader = running.find((n) => n.role === 'leader' && n.replication?.role === 'leader');
    if (leader === undefined) return undefined;
    const term = leader.replication!.term;
    const replicas = running.filter((n) => n.replication?.role === 'replica' && n.replication.term === term && n.replication.leader === addressOf(leader) && !n.replication.catchingUp);
    return replicas.length === 2 ? { leader, replicas } : undefined;
  }, 60_000, 100);
}

/**
 * The client: tries a write on each node, one call in flight per node, again `RETRY_MS` after a
 * refusal, until one is acknowledged. Resolves with when (ms after `t0`) and where.
 */
async function firstAcceptedWrite(clients: readonly BenchStorageClient[], t0: number, timeoutMs: number): Promise<{ ms: number; address: string }> {
  let winner: { ms: number; address: string } | undefined;
  const tryNode = async (c: BenchStorageClient): Promise<void> => {
    for (let k = 0; winner === undefined && performance.now() - t0 < timeoutMs; k++) {
      try {
        await c.learn(`after-kill-${c.address}-${k}`, 10_000);
        winner ??= { ms: performance.now() - t0, address: c.address };
      } catch {
        await sleep(RETRY_MS);
      }
    }
  };
  await Promise.all(clients.map(tryNode));
  if (winner === undefined) throw new Error(`no node accepted a write within ${timeoutMs} ms of the kill`);
  return winner;
}

/** Builds a grid under `scope`, fails its leader over once, tears it down. */
export async function failoverOnce(scope: BenchScope, offlineAfterMs: number, preWrites = 200): Promise<FailoverSample> {
  const grid = await startBenchGrid(scope, { agents: AGENTS, nodesPerAgent: 2, heartbeatMs: HEARTBEAT_MS, offlineAfterMs });
  const { dir, master, agents } = grid;
  const clients: BenchStorageClient[] = [];
  try {
    const specFile = join(dir, 'grid.yaml');
    writeFileSync(specFile, spec(offlineAfterMs));
    await runCli(['apply', specFile, '--auto-approve', '--timeout', '90s', '--master', grid.masterAddress]);
    const { leader, replicas } = await steadyCluster(master);

    // Data on the cluster, and a client connected to every node before the loss.
    const lc = new BenchStorageClient(addressOf(leader));
    clients.push(lc, ...replicas.map((r) => new BenchStorageClient(addressOf(r))));
    await waitFor('both replicas connected to the leader', async () => ((await lc.status()).replicas.filter((r) => r.connected).length === 2 ? true : undefined), 30_000);
    for (let i = 0; i < preWrites; i++) await lc.learn(`before-${i}`);
    await Promise.all(clients.map((c) => c.status()));

    // The leader's host is lost: its agent and its storage process, both kill -9.
    const wall0 = Date.now();
    const t0 = performance.now();
    agents.get(leader.agentId)!.kill('SIGKILL');
    process.kill(leader.pid, 'SIGKILL');
    const first = await firstAcceptedWrite(clients, t0, 60_000);
    if (first.address === addressOf(leader)) throw new Error(`the killed leader ${first.address} accepted a write`);

    const oldTerm = leader.replication!.term;
    const events = await waitFor('AgentOffline and LeaderChanged', async () => {
      const res = await master.call('listEvents', {
        filter: { types: ['AgentOffline', 'LeaderChanged'], agentId: '', nodeId: '', cluster: '' }, sinceIndex: 0, sinceUs: wall0 * 1000, untilUs: 0, limit: 1000,
      });
      const offline = res.events.find((e) => e.type === 'AgentOffline' && e.agentId === leader.agentId);
      const changed = res.events.find((e) => e.type === 'LeaderChanged' && e.cluster === 'kg' && e.nodeId !== leader.nodeId && (JSON.parse(e.payloadJson) as { term: number }).term > oldTerm);
      return offline && changed ? { offline, changed } : undefined;
    }, 20_000, 100);
    const newLeader = replicas.find((r) => r.nodeId === events.changed.nodeId);
    if (newLeader === undefined || addressOf(newLeader) !== first.address) {
      throw new Error(`LeaderChanged names ${events.changed.nodeId} but the write was accepted by ${first.address}`);
    }
    return {
      offlineMs: events.offline.timestampUs / 1000 - wall0,
      leaderChangedMs: events.changed.timestampUs / 1000 - wall0,
      firstWriteMs: first.ms,
      oldLeader: leader.nodeId,
      newLeader: newLeader.nodeId,
    };
  } finally {
    for (const c of clients) c.close();
    await grid.teardown();
  }
}
