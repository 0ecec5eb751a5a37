/**
 * grpc-js modules a bundle never runs, each replaced by a stub: grpc-js's index requires its whole
 * library at load (its server, every load balancer it registers), and a bundle then carries and
 * evaluates all of it at every start. A stub has the `setup()` the index calls at load and throws
 * on any other use, naming the module, so a change that comes to need one fails loudly in tests.
 * - Every bundle: the load balancers and certificate providers only a service config or the
 *   experimental API selects (the grid's channels use none: they pick the first address).
 * - The client verbs' bundle also: the server side, which a `status` call never runs (~55 KB of
 *   its source, and their evaluation at each call: issue 17).
 */
/** Left out of every bundle. */
export const GRPC_JS_NEVER_RUN = ['load-balancer-round-robin', 'load-balancer-outlier-detection', 'load-balancer-weighted-round-robin', 'certificate-provider'];
/** grpc-js's server side (with ORCA, its load reports), left out of the client verbs' bundle. */
export const GRPC_JS_SERVER = ['server', 'server-interceptors', 'server-credentials', 'server-call', 'orca'];
/**
 * The esbuild plugin that stubs grpc-js's `modules` (file names in build/src, without `.js`). List
 * it before any plugin that loads the same files (GRPC_JS_EDITS in scripts/bundle.mjs): esbuild
 * takes the first onLoad that answers.
 */
export function grpcJsLeftOut(modules) {
  const filter = new RegExp(`[\\\\/]@grpc[\\\\/]grpc-js[\\\\/]build[\\\\/]src[\\\\/](${modules.join('|')})\\.js$`);
  return {
    name: 'grpc-js-left-out',
    setup(b) {
      b.onLoad({ filter }, (args) => {
        const name = args.path.replace(/^.*[\\/]/, '');
        return {
          contents: `module.exports = new Proxy({ setup() {} }, { get(stub, key) { if (key === 'setup') return stub.setup; throw new Error('grpc-js ' + ${JSON.stringify(name)} + ' is left out of this bundle (scripts/bundle.mjs), yet its ' + String(key) + ' was used'); } });`,
          loader: 'js',
        };
      });
    },
  };
}
