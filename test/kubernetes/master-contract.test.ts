/**
 * What the manifests assume of a real `sutra-grid master`, checked against one started with a
 * token as in the pod:
 * - the Deployment's probes are Kubernetes' native gRPC probes (`grpc: {port: 7000}`): the kubelet
 *   calls grpc.health.v1.Health/Check for service '' and can send no token, so that call must pass
 *   while the grid API still refuses callers without the token;
 * - the apply Job's exact command line applies the spec.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyArgs } from '../../provider/kubernetes/container-args.js';
import { codeOf, healthCheck } from '../helpers/agent-processes.js';
import { TestMasterClient } from '../helpers/grid-client.js';
import { cleanup, runCli, startMaster, tempDir, type DaemonProcess } from '../helpers/processes.js';

const TOKEN = 'k8s-contract-token-0123456789';
let master: DaemonProcess;
let dir: string;
let tokenFile: string;

beforeAll(async () => {
  dir = tempDir('k8s-contract-');
  tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  master = await startMaster({ args: ['--token-file', tokenFile] });
});
afterAll(cleanup);

describe('master behind GridOnKubernetes', () => {
  it('answers a tokenless grpc.health.v1 Check with SERVING and refuses a tokenless API call', async () => {
    expect((await healthCheck(master.address)).status).toBe('SERVING');
    const anonymous = new TestMasterClient(master.address);
    const withToken = new TestMasterClient(master.address, TOKEN);
    try {
      expect((await codeOf(anonymous.listAgents())).code).toBe(GrpcStatus.UNAUTHENTICATED);
      expect((await codeOf(withToken.listAgents())).code).toBe(GrpcStatus.OK);
    } finally {
      anonymous.close();
      withToken.close();
    }
  });

  it("applies the spec with the apply Job's command line", async () => {
    const specFile = join(dir, 'grid.yaml');
    // No clusters: the apply converges at once, without agents.
    writeFileSync(specFile, 'name: k8s-contract\nagents:\n  - id: kind-worker\n    platform: process\n    capacity: { nodes: 2 }\n');
    // The Job mounts the spec at /etc/sutra/grid.yaml and the token at /var/run/secrets/sutra-grid/token.
    const args = applyArgs(master.address).map((a) =>
      a === '/etc/sutra/grid.yaml' ? specFile : a === '/var/run/secrets/sutra-grid/token' ? tokenFile : a,
    );
    expect(args).toContain(specFile);
    expect(args).toContain(tokenFile);
    const result = await runCli(args);
    expect(result.code, result.stderr).toBe(0);

    const client = new TestMasterClient(master.address, TOKEN);
    try {
      const spec = await client.getSpec();
      expect(spec.generation).toBe(1);
      expect(JSON.parse(spec.specJson)).toMatchObject({ name: 'k8s-contract' });
    } finally {
      client.close();
    }
  });
});
