/**
 * The runtime layer's public face for other layers (providers, benchmarks): errors and the client
 * side of the wire (token metadata, deadlines, retries). Kept light on purpose: the daemons have their
 * own barrels (`master/`, `agent/`, `storage/`, `events/`), so a client does not load them.
 */
export { GridError, ConfigError, ShutdownTimeoutError, grpcStatusOf, isRetryableStatus, type RuntimeErrorCode, type ErrorContext } from './errors.js';
export { authMetadata, deadline, insecureCredentials, unary, withRetry, statusName, DEFAULT_RETRY, type RetryOptions } from './common/grpc-client.js';
export { MAX_SPEC_BYTES, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, checkSpecSize, specSizeProblem, clientChannelOptions } from './common/grpc-limits.js';
export { bearer, resolveToken, tokensEqual, TOKEN_METADATA_KEY } from './common/token.js';
export { createLogger, silentLogger, type Logger } from './common/logger.js';
export { DEFAULT_MASTER_ADDRESS, masterAddress } from './common/master-address.js';
