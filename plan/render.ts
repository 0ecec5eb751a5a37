/**
 * Terraform-like text of a plan for humans, and its stable JSON for machines (`plan --json`, the
 * ApplySpec response). The JSON is the {@link Plan} object itself.
 */
import { formatMemory } from './format.js';
import type { Plan, PlanAction, PlanOp } from './types.js';

const PREFIX: Record<PlanOp, string> = { create: '  +', destroy: '  -', update: '  ~', replace: '-/+' };

/** One line per action, e.g. `  + create kg-2 on agent-2 (replica, 256 MiB): missing`. */
export function renderAction(a: PlanAction): string {
  const where = a.op === 'replace' && a.fromAgentId !== undefined && a.fromAgentId !== a.agentId
    ? `on ${a.agentId} (from ${a.fromAgentId})`
    : `on ${a.agentId}`;
  const role = a.handoverTo !== undefined ? `leader -> ${a.role}` : a.role;
  const what = role ? `${role}, ${formatMemory(a.memoryMb)}` : formatMemory(a.memoryMb);
  const step = a.step !== undefined ? ` [step ${a.step}]` : '';
  const surge = a.surge === true ? ' [new copy first]' : '';
  return `${PREFIX[a.op]} ${a.op} ${a.nodeId} ${where} (${what})${step}${surge}: ${a.reason}`;
}

/**
 * The whole plan as text: actions, then nodes that cannot be placed, then destroys waiting for an
 * offline agent, then the summary line. Ends without a trailing newline.
 */
export function renderPlan(plan: Plan): string {
  const lines = plan.actions.map(renderAction);
  if (plan.unplaced.length > 0) {
    if (lines.length > 0) lines.push('');
    lines.push('Cannot place:');
    for (const u of plan.unplaced) lines.push(`  ! ${u.reason}`);
  }
  if (plan.deferred.length > 0) {
    if (lines.length > 0) lines.push('');
    lines.push('Deferred until the agent returns:');
    for (const d of plan.deferred) lines.push(`  - destroy ${d.nodeId} on ${d.agentId}: ${d.reason}`);
  }
  if (lines.length > 0) lines.push('');
  const s = plan.summary;
  if (plan.changed) {
    lines.push(`Plan: ${s.create} to create, ${s.update} to update, ${s.replace} to replace, ${s.destroy} to destroy.`);
  } else if (plan.unplaced.length > 0) {
    const n = plan.unplaced.reduce((sum, u) => sum + u.nodeIds.length, 0);
    lines.push(`No changes can be made now: ${n} node${n === 1 ? '' : 's'} cannot be placed.`);
  } else if (plan.deferred.length > 0) {
    const n = plan.deferred.length;
    lines.push(`No changes. The grid matches the spec; ${n} stale cop${n === 1 ? 'y goes' : 'ies go'} when ${n === 1 ? 'its agent returns' : 'their agents return'}.`);
  } else {
    lines.push('No changes. The grid matches the spec.');
  }
  return lines.join('\n');
}

/** The plan as JSON; key order is fixed by construction, so equal plans give equal strings. */
export function planToJson(plan: Plan, indent = 2): string {
  return JSON.stringify(plan, null, indent);
}
