package command

import (
	"errors"
	"fmt"
)

// ErrNotImplemented is returned by commands whose feature is not built yet; it exits with code 2.
var ErrNotImplemented = errors.New("not implemented yet")

// FlagError is a usage problem: a bad flag, argument or value. It exits with code 2 and prints usage.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// flagErrorf builds a FlagError.
func flagErrorf(format string, args ...any) error {
	return &FlagError{Err: fmt.Errorf(format, args...)}
}

// ConfigError is a problem with the configuration file or environment. It exits with code 2.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return "config: " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// SilentError exits with code 1 without printing anything more: the command already reported.
type SilentError struct{ Err error }

func (e *SilentError) Error() string { return e.Err.Error() }
func (e *SilentError) Unwrap() error { return e.Err }

// notImplemented is the RunE of commands that a later change fills in.
func notImplemented(what string) error {
	return fmt.Errorf("%s: %w", what, ErrNotImplemented)
}
