package serve

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hyperstack-go/hyperstack/internal/projection"
)

// BenchmarkFanout publishes pre-encoded ~1 KB list frames to N loopback clients (in this process)
// and reports delivered frames per second. b.N counts published frames; the publisher keeps every
// client within 64 frames of what it published. See internal/serve/benchtool for the comparison with a bare
// gorilla broadcast.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("clients_%d", n), func(b *testing.B) {
			if n > 100 && testing.Short() {
				b.Skip("short")
			}
			broker := NewMemoryBroker()
			s, err := New(&Config{Broker: broker, Store: projection.Config{Entities: []string{"T"}}})
			if err != nil {
				b.Fatal(err)
			}
			hs := httptest.NewServer(s.Handler())
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
				defer cancel()
				s.Shutdown(ctx)
				hs.Close()
				broker.Close()
			}()
			// Every client counts what it read; the publisher keeps each client within 64 frames of
			// what was published, so no client falls behind far enough to be disconnected as slow
			// (which would leave the benchmark waiting for frames that never come: a disconnect fails
			// it instead).
			recv := make([]atomic.Int64, n)
			var closed atomic.Int64
			var wg sync.WaitGroup
			for i := range n {
				ws, _, err := websocket.DefaultDialer.Dial(wsURL(hs), nil)
				if err != nil {
					b.Fatal(err)
				}
				defer ws.Close()
				ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","view":"T/list","withSnapshot":false}`))
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						_, r, err := ws.NextReader()
						if err != nil {
							closed.Add(1)
							return
						}
						io.Copy(io.Discard, r)
						recv[i].Add(1)
					}
				}()
			}
			slowest := func() int64 {
				m := recv[0].Load()
				for i := 1; i < n; i++ {
					m = min(m, recv[i].Load())
				}
				return m
			}
			waitAll := func(want int64) {
				for slowest() < want {
					if c := closed.Load(); c > 0 {
						b.Fatalf("%d clients were disconnected", c)
					}
					time.Sleep(100 * time.Microsecond)
				}
			}
			waitAll(1) // every subscription acknowledged
			payload := []byte(`{"mode":"list","entity":"T/list","op":"patch","key":"k","data":{"pad":"` + strings.Repeat("x", 940) + `"},"seq":"1:000000000001"}`)
			base := slowest()
			ctx := context.Background()
			b.SetBytes(int64(len(payload) * n))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for int64(i)-(slowest()-base) > 64 {
					if c := closed.Load(); c > 0 {
						b.Fatalf("%d clients were disconnected", c)
					}
					time.Sleep(20 * time.Microsecond)
				}
				broker.Publish(ctx, &projection.Batch{Seq: uint64(i + 1), Frames: []projection.Frame{{Channel: "T/list", Key: "k", Payload: payload}}})
			}
			waitAll(base + int64(b.N))
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
