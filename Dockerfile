# edgecache container image, linux/amd64 only. The natives in the jar are x86_64 builds: the disk
# tier's LevelDB (leveldbjni-all has no arm64 library, so disk.path fails on arm64), Netty's epoll
# transport (without it Vert.x falls back to NIO) and netty-tcnative (BoringSSL; "auto" falls back
# to the JDK's TLS). On an arm64 machine build and run with --platform linux/amd64 (emulated)
# until an arm64 path exists.
#
# Build (BuildKit, the default builder of Docker 23+; or podman/buildah):
#   docker build -t edgecache:0.1.0 .
#   podman build --format docker -t edgecache:0.1.0 .
# podman and buildah write OCI images by default, and the OCI format has no HEALTHCHECK: without
# --format docker the check below is dropped with a warning and the container never reports
# healthy or unhealthy.
#
# Run (the cache volume is disk.path; mount your own config over the default one):
#   docker run --rm -p 8080:8080 -v edgecache-cache:/var/cache/edgecache \
#     -v "$PWD/my-proxy.json:/opt/edgecache/conf/proxy.json:ro" edgecache:0.1.0
# Read-only root filesystem, as k8s/statefulset.yaml runs it: the JVM needs a writable /tmp that
# allows executables (native libraries are unpacked and loaded from there at start; Docker's
# --tmpfs is noexec unless told exec), nothing else outside the cache volume:
#   docker run --read-only --tmpfs /tmp:rw,exec,nosuid,nodev,size=64m,mode=1777 \
#     -v edgecache-cache:/var/cache/edgecache -v "$PWD/my-conf:/opt/edgecache/conf:ro" ... edgecache:0.1.0
#
# The image ships the repository's conf/proxy.json as its default config. That file binds
# the admin listener (/healthz, /readyz, /metrics) to 127.0.0.1:9090: enough for the
# HEALTHCHECK below, which runs inside the container, but not for anything outside it.
# Mount a config with "admin": {"host": "0.0.0.0", ...} to reach it from outside, as
# k8s/configmap.yaml does.
#
# Build arguments and secrets (README, "Containers"):
#   --build-arg BUILD_IMAGE=...    the build stage's base: JDK 17 or later and Maven 3.8 or later
#                                  (the jar is built for Java 17 either way)
#   --build-arg RUNTIME_IMAGE=...  the runtime base: a Java 17 or later runtime (25 by default) with
#                                  bash and useradd, on glibc (a registry mirror, or base images of
#                                  your own)
#   --secret id=maven-settings,src=$HOME/.m2/settings.xml   Maven mirror, proxy, credentials
#   --secret id=extra-ca,src=corp-ca.pem    PEM certificate(s) Maven should trust besides the
#                                            JDK's (a TLS-inspecting proxy)
# Both secrets are optional and never end up in a layer; they are not part of the step's cache key
# either (after changing one, build with --no-cache). The same flags work for docker build
# (BuildKit) and podman build.

ARG BUILD_IMAGE=maven:3.9-eclipse-temurin-17
# The runtime is JDK 25 rather than 17: same speed once warm, but pass-through (requests
# answered by the origin) reached its steady rate within its first seconds under load instead
# of after 20 s or more (README, "Start-up and warm-up"). Any Java 17 or later runtime works.
ARG RUNTIME_IMAGE=eclipse-temurin:25-jre

# ---------------------------------------------------------------------------- build
FROM ${BUILD_IMAGE} AS build
WORKDIR /src

COPY pom.xml ./
COPY storage/pom.xml storage/
COPY proxy/pom.xml proxy/
# The micro-benchmarks (bench/) are not part of the image: only their POM is copied, because the
# parent lists the module, and the package step builds proxy and what it needs (-pl proxy -am).
COPY bench/pom.xml bench/
COPY storage/src storage/src
COPY proxy/src proxy/src

