import { DEFAULT_MASTER_PORT } from '../../client/index.js';
import { GridCdktfError } from './errors.js';

/** The grid version deployed by default; kept equal to package.json (a test checks). */
export const GRID_VERSION = '0.1.0';

/** Props of {@link GridDockerStack}. Everything but the spec path has a default. */
export interface GridDockerStackProps {
  /** Path of the grid.yaml to deploy; read at synth time, its hash decides when to re-apply. */
  readonly specPath: string;
  /** Docker Engine endpoint of the host the grid runs on. @default 'unix:///var/run/docker.sock' */
  readonly dockerHost?: string;
  /** Grid image (entrypoint `sutra-grid`); must exist on the Docker host. @default `sutra-grid:${GRID_VERSION}` */
  readonly image?: string;
  /** Prefix of every Docker object's name. @default `sutra-grid-<spec name>` */
  readonly namePrefix?: string;
  /** Host port the master's gRPC port 7000 is published on. @default 7000 */
  readonly masterPort?: number;
  /** Host address the master's port is published on. @default '127.0.0.1' (this host only) */
  readonly masterPublishIp?: string;
  /** Host path of the Docker Engine socket mounted into docker agents. @default '/var/run/docker.sock' */
  readonly dockerSocketPath?: string;
  /**
   * GID owning the Docker socket on the host. Given: agents run as the image's non-root user with
   * this supplementary group. Omitted: agents run as root, since access to the Engine socket is
   * root-equivalent on the host anyway. @default undefined
   */
  readonly dockerSocketGid?: number;
  /** Name of the sensitive Terraform variable carrying the token. @default 'grid_token' */
  readonly tokenVariableName?: string;
  /**
   * IPv4 /24 of the grid's Docker network. Its gateway (.1) is the host's address on that network,
   * where docker agents listen; the master gets the fixed address .10. @default '172.31.250.0/24'
   */
  readonly networkSubnet?: string;
  /**
   * Host directory under which each docker agent gets its data dir (`<root>/<agent id>`), mounted
   * at the same path inside the agent: the agent hands its nodes' storage paths to the host's
   * Engine as bind sources, so they must mean the same on both sides. @default '/var/lib/sutra-grid/agents'
   */
  readonly agentDataRoot?: string;
  /**
   * Mutual TLS on the masters' and agents' gRPC ports (the master listens on the Docker network,
   * beyond loopback). Needs `caCertPath`. Off: the shared token alone, in clear. @default true
   */
  readonly tls?: boolean;
  /**
   * PEM of the grid CA certificate, read at synth time (it is public): uploaded to the apply step,
   * and its hash is the `--ca-hash` agents pin. Make a CA with
   * `sutra-grid cert issue --data-dir ./grid-ca --role admin --name you --out ./admin`
   * (`./grid-ca/pki/ca.pem` and `ca-key.pem`).
   */
  readonly caCertPath?: string;
  /**
   * A directory on the Docker host holding `ca-key.pem` (the CA key) and `join/<agent id>` (each
   * agent's one-time join token, `sutra-grid token create --role agent`): bind-mounted read-only,
   * the key into the masters only and each token into its own agent only, so no secret enters the
   * Terraform configuration or state. Omitted: the sensitive variables `grid_ca_key` and
   * `agent_join_tokens` are uploaded as files instead, and Terraform's state holds their values in
   * plaintext (the Docker provider keeps an upload's content in state). @default undefined
   */
  readonly credentialHostDir?: string;
  /** Number of masters: 1 (files in its data dir) or 3 (on an etcd of three containers). @default 1 */
  readonly masters?: 1 | 3;
  /** Image of the etcd members when `masters` is 3. @default 'quay.io/coreos/etcd:v3.5.15' */
  readonly etcdImage?: string;
  /**
   * Deploy the agents and the apply step. With TLS the agents need join tokens, which the masters
   * make once they run: deploy with `false` first, create the tokens, then deploy with `true`.
   * @default true
   */
  readonly deployAgents?: boolean;
}

/** Props with defaults filled and values checked. */
export interface CompiledDockerStackProps {
  readonly specPath: string;
  readonly dockerHost: string;
  readonly image: string;
  readonly namePrefix: string | undefined;
  readonly masterPort: number;
  readonly masterPublishIp: string;
  readonly dockerSocketPath: string;
  readonly dockerSocketGid: number | undefined;
  readonly tokenVariableName: string;
  readonly networkSubnet: string;
  /** The host's address on the grid network, where agents listen. */
  readonly gatewayIp: string;
  /** The master's fixed address on the grid network, which agents dial. */
  readonly masterIp: string;
  readonly agentDataRoot: string;
  readonly tls: boolean;
  readonly caCertPath: string | undefined;
  readonly credentialHostDir: string | undefined;
  readonly masters: 1 | 3;
  readonly etcdImage: string;
  readonly deployAgents: boolean;
  /** The masters' fixed addresses on the grid network (.10, .11, .12). */
  readonly masterIps: readonly string[];
  /** The etcd members' fixed addresses (.20, .21, .22) when there are several masters. */
  readonly etcdIps: readonly string[];
}

