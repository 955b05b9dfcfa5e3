package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/projection"
	"github.com/hyperstack-go/hyperstack/internal/serve"
)

// frameBytes builds a list patch frame of about size bytes.
func frameBytes(size, i int) []byte {
	head := fmt.Sprintf(`{"mode":"list","entity":"T/list","op":"patch","key":"k%d","data":{"_seq":"1:%012d","pad":"`, i%100, i)
	tail := `"},"seq":"1:000000000001"}`
	pad := max(size-len(head)-len(tail), 0)
	return []byte(head + strings.Repeat("x", pad) + tail)
}

// clientPool dials n clients and counts the messages they receive, in all and per client.
type clientPool struct {
	conns    []*websocket.Conn
	received atomic.Int64
	counts   []atomic.Int64
	closed   atomic.Int64 // clients whose connection ended while the pool was open
	closing  atomic.Bool
	wg       sync.WaitGroup
}

// slowest is the count of the client that has received the fewest messages.
func (p *clientPool) slowest() int64 {
	m := p.counts[0].Load()
	for i := 1; i < len(p.counts); i++ {
		m = min(m, p.counts[i].Load())
	}
	return m
}

func dialPool(url string, n int, subscribe []byte) (*clientPool, error) {
	p := &clientPool{}
	d := websocket.Dialer{HandshakeTimeout: 30 * time.Second}
	for i := range n {
		c, _, err := d.Dial(url, nil)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("dial client %d: %w", i, err)
		}
		if subscribe != nil {
			if err := c.WriteMessage(websocket.TextMessage, subscribe); err != nil {
				return nil, err
			}
		}
		p.conns = append(p.conns, c)
	}
	p.counts = make([]atomic.Int64, len(p.conns))
	for i, c := range p.conns {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for {
				_, r, err := c.NextReader()
				if err != nil {
					if !p.closing.Load() {
						p.closed.Add(1)
					}
					return
				}
				io.Copy(io.Discard, r)
				p.received.Add(1)
				p.counts[i].Add(1)
			}
		}()
	}
	return p, nil
}

func (p *clientPool) close() {
	p.closing.Store(true)
	for _, c := range p.conns {
		c.Close()
	}
	p.wg.Wait()
}

// measure publishes through send as fast as the pacing allows for the given time and returns the
// delivered frames per second. The pacing keeps every client within window frames of what was
// published, so that no client is disconnected for falling behind; a client that is disconnected
// anyway makes the measurement an error.
func measure(p *clientPool, n, window int, seconds float64, send func(i int)) (float64, error) {
	sent := 0
	base := p.slowest()
	pace := func() {
		for int64(sent)-(p.slowest()-base) > int64(window) && p.closed.Load() == 0 {
			time.Sleep(20 * time.Microsecond)
		}
	}
	// Warm up for a second, then measure.
	warm := time.Now().Add(time.Second)
	for time.Now().Before(warm) {
		pace()
		send(sent)
		sent++
	}
	start, r0 := time.Now(), p.received.Load()
	end := start.Add(time.Duration(seconds * float64(time.Second)))
	for time.Now().Before(end) {
		pace()
		send(sent)
		sent++
	}
	elapsed := time.Since(start)
	if c := p.closed.Load(); c > 0 {
		return 0, fmt.Errorf("%d of %d clients were disconnected during the measurement", c, n)
	}
	return float64(p.received.Load()-r0) / elapsed.Seconds(), nil
}

func runFanout(n, size int, seconds float64, window int) error {
	fmt.Printf("fanout: %d clients on one list view, ~%d-byte frames, loopback, clients in-process (GOMAXPROCS=%d)\n", n, size, runtime.GOMAXPROCS(0))
	bare, err := fanoutBare(n, size, seconds, window)
	if err != nil {
		return err
	}
	fmt.Printf("  bare gorilla broadcast (one message per write): %10.0f frames/s\n", bare)
	hub, err := fanoutOurs(n, size, seconds, window, false)
	if err != nil {
		return err
	}
	fmt.Printf("  hyperstack serve, same bytes through the hub:   %10.0f frames/s  (%.2fx bare)\n", hub, hub/bare)
	full, err := fanoutOurs(n, size, seconds, window, true)
	if err != nil {
		return err
	}
	fmt.Printf("  hyperstack serve, full Apply (projection+hub):  %10.0f frames/s  (%.2fx bare)\n", full, full/bare)
	return nil
}

