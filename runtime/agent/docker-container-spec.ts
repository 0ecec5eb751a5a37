/**
 * What a storage-node container looks like: command, limits, mounts, ports and the hardening every
 * node gets. Pure, so the security posture can be read (and tested) in one place.
 */
import type Dockerode from 'dockerode';
import { RuntimeError } from '../errors.js';
import { containerName, nodeLabels } from './docker-labels.js';
import type { NodeLaunchSpec } from './platform.js';
import { replicationArgs } from './replication-assignment.js';

/** Below this a Node.js storage-server cannot start reliably inside its memory cgroup. */
export const MIN_CONTAINER_MEMORY_MB = 64;

/** Where the node's storage path is mounted inside the container. */
export const CONTAINER_DATA_DIR = '/data';

/**
 * Where the node-token file is mounted (read-only) when the node must authenticate callers. It
 * holds the derived node token (node-token.ts), never the control-plane token.
 */
export const CONTAINER_TOKEN_FILE = '/run/sutra/token';

/**
 * Where the node's credential directory is mounted (read-only) when it speaks mutual TLS. The
 * directory, not its files: the agent renews a certificate by renaming new files into it, which a
 * file mount would not show, and the node takes them without a restart (node-tls.ts).
 */
export const CONTAINER_TLS_DIR = '/run/sutra/tls';

/** The lean storage-server entry inside the image (the root Dockerfile's /app layout). */
export const CONTAINER_STORAGE_ENTRY = '/app/dist/runtime/storage/main.js';

/**
 * How node containers reach the network.
 * - `bridge`: the container has its own network namespace; its port is published on the host at
 *   `publishHost:port`. The server must listen on 0.0.0.0 inside, so a token is required.
 * - `host`: the container shares the host's network and the server listens on 127.0.0.1 itself.
 */
export type DockerNetworkMode = 'bridge' | 'host';

/** Per-agent settings that shape every container. */
export interface ContainerSettings {
  readonly image: string;
  readonly grid: string;
  readonly agentId: string;
  readonly network: DockerNetworkMode;
  /** Host address published ports bind to (bridge mode). */
  readonly publishHost: string;
  /** Host path of the node-token file to mount, when callers must authenticate. */
  readonly tokenFile: string | undefined;
  /** Numeric `uid:gid` the server runs as; never root unless configured so (`[docker].user`). */
  readonly user: string;
}

/**
 * Refuses a launch spec the platform cannot honour, before anything is created. The field names
 * are the wire names (`memory_mb`, `port`) because that is what the caller typed.
 */
export function checkLaunchSpec(spec: NodeLaunchSpec): void {
  if (!Number.isInteger(spec.memoryMb) || spec.memoryMb < MIN_CONTAINER_MEMORY_MB) {
    throw new RuntimeError(
      'INVALID_ARGUMENT',
      `memory_mb: ${spec.memoryMb} MB is below the ${MIN_CONTAINER_MEMORY_MB} MB minimum of a container node`,
      { field: 'memory_mb', nodeId: spec.nodeId },
    );
  }
  if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535) {
    throw new RuntimeError('PORT_OUT_OF_RANGE', `port: ${spec.port} is not a TCP port (1-65535)`, { field: 'port', nodeId: spec.nodeId });
  }
}

/** The Engine's create request for one node. */
export function containerCreateOptions(settings: ContainerSettings, spec: NodeLaunchSpec): Dockerode.ContainerCreateOptions {
  const bytes = spec.memoryMb * 1024 * 1024;
  const portKey = `${spec.port}/tcp`;
  const bridged = settings.network === 'bridge';
  const cmd = [
    CONTAINER_STORAGE_ENTRY,
    '--port', String(spec.port),
    '--storage-path', CONTAINER_DATA_DIR,
    '--memory', String(spec.memoryMb),
    // Inside its own namespace the server must accept the forwarded connections on the bridge. On
    // the host's network it binds what the agent chose (beyond loopback only under mutual TLS).
    '--host', bridged ? '0.0.0.0' : (spec.host ?? '127.0.0.1'),
    ...replicationArgs(spec),
  ];
  // Structured mounts, not `src:dst:opts` bind strings: no character of a path can add a field.
  const mounts: Dockerode.MountSettings[] = [{ Type: 'bind', Source: spec.storagePath, Target: CONTAINER_DATA_DIR, ReadOnly: false }];
  if (settings.tokenFile !== undefined) {
    cmd.push('--token-file', CONTAINER_TOKEN_FILE);
    mounts.push({ Type: 'bind', Source: settings.tokenFile, Target: CONTAINER_TOKEN_FILE, ReadOnly: true });
  }
  if (spec.tlsDir !== undefined) {
    // Paths only: the key never travels in argv or env.
    cmd.push('--tls-dir', CONTAINER_TLS_DIR, ...(spec.agentId !== undefined ? ['--agent-id', spec.agentId] : []));
    mounts.push({ Type: 'bind', Source: spec.tlsDir, Target: CONTAINER_TLS_DIR, ReadOnly: true });
  }
  return {
    name: containerName(settings.agentId, spec.nodeId),
    Image: settings.image,
    // The lean entry, not the CLI: start-up time is on the spawn-to-running path.
    Entrypoint: ['node'],
    Cmd: cmd,
    User: settings.user,
    Labels: nodeLabels(settings.grid, settings.agentId, spec),
    Env: ['NODE_ENV=production'],
    ...(bridged ? { ExposedPorts: { [portKey]: {} } } : {}),
    HostConfig: {
      NetworkMode: bridged ? 'bridge' : 'host',
      ...(bridged ? { PortBindings: { [portKey]: [{ HostIp: settings.publishHost, HostPort: String(spec.port) }] } } : {}),
      Mounts: mounts,
      Memory: bytes,
      // Equal to Memory: no swap, so the limit is the limit.
      MemorySwap: bytes,
      // The supervisor owns restarts; an Engine restart would hide crashes from it.
      RestartPolicy: { Name: 'no' },
      Privileged: false,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,noexec,nosuid,size=16m' },
      PidsLimit: 256,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
    },
  };
}
