/**
 * Mutual TLS across hosts (issue 14): a master and two agents, each in its own network namespace
 * with a real address on a private subnet. Agents join with one-time join tokens and serve nodes;
 * every kind of wrong credential is refused; roles are enforced per RPC.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { createCa, createCsr, issueKeyAndCert, newPrivateKey } from '../../runtime/common/pki/certs.js';
import { issueNodeCertificate } from '../../client/index.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeAddress, nodeClient } from './node-tls-support.js';
import { codeOf } from '../helpers/agent-processes.js';
import { fakeAgent } from '../helpers/grid-client.js';
import { eventually, runCli } from '../helpers/processes.js';
import { gridSpec } from '../declarative/support/declarative-grid.js';
import { TestHosts } from './netns.js';
import { tearDownHosts, TlsGrid } from './support.js';

let hosts: TestHosts | undefined;
let grid: TlsGrid | undefined;

afterEach(async () => {
  await tearDownHosts(hosts, grid);
  hosts = undefined;
  grid = undefined;
});

describe('mutual TLS across hosts', () => {
  it('agents join with join tokens and serve nodes; wrong credentials are refused; roles hold', async () => {
    hosts = TestHosts.create(['m', 'a1', 'a2']);
    grid = new TlsGrid(hosts);
    await grid.start();
    expect(grid.master.logs()).toMatch(/mutual TLS on/);

    // GIVEN two agents that joined with join tokens (the key made on the agent, the CA pinned by hash)
    await grid.agent('a1', 'a1');
    await grid.agent('a2', 'a2');
    const admin = grid.client(grid.admin());
    await eventually(async () => (await admin.listAgents()).agents.length === 2, 30_000);

    // WHEN an operator applies a spec with a node on each agent
    const operator = grid.client(grid.credential('operator', 'op'));
    const spec = gridSpec([{ id: 'a1' }, { id: 'a2' }], [{ name: 'c', nodes: 2, placement: 'spread' }]);
    await operator.applySpec(JSON.stringify(spec));
    // THEN both run, one per agent, across the hosts
    const running = await eventually(async () => {
      const nodes = (await operator.listNodes()).nodes;
      return nodes.length === 2 && nodes.every((n) => n.status === 'running') ? nodes : undefined;
    }, 60_000);
    expect(new Set(running.map((n) => n.agentId))).toEqual(new Set(['a1', 'a2']));

    // A plaintext client: no TLS handshake, no answer.
    expect((await codeOf(grid.client(undefined).listAgents())).code).toBe(GrpcStatus.UNAVAILABLE);
    // A client certificate of another CA (trusting the grid's CA): refused as unauthenticated.
    const other = createCa('another CA');
    const stranger = issueKeyAndCert(other, { role: 'admin', name: 'mallory' }, { ttlMs: 3_600_000 });
    const strangerRes = await codeOf(grid.client({ caPem: grid.ca().certPem, certPem: stranger.certPem, keyPem: stranger.keyPem }).listAgents());
    expect(strangerRes.code).toBe(GrpcStatus.UNAUTHENTICATED);
    // An expired credential of the grid CA.
    expect((await codeOf(grid.client(grid.credential('admin', 'late', -60_000)).listAgents())).code).toBe(GrpcStatus.UNAUTHENTICATED);
    // A revoked one: allowed, then revoked by serial, then refused at once on the same channel.
    const readerCred = grid.credential('reader', 'rita');
    const reader = grid.client(readerCred);
    expect((await reader.listAgents()).agents).toHaveLength(2);
    const revoked = await runCli(['cert', 'revoke', '--serial', readerCred.serial, '--master', grid.masterAddress, '--tls-dir', grid.adminDir], { wrap: hosts.exec('m') });
    expect(revoked.code, revoked.stderr).toBe(0);
    const afterRevoke = await codeOf(reader.listAgents());
    expect(afterRevoke.code).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(afterRevoke.details).toMatch(/revoked/);

    // A reader cannot stop a node; the refusal names the missing role.
    const reader2 = grid.client(grid.credential('reader', 'rex'));
    const stop = await codeOf(reader2.stop(running[0]!.nodeId));
    expect(stop.code).toBe(GrpcStatus.PERMISSION_DENIED);
    expect(stop.details).toMatch(/requires role operator/);

    // An agent's credential: cannot apply a spec, cannot register as another agent.
    const asA1 = grid.client(grid.agentCredential('a1'));
    const apply = await codeOf(asA1.applySpec(JSON.stringify(spec)));
    expect(apply.code).toBe(GrpcStatus.PERMISSION_DENIED);
    expect(apply.details).toMatch(/requires role operator/);
    const impersonate = await codeOf(asA1.register(fakeAgent('a2', { address: `${hosts.address('a1')}:1` })));
    expect(impersonate.code).toBe(GrpcStatus.PERMISSION_DENIED);
    expect(impersonate.details).toMatch(/may act only as itself/);
    const heartbeatAsA2 = await codeOf(asA1.heartbeat('a2'));
    expect(heartbeatAsA2.code).toBe(GrpcStatus.PERMISSION_DENIED);
    // An agent gets a node certificate only for a node placed on it, not for another agent's node.
    const onA1 = running.find((n) => n.agentId === 'a1')!;
    const onA2 = running.find((n) => n.agentId === 'a2')!;
    const csr = createCsr(newPrivateKey(), 'any');
    const theirs = await codeOf(issueNodeCertificate(grid.masterAddress, grid.agentCredential('a1'), onA2.nodeId, csr));
    expect(theirs.code).toBe(GrpcStatus.PERMISSION_DENIED);
    expect(theirs.details).toMatch(/node_id: .* is not placed on agent "a1"/);
    const ours = await issueNodeCertificate(grid.masterAddress, grid.agentCredential('a1'), onA1.nodeId, csr);
    expect(ours.certPem).toMatch(/BEGIN CERTIFICATE/);

    // A revoked agent is refused at once: its own credential no longer answers.
    const asA2 = grid.client(grid.agentCredential('a2'));
    expect((await codeOf(asA2.heartbeat('a2'))).code).not.toBe(GrpcStatus.UNAUTHENTICATED);
    // a2's node certificate, presented to a1's node: a grid identity without the role a read needs.
    const a2NodeDir = join(grid.agents.get('a2')!.dataDir, '.agent', 'node-tls', onA2.nodeId);
    const a2NodeCert = { caPem: readFileSync(join(a2NodeDir, 'ca.pem'), 'utf8'), certPem: readFileSync(join(a2NodeDir, 'cert.pem'), 'utf8'), keyPem: readFileSync(join(a2NodeDir, 'key.pem'), 'utf8') };
    const nodeCall = async (): Promise<{ code: number; details: string }> => {
      const c = nodeClient(nodeAddress(hosts!, onA1), a2NodeCert);
      try {
        return await codeOf(c.queryConcept('any'));
      } finally {
        c.raw.close();
      }
    };
    expect((await nodeCall()).code).toBe(GrpcStatus.PERMISSION_DENIED);
    const revokeAgent = await runCli(['cert', 'revoke', '--agent', 'a2', '--master', grid.masterAddress, '--tls-dir', grid.adminDir], { wrap: hosts.exec('m') });
    expect(revokeAgent.code, revokeAgent.stderr).toBe(0);
    expect((await codeOf(asA2.heartbeat('a2'))).code).toBe(GrpcStatus.UNAUTHENTICATED);
    // ... and its nodes' certificates too, by the other agents' nodes: a1 hands the revocation to its
    // node with its next heartbeat answer, and the node reads it within a second.
    const refused = await eventually(async () => {
      const r = await nodeCall();
      return r.code === GrpcStatus.UNAUTHENTICATED ? r : undefined;
    }, 15_000, 200);
    expect(refused.details).toMatch(/revoked/);
    // ... and so is the agent itself, its open heartbeat stream included: the master hears it no more.
    await eventually(async () => (await admin.listAgents()).agents.find((a) => a.info?.agentId === 'a2')?.health === 'offline', 30_000);
    await eventually(async () => (await admin.listAgents()).agents.find((a) => a.info?.agentId === 'a1')?.health === 'healthy', 30_000);
  }, 180_000);
});
