package replay

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/sim"
)

// mergeReference is MergePatch written with encoding/json: decode the patch, then merge.
func mergeReference(t *testing.T, state map[string]any, patch []byte, app []string, maxArray int) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(patch))
	d.UseNumber()
	var p map[string]any
	require.NoError(t, d.Decode(&p))
	var merge func(dst, src map[string]any, prefix string)
	merge = func(dst, src map[string]any, prefix string) {
		for k, v := range src {
			path := k
			if prefix != "" {
				path = prefix + "." + k
			}
			switch sv := v.(type) {
			case map[string]any:
				dv, ok := dst[k].(map[string]any)
				if !ok {
					dv = map[string]any{}
					dst[k] = dv
				}
				merge(dv, sv, path)
				continue
			case []any:
				isApp := false
				for _, a := range app {
					isApp = isApp || a == path
				}
				if isApp {
					old, _ := dst[k].([]any)
					out := append(append([]any{}, old...), sv...)
					if maxArray > 0 && len(out) > maxArray {
						out = out[len(out)-maxArray:]
					}
					dst[k] = out
					continue
				}
			}
			dst[k] = v
		}
	}
	merge(state, p, "")
}

// checkLines merges every line of out per entity key both ways and compares, and checks that
// parseLine agrees with encoding/json.
func checkLines(t *testing.T, out []byte) {
	t.Helper()
	fast, ref := map[string]map[string]any{}, map[string]map[string]any{}
	perKey := map[string][]Line{}
	n := 0
	for _, ln := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var want Line
		require.NoError(t, json.Unmarshal(ln, &want))
		got, err := parseLine(ln)
		require.NoError(t, err)
		if len(want.Append) == 0 {
			want.Append = nil
		}
		require.Equal(t, want, got)
		id := got.Entity + string(got.Key)
		if fast[id] == nil {
			fast[id], ref[id] = map[string]any{}, map[string]any{}
		}
		require.NoError(t, MergePatch(fast[id], got.Patch, got.Append, 5))
		mergeReference(t, ref[id], got.Patch, got.Append, 5)
		perKey[id] = append(perKey[id], got)
		n++
	}
	require.NotZero(t, n)
	require.Equal(t, ref, fast)
	// Newest first gives the same state.
	for id, ls := range perKey {
		rm := newReverseMerge(5)
		for i := len(ls) - 1; i >= 0; i-- {
			require.NoError(t, rm.older(ls[i].Patch, ls[i].Append))
		}
		require.Equal(t, ref[id], rm.State(), id)
	}
}

// randomPatch builds a patch over a small key space so that patches overwrite, nest and append.
func randomPatch(rng *rand.Rand, depth int, prefix string, app *[]string) map[string]any {
	p := map[string]any{}
	for range 1 + rng.IntN(3) {
		k := string(rune('a' + rng.IntN(4)))
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		switch x := rng.IntN(7); {
		case x == 0 && depth < 3:
			p[k] = randomPatch(rng, depth+1, path, app)
		case x == 1:
			p[k] = nil
		case x == 2 || x == 3:
			items := make([]any, rng.IntN(4))
			for i := range items {
				items[i] = rng.IntN(100)
			}
			p[k] = items
			if x == 3 {
				*app = append(*app, path)
			}
		default:
			p[k] = rng.IntN(1000)
		}
	}
	return p
}

func TestReverseMergeMatchesForwardMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 2000 {
		n := 1 + rng.IntN(8)
		patches := make([][]byte, n)
		apps := make([][]string, n)
		for i := range patches {
			var app []string
			b, err := json.Marshal(randomPatch(rng, 0, "", &app))
			require.NoError(t, err)
			patches[i], apps[i] = b, app
		}
		maxArray := rng.IntN(6) // 0: no cap
		fwd := map[string]any{}
		for i := range patches {
			require.NoError(t, MergePatch(fwd, patches[i], apps[i], maxArray))
		}
		rm := newReverseMerge(maxArray)
		for i := n - 1; i >= 0; i-- {
			require.NoError(t, rm.older(patches[i], apps[i]))
		}
		if !reflect.DeepEqual(fwd, rm.State()) {
			t.Fatalf("trial %d (cap %d): patches %q appends %q:\nforward %v\nreverse %v", trial, maxArray, patches, apps, fwd, rm.State())
		}
	}
}

func TestFastMergeMatchesEncodingJSON(t *testing.T) {
	a := demoArchive(t, 41, 30)
	out, _ := replayBytes(t, a, Options{})
	require.True(t, bytes.Contains(out, []byte(`"append":["`)), "the demo output appends to arrays")
	checkLines(t, out)

	spec, prog, idls := oreStack(t)
	path := simArchive(t, t.TempDir(), sim.ScenarioOre, 41, 40, sim.Options{IDLs: idls})
	oa, err := archive.Open(path, &archive.Options{ReadOnly: true})
	require.NoError(t, err)
	defer oa.Close()
	out, _ = replayBytes(t, oa, Options{Spec: spec, Program: prog})
	checkLines(t, out)
}

func TestFastMergeEdgeCases(t *testing.T) {
	for _, patch := range []string{
		`{"s":"a\"b\\c\u00e9\ud83d\ude00","t":"plain é","n":-0.5e+10,"z":0,"b":true,"f":false,"x":null}`,
		`{ "a" : { "b" : [ 1 , [2, {"c": []}], {} ] , "e": {} } }`,
		`{"big":123456789012345678901234567890,"neg":-1}`,
		`{}`,
	} {
		fast, ref := map[string]any{"a": "scalar"}, map[string]any{"a": "scalar"}
		require.NoError(t, MergePatch(fast, json.RawMessage(patch), nil, 0), patch)
		mergeReference(t, ref, []byte(patch), nil, 0)
		require.Equal(t, ref, fast, patch)
	}
	for _, bad := range []string{``, `null`, `[1]`, `{"a":}`, `{"a":1`, `{"a":01}`, `{"a":1.}`, `{"a":tru}`,
		`{"a":"x}`, `{"a":1} x`, `{"a" 1}`, `{"a":[1 2]}`, "{\"a\":\"\x01\"}", `{"a":-}`, `{"a":1e}`} {
		require.Error(t, MergePatch(map[string]any{}, json.RawMessage(bad), nil, 0), "%q", bad)
	}
	_, err := parseLine([]byte(`{"slot":"x"}`))
	require.Error(t, err)
	_, err = parseLine([]byte(`{"slot":1}x`))
	require.Error(t, err)
}
