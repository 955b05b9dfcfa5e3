package replay

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/sim"
	"github.com/hyperstack-go/hyperstack/internal/stack"
	"github.com/hyperstack-go/hyperstack/internal/vm"
)

// The benchmarks share ORE simulator archives built once per process in a temporary directory
// (removed by TestMain). BenchmarkInspectEntity uses an archive of about
// HYPERSTACK_BENCH_INSPECT_UPDATES updates (default 200,000; the figure is 1,000,000, which
// takes a minute or two to build).

var (
	benchMu   sync.Mutex
	benchDir  string
	benchRuns = map[string]string{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		_ = os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// oreUpdatesPerSlot is about how many updates the ORE scenario produces per slot.
const oreUpdatesPerSlot = 92

// benchOreArchive returns an ORE archive of about updates updates, with a golden of the ORE stack
// when golden is set, building it on first use.
func benchOreArchive(b *testing.B, updates int, golden bool) (string, *stack.Spec, *vm.Program) {
	b.Helper()
	spec, prog, idls := oreStack(b)
	benchMu.Lock()
	defer benchMu.Unlock()
	name := fmt.Sprintf("ore-%d-%v", updates, golden)
	if p, ok := benchRuns[name]; ok {
		return p, spec, prog
	}
	if benchDir == "" {
		d, err := os.MkdirTemp("", "hyperstack-replay-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = d
	}
	dir := filepath.Join(benchDir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	path := simArchive(b, dir, sim.ScenarioOre, 1, uint64(updates/oreUpdatesPerSlot), sim.Options{IDLs: idls})
	if golden {
		a, err := archive.Open(path, &archive.Options{NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Run(context.Background(), a, Options{Spec: spec, Program: prog, WriteGolden: true}); err != nil {
			b.Fatal(err)
		}
		if err := a.Close(); err != nil {
			b.Fatal(err)
		}
	}
	benchRuns[name] = path
	return path, spec, prog
}

func openBench(b *testing.B, path string, readOnly bool) *archive.Archive {
	b.Helper()
	a, err := archive.Open(path, &archive.Options{ReadOnly: readOnly, NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = a.Close() })
	return a
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report adds updates/s (wall clock) and cpu-updates/s: updates per second of process CPU time
// (all goroutines and the collector), which a busy machine disturbs far less.
func report(b *testing.B, updates uint64, cpu time.Duration) {
	b.ReportMetric(float64(updates)/b.Elapsed().Seconds(), "updates/s")
	b.ReportMetric(float64(updates)/cpu.Seconds(), "cpu-updates/s")
}

// batchGC runs the rest of the benchmark with the collector setting the replay command uses
// (BatchGCPercent, as with GOGC unset), and restores the previous setting when it ends.
func batchGC(b *testing.B) {
	old := debug.SetGCPercent(BatchGCPercent)
	b.Cleanup(func() { debug.SetGCPercent(old) })
}

// benchUpdates is the archive size of the replay benchmarks: 2,000 ORE slots.
const benchUpdates = 2000 * oreUpdatesPerSlot

// BenchmarkReplayORE replays an ORE simulator archive end to end, as `hyperstack replay` runs it
// (collector at BatchGCPercent): archive read, protobuf, extract, IDL decoding, VM and the canonical
// JSON lines (discarded).
func BenchmarkReplayORE(b *testing.B) {
	batchGC(b)
	replayORE(b)
}

// BenchmarkReplayOREDefaultGC is BenchmarkReplayORE with the collector at Go's default (GOGC=100),
// as a library user embedding Run would get it.
func BenchmarkReplayOREDefaultGC(b *testing.B) {
	old := debug.SetGCPercent(100)
	b.Cleanup(func() { debug.SetGCPercent(old) })
	replayORE(b)
}

func replayORE(b *testing.B) {
	path, spec, prog := benchOreArchive(b, benchUpdates, false)
	a := openBench(b, path, true)
	var updates uint64
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		res, err := Run(context.Background(), a, Options{Spec: spec, Program: prog, Out: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		updates += res.Updates
	}
	report(b, updates, cpuTime()-cpu0)
}

// BenchmarkScanORE is the floor under BenchmarkReplayORE: reading the same archive and unmarshalling
// every update, without extract or VM.
func BenchmarkScanORE(b *testing.B) {
	batchGC(b)
	path, _, _ := benchOreArchive(b, benchUpdates, false)
	a := openBench(b, path, true)
	var updates uint64
	msg := new(geyserpb.SubscribeUpdate)
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		// The cheapest read there is: borrowed bytes, as replay reads them.
		err := a.ScanBorrowed(context.Background(), 0, math.MaxUint64, func(u archive.Update) error {
			updates++
			msg.Reset()
			return proto.Unmarshal(u.Raw, msg)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	report(b, updates, cpuTime()-cpu0)
}

// BenchmarkReplayOREWriteGolden is BenchmarkReplayORE storing the golden (digest chain, records,
// entity index) instead of writing lines.
func BenchmarkReplayOREWriteGolden(b *testing.B) {
	batchGC(b)
	path, spec, prog := benchOreArchive(b, benchUpdates, false)
	a := openBench(b, path, false)
	var updates uint64
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		res, err := Run(context.Background(), a, Options{Spec: spec, Program: prog, WriteGolden: true})
		if err != nil {
			b.Fatal(err)
		}
		updates += res.Updates
	}
	report(b, updates, cpuTime()-cpu0)
}

// BenchmarkVerifyORE replays and compares with the stored golden.
func BenchmarkVerifyORE(b *testing.B) {
	batchGC(b)
	path, spec, prog := benchOreArchive(b, benchUpdates, true)
	a := openBench(b, path, true)
	var updates uint64
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		vr, err := Verify(context.Background(), a, VerifyOptions{Options: Options{Spec: spec, Program: prog}})
		if err != nil {
			b.Fatal(err)
		}
		if vr.Divergence != nil {
			b.Fatal(vr.Divergence.Report())
		}
		updates += vr.Result.Updates
	}
	report(b, updates, cpuTime()-cpu0)
}

// BenchmarkInspectEntity answers entity queries at the end of an ORE archive from the golden's
// entity index: the entity key touched by the most records, and one touched by the median number.
func BenchmarkInspectEntity(b *testing.B) {
	n := 200_000
	if v := os.Getenv("HYPERSTACK_BENCH_INSPECT_UPDATES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < oreUpdatesPerSlot {
			b.Fatalf("HYPERSTACK_BENCH_INSPECT_UPDATES=%q: want a number of updates", v)
		}
	}
	path, spec, _ := benchOreArchive(b, n, true)
	a := openBench(b, path, true)
	g, err := OpenGolden(a, spec.ContentHash())
	if err != nil {
		b.Fatal(err)
	}
	// Count the records per entity key once.
	type ek struct{ entity, key string }
	counts := map[ek]int{}
	err = a.ForEach(context.Background(), g.n.entities, nil, nil, func(k, _ []byte) error {
		e, key, _, _ := parseIndexKey(k)
		counts[ek{e, string(key)}]++
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var keys []ek
	for k := range counts {
		keys = append(keys, k)
	}
	sortByCount := func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i].entity+keys[i].key < keys[j].entity+keys[j].key
	}
	sort.Slice(keys, sortByCount)
	for _, c := range []struct {
		name string
		k    ek
	}{{"busiest", keys[0]}, {"median", keys[len(keys)/2]}} {
		b.Run(c.name+"-"+c.k.entity, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				st, err := EntityFromGolden(context.Background(), g, EntityOptions{Entity: c.k.entity, Key: c.k.key})
				if err != nil {
					b.Fatal(err)
				}
				if st.Mutations == 0 {
					b.Fatal("no mutations")
				}
			}
			b.ReportMetric(float64(counts[c.k]), "records")
			b.ReportMetric(float64(g.Info.Updates), "archive-updates")
		})
	}
}
