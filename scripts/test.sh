#!/usr/bin/env bash
# Runs askbridge's whole test suite: formatting, vet, and every test with the
# race detector, including the integration tests against a real Prosody on
# loopback. Installs Prosody first when it is missing and we are root.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v prosody >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "test.sh: installing Prosody (integration tests need it)"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq prosody >/dev/null
	else
		echo "test.sh: Prosody is missing; install it: sudo apt-get install -y prosody" >&2
		exit 1
	fi
fi
export ASKBRIDGE_REQUIRE_PROSODY=1

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "test.sh: gofmt would change:" $unformatted >&2
	exit 1
fi
go vet ./...
go test -race -count=1 -timeout 20m ./...
