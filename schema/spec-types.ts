/**
 * The user-facing spec types, derived from the JSON Schema (never written by hand), so the schema
 * editors see and the types the code sees cannot drift apart.
 */
import type { FromSchema } from 'json-schema-to-ts';
import type { gridSchema } from './grid-schema.generated.js';

/** A grid spec as the user writes it: every defaulted property optional. */
export type GridSpecInput = FromSchema<typeof gridSchema, { keepDefaultedPropertiesOptional: true }>;

/**
 * A grid spec after schema defaults were applied: every property with a schema `default` present.
 * Properties whose default depends on another value (a cluster's memory) stay optional.
 */
export type GridSpecDefaulted = FromSchema<typeof gridSchema>;

/** One entry of `agents` as written. */
export type AgentSpecInput = GridSpecInput['agents'][number];

/** One entry of `clusters` as written. */
export type ClusterSpecInput = NonNullable<GridSpecInput['clusters']>[number];

/** A memory size as written: `"512Mi"`, `"2Gi"`, or an integer of MiB. */
export type SizeInput = string | number;
