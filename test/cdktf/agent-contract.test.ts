/**
 * Contract between the stack and the agent it starts: the command line and the generated
 * agent-config.toml of each docker agent container must be accepted by the agent's own option
 * compiler (runtime/agent), and mean what the spec says. Catches a renamed flag or config key on
 * either side without needing a Docker Engine.
 */
import { Testing } from 'cdktf';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { GridDockerStack } from '../../provider/cdktf/index.js';
import { checkAgentConfig, compileAgentOptions, type AgentFlags } from '../../runtime/agent/index.js';

/** `--flag value` pairs of a command line, as commander would hand them to the agent command. */
function flagsOf(command: readonly string[]): AgentFlags {
  expect(command[0]).toBe('agent');
  const flags: Record<string, string> = {};
  for (let i = 1; i < command.length; i += 2) {
    const name = command[i]!;
    expect(name.startsWith('--'), name).toBe(true);
    flags[name.slice(2).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())] = command[i + 1]!;
  }
  return flags as AgentFlags;
}

describe('docker agent containers', () => {
  it('start with flags and a config file the agent accepts, carrying the spec', () => {
    const app = Testing.app();
    const stack = new GridDockerStack(app, 'grid', { specPath: 'examples/cdktf/grid.yaml', image: 'sutra-grid:test', tls: false });
    const containers = JSON.parse(Testing.synth(stack)).resource.docker_container as Record<string, any>;
    const expected = new Map(stack.spec.compiled.agents.filter((a) => a.platform === 'docker').map((a) => [a.id, a]));
    expect(expected.size).toBe(2);
    for (const [id, spec] of expected) {
      const container = containers[`agent_${id}`];
      const flags = flagsOf(container.command);
      const toml = container.upload.find((u: { file: string }) => u.file === flags.config).content as string;
      const file = checkAgentConfig(parseToml(toml) as Record<string, unknown>, 'agent-config.toml');
      const options = compileAgentOptions(file, flags, 'a-token-of-sixteen+', {});
      expect(options).toMatchObject({
        agentId: id,
        platform: 'docker',
        masterEndpoint: '172.31.250.10:7000',
        maxNodes: spec.capacity.nodes,
        maxMemoryMb: spec.capacity.memoryMb,
        labels: spec.labels,
        storage: {
          dataPath: `/var/lib/sutra-grid/agents/${id}`,
          defaultMemoryMb: stack.spec.compiled.storage.memoryMb,
          portRangeStart: stack.spec.compiled.storage.portRange.start,
          portRangeSize: stack.spec.compiled.storage.portRange.end - stack.spec.compiled.storage.portRange.start + 1,
        },
        docker: { socketPath: '/var/run/docker.sock', image: 'sutra-grid:test', network: 'host' },
      });
      expect(options.listen).toMatch(/^172\.31\.250\.1:81\d\d$/);
    }
  });
});
