#!/usr/bin/env bash
# A cluster of fib-service on this host, in the background, and the rolling replacement of its members
# (docs/cluster.md). The Makefile's targets run it:
#   cluster.sh start          make cluster [FRONTS=2] [LB=nginx]   the database, the fronts, the workers (and nginx)
#   cluster.sh upgrade JAR    make cluster-upgrade JAR=...         every member replaced by JAR, one at a time
#   cluster.sh stop           make cluster-stop                     the members, then nginx, then the database
#   cluster.sh status                                               where each process listens
#   cluster.sh start-member NAME                                    one member, from its record (below)
# Settings, from the environment: RUN_DIR (run), JAR (target/fib-service.jar: what `start` runs), JAVA (java), FRONTS
# (1), WORKERS (2), LB (empty, or nginx), ARGS (more arguments for every member, split at spaces), CERTS_DIR
# ($RUN_DIR/certs), DATA_DIR (the database's data directory; empty: the jar's default, data/mariadb), NGINX (nginx),
# ORDER (upgrade: fronts-first or workers-first; by default fronts first when JAR is newer, workers first when older),
# READY_TIMEOUT (120 s), SAFE_TIMEOUT (120 s), STOP_TIMEOUT (90 s), JAVA_OPTS (JVM options of every process, e.g.
# -Xmx512m, split at spaces).
#
# Each member has a record in RUN_DIR, which `upgrade` replays with another jar: NAME.role (http or worker), NAME.args
# (its arguments, one a line), NAME.jar (the jar it runs), NAME.pid, NAME.log, NAME.ports (its --ports-file, written
# once it is ready); optionally NAME.exec (words to run the JVM under, one a line, e.g. `ip netns exec H`) and
# NAME.host (the address it is probed and joined at; 127.0.0.1). RUN_DIR/members lists them in start order.
set -u

say() { echo "cluster: $*"; }
fail() { echo "cluster: $*" >&2; exit 1; }

RUN_DIR=${RUN_DIR:-run}
mkdir -p "$RUN_DIR" || fail "cannot make $RUN_DIR"
RUN=$(cd "$RUN_DIR" && pwd)
JAVA=${JAVA:-java}
read -r -a JVM <<< "${JAVA_OPTS:-}"
FRONTS=${FRONTS:-1}
WORKERS=${WORKERS:-2}
LB=${LB:-}
ARGS=${ARGS:-}
# paths the members are given are absolute: an upgrade restarts them from wherever it runs
CERTS_DIR=$(realpath -m "${CERTS_DIR:-$RUN/certs}")
DATA_DIR=${DATA_DIR:+$(realpath -m "$DATA_DIR")}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
READY_TIMEOUT=${READY_TIMEOUT:-120}
SAFE_TIMEOUT=${SAFE_TIMEOUT:-120}
STOP_TIMEOUT=${STOP_TIMEOUT:-90}
NGINX_DIR=$RUN/nginx
here=$(cd "$(dirname "$0")" && pwd)

# ---- reading the records ---------------------------------------------------------------------------------------------

