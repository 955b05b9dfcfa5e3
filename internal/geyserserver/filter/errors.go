package filter

import "errors"

// ErrInvalid is wrapped by every error Compile returns: the request cannot be turned into a filter.
var ErrInvalid = errors.New("invalid filter")
