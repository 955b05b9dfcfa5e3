package vm

import (
	"bytes"
	"fmt"
	"math"
	"math/bits"
	"strconv"

	"github.com/hyperstack-go/hyperstack/internal/stack"
)

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case uint64:
		return "u64"
	case int64:
		return "i64"
	case float64:
		return "f64"
	case string:
		return "String"
	case []byte:
		return "bytes"
	case []any:
		return "array"
	case map[string]any, *record, *srec:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// binop applies a binary operator with Rust semantics over the computed value domain.
func binop(op stack.BinaryOp, a, b any) (any, error) {
	if op == stack.BinEq || op == stack.BinNe {
		eq := computedEqual(a, b)
		if op == stack.BinNe {
			return !eq, nil
		}
		return eq, nil
	}
	if a == nil || b == nil {
		return nil, nil
	}
	if as, ok := a.(string); ok {
		bs, ok := b.(string)
		if !ok {
			return nil, cerr("%s of String and %s", op, typeName(b))
		}
		switch op {
		case stack.BinGt:
			return as > bs, nil
		case stack.BinLt:
			return as < bs, nil
		case stack.BinGte:
			return as >= bs, nil
		case stack.BinLte:
			return as <= bs, nil
		case stack.BinAdd:
			return as + bs, nil
		}
		return nil, cerr("%s of strings", op)
	}
	if ab, ok := a.(bool); ok {
		bb, ok := b.(bool)
		if !ok {
			return nil, cerr("%s of bool and %s", op, typeName(b))
		}
		switch op {
		case stack.BinXor:
			return ab != bb, nil
		case stack.BinBitAnd:
			return ab && bb, nil
		case stack.BinBitOr:
			return ab || bb, nil
		}
		return nil, cerr("%s of bools", op)
	}
	if !isNumber(a) || !isNumber(b) {
		return nil, cerr("%s of %s and %s", op, typeName(a), typeName(b))
	}
	if isFloat(a) || isFloat(b) {
		x, _ := asF64(a)
		y, _ := asF64(b)
		switch op {
		case stack.BinAdd:
			return x + y, nil
		case stack.BinSub:
			return x - y, nil
		case stack.BinMul:
			return x * y, nil
		case stack.BinDiv:
			return x / y, nil
		case stack.BinMod:
			return math.Mod(x, y), nil
		case stack.BinGt:
			return x > y, nil
		case stack.BinLt:
			return x < y, nil
		case stack.BinGte:
			return x >= y, nil
		case stack.BinLte:
			return x <= y, nil
		}
		return nil, cerr("%s of floats", op)
	}
	xu, aU := a.(uint64)
	yu, bU := b.(uint64)
	if aU && bU {
		if yu == 0 && (op == stack.BinDiv || op == stack.BinMod) {
			if op == stack.BinDiv {
				return nil, cerr("division by zero")
			}
			return nil, cerr("remainder by zero")
		}
		return intBinop(op, xu, yu)
	}
	// At least one i64: signed arithmetic (u64 operands reinterpret, as an `as i64` would).
	x := toI64Wrap(a)
	y := toI64Wrap(b)
	if (op == stack.BinDiv || op == stack.BinMod) && (y == 0 || (x == math.MinInt64 && y == -1)) {
		if op == stack.BinDiv {
			return nil, cerr("division overflow")
		}
		return nil, cerr("remainder overflow")
	}
	return intBinop(op, x, y)
}

// intBinop applies op to two integers of one type, wrapping on overflow; the caller has refused
// the divisions that would fail. Shift counts are taken modulo 64.
func intBinop[T int64 | uint64](op stack.BinaryOp, x, y T) (any, error) {
	switch op {
	case stack.BinAdd:
		return x + y, nil
	case stack.BinSub:
		return x - y, nil
	case stack.BinMul:
		return x * y, nil
	case stack.BinDiv:
		return x / y, nil
	case stack.BinMod:
		return x % y, nil
	case stack.BinGt:
		return x > y, nil
	case stack.BinLt:
		return x < y, nil
	case stack.BinGte:
		return x >= y, nil
	case stack.BinLte:
		return x <= y, nil
	case stack.BinXor:
		return x ^ y, nil
	case stack.BinBitAnd:
		return x & y, nil
	case stack.BinBitOr:
		return x | y, nil
	case stack.BinShl:
		return x << (uint64(y) & 63), nil
	case stack.BinShr:
		return x >> (uint64(y) & 63), nil
	}
	return nil, cerr("%s of integers", op)
}

func toI64Wrap(v any) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case uint64:
		return int64(v)
	}
	return 0
}

// computedEqual compares computed values: byte slices by content (also against JSON number arrays),
// numbers by value within the integer types, everything else as JSON.
func computedEqual(a, b any) bool {
	ab, aIsB := a.([]byte)
	bb, bIsB := b.([]byte)
	switch {
	case aIsB && bIsB:
		return bytes.Equal(ab, bb)
	case aIsB || bIsB:
		x, ok1 := toBytes(a)
		y, ok2 := toBytes(b)
		return ok1 && ok2 && bytes.Equal(x, y)
	}
	if isNumber(a) && isNumber(b) && !isFloat(a) && !isFloat(b) {
		c, _ := compareNumbers(a, b)
		return c == 0
	}
	return equalValues(a, b)
}

