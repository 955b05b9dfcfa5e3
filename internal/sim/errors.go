package sim

import "errors"

var (
	// ErrUnknownScenario is returned by New for a scenario name it does not know.
	ErrUnknownScenario = errors.New("unknown scenario")
	// ErrMissingIDL is returned by New when a scenario needs an IDL that Options does not provide.
	ErrMissingIDL = errors.New("missing idl")
	// ErrBadOptions is returned by New for option values out of range.
	ErrBadOptions = errors.New("invalid options")
)
