package serve

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/projection"
)

// waitFor polls cond until it holds; the deadline only guards against hangs.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSlowClientDisconnected runs a client that subscribes and never reads next to one that reads
// everything. The stalled client is disconnected once its queue overflows; the fast one receives
// every frame, in order.
func TestSlowClientDisconnected(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, &Config{
		Store:           projection.Config{Entities: []string{"T"}},
		MaxQueueBytes:   64 << 10,
		SendBufferBytes: 16 << 10,
	})
	// The stalled client also keeps a small receive buffer, so the kernel absorbs little.
	slow := dialReadBuffer(t, hs, 8<<10)
	slow.subscribe(map[string]any{"view": "T/list"})

	fast := dial(t, hs)
	fast.subscribe(map[string]any{"view": "T/list"})

	const n = 3000
	pad := repeat("x", 1000)
	var (
		wg       sync.WaitGroup
		received atomic.Int64
		failed   atomic.Bool
		readErr  error
	)
	wg.Add(1)
	got := make([]string, 0, n)
	go func() {
		defer wg.Done()
		for len(got) < n {
			fast.ws.SetReadDeadline(time.Now().Add(testTimeout))
			_, b, err := fast.ws.ReadMessage()
			if err != nil {
				readErr = err
				failed.Store(true)
				return
			}
			got = append(got, string(b))
			received.Add(1)
		}
	}()
	for i := range n {
		// Keep the fast client well within its queue: it reads as fast as it can, but on a loaded
		// machine (or under the race detector) it would otherwise be dropped too. The bound counts
		// a batch being written until its writer is done, so allow for two batches of 15.
		for int64(i)-received.Load() > 15 && !failed.Load() {
			time.Sleep(time.Millisecond)
		}
		apply(t, s, mut("T", fmt.Sprint(i%20), fmt.Sprintf(`{"i":%d,"pad":%q}`, i, pad), 1, uint64(i+1)))
	}
	wg.Wait()
	require.NoError(t, readErr)
	require.Equal(t, n, len(got), "the fast client receives every frame")
	for i, b := range got {
		if !strings.Contains(b, fmt.Sprintf(`"i":%d,`, i)) {
			t.Fatalf("frame %d out of order: %.80s", i, b)
		}
	}

	waitFor(t, "the slow client to be dropped", func() bool {
		return metricValue(s.metrics.slowDisconnects) == 1 && s.Clients() == 1
	})
	// The stalled client sees the end of its connection: the close frame when it fits in the
	// socket, otherwise a reset.
	slow.ws.SetReadDeadline(time.Now().Add(testTimeout))
	for {
		_, _, err := slow.ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			assert.Equal(t, CloseSlowClient, ce.Code)
		}
		var ne net.Error
		require.False(t, errors.As(err, &ne) && ne.Timeout(), "connection must end, got %v", err)
		break
	}
}

// TestSlowCloseFrame checks the close frame a slow client receives when its socket has room.
func TestSlowCloseFrame(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, &Config{Store: projection.Config{Entities: []string{"T"}}})
	c := dial(t, hs)
	c.subscribe(map[string]any{"view": "T/list"})
	var sc *conn
	s.mu.Lock()
	for x := range s.clients {
		sc = x
	}
	s.mu.Unlock()
	sc.closeSlow()
	c.ws.SetReadDeadline(time.Now().Add(testTimeout))
	_, _, err := c.ws.ReadMessage()
	var ce *websocket.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, CloseSlowClient, ce.Code)
	assert.Equal(t, "slow client", ce.Text)
	waitFor(t, "the client to be dropped", func() bool { return s.Clients() == 0 })
}

func TestPerIPLimit(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, &Config{MaxConnectionsPerIP: 2})
	a := dial(t, hs)
	dial(t, hs)
	waitFor(t, "both clients to be registered", func() bool { return s.Clients() == 2 })
	_, resp, err := websocket.DefaultDialer.Dial(wsURL(hs), nil)
	require.ErrorIs(t, err, websocket.ErrBadHandshake)
	assert.Equal(t, 429, resp.StatusCode)
	assert.Equal(t, "connection-limit-exceeded", resp.Header.Get("X-Error-Code"))
	resp.Body.Close()
	assert.Equal(t, float64(1), metricValue(s.metrics.connectionsReject.WithLabelValues("connection-limit-exceeded")))

	a.ws.Close()
	waitFor(t, "the slot to be released", func() bool { return s.Clients() == 1 })
	dial(t, hs)
}

