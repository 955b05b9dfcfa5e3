package main

// Ref names one metric of one benchmark in one group's output.
type Ref struct {
	Group, Bench, Metric string
}

// Target is a goal for a row's median: Op is ">=" or "<=".
type Target struct {
	Op    string
	Value float64
}

// Met reports whether v reaches the target.
func (t Target) Met(v float64) bool {
	if t.Op == "<=" {
		return v <= t.Value
	}
	return v >= t.Value
}

// Row is one line of a section's table. Its values are Val's runs or, with Den, the ratio Val/Den
// (run by run when both have the same number of runs, else of the medians).
type Row struct {
	Label string
	Val   Ref
	Den   *Ref
	// CPU is the same rate over the process CPU time, shown beside Val; with CPUCounts, reaching the
	// target on it is reported as such when the wall-clock median falls short (single-goroutine
	// benchmarks run with -cpu 1, where the CPU-time rate is the one-core rate).
	CPU       *Ref
	CPUCounts bool
	// Scale multiplies values for display (e.g. 1e-6 for ns → ms); Unit is shown after them.
	Scale float64
	Unit  string
	// Cost adds the inverse of a ratio ("3.0× the cost") for ratios against a cheaper floor.
	Cost   bool
	Target *Target
}

// Section is one issue's table.
type Section struct {
	ID     string
	Title  string
	Groups []string
	Rows   []Row
}

func ref(group, bench, metric string) Ref { return Ref{group, bench, metric} }

func refp(group, bench, metric string) *Ref { r := ref(group, bench, metric); return &r }

func atLeast(v float64) *Target { return &Target{">=", v} }

func atMost(v float64) *Target { return &Target{"<=", v} }