members() { [ -f "$RUN/members" ] && cat "$RUN/members"; }
role_of() { cat "$RUN/$1.role"; }
host_of() { if [ -f "$RUN/$1.host" ]; then cat "$RUN/$1.host"; else echo 127.0.0.1; fi; }
pid_of() { [ -f "$RUN/$1.pid" ] && cat "$RUN/$1.pid"; }
alive() { local pid; pid=$(pid_of "$1") && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }
# a port from a member's ports file: node, http, tcp, bridge, ops, hazelcast, clusterBus (db: mysql)
port_of() { [ -f "$RUN/$1.ports" ] && sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" "$RUN/$1.ports"; }
# where readiness is asked: a front's HTTP port, a worker's ops port
probe_port() { if [ "$(role_of "$1")" = http ]; then port_of "$1" http; else port_of "$1" ops; fi; }
# a jar's release, asked once per jar and kept in RUN_DIR/versions (a JVM's start each: slow on a loaded host)
version_of_jar() {
  local v
  v=$(awk -v j="$1" -v s="$(stat -c %Y "$1" 2>/dev/null)" '$1 == j && $2 == s { print $3 }' "$RUN/versions" 2>/dev/null)
  if [ -z "$v" ]; then
    v=$("$JAVA" -jar "$1" --version 2>/dev/null | head -1 | awk '$1 == "fib-service" { print $2 }')
    [ -n "$v" ] && echo "$1 $(stat -c %Y "$1") $v" >> "$RUN/versions"
  fi
  echo "$v"
}
sum_of() { sha256sum "$1" | cut -c1-64; }

# the Hazelcast addresses of the running members but $1: where a member (re)starting joins
seeds_except() {
  local m list=""
  for m in $(members); do
    [ "$m" = "$1" ] && continue
    alive "$m" && [ -n "$(port_of "$m" hazelcast)" ] && list="$list${list:+,}$(host_of "$m"):$(port_of "$m" hazelcast)"
  done
  echo "$list"
}

# ---- starting and stopping one member --------------------------------------------------------------------------------

# starts a member from its record with the jar its record names; its log gets a line saying so
start_member() {
  local m=$1 jar seeds prefix=() args=()
  jar=$(cat "$RUN/$m.jar")
  mapfile -t args < "$RUN/$m.args"
  [ -f "$RUN/$m.exec" ] && mapfile -t prefix < "$RUN/$m.exec"
  seeds=$(seeds_except "$m")
  [ -n "$seeds" ] && args+=(--set "cluster.members=$seeds")
  rm -f "$RUN/$m.ports"
  echo "--- $(date '+%F %T') $m: $jar" >> "$RUN/$m.log"
  say "  ${prefix[*]}${prefix[*]:+ }$JAVA ${JVM[*]}${JVM[*]:+ }-jar $jar --ports-file $RUN/$m.ports ${args[*]} >> $RUN/$m.log"
  # from the directory the cluster was started in (ARGS may name files relative to it; data/mariadb is)
  (cd "$(cat "$RUN/cwd")" && exec nohup "${prefix[@]}" "$JAVA" "${JVM[@]}" -jar "$jar" --ports-file "$RUN/$m.ports" \
    "${args[@]}" >> "$RUN/$m.log" 2>&1 < /dev/null) &
  echo $! > "$RUN/$m.pid"
}

# waits until the member has written its ports file (it does once ready), at most READY_TIMEOUT
await_member() {
  local m=$1 end=$((SECONDS + READY_TIMEOUT))
  # deadlines in seconds, not in rounds: on a loaded host a round takes far longer than its sleep
  while [ $SECONDS -lt $end ]; do
    [ -s "$RUN/$m.ports" ] && return 0
    alive "$m" || { tail -20 "$RUN/$m.log" >&2; fail "$m exited before it was ready (its log: $RUN/$m.log)"; }
    sleep 0.1
  done
  tail -20 "$RUN/$m.log" >&2
  fail "$m is not ready after ${READY_TIMEOUT} s (its log: $RUN/$m.log)"
}

# SIGTERM, and waits until the process is gone (it leaves as docs/operations.md's Drain says), at most STOP_TIMEOUT
stop_member() {
  local m=$1 pid end=$((SECONDS + STOP_TIMEOUT))
  pid=$(pid_of "$m") || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid"
  while [ $SECONDS -lt $end ]; do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  fail "$m (pid $pid) did not stop within ${STOP_TIMEOUT} s of SIGTERM; it still runs (its log: $RUN/$m.log)"
}

# the readiness answer of a member (its body), or nothing when it does not answer within 5 s
readiness() {
  local port
  port=$(probe_port "$1")
  [ -n "$port" ] && curl -s --max-time 5 "http://$(host_of "$1"):$port/health/ready"
}

# waits until every running member says the cluster is safe and counts every running member, at most SAFE_TIMEOUT;
# says what it waits for every 10 s. A member found dead is said once, and not waited for: the roll starts it first.
await_safe() {
  local total=$1 m body why="" want=0 dead end=$((SECONDS + SAFE_TIMEOUT)) next=$((SECONDS + 10))
  while [ $SECONDS -lt $end ]; do
    why=""; want=0; dead=""
    for m in $(members); do
      if alive "$m"; then want=$((want + 1)); else dead="$dead $m"; fi
    done
    for m in $(members); do
      alive "$m" || continue
      body=$(readiness "$m")
      if [ -z "$body" ]; then
        why="$why; $m does not answer"
      elif ! echo "$body" | grep -q '"safe":true'; then
        why="$why; $m: not safe ($(echo "$body" | grep -o '"reason":"[^"]*"' | head -1))"
      elif ! echo "$body" | grep -q "\"members\":$want[,}]"; then
        why="$why; $m sees $(echo "$body" | grep -o '"members":[0-9]*' | cut -d: -f2) members"
      fi
    done
    if [ -z "$why" ]; then
      [ -n "$dead" ] && say "  the cluster is safe with the $want of $total members that run;${dead} not running (see its log)"
      return 0
    fi
    if [ $SECONDS -ge $next ]; then
      say "  waiting for the cluster to be safe with $want members (${why#; })"
      next=$((SECONDS + 10))
    fi
    sleep 0.5
  done
  fail "the cluster is not safe with $want members after ${SAFE_TIMEOUT} s: ${why#; }"
}

# waits until the member's /health/ready is 200, at most READY_TIMEOUT
await_ready() {
  local m=$1 port code end=$((SECONDS + READY_TIMEOUT))
  port=$(probe_port "$m")
  while [ $SECONDS -lt $end ]; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$(host_of "$m"):$port/health/ready")
    [ "$code" = 200 ] && return 0
    alive "$m" || fail "$m exited (its log: $RUN/$m.log)"
    sleep 0.5
  done
  fail "$m's /health/ready is not 200 after ${READY_TIMEOUT} s: $(readiness "$m")"
}

# ---- nginx in front of the fronts ------------------------------------------------------------------------------------

# a port nothing listens on, below the ephemeral range (nginx cannot report a port 0 it was given)
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

fronts() { local m; for m in $(members); do [ "$(role_of "$m")" = http ] && echo "$m"; done; }

# the upstream lines of one listener: every front at its fixed port, `down` for those in $NGINX_DIR/down
upstreams() {
  local m port mark
  for m in $(fronts); do
    port=$(sed -n "s/^$1=//p" "$RUN/$m.fixed")
    mark=""
    grep -qx "$m" "$NGINX_DIR/down" 2>/dev/null && mark=" down"
    echo "    server 127.0.0.1:$port$mark;"
  done
}

# writes nginx.conf: HTTP (SockJS's WebSocket included) and, through its stream module, the TCP line protocol and the
# event-bus bridge; nginx's listening ports are in $NGINX_DIR/ports (http=, tcp=, bridge=)
nginx_conf() {
  local http tcp bridge module="" user=""
  http=$(sed -n 's/^http=//p' "$NGINX_DIR/ports")
  tcp=$(sed -n 's/^tcp=//p' "$NGINX_DIR/ports")
  bridge=$(sed -n 's/^bridge=//p' "$NGINX_DIR/ports")
  # Debian builds the stream module as a module of its own (libnginx-mod-stream)
  if "$NGINX" -V 2>&1 | grep -q -- '--with-stream=dynamic'; then
    module="load_module /usr/lib/nginx/modules/ngx_stream_module.so;"
  fi
  [ "$(id -u)" = 0 ] && user="user $(id -un) $(id -gn);"
  cat > "$NGINX_DIR/nginx.conf" <<EOF
# made by src/main/scripts/cluster.sh (docs/cluster.md, "Behind a load balancer"); rewritten at each step of an upgrade
$module
$user
worker_processes 2;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log notice;
events { worker_connections 4096; }
http {
  access_log $NGINX_DIR/access.log combined buffer=64k flush=1s;
  client_body_temp_path $NGINX_DIR/tmp/body;
  proxy_temp_path $NGINX_DIR/tmp/proxy;
  fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
  uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
  scgi_temp_path $NGINX_DIR/tmp/scgi;
  # no keepalive to the fronts: a request goes over a connection of its own, which a leaving front either refuses
  # (nginx then tries the other front, whatever the method) or answers; a kept-alive idle connection that the front
  # closes while nginx sends a POST on it would fail that POST (nginx never resends one)
  upstream fib_http {
$(upstreams http)
  }
  # SockJS's transports other than WebSocket send one session over several requests: one front per session
  upstream fib_sockjs {
    hash \$sockjs_session consistent;
$(upstreams http)
  }
  map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:$http;
    client_max_body_size 1m;
    proxy_http_version 1.1;
    proxy_set_header Host \$http_host;
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    proxy_set_header Connection "close";
    # nginx's default, said out loud: another front after a refused or failed connection, and for GET, HEAD, PUT and
    # DELETE also after an error once sent; never a POST once sent (no non_idempotent)
    proxy_next_upstream error timeout;
    proxy_next_upstream_tries 2;
    proxy_connect_timeout 2s;
    # above fib.timeoutMs and mysql.queryTimeoutMs: the service answers its own timeouts (504, 503)
    proxy_read_timeout 300s;
    proxy_send_timeout 60s;
    location / {
      proxy_pass http://fib_http;
    }
    location ~ ^/eventbus/[^/]+/([^/]+)/ {
      set \$sockjs_session \$1;
      # a location's proxy_set_header replaces all of the server's: Host again (the bridge compares Origin with it)
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_read_timeout 1h;
      proxy_buffering off;
      proxy_pass http://fib_sockjs;
    }
    location /eventbus/ {
      # a location's proxy_set_header replaces all of the server's: Host again (the bridge compares Origin with it)
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_read_timeout 1h;
      proxy_buffering off;
      proxy_pass http://fib_http;
    }
  }
}
stream {
  upstream fib_tcp {
$(upstreams tcp)
  }
  upstream fib_bridge {
$(upstreams bridge)
  }
  # a connection stays with its front: when that front leaves, it closes it and the client connects again
  server {
    listen 127.0.0.1:$tcp;
    proxy_pass fib_tcp;
    proxy_connect_timeout 2s;
    proxy_timeout 1h;
    # a client's half-close (nc -N) ends its requests, not the connection: the answers still come back
    proxy_half_close on;
  }
  server {
    listen 127.0.0.1:$bridge;
    proxy_pass fib_bridge;
    proxy_connect_timeout 2s;
    proxy_timeout 1h;
    # a client's half-close (nc -N) ends its requests, not the connection: the answers still come back
    proxy_half_close on;
  }
}
EOF
}

nginx_start() {
  local tries i
  command -v "$NGINX" >/dev/null || fail "LB=nginx: nginx is not installed (make test-tools, as root, installs it)"
  if "$NGINX" -V 2>&1 | grep -q -- '--with-stream=dynamic' && [ ! -f /usr/lib/nginx/modules/ngx_stream_module.so ]; then
    fail "LB=nginx: nginx's stream module is missing (apt-get install libnginx-mod-stream; make test-tools does)"
  fi
  mkdir -p "$NGINX_DIR/tmp"
  : > "$NGINX_DIR/down"
  for tries in 1 2 3 4 5; do
    printf 'http=%s\ntcp=%s\nbridge=%s\n' "$(free_port)" "$(free_port)" "$(free_port)" > "$NGINX_DIR/ports"
    nginx_conf
    "$NGINX" -t -q -e "$NGINX_DIR/error.log" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" \
      || fail "nginx refuses $NGINX_DIR/nginx.conf (see above)"
    rm -f "$NGINX_DIR/nginx.pid"
    say "  $NGINX -e $NGINX_DIR/error.log -p $NGINX_DIR -c $NGINX_DIR/nginx.conf"
    if "$NGINX" -e "$NGINX_DIR/error.log" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf"; then
      for i in $(seq 100); do [ -s "$NGINX_DIR/nginx.pid" ] && return 0; sleep 0.1; done
      fail "nginx did not write its pid file (see $NGINX_DIR/error.log)"
    fi
    # a port taken between the check and the bind: other ports
  done
  fail "nginx did not start (see $NGINX_DIR/error.log)"
}

nginx_running() { [ -s "$NGINX_DIR/nginx.pid" ] && kill -0 "$(cat "$NGINX_DIR/nginx.pid")" 2>/dev/null; }

# rewrites the configuration and reloads it; returns once nginx's new workers serve (the old ones finish what they
# have, then exit: they take no new connection)
nginx_reload() {
  local before i
  nginx_conf
  "$NGINX" -t -q -e "$NGINX_DIR/error.log" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" \
    || fail "nginx refuses the new $NGINX_DIR/nginx.conf"
  before=$(grep -c 'reconfiguring' "$NGINX_DIR/error.log")
  kill -HUP "$(cat "$NGINX_DIR/nginx.pid")"
  for i in $(seq 200); do
    [ "$(grep -c 'reconfiguring' "$NGINX_DIR/error.log")" -gt "$before" ] \
      && [ "$(sed -n "$(grep -n 'reconfiguring' "$NGINX_DIR/error.log" | tail -1 | cut -d: -f1),\$p" "$NGINX_DIR/error.log" \
        | grep -c 'start worker process')" -ge 2 ] && return 0
    sleep 0.05
  done
  fail "nginx did not reload within 10 s (see $NGINX_DIR/error.log)"
}

# ---- cluster.env and the status table --------------------------------------------------------------------------------

upper() { echo "$1" | tr a-z- A-Z_; }

write_env() {
  local m first fports=""
  first=$(fronts | head -1)
  {
    echo "CLUSTER_NAME=$(cat "$RUN/cluster.name")"
    if nginx_running; then
      # where clients go: nginx, in front of every front
      echo "HTTP_PORT=$(sed -n 's/^http=//p' "$NGINX_DIR/ports")"
      echo "TCP_PORT=$(sed -n 's/^tcp=//p' "$NGINX_DIR/ports")"
      echo "BRIDGE_PORT=$(sed -n 's/^bridge=//p' "$NGINX_DIR/ports")"
    else
      echo "HTTP_PORT=$(port_of "$first" http)"
      echo "TCP_PORT=$(port_of "$first" tcp)"
      echo "BRIDGE_PORT=$(port_of "$first" bridge)"
    fi
    echo "HAZELCAST_PORT=$(port_of "$first" hazelcast)"
    echo "MYSQL_PORT=$(port_of db mysql)"
    for m in $(members); do
      if [ "$(role_of "$m")" = http ]; then
        fports="$fports${fports:+ }$(port_of "$m" http)"
        [ "$m" = http ] && continue
        echo "$(upper "$m")_HTTP_PORT=$(port_of "$m" http)"
        echo "$(upper "$m")_TCP_PORT=$(port_of "$m" tcp)"
        echo "$(upper "$m")_BRIDGE_PORT=$(port_of "$m" bridge)"
      else
        echo "$(upper "$m")_OPS_PORT=$(port_of "$m" ops)"
      fi
    done
    # every front's own HTTP port (what Prometheus scrapes)
    echo "FRONT_HTTP_PORTS=\"$fports\""
  } > "$RUN/cluster.env"
}

status() {
  local m ports
  [ -f "$RUN/cluster.name" ] || fail "no cluster in $RUN"
  say "$(cat "$RUN/cluster.name"), every process on 127.0.0.1 (also in $RUN_DIR/cluster.env):"
  printf '  %-9s %s (pid %s, %s/%s.log)\n' db "MariaDB $(port_of db mysql)" "$(pid_of db)" "$RUN_DIR" db
  for m in $(members); do
    ports="Hazelcast $(port_of "$m" hazelcast), event bus $(port_of "$m" clusterBus)"
    [ -n "$(port_of "$m" ops)" ] && ports="$ports, ops $(port_of "$m" ops)"
    [ "$(role_of "$m")" = http ] \
      && ports="HTTP $(port_of "$m" http), TCP $(port_of "$m" tcp), bridge $(port_of "$m" bridge), $ports"
    alive "$m" || ports="NOT RUNNING"
    printf '  %-9s %s (pid %s, %s/%s.log, %s)\n' "$m" "$ports" "$(pid_of "$m")" "$RUN_DIR" "$m" \
      "$(version_of_jar "$(cat "$RUN/$m.jar")")"
  done
  if nginx_running; then
    printf '  %-9s %s (pid %s, %s/nginx/)\n' nginx "HTTP $(sed -n 's/^http=//p' "$NGINX_DIR/ports"), TCP $(sed -n \
      's/^tcp=//p' "$NGINX_DIR/ports"), bridge $(sed -n 's/^bridge=//p' "$NGINX_DIR/ports") in front of $(fronts | \
      tr '\n' ' ' | sed 's/ $//')" "$(cat "$NGINX_DIR/nginx.pid")" "$RUN_DIR"
  fi
}

# ---- the commands ----------------------------------------------------------------------------------------------------

cmd_start() {
  local jar m f w i db name tls=() common=() extra=() names=()
  jar=$(realpath "${JAR:-target/fib-service.jar}" 2>/dev/null) && [ -f "$jar" ] \
    || fail "no jar ${JAR:-target/fib-service.jar} (make build makes target/fib-service.jar)"
  case "$LB" in ""|nginx) ;; *) fail "LB=$LB: the load balancer is nginx (LB=nginx) or none";; esac
  [ -n "$LB" ] || [ "$FRONTS" -le 1 ] || say "$FRONTS fronts without LB=nginx: clients pick a front themselves"
  for f in "$RUN"/*.pid "$NGINX_DIR/nginx.pid"; do
    [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && fail "a process of the cluster still runs ($f); stop it first (make cluster-stop)"
  done
  if ! { [ -f "$CERTS_DIR/ca.pem" ] && [ -f "$CERTS_DIR/member-127.0.0.1.pem" ] && [ -f "$CERTS_DIR/member-127.0.0.1-key.pem" ]; }; then
    "$here/cluster-certs.sh" "$CERTS_DIR" 127.0.0.1 || fail "cannot make the certificates in $CERTS_DIR"
  fi
  tls=(--set "cluster.tls.cert=$CERTS_DIR/member-127.0.0.1.pem" --set "cluster.tls.key=$CERTS_DIR/member-127.0.0.1-key.pem"
    --set "cluster.tls.ca=$CERTS_DIR/ca.pem")
  name="fib-local-$(date +%s)-$$"
  echo "$name" > "$RUN/cluster.name"
  pwd > "$RUN/cwd"
  rm -f "$RUN"/*.log "$RUN"/*.ports "$RUN"/*.args "$RUN"/*.role "$RUN"/*.jar "$RUN"/*.fixed "$RUN"/*.exec \
    "$RUN"/*.host "$RUN/members" "$RUN/cluster.env"
  rm -rf "$NGINX_DIR"
  # the database first, a process of its own: members come and go (an upgrade replaces each), it stays
  db=(db --port 0)
  [ -n "$DATA_DIR" ] && db+=(--data-dir "$DATA_DIR")
  say "  $JAVA ${JVM[*]}${JVM[*]:+ }-jar $jar --ports-file $RUN/db.ports ${db[*]} > $RUN/db.log"
  nohup "$JAVA" "${JVM[@]}" -jar "$jar" --ports-file "$RUN/db.ports" "${db[@]}" > "$RUN/db.log" 2>&1 < /dev/null &
  echo $! > "$RUN/db.pid"
  for i in $(seq 900); do
    [ -s "$RUN/db.ports" ] && break
    alive db || { tail -20 "$RUN/db.log" >&2; fail "the database exited; see $RUN/db.log"; }
    sleep 0.1
  done
  [ -s "$RUN/db.ports" ] || fail "the database is not ready after 90 s; see $RUN/db.log"
  sed -n 's/.* - \(database ready: [^;]*\);.*/\1/p' "$RUN/db.log"
  # every member reaches it: mysql.host "embedded" in a cluster is that process, on this host at mysql.port, its
  # password in the data directory they share
  common=(--cluster --set "cluster.name=$name" --set cluster.hazelcastPort=0 --set "mysql.port=$(port_of db mysql)")
  [ -n "$DATA_DIR" ] && common+=(--set "mysql.dataDir=$DATA_DIR")
  read -r -a extra <<< "$ARGS"
  if [ "$FRONTS" -le 1 ]; then names=(http); else for i in $(seq "$FRONTS"); do names+=("front-$i"); done; fi
  for i in $(seq "$WORKERS"); do names+=("worker-$i"); done
  for m in "${names[@]}"; do
    echo "$m" >> "$RUN/members"
    echo "$jar" > "$RUN/$m.jar"
    case "$m" in
      worker-*) echo worker > "$RUN/$m.role"
        # a worker member has no HTTP port: its /metrics and /health/* are on an ops port of its own
        printf '%s\n' --role worker "${common[@]}" --set ops.enabled=true --set ops.port=0 "${tls[@]}" "${extra[@]}" \
          > "$RUN/$m.args" ;;
      *) echo http > "$RUN/$m.role"
        printf '%s\n' --role http "${common[@]}" --set http.port=0 --set tcp.port=0 --set bridge.enabled=true \
          --set bridge.port=0 "${tls[@]}" "${extra[@]}" > "$RUN/$m.args" ;;
    esac
  done
  # the first front is the seed; the others, fronts and workers, join through it
  first=${names[0]}
  start_member "$first"
  await_member "$first"
  for m in "${names[@]:1}"; do start_member "$m"; done
  for m in "${names[@]:1}"; do await_member "$m"; done
  # a replaced front listens where it did (nginx and clients know its ports)
  for m in $(fronts); do
    printf 'http=%s\ntcp=%s\nbridge=%s\n' "$(port_of "$m" http)" "$(port_of "$m" tcp)" "$(port_of "$m" bridge)" > "$RUN/$m.fixed"
    printf '%s\n' --set "http.port=$(port_of "$m" http)" --set "tcp.port=$(port_of "$m" tcp)" \
      --set "bridge.port=$(port_of "$m" bridge)" >> "$RUN/$m.args"
  done
  [ "$LB" = nginx ] && nginx_start
  write_env
  status
  . "$RUN/cluster.env"
  for i in $(seq 300); do curl -s "localhost:$HTTP_PORT/info" 2>/dev/null | grep -q '"reachable":false' || break; sleep 0.1; done
  curl -s "localhost:$HTTP_PORT/info" 2>/dev/null | head -c 2000; echo
}

