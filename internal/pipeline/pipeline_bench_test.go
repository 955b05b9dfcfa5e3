//go:build unix

package pipeline

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/hyperstack-go/hyperstack/fixtures/fixturestest/orestack"

	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/sim"
	"github.com/hyperstack-go/hyperstack/internal/vm"
)

// The ORE benchmarks run the simulator's ORE traffic through the shared ORE stack
// (../shared/fixtures/hyperstack/OreStream.stack.json, skipped when absent). BenchmarkOREUnmarshal
// is the floor under BenchmarkOREFeed: the same marshalled updates, protobuf-unmarshalled only, the
// way Feed does it. Run both with -cpu 1 for the one-core rate:
//
//	go test -run '^$' -bench 'ORE(Unmarshal|Feed)$' -benchmem -cpu 1 ./internal/pipeline
//
// BenchmarkOREPipelineRSS feeds b.N decoded events' worth of simulated ORE traffic through a VM with
// small LRU capacities and reports the process's resident memory: run it with -benchtime
// 10000000x for the RSS after ten million events.

// benchSlots is the size of the marshalled ORE set the throughput benchmarks cycle through.
const benchSlots = 400

// oreBenchStack loads and compiles the shared ORE stack and its IDLs, skipping when ../shared is absent.
func oreBenchStack(tb testing.TB) (*vm.Program, []*idl.IDL) {
	_, prog, idls := orestack.Load(tb)
	return prog, idls
}

// oreBenchSet returns benchSlots slots of the ORE scenario (seed 1), marshalled.
func oreBenchSet(tb testing.TB, idls []*idl.IDL) [][]byte {
	tb.Helper()
	s, err := sim.New(sim.ScenarioOre, 1, sim.Options{IDLs: idls, Slots: benchSlots})
	if err != nil {
		tb.Fatal(err)
	}
	var set [][]byte
	for {
		u, err := s.Next()
		if err != nil {
			break
		}
		raw, err := proto.Marshal(u)
		if err != nil {
			tb.Fatal(err)
		}
		set = append(set, raw)
	}
	if len(set) == 0 {
		tb.Fatal("the ORE scenario produced no updates")
	}
	return set
}

// benchCPU is the process's user+system CPU time so far.
func benchCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportRates reports per-second rates of n over the wall time (b.Elapsed) and over the process CPU
// time cpu: with -cpu 1 the latter is the rate of one core, which a busy machine distorts less.
func reportRates(b *testing.B, unit string, n uint64, cpu time.Duration) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), unit+"/s")
	if cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "cpu-"+unit+"/s")
	}
}

