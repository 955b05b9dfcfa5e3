package stack

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValueCanonical(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{`null`, `null`},
		{` true `, `true`},
		{`{"b": 1, "a": {"d": [], "c": {}}}`, `{"a":{"c":{},"d":[]},"b":1}`},
		{`"é\u00e9\n\u0001\/"`, "\"éé\\n\\u0001/\""},
		{`"<&>"`, `"<&>"`},
		{`0`, `0`},
		{`-0`, `-0.0`},
		{`007e0`, ``}, // not JSON: leading zeros
		{`1.50`, `1.5`},
		{`1e2`, `100.0`},
		{`1E+2`, `100.0`},
		{`2.5e-3`, `0.0025`},
		{`0.00001`, `0.00001`},
		{`0.000001`, `1e-6`},
		{`0.0000015`, `1.5e-6`},
		{`1e15`, `1000000000000000.0`},
		{`1e16`, `1e16`},
		{`12345678901234567890123`, `1.2345678901234568e22`},
		{`18446744073709551615`, `18446744073709551615`},
		{`18446744073709551616`, `1.8446744073709552e19`},
		{`-9223372036854775808`, `-9223372036854775808`},
		{`-9223372036854775809`, `-9.223372036854776e18`},
		{`123.456`, `123.456`},
		{`-0.5`, `-0.5`},
	}
	for _, tc := range cases {
		v, err := NewValue([]byte(tc.in))
		if tc.want == "" {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, v.String(), tc.in)
		// Canonical text is a fixed point.
		again, err := NewValue(v.Raw())
		require.NoError(t, err)
		require.Equal(t, v, again)
	}
	_, err := NewValue([]byte(`1e400`))
	require.ErrorIs(t, err, ErrInvalidValue)
	_, err = NewValue([]byte(`{"a":1,"a":2}`))
	require.ErrorIs(t, err, ErrDuplicateField)
}

func TestValueAccessors(t *testing.T) {
	t.Parallel()
	u := MustValue(`18446744073709551615`)
	require.Equal(t, KindUint, u.Kind())
	got, ok := u.Uint64()
	require.True(t, ok)
	require.Equal(t, uint64(math.MaxUint64), got)
	_, ok = u.Int64()
	require.False(t, ok, "u64 beyond i64 has no i64 form")
	f, ok := u.Float64()
	require.True(t, ok)
	require.Equal(t, float64(math.MaxUint64), f)

	i := MustValue(`-42`)
	require.Equal(t, KindInt, i.Kind())
	iv, ok := i.Int64()
	require.True(t, ok)
	require.Equal(t, int64(-42), iv)
	_, ok = i.Uint64()
	require.False(t, ok)

	fl := MustValue(`2.0`)
	require.Equal(t, KindFloat, fl.Kind())
	_, ok = fl.Uint64()
	require.False(t, ok, "2.0 is a float, as in serde_json")
	require.False(t, fl.Equal(MustValue(`2`)))

	s := MustValue(`"a\"b"`)
	require.Equal(t, KindString, s.Kind())
	str, ok := s.Str()
	require.True(t, ok)
	require.Equal(t, `a"b`, str)

	b := MustValue(`false`)
	bv, ok := b.Bool()
	require.True(t, ok)
	require.False(t, bv)
	require.Equal(t, KindNull, Null.Kind())
	require.True(t, Null.IsNull())
	require.Equal(t, KindArray, MustValue(`[1]`).Kind())
	require.Equal(t, KindObject, MustValue(`{}`).Kind())

	var zero Value
	require.False(t, zero.IsValid())
	require.Equal(t, KindInvalid, zero.Kind())
	require.Nil(t, zero.Raw())

	dec, err := MustValue(`{"n": 18446744073709551615}`).Decode()
	require.NoError(t, err)
	require.Equal(t, map[string]any{"n": json.Number("18446744073709551615")}, dec)

	var wrapped struct{ V Value }
	require.NoError(t, json.Unmarshal([]byte(`{"V": {"z": 1.50, "a": null}}`), &wrapped))
	require.Equal(t, `{"a":null,"z":1.5}`, wrapped.V.String())
	out, err := json.Marshal(wrapped)
	require.NoError(t, err)
	require.Equal(t, `{"V":{"a":null,"z":1.5}}`, string(out))
}

func TestAppendString(t *testing.T) {
	t.Parallel()
	// Control characters are escaped; DEL and everything else is written as is.
	require.Equal(t, `"a\"\\\b\f\n\r\t\u001f`+"\x7f\"", string(appendString(nil, "a\"\\\b\f\n\r\t\x1f\x7f")))
	require.Equal(t, `"Option < u64 > & é"`, string(appendString(nil, "Option < u64 > & é")))
}

func TestPaths(t *testing.T) {
	t.Parallel()
	require.Equal(t, "a", fieldPath("", "a"))
	require.Equal(t, "a.b", fieldPath("a", "b"))
	require.Equal(t, "a[2]", indexPath("a", 2))
	require.Equal(t, `m["id.x"]`, keyPath("m", "id.x"))
	require.Equal(t, `m.ok_1`, keyPath("m", "ok_1"))
	require.Equal(t, `m["1x"]`, keyPath("m", "1x"))
	require.Equal(t, `m[""]`, keyPath("m", ""))
	require.Equal(t, "round_address_lookup_index", LookupIndexName("id.round_address"))
	require.Equal(t, "expires_at_temporal_index", TemporalIndexName("state.expires_at"))
	require.Equal(t, "", Path().Leaf())
	require.Equal(t, "b", Path("a", "b").Leaf())
	require.True(t, Path().IsEmpty())
}
