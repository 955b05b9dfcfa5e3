package vm

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// A section record behaves as the map of the keys it holds: absent slots are absent, slots set to
// null are present, keys outside the shape live beside the slots, and undoing writes restores it.
func TestSectionRecordActsAsItsMap(t *testing.T) {
	shape := &secShape{index: map[string]int32{}}
	for _, k := range []string{"zeta", "alpha", "__hidden", "mid", "never"} {
		shape.slot(k)
	}
	shape.finish()
	r := newSrec(shape)
	m := &Machine{}
	m.putKey(r, shape.index["zeta"], "zeta", uint64(3))
	m.putKey(r, -1, "alpha", "a") // by name
	m.putKey(r, shape.index["mid"], "mid", nil)
	m.putKey(r, shape.index["__hidden"], "__hidden", true)
	want := map[string]any{"zeta": uint64(3), "alpha": "a", "mid": nil, "__hidden": true}
	check := func(want map[string]any) {
		t.Helper()
		require.Equal(t, string(appendJSON(nil, want)), string(appendJSON(nil, r)))
		require.True(t, equalValues(r, want))
		require.True(t, equalValues(want, r))
		require.Equal(t, want, deepCopy(r))
		n, ok := objectLen(r)
		require.True(t, ok)
		require.Equal(t, len(want), n)
		for k, v := range want {
			got, ok := getPathIn(r, []string{k})
			require.True(t, ok, k)
			require.Equal(t, v, got)
		}
		_, ok = r.get("never")
		require.False(t, ok, "a slot never written is absent")
	}
	check(want)
	require.Equal(t, "object", typeName(r))

	// A key outside the shape (a write through the section held as a value elsewhere).
	m.state = map[string]any{"copy": r}
	m.undo, m.sundo = m.undo[:0], m.sundo[:0]
	m.putKey(m.child(m.state, -1, "copy"), -1, "extra", uint64(9))
	m.putKey(r, shape.index["zeta"], "zeta", uint64(4))
	changed := map[string]any{"zeta": uint64(4), "alpha": "a", "mid": nil, "__hidden": true, "extra": uint64(9)}
	check(changed)
	require.False(t, equalValues(r, want))

	// Rolling back restores the slots and removes the extra key.
	m.rollback()
	check(want)
}

// Rows store their sections as section records; what they hold reads the same through every path.
func TestRowsHoldSectionRecords(t *testing.T) {
	w := newCounterWorld(t, nil)
	addr, auth := pk("counter-s"), pk("authority-s")
	_, err := w.counter(addr, auth, 2, 7, "s")
	require.NoError(t, err)
	st, ok := w.m.tables[0].rows.Peek(makeKey(auth.String()))
	require.True(t, ok)
	stats, isRec := st["stats"].(*srec)
	require.True(t, isRec, "the stats section is a section record")
	count, ok := getPath(st, []string{"stats", "count"})
	require.True(t, ok)
	require.Equal(t, uint64(7), count)
	v, _ := stats.get("count")
	require.Equal(t, uint64(7), v)
}

func TestSectionRecordWithManySlots(t *testing.T) {
	shape := &secShape{index: map[string]int32{}}
	want := map[string]any{}
	for i := 0; i < 150; i++ {
		shape.slot(fmt.Sprintf("k%03d", i))
	}
	shape.finish()
	r := newSrec(shape)
	for _, i := range []int{0, 63, 64, 65, 127, 128, 149} {
		k := fmt.Sprintf("k%03d", i)
		r.put(shape.index[k], uint64(i))
		want[k] = uint64(i)
	}
	r.remove(shape.index["k065"])
	delete(want, "k065")
	require.Equal(t, string(appendJSON(nil, want)), string(appendJSON(nil, r)))
	require.Equal(t, len(want), r.len())
	_, ok := r.get("k065")
	require.False(t, ok)
	v, ok := r.get("k128")
	require.True(t, ok)
	require.Equal(t, uint64(128), v)
}
