package vm

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/hyperstack-go/hyperstack/internal/stack"
)

// Runtime values are plain Go JSON trees, the same model the idl decoders produce:
//
//	nil             JSON null (and "absent" where a lookup says so)
//	bool
//	uint64          non-negative integers
//	int64           negative integers (a non-negative int64 is accepted everywhere and means the same number)
//	float64
//	string
//	[]any           arrays
//	map[string]any  objects
//
// Integers never pass through float64, so u64 values above 2^53 stay exact.

// fromSpecValue converts a spec literal to a runtime value.
func fromSpecValue(v stack.Value) (any, error) {
	if !v.IsValid() {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(v.Raw()))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	return fromJSONNumbers(raw)
}

// parseJSONValue parses JSON text (a resolver answer) into a runtime value.
func parseJSONValue(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return fromJSONNumbers(raw)
}

func fromJSONNumbers(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		return parseNumber(string(x))
	case []any:
		for i := range x {
			c, err := fromJSONNumbers(x[i])
			if err != nil {
				return nil, err
			}
			x[i] = c
		}
		return x, nil
	case map[string]any:
		for k, e := range x {
			c, err := fromJSONNumbers(e)
			if err != nil {
				return nil, err
			}
			x[k] = c
		}
		return x, nil
	default:
		return v, nil
	}
}

// parseNumber classifies number text the way serde_json does: u64, then i64, then f64.
func parseNumber(s string) (any, error) {
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return u, nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("number %q: %w", s, err)
	}
	return f, nil
}

// asU64 is serde_json's as_u64: non-negative integers only.
func asU64(v any) (uint64, bool) {
	switch x := v.(type) {
	case uint64:
		return x, true
	case int64:
		if x >= 0 {
			return uint64(x), true
		}
	}
	return 0, false
}

// asI64 is serde_json's as_i64: integers in i64 range.
func asI64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

// asF64 is serde_json's as_f64: any number.
func asF64(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case uint64:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

func isNumber(v any) bool {
	switch v.(type) {
	case uint64, int64, float64:
		return true
	}
	return false
}

// equalValues is JSON equality as serde_json defines it: integers and floats differ (1 != 1.0),
// a non-negative int64 equals the same uint64, objects compare key by key.
func equalValues(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case uint64:
		y, ok := asU64(b)
		return ok && x == y && !isFloat(b)
	case int64:
		switch y := b.(type) {
		case int64:
			return x == y
		case uint64:
			return x >= 0 && uint64(x) == y
		}
		return false
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalValues(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return equalObjects(x, b)
		}
		if len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !equalValues(xv, yv) {
				return false
			}
		}
		return true
	case *record, *srec:
		return equalObjects(x, b)
	}
	return false
}

func isFloat(v any) bool { _, ok := v.(float64); return ok }

// compareNumbers orders two numbers the way the reference VM does: as i64 when both fit, as u64 when
// both are non-negative integers, else as f64. ok is false when either side is not a number.
func compareNumbers(a, b any) (int, bool) {
	if !isNumber(a) || !isNumber(b) {
		return 0, false
	}
	if x, ok := asI64(a); ok {
		if y, ok := asI64(b); ok {
			return cmp3(x < y, x > y), true
		}
	}
	if x, ok := asU64(a); ok {
		if y, ok := asU64(b); ok {
			return cmp3(x < y, x > y), true
		}
	}
	// One side is a negative i64 and the other a u64 above i64 range, or a float is involved.
	if !isFloat(a) && !isFloat(b) {
		if _, neg := a.(int64); neg {
			return -1, true
		}
		return 1, true
	}
	x, _ := asF64(a)
	y, _ := asF64(b)
	if math.IsNaN(x) || math.IsNaN(y) {
		return 0, false
	}
	return cmp3(x < y, x > y), true
}

func cmp3(lt, gt bool) int {
	switch {
	case lt:
		return -1
	case gt:
		return 1
	}
	return 0
}

// stringify renders a lookup-index key: strings as they are, numbers as digits, other values as
// their canonical JSON text.
func stringify(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case uint64:
		return strconv.FormatUint(x, 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		if x {
			return "true"
		}
		return "false"
	case nil:
		return "null"
	}
	return string(appendJSON(nil, v))
}

// numTexts caches the decimal text of recently stringified integers (lookup-index keys such as
// round ids and slots come back on every event).
type numTexts struct {
	n [numTextsSize]uint64
	s [numTextsSize]string
}

const numTextsSize = 256

