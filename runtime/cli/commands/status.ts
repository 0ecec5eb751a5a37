import type { Command } from 'commander';
import { addClientOptions, withMaster } from '../client-flags.js';
import { printFields, printJson } from '../output.js';
import type { GridMasterStatus, RolloutStatus } from '../../../client/index.js';

/** `cluster kg to generation 4: rolling, step 2, 1 of 3 nodes done` (and why, when it failed). */
function rolloutLine(r: RolloutStatus): string {
  const why = r.reason !== '' ? `: ${r.reason}` : '';
  return `cluster ${r.cluster} to generation ${r.generation}: ${r.state}, step ${r.step}, ${r.nodesDone} of ${r.nodesTotal} nodes done${why}`;
}

/** `12 dropped; store failing: ENOSPC ...` or `12 dropped (store recovered)`. */
function eventsLine(e: { dropped: number; storeError: string }): string {
  return e.storeError !== '' ? `${e.dropped} dropped; store failing: ${e.storeError}` : `${e.dropped} dropped (store recovered)`;
}

/** `127.0.0.1:7001 master-… leader since 2026-12-02T09:00:00.000Z` (or `follower, up since …`). */
function masterLine(m: GridMasterStatus): string {
  const since = new Date(m.sinceMs).toISOString();
  return `${m.address} ${m.masterId} ${m.leading ? `leader since ${since}` : `follower, up since ${since}`}`;
}

/** `sutra-grid status`: agent and node counts and the overall grid health. */
export function registerStatusCommand(program: Command): void {
  addClientOptions(program.command('status').description('show grid health: agent and node counts, and event store trouble')).action(async (_opts, cmd: Command) => {
    await withMaster(cmd, async (master, { json }) => {
      const s = await master.getClusterStatus();
      const masters = s.masters ?? [];
      const view = {
        agents: { total: s.agentsTotal, healthy: s.agentsHealthy, degraded: s.agentsDegraded, offline: s.agentsOffline },
        nodes: { total: s.nodesTotal, running: s.nodesRunning, failed: s.nodesFailed },
        health: s.health,
        // Only when something is wrong, so the healthy shape stays what scripts already parse.
        ...(s.eventsDropped > 0 || s.eventStoreError !== '' ? { events: { dropped: s.eventsDropped, storeError: s.eventStoreError } } : {}),
        ...(s.reconcile.rollouts.length > 0 ? { rollouts: s.reconcile.rollouts } : {}),
        // Several masters on etcd only: a lone master's shape stays as it was.
        ...(masters.length > 0 ? { masters, store: s.storeHealth ?? '' } : {}),
      };
      if (json) return printJson(view);
      printFields([
        ['health', view.health],
        ['agents', `${view.agents.total} total, ${view.agents.healthy} healthy, ${view.agents.degraded} degraded, ${view.agents.offline} offline`],
        ['nodes', `${view.nodes.total} total, ${view.nodes.running} running, ${view.nodes.failed} failed`],
        ...(view.events !== undefined ? [['events', eventsLine(view.events)] as [string, string]] : []),
        ...s.reconcile.rollouts.map((r): [string, string] => ['rollout', rolloutLine(r)]),
        ...masters.map((m): [string, string] => ['master', masterLine(m)]),
        ...(masters.length > 0 ? [['store', s.storeHealth ?? ''] as [string, string]] : []),
      ]);
    });
  });
}
