package serve

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/projection"
)

func TestListSubscribeAckSnapshotLiveOrder(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, &Config{Store: projection.Config{Entities: []string{"Token"}}})
	apply(t, s,
		mut("Token", "a", `{"id":{"mint":"a"},"supply":1}`, 10, 1),
		mut("Token", "b", `{"id":{"mint":"b"},"supply":2}`, 10, 2),
	)
	c := dial(t, hs)
	ack, snap := c.subscribe(map[string]any{"view": "Token/list"})
	assert.True(t, ack.binary, "data frames are binary")
	assert.JSONEq(t, `{"op":"subscribed","view":"Token/list","mode":"list","sort":{"field":["_seq"],"order":"desc"}}`, string(ack.raw))
	require.Len(t, snap, 2)
	// Most recently updated first.
	assert.Equal(t, "b", snap[0]["key"])
	assert.Equal(t, "a", snap[1]["key"])
	assert.Equal(t, map[string]any{"id": map[string]any{"mint": "b"}, "supply": json.Number("2"), "_seq": "10:000000000002"}, snap[0]["data"])

	apply(t, s, mut("Token", "a", `{"supply":5}`, 11, 3))
	m := c.read()
	assert.True(t, m.binary)
	assert.JSONEq(t, `{"mode":"list","entity":"Token/list","op":"patch","key":"a","data":{"_seq":"11:000000000003","supply":5},"seq":"11:000000000003"}`, string(m.raw))
}

func TestEmptySnapshotSendsCompleteMarker(t *testing.T) {
	t.Parallel()
	_, hs := newTestServer(t, &Config{Store: projection.Config{Entities: []string{"Token"}}})
	c := dial(t, hs)
	c.send(map[string]any{"type": "subscribe", "view": "Token/list"})
	assert.Equal(t, "subscribed", c.read().op())
	m := c.read()
	assert.JSONEq(t, `{"mode":"list","entity":"Token/list","op":"snapshot","data":[],"complete":true}`, string(m.raw))
}

func TestStateView(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, &Config{Store: projection.Config{Entities: []string{"Round"}}})
	apply(t, s, mut("Round", 7, `{"id":{"round_id":7},"state":{"a":1,"b":1}}`, 1, 1))
	c := dial(t, hs)

	// A state view without a key is refused with an error frame.
	c.send(map[string]any{"type": "subscribe", "view": "Round/state"})
	e := c.read()
	assert.False(t, e.binary, "error frames are text")
	assert.Equal(t, "error", e.frame["type"])
	assert.Equal(t, "invalid-subscription", e.frame["code"])

	ack, snap := c.subscribe(map[string]any{"view": "Round/state", "key": "7"})
	assert.JSONEq(t, `{"op":"subscribed","view":"Round/state","mode":"state"}`, string(ack.raw))
	require.Len(t, snap, 1)
	assert.Equal(t, "7", snap[0]["key"])

	// Two quick patches to the same key both arrive, in order (no latest-value coalescing), and
	// other keys are not delivered.
	apply(t, s,
		mut("Round", 7, `{"state":{"a":2}}`, 2, 2),
		mut("Round", 8, `{"state":{"a":9}}`, 2, 3),
		mut("Round", 7, `{"state":{"b":3}}`, 2, 4),
	)
	m1, m2 := c.read(), c.read()
	assert.Equal(t, "7", m1.key())
	assert.Equal(t, "Round/state", m1.entity())
	assert.Equal(t, map[string]any{"a": json.Number("2")}, m1.frame["data"].(map[string]any)["state"])
	assert.Equal(t, map[string]any{"b": json.Number("3")}, m2.frame["data"].(map[string]any)["state"])
	c.expectNothing(s)
}

func TestAppendView(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, &Config{Store: projection.Config{Entities: []string{"Token"}, MaxArrayLength: 3}})
	apply(t, s, mut("Token", "a", `{"events":{"trades":[1,2]}}`, 1, 1, "events.trades"))
	c := dial(t, hs)
	ack, snap := c.subscribe(map[string]any{"view": "Token/append"})
	assert.JSONEq(t, `{"op":"subscribed","view":"Token/append","mode":"append"}`, string(ack.raw))
	require.Len(t, snap, 1)

	apply(t, s, mut("Token", "a", `{"events":{"trades":[3,4]}}`, 2, 2, "events.trades"))
	m := c.read()
	assert.JSONEq(t, `{"mode":"append","entity":"Token/append","op":"patch","key":"a","data":{"_seq":"2:000000000002","events":{"trades":[3,4]}},"append":["events.trades"],"seq":"2:000000000002"}`, string(m.raw))

	// A late joiner sees the merged array, capped to the newest MaxArrayLength items.
	c2 := dial(t, hs)
	_, snap2 := c2.subscribe(map[string]any{"view": "Token/append"})
	require.Len(t, snap2, 1)
	assert.Equal(t, []any{json.Number("2"), json.Number("3"), json.Number("4")},
		snap2[0]["data"].(map[string]any)["events"].(map[string]any)["trades"])
}

