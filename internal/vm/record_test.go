package vm

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A record behaves as the map of its fields everywhere a runtime value can be an object.
func TestRecordActsAsItsMap(t *testing.T) {
	shape := newRecordShape([]string{"zeta", "alpha", "mid", "nested", "a_b", "a"})
	vals := []any{uint64(300), "x\"y", nil, map[string]any{"k": []any{uint64(1), 2.5}}, true, int64(-4)}
	rec := func() *record { return &record{shape: shape, vals: append([]any(nil), vals...)} }
	asMap := map[string]any{}
	for i, n := range shape.names {
		asMap[n] = vals[i]
	}

	r := rec()
	require.Equal(t, string(appendJSON(nil, asMap)), string(appendJSON(nil, r)))
	require.True(t, equalValues(r, asMap))
	require.True(t, equalValues(asMap, r))
	require.True(t, equalValues(r, rec()))
	other := map[string]any{}
	for k, v := range asMap {
		other[k] = v
	}
	other["mid"] = uint64(1)
	require.False(t, equalValues(r, other))
	require.False(t, equalValues(other, r))
	delete(other, "mid")
	require.False(t, equalValues(r, other), "a missing key differs")
	require.False(t, equalValues(r, []any{}))
	require.Equal(t, "object", typeName(r))
	require.Equal(t, asMap, deepCopy(r))
	require.Equal(t, string(appendJSON(nil, asMap)), stringify(r))

	v, ok := getPathIn(r, []string{"nested", "k"})
	require.True(t, ok)
	require.Equal(t, []any{uint64(1), 2.5}, v)
	_, ok = getPathIn(r, []string{"missing"})
	require.False(t, ok)
	v, ok = getPath(map[string]any{"snap": map[string]any{"data": r}}, []string{"snap", "data", "zeta"})
	require.True(t, ok)
	require.Equal(t, uint64(300), v)

	// Writing through the record turns it into its map; every holder sees the write.
	holder := map[string]any{"data": r}
	obj, ok := sectionOf(holder["data"]).(map[string]any)
	require.True(t, ok)
	obj["added"] = "new"
	require.Same(t, r, holder["data"])
	v, ok = r.get("added")
	require.True(t, ok)
	require.Equal(t, "new", v)
	require.Equal(t, len(vals)+1, r.len())
	asMap["added"] = "new"
	require.Equal(t, string(appendJSON(nil, asMap)), string(appendJSON(nil, r)))
	require.True(t, equalValues(r, asMap))
}

// Captures of a decoded account hold records; their patches are those of the map form (the
// digest tests compare whole runs with the pre-decoded map path).
func TestCaptureOfRecordAndTransform(t *testing.T) {
	w := newOreWorld(t, oreConfig())
	tr := buildOreTraffic(t, w)
	var sawRecord bool
	for i := 0; i < 200; i++ {
		_, err := w.m.Process(tr.at(i))
		require.NoError(t, err)
		if w.m.topEv.rec != nil {
			sawRecord = true
		}
	}
	require.True(t, sawRecord, "captures of Miner and Automation accounts load records")
}
