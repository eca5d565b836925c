#!/bin/bash
# The packages as an operator meets them: builds the .deb and .rpm with scripts/package,
# installs the .deb with dpkg, starts the installed atriumd the way atriumd.service does
# (its user, environment and command line, with a temporary config and data dir on
# 127.0.0.1), calls server.ping with curl, creates a room with the installed atriumctl,
# publishes and plays WebRTC media through it (atrium-sfubench), stops it, checks the unit
# with systemd-analyze, upgrades to a newer version (database and changed config kept),
# removes (data and config kept, nothing else) and purges (all gone). Then checks the
# .rpm with rpm -qlp/-qRp and runs lintian on the .deb.
#
# Needs root and a Debian system without an atrium package or its data: it installs and
# purges the package and leaves the machine without it. Missing tools (dpkg-dev,
# debhelper, lintian, rpm) are installed with apt-get.
# Env: ATRIUM_SFUBENCH (atrium-sfubench of a build, required), ATRIUM_PKG_WORK (work
# folder, default /tmp/atrium-package-test), ATRIUM_PKG_REUSE=1 (skip the build and use the
# packages already in $ATRIUM_PKG_WORK/dist).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=${ATRIUM_PKG_WORK:-/tmp/atrium-package-test}
sfubench=${ATRIUM_SFUBENCH:?set ATRIUM_SFUBENCH to a built atrium-sfubench}

