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
import { cleanup, runCli, startDaemon, startMaster, tempDir, type DaemonProcess } from '../helpers/processes.js';

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

describe('master and apply Job behind GridOnKubernetes with TLS (the default)', () => {
  it("serves mutual TLS from the CA Secret's files with the Deployment's exact arguments, and the apply Job's arguments apply through it", async () => {
    const { createCa } = await import('../../runtime/common/pki/certs.js');
    const { masterArgs } = await import('../../provider/kubernetes/container-args.js');
    const { compileKubernetesProps } = await import('../../provider/kubernetes/props.js');
    const tlsDir = tempDir('k8s-contract-tls-');
    const ca = createCa('contract CA');
    // The CA Secret (kubernetes.io/tls) is mounted as tls.crt and tls.key, the CA-cert Secret as ca.crt.
    writeFileSync(join(tlsDir, 'tls.crt'), ca.certPem, { mode: 0o600 });
    writeFileSync(join(tlsDir, 'tls.key'), ca.keyPem, { mode: 0o600 });
    writeFileSync(join(tlsDir, 'ca.crt'), ca.certPem, { mode: 0o600 });
    const dataDir = tempDir('k8s-contract-data-');
    const local = (a: string): string =>
      a === '/var/run/secrets/sutra-grid/ca/tls.crt' ? join(tlsDir, 'tls.crt')
        : a === '/var/run/secrets/sutra-grid/ca/tls.key' ? join(tlsDir, 'tls.key')
          : a === '/var/run/secrets/sutra-grid/ca-cert/ca.crt' ? join(tlsDir, 'ca.crt')
            : a === '/var/run/secrets/sutra-grid/token' ? tokenFile
              : a === '/var/lib/sutra-grid/master' ? dataDir
                : a === '0.0.0.0:7000' ? '127.0.0.1:0'
                  : a === '/etc/sutra/grid.yaml' ? join(dir, 'grid.yaml')
                    : a;
    const args = masterArgs(compileKubernetesProps({ token: TOKEN, ca })).map(local);
    expect(args).toContain('--tls-ca-key');
    const tlsMaster = await startDaemon('master', args);

    // A plaintext caller is refused (TLS is on although the test listens on loopback).
    const plain = await runCli(['status', '--master', tlsMaster.address, '--token-file', tokenFile]);
    expect(plain.code).not.toBe(0);

    writeFileSync(join(dir, 'grid.yaml'), 'name: k8s-contract-tls\nagents:\n  - id: kind-worker\n    platform: process\n    capacity: { nodes: 2 }\n');
    const applied = await runCli(applyArgs(tlsMaster.address, true).map(local));
    expect(applied.code, applied.stderr).toBe(0);
    const status = await runCli(['status', '--master', tlsMaster.address, '--token-file', tokenFile, '--tls-ca', join(tlsDir, 'ca.crt')]);
    expect(status.code, status.stderr).toBe(0);
  }, 60_000);
});
