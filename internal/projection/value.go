package projection

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"unicode/utf8"
)

// maxSafeInteger is the largest integer a JavaScript number holds exactly (2^53−1). Integers beyond
// ±maxSafeInteger are sent to clients as decimal strings.
const maxSafeInteger = 9007199254740991

// decodeObject parses a JSON object, keeping numbers as json.Number so that no precision is lost.
func decodeObject(b []byte) (map[string]any, error) {
	v, err := parseJSON(b)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("got %s", jsonKind(v))
	}
	return m, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// merger deep-merges patches into cached entities with the client's rules: objects merge
// recursively, arrays whose dotted path is listed in append are extended (and capped to the newest
// maxArray items), every other value is replaced, null included.
type merger struct {
	appendPaths []string
	maxArray    int
}

func (m *merger) isAppend(path string) bool {
	return slices.Contains(m.appendPaths, path)
}

// merge merges src into dst. prefix is the dotted path of dst ("" at the root). Values of src may be
// stored in dst by reference: src must not be used for anything but encoding afterwards.
func (m *merger) merge(dst, src map[string]any, prefix string) {
	for k, sv := range src {
		dv, exists := dst[k]
		if !exists {
			if arr, ok := sv.([]any); ok && len(m.appendPaths) > 0 && m.isAppend(join(prefix, k)) {
				dst[k] = m.capArray(slices.Clone(arr))
				continue
			}
			dst[k] = sv
			continue
		}
		switch s := sv.(type) {
		case map[string]any:
			if d, ok := dv.(map[string]any); ok {
				sub := ""
				if len(m.appendPaths) > 0 {
					sub = join(prefix, k)
				}
				m.merge(d, s, sub)
				continue
			}
		case []any:
			if d, ok := dv.([]any); ok && len(m.appendPaths) > 0 && m.isAppend(join(prefix, k)) {
				// Never append into d's spare capacity: d may be shared with an older snapshot.
				out := make([]any, 0, len(d)+len(s))
				out = append(append(out, d...), s...)
				dst[k] = m.capArray(out)
				continue
			}
		}
		dst[k] = sv
	}
}

func (m *merger) capArray(a []any) []any {
	if m.maxArray > 0 && len(a) > m.maxArray {
		return slices.Clone(a[len(a)-m.maxArray:])
	}
	return a
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// appendValue appends the JSON encoding of v to buf: object keys sorted, integers beyond
// ±maxSafeInteger as decimal strings.
func appendValue(buf []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...)
	case bool:
		return strconv.AppendBool(buf, x)
	case string:
		return appendString(buf, x)
	case json.Number:
		return appendNumber(buf, string(x))
	case map[string]any:
		return appendObject(buf, x, "", nil)
	case []any:
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendValue(buf, e)
		}
		return append(buf, ']')
	case float64:
		return strconv.AppendFloat(buf, x, 'g', -1, 64)
	case int:
		return appendNumber(buf, strconv.Itoa(x))
	case int64:
		return appendNumber(buf, strconv.FormatInt(x, 10))
	case uint64:
		return appendNumber(buf, strconv.FormatUint(x, 10))
	default:
		// Not produced by decodeObject; fall back to encoding/json for completeness.
		b, err := json.Marshal(x)
		if err != nil {
			return append(buf, "null"...)
		}
		return append(buf, b...)
	}
}

// appendObject encodes m with its keys sorted. When extraKey is not empty, the field extraKey with
// the raw JSON value extraVal is written in its sorted place, replacing any field of that name.
func appendObject(buf []byte, m map[string]any, extraKey string, extraVal []byte) []byte {
	keys := slices.Sorted(maps.Keys(m))
	if extraKey != "" {
		if i, found := slices.BinarySearch(keys, extraKey); !found {
			keys = slices.Insert(keys, i, extraKey)
		}
	}
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendString(buf, k)
		buf = append(buf, ':')
		if extraKey != "" && k == extraKey {
			buf = append(buf, extraVal...)
			continue
		}
		buf = appendValue(buf, m[k])
	}
	return append(buf, '}')
}

// appendNumber writes a JSON number literal, as a string when it is an integer beyond the range a
// JavaScript number holds exactly.
func appendNumber(buf []byte, lit string) []byte {
	if isBigInteger(lit) {
		buf = append(buf, '"')
		buf = append(buf, lit...)
		return append(buf, '"')
	}
	return append(buf, lit...)
}

func isBigInteger(lit string) bool {
	digits := lit
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) < 16 {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	if len(digits) > 16 {
		return true
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return err != nil || n > maxSafeInteger
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string, escaping what JSON requires plus U+2028 and U+2029, and
// replacing invalid UTF-8 with U+FFFD (as encoding/json does, without HTML escaping).
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch b {
			case '"', '\\':
				buf = append(buf, '\\', b)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// keyString turns a mutation key into the string clients see: a JSON string stays as is, an
// integer becomes its decimal text, an array of bytes becomes lowercase hex, anything else its
// compact JSON text.
func keyString(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", ErrBadKey
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return "", ErrBadKey
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return string(x), nil
	case []any:
		if b, ok := byteArray(x); ok {
			return hex.EncodeToString(b), nil
		}
	case nil:
		return "", ErrBadKey
	}
	var c bytes.Buffer
	if err := json.Compact(&c, raw); err != nil {
		return "", ErrBadKey
	}
	return c.String(), nil
}

func byteArray(a []any) ([]byte, bool) {
	if len(a) == 0 {
		return nil, false
	}
	out := make([]byte, len(a))
	for i, e := range a {
		n, ok := e.(json.Number)
		if !ok {
			return nil, false
		}
		u, err := strconv.ParseUint(string(n), 10, 8)
		if err != nil {
			return nil, false
		}
		out[i] = byte(u)
	}
	return out, true
}

// lookup returns the value at a field path inside an entity.
func lookup(m map[string]any, path []string) (any, bool) {
	var cur any = m
	for _, seg := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = obj[seg]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// filterString is the string a filter value is compared with: strings as they are, numbers as their
// literal, booleans as true/false, null as "null". Objects and arrays never match a filter.
func filterString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return string(x), true
	case bool:
		return strconv.FormatBool(x), true
	case nil:
		return "null", true
	default:
		return "", false
	}
}
