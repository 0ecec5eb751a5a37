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
});
app.synth();