# Dependencies live in a build cache mount, not in a layer: a source edit rebuilds with the
# repository already downloaded, a POM change downloads only what is new, and a failed download
# fails this step, so no layer records it as done (an earlier dependency:go-offline step, allowed
# to fail with a warning, could be cached empty and reused by every later build).
# The secrets, when given: settings.xml is passed with -s; each certificate of extra-ca is added
# to a copy of the JDK's trust store that only this Maven run uses.
RUN --mount=type=cache,id=edgecache-m2,target=/root/.m2 \
    --mount=type=secret,id=maven-settings \
    --mount=type=secret,id=extra-ca \
    set -eu; \
    settings=""; \
    if [ -s /run/secrets/maven-settings ]; then settings="-s /run/secrets/maven-settings"; fi; \
    if [ -s /run/secrets/extra-ca ]; then \
      mkdir -p /tmp/ca; \
      cp "$JAVA_HOME/lib/security/cacerts" /tmp/ca/cacerts; chmod 0600 /tmp/ca/cacerts; \
      awk '/-----BEGIN CERTIFICATE-----/ {n++} n {print > ("/tmp/ca/extra-" n ".pem")}' /run/secrets/extra-ca; \
      count=0; \
      for pem in /tmp/ca/extra-*.pem; do \
        [ -e "$pem" ] || { echo "extra-ca: no PEM certificate (-----BEGIN CERTIFICATE-----) in the secret" >&2; exit 1; }; \
        keytool -importcert -noprompt -storepass changeit -keystore /tmp/ca/cacerts \
          -alias "extra-ca-$(basename "$pem" .pem)" -file "$pem" >/dev/null; \
        count=$((count + 1)); \
      done; \
      echo "extra-ca: $count certificate(s) trusted for this build"; \
      export MAVEN_OPTS="${MAVEN_OPTS:-} -Djavax.net.ssl.trustStore=/tmp/ca/cacerts -Djavax.net.ssl.trustStorePassword=changeit"; \
    fi; \
    mvn -B -q $settings -DskipTests -pl proxy -am package; \
    test -f proxy/target/edgecache.jar; \
    rm -rf /tmp/ca

# ---------------------------------------------------------------------------- runtime
FROM ${RUNTIME_IMAGE}

LABEL org.opencontainers.image.title="edgecache" \
      org.opencontainers.image.description="A caching HTTP reverse proxy for the edge" \
      org.opencontainers.image.version="0.1.0"

# Non-root user with a fixed uid/gid so k8s runAsUser/fsGroup can name them. Not --system: a
# system account's ids are expected below 1000, and useradd warns for 10001. --no-log-init keeps
# the uid out of lastlog/faillog (sparse files sized by the largest uid).
RUN groupadd --gid 10001 edgecache \
 && useradd --no-log-init --uid 10001 --gid 10001 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin edgecache \
 && mkdir -p /opt/edgecache/conf /var/cache/edgecache \
 && chown 10001:10001 /var/cache/edgecache \
 && chmod 0750 /var/cache/edgecache

COPY --from=build /src/proxy/target/edgecache.jar /opt/edgecache/edgecache.jar
COPY conf/ /opt/edgecache/conf/

WORKDIR /opt/edgecache

# Disk cache tier (disk.path in the config). Declared after the chown so a fresh
# anonymous or named volume starts out owned by uid 10001.
VOLUME ["/var/cache/edgecache"]

# 8080: proxy traffic; 9090: admin (/healthz, /readyz, /metrics); 5801/5802: cluster members
# (Hazelcast) and event bus, used only with cluster.enabled; keep them private (README, "Running a cluster").
EXPOSE 8080 9090 5801 5802

# JVM sizing, read from the container's memory limit (cgroup aware):
#  - heap = 60% of the limit; the rest is left for direct buffers (Netty), metaspace,
#    code cache, thread stacks and GC structures;
#  - direct memory is capped explicitly: left unset it defaults to the max heap size,
#    and heap + direct could then exceed the limit and get the container OOM-killed.
#    256m suits limits of 1.5 GiB and more; raise it with the limit (and if cached
#    bodies are kept off-heap, it must exceed memory.maxBytes). Netty counts its buffers
#    against it itself: when it runs out, the one client connection whose write found no
#    memory is closed (edgecache_client_closed_out_of_memory_total), nothing stalls.
#  - G1 regions of 8 MiB: a body (or a fill buffer) of up to 4 MiB is then an ordinary
#    object, not a "humongous" one that takes whole regions of its own. With the default
#    1 MiB regions of a 1.2 GiB heap, every 1 MiB fill and every cached body of 512 KiB or
#    more was humongous; under a mix of 1 MiB fills and slow readers of 8 MiB objects the
#    heap fragmented until an 8 MiB array found no free run of regions and the JVM died with
#    OutOfMemoryError (3 runs of 3), while 8 MiB regions survived it (2 runs of 2):
#    loadtests/memory-stress.sh, results in loadtests/results/memory-stress.md. The memory
#    tier's weigher reads the region size, so it counts what each body really occupies.
# To change them, set JAVA_TOOL_OPTIONS as a whole (docker run -e / k8s env).
# -XX:+ExitOnOutOfMemoryError is in the ENTRYPOINT so it cannot be lost that way: a
# JVM past an OutOfMemoryError is in an unknown state, better restarted by the runtime.
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=60 -XX:MaxDirectMemorySize=256m -XX:G1HeapRegionSize=8m"

