/**
 * The `Grid` provider over mutual TLS, as the Pulumi engine drives it: the provider text a program
 * serializes, run by the real dynamic-provider host (`@pulumi/pulumi`'s `cmd/dynamic-provider`),
 * against a real master with `--tls on` and a real agent that joined with a join token read from a
 * file (`--join-file`). The credential (CA, certificate, private key) is given as inputs; the
 * state the engine would keep holds it only as secrets.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, runCli, startAgent, startMaster, tempDir, type DaemonProcess } from '../helpers/processes.js';
import { DynamicHost } from './support/dynamic-host.js';
import { CheckFailed, EngineSim, redactSecrets } from './support/engine-sim.js';
import { createProjectDir, type ProjectDir } from './support/project-dir.js';
import { registerGrid, type RegisteredGrid } from './support/serialized-provider.js';
import { SECRET_SIG, SPECIAL_SIG_KEY } from '../../provider/pulumi/wire.js';

interface Credential {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

const FAST = ['--heartbeat-interval', '200ms', '--degraded-after', '2s', '--offline-after', '4s', '--health-check-interval', '200ms'];
const spec = {
  name: 'tls-lab',
  monitoring: { heartbeatInterval: '200ms', degradedAfter: '2s', offlineAfter: '4s', replaceAfter: '30s' },
  storage: { memory: '64Mi' },
  agents: [{ id: 'agent-t1', capacity: { nodes: 2 } }],
  clusters: [{ name: 'kt', nodes: 1 }],
};

let master: DaemonProcess;
let agent: DaemonProcess;
let masterDir: string;
let agentDataDir: string;
let joinFile: string;
let joinToken: string;
let caHash: string;
let operator: Credential;
let reader: Credential;
let project: ProjectDir;
let host: DynamicHost;
let registered: RegisteredGrid;

/** The start of a PEM's body (base64, no armour lines): what must never be readable in state. */
function pemBody(pem: string): string {
  return pem
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('-----'))
    .join('')
    .slice(0, 64);
}

/** A credential of `role` issued offline from the CA in the master's data dir (`sutra-grid cert issue`). */
async function issue(role: string, name: string): Promise<Credential & { dir: string }> {
  const dir = tempDir(`cred-${name}-`);
  const r = await runCli(['cert', 'issue', '--data-dir', masterDir, '--role', role, '--name', name, '--out', dir]);
  if (r.code !== 0) throw new Error(`cert issue ${role} failed: ${r.stderr}`);
  const f = (n: string): string => readFileSync(join(dir, n), 'utf8');
  return { dir, ca: f('ca.pem'), cert: f('cert.pem'), key: f('key.pem') };
}

function inputs(cred: Credential | undefined, masterAddress: string): Record<string, unknown> {
  const base = { spec, masterAddress, convergeTimeout: '60s' };
  return cred === undefined ? base : { ...base, tlsCa: cred.ca, tlsCert: cred.cert, tlsKey: cred.key };
}

beforeAll(async () => {
  masterDir = tempDir('tls-master-');
  // GIVEN a master speaking only mutual TLS (no shared token at all)
  master = await startMaster({ dataDir: masterDir, args: ['--tls', 'on', ...FAST] });
  const admin = await issue('admin', 'ops');
  [operator, reader] = await Promise.all([issue('operator', 'pulumi'), issue('reader', 'viewer')]);
  const created = await runCli(['token', 'create', '--role', 'agent', '--ttl', '10m', '--master', master.address, '--tls-dir', admin.dir]);
  if (created.code !== 0) throw new Error(`token create failed: ${created.stderr}`);
  joinToken = created.stdout.trim();
  caHash = /--ca-hash (sha256:[0-9a-f]{64})/.exec(created.stderr)?.[1] ?? '';
  // AND an agent joining with the token in a file, as a mounted Kubernetes Secret gives it
  joinFile = join(tempDir('join-'), 'agent-t1');
  writeFileSync(joinFile, `${joinToken}\n`, { mode: 0o600 });
  agentDataDir = tempDir('tls-agent-');
  agent = await startAgent({
    id: 'agent-t1',
    master: master.address,
    dataDir: agentDataDir,
    args: ['--heartbeat-interval', '200ms', '--join-file', joinFile, '--ca-hash', caHash],
  });

  [project, registered] = await Promise.all([
    createProjectDir(),
    registerGrid({ spec, masterAddresses: ['127.0.0.1:1', master.address], tlsCa: operator.ca, tlsCert: operator.cert, tlsKey: operator.key }),
  ]);
  host = await DynamicHost.start(project.dir, { ...process.env, SUTRA_GRID_TOKEN: '' });
}, 120_000);

afterAll(async () => {
  await host?.stop();
  await project?.remove();
  await cleanup();
}, 60_000);