func TestListKeyFilterAndWithSnapshotFalse(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, &Config{Store: projection.Config{Entities: []string{"Token"}}})
	apply(t, s, mut("Token", "a", `{"v":1}`, 1, 1), mut("Token", "b", `{"v":1}`, 1, 2))
	c := dial(t, hs)
	_, snap := c.subscribe(map[string]any{"view": "Token/list", "key": "b"})
	require.Len(t, snap, 1)
	assert.Equal(t, "b", snap[0]["key"])

	c2 := dial(t, hs)
	c2.subscribe(map[string]any{"view": "Token/list", "withSnapshot": false})

	apply(t, s, mut("Token", "a", `{"v":2}`, 2, 3), mut("Token", "b", `{"v":2}`, 2, 4))
	assert.Equal(t, "b", c.read().key())
	c.expectNothing(s)
	assert.Equal(t, "a", c2.read().key())
	assert.Equal(t, "b", c2.read().key())
}

func TestSnapshotAfterAndLimit(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, &Config{Store: projection.Config{Entities: []string{"T"}}})
	for i := 1; i <= 5; i++ {
		apply(t, s, mut("T", fmt.Sprint(i), `{"n":1}`, 100, uint64(i)))
	}
	c := dial(t, hs)
	_, snap := c.subscribe(map[string]any{"view": "T/list", "after": "100:000000000002", "snapshotLimit": 2})
	assert.Equal(t, []string{"3", "4"}, keys(snap))
	_, snap = c.subscribe(map[string]any{"view": "T/list", "snapshotLimit": 2})
	assert.Equal(t, []string{"5", "4"}, keys(snap))

	c.send(map[string]any{"type": "subscribe", "view": "T/append", "after": "nonsense"})
	e := c.read()
	assert.Equal(t, "invalid-subscription", e.frame["code"])
}

func keys(snap []map[string]any) []string {
	out := make([]string, len(snap))
	for i, it := range snap {
		out[i] = it["key"].(string)
	}
	return out
}

func TestDerivedViewWindow(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, &Config{Store: projection.Config{Views: []projection.ViewDef{{
		ID: "Round/latest", Entity: "Round", Sort: &projection.Sort{Field: []string{"id", "round_id"}, Desc: true},
	}}}})
	for i := 1; i <= 4; i++ {
		apply(t, s, mut("Round", i, fmt.Sprintf(`{"id":{"round_id":%d},"x":0}`, i), 1, uint64(i)))
	}
	c := dial(t, hs)
	ack, snap := c.subscribe(map[string]any{"view": "Round/latest", "take": 2})
	assert.JSONEq(t, `{"op":"subscribed","view":"Round/latest","mode":"list","sort":{"field":["id","round_id"],"order":"desc"}}`, string(ack.raw))
	assert.Equal(t, []string{"4", "3"}, keys(snap))

	c2 := dial(t, hs)
	_, snap2 := c2.subscribe(map[string]any{"view": "Round/latest", "skip": 1, "take": 2})
	assert.Equal(t, []string{"3", "2"}, keys(snap2))

	// An update inside the window is a patch; an update outside sends nothing.
	apply(t, s, mut("Round", 4, `{"x":1}`, 2, 10))
	m := c.read()
	assert.Equal(t, "patch", m.op())
	assert.Equal(t, "Round/latest", m.entity())
	assert.Equal(t, "4", m.key())
	apply(t, s, mut("Round", 1, `{"x":1}`, 2, 11))
	c.expectNothing(s)

	// A new top round pushes the window: delete the leaving key, upsert the new one in full.
	apply(t, s, mut("Round", 5, `{"id":{"round_id":5},"x":0}`, 3, 12))
	del, up := c.read(), c.read()
	assert.JSONEq(t, `{"mode":"list","entity":"Round/latest","op":"delete","key":"3","data":null}`, string(del.raw))
	assert.Equal(t, "upsert", up.op())
	assert.Equal(t, "5", up.key())
	assert.Equal(t, map[string]any{"round_id": json.Number("5")}, up.frame["data"].(map[string]any)["id"])

	// The second window [1,3) moved from {3,2} to {4,3}.
	d2, u2 := c2.read(), c2.read()
	assert.Equal(t, "delete", d2.op())
	assert.Equal(t, "2", d2.key())
	assert.Equal(t, "upsert", u2.op())
	assert.Equal(t, "4", u2.key())
	assert.Equal(t, json.Number("1"), u2.frame["data"].(map[string]any)["x"])
}

