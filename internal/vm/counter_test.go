package vm

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
	"github.com/hyperstack-go/hyperstack/internal/stack"
)

// counterWorld drives the hand-written counter stack (testdata/counter.stack.json).
type counterWorld struct {
	t   *testing.T
	p   *Program
	m   *Machine
	idl *idl.IDL
	id  solana.Pubkey
	wv  uint64
}

func newCounterWorld(t *testing.T, cfg *Config) *counterWorld {
	p := loadTestSpec(t, "counter.stack.json")
	m, err := NewMachine(p, cfg)
	require.NoError(t, err)
	return &counterWorld{t: t, p: p, m: m, idl: p.Programs[0].IDL, id: p.Programs[0].ID}
}

func (w *counterWorld) counter(addr, authority solana.Pubkey, slot, count uint64, label string) ([]event.Mutation, error) {
	data, err := w.idl.EncodeAccount("Counter", map[string]any{
		"authority": authority.String(), "count": count, "label": label, "tag": []any{uint64(0xde), uint64(0xad), uint64(0xbe), uint64(0xef)},
	})
	require.NoError(w.t, err)
	w.wv++
	return w.m.Process(&event.Event{Kind: event.KindAccount, Slot: slot, Account: &event.Account{
		Pubkey: addr, Owner: w.id, Data: data, Slot: slot, WriteVersion: w.wv,
	}})
}

func (w *counterWorld) increment(counter solana.Pubkey, slot, txnIndex, amount uint64, note string, path ...int) ([]event.Mutation, error) {
	data, err := w.idl.EncodeInstruction("increment", map[string]any{"amount": amount, "note": note})
	require.NoError(w.t, err)
	if path == nil {
		path = []int{0}
	}
	return w.m.Process(&event.Event{Kind: event.KindInstruction, Slot: slot, Instruction: &event.Instruction{
		Signature: sig("inc"), Slot: slot, TxnIndex: txnIndex, Path: path, ProgramID: w.id,
		Accounts: []solana.Pubkey{counter, pk("signer")}, Data: data,
	}})
}

func patches(muts []event.Mutation) []string {
	out := make([]string, len(muts))
	for i, m := range muts {
		out[i] = string(m.Patch)
	}
	return out
}

func TestCounterAggregations(t *testing.T) {
	w := newCounterWorld(t, nil)
	addr, auth := pk("counter-a"), pk("authority-a")
	authKey, _ := json.Marshal(auth.String())

	// An increment before its counter is known waits in the queue.
	muts, err := w.increment(addr, 5, 1, 50, "early")
	require.NoError(t, err)
	require.Empty(t, muts)
	require.Equal(t, 1, w.m.Stats().PendingNow)

	// The counter account indexes its address; the queued increment replays after it.
	muts, err = w.counter(addr, auth, 6, 3, "first")
	require.NoError(t, err)
	require.Len(t, muts, 2)
	require.Equal(t, "Counter", muts[0].Export)
	require.Equal(t, string(authKey), string(muts[0].Key))
	require.Equal(t, "counter::CounterState", muts[0].Handler)
	require.Equal(t, `{"id":{"address":"`+addr.String()+`","authority":"`+auth.String()+`"},"meta":{"label":"first","tag_hex":"deadbeef"},"stats":{"count":3,"double_total":0,"max_count":3,"was_reset":false}}`, string(muts[0].Patch))
	require.Equal(t, "counter::IncrementIxState", muts[1].Handler)
	require.Equal(t, uint64(5), muts[1].Slot, "a replayed update keeps its own slot")
	require.Equal(t, `{"stats":{"amounts":[50],"double_total":100,"increments":1,"last_note":"early","last_slot":5,"min_amount":50,"total":50,"unique_amounts":1}}`, string(muts[1].Patch))
	require.Equal(t, []string{"stats.amounts"}, muts[1].Append)
	require.Equal(t, muts[0].Seq+1, muts[1].Seq)
	require.Equal(t, 0, w.m.Stats().PendingNow)

	// More increments: Count, Sum, Min, Append (only new items), UniqueCount, a conditional Count.
	muts, err = w.increment(addr, 7, 1, 150, "big")
	require.NoError(t, err)
	require.Equal(t, []string{`{"stats":{"amounts":[150],"big_increments":1,"double_total":400,"increments":2,"last_note":"big","last_slot":7,"total":200,"unique_amounts":2}}`}, patches(muts))
	muts, err = w.increment(addr, 7, 1, 50, "again", 1) // same transaction, next instruction: counted
	require.NoError(t, err)
	require.Equal(t, []string{`{"stats":{"amounts":[50],"double_total":500,"increments":3,"last_note":"again","last_slot":7,"total":250}}`}, patches(muts))
	muts, err = w.increment(addr, 7, 1, 50, "again", 1) // the same instruction delivered twice: dropped
	require.NoError(t, err)
	require.Empty(t, muts)
	require.Equal(t, uint64(1), w.m.Stats().Stale)

	// A smaller count keeps max_count; SetOnce keeps the first label; the hidden raw count is stored
	// but never emitted; LastWrite fields appear in every patch.
	muts, err = w.counter(addr, auth, 8, 2, "second")
	require.NoError(t, err)
	require.Equal(t, []string{`{"meta":{"tag_hex":"deadbeef"},"stats":{"count":2}}`}, patches(muts))

	// An older write of the same account is stale.
	muts, err = w.counter(addr, auth, 7, 9, "old")
	require.NoError(t, err)
	require.Empty(t, muts)
}

