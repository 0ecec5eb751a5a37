#!/usr/bin/env bash
# Builds the storage-server image without pulling anything: no registry is reachable on CI hosts,
# so the root filesystem is assembled from this machine (its node binary and the shared libraries
# ldd lists, the repo's dist/, bin/, package.json and production node_modules) and piped into
# `docker import`. The result behaves like the root Dockerfile's image (same /app layout, same
# ENTRYPOINT). Skips the import when an image with the same content fingerprint already exists.
#
# Usage: scripts/build-test-image.sh [TAG]    (default sutra-grid:test; run `npm run build` first)
# Engine: $SUTRA_DOCKER_SOCKET (default /tmp/sutra-docker/docker.sock). Prints the tag on success.
set -euo pipefail
cd "$(dirname "$0")/.."

TAG="${1:-sutra-grid:test}"
SOCK="${SUTRA_DOCKER_SOCKET:-/tmp/sutra-docker/docker.sock}"
DOCKER=(docker -H "unix://$SOCK")
CACHE="${SUTRA_IMAGE_CACHE:-/tmp/sutra-docker/image-cache}"

[ -f dist/runtime/storage/main.js ] || { echo "dist/ is missing or stale: run 'npm run build' first" >&2; exit 1; }
NODE_BIN="$(readlink -f "$(command -v node)")"

# Provider-only packages (Pulumi, cdktf) never run inside a storage node; leaving them out keeps
# the image a third of the size. The root Dockerfile keeps every production dependency.
PRUNE='["@pulumi/pulumi","@pulumi/kubernetes","cdktf","@cdktf/provider-docker","constructs","json-schema-to-ts"]'

fingerprint() {
  {
    sha256sum "$NODE_BIN"
    echo "$PRUNE"
    sha256sum package.json package-lock.json
    find dist bin -type f -print0 | sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-32
}
# Test files may call this concurrently: one build at a time, and the check under the lock, so
# the ones that waited find the image done instead of building it again.
mkdir -p "$CACHE"
exec 9>"$CACHE/build.lock"
flock 9
FP="$(fingerprint)"

if "${DOCKER[@]}" image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$TAG" 2>/dev/null \
  | grep -qx "SUTRA_IMAGE_FINGERPRINT=$FP"; then
  echo "$TAG"
  exit 0
fi

# Production node_modules, cached per lockfile: installing them is the slow step.
LOCK_FP="$( { sha256sum package.json package-lock.json; echo "$PRUNE"; } | sha256sum | cut -c1-16)"
MODULES="$CACHE/modules-$LOCK_FP"
if [ ! -d "$MODULES/node_modules" ]; then
  rm -rf "$MODULES.tmp" && mkdir -p "$MODULES.tmp"
  cp package.json package-lock.json "$MODULES.tmp/"
  node -e '
    const fs = require("fs"); const f = process.argv[1];
    const pkg = JSON.parse(fs.readFileSync(f, "utf8"));
    for (const name of JSON.parse(process.argv[2])) delete pkg.dependencies[name];
    delete pkg.devDependencies; delete pkg.scripts;
    fs.writeFileSync(f, JSON.stringify(pkg, null, 2));
  ' "$MODULES.tmp/package.json" "$PRUNE"
  # The lockfile pins every version; --prefer-offline serves them from the npm cache when present.
  (cd "$MODULES.tmp" && npm install --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error >&2)
  # The one native addon a master or agent in the image needs: this image has no flock(1), so
  # their data dir locks fall back to fs-ext (runtime/common/file-lock.ts). Built for this
  # machine's node, which the image copies below.
  (cd "$MODULES.tmp" && npm rebuild fs-ext --loglevel=error >&2)
  rm -rf "$MODULES" && mv "$MODULES.tmp" "$MODULES"
fi

ROOT="$(mktemp -d /tmp/sutra-rootfs.XXXXXX)"
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT/usr/bin" "$ROOT/app" "$ROOT/data" "$ROOT/etc"
install -d -m 1777 "$ROOT/tmp"
cp "$NODE_BIN" "$ROOT/usr/bin/node"
for lib in $(ldd "$NODE_BIN" | grep -o '/[^ ]*'); do
  mkdir -p "$ROOT$(dirname "$lib")"
  cp -L "$lib" "$ROOT$lib"
done
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnode:x:1000:1000:node:/app:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' >"$ROOT/etc/group"
# gRPC resolves "localhost" through the hosts file.
printf '127.0.0.1 localhost\n::1 localhost\n' >"$ROOT/etc/hosts"
cp -r dist bin package.json "$ROOT/app/"
cp -r "$MODULES/node_modules" "$ROOT/app/node_modules"
# Source maps and TypeScript declarations are dead weight at run time.
find "$ROOT/app" \( -name '*.map' -o -name '*.d.ts' -o -name '*.md' \) -type f -delete

OLD_ID="$("${DOCKER[@]}" image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
tar --numeric-owner --owner=0 --group=0 -C "$ROOT" -c . | "${DOCKER[@]}" import \
  --change 'ENTRYPOINT ["node", "/app/bin/sutra-grid.js"]' \
  --change 'WORKDIR /app' \
  --change 'ENV NODE_ENV=production' \
  --change "ENV SUTRA_IMAGE_FINGERPRINT=$FP" \
  - "$TAG" >/dev/null
# The previous build is now untagged; drop it unless a container still uses it.
if [ -n "$OLD_ID" ]; then "${DOCKER[@]}" image rm "$OLD_ID" >/dev/null 2>&1 || true; fi
echo "$TAG"
