/**
 * GridOnKubernetes under Pulumi's mock runtime (`pulumi.runtime.setMocks`). This is a mock because
 * no Kubernetes API server (nor the Pulumi engine) can run on these machines: the mocks record the
 * manifests the component registers, and the tests assert on those manifests.
 */
import { readFileSync } from 'node:fs';
import * as pulumi from '@pulumi/pulumi';
import { beforeAll, describe, expect, it } from 'vitest';
import { caHash, createCa } from '../../runtime/common/pki/certs.js';

interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
}

const registered: Registered[] = [];

/** Resolves an Output under the mock runtime (apply runs once the value is known). */
function valueOf<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => {
    pulumi.output(output).apply((v) => {
      resolve(v as T);
      return v;
    });
  });
}

const TOKEN = 'canary-token-5f0c2b7e9d';
const JOIN_TOKEN = 'sgj.canaryjoin.4b1e0d9c7a';
/** A real grid CA (RSA, forge), as `sutra-grid cert issue` makes one. */
const CA = createCa('test grid CA');
/** A piece of the CA key's body: must never be readable outside a secret. */
const CA_KEY_CANARY = CA.keyPem.split('\n')[5]!;
const CA_HASH = caHash(CA.certPem);
/** Pulumi's wire marker of a secret value. */
const SECRET_SIG_KEY = pulumi.runtime.specialSigKey;
const SECRET_SIG = pulumi.runtime.specialSecretSig;
const SPEC = `# yaml-language-server: $schema=../../schema/grid.schema.json
name: k8s-demo
master:
  address: sutra-grid-master:7000
agents:
  - id: node-a
    platform: process
    capacity: { nodes: 4 }
clusters:
  - name: kg
    nodes: 2
`;

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call(args) {
        return args.inputs;
      },
    },
    'sutra-grid-test',
    'test',
    false,
  );
});

/** `value` with every Pulumi wire secret replaced by '[secret]': what is readable without the stack's key. */
function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    if (o[SECRET_SIG_KEY] === SECRET_SIG) return '[secret]';
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, redactSecrets(v)]));
  }
  return value;
}

/** The one resource of a type (the first grid's when `name` is omitted). */
function only(type: string, name?: string): Registered {
  const found = registered.filter((r) => r.type === type && (name !== undefined ? r.name === name : r.name.startsWith('grid-')));
  expect(found, `${type} ${name ?? ''}`).toHaveLength(1);
  return found[0]!;
}

function container(res: Registered, name: string): any {
  const c = res.inputs.spec.template.spec.containers.find((x: any) => x.name === name);
  expect(c, `container ${name} in ${res.name}`).toBeDefined();
  return c;
}

