import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { formatDuration, parseDuration } from '../../../schema/units.js';
import { drainState, type CordonOutcome, type MasterClient } from '../../../client/index.js';
import { ConfigError, RuntimeError } from '../../errors.js';
import { addClientOptions, withMaster } from '../client-flags.js';
import { printJson } from '../output.js';

/** The master's deadline when none is given. */
const DEFAULT_DEADLINE = '5m';

/**
 * How long past the deadline the command still waits: past it the master moves the nodes left
 * without pacing them, which takes a spawn and a catch-up each.
 */
const MARGIN_MS = 60_000;

/** Between two looks at the agent's nodes. */
const POLL_MS = 500;

interface DrainFlags {
  readonly deadline?: string;
  readonly reason?: string;
  readonly detach?: boolean;
}

/**
 * `sutra-grid drain AGENT [--deadline 5m] [--reason TEXT] [--detach]`: cordon the agent and have
 * the master move its nodes of declared clusters to other agents, under their update policy until
 * the deadline. Without `--detach` it waits until the agent holds no declared node, printing a line
 * each time what is left changes, and exits 0; past the deadline plus a margin it says what is
 * left on one error line and exits 1. `uncordon` ends a drain.
 */
export function registerDrainCommand(program: Command): void {
  addClientOptions(
    program
      .command('drain')
      .description('cordon an agent and move its nodes to other agents under their update policy; waits until none is left')
      .argument('<agent>', 'agent id')
      .option('--deadline <duration>', 'how long the moves keep to the update policy; after it they go at once (at most 24h)', DEFAULT_DEADLINE)
      .option('--reason <text>', 'why, shown in list-agents and the AgentDrainStarted event (at most 256 characters)')
      .option('--detach', 'return once the drain is recorded, without waiting for it'),
  ).action(async (agentId: string, opts: DrainFlags, cmd: Command) => {
    const deadlineMs = parseDeadline(opts.deadline ?? DEFAULT_DEADLINE);
    await withMaster(cmd, async (master, { json }) => {
      // With --json, stdout carries only the final JSON: progress goes to stderr.
      const say = (line: string): void => void (json ? process.stderr : process.stdout).write(`${line}\n`);
      const started = Date.now();
      const outcome = await master.drainAgent(agentId, deadlineMs, opts.reason ?? '');
      const why = outcome.cordon?.reason ? ` (${outcome.cordon.reason})` : '';
      say(`agent ${agentId} draining${why}${outcome.changed ? '' : ' (already)'}: its nodes move to other agents, paced by their update policy for ${formatDuration(deadlineMs)}`);
      if (opts.detach === true) {
        if (json) printJson(view(agentId, outcome, false));
        return;
      }
      await waitEmpty(master, agentId, started + deadlineMs + MARGIN_MS, deadlineMs, say);
      say(`agent ${agentId} drained in ${((Date.now() - started) / 1000).toFixed(1)}s: it holds no declared node; uncordon it to place nodes on it again`);
      if (json) printJson(view(agentId, outcome, true));
    });
  });
}

/** Polls the agent's declared nodes until none is left; a line each time what is left changes. */
async function waitEmpty(master: MasterClient, agentId: string, giveUpAtMs: number, deadlineMs: number, say: (line: string) => void): Promise<void> {
  let last = '';
  for (;;) {
    const left = (await master.listNodes({ agentId })).filter((n) => n.cluster !== '' && n.status !== 'stopped');
    if (left.length === 0) return;
    const line = `  ${left.length} node${left.length === 1 ? '' : 's'} left on ${agentId}: ${left.map((n) => `${n.nodeId} (${n.role ? `${n.role}, ` : ''}${n.status})`).join(', ')}`;
    if (line !== last) say(line);
    last = line;
    if (Date.now() > giveUpAtMs) {
      throw new RuntimeError(
        'DEADLINE_EXCEEDED',
        `agent ${agentId} is not drained ${formatDuration(MARGIN_MS)} past its ${formatDuration(deadlineMs)} deadline: ${left.map((n) => n.nodeId).join(', ')} still on it (see status and events)`,
      );
    }
    await sleep(POLL_MS);
  }
}

function parseDeadline(text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text, '--deadline');
  } catch (err) {
    throw new ConfigError('--deadline', `must be a duration like 90s or 5m, got "${text}"`, { cause: err });
  }
  if (ms <= 0 || ms > 24 * 3600_000) throw new ConfigError('--deadline', `must be more than 0 and at most 24h, got "${text}"`);
  return ms;
}

function view(agentId: string, o: CordonOutcome, drained: boolean): unknown {
  return { agentId, drain: drained ? 'drained' : drainState(o.cordon), drainDeadlineMs: o.cordon?.drainDeadlineMs ?? 0, reason: o.cordon?.reason ?? '', changed: o.changed };
}
