package replay

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hyperstack-go/hyperstack/fixtures/fixturestest"
	"github.com/hyperstack-go/hyperstack/fixtures/fixturestest/orestack"

	"github.com/hyperstack-go/hyperstack/fixtures"
	"github.com/hyperstack-go/hyperstack/internal/sim"
	"github.com/hyperstack-go/hyperstack/internal/stack"
	"github.com/hyperstack-go/hyperstack/internal/vm"
)

var sharedFixture = fixturestest.Shared

// demoStack is the built-in SPL Token demo stack, compiled.
func demoStack(tb testing.TB) (*stack.Spec, *vm.Program) {
	tb.Helper()
	spec, err := stack.Parse(fixtures.SPLTokenStack)
	if err != nil {
		tb.Fatal(err)
	}
	prog, err := vm.Compile(spec)
	if err != nil {
		tb.Fatal(err)
	}
	return spec, prog
}

// oreStack is the shared ORE stack, compiled, with its IDLs for the simulator.
var oreStack = orestack.Load

// simArchive writes slots of a simulator scenario into a new archive file in dir and returns its
// path.
func simArchive(tb testing.TB, dir, scenario string, seed, slots uint64, opts sim.Options) string {
	tb.Helper()
	opts.Slots = slots
	s, err := sim.New(scenario, seed, opts)
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, scenario+".archive")
	if _, err := s.WriteArchive(context.Background(), path, sim.ArchiveOptions{Seed: seed, NoSync: true}); err != nil {
		tb.Fatal(err)
	}
	return path
}
