package serve

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/event"
)

// testTimeout bounds how long a test waits for something that must happen; it is a safety net
// against hangs, not a performance assertion.
const testTimeout = 20 * time.Second

func newTestServer(t *testing.T, cfg *Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg == nil {
		cfg = &Config{}
	}
	s, err := New(cfg)
	require.NoError(t, err)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		s.Shutdown(ctx)
		hs.Close()
	})
	return s, hs
}

func wsURL(hs *httptest.Server) string { return "ws" + strings.TrimPrefix(hs.URL, "http") }

// client is a test WebSocket client that decodes frames the way the official client does.
type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, hs *httptest.Server) *client {
	t.Helper()
	return dialReadBuffer(t, hs, 0)
}

// dialReadBuffer connects a client whose socket has a receive buffer of size bytes (0: the system's
// default); it is closed by t.Cleanup.
func dialReadBuffer(t *testing.T, hs *httptest.Server, size int) *client {
	t.Helper()
	d := *websocket.DefaultDialer
	if size > 0 {
		d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				c.(*net.TCPConn).SetReadBuffer(size)
			}
			return c, err
		}
	}
	ws, resp, err := d.Dial(wsURL(hs), nil)
	require.NoError(t, err)
	resp.Body.Close()
	t.Cleanup(func() { ws.Close() })
	return &client{t: t, ws: ws}
}

func (c *client) send(v any) {
	c.t.Helper()
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	default:
		var err error
		b, err = json.Marshal(v)
		require.NoError(c.t, err)
	}
	require.NoError(c.t, c.ws.WriteMessage(websocket.TextMessage, b))
}

// msg is one received message.
type msg struct {
	binary  bool
	gzipped bool
	raw     []byte // decompressed
	frame   map[string]any
}

func (m msg) op() string     { s, _ := m.frame["op"].(string); return s }
func (m msg) key() string    { s, _ := m.frame["key"].(string); return s }
func (m msg) entity() string { s, _ := m.frame["entity"].(string); return s }

func (c *client) read() msg {
	c.t.Helper()
	c.ws.SetReadDeadline(time.Now().Add(testTimeout))
	op, b, err := c.ws.ReadMessage()
	require.NoError(c.t, err)
	m := msg{binary: op == websocket.BinaryMessage, raw: b}
	if m.binary && len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		require.NoError(c.t, err)
		m.raw, err = io.ReadAll(zr)
		require.NoError(c.t, err)
		m.gzipped = true
	}
	dec := json.NewDecoder(bytes.NewReader(m.raw))
	dec.UseNumber()
	require.NoError(c.t, dec.Decode(&m.frame), "frame %q", m.raw)
	return m
}

// readUntil reads messages until pred accepts one, returning all read.
func (c *client) readUntil(pred func(msg) bool) []msg {
	c.t.Helper()
	var out []msg
	for {
		m := c.read()
		out = append(out, m)
		if pred(m) {
			return out
		}
	}
}

// subscribe sends a subscribe and reads the acknowledgement and the whole snapshot.
func (c *client) subscribe(sub map[string]any) (ack msg, snapshot []map[string]any) {
	c.t.Helper()
	sub["type"] = "subscribe"
	c.send(sub)
	ack = c.read()
	require.Equal(c.t, "subscribed", ack.op(), "first frame after subscribe: %s", ack.raw)
	if w, ok := sub["withSnapshot"].(bool); ok && !w {
		return ack, nil
	}
	for {
		m := c.read()
		require.Equal(c.t, "snapshot", m.op(), "frame: %s", m.raw)
		for _, it := range m.frame["data"].([]any) {
			snapshot = append(snapshot, it.(map[string]any))
		}
		if m.frame["complete"] == true {
			return ack, snapshot
		}
	}
}

// roundTrip waits until the server has processed every message sent before it: the reader handles
// messages in order, so the acknowledgement of a marker subscription proves it. Any message read
// before the acknowledgement fails the test.
func (c *client) roundTrip() {
	c.t.Helper()
	c.send(map[string]any{"type": "subscribe", "view": "T/append", "key": "marker", "withSnapshot": false})
	m := c.read()
	require.Equal(c.t, "subscribed", m.op(), "unexpected message: %s", m.raw)
	c.send(map[string]any{"type": "unsubscribe", "view": "T/append", "key": "marker"})
}

var markerSeq atomic.Uint64

// expectNothing checks that nothing was delivered for the batches applied so far: it subscribes to
// a marker entity, applies a marker mutation and expects its frame to be the next message (batches
// are delivered in order).
func (c *client) expectNothing(s *Server) {
	c.t.Helper()
	n := markerSeq.Add(1)
	key := fmt.Sprintf("m%d", n)
	apply(c.t, s, mut("Marker", key, `{"n":0}`, 0, 0))
	c.send(map[string]any{"type": "subscribe", "view": "Marker/state", "key": key, "withSnapshot": false})
	m := c.read()
	require.Equal(c.t, "subscribed", m.op(), "unexpected message: %s", m.raw)
	apply(c.t, s, mut("Marker", key, `{"n":1}`, 0, 0))
	m = c.read()
	require.Equal(c.t, "Marker/state", m.entity(), "unexpected message: %s", m.raw)
	c.send(map[string]any{"type": "unsubscribe", "view": "Marker/state", "key": key})
}

func mut(entity string, key any, patch string, slot, seq uint64, appendPaths ...string) event.Mutation {
	k, _ := json.Marshal(key)
	return event.Mutation{Export: entity, Key: k, Patch: json.RawMessage(patch), Slot: slot, Seq: seq, Append: appendPaths}
}

func apply(t *testing.T, s *Server, muts ...event.Mutation) {
	t.Helper()
	require.NoError(t, s.Apply(context.Background(), muts))
}

func httpGet(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Code, rec.Body.String()
}

func jsonNum(v any) string { return fmt.Sprint(v) }

// metricValue reads a counter or gauge.
func metricValue(c prometheus.Metric) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}
