package vm

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// Anchor events reach <program>::<Event>CpiEvent handlers from self-CPI instructions and from the
// `Program data:` log events of an instruction (testdata/bumper.stack.json).
func TestAnchorEventsFromSelfCPIAndLogs(t *testing.T) {
	p := loadTestSpec(t, "bumper.stack.json")
	m, err := NewMachine(p, nil)
	require.NoError(t, err)
	prog := p.Programs[0]
	auth := pk("bumper")
	payload := func(amount uint64) []byte {
		b, err := prog.IDL.EncodeEvent("Bumped", map[string]any{"authority": auth.String(), "amount": amount})
		require.NoError(t, err)
		return b
	}
	bump, err := prog.IDL.EncodeInstruction("bump", map[string]any{"amount": uint64(1)})
	require.NoError(t, err)

	// A self-CPI: the inner instruction's data is the event tag, the discriminator and the payload.
	cpi := append(append([]byte{}, idl.EventIxTag[:]...), payload(5)...)
	muts, err := m.Process(&event.Event{Kind: event.KindInstruction, Slot: 9, Instruction: &event.Instruction{
		Signature: sig("tx"), Slot: 9, Path: []int{0, 1}, ProgramID: prog.ID, Data: cpi, CPIEvent: true,
	}})
	require.NoError(t, err)
	require.Len(t, muts, 1)
	require.Equal(t, "bumper::BumpedCpiEvent", muts[0].Handler)
	require.Equal(t, []string{"stats.history"}, muts[0].Append)
	require.Equal(t, `{"id":{"authority":"`+auth.String()+`"},"stats":{"events":1,"history":[{"data":{"amount":5},"signature":"`+sig("tx").String()+`","slot":9,"timestamp":null}],"max":5,"total":5}}`, string(muts[0].Patch))

	// Two events logged by one instruction: both count (their positions differ).
	muts, err = m.Process(&event.Event{Kind: event.KindInstruction, Slot: 10, Instruction: &event.Instruction{
		Signature: sig("tx2"), Slot: 10, Path: []int{0}, ProgramID: prog.ID, Accounts: []solana.Pubkey{auth}, Data: bump,
		LogEvents: []event.LogEvent{{Data: payload(7)}, {Data: payload(2)}},
	}})
	require.NoError(t, err)
	require.Len(t, muts, 2)
	require.Equal(t, `{"stats":{"events":3,"history":[{"data":{"amount":2},"signature":"`+sig("tx2").String()+`","slot":10,"timestamp":null}],"total":14}}`, string(muts[1].Patch))
	require.Equal(t, uint64(1), m.Stats().Unrouted, "the bump instruction itself has no handler")
}
