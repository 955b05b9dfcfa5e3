#!/usr/bin/env bash
# Runs every benchmark group with fixed flags, keeps the raw output and renders docs/BENCHMARKS.md
# from it (scripts/benchreport): machine facts, medians and ranges, targets, and ratios against
# baselines measured in the same run. Works offline; groups that need ../shared/fixtures report
# their benchmarks as skipped when it is absent.
#
#   make bench                 # full run (~10 min): docs/bench/raw/*, docs/BENCHMARKS.md
#   BENCH_QUICK=1 make bench   # smoke run (~1-2 min) into a temporary directory
#
# Environment: BENCH_QUICK=1 (short runs), BENCH_OUT (directory for meta.txt and raw/),
# BENCH_REPORT (the Markdown file to write), BENCH_ONLY (space-separated group names to run), GO.
set -uo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	OUT=${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/hyperstack-bench.XXXXXX")}
	REPORT=${BENCH_REPORT:-$OUT/BENCHMARKS.md}
	COMMAND="BENCH_QUICK=1 make bench"
else
	OUT=${BENCH_OUT:-docs/bench}
	REPORT=${BENCH_REPORT:-docs/BENCHMARKS.md}
	COMMAND="make bench"
fi
RAW=$OUT/raw
rm -rf "$RAW"
mkdir -p "$RAW"

NPROC=$(nproc 2>/dev/null || echo 1)
if [ -f ../shared/fixtures/hyperstack/OreStream.stack.json ]; then
	SHARED="present"
else
	SHARED="absent: the groups that need ../shared/fixtures report their benchmarks as skipped"
fi

# Flags: full runs take the median of 3; quick runs one short run of everything.
if [ "$QUICK" = 1 ]; then
	COUNT="-count 1"
	TIME="-benchtime 100ms"
	RECORD_N=20000x
	RECORD_COUNT="-count 1"
	RSS_EVENTS=200000x
	SOAK_MINUTES=0.1
	INSPECT_UPDATES=20000
	REPLAY_TIME="-benchtime 1x"
	WS_SECONDS=1
	WS_LATENCY_SECONDS=1
	WS_RUNS=1
else
	COUNT="-count 3"
	TIME=""
	RECORD_N=300000x
	RECORD_COUNT="-count 5" # fsync- and page-cache-bound: runs of one command spread by ±20%
	RSS_EVENTS=10000000x
	SOAK_MINUTES=1
	INSPECT_UPDATES=1000000
	REPLAY_TIME=""
	WS_SECONDS=5
	WS_LATENCY_SECONDS=20 # p99 of 10 bursts a second: 200 bursts per run, not 50
	WS_RUNS=3
fi
# Benchmarks named BenchmarkZZ… are scratch work and never part of the report.
NOZZ="^Benchmark([^Z]|Z[^Z])"

loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown; }
load1() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo unknown; }

START=$SECONDS
{
	echo "date=$(date -u '+%Y-%m-%d %H:%M:%S')"
	echo "command=$COMMAND"
	echo "quick=$QUICK"
	echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	# Tracked files changed in the working tree, apart from this script's own output.
	changed=$(git status --porcelain --untracked-files=no 2>/dev/null | cut -c4- |
		grep -vxF "$REPORT" | grep -v "^${OUT%/}/" | head -20 | paste -sd' ' -)
	if [ -n "$changed" ]; then echo "dirty=1"; else echo "dirty=0"; fi
	echo "changed=$changed"
	echo "go=$($GO version)"
	echo "kernel=$(uname -sr)"
	echo "cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
	echo "nproc=$NPROC"
	echo "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo 2>/dev/null)"
	echo "load_start=$(loadavg)"
	echo "shared=$SHARED"
} >"$OUT/meta.txt"