describe('GridOnKubernetes', () => {
  let masterAddress: string;
  let namespace: string;
  let caHashOut: string;

  beforeAll(async () => {
    const { GridOnKubernetes } = await import('../../provider/kubernetes/index.js');
    const grid = new GridOnKubernetes('grid', {
      namespace: 'grid-test',
      image: 'registry.example/sutra-grid:0.1.0',
      specText: SPEC,
      token: TOKEN,
      ca: { certPem: CA.certPem, keyPem: CA.keyPem },
      agentJoinTokens: { 'node-a': JOIN_TOKEN },
      storageClassName: 'fast-ssd',
      masterStorageSize: '5Gi',
      agentNodeSelector: { 'sutra-grid.io/agent': 'true' },
    });
    // Waiting on every child's URN means every resource has reached the mock monitor.
    const children = [
      grid.master.dataClaim!, grid.master.deployment!, grid.master.service,
      grid.agents!.daemonSet,
    ];
    await Promise.all([...children, ...(grid.applyJob ? [grid.applyJob] : [])].map((r) => valueOf(r.urn)));
    caHashOut = await valueOf(grid.caHash!);
    [masterAddress, namespace] = await Promise.all([valueOf(grid.masterAddress), valueOf(grid.namespace)]);
  });

  it('outputs the master Service DNS name on port 7000 and the namespace', () => {
    expect(namespace).toBe('grid-test');
    expect(masterAddress).toBe('sutra-grid-master.grid-test.svc.cluster.local:7000');
  });

  it('outputs the hash of the given CA, the one agents pin', () => {
    expect(caHashOut).toBe(CA_HASH);
  });

  it('runs the master as one Recreate replica with mutual TLS from the CA Secret, TCP probes on 7000 and a PVC data dir', () => {
    const deployment = only('kubernetes:apps/v1:Deployment');
    expect(deployment.inputs.metadata.namespace).toBe('grid-test');
    expect(deployment.inputs.spec.replicas).toBe(1);
    expect(deployment.inputs.spec.strategy).toEqual({ type: 'Recreate' });
    const master = container(deployment, 'master');
    expect(master.image).toBe('registry.example/sutra-grid:0.1.0');
    expect(master.args).toEqual([
      'master', '--listen', '0.0.0.0:7000', '--data-dir', '/var/lib/sutra-grid/master',
      '--token-file', '/var/run/secrets/sutra-grid/token',
      '--tls', 'on', '--tls-ca-cert', '/var/run/secrets/sutra-grid/ca/tls.crt', '--tls-ca-key', '/var/run/secrets/sutra-grid/ca/tls.key',
    ]);
    expect(master.ports).toEqual([{ name: 'grpc', containerPort: 7000, protocol: 'TCP' }]);
    // Kubernetes' gRPC probe speaks plaintext only: behind TLS the port is probed.
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      expect(master[probe].tcpSocket, probe).toEqual({ port: 7000 });
      expect(master[probe].grpc, probe).toBeUndefined();
    }
    const mounts = Object.fromEntries(master.volumeMounts.map((m: any) => [m.name, m]));
    expect(mounts['data'].mountPath).toBe('/var/lib/sutra-grid/master');
    expect(mounts['token']).toMatchObject({ mountPath: '/var/run/secrets/sutra-grid', readOnly: true });
    const volumes = Object.fromEntries(deployment.inputs.spec.template.spec.volumes.map((v: any) => [v.name, v]));
    expect(volumes['data'].persistentVolumeClaim.claimName).toBe('sutra-grid-master-data');
    expect(volumes['token'].secret.secretName).toBe('sutra-grid-token');
    expect(volumes['ca'].secret).toMatchObject({ secretName: 'sutra-grid-ca', defaultMode: 0o440 });
    expect(mounts['ca']).toMatchObject({ mountPath: '/var/run/secrets/sutra-grid/ca', readOnly: true });
    expect(master.env).toBeUndefined();
    expect(deployment.inputs.spec.template.spec.automountServiceAccountToken).toBe(false);

    const pvc = only('kubernetes:core/v1:PersistentVolumeClaim');
    expect(pvc.inputs.spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '5Gi' } },
      storageClassName: 'fast-ssd',
    });
    const service = only('kubernetes:core/v1:Service');
    expect(service.inputs.metadata.name).toBe('sutra-grid-master');
    expect(service.inputs.spec.ports).toEqual([{ name: 'grpc', port: 7000, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' }]);
    expect(service.inputs.spec.selector).toEqual(deployment.inputs.spec.selector.matchLabels);
  });

  it('runs one agent per selected node, id from the node name, joining with its token file and the CA hash', () => {
    const ds = only('kubernetes:apps/v1:DaemonSet');
    const pod = ds.inputs.spec.template.spec;
    expect(pod.nodeSelector).toEqual({ 'sutra-grid.io/agent': 'true' });
    const agent = container(ds, 'agent');
    expect(agent.image).toBe('registry.example/sutra-grid:0.1.0');
    expect(agent.args).toEqual([
      'agent', '--id', '$(NODE_NAME)', '--master', 'sutra-grid-master.grid-test.svc.cluster.local:7000',
      '--listen', '$(POD_IP):8001', '--data-dir', '/var/lib/sutra-grid/agent',
      '--token-file', '/var/run/secrets/sutra-grid/token',
      '--join-file', '/var/run/secrets/sutra-grid/join/$(NODE_NAME)', '--ca-hash', CA_HASH,
    ]);
    // Only downward-API fields in env: no credential travels there.
    const env = Object.fromEntries(agent.env.map((e: any) => [e.name, e.valueFrom.fieldRef.fieldPath]));
    expect(env).toMatchObject({ NODE_NAME: 'spec.nodeName', POD_IP: 'status.podIP' });
    expect(agent.env.every((e: any) => e.valueFrom.secretKeyRef === undefined && e.value === undefined)).toBe(true);
    expect(agent.readinessProbe.tcpSocket).toEqual({ port: 8001 });
    const volumes = Object.fromEntries(pod.volumes.map((v: any) => [v.name, v]));
    expect(volumes['join'].secret).toMatchObject({ secretName: 'sutra-grid-agent-join', defaultMode: 0o440 });
    // Agents never see the CA key.
    expect(pod.volumes.some((v: any) => v.secret?.secretName === 'sutra-grid-ca')).toBe(false);
    expect(volumes['data'].hostPath).toEqual({ path: '/var/lib/sutra-grid/agent', type: 'DirectoryOrCreate' });
    // The init container may chown and nothing else.
    expect(pod.initContainers).toHaveLength(1);
    expect(pod.initContainers[0].securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['CHOWN'] });
    expect(pod.initContainers[0].securityContext.allowPrivilegeEscalation).toBe(false);
  });

  it('runs every long-lived container non-root, without escalation, on a read-only root', () => {
    for (const [type, name] of [['kubernetes:apps/v1:Deployment', 'master'], ['kubernetes:apps/v1:DaemonSet', 'agent'], ['kubernetes:batch/v1:Job', 'apply']] as const) {
      const res = only(type);
      expect(res.inputs.spec.template.spec.securityContext, type).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 });
      expect(container(res, name).securityContext, type).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        privileged: false,
        capabilities: { drop: ['ALL'] },
      });
    }
  });

  it('gives no pod Kubernetes API credentials: no token mounted, no ServiceAccount, no RBAC (nothing calls the API)', () => {
    for (const type of ['kubernetes:apps/v1:Deployment', 'kubernetes:apps/v1:DaemonSet', 'kubernetes:batch/v1:Job']) {
      const pod = only(type).inputs.spec.template.spec;
      expect(pod.automountServiceAccountToken, type).toBe(false);
      expect(pod.serviceAccountName, type).toBeUndefined();
    }
    expect(registered.filter((r) => /ServiceAccount|Role/.test(r.type))).toEqual([]);
  });

  it('ships the spec in a ConfigMap and applies it with a Job named after its hash', async () => {
    const cm = only('kubernetes:core/v1:ConfigMap');
    expect(cm.inputs.data).toEqual({ 'grid.yaml': SPEC });
    const { parseGridSpec, specHash } = await import('../../schema/index.js');
    const parsed = parseGridSpec(SPEC, 'spec');
    if (!parsed.ok) throw new Error(`test spec invalid: ${JSON.stringify(parsed.diagnostics)}`);
    const hash = specHash(parsed.compiled);
    const job = only('kubernetes:batch/v1:Job');
    expect(job.inputs.metadata.name).toBe(`sutra-grid-apply-${hash.slice(0, 12)}`);
    expect(container(job, 'apply').args).toEqual([
      'apply', '/etc/sutra/grid.yaml', '--master', 'sutra-grid-master.grid-test.svc.cluster.local:7000',
      '--auto-approve', '--token-file', '/var/run/secrets/sutra-grid/token', '--tls-ca', '/var/run/secrets/sutra-grid/ca-cert/ca.crt',
    ]);
    const volumes = Object.fromEntries(job.inputs.spec.template.spec.volumes.map((v: any) => [v.name, v]));
    expect(volumes['spec'].configMap.name).toBe('sutra-grid-spec');
    // The CA certificate alone: the Job checks the master, it cannot issue.
    expect(volumes['ca-cert'].secret.secretName).toBe('sutra-grid-ca-cert');
  });

  it('writes token, CA key and join tokens into Secrets only, as Pulumi secrets, never in a ConfigMap or env', () => {
    const secrets = Object.fromEntries(registered.filter((r) => r.type === 'kubernetes:core/v1:Secret' && r.name.startsWith('grid-')).map((r) => [r.inputs.metadata.name, r]));
    expect(Object.keys(secrets).sort()).toEqual(['sutra-grid-agent-join', 'sutra-grid-ca', 'sutra-grid-ca-cert', 'sutra-grid-token']);
    // The mock monitor receives secrets in Pulumi's wire form: the signature key marks the value
    // secret, which is what keeps it encrypted in the state.
    expect(secrets['sutra-grid-token']!.inputs.stringData).toEqual({ [SECRET_SIG_KEY]: SECRET_SIG, value: { token: TOKEN } });
    expect(secrets['sutra-grid-agent-join']!.inputs.stringData).toEqual({ [SECRET_SIG_KEY]: SECRET_SIG, value: { 'node-a': JOIN_TOKEN } });
    expect(secrets['sutra-grid-ca']!.inputs.type).toBe('kubernetes.io/tls');
    expect(secrets['sutra-grid-ca']!.inputs.stringData).toEqual({ [SECRET_SIG_KEY]: SECRET_SIG, value: { 'tls.crt': CA.certPem, 'tls.key': CA.keyPem } });
    expect(secrets['sutra-grid-ca-cert']!.inputs.stringData.value).toEqual({ 'ca.crt': CA.certPem });
    for (const canary of [TOKEN, JOIN_TOKEN, CA_KEY_CANARY]) {
      const leaks = registered.filter((r) => JSON.stringify(redactSecrets(r.inputs)).includes(canary)).map((r) => `${r.type} ${r.name}`);
      expect(leaks, canary).toEqual([]);
      const elsewhere = registered.filter((r) => r.type !== 'kubernetes:core/v1:Secret' && JSON.stringify(r.inputs).includes(canary)).map((r) => `${r.type} ${r.name}`);
      expect(elsewhere, canary).toEqual([]);
    }
  });
});

