package sim

import (
	"os"
	"testing"
)

func mustRead(t testing.TB, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Skip(err)
	}
	return b
}
