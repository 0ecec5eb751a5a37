/**
 * The master's pooled agent clients against a real in-process GridAgent server.
 */
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { GridAgentService, type NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { startGrpcServer, wrapService, type GrpcServerHandle } from '../../runtime/common/grpc-server.js';
import { AgentClientPool } from '../../runtime/master/index.js';
import { fakeNode } from '../helpers/grid-client.js';

const servers: GrpcServerHandle[] = [];
const pools: AgentClientPool[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) p.close();
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
});

/** A GridAgent whose getNodeStatus fails with the given codes first, then answers. */
async function agentServer(failures: number[], token?: string): Promise<{ address: string; calls: () => number }> {
  let calls = 0;
  const fail = (code: number): never => {
    throw Object.assign(new Error(`injected ${code}`), { code, details: `injected ${code}` });
  };
  const node: NodeInfo = fakeNode('n1', 'a1', { pid: 42 });
  const impl = {
    spawnNode: () => ({ node }),
    stopNode: () => ({ node: { ...node, status: 'stopped' } }),
    getNodeStatus: () => {
      const code = failures[calls++];
      return code === undefined ? { node } : fail(code);
    },
    listNodes: () => ({ nodes: [node] }),
    configureNode: () => ({ node }),
  };
  const server = await startGrpcServer('127.0.0.1:0', [{ definition: GridAgentService, impl: wrapService(GridAgentService, impl, token) }], token);
  servers.push(server);
  return { address: server.address, calls: () => calls };
}

function pool(token?: string): AgentClientPool {
  const p = new AgentClientPool(token, { spawnMs: 2000, stopMs: 2000, statusMs: 2000 }, { attempts: 3, initialMs: 10, maxMs: 40, jitter: 0 });
  pools.push(p);
  return p;
}

describe('AgentClientPool', () => {
  it('retries a retryable status up to 3 attempts and succeeds', async () => {
    const agent = await agentServer([GrpcStatus.UNAVAILABLE, GrpcStatus.UNAVAILABLE]);
    const res = await pool().getNodeStatus('a1', agent.address, { nodeId: 'n1' });
    expect(res.pid).toBe(42);
    expect(agent.calls()).toBe(3);
  });

  it('gives up after 3 attempts, and drops the client after a channel-level failure', async () => {
    const agent = await agentServer([GrpcStatus.UNAVAILABLE, GrpcStatus.UNAVAILABLE, GrpcStatus.UNAVAILABLE, GrpcStatus.UNAVAILABLE]);
    const p = pool();
    const err = (await p.getNodeStatus('a1', agent.address, { nodeId: 'n1' }).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(agent.calls()).toBe(3);
    expect(p.size).toBe(0);
  });

  it('does not retry a non-retryable status and keeps the client', async () => {
    const agent = await agentServer([GrpcStatus.FAILED_PRECONDITION]);
    const p = pool();
    const err = (await p.getNodeStatus('a1', agent.address, { nodeId: 'n1' }).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(agent.calls()).toBe(1);
    expect(p.size).toBe(1);
    // The same pooled client serves the next call.
    expect((await p.getNodeStatus('a1', agent.address, { nodeId: 'n1' })).nodeId).toBe('n1');
  });

  it('sends the token to agents that require it', async () => {
    const agent = await agentServer([], 'agent-secret');
    const denied = (await pool().listNodes('a1', agent.address).catch((e: unknown) => e)) as ServiceError;
    expect(denied.code).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(await pool('agent-secret').listNodes('a1', agent.address)).toHaveLength(1);
  });

  it('dials afresh when an agent re-registers with a new address', async () => {
    const first = await agentServer([]);
    const second = await agentServer([]);
    const p = pool();
    await p.listNodes('a1', first.address);
    await p.getNodeStatus('a1', second.address, { nodeId: 'n1' });
    expect([first.calls(), second.calls(), p.size]).toEqual([0, 1, 1]);
  });
});
