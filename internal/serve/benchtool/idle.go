package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hyperstack-go/hyperstack/internal/projection"
	"github.com/hyperstack-go/hyperstack/internal/serve"
)

// memory is a server-side memory reading.
type memory struct {
	rss       int64 // resident set, bytes
	heapStack int64 // Go heap in use plus goroutine stacks
}

func readMemory() memory {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := memory{heapStack: int64(ms.HeapInuse + ms.StackInuse)}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "VmRSS:") {
				f := strings.Fields(line)
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				m.rss = kb << 10
			}
		}
	}
	return m
}

// runIdle connects n idle clients from a child process, each subscribed to a list view, and
// reports the server's memory growth per connection — for serve.Server and for a bare gorilla
// server (one reader goroutine per connection, default buffers).
func runIdle(n int) error {
	fmt.Printf("idle: %d connections from a separate process, each subscribed to one list view\n", n)
	ours, err := idleRun(n, func(ctx context.Context) (string, func() int, func(), error) {
		ln, url, err := listen()
		if err != nil {
			return "", nil, nil, err
		}
		s, err := serve.New(&serve.Config{Store: projection.Config{Entities: []string{"T"}}, MaxClients: n + 10})
		if err != nil {
			return "", nil, nil, err
		}
		done := make(chan error, 1)
		cctx, cancel := context.WithCancel(ctx)
		go func() { done <- s.Serve(cctx, ln, nil) }()
		return url, s.Clients, func() { cancel(); <-done }, nil
	})
	if err != nil {
		return err
	}
	bare, err := idleRun(n, func(ctx context.Context) (string, func() int, func(), error) {
		ln, url, err := listen()
		if err != nil {
			return "", nil, nil, err
		}
		var count atomic.Int64
		up := websocket.Upgrader{}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			count.Add(1)
			go func() {
				defer c.Close()
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						return
					}
				}
			}()
		})}
		go srv.Serve(ln)
		return url, func() int { return int(count.Load()) }, func() { srv.Close() }, nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("  hyperstack serve: %6.1f KB/conn RSS, %6.1f KB/conn Go heap+stacks\n", ours[0], ours[1])
	fmt.Printf("  bare gorilla:     %6.1f KB/conn RSS, %6.1f KB/conn Go heap+stacks\n", bare[0], bare[1])
	return nil
}

func idleRun(n int, start func(context.Context) (string, func() int, func(), error)) ([2]float64, error) {
	var out [2]float64
	before := readMemory()
	url, clients, stop, err := start(context.Background())
	if err != nil {
		return out, err
	}
	defer stop()
	self, err := os.Executable()
	if err != nil {
		return out, err
	}
	cmd := exec.Command(self, "-mode", "idle-clients", "-url", url, "-clients", strconv.Itoa(n))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return out, err
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		return out, fmt.Errorf("client process: %q %v", line, err)
	}
	for clients() < n {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	after := readMemory()
	out[0] = float64(after.rss-before.rss) / float64(n) / 1024
	out[1] = float64(after.heapStack-before.heapStack) / float64(n) / 1024
	return out, nil
}

// runIdleClients is the child process: n connections, each subscribed, then idle until stdin
// closes.
func runIdleClients(url string, n int) error {
	sub, _ := json.Marshal(map[string]any{"type": "subscribe", "view": "T/list", "withSnapshot": false})
	conns := make([]*websocket.Conn, 0, n)
	for i := range n {
		c, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			return fmt.Errorf("dial %d: %w", i, err)
		}
		c.WriteMessage(websocket.TextMessage, sub)
		conns = append(conns, c)
	}
	fmt.Println("ready")
	buf := make([]byte, 1)
	os.Stdin.Read(buf)
	for _, c := range conns {
		c.Close()
	}
	return nil
}
