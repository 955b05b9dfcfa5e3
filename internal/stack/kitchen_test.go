package stack

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// testdata/kitchen-sink.stack.json uses every variant and optional field of the schema, written
// independently of this package in schema key order; decoding and re-encoding it must reproduce it.
func TestKitchenSinkRoundTrip(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/kitchen-sink.stack.json")
	require.NoError(t, err)
	s, err := Parse(data)
	require.NoError(t, err)
	require.Equal(t, string(data), string(s.MarshalPretty()))

	a, _, ok := s.Entity("Alpha")
	require.True(t, ok)
	require.Len(t, a.Handlers, 6)
	h := a.Handlers[0]
	ser := SerializationBytemuck
	require.Equal(t, SourceSpec{ProgramID: a.ProgramID, Discriminator: []byte{1, 2, 3, 4, 5, 6, 7, 8},
		TypeName: "alpha::ThingState", Serialization: &ser, IsAccount: true}, h.Source)
	require.Equal(t, &KeyEmbedded{PrimaryField: FieldPath{Segments: []string{"key"}, Offsets: []int{0, 4}}}, h.KeyResolution)
	require.Equal(t, &WholeSource{}, h.Mappings[5].Source)
	require.Equal(t, Merge, h.Mappings[5].Population)
	require.Equal(t, TransformToNumber, h.Mappings[2].Transform)
	require.Equal(t, "0", h.Mappings[2].Source.(*FromSource).Default.String())
	require.Equal(t, &Constant{Value: MustValue(`"on"`)}, h.Mappings[8].Source)
	require.False(t, h.Mappings[8].Emit)
	require.Equal(t, []*Condition{
		{Field: Path("x"), Operator: CondExists, Value: Null},
		{Field: Path("x"), Operator: CondContains, Value: MustValue(`[1,"a"]`)},
	}, h.Conditions)

	ix := a.Handlers[1]
	require.Equal(t, []PopulationStrategy{Count, Sum, UniqueCount, Append, LastWrite, LastWrite, LastWrite},
		populations(ix))
	logical := ix.Mappings[1].Condition.Parsed.(*Logical)
	require.Equal(t, LogicalAnd, logical.Op)
	require.Equal(t, &Comparison{Field: Path("data", "amount"), Op: OpLessThanOrEqual, Value: MustValue("1000")},
		logical.Conditions[1])
	require.Equal(t, &AsEvent{Fields: []MappingSource{
		&FromSource{Path: Path("data", "amount")}, &FromSource{Path: Path("accounts", "user")},
	}}, ix.Mappings[3].Source)
	require.Equal(t, &FromContext{Field: "slot"}, ix.Mappings[4].Source)
	require.Equal(t, "alpha::OtherIxState", *ix.Mappings[4].When)
	require.Equal(t, "alpha::StopIxState", *ix.Mappings[4].Stop)
	require.Equal(t, &ComputedSource{Inputs: []FieldPath{Path("a"), Path("b")}, Function: &ComputeSum{}}, ix.Mappings[5].Source)
	require.Equal(t, &FromState{Path: "state.x"}, ix.Mappings[6].Source)

	require.Equal(t, &KeyComputed{PrimaryField: Path("data", "key"), ComputePartition: &ComputeFormat{Format: "{}-x"}},
		a.Handlers[2].KeyResolution)
	require.False(t, a.Handlers[2].Emit)
	require.Equal(t, &KeyTemporalLookup{LookupField: Path("data", "slot"), TimestampField: Path("data", "ts"),
		IndexName: "slot_temporal_index"}, a.Handlers[3].KeyResolution)
	require.Equal(t, &ComputeCustom{Name: "shard"}, a.Handlers[4].KeyResolution.(*KeyComputed).ComputePartition)
	require.Equal(t, &ComputeConcat{}, a.Handlers[5].KeyResolution.(*KeyComputed).ComputePartition)

	require.Equal(t, &DirectField{FieldPath: Path("owner")}, a.ResolverHooks[1].Strategy)
	require.Equal(t, [][]byte{{1, 2}, {}}, a.ResolverHooks[0].Strategy.(*PdaReverseLookup).QueueDiscriminators)
	acts := a.InstructionHooks[0].Actions
	require.Equal(t, int64(-9223372036854775808), acts[2].(*IncrementFieldAction).IncrementBy)
	require.Nil(t, acts[3].(*IncrementFieldAction).Condition.Parsed)
	require.Nil(t, a.InstructionHooks[0].LookupBy)

	rs := a.ResolverSpecs
	require.Equal(t, "id.key", *rs[0].InputPath)
	require.Equal(t, ResolveLastWrite, rs[0].Strategy)
	require.Equal(t, TransformToString, rs[0].Extracts[1].Transform)
	u := rs[1].Resolver.(*URLResolver)
	require.Equal(t, &URLFromField{Path: "state.url"}, u.URLSource)
	require.Equal(t, MethodPost, u.Method)
	require.Equal(t, `{"k":[1,2]}`, rs[1].InputValue.String())
	require.Nil(t, rs[2].Resolver.(*URLResolver).ExtractPath)

	require.Len(t, a.ComputedFieldSpecs, 11)
	require.Equal(t, &ExprLiteral{Value: MustValue(`{"nested":[null,true,"s",-1.25]}`)}, a.ComputedFieldSpecs[9].Expression)
	require.Equal(t, &ExprIndex{Expr: &ExprByteArray{Bytes: []byte{1, 2, 255}}, Index: 2}, a.ComputedFieldSpecs[5].Expression)

	require.Len(t, a.Views, 3)
	f := a.Views[0].Pipeline[0].(*ViewFilter).Predicate.(*PredAnd)
	require.Len(t, f.Predicates, 6)
	require.Equal(t, &PredNot{Predicate: &PredExists{Field: Path("state", "hex")}}, f.Predicates[2])
	require.Equal(t, &ViewFromView{ID: "Alpha/filtered"}, a.Views[1].Source)
	require.Equal(t, &OutputSingle{}, a.Views[1].Output)
	require.Equal(t, &OutputKeyed{KeyField: Path("id", "key")}, a.Views[2].Output)
	require.Equal(t, []ViewTransform{&ViewLast{}, &ViewMaxBy{Key: Path("x")}, &ViewMinBy{Key: Path("y")}}, a.Views[2].Pipeline)

	b, _, _ := s.Entity("Beta")
	require.Nil(t, b.ProgramID)
	require.NotNil(t, b.IDL)

	thing := s.PDAs["alpha"]["thing"]
	u64 := "u64"
	require.Equal(t, []PDASeed{&SeedLiteral{Value: "seed"}, &SeedBytes{Value: []byte{0, 255}},
		&SeedArgRef{ArgName: "id", ArgType: &u64}, &SeedArgRef{ArgName: "other"}, &SeedAccountRef{AccountName: "owner"}}, thing.Seeds)
	require.Empty(t, s.PDAs["beta"])
	d := s.Instructions[0]
	var cats []string
	for _, acc := range d.Accounts {
		cats = append(cats, acc.Resolution.Variant())
	}
	require.Equal(t, []string{"signer", "known", "pdaRef", "pdaInline", "pdaInline", "userProvided"}, cats)
	require.Equal(t, uint32(4294967295), d.Errors[1].Code)
	require.Nil(t, d.Errors[1].Msg)
}

func populations(h *Handler) []PopulationStrategy {
	var out []PopulationStrategy
	for _, m := range h.Mappings {
		out = append(out, m.Population)
	}
	return out
}
