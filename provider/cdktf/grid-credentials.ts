import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TerraformVariable, type TerraformStack } from 'cdktf';
import type { ContainerUpload, ContainerVolumes } from '@cdktf/provider-docker/lib/container/index.js';
import { GridCdktfError } from './errors.js';
import { LAYOUT, type CompiledDockerStackProps } from './props.js';

type Upload = ContainerUpload;
type Bind = ContainerVolumes;

/**
 * How each container gets the TLS credential: files only, never env. From a host directory
 * (bind mounts, nothing secret in Terraform's configuration or state), or from sensitive
 * variables uploaded as files (the Docker provider then keeps their values in Terraform's state).
 */
export interface GridCredentials {
  /** The CA certificate's text (public), read at synth time; undefined without TLS. */
  readonly caCertPem: string | undefined;
  /** `sha256:` of the CA certificate: the `--ca-hash` agents pin. */
  readonly caHash: string | undefined;
  /** Files and mounts of a master: CA certificate and key. */
  master(): { upload: Upload[]; volumes: Bind[] };
  /** Files and mounts of agent `id`: its own join token only. */
  agent(id: string): { upload: Upload[]; volumes: Bind[] };
  /** Files of a caller that checks the masters (the apply step, health checks): the CA certificate. */
  caller(): Upload[];
}

function readCaCert(path: string): { pem: string; hash: string } {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new GridCdktfError('CDKTF_INVALID_PROPS', 'caCertPath', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return { pem, hash: `sha256:${createHash('sha256').update(new X509Certificate(pem).raw).digest('hex')}` };
  } catch (err) {
    throw new GridCdktfError('CDKTF_INVALID_PROPS', 'caCertPath', `${path} is not a PEM certificate: ${(err as Error).message}`, { cause: err });
  }
}

export function gridCredentials(stack: TerraformStack, p: CompiledDockerStackProps): GridCredentials {
  if (!p.tls || p.caCertPath === undefined) {
    const none = { upload: [], volumes: [] };
    return { caCertPem: undefined, caHash: undefined, master: () => none, agent: () => none, caller: () => [] };
  }
  const ca = readCaCert(p.caCertPath);
  const caUpload: Upload = { file: LAYOUT.caCertFile, content: ca.pem };
  const dir = p.credentialHostDir;
  if (dir !== undefined) {
    const bind = (hostPath: string, containerPath: string): Bind => ({ hostPath, containerPath, readOnly: true });
    return {
      caCertPem: ca.pem,
      caHash: ca.hash,
      master: () => ({ upload: [caUpload], volumes: [bind(`${dir}/ca-key.pem`, LAYOUT.caKeyFile)] }),
      agent: (id) => ({ upload: [], volumes: [bind(`${dir}/join/${id}`, LAYOUT.joinFile)] }),
      caller: () => [caUpload],
    };
  }
  const caKey = new TerraformVariable(stack, 'grid_ca_key', {
    type: 'string',
    sensitive: true,
    nullable: false,
    description: 'PEM private key of the grid CA (TF_VAR_grid_ca_key). Uploaded into the masters as a file; Terraform state keeps it: encrypt the backend, or give credentialHostDir.',
  });
  new TerraformVariable(stack, 'agent_join_tokens', {
    type: 'map(string)',
    sensitive: true,
    default: {},
    description: 'One-time join token per docker agent id (sutra-grid token create --role agent), uploaded into that agent only.',
  });
  return {
    caCertPem: ca.pem,
    caHash: ca.hash,
    master: () => ({ upload: [caUpload, { file: LAYOUT.caKeyFile, content: caKey.stringValue }], volumes: [] }),
    // An agent whose token is missing fails at plan time, naming the key, rather than joining with ''.
    agent: (id) => ({ upload: [{ file: LAYOUT.joinFile, content: `\${var.agent_join_tokens["${id}"]}` }], volumes: [] }),
    caller: () => [caUpload],
  };
}