func listen() (net.Listener, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	return ln, "ws://" + ln.Addr().String(), nil
}

// bareBroadcaster is the reference server: plain gorilla, a goroutine and a 256-message channel
// per client, each message written with WriteMessage (one write system call per message), the same
// kernel send buffer as serve.Server. Clients count once they have sent their first message. The
// broadcaster blocks on a full channel, which makes the reference as fast as it can be.
func bareBroadcaster(n int) (url string, publish func([]byte), stop func(), err error) {
	ln, url, err := listen()
	if err != nil {
		return "", nil, nil, err
	}
	var (
		mu    sync.Mutex
		outs  []chan []byte
		ready = make(chan struct{}, n)
	)
	up := websocket.Upgrader{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		if tc, ok := c.UnderlyingConn().(*net.TCPConn); ok {
			tc.SetWriteBuffer(serve.DefaultSendBufferBytes)
		}
		ch := make(chan []byte, 256)
		mu.Lock()
		outs = append(outs, ch)
		mu.Unlock()
		go func() {
			if _, _, err := c.ReadMessage(); err == nil {
				ch <- []byte(`{"op":"hello"}`)
				ready <- struct{}{}
			}
			for {
				if _, _, err := c.NextReader(); err != nil {
					c.Close()
					return
				}
			}
		}()
		for b := range ch {
			if err := c.WriteMessage(websocket.BinaryMessage, b); err != nil {
				return
			}
		}
	})}
	go srv.Serve(ln)
	publish = func(b []byte) {
		mu.Lock()
		for _, ch := range outs {
			ch <- b
		}
		mu.Unlock()
	}
	stop = func() {
		mu.Lock()
		for _, ch := range outs {
			close(ch)
		}
		outs = nil
		mu.Unlock()
		srv.Close()
	}
	return url, publish, stop, nil
}

func fanoutBare(n, size int, seconds float64, window int) (float64, error) {
	url, publish, stop, err := bareBroadcaster(n)
	if err != nil {
		return 0, err
	}
	defer stop()
	p, err := dialPool(url, n, []byte(`{}`))
	if err != nil {
		return 0, err
	}
	defer p.close()
	for p.slowest() < 1 {
		time.Sleep(10 * time.Millisecond)
	}
	payloads := make([][]byte, 128)
	for i := range payloads {
		payloads[i] = frameBytes(size, i)
	}
	return measure(p, n, window, seconds, func(i int) { publish(payloads[i%len(payloads)]) })
}

// fanoutOurs measures serve.Server: either publishing pre-encoded batches of the same bytes
// straight into the hub through the broker, or applying mutations (projection included).
func fanoutOurs(n, size int, seconds float64, window int, full bool) (float64, error) {
	ln, url, err := listen()
	if err != nil {
		return 0, err
	}
	broker := serve.NewMemoryBroker()
	defer broker.Close()
	s, err := serve.New(&serve.Config{Broker: broker, Store: projection.Config{Entities: []string{"T"}}, MaxClients: n + 10})
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil) }()
	defer func() { cancel(); <-done }()
	sub, _ := json.Marshal(map[string]any{"type": "subscribe", "view": "T/list", "withSnapshot": false})
	p, err := dialPool(url, n, sub)
	if err != nil {
		return 0, err
	}
	defer p.close()
	// Wait for the n acknowledgements.
	for p.slowest() < 1 {
		time.Sleep(10 * time.Millisecond)
	}
	payloads := make([][]byte, 128)
	for i := range payloads {
		payloads[i] = frameBytes(size, i)
	}
	pad := strings.Repeat("x", max(size-140, 0))
	var seq uint64 = 1 << 40
	send := func(i int) {
		if full {
			key, _ := json.Marshal(fmt.Sprintf("k%d", i%100))
			s.Apply(ctx, []event.Mutation{{Export: "T", Key: key, Patch: json.RawMessage(`{"pad":"` + pad + `"}`), Slot: 1, Seq: uint64(i)}})
			return
		}
		seq++
		broker.Publish(ctx, &projection.Batch{Seq: seq, Frames: []projection.Frame{{Channel: "T/list", Key: "k", Payload: payloads[i%len(payloads)]}}})
	}
	return measure(p, n, window, seconds, send)
}