func TestListTakeWindowAndFilters(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, &Config{Store: projection.Config{Entities: []string{"Acct"}}})
	apply(t, s,
		mut("Acct", "a", `{"owner":"x","n":1}`, 1, 1),
		mut("Acct", "b", `{"owner":"y","n":1}`, 1, 2),
		mut("Acct", "c", `{"owner":"x","n":1}`, 1, 3),
	)
	c := dial(t, hs)
	_, snap := c.subscribe(map[string]any{"view": "Acct/list", "filters": map[string]any{"owner": "x"}})
	assert.Equal(t, []string{"c", "a"}, keys(snap))

	w := dial(t, hs)
	_, wsnap := w.subscribe(map[string]any{"view": "Acct/list", "take": 2})
	assert.Equal(t, []string{"c", "b"}, keys(wsnap))

	// b starts matching the filter: the filtered subscriber gets it in full.
	apply(t, s, mut("Acct", "b", `{"owner":"x"}`, 2, 4))
	up := c.read()
	assert.Equal(t, "upsert", up.op())
	assert.Equal(t, "b", up.key())
	assert.Equal(t, json.Number("1"), up.frame["data"].(map[string]any)["n"])
	// b was already in the take-2 window: a plain patch.
	p := w.read()
	assert.Equal(t, "patch", p.op())
	assert.Equal(t, "b", p.key())

	// a is updated: it matches (patch) and enters the window (c leaves it).
	apply(t, s, mut("Acct", "a", `{"n":2}`, 3, 5))
	p = c.read()
	assert.Equal(t, "patch", p.op())
	assert.Equal(t, "a", p.key())
	d, u := w.read(), w.read()
	assert.Equal(t, []string{"delete", "c"}, []string{d.op(), d.key()})
	assert.Equal(t, []string{"upsert", "a"}, []string{u.op(), u.key()})

	// c stops matching: the filtered subscriber gets a delete.
	apply(t, s, mut("Acct", "c", `{"owner":"z"}`, 4, 6))
	d = c.read()
	assert.Equal(t, []string{"delete", "c"}, []string{d.op(), d.key()})
}

func TestGzipSnapshots(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, &Config{Store: projection.Config{Entities: []string{"Big", "Small"}}})
	big := fmt.Sprintf(`{"blob":%q}`, string(make([]byte, 0))+repeat("abcdefgh", 300))
	apply(t, s, mut("Big", "k", big, 1, 1), mut("Small", "k", `{"v":1}`, 1, 2))
	c := dial(t, hs)

	c.send(map[string]any{"type": "subscribe", "view": "Big/list"})
	ack := c.read()
	assert.False(t, ack.gzipped)
	snap := c.read()
	assert.True(t, snap.binary)
	assert.True(t, snap.gzipped, "a snapshot of %d bytes is gzip-compressed", len(snap.raw))
	assert.Equal(t, "snapshot", snap.op())

	c.send(map[string]any{"type": "subscribe", "view": "Small/list"})
	c.read()
	small := c.read()
	assert.False(t, small.gzipped, "a snapshot under the threshold is plain JSON")

	// Live frames are never compressed, whatever their size.
	apply(t, s, mut("Big", "k", big, 2, 3))
	live := c.read()
	assert.False(t, live.gzipped)
	assert.Equal(t, "patch", live.op())
}

func repeat(s string, n int) string {
	out := make([]byte, 0, len(s)*n)
	for range n {
		out = append(out, s...)
	}
	return string(out)
}

func TestBadMessagesKeepConnectionOpen(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, &Config{Store: projection.Config{Entities: []string{"T"}}})
	c := dial(t, hs)
	for _, tc := range []struct{ send, code string }{
		{`{not json`, "invalid-message"},
		{`[1,2,3]`, "invalid-message"},
		{`{"type":"dance"}`, "unknown-message-type"},
		{`{"type":"subscribe","view":"Nope/list"}`, "unknown-view"},
		{`{"type":"subscribe","view":"T/list","take":-1}`, "invalid-subscription"},
		{`{"type":"subscribe","view":"T/list","take":1.5}`, "invalid-message"},
		{`{}`, "invalid-message"},
	} {
		c.send(tc.send)
		m := c.read()
		require.False(t, m.binary, "error for %s is a text frame", tc.send)
		assert.Equal(t, tc.code, m.frame["code"], "for %s", tc.send)
		assert.Equal(t, "error", m.frame["type"])
		assert.Equal(t, false, m.frame["fatal"])
		assert.IsType(t, "", m.frame["message"])
		assert.IsType(t, false, m.frame["retryable"])
	}
	// Binary messages and pings are ignored; the connection still works.
	require.NoError(t, c.ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}))
	c.send(`{"type":"ping"}`)
	apply(t, s, mut("T", "k", `{"v":1}`, 1, 1))
	_, snap := c.subscribe(map[string]any{"view": "T/list"})
	assert.Len(t, snap, 1)
	// The legacy form (no type) subscribes too.
	c.send(`{"view":"T/state","key":"k"}`)
	assert.Equal(t, "subscribed", c.read().op())
}

