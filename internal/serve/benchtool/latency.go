package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/projection"
	"github.com/hyperstack-go/hyperstack/internal/serve"
)

// runLatency applies mutations at rate/n per second to a list view with n subscribers (rate
// deliveries per second in all) and measures the time from Apply to each client's receipt; then
// the same for a bare gorilla broadcast of equivalent frames, for reference under the same load.
func runLatency(n, size int, seconds float64, rate int) error {
	perSec := max(rate/n, 1)
	fmt.Printf("latency: %d clients, %d mutations/s → %d deliveries/s, ~%d-byte frames, clients in-process\n", n, perSec, perSec*n, size)
	pad := strings.Repeat("x", max(size-160, 0))

	ln, url, err := listen()
	if err != nil {
		return err
	}
	s, err := serve.New(&serve.Config{Store: projection.Config{Entities: []string{"T"}}, MaxClients: n + 10})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil) }()
	sub, _ := json.Marshal(map[string]any{"type": "subscribe", "view": "T/list", "withSnapshot": false})
	lats, err := latencyRun(url, n, sub, perSec, seconds, func(i int) error {
		key, _ := json.Marshal(fmt.Sprintf("k%d", i%100))
		patch := fmt.Sprintf(`{"pad":%q,"t":%d}`, pad, time.Now().UnixMicro())
		return s.Apply(ctx, []event.Mutation{{Export: "T", Key: key, Patch: json.RawMessage(patch), Slot: 1, Seq: uint64(i + 1)}})
	})
	cancel()
	<-done
	if err != nil {
		return err
	}
	report("hyperstack serve", lats, n*int(seconds*float64(perSec)))

	bare, publish, stop, err := bareBroadcaster(n)
	if err != nil {
		return err
	}
	lats, err = latencyRun(bare, n, []byte(`{}`), perSec, seconds, func(i int) error {
		publish([]byte(fmt.Sprintf(`{"mode":"list","entity":"T/list","op":"patch","key":"k%d","data":{"pad":%q,"t":%d}}`, i%100, pad, time.Now().UnixMicro())))
		return nil
	})
	stop()
	if err != nil {
		return err
	}
	report("bare gorilla    ", lats, n*int(seconds*float64(perSec)))
	return nil
}

func report(name string, lats []time.Duration, want int) {
	slices.Sort(lats)
	pct := func(p float64) time.Duration {
		if len(lats) == 0 {
			return 0
		}
		return lats[min(int(p*float64(len(lats))), len(lats)-1)].Round(10 * time.Microsecond)
	}
	fmt.Printf("  %s: p50 %v  p90 %v  p99 %v  p99.9 %v  max %v  (%d of %d deliveries)\n", name, pct(0.5), pct(0.9), pct(0.99), pct(0.999), pct(1), len(lats), want)
}

// latencyRun connects n clients (each first sends hello and waits for one reply), then calls send
// perSec times a second and collects the latencies the clients see from the "t" field.
func latencyRun(url string, n int, hello []byte, perSec int, seconds float64, send func(i int) error) ([]time.Duration, error) {
	var (
		mu   sync.Mutex
		lats []time.Duration
		wg   sync.WaitGroup
		acks sync.WaitGroup
	)
	conns := make([]*websocket.Conn, 0, n)
	for i := range n {
		c, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			return nil, fmt.Errorf("dial %d: %w", i, err)
		}
		c.WriteMessage(websocket.TextMessage, hello)
		conns = append(conns, c)
	}
	acks.Add(n)
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			first := true
			for {
				_, b, err := c.ReadMessage()
				now := time.Now()
				if err != nil {
					break
				}
				if first {
					first = false
					acks.Done()
					continue
				}
				if i := bytes.Index(b, []byte(`"t":`)); i >= 0 {
					j := i + 4
					for j < len(b) && b[j] >= '0' && b[j] <= '9' {
						j++
					}
					if us, err := strconv.ParseInt(string(b[i+4:j]), 10, 64); err == nil {
						mine = append(mine, now.Sub(time.UnixMicro(us)))
					}
				}
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		}()
	}
	acks.Wait()
	interval := time.Second / time.Duration(perSec)
	total := int(seconds * float64(perSec))
	next := time.Now()
	for i := range total {
		next = next.Add(interval)
		time.Sleep(time.Until(next))
		if err := send(i); err != nil {
			return nil, err
		}
	}
	time.Sleep(500 * time.Millisecond)
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
	return lats, nil
}
