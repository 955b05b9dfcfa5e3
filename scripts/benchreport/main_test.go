package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func parseFile(t *testing.T, name string, procs int) *Output {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "run", "raw", name))
	require.NoError(t, err)
	defer f.Close()
	o, err := Parse(f, procs)
	require.NoError(t, err)
	return o
}

func TestParseGoTestOutput(t *testing.T) {
	o := parseFile(t, "extract.txt", 1)
	acc := o.Results["BenchmarkAccountUnmarshal"]
	require.NotNil(t, acc)
	require.Equal(t, []float64{750000, 700000, 800000}, acc.Metrics["updates/s"])
	require.Equal(t, []float64{1340, 1340, 1340}, acc.Metrics["ns/op"])
	require.Equal(t, []float64{7, 7, 7}, acc.Metrics["allocs/op"])
	require.Equal(t, []string{"ns/op", "MB/s", "cpu-updates/s", "updates/s", "B/op", "allocs/op"}, acc.Order)
	require.Equal(t, 3, acc.Runs())

	// A results line broken by other output is joined to its benchmark.
	tx := o.Results["BenchmarkTransferTxUnmarshal"]
	require.Equal(t, []float64{126000}, tx.Metrics["updates/s"])

	// -v prints the skip message before the marker; a failure's message comes after it.
	require.Equal(t, "shared fixtures not found at ../shared/fixtures/yellowstone/dp4-flat-index-tx.bin; skipping",
		o.Results["BenchmarkRealTxUnmarshal"].Skip)
	require.Equal(t, "boom", o.Results["BenchmarkZZScratch"].Fail)
	require.Empty(t, o.Results["BenchmarkRealTxUnmarshal"].Metrics)
}

func TestParseStripsOnlyTheGOMAXPROCSSuffix(t *testing.T) {
	in := "BenchmarkFanout/clients_1000-2   \t  10\t  79400000 ns/op\t 51500 frames/s\n" +
		"BenchmarkSub/size-100   \t  10\t  5 ns/op\n"
	o, err := Parse(strings.NewReader(in), 2)
	require.NoError(t, err)
	require.Equal(t, []float64{51500}, o.Results["BenchmarkFanout/clients_1000"].Metrics["frames/s"])
	require.Equal(t, []float64{5}, o.Results["BenchmarkSub/size-100"].Metrics["ns/op"])

	o, err = Parse(strings.NewReader(in), 1)
	require.NoError(t, err)
	require.Contains(t, o.Results, "BenchmarkFanout/clients_1000-2")
	require.Contains(t, o.Results, "BenchmarkSub/size-100")
}

func TestParseBenchtoolAndSoak(t *testing.T) {
	o := parseFile(t, "ws-fanout.txt", 2)
	require.Equal(t, []float64{100000, 80000, 120000}, o.Results["fanout/bare-gorilla"].Metrics["frames/s"])
	require.Equal(t, []float64{250000, 240000, 100000}, o.Results["fanout/serve-hub"].Metrics["frames/s"])
	require.Equal(t, []float64{300000, 200000, 150000}, o.Results["fanout/serve-apply"].Metrics["frames/s"])

	o = parseFile(t, "ws-latency.txt", 2)
	ours := o.Results["latency/serve"].Metrics
	require.Equal(t, []float64{2.72}, ours["p50-ms"])
	require.Equal(t, []float64{12.5}, ours["p99-ms"])
	require.Equal(t, []float64{1200}, ours["max-ms"])
	require.Equal(t, []float64{98}, ours["delivered-%"])
	require.InDelta(t, 0.95, o.Results["latency/bare-gorilla"].Metrics["p50-ms"][0], 1e-9)

	o = parseFile(t, "ws-idle.txt", 2)
	require.Equal(t, []float64{12.6}, o.Results["idle/serve"].Metrics["KB/conn-rss"])
	require.Equal(t, []float64{20.0}, o.Results["idle/bare-gorilla"].Metrics["KB/conn-rss"])

	o = parseFile(t, "record-soak.txt", 2)
	soak := o.Results["soak/record"].Metrics
	require.Equal(t, []float64{40}, soak["rss-start-MiB"])
	require.Equal(t, []float64{45}, soak["rss-end-MiB"])
	require.Equal(t, []float64{400000}, soak["updates"])
}