# JVM options that depend on the runtime's version, in an argument file the commands below read:
# from JDK 23 on, the memory access methods of sun.misc.Unsafe must be allowed explicitly
# (JEP 471, JEP 498), or Netty runs without Unsafe and the disk tier reads every chunk through
# leveldbjni's byte arrays instead of copying it out of native memory (README, "The disk tier").
# JDK 17 has no such option and would refuse to start with it: there the file is empty.
RUN spec="$(java -XshowSettings:properties -version 2>&1 | awk -F' = ' '$1 ~ /java[.]specification[.]version$/ {print $2}')" \
 && case "$spec" in ''|*[!0-9]*) echo "cannot read the runtime's Java version ('$spec')" >&2; exit 1 ;; esac \
 && if [ "$spec" -ge 23 ]; then echo '--sun-misc-unsafe-memory-access=allow' >/opt/edgecache/jvm.args; \
    else : >/opt/edgecache/jvm.args; fi \
 && chmod 0444 /opt/edgecache/jvm.args \
 && echo "Java $spec: JVM options '$(cat /opt/edgecache/jvm.args)'"

# Class-data archive (AppCDS) from a training run: --train runs only the start-up warm-up
# (startup.warmup) against a built-in origin on loopback and exits, and the JVM writes every class
# it loaded to edgecache.jsa. At run time the classes are mapped from it instead of being loaded,
# parsed and verified from the jar: the JVM reaches /readyz about twice as fast (README,
# "Start-up and warm-up"). The archive belongs to this JVM build and this jar; a JVM that cannot
# use it says so once and starts without it (-Xshare:auto, the default).
# The training JVM runs with the flags above and sizes itself as in the StatefulSet's 2 GiB
# (-XX:MaxRAM=2g), not from the build machine's memory: an archive is only usable by a JVM with
# the same compressed-oops mode, and 60% of a build host with more than about 53 GiB would be a
# heap above 32 GiB, without compressed oops. The last command fails the build if a JVM started
# like the ENTRYPOINT cannot map the archive (-Xshare:on refuses to start instead of warning).
RUN java @/opt/edgecache/jvm.args -XX:MaxRAM=2g -XX:ArchiveClassesAtExit=/opt/edgecache/edgecache.jsa \
      -jar /opt/edgecache/edgecache.jar --config /opt/edgecache/conf/proxy.json --train \
 && chmod 0444 /opt/edgecache/edgecache.jsa \
 && java @/opt/edgecache/jvm.args -XX:MaxRAM=2g -XX:+ExitOnOutOfMemoryError -Xshare:on \
      -XX:SharedArchiveFile=/opt/edgecache/edgecache.jsa \
      -jar /opt/edgecache/edgecache.jar --version

# HEALTHCHECK: curl and wget are in today's eclipse-temurin images only "for historical
# reasons" (their Dockerfile says so), not as a promise, so the check relies on bash
# alone (part of the Ubuntu base): it opens /dev/tcp to the admin port, sends
# GET /healthz and wants an HTTP 200 status line. Set EDGECACHE_ADMIN_PORT if the config
# moves the admin port. It targets 127.0.0.1, which the default config's admin host is.
ENV EDGECACHE_ADMIN_PORT=9090
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${EDGECACHE_ADMIN_PORT:-9090} && printf 'GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && IFS= read -r -t 2 status <&3 && [[ $status == 'HTTP/1.'[01]' 200'* ]]"]

USER 10001:10001

# exec form: java is PID 1 and gets SIGTERM directly, so edgecache can drain.
ENTRYPOINT ["java", "@/opt/edgecache/jvm.args", "-XX:+ExitOnOutOfMemoryError", "-XX:SharedArchiveFile=/opt/edgecache/edgecache.jsa", "-jar", "/opt/edgecache/edgecache.jar"]
CMD ["--config", "/opt/edgecache/conf/proxy.json"]
