/** The operator's actions, each as a {@link PendingAction} for the confirm dialog. */
import { api } from './api.js';
import type { PendingAction } from './dialog.js';
import type { Agent, GridNode } from './types.js';

export function spawnAction(agentId: string, nodeId: string): PendingAction {
  return {
    title: 'Spawn a storage node',
    text: `Start a new storage node${nodeId !== '' ? ` ${nodeId}` : ''} on agent ${agentId}. Nodes spawned by hand belong to no cluster: the reconciler leaves them alone.`,
    confirm: 'Spawn',
    async run() {
      const r = await api<{ nodeId: string; port: number; pid: number }>('spawn', { json: { agentId, ...(nodeId !== '' ? { nodeId } : {}) } });
      return `spawned ${r.nodeId} on ${agentId} (port ${r.port}, pid ${r.pid})`;
    },
  };
}

export function stopAction(n: GridNode): PendingAction {
  return {
    title: `Stop ${n.nodeId}`,
    text: `Stop node ${n.nodeId} on agent ${n.agentId}: SIGTERM, then SIGKILL after the grace.${n.cluster !== '' ? ` It belongs to cluster ${n.cluster}: the reconciler will start it again to match the spec.` : ''}`,
    confirm: `Stop ${n.nodeId}`,
    danger: true,
    async run() {
      await api('stop', { json: { nodeId: n.nodeId, agentId: n.agentId } });
      return `stopped ${n.nodeId}`;
    },
  };
}

export function restartAction(n: GridNode): PendingAction {
  return {
    title: `Restart ${n.nodeId}`,
    text: `Stop and start ${n.nodeId} in place on ${n.agentId}, keeping its data.${n.role === 'leader' ? ' It leads its cluster: a caught-up replica takes over first.' : ''}`,
    confirm: `Restart ${n.nodeId}`,
    async run() {
      const r = await api<{ status: string; pid: number; handedOverTo: string }>(`nodes/${encodeURIComponent(n.nodeId)}/restart`, { json: {} });
      return `restarted ${n.nodeId}: ${r.status} (pid ${r.pid})${r.handedOverTo !== '' ? `; ${r.handedOverTo} leads now` : ''}`;
    },
  };
}

export function promoteAction(n: GridNode): PendingAction {
  return {
    title: `Promote ${n.nodeId}`,
    text: `Make ${n.nodeId} the leader of cluster ${n.cluster}: a planned handover once it has caught up, losing no acknowledged write.`,
    confirm: `Promote ${n.nodeId}`,
    async run() {
      const r = await api<{ cluster: string; term: number; previousLeader: string }>(`nodes/${encodeURIComponent(n.nodeId)}/promote`, { json: {} });
      return `${n.nodeId} leads ${r.cluster} in term ${r.term} (took over from ${r.previousLeader})`;
    },
  };
}

export function cordonAction(a: Agent): PendingAction {
  if (a.cordoned) {
    return {
      title: `Uncordon ${a.id}`,
      text: `Let the scheduler place nodes on ${a.id} again${a.drain !== '' ? ' (this ends its drain)' : ''}.`,
      confirm: `Uncordon ${a.id}`,
      async run() {
        await api(`agents/${encodeURIComponent(a.id)}/uncordon`, { json: {} });
        return `${a.id} uncordoned`;
      },
    };
  }
  return {
    title: `Cordon ${a.id}`,
    text: `Place no new nodes on ${a.id}; the nodes it runs stay.`,
    confirm: `Cordon ${a.id}`,
    inputs: [{ name: 'reason', label: 'Reason (optional)', value: '' }],
    async run(v) {
      await api(`agents/${encodeURIComponent(a.id)}/cordon`, { json: { reason: v['reason'] ?? '' } });
      return `${a.id} cordoned`;
    },
  };
}

export function drainAction(a: Agent): PendingAction {
  return {
    title: `Drain ${a.id}`,
    text: `Cordon ${a.id} and move its nodes of declared clusters to other agents, paced by their update policy until the deadline.`,
    confirm: `Drain ${a.id}`,
    danger: true,
    inputs: [
      { name: 'deadline', label: 'Deadline', value: '5m', placeholder: 'e.g. 90s, 5m, 1h' },
      { name: 'reason', label: 'Reason (optional)', value: '' },
    ],
    async run(v) {
      const r = await api<{ drain: string }>(`agents/${encodeURIComponent(a.id)}/drain`, { json: { deadline: v['deadline'] ?? '5m', reason: v['reason'] ?? '' } });
      return `${a.id}: ${r.drain}`;
    },
  };
}
