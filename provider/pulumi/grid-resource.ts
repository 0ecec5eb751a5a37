/**
 * `Grid`: a whole Sutra grid as one Pulumi resource. Its desired state is a grid spec; the
 * master converges the fleet to it. `pulumi up` applies the spec and waits for convergence,
 * `pulumi preview --diff` shows the master's plan, `pulumi refresh` reads the live grid.
 */
import * as pulumi from '@pulumi/pulumi';
import type { GridSpecInput } from '../../schema/index.js';
import type { ClusterHealthOutput, Placement } from './grid-inputs.js';
import { gridProvider } from './grid-provider.js';

/** Arguments of a {@link Grid}. Give exactly one of `spec` and `specFile`. */
export interface GridArgs {
  /** The grid spec as an object (the shape of schema/grid.schema.json). */
  readonly spec?: pulumi.Input<GridSpecInput>;
  /**
   * Path of a grid.yaml, relative to the Pulumi project directory. Read at check time, so an
   * edit to the file shows up in `pulumi preview` even though the path is unchanged.
   */
  readonly specFile?: pulumi.Input<string>;
  /**
   * host:port of the master's gRPC service.
   * @default the spec's `master.address`, else "127.0.0.1:7000"
   */
  readonly masterAddress?: pulumi.Input<string>;
  /**
   * Several masters on one etcd (`--store etcd://`), each host:port: calls go to the leader,
   * found by asking any of them. Joined into `masterAddress` (give one of the two). Adding or
   * dropping one master of the list later updates the grid; a list sharing no master replaces it.
   */
  readonly masterAddresses?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * PEM of the grid CA (the master's `<data-dir>/pki/ca.pem`, or the operator's CA): the provider
   * then speaks mutual TLS and checks the master's certificate. Stored as a secret.
   */
  readonly tlsCa?: pulumi.Input<string>;
  /**
   * PEM certificate of an operator (or admin) credential (`sutra-grid join --token … --out DIR`
   * writes `cert.pem`). Stored as a secret.
   */
  readonly tlsCert?: pulumi.Input<string>;
  /**
   * PEM private key of `tlsCert`. Always a secret: wrapped with `pulumi.secret` if it was not, and
   * kept encrypted in the state (it is needed there: a later `destroy` calls the master with it).
   */
  readonly tlsKey?: pulumi.Input<string>;
  /**
   * The master's shared token. Always stored as a secret (wrapped with `pulumi.secret` if it was
   * not already). Omitted: `SUTRA_GRID_TOKEN` from the environment of the provider, else none.
   */
  readonly token?: pulumi.Input<string>;
  /**
   * How long `up` waits for every declared node to run (and `destroy` for them to stop), e.g. "90s".
   * @default "5m"
   */
  readonly convergeTimeout?: pulumi.Input<string>;
}

/** The state a {@link Grid} can be looked up with (`Grid.get`); all optional. */
export interface GridState {
  readonly masterAddress?: pulumi.Input<string>;
  readonly token?: pulumi.Input<string>;
  readonly tlsCa?: pulumi.Input<string>;
  readonly tlsCert?: pulumi.Input<string>;
  readonly tlsKey?: pulumi.Input<string>;
}

/** The inputs kept secret in the state, whatever form the program gave them in. */
const SECRET_INPUTS = ['token', 'tlsCa', 'tlsCert', 'tlsKey'] as const;

function secretOrUndefined(value: pulumi.Input<string> | undefined): pulumi.Output<string> | undefined {
  return value === undefined ? undefined : pulumi.secret(value);
}

/** `masterAddresses` joined into the one comma-separated `masterAddress` the provider takes. */
function masterAddressOf(args: GridArgs): pulumi.Input<string> | undefined {
  if (args.masterAddresses === undefined) return args.masterAddress;
  const list = pulumi.output(args.masterAddresses).apply((l) => l.join(','));
  return args.masterAddress === undefined ? list : pulumi.all([args.masterAddress, list]).apply(([one, more]) => `${one},${more}`);
}

/** A grid spec applied to a master and converged. The resource id is the master address. */
export class Grid extends pulumi.dynamic.Resource {
  /** The applied spec as the master holds it. */
  declare readonly spec: pulumi.Output<Record<string, unknown>>;
  declare readonly masterAddress: pulumi.Output<string>;
  /** `spec.name`. */
  declare readonly gridName: pulumi.Output<string>;
  /** The master's spec generation after the last apply (or refresh). */
  declare readonly generation: pulumi.Output<number>;
  /** Every node of the declared clusters: where it runs and how it is doing. */
  declare readonly placements: pulumi.Output<Placement[]>;
  /** Per declared cluster: desired and running nodes, health, leader. */
  declare readonly clusterHealth: pulumi.Output<ClusterHealthOutput[]>;
  /** Overall health: healthy, degraded or critical. */
  declare readonly health: pulumi.Output<string>;

  constructor(name: string, args: GridArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      gridProvider,
      name,
      {
        spec: args.spec,
        specFile: args.specFile,
        masterAddress: masterAddressOf(args),
        token: secretOrUndefined(args.token),
        tlsCa: secretOrUndefined(args.tlsCa),
        tlsCert: secretOrUndefined(args.tlsCert),
        tlsKey: secretOrUndefined(args.tlsKey),
        convergeTimeout: args.convergeTimeout,
        // Outputs, declared so the SDK fills them in.
        gridName: undefined,
        generation: undefined,
        placements: undefined,
        clusterHealth: undefined,
        health: undefined,
      },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...SECRET_INPUTS] },
      'sutra-grid',
      'Grid',
    );
  }

  /**
   * Looks up an existing grid by its id, the master address, e.g. `Grid.get("prod", "10.0.0.5:7000")`.
   * Only the id is needed; pass `token` (or set `SUTRA_GRID_TOKEN`) when the master requires one.
   */
  static get(name: string, id: pulumi.Input<pulumi.ID>, state?: GridState, opts?: pulumi.CustomResourceOptions): Grid {
    return new Grid(name, { ...state }, { ...opts, id });
  }
}
