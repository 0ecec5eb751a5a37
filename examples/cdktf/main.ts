/**
 * The cdktf app of examples/cdktf: one GridDockerStack built from ./grid.yaml.
 * `cdktf synth` / `cdktf deploy` run it (see README.md); the token comes from TF_VAR_grid_token.
 */
import { App } from 'cdktf';
import { GridDockerStack } from '../../provider/cdktf/index.js';

const app = new App();
new GridDockerStack(app, 'sutra-grid', {
  // cdktf runs the app in the project directory (this one).
  specPath: process.env['GRID_SPEC'] ?? 'grid.yaml',
  image: process.env['GRID_IMAGE'] ?? 'sutra-grid:0.1.0',
  ...(process.env['DOCKER_HOST'] !== undefined ? { dockerHost: process.env['DOCKER_HOST'] } : {}),
  // Lets the agents run as the image's non-root user: `stat -c %g /var/run/docker.sock`.
  ...(process.env['DOCKER_SOCKET_GID'] !== undefined ? { dockerSocketGid: Number(process.env['DOCKER_SOCKET_GID']) } : {}),
  // Mutual TLS (the default): the grid CA's certificate; its key comes from TF_VAR_grid_ca_key, or
  // from GRID_CREDENTIALS_DIR on the Docker host (ca-key.pem, join/<agent id>: nothing secret in state).
  caCertPath: process.env['GRID_CA_CERT'] ?? 'grid-ca/pki/ca.pem',
  ...(process.env['GRID_CREDENTIALS_DIR'] !== undefined ? { credentialHostDir: process.env['GRID_CREDENTIALS_DIR'] } : {}),
  masters: process.env['GRID_MASTERS'] === '3' ? 3 : 1,
  // First deploy with GRID_AGENTS=0 (masters only), make the agents' join tokens, then deploy again.
  deployAgents: process.env['GRID_AGENTS'] !== '0',
});
app.synth();
