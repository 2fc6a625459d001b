#!/usr/bin/env bash
# ensure-postgres.sh makes sure PostgreSQL answers on 127.0.0.1:5432, as the
# dev configuration contract of DESIGN.md expects (run by `make deps`):
#   1. already answering: nothing to do;
#   2. installed (Debian cluster under /etc/postgresql) but stopped: start it;
#   3. not installed: apt-get install postgresql, let that fresh throwaway
#      cluster trust loopback connections, and start it.
# It never changes the authentication of a cluster it did not install.
set -euo pipefail

readonly HOST=127.0.0.1 PORT=5432
readonly PG_ETC=${PG_ETC:-/etc/postgresql}

log() { echo "ensure-postgres: $*" >&2; }

answering() {
	if command -v pg_isready >/dev/null 2>&1; then
		pg_isready -q -h "$HOST" -p "$PORT"
	else
		(exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
	fi
}

wait_answering() {
	for _ in $(seq 1 30); do
		answering && return 0
		sleep 1
	done
	return 1
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo -n "$@"
	else
		log "need root (or sudo) to run: $*"
		return 1
	fi
}

# newest_version prints the newest PostgreSQL major version with a "main"
# cluster, or nothing.
newest_version() {
	local v found=""
	[ -d "$PG_ETC" ] || return 0
	for v in $(ls "$PG_ETC" | sort -V); do
		[ -d "$PG_ETC/$v/main" ] && found=$v
	done
	echo "$found"
}

if answering; then
	log "PostgreSQL answers on $HOST:$PORT"
	exit 0
fi

installed_now=false
if [ -z "$(newest_version)" ]; then
	log "PostgreSQL is not installed; installing it with apt-get"
	as_root apt-get update
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
	installed_now=true
fi

version=$(newest_version)
if [ -z "$version" ]; then
	log "no cluster found under $PG_ETC after installing postgresql"
	exit 1
fi

if $installed_now; then
	# A fresh dev cluster: trust loopback, like this project's machines.
	hba="$PG_ETC/$version/main/pg_hba.conf"
	log "trusting loopback connections in $hba"
	as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
fi

log "starting cluster $version/main"
as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start

if ! wait_answering; then
	log "cluster $version/main started but nothing answers on $HOST:$PORT (check its port in $PG_ETC/$version/main/postgresql.conf)"
	exit 1
fi
log "PostgreSQL answers on $HOST:$PORT"
