package idl

import (
	"os"
	"path/filepath"
	"testing"
)

// moduleRoot walks up from the working directory to the directory holding go.mod.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// sharedFixture returns the path of a file under ../shared/fixtures (relative to the module root),
// skipping the test when it is absent.
func sharedFixture(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(moduleRoot(t), "..", "shared", "fixtures", filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared fixtures not found at ../shared/fixtures/%s; skipping", rel)
	}
	return p
}

// repoFile returns the path of a file in the repository, relative to the module root.
func repoFile(t testing.TB, rel string) string {
	t.Helper()
	return filepath.Join(moduleRoot(t), filepath.FromSlash(rel))
}
