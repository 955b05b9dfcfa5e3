//go:build unix

package record_test

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/record"
	"github.com/hyperstack-go/hyperstack/internal/source"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

const benchDataLen = 900 // account data; the encoded update is about 1 KB

// benchUpdates returns n account updates of about 1 KB (64 per slot) and their encodings.
func benchUpdates(b *testing.B, n int) ([]*geyserpb.SubscribeUpdate, [][]byte) {
	b.Helper()
	us := make([]*geyserpb.SubscribeUpdate, n)
	raws := make([][]byte, n)
	data := make([]byte, benchDataLen)
	for i := range data {
		data[i] = byte(i * 31)
	}
	for i := range n {
		us[i] = geysertest.Account(1_000_000+uint64(i/64), geysertest.Key(i%4096), ownerA, uint64(i), data, uint64(i))
		raw, err := proto.Marshal(us[i])
		if err != nil {
			b.Fatal(err)
		}
		raws[i] = raw
	}
	return us, raws
}

// BenchmarkRecordLoopback measures the record path: source (raw frames) → recorder → archive with
// durable (fsync'd) batches, fed over loopback gRPC by geysertest.StreamServer, which sends
// pre-encoded updates at almost no CPU cost, as a remote Yellowstone server costs the recorder
// nothing. The timer runs from the first update sent until the last one is committed.
func BenchmarkRecordLoopback(b *testing.B) {
	_, raws := benchUpdates(b, b.N)
	ss := geysertest.StartStream(b, raws)
	b.SetBytes(avgLen(raws))
	b.ReportAllocs()
	b.ResetTimer()
	r := recordStream(b, ss, b.N)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/r.wall.Seconds(), "updates/s")
}

// BenchmarkRecordLoopbackFullServer is BenchmarkRecordLoopback fed by the full in-process test server
// (geysertest.Start: filters, from_slot ring, one gRPC message per frame), whose sending costs about
// as much CPU as the recorder's receiving, on the same two cores.
func BenchmarkRecordLoopbackFullServer(b *testing.B) {
	us, raws := benchUpdates(b, b.N)
	b.SetBytes(avgLen(raws))
	b.ReportAllocs()
	b.ResetTimer()
	r := recordFullServer(b, us, raws)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/r.wall.Seconds(), "updates/s")
}

// BenchmarkRecordVsRawBolt runs, over the same updates in the same run, the record path (fed by the
// stream server, as in BenchmarkRecordLoopback), the record path fed by the full test server, and
// the raw bbolt baseline, rotating their order per call, and reports the rates and the ratios to the
// baseline. The baseline uses the archive's bbolt settings (16 KiB pages); raw4k and ratio4k repeat
// it with bbolt's default 4 KiB pages. Each part starts after a garbage collection, and its CPU time
// is counted over its timed part only.
func BenchmarkRecordVsRawBolt(b *testing.B) {
	us, raws := benchUpdates(b, b.N)
	ss := geysertest.StartStream(b, raws)
	raws = ss.Messages() // the same bytes, held once
	b.SetBytes(avgLen(raws))
	b.ResetTimer()
	var rec, full, raw, raw4k timing
	runs := []func(){
		func() {
			vals := rawValues(raws)
			raw, raw4k = rawBoltPuts(b, vals, benchPageSize), rawBoltPuts(b, vals, 0)
		},
		func() { rec = recordStream(b, ss, b.N) },
		func() { full = recordFullServer(b, us, raws) },
	}
	for i := range runs {
		runtime.GC()
		runs[(i+b.N)%len(runs)]()
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(n/rec.wall.Seconds(), "record-updates/s")
	b.ReportMetric(n/raw.wall.Seconds(), "raw-updates/s")
	b.ReportMetric(raw.wall.Seconds()/rec.wall.Seconds(), "ratio")
	b.ReportMetric(n/full.wall.Seconds(), "record-full-updates/s")
	b.ReportMetric(raw.wall.Seconds()/full.wall.Seconds(), "ratio-full")
	b.ReportMetric(n/raw4k.wall.Seconds(), "raw4k-updates/s")
	b.ReportMetric(raw4k.wall.Seconds()/rec.wall.Seconds(), "ratio4k")
	// CPU time per update (process user+system, all goroutines, the in-process server included): less
	// sensitive to other load on the machine than wall-clock rates.
	b.ReportMetric(float64(rec.cpu.Microseconds())/n, "record-cpu-µs/update")
	b.ReportMetric(float64(full.cpu.Microseconds())/n, "record-full-cpu-µs/update")
	b.ReportMetric(float64(raw.cpu.Microseconds())/n, "raw-cpu-µs/update")
}

// timing is one timed part of a benchmark: its wall-clock time and the process's CPU time over it.
type timing struct{ wall, cpu time.Duration }

// startTiming returns a function that ends the timing started now.
func startTiming() func() timing {
	start, cpu := time.Now(), cpuTime()
	return func() timing { return timing{wall: time.Since(start), cpu: cpuTime() - cpu} }
}

// cpuTime returns the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func avgLen(raws [][]byte) int64 {
	var n int64
	for _, r := range raws {
		n += int64(len(r))
	}
	return n / int64(max(1, len(raws)))
}

