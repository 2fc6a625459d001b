#!/usr/bin/env bash
# ensure-quickfix.sh makes sure the FIX interop test (fix/interop) can build
# its QuickFIX C++ client: g++ and Debian's libquickfix-dev (QuickFIX 1.15.1
# headers and libquickfix.so). Run by `make deps`; prints nothing when both
# are there, installs what is missing with apt-get otherwise.
set -euo pipefail

log() { echo "ensure-quickfix: $*" >&2; }

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

have_quickfix() {
	[ -f /usr/include/quickfix/Application.h ] &&
		compgen -G '/usr/lib/*/libquickfix.so' >/dev/null
}

missing=()
command -v g++ >/dev/null 2>&1 || missing+=(g++)
have_quickfix || missing+=(libquickfix-dev)
[ ${#missing[@]} -eq 0 ] && exit 0

log "installing ${missing[*]} with apt-get"
install() { as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; }
if ! install; then
	# A fresh machine may have no package lists yet.
	as_root apt-get update -q
	install
fi

if ! command -v g++ >/dev/null 2>&1 || ! have_quickfix; then
	log "g++ or QuickFIX C++ still missing after apt-get install ${missing[*]}"
	exit 1
fi
log "g++ and libquickfix-dev are installed"
