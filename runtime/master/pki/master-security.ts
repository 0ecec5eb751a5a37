/**
 * Puts the master's mutual TLS together from its options: the PKI, the guard of every call, the
 * GridSecurity service and the server's TLS settings. Nothing here when TLS is off.
 */
import type { UntypedServiceImplementation, ServiceDefinition } from '@grpc/grpc-js';
import type { CallGuard } from '../../common/call-guard.js';
import { splitHostPort, type ServerTls } from '../../common/grpc-server.js';
import type { Logger } from '../../common/logger.js';
import { createSecurityService, type NodePlacement } from '../handlers/security-service.js';
import type { CompiledMasterOptions } from '../master-options.js';
import { GridPki } from './grid-pki.js';
import type { CredentialStore } from './credential-store.js';

/** The master's security parts when TLS is on. */
export interface MasterSecurity {
  readonly pki: GridPki;
  readonly guard: CallGuard;
  readonly tls: ServerTls;
  readonly services: ReadonlyArray<{ definition: ServiceDefinition; impl: UntypedServiceImplementation }>;
}

/**
 * Builds the master's security for `o`, or undefined when TLS is off. `onRotated` runs after each
 * renewal of the master's certificate (the master re-dials its agents with it); `placement` says
 * which agent runs a node, the only one its certificate is issued to. `credentials` is the store
 * several masters share (etcd); it is read whole here, before the master serves, and followed from
 * then on (the caller closes it). @default the file in the data dir
 */
export async function masterSecurity(o: CompiledMasterOptions, masterId: string, logger: Logger, onRotated: () => void, placement: NodePlacement, credentials?: CredentialStore): Promise<MasterSecurity | undefined> {
  if (!o.tls.enabled) return undefined;
  await credentials?.open();
  const { host } = splitHostPort(o.listen);
  const hosts = [...new Set([host.replace(/^\[|\]$/g, ''), '127.0.0.1', 'localhost'].filter((h) => h !== '0.0.0.0' && h !== '::'))];
  const pki = new GridPki({ dataDir: o.dataDir, masterId, hosts, certTtlMs: o.tls.certTtlMs, givenCa: o.tls.givenCa, credentials });
  pki.startRotation(() => {
    logger.info(`master certificate renewed (rotation ${pki.rotations})`);
    onRotated();
  });
  const guard = pki.guard(o.token);
  logger.info({ caHash: pki.caHash }, `mutual TLS on: agents join with --ca-hash ${pki.caHash}`);
  return { pki, guard, tls: { source: pki.source, requireClientCert: false }, services: [createSecurityService(pki, guard, logger, placement)] };
}
