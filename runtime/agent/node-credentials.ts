/**
 * Certificates of the agent's storage nodes under mutual TLS (issue 14). For each node the agent
 * makes a key, sends only a CSR to the master (GridSecurity.IssueNodeCertificate, with the agent's
 * own certificate), and writes key, certificate and CA into `<data_path>/.agent/node-tls/<node id>`
 * (0700; files 0600, written whole), the directory the node is started with (`--tls-dir`). The
 * agent renews each certificate at half its life; the node watches its files and takes the new one
 * without a restart. The directory is the agent's, not the node's storage directory, where a node
 * could plant a symlink for the agent to write through. A node running as another user (a container
 * node's `[docker].user`) is handed the files, never the directory (credential-dir.ts).
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import { issueNodeCertificate } from '../../client/index.js';
import { clientChannelOptions, TLS_CHANNEL_OPTIONS, tlsChannelCredentials, type TlsSource } from '../../client/transport.js';
import { certNotAfter, createCsr, newPrivateKeyAsync } from '../common/pki/certs.js';
import { grantCredentialDir, writeCredentialDir, type CredentialReader } from '../common/pki/credential-dir.js';
import type { Logger } from '../common/logger.js';

/** How often the agent looks for node certificates past half their life (ms). */
const SWEEP_MS = 1000;

/** Where the nodes' credential directories live. */
export function nodeTlsRoot(dataPath: string): string {
  return join(dataPath, '.agent', 'node-tls');
}

/** Where node `nodeId`'s credential lives. */
export function nodeTlsDir(dataPath: string, nodeId: string): string {
  return join(nodeTlsRoot(dataPath), nodeId);
}

/** The agent's side of its nodes' certificates. */
export class NodeCredentials {
  /** Node id -> [issued at, expires at] (ms) of the certificate on disk. */
  readonly #life = new Map<string, { fromMs: number; toMs: number }>();
  /** Node id -> a renewal in flight. */
  readonly #pending = new Map<string, Promise<string>>();
  /** Nodes whose files on disk were handed to the reader since the agent started. */
  readonly #granted = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #renewals = 0;

  constructor(
    /** The agent's own credential (it authenticates the request to the master). */
    readonly agent: TlsSource,
    private readonly master: string,
    private readonly dataPath: string,
    private readonly logger: Logger,
    /** The user nodes run as when it is not the agent's own (a root agent's container nodes). */
    private readonly reader?: CredentialReader,
  ) {}

  /** How many node certificates were renewed (not first issued) since the agent started. */
  get renewals(): number {
    return this.#renewals;
  }

  /**
   * The credential directory of `nodeId`, with a certificate not past half its life: the one on
   * disk, or a new one from the master. When the master cannot be reached, a certificate on disk
   * that is still valid is used as it is (a node restarts while the master is away).
   * @throws the client layer's error when there is no valid certificate and the master refuses or is away.
   */
  async ensure(nodeId: string): Promise<string> {
    const dir = nodeTlsDir(this.dataPath, nodeId);
    const life = this.#life.get(nodeId) ?? this.readLife(nodeId);
    const now = Date.now();
    if (life !== undefined && now < life.fromMs + (life.toMs - life.fromMs) / 2) return this.granted(nodeId, dir);
    try {
      return await this.issue(nodeId, life !== undefined);
    } catch (err) {
      if (life !== undefined && now < life.toMs) {
        this.logger.warn({ nodeId, err: (err as Error).message }, 'node certificate renewal failed; the current one is still valid');
        return this.granted(nodeId, dir);
      }
      throw err;
    }
  }

  /** Renews, every second from now on, the certificates of `nodes()` past half their life. */
  startRenewal(nodes: () => readonly string[]): void {
    this.#timer ??= setInterval(() => {
      for (const id of nodes()) void this.ensure(id).catch((err: unknown) => this.logger.warn({ nodeId: id, err: (err as Error).message }, 'node certificate renewal failed'));
    }, SWEEP_MS);
    this.#timer.unref();
  }

  /** Forgets a node that is gone for good (its directory is removed). */
  forget(nodeId: string): void {
    this.#life.delete(nodeId);
    this.#granted.delete(nodeId);
    rmSync(nodeTlsDir(this.dataPath, nodeId), { recursive: true, force: true });
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** How the agent dials node `nodeId`: its own certificate, expecting that node's. */
  dial(nodeId: string, extra: ChannelOptions = {}): { credentials: ChannelCredentials; options: ChannelOptions; version: number } {
    return { credentials: tlsChannelCredentials(this.agent, { role: 'node', name: nodeId }), options: clientChannelOptions({ ...TLS_CHANNEL_OPTIONS, ...extra }), version: this.agent.version };
  }

  /**
   * `dir`, its files owned as the node needs them: a credential left by an earlier run may have been
   * written for another user. Once per node and agent run (ensure() runs every sweep).
   */
  private granted(nodeId: string, dir: string): string {
    if (!this.#granted.has(nodeId)) {
      grantCredentialDir(dir, this.reader);
      this.#granted.add(nodeId);
    }
    return dir;
  }

  private readLife(nodeId: string): { fromMs: number; toMs: number } | undefined {
    const path = join(nodeTlsDir(this.dataPath, nodeId), 'cert.pem');
    try {
      const toMs = certNotAfter(readFileSync(path, 'utf8')).getTime();
      // Its life counts from when it was written (notBefore is backdated for clock skew).
      const life = { fromMs: statSync(path).mtimeMs, toMs };
      this.#life.set(nodeId, life);
      return life;
    } catch {
      return undefined;
    }
  }

  private issue(nodeId: string, renewal: boolean): Promise<string> {
    let p = this.#pending.get(nodeId);
    if (p !== undefined) return p;
    p = (async () => {
      const keyPem = await newPrivateKeyAsync();
      const out = await issueNodeCertificate(this.master, this.agent.material, nodeId, createCsr(keyPem, nodeId));
      const dir = nodeTlsDir(this.dataPath, nodeId);
      writeCredentialDir(dir, { caPem: out.caPem, certPem: out.certPem, keyPem }, this.reader);
      this.#granted.add(nodeId);
      this.#life.delete(nodeId);
      this.readLife(nodeId);
      if (renewal) {
        this.#renewals++;
        this.logger.info({ nodeId }, 'node certificate renewed');
      }
      return dir;
    })().finally(() => this.#pending.delete(nodeId));
    this.#pending.set(nodeId, p);
    return p;
  }
}
