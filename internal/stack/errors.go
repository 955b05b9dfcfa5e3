package stack

import (
	"errors"
	"fmt"
)

var (
	// ErrUnsupportedVersion is returned when ast_version is not one this package understands.
	ErrUnsupportedVersion = errors.New("unsupported ast_version")
	// ErrUnknownField is returned when an object holds a key the schema does not define.
	ErrUnknownField = errors.New("unknown field")
	// ErrMissingField is returned when a required key is absent.
	ErrMissingField = errors.New("missing field")
	// ErrDuplicateField is returned when an object holds the same key twice.
	ErrDuplicateField = errors.New("duplicate field")
	// ErrUnknownVariant is returned when an enum tag names no variant of the enum.
	ErrUnknownVariant = errors.New("unknown variant")
	// ErrInvalidType is returned when a value has the wrong JSON type (a string where a number belongs).
	ErrInvalidType = errors.New("invalid type")
	// ErrInvalidValue is returned when a value has the right type but is out of range or malformed.
	ErrInvalidValue = errors.New("invalid value")
	// ErrInvalidJSON is returned when the input is not well-formed JSON; the error is a *SyntaxError.
	ErrInvalidJSON = errors.New("invalid JSON")
	// ErrHashMismatch is returned when a stored content_hash differs from the recomputed one; the error
	// is a *HashMismatchError.
	ErrHashMismatch = errors.New("content hash mismatch")
	// ErrDuplicateName is returned when two entities or two views share a name.
	ErrDuplicateName = errors.New("duplicate name")
	// ErrUnknownReference is returned when a name refers to no entity, view or program of the stack.
	ErrUnknownReference = errors.New("unknown reference")
)

// SpecError is the error of every failed load: Path is the JSON path of the offending value
// (entities[0].handlers[3].mappings[2].source), empty for the document itself, and Err says what is
// wrong with it.
type SpecError struct {
	Path string
	Err  error
}

// Error returns "path: reason", or just the reason when the path is empty.
func (e *SpecError) Error() string {
	if e.Path == "" {
		return e.Err.Error()
	}
	return e.Path + ": " + e.Err.Error()
}

// Unwrap returns the underlying reason, so errors.Is(err, ErrUnknownVariant) works.
func (e *SpecError) Unwrap() error { return e.Err }

// SyntaxError locates malformed JSON: Line and Column are 1-based (Column counts bytes), Offset is the
// byte offset into the input.
type SyntaxError struct {
	Line, Column int
	Offset       int64
	Msg          string
}

// Error returns "invalid JSON at line L, column C: msg".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// Is reports whether target is ErrInvalidJSON.
func (e *SyntaxError) Is(target error) bool { return target == ErrInvalidJSON }

// HashMismatchError reports a stored content hash that differs from the recomputed one.
type HashMismatchError struct {
	Stored, Computed string
}

// Error returns "content hash mismatch: stored X, computed Y".
func (e *HashMismatchError) Error() string {
	return fmt.Sprintf("content hash mismatch: stored %s, computed %s", e.Stored, e.Computed)
}

// Is reports whether target is ErrHashMismatch.
func (e *HashMismatchError) Is(target error) bool { return target == ErrHashMismatch }
