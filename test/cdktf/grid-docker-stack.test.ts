/**
 * GridDockerStack synthesized to Terraform JSON and checked with cdktf's Testing matchers (wired
 * into vitest by ./cdktf-matchers.ts). Synthesis is the whole contract of a cdktf stack; no
 * Terraform binary or Docker Engine is involved.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { Container } from '@cdktf/provider-docker/lib/container/index.js';
import { Network } from '@cdktf/provider-docker/lib/network/index.js';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider/index.js';
import { Volume } from '@cdktf/provider-docker/lib/volume/index.js';
import { afterAll, describe, expect, it } from 'vitest';
import { GridDockerStack, GRID_VERSION, type GridDockerStackProps } from '../../provider/cdktf/index.js';
import { parseGridSpec, specHash } from '../../schema/index.js';
import { parse as parseToml } from 'smol-toml';
import './cdktf-matchers.js';

const FIXTURE = 'test/cdktf/fixtures/docker-grid.yaml';
const TOKEN_REF = '${var.grid_token}';
const tmp = mkdtempSync(join(tmpdir(), 'grid-cdktf-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function synth(props: Partial<GridDockerStackProps> = {}): string {
  const app = Testing.app();
  // These tests pin the plaintext layout; the TLS default is grid-docker-stack-tls.test.ts.
  return Testing.synth(new GridDockerStack(app, 'grid', { specPath: FIXTURE, tls: false, ...props }));
}

/** The synthesized containers by their construct id. */
function containers(json: string): Record<string, any> {
  return JSON.parse(json).resource.docker_container;
}

