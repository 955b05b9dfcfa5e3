package geyserserver

import "errors"

var (
	// ErrShutdown is returned by Publish and Serve after Shutdown.
	ErrShutdown = errors.New("geyser server is shut down")
	// ErrMalformed is returned by Publish when the raw bytes are not a SubscribeUpdate.
	ErrMalformed = errors.New("malformed subscribe update")
)