// Sections lists every issue's measurements, targets and baselines. The group names are the raw
// output files scripts/bench.sh writes (raw/<group>.txt).
func Sections() []Section {
	const (
		ex  = "extract"
		acc = "BenchmarkAccountUnmarshal"
		tx  = "BenchmarkTransferTxUnmarshal"
		rtx = "BenchmarkRealTxUnmarshal"
	)
	extractRows := func(name, base string, target *Target) []Row {
		return []Row{
			{Label: name + ": protobuf unmarshal only (baseline)", Val: ref(ex, base, "updates/s"), CPU: refp(ex, base, "cpu-updates/s"), Unit: "updates/s"},
			{Label: name + ": unmarshal + extract", Val: ref(ex, base+"Extract", "updates/s"), CPU: refp(ex, base+"Extract", "cpu-updates/s"), Unit: "updates/s"},
			{Label: name + ": unmarshal + extract + IDL decode", Val: ref(ex, base+"ExtractDecode", "updates/s"), CPU: refp(ex, base+"ExtractDecode", "cpu-updates/s"), CPUCounts: true, Unit: "updates/s", Target: target},
			{Label: name + ": decode path / bare unmarshal", Val: ref(ex, base+"ExtractDecode", "updates/s"), Den: refp(ex, base, "updates/s"), Cost: true},
			{Label: name + ": allocations per event (decode path)", Val: ref(ex, base+"ExtractDecode", "allocs/event"), Unit: "allocs/event"},
		}
	}
	var extract []Row
	extract = append(extract, extractRows("SPL Token account update", acc, atLeast(400_000))...)
	extract = append(extract, extractRows("transfer-shaped transaction", tx, atLeast(100_000))...)
	extract = append(extract, extractRows("real mainnet transaction (20 events)", rtx, nil)...)
	extract = append(extract,
		Row{Label: "real transaction: extract + decode of an unmarshalled update", Val: ref(ex, "BenchmarkRealTxExtractDecode", "updates/s"), CPU: refp(ex, "BenchmarkRealTxExtractDecode", "cpu-updates/s"), Unit: "updates/s"},
		Row{Label: "IDL: decode a 165-byte SPL Token account", Val: ref("idl", "BenchmarkDecodeAccountSPLToken", "decodes/s"), Unit: "decodes/s"},
		Row{Label: "IDL: decode an SPL Token transfer instruction", Val: ref("idl", "BenchmarkDecodeInstructionSPLTransfer", "decodes/s"), Unit: "decodes/s"},
		Row{Label: "IDL: decode an ORE Round account", Val: ref("idl", "BenchmarkDecodeAccountOreRound", "decodes/s"), Unit: "decodes/s"},
	)

	const (
		pl  = "pipeline"
		vmg = "vm"
		rss = "pipeline-rss"
		rb  = "BenchmarkOREPipelineRSS"
	)
	vmRows := []Row{
		{Label: "ORE simulator traffic: protobuf unmarshal only (baseline)", Val: ref(pl, "BenchmarkOREUnmarshal", "updates/s"), CPU: refp(pl, "BenchmarkOREUnmarshal", "cpu-updates/s"), Unit: "updates/s"},
		{Label: "ORE simulator traffic: full pipeline (unmarshal, extract, decode, VM)", Val: ref(pl, "BenchmarkOREFeed", "updates/s"), CPU: refp(pl, "BenchmarkOREFeed", "cpu-updates/s"), Unit: "updates/s"},
		{Label: "ORE simulator traffic: full pipeline, in decoded events", Val: ref(pl, "BenchmarkOREFeed", "events/s"), CPU: refp(pl, "BenchmarkOREFeed", "cpu-events/s"), CPUCounts: true, Unit: "events/s", Target: atLeast(200_000)},
		{Label: "ORE simulator traffic: full pipeline / bare unmarshal", Val: ref(pl, "BenchmarkOREFeed", "updates/s"), Den: refp(pl, "BenchmarkOREUnmarshal", "updates/s"), Cost: true},
		{Label: "ORE simulator traffic: allocations per event (full pipeline)", Val: ref(pl, "BenchmarkOREFeed", "allocs/event"), Unit: "allocs/event"},
		{Label: "VM alone on pre-built ORE-like events (decode + VM)", Val: ref(vmg, "BenchmarkOreTraffic", "events/s"), CPU: refp(vmg, "BenchmarkOreTraffic", "events/cpu-s"), CPUCounts: true, Unit: "events/s", Target: atLeast(200_000)},
		{Label: "IDL decoding alone of the same events", Val: ref(vmg, "BenchmarkOreDecodeOnly", "events/s"), CPU: refp(vmg, "BenchmarkOreDecodeOnly", "events/cpu-s"), Unit: "events/s"},
		{Label: "VM alone: allocations per event", Val: ref(vmg, "BenchmarkOreTraffic", "allocs/op"), Unit: "allocs/event"},
		{Label: "pipeline memory: events processed", Val: ref(rss, rb, "events"), Unit: "events"},
		{Label: "pipeline memory: RssAnon at half-way", Val: ref(rss, rb, "rss-half-MiB"), Unit: "MiB"},
		{Label: "pipeline memory: RssAnon at the end", Val: ref(rss, rb, "rss-end-MiB"), Unit: "MiB"},
		{Label: "pipeline memory: RssAnon end / half-way (flat ≤ 1.25)", Val: ref(rss, rb, "rss-end-MiB"), Den: refp(rss, rb, "rss-half-MiB"), Target: atMost(1.25)},
		{Label: "pipeline memory: peak RSS (VmHWM)", Val: ref(rss, rb, "rss-peak-MiB"), Unit: "MiB"},
		{Label: "pipeline memory: live Go heap at half-way", Val: ref(rss, rb, "heap-half-MiB"), Unit: "MiB"},
		{Label: "pipeline memory: live Go heap at the end", Val: ref(rss, rb, "heap-end-MiB"), Unit: "MiB"},
	}

	const rec, rvr = "record", "BenchmarkRecordVsRawBolt"
	recordRows := []Row{
		{Label: "record path (loopback gRPC → source → archive, fsync'd batches)", Val: ref(rec, rvr, "record-updates/s"), Unit: "updates/s", Target: atLeast(150_000)},
		{Label: "raw batched bbolt puts, same bytes, archive settings (baseline)", Val: ref(rec, rvr, "raw-updates/s"), Unit: "updates/s"},
		{Label: "record / raw bbolt (same run)", Val: ref(rec, rvr, "ratio"), Unit: "×", Target: atLeast(0.6)},
		{Label: "record path fed by the full test server (both ends on the two cores)", Val: ref(rec, rvr, "record-full-updates/s"), Unit: "updates/s"},
		{Label: "record fed by the full test server / raw bbolt (same run)", Val: ref(rec, rvr, "ratio-full"), Unit: "×"},
		{Label: "raw batched bbolt puts, 4 KiB pages", Val: ref(rec, rvr, "raw4k-updates/s"), Unit: "updates/s"},
		{Label: "record / raw bbolt with 4 KiB pages", Val: ref(rec, rvr, "ratio4k"), Unit: "×"},
		{Label: "CPU per update, record path (process, stream server included)", Val: ref(rec, rvr, "record-cpu-µs/update"), Unit: "µs"},
		{Label: "CPU per update, record path fed by the full test server (process)", Val: ref(rec, rvr, "record-full-cpu-µs/update"), Unit: "µs"},
		{Label: "CPU per update, raw bbolt puts", Val: ref(rec, rvr, "raw-cpu-µs/update"), Unit: "µs"},
		{Label: "record path alone (BenchmarkRecordLoopback)", Val: ref(rec, "BenchmarkRecordLoopback", "updates/s"), Unit: "updates/s"},
		{Label: "record path alone, full test server (BenchmarkRecordLoopbackFullServer)", Val: ref(rec, "BenchmarkRecordLoopbackFullServer", "updates/s"), Unit: "updates/s"},
		{Label: "raw bbolt alone (BenchmarkRawBoltBatchedPuts)", Val: ref(rec, "BenchmarkRawBoltBatchedPuts", "updates/s"), Unit: "updates/s"},
		{Label: "recording soak: RssAnon after warm-up", Val: ref("record-soak", "soak/record", "rss-start-MiB"), Unit: "MiB"},
		{Label: "recording soak: RssAnon at the end", Val: ref("record-soak", "soak/record", "rss-end-MiB"), Unit: "MiB"},
		{Label: "recording soak: RssAnon end / start (flat ≤ 1.25)", Val: ref("record-soak", "soak/record", "rss-end-MiB"), Den: refp("record-soak", "soak/record", "rss-start-MiB"), Target: atMost(1.25)},
		{Label: "recording soak: updates recorded", Val: ref("record-soak", "soak/record", "updates"), Unit: "updates"},
	}

	const sg = "sim"
	simRows := []Row{
		{Label: "generator, spl-token (SubscribeUpdate messages)", Val: ref(sg, "BenchmarkGenerateSPLToken", "updates/s"), CPU: refp(sg, "BenchmarkGenerateSPLToken", "cpu-updates/s"), CPUCounts: true, Unit: "updates/s", Target: atLeast(500_000)},
		{Label: "generator, spl-token, with protobuf marshalling", Val: ref(sg, "BenchmarkGenerateSPLTokenMarshal", "updates/s"), CPU: refp(sg, "BenchmarkGenerateSPLTokenMarshal", "cpu-updates/s"), Unit: "updates/s"},
		{Label: "generator, ore", Val: ref(sg, "BenchmarkGenerateOre", "updates/s"), CPU: refp(sg, "BenchmarkGenerateOre", "cpu-updates/s"), Unit: "updates/s"},
		{Label: "served over loopback gRPC to one subscriber", Val: ref(sg, "BenchmarkServeLoopback", "updates/s"), Unit: "updates/s", Target: atLeast(200_000)},
		{Label: "served / generated with marshalling", Val: ref(sg, "BenchmarkServeLoopback", "updates/s"), Den: refp(sg, "BenchmarkGenerateSPLTokenMarshal", "updates/s")},
		{Label: "Geyser server alone, pre-encoded 1 KB accounts, one raw subscriber", Val: ref("grpc", "BenchmarkSubscribeLoopback/data=1000B", "updates/s"), Unit: "updates/s"},
		{Label: "Yellowstone client path (server → gRPC → source), 1 KB accounts", Val: ref("grpc", "BenchmarkYellowstoneRun/data=1000B", "updates/s"), Unit: "updates/s"},
	}

	serveRows := []Row{
		{Label: "bare gorilla broadcast, one message per write (baseline)", Val: ref("ws-fanout", "fanout/bare-gorilla", "frames/s"), Unit: "frames/s"},
		{Label: "serve, the same bytes through the hub", Val: ref("ws-fanout", "fanout/serve-hub", "frames/s"), Unit: "frames/s"},
		{Label: "serve hub / bare gorilla (same run)", Val: ref("ws-fanout", "fanout/serve-hub", "frames/s"), Den: refp("ws-fanout", "fanout/bare-gorilla", "frames/s"), Target: atLeast(1.0)},
		{Label: "serve, full Apply (projection + hub)", Val: ref("ws-fanout", "fanout/serve-apply", "frames/s"), Unit: "frames/s"},
		{Label: "serve Apply / bare gorilla (same run)", Val: ref("ws-fanout", "fanout/serve-apply", "frames/s"), Den: refp("ws-fanout", "fanout/bare-gorilla", "frames/s")},
		{Label: "latency Apply → client at 10,000 deliveries/s, p50", Val: ref("ws-latency", "latency/serve", "p50-ms"), Unit: "ms"},
		{Label: "latency Apply → client at 10,000 deliveries/s, p99", Val: ref("ws-latency", "latency/serve", "p99-ms"), Unit: "ms", Target: atMost(15)},
		{Label: "bare gorilla in the same harness, p99", Val: ref("ws-latency", "latency/bare-gorilla", "p99-ms"), Unit: "ms"},
		{Label: "deliveries received (serve)", Val: ref("ws-latency", "latency/serve", "delivered-%"), Unit: "%"},
		{Label: "clients inside the server's process (reference), p50", Val: ref("ws-latency-inproc", "latency/serve", "p50-ms"), Unit: "ms"},
		{Label: "clients inside the server's process (reference), p99", Val: ref("ws-latency-inproc", "latency/serve", "p99-ms"), Unit: "ms"},
		{Label: "bare gorilla, clients inside its process, p99", Val: ref("ws-latency-inproc", "latency/bare-gorilla", "p99-ms"), Unit: "ms"},
		{Label: "idle memory per connection (RSS)", Val: ref("ws-idle", "idle/serve", "KB/conn-rss"), Unit: "KB", Target: atMost(24)},
		{Label: "bare gorilla idle memory per connection (RSS)", Val: ref("ws-idle", "idle/bare-gorilla", "KB/conn-rss"), Unit: "KB"},
		{Label: "in-process fan-out benchmark, 1,000 clients", Val: ref("serve", "BenchmarkFanout/clients_1000", "frames/s"), Unit: "frames/s"},
		{Label: "projection Apply (~1 KB mutation)", Val: ref("serve", "BenchmarkApply/base", "mutations/s"), Unit: "mutations/s"},
	}

	const rp = "replay"
	replayRows := []Row{
		{Label: "bare scan: archive read + protobuf unmarshal (baseline)", Val: ref(rp, "BenchmarkScanORE", "updates/s"), CPU: refp(rp, "BenchmarkScanORE", "cpu-updates/s"), Unit: "updates/s"},
		{Label: "replay end to end, as the command runs it (JSON lines discarded)", Val: ref(rp, "BenchmarkReplayORE", "updates/s"), CPU: refp(rp, "BenchmarkReplayORE", "cpu-updates/s"), Unit: "updates/s", Target: atLeast(200_000)},
		{Label: "replay / bare scan", Val: ref(rp, "BenchmarkReplayORE", "updates/s"), Den: refp(rp, "BenchmarkScanORE", "updates/s"), Cost: true},
		{Label: "replay end to end, collector at Go's default (GOGC=100)", Val: ref(rp, "BenchmarkReplayOREDefaultGC", "updates/s"), CPU: refp(rp, "BenchmarkReplayOREDefaultGC", "cpu-updates/s"), Unit: "updates/s"},
		{Label: "replay --write-golden", Val: ref(rp, "BenchmarkReplayOREWriteGolden", "updates/s"), CPU: refp(rp, "BenchmarkReplayOREWriteGolden", "cpu-updates/s"), Unit: "updates/s"},
		{Label: "replay --verify", Val: ref(rp, "BenchmarkVerifyORE", "updates/s"), CPU: refp(rp, "BenchmarkVerifyORE", "cpu-updates/s"), Unit: "updates/s"},
		{Label: "inspect entity: archive size", Val: ref(rp, "BenchmarkInspectEntity/busiest", "archive-updates"), Unit: "updates"},
		{Label: "inspect entity, busiest key", Val: ref(rp, "BenchmarkInspectEntity/busiest", "ns/op"), Scale: 1e-6, Unit: "ms", Target: atMost(1000)},
		{Label: "inspect entity, key of median activity", Val: ref(rp, "BenchmarkInspectEntity/median", "ns/op"), Scale: 1e-6, Unit: "ms", Target: atMost(1000)},
	}

	return []Section{
		{ID: "record", Title: "Recording", Groups: []string{"record", "record-soak"}, Rows: recordRows},
		{ID: "extract", Title: "Event extraction and IDL decoding", Groups: []string{"extract", "idl"}, Rows: extract},
		{ID: "vm", Title: "Decode + VM", Groups: []string{"pipeline", "vm", "pipeline-rss"}, Rows: vmRows},
		{ID: "sim", Title: "Simulator", Groups: []string{"sim", "grpc"}, Rows: simRows},
		{ID: "serve", Title: "WebSocket server", Groups: []string{"ws-fanout", "ws-latency", "ws-latency-inproc", "ws-idle", "serve"}, Rows: serveRows},
		{ID: "replay", Title: "Replay and inspect", Groups: []string{"replay"}, Rows: replayRows},
	}
}