// BenchmarkOREUnmarshal unmarshals the ORE updates into one reused message, as Feed does: the floor
// under BenchmarkOREFeed.
func BenchmarkOREUnmarshal(b *testing.B) {
	_, idls := oreBenchStack(b)
	set := oreBenchSet(b, idls)
	msg := &geyserpb.SubscribeUpdate{}
	opts := proto.UnmarshalOptions{Merge: true}
	b.ReportAllocs()
	cpu0 := benchCPU()
	var n uint64
	for b.Loop() {
		msg.Reset()
		if err := opts.Unmarshal(set[n%uint64(len(set))], msg); err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportRates(b, "updates", n, benchCPU()-cpu0)
}

// BenchmarkOREFeed runs the same updates through Pipeline.Feed: unmarshal, extraction, IDL decoding
// and the VM. Each pass over the set starts a fresh pipeline (outside the timer), so every update is
// new to the VM's state.
func BenchmarkOREFeed(b *testing.B) {
	prog, idls := oreBenchStack(b)
	set := oreBenchSet(b, idls)
	var (
		p              *Pipeline
		n              uint64
		events, muts   uint64
		paused         time.Duration
		bad, handlerEr uint64
	)
	collect := func() {
		if p != nil {
			st := p.Stats()
			events += st.Events
			muts += st.Mutations
			bad += st.BadUpdates
			handlerEr += st.HandlerErrors
		}
	}
	fresh := func() {
		b.StopTimer()
		c := benchCPU()
		collect()
		var err error
		if p, err = New(Config{Program: prog}); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		paused += benchCPU() - c
		b.StartTimer()
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	cpu0 := benchCPU()
	for b.Loop() {
		i := n % uint64(len(set))
		if i == 0 {
			fresh()
		}
		if err := p.Feed(i+1, set[i]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	cpu := benchCPU() - cpu0 - paused
	runtime.ReadMemStats(&after)
	collect()
	if bad > 0 || handlerEr > 0 {
		b.Fatalf("%d bad updates, %d handler errors", bad, handlerEr)
	}
	if events == 0 {
		b.Fatal("no events")
	}
	reportRates(b, "updates", n, cpu)
	reportRates(b, "events", events, cpu)
	b.ReportMetric(float64(muts)/float64(n), "mutations/update")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(events), "allocs/event")
}

// BenchmarkOREPipelineRSS feeds simulated ORE traffic until b.N events have been processed, through
// a VM whose LRU capacities (500 rows per table, 2,000 resolver answers) are well below what the
// traffic touches (2,000 miners, a new round every 150 slots, a slot hash per slot), so the tables
// fill early and then evict. It logs the process's anonymous RSS and the live Go heap (after a
// collection) at every tenth of the events and reports them at half-way and at the end, and the peak
// RSS. The simulator's own state lives in the same process (a few MiB at the default population).
func BenchmarkOREPipelineRSS(b *testing.B) {
	prog, idls := oreBenchStack(b)
	s, err := sim.New(sim.ScenarioOre, 1, sim.Options{IDLs: idls})
	if err != nil {
		b.Fatal(err)
	}
	p, err := New(Config{Program: prog, VM: &vm.Config{StateCapacity: 500, LookupCapacity: 500, PendingKeys: 500,
		VersionCapacity: 500, DedupCapacity: 500, RecentTxCapacity: 500, ResolverCacheCapacity: 2000}})
	if err != nil {
		b.Fatal(err)
	}
	want := uint64(b.N)
	step := max(want/10, 1)
	next := step
	var rssHalf, heapHalf float64
	sample := func() (rss, heap float64) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return float64(procStatusKiB(b, "RssAnon:")) / 1024, float64(ms.HeapAlloc) / (1 << 20)
	}
	var seq uint64
	b.ResetTimer()
	for p.stats.Events < want {
		u, err := s.Next()
		if err != nil {
			b.Fatal(err)
		}
		seq++
		if err := p.FeedMessage(seq, u); err != nil {
			b.Fatal(err)
		}
		if p.stats.Events >= next && p.stats.Events < want {
			b.StopTimer()
			rss, heap := sample()
			b.Logf("after %d events (%d updates): RssAnon %.1f MiB, live heap %.1f MiB", p.stats.Events, p.stats.Updates, rss, heap)
			if next == 5*step {
				rssHalf, heapHalf = rss, heap
			}
			next += step
			b.StartTimer()
		}
	}
	b.StopTimer()
	rss, heap := sample()
	b.Logf("after %d events (%d updates): RssAnon %.1f MiB, live heap %.1f MiB", p.stats.Events, p.stats.Updates, rss, heap)
	runtime.KeepAlive(s)
	st := p.Stats()
	if st.BadUpdates > 0 || st.HandlerErrors > 0 {
		b.Fatalf("%d bad updates, %d handler errors", st.BadUpdates, st.HandlerErrors)
	}
	b.ReportMetric(float64(st.Events), "events")
	b.ReportMetric(float64(st.Updates), "updates")
	b.ReportMetric(rssHalf, "rss-half-MiB")
	b.ReportMetric(rss, "rss-end-MiB")
	b.ReportMetric(float64(procStatusKiB(b, "VmHWM:"))/1024, "rss-peak-MiB")
	b.ReportMetric(heapHalf, "heap-half-MiB")
	b.ReportMetric(heap, "heap-end-MiB")
}

// procStatusKiB returns a "kB" field of /proc/self/status (0 where it does not exist).
func procStatusKiB(tb testing.TB, field string) uint64 {
	tb.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) >= 2 && string(f[0]) == field {
			v, _ := strconv.ParseUint(string(f[1]), 10, 64)
			return v
		}
	}
	return 0
}
