/**
 * Container nodes under mutual TLS (issue 14), with the real master, a real agent joined with a join
 * token (`platform = "docker"`) and the real Engine: the agent gets each node a `node` certificate,
 * mounts its credential directory read-only into the container, and the node serves only callers
 * with a certificate of the grid CA. A leader and a replica, each a container, replicate over mutual
 * TLS; certificates live 20 s, and the agent renews them with no container restarted.
 * Needs `npm run build` (the CLI and the image come from dist/).
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type Dockerode from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { TLS_CHANNEL_OPTIONS, TlsSource, tlsChannelCredentials, type TlsMaterial } from '../../client/transport.js';
import { issueKeyAndCert } from '../../runtime/common/pki/certs.js';
import { CONTAINER_TLS_DIR } from '../../runtime/agent/docker-container-spec.js';
import { TestMasterClient } from '../helpers/grid-client.js';
import { codeOf } from '../helpers/agent-processes.js';
import { storagePortConfig } from '../helpers/ports.js';
import { cleanup, eventually, runCli, startDaemon, tempDir, type DaemonProcess } from '../helpers/processes.js';
import { controlCall, nodeClient, servedSerial } from '../hosts/node-tls-support.js';
import { DOCKER_SOCKET, agentContainers, removeAgentContainers, requireEngine, requireImage, uniqueAgentId } from './helpers.js';

const FAST = ['--heartbeat-interval', '200ms', '--degraded-after', '800ms', '--offline-after', '1600ms'];

let docker: Dockerode;
let image: string;
const agentIds: string[] = [];
const clients: TestMasterClient[] = [];

beforeAll(async () => {
  docker = await requireEngine();
  image = await requireImage();
}, 120_000);

afterEach(async () => {
  for (const c of clients.splice(0)) c.raw.close();
  // The agent stops (and removes) its containers on SIGTERM; whatever is left is removed here.
  await cleanup();
  await removeAgentContainers(docker, agentIds.splice(0));
});

afterAll(async () => {
  await cleanup();
});

/** A master with mutual TLS (certificates of `ttl`), its admin credential and a join token maker. */
async function startTlsMaster(ttl: string): Promise<{ master: DaemonProcess; masterDir: string; admin: TlsMaterial; joinToken: () => Promise<{ token: string; caHash: string }> }> {
  const masterDir = tempDir('sdt-master-');
  const adminDir = tempDir('sdt-admin-');
  const issued = await runCli(['cert', 'issue', '--data-dir', masterDir, '--role', 'admin', '--name', 'ops', '--out', adminDir]);
  if (issued.code !== 0) throw new Error(`cert issue failed: ${issued.stderr}`);
  const master = await startDaemon('master', ['master', '--listen', '127.0.0.1:0', '--data-dir', masterDir, '--tls', 'on', ...FAST, '--cert-ttl', ttl]);
  const read = (n: string): string => readFileSync(join(adminDir, n), 'utf8');
  const joinToken = async (): Promise<{ token: string; caHash: string }> => {
    const r = await runCli(['token', 'create', '--role', 'agent', '--ttl', '10m', '--master', master.address, '--tls-dir', adminDir]);
    if (r.code !== 0) throw new Error(`token create failed (${r.code}): ${r.stderr}`);
    return { token: r.stdout.trim(), caHash: /--ca-hash (sha256:[0-9a-f]{64})/.exec(r.stderr)?.[1] ?? '' };
  };
  return { master, masterDir, admin: { caPem: read('ca.pem'), certPem: read('cert.pem'), keyPem: read('key.pem') }, joinToken };
}


/** How the container of `containerId` was started: its start time and the Engine's restart count. */
async function runOf(containerId: string): Promise<{ startedAt: string; restarts: number; running: boolean }> {
  const info = await docker.getContainer(containerId).inspect();
  return { startedAt: info.State.StartedAt, restarts: info.RestartCount, running: info.State.Running };
}