# run GROUP PROCS COMMAND: runs COMMAND (a shell command line, recorded verbatim in the report) and
# keeps its output. PROCS is the GOMAXPROCS the benchmarks run with (go test names carry it).
run() {
	local group=$1 procs=$2 cmd=${3//  / }
	if [ -n "${BENCH_ONLY:-}" ] && [[ " $BENCH_ONLY " != *" $group "* ]]; then
		return
	fi
	local t0=$SECONDS l0
	l0=$(load1)
	echo "bench: $group: $cmd" >&2
	printf '%s\n' "$cmd" >"$RAW/$group.cmd"
	(eval "$cmd") >"$RAW/$group.txt" 2>&1
	local rc=$?
	# Keep machine paths out of the kept output.
	sed -i -e "s|$PWD/|./|g" -e "s|$(dirname "$PWD")/|../|g" "$RAW/$group.txt"
	printf 'exit=%s\nseconds=%s\nload_start=%s\nload_end=%s\nprocs=%s\n' \
		"$rc" "$((SECONDS - t0))" "$l0" "$(load1)" "$procs" >"$RAW/$group.meta"
	if [ "$rc" != 0 ]; then
		echo "bench: $group: exit status $rc (see $RAW/$group.txt)" >&2
	fi
}

# The go test commands; -v makes skipped benchmarks (missing ../shared) visible in the output.
GT="$GO test -v -run '^\$' -benchmem"

# Issue 2: recording.
run record "$NPROC" "$GT -bench '^Benchmark(RecordVsRawBolt|RecordLoopback|RecordLoopbackFullServer|RawBoltBatchedPuts)\$' -benchtime $RECORD_N $RECORD_COUNT -timeout 30m ./internal/record"
run record-soak "$NPROC" "HYPERSTACK_SOAK_MINUTES=$SOAK_MINUTES go test -v -count 1 -run '^TestSoakRSS\$' -timeout 30m ./internal/record"
# Issue 3: extraction and decoding, one core.
run extract 1 "$GT -bench '$NOZZ' -cpu 1 $TIME $COUNT ./internal/extract"
run idl 1 "$GT -bench '$NOZZ' -cpu 1 $TIME $COUNT ./internal/idl"
# Issue 4: decode + VM, one core; memory after many events.
run pipeline 1 "$GT -bench '^BenchmarkORE(Unmarshal|Feed)\$' -cpu 1 $TIME $COUNT ./internal/pipeline"
run vm 1 "$GT -bench '^BenchmarkOre(Traffic|DecodeOnly)\$' -cpu 1 $TIME $COUNT ./internal/vm"
run pipeline-rss "$NPROC" "$GT -bench '^BenchmarkOREPipelineRSS\$' -benchtime $RSS_EVENTS -count 1 -timeout 30m ./internal/pipeline"
# Issue 5: simulator, and the gRPC paths it stands on.
run sim "$NPROC" "$GT -bench '^Benchmark(Generate|ServeLoopback)' $TIME $COUNT ./internal/sim"
run grpc "$NPROC" "$GT -bench '^Benchmark(SubscribeLoopback|YellowstoneRun)\$' $TIME $COUNT ./internal/geyserserver ./internal/source"
# Issue 6: WebSocket server.
WS="$GO run ./internal/serve/benchtool"
run ws-fanout "$NPROC" "for i in \$(seq $WS_RUNS); do $WS -mode fanout -clients 1000 -seconds $WS_SECONDS || exit; done"
run ws-latency "$NPROC" "for i in \$(seq $WS_RUNS); do $WS -mode latency -clients 1000 -rate 10000 -seconds $WS_LATENCY_SECONDS || exit; done"
run ws-latency-inproc "$NPROC" "for i in \$(seq $WS_RUNS); do $WS -mode latency -latency-in-process -clients 1000 -rate 10000 -seconds $WS_SECONDS || exit; done"
run ws-idle "$NPROC" "for i in \$(seq $WS_RUNS); do $WS -mode idle -clients 1000 || exit; done"
run serve "$NPROC" "$GT -bench '^Benchmark(Fanout|Apply|Snapshot|ParseORE)\$' $TIME $COUNT ./internal/serve ./internal/projection ./internal/stack"
# Issue 7: replay and inspect.
run replay "$NPROC" "HYPERSTACK_BENCH_INSPECT_UPDATES=$INSPECT_UPDATES $GT -bench '^Benchmark(ReplayORE|ReplayOREDefaultGC|ScanORE|ReplayOREWriteGolden|VerifyORE|InspectEntity)\$' $REPLAY_TIME $COUNT -timeout 30m ./internal/replay"

{
	echo "end_date=$(date -u '+%Y-%m-%d %H:%M:%S')"
	echo "load_end=$(loadavg)"
	echo "seconds=$((SECONDS - START))"
} >>"$OUT/meta.txt"

$GO run ./scripts/benchreport -dir "$OUT" -out "$REPORT" || exit 1
echo "bench: wrote $REPORT (raw output in $RAW) in $((SECONDS - START)) s" >&2
