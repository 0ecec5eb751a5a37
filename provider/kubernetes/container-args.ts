import { LAYOUT } from './props.js';

/**
 * The `sutra-grid` command lines of the grid's containers (the image's entrypoint is the CLI).
 * Pure, so tests can run exactly these against real daemons.
 */

/** The master: all interfaces of its pod, data on the PVC, token from the Secret. */
export function masterArgs(): string[] {
  return ['master', '--listen', `0.0.0.0:${LAYOUT.masterPort}`, '--data-dir', LAYOUT.masterDataDir, '--token-file', LAYOUT.tokenFile];
}

/**
 * An agent. `$(VAR)` is expanded by Kubernetes from the container's env (downward API), no shell
 * involved. Listening on the pod IP rather than 0.0.0.0 makes that IP the address the agent
 * reports to the master.
 */
export function agentArgs(masterAddress: string): string[] {
  return [
    'agent',
    '--id', '$(NODE_NAME)',
    '--master', masterAddress,
    '--listen', `$(POD_IP):${LAYOUT.agentPort}`,
    '--data-dir', LAYOUT.agentDataDir,
    '--token-file', LAYOUT.tokenFile,
  ];
}

/** The apply Job: the spec from the ConfigMap, applied without a prompt. */
export function applyArgs(masterAddress: string): string[] {
  return ['apply', LAYOUT.specFile, '--master', masterAddress, '--auto-approve', '--token-file', LAYOUT.tokenFile];
}