// stringify is the package stringify, with integers' text cached.
func (c *numTexts) stringify(v any) string {
	u, ok := v.(uint64)
	if !ok {
		if i, isInt := v.(int64); isInt && i >= 0 {
			u, ok = uint64(i), true
		}
	}
	if !ok {
		return stringify(v)
	}
	i := (u * 0x9E3779B97F4A7C15) >> (64 - 8)
	if c.s[i] == "" || c.n[i] != u {
		c.n[i], c.s[i] = u, strconv.FormatUint(u, 10)
	}
	return c.s[i]
}

// getPathIn walks segs through nested objects from v.
func getPathIn(v any, segs []string) (any, bool) {
	for _, s := range segs {
		var ok bool
		if obj, isMap := v.(map[string]any); isMap {
			v, ok = obj[s]
		} else {
			v, ok = objectGet(v, s)
		}
		if !ok {
			return nil, false
		}
	}
	return v, true
}

// getPath walks segs through nested objects.
func getPath(m map[string]any, segs []string) (any, bool) { return getPathIn(m, segs) }

// deepCopy copies arrays and objects so the copy can be changed independently.
func deepCopy(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = deepCopy(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case *record, *srec:
		n, _ := objectLen(x)
		out := make(map[string]any, n)
		objectEach(x, func(k string, e any) bool {
			out[k] = deepCopy(e)
			return true
		})
		return out
	}
	return v
}

// appendJSON writes v as canonical JSON: object keys sorted, strings escaped as serde_json escapes
// them, integers exact, floats in serde_json's form (see appendFloat).
func appendJSON(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		if x {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case uint64:
		return appendUint(b, x)
	case int64:
		if x >= 0 {
			return appendUint(b, uint64(x))
		}
		return strconv.AppendInt(b, x, 10)
	case float64:
		return appendFloat(b, x)
	case string:
		return appendString(b, x)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			// Arrays are mostly numbers: those are written without going through the type switch.
			switch n := e.(type) {
			case uint64:
				b = appendUint(b, n)
			case float64:
				b = appendFloat(b, n)
			default:
				b = appendJSON(b, e)
			}
		}
		return append(b, ']')
	case map[string]any:
		return appendObject(b, x)
	case *record:
		return x.appendJSON(b)
	case *srec:
		return x.appendJSON(b)
	case []byte:
		// Byte vectors of computed expressions serialize as arrays of numbers.
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, uint64(e), 10)
		}
		return append(b, ']')
	case *uniqueSet:
		return append(b, "null"...)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	}
	return append(b, "null"...)
}

func appendObject(b []byte, m map[string]any) []byte {
	if len(m) > 32 {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendJSON(b, m[k])
		}
		return append(b, '}')
	}
	// Small objects: collect the entries once and insertion-sort them by key, comparing the keys'
	// first eight bytes as one big-endian number before comparing whole strings.
	type entry struct {
		p uint64
		k string
		v any
	}
	var es [32]entry // indexed, never appended to, so it stays on the stack
	n := 0
	for k, v := range m {
		e := entry{keyPrefix(k), k, v}
		i := n
		n++
		for i > 0 && (es[i-1].p > e.p || es[i-1].p == e.p && es[i-1].k > k) {
			es[i] = es[i-1]
			i--
		}
		es[i] = e
	}
	b = append(b, '{')
	for i := range es[:n] {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, es[i].k)
		b = append(b, ':')
		b = appendJSON(b, es[i].v)
	}
	return append(b, '}')
}

// keyPrefix is the first eight bytes of s as a big-endian number (zero-padded): ordering by it
// agrees with ordering the strings, except that equal prefixes need the whole strings compared.
func keyPrefix(s string) uint64 {
	var p uint64
	if len(s) >= 8 {
		return uint64(s[0])<<56 | uint64(s[1])<<48 | uint64(s[2])<<40 | uint64(s[3])<<32 |
			uint64(s[4])<<24 | uint64(s[5])<<16 | uint64(s[6])<<8 | uint64(s[7])
	}
	for i := 0; i < len(s); i++ {
		p |= uint64(s[i]) << (56 - 8*i)
	}
	return p
}

const hexDigits = "0123456789abcdef"

