import { TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { Container, type ContainerConfig } from '@cdktf/provider-docker/lib/container/index.js';
import { Network } from '@cdktf/provider-docker/lib/network/index.js';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider/index.js';
import { Volume } from '@cdktf/provider-docker/lib/volume/index.js';
import { compileDockerStackProps, LAYOUT, type CompiledDockerStackProps, type GridDockerStackProps } from './props.js';
import { loadSpec, type LoadedSpec } from './spec-source.js';

/**
 * Hardening every grid container gets: no capabilities, no privilege gain through setuid, a
 * private /tmp. The root filesystem stays writable only because the token (and the spec) are
 * uploaded as files, which the Engine refuses on a read-only root.
 */
const HARDENING: Pick<ContainerConfig, 'capabilities' | 'securityOpts' | 'tmpfs' | 'privileged'> = {
  privileged: false,
  capabilities: { drop: ['ALL'] },
  securityOpts: ['no-new-privileges:true'],
  tmpfs: { '/tmp': 'rw,noexec,nosuid,size=64m' },
};

function labels(map: Record<string, string>): { label: string; value: string }[] {
  return Object.entries(map).map(([label, value]) => ({ label, value }));
}

/**
 * A grid on one Docker host, as a Terraform stack: a private network, the master with a volume
 * for its data dir, one agent container per `platform: docker` agent of the spec (each with the
 * Engine socket and its own volume), and a one-shot container that applies the spec to the master
 * once it is healthy. The token is a sensitive Terraform variable (`TF_VAR_grid_token`), uploaded
 * into each container as a file: it never appears in the synthesized JSON.
 *
 * ```ts
 * const app = new App();
 * new GridDockerStack(app, 'grid', { specPath: 'grid.yaml' });
 * app.synth();
 * ```
 */
export class GridDockerStack extends TerraformStack {
  readonly props: CompiledDockerStackProps;
  readonly spec: LoadedSpec;
  readonly tokenVariable: TerraformVariable;
  readonly network: Network;
  readonly master: Container;
  /** Agent containers by agent id, in spec order. */
  readonly agents: ReadonlyMap<string, Container>;
  readonly apply: Container;

  constructor(scope: Construct, id: string, props: GridDockerStackProps) {
    super(scope, id);
    this.props = compileDockerStackProps(props);
    this.spec = loadSpec(this.props.specPath);
    const p = this.props;
    const prefix = p.namePrefix ?? `sutra-grid-${this.spec.compiled.name}`;
    const gridLabels = { 'sutra-grid.io/grid': this.spec.compiled.name, 'sutra-grid.io/managed-by': 'cdktf' };

    new DockerProvider(this, 'docker', { host: p.dockerHost });
    this.tokenVariable = new TerraformVariable(this, p.tokenVariableName, {
      type: 'string',
      sensitive: true,
      nullable: false,
      description: `Shared token of grid ${this.spec.compiled.name}; set TF_VAR_${p.tokenVariableName}. Never written to the synthesized configuration.`,
      validation: [
        {
          condition: `\${length(var.${p.tokenVariableName}) >= 16}`,
          errorMessage: 'The grid token must be at least 16 characters.',
        },
      ],
    });
    const tokenUpload = { file: LAYOUT.tokenFile, content: this.tokenVariable.stringValue };
    const tokenArgs = ['--token-file', LAYOUT.tokenFile];

    this.network = new Network(this, 'network', {
      name: prefix,
      driver: 'bridge',
      labels: labels(gridLabels),
    });
    const onNetwork = (aliases: string[]) => [{ name: this.network.name, aliases }];

    // --- master ---------------------------------------------------------------------------
    const masterName = `${prefix}-master`;
    const masterData = new Volume(this, 'master_data', { name: `${masterName}-data`, labels: labels(gridLabels) });
    this.master = new Container(this, 'master', {
      ...HARDENING,
      name: masterName,
      hostname: masterName,
      image: p.image,
      command: ['master', '--listen', `0.0.0.0:${LAYOUT.masterPort}`, '--data-dir', LAYOUT.masterDataDir, ...tokenArgs],
      labels: labels({ ...gridLabels, 'sutra-grid.io/role': 'master' }),
      networksAdvanced: onNetwork([masterName]),
      ports: [{ internal: LAYOUT.masterPort, external: p.masterPort, ip: p.masterPublishIp, protocol: 'tcp' }],
      volumes: [{ volumeName: masterData.name, containerPath: LAYOUT.masterDataDir }],
      upload: [tokenUpload],
      restart: 'unless-stopped',
      destroyGraceSeconds: 30,
      // `wait` holds `terraform apply` until this check passes, so the apply step below starts
      // against a master that answers.
      healthcheck: {
        test: ['CMD', 'sutra-grid', 'status', '--master', `127.0.0.1:${LAYOUT.masterPort}`, ...tokenArgs],
        interval: '5s',
        timeout: '5s',
        startPeriod: '5s',
        retries: 3,
      },
      wait: true,
      waitTimeout: 120,
    });
    const masterAddress = `${masterName}:${LAYOUT.masterPort}`;

    // --- agents ---------------------------------------------------------------------------
    const agents = new Map<string, Container>();
    for (const agent of this.spec.compiled.agents.filter((a) => a.platform === 'docker')) {
      const name = `${prefix}-agent-${agent.id}`;
      // The agent binds its container's own name, which Docker DNS resolves to its address on
      // the network; so the address it reports is one the master can dial. A spec address adds
      // its host as an alias and gives the port.
      const [specHost, specPort] = agent.address !== undefined ? agent.address.split(':') : [undefined, undefined];
      const port = specPort !== undefined ? Number(specPort) : LAYOUT.agentPort;
      const aliases = [name, agent.id, ...(specHost !== undefined && specHost !== name && specHost !== agent.id ? [specHost] : [])];
      const data = new Volume(this, `agent_${agent.id}_data`, { name: `${name}-data`, labels: labels({ ...gridLabels, 'sutra-grid.io/agent': agent.id }) });
      agents.set(
        agent.id,
        new Container(this, `agent_${agent.id}`, {
          ...HARDENING,
          name,
          hostname: name,
          image: p.image,
          command: [
            'agent', '--id', agent.id, '--platform', 'docker', '--master', masterAddress,
            '--listen', `${name}:${port}`, '--data-dir', LAYOUT.agentDataDir,
            '--max-nodes', String(agent.capacity.nodes), ...tokenArgs,
          ],
          labels: labels({ ...gridLabels, 'sutra-grid.io/role': 'agent', 'sutra-grid.io/agent': agent.id }),
          networksAdvanced: onNetwork(aliases),
          volumes: [{ volumeName: data.name, containerPath: LAYOUT.agentDataDir }],
          // Storage nodes are sibling containers created through the host's Engine; their ports
          // are published by those containers, so the agent itself publishes nothing.
          mounts: [{ type: 'bind', source: p.dockerSocketPath, target: LAYOUT.dockerSocket }],
          ...(p.dockerSocketGid !== undefined ? { groupAdd: [String(p.dockerSocketGid)] } : { user: '0:0' }),
          upload: [tokenUpload],
          restart: 'unless-stopped',
          // Room for the agent to stop its nodes gracefully.
          destroyGraceSeconds: 60,
          dependsOn: [this.master],
        }),
      );
    }
    this.agents = agents;

    // --- apply step -----------------------------------------------------------------------
    // A one-shot container running `sutra-grid apply`. Its label/env carry the spec's hash and
    // it uploads the spec's text: a changed spec changes them, which forces Terraform to replace
    // the container and so to apply again; an unchanged spec plans no change. `attach` makes
    // `terraform apply` wait for it to finish, and the postcondition fails the run on a failed apply.
    const applyName = `${prefix}-apply`;
    this.apply = new Container(this, 'apply', {
      ...HARDENING,
      name: applyName,
      image: p.image,
      command: ['apply', LAYOUT.specFile, '--master', masterAddress, '--auto-approve', ...tokenArgs],
      env: [`SUTRA_GRID_SPEC_HASH=${this.spec.hash}`],
      labels: labels({ ...gridLabels, 'sutra-grid.io/role': 'apply', 'sutra-grid.io/spec-hash': this.spec.hash }),
      networksAdvanced: onNetwork([applyName]),
      upload: [{ file: LAYOUT.specFile, content: this.spec.text }, tokenUpload],
      mustRun: false,
      restart: 'no',
      attach: true,
      logs: true,
      dependsOn: [this.master, ...agents.values()],
      lifecycle: {
        postcondition: [
          { condition: '${self.exit_code == 0}', errorMessage: `sutra-grid apply of ${p.specPath} failed; see this container's logs` },
        ],
      },
    });

    new TerraformOutput(this, 'master_address', {
      value: `${p.masterPublishIp}:${p.masterPort}`,
      description: 'Where the CLI reaches the master from the Docker host (sutra-grid status --master ...).',
    });
    new TerraformOutput(this, 'spec_hash', { value: this.spec.hash, description: 'specHash of the applied grid spec (as the master computes it).' });
  }
}
