package vm

import (
	"errors"
	"fmt"
)

var (
	// ErrCompile is returned (inside a *stack.SpecError naming the location) when a spec cannot be
	// compiled.
	ErrCompile = errors.New("cannot compile")
	// ErrUnsupported is returned (wrapped in ErrCompile) for spec features the VM does not implement.
	ErrUnsupported = errors.New("unsupported")
	// ErrBadOperand is returned (inside a *RuntimeError) when an instruction refers to a missing pool
	// entry or register; it means the Program is corrupt.
	ErrBadOperand = errors.New("bad operand")
	// ErrTransform is returned (inside a *RuntimeError) when a transformation cannot apply to its
	// input (HexDecode of a non-string, Base58Encode of a number).
	ErrTransform = errors.New("transform failed")
	// ErrNotNumber is returned (inside a *RuntimeError) when Sum or an ordering comparison meets a
	// value that is not a number.
	ErrNotNumber = errors.New("not a number")
	// ErrPanic is returned (inside a *RuntimeError) when a handler panicked.
	ErrPanic = errors.New("handler panicked")
	// ErrConfig is returned by NewMachine for an invalid Config.
	ErrConfig = errors.New("invalid machine config")
	// ErrUnknownResolver is returned by Deliver for a resolver kind the machine does not know.
	ErrUnknownResolver = errors.New("unknown resolver kind")
)

// RuntimeError is a handler that failed on one event: the entity, the handler's event type, the
// instruction that failed and the slot of the event. The handler's state changes are rolled back; the
// Machine keeps working.
type RuntimeError struct {
	Entity  string
	Handler string
	PC      int
	Op      Opcode
	// Loc is the spec location the failing instruction was compiled from.
	Loc  string
	Slot uint64
	Err  error
}

// Error describes the failure with its location.
func (e *RuntimeError) Error() string {
	return fmt.Sprintf("%s %s: pc %d (%s, %s) at slot %d: %v", e.Entity, e.Handler, e.PC, e.Op, e.Loc, e.Slot, e.Err)
}

// Unwrap returns the cause.
func (e *RuntimeError) Unwrap() error { return e.Err }
