/**
 * A deadline is a property of one call, not of the channel: a slow call to an agent must not close
 * the pooled client under the calls that share it (issue 10, "a hung agent must not stall the grid").
 */
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { GridAgentService, type NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { startGrpcServer, wrapService, type GrpcServerHandle } from '../../runtime/common/grpc-server.js';
import { AgentClientPool } from '../../runtime/master/index.js';
import { NO_REPLICATION } from '../../runtime/common/grid-types.js';
import { fakeNode } from '../helpers/grid-client.js';

const servers: GrpcServerHandle[] = [];
const pools: AgentClientPool[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) p.close();
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
});

describe('AgentClientPool deadlines', () => {
  it('a call that misses its deadline leaves the shared client to its sibling calls', async () => {
    const node: NodeInfo = fakeNode('n1', 'a1', { pid: 42 });
    let statusCalls = 0;
    const impl = {
      // A spawn that outlasts the master's deadline (an agent slow to answer).
      spawnNode: () => new Promise((resolve) => setTimeout(() => resolve({ node }), 1500)),
      stopNode: () => ({ node: { ...node, status: 'stopped' } }),
      // A status answered after the spawn's deadline has passed.
      getNodeStatus: () => {
        statusCalls++;
        return new Promise((resolve) => setTimeout(() => resolve({ node }), 900));
      },
      listNodes: () => ({ nodes: [node] }),
      configureNode: () => ({ node }),
    };
    const server = await startGrpcServer('127.0.0.1:0', [{ definition: GridAgentService, impl: wrapService(GridAgentService, impl, undefined) }], undefined);
    servers.push(server);
    const p = new AgentClientPool(undefined, { spawnMs: 300, stopMs: 2000, statusMs: 5000 }, { attempts: 3, initialMs: 10, maxMs: 40, jitter: 0 });
    pools.push(p);
    await p.listNodes('a1', server.address); // the channel is connected

    const spawn = p.spawnNode('a1', server.address, { nodeId: 'n1', port: 0, memoryMb: 0, storagePath: '', cluster: '', role: '', generation: 0, ...NO_REPLICATION }).then(() => undefined, (e: unknown) => e as ServiceError);
    const status = p.getNodeStatus('a1', server.address, { nodeId: 'n1' });
    expect((await spawn)?.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    // The sibling completes on its first attempt, on the client that was never dropped.
    expect((await status).pid).toBe(42);
    expect(statusCalls).toBe(1);
    expect(p.size).toBe(1);
    // The next call rides the same channel too.
    expect(await p.listNodes('a1', server.address)).toHaveLength(1);
    expect(p.size).toBe(1);
  });
});
