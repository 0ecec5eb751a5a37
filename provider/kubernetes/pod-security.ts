import type * as k8s from '@pulumi/kubernetes';
import { LAYOUT, NAMES } from './props.js';

type PodSecurityContext = k8s.types.input.core.v1.PodSecurityContext;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;
type Volume = k8s.types.input.core.v1.Volume;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;

/**
 * Pod-level context meeting the Kubernetes "restricted" Pod Security Standard: a fixed non-root
 * UID, and fsGroup so the master's PVC is writable by that UID without a chown step.
 */
export function podSecurityContext(uid: number): PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/**
 * Container-level context: no privilege escalation, no capabilities, read-only root filesystem
 * (everything the grid writes goes to its data dir or /tmp, both volumes).
 */
export function containerSecurityContext(): SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ['ALL'] },
  };
}

/** The token Secret as a file: mode 0440, readable by the grid through fsGroup, by nobody else. */
export function tokenVolume(): Volume {
  return {
    name: 'token',
    secret: { secretName: NAMES.token, defaultMode: 0o440, items: [{ key: 'token', path: 'token' }] },
  };
}

/** Where containers find the token file (`--token-file`), read-only. */
export function tokenMount(): VolumeMount {
  return { name: 'token', mountPath: LAYOUT.tokenDir, readOnly: true };
}

/** Writable scratch space, since the root filesystem is read-only. */
export function tmpVolume(): Volume {
  return { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } };
}

/** Mounts {@link tmpVolume} at /tmp. */
export function tmpMount(): VolumeMount {
  return { name: 'tmp', mountPath: LAYOUT.tmpDir };
}

/** A Secret as read-only files, 0440 (readable by the grid through fsGroup, by nobody else). */
export function secretVolume(name: string, secretName: string, items?: { key: string; path: string }[]): Volume {
  return { name, secret: { secretName, defaultMode: 0o440, ...(items !== undefined ? { items } : {}) } };
}

/** Mounts a {@link secretVolume} read-only at `mountPath`. */
export function secretMount(name: string, mountPath: string): VolumeMount {
  return { name, mountPath, readOnly: true };
}

/**
 * Probes of a gRPC port. Kubernetes' native gRPC probe speaks plaintext only, so behind mutual TLS
 * a probe can only check that the port accepts connections.
 */
export function grpcPortProbe(port: number, tls: boolean): { grpc: { port: number } } | { tcpSocket: { port: number } } {
  return tls ? { tcpSocket: { port } } : { grpc: { port } };
}
