import type { Construct } from 'constructs';
import { Container, type ContainerConfig } from '@cdktf/provider-docker/lib/container/index.js';
import type { Network } from '@cdktf/provider-docker/lib/network/index.js';
import { Volume } from '@cdktf/provider-docker/lib/volume/index.js';
import type { GridCredentials } from './grid-credentials.js';
import { LAYOUT, type CompiledDockerStackProps } from './props.js';

type Label = { label: string; value: string };

/** What every master container shares with the others. */
export interface MasterContext {
  readonly p: CompiledDockerStackProps;
  readonly prefix: string;
  readonly network: Network;
  readonly labels: (extra: Record<string, string>) => Label[];
  readonly hardening: Pick<ContainerConfig, 'capabilities' | 'securityOpts' | 'tmpfs' | 'privileged'>;
  readonly tokenUpload: { file: string; content: string };
  readonly credentials: GridCredentials;
}

/** The TLS flags of a caller that checks the masters: the CA certificate (plus the shared token). */
export function callerTlsArgs(p: CompiledDockerStackProps): string[] {
  return p.tls ? ['--tls-ca', LAYOUT.caCertFile] : [];
}

/**
 * etcd of three containers on the grid network at fixed addresses, bootstrapped statically (every
 * peer URL known at synth time), each with its own volume. Plaintext on the private bridge, not
 * published on the host.
 */
export function createEtcd(scope: Construct, c: MasterContext): Container[] {
  const { p, prefix } = c;
  const names = p.etcdIps.map((_, i) => `${prefix}-etcd-${i}`);
  const cluster = p.etcdIps.map((ip, i) => `${names[i]}=http://${ip}:${LAYOUT.etcdPeerPort}`).join(',');
  return p.etcdIps.map((ip, i) => {
    const name = names[i]!;
    const data = new Volume(scope, `etcd_data_${i}`, { name: `${name}-data`, labels: c.labels({}) });
    return new Container(scope, `etcd_${i}`, {
      ...c.hardening,
      name,
      hostname: name,
      image: p.etcdImage,
      command: [
        'etcd', '--name', name, '--data-dir', `${LAYOUT.etcdDataDir}/data`,
        '--listen-client-urls', `http://0.0.0.0:${LAYOUT.etcdClientPort}`, '--advertise-client-urls', `http://${ip}:${LAYOUT.etcdClientPort}`,
        '--listen-peer-urls', `http://0.0.0.0:${LAYOUT.etcdPeerPort}`, '--initial-advertise-peer-urls', `http://${ip}:${LAYOUT.etcdPeerPort}`,
        '--initial-cluster', cluster, '--initial-cluster-state', 'new', '--initial-cluster-token', `${prefix}-etcd`,
      ],
      labels: c.labels({ 'sutra-grid.io/role': 'etcd' }),
      networksAdvanced: [{ name: c.network.name, aliases: [name], ipv4Address: ip }],
      volumes: [{ volumeName: data.name, containerPath: LAYOUT.etcdDataDir }],
      restart: 'unless-stopped',
      destroyGraceSeconds: 30,
    });
  });
}

/**
 * The master containers: one with its state in files, or three on the etcd, each advertising its
 * fixed address and published on its own host port (masterPort + i).
 */
export function createMasters(scope: Construct, c: MasterContext, etcd: readonly Container[]): Container[] {
  const { p, prefix } = c;
  const tokenArgs = ['--token-file', LAYOUT.tokenFile];
  // Explicit either way: `--tls auto` would turn TLS on for 0.0.0.0 with a CA of the master's own.
  const tlsArgs = p.tls ? ['--tls', 'on', '--tls-ca-cert', LAYOUT.caCertFile, '--tls-ca-key', LAYOUT.caKeyFile] : ['--tls', 'off'];
  const store = p.masters > 1 ? ['--store', `etcd://${p.etcdIps.map((ip) => `${ip}:${LAYOUT.etcdClientPort}`).join(',')}`] : [];
  const files = c.credentials.master();
  return p.masterIps.map((ip, i) => {
    // The first master keeps the names a single-master stack always had.
    const name = i === 0 ? `${prefix}-master` : `${prefix}-master-${i}`;
    const data = new Volume(scope, i === 0 ? 'master_data' : `master_data_${i}`, { name: `${name}-data`, labels: c.labels({}) });
    return new Container(scope, i === 0 ? 'master' : `master_${i}`, {
      ...c.hardening,
      name,
      hostname: name,
      image: p.image,
      command: [
        'master', '--listen', `0.0.0.0:${LAYOUT.masterPort}`, '--data-dir', LAYOUT.masterDataDir, ...tokenArgs, ...tlsArgs,
        ...store, ...(p.masters > 1 ? ['--advertise', `${ip}:${LAYOUT.masterPort}`] : []),
      ],
      labels: c.labels({ 'sutra-grid.io/role': 'master' }),
      networksAdvanced: [{ name: c.network.name, aliases: [name], ipv4Address: ip }],
      ports: [{ internal: LAYOUT.masterPort, external: p.masterPort + i, ip: p.masterPublishIp, protocol: 'tcp' }],
      volumes: [{ volumeName: data.name, containerPath: LAYOUT.masterDataDir }, ...files.volumes],
      upload: [c.tokenUpload, ...files.upload],
      restart: 'unless-stopped',
      destroyGraceSeconds: 30,
      // `wait` holds `terraform apply` until this check passes, so agents and the apply step
      // start against a master that answers (a follower answers status by asking the leader).
      healthcheck: {
        test: ['CMD', ...LAYOUT.cli, 'status', '--master', `127.0.0.1:${LAYOUT.masterPort}`, ...tokenArgs, ...callerTlsArgs(p)],
        // Each check starts a Node.js CLI: every 10 s keeps that cost small.
        interval: '10s',
        timeout: '5s',
        startPeriod: '10s',
        retries: 3,
      },
      wait: true,
      waitTimeout: 120,
      ...(etcd.length > 0 ? { dependsOn: [...etcd] } : {}),
    });
  });
}
