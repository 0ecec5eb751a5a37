/**
 * Applies a grid spec (by default examples/local/grid.yaml) to a running master with the `Grid`
 * dynamic resource, and exports where every node landed. See README.md for the commands.
 */
import * as pulumi from '@pulumi/pulumi';
import { Grid } from '../../provider/pulumi/index.js';

const config = new pulumi.Config();

const grid = new Grid('local', {
  // Relative to this directory (Pulumi runs the program and the provider here); read at check
  // time, so editing the file is enough for `pulumi preview --diff` to show the change.
  specFile: config.get('specFile') ?? '../local/grid.yaml',
  // Omitted: the spec's `master.address` (127.0.0.1:7000 in examples/local/grid.yaml).
  masterAddress: config.get('masterAddress'),
  // `pulumi config set --secret token ...`; stored encrypted, never in plaintext in the state.
  token: config.getSecret('token'),
  convergeTimeout: config.get('convergeTimeout') ?? '5m',
});

/** The master's spec generation after the last `up`. */
export const generation = grid.generation;
/** Node id, agent, port, role and status of every node. */
export const placements = grid.placements;
/** Desired vs running nodes and health per cluster. */
export const clusterHealth = grid.clusterHealth;
