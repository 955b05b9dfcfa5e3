package stack

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// decodeFailure carries a *SpecError out of the recursive decoder; decode functions panic with it and
// the public entry points recover it (and only it).
type decodeFailure struct{ err *SpecError }

func fail(path string, err error) {
	panic(decodeFailure{&SpecError{Path: path, Err: err}})
}

// catch turns a decodeFailure panic into *errp; any other panic propagates.
func catch(errp *error) {
	if r := recover(); r != nil {
		f, ok := r.(decodeFailure)
		if !ok {
			panic(r)
		}
		*errp = f.err
	}
}

func typeError(path, want string, n *node) {
	fail(path, fmt.Errorf("%w: expected %s, found %s", ErrInvalidType, want, n.kind))
}

// obj reads the fields of one JSON object with a fixed key set.
type obj struct {
	n    *node
	path string
}

// object checks that n is an object whose keys are distinct and all in allowed.
func object(n *node, path string, allowed ...string) *obj {
	if n.kind != nodeObject {
		typeError(path, "object", n)
	}
	if k, dup := duplicateKey(n); dup {
		fail(path, fmt.Errorf("%w %q", ErrDuplicateField, k))
	}
	for _, k := range n.keys {
		known := false
		for _, a := range allowed {
			if k == a {
				known = true
				break
			}
		}
		if !known {
			fail(path, fmt.Errorf("%w %q", ErrUnknownField, k))
		}
	}
	return &obj{n: n, path: path}
}

// mapObject checks that n is an object with distinct keys whose key set is free (a JSON map).
func mapObject(n *node, path string) *obj {
	if n.kind != nodeObject {
		typeError(path, "object", n)
	}
	if k, dup := duplicateKey(n); dup {
		fail(path, fmt.Errorf("%w %q", ErrDuplicateField, k))
	}
	return &obj{n: n, path: path}
}

// opt returns the value of key, or nil when absent.
func (o *obj) opt(key string) *node {
	for i, k := range o.n.keys {
		if k == key {
			return o.n.vals[i]
		}
	}
	return nil
}

// req returns the value of key or fails with a missing-field error.
func (o *obj) req(key string) *node {
	v := o.opt(key)
	if v == nil {
		fail(o.path, fmt.Errorf("%w %q", ErrMissingField, key))
	}
	return v
}

// at is the path of key inside o.
func (o *obj) at(key string) string { return keyPath(o.path, key) }

// Typed field accessors. reqX fails when the key is missing; optX returns the zero/nil value when the
// key is missing or (for Option fields) null; defX returns def when the key is missing.

func (o *obj) reqStr(key string) string { return str(o.req(key), o.at(key)) }

func (o *obj) optStr(key string) *string {
	n := o.opt(key)
	if n == nil || n.kind == nodeNull {
		return nil
	}
	s := str(n, o.at(key))
	return &s
}

func (o *obj) reqBool(key string) bool { return boolean(o.req(key), o.at(key)) }

func (o *obj) defBool(key string, def bool) bool {
	n := o.opt(key)
	if n == nil {
		return def
	}
	return boolean(n, o.at(key))
}

func (o *obj) reqStrs(key string) []string { return strs(o.req(key), o.at(key)) }

func (o *obj) defStrs(key string) []string {
	n := o.opt(key)
	if n == nil {
		return nil
	}
	return strs(n, o.at(key))
}

func (o *obj) reqPath(key string) FieldPath { return fieldPathOf(o.req(key), o.at(key)) }

func (o *obj) optPath(key string) *FieldPath {
	n := o.opt(key)
	if n == nil || n.kind == nodeNull {
		return nil
	}
	p := fieldPathOf(n, o.at(key))
	return &p
}

func (o *obj) reqValue(key string) Value { return value(o.req(key), o.at(key)) }

func (o *obj) optValue(key string) *Value {
	n := o.opt(key)
	if n == nil || n.kind == nodeNull {
		return nil
	}
	v := value(n, o.at(key))
	return &v
}

func (o *obj) reqUsize(key string) int { return usize(o.req(key), o.at(key)) }

func (o *obj) reqBytes(key string) []byte { return bytesOf(o.req(key), o.at(key)) }

// each calls fn for every element of the array at key (required unless optional is set; a missing
// optional array calls fn zero times).
func (o *obj) each(key string, optional bool, fn func(n *node, path string)) {
	n := o.opt(key)
	if n == nil {
		if optional {
			return
		}
		o.req(key)
	}
	array(n, o.at(key), fn)
}

func array(n *node, path string, fn func(n *node, path string)) {
	if n.kind != nodeArray {
		typeError(path, "array", n)
	}
	for i, e := range n.arr {
		fn(e, indexPath(path, i))
	}
}

func str(n *node, path string) string {
	if n.kind != nodeString {
		typeError(path, "string", n)
	}
	return n.s
}

func boolean(n *node, path string) bool {
	if n.kind != nodeBool {
		typeError(path, "boolean", n)
	}
	return n.b
}

func strs(n *node, path string) []string {
	out := []string{}
	array(n, path, func(e *node, p string) { out = append(out, str(e, p)) })
	return out
}

