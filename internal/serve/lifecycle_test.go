package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/projection"
)

func TestShutdownIdempotent(t *testing.T) {
	t.Parallel()
	s, err := New(&Config{Store: projection.Config{Entities: []string{"T"}}})
	require.NoError(t, err)
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	c := dial(t, hs)
	c.subscribe(map[string]any{"view": "T/list"})

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.Shutdown(ctx) }()
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
	assert.NoError(t, s.Shutdown(ctx), "a later call returns the first result")

	c.ws.SetReadDeadline(time.Now().Add(testTimeout))
	_, _, err = c.ws.ReadMessage()
	var ce *websocket.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, websocket.CloseGoingAway, ce.Code)

	assert.ErrorIs(t, s.Apply(ctx, nil), ErrServerClosed)
	_, resp, err := websocket.DefaultDialer.Dial(wsURL(hs), nil)
	require.Error(t, err)
	assert.Equal(t, 503, resp.StatusCode)
	resp.Body.Close()
	assert.Equal(t, 0, s.Clients())
}

func TestListenAndServeStopsWithContext(t *testing.T) {
	t.Parallel()
	s, err := New(&Config{Addr: "127.0.0.1:0", HealthAddr: "127.0.0.1:0"})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx) }()
	cancel()
	require.NoError(t, <-done)
	require.NoError(t, s.Shutdown(context.Background()))
}

func TestHealthStatusMetricsDebug(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, &Config{Debug: true, Store: projection.Config{Entities: []string{"T"}}})
	h := s.HealthHandler()
	code, body := httpGet(t, h, "/health")
	assert.Equal(t, 200, code)
	assert.Equal(t, "OK", body)
	code, body = httpGet(t, h, "/ready")
	assert.Equal(t, 200, code, "ready without a source monitor")
	assert.Equal(t, "READY", body)

	s.ReportSource(SourceStatus{State: "reconnecting", LastSlot: 90, SlotLag: 12, Errors: 2})
	code, body = httpGet(t, h, "/readiness")
	assert.Equal(t, 503, code)
	assert.Equal(t, "NOT READY", body)
	s.ReportSource(SourceStatus{State: "connected", CaughtUp: true, LastSlot: 100, SlotLag: 1})
	code, _ = httpGet(t, h, "/ready")
	assert.Equal(t, 200, code)

	apply(t, s, mut("T", "k", `{"big":12345678901234567890}`, 100, 1))
	c := dial(t, hs)
	c.subscribe(map[string]any{"view": "T/list"})

	code, body = httpGet(t, h, "/status")
	assert.Equal(t, 200, code)
	var st Status
	require.NoError(t, json.Unmarshal([]byte(body), &st))
	assert.Equal(t, "connected", st.Status)
	assert.Equal(t, uint64(100), st.LastSlot)
	assert.Equal(t, uint64(1), st.SlotLag)
	assert.Equal(t, 1, st.Clients)
	assert.Contains(t, fmt.Sprint(st.Views), "T/list")

	code, body = httpGet(t, h, "/metrics")
	assert.Equal(t, 200, code)
	for _, m := range []string{"hyperstack_ws_connections_active 1", "hyperstack_projector_mutations_total 1",
		"hyperstack_source_last_slot 100", "hyperstack_ws_subscriptions_active 1", "hyperstack_ws_slow_disconnects_total 0"} {
		assert.Contains(t, body, m)
	}

	code, body = httpGet(t, h, "/debug/entities?view=T/list")
	assert.Equal(t, 200, code)
	assert.JSONEq(t, `{"view":"T/list","seq":1,"entities":[{"key":"k","data":{"_seq":"100:000000000001","big":"12345678901234567890"}}]}`, body)
	code, _ = httpGet(t, h, "/debug/entities?view=Nope/list")
	assert.Equal(t, 404, code)
	code, _ = httpGet(t, h, "/nothing")
	assert.Equal(t, 404, code)
}