func TestDuplicateSubscribeKeepsDelivering(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, &Config{Store: projection.Config{Entities: []string{"T"}}})
	apply(t, s, mut("T", "k", `{"v":1}`, 1, 1))
	c := dial(t, hs)
	c.subscribe(map[string]any{"view": "T/list"})
	// The same subscription again: a fresh acknowledgement and snapshot, and the view stays live.
	_, snap := c.subscribe(map[string]any{"view": "T/list"})
	assert.Len(t, snap, 1)
	apply(t, s, mut("T", "k", `{"v":2}`, 2, 2))
	m := c.read()
	assert.Equal(t, "patch", m.op())
	// Exactly once: the replaced subscription no longer delivers.
	c.expectNothing(s)
	assert.Equal(t, 1, countSubs(s))
}

func countSubs(s *Server) int {
	n := 0
	for i := range s.hub.shards {
		sh := &s.hub.shards[i]
		sh.mu.RLock()
		for ch, r := range sh.routes {
			if ch == "T/state" || ch == "Marker/state" {
				continue
			}
			n += len(r.all)
			for _, l := range r.byKey {
				n += len(l)
			}
		}
		sh.mu.RUnlock()
	}
	return n
}

func TestUnsubscribe(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, &Config{Store: projection.Config{Entities: []string{"T"}}})
	c := dial(t, hs)
	c.subscribe(map[string]any{"view": "T/list"})
	c.subscribe(map[string]any{"view": "T/state", "key": "k"})
	c.send(map[string]any{"type": "unsubscribe", "view": "T/list"})
	c.roundTrip()
	apply(t, s, mut("T", "k", `{"v":1}`, 1, 1))
	m := c.read()
	assert.Equal(t, "T/state", m.entity(), "only the remaining subscription delivers")
	c.send(map[string]any{"type": "unsubscribe", "view": "T/state", "key": "k"})
	c.roundTrip()
	apply(t, s, mut("T", "k", `{"v":2}`, 2, 2))
	c.expectNothing(s)
}

// Several clients on one view and on one key; the ones that leave (first, middle, last) stop
// receiving and every other one still gets each frame.
func TestUnsubscribeAmongManyOnOneView(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, &Config{Store: projection.Config{Entities: []string{"T"}}})
	const n = 7
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = dial(t, hs)
		clients[i].subscribe(map[string]any{"view": "T/list"})
		clients[i].subscribe(map[string]any{"view": "T/state", "key": "k"})
	}
	leaving := map[int]bool{0: true, 3: true, n - 1: true}
	for i := range leaving {
		clients[i].send(map[string]any{"type": "unsubscribe", "view": "T/list"})
		clients[i].send(map[string]any{"type": "unsubscribe", "view": "T/state", "key": "k"})
		clients[i].roundTrip()
	}
	apply(t, s, mut("T", "k", `{"v":1}`, 1, 1))
	for i, c := range clients {
		if leaving[i] {
			c.expectNothing(s)
			continue
		}
		got := map[string]bool{}
		for range 2 {
			got[c.read().entity()] = true
		}
		assert.Equal(t, map[string]bool{"T/list": true, "T/state": true}, got, "client %d", i)
	}
}

// A client that subscribes without a snapshot gets every change made after it saw `subscribed`,
// even one made before the server has finished the subscription.
func TestSubscribeWithoutSnapshotKeepsChangesAfterTheAck(t *testing.T) {
	t.Parallel()
	s, hs := newTestServer(t, &Config{Store: projection.Config{Entities: []string{"T"}}})
	apply(t, s, mut("T", "k", `{"v":1}`, 1, 1))
	acked, changed := make(chan struct{}), make(chan struct{})
	s.afterAck = func() {
		close(acked)
		<-changed
	}
	c := dial(t, hs)
	c.send(map[string]any{"type": "subscribe", "view": "T/state", "key": "k", "withSnapshot": false})
	require.Equal(t, "subscribed", c.read().op())
	<-acked
	apply(t, s, mut("T", "k", `{"v":2}`, 2, 2))
	close(changed)
	m := c.read()
	require.Equal(t, "patch", m.op())
	require.Equal(t, "2", fmt.Sprint(m.frame["data"].(map[string]any)["v"]), "the change made after the ack")
}
