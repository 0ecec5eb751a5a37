/**
 * The bundled agent reads its flags itself (runtime/agent/agent-flags.ts), without commander. It
 * must read every command line as the CLI's `agent` command does: the same flags, and the same
 * refusal for the same mistake.
 */
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { AGENT_FLAGS, AgentArgvError, parseAgentArgv } from '../../runtime/agent/agent-flags.js';
import { registerAgentCommand } from '../../runtime/cli/commands/agent.js';

/** What the CLI's commander makes of `agent ...args`: the flags, or the error it prints. */
function viaCommander(args: readonly string[]): { flags?: Record<string, unknown>; error?: string } {
  let error = '';
  let flags: Record<string, unknown> | undefined;
  const program = new Command('sutra-grid').enablePositionalOptions().exitOverride();
  registerAgentCommand(program);
  const agent = program.commands[0]!;
  // The command's own action would start an agent: only what commander parsed is wanted here.
  agent.exitOverride().configureOutput({ writeErr: (s) => void (error += s), writeOut: () => {} });
  agent.action((opts: Record<string, unknown>) => void (flags = opts));
  try {
    program.parse(['agent', ...args], { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    return { error: error.trimEnd() };
  }
  return { flags: { ...flags } };
}

function viaAgent(args: readonly string[]): { flags?: Record<string, unknown>; error?: string } {
  try {
    return { flags: { ...parseAgentArgv(args) } };
  } catch (err) {
    if (!(err instanceof AgentArgvError)) throw err;
    return { error: err.message };
  }
}

describe('agent flags without commander', () => {
  const accepted: string[][] = [
    [],
    ['--config', 'agent.toml'],
    ['--id=a1', '--master', 'm:7000', '--listen', '127.0.0.1:0', '--data-dir', '/d', '--max-nodes', '3', '--heartbeat-interval', '500ms'],
    ['--platform', 'docker', '--storage-binary', '/bin/s', '--token-file', 't', '--join', 'tok', '--join-file', 'f', '--ca-hash', 'sha256:ab'],
    ['--id', 'a', '--id', 'b'],
    ['--join', '-starts-with-a-dash'],
    ['--data-dir='],
  ];
  it.each(accepted)('reads %j as the CLI does', (...args) => {
    const ours = viaAgent(args);
    expect(ours.error).toBeUndefined();
    expect(ours).toEqual(viaCommander(args));
  });

  const refused: string[][] = [['--bogus'], ['--bogus=3'], ['--confg', 'x'], ['--data_dir', 'x'], ['--he'], ['-x'], ['--id'], ['--config', 'f', '--master'], ['extra'], ['--', 'a', 'b'], ['-']];
  it.each(refused)('refuses %j with the CLI\'s message', (...args) => {
    const ours = viaAgent(args);
    expect(ours.error).toMatch(/^error: /);
    expect(ours).toEqual(viaCommander(args));
  });

  it('names every flag of AgentFlags once', () => {
    expect(new Set(AGENT_FLAGS.map((f) => f.key)).size).toBe(AGENT_FLAGS.length);
    expect(new Set(AGENT_FLAGS.map((f) => f.name)).size).toBe(AGENT_FLAGS.length);
  });
});
