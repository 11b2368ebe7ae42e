#!/usr/bin/env bash
# Checks how the Dockerfile's build stage fetches its dependencies, with podman (needs root and
# podman; not part of CI; about 3 minutes). One command:
#
#   bash loadtests/image-build-check.sh
#   BUILD_IMAGE=... EXTRA_CA=corp-ca.pem bash loadtests/image-build-check.sh
#
# Each build runs only the build stage (--target build) with a Maven cache of its own (the cache
# mount's id renamed in a copy of the Dockerfile), so every dependency has to be downloaded:
#   1. without a network (--network=none): the build must fail at the Maven step;
#   2. the same build with the network: the Maven step must run again (no "Using cache": the
#      failed download of 1 left nothing behind that counts as done) and produce the jar;
#   3. with a maven-settings secret whose mirror is a closed local port: the build must fail naming
#      that mirror (the settings are used); nothing of the secret may remain in the image.
# With EXTRA_CA (a PEM file; for a network whose TLS is inspected), 2 passes it as the extra-ca
# secret and must report the certificates it trusted, and a build without it (1b) shows whether
# the network needs it. Writes loadtests/results/image-build-check.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RESULT=${RESULT:-$ROOT/loadtests/results/image-build-check.md}
WORK=$(mktemp -d /tmp/edgecache-build-check.XXXXXX)
CACHE_ID=edgecache-m2-check-$$
TAG=localhost/edgecache-build-check:$$

command -v podman >/dev/null || { echo "image-build-check: podman is needed" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "image-build-check: run as root" >&2; exit 2; }
grep -q 'id=edgecache-m2,' "$ROOT/Dockerfile" || { echo "image-build-check: no cache mount id=edgecache-m2 in the Dockerfile" >&2; exit 2; }
sed "s/id=edgecache-m2,/id=$CACHE_ID,/" "$ROOT/Dockerfile" > "$WORK/Dockerfile"

cleanup() {
  podman rmi -f "$TAG" >/dev/null 2>&1 || true
  # the cache mount made for these builds (buildah keeps id'd cache mounts under /var/tmp)
  rm -rf "/var/tmp/buildah-cache/$CACHE_ID" "/var/tmp/buildah-cache-0/$CACHE_ID" 2>/dev/null || true
}
trap cleanup EXIT

