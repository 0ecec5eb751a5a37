/**
 * The master Deployment's probes are Kubernetes' native gRPC probes (`grpc: {port: 7000}`): the
 * kubelet calls grpc.health.v1.Health/Check for service '' and can send no token. This checks,
 * against a real `sutra-grid master` process started with a token as in the pod, that such a probe
 * passes while the grid API itself still refuses callers without the token.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { codeOf, healthCheck } from '../helpers/agent-processes.js';
import { TestMasterClient } from '../helpers/grid-client.js';
import { cleanup, startMaster, tempDir } from '../helpers/processes.js';

afterAll(cleanup);

describe('master under the Kubernetes probes', () => {
  it('answers a tokenless grpc.health.v1 Check with SERVING and refuses a tokenless API call', async () => {
    const dir = tempDir('k8s-probe-');
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'probe-test-token-0123456789\n', { mode: 0o600 });
    const master = await startMaster({ args: ['--token-file', tokenFile] });

    expect((await healthCheck(master.address)).status).toBe('SERVING');

    const anonymous = new TestMasterClient(master.address);
    const withToken = new TestMasterClient(master.address, 'probe-test-token-0123456789');
    try {
      expect((await codeOf(anonymous.listAgents())).code).toBe(GrpcStatus.UNAUTHENTICATED);
      expect((await codeOf(withToken.listAgents())).code).toBe(GrpcStatus.OK);
    } finally {
      anonymous.close();
      withToken.close();
    }
  });
});
