package stack

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// ValueKind classifies a Value the way serde_json does, numbers split by representation.
type ValueKind uint8

const (
	// KindInvalid is the kind of the zero Value (no value at all).
	KindInvalid ValueKind = iota
	// KindNull is JSON null.
	KindNull
	// KindBool is true or false.
	KindBool
	// KindUint is a non-negative integer that fits in a uint64.
	KindUint
	// KindInt is a negative integer that fits in an int64.
	KindInt
	// KindFloat is any other number (fraction, exponent, or out of integer range).
	KindFloat
	// KindString is a JSON string.
	KindString
	// KindArray is a JSON array.
	KindArray
	// KindObject is a JSON object.
	KindObject
)

// String names the kind ("null", "u64", "i64", "f64", ...).
func (k ValueKind) String() string {
	switch k {
	case KindNull:
		return "null"
	case KindBool:
		return "bool"
	case KindUint:
		return "u64"
	case KindInt:
		return "i64"
	case KindFloat:
		return "f64"
	case KindString:
		return "string"
	case KindArray:
		return "array"
	case KindObject:
		return "object"
	default:
		return "invalid"
	}
}

// Value is a free-form JSON value of the spec (serde_json::Value): a constant, a literal, a condition
// operand. It holds the canonical compact JSON text: object keys sorted, strings escaped as serde_json
// does, integers kept digit-exact, other numbers in shortest round-trip form. The zero Value is "no
// value" (KindInvalid) and is distinct from null.
type Value struct {
	raw string
}

// NewValue parses one JSON value and canonicalizes it.
func NewValue(data []byte) (Value, error) {
	n, err := parseTree(data)
	if err != nil {
		return Value{}, err
	}
	b, err := appendCanonicalValue(nil, n, "")
	if err != nil {
		return Value{}, err
	}
	return Value{raw: string(b)}, nil
}

// MustValue is NewValue for literals known to be valid; it panics otherwise.
func MustValue(text string) Value {
	v, err := NewValue([]byte(text))
	if err != nil {
		panic(err)
	}
	return v
}

// Null is the JSON null Value.
var Null = Value{raw: "null"}

// IsValid reports whether v holds a value (null included).
func (v Value) IsValid() bool { return v.raw != "" }

// IsNull reports whether v is JSON null.
func (v Value) IsNull() bool { return v.raw == "null" }

// Raw returns the canonical JSON text (nil for the zero Value).
func (v Value) Raw() json.RawMessage {
	if v.raw == "" {
		return nil
	}
	return json.RawMessage(v.raw)
}

// String returns the canonical JSON text.
func (v Value) String() string { return v.raw }

// Equal reports whether two values are the same JSON value (serde_json equality: 1 and 1.0 differ).
func (v Value) Equal(o Value) bool { return v.raw == o.raw }

// Kind classifies v.
func (v Value) Kind() ValueKind {
	if v.raw == "" {
		return KindInvalid
	}
	switch c := v.raw[0]; {
	case c == 'n':
		return KindNull
	case c == 't' || c == 'f':
		return KindBool
	case c == '"':
		return KindString
	case c == '[':
		return KindArray
	case c == '{':
		return KindObject
	default:
		return numberKind(v.raw)
	}
}

// numberKind classifies canonical number text.
func numberKind(s string) ValueKind {
	if bytes.ContainsAny([]byte(s), ".eE") {
		return KindFloat
	}
	if s[0] == '-' {
		return KindInt
	}
	return KindUint
}

// Uint64 returns v as a u64 when it is a non-negative integer (serde_json as_u64).
func (v Value) Uint64() (uint64, bool) {
	if v.Kind() != KindUint {
		return 0, false
	}
	u, err := strconv.ParseUint(v.raw, 10, 64)
	return u, err == nil
}

// Int64 returns v as an i64 when it is an integer in i64 range (serde_json as_i64).
func (v Value) Int64() (int64, bool) {
	switch v.Kind() {
	case KindUint, KindInt:
		i, err := strconv.ParseInt(v.raw, 10, 64)
		return i, err == nil
	}
	return 0, false
}

// Float64 returns v as an f64 when it is any number (serde_json as_f64).
func (v Value) Float64() (float64, bool) {
	switch v.Kind() {
	case KindUint, KindInt, KindFloat:
		f, err := strconv.ParseFloat(v.raw, 64)
		return f, err == nil
	}
	return 0, false
}

// Bool returns v as a bool when it is true or false.
func (v Value) Bool() (bool, bool) {
	switch v.raw {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// Str returns the decoded string when v is a JSON string.
func (v Value) Str() (string, bool) {
	if v.Kind() != KindString {
		return "", false
	}
	var s string
	if err := json.Unmarshal([]byte(v.raw), &s); err != nil {
		return "", false
	}
	return s, true
}

// Decode unmarshals v into Go values (numbers as json.Number, so nothing is lost).
func (v Value) Decode() (any, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(v.raw)))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// MarshalJSON returns the canonical text (null for the zero Value).
func (v Value) MarshalJSON() ([]byte, error) {
	if v.raw == "" {
		return []byte("null"), nil
	}
	return []byte(v.raw), nil
}

// UnmarshalJSON parses and canonicalizes data.
func (v *Value) UnmarshalJSON(data []byte) error {
	nv, err := NewValue(data)
	if err != nil {
		return err
	}
	*v = nv
	return nil
}
