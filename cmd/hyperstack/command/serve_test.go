package command

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/projection"
)

func TestParseSource(t *testing.T) {
	cases := []struct{ in, kind, arg, err string }{
		{"sim:spl-token", "sim", "spl-token", ""},
		{"sim:ore", "sim", "ore", ""},
		{"sim:nope", "", "", "unknown scenario"},
		{"archive:x.db", "archive", "x.db", ""},
		{"archive:", "", "", "needs a path"},
		{"https://grpc.example.com:443", "live", "https://grpc.example.com:443", ""},
		{"grpc.example.com", "", "", "want sim:spl-token"},
	}
	for _, c := range cases {
		k, a, err := parseSource(c.in)
		if c.err != "" {
			require.ErrorContains(t, err, c.err, c.in)
			require.Equal(t, ExitUsage, ExitCode(err))
			continue
		}
		require.NoError(t, err, c.in)
		require.Equal(t, c.kind, k)
		require.Equal(t, c.arg, a)
	}
}

func TestDemoStackViews(t *testing.T) {
	spec, _, err := loadStack("")
	require.NoError(t, err)
	views, err := projectionViews(spec)
	require.NoError(t, err)
	byID := map[string]projection.ViewDef{}
	for _, v := range views {
		byID[v.ID] = v
	}
	top, ok := byID["TokenAccount/top"]
	require.True(t, ok, "demo stack defines TokenAccount/top")
	require.Equal(t, "TokenAccount", top.Entity)
	require.NotNil(t, top.Sort)
	require.Equal(t, []string{"token", "amount"}, top.Sort.Field)
	require.True(t, top.Sort.Desc)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// TestServeDemoEndToEnd runs `hyperstack serve` in-process with the built-in demo and subscribes
// over a real WebSocket: the client gets the subscribed frame, a snapshot and live frames.
func TestServeDemoEndToEnd(t *testing.T) {
	ws, health := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	errOut := &lockedBuffer{}
	f := &Factory{IO: IOStreams{In: &bytes.Buffer{}, Out: io.Discard, ErrOut: errOut, IsTerminal: func() bool { return false }},
		Getenv: func(string) string { return "" }, Now: time.Now}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, f, []string{"serve", "--listen", ws, "--health-listen", health, "--slot-interval", "20ms"})
	}()
	t.Cleanup(func() {
		cancel()
		require.Equal(t, ExitOK, <-done, errOut.String())
	})

	var conn *websocket.Conn
	require.Eventually(t, func() bool {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+ws, nil)
		if err != nil {
			return false
		}
		conn = c
		return true
	}, 20*time.Second, 50*time.Millisecond)
	defer conn.Close()

	require.NoError(t, conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","view":"TokenAccount/list"}`)))
	seen := map[string]int{}
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second)))
	for seen["patch"] == 0 {
		_, msg, err := conn.ReadMessage()
		require.NoError(t, err)
		var fr struct {
			Op     string          `json:"op"`
			Entity string          `json:"entity"`
			Data   json.RawMessage `json:"data"`
		}
		if len(msg) > 1 && msg[0] == 0x1f && msg[1] == 0x8b {
			seen["gzip"]++
			continue
		}
		require.NoError(t, json.Unmarshal(msg, &fr), string(msg))
		seen[fr.Op]++
		if fr.Op == "patch" {
			require.Equal(t, "TokenAccount/list", fr.Entity)
		}
	}
	require.Equal(t, 1, seen["subscribed"])

	// A malformed message gets an error frame and the connection lives on.
	require.NoError(t, conn.WriteMessage(websocket.TextMessage, []byte(`{not json`)))
	require.NoError(t, conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping"}`)))

	resp, err := http.Get(fmt.Sprintf("http://%s/status", health))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.True(t, strings.Contains(string(body), `"name":"sim:spl-token"`), string(body))
}

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of a running server's loggers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