func TestMedianAndFormat(t *testing.T) {
	require.Equal(t, 2.0, median([]float64{3, 1, 2}))
	require.Equal(t, 2.5, median([]float64{4, 1, 2, 3}))
	require.Equal(t, "412,000", num(412345))
	require.Equal(t, "1,230,000", num(1234567))
	require.Equal(t, "612", num(612.4))
	require.Equal(t, "12.8", num(12.75))
	require.Equal(t, "0.0808", num(0.08081))
	require.Equal(t, []float64{0.5, 2}, ratios([]float64{1, 4}, []float64{2, 2}))
	// Unequal run counts: the ratio of the medians.
	require.InDelta(t, 2/1.5, ratios([]float64{1, 2, 3}, []float64{1, 2})[0], 1e-12)
}

func loadSample(t *testing.T) (*Report, string) {
	t.Helper()
	r, err := Load(filepath.Join("testdata", "run"))
	require.NoError(t, err)
	doc, err := r.Render()
	require.NoError(t, err)
	return r, string(doc)
}

// row returns the rendered table line of a measurement.
func row(t *testing.T, doc, label string) string {
	t.Helper()
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "| "+label+" |") {
			return line
		}
	}
	t.Fatalf("no row %q in the report", label)
	return ""
}

func TestReportTargetsAndRatios(t *testing.T) {
	_, doc := loadSample(t)

	// Median, spread and runs; the wall-clock median misses the target, the CPU-time median reaches it.
	require.Equal(t, "| SPL Token account update: unmarshal + extract + IDL decode | 250,000 updates/s | 226,000 – 350,000 | 3 | 476,000 updates/s | ≥ 400,000 updates/s | met on CPU time only |",
		row(t, doc, "SPL Token account update: unmarshal + extract + IDL decode"))
	// Ratios run by run (226k/750k, 350k/700k, 250k/800k), then the median.
	require.Contains(t, row(t, doc, "SPL Token account update: decode path / bare unmarshal"), "| 0.31× (3.2× the cost) | 0.30 – 0.50 | 3 |")
	// One run of each side: their ratio.
	require.Contains(t, row(t, doc, "transfer-shaped transaction: decode path / bare unmarshal"), "| 0.82× (1.2× the cost) |")
	require.Contains(t, row(t, doc, "transfer-shaped transaction: unmarshal + extract + IDL decode"), "| met |")

	// A ratio the benchmark reports itself.
	require.Contains(t, row(t, doc, "record / raw bbolt (same run)"), "| 0.65× | 0.55 – 0.70 | 3 |  | ≥ 0.6× | met |")
	require.Contains(t, row(t, doc, "record path (loopback gRPC → source → archive, fsync'd batches)"), "| 195,000 updates/s |")
	require.Contains(t, row(t, doc, "recording soak: RssAnon end / start (flat ≤ 1.25)"), "| 1.12× |")

	// benchtool: per-run pairs of the same run, lower-is-better targets.
	require.Contains(t, row(t, doc, "serve hub / bare gorilla (same run)"), "| 2.50× | 0.83 – 3.00 | 3 |  | ≥ 1× | met |")
	require.Contains(t, row(t, doc, "latency Apply → client at 10,000 deliveries/s, p99"), "| 12.5 ms |")
	require.Contains(t, row(t, doc, "latency Apply → client at 10,000 deliveries/s, p99"), "| ≤ 15.0 ms | met |")
	require.Contains(t, row(t, doc, "idle memory per connection (RSS)"), "| 12.6 KB |")

	// Sub-benchmarks whose names carry a detail of the run match by prefix; ns shown as ms.
	require.Contains(t, row(t, doc, "inspect entity, busiest key"), "| 548 ms | 461 – 634 | 2 |  | ≤ 1,000 ms | met |")
	require.Contains(t, row(t, doc, "inspect entity, key of median activity"), "| 0.577 ms |")
	require.Contains(t, row(t, doc, "inspect entity: archive size"), "| 1,140,000 updates |")
	require.Contains(t, row(t, doc, "replay / bare scan"), "| 0.37× (2.7× the cost) |")
	require.Contains(t, row(t, doc, "replay end to end, as the command runs it (JSON lines discarded)"), "| **not met** |")
}

