package serve

import "errors"

var (
	// ErrServerClosed is returned by Apply, Serve and ListenAndServe after Shutdown.
	ErrServerClosed = errors.New("server closed")
	// ErrBrokerClosed is returned by a Broker's Publish after Close.
	ErrBrokerClosed = errors.New("broker closed")
	// ErrBadConfig is returned by New when the configuration is invalid.
	ErrBadConfig = errors.New("invalid server configuration")
	// ErrTokenMissing is returned when auth is on and a request carries no token.
	ErrTokenMissing = errors.New("token missing")
)

// AuthError is a rejected token; Code is the protocol's kebab-case error code (for example
// "token-expired" or "token-invalid-signature").
type AuthError struct {
	Code string
	Err  error
}

func (e *AuthError) Error() string { return e.Code + ": " + e.Err.Error() }

func (e *AuthError) Unwrap() error { return e.Err }