func TestMaxClients(t *testing.T) {
	t.Parallel()
	_, hs := newTestServer(t, &Config{MaxClients: 1})
	dial(t, hs)
	_, resp, err := websocket.DefaultDialer.Dial(wsURL(hs), nil)
	require.Error(t, err)
	assert.Equal(t, 429, resp.StatusCode)
	resp.Body.Close()
}

func TestMaxMessageSize(t *testing.T) {
	t.Parallel()
	_, hs := newTestServer(t, &Config{MaxMessageBytes: 1024})
	c := dial(t, hs)
	c.send(fmt.Sprintf(`{"type":"ping","pad":%q}`, repeat("y", 2000)))
	c.ws.SetReadDeadline(time.Now().Add(testTimeout))
	_, _, err := c.ws.ReadMessage()
	var ce *websocket.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, websocket.CloseMessageTooBig, ce.Code)
}

// TestLargeSnapshotWaitsForQueueSpace: a snapshot many times larger than the queue bound is
// delivered whole to a client that reads, frame by frame as space frees up.
func TestLargeSnapshotWaitsForQueueSpace(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, &Config{
		Store:         projection.Config{Entities: []string{"T", "U"}},
		MaxQueueBytes: 8 << 10,
		GzipThreshold: -1,
	})
	// A probe on another view tells when the hub has delivered the large batch: batches are
	// delivered in order, so once the probe sees the mutation applied after it, the snapshot below
	// is all the new client can receive of the 300 entities.
	probe := dial(t, hs)
	probe.subscribe(map[string]any{"view": "U/list"})
	var muts []event.Mutation
	for i := range 300 {
		muts = append(muts, mut("T", fmt.Sprint(i), fmt.Sprintf(`{"i":%d,"pad":%q}`, i, repeat("p", 500)), 1, uint64(i+1)))
	}
	apply(t, s, muts...)
	apply(t, s, mut("U", "u", `{"n":1}`, 1, 301))
	assert.Equal(t, "patch", probe.read().op())
	c := dial(t, hs)
	_, snap := c.subscribe(map[string]any{"view": "T/list"})
	assert.Len(t, snap, 300)
	assert.Equal(t, float64(0), metricValue(s.metrics.slowDisconnects))
	apply(t, s, mut("T", "0", `{"i":-1}`, 2, 1000))
	assert.Equal(t, "patch", c.read().op())
}

// TestStalledClientCatchesUp stops reading while frames of many sizes (some larger than the
// kernel buffers, some needing 16- and 64-bit lengths) are sent, with a queue bound large enough
// to hold them all. The socket fills in the middle of frames, so the rest of a frame is sent
// later by the connection's writer; once the client reads again it receives every frame intact
// and in order, and it is not disconnected.
func TestStalledClientCatchesUp(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, &Config{
		Store:           projection.Config{Entities: []string{"T"}},
		MaxQueueBytes:   16 << 20,
		SendBufferBytes: 16 << 10,
	})
	c := dialReadBuffer(t, hs, 32<<10)
	c.subscribe(map[string]any{"view": "T/list"})

	sizes := []int{10, 200, 3000, 1 << 10, 60 << 10, 40, 9000, 33 << 10, 100, 20 << 10, 100 << 10}
	const n = 120
	for i := range n {
		pad := repeat("x", sizes[i%len(sizes)])
		apply(t, s, mut("T", fmt.Sprint(i%7), fmt.Sprintf(`{"i":%d,"pad":%q}`, i, pad), 1, uint64(i+1)))
	}
	for i := range n {
		m := c.read()
		require.Equal(t, "patch", m.op(), "frame %d: %.80s", i, m.raw)
		data := m.frame["data"].(map[string]any)
		require.Equal(t, fmt.Sprint(i), jsonNum(data["i"]), "frame %d out of order", i)
		require.Len(t, data["pad"], sizes[i%len(sizes)], "frame %d", i)
	}
	assert.Equal(t, float64(0), metricValue(s.metrics.slowDisconnects))
	assert.Equal(t, 1, s.Clients())
}