base=(--format docker --target build -f "$WORK/Dockerfile" -t "$TAG")
[ -n "${BUILD_IMAGE:-}" ] && base+=(--build-arg "BUILD_IMAGE=$BUILD_IMAGE")
[ -n "${RUNTIME_IMAGE:-}" ] && base+=(--build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE")
build() { local log=$1; shift; local t0=$SECONDS rc=0; podman build "${base[@]}" "$@" "$ROOT" > "$log" 2>&1 || rc=$?; echo "$rc $((SECONDS - t0))"; }
maven_step_cached() { grep -A1 'RUN --mount=type=cache' "$1" | grep -q 'Using cache'; }
ROWS=()
FAIL=0
row() { ROWS+=("| $1 | $2 | $3 |"); [ "$3" = pass ] || FAIL=1; echo "image-build-check: $1: $2 ($3)"; }

# 1. no network
read -r rc secs < <(build "$WORK/1-offline.log" --network=none)
why=$(grep -m1 -oE 'Could not (resolve|transfer)[^:]*|Unknown host[^,]*|Network is unreachable' "$WORK/1-offline.log" || echo 'see log')
if [ "$rc" != 0 ]; then row "1. --network=none" "failed after ${secs}s, exit $rc: $why" pass
else row "1. --network=none" "succeeded (expected: failure)" FAIL; fi

# 1b. with the network but without the extra CA: shows whether this network needs it (a
# TLS-inspecting proxy makes Maven fail with a PKIX path error); informational
if [ -n "${EXTRA_CA:-}" ]; then
  read -r rc secs < <(build "$WORK/1b-no-ca.log" --network=host)
  if [ "$rc" != 0 ]; then
    ROWS+=("| 1b. with the network, no extra-ca | failed after ${secs}s: $(grep -m1 -oE 'PKIX path building failed|unable to find valid certification path|Could not transfer artifact [^ ]*' "$WORK/1b-no-ca.log" || echo 'see log') | info |")
  else
    ROWS+=("| 1b. with the network, no extra-ca | succeeded: this network does not need EXTRA_CA | info |")
  fi
  rm -rf "/var/tmp/buildah-cache/$CACHE_ID"
fi

# 2. with the network (and the extra CA when given)
extra=(--network=host)
[ -n "${EXTRA_CA:-}" ] && extra+=(--secret "id=extra-ca,src=$EXTRA_CA")
read -r rc secs < <(build "$WORK/2-online.log" "${extra[@]}")
trusted=$(grep -m1 -o 'extra-ca: [0-9]* certificate(s) trusted' "$WORK/2-online.log" || echo 'no extra-ca')
if [ "$rc" = 0 ] && ! maven_step_cached "$WORK/2-online.log" \
    && podman run --rm --entrypoint test "$TAG" -s /src/proxy/target/edgecache.jar 2>/dev/null; then
  row "2. with the network, after 1" "Maven step ran again (not from cache), jar built in ${secs}s; $trusted" pass
else
  row "2. with the network, after 1" "exit $rc, Maven step from cache: $(maven_step_cached "$WORK/2-online.log" && echo yes || echo no); $trusted" FAIL
fi
if [ -n "${EXTRA_CA:-}" ] && [ "$trusted" = 'no extra-ca' ]; then row "2b. extra-ca secret" "not reported as trusted" FAIL; fi

# 3. maven-settings secret with a mirror nobody answers on
MIRROR_PORT=9
cat > "$WORK/settings.xml" <<XML
<settings>
  <mirrors>
    <mirror><id>check-mirror</id><mirrorOf>*</mirrorOf><url>http://127.0.0.1:$MIRROR_PORT/maven2</url></mirror>
  </mirrors>
</settings>
XML
rm -rf "/var/tmp/buildah-cache/$CACHE_ID"   # empty again, so Maven must ask the mirror
# --no-cache: a secret is not part of a step's cache key, so without it the layer of 2 is reused
read -r rc secs < <(build "$WORK/3-settings.log" --no-cache --network=host --secret "id=maven-settings,src=$WORK/settings.xml")
if [ "$rc" != 0 ] && grep -q "127.0.0.1:$MIRROR_PORT" "$WORK/3-settings.log"; then
  row "3. maven-settings secret (mirror 127.0.0.1:$MIRROR_PORT)" "failed after ${secs}s naming the mirror: settings.xml was used" pass
else
  row "3. maven-settings secret (mirror 127.0.0.1:$MIRROR_PORT)" "exit $rc, mirror named: $(grep -c "127.0.0.1:$MIRROR_PORT" "$WORK/3-settings.log" || true)" FAIL
fi
# the image of build 2 (last tagged) holds no secret file
if podman run --rm --entrypoint sh "$TAG" -c 'test ! -e /run/secrets/maven-settings && test ! -e /run/secrets/extra-ca && ! grep -rqs check-mirror /root /src' 2>/dev/null; then
  row "secrets in the image" "none in /run/secrets, /root or /src of the build stage" pass
else
  row "secrets in the image" "found" FAIL
fi

mkdir -p "$(dirname "$RESULT")"
{
  echo "# Image build: dependency downloads, cache and secrets"
  echo
  echo "Run: $(date -u '+%Y-%m-%d %H:%M UTC'), \`bash loadtests/image-build-check.sh\`, $(podman --version),"
  echo "build stage only (\`--target build\`), Maven cache mount of its own. Commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')."
  [ -n "${BUILD_IMAGE:-}" ] && echo "BUILD_IMAGE=$BUILD_IMAGE."
  echo
  echo "**Result: $([ "$FAIL" = 0 ] && echo pass || echo FAIL).**"
  echo
  echo "| build | what happened | |"
  echo "| --- | --- | --- |"
  printf '%s\n' "${ROWS[@]}"
} > "$RESULT"
echo "image-build-check: $([ "$FAIL" = 0 ] && echo pass || echo FAIL) (report: $RESULT; logs: $WORK)"
[ "$FAIL" = 0 ]