func TestCounterResetHookAndSkippedComputedFields(t *testing.T) {
	w := newCounterWorld(t, nil)
	addr, auth := pk("counter-b"), pk("authority-b")
	_, err := w.counter(addr, auth, 2, 1, "b")
	require.NoError(t, err)

	data, err := w.idl.EncodeInstruction("reset", nil)
	require.NoError(t, err)
	muts, err := w.m.Process(&event.Event{Kind: event.KindInstruction, Slot: 3, Instruction: &event.Instruction{
		Signature: sig("reset"), Slot: 3, Path: []int{0}, ProgramID: w.id, Accounts: []solana.Pubkey{addr, auth}, Data: data,
	}})
	require.NoError(t, err)
	require.Empty(t, muts, "hook-only handlers store without emitting")
	stored, ok := w.m.tables[0].rows.Peek(makeKey(auth.String()))
	require.True(t, ok, "the hook's row is keyed by its lookup_by value")
	st := plainRow(stored)
	require.Equal(t, true, st["stats"].(map[string]any)["reset"])

	// The hook ran no computed fields; the next run evaluates the one that reads what it wrote, and
	// skips the one whose inputs did not change.
	muts, err = w.increment(addr, 4, 0, 0, "z")
	require.NoError(t, err)
	require.Equal(t, []string{`{"stats":{"amounts":[0],"increments":1,"last_note":"z","last_slot":4,"min_amount":0,"total":0,"unique_amounts":1,"was_reset":true}}`}, patches(muts))
}

func TestUndecodableAndForeignEventsAreCountedAndSkipped(t *testing.T) {
	w := newCounterWorld(t, nil)
	cases := []*event.Event{
		{Kind: event.KindAccount, Slot: 1, Account: &event.Account{Pubkey: pk("x"), Owner: w.id, Data: []byte{1, 2, 3}}},
		{Kind: event.KindAccount, Slot: 1, Account: &event.Account{Pubkey: pk("x"), Owner: w.id, Data: []byte{9, 0, 0, 0, 0, 0, 0, 0, 1}}},
		{Kind: event.KindAccount, Slot: 1, Account: &event.Account{Pubkey: pk("x"), Owner: w.id, Data: []byte{1, 0, 0, 0, 0, 0, 0, 0, 1}}},
		{Kind: event.KindInstruction, Slot: 1, Instruction: &event.Instruction{ProgramID: w.id, Data: []byte{77}}},
		{Kind: event.KindInstruction, Slot: 1, Instruction: &event.Instruction{ProgramID: w.id, Data: nil}},
		{Kind: event.KindAccount, Slot: 1},
		{Kind: event.KindInvalid, Slot: 1},
	}
	for i, ev := range cases {
		muts, err := w.m.Process(ev)
		require.NoError(t, err, "case %d", i)
		require.Empty(t, muts, "case %d", i)
	}
	require.Equal(t, uint64(len(cases)), w.m.Stats().Undecodable)

	// A program outside the stack, and a failed transaction's instruction.
	_, err := w.m.Process(&event.Event{Kind: event.KindAccount, Account: &event.Account{Owner: pk("other"), Data: []byte{1}}})
	require.NoError(t, err)
	require.Equal(t, uint64(1), w.m.Stats().Unrouted)
	data, _ := w.idl.EncodeInstruction("increment", map[string]any{"amount": uint64(1), "note": ""})
	_, err = w.m.Process(&event.Event{Kind: event.KindInstruction, Instruction: &event.Instruction{ProgramID: w.id, Data: data, Failed: true}})
	require.NoError(t, err)
	require.Equal(t, uint64(1), w.m.Stats().Failed)
}