cmd_start_member() {
  local m=${1:?usage: cluster.sh start-member NAME}
  [ -f "$RUN/$m.args" ] || fail "no member $m in $RUN"
  alive "$m" && fail "$m is running (pid $(pid_of "$m"))"
  start_member "$m"
  await_member "$m"
}

# the members to replace, in the order of the roll
roll_order() {
  local order=$1 m
  if [ "$order" = workers-first ]; then
    for m in $(members); do [ "$(role_of "$m")" = worker ] && echo "$m"; done
    fronts
  else
    fronts
    for m in $(members); do [ "$(role_of "$m")" = worker ] && echo "$m"; done
  fi
}

# replaces one member: out of nginx, SIGTERM and its exit awaited, started with the new jar, ready, back into nginx
replace() {
  local m=$1 jar=$2 total=$3 lb=false
  [ "$(role_of "$m")" = http ] && nginx_running && lb=true
  if alive "$m"; then
    if [ "$lb" = true ]; then
      say "  nginx: $m out (no new connection goes to it; nginx's old workers finish theirs)"
      echo "$m" >> "$NGINX_DIR/down"
      nginx_reload
    fi
    say "  stopping $m (pid $(pid_of "$m")): SIGTERM, it drains and leaves"
    stop_member "$m"
    tail -3 "$RUN/$m.log" | grep -q ' - stopped$' || say "  $m exited without its 'stopped' line (see $RUN/$m.log)"
  else
    say "  $m is not running (pid $(pid_of "$m") is gone): starting it"
  fi
  echo "$jar" > "$RUN/$m.jar"
  say "  starting $m with $jar"
  start_member "$m"
  await_member "$m"
  await_ready "$m"
  say "  $m ready: $(readiness "$m" | grep -o '"id":"cluster"[^}]*}' | head -1)"
  if [ "$lb" = true ]; then
    sed -i "/^$m\$/d" "$NGINX_DIR/down"
    nginx_reload
    say "  nginx: $m in again"
  fi
  await_safe "$total"
  write_env
}

