package sim

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hyperstack-go/hyperstack/internal/idl"
)

// moduleRoot returns the directory holding go.mod, above the test's working directory.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
	return dir
}

// sharedFixture returns the path of a shared fixture (../shared/fixtures relative to the module
// root), skipping the test when it is absent.
func sharedFixture(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(moduleRoot(t), "..", "shared", "fixtures", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared fixtures not found at ../shared/fixtures/%s; skipping", rel)
	}
	return p
}

// oreIDLs loads the ore and entropy IDLs from the shared ORE stack.
func oreIDLs(t testing.TB) []*idl.IDL {
	t.Helper()
	data, err := os.ReadFile(sharedFixture(t, "hyperstack/OreStream.stack.json"))
	if err != nil {
		t.Fatal(err)
	}
	idls, err := idl.ParseStack(data)
	if err != nil {
		t.Fatal(err)
	}
	return idls
}
