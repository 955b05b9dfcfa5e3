package command

import (
	"fmt"

	"github.com/hyperstack-go/hyperstack/fixtures"
	"github.com/hyperstack-go/hyperstack/internal/stack"
	"github.com/hyperstack-go/hyperstack/internal/vm"
)

// builtinStackName is what --stack shows for the bundled SPL Token demo stack.
const builtinStackName = "built-in SPL Token demo stack"

// loadStack loads and compiles a stack spec; an empty path selects the built-in SPL Token demo stack.
// Spec errors keep their JSON path.
func loadStack(path string) (*stack.Spec, *vm.Program, error) {
	var spec *stack.Spec
	var err error
	if path == "" {
		spec, err = stack.Parse(fixtures.SPLTokenStack)
		path = builtinStackName
	} else {
		spec, err = stack.Load(path)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("stack %s: %w", path, err)
	}
	prog, err := vm.Compile(spec)
	if err != nil {
		return nil, nil, fmt.Errorf("compile stack %s: %w", path, err)
	}
	return spec, prog, nil
}
