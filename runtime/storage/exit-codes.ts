/**
 * Exit codes of the bundled storage-server (runtime/storage/main.ts). Agents read them to tell a
 * node that could not bind its port apart from one that crashed: the first is moved to another port
 * of the agent's range, the second goes through the restart policy.
 */

/** Bad flags, an unreadable store, or any other failure to start or run. */
export const EXIT_FAILED = 1;

/**
 * The port was held by another process (EADDRINUSE). 98 is EADDRINUSE's errno on Linux; a custom
 * `[storage].binary_path` should exit with it too, or the agent has to find out by probing the port.
 */
export const EXIT_PORT_TAKEN = 98;