// toBytes reads a byte vector: []byte, or a JSON array of numbers 0..255.
func toBytes(v any) ([]byte, bool) {
	switch v := v.(type) {
	case []byte:
		return v, true
	case []any:
		out := make([]byte, len(v))
		for i, el := range v {
			u, ok := asU64(el)
			if !ok || u > 255 {
				return nil, false
			}
			out[i] = byte(u)
		}
		return out, true
	}
	return nil, false
}

func knownCast(t string) bool {
	switch t {
	case "u8", "u16", "u32", "u64", "usize", "i8", "i16", "i32", "i64", "isize", "f32", "f64", "String", "bool":
		return true
	}
	return false
}

// castTo applies Rust's `as` conversion.
func castTo(v any, to string) (any, error) {
	switch to {
	case "f64", "f32":
		var f float64
		switch v := v.(type) {
		case float64:
			f = v
		case uint64:
			f = float64(v)
		case int64:
			f = float64(v)
		case bool:
			if v {
				f = 1
			}
		default:
			return nil, cerr("cast %s as %s", typeName(v), to)
		}
		if to == "f32" {
			f = float64(float32(f))
		}
		return f, nil
	case "String":
		return displayString(v), nil
	case "bool":
		switch v := v.(type) {
		case bool:
			return v, nil
		case uint64:
			return v != 0, nil
		case int64:
			return v != 0, nil
		}
		return nil, cerr("cast %s as bool", typeName(v))
	}
	var width uint
	signed := to[0] == 'i'
	switch to {
	case "u8", "i8":
		width = 8
	case "u16", "i16":
		width = 16
	case "u32", "i32":
		width = 32
	default:
		width = 64
	}
	var raw uint64
	switch v := v.(type) {
	case uint64:
		raw = v
	case int64:
		raw = uint64(v)
	case bool:
		if v {
			raw = 1
		}
	case float64:
		return castFloat(v, signed, width), nil
	default:
		return nil, cerr("cast %s as %s", typeName(v), to)
	}
	if width < 64 {
		raw &= (uint64(1) << width) - 1
	}
	if !signed {
		return raw, nil
	}
	if width < 64 && raw&(uint64(1)<<(width-1)) != 0 {
		raw |= ^((uint64(1) << width) - 1)
	}
	return int64(raw), nil
}

// castFloat is Rust's saturating float-to-integer `as`.
func castFloat(f float64, signed bool, width uint) any {
	if math.IsNaN(f) {
		if signed {
			return int64(0)
		}
		return uint64(0)
	}
	if signed {
		hi := math.Ldexp(1, int(width-1))
		switch {
		case f >= hi:
			return int64(hi - 1)
		case f <= -hi:
			return int64(-hi)
		}
		return int64(f)
	}
	if f <= 0 {
		return uint64(0)
	}
	if width == 64 {
		if f >= 18446744073709551615.0 {
			return uint64(math.MaxUint64)
		}
		return uint64(f)
	}
	hi := math.Ldexp(1, int(width))
	if f >= hi {
		return uint64(hi - 1)
	}
	return uint64(f)
}

func saturating(add bool, a, b any) (any, error) {
	if au, ok := a.(uint64); ok {
		bu, ok := asU64(b)
		if !ok {
			return nil, cerr("saturating op of u64 and %s", typeName(b))
		}
		if add {
			s, c := bits.Add64(au, bu, 0)
			if c != 0 {
				return uint64(math.MaxUint64), nil
			}
			return s, nil
		}
		if bu > au {
			return uint64(0), nil
		}
		return au - bu, nil
	}
	ai, ok1 := asI64(a)
	bi, ok2 := asI64(b)
	if !ok1 || !ok2 {
		return nil, cerr("saturating op of %s and %s", typeName(a), typeName(b))
	}
	if !add {
		if bi == math.MinInt64 {
			if ai >= 0 {
				return int64(math.MaxInt64), nil
			}
			return ai - bi, nil
		}
		bi = -bi
	}
	s := ai + bi
	if ai > 0 && bi > 0 && s < 0 {
		return int64(math.MaxInt64), nil
	}
	if ai < 0 && bi < 0 && s >= 0 {
		return int64(math.MinInt64), nil
	}
	return s, nil
}

// displayString renders a value like Rust's Display (JSON values as JSON text).
func displayString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case uint64:
		return strconv.FormatUint(v, 10)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return string(appendJSON(nil, toJSONValue(v)))
}

// toJSONValue converts a computed value to the JSON value it serializes to.
func toJSONValue(v any) any {
	switch x := v.(type) {
	case []byte:
		out := make([]any, len(x))
		for i, b := range x {
			out[i] = uint64(b)
		}
		return out
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
	}
	return v
}