describe('what the program registers', () => {
  it('registers CA, certificate and key as secrets although the program passed plain strings', () => {
    for (const [k, v] of [['tlsCa', operator.ca], ['tlsCert', operator.cert], ['tlsKey', operator.key]] as const) {
      expect(registered.inputs[k]).toEqual({ [SPECIAL_SIG_KEY]: SECRET_SIG, value: v });
    }
    expect(registered.inputs['masterAddress']).toBe(`127.0.0.1:1,${master.address}`);
  });

  it('serializes a provider holding no part of the credential', () => {
    expect(registered.providerText).not.toContain(pemBody(operator.key));
    expect(registered.providerText).not.toContain(pemBody(operator.cert));
  });
});

describe('Grid over mutual TLS through the dynamic-provider host', () => {
  it('refuses a key without its certificate, and a certificate without the CA, naming the input', async () => {
    const engine = new EngineSim(host, registered.providerText);
    const noCert = await engine.preview({ spec, masterAddress: master.address, tlsCa: operator.ca, tlsKey: operator.key }).catch((e: unknown) => e);
    expect(noCert).toBeInstanceOf(CheckFailed);
    expect((noCert as CheckFailed).failures.map((f) => f.property)).toEqual(['tlsCert']);
    const noCa = await engine.preview({ spec, masterAddress: master.address, tlsCert: operator.cert, tlsKey: operator.key }).catch((e: unknown) => e);
    expect((noCa as CheckFailed).failures.map((f) => f.property)).toEqual(['tlsCa']);
    // The reason never echoes the key.
    expect(JSON.stringify((noCert as CheckFailed).failures)).not.toContain(pemBody(operator.key));
  });

  it('fails a create by a reader credential with PERMISSION_DENIED naming the role', async () => {
    const engine = new EngineSim(host, registered.providerText);
    const err = await engine.up(inputs(reader, master.address)).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/refused the call/);
    expect((err as Error).message).toMatch(/operator/);
  });

  it('cannot reach a TLS master without a credential', async () => {
    const engine = new EngineSim(host, registered.providerText);
    const err = await engine.up(inputs(undefined, master.address)).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(engine.state).toBeUndefined();
  });

  it('creates, refreshes and destroys with an operator credential, finding the master in a list', async () => {
    const engine = new EngineSim(host, registered.providerText);
    const list = `127.0.0.1:1,${master.address}`;
    expect(await engine.up(inputs(operator, list))).toBe('create');
    const state = engine.state!;
    expect(state.outputs['placements']).toEqual([expect.objectContaining({ cluster: 'kt', agentId: 'agent-t1', status: 'running' })]);

    // THEN the credential is in the state only as secrets (encrypted by the engine), never readable
    const readable = JSON.stringify(redactSecrets(state));
    for (const pem of [operator.key, operator.cert, operator.ca]) {
      expect(JSON.stringify(state)).toContain(pemBody(pem));
      expect(readable).not.toContain(pemBody(pem));
    }
    expect(JSON.stringify(state)).not.toContain(joinToken);
    for (const k of ['tlsCa', 'tlsCert', 'tlsKey']) {
      expect(state.outputs[k]).toEqual({ [SPECIAL_SIG_KEY]: SECRET_SIG, value: expect.any(String) });
      expect(state.inputs[k]).toEqual({ [SPECIAL_SIG_KEY]: SECRET_SIG, value: expect.any(String) });
    }

    // Dropping the unreachable master from the list is the same grid: no replacement.
    const preview = await engine.preview(inputs(operator, master.address));
    expect(preview.replaces).toEqual([]);

    const refreshed = await engine.refresh();
    expect(refreshed.gone).toBe(false);
    expect(JSON.stringify(redactSecrets(engine.state))).not.toContain(pemBody(operator.key));

    await engine.destroy();
    expect(engine.state).toBeUndefined();
  }, 120_000);
});

describe('an agent joining from a token file (--join-file)', () => {
  it('keeps its credential and, restarted with the same (spent) token file, does not join again', async () => {
    expect(readFileSync(join(agentDataDir, '.agent', 'tls', 'cert.pem'), 'utf8')).toMatch(/BEGIN CERTIFICATE/);
    expect(agent.logs()).toMatch(/joined the grid/);
    // GIVEN the agent restarted with the same arguments, as an orchestrator restarts a pod
    await agent.stop();
    const again = await startAgent({
      id: 'agent-t1',
      master: master.address,
      dataDir: agentDataDir,
      args: ['--heartbeat-interval', '200ms', '--join-file', joinFile, '--ca-hash', caHash],
    });
    // THEN it serves again (a second join would be refused, the token is spent, and it would exit)
    expect(again.logs()).not.toMatch(/joined the grid/);
    await again.stop();
  }, 60_000);
});
