/**
 * GridOnKubernetes under Pulumi's mock runtime (`pulumi.runtime.setMocks`). This is a mock because
 * no Kubernetes API server (nor the Pulumi engine) can run on these machines: the mocks record the
 * manifests the component registers, and the tests assert on those manifests.
 */
import { readFileSync } from 'node:fs';
import * as pulumi from '@pulumi/pulumi';
import { beforeAll, describe, expect, it } from 'vitest';

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

  beforeAll(async () => {
    const { GridOnKubernetes } = await import('../../provider/kubernetes/index.js');
    const grid = new GridOnKubernetes('grid', {
      namespace: 'grid-test',
      image: 'registry.example/sutra-grid:0.1.0',
      specText: SPEC,
      token: TOKEN,
      storageClassName: 'fast-ssd',
      masterStorageSize: '5Gi',
      agentNodeSelector: { 'sutra-grid.io/agent': 'true' },
    });
    // Waiting on every child's URN means every resource has reached the mock monitor.
    const children = [
      grid.master.dataClaim, grid.master.deployment, grid.master.service,
      grid.agents.daemonSet,
    ];
    await Promise.all([...children, ...(grid.applyJob ? [grid.applyJob] : [])].map((r) => valueOf(r.urn)));
    [masterAddress, namespace] = await Promise.all([valueOf(grid.masterAddress), valueOf(grid.namespace)]);
  });

  it('outputs the master Service DNS name on port 7000 and the namespace', () => {
    expect(namespace).toBe('grid-test');
    expect(masterAddress).toBe('sutra-grid-master.grid-test.svc.cluster.local:7000');
  });

  it('runs the master as one Recreate replica with gRPC health probes on 7000 and a PVC data dir', () => {
    const deployment = only('kubernetes:apps/v1:Deployment');
    expect(deployment.inputs.metadata.namespace).toBe('grid-test');
    expect(deployment.inputs.spec.replicas).toBe(1);
    expect(deployment.inputs.spec.strategy).toEqual({ type: 'Recreate' });
    const master = container(deployment, 'master');
    expect(master.image).toBe('registry.example/sutra-grid:0.1.0');
    expect(master.args).toEqual([
      'master', '--listen', '0.0.0.0:7000', '--data-dir', '/var/lib/sutra-grid/master',
      '--token-file', '/var/run/secrets/sutra-grid/token',
    ]);
    expect(master.ports).toEqual([{ name: 'grpc', containerPort: 7000, protocol: 'TCP' }]);
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      expect(master[probe].grpc, probe).toEqual({ port: 7000 });
    }
    const mounts = Object.fromEntries(master.volumeMounts.map((m: any) => [m.name, m]));
    expect(mounts['data'].mountPath).toBe('/var/lib/sutra-grid/master');
    expect(mounts['token']).toMatchObject({ mountPath: '/var/run/secrets/sutra-grid', readOnly: true });
    const volumes = Object.fromEntries(deployment.inputs.spec.template.spec.volumes.map((v: any) => [v.name, v]));
    expect(volumes['data'].persistentVolumeClaim.claimName).toBe('sutra-grid-master-data');
    expect(volumes['token'].secret.secretName).toBe('sutra-grid-token');
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

  it('runs one agent per selected node, id from the node name, data dir on a hostPath', () => {
    const ds = only('kubernetes:apps/v1:DaemonSet');
    const pod = ds.inputs.spec.template.spec;
    expect(pod.nodeSelector).toEqual({ 'sutra-grid.io/agent': 'true' });
    const agent = container(ds, 'agent');
    expect(agent.image).toBe('registry.example/sutra-grid:0.1.0');
    expect(agent.args).toEqual([
      'agent', '--id', '$(NODE_NAME)', '--master', 'sutra-grid-master.grid-test.svc.cluster.local:7000',
      '--listen', '$(POD_IP):8001', '--data-dir', '/var/lib/sutra-grid/agent',
      '--token-file', '/var/run/secrets/sutra-grid/token',
    ]);
    const env = Object.fromEntries(agent.env.map((e: any) => [e.name, e.valueFrom.fieldRef.fieldPath]));
    expect(env).toMatchObject({ NODE_NAME: 'spec.nodeName', POD_IP: 'status.podIP' });
    expect(agent.readinessProbe.grpc).toEqual({ port: 8001 });
    const volumes = Object.fromEntries(pod.volumes.map((v: any) => [v.name, v]));
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
      '--auto-approve', '--token-file', '/var/run/secrets/sutra-grid/token',
    ]);
    const volumes = Object.fromEntries(job.inputs.spec.template.spec.volumes.map((v: any) => [v.name, v]));
    expect(volumes['spec'].configMap.name).toBe('sutra-grid-spec');
  });

  it('writes the token into the Secret and nowhere else', () => {
    const secret = only('kubernetes:core/v1:Secret');
    // The mock monitor receives secrets in Pulumi's wire form: the signature key marks the value
    // secret, which is what keeps it encrypted in the state.
    expect(secret.inputs.stringData).toEqual({ [SECRET_SIG_KEY]: SECRET_SIG, value: { token: TOKEN } });
    const leaks = registered.filter((r) => r !== secret && JSON.stringify(r.inputs).includes(TOKEN)).map((r) => `${r.type} ${r.name}`);
    expect(leaks).toEqual([]);
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
    });
    await valueOf(grid.agents.daemonSet.urn);
    expect(grid.applyJob).toBeUndefined();
    const ds = only('kubernetes:apps/v1:DaemonSet', 'scratch-agent');
    const pod = ds.inputs.spec.template.spec;
    expect(pod.initContainers).toEqual([]);
    expect(pod.volumes.find((v: any) => v.name === 'data')).toEqual({ name: 'data', emptyDir: { sizeLimit: '20Gi' } });
    expect(container(ds, 'agent').image).toBe('sutra-grid:0.1.0');
    const ns = only('kubernetes:core/v1:Namespace', 'scratch-namespace');
    expect(ns.inputs.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });
});

describe('examples/kubernetes', () => {
  it('deploys its grid.yaml, whose master address is the one the component serves', async () => {
    const { GridOnKubernetes } = await import('../../provider/kubernetes/index.js');
    const { loadGridSpecOrThrow } = await import('../../schema/index.js');
    const grid = new GridOnKubernetes('example', { specPath: 'examples/kubernetes/grid.yaml', token: TOKEN });
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
    ];
    for (const [props, code, field] of cases) {
      let caught: any;
      try {
        new GridOnKubernetes(`bad-${field}`, { token: TOKEN, ...props });
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
    expect(compileKubernetesProps({ token: 't' }).image).toBe(`sutra-grid:${pkg.version}`);
  });
});
