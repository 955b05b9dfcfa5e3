package sim

import (
	"os"
	"testing"

	"github.com/hyperstack-go/hyperstack/fixtures/fixturestest"

	"github.com/hyperstack-go/hyperstack/internal/idl"
)

var moduleRoot = fixturestest.ModuleRoot

var sharedFixture = fixturestest.Shared

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