describe('GridOnKubernetes with emptyDir agents', () => {
  it('drops the chown init container, enforces the restricted Pod Security level, and can skip the apply Job', async () => {
    const { GridOnKubernetes } = await import('../../provider/kubernetes/index.js');
    const grid = new GridOnKubernetes('scratch', {
      namespace: 'grid-scratch',
      specText: SPEC,
      token: TOKEN,
      agentDataVolume: { type: 'emptyDir', sizeLimit: '20Gi' },
      applySpec: false,
      tls: false,
    });
    await valueOf(grid.agents!.daemonSet.urn);
    expect(grid.applyJob).toBeUndefined();
    const ds = only('kubernetes:apps/v1:DaemonSet', 'scratch-agent');
    const pod = ds.inputs.spec.template.spec;
    expect(pod.initContainers).toEqual([]);
    expect(pod.volumes.find((v: any) => v.name === 'data')).toEqual({ name: 'data', emptyDir: { sizeLimit: '20Gi' } });
    expect(container(ds, 'agent').image).toBe('sutra-grid:0.1.0');
    // Without TLS: the shared token only, and the native gRPC probes.
    expect(container(ds, 'agent').args).not.toContain('--join-file');
    expect(container(ds, 'agent').readinessProbe.grpc).toEqual({ port: 8001 });
    expect(registered.filter((r) => r.name.startsWith('scratch-') && r.type === 'kubernetes:core/v1:Secret').map((r) => r.inputs.metadata.name)).toEqual(['sutra-grid-token']);
    const ns = only('kubernetes:core/v1:Namespace', 'scratch-namespace');
    expect(ns.inputs.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });
});

describe('examples/kubernetes', () => {
  it('deploys its grid.yaml, whose master address is the one the component serves', async () => {
    const { GridOnKubernetes } = await import('../../provider/kubernetes/index.js');
    const { loadGridSpecOrThrow } = await import('../../schema/index.js');
    const grid = new GridOnKubernetes('example', { specPath: 'examples/kubernetes/grid.yaml', token: TOKEN, ca: CA });
    const spec = await loadGridSpecOrThrow('examples/kubernetes/grid.yaml');
    expect(await valueOf(grid.masterAddress)).toBe(spec.compiled.master.address);
  });
});

describe('GridOnKubernetes props', () => {
  it('refuses bad props with an error naming the prop, before registering anything', async () => {
    const { GridOnKubernetes } = await import('../../provider/kubernetes/index.js');
    const before = registered.length;
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ masterStorageSize: 'lots', specText: SPEC }, 'K8S_INVALID_PROPS', 'masterStorageSize'],
      [{ namespace: 'Not_A_Label', specText: SPEC }, 'K8S_INVALID_PROPS', 'namespace'],
      [{ runAsUser: 0, specText: SPEC }, 'K8S_INVALID_PROPS', 'runAsUser'],
      [{}, 'K8S_INVALID_PROPS', 'specPath'],
      [{ specPath: '/nonexistent/grid.yaml' }, 'K8S_SPEC_UNREADABLE', 'specPath'],
      [{ specText: '- just\n- a list\n' }, 'K8S_SPEC_INVALID', 'specText'],
      [{ specText: SPEC.replace('platform: process', 'platform: podman') }, 'K8S_SPEC_INVALID', '/agents/0/platform'],
      [{ specText: SPEC, ca: undefined }, 'K8S_INVALID_PROPS', 'ca'],
      [{ specText: SPEC, masters: 2 }, 'K8S_INVALID_PROPS', 'masters'],
      [{ specText: SPEC, etcd: { type: 'inCluster' } }, 'K8S_INVALID_PROPS', 'etcd'],
      [{ specText: SPEC, masters: 3, etcd: { type: 'external', endpoints: ['etcd:x'] } }, 'K8S_INVALID_PROPS', 'etcd.endpoints[0]'],
      [{ specText: SPEC, masters: 3, etcd: { type: 'inCluster', replicas: 4 } }, 'K8S_INVALID_PROPS', 'etcd.replicas'],
    ];
    for (const [props, code, field] of cases) {
      let caught: any;
      try {
        new GridOnKubernetes(`bad-${field}`, { token: TOKEN, ca: CA, ...props });
      } catch (err) {
        caught = err;
      }
      expect(caught, field).toMatchObject({ code, field });
    }
    // Only the component resources themselves may have registered; no Kubernetes object did.
    expect(registered.slice(before).filter((r) => r.type.startsWith('kubernetes:'))).toEqual([]);
  });

  it('defaults the image to the package version', async () => {
    const { GRID_VERSION, compileKubernetesProps } = await import('../../provider/kubernetes/index.js');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(GRID_VERSION).toBe(pkg.version);
    expect(compileKubernetesProps({ token: 't', tls: false }).image).toBe(`sutra-grid:${pkg.version}`);
  });
});
