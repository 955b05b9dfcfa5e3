package vm

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The patch builder writes the changed paths as one object with keys in order, drops paths under
// another changed path, leaves out paths without a value, and writes appended items only.
func TestBuildPatch(t *testing.T) {
	texts := []string{"b.z", "a", "a.x", "b.c.d", "ab", "b.a", "c", "b.c.e", "log"}
	eps := map[string]*emitPath{}
	var list []*emitPath
	for i, text := range texts {
		ep := &emitPath{segs: strings.Split(text, "."), text: text, id: int32(i)}
		eps[text] = ep
		list = append(list, ep)
	}
	rankEmitPaths(list)
	require.True(t, eps["a.x"].nested)
	require.False(t, eps["b.c.d"].nested)

	m := &Machine{p: &Program{emitPaths: list}, dirtyAt: make([]int32, len(list))}
	m.state = map[string]any{
		"a":   map[string]any{"x": uint64(1), "y": "two"},
		"ab":  true,
		"b":   map[string]any{"z": 1.5, "a": nil, "c": map[string]any{"d": "q\"", "e": []any{uint64(3)}}},
		"log": []any{uint64(1), uint64(2)},
	}
	for _, text := range []string{"b.z", "a.x", "c", "b.c.e", "ab", "b.a", "a", "b.c.d"} {
		m.markDirty(eps[text])
	}
	m.markAppended(eps["log"], uint64(2))
	m.markDirty(eps["a.x"]) // marked twice: one entry
	appends, ok := m.buildPatch()
	require.True(t, ok)
	require.Equal(t, `{"a":{"x":1,"y":"two"},"ab":true,"b":{"a":null,"c":{"d":"q\"","e":[3]},"z":1.5},"log":[2]}`, string(m.buf))
	require.Equal(t, []string{"log"}, appends)

	// Replacing an appended path writes its whole value; clearing forgets everything.
	m.markDirty(eps["log"])
	m.buf = append(m.buf[:0], "key"...)
	appends, ok = m.buildPatch()
	require.True(t, ok)
	require.Contains(t, string(m.buf), `key{"a":`, "the patch is appended to what the buffer holds")
	require.Contains(t, string(m.buf), `"log":[1,2]`)
	require.Empty(t, appends)
	m.clearDirty()
	require.Empty(t, m.dirty)
	for _, at := range m.dirtyAt {
		require.Zero(t, at)
	}
}

// A mutation's key and patch share an allocation; appending to one never changes the other.
func TestMutationKeyAndPatchAreSeparate(t *testing.T) {
	w := newCounterWorld(t, nil)
	muts, err := w.counter(pk("counter-sep"), pk("authority-sep"), 6, 3, "first")
	require.NoError(t, err)
	require.NotEmpty(t, muts)
	mu := muts[0]
	patch := string(mu.Patch)
	key := append(mu.Key, "xxxxxxxxxxxxxxxx"...)
	require.Equal(t, patch, string(mu.Patch))
	require.Equal(t, string(mu.Key)+"xxxxxxxxxxxxxxxx", string(key))
	_ = append(mu.Patch, "yyyy"...)
	require.Equal(t, patch, string(mu.Patch))
}
