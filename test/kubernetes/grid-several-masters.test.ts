/**
 * GridOnKubernetes with several masters (`masters: 3`) on an etcd of three, and on an external
 * etcd with TLS, under Pulumi's mock runtime (`pulumi.runtime.setMocks`): a mock because no
 * Kubernetes API server can run here. The tests assert on the manifests the component registers;
 * that the masters elect a leader through etcd is the runtime's etcd tests' job.
 */
import * as pulumi from '@pulumi/pulumi';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCa } from '../../runtime/common/pki/certs.js';

interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
}

const registered: Registered[] = [];
const TOKEN = 'canary-token-ha-81c2d0';
const JOIN = 'sgj.hajoin.0f9e8d7c6b';
const CA = createCa('ha test CA');
const ETCD_KEY = '-----BEGIN PRIVATE KEY-----\ncanary-etcd-client-key-77aa\n-----END PRIVATE KEY-----\n';
const SPEC = `name: k8s-ha
agents:
  - id: node-a
    platform: process
    capacity: { nodes: 4 }
clusters:
  - name: kg
    nodes: 2
`;

function valueOf<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => {
    pulumi.output(output).apply((v) => {
      resolve(v as T);
      return v;
    });
  });
}

function of(prefix: string, type: string, k8sName?: string): Registered[] {
  return registered.filter((r) => r.name.startsWith(`${prefix}-`) && r.type === type && (k8sName === undefined || r.inputs.metadata?.name === k8sName));
}

function one(prefix: string, type: string, k8sName?: string): Registered {
  const found = of(prefix, type, k8sName);
  expect(found, `${prefix} ${type} ${k8sName ?? ''}`).toHaveLength(1);
  return found[0]!;
}

function container(res: Registered, name: string): any {
  return res.inputs.spec.template.spec.containers.find((c: any) => c.name === name);
}

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    'sutra-grid-test',
    'test',
    false,
  );
});

const POD = (i: number): string => `sutra-grid-master-${i}.sutra-grid-master-pods.grid-ha.svc.cluster.local:7000`;
const ETCD = (i: number): string => `sutra-grid-etcd-${i}.sutra-grid-etcd.grid-ha.svc.cluster.local`;

