/**
 * Storage nodes under mutual TLS across hosts (issue 14): each node gets a `node` certificate from
 * its agent (the key made on the agent's host, only a CSR sent to the master), kept in files of the
 * agent's data dir named by path in the node's argv; the node binds its agent's host and serves
 * only callers with a certificate of the grid CA, each within its role. Certificates live 60 s: the
 * agents renew the nodes' at half their life, and the nodes take them without a restart while a
 * client writes through a long-lived connection and the replica streams.
 */
import { readFileSync, statSync } from 'node:fs';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { createCa, issueKeyAndCert } from '../../runtime/common/pki/certs.js';
import { eventually, trackPid } from '../helpers/processes.js';
import { codeOf } from '../helpers/agent-processes.js';
import { gridSpec } from '../declarative/support/declarative-grid.js';
import { TestHosts } from './netns.js';
import { tearDownHosts, TlsGrid } from './support.js';
import { controlCall, nodeAddress, nodeClient, servedSerial } from './node-tls-support.js';

let hosts: TestHosts | undefined;
let grid: TlsGrid | undefined;

afterEach(async () => {
  await tearDownHosts(hosts, grid);
  hosts = undefined;
  grid = undefined;
});

const count = (text: string, pattern: RegExp): number => text.match(new RegExp(pattern, 'g'))?.length ?? 0;


