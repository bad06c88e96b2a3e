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
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx)
command -v caddy >/dev/null 2>&1 || need+=(caddy)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "test.sh: installing ${need[*]} for the integration tests"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		# Install the servers without starting them: the tests start
		# their own, on loopback ports of their own.
		policy=/usr/sbin/policy-rc.d
		if [ ! -e "$policy" ]; then
			printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy"
			trap 'rm -f "$policy"' EXIT
		fi
		apt-get install -y -qq "${need[@]}" >/dev/null
		rm -f "$policy"
		trap - EXIT
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
	export ASKBRIDGE_REQUIRE_RECIPE_TOOLS=1
fi

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "test.sh: gofmt would change:" $unformatted >&2
	exit 1
fi
go mod tidy -diff
go vet ./...
# Verbose into a log, the results and failures on the screen, then the
# tests that were skipped, so a missing tool never goes unnoticed.
log=$(mktemp -t askbridge-test.XXXXXX.log)
status=0
go test -race -count=1 -timeout 30m -v ./... >"$log" 2>&1 || status=$?
grep -E '^(ok|FAIL|\?|panic:|--- FAIL|\s+--- FAIL|\s+[A-Za-z0-9_]+\.go:[0-9]+: )' "$log" | grep -v '^\s*logger\.go:' || true
skipped=$(grep -E '^\s*--- SKIP' "$log" | sed -E 's/^\s*--- SKIP: //' || true)
if [ -n "$skipped" ]; then
	echo "test.sh: skipped tests:"
	echo "$skipped" | sed 's/^/  /'
else
	echo "test.sh: no test was skipped"
fi
if [ "$status" != 0 ]; then
	echo "test.sh: the whole log is $log" >&2
else
	rm -f "$log"
fi
exit "$status"
