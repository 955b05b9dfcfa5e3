package replay

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrNoGoldens is returned when the archive holds no golden at all.
	ErrNoGoldens = errors.New("archive has no goldens")
	// ErrUnknownEntity is returned when an entity or key has no mutations; the error text lists what
	// exists.
	ErrUnknownEntity = errors.New("no such entity")
	// ErrNotYet is returned when an entity exists but had no mutation at or before the slot asked for.
	ErrNotYet = errors.New("entity did not exist yet")
	// ErrNoStackHash is returned when a golden is written for a stack without a content hash.
	ErrNoStackHash = errors.New("golden needs a stack content hash")
	// ErrCorruptGolden is returned when a stored golden record or index entry cannot be decoded.
	ErrCorruptGolden = errors.New("golden is corrupt")
)

// NoGoldenError is returned when the archive has goldens, but none for the requested stack hash.
type NoGoldenError struct {
	Hash string
	// Available describes the goldens the archive does have, ordered by stack hash.
	Available []Info
}

func (e *NoGoldenError) Error() string {
	parts := make([]string, len(e.Available))
	for i, in := range e.Available {
		parts[i] = in.StackHash
		if in.StackName != "" {
			parts[i] += " (" + in.StackName + ")"
		}
	}
	return fmt.Sprintf("no golden for stack hash %s; goldens exist for: %s", e.Hash, strings.Join(parts, ", "))
}

// Hashes returns the stack hashes that have a golden.
func (e *NoGoldenError) Hashes() []string {
	out := make([]string, len(e.Available))
	for i, in := range e.Available {
		out[i] = in.StackHash
	}
	return out
}
