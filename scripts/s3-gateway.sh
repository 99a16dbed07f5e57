#!/usr/bin/env bash
# s3-gateway.sh: a real S3-compatible object store on 127.0.0.1 for the replication tests.
#
# A one-monitor, one-OSD Ceph cluster (Debian's ceph 16 packages) with a RADOS Gateway in front,
# all state under one directory, no authentication inside the cluster (auth = none) and one S3
# user with a fixed test key. See docs/object-store-tests.md.
#
#   scripts/s3-gateway.sh start            install the packages if missing, create the cluster
#                                          if missing, start what is not running, wait for S3
#   scripts/s3-gateway.sh stop             stop every daemon (state kept: start brings it back)
#   scripts/s3-gateway.sh stop-gateway     stop radosgw only (the cluster keeps running)
#   scripts/s3-gateway.sh start-gateway    start radosgw only, wait for S3
#   scripts/s3-gateway.sh restart-gateway  stop-gateway, then start-gateway
#   scripts/s3-gateway.sh destroy          stop, then remove the state directory
#   scripts/s3-gateway.sh env              print S3_* settings (KEY=value lines) for the tests
#   scripts/s3-gateway.sh status           exit 0 when the gateway answers S3, 1 otherwise
#
# Environment: ALEX_S3_STATE (state directory, default /tmp/alex-s3-gateway), ALEX_S3_PORT
# (gateway port, default 7480), ALEX_S3_MON_PORT (monitor msgr2 port, default 3300; msgr1 uses
# it + 3489, i.e. 6789 by default), ALEX_S3_TIMEOUT (seconds each wait may take, default 180).
#
# Exit codes: 0 ok; 1 failure (a daemon did not come up: the log tails are printed);
# 2 usage; 3 not root; 4 packages missing and no apt-get to install them; 5 install failed.
set -euo pipefail

STATE=${ALEX_S3_STATE:-/tmp/alex-s3-gateway}
PORT=${ALEX_S3_PORT:-7480}
MON_PORT=${ALEX_S3_MON_PORT:-3300}
MON_PORT_V1=$((MON_PORT + 3489))
TIMEOUT=${ALEX_S3_TIMEOUT:-180}
ACCESS_KEY=alexstorage-test
SECRET_KEY=alexstorage-test-secret
S3_USER=alexstorage-test
CONF=$STATE/ceph.conf
PACKAGES=(ceph-mon ceph-osd radosgw)
COMMANDS=(ceph ceph-mon ceph-osd radosgw radosgw-admin monmaptool)

log() { printf 's3-gateway: %s\n' "$*" >&2; }
die() { local code=$1; shift; log "error: $*"; exit "$code"; }

# ---------------------------------------------------------------- checks and install

require_root() {
  [[ $(id -u) -eq 0 ]] || die 3 "must run as root (it installs Debian packages and runs Ceph daemons)"
}

packages_installed() {
  local c
  for c in "${COMMANDS[@]}"; do command -v "$c" >/dev/null 2>&1 || return 1; done
}

# Installs ceph-mon, ceph-osd and radosgw when missing. Runs apt-get update only when the install
# fails for lack of (current) package lists, as on a fresh CI machine.
install_packages() {
  packages_installed && return 0
  command -v apt-get >/dev/null 2>&1 ||
    die 4 "Ceph is not installed and there is no apt-get to install it (Debian/Ubuntu needed): ${PACKAGES[*]}"
  log "installing ${PACKAGES[*]} (apt-get)"
  local out
  export DEBIAN_FRONTEND=noninteractive
  if ! out=$(apt-get install -y --no-install-recommends "${PACKAGES[@]}" 2>&1); then
    if grep -qE 'Unable to locate package|has no installation candidate|Failed to fetch|404 +Not Found' <<<"$out"; then
      log "package lists missing or stale: apt-get update"
      apt-get update >/dev/null 2>&1 || { apt-get update 2>&1 | tail -20 >&2; die 5 "apt-get update failed"; }
      out=$(apt-get install -y --no-install-recommends "${PACKAGES[@]}" 2>&1) ||
        { tail -30 <<<"$out" >&2; die 5 "apt-get install ${PACKAGES[*]} failed"; }
    else
      tail -30 <<<"$out" >&2
      die 5 "apt-get install ${PACKAGES[*]} failed"
    fi
  fi
  packages_installed || die 5 "installed ${PACKAGES[*]} but some of ${COMMANDS[*]} is still missing"
}

# ---------------------------------------------------------------- helpers

ceph_cli() { timeout 30 ceph -c "$CONF" --connect-timeout 10 "$@"; }

