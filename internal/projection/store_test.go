package projection

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/event"
)

func m(entity string, key any, patch string, slot, seq uint64, appendPaths ...string) event.Mutation {
	k, _ := json.Marshal(key)
	return event.Mutation{Export: entity, Key: k, Patch: json.RawMessage(patch), Slot: slot, Seq: seq, Append: appendPaths}
}

func mustApply(t *testing.T, s *Store, muts ...event.Mutation) *Batch {
	t.Helper()
	b, err := s.Apply(muts)
	require.NoError(t, err)
	return b
}

func snapshot(t *testing.T, s *Store, q Query, opts SnapshotOptions) []string {
	t.Helper()
	tg, err := s.Open(q)
	require.NoError(t, err)
	defer s.Close(tg)
	entries, _, err := s.Snapshot(tg, opts)
	require.NoError(t, err)
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Key + "=" + string(e.Data)
	}
	return out
}

func frames(b *Batch) []string {
	out := make([]string, len(b.Frames))
	for i, f := range b.Frames {
		out[i] = f.Channel + " " + string(f.Payload)
	}
	return out
}

func TestApplyBaseFrames(t *testing.T) {
	s, err := New(nil)
	require.NoError(t, err)
	b := mustApply(t, s, m("Round", 42, `{"state":{"deployed":[1,2]},"big":18446744073709551615,"neg":-9007199254740993,"ok":9007199254740991,"f":1.5e300}`, 312645000, 42))
	assert.Equal(t, uint64(1), b.Seq)
	data := `{"_seq":"312645000:000000000042","big":"18446744073709551615","f":1.5e300,"neg":"-9007199254740993","ok":9007199254740991,"state":{"deployed":[1,2]}}`
	assert.Equal(t, []string{
		`Round/state {"mode":"state","entity":"Round/state","op":"patch","key":"42","data":` + data + `,"seq":"312645000:000000000042"}`,
		`Round/list {"mode":"list","entity":"Round/list","op":"patch","key":"42","data":` + data + `,"seq":"312645000:000000000042"}`,
		`Round/append {"mode":"append","entity":"Round/append","op":"patch","key":"42","data":` + data + `,"seq":"312645000:000000000042"}`,
	}, frames(b))
	// The cache keeps the merged entity, with large integers stringified only on output.
	assert.Equal(t, []string{"42=" + data}, snapshot(t, s, Query{View: "Round/state", Key: "42"}, SnapshotOptions{}))
	assert.Equal(t, uint64(1), s.Seq())
}

func TestDeepMergeRules(t *testing.T) {
	s, err := New(&Config{MaxArrayLength: 4})
	require.NoError(t, err)
	mustApply(t, s,
		m("E", "k", `{"a":{"x":1,"y":[1,2]},"ev":{"t":[1,2,3]},"keep":true}`, 1, 1, "ev.t"),
		m("E", "k", `{"a":{"y":[9]},"ev":{"t":[4,5]},"keep":null}`, 1, 2, "ev.t"),
	)
	// Objects merge, plain arrays are replaced, appended arrays grow and keep the newest 4, null
	// replaces.
	assert.Equal(t, []string{`k={"_seq":"1:000000000002","a":{"x":1,"y":[9]},"ev":{"t":[2,3,4,5]},"keep":null}`},
		snapshot(t, s, Query{View: "E/list"}, SnapshotOptions{}))
}

func TestKeys(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{`"abc"`, "abc"}, {`123`, "123"}, {`18446744073709551615`, "18446744073709551615"},
		{`[1,2,255]`, "0102ff"}, {`{"a":1}`, `{"a":1}`}, {`true`, "true"},
	} {
		got, err := keyString(json.RawMessage(tc.raw))
		require.NoError(t, err, tc.raw)
		assert.Equal(t, tc.want, got, tc.raw)
	}
	for _, bad := range []string{``, `null`, `{`, `1 2`} {
		_, err := keyString(json.RawMessage(bad))
		assert.ErrorIs(t, err, ErrBadKey, bad)
	}
}

