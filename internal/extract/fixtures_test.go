package extract

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedFixture returns the path of a file under ../shared/fixtures relative to the module root,
// or skips the test when it is absent.
func sharedFixture(t testing.TB, rel string) string {
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
	p := filepath.Join(dir, "..", "shared", "fixtures", filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared fixtures not found at ../shared/fixtures/%s; skipping", rel)
	}
	return p
}
