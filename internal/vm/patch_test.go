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

	m := &Machine{dirtyAt: make([]int32, len(list))}
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
	patch, appends := m.buildPatch()
	require.Equal(t, `{"a":{"x":1,"y":"two"},"ab":true,"b":{"a":null,"c":{"d":"q\"","e":[3]},"z":1.5},"log":[2]}`, string(patch))
	require.Equal(t, []string{"log"}, appends)

	// Replacing an appended path writes its whole value; clearing forgets everything.
	m.markDirty(eps["log"])
	patch, appends = m.buildPatch()
	require.Contains(t, string(patch), `"log":[1,2]`)
	require.Empty(t, appends)
	m.clearDirty()
	require.Empty(t, m.dirty)
	for _, at := range m.dirtyAt {
		require.Zero(t, at)
	}
}
