package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/fixtures"
	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

var tokenProgram = solana.MustPubkey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")

// tokenObservation is one raw update of an SPL Token account, decoded independently of the VM.
type tokenObservation struct {
	seq, slot uint64
	amount    string
}

// rawTokenAccounts decodes every SPL Token account update of the archive with the SPL Token IDL.
func rawTokenAccounts(t *testing.T, a *archive.Archive) map[string][]tokenObservation {
	t.Helper()
	tokenIDL, err := idl.Parse(fixtures.SPLTokenIDL)
	require.NoError(t, err)
	out := map[string][]tokenObservation{}
	require.NoError(t, a.ScanSeq(context.Background(), 1, math.MaxUint64, func(u archive.Update) error {
		m, err := u.Decode()
		if err != nil {
			return err
		}
		acc := m.GetAccount().GetAccount()
		if acc == nil || solana.Pubkey(acc.Owner) != tokenProgram || len(acc.Data) != 165 {
			return nil
		}
		v, err := tokenIDL.DecodeAccountAs("Account", acc.Data)
		if err != nil {
			return err
		}
		key := solana.Pubkey(acc.Pubkey).String()
		out[key] = append(out[key], tokenObservation{seq: u.Seq, slot: u.Slot, amount: fmt.Sprint(v["amount"])})
		return nil
	}))
	return out
}

// busiest returns the account updated in the most distinct slots.
func busiest(obs map[string][]tokenObservation) string {
	var best string
	bestN := 0
	for k, os := range obs {
		slots := map[uint64]bool{}
		for _, o := range os {
			slots[o.slot] = true
		}
		if len(slots) > bestN || (len(slots) == bestN && k < best) {
			best, bestN = k, len(slots)
		}
	}
	return best
}

func amountOf(t *testing.T, st *EntityState) string {
	t.Helper()
	tok, ok := st.State["token"].(map[string]any)
	require.True(t, ok, "state has a token section: %v", st.State)
	n, ok := tok["amount"].(json.Number)
	require.True(t, ok, "token.amount is a number: %v", tok["amount"])
	return n.String()
}

func TestEntityAtSlotsMatchesRawAccountData(t *testing.T) {
	a := demoArchive(t, 12, 80)
	spec, prog := demoStack(t)
	ctx := context.Background()
	obs := rawTokenAccounts(t, a)
	key := busiest(obs)
	os := obs[key]
	require.GreaterOrEqual(t, len(os), 3, "the busiest token account has several updates")
	stats, err := a.Stats()
	require.NoError(t, err)

	_, _ = replayBytes(t, a, Options{Spec: spec, Program: prog, WriteGolden: true})
	g, err := OpenGolden(a, spec.ContentHash())
	require.NoError(t, err)

	last := os[len(os)-1]
	slots := []uint64{os[0].slot, os[len(os)/2].slot, os[len(os)/2].slot + 1, last.slot, 0}
	if last.slot < stats.LastSlot {
		slots = append(slots, stats.LastSlot)
	}
	for _, at := range slots {
		// Independently: the amount of the last raw update at or before the slot.
		want := ""
		var wantSeqs []uint64
		for _, o := range os {
			if at == 0 || o.slot <= at {
				want = o.amount
				wantSeqs = append(wantSeqs, o.seq)
			}
		}
		covers, err := g.Covers(ctx, at, stats.Checkpoint.Seq)
		require.NoError(t, err)
		require.True(t, covers)
		opts := EntityOptions{Entity: "TokenAccount", Key: key, AtSlot: at, History: true}
		fast, err := EntityFromGolden(ctx, g, opts)
		require.NoError(t, err, "slot %d", at)
		require.True(t, fast.FromGolden)
		require.Equal(t, want, amountOf(t, fast), "amount at slot %d", at)
		require.Equal(t, `"`+key+`"`, string(fast.Key))
		require.NotEmpty(t, fast.History)
		for _, c := range fast.History {
			require.True(t, slices.Contains(wantSeqs, c.UpdateSeq), "history entry from update %d, not an update of the account", c.UpdateSeq)
			require.Equal(t, "TokenAccount", c.Entity)
			if at != 0 {
				require.LessOrEqual(t, c.Slot, at)
			}
		}
		require.Equal(t, fast.History[len(fast.History)-1].Slot, fast.LastSlot)

		slow, err := EntityByReplay(ctx, a, Options{Spec: spec, Program: prog}, opts)
		require.NoError(t, err, "slot %d", at)
		require.False(t, slow.FromGolden)
		require.Equal(t, fast.State, slow.State, "slot %d", at)
		require.Equal(t, fast.History, slow.History, "slot %d", at)
		require.Equal(t, fast.Mutations, slow.Mutations)
	}

	// Before its first update an account did not exist yet.
	var late string
	for k, o := range obs {
		if o[0].slot > stats.FirstSlot+1 && (late == "" || k < late) {
			late = k
		}
	}
	require.NotEmpty(t, late, "some token account appears after the first slot")
	opts := EntityOptions{Entity: "TokenAccount", Key: late, AtSlot: obs[late][0].slot - 1}
	_, err = EntityFromGolden(ctx, g, opts)
	require.ErrorIs(t, err, ErrNotYet)
	require.Contains(t, err.Error(), fmt.Sprintf("its first is at slot %d", obs[late][0].slot))
	opts.AtSlot = obs[late][0].slot
	st, err := EntityFromGolden(ctx, g, opts)
	require.NoError(t, err)
	want := ""
	for _, o := range obs[late] {
		if o.slot == opts.AtSlot {
			want = o.amount
		}
	}
	require.Equal(t, want, amountOf(t, st))
}

