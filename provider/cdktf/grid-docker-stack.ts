import { TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { Container, type ContainerConfig } from '@cdktf/provider-docker/lib/container/index.js';
import { Network } from '@cdktf/provider-docker/lib/network/index.js';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider/index.js';
import { gridCredentials } from './grid-credentials.js';
import { callerTlsArgs, createEtcd, createMasters } from './grid-masters.js';
import type { CompiledAgentSpec } from '../../schema/index.js';
import { dockerAgentConfigToml } from './agent-config-toml.js';
import { GridCdktfError } from './errors.js';
import { compileDockerStackProps, LAYOUT, type CompiledDockerStackProps, type GridDockerStackProps } from './props.js';
import { loadSpec, type LoadedSpec } from './spec-source.js';

/**
 * Hardening every grid container gets: no capabilities, no privilege gain through setuid, a
 * private /tmp. The root filesystem stays writable only because the token (and the spec or agent
 * config) are uploaded as files, which the Engine refuses on a read-only root.
 */
const HARDENING: Pick<ContainerConfig, 'capabilities' | 'securityOpts' | 'tmpfs' | 'privileged'> = {
  privileged: false,
  capabilities: { drop: ['ALL'] },
  securityOpts: ['no-new-privileges:true'],
  tmpfs: { '/tmp': 'rw,noexec,nosuid,size=64m' },
};

/**
 * Every docker agent shares the host's network, so each needs its own gRPC port: the port of its
 * spec address when it has one, else the next free one from 8101. Deterministic for a spec.
 */
function agentPorts(agents: readonly CompiledAgentSpec[]): Map<string, number> {
  const ports = new Map<string, number>();
  const taken = new Map<number, string>();
  agents.forEach((agent, i) => {
    if (agent.address === undefined) return;
    const port = Number(agent.address.slice(agent.address.lastIndexOf(':') + 1));
    const other = taken.get(port);
    if (other !== undefined) {
      throw new GridCdktfError('CDKTF_SPEC_INVALID', `/agents/${i}/address`, `docker agents ${other} and ${agent.id} share one host, so they cannot both use port ${port}`);
    }
    taken.set(port, agent.id);
    ports.set(agent.id, port);
  });
  let next = LAYOUT.firstAgentPort;
  for (const agent of agents) {
    if (ports.has(agent.id)) continue;
    while (taken.has(next)) next++;
    taken.set(next, agent.id);
    ports.set(agent.id, next);
  }
  return ports;
}

function labels(map: Record<string, string>): { label: string; value: string }[] {
  return Object.entries(map).map(([label, value]) => ({ label, value }));
}

/**
 * A grid on one Docker host, as a Terraform stack: a private network, the master on it (fixed
 * address, data dir on a volume, port published on the host), one agent container per
 * `platform: docker` agent of the spec, and a one-shot container that applies the spec once the
 * master is healthy and again whenever the spec changes. The token is a sensitive Terraform
 * variable (`TF_VAR_grid_token`) uploaded into each container as a file: it never appears in the
 * synthesized JSON. With TLS (the default) the masters issue from the operator's grid CA and each
 * agent joins once with its own join token (see grid-credentials.ts for where those come from);
 * with `masters: 3` three masters share an etcd of three containers.
 *
 * Docker agents run on the host's network namespace: they start storage nodes as sibling
 * containers through the host's Engine, those nodes listen on the host's 127.0.0.1, and the agent
 * must health-check them there. They listen on the network's gateway address (the host's side of
 * the bridge), which the master dials, and dial the master at its fixed address.
 *
 * ```ts
 * const app = new App();
 * new GridDockerStack(app, 'grid', { specPath: 'grid.yaml' });
 * app.synth();
 * ```
 */
export class GridDockerStack extends TerraformStack {
  /** The props with every default filled in. */
  readonly props: CompiledDockerStackProps;
  /** The spec file read and validated at synth time: text, hash and compiled form. */
  readonly spec: LoadedSpec;
  /** The sensitive `grid_token` variable; its value only exists at `terraform apply` time. */
  readonly tokenVariable: TerraformVariable;
  readonly network: Network;
  /** The first master (the only one unless `masters` is 3). */
  readonly master: Container;
  /** Every master container. */
  readonly masters: readonly Container[];
  /** The etcd members' containers (empty with one master). */
  readonly etcd: readonly Container[];
  /** `sha256:` of the grid CA (what agents pin); undefined without TLS. */
  readonly caHash: string | undefined;
  /** Agent containers by agent id, in spec order. */
  readonly agents: ReadonlyMap<string, Container>;
  /** The one-shot container that applies the spec; undefined when `deployAgents` is false. */
  readonly apply: Container | undefined;

  constructor(scope: Construct, id: string, props: GridDockerStackProps) {
    super(scope, id);
    this.props = compileDockerStackProps(props);
    this.spec = loadSpec(this.props.specPath);
    const p = this.props;
    const grid = this.spec.compiled;
    const prefix = p.namePrefix ?? `sutra-grid-${grid.name}`;
    const gridLabels = { 'sutra-grid.io/grid': grid.name, 'sutra-grid.io/managed-by': 'cdktf' };

    new DockerProvider(this, 'docker', { host: p.dockerHost });
    this.tokenVariable = new TerraformVariable(this, p.tokenVariableName, {
      type: 'string',
      sensitive: true,
      nullable: false,
      description: `Shared token of grid ${grid.name}; set TF_VAR_${p.tokenVariableName}. Never written to the synthesized configuration.`,
      validation: [
        { condition: `\${length(var.${p.tokenVariableName}) >= 16}`, errorMessage: 'The grid token must be at least 16 characters.' },
      ],
    });
    const tokenUpload = { file: LAYOUT.tokenFile, content: this.tokenVariable.stringValue };
    const tokenArgs = ['--token-file', LAYOUT.tokenFile];

    this.network = new Network(this, 'network', {
      name: prefix,
      driver: 'bridge',
      // Fixed, so the master's address and the agents' listen address are known at synth time.
      ipamConfig: [{ subnet: p.networkSubnet, gateway: p.gatewayIp }],
      labels: labels(gridLabels),
    });

    // --- masters (and their etcd) -----------------------------------------------------------
    const credentials = gridCredentials(this, p);
    this.caHash = credentials.caHash;
    const ctx = { p, prefix, network: this.network, labels: (extra: Record<string, string>) => labels({ ...gridLabels, ...extra }), hardening: HARDENING, tokenUpload, credentials };
    this.etcd = createEtcd(this, ctx);
    this.masters = createMasters(this, ctx, this.etcd);
    this.master = this.masters[0]!;
    const masterList = p.masterIps.map((ip) => `${ip}:${LAYOUT.masterPort}`).join(',');

    // --- agents ---------------------------------------------------------------------------
    const agents = new Map<string, Container>();
    const dockerAgents = grid.agents.filter((a) => a.platform === 'docker');
    const ports = agentPorts(dockerAgents);
    (p.deployAgents ? dockerAgents : []).forEach((agent) => {
      const name = `${prefix}-agent-${agent.id}`;
      const port = ports.get(agent.id)!;
      const dataDir = `${p.agentDataRoot}/${agent.id}`;
      agents.set(
        agent.id,
        new Container(this, `agent_${agent.id}`, {
          ...HARDENING,
          name,
          image: p.image,
          command: [
            'agent', '--config', LAYOUT.agentConfigFile, '--id', agent.id, '--platform', 'docker',
            '--master', masterList, '--listen', `${p.gatewayIp}:${port}`,
            '--data-dir', dataDir, ...tokenArgs,
            // Joins once (its certificate then lives in its data dir on the host) with its own token.
            ...(credentials.caHash !== undefined ? ['--join-file', LAYOUT.joinFile, '--ca-hash', credentials.caHash] : []),
          ],
          labels: labels({ ...gridLabels, 'sutra-grid.io/role': 'agent', 'sutra-grid.io/agent': agent.id }),
          networkMode: 'host',
          // Same path on both sides: node storage paths under it are bind sources on the host.
          // (A named volume would leave the agent and its nodes looking at different directories.)
          volumes: [{ hostPath: dataDir, containerPath: dataDir }, ...credentials.agent(agent.id).volumes],
          mounts: [{ type: 'bind', source: p.dockerSocketPath, target: LAYOUT.dockerSocket }],
          ...(p.dockerSocketGid !== undefined ? { groupAdd: [String(p.dockerSocketGid)] } : { user: '0:0' }),
          upload: [{ file: LAYOUT.agentConfigFile, content: dockerAgentConfigToml(agent, grid.storage, p.image) }, tokenUpload, ...credentials.agent(agent.id).upload],
          restart: 'unless-stopped',
          // Room for the agent to stop its nodes gracefully.
          destroyGraceSeconds: 60,
          // The gateway address it binds exists once the network does; the master must answer.
          dependsOn: [this.network, ...this.masters],
        }),
      );
    });
    this.agents = agents;

    // --- apply step -----------------------------------------------------------------------
    // A one-shot container running `sutra-grid apply`. Its label/env carry the spec's hash and
    // it uploads the spec's text: a changed spec changes them, which forces Terraform to replace
    // the container and so to apply again; an unchanged spec plans no change. `attach` makes
    // `terraform apply` wait for it to finish; the postcondition fails the run on a failed apply.
    const applyName = `${prefix}-apply`;
    this.apply = !p.deployAgents ? undefined : new Container(this, 'apply', {
      ...HARDENING,
      name: applyName,
      image: p.image,
      command: ['apply', LAYOUT.specFile, '--master', p.masters === 1 ? `${prefix}-master:${LAYOUT.masterPort}` : masterList, '--auto-approve', ...tokenArgs, ...callerTlsArgs(p)],
      env: [`SUTRA_GRID_SPEC_HASH=${this.spec.hash}`],
      labels: labels({ ...gridLabels, 'sutra-grid.io/role': 'apply', 'sutra-grid.io/spec-hash': this.spec.hash }),
      networksAdvanced: [{ name: this.network.name, aliases: [applyName] }],
      upload: [{ file: LAYOUT.specFile, content: this.spec.text }, tokenUpload, ...credentials.caller()],
      mustRun: false,
      restart: 'no',
      attach: true,
      logs: true,
      dependsOn: [...this.masters, ...agents.values()],
      lifecycle: {
        postcondition: [
          { condition: '${self.exit_code == 0}', errorMessage: `sutra-grid apply of ${p.specPath} failed; see this container's logs` },
        ],
      },
    });

    const publishedHost = p.masterPublishIp === '0.0.0.0' ? '127.0.0.1' : p.masterPublishIp;
    new TerraformOutput(this, 'master_address', {
      value: p.masterIps.map((_, i) => `${publishedHost}:${p.masterPort + i}`).join(','),
      description: 'Where the CLI reaches the master(s) from the Docker host (sutra-grid status --master ...).',
    });
    if (credentials.caHash !== undefined) {
      new TerraformOutput(this, 'ca_hash', { value: credentials.caHash, description: 'The --ca-hash of the grid CA, for sutra-grid join and agents.' });
    }
    new TerraformOutput(this, 'spec_hash', { value: this.spec.hash, description: 'specHash of the applied grid spec (as the master computes it).' });
  }
}
