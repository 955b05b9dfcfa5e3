// Package filter compiles a Yellowstone SubscribeRequest into a matcher for SubscribeUpdates, with the
// semantics of the Geyser server: inside one named filter the fields are ANDed, the values of one list
// are ORed and the entries of an accounts filter's `filters` list are ANDed; an update is delivered when
// at least one named filter of its kind matches, and the update's `filters` field lists the names of all
// matching filters.
//
// Compile validates the request (filter-name limits, base58/base64 values, memcmp sizes, data slices)
// and reports problems as errors; Match and AppendMatch never fail. A compiled Filter is immutable and
// safe for concurrent use.
package filter