// digitPairs holds "00".."99".
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// appendUint writes n in decimal, two digits per step, into b's spare capacity.
func appendUint(b []byte, n uint64) []byte {
	if n < 10 {
		return append(b, byte('0'+n))
	}
	if n < 100 {
		return append(b, digitPairs[2*n], digitPairs[2*n+1])
	}
	// The number of digits: floor(log10(n)) + 1, from the bit length.
	d := (bits.Len64(n) * 1233) >> 12
	if n >= pow10u64[d] {
		d++
	}
	l := len(b)
	if cap(b)-l < d {
		b = slices.Grow(b, d)
	}
	b = b[:l+d]
	i := l + d
	for n >= 100 {
		q := n / 100
		r := 2 * (n - q*100)
		i -= 2
		b[i], b[i+1] = digitPairs[r], digitPairs[r+1]
		n = q
	}
	if n >= 10 {
		b[i-2], b[i-1] = digitPairs[2*n], digitPairs[2*n+1]
	} else {
		b[i-1] = byte('0' + n)
	}
	return b
}

// pow10u64[i] is 10^i.
var pow10u64 = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
	1e16, 1e17, 1e18, 1e19}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

func hasZeroByte(x uint64) bool { return (x-lsb)&^x&msb != 0 }

// needsEscape reports whether one of the eight bytes of x is a control character, '"', '\\' or
// not ASCII.
func needsEscape(x uint64) bool {
	return (x-lsb*0x20)&^x&msb != 0 || hasZeroByte(x^(lsb*'"')) || hasZeroByte(x^(lsb*'\\')) || x&msb != 0
}

// appendString writes a JSON string as serde_json does: '"' and '\\' escaped, control characters as
// \b \t \n \f \r or \u00XX, everything else (non-ASCII included) as is. Invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	i := 0
	// Eight bytes at a time while none needs attention (a control character, '"', '\\' or a
	// non-ASCII byte).
	if len(s) >= 8 {
		raw := unsafe.Slice(unsafe.StringData(s), len(s)) // read only
		for ; i+8 <= len(raw); i += 8 {
			if needsEscape(binary.LittleEndian.Uint64(raw[i:])) {
				break
			}
		}
		// The tail, as the last eight bytes (overlapping what was checked).
		if i < len(raw) && i+8 > len(raw) && !needsEscape(binary.LittleEndian.Uint64(raw[len(raw)-8:])) {
			i = len(raw)
		}
	}
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"':
				b = append(b, '\\', '"')
			case '\\':
				b = append(b, '\\', '\\')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendFloat writes a float the way serde_json (ryu) does: the shortest digits that round-trip;
// plain notation with a ".0" on whole numbers when the decimal exponent is in [-5, 16], scientific
// notation ("1e16", "1.5e-7") otherwise. NaN and infinities, which JSON cannot hold, become null.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	if a := math.Abs(f); a < 1<<53 && f == math.Trunc(f) && f != 0 {
		// Whole numbers: integer digits and ".0".
		return append(strconv.AppendInt(b, int64(f), 10), '.', '0')
	}
	if b2, ok := appendShortDecimal(b, f); ok {
		return b2
	}
	if a := math.Abs(f); a == 0 || (a >= 1e-5 && a < 1e16) {
		// Plain notation: strconv's shortest 'f' form is serde_json's, plus ".0" on whole numbers.
		start := len(b)
		b = strconv.AppendFloat(b, f, 'f', -1, 64)
		if bytes.IndexByte(b[start:], '.') < 0 {
			b = append(b, '.', '0')
		}
		return b
	}
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	// s is [-]d[.ddd]e±XX
	if s[0] == '-' {
		b = append(b, '-')
		s = s[1:]
	}
	ePos := bytes.IndexByte(s, 'e')
	mant, expText := s[:ePos], s[ePos+1:]
	exp, _ := strconv.Atoi(string(expText))
	b = append(b, mant...)
	b = append(b, 'e')
	return strconv.AppendInt(b, int64(exp), 10)
}

// exactPow10 holds the powers of ten a float64 represents exactly.
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
	1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// appendShortDecimal writes a non-integral f with 1e-5 <= |f| < 1e15 in plain notation when its
