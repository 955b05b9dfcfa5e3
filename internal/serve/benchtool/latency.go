package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
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

// latencyInProcess runs the latency clients in the server's process (-latency-in-process).
var latencyInProcess bool

// runLatency applies mutations at rate/n per second to a list view with n subscribers (rate
// deliveries per second in all) and measures the time from Apply to each client's receipt; then
// the same for a bare gorilla broadcast of equivalent frames, for reference under the same load.
func runLatency(n, size int, seconds float64, rate int) error {
	perSec := max(rate/n, 1)
	where := "clients in a separate process"
	if latencyInProcess {
		where = "clients in-process"
	}
	fmt.Printf("latency: %d clients, %d mutations/s → %d deliveries/s, ~%d-byte frames, %s\n", n, perSec, perSec*n, size, where)
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
// perSec times a second and collects the latencies the clients see from the "t" field. The clients
// run in a child process (latency-clients mode) unless inProcess: then their garbage and goroutines
// share the server's heap and scheduler, which a deployed server never has.
func latencyRun(url string, n int, hello []byte, perSec int, seconds float64, send func(i int) error) ([]time.Duration, error) {
	if latencyInProcess {
		return latencyRunInProcess(url, n, hello, perSec, seconds, send)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-mode", "latency-clients", "-url", url, "-clients", strconv.Itoa(n), "-hello", string(hello))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	out := bufio.NewReaderSize(stdout, 1<<20)
	line, err := out.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		return nil, fmt.Errorf("client process: %q %v", line, err)
	}
	if err := pace(perSec, seconds, send); err != nil {
		return nil, err
	}
	time.Sleep(500 * time.Millisecond)
	stdin.Close() // the clients disconnect and print what they measured
	var lats []time.Duration
	for {
		f, err := out.ReadString(' ')
		f = strings.TrimSpace(f)
		if f != "" {
			us, perr := strconv.ParseInt(f, 10, 64)
			if perr != nil {
				return nil, fmt.Errorf("client process output %q: %w", f, perr)
			}
			lats = append(lats, time.Duration(us)*time.Microsecond)
		}
		if err != nil {
			break
		}
	}
	return lats, nil
}

// pace calls send perSec times a second for seconds.
func pace(perSec int, seconds float64, send func(i int) error) error {
	interval := time.Second / time.Duration(perSec)
	total := int(seconds * float64(perSec))
	next := time.Now()
	for i := range total {
		next = next.Add(interval)
		time.Sleep(time.Until(next))
		if err := send(i); err != nil {
			return err
		}
	}
	return nil
}

// runLatencyClients connects n clients to url (see dialLatencyClients), prints "ready", and reads
// until stdin closes; then it prints every latency it saw, in microseconds, separated by spaces.
func runLatencyClients(url string, n int, hello string) error {
	lc, err := dialLatencyClients(url, n, []byte(hello))
	if err != nil {
		return err
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	w := bufio.NewWriter(os.Stdout)
	for _, l := range lc.stop() {
		w.WriteString(strconv.FormatInt(l.Microseconds(), 10))
		w.WriteByte(' ')
	}
	return w.Flush()
}

// latencyClients are the clients of a latency run.
type latencyClients struct {
	conns []*websocket.Conn
	wg    sync.WaitGroup
	mu    sync.Mutex
	lats  []time.Duration
}

// dialLatencyClients connects n clients to url, each sending hello and taking the first message
// it receives as the reply, and returns once every client has its reply. From then on each client
// records the latency of every message carrying a "t" stamp, reading into a buffer of its own that
// it reuses for every message.
func dialLatencyClients(url string, n int, hello []byte) (*latencyClients, error) {
	lc := &latencyClients{conns: make([]*websocket.Conn, 0, n)}
	for i := range n {
		c, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err == nil {
			lc.conns = append(lc.conns, c)
			err = c.WriteMessage(websocket.TextMessage, hello)
		}
		if err != nil {
			lc.stop()
			return nil, fmt.Errorf("client %d: %w", i, err)
		}
	}
	var acks sync.WaitGroup
	acks.Add(n)
	for _, c := range lc.conns {
		lc.wg.Add(1)
		go func() {
			defer lc.wg.Done()
			var (
				mine []time.Duration
				buf  bytes.Buffer
			)
			for first := true; ; first = false {
				_, r, err := c.NextReader()
				if err != nil {
					if first {
						acks.Done()
					}
					break
				}
				buf.Reset()
				buf.ReadFrom(r)
				now := time.Now()
				if first {
					acks.Done()
					continue
				}
				if us, ok := stampOf(buf.Bytes()); ok {
					mine = append(mine, now.Sub(time.UnixMicro(us)))
				}
			}
			lc.mu.Lock()
			lc.lats = append(lc.lats, mine...)
			lc.mu.Unlock()
		}()
	}
	acks.Wait()
	return lc, nil
}

// stop disconnects the clients and returns the latencies they recorded.
func (lc *latencyClients) stop() []time.Duration {
	for _, c := range lc.conns {
		c.Close()
	}
	lc.wg.Wait()
	return lc.lats
}

// stampOf finds the "t" field's microsecond timestamp in a frame.
func stampOf(b []byte) (int64, bool) {
	i := bytes.Index(b, []byte(`"t":`))
	if i < 0 {
		return 0, false
	}
	j := i + 4
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	us, err := strconv.ParseInt(string(b[i+4:j]), 10, 64)
	return us, err == nil
}

// latencyRunInProcess is latencyRun with the clients in this process.
func latencyRunInProcess(url string, n int, hello []byte, perSec int, seconds float64, send func(i int) error) ([]time.Duration, error) {
	lc, err := dialLatencyClients(url, n, hello)
	if err != nil {
		return nil, err
	}
	if err := pace(perSec, seconds, send); err != nil {
		lc.stop()
		return nil, err
	}
	time.Sleep(500 * time.Millisecond)
	return lc.stop(), nil
}
