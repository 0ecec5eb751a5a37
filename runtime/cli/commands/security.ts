import type { Command } from 'commander';
import { addClientOptions, clientSettings } from '../client-flags.js';
import { printJson } from '../output.js';

/** The credential a security command calls with: the client's own, or (legacy) the shared token alone. */
function material(cmd: Command): { address: string; tls: { caPem: string; certPem?: string; keyPem?: string }; token: string | undefined; json: boolean } {
  const s = clientSettings(cmd);
  if (s.tls === undefined) {
    throw new Error('this command needs the grid CA and an admin certificate: give --tls-dir (or --tls-ca, --tls-cert, --tls-key)');
  }
  return { address: s.address, tls: s.tls, token: s.token, json: s.json };
}

/**
 * `sutra-grid token create|revoke`, `sutra-grid cert issue|revoke` and `sutra-grid join`: the grid's
 * credentials (issue 14). Tokens are printed once and never stored in plaintext anywhere.
 */
export function registerSecurityCommands(program: Command): void {
  const token = program.command('token').description('join tokens: one-time, expiring, for agents and clients');
  addClientOptions(
    token
      .command('create')
      .description('print a one-time join token, or with --api a bearer token of the HTTP API (admin)')
      .requiredOption('--role <role>', 'agent, reader, operator or admin (reader, operator or admin with --api)')
      .option('--ttl <duration>', 'how long the token may be used (default 1h; 7d with --api)')
      .option('--api', 'a reusable bearer token of the HTTP API and dashboard for the role, until it expires or `token revoke`'),
  ).action(async (opts: { role: string; ttl?: string; api?: boolean }, cmd: Command) => {
    const { createJoinToken } = await import('../../../client/index.js');
    const { parseDuration } = await import('../../../schema/index.js');
    const m = material(cmd);
    const ttlMs = opts.ttl === undefined ? 0 : parseDuration(opts.ttl, '--ttl');
    const t = await createJoinToken(m.address, m.tls, opts.role, ttlMs, m.token, { api: opts.api === true });
    if (m.json) return printJson(t);
    process.stdout.write(`${t.token}\n`);
    if (opts.api === true) {
      process.stderr.write(`API token ${t.tokenId} for role ${opts.role}, expires ${new Date(t.expiresAtMs).toISOString()}; revoke with: sutra-grid token revoke ${t.tokenId}\n`);
      process.stderr.write('use: Authorization: Bearer TOKEN on the HTTP API (https when the master runs with TLS), or paste it into the dashboard\n');
      return undefined;
    }
    process.stderr.write(`token ${t.tokenId} for role ${opts.role}, single use, expires ${new Date(t.expiresAtMs).toISOString()}\n`);
    const join = opts.role === 'agent' ? `sutra-grid agent --join TOKEN --master ${m.address} --ca-hash ${t.caHash} --id ID --data-dir DIR` : `sutra-grid join --token TOKEN --master ${m.address} --ca-hash ${t.caHash} --name NAME --out DIR`;
    process.stderr.write(`use: ${join}\n`);
  });
  addClientOptions(token.command('revoke').description('revoke an unused join token, or an API token, by its id (admin)').argument('<token-id>', 'the id printed by token create')).action(
    async (tokenId: string, _opts: unknown, cmd: Command) => {
      const { revokeJoinToken } = await import('../../../client/index.js');
      const m = material(cmd);
      await revokeJoinToken(m.address, m.tls, tokenId, m.token);
      process.stdout.write(`join token ${tokenId} revoked\n`);
    },
  );

  const cert = program.command('cert').description('certificates of the grid CA');
  addClientOptions(
    cert
      .command('revoke')
      .description('refuse a certificate (by serial) or every certificate of an agent, at once (admin)')
      .option('--serial <hex>', 'certificate serial')
      .option('--agent <id>', 'agent id'),
  ).action(async (opts: { serial?: string; agent?: string }, cmd: Command) => {
    const { revokeCredential } = await import('../../../client/index.js');
    const m = material(cmd);
    await revokeCredential(m.address, m.tls, { serial: opts.serial, agentId: opts.agent }, m.token);
    process.stdout.write(`revoked ${opts.serial !== undefined ? `certificate ${opts.serial}` : `agent ${opts.agent ?? '?'}`}\n`);
  });
  cert
    .command('issue')
    .description("issue a credential from the master's CA on the master's host (the first admin's, a bootstrap)")
    .requiredOption('--data-dir <dir>', "the master's data dir (holds the CA)")
    .requiredOption('--role <role>', 'reader, operator, admin, agent, or node (a storage-server run by hand, e.g. for --event-storage)')
    .requiredOption('--name <name>', 'who it is for (the agent id for an agent)')
    .requiredOption('--out <dir>', 'directory to write ca.pem, cert.pem, key.pem into (0600)')
    .option('--ttl <duration>', 'validity (default 24h)')
    .option('--tls-ca-cert <file>', "the operator's CA certificate, when the master was given one")
    .option('--tls-ca-key <file>', "the operator's CA key")
    .action(async (opts: { dataDir: string; role: string; name: string; out: string; ttl?: string; tlsCaCert?: string; tlsCaKey?: string }) => {
      const { issueCredentialFiles } = await import('../../master/pki/issue-files.js');
      const { parseDuration } = await import('../../../schema/index.js');
      const serial = await issueCredentialFiles({
        dataDir: opts.dataDir,
        role: opts.role,
        name: opts.name,
        out: opts.out,
        ttlMs: opts.ttl === undefined ? 86_400_000 : parseDuration(opts.ttl, '--ttl'),
        givenCa: opts.tlsCaCert !== undefined && opts.tlsCaKey !== undefined ? { certFile: opts.tlsCaCert, keyFile: opts.tlsCaKey } : undefined,
      });
      process.stdout.write(`issued ${opts.role} ${opts.name} (serial ${serial}) into ${opts.out}\n`);
    });

  program
    .command('join')
    .description('get a client credential with a join token (reader, operator or admin)')
    .requiredOption('--token <token>', 'the join token')
    .requiredOption('--master <addr>', 'master HOST:PORT')
    .requiredOption('--ca-hash <sha256:hex>', 'the grid CA hash printed by token create')
    .requiredOption('--name <name>', 'who you are (shown in the master log and PERMISSION_DENIED messages)')
    .requiredOption('--out <dir>', 'directory to write ca.pem, cert.pem, key.pem into (0600)')
    .action(async (opts: { token: string; master: string; caHash: string; name: string; out: string }) => {
      const { joinAsClient } = await import('../../common/pki/join-client.js');
      const role = await joinAsClient(opts);
      process.stdout.write(`joined as ${role} ${opts.name}; credential in ${opts.out} (use --tls-dir ${opts.out})\n`);
    });
}