// shortest round-trip form has at most 15 significant digits, which covers the token amounts
// computed fields produce; ok is false otherwise (the caller falls back to strconv).
//
// n = round(|f|·10^k), with k chosen so that n has 15 digits, is checked to parse back to |f|
// (n < 2^53 and 10^k are exact, so float64(n)/10^k is the correctly rounded value of n·10^-k, as
// parsing would give). Distinct 15-digit decimals of one decade are further apart than the
// rounding interval of any float64 in it, so n·10^-k is the only 15-digit decimal that parses to
// f: the shortest form, padded with zeros to 15 digits, is the same number, and stripping n's
// trailing zeros gives exactly the shortest digits strconv would.
func appendShortDecimal(b []byte, f float64) ([]byte, bool) {
	a := math.Abs(f)
	if !(a >= 1e-5 && a < 1e15) || a == math.Trunc(a) {
		return b, false
	}
	// k = 14 - floor(log10(a)), estimated from the binary exponent and corrected below.
	e2 := int(math.Float64bits(a)>>52&0x7ff) - 1023
	k := 14 - (e2*78913)>>18 // floor(e2·log10(2)), exact for |e2| < 2^10
	if k < 0 || k >= len(exactPow10) {
		return b, false
	}
	s := a * exactPow10[k]
	if s >= 1e15 {
		k--
	} else if s < 1e14 {
		k++
	}
	if k < 1 || k >= len(exactPow10) {
		return b, false
	}
	s = a * exactPow10[k]
	if s < 1e14 || s >= 1e15 {
		return b, false
	}
	n := uint64(s + 0.5) // s < 2^50, so s+0.5 is exact: rounding half up, as math.Round here
	if n >= 1e15 || float64(n)/exactPow10[k] != a {
		return b, false
	}
	for n%10000 == 0 {
		n /= 10000
		k -= 4
	}
	for n%10 == 0 {
		n /= 10
		k--
	}
	// Written from the right into b's spare capacity: k fraction digits (zeros once n runs out),
	// the point, the integer part ("0" when there is none).
	nd := (bits.Len64(n) * 1233) >> 12
	if n >= pow10u64[nd] {
		nd++
	}
	size := 1 + k + max(nd-k, 1)
	if f < 0 {
		b = append(b, '-')
	}
	l := len(b)
	if cap(b)-l < size {
		b = slices.Grow(b, size)
	}
	b = b[:l+size]
	i := l + size
	for ; k >= 2; k -= 2 {
		q := n / 100
		r := 2 * (n - q*100)
		i -= 2
		b[i], b[i+1] = digitPairs[r], digitPairs[r+1]
		n = q
	}
	if k == 1 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	i--
	b[i] = '.'
	if n == 0 {
		b[i-1] = '0'
	}
	for ; n >= 100; n /= 100 {
		r := 2 * (n % 100)
		i -= 2
		b[i], b[i+1] = digitPairs[r], digitPairs[r+1]
	}
	if n >= 10 {
		b[i-2], b[i-1] = digitPairs[2*n], digitPairs[2*n+1]
	} else if n > 0 {
		b[i-1] = byte('0' + n)
	}
	return b, true
}

// key is a state-table key: the primary-key value, with a number and a string kept apart.
type key struct {
	kind uint8
	n    uint64
	s    string
}

const (
	keyNull uint8 = iota
	keyUint
	keyInt
	keyFloat
	keyBool
	keyString
	keyJSON
)

func makeKey(v any) key {
	switch x := v.(type) {
	case nil:
		return key{kind: keyNull}
	case uint64:
		return key{kind: keyUint, n: x}
	case int64:
		if x >= 0 {
			return key{kind: keyUint, n: uint64(x)}
		}
		return key{kind: keyInt, n: uint64(x)}
	case float64:
		return key{kind: keyFloat, n: math.Float64bits(x)}
	case bool:
		if x {
			return key{kind: keyBool, n: 1}
		}
		return key{kind: keyBool}
	case string:
		return key{kind: keyString, s: x}
	}
	return key{kind: keyJSON, s: string(appendJSON(nil, v))}
}

// value returns the key as a runtime value.
func (k key) value() any {
	switch k.kind {
	case keyUint:
		return k.n
	case keyInt:
		return int64(k.n)
	case keyFloat:
		return math.Float64frombits(k.n)
	case keyBool:
		return k.n == 1
	case keyString:
		return k.s
	case keyJSON:
		v, err := parseJSONValue([]byte(k.s))
		if err != nil {
			return nil
		}
		return v
	}
	return nil
}

// appendJSON writes the key as JSON.
func (k key) appendJSON(b []byte) []byte {
	switch k.kind {
	case keyUint:
		return appendUint(b, k.n)
	case keyInt:
		return strconv.AppendInt(b, int64(k.n), 10)
	case keyFloat:
		return appendFloat(b, math.Float64frombits(k.n))
	case keyBool:
		if k.n == 1 {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case keyString:
		return appendString(b, k.s)
	case keyJSON:
		return append(b, k.s...)
	}
	return append(b, "null"...)
}

// String renders the key for messages.
func (k key) String() string { return string(k.appendJSON(nil)) }