func TestPanicBecomesRuntimeError(t *testing.T) {
	w := newCounterWorld(t, nil)
	// Corrupt a copy of the program: the CounterState handler loads a constant that does not exist.
	p := *w.p
	p.Code = append([]Instr(nil), w.p.Code...)
	h := handlerByType(t, &p, "Counter", "counter::CounterState", HandlerMapping)
	bad := h.Start + 8 // after the key and the first writes
	p.Code[bad] = Instr{Op: OpLoadConst, A: rVal, B: 9999}
	m, err := NewMachine(&p, nil)
	require.NoError(t, err)
	w.m = m

	addr, auth := pk("counter-p"), pk("authority-p")
	muts, err := w.counter(addr, auth, 10, 1, "x")
	require.Empty(t, muts)
	var re *RuntimeError
	require.True(t, errors.As(err, &re), "got %v", err)
	require.Equal(t, "Counter", re.Entity)
	require.Equal(t, "counter::CounterState", re.Handler)
	require.Equal(t, bad, re.PC)
	require.Equal(t, OpLoadConst, re.Op)
	require.Equal(t, uint64(10), re.Slot)
	require.Equal(t, "entities[0].handlers[0].mappings[0]", re.Loc)
	require.ErrorIs(t, err, ErrPanic)
	require.Equal(t, uint64(1), m.Stats().HandlerErrors)
	_, stored := m.tables[0].rows.Peek(makeKey(auth.String()))
	require.False(t, stored, "the failed run's new row is not stored")

	// The machine keeps working. The failed run's index update (made before the failure, like the
	// reference's) lets the increment find the key.
	muts, err = w.increment(addr, 11, 0, 5, "n")
	require.NoError(t, err)
	require.Equal(t, []string{`{"stats":{"amounts":[5],"double_total":10,"increments":1,"last_note":"n","last_slot":11,"min_amount":5,"total":5,"unique_amounts":1,"was_reset":false}}`}, patches(muts))
}

func TestRuntimeErrorRollsBackExistingRow(t *testing.T) {
	w := newCounterWorld(t, nil)
	addr, auth := pk("counter-r"), pk("authority-r")
	_, err := w.counter(addr, auth, 10, 1, "x")
	require.NoError(t, err)
	// Sum of a string fails; the row keeps its previous values.
	h := handlerByType(t, w.p, "Counter", "counter::IncrementIxState", HandlerMapping)
	row, _ := w.m.tables[0].rows.Peek(makeKey(auth.String()))
	before, _ := json.Marshal(plainRow(row))
	p := *w.p
	p.Code = append([]Instr(nil), w.p.Code...)
	p.Consts = append(append([]any(nil), w.p.Consts...), "not a number")
	// mapping 1 (Sum): replace its load with a string constant.
	p.Code[h.Start+7] = Instr{Op: OpLoadConst, A: rVal, B: uint32(len(p.Consts) - 1)}
	w.m.p = &p
	muts, err := w.increment(addr, 11, 0, 5, "n")
	require.Empty(t, muts)
	require.ErrorIs(t, err, ErrNotNumber)
	var re *RuntimeError
	require.True(t, errors.As(err, &re))
	require.Equal(t, OpSetSum, re.Op)
	after, _ := json.Marshal(plainRow(row))
	require.JSONEq(t, string(before), string(after), "the increment's count was rolled back")
}