// benchRecorder starts a recorder on a fresh archive, subscribed to endpoint; done is closed when
// the update with sequence number target is durable.
func benchRecorder(b *testing.B, endpoint string, target uint64) (done <-chan struct{}, stop func()) {
	b.Helper()
	a, err := archive.Create(filepath.Join(b.TempDir(), "bench.archive"), archive.Meta{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	committed := make(chan struct{})
	rec := &record.Recorder{Archive: a, Writer: archive.WriterConfig{OnCommit: func(cp archive.Checkpoint) {
		if cp.Seq == target {
			close(committed)
		}
	}}}
	src, err := source.New(source.Config{Endpoint: endpoint, Commitment: "processed",
		Filters: source.Filters{AccountOwners: []string{ownerA.String()}}, ResumeSlot: rec.ResumeSlot, Seen: rec.Seen,
		LendRaw: true}) // as the record command without --stack
	if err != nil {
		b.Fatal(err)
	}
	rec.Source = src
	// The last update is committed at once, as when a recording is stopped, rather than after the
	// batch interval: the benchmark measures throughput, not how long a partial batch may wait.
	rec.AfterAppend = func(w *archive.Writer, seq uint64, _ *source.Update) error {
		if seq == target {
			return w.Flush()
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- rec.Run(ctx) }()
	return committed, func() {
		cancel()
		if err := <-stopped; err != nil {
			b.Fatal(err)
		}
		if err := a.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// recordStream records the n updates ss sends, timed from the first update sent until the last one
// is durable.
func recordStream(b *testing.B, ss *geysertest.StreamServer, n int) timing {
	b.Helper()
	done, stop := benchRecorder(b, ss.Endpoint, uint64(n))
	<-ss.Subscribed()
	end := startTiming()
	ss.Release()
	<-done
	t := end()
	stop()
	return t
}

// recordFullServer records us published to the full in-process test server.
func recordFullServer(b *testing.B, us []*geyserpb.SubscribeUpdate, raws [][]byte) timing {
	b.Helper()
	ts := geysertest.Start(b, geysertest.Options{PingInterval: -1})
	done, stop := benchRecorder(b, ts.Endpoint, uint64(len(us)))
	if err := ts.WaitApplied(context.Background(), 1); err != nil {
		b.Fatal(err)
	}
	end := startTiming()
	go func() {
		for i := range us {
			if err := ts.Publish(us[i], raws[i]); err != nil {
				return
			}
		}
	}()
	<-done
	t := end()
	stop()
	return t
}

// BenchmarkRawBoltBatchedPuts is the baseline for BenchmarkRecordLoopback: the same update bytes
// (with the archive's 18-byte header) put under big-endian sequence keys in batches of
// archive.DefaultBatchSize, one fsync'd bbolt transaction per batch, with the same bbolt settings.
func BenchmarkRawBoltBatchedPuts(b *testing.B) {
	_, raws := benchUpdates(b, b.N)
	b.SetBytes(avgLen(raws))
	b.ReportAllocs()
	b.ResetTimer()
	t := rawBoltPuts(b, rawValues(raws), benchPageSize)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/t.wall.Seconds(), "updates/s")
}

// rawValues returns raws with the archive's 18-byte header room in front of each.
func rawValues(raws [][]byte) [][]byte {
	vals := make([][]byte, len(raws))
	for i, r := range raws {
		v := make([]byte, 18, 18+len(r))
		vals[i] = append(v, r...)
	}
	return vals
}

// rawBoltPuts puts vals into a fresh bbolt file as BenchmarkRawBoltBatchedPuts describes.
func rawBoltPuts(b *testing.B, vals [][]byte, pageSize int) timing {
	b.Helper()
	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o644, &bolt.Options{FreelistType: bolt.FreelistMapType, PageSize: pageSize})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("updates")); return err }); err != nil {
		b.Fatal(err)
	}
	end := startTiming()
	for lo := 0; lo < len(vals); lo += archive.DefaultBatchSize {
		hi := min(lo+archive.DefaultBatchSize, len(vals))
		err := db.Update(func(tx *bolt.Tx) error {
			bk := tx.Bucket([]byte("updates"))
			bk.FillPercent = 1.0
			for i := lo; i < hi; i++ {
				if err := bk.Put(binary.BigEndian.AppendUint64(nil, uint64(i+1)), vals[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return end()
}

// benchPageSize is the page size archive.Create uses, so the baseline runs with the archive's settings.
const benchPageSize = 16 << 10
