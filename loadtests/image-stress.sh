#!/usr/bin/env bash
# The mixed memory stress of loadtests/memory-stress.sh against the container image, run as the
# StatefulSet runs it (not part of CI: needs root, podman and about 5 minutes). One command:
#
#   bash loadtests/image-stress.sh                       # builds the image, then 180 s of load
#   IMAGE=edgecache:0.1.0 BUILD=0 bash loadtests/image-stress.sh   # an image already built
#   BUILD_IMAGE=... RUNTIME_IMAGE=... EXTRA_CA=corp-ca.pem bash loadtests/image-stress.sh
#
# The build is `podman build --format docker` of the Dockerfile (BUILD_IMAGE / RUNTIME_IMAGE are
# passed as build args when set; EXTRA_CA and MAVEN_SETTINGS as the build secrets extra-ca and
# maven-settings). The run: --memory = the StatefulSet's limits.memory (k8s/statefulset.yaml),
# read-only root filesystem, a 64 MiB tmpfs on /tmp (the StatefulSet's emptyDir), a fresh named
# volume on /var/cache/edgecache, the ConfigMap's proxy.json mounted read-only, all capabilities
# dropped. Then the load of memory-stress.sh (small and 1 MiB fills, hits, 200 slow readers of
# 8 MiB objects) for DURATION seconds. Passes when the container was not OOM-killed, is still
# running and serving, its HEALTHCHECK reports healthy, its root filesystem refused a write and
# the JVM mapped the image's CDS archive (-Xshare:on). Writes loadtests/results/image-stress.md.
# DURATION, SLOW_READERS, PORT, ADMIN_PORT, ORIGIN_PORT as for memory-stress.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=${IMAGE:-localhost/edgecache:stress}
BUILD=${BUILD:-1}

command -v podman >/dev/null || { echo "image-stress: podman is needed" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "image-stress: run as root (podman with memory limits)" >&2; exit 2; }

# limits.memory of the StatefulSet's container, as podman's --memory (Gi -> g, Mi -> m)
K8S_LIMIT=$(awk '/^ *limits:/ {in_limits = 1; next} in_limits && /^ *memory:/ {print $2; exit}
                 in_limits && !/^ *(cpu|memory):/ {in_limits = 0}' "$ROOT/k8s/statefulset.yaml" | tr -d '"')
case "$K8S_LIMIT" in
  *Gi) LIMIT=${K8S_LIMIT%Gi}g ;;
  *Mi) LIMIT=${K8S_LIMIT%Mi}m ;;
  *) echo "image-stress: limits.memory '$K8S_LIMIT' in k8s/statefulset.yaml (expected: NGi or NMi)" >&2; exit 2 ;;
esac

if [ "$BUILD" = 1 ]; then
  args=(--format docker -t "$IMAGE")
  [ -n "${BUILD_IMAGE:-}" ] && args+=(--build-arg "BUILD_IMAGE=$BUILD_IMAGE")
  [ -n "${RUNTIME_IMAGE:-}" ] && args+=(--build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE")
  [ -n "${EXTRA_CA:-}" ] && args+=(--secret "id=extra-ca,src=$EXTRA_CA")
  [ -n "${MAVEN_SETTINGS:-}" ] && args+=(--secret "id=maven-settings,src=$MAVEN_SETTINGS")
  echo "image-stress: podman build ${args[*]} $ROOT"
  LOG=$(mktemp /tmp/edgecache-image-build.XXXXXX.log)
  podman build "${args[@]}" "$ROOT" > "$LOG" 2>&1 || { tail -30 "$LOG"; echo "image-stress: build failed (log: $LOG)" >&2; exit 1; }
  rm -f "$LOG"
fi
podman image exists "$IMAGE" || { echo "image-stress: no image $IMAGE (BUILD=1 builds it)" >&2; exit 2; }

IMAGE=$IMAGE LIMIT=$LIMIT STRESS_COMMAND="bash loadtests/image-stress.sh" \
  RESULT=${RESULT:-$ROOT/loadtests/results/image-stress.md} \
  exec bash "$ROOT/loadtests/memory-stress.sh"