// compileTree compiles an edited counter spec.
func compileTree(t *testing.T, tree map[string]any) *Program {
	t.Helper()
	data, err := json.Marshal(tree)
	require.NoError(t, err)
	spec, err := stack.Decode(data)
	require.NoError(t, err)
	p, err := Compile(spec)
	require.NoError(t, err)
	return p
}

func TestLogicalConditions(t *testing.T) {
	tree := counterSpecJSON(t)
	m := at(tree, "entities", 0, "handlers", 1, "mappings", 5).(map[string]any)
	cmp := func(op string, v float64) map[string]any {
		return map[string]any{"Comparison": map[string]any{
			"field": map[string]any{"segments": []any{"data", "amount"}, "offsets": nil}, "op": op, "value": v}}
	}
	m["condition"] = map[string]any{"expression": "100 < amount < 1000", "parsed": map[string]any{
		"Logical": map[string]any{"op": "And", "conditions": []any{cmp("GreaterThan", 100), cmp("LessThan", 1000)}}}}
	p := compileTree(t, tree)
	require.Empty(t, p.Warnings)
	h := handlerByType(t, p, "Counter", "counter::IncrementIxState", HandlerMapping)
	require.Contains(t, p.DisassembleHandler(h), "IncrementIf     stats.big_increments if (event.data.amount GreaterThan 100 And event.data.amount LessThan 1000)")

	w := newCounterWorld(t, nil)
	mach, err := NewMachine(p, nil)
	require.NoError(t, err)
	w.m = mach
	addr, auth := pk("counter-l"), pk("authority-l")
	_, err = w.counter(addr, auth, 1, 0, "l")
	require.NoError(t, err)
	for i, amount := range []uint64{150, 5000, 50, 999} {
		_, err := w.increment(addr, 2, uint64(i), amount, "")
		require.NoError(t, err)
	}
	row, _ := mach.tables[0].rows.Peek(makeKey(auth.String()))
	require.Equal(t, uint64(2), plainRow(row)["stats"].(map[string]any)["big_increments"])
}

func TestCaptureTransformsCopyTheEvent(t *testing.T) {
	tree := counterSpecJSON(t)
	h := at(tree, "entities", 0, "handlers", 0).(map[string]any)
	capture := map[string]any{"target_path": "snapshot", "source": map[string]any{"AsCapture": map[string]any{
		"field_transforms": map[string]any{"tag": "HexEncode", "authority": "Base58Encode"}}}, "transform": nil, "population": "LastWrite"}
	raw := map[string]any{"target_path": "meta.tag_raw", "source": map[string]any{"FromSource": map[string]any{
		"path": map[string]any{"segments": []any{"tag"}, "offsets": nil}, "default": nil, "transform": nil}}, "transform": nil, "population": "LastWrite"}
	h["mappings"] = append([]any{capture, raw}, h["mappings"].([]any)...)
	p := compileTree(t, tree)
	w := newCounterWorld(t, nil)
	m, err := NewMachine(p, nil)
	require.NoError(t, err)
	w.m = m
	addr, auth := pk("counter-c"), pk("authority-c")
	muts, err := w.counter(addr, auth, 5, 1, "c")
	require.NoError(t, err)
	require.Len(t, muts, 1)
	var patch map[string]any
	require.NoError(t, json.Unmarshal(muts[0].Patch, &patch))
	snap := patch["snapshot"].(map[string]any)
	require.Equal(t, "deadbeef", snap["data"].(map[string]any)["tag"], "the capture holds the transformed tag")
	require.Equal(t, auth.String(), snap["data"].(map[string]any)["authority"])
	require.Equal(t, addr.String(), snap["account_address"])
	require.Equal(t, []any{222.0, 173.0, 190.0, 239.0}, patch["meta"].(map[string]any)["tag_raw"], "the event itself is unchanged")
}