describe('GridDockerStack', () => {
  const json = synth();

  it('configures the Docker provider, a bridge network and a volume per data dir', () => {
    expect(json).toHaveProviderWithProperties(DockerProvider, { host: 'unix:///var/run/docker.sock' });
    expect(synth({ dockerHost: 'tcp://10.0.0.5:2376' })).toHaveProviderWithProperties(DockerProvider, { host: 'tcp://10.0.0.5:2376' });
    expect(json).toHaveResourceWithProperties(Network, {
      name: 'sutra-grid-dock',
      driver: 'bridge',
      ipam_config: [{ subnet: '172.31.250.0/24', gateway: '172.31.250.1' }],
    });
    expect(json).toHaveResourceWithProperties(Volume, { name: 'sutra-grid-dock-master-data' });
  });

  it('runs the master at a fixed address, port 7000 published on loopback, its data volume, and a health wait', () => {
    expect(json).toHaveResourceWithProperties(Container, {
      name: 'sutra-grid-dock-master',
      image: `sutra-grid:${GRID_VERSION}`,
      command: ['master', '--listen', '0.0.0.0:7000', '--data-dir', '/data', '--token-file', '/run/secrets/sutra-grid/token', '--tls', 'off'],
      ports: [{ internal: 7000, external: 7000, ip: '127.0.0.1', protocol: 'tcp' }],
      volumes: [{ container_path: '/data', volume_name: '${docker_volume.master_data.name}' }],
      networks_advanced: [{ name: '${docker_network.network.name}', aliases: ['sutra-grid-dock-master'], ipv4_address: '172.31.250.10' }],
      wait: true,
      healthcheck: expect.objectContaining({ test: ['CMD', 'node', '/app/bin/sutra-grid.js', 'status', '--master', '127.0.0.1:7000', '--token-file', '/run/secrets/sutra-grid/token'] }),
      privileged: false,
      capabilities: { drop: ['ALL'] },
      security_opts: ['no-new-privileges:true'],
    });
    // The matcher really compares: a property that differs fails it.
    expect(() => expect(json).toHaveResourceWithProperties(Container, { name: 'sutra-grid-dock-master', image: 'other:1' })).toThrow(
      /Expected docker_container with properties/,
    );
    expect(synth({ masterPort: 17000, masterPublishIp: '0.0.0.0', image: 'reg.example/sutra-grid:dev' })).toHaveResourceWithProperties(Container, {
      name: 'sutra-grid-dock-master',
      image: 'reg.example/sutra-grid:dev',
      ports: [{ internal: 7000, external: 17000, ip: '0.0.0.0', protocol: 'tcp' }],
    });
  });

  it('runs one agent per docker agent of the spec, with the Engine socket, its own data dir and the master address', () => {
    const byId = containers(json);
    expect(Object.keys(byId).sort()).toEqual(['agent_docker-a', 'agent_docker-b', 'apply', 'master']);
    expect(json).toHaveResourceWithProperties(Container, {
      name: 'sutra-grid-dock-agent-docker-a',
      command: [
        'agent', '--config', '/etc/sutra/agent-config.toml', '--id', 'docker-a', '--platform', 'docker',
        '--master', '172.31.250.10:7000', '--listen', '172.31.250.1:8102',
        '--data-dir', '/var/lib/sutra-grid/agents/docker-a', '--token-file', '/run/secrets/sutra-grid/token',
      ],
      network_mode: 'host',
      mounts: [{ type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock' }],
      // The same path on the host and inside: node storage paths are bind sources on the host.
      volumes: [{ host_path: '/var/lib/sutra-grid/agents/docker-a', container_path: '/var/lib/sutra-grid/agents/docker-a' }],
      depends_on: ['docker_network.network', 'docker_container.master'],
      user: '0:0',
    });
    // An agent with an address in the spec listens on its port; the others get free ones around it.
    expect(byId['agent_docker-b'].command).toEqual(expect.arrayContaining(['--listen', '172.31.250.1:8101']));
    // Its config file carries what the spec says about it, and the node image.
    const config = byId['agent_docker-a'].upload.find((u: any) => u.file === '/etc/sutra/agent-config.toml').content as string;
    const toml = parseToml(config) as any;
    expect(toml).toEqual({
      agent: { platform: 'docker', max_storage_nodes: 4, max_memory_mb: 2048, labels: {} },
      storage: { default_memory_mb: 256, default_port_range_start: 50051, port_range_size: 200 },
      docker: { socket_path: '/var/run/docker.sock', image: 'sutra-grid:0.1.0', network: 'host' },
    });
    // With the socket's group given, the agent keeps the image's non-root user.
    const withGid = containers(synth({ dockerSocketGid: 998, dockerSocketPath: '/run/user-docker.sock' }))['agent_docker-a'];
    expect(withGid.user).toBeUndefined();
    expect(withGid.group_add).toEqual(['998']);
    expect(withGid.mounts).toEqual([{ type: 'bind', source: '/run/user-docker.sock', target: '/var/run/docker.sock' }]);
  });

  it('applies the spec once the master is up, in a one-shot container keyed by the spec hash', async () => {
    const text = readFileSync(FIXTURE, 'utf8');
    const parsed = parseGridSpec(text, FIXTURE);
    if (!parsed.ok) throw new Error(`fixture invalid: ${JSON.stringify(parsed.diagnostics)}`);
    const hash = specHash(parsed.compiled);
    expect(json).toHaveResourceWithProperties(Container, {
      name: 'sutra-grid-dock-apply',
      command: ['apply', '/etc/sutra/grid.yaml', '--master', 'sutra-grid-dock-master:7000', '--auto-approve', '--token-file', '/run/secrets/sutra-grid/token'],
      must_run: false,
      attach: true,
      env: [`SUTRA_GRID_SPEC_HASH=${hash}`],
      labels: expect.arrayContaining([{ label: 'sutra-grid.io/spec-hash', value: hash }]),
      upload: expect.arrayContaining([{ file: '/etc/sutra/grid.yaml', content: text }]),
      depends_on: ['docker_container.master', 'docker_container.agent_docker-a', 'docker_container.agent_docker-b'],
      lifecycle: { postcondition: [expect.objectContaining({ condition: '${self.exit_code == 0}' })] },
    });

    // WHEN only comments change, THEN the hash stays (the master would see no change either).
    const commentedPath = join(tmp, 'commented.yaml');
    writeFileSync(commentedPath, `# reviewed\n${text}`);
    expect(containers(synth({ specPath: commentedPath }))['apply'].env).toEqual([`SUTRA_GRID_SPEC_HASH=${hash}`]);

    // WHEN the spec's meaning changes, THEN only the apply step changes (so only it is replaced and re-run).
    const changedPath = join(tmp, 'changed.yaml');
    writeFileSync(changedPath, text.replace('nodes: 3', 'nodes: 4'));
    const changed = containers(synth({ specPath: changedPath, namePrefix: 'sutra-grid-dock' }));
    const original = containers(synth({ namePrefix: 'sutra-grid-dock' }));
    expect(changed['apply'].env).not.toEqual(original['apply'].env);
    expect(changed['apply'].upload).not.toEqual(original['apply'].upload);
    for (const id of ['master', 'agent_docker-a', 'agent_docker-b']) expect(changed[id], id).toEqual(original[id]);
  });

  it('takes the token only from a sensitive variable: never a plain value in the JSON', () => {
    const canary = 'canary-token-c0ffee-1234567890';
    // A stack that read the token from the environment at synth time would leak it here.
    const saved = { a: process.env['SUTRA_GRID_TOKEN'], b: process.env['TF_VAR_grid_token'] };
    process.env['SUTRA_GRID_TOKEN'] = canary;
    process.env['TF_VAR_grid_token'] = canary;
    let withEnv: string;
    try {
      withEnv = synth();
    } finally {
      for (const [k, v] of [['SUTRA_GRID_TOKEN', saved.a], ['TF_VAR_grid_token', saved.b]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    expect(withEnv).not.toContain(canary);
    expect(withEnv).toBe(json);

    const parsed = JSON.parse(json);
    expect(parsed.variable.grid_token).toMatchObject({ type: 'string', sensitive: true, nullable: false });
    expect(parsed.variable.grid_token.default).toBeUndefined();
    // Every container gets the token as an uploaded file whose content is the variable reference.
    for (const [id, c] of Object.entries(containers(json))) {
      expect(c.upload, id).toContainEqual({ file: '/run/secrets/sutra-grid/token', content: TOKEN_REF });
      expect(c.command, id).toEqual(expect.arrayContaining(['--token-file', '/run/secrets/sutra-grid/token']));
      expect(JSON.stringify(c.env ?? []), id).not.toContain('TOKEN=');
    }
    // The reference appears only in token uploads: once per container.
    expect(json.split(TOKEN_REF).length - 1).toBe(Object.keys(containers(json)).length);
  });

  it('synthesizes the same spec to the same JSON every time', () => {
    expect(synth()).toBe(json);
  });

  it('refuses bad props and bad specs with an error naming the field', () => {
    const badAgent = join(tmp, 'bad-agent.yaml');
    writeFileSync(badAgent, 'name: x\nagents:\n  - id: a1\n    platform: podman\n    capacity: { nodes: 1 }\n');
    const samePort = join(tmp, 'same-port.yaml');
    writeFileSync(
      samePort,
      'name: x\nagents:\n  - id: a1\n    platform: docker\n    address: h1:8200\n    capacity: { nodes: 1 }\n' +
        '  - id: a2\n    platform: docker\n    address: h2:8200\n    capacity: { nodes: 1 }\n',
    );
    const cases: Array<[Partial<GridDockerStackProps>, string, string]> = [
      [{ specPath: samePort }, 'CDKTF_SPEC_INVALID', '/agents/1/address'],
      [{ networkSubnet: '10.0.0.0/16' }, 'CDKTF_INVALID_PROPS', 'networkSubnet'],
      [{ masterPort: 70000 }, 'CDKTF_INVALID_PROPS', 'masterPort'],
      [{ dockerHost: '/var/run/docker.sock' }, 'CDKTF_INVALID_PROPS', 'dockerHost'],
      [{ dockerSocketPath: 'docker.sock' }, 'CDKTF_INVALID_PROPS', 'dockerSocketPath'],
      [{ specPath: join(tmp, 'missing.yaml') }, 'CDKTF_SPEC_UNREADABLE', 'specPath'],
      [{ specPath: badAgent }, 'CDKTF_SPEC_INVALID', '/agents/0/platform'],
    ];
    for (const [props, code, field] of cases) {
      expect(() => synth(props), field).toThrow(expect.objectContaining({ code, field }));
    }
    // Spec problems come with their place in the file, from the schema layer's parser.
    expect(() => synth({ specPath: badAgent })).toThrow(/bad-agent\.yaml:4:\d+/);
  });

  it('synthesizes examples/cdktf/grid.yaml with the master where the spec says it is', () => {
    const example = synth({ specPath: 'examples/cdktf/grid.yaml' });
    const parsed = parseGridSpec(readFileSync('examples/cdktf/grid.yaml', 'utf8'), 'example');
    if (!parsed.ok) throw new Error('example spec invalid');
    expect(Object.keys(containers(example)).sort()).toEqual(['agent_docker-1', 'agent_docker-2', 'apply', 'master']);
    expect(containers(example)['master'].name).toBe(parsed.compiled.master.address.split(':')[0]);
  });

  it('defaults the image to the package version', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(GRID_VERSION).toBe(pkg.version);
  });
});
