package source_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/source"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

var errBenchDone = errors.New("bench done")

type countHandler struct {
	n, want int
	bytes   int64
}

func (h *countHandler) OnUpdate(u *source.Update) error {
	if u.Slot == 0 {
		return nil
	}
	h.n++
	h.bytes += int64(len(u.Raw))
	if h.n == h.want {
		return errBenchDone
	}
	return nil
}

func (h *countHandler) OnGap(source.Gap) error { return nil }

// BenchmarkYellowstoneRun measures the whole client path over loopback: test server → gRPC →
// source.Yellowstone (raw frames, kind/slot scan, dedup bookkeeping) → handler, ~1 KB accounts.
func BenchmarkYellowstoneRun(b *testing.B) {
	for _, size := range []int{1000} {
		b.Run(fmt.Sprintf("data=%dB", size), func(b *testing.B) {
			const distinct = 1024
			raws := make([][]byte, distinct)
			us := make([]*geyserpb.SubscribeUpdate, distinct)
			for i := range raws {
				data := make([]byte, size)
				for j := range data {
					data[j] = byte(i * j)
				}
				us[i] = geysertest.Account(uint64(1+i/100), geysertest.Key(i), geysertest.Key(1000), 1, data, uint64(i))
				raws[i], _ = proto.Marshal(us[i])
			}
			ts := geysertest.Start(b, geysertest.Options{PingInterval: -1})
			y, err := source.New(source.Config{
				Endpoint:   ts.Endpoint,
				Commitment: "processed",
				Filters:    source.Filters{AccountOwners: []string{geysertest.Key(1000).String()}},
			})
			if err != nil {
				b.Fatal(err)
			}
			h := &countHandler{want: b.N}
			done := make(chan error, 1)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() { done <- y.Run(ctx, h) }()
			if err := ts.WaitApplied(ctx, 1); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(raws[0])))
			b.ResetTimer()
			start := time.Now()
			go func() {
				// Pre-encoded updates, as the simulator and replay publish them; 100 per slot.
				for i := 0; i < b.N; i++ {
					if err := ts.Publish(us[i%distinct], raws[i%distinct]); err != nil {
						return
					}
				}
			}()
			if err := <-done; !errors.Is(err, errBenchDone) {
				b.Fatalf("run: %v", err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "updates/s")
		})
	}
}
