package stack

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// appendString writes s as a JSON string the way serde_json does: only '"', '\\' and control characters
// are escaped (\b \f \n \r \t, others as \u00xx); non-ASCII text is written as is.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		var esc string
		switch {
		case c == '"':
			esc = `\"`
		case c == '\\':
			esc = `\\`
		case c == '\b':
			esc = `\b`
		case c == '\f':
			esc = `\f`
		case c == '\n':
			esc = `\n`
		case c == '\r':
			esc = `\r`
		case c == '\t':
			esc = `\t`
		case c < 0x20:
			esc = string([]byte{'\\', 'u', '0', '0', hex[c>>4], hex[c&0xf]})
		default:
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, esc...)
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// canonicalNumber rewrites JSON number text as serde_json would print it after parsing it into a
// serde_json::Value: non-negative integers that fit a u64 and negative ones that fit an i64 keep their
// digits; everything else becomes an f64 printed in shortest round-trip form with a ".0" on whole
// numbers (ryu layout). A number too large for f64 is an error.
func canonicalNumber(text string) (string, error) {
	if !strings.ContainsAny(text, ".eE") {
		if text[0] == '-' {
			if i, err := strconv.ParseInt(text, 10, 64); err == nil && i != 0 {
				return strconv.FormatInt(i, 10), nil
			}
		} else if u, err := strconv.ParseUint(text, 10, 64); err == nil {
			return strconv.FormatUint(u, 10), nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return "", fmt.Errorf("%w: number %s out of range", ErrInvalidValue, text)
	}
	return formatFloat(f), nil
}

// formatFloat prints a finite f64 like serde_json (ryu): shortest round-trip digits, plain notation for
// decimal exponents in [-5, 16], "1.5e-7" style otherwise, and ".0" on whole numbers.
func formatFloat(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±XX
	var sb strings.Builder
	if e[0] == '-' {
		sb.WriteByte('-')
		e = e[1:]
	}
	mant, expText, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expText)
	length := len(digits)
	kk := exp + 1    // 10^(kk-1) <= |f| < 10^kk
	k := kk - length // f = digits * 10^k
	switch {
	case k >= 0 && kk <= 16:
		sb.WriteString(digits)
		sb.WriteString(strings.Repeat("0", k))
		sb.WriteString(".0")
	case kk > 0 && kk <= 16:
		sb.WriteString(digits[:kk])
		sb.WriteByte('.')
		sb.WriteString(digits[kk:])
	case kk > -5 && kk <= 0:
		sb.WriteString("0.")
		sb.WriteString(strings.Repeat("0", -kk))
		sb.WriteString(digits)
	case length == 1:
		sb.WriteString(digits)
		sb.WriteByte('e')
		sb.WriteString(strconv.Itoa(kk - 1))
	default:
		sb.WriteString(digits[:1])
		sb.WriteByte('.')
		sb.WriteString(digits[1:])
		sb.WriteByte('e')
		sb.WriteString(strconv.Itoa(kk - 1))
	}
	return sb.String()
}

// appendCanonicalValue writes n as a serde_json::Value would be serialized: compact, object keys
// sorted, numbers canonical. path locates errors (duplicate keys, numbers out of range).
func appendCanonicalValue(b []byte, n *node, path string) ([]byte, error) {
	return appendNode(b, n, path, true)
}

// appendNode writes n compactly; sortKeys selects serde_json::Value order, otherwise file order is kept.
func appendNode(b []byte, n *node, path string, sortKeys bool) ([]byte, error) {
	var err error
	switch n.kind {
	case nodeNull:
		b = append(b, "null"...)
	case nodeBool:
		b = strconv.AppendBool(b, n.b)
	case nodeNumber:
		s, nerr := canonicalNumber(n.s)
		if nerr != nil {
			return nil, &SpecError{Path: path, Err: nerr}
		}
		b = append(b, s...)
	case nodeString:
		if !utf8.ValidString(n.s) {
			return nil, &SpecError{Path: path, Err: fmt.Errorf("%w: string is not valid UTF-8", ErrInvalidValue)}
		}
		b = appendString(b, n.s)
	case nodeArray:
		b = append(b, '[')
		for i, v := range n.arr {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendNode(b, v, indexPath(path, i), sortKeys); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	case nodeObject:
		if k, dup := duplicateKey(n); dup {
			return nil, &SpecError{Path: path, Err: fmt.Errorf("%w %q", ErrDuplicateField, k)}
		}
		order := make([]int, len(n.keys))
		for i := range order {
			order[i] = i
		}
		if sortKeys {
			slices.SortFunc(order, func(x, y int) int { return strings.Compare(n.keys[x], n.keys[y]) })
		}
		b = append(b, '{')
		for j, i := range order {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendString(b, n.keys[i])
			b = append(b, ':')
			if b, err = appendNode(b, n.vals[i], keyPath(path, n.keys[i]), sortKeys); err != nil {
				return nil, err
			}
		}
		b = append(b, '}')
	}
	return b, nil
}

// duplicateKey returns the first key that occurs twice in object n.
func duplicateKey(n *node) (string, bool) {
	if len(n.keys) < 2 {
		return "", false
	}
	seen := make(map[string]struct{}, len(n.keys))
	for _, k := range n.keys {
		if _, ok := seen[k]; ok {
			return k, true
		}
		seen[k] = struct{}{}
	}
	return "", false
}

// fieldPath, indexPath and keyPath build JSON paths: a.b, a[3], a["x.y"].
func fieldPath(p, field string) string {
	if p == "" {
		return field
	}
	return p + "." + field
}

func indexPath(p string, i int) string { return p + "[" + strconv.Itoa(i) + "]" }

// keyPath appends a map key: as .key when it is a plain identifier, else as ["key"].
func keyPath(p, key string) string {
	plain := key != ""
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && i > 0) {
			plain = false
			break
		}
	}
	if plain {
		return fieldPath(p, key)
	}
	return p + "[" + strconv.Quote(key) + "]"
}