cmd_upgrade() {
  local jar to order m total=0 todo=() n=0 up=0 down=0 v sum d
  jar=$(realpath "${1:?usage: cluster.sh upgrade JAR}" 2>/dev/null) && [ -f "$jar" ] || fail "no jar $1"
  [ -f "$RUN/members" ] || fail "no cluster in $RUN (make cluster starts one)"
  to=$(version_of_jar "$jar")
  [ -n "$to" ] || fail "$jar is not a fib-service jar (java -jar $jar --version says no version)"
  alive db || fail "the database process is not running (pid $(pid_of db)): start the cluster again"
  sum=$(sum_of "$jar")
  for m in $(members); do
    total=$((total + 1))
    # a member that runs this very jar already (a roll that stopped half-way) is left as it is
    if [ "$(sum_of "$(cat "$RUN/$m.jar")")" = "$sum" ] && alive "$m"; then continue; fi
    v=$(version_of_jar "$(cat "$RUN/$m.jar")")
    if [ "$(printf '%s\n%s\n' "$v" "$to" | sort -V | tail -1)" != "$v" ]; then up=$((up + 1));
    elif [ "$v" != "$to" ]; then down=$((down + 1)); fi
  done
  # the fronts are never older than the workers when a worker leaves: a front of the newer release moves a leaving
  # worker's work (docs/compatibility.md); so up, the fronts first, and back, the workers first
  if [ -n "${ORDER:-}" ]; then
    order=$ORDER
  elif [ "$down" -gt 0 ] && [ "$up" -eq 0 ]; then
    order=workers-first
  else
    order=fronts-first
  fi
  case "$order" in fronts-first|workers-first) ;; *) fail "ORDER=$order: fronts-first or workers-first";; esac
  for m in $(roll_order "$order"); do
    if [ "$(sum_of "$(cat "$RUN/$m.jar")")" != "$sum" ] || ! alive "$m"; then todo+=("$m"); fi
  done
  if [ ${#todo[@]} -eq 0 ]; then
    say "every member runs $jar already ($to)"
    return 0
  fi
  say "replacing ${#todo[@]} of $total members with $jar ($to), $order: ${todo[*]}; the database process stays"
  say "checking the cluster first"
  for m in $(members); do
    [[ " ${todo[*]} " == *" $m "* ]] && continue
    alive "$m" || fail "$m, which already runs $jar, is not running: start it first (cluster.sh start-member $m)"
  done
  await_safe "$total"
  for m in "${todo[@]}"; do
    n=$((n + 1))
    # a member found dead (killed, crashed) is started first, out of turn: stopping another one would leave the
    # cluster two members short
    for d in "${todo[@]:n}"; do
      if ! alive "$d"; then
        say "$d is not running (pid $(pid_of "$d") exited; see $RUN/$d.log): it is started first, with $jar"
        replace "$d" "$jar" "$total"
      fi
    done
    if [ "$(sum_of "$(cat "$RUN/$m.jar")")" = "$sum" ] && alive "$m"; then
      continue
    fi
    say "step $n of ${#todo[@]}: $m ($(role_of "$m"), $(version_of_jar "$(cat "$RUN/$m.jar")") -> $to)"
    say "  the cluster is safe with $total members"
    replace "$m" "$jar" "$total"
    say "  done: $m runs $to, the cluster is safe with $total members"
  done
  # a member that died after its own step (killed, crashed) is started last
  for m in $(members); do
    if ! alive "$m"; then
      say "$m is not running (pid $(pid_of "$m") exited; see $RUN/$m.log): it is started again, with $jar"
      replace "$m" "$jar" "$total"
    fi
  done
  say "every member runs $jar ($to)"
  status
}

cmd_stop() {
  local f pid i
  stop_all() {
    for f in "$@"; do [ -f "$f" ] || continue; pid=$(cat "$f")
      if kill -0 "$pid" 2>/dev/null; then echo "stopping $f (pid $pid)"; kill -TERM "$pid"; fi; done
    for f in "$@"; do [ -f "$f" ] || continue; pid=$(cat "$f")
      for i in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && { echo "$f (pid $pid) still runs after 60 s: SIGKILL"; kill -KILL "$pid"; }
      rm -f "$f"; done
  }
  # the members first (each leaves gracefully: SIGTERM, waited for), then nginx, the database last
  stop_all $(ls "$RUN"/*.pid 2>/dev/null | grep -v "^$RUN/db.pid\$")
  if nginx_running; then
    pid=$(cat "$NGINX_DIR/nginx.pid")
    echo "stopping nginx (pid $pid)"
    kill -QUIT "$pid"
    for i in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -TERM "$pid"
  fi
  stop_all "$RUN/db.pid"
  rm -f "$RUN/cluster.env"
}

case "${1:-}" in
  start) cmd_start ;;
  upgrade) shift; cmd_upgrade "$@" ;;
  stop) cmd_stop ;;
  status) status ;;
  start-member) shift; cmd_start_member "$@" ;;
  *) fail "usage: cluster.sh start|upgrade JAR|stop|status|start-member NAME (see the comment at its top)" ;;
esac
