package projection

import "errors"

var (
	// ErrUnknownView is returned when a query names a view the store does not serve.
	ErrUnknownView = errors.New("unknown view")
	// ErrKeyRequired is returned when a state view is queried without a key.
	ErrKeyRequired = errors.New("state views need a key")
	// ErrTooManyChannels is returned when a view already has the maximum number of distinct
	// windowed or filtered channels open.
	ErrTooManyChannels = errors.New("too many distinct windows or filters on this view")
	// ErrBadPatch is returned when a mutation's patch is not a JSON object.
	ErrBadPatch = errors.New("mutation patch is not a json object")
	// ErrBadKey is returned when a mutation's key is empty or not valid JSON.
	ErrBadKey = errors.New("mutation key is not valid json")
	// ErrBadCursor is returned by Snapshot when the `after` cursor is not a `_seq` value.
	ErrBadCursor = errors.New("after is not a _seq cursor (slot:index)")
	// ErrBadView is returned by New when a view definition is invalid.
	ErrBadView = errors.New("invalid view definition")
)
