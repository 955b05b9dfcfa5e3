package vm

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// reset copies every field of an event context but the cached account texts, which it invalidates.
func TestEvCtxResetCopiesEveryField(t *testing.T) {
	var names b58Cache
	b := evCtx{
		route: &Route{EventType: "x"}, isAccount: true, root: map[string]any{"a": uint64(1)}, fields: []any{"f"},
		acct: &idl.AccountDef{Name: "A"}, rec: &record{}, data: map[string]any{"d": true}, ixDef: &idl.InstructionDef{Name: "ix"},
		ixAccounts: []solana.Pubkey{pk("a0")}, address: pk("addr"), addrStr: "s", addrAny: "s", sig: sig("s"), hasSig: true,
		sigStr: "sig", names: &names, slot: 1, writeVersion: 2, txnIndex: 3, ixPos: 4, sub: 5,
	}
	// Every field but accStr and accSet is set above; a field added later must be added to reset
	// and here.
	v := reflect.ValueOf(b)
	for i := 0; i < v.NumField(); i++ {
		if f := v.Type().Field(i).Name; f != "accStr" && f != "accSet" {
			require.False(t, v.Field(i).IsZero(), "field %s is not set in the test", f)
		}
	}
	e := evCtx{accSet: 1}
	e.accStr[0] = "stale"
	e.reset(&b)
	require.Zero(t, e.accSet, "cached account texts are invalidated")
	e.accStr, b.accStr = [12]any{}, [12]any{}
	require.True(t, reflect.DeepEqual(b, e))
	require.Equal(t, pk("a0").String(), e.ixAccount(0))
}