describe('storage nodes under mutual TLS across hosts', () => {
  it('refuse callers without a certificate of the grid or its role, keep keys out of argv and env, and take renewed certificates without a restart', async () => {
    // GIVEN a leader and a replica on two hosts, certificates living 20 s
    hosts = TestHosts.create(['m', 'a1', 'a2']);
    grid = new TlsGrid(hosts);
    await grid.start(['--cert-ttl', '60s']);
    await grid.agent('a1', 'a1');
    await grid.agent('a2', 'a2');
    const c = grid.client(grid.admin());
    await eventually(async () => (await c.listAgents()).agents.length === 2, 30_000);
    // Leases of 3 s (offlineAfter / 2): a loaded 2-core box delays heartbeats past the default 0.8 s, TLS or not.
    const spec = gridSpec([{ id: 'a1' }, { id: 'a2' }], [{ name: 'kv', nodes: 2, topology: 'leader-replicas', placement: 'spread', replication: { durability: 'sync', syncQuorum: 1 } }], {
      degradedAfter: '3s',
      offlineAfter: '6s',
    });
    await c.applySpec(JSON.stringify(spec));
    const h = hosts;
    const where = (n: NodeInfo): string => nodeAddress(h, n);
    // ...the replica follows its leader at the leader's host address (not loopback), across hosts
    const { leader, replica } = await eventually(async () => {
      const nodes = (await c.listNodes()).nodes.filter((n) => n.status === 'running');
      const l = nodes.find((n) => n.replication?.role === 'leader');
      const r = nodes.find((n) => n.replication?.role === 'replica');
      return l !== undefined && r !== undefined && l.agentId !== r.agentId && r.replication?.leader === where(l) && r.replication.connected && !r.replication.catchingUp ? { leader: l, replica: r } : undefined;
    }, 60_000);
    for (const n of [leader, replica]) trackPid(n.pid);
    const operator = grid.credential('operator', 'writer');
    const writer = nodeClient(where(leader), operator);
    await writer.learnConcept('first', 'written over mutual TLS');

    // THEN callers without a grid certificate are refused at the handshake, and the others by role
    const stranger = createCa('another CA');
    const foreign = issueKeyAndCert(stranger, { role: 'operator', name: 'stranger' }, { ttlMs: 3_600_000 });
    const plain = await codeOf(nodeClient(where(leader), undefined).learnConcept('plain', 'x'));
    expect(plain.code, plain.details).toBe(GrpcStatus.UNAVAILABLE);
    const other = await codeOf(nodeClient(where(leader), { caPem: operator.caPem, certPem: foreign.certPem, keyPem: foreign.keyPem }).learnConcept('foreign', 'x'));
    expect(other.code, other.details).toBe(GrpcStatus.UNAVAILABLE);
    const asNode = await codeOf(nodeClient(where(leader), grid.credential('node', 'intruder')).learnConcept('by-node', 'x'));
    expect(asNode.code, asNode.details).toBe(GrpcStatus.PERMISSION_DENIED);
    expect(asNode.details).toContain('requires role operator');
    const reader = nodeClient(where(leader), grid.credential('reader', 'viewer'));
    const asReader = await codeOf(reader.learnConcept('by-reader', 'x'));
    expect(asReader.code, asReader.details).toBe(GrpcStatus.PERMISSION_DENIED);
    expect((await reader.queryConcept('first')).found).toBe(true);
    for (const id of ['plain', 'foreign', 'by-node', 'by-reader']) expect((await writer.queryConcept(id)).found, id).toBe(false);
    // ...and a node obeys only its own agent: another agent's certificate may not drive it
    const byOtherAgent = await controlCall(where(leader), grid.credential('agent', replica.agentId));
    expect(byOtherAgent.code, byOtherAgent.details).toBe(GrpcStatus.PERMISSION_DENIED);
    expect(byOtherAgent.details).toContain(`this node is run by agent "${leader.agentId}"`);
    expect((await controlCall(where(leader), grid.credential('agent', leader.agentId))).code).toBe(0);

    // ...the node's credential is in files named by path (0600), never in its argv or environment
    for (const n of [leader, replica]) {
      const argv = readFileSync(`/proc/${n.pid}/cmdline`, 'utf8').split('\0');
      const dir = argv[argv.indexOf('--tls-dir') + 1]!;
      expect(argv.indexOf('--tls-dir')).toBeGreaterThan(0);
      expect(argv.join(' ')).not.toContain('BEGIN');
      expect(readFileSync(`/proc/${n.pid}/environ`, 'utf8')).not.toContain('BEGIN');
      for (const f of ['ca.pem', 'cert.pem', 'key.pem']) expect(statSync(`${dir}/${f}`).mode & 0o777, `${dir}/${f}`).toBe(0o600);
      expect(argv[argv.indexOf('--host') + 1]).toBe(h.address(n.agentId));
    }

    // WHEN writes go on through one connection while the agents renew each node's certificate twice
    const firstSerial = await servedSerial(where(leader), operator);
    const failures: string[] = [];
    let acked = 0;
    const renewedTwice = (): boolean => [...grid!.agents.values()].every((a) => count(a.proc.logs(), /node certificate renewed/) >= 2);
    const deadline = Date.now() + 150_000;
    for (let i = 0; !renewedTwice() && Date.now() < deadline; i++) {
      const r = await codeOf(writer.learnConcept(`r${i}`, `during rotation ${i}`));
      if (r.code === 0) acked++;
      else failures.push(`r${i} at ${new Date().toISOString()}: ${r.code} ${r.details}`);
      await new Promise((res) => setTimeout(res, 50));
    }
    // THEN every write was acknowledged (sync: the replica acked each one), and no node restarted
    if (failures.length > 0 || !renewedTwice()) {
      console.log(grid.master.logs().split('\n').filter((l) => /renew|offline|degraded/i.test(l)).slice(-20).join('\n'));
      for (const a of grid.agents.values()) console.log(a.proc.logs().split('\n').filter((l) => /renew|lease|"level":[45]0/i.test(l)).slice(-20).join('\n'));
    }
    expect(renewedTwice(), 'each agent renewed its node certificate twice').toBe(true);
    expect(failures).toEqual([]);
    expect(acked).toBeGreaterThan(50);
    // ...new connections get the renewed certificate
    expect(await servedSerial(where(leader), operator)).not.toBe(firstSerial);
    const after = (await c.listNodes()).nodes;
    for (const n of [leader, replica]) expect(after.find((x) => x.nodeId === n.nodeId)).toMatchObject({ pid: n.pid, status: 'running', agentId: n.agentId });
    const r = after.find((x) => x.nodeId === replica.nodeId)!.replication!;
    expect(r).toMatchObject({ role: 'replica', leader: where(leader), connected: true });
    writer.close();
    reader.close();
  }, 300_000);
});
