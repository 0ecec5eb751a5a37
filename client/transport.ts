/**
 * The client layer's light entry: calls, deadlines, retries, the token, the wire's size limits and
 * the master's address, without the generated service code. The daemons (the agent calling its
 * master, the master calling its agents, the storage-server reading its token) use this one, so a
 * storage node does not load the GridMaster client at start-up.
 */
export { authMetadata, deadline, insecureCredentials, unary, withRetry, isRetryableStatus, DEFAULT_RETRY, type RetryOptions } from './grpc-call.js';
export {
  MAX_SPEC_BYTES,
  MAX_REQUEST_BYTES,
  MAX_RESPONSE_BYTES,
  checkSpecSize,
  specSizeProblem,
  clientChannelOptions,
  serverChannelOptions,
  formatBytes,
} from './wire-limits.js';
export { bearer, resolveToken, tokensEqual, TOKEN_METADATA_KEY, type TokenSource } from './token.js';
export { DEFAULT_MASTER_ADDRESS, DEFAULT_MASTER_PORT, masterAddress } from './master-address.js';
export { channelTarget } from './channel-target.js';
export { backoffDelay, sleep } from './backoff.js';
export { splitMasters, leaderHint, nextMaster } from './leader-hint.js';
export { ClientError, type ClientErrorCode, type GrpcStatusName } from './errors.js';
export { statusName } from '../errors/index.js';
export { TlsSource, tlsChannelCredentials, checkGridPeer, loadTlsFiles, TLS_CHANNEL_OPTIONS, type TlsMaterial, type TlsFiles, type ExpectedPeer } from './tls.js';
export {
  GRID_ROLES,
  identityFromAltNames,
  identityUri,
  isGridRole,
  isIdentityName,
  parseIdentityUri,
  type GridIdentity,
  type GridRole,
} from './grid-identity.js';
