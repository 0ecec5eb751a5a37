import type { Command } from 'commander';
import { printJson } from '../output.js';
import { loadGridSpecFile, formatDiagnostics } from '../../../schema/index.js';

/** `sutra-grid validate FILE`: every problem with file:line:col; exit 0 when valid, 1 when not. */
export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('check a grid.yaml against the schema and the semantic rules')
    .argument('<file>', 'grid spec (YAML)')
    .option('--json', 'machine-readable output')
    .action(async (file: string, opts: { json?: boolean }, cmd: Command) => {
      const json = Boolean(opts.json ?? cmd.parent?.opts<{ json?: boolean }>().json);
      const result = await loadGridSpecFile(file);
      if (json) {
        printJson({ valid: result.ok, diagnostics: result.diagnostics });
      } else if (result.diagnostics.length > 0) {
        process.stderr.write(`${formatDiagnostics(result.diagnostics)}\n`);
      }
      if (!result.ok) {
        process.exitCode = 1;
        return;
      }
      if (!json) {
        const c = result.compiled;
        const nodes = c.clusters.reduce((n, cl) => n + cl.nodes, 0);
        process.stdout.write(`${file}: valid (grid ${c.name}: ${c.agents.length} agents, ${c.clusters.length} clusters, ${nodes} nodes)\n`);
      }
    });
}