describe('container nodes under mutual TLS', () => {
  it('serve only grid certificates, replicate between containers over mutual TLS, and take renewed certificates without a restart', async () => {
    // GIVEN a TLS master (certificates of 20 s) and a docker agent that joined it
    const { master, masterDir, admin, joinToken } = await startTlsMaster('20s');
    const agentId = uniqueAgentId('dtls');
    agentIds.push(agentId);
    const dataDir = tempDir('sdt-agent-');
    const ports = storagePortConfig();
    const config = join(tempDir('sdt-config-'), 'agent.toml');
    writeFileSync(
      config,
      [
        '[agent]',
        'platform = "docker"',
        '[storage]',
        `default_port_range_start = ${ports.default_port_range_start}`,
        `port_range_size = ${ports.port_range_size}`,
        '[docker]',
        `socket_path = "${DOCKER_SOCKET}"`,
        `image = "${image}"`,
      ].join('\n'),
    );
    const { token, caHash } = await joinToken();
    const agent = await startDaemon(`agent ${agentId}`, ['agent', '--config', config, '--id', agentId, '--master', master.address, '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--heartbeat-interval', '200ms', '--join', token, '--ca-hash', caHash]);
    const c = new TestMasterClient(master.address, undefined, tlsChannelCredentials(new TlsSource(admin), { role: 'master' }), TLS_CHANNEL_OPTIONS);
    clients.push(c);
    await eventually(async () => (await c.listAgents()).agents.length === 1, 30_000);

    // WHEN a leader and a sync replica are declared (both on this agent, each its own container)
    const spec = {
      name: 'test',
      monitoring: { heartbeatInterval: '200ms', degradedAfter: '3s', offlineAfter: '6s', replaceAfter: '1s', restart: { backoff: '50ms' } },
      storage: { memory: '128Mi' },
      agents: [{ id: agentId, platform: 'docker', capacity: { nodes: 4 } }],
      clusters: [{ name: 'kv', nodes: 2, topology: 'leader-replicas', replication: { durability: 'sync', syncQuorum: 1 } }],
    };
    await c.applySpec(JSON.stringify(spec));
    const where = (n: NodeInfo): string => `127.0.0.1:${n.port}`;
    // THEN the replica follows its leader, connected and caught up, across the two containers
    const { leader, replica } = await eventually(async () => {
      const nodes = (await c.listNodes()).nodes.filter((n) => n.status === 'running');
      const l = nodes.find((n) => n.replication?.role === 'leader');
      const r = nodes.find((n) => n.replication?.role === 'replica');
      return l !== undefined && r !== undefined && r.replication?.leader === where(l) && r.replication.connected && !r.replication.catchingUp ? { leader: l, replica: r } : undefined;
    }, 90_000);
    expect(leader.containerId).not.toBe('');
    expect(replica.containerId).not.toBe(leader.containerId);
    expect((await agentContainers(docker, agentId)).map((x) => x.Id).sort()).toEqual([leader.containerId, replica.containerId].sort());

    // ...each container has its credential directory read-only and names it, and the agent, in argv
    for (const n of [leader, replica]) {
      const info = await docker.getContainer(n.containerId).inspect();
      const mount = info.Mounts.find((m) => m.Destination === CONTAINER_TLS_DIR);
      expect(mount, n.nodeId).toMatchObject({ Type: 'bind', RW: false, Source: join(dataDir, '.agent', 'node-tls', n.nodeId) });
      expect(info.Config.Cmd).toEqual(expect.arrayContaining(['--tls-dir', CONTAINER_TLS_DIR, '--agent-id', agentId]));
      expect(JSON.stringify([info.Config.Cmd, info.Config.Env])).not.toContain('BEGIN');
      const uid = Number(info.Config.User.split(':')[0]);
      for (const f of ['ca.pem', 'cert.pem', 'key.pem']) {
        const st = statSync(join(mount!.Source, f));
        expect(st.mode & 0o777, f).toBe(0o600);
        expect(st.uid, f).toBe(uid);
      }
    }

    // ...a caller without a certificate is refused at the handshake
    const plainClient = nodeClient(where(leader), undefined);
    const plain = await codeOf(plainClient.learnConcept('plain', 'x'));
    plainClient.close();
    expect(plain.code, plain.details).toBe(GrpcStatus.UNAVAILABLE);
    // ...the agent's own certificate drives the node (the agent's StorageControl), another agent's does not
    const ca = { certPem: readFileSync(join(masterDir, 'pki', 'ca.pem'), 'utf8'), keyPem: readFileSync(join(masterDir, 'pki', 'ca-key.pem'), 'utf8') };
    const agentTls = join(dataDir, '.agent', 'tls');
    const agentCred: TlsMaterial = { caPem: readFileSync(join(agentTls, 'ca.pem'), 'utf8'), certPem: readFileSync(join(agentTls, 'cert.pem'), 'utf8'), keyPem: readFileSync(join(agentTls, 'key.pem'), 'utf8') };
    for (const n of [leader, replica]) expect((await controlCall(where(n), agentCred)).code, n.nodeId).toBe(0);
    const other = issueKeyAndCert(ca, { role: 'agent', name: 'another-agent' }, { ttlMs: 3_600_000 });
    const byOther = await controlCall(where(leader), { caPem: ca.certPem, certPem: other.certPem, keyPem: other.keyPem });
    expect(byOther.code, byOther.details).toBe(GrpcStatus.PERMISSION_DENIED);

    // ...a write at the leader (acked by the replica: sync) is read at the replica
    const opLeaf = issueKeyAndCert(ca, { role: 'operator', name: 'writer' }, { ttlMs: 3_600_000 });
    const operator: TlsMaterial = { caPem: ca.certPem, certPem: opLeaf.certPem, keyPem: opLeaf.keyPem };
    const writer = nodeClient(where(leader), operator);
    const atReplica = nodeClient(where(replica), operator);
    await writer.learnConcept('first', 'written over mutual TLS');
    expect((await atReplica.queryConcept('first')).concept?.content).toBe('written over mutual TLS');

    // WHEN the agent renews each node's certificate (20 s life: at 10 s) while writes go on
    const before = { leader: await servedSerial(where(leader), operator), replica: await servedSerial(where(replica), operator) };
    const runs = { leader: await runOf(leader.containerId), replica: await runOf(replica.containerId) };
    const renewed = (): boolean => (agent.logs().match(/node certificate renewed/g)?.length ?? 0) >= 2;
    const failures: string[] = [];
    const deadline = Date.now() + 60_000;
    for (let i = 0; !renewed() && Date.now() < deadline; i++) {
      const r = await codeOf(writer.learnConcept(`r${i}`, `during rotation ${i}`));
      if (r.code !== 0) failures.push(`r${i}: ${r.code} ${r.details}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(renewed(), 'the agent renewed both node certificates').toBe(true);
    expect(failures).toEqual([]);

    // THEN each container serves its renewed certificate to new connections, with no restart
    await eventually(async () => (await servedSerial(where(leader), operator)) !== before.leader && (await servedSerial(where(replica), operator)) !== before.replica, 15_000);
    expect(await runOf(leader.containerId)).toEqual(runs.leader);
    expect(await runOf(replica.containerId)).toEqual(runs.replica);
    expect(runs.leader.running && runs.replica.running).toBe(true);
    const logs = await docker.getContainer(leader.containerId).logs({ stdout: true, stderr: true });
    expect(logs.toString('utf8')).toContain('node certificate renewed');
    const after = (await c.listNodes()).nodes;
    for (const n of [leader, replica]) expect(after.find((x) => x.nodeId === n.nodeId)).toMatchObject({ containerId: n.containerId, status: 'running' });
    // ...and replication still works through the renewed certificates
    await writer.learnConcept('after', 'after renewal');
    expect((await atReplica.queryConcept('after')).concept?.content).toBe('after renewal');
    expect((await atReplica.queryConcept('r0')).found).toBe(true);
    writer.close();
    atReplica.close();

    // WHEN the agent stops, THEN its containers are gone
    expect((await agent.stop('SIGTERM', 30_000)).code).toBe(0);
    expect(await agentContainers(docker, agentId)).toEqual([]);
  }, 240_000);
});
