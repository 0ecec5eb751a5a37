/**
 * GridDockerStack with mutual TLS (the default) and with three masters on an etcd of three,
 * synthesized to Terraform JSON: synthesis is the whole contract of a cdktf stack; no Terraform
 * binary or Docker Engine runs here. What a real master does with these flags is
 * master-contract.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { afterAll, describe, expect, it } from 'vitest';
import { GridDockerStack, type GridDockerStackProps } from '../../provider/cdktf/index.js';
import { caHash, createCa } from '../../runtime/common/pki/certs.js';

const FIXTURE = 'test/cdktf/fixtures/docker-grid.yaml';
const tmp = mkdtempSync(join(tmpdir(), 'grid-cdktf-tls-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const CA = createCa('cdktf test CA');
const caCertPath = join(tmp, 'ca.pem');
writeFileSync(caCertPath, CA.certPem);
const KEY_CANARY = CA.keyPem.split('\n')[5]!;

function synth(props: Partial<GridDockerStackProps> = {}): Record<string, any> {
  return JSON.parse(Testing.synth(new GridDockerStack(Testing.app(), 'grid', { specPath: FIXTURE, caCertPath, ...props })));
}

describe('GridDockerStack with TLS from sensitive variables (the default)', () => {
  const tf = synth();
  const c = tf.resource.docker_container;

  it('starts the master with TLS on from the CA uploaded as files, never in env', () => {
    expect(c.master.command).toEqual(expect.arrayContaining(['--tls', 'on', '--tls-ca-cert', '/run/secrets/sutra-grid/ca.pem', '--tls-ca-key', '/run/secrets/sutra-grid/ca-key.pem']));
    const uploads = Object.fromEntries((c.master.upload as { file: string; content: string }[]).map((u) => [u.file, u.content]));
    expect(uploads['/run/secrets/sutra-grid/ca.pem']).toBe(CA.certPem);
    expect(uploads['/run/secrets/sutra-grid/ca-key.pem']).toBe('${var.grid_ca_key}');
    expect(tf.variable.grid_ca_key).toMatchObject({ sensitive: true, type: 'string' });
    expect(tf.variable.agent_join_tokens).toMatchObject({ sensitive: true, type: 'map(string)' });
    for (const container of Object.values(c) as any[]) expect(container.env ?? []).not.toEqual(expect.arrayContaining([expect.stringMatching(/KEY|TOKEN=/)]));
  });

  it('lets each agent join with its own token, uploaded as a file, pinning the CA hash', () => {
    const agent = c['agent_docker-a'];
    expect(agent.command).toEqual(expect.arrayContaining(['--join-file', '/run/secrets/sutra-grid/join-token', '--ca-hash', caHash(CA.certPem)]));
    expect(agent.upload).toEqual(expect.arrayContaining([{ file: '/run/secrets/sutra-grid/join-token', content: '${var.agent_join_tokens["docker-a"]}' }]));
    expect(JSON.stringify(c['agent_docker-b'].upload)).not.toContain('docker-a');
    // The apply step checks the master with the CA certificate.
    expect(c.apply.command).toEqual(expect.arrayContaining(['--tls-ca', '/run/secrets/sutra-grid/ca.pem']));
    expect(tf.output.ca_hash.value).toBe(caHash(CA.certPem));
  });

  it('never puts the CA key in the synthesized configuration', () => {
    expect(JSON.stringify(tf)).not.toContain(KEY_CANARY);
  });

  it('refuses TLS without a CA certificate, naming the prop', () => {
    expect(() => synth({ caCertPath: undefined })).toThrow(expect.objectContaining({ code: 'CDKTF_INVALID_PROPS', field: 'caCertPath' }));
    expect(() => synth({ masters: 2 as 3 })).toThrow(expect.objectContaining({ field: 'masters' }));
    expect(() => synth({ credentialHostDir: 'relative' })).toThrow(expect.objectContaining({ field: 'credentialHostDir' }));
  });

  it('deploys the masters alone first when deployAgents is false (join tokens come from them)', () => {
    const first = synth({ deployAgents: false }).resource.docker_container;
    expect(Object.keys(first)).toEqual(['master']);
  });
});

describe('GridDockerStack with credentials from a host directory', () => {
  const tf = synth({ credentialHostDir: '/etc/sutra-grid/creds/' });
  const c = tf.resource.docker_container;

  it('bind-mounts the CA key into the masters and each token into its own agent, read-only, with no secret variable', () => {
    expect(c.master.volumes).toEqual(expect.arrayContaining([{ host_path: '/etc/sutra-grid/creds/ca-key.pem', container_path: '/run/secrets/sutra-grid/ca-key.pem', read_only: true }]));
    expect(c['agent_docker-a'].volumes).toEqual(expect.arrayContaining([{ host_path: '/etc/sutra-grid/creds/join/docker-a', container_path: '/run/secrets/sutra-grid/join-token', read_only: true }]));
    expect(JSON.stringify(c['agent_docker-a'])).not.toContain('ca-key');
    expect(tf.variable.grid_ca_key).toBeUndefined();
    expect(tf.variable.agent_join_tokens).toBeUndefined();
  });
});

describe('GridDockerStack with three masters on an etcd of three', () => {
  const tf = synth({ masters: 3 });
  const c = tf.resource.docker_container;
  const masters = '172.31.250.10:7000,172.31.250.11:7000,172.31.250.12:7000';

  it('runs three etcd members with their own volumes, listed statically, unpublished', () => {
    for (const i of [0, 1, 2]) {
      const e = c[`etcd_${i}`];
      expect(e.image).toBe('quay.io/coreos/etcd:v3.5.15');
      expect(e.command).toEqual(expect.arrayContaining(['--initial-cluster', 'sutra-grid-dock-etcd-0=http://172.31.250.20:2380,sutra-grid-dock-etcd-1=http://172.31.250.21:2380,sutra-grid-dock-etcd-2=http://172.31.250.22:2380']));
      expect(e.networks_advanced[0].ipv4_address).toBe(`172.31.250.${20 + i}`);
      expect(e.ports).toBeUndefined();
    }
    expect(Object.keys(tf.resource.docker_volume).sort()).toEqual(['etcd_data_0', 'etcd_data_1', 'etcd_data_2', 'master_data', 'master_data_1', 'master_data_2']);
  });

  it('runs three masters on etcd, each advertising its address and published on its own port', () => {
    for (const [i, id] of ['master', 'master_1', 'master_2'].entries()) {
      const m = c[id];
      expect(m.command).toEqual(expect.arrayContaining([
        '--store', 'etcd://172.31.250.20:2379,172.31.250.21:2379,172.31.250.22:2379', '--advertise', `172.31.250.${10 + i}:7000`,
      ]));
      expect(m.ports).toEqual([{ internal: 7000, external: 7000 + i, ip: '127.0.0.1', protocol: 'tcp' }]);
      expect(m.depends_on).toEqual(['docker_container.etcd_0', 'docker_container.etcd_1', 'docker_container.etcd_2']);
    }
  });

  it('gives agents and the apply step every master, and outputs every published address', () => {
    expect(c['agent_docker-a'].command[c['agent_docker-a'].command.indexOf('--master') + 1]).toBe(masters);
    expect(c.apply.command[c.apply.command.indexOf('--master') + 1]).toBe(masters);
    expect(tf.output.master_address.value).toBe('127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002');
  });
});
