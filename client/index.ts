/**
 * The client layer: everything that talks to a master from outside it (the CLI, the Pulumi
 * provider, the benchmarks) and the transport the daemons share (see transport.ts).
 */
export * from './transport.js';
