# The bundled storage-server (and the whole sutra-grid CLI) as an image, for agents running with
# platform = "docker". Build from the repo root:
#   docker build -t sutra-grid:0.1.0 .
# then point the agent at it: [docker] image = "sutra-grid:0.1.0".
# Agents start node containers with `node /app/dist/runtime/storage/main.js --port N --storage-path
# /data ...`; run by hand, the ENTRYPOINT is the CLI: `docker run IMAGE storage-server --help`.
# (CI hosts reach no registry, so the tests build an equivalent image with scripts/build-test-image.sh.)

FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` builds, and the sources are not copied yet.
RUN npm ci --ignore-scripts --no-audit --no-fund
# fs-ext is a native addon: the master's and the agent's data dir locks (flock) fall back to it
# where util-linux's flock(1) is missing (this image has it). Built here, where the compiler is,
# against this image's node headers; the runtime stage copies the result.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/* \
  && npm_config_nodedir=/usr/local npm rebuild fs-ext
COPY tsconfig.json tsconfig.build.json ./
COPY proto ./proto
COPY errors ./errors
COPY schema ./schema
COPY plan ./plan
COPY client ./client
COPY runtime ./runtime
COPY provider ./provider
COPY bench ./bench
# The dashboard (web/dashboard), bundled by esbuild into dist/dashboard; npm run build also
# bundles the entry points (esbuild, a devDependency of this stage).
COPY web ./web
COPY scripts/*.mjs ./scripts/
RUN npm run build

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/node_modules/fs-ext/build ./node_modules/fs-ext/build
COPY --from=build /src/dist ./dist
COPY bin ./bin
# Node storage lives on the /data volume (the agent bind-mounts the node's storage path there).
# The `node` user (1000:1000) is also what a root agent runs node containers as by default
# ([docker].user); the agent hands each node's storage dir to it.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
ENTRYPOINT ["node", "/app/bin/sutra-grid.js"]