log() { echo "package-test: [${SECONDS}s] $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

if ((EUID != 0)) || ! command -v dpkg >/dev/null; then
  log "skipped: needs root on a Debian system"
  exit 77
fi
if [[ "$(dpkg-query -W -f='${Status}' atrium 2>/dev/null)" != "" &&
      "$(dpkg-query -W -f='${Status}' atrium 2>/dev/null)" != "unknown ok not-installed" ]]; then
  fail "the atrium package is on this machine already ($(dpkg-query -W -f='${Status}' atrium)); this test installs and purges it: remove it first (dpkg --purge atrium)"
fi
for p in /etc/atrium /var/lib/atrium /var/cache/atrium; do
  [[ ! -e $p ]] || fail "$p exists: this test would purge it; move it away first"
done

missing=()
for pkg in dpkg-dev debhelper lintian rpm; do
  [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
fi

had_user=0
getent passwd atrium >/dev/null && had_user=1
tmp=$(mktemp -d /tmp/atrium-pkgtest.XXXXXX)
chmod 0755 "$tmp"
installed=0
server_pid=
cleanup() {
  local rc=$?
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if ((installed)); then
    dpkg --purge atrium >/dev/null 2>&1 || true
    rm -rf /var/cache/atrium
  fi
  if ((!had_user)) && getent passwd atrium >/dev/null; then
    deluser --system --quiet atrium >/dev/null 2>&1 || true
    getent group atrium >/dev/null && delgroup --system --quiet atrium >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# ------------------------------------------------------------------ build
dist=$work/dist
if [[ ${ATRIUM_PKG_REUSE:-0} != 1 ]]; then
  log "building the packages (scripts/package) in $work"
  rm -rf "$dist"
  ATRIUM_DIST=$dist ATRIUM_PKG_BUILD=$work/build ATRIUM_PKG_JOBS=2 "$root/scripts/package" >"$tmp/package.log" 2>&1 ||
    { tail -n 40 "$tmp/package.log" >&2; fail "scripts/package failed"; }
fi
shopt -s nullglob
debs=("$dist"/atrium_*_"$(dpkg --print-architecture)".deb)
rpms=("$dist"/atrium-[0-9]*.rpm)
shopt -u nullglob
((${#debs[@]} == 1)) || fail "expected one atrium .deb in $dist, found ${#debs[@]}"
((${#rpms[@]} == 1)) || fail "expected one atrium .rpm in $dist, found ${#rpms[@]}"
deb=${debs[0]}
rpmfile=${rpms[0]}
version=$(dpkg-deb -f "$deb" Version)
log "built $(basename "$deb") and $(basename "$rpmfile")"

# ------------------------------------------------------------------ install
installed=1
dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log" >&2; fail "dpkg -i failed"; }
[[ "$(dpkg-query -W -f='${Status} ${Version}' atrium)" == "install ok installed $version" ]] || fail "not installed"
for f in /usr/sbin/atriumd /usr/bin/atriumctl /usr/share/atrium/web/index.html /usr/share/atrium/sql/001_initial.sql \
         /etc/atrium/atrium.conf /lib/systemd/system/atriumd.service /usr/share/man/man8/atriumd.8.gz \
         /usr/share/man/man1/atriumctl.1.gz /usr/share/doc/atrium/copyright; do
  [[ -e $f ]] || fail "$f is not installed"
done
if [[ -d $root/pipelines ]]; then
  [[ -d /usr/share/atrium/pipelines ]] || fail "pipelines/ is not installed"
fi
if [[ -f $root/plugins/meson.build ]]; then
  GST_REGISTRY=$tmp/registry.bin gst-inspect-1.0 atrium >/dev/null || fail "gst-inspect-1.0 does not list the atrium plugin"
fi
getent passwd atrium >/dev/null || fail "no atrium user"
[[ "$(stat -c '%U %a' /var/lib/atrium)" == "atrium 700" ]] || fail "/var/lib/atrium: $(stat -c '%U %a' /var/lib/atrium)"
[[ "$(stat -c '%U:%G %a' /etc/atrium/atrium.conf)" == "root:atrium 640" ]] || fail "atrium.conf: $(stat -c '%U:%G %a' /etc/atrium/atrium.conf)"
dpkg -L atrium | sort >"$tmp/files"
/usr/sbin/atriumd --version | grep -q "^atriumd ${version%-*}$" || fail "atriumd --version: $(/usr/sbin/atriumd --version)"

# ------------------------------------------------------------------ run as the unit does
unit=/lib/systemd/system/atriumd.service
key() { sed -n "s/^$1=//p" "$unit"; }
user=$(key User)
group=$(key Group)
umask_=$(key UMask)
read -r -a exec_start <<<"$(key ExecStart)"
mapfile -t unit_env < <(key Environment)
[[ $user == atrium && ${exec_start[0]} == /usr/sbin/atriumd ]] || fail "unexpected unit: User=$user ExecStart=${exec_start[*]}"
# What systemd makes before it starts the service: StateDirectory= and CacheDirectory=.
install -d -m 0700 -o "$user" -g "$group" /var/lib/atrium /var/cache/atrium

port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
admin_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
# start_daemon LOG ARGS...: ExecStart with ARGS appended, as User=/Group=, with the unit's
# Environment=, UMask=, NoNewPrivileges= and an empty CapabilityBoundingSet=.
start_daemon() {
  local logfile=$1
  shift
  (
    umask "$umask_"
    exec setpriv --reuid="$user" --regid="$group" --init-groups --no-new-privs --inh-caps=-all --bounding-set=-all \
      env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/var/lib/atrium \
      LANG=C.UTF-8 "${unit_env[@]}" ATRIUM_ADMIN_PASSWORD="$admin_password" "${exec_start[@]}" "$@"
  ) >"$logfile" 2>&1 &
  server_pid=$!
  local i
  for i in $(seq 200); do
    grep -q "listening on " "$logfile" && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$logfile" >&2; fail "atriumd exited at start"; }
    sleep 0.1
  done
  cat "$logfile" >&2
  fail "atriumd did not start"
}
stop_daemon() {
  kill -TERM "$server_pid"
  local rc=0
  wait "$server_pid" || rc=$?
  server_pid=
  ((rc == 0)) || fail "atriumd exited with $rc on SIGTERM"
}
rpc() {  # rpc BASE METHOD PARAMS [TOKEN]
  curl -fsS "$1/rpc" ${4:+-H "Authorization: Bearer $4"} \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}"
}

p=$(port)
mkdir -p "$tmp/run"
chown "$user:$group" "$tmp/run"
cat >"$tmp/run/atrium.conf" <<CONF
[server]
listen=127.0.0.1:$p
data-dir=$tmp/run/data
[ice]
addresses=127.0.0.1
CONF
base=http://127.0.0.1:$p
start_daemon "$tmp/run/atriumd.log" --config "$tmp/run/atrium.conf"
log "installed atriumd runs as $(ps -o user= -p "$server_pid") (pid $server_pid) on $base"
[[ "$(ps -o user= -p "$server_pid")" == atrium ]] || fail "atriumd does not run as atrium"
[[ "$(stat -c '%U %a' "$tmp/run/data/atrium.db")" == "atrium 600" ]] || fail "database: $(stat -c '%U %a' "$tmp/run/data/atrium.db")"

pong=$(rpc "$base" server.ping '{}')
grep -q '"pong":true' <<<"$pong" || fail "server.ping: $pong"
grep -q "\"version\":\"${version%-*}\"" <<<"$pong" || fail "server.ping version: $pong"
# Read the whole page first: grep -q stopping early would fail curl's write (pipefail).
page=$(curl -fsS "$base/") || fail "the web client is not served"
grep -qi "<html" <<<"$page" || fail "the web client page is not HTML"

export XDG_CONFIG_HOME=$tmp/xdg
ctl() { /usr/bin/atriumctl --server "$base" "$@"; }
ATRIUM_PASSWORD=$admin_password ctl login admin >/dev/null || fail "atriumctl login"
ctl ping >/dev/null || fail "atriumctl ping"
room=$(ctl --json room create --name "packaged" --public)
grep -q '"roomId"' <<<"$room" || fail "atriumctl room create: $room"
ctl --json room list | grep -q '"packaged"' || fail "room list lacks the new room"

log "WebRTC publish and play through the installed atriumd"
ATRIUM_ADMIN_PASSWORD=$admin_password "$sfubench" --url "ws://127.0.0.1:$p/rpc" --pid "$server_pid" \
  --subscribers 1 --settle 1 --duration 2 >"$tmp/sfubench.log" 2>&1 ||
  { cat "$tmp/sfubench.log" >&2; tail -n 20 "$tmp/run/atriumd.log" >&2; fail "publish/play failed"; }
cat "$tmp/sfubench.log" >&2
stop_daemon
grep -q "atriumd: stopping" "$tmp/run/atriumd.log" || fail "no clean stop in the log"

if command -v systemd-analyze >/dev/null; then
  man_check=--man=yes
  command -v man >/dev/null || man_check=--man=no
  systemd-analyze verify "$man_check" "$unit" || fail "systemd-analyze verify $unit"
  systemd-analyze security --offline=true "$unit" 2>/dev/null | tail -n 1 >&2 || true
else
  log "systemd-analyze is not installed: the unit was not verified"
fi

# ------------------------------------------------------------------ upgrade
# Version N runs with the packaged config and data dir (only the listen address and ICE
# on the command line), then version N+1 (the same files, a higher version) replaces it.
p=$(port)
base=http://127.0.0.1:$p
start_daemon "$tmp/n.log" --listen "127.0.0.1:$p" --ice-addresses 127.0.0.1
token=$(rpc "$base" auth.login "{\"account\":\"admin\",\"password\":\"$admin_password\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["token"])')
rpc "$base" room.create '{"name":"kept-across-upgrade","mode":"sfu","type":2}' "$token" | grep -q roomId ||
  fail "room.create before the upgrade"
stop_daemon
[[ -f /var/lib/atrium/atrium.db ]] || fail "no database in /var/lib/atrium"
secret=$(sha256sum /var/lib/atrium/jwt.secret)
echo "# changed by the operator" >>/etc/atrium/atrium.conf

next=$version+upgradetest1
rm -rf "$tmp/next"
dpkg-deb -R "$deb" "$tmp/next"
sed -i "s/^Version: .*/Version: $next/" "$tmp/next/DEBIAN/control"
dpkg-deb --root-owner-group -b "$tmp/next" "$tmp/atrium_next.deb" >/dev/null
dpkg -i "$tmp/atrium_next.deb" >"$tmp/dpkg-upgrade.log" 2>&1 || { cat "$tmp/dpkg-upgrade.log" >&2; fail "upgrade failed"; }
[[ "$(dpkg-query -W -f='${Version}' atrium)" == "$next" ]] || fail "upgrade did not install $next"
grep -q "^# changed by the operator$" /etc/atrium/atrium.conf || fail "the upgrade replaced the changed atrium.conf"
[[ "$(sha256sum /var/lib/atrium/jwt.secret)" == "$secret" ]] || fail "the upgrade changed jwt.secret"
start_daemon "$tmp/n1.log" --listen "127.0.0.1:$p" --ice-addresses 127.0.0.1
rooms=$(rpc "$base" room.list '{}' "$token")
grep -q kept-across-upgrade <<<"$rooms" || fail "the room (or the token) did not survive the upgrade: $rooms"
stop_daemon
log "upgrade $version -> $next kept the database, the token secret and the changed config"

# ------------------------------------------------------------------ remove, purge
dpkg -r atrium >"$tmp/dpkg-remove.log" 2>&1 || { cat "$tmp/dpkg-remove.log" >&2; fail "dpkg -r failed"; }
[[ "$(dpkg-query -W -f='${Status}' atrium)" == "deinstall ok config-files" ]] || fail "after dpkg -r: $(dpkg-query -W -f='${Status}' atrium)"
left=()
while IFS= read -r f; do
  [[ $f == /etc/atrium/atrium.conf ]] && continue
  [[ -e $f && ! -d $f ]] && left+=("$f")
done <"$tmp/files"
for d in /usr/share/atrium /usr/share/doc/atrium; do [[ -e $d ]] && left+=("$d"); done
((${#left[@]} == 0)) || fail "left after dpkg -r: ${left[*]}"
[[ -f /etc/atrium/atrium.conf && -f /var/lib/atrium/atrium.db ]] || fail "dpkg -r removed the config or the data"
dpkg -P atrium >"$tmp/dpkg-purge.log" 2>&1 || { cat "$tmp/dpkg-purge.log" >&2; fail "dpkg -P failed"; }
installed=0
for p in /etc/atrium /var/lib/atrium /var/cache/atrium; do
  [[ ! -e $p ]] || fail "$p is left after purge"
done
[[ -z "$(dpkg-query -W -f='${Status}' atrium 2>/dev/null)" || "$(dpkg-query -W -f='${Status}' atrium 2>/dev/null)" == "unknown ok not-installed" ]] ||
  fail "after purge: $(dpkg-query -W -f='${Status}' atrium)"
log "removal kept data and config, purge removed them"

# ------------------------------------------------------------------ rpm
rpm -qlp "$rpmfile" >"$tmp/rpm-files" 2>/dev/null
for f in /usr/sbin/atriumd /usr/bin/atriumctl /usr/share/atrium/web/index.html /usr/share/atrium/sql/001_initial.sql \
         /etc/atrium/atrium.conf /lib/systemd/system/atriumd.service /usr/share/man/man8/atriumd.8 \
         /usr/share/man/man1/atriumctl.1 /var/lib/atrium; do
  grep -qx "$f\(\.gz\)\?" "$tmp/rpm-files" || fail "the rpm lacks $f"
done
if [[ -f $root/plugins/meson.build ]]; then
  grep -q '/gstreamer-1.0/libgstatrium.so$' "$tmp/rpm-files" || fail "the rpm lacks the GStreamer plugin"
fi
rpm -qcp "$rpmfile" 2>/dev/null | grep -qx /etc/atrium/atrium.conf || fail "atrium.conf is not an rpm config file"
rpm -qRp "$rpmfile" >"$tmp/rpm-requires" 2>/dev/null
for r in gstreamer1-plugins-good gstreamer1-plugins-bad-free libnice-gstreamer1 glib-networking 'libgstreamer-1.0.so.0' \
         'libsoup-3.0.so.0' 'libsqlite3.so.0' 'libsodium.so'; do
  grep -q "^$r" "$tmp/rpm-requires" || fail "rpm -qRp lacks $r: $(tr '\n' ' ' <"$tmp/rpm-requires")"
done
rpm -qp --scripts "$rpmfile" 2>/dev/null | grep -q useradd || fail "the rpm does not create the atrium user"
log "rpm: $(wc -l <"$tmp/rpm-files") paths, $(wc -l <"$tmp/rpm-requires") requirements"

# ------------------------------------------------------------------ lintian
lintian --fail-on error --display-level '>=warning' "$deb" >"$tmp/lintian.log" 2>&1 || {
  cat "$tmp/lintian.log" >&2
  fail "lintian found errors"
}
cat "$tmp/lintian.log" >&2
log "lintian: no errors"
log "ok"
