#!/usr/bin/env bash
# Offline proof of the Jib image configuration (no registry, no Docker daemon).
#
# Base images cannot be pulled here, so this assembles a one-layer base image as a tarball and
# points Jib at it with tar://. It then builds the worker and generation-service images with
# jib:buildTar, checks their OCI config (user, ports, JVM flags, labels, timestamps, layers,
# no dev-only jars), rebuilds one from clean to show the digest is reproducible, and starts the
# worker from the image's own layers and Entrypoint (host JRE standing in for the base's JRE).
#
# What it cannot show: the real eclipse-temurin / CUDA base images, pushing to ghcr.io and
# running under a container runtime. CI does those (see .github/workflows/README.md).
#
# Usage: infra/checks/jib-offline-proof.sh   (from anywhere; ~2 minutes on 2 cores)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
work="$repo/infra/target/jib-proof"
rm -rf "$work" && mkdir -p "$work/base/rootfs/etc"
cd "$repo"

say() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

say "assembling a local base image (docker-save tarball)"
echo 'ID=pingvas-offline-proof' > "$work/base/rootfs/etc/os-release"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$work/base/layer.tar" -C "$work/base/rootfs" .
diff_id=$(sha256sum "$work/base/layer.tar" | cut -d' ' -f1)
cat > "$work/base/config.json" <<JSON
{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z",
 "config":{"Env":["PATH=/opt/java/openjdk/bin:/usr/bin:/bin","JAVA_HOME=/opt/java/openjdk"]},
 "rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]},
 "history":[{"created":"1970-01-01T00:00:00Z","created_by":"offline proof base"}]}
JSON
echo '[{"Config":"config.json","RepoTags":["pingvas/offline-proof-base:1"],"Layers":["layer.tar"]}]' > "$work/base/manifest.json"
tar -cf "$work/base.tar" -C "$work/base" manifest.json config.json layer.tar

build() { # module path
  ./mvnw -q -B package jib:buildTar -DskipTests -pl "$1" -am \
    -Dcontainer.base.image="tar://$work/base.tar" -Dcontainer.revision=offline-proof
}

# Prints the image config of an OCI tarball written by jib:buildTar and extracts its layers.
inspect() { # image.tar dest-dir
  mkdir -p "$2/oci" "$2/root"
  tar -xf "$1" -C "$2/oci"
  node - "$2" > "$2/summary.json" <<'JS'
const fs = require("fs"), path = require("path"), { execFileSync } = require("child_process");
const dir = process.argv[2], blob = d => path.join(dir, "oci/blobs/sha256", d.split(":")[1]);
const index = JSON.parse(fs.readFileSync(path.join(dir, "oci/index.json"), "utf8"));
const manifest = JSON.parse(fs.readFileSync(blob(index.manifests[0].digest), "utf8"));
const config = JSON.parse(fs.readFileSync(blob(manifest.config.digest), "utf8"));
for (const layer of manifest.layers) {
  execFileSync("tar", ["--warning=no-unknown-keyword", "-xzf", blob(layer.digest), "-C", path.join(dir, "root")]);
}
fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config, null, 2));
console.log(JSON.stringify({ layers: manifest.layers.length, created: config.created,
  user: config.config.User, ports: Object.keys(config.config.ExposedPorts || {}),
  entrypoint: config.config.Entrypoint, labels: config.config.Labels,
  history: config.history.map(h => h.comment || h.created_by) }, null, 1));
JS
}

expect() { # dir jq-like-description node-expression
  node -e 'const c=require(process.argv[1]+"/config.json"); if(!('"$3"')){console.error(process.argv[2]);process.exit(1)}' "$1" "$2" \
    || fail "$2"
}

check_image() { # module dir port main-class
  local dir="$work/$1"
  say "$1: jib:buildTar on the local base"
  build "$2"
  inspect "$2/target/jib-image.tar" "$dir"
  expect "$dir" "runs as the numeric non-root user 65532" 'c.config.User==="65532:65532"'
  expect "$dir" "exposes port $3" "Object.keys(c.config.ExposedPorts).join()==='$3/tcp'"
  expect "$dir" "container-aware heap flag" 'c.config.Entrypoint.includes("-XX:MaxRAMPercentage=75.0")'
  expect "$dir" "exits on OOM" 'c.config.Entrypoint.includes("-XX:+ExitOnOutOfMemoryError")'
  expect "$dir" "starts $4" "c.config.Entrypoint[c.config.Entrypoint.length-1]==='$4'"
  expect "$dir" "created at the reproducible-build timestamp" 'c.created==="2026-01-01T00:00:00Z"'
  expect "$dir" "carries OCI labels" 'c.config.Labels["org.opencontainers.image.revision"]==="offline-proof" && c.config.Labels["org.opencontainers.image.title"]==="'"$1"'"'
  expect "$dir" "keeps the base layer first" "c.rootfs.diff_ids[0]==='sha256:$diff_id'"
  dev_jars=$(find "$dir/root/app/libs" -maxdepth 1 -regextype posix-extended \
    -regex '.*/(embedded-infra|embedded-postgres|s3proxy|kafka_2\.13)-[^/]*\.jar')
  [ -z "$dev_jars" ] || fail "$1 image ships dev/test-only jars: $dev_jars"
  say "$1: config as expected; $(find "$dir/root/app/libs" -maxdepth 1 -name '*.jar' | wc -l) jars in /app/libs"
}

check_image worker worker 8090 ai.pingvas.worker.WorkerAgent
check_image generation-service verticles/generation-service 8080 ai.pingvas.generation.GenerationService

say "reproducibility: clean rebuild of the worker image"
first=$(cat worker/target/jib-image.digest)
./mvnw -q -B clean -pl worker
build worker
second=$(cat worker/target/jib-image.digest)
[ "$first" = "$second" ] || fail "digest changed across a clean rebuild: $first vs $second"
say "same digest twice: $first"

say "worker: start the image's Entrypoint from its own layers (host JRE)"
root="$work/worker/root"
sed "s#/app/#$root/app/#g" "$root/app/jib-classpath-file" > "$work/classpath"
mapfile -t entry < <(node -e 'for (const a of require(process.argv[1]).config.Entrypoint) console.log(a)' "$work/worker/config.json")
args=()
for a in "${entry[@]:1}"; do
  case "$a" in
    @/app/jib-classpath-file) args+=("@$work/classpath") ;;
    *) args+=("$a") ;;
  esac
done
port=18090
PINGVAS_HTTP_PORT=$port PINGVAS_WORKER_TOKEN=offline-proof PINGVAS_WORKER_ROUTER_URL=ws://127.0.0.1:9/v1/workers/connect \
  java "${args[@]}" > "$work/worker.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
live=""
for _ in $(seq 1 60); do
  if live=$(curl -fsS "http://127.0.0.1:$port/health/live" 2>/dev/null); then break; fi
  sleep 0.5
done
[ -n "$live" ] || { cat "$work/worker.log"; fail "worker did not answer /health/live"; }
ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health/ready")
say "worker from image layers: /health/live -> $live, /health/ready -> $ready (no router: not ready)"
[ "$ready" != 200 ] || fail "worker claims ready without a router"
say "offline proof passed"
