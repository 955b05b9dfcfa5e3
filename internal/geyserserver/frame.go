package geyserserver

import (
	"google.golang.org/protobuf/encoding/protowire"
)

// splitFilters returns raw without its `filters` (field 1) entries. Encoders write field 1 first, so
// the result is normally a sub-slice of raw; otherwise a stripped copy is built.
func splitFilters(raw []byte) ([]byte, error) {
	b := raw
	// Skip the leading field-1 entries.
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, ErrMalformed
		}
		if num != 1 {
			break
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, ErrMalformed
		}
		b = b[n+m:]
	}
	body := b
	// Validate the rest and look for stray field-1 entries.
	var out []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, ErrMalformed
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, ErrMalformed
		}
		if num == 1 && out == nil {
			out = append(make([]byte, 0, len(body)), body[:len(body)-len(b)]...)
		} else if num != 1 && out != nil {
			out = append(out, b[:n+m]...)
		}
		b = b[n+m:]
	}
	if out != nil {
		return out, nil
	}
	return body, nil
}

// appendFilterNames appends the `filters` field entries for names.
func appendFilterNames(b []byte, names ...string) []byte {
	for _, n := range names {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, n)
	}
	return b
}
