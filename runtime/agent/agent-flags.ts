import type { AgentFlags } from './agent-config.js';

/**
 * The flags of `sutra-grid agent`, in one table for both of its entries: the CLI registers them
 * with commander (help, `sutra-grid agent ...` when no bundle is built), and the agent's own lean
 * entry (runtime/agent/main.ts, the bundled agent) reads argv with {@link parseAgentArgv}, without
 * commander and the rest of the CLI, which an idle agent would otherwise keep in its heap (issue 17).
 */

/** One flag: `--name <value>`, stored under `key` of {@link AgentFlags}. Every agent flag takes a value. */
export interface AgentFlagSpec {
  readonly name: `--${string}`;
  /** How help shows the value (`<file>`). */
  readonly value: `<${string}>`;
  readonly key: keyof AgentFlags;
  readonly description: string;
}

/** Every flag of `sutra-grid agent`, in help order. */
export const AGENT_FLAGS: readonly AgentFlagSpec[] = [
  { name: '--config', value: '<file>', key: 'config', description: 'agent-config.toml (flags override its keys)' },
  { name: '--id', value: '<id>', key: 'id', description: 'agent id ([agent].agent_id)' },
  { name: '--master', value: '<addr>', key: 'master', description: 'master HOST:PORT ([agent].master_endpoint; default $SUTRA_GRID_MASTER)' },
  { name: '--listen', value: '<host:port>', key: 'listen', description: 'where the agent serves GridAgent ([agent].listen_host + agent_port)' },
  { name: '--data-dir', value: '<dir>', key: 'dataDir', description: 'node data root ([storage].data_path)' },
  { name: '--max-nodes', value: '<n>', key: 'maxNodes', description: 'capacity ([agent].max_storage_nodes)' },
  { name: '--heartbeat-interval', value: '<duration>', key: 'heartbeatInterval', description: 'e.g. 5s, 500ms ([monitoring].heartbeat_interval_secs)' },
  { name: '--platform', value: '<name>', key: 'platform', description: 'process or docker ([agent].platform)' },
  { name: '--storage-binary', value: '<path>', key: 'storageBinary', description: 'storage server executable ([storage].binary_path; default the bundled one)' },
  { name: '--token-file', value: '<file>', key: 'tokenFile', description: 'shared token (default $SUTRA_GRID_TOKEN)' },
  {
    name: '--join',
    value: '<token>',
    key: 'join',
    description: 'join the grid with this join token (sutra-grid token create --role agent); the certificate is kept in <data-dir>/.agent/tls',
  },
  {
    name: '--join-file',
    value: '<file>',
    key: 'joinFile',
    description:
      'like --join, the token read from this file (a mounted Secret); skipped when <data-dir>/.agent/tls already holds a credential, so a restarted agent does not spend a used token',
  },
  { name: '--ca-hash', value: '<sha256:hex>', key: 'caHash', description: 'the grid CA hash printed by `token create`, pinned for --join' },
];

/** argv the agent's flags do not accept; `message` is commander's wording for the same mistake. */
export class AgentArgvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentArgvError';
  }
}

/**
 * The flags in `args` (what follows `agent`), read as commander reads them for the CLI's `agent`
 * command: `--name value` (the next word, whatever it starts with) or `--name=value`, the last of
 * a repeated flag wins, and an unknown option, a missing value or a word that is no flag is refused.
 * @throws AgentArgvError with commander's message for that mistake.
 */
export function parseAgentArgv(args: readonly string[]): AgentFlags {
  const flags: Partial<Record<keyof AgentFlags, string>> = {};
  const extra: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      extra.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      extra.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const spec = AGENT_FLAGS.find((f) => f.name === name);
    if (spec === undefined) throw new AgentArgvError(`error: unknown option '${arg}'${suggestion(arg)}`);
    let value: string | undefined;
    if (name !== arg) value = arg.slice(eq + 1);
    else value = args[++i];
    if (value === undefined) throw new AgentArgvError(`error: option '${spec.name} ${spec.value}' argument missing`);
    flags[spec.key] = value;
  }
  if (extra.length > 0) {
    throw new AgentArgvError(`error: too many arguments for 'agent'. Expected 0 arguments but got ${extra.length}.`);
  }
  return flags;
}

/** Optimal string alignment distance (edits, adjacent transpositions included), as commander computes it. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Math.max(a.length, b.length);
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let j = 1; j <= b.length; j++) {
    for (let i = 1; i <= a.length; i++) {
      const row = d[i]!;
      const prev = d[i - 1]!;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * Commander's hint under an unknown `--option`: the agent's flags (and --help) fewest edits away,
 * at most 3 and with over 40% of the word alike; empty when none is.
 */
function suggestion(arg: string): string {
  if (!arg.startsWith('--')) return '';
  const word = arg.slice(2);
  let best = 3;
  let similar: string[] = [];
  for (const candidate of [...AGENT_FLAGS.map((f) => f.name.slice(2)), 'help']) {
    const distance = editDistance(word, candidate);
    const length = Math.max(word.length, candidate.length);
    if ((length - distance) / length <= 0.4) continue;
    if (distance < best) {
      best = distance;
      similar = [candidate];
    } else if (distance === best) similar.push(candidate);
  }
  const names = similar.sort((a, b) => a.localeCompare(b)).map((c) => `--${c}`);
  if (names.length > 1) return `\n(Did you mean one of ${names.join(', ')}?)`;
  return names.length === 1 ? `\n(Did you mean ${names[0]}?)` : '';
}
