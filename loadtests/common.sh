# shellcheck shell=bash
# Helpers for every script in loadtests/ (sourced, not run; by run.sh and, through bench-lib.sh,
# by the others): the JDK edgecache runs on, as the container image does, and the part of an
# nginx config they all share.

# The JVM options every script gives edgecache unless told otherwise: the image's direct-memory
# bound and G1 regions (Dockerfile, JAVA_TOOL_OPTIONS) at a fixed 1 GiB heap.
EDGE_JVM_OPTS="-Xms1g -Xmx1g -XX:MaxDirectMemorySize=256m -XX:G1HeapRegionSize=8m -XX:+ExitOnOutOfMemoryError"

# image_java: a JDK 25 under /usr/lib/jvm when there is one (the image's runtime, Dockerfile),
# else the java on PATH
image_java() {
  local j
  for j in /usr/lib/jvm/*25*/bin/java; do [[ -x "$j" ]] && { echo "$j"; return; }; done
  echo java
}

# java_spec JAVA: the runtime's feature version (17, 25), empty when it cannot be read
java_spec() {
  "$1" -XshowSettings:properties -version 2>&1 | awk -F' = ' '$1 ~ /java[.]specification[.]version$/ {print $2}'
}

# image_jvm_flags JAVA: the options the image's jvm.args holds for that runtime (Dockerfile):
# from JDK 23 on, --sun-misc-unsafe-memory-access=allow, without which Netty runs without Unsafe
# and the disk tier loses its direct reads; nothing before
image_jvm_flags() {
  local spec
  spec="$(java_spec "$1")"
  if [[ "$spec" =~ ^[0-9]+$ ]] && ((spec >= 23)); then echo "--sun-misc-unsafe-memory-access=allow"; fi
}

# nginx_conf_head DIR WORKERS: the start of an nginx config (the origins' and the nginx
# proxy_cache peer's), up to the inside of its http block (temp paths, logs and pid in DIR; no
# access log; long keep-alive); the caller adds the rest of the http block and the closing brace.
# Workers run as nobody when started as root.
nginx_conf_head() {
  local dir="$1" workers="$2"
  [[ "$(id -u)" == 0 ]] && echo "user nobody nogroup;"
  cat <<EOF
worker_processes $workers;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  client_body_temp_path $dir/tmp/client;
  proxy_temp_path       $dir/tmp/proxy;
  fastcgi_temp_path     $dir/tmp/fastcgi;
  uwsgi_temp_path       $dir/tmp/uwsgi;
  scgi_temp_path        $dir/tmp/scgi;
EOF
}