func TestEntityUnknownListsWhatExists(t *testing.T) {
	a := demoArchive(t, 13, 20)
	spec, prog := demoStack(t)
	ctx := context.Background()
	_, _ = replayBytes(t, a, Options{Spec: spec, Program: prog, WriteGolden: true})
	g, err := OpenGolden(a, spec.ContentHash())
	require.NoError(t, err)
	obs := rawTokenAccounts(t, a)

	for name, get := range map[string]func(EntityOptions) (*EntityState, error){
		"golden": func(o EntityOptions) (*EntityState, error) { return EntityFromGolden(ctx, g, o) },
		"replay": func(o EntityOptions) (*EntityState, error) {
			return EntityByReplay(ctx, a, Options{Spec: spec, Program: prog}, o)
		},
	} {
		_, err := get(EntityOptions{Entity: "Nope", Key: "x"})
		require.ErrorIs(t, err, ErrUnknownEntity, name)
		require.Contains(t, err.Error(), "Mint, TokenAccount", name)

		_, err = get(EntityOptions{Entity: "TokenAccount", Key: "NoSuchAccount"})
		require.ErrorIs(t, err, ErrUnknownEntity, name)
		listed := 0
		for k := range obs {
			if strings.Contains(err.Error(), `"`+k+`"`) {
				listed++
			}
		}
		require.NotZero(t, listed, "%s: the error lists existing keys: %v", name, err)
	}
}

func TestGoldenOfASlotRangeDoesNotAnswerEntities(t *testing.T) {
	a := demoArchive(t, 14, 80)
	spec, prog := demoStack(t)
	st, err := a.Stats()
	require.NoError(t, err)
	_, _ = replayBytes(t, a, Options{Spec: spec, Program: prog, WriteGolden: true, FromSlot: st.FirstSlot + 5})
	g, err := OpenGolden(a, spec.ContentHash())
	require.NoError(t, err)
	ok, err := g.Covers(context.Background(), 0, st.Checkpoint.Seq)
	require.NoError(t, err)
	require.False(t, ok, "a golden that did not start at the beginning has a different VM state")

	_, _ = replayBytes(t, a, Options{Spec: spec, Program: prog, WriteGolden: true, ToSlot: st.FirstSlot + 5})
	g, err = OpenGolden(a, spec.ContentHash())
	require.NoError(t, err)
	ok, err = g.Covers(context.Background(), st.FirstSlot+3, st.Checkpoint.Seq)
	require.NoError(t, err)
	require.False(t, ok, "a golden of a slot range skipped the other slots' updates interleaved with it")

	// A live golden that stopped early covers the slots whose updates it saw.
	_, full := replayBytes(t, a, Options{Spec: spec, Program: prog, ToSeq: st.Checkpoint.Seq / 2, WriteGolden: true})
	g, err = OpenGolden(a, spec.ContentHash())
	require.NoError(t, err)
	require.Equal(t, full.LastSeq, g.Info.LastSeq)
	ok, err = g.Covers(context.Background(), st.FirstSlot+1, st.Checkpoint.Seq)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = g.Covers(context.Background(), 0, st.Checkpoint.Seq)
	require.NoError(t, err)
	require.False(t, ok)
}