describe('three masters on an in-cluster etcd of three', () => {
  let masterAddress: string;

  beforeAll(async () => {
    const { GridOnKubernetes } = await import('../../provider/kubernetes/index.js');
    const grid = new GridOnKubernetes('ha', { namespace: 'grid-ha', specText: SPEC, token: TOKEN, ca: CA, masters: 3, agentJoinTokens: { 'node-a': JOIN } });
    expect(grid.master.deployment).toBeUndefined();
    await Promise.all([grid.master.statefulSet!, grid.master.podsService!, grid.etcd!.statefulSet, grid.etcd!.networkPolicy, grid.agents!.daemonSet, grid.applyJob!].map((r) => valueOf(r.urn)));
    masterAddress = await valueOf(grid.masterAddress);
  });

  it('outputs every master pod address, comma-separated', () => {
    expect(masterAddress).toBe([POD(0), POD(1), POD(2)].join(','));
  });

  it('runs the masters as a StatefulSet of three, each with its claim, on etcd, advertising its pod DNS name', () => {
    const sts = one('ha', 'kubernetes:apps/v1:StatefulSet', 'sutra-grid-master');
    expect(sts.inputs.spec).toMatchObject({ replicas: 3, serviceName: 'sutra-grid-master-pods', podManagementPolicy: 'Parallel' });
    expect(sts.inputs.spec.volumeClaimTemplates[0].metadata.name).toBe('data');
    const master = container(sts, 'master');
    const args: string[] = master.args;
    expect(args.slice(args.indexOf('--store'), args.indexOf('--store') + 2)).toEqual([
      '--store', `etcd://${ETCD(0)}:2379,${ETCD(1)}:2379,${ETCD(2)}:2379`,
    ]);
    expect(args.slice(args.indexOf('--advertise'), args.indexOf('--advertise') + 2)).toEqual([
      '--advertise', '$(POD_NAME).sutra-grid-master-pods.grid-ha.svc.cluster.local:7000',
    ]);
    expect(args).toEqual(expect.arrayContaining(['--tls', 'on', '--tls-ca-cert', '/var/run/secrets/sutra-grid/ca/tls.crt']));
    expect(master.env).toEqual([{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }]);
    const headless = one('ha', 'kubernetes:core/v1:Service', 'sutra-grid-master-pods');
    expect(headless.inputs.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    expect(of('ha', 'kubernetes:apps/v1:Deployment')).toEqual([]);
    expect(of('ha', 'kubernetes:core/v1:PersistentVolumeClaim')).toEqual([]);
  });

  it('runs etcd as a StatefulSet of three with a headless Service, its members listed statically', () => {
    const sts = one('ha', 'kubernetes:apps/v1:StatefulSet', 'sutra-grid-etcd');
    expect(sts.inputs.spec).toMatchObject({ replicas: 3, serviceName: 'sutra-grid-etcd', podManagementPolicy: 'Parallel' });
    const etcd = container(sts, 'etcd');
    expect(etcd.command[0]).toBe('etcd');
    expect(etcd.command).toContain(
      `--initial-cluster=${[0, 1, 2].map((i) => `sutra-grid-etcd-${i}=http://${ETCD(i)}:2380`).join(',')}`,
    );
    expect(etcd.command).toContain('--advertise-client-urls=http://$(POD_NAME).sutra-grid-etcd.grid-ha.svc.cluster.local:2379');
    expect(etcd.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    const svc = one('ha', 'kubernetes:core/v1:Service', 'sutra-grid-etcd');
    expect(svc.inputs.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    // Only masters (and members) reach the client port.
    const np = one('ha', 'kubernetes:networking.k8s.io/v1:NetworkPolicy');
    expect(np.inputs.spec.ingress[0].from).toEqual([
      { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'sutra-grid', 'app.kubernetes.io/component': 'master' } } },
      { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'sutra-grid', 'app.kubernetes.io/component': 'etcd' } } },
    ]);
  });

  it('gives agents and the apply Job all three master addresses', () => {
    const agent = container(one('ha', 'kubernetes:apps/v1:DaemonSet'), 'agent');
    const all = [POD(0), POD(1), POD(2)].join(',');
    expect(agent.args[agent.args.indexOf('--master') + 1]).toBe(all);
    const apply = container(one('ha', 'kubernetes:batch/v1:Job'), 'apply');
    expect(apply.args[apply.args.indexOf('--master') + 1]).toBe(all);
  });
});

describe('three masters on an external etcd with client TLS', () => {
  it('mounts the etcd client credential from a Secret into the masters only, and registers no etcd', async () => {
    const { GridOnKubernetes } = await import('../../provider/kubernetes/index.js');
    const grid = new GridOnKubernetes('ext', {
      namespace: 'grid-ext',
      specText: SPEC,
      token: TOKEN,
      ca: CA,
      masters: 3,
      etcd: { type: 'external', endpoints: ['etcd-a.infra:2379', 'etcd-b.infra:2379', 'etcd-c.infra:2379'], tls: { caPem: CA.certPem, certPem: CA.certPem, keyPem: ETCD_KEY } },
    });
    expect(grid.etcd).toBeUndefined();
    // No join tokens yet: the masters come up alone.
    expect(grid.agents).toBeUndefined();
    expect(grid.applyJob).toBeUndefined();
    await valueOf(grid.master.statefulSet!.urn);
    const master = container(one('ext', 'kubernetes:apps/v1:StatefulSet'), 'master');
    expect(master.args).toEqual(expect.arrayContaining([
      '--store', 'etcd://etcd-a.infra:2379,etcd-b.infra:2379,etcd-c.infra:2379',
      '--etcd-ca', '/var/run/secrets/sutra-grid/etcd/ca.pem', '--etcd-cert', '/var/run/secrets/sutra-grid/etcd/cert.pem', '--etcd-key', '/var/run/secrets/sutra-grid/etcd/key.pem',
    ]));
    const secret = one('ext', 'kubernetes:core/v1:Secret', 'sutra-grid-etcd-client');
    expect(secret.inputs.stringData[pulumi.runtime.specialSigKey]).toBe(pulumi.runtime.specialSecretSig);
    expect(of('ext', 'kubernetes:apps/v1:StatefulSet', 'sutra-grid-etcd')).toEqual([]);
    const leaks = registered.filter((r) => r.type !== 'kubernetes:core/v1:Secret' && JSON.stringify(r.inputs).includes('canary-etcd-client-key')).map((r) => r.name);
    expect(leaks).toEqual([]);
  });
});