func TestMalformedMutationsAreSkipped(t *testing.T) {
	s, err := New(nil)
	require.NoError(t, err)
	b, err := s.Apply([]event.Mutation{
		m("E", "a", `[1]`, 1, 1),
		{Export: "E", Key: json.RawMessage(`{`), Patch: json.RawMessage(`{}`)},
		m("", "a", `{}`, 1, 1),
		m("E", "ok", `{"v":1}`, 1, 2),
	})
	require.Error(t, err)
	var me *MutationError
	require.True(t, errors.As(err, &me))
	assert.Equal(t, 0, me.Index)
	assert.ErrorIs(t, err, ErrBadPatch)
	assert.ErrorIs(t, err, ErrBadKey)
	assert.Len(t, b.Frames, 3, "the valid mutation still produces its frames")
}

func TestStringEscaping(t *testing.T) {
	s, err := New(nil)
	require.NoError(t, err)
	b := mustApply(t, s, m("E", "q\"k", "{\"s\":\"a\\\"b\\\\c\\n\\u0001\\u2028<>&\"}", 1, 1))
	p := string(b.Frames[1].Payload)
	assert.Contains(t, p, `"key":"q\"k"`)
	assert.Contains(t, p, `"s":"a\"b\\c\n\u0001\u2028<>&"`)
	var v map[string]any
	require.NoError(t, json.Unmarshal(b.Frames[1].Payload, &v))
}

func TestEvictionAndWindows(t *testing.T) {
	s, err := New(&Config{MaxEntities: 3, Views: []ViewDef{{
		ID: "R/top", Entity: "R", Sort: &Sort{Field: []string{"score"}, Desc: true}, Limit: 2,
		Filter: &Predicate{Field: []string{"live"}, Op: OpEq, Value: true},
	}}})
	require.NoError(t, err)
	mustApply(t, s,
		m("R", "a", `{"score":5,"live":true}`, 1, 1),
		m("R", "b", `{"score":9,"live":true}`, 1, 2),
		m("R", "c", `{"score":7,"live":false}`, 1, 3),
	)
	top, err := s.Open(Query{View: "R/top"})
	require.NoError(t, err)
	assert.Equal(t, &Sort{Field: []string{"score"}, Desc: true}, top.Sort)
	entries, _, err := s.Snapshot(top, SnapshotOptions{})
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Equal(t, "b", entries[0].Key)
	assert.Equal(t, "a", entries[1].Key)

	// c becomes live with the top score: it enters, a leaves the window of 2.
	b := mustApply(t, s, m("R", "c", `{"score":10,"live":true}`, 2, 4))
	var ch []string
	for _, f := range b.Frames {
		if f.Channel == top.Channel {
			ch = append(ch, string(f.Payload))
		}
	}
	require.Len(t, ch, 2)
	assert.Equal(t, `{"mode":"list","entity":"R/top","op":"delete","key":"a","data":null}`, ch[0])
	assert.True(t, strings.HasPrefix(ch[1], `{"mode":"list","entity":"R/top","op":"upsert","key":"c","data":{"_seq":"2:000000000004","live":true,"score":10},"seq":"2:000000000004"}`), ch[1])

	// A fourth entity evicts the least recently updated one (a) from the cache of 3; b is then the
	// oldest, and d's arrival evicts it: the window sees b leave.
	mustApply(t, s, m("R", "d", `{"score":1,"live":true}`, 3, 5))
	b = mustApply(t, s, m("R", "e", `{"score":0,"live":true}`, 3, 6))
	ch = nil
	for _, f := range b.Frames {
		if f.Channel == top.Channel {
			ch = append(ch, f.Key+":"+strings.SplitN(strings.SplitN(string(f.Payload), `"op":"`, 2)[1], `"`, 2)[0])
		}
	}
	assert.Equal(t, []string{"b:delete", "d:upsert"}, ch)
	s.Close(top)
	s.Close(top)
	assert.Empty(t, s.views["R/top"].channels)
}

