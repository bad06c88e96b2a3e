#!/usr/bin/env bash
# Runs askbridge's whole test suite: formatting, vet, and every test with the
# race detector, including the integration tests against a real Prosody and
# ejabberd on loopback and the systemd unit check. As root on Debian it first
# installs what those tests need (prosody, ejabberd, systemd,
# python3-slixmpp, a third-party Jabber client, and chromium, which renders
# the statistics dashboard headless); otherwise the
# tests whose tools are missing are skipped, except Prosody's, which the
# suite cannot do without.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v prosody >/dev/null 2>&1 || need+=(prosody)
[ -x /usr/sbin/ejabberdctl ] || command -v ejabberdctl >/dev/null 2>&1 || need+=(ejabberd)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
/usr/bin/python3 -c 'import slixmpp' >/dev/null 2>&1 || need+=(python3-slixmpp)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "test.sh: installing ${need[*]} for the integration tests"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq "${need[@]}" >/dev/null
	elif ! command -v prosody >/dev/null 2>&1; then
		echo "test.sh: Prosody is missing; install it: sudo apt-get install -y prosody" >&2
		exit 1
	else
		echo "test.sh: ${need[*]} missing; their tests are skipped (sudo apt-get install -y ${need[*]})" >&2
	fi
fi
export ASKBRIDGE_REQUIRE_PROSODY=1
if [ "$(id -u)" = 0 ]; then
	export ASKBRIDGE_REQUIRE_EJABBERD=1 ASKBRIDGE_REQUIRE_SYSTEMD_ANALYZE=1 ASKBRIDGE_REQUIRE_SLIXMPP=1 ASKBRIDGE_REQUIRE_CHROMIUM=1
fi

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "test.sh: gofmt would change:" $unformatted >&2
	exit 1
fi
go vet ./...
go test -race -count=1 -timeout 30m ./...
