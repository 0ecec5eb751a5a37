import type { Command } from 'commander';
import { resolve } from 'node:path';
import { parseDuration } from '../../../schema/index.js';
import { createLogger } from '../../common/logger.js';
import { MasterClient, resolveToken, waitConverged } from '../../../client/index.js';
import { ConfigError, RuntimeError } from '../../errors.js';
import { formatWireEvent } from '../event-stream.js';
import { nodeProgress } from '../node-progress.js';
import { formatTable } from '../output.js';
import { onStopSignals } from '../run-until-signal.js';
import { loadSpecForCommand } from '../spec-file.js';

interface UpFlags {
  readonly stateDir: string;
  readonly timeout: string;
  readonly listen?: string;
  readonly http: string | false;
  readonly tokenFile?: string;
  readonly detachAfterConverge?: boolean;
}

/** A line for the person at the terminal, on stderr: stdout may be piped into a reader that is gone. */
function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Events a person watching `up` cares about; heartbeats are left out. */
const LIFECYCLE = new Set(['AgentHeartbeat']);

/**
 * `sutra-grid up FILE`: an embedded master (state under --state-dir), the spec's local `process`
 * agents, apply, a status table, then lifecycle lines until Ctrl+C stops everything.
 */
export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('run a local grid from a grid.yaml: embedded master, local agents, apply, then follow events until Ctrl+C')
    .argument('<file>', 'grid spec (YAML)')
    .option('--state-dir <dir>', 'where the master keeps its state (resumed on the next run)', '.grid')
    .option('--timeout <duration>', 'how long to wait for the first convergence', '2m')
    .option('--listen <host:port>', "master address (default: the spec's master.address)")
    .option('--http <host:port>', 'HTTP API and /metrics address', '127.0.0.1:0')
    .option('--no-http', 'serve no HTTP API')
    .option('--token-file <file>', 'shared token (default $SUTRA_GRID_TOKEN)')
    .option('--detach-after-converge', 'stop everything once converged (for scripts and tests)')
    .action(async (file: string, flags: UpFlags) => {
      let timeoutMs: number;
      try {
        timeoutMs = parseDuration(flags.timeout, '--timeout');
      } catch (err) {
        throw new ConfigError('--timeout', `must be a duration like 30s or 2m, got "${flags.timeout}"`, { cause: err });
      }
      const spec = await loadSpecForCommand(file);
      // The daemons (master, agents, Docker client) load only for `up`, not for every CLI verb.
      const { LocalGrid } = await import('../local-grid.js');
      const token = resolveToken({ file: flags.tokenFile });
      // The daemons' JSON logs stay quiet unless asked for: `up` prints its own readable lines.
      const logger = createLogger('sutra-grid-up', process.env['LOG_LEVEL'] ?? 'error');
      const grid = new LocalGrid({
        spec: spec.compiled,
        stateDir: resolve(flags.stateDir),
        token,
        logger,
        ...(flags.listen !== undefined ? { masterListen: flags.listen } : {}),
        ...(flags.http !== false ? { http: flags.http } : {}),
      });
      // Ctrl+C, kill and a closed terminal all drain; a second says it is still stopping; a third
      // kills the nodes and exits, so no node outlives `up` short of kill -9 (adopted on the next run).
      const interrupt = new AbortController();
      const signals = onStopSignals({
        stop: () => interrupt.abort(),
        stillStopping: () => note(`still stopping the grid (${grid.nodePids().length} nodes left); press Ctrl+C again to kill them and exit now`),
        force: () => note(`forced: killed ${grid.killNodes()} nodes; exiting without draining`),
      });
      const out = (line: string): void => void process.stdout.write(`${line}\n`);
      try {
        const address = await grid.start();
        if (interrupt.signal.aborted) return;
        const local = LocalGrid.localAgents(spec.compiled).map((a) => a.id);
        out(`master listening on ${address} (state in ${resolve(flags.stateDir)})`);
        if (grid.httpAddress !== undefined) out(`HTTP API on http://${grid.httpAddress}/api/grid, metrics on http://${grid.httpAddress}/metrics, dashboard on http://${grid.httpAddress}/`);
        out(`local agents: ${local.length > 0 ? local.join(', ') : '(none; waiting for remote agents)'}`);
        if (token === undefined) out('no token: the master and agents listen on loopback only');
        const master = new MasterClient({ address, token });
        try {
          const before = await master.getSpec();
          const applied = await master.applySpec(spec.json, before.generation);
          out(applied.changed ? `applied ${file} as generation ${applied.generation}` : `resuming generation ${applied.generation} (spec unchanged)`);
          const converged = await waitConverged(master, applied.generation, { timeoutMs, signal: interrupt.signal, onView: nodeProgress((line) => out(`  ${line}`), applied.generation) });
          // Ctrl+C while waiting stops the grid now, not after the convergence timeout.
          if (converged.interrupted) return;
          out(converged.done ? 'grid converged' : converged.failed !== undefined ? converged.failed : `not converged after ${flags.timeout}: ${converged.remaining.join('; ')}`);
          out(await statusTable(master));
          if (flags.detachAfterConverge === true) {
            if (converged.failed !== undefined) throw new RuntimeError('ROLLOUT_FAILED', converged.failed);
            if (!converged.done) throw new RuntimeError('DEADLINE_EXCEEDED', `not converged after ${flags.timeout}`);
            return;
          }
          out('following lifecycle events; Ctrl+C stops the grid');
          const lastIndex = await master.lastEventIndex();
          await master.watchEvents(lastIndex + 1, undefined, {
            onEvent: (e) => {
              if (!LIFECYCLE.has(e.type)) out(formatWireEvent(e));
            },
          }, interrupt.signal);
        } finally {
          master.close();
        }
      } finally {
        out('stopping the grid...');
        try {
          await grid.shutdown();
        } finally {
          signals.dispose();
        }
        out('grid stopped');
      }
    });
}

async function statusTable(master: MasterClient): Promise<string> {
  const [nodes, status] = await Promise.all([master.listNodes(), master.getClusterStatus()]);
  const clusters = status.clusters.map((c) => `cluster ${c.name}: ${c.health} (${c.running}/${c.desired} running${c.leaderNodeId ? `, leader ${c.leaderNodeId}` : ''})`);
  const table = formatTable(
    ['node', 'cluster', 'role', 'agent', 'status', 'port', 'pid'],
    nodes.map((n) => [n.nodeId, n.cluster || '-', n.role || '-', n.agentId, n.status, n.port, n.pid]),
  );
  return [...clusters, table].join('\n');
}
