#!/usr/bin/env bash
# The full test suite: formatting, vet, Go tests (with the race detector on the packages that run
# goroutines) and the end-to-end suite with the official npm clients. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

export GOFLAGS="${GOFLAGS:-} -mod=readonly"

echo "== gofmt"
unformatted=$(gofmt -l cmd internal fixtures e2e 2>/dev/null || true)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

# Packages whose code runs goroutines get the race detector; pure decoding/compute packages run
# without it (it slows them several times and finds nothing there).
race_re='/(cmd/hyperstack/command|internal/(source|geyserserver|archive|record|serve|projection|pipeline|replay|sim))(/|$)'
all=$(go list ./...)
race_pkgs=$(printf '%s\n' "$all" | grep -E "$race_re" || true)
plain_pkgs=$(printf '%s\n' "$all" | grep -vE "$race_re" || true)

echo "== go test (race)"
# shellcheck disable=SC2086
[ -z "$race_pkgs" ] || go test -race -count=1 -timeout 15m $race_pkgs
echo "== go test"
# shellcheck disable=SC2086
[ -z "$plain_pkgs" ] || go test -count=1 -timeout 15m $plain_pkgs

if [ -f e2e/run.sh ]; then
	echo "== end-to-end (official npm clients)"
	bash e2e/run.sh
fi
