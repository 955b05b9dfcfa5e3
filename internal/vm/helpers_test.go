package vm

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hyperstack-go/hyperstack/fixtures/fixturestest"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/stack"
)

var moduleRoot = fixturestest.ModuleRoot

var sharedFixture = fixturestest.Shared

// repoFixture returns the path of a fixture inside the repository, skipping when it is absent.
func repoFixture(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(moduleRoot(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("fixture %s not found; skipping", rel)
	}
	return p
}

func loadProgram(t testing.TB, path string) *Program {
	t.Helper()
	spec, err := stack.Load(path)
	require.NoError(t, err)
	p, err := Compile(spec)
	require.NoError(t, err)
	return p
}

func oreProgram(t testing.TB) *Program {
	return loadProgram(t, sharedFixture(t, "hyperstack/OreStream.stack.json"))
}

// loadTestSpec compiles a spec of testdata (content hashes are not checked: the files are hand-written).
func loadTestSpec(t testing.TB, name string) *Program {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	spec, err := stack.Decode(data)
	require.NoError(t, err)
	p, err := Compile(spec)
	require.NoError(t, err)
	return p
}

// plainRow returns a stored row with its objects (section records, records) as plain maps, the
// form tests compare and marshal.
func plainRow(st map[string]any) map[string]any {
	if st == nil {
		return nil
	}
	return deepCopy(st).(map[string]any)
}
