package source

import "errors"

var (
	// ErrUnauthenticated is returned by Run when the server rejects the credentials (gRPC
	// Unauthenticated or PermissionDenied). Run stops at once; retrying would not help.
	ErrUnauthenticated = errors.New("unauthenticated: the server rejected the x-token")

	// ErrRejected is returned by Run when the server answers with a status that no retry can fix
	// (for example InvalidArgument for a bad filter, or Unimplemented).
	ErrRejected = errors.New("subscription rejected by the server")

	// ErrBadEndpoint is returned by New when Config.Endpoint is not an http:// or https:// URL.
	ErrBadEndpoint = errors.New("bad endpoint")

	// ErrBadConfig is returned by New when another Config field is invalid.
	ErrBadConfig = errors.New("bad source config")

	// ErrRunning is returned by Run when another Run of the same Yellowstone is in progress.
	ErrRunning = errors.New("source is already running")
)