// integer parses n as an integer in [lo, hi] (typeName names the Rust type in errors).
func integer(n *node, path, typeName string, lo int64, hi uint64) (neg bool, mag uint64) {
	if n.kind != nodeNumber {
		typeError(path, typeName, n)
	}
	s := n.s
	if strings.ContainsAny(s, ".eE") {
		fail(path, fmt.Errorf("%w: expected %s, found %s", ErrInvalidType, typeName, s))
	}
	if s[0] == '-' {
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil || i < lo {
			fail(path, fmt.Errorf("%w: %s does not fit in %s", ErrInvalidValue, s, typeName))
		}
		if i < 0 {
			return true, uint64(-i)
		}
		return false, 0
	}
	u, err := strconv.ParseUint(s, 10, 64)
	if err != nil || u > hi {
		fail(path, fmt.Errorf("%w: %s does not fit in %s", ErrInvalidValue, s, typeName))
	}
	return false, u
}

func usize(n *node, path string) int {
	_, u := integer(n, path, "usize", 0, math.MaxInt)
	return int(u)
}

func u8(n *node, path string) byte {
	_, u := integer(n, path, "u8", 0, math.MaxUint8)
	return byte(u)
}

func u32(n *node, path string) uint32 {
	_, u := integer(n, path, "u32", 0, math.MaxUint32)
	return uint32(u)
}

func i64(n *node, path string) int64 {
	neg, u := integer(n, path, "i64", math.MinInt64, math.MaxInt64)
	if neg {
		return -int64(u-1) - 1
	}
	return int64(u)
}

// bytesOf reads a JSON array of u8 numbers; the result is non-nil even when empty.
func bytesOf(n *node, path string) []byte {
	out := []byte{}
	array(n, path, func(e *node, p string) { out = append(out, u8(e, p)) })
	return out
}

// value canonicalizes an arbitrary JSON value.
func value(n *node, path string) Value {
	b, err := appendCanonicalValue(nil, n, path)
	if err != nil {
		panic(decodeFailure{err.(*SpecError)})
	}
	return Value{raw: string(b)}
}

// rawJSON compacts an arbitrary JSON value keeping its key order (used for IDL snapshots).
func rawJSON(n *node, path string) json.RawMessage {
	b, err := appendNode(nil, n, path, false)
	if err != nil {
		panic(decodeFailure{err.(*SpecError)})
	}
	return b
}

func fieldPathOf(n *node, path string) FieldPath {
	o := object(n, path, "segments", "offsets")
	fp := FieldPath{Segments: o.reqStrs("segments")}
	if on := o.opt("offsets"); on != nil && on.kind != nodeNull {
		fp.Offsets = []int{}
		array(on, o.at("offsets"), func(e *node, p string) { fp.Offsets = append(fp.Offsets, usize(e, p)) })
	}
	return fp
}

// tagOf splits an externally tagged enum value into its variant name and payload: a bare string is a
// unit variant (payload nil), a one-key object is {variant: payload}.
func tagOf(n *node, path string) (name string, payload *node, payloadPath string) {
	switch n.kind {
	case nodeString:
		return n.s, nil, path
	case nodeObject:
		if len(n.keys) != 1 {
			fail(path, fmt.Errorf("%w: expected a variant name or an object with exactly one key, found an object with %d keys", ErrInvalidType, len(n.keys)))
		}
		return n.keys[0], n.vals[0], keyPath(path, n.keys[0])
	}
	typeError(path, "enum variant (string or one-key object)", n)
	return "", nil, ""
}

// unit checks that a unit variant carries no value ({"X": null} is accepted like "X").
func unit(name string, payload *node, path string) {
	if payload != nil && payload.kind != nodeNull {
		fail(path, fmt.Errorf("%w: unit variant %q takes no value", ErrInvalidType, name))
	}
}

// content checks that a newtype or struct variant has a value.
func content(name string, payload *node, path string) *node {
	if payload == nil {
		fail(path, fmt.Errorf("%w: variant %q needs a value", ErrInvalidType, name))
	}
	return payload
}

func unknownVariant(path, name string) {
	fail(path, fmt.Errorf("%w %q", ErrUnknownVariant, name))
}

// unitEnum decodes an enum whose variants are all unit variants.
func unitEnum[T ~string](n *node, path string, variants ...T) T {
	name, payload, pp := tagOf(n, path)
	for _, v := range variants {
		if string(v) == name {
			unit(name, payload, pp)
			return v
		}
	}
	unknownVariant(path, name)
	return ""
}

// optTransform reads an Option<Transformation>.
func (o *obj) optTransform(key string) Transformation {
	n := o.opt(key)
	if n == nil || n.kind == nodeNull {
		return TransformNone
	}
	return transformation(n, o.at(key))
}

func transformation(n *node, path string) Transformation {
	return unitEnum(n, path, TransformHexEncode, TransformHexDecode, TransformBase58Encode,
		TransformBase58Decode, TransformToString, TransformToNumber)
}

func comparisonOp(n *node, path string) ComparisonOp {
	return unitEnum(n, path, OpEqual, OpNotEqual, OpGreaterThan, OpGreaterThanOrEqual, OpLessThan,
		OpLessThanOrEqual)
}
