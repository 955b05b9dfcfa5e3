package extract

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

const (
	dp4Bin       = "yellowstone/dp4-flat-index-tx.bin"
	dp4JSON      = "yellowstone/dp4-flat-index-tx.json"
	dp4BinSHA256 = "17e2eef07d68ec54a5c27f8210d5901072009701936b36fa69da9f80f143fabd"
	dp4Signature = "dP4TfbypYZoTkDLFAojCXQHmxyV6vQ3sgbHJtQhMHWpTAEpxGSTTAG63woEqxVvgq9QQLSFhRXpRwii2RkF6xnD"
)

// loadDP4 reads the real mainnet transaction fixture and wraps it in a SubscribeUpdate.
func loadDP4(t testing.TB) *geyserpb.SubscribeUpdate {
	t.Helper()
	raw, err := os.ReadFile(sharedFixture(t, dp4Bin))
	require.NoError(t, err)
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != dp4BinSHA256 {
		t.Fatalf("../shared/fixtures/%s changed: sha256 %x, want %s", dp4Bin, sum, dp4BinSHA256)
	}
	var tx geyserpb.SubscribeUpdateTransaction
	require.NoError(t, proto.Unmarshal(raw, &tx))
	return &geyserpb.SubscribeUpdate{UpdateOneof: &geyserpb.SubscribeUpdate_Transaction{Transaction: &tx}}
}

type dp4Instruction struct {
	IxIndex     []int    `json:"ix_index"`
	ProgramRaw  []int    `json:"program"`
	AccountsRaw [][]int  `json:"accounts"`
	DataRaw     []int    `json:"data"`
	Logs        []string `json:"log_messages"`
}

type dp4Twin struct {
	Instructions []dp4Instruction `json:"instructions"`
	Logs         []string         `json:"log_messages"`
}

func intsToBytes(t testing.TB, v []int) []byte {
	t.Helper()
	b := make([]byte, len(v))
	for i, x := range v {
		require.True(t, x >= 0 && x < 256, "byte value %d", x)
		b[i] = byte(x)
	}
	return b
}

func loadDP4Twin(t testing.TB) dp4Twin {
	t.Helper()
	raw, err := os.ReadFile(sharedFixture(t, dp4JSON))
	require.NoError(t, err)
	var twin dp4Twin
	require.NoError(t, json.Unmarshal(raw, &twin))
	return twin
}

func TestRealTransactionMatchesTwin(t *testing.T) {
	u := loadDP4(t)
	twin := loadDP4Twin(t)

	x := New(Config{})
	evs, err := x.Update(u, 7, nil)
	require.NoError(t, err)
	require.Len(t, twin.Instructions, 20)
	require.Len(t, evs, 20)

	sig, err := solana.ParseSignature(dp4Signature)
	require.NoError(t, err)
	top, inner := 0, 0
	for i, ev := range evs {
		require.Equal(t, event.KindInstruction, ev.Kind)
		require.Equal(t, uint64(420181274), ev.Slot)
		require.Equal(t, uint64(7), ev.Seq)
		require.Equal(t, uint32(i), ev.Index)
		in := ev.Instruction
		want := twin.Instructions[i]
		require.Equal(t, sig, in.Signature)
		require.Equal(t, uint64(159), in.TxnIndex)
		require.False(t, in.Failed)
		require.Len(t, in.Logs, 64)
		require.Equal(t, twin.Logs, in.Logs)

		// The twin lists top-level instructions as [i, 0] and inner ones as [i, j]; the top-level
		// entries are the ones whose stack height is 1.
		if in.StackHeight == 1 {
			top++
			require.Equal(t, []int{want.IxIndex[0]}, in.Path, "instruction %d", i)
			require.Equal(t, 0, want.IxIndex[1])
		} else {
			inner++
			require.Equal(t, want.IxIndex, in.Path, "instruction %d", i)
			require.GreaterOrEqual(t, in.StackHeight, uint32(2))
		}
		require.Equal(t, intsToBytes(t, want.ProgramRaw), in.ProgramID[:], "program of %v", in.Path)
		require.Len(t, in.Accounts, len(want.AccountsRaw), "accounts of %v", in.Path)
		for j, a := range want.AccountsRaw {
			require.Equal(t, intsToBytes(t, a), in.Accounts[j][:], "account %d of %v", j, in.Path)
		}
		require.Equal(t, intsToBytes(t, want.DataRaw), append([]byte{}, in.Data...), "data of %v", in.Path)
	}
	require.Equal(t, 3, top)
	require.Equal(t, 17, inner)

	// Anchor events: Jupiter's two self-CPI events and the router's, and the router's one
	// `Program data:` line (log line 57, logged by the top-level router instruction after its
	// Token CPI returned), which carries the same event as its self-CPI.
	var cpi [][]int
	var logEvents []string
	for _, ev := range evs {
		in := ev.Instruction
		if in.CPIEvent {
			cpi = append(cpi, in.Path)
			require.Equal(t, EventIxTag, string(in.Data[:8]))
		}
		for range in.LogEvents {
			logEvents = append(logEvents, fmt.Sprint(in.Path))
		}
	}
	require.Equal(t, [][]int{{2, 8}, {2, 13}, {2, 16}}, cpi)
	require.Equal(t, []string{"[2]"}, logEvents)
	router := evs[2].Instruction
	require.Equal(t, "RLAYHr9TRFcKB2ubYQhspcnXiaGpaVzNQvHytt47RZu", router.ProgramID.String())
	require.Equal(t, evs[19].Instruction.Data[8:], router.LogEvents[0].Data)
}