/** Fixed paths and ports inside the grid containers. */
export const LAYOUT = {
  masterPort: DEFAULT_MASTER_PORT,
  agentPort: 8001,
  tokenFile: '/run/secrets/sutra-grid/token',
  caCertFile: '/run/secrets/sutra-grid/ca.pem',
  caKeyFile: '/run/secrets/sutra-grid/ca-key.pem',
  joinFile: '/run/secrets/sutra-grid/join-token',
  etcdDataDir: '/etcd-data',
  etcdClientPort: 2379,
  etcdPeerPort: 2380,
  specFile: '/etc/sutra/grid.yaml',
  /** The image creates /data owned by its user, so a fresh named volume there is writable. */
  masterDataDir: '/data',
  agentConfigFile: '/etc/sutra/agent-config.toml',
  dockerSocket: '/var/run/docker.sock',
  /** The image's entrypoint is `node /app/bin/sutra-grid.js`; there is no `sutra-grid` on PATH. */
  cli: ['node', '/app/bin/sutra-grid.js'],
  /** First gRPC port of docker agents without an address in the spec (one host, so one port each). */
  firstAgentPort: 8101,
} as const;

function invalid(field: string, message: string): GridCdktfError {
  return new GridCdktfError('CDKTF_INVALID_PROPS', field, message);
}

function checkPort(field: string, port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(field, `${port} is not a port 1-65535`);
  return port;
}

/** Fills defaults and rejects bad values with an error naming the prop. */
export function compileDockerStackProps(props: GridDockerStackProps): CompiledDockerStackProps {
  if (typeof props.specPath !== 'string' || props.specPath === '') throw invalid('specPath', 'is required');
  const dockerHost = props.dockerHost ?? 'unix:///var/run/docker.sock';
  if (!/^(unix|tcp|ssh|npipe):\/\/./.test(dockerHost)) throw invalid('dockerHost', `"${dockerHost}" is not a unix://, tcp://, ssh:// or npipe:// endpoint`);
  const image = props.image ?? `sutra-grid:${GRID_VERSION}`;
  if (image === '' || /\s/.test(image)) throw invalid('image', `"${image}" is not an image reference`);
  if (props.namePrefix !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(props.namePrefix)) {
    throw invalid('namePrefix', `"${props.namePrefix}" is not a valid Docker object name`);
  }
  const dockerSocketPath = props.dockerSocketPath ?? LAYOUT.dockerSocket;
  if (!dockerSocketPath.startsWith('/')) throw invalid('dockerSocketPath', `"${dockerSocketPath}" must be an absolute path`);
  if (props.dockerSocketGid !== undefined && (!Number.isInteger(props.dockerSocketGid) || props.dockerSocketGid < 0)) {
    throw invalid('dockerSocketGid', `${props.dockerSocketGid} is not a group id`);
  }
  const tokenVariableName = props.tokenVariableName ?? 'grid_token';
  if (!/^[a-zA-Z_][a-zA-Z0-9_-]*$/.test(tokenVariableName)) throw invalid('tokenVariableName', `"${tokenVariableName}" is not a Terraform identifier`);
  const networkSubnet = props.networkSubnet ?? '172.31.250.0/24';
  const subnet = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(networkSubnet);
  if (subnet === null || subnet.slice(1).some((o) => Number(o) > 255)) throw invalid('networkSubnet', `"${networkSubnet}" is not an IPv4 /24 like 172.31.250.0/24`);
  const net = subnet.slice(1, 4).join('.');
  const agentDataRoot = (props.agentDataRoot ?? '/var/lib/sutra-grid/agents').replace(/\/+$/, '');
  if (!agentDataRoot.startsWith('/') || agentDataRoot === '') throw invalid('agentDataRoot', `"${props.agentDataRoot}" must be an absolute path`);
  const masterPublishIp = props.masterPublishIp ?? '127.0.0.1';
  if (!/^[0-9a-fA-F.:]+$/.test(masterPublishIp)) throw invalid('masterPublishIp', `"${masterPublishIp}" is not an IP address`);
  const tls = props.tls ?? true;
  if (tls && (props.caCertPath === undefined || props.caCertPath === '')) {
    throw invalid('caCertPath', 'is required with tls (the default): the grid CA certificate; see the prop\'s documentation to make one, or set tls: false');
  }
  if (props.credentialHostDir !== undefined && !props.credentialHostDir.startsWith('/')) {
    throw invalid('credentialHostDir', `"${props.credentialHostDir}" must be an absolute path on the Docker host`);
  }
  const masters = props.masters ?? 1;
  if (masters !== 1 && masters !== 3) throw invalid('masters', `${String(masters)} must be 1 or 3`);
  const etcdImage = props.etcdImage ?? 'quay.io/coreos/etcd:v3.5.15';
  if (etcdImage === '' || /\s/.test(etcdImage)) throw invalid('etcdImage', `"${etcdImage}" is not an image reference`);
  return {
    tls,
    caCertPath: props.caCertPath,
    credentialHostDir: props.credentialHostDir?.replace(/\/+$/, ''),
    masters,
    etcdImage,
    deployAgents: props.deployAgents ?? true,
    masterIps: Array.from({ length: masters }, (_, i) => `${net}.${10 + i}`),
    etcdIps: masters === 1 ? [] : [0, 1, 2].map((i) => `${net}.${20 + i}`),
    specPath: props.specPath,
    dockerHost,
    image,
    namePrefix: props.namePrefix,
    masterPort: checkPort('masterPort', props.masterPort ?? DEFAULT_MASTER_PORT),
    masterPublishIp,
    dockerSocketPath,
    dockerSocketGid: props.dockerSocketGid,
    tokenVariableName,
    networkSubnet,
    gatewayIp: `${net}.1`,
    masterIp: `${net}.10`,
    agentDataRoot,
  };
}