pid_of() { # pid_of <name>: the pid from the daemon's pid file if that process is alive
  local f=$STATE/run/$1.pid pid
  [[ -s $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

# True when an anonymous S3 ListBuckets (GET /) gets an HTTP answer with an S3 XML body.
gateway_answers() {
  timeout 5 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/'"$PORT"' || exit 1
    printf "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" >&3
    response=$(cat <&3)
    [[ $response == "HTTP/1."[01]" 200"* && $response == *ListAllMyBucketsResult* ]]
  ' 2>/dev/null
}

log_tails() {
  local f
  for f in "$STATE"/log/*.log "$STATE"/log/*.stderr; do
    [[ -f $f ]] || continue
    printf '\n----- last 25 lines of %s -----\n' "$f" >&2
    tail -n 25 "$f" >&2
  done
}

# wait_for <what> <command...>: polls the command every half second until it succeeds; after
# $TIMEOUT seconds fails with the log tails.
wait_for() {
  local what=$1; shift
  local deadline=$((SECONDS + TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log_tails
      die 1 "timed out after ${TIMEOUT}s waiting for $what (logs above, state in $STATE)"
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------- cluster creation

write_conf() {
  local fsid=$1
  cat >"$CONF" <<EOF
# Written by scripts/s3-gateway.sh: a throwaway one-node test cluster, no authentication.
[global]
fsid = $fsid
mon_host = [v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$MON_PORT_V1]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
# With auth off, radosgw hangs at start unless the mon connection mode is crc.
ms_mon_client_mode = crc
keyring = $STATE/keyring
run_dir = $STATE/run
admin_socket = $STATE/run/\$name.asok
pid_file = $STATE/run/\$name.pid
log_file = $STATE/log/\$name.log
log_to_stderr = false
err_to_stderr = true
# One OSD: pools of one replica, few PGs, no redundancy warnings, nothing waiting for a mgr.
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0
mon_warn_on_pool_no_redundancy = false
mon_warn_on_insecure_global_id_reclaim = false
mon_warn_on_insecure_global_id_reclaim_allowed = false
mon_data_avail_warn = 2
mon_data_avail_crit = 1
# Small memory.
mon_memory_target = 134217728
osd_memory_target = 268435456
osd_memory_base = 67108864
osd_memory_cache_min = 33554432
bluestore_cache_autotune = false
bluestore_cache_size = 33554432
rocksdb_cache_size = 16777216
osd_op_num_shards = 1
osd_op_num_threads_per_shard = 2

[mon.a]
mon_data = $STATE/mon/a

[osd.0]
osd_data = $STATE/osd/0
osd_objectstore = bluestore
# The block file must live outside the OSD data directory.
bluestore_block_path = $STATE/osd-0.block
bluestore_block_create = true
bluestore_block_size = 10737418240
bluestore_fsck_on_mount = false
crush_location = root=default host=alex-s3

[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:$PORT
rgw_data = $STATE/rgw/a
rgw_dns_name = 127.0.0.1
rgw_thread_pool_size = 32
EOF
}

create_mon() {
  [[ -f $STATE/.mon-created ]] && return 0
  log "creating the monitor"
  rm -rf "$STATE/mon/a" "$STATE/monmap"
  mkdir -p "$STATE/mon/a"
  local fsid
  fsid=$(grep -m1 '^fsid = ' "$CONF" | cut -d' ' -f3)
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$MON_PORT_V1]" \
    "$STATE/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$STATE/monmap" >"$STATE/log/mkfs-mon.log" 2>&1 ||
    { cat "$STATE/log/mkfs-mon.log" >&2; die 1 "ceph-mon --mkfs failed"; }
  touch "$STATE/.mon-created"
}

start_mon() {
  if ! pid_of mon.a >/dev/null; then
    log "starting ceph-mon"
    ceph-mon -c "$CONF" -i a 2>>"$STATE/log/mon.a.stderr" 9>&- || { log_tails; die 1 "ceph-mon did not start"; }
  fi
  wait_for "the monitor" ceph_cli mon stat
}

create_osd() {
  [[ -f $STATE/.osd-created ]] && return 0
  log "creating the OSD (bluestore, block file $STATE/osd-0.block)"
  rm -rf "$STATE/osd/0" "$STATE/osd-0.block"
  mkdir -p "$STATE/osd/0"
  local uuid id
  if [[ -s $STATE/osd-uuid ]]; then uuid=$(<"$STATE/osd-uuid"); else
    uuid=$(cat /proc/sys/kernel/random/uuid); echo "$uuid" >"$STATE/osd-uuid"; fi
  id=$(ceph_cli osd new "$uuid" 0) || die 1 "ceph osd new failed"
  [[ $id == 0 ]] || die 1 "expected OSD id 0, the cluster gave '$id'"
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$uuid" >"$STATE/log/mkfs-osd.log" 2>&1 ||
    { cat "$STATE/log/mkfs-osd.log" >&2; die 1 "ceph-osd --mkfs failed"; }
  touch "$STATE/.osd-created"
}

osd_up() { ceph_cli osd dump 2>/dev/null | grep -qE '^osd\.0 up +in'; }

start_osd() {
  if ! pid_of osd.0 >/dev/null; then
    log "starting ceph-osd"
    ceph-osd -c "$CONF" -i 0 2>>"$STATE/log/osd.0.stderr" 9>&- || { log_tails; die 1 "ceph-osd did not start"; }
  fi
  wait_for "the OSD to be up" osd_up
}

create_user() {
  [[ -f $STATE/.user-created ]] && return 0
  log "creating the S3 user $S3_USER"
  if ! timeout 120 radosgw-admin -c "$CONF" -n client.rgw.a user info --uid "$S3_USER" >/dev/null 2>&1; then
    timeout 120 radosgw-admin -c "$CONF" -n client.rgw.a user create --uid "$S3_USER" \
      --display-name "AlexStorage tests" --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" \
      >"$STATE/log/user-create.log" 2>&1 ||
      { cat "$STATE/log/user-create.log" >&2; die 1 "radosgw-admin user create failed"; }
  fi
  touch "$STATE/.user-created"
}

start_gateway() {
  if ! pid_of client.rgw.a >/dev/null; then
    log "starting radosgw on 127.0.0.1:$PORT"
    mkdir -p "$STATE/rgw/a"
    radosgw -c "$CONF" -n client.rgw.a 2>>"$STATE/log/client.rgw.a.stderr" 9>&- ||
      { log_tails; die 1 "radosgw did not start"; }
  fi
  wait_for "the gateway to answer S3 on 127.0.0.1:$PORT" gateway_answers
}

# ---------------------------------------------------------------- stopping

# stop_daemon <name>: SIGTERM, wait up to 30 s for the process to exit, then SIGKILL.
stop_daemon() {
  local pid i
  pid=$(pid_of "$1") || { rm -f "$STATE/run/$1.pid"; return 0; }
  log "stopping $1 (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$1 (pid $pid) ignored SIGTERM for 30 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$STATE/run/$1.pid"
}

stop_all() {
  [[ -d $STATE/run ]] || return 0
  stop_daemon client.rgw.a
  stop_daemon osd.0
  stop_daemon mon.a
}

# ---------------------------------------------------------------- commands

# Serialises start/stop/destroy between concurrent invocations. The daemons are started with fd 9
# closed: they would otherwise inherit it and hold the lock for as long as they run.
with_lock() {
  mkdir -p "$(dirname "$STATE")"
  exec 9>"$STATE.lock"
  flock 9
}

cmd_start() {
  require_root
  with_lock
  if gateway_answers; then
    pid_of client.rgw.a >/dev/null && return 0
    die 1 "something that is not this script's gateway (state $STATE) already answers on 127.0.0.1:$PORT"
  fi
  install_packages
  mkdir -p "$STATE/run" "$STATE/log"
  [[ -f $CONF ]] || write_conf "$(cat /proc/sys/kernel/random/uuid)"
  create_mon
  start_mon
  create_osd
  start_osd
  create_user
  start_gateway
  log "ready: http://127.0.0.1:$PORT (state in $STATE)"
}

cmd_start_gateway() {
  require_root
  with_lock
  [[ -f $STATE/.user-created ]] || die 1 "no cluster in $STATE: run 'start' first"
  pid_of mon.a >/dev/null && pid_of osd.0 >/dev/null ||
    die 1 "the cluster in $STATE is not running: run 'start'"
  start_gateway
}

cmd_stop_gateway() { require_root; with_lock; stop_daemon client.rgw.a; }
cmd_stop() { require_root; with_lock; stop_all; }

cmd_destroy() {
  require_root
  with_lock
  stop_all
  rm -rf "$STATE"
  log "removed $STATE"
}

cmd_env() {
  cat <<EOF
S3_ENDPOINT=http://127.0.0.1:$PORT
S3_ACCESS_KEY_ID=$ACCESS_KEY
S3_SECRET_ACCESS_KEY=$SECRET_KEY
S3_REGION=us-east-1
S3_FORCE_PATH_STYLE=true
EOF
}

usage() {
  sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  start-gateway) cmd_start_gateway ;;
  stop-gateway) cmd_stop_gateway ;;
  restart-gateway) cmd_stop_gateway; cmd_start_gateway ;;
  destroy) cmd_destroy ;;
  env) cmd_env ;;
  status) gateway_answers ;;
  *) usage ;;
esac
