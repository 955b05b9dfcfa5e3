//go:build linux

package record_test

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/record"
	"github.com/hyperstack-go/hyperstack/internal/source"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

// procMemory returns RssAnon and RssFile from /proc/self/status, in KiB.
func procMemory(t *testing.T) (anon, file int64) {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "RssAnon:":
			anon = v
		case "RssFile:":
			file = v
		}
	}
	return anon, file
}

// TestSoakRSS records from an in-process server for HYPERSTACK_SOAK_MINUTES minutes at
// HYPERSTACK_SOAK_RATE updates/s (default 5000, ~1 KB each) and logs the process RSS at the start
// (after a 20 s warm-up) and at the end. Not part of normal runs:
//
//	HYPERSTACK_SOAK_MINUTES=10 go test ./internal/record/ -run TestSoakRSS -v -timeout 0
func TestSoakRSS(t *testing.T) {
	minutes, _ := strconv.ParseFloat(os.Getenv("HYPERSTACK_SOAK_MINUTES"), 64)
	if minutes <= 0 {
		t.Skip("set HYPERSTACK_SOAK_MINUTES to run the memory soak")
	}
	rate := 5000
	if v, err := strconv.Atoi(os.Getenv("HYPERSTACK_SOAK_RATE")); err == nil && v > 0 {
		rate = v
	}
	// A small ring and finalized slots keep the in-process server's own memory bounded, so the numbers
	// are about the recorder.
	ts := geysertest.Start(t, geysertest.Options{RingSize: 8192})
	a, err := archive.Create(filepath.Join(t.TempDir(), "soak.archive"), archive.Meta{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	rec := &record.Recorder{Archive: a}
	src, err := source.New(source.Config{Endpoint: ts.Endpoint, Commitment: "processed",
		Filters: source.Filters{AccountOwners: []string{ownerA.String()}}, ResumeSlot: rec.ResumeSlot, Seen: rec.Seen})
	if err != nil {
		t.Fatal(err)
	}
	rec.Source = src
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- rec.Run(ctx) }()
	if err := ts.WaitApplied(ctx, 1); err != nil {
		t.Fatal(err)
	}

	data := make([]byte, benchDataLen)
	const tick = 10 * time.Millisecond
	perTick := max(1, rate/int(time.Second/tick))
	n := 0
	publish := func(d time.Duration) {
		tk := time.NewTicker(tick)
		defer tk.Stop()
		end := time.Now().Add(d)
		for time.Now().Before(end) {
			<-tk.C
			for range perTick {
				u := geysertest.Account(1_000_000+uint64(n/64), geysertest.Key(n%4096), ownerA, uint64(n), data, uint64(n))
				if err := ts.Publish(u, nil); err != nil {
					t.Fatal(err)
				}
				n++
				if n%64 == 0 {
					if err := ts.Publish(geysertest.Slot(1_000_000+uint64(n/64-1), geyserpb.SlotStatus_SLOT_FINALIZED), nil); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	publish(20 * time.Second)
	runtime.GC()
	anon0, file0 := procMemory(t)
	t.Logf("start: RssAnon %d KiB, RssFile %d KiB, %d updates", anon0, file0, n)
	total := time.Duration(minutes * float64(time.Minute))
	for done := time.Duration(0); done < total; done += time.Minute {
		publish(min(time.Minute, total-done))
		anon, file := procMemory(t)
		cp, _ := a.Checkpoint()
		t.Logf("after %v: RssAnon %d KiB, RssFile %d KiB, durable %d of %d", done+min(time.Minute, total-done), anon, file, cp.Seq, n)
	}
	runtime.GC()
	anon1, file1 := procMemory(t)
	cancel()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	st, _ := a.Stats()
	t.Logf("end: RssAnon %d KiB (start %d), RssFile %d KiB (start %d); %d updates recorded, file %d MiB",
		anon1, anon0, file1, file0, st.Messages, st.FileSize>>20)
}
