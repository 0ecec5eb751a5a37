/**
 * The runtime layer's public face for other layers (providers, benchmarks): errors and the client
 * side of the wire (token metadata, deadlines, retries). Kept light on purpose: the daemons have their
 * own barrels (`master/`, `agent/`, `storage/`, `events/`), so a client does not load them.
 */
export { GridError, RuntimeError, ConfigError, ShutdownTimeoutError, grpcStatusOf, type RuntimeErrorCode, type ErrorContext } from './errors.js';
export { createLogger, silentLogger, type Logger } from './common/logger.js';