// TestConcurrentSubscribeConsistency applies mutations continuously while clients subscribe at
// arbitrary moments. Each client rebuilds state from its snapshot and live frames with the
// official client's merge rules; at the end every client must hold exactly the server's state:
// no frame lost, none applied twice (appended arrays would show duplicates).
func TestConcurrentSubscribeConsistency(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, &Config{Debug: true, Store: projection.Config{Entities: []string{"T"}}})
	const (
		total   = 1500
		nKeys   = 30
		clients = 6
	)
	views := []string{"T/list", "T/append", "T/list", "T/append", "T/list", "T/append"}
	type result struct {
		view  string
		state map[string]map[string]any
	}
	results := make(chan result, clients)
	started := make(chan struct{}, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws, resp, err := websocket.DefaultDialer.Dial(wsURL(hs), nil)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			defer ws.Close()
			c := &client{t: t, ws: ws}
			time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond)
			c.send(map[string]any{"type": "subscribe", "view": views[i]})
			started <- struct{}{}
			state := map[string]map[string]any{}
			for {
				m := c.read()
				switch m.op() {
				case "snapshot":
					for _, it := range m.frame["data"].([]any) {
						e := it.(map[string]any)
						state[e["key"].(string)] = e["data"].(map[string]any)
					}
					// On a loaded machine the subscribe may be handled after the last mutation:
					// then the snapshot already holds the final state and no patch follows.
					if complete, _ := m.frame["complete"].(bool); complete && state["done"] != nil {
						t.Logf("client of %s subscribed after the last mutation", views[i])
						results <- result{views[i], state}
						return
					}
				case "patch":
					paths := map[string]bool{}
					if ap, ok := m.frame["append"].([]any); ok {
						for _, p := range ap {
							paths[p.(string)] = true
						}
					}
					cur, ok := state[m.key()]
					if !ok {
						cur = map[string]any{}
						state[m.key()] = cur
					}
					clientMerge(cur, m.frame["data"].(map[string]any), "", paths)
					if m.key() == "done" {
						results <- result{views[i], state}
						return
					}
				}
			}
		}()
	}
	// Let every client send its subscribe somewhere inside the stream.
	for i := range total {
		k := fmt.Sprint(rand.IntN(nKeys))
		require.NoError(t, s.Apply(context.Background(), []event.Mutation{
			mut("T", k, fmt.Sprintf(`{"n":%d,"events":[%d],"obj":{"last":%d}}`, i, i, i), uint64(i/10), uint64(i+1), "events"),
		}))
		if i == total/3 {
			for range clients {
				<-started
			}
		}
	}
	apply(t, s, mut("T", "done", `{"n":-1}`, total, total+1))
	wg.Wait()
	close(results)
	want := map[string]map[string]map[string]any{}
	for _, v := range []string{"T/list", "T/append"} {
		_, body := httpGet(t, s.HealthHandler(), "/debug/entities?view="+v)
		var doc struct {
			Entities []struct {
				Key  string         `json:"key"`
				Data map[string]any `json:"data"`
			} `json:"entities"`
		}
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&doc))
		want[v] = map[string]map[string]any{}
		for _, e := range doc.Entities {
			want[v][e.Key] = e.Data
		}
	}
	n := 0
	for r := range results {
		n++
		require.Equal(t, want[r.view], r.state, "client of %s", r.view)
	}
	require.Equal(t, clients, n)
}

// clientMerge is the official client's deep merge.
func clientMerge(dst, src map[string]any, prefix string, appendPaths map[string]bool) {
	for k, sv := range src {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		dv, ok := dst[k]
		if sa, isArr := sv.([]any); isArr && ok {
			if da, dIsArr := dv.([]any); dIsArr && appendPaths[path] {
				dst[k] = append(append([]any{}, da...), sa...)
				continue
			}
		}
		if so, isObj := sv.(map[string]any); isObj && ok {
			if do, dIsObj := dv.(map[string]any); dIsObj {
				clientMerge(do, so, path, appendPaths)
				continue
			}
		}
		dst[k] = sv
	}
}
