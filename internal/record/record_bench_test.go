//go:build unix

package record_test

import (
	"context"
	"encoding/binary"
	"path/filepath"
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

// BenchmarkRecordLoopback measures the whole record path: an in-process Yellowstone server on
// loopback → source (raw frames) → recorder → archive, with durable (fsync'd) batches. The timer
// runs from the first published update until the last one is committed.
func BenchmarkRecordLoopback(b *testing.B) {
	us, raws := benchUpdates(b, b.N)
	b.SetBytes(avgLen(raws))
	b.ReportAllocs()
	b.ResetTimer()
	elapsed := recordLoopback(b, us, raws)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "updates/s")
}

// BenchmarkRecordVsRawBolt runs the record path and the raw bbolt baseline over the same updates in
// the same run, alternating their order per call, and reports both rates and their ratio. The
// baseline uses the archive's bbolt settings (16 KiB pages); raw4k and ratio4k repeat it with
// bbolt's default 4 KiB pages.
func BenchmarkRecordVsRawBolt(b *testing.B) {
	us, raws := benchUpdates(b, b.N)
	b.SetBytes(avgLen(raws))
	b.ResetTimer()
	var rec, raw, raw4k, recCPU, rawCPU time.Duration
	runRaw := func() {
		c := cpuTime()
		raw = rawBoltPuts(b, raws, benchPageSize)
		rawCPU = cpuTime() - c
		raw4k = rawBoltPuts(b, raws, 0)
	}
	runRec := func() {
		c := cpuTime()
		rec = recordLoopback(b, us, raws)
		recCPU = cpuTime() - c
	}
	if b.N%2 == 0 {
		runRaw()
		runRec()
	} else {
		runRec()
		runRaw()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/rec.Seconds(), "record-updates/s")
	b.ReportMetric(float64(b.N)/raw.Seconds(), "raw-updates/s")
	b.ReportMetric(raw.Seconds()/rec.Seconds(), "ratio")
	b.ReportMetric(float64(b.N)/raw4k.Seconds(), "raw4k-updates/s")
	b.ReportMetric(raw4k.Seconds()/rec.Seconds(), "ratio4k")
	// CPU time per update (process user+system, all goroutines, the in-process server included): less
	// sensitive to other load on the machine than wall-clock rates.
	b.ReportMetric(float64(recCPU.Microseconds())/float64(b.N), "record-cpu-µs/update")
	b.ReportMetric(float64(rawCPU.Microseconds())/float64(b.N), "raw-cpu-µs/update")
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

func recordLoopback(b *testing.B, us []*geyserpb.SubscribeUpdate, raws [][]byte) time.Duration {
	b.Helper()
	ts := geysertest.Start(b, geysertest.Options{PingInterval: -1})
	a, err := archive.Create(filepath.Join(b.TempDir(), "bench.archive"), archive.Meta{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	done := make(chan struct{})
	target := uint64(len(us))
	rec := &record.Recorder{Archive: a, Writer: archive.WriterConfig{OnCommit: func(cp archive.Checkpoint) {
		if cp.Seq == target {
			close(done)
		}
	}}}
	src, err := source.New(source.Config{Endpoint: ts.Endpoint, Commitment: "processed",
		Filters: source.Filters{AccountOwners: []string{ownerA.String()}}, ResumeSlot: rec.ResumeSlot, Seen: rec.Seen})
	if err != nil {
		b.Fatal(err)
	}
	rec.Source = src
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- rec.Run(ctx) }()
	if err := ts.WaitApplied(ctx, 1); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	go func() {
		for i := range us {
			if err := ts.Publish(us[i], raws[i]); err != nil {
				return
			}
		}
	}()
	<-done
	elapsed := time.Since(start)
	cancel()
	if err := <-stopped; err != nil {
		b.Fatal(err)
	}
	return elapsed
}

// BenchmarkRawBoltBatchedPuts is the baseline for BenchmarkRecordLoopback: the same update bytes
// (with the archive's 18-byte header) put under big-endian sequence keys in batches of
// archive.DefaultBatchSize, one fsync'd bbolt transaction per batch, with the same bbolt settings.
func BenchmarkRawBoltBatchedPuts(b *testing.B) {
	_, raws := benchUpdates(b, b.N)
	b.SetBytes(avgLen(raws))
	b.ReportAllocs()
	b.ResetTimer()
	elapsed := rawBoltPuts(b, raws, benchPageSize)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "updates/s")
}

func rawBoltPuts(b *testing.B, raws [][]byte, pageSize int) time.Duration {
	b.Helper()
	vals := make([][]byte, len(raws))
	for i, r := range raws {
		v := make([]byte, 18, 18+len(r))
		vals[i] = append(v, r...)
	}
	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o644, &bolt.Options{FreelistType: bolt.FreelistMapType, PageSize: pageSize})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("updates")); return err }); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
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
	return time.Since(start)
}

// benchPageSize is the page size archive.Create uses, so the baseline runs with the archive's settings.
const benchPageSize = 16 << 10