func TestSnapshotOrderAfterLimit(t *testing.T) {
	s, err := New(nil)
	require.NoError(t, err)
	for i := 1; i <= 4; i++ {
		mustApply(t, s, m("E", fmt.Sprint(i), `{}`, 10, uint64(i)))
	}
	mustApply(t, s, m("E", "1", `{}`, 11, 5)) // 1 becomes the most recent
	keys := func(q Query, o SnapshotOptions) string {
		var out []string
		for _, e := range snapshot(t, s, q, o) {
			out = append(out, strings.SplitN(e, "=", 2)[0])
		}
		return strings.Join(out, ",")
	}
	assert.Equal(t, "1,4,3,2", keys(Query{View: "E/list"}, SnapshotOptions{}))
	assert.Equal(t, "1,4", keys(Query{View: "E/list"}, SnapshotOptions{Limit: 2}))
	assert.Equal(t, "3,4,1", keys(Query{View: "E/list"}, SnapshotOptions{After: "10:000000000002"}))
	assert.Equal(t, "3", keys(Query{View: "E/list"}, SnapshotOptions{After: "10:2", Limit: 1}))
	assert.Equal(t, "4", keys(Query{View: "E/list", Key: "4"}, SnapshotOptions{}))
	assert.Equal(t, "4,3", keys(Query{View: "E/list", Skip: 1, Take: 2}, SnapshotOptions{}))

	tg, _ := s.Open(Query{View: "E/list"})
	_, _, err = s.Snapshot(tg, SnapshotOptions{After: "x"})
	assert.ErrorIs(t, err, ErrBadCursor)
}

func TestOpenErrorsAndChannelSharing(t *testing.T) {
	s, err := New(&Config{Entities: []string{"E"}, MaxChannelsPerView: 2})
	require.NoError(t, err)
	_, err = s.Open(Query{View: "X/list"})
	assert.ErrorIs(t, err, ErrUnknownView)
	_, err = s.Open(Query{View: "E/state"})
	assert.ErrorIs(t, err, ErrKeyRequired)

	a, err := s.Open(Query{View: "E/list", Filters: map[string]string{"x": "1", "y": "2"}})
	require.NoError(t, err)
	b, err := s.Open(Query{View: "E/list", Filters: map[string]string{"y": "2", "x": "1"}})
	require.NoError(t, err)
	assert.Equal(t, a.Channel, b.Channel, "equal filters share one channel")
	_, err = s.Open(Query{View: "E/list", Take: 5})
	require.NoError(t, err)
	_, err = s.Open(Query{View: "E/list", Take: 6})
	assert.ErrorIs(t, err, ErrTooManyChannels)

	plain, err := s.Open(Query{View: "E/list", Key: "k"})
	require.NoError(t, err)
	assert.Equal(t, "E/list", plain.Channel)
	assert.Equal(t, "k", plain.Key)
}

func TestViewDefValidation(t *testing.T) {
	for _, d := range []ViewDef{
		{ID: "", Entity: "E"},
		{ID: "noslash", Entity: "E"},
		{ID: "E/x", Entity: "E", Mode: "append"},
		{ID: "E/x", Entity: "E", Sort: &Sort{}},
		{ID: "E/x", Entity: "E", Filter: &Predicate{Field: []string{"a"}, Op: "like"}},
	} {
		_, err := New(&Config{Views: []ViewDef{d}})
		assert.ErrorIs(t, err, ErrBadView, "%+v", d)
	}
	_, err := New(&Config{Views: []ViewDef{{ID: "E/list", Entity: "E"}}})
	assert.ErrorIs(t, err, ErrBadView, "a derived view may not shadow a base view")
}

func TestSortValues(t *testing.T) {
	vals := []any{nil, false, true, json.Number("-18446744073709551615"), json.Number("-2"), json.Number("1.5"),
		json.Number("2"), json.Number("18446744073709551615"), json.Number("1e30"), "", "a", "b"}
	for i := range vals {
		for j := range vals {
			c := compareVals(toSortVal(vals[i]), toSortVal(vals[j]))
			switch {
			case i < j:
				assert.Negative(t, c, "%v < %v", vals[i], vals[j])
			case i > j:
				assert.Positive(t, c, "%v > %v", vals[i], vals[j])
			default:
				assert.Zero(t, c)
			}
		}
	}
	assert.Equal(t, "5:000000000042", FormatSeq(5, 42))
	assert.Equal(t, "5:1234567890123", FormatSeq(5, 1234567890123))
}