func TestReportSaysWhyNothingWasMeasured(t *testing.T) {
	_, doc := loadSample(t)
	// Skipped for want of ../shared.
	require.Contains(t, row(t, doc, "real mainnet transaction (20 events): protobuf unmarshal only (baseline)"),
		"skipped: shared fixtures not found at ../shared/fixtures/yellowstone/dp4-flat-index-tx.bin; skipping")
	require.Contains(t, row(t, doc, "ORE simulator traffic: full pipeline, in decoded events"), "| skipped: shared fixtures not found at ../shared/fixtures/hyperstack/OreStream.stack.json; skipping |")
	require.Contains(t, row(t, doc, "ORE simulator traffic: full pipeline, in decoded events"), "| not measured |")
	// A ratio whose baseline is missing.
	require.Contains(t, row(t, doc, "ORE simulator traffic: full pipeline / bare unmarshal"), "| skipped: ")
	// A group whose build failed.
	require.Contains(t, row(t, doc, "VM alone on pre-built ORE-like events (decode + VM)"), "failed: internal/vm/runtime.go:12:2: undefined: frobnicate")
	// Groups the run did not include.
	require.Contains(t, row(t, doc, "generator, spl-token (SubscribeUpdate messages)"), "| not run |")
	require.Contains(t, doc, "- `sim`: not run")
	require.NotContains(t, doc, "- `replay`")
	require.Contains(t, doc, "- `vm`: failed: internal/vm/runtime.go:12:2: undefined: frobnicate")
	require.Contains(t, doc, "- `pipeline` BenchmarkOREFeed: skipped: shared fixtures not found")
}

func TestReportRunFactsAndCommands(t *testing.T) {
	_, doc := loadSample(t)
	require.Contains(t, doc, "| load average (1, 5, 15 min) at start | 0.50 0.60 0.70 |")
	require.Contains(t, doc, "| load average (1, 5, 15 min) at end | 1.10 0.90 0.80 |")
	require.Contains(t, doc, "| cores (nproc) | 2 |")
	require.Contains(t, doc, "| command | `make bench` |")
	require.Contains(t, doc, "# extract: 45 s, load 0.50 → 0.90\ngo test -v -run '^$' -benchmem -bench '^Benchmark([^Z]|Z[^Z])' -cpu 1 -count 3 ./internal/extract\n")
	require.Contains(t, doc, "# vm: 3 s, load 0.90 → 0.90, FAILED: internal/vm/runtime.go:12:2: undefined: frobnicate\n")
	// The summary lists every target once.
	summary := doc[strings.Index(doc, "## Summary"):strings.Index(doc, "## Recording")]
	n := 0
	for _, s := range Sections() {
		for _, r := range s.Rows {
			if r.Target != nil {
				n++
				require.Contains(t, summary, "| "+s.Title+" | "+r.Label+" |")
			}
		}
	}
	require.Equal(t, n+1, strings.Count(summary, "\n| "), "the header and one row per target")
	// Every template call resolved (no section id typo leaves a hole).
	require.NotContains(t, doc, "<no value>")
}

func TestEverySectionGroupIsProducedByTheScript(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "bench.sh"))
	require.NoError(t, err)
	for _, s := range Sections() {
		for _, g := range s.Groups {
			require.Contains(t, string(script), "\nrun "+g+" ", "scripts/bench.sh runs group %s", g)
		}
	}
}
