package vm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestAppendFloatMatchesSerdeJSON(t *testing.T) {
	cases := map[float64]string{
		0:                        "0.0",
		math.Copysign(0, -1):     "-0.0",
		1:                        "1.0",
		3:                        "3.0",
		-2.5:                     "-2.5",
		0.1:                      "0.1",
		1.0 / 3:                  "0.3333333333333333",
		0.00025:                  "0.00025",
		0.00001:                  "0.00001",
		0.000001:                 "1e-6",
		1.5e-7:                   "1.5e-7",
		7e-11:                    "7e-11",
		123456789012345.0:        "123456789012345.0",
		1e15:                     "1000000000000000.0",
		9999999999999998:         "9999999999999998.0",
		1e16:                     "1e16",
		1.2345e20:                "1.2345e20",
		-1e300:                   "-1e300",
		math.MaxFloat64:          "1.7976931348623157e308",
		5e-324:                   "5e-324",
		math.Inf(1):              "null",
		1844674407370955.2:       "1844674407370955.2",
		18446744073709551615.0:   "1.8446744073709552e19",
		0.30000000000000004:      "0.30000000000000004",
		2.5e-5:                   "0.000025",
		99999.99999999999:        "99999.99999999999",
		-0.5:                     "-0.5",
		1e-5 * 0.9999999999999:   "9.999999999999e-6",
		float64(uint64(1) << 53): "9007199254740992.0",
	}
	for f, want := range cases {
		require.Equal(t, want, string(appendFloat(nil, f)), "%v", f)
	}
	require.Equal(t, "null", string(appendFloat(nil, math.NaN())))
}

func TestAppendJSONCanonical(t *testing.T) {
	v := map[string]any{
		"b": []any{uint64(18446744073709551615), int64(-9223372036854775808), 1.0, true, nil},
		"a": map[string]any{"z": "q\"\\\n\t\x01é<>&", "y": map[string]any{}},
		"c": []any{},
	}
	require.Equal(t, `{"a":{"y":{},"z":"q\"\\\n\t\u0001é<>&"},"b":[18446744073709551615,-9223372036854775808,1.0,true,null],"c":[]}`,
		string(appendJSON(nil, v)))
	require.Equal(t, "\"\ufffd\"", string(appendJSON(nil, string([]byte{0xff}))))
}

func TestValueSemantics(t *testing.T) {
	require.True(t, equalValues(uint64(5), int64(5)))
	require.False(t, equalValues(uint64(1), 1.0), "integers and floats differ, as in serde_json")
	require.True(t, equalValues([]any{uint64(0), "x"}, []any{int64(0), "x"}))
	require.False(t, equalValues(map[string]any{"a": nil}, map[string]any{}))
	c, ok := compareNumbers(int64(-1), uint64(math.MaxUint64))
	require.True(t, ok)
	require.Equal(t, -1, c)
	c, ok = compareNumbers(uint64(math.MaxUint64), uint64(math.MaxUint64-1))
	require.True(t, ok)
	require.Equal(t, 1, c)
	_, ok = compareNumbers("1", uint64(1))
	require.False(t, ok)
	require.Equal(t, makeKey(uint64(7)), makeKey(int64(7)), "a number is one key whatever its Go type")
	require.NotEqual(t, makeKey(uint64(7)), makeKey("7"), "a number and a string are different keys")
	require.Equal(t, `"abc"`, makeKey("abc").String())
	require.Equal(t, "-3", makeKey(int64(-3)).String())
}

// ryuRule formats f from its shortest digits by the rules of serde_json's float writer (ryu):
// plain notation when the decimal exponent kk is in (-5, 16], scientific otherwise.
func ryuRule(f float64) string {
	s := strconv.FormatFloat(f, 'e', -1, 64)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	e := strings.IndexByte(s, 'e')
	digits := strings.Replace(s[:e], ".", "", 1)
	exp, _ := strconv.Atoi(s[e+1:])
	kk := exp + 1
	n := len(digits)
	k := kk - n
	var out string
	switch {
	case k >= 0 && kk <= 16:
		out = digits + strings.Repeat("0", k) + ".0"
	case kk > 0 && kk <= 16:
		out = digits[:kk] + "." + digits[kk:]
	case kk > -5 && kk <= 0:
		out = "0." + strings.Repeat("0", -kk) + digits
	case n == 1:
		out = digits + "e" + strconv.Itoa(kk-1)
	default:
		out = digits[:1] + "." + digits[1:] + "e" + strconv.Itoa(kk-1)
	}
	if neg {
		out = "-" + out
	}
	return out
}

func TestAppendFloatRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		var f float64
		switch i % 3 {
		case 0:
			f = math.Float64frombits(r.Uint64())
		case 1:
			f = float64(r.Int64N(1<<60)) / math.Pow(10, float64(r.IntN(30)))
		default:
			f = r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		require.Equal(t, ryuRule(f), string(appendFloat(nil, f)), "%b", math.Float64bits(f))
	}
}

// The plain-decimal fast path must give strconv's shortest digits whenever it answers: token
// amounts (raw / 10^decimals), their float neighbours and random floats of the plain range.
func TestAppendShortDecimalMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	check := func(f float64) bool {
		got, ok := appendShortDecimal(nil, f)
		if !ok {
			return false
		}
		require.Equal(t, strconv.FormatFloat(f, 'f', -1, 64), string(got), "%b", math.Float64bits(f))
		return true
	}
	amounts, fast := 0, 0
	for i := 0; i < 300000; i++ {
		var f float64
		switch i % 4 {
		case 0:
			f = float64(r.Uint64N(1<<53)>>r.UintN(53)) / math.Pow(10, float64(r.IntN(16)))
		case 1:
			f = math.Float64frombits(r.Uint64N(0x4330000000000000-0x3ed0000000000000) + 0x3ed0000000000000)
		case 2:
			f = float64(r.Uint64N(1_000_000_000_000)) / 1e9
		default:
			f = float64(r.Uint64N(1<<53)>>r.UintN(53)) * math.Pow(10, -float64(r.IntN(25)))
		}
		if r.IntN(2) == 0 {
			f = -f
		}
		if ok := check(f); i%4 == 2 && f != math.Trunc(f) {
			amounts++
			if ok {
				fast++
			}
		}
		check(math.Nextafter(f, math.Inf(1)))
		check(math.Nextafter(f, math.Inf(-1)))
	}
	for _, f := range []float64{1e-5, 1.0000000000000002e-5, 9.999999999999999e-6, 0.1, 0.2, 0.30000000000000004, 0.3,
		999999999999999.9, 99999999999999.98, 1e15 - 0.5, 0.000015, 123.456, 2.5, 1.5e14, 1.0000000000000002} {
		check(f)
		check(-f)
	}
	require.Equal(t, amounts, fast, "the fast path answers every amount of 9 decimals")
}

// refString is the byte-at-a-time form of appendString's rules, the oracle for its word-at-a-time
// scan.
func refString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c == '\b':
				b.WriteString(`\b`)
			case c == '\f':
				b.WriteString(`\f`)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c < 0x20:
				fmt.Fprintf(&b, `\u%04x`, c)
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

func TestAppendStringAndObjectKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte("abcXYZ019_.-\"\\\x00\x01\x1f\x7f\n\t ")
	alphabet = append(alphabet, "é€\xff\xc3"...)
	for i := 0; i < 20000; i++ {
		b := make([]byte, r.IntN(40))
		for j := range b {
			if r.IntN(4) == 0 {
				b[j] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[j] = byte('a' + r.IntN(26))
			}
		}
		s := string(b)
		require.Equal(t, refString(s), string(appendString(nil, s)), "%q", s)
	}
	// Object keys sharing long prefixes, shorter than, equal to and longer than eight bytes.
	obj := map[string]any{}
	var keys []string
	for i := 0; i < 30; i++ {
		k := strings.Repeat("k", r.IntN(10)) + string(rune('a'+r.IntN(3))) + strings.Repeat("\x00", r.IntN(2))
		if _, dup := obj[k]; !dup {
			keys = append(keys, k)
		}
		obj[k] = uint64(i)
	}
	sort.Strings(keys)
	var want []byte
	want = append(want, '{')
	for i, k := range keys {
		if i > 0 {
			want = append(want, ',')
		}
		want = appendString(want, k)
		want = append(want, ':')
		want = appendJSON(want, obj[k])
	}
	want = append(want, '}')
	require.Equal(t, string(want), string(appendJSON(nil, obj)))
}

func TestAppendUint(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 100000; i++ {
		n := r.Uint64() >> r.UintN(64)
		require.Equal(t, strconv.FormatUint(n, 10), string(appendUint([]byte{}, n)))
	}
	for _, n := range []uint64{0, 9, 10, 99, 100, 101, 999, 1000, math.MaxUint64} {
		require.Equal(t, "x"+strconv.FormatUint(n, 10), string(appendUint([]byte("x"), n)))
	}
}
