package stack

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/hyperstack-go/hyperstack/fixtures/fixturestest"

	"github.com/stretchr/testify/require"
)

const (
	oreProgram     = "oreV3EG1i9BEgiAJ8b177Z2S2rMarzak4NMv1kULvWv"
	entropyProgram = "3jSkUuYBoJzQPMEzTvkDFXCZUBksPamrVhrnHR9igu2X"
	oreStackHash   = "cf16b922b3262c7706145462c65f184bbcce00b7e5b433d72c2b0ebecabefe15"
)

var moduleRoot = fixturestest.ModuleRoot

var sharedFixture = fixturestest.Shared

func loadORE(t testing.TB) (*Spec, []byte) {
	t.Helper()
	p := sharedFixture(t, "hyperstack/OreStream.stack.json")
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	s, err := Parse(data)
	require.NoError(t, err)
	return s, data
}

func TestLoadORE(t *testing.T) {
	t.Parallel()
	s, err := Load(sharedFixture(t, "hyperstack/OreStream.stack.json"))
	require.NoError(t, err)

	require.Equal(t, "0.0.1", s.ASTVersion)
	require.Equal(t, "OreStream", s.StackName)
	require.Equal(t, []string{oreProgram, entropyProgram}, s.ProgramIDs)
	require.Equal(t, []string{"OreRound", "OreTreasury", "OreMiner"}, s.EntityNames())
	require.Len(t, s.Instructions, 24)
	require.Equal(t, []string{"entropy", "ore"}, sortedKeys(s.PDAs))
	require.Empty(t, s.PDAs["ore"])

	refs := s.IDLRefs()
	require.Len(t, refs, 2)
	require.Equal(t, IDLRef{Name: "ore", ProgramID: oreProgram, Raw: s.IDLs()[0]}, refs[0])
	require.Equal(t, "entropy", refs[1].Name)
	require.Equal(t, entropyProgram, refs[1].ProgramID)
	var ore struct {
		Version          string            `json:"version"`
		Accounts         []json.RawMessage `json:"accounts"`
		Instructions     []json.RawMessage `json:"instructions"`
		Types            []json.RawMessage `json:"types"`
		Events           []json.RawMessage `json:"events"`
		DiscriminantSize int               `json:"discriminant_size"`
	}
	require.NoError(t, json.Unmarshal(refs[0].Raw, &ore))
	require.Equal(t, "3.7.22", ore.Version)
	require.Len(t, ore.Accounts, 7)
	require.Len(t, ore.Instructions, 19)
	require.Len(t, ore.Types, 12)
	require.Len(t, ore.Events, 4)
	require.Equal(t, 1, ore.DiscriminantSize)

	round, idx, ok := s.Entity("OreRound")
	require.True(t, ok)
	require.Equal(t, 0, idx)
	require.Equal(t, "id.round_id", round.PrimaryKey())
	require.Len(t, round.Handlers, 5)
	require.Len(t, round.ComputedFields, 14)
	require.Len(t, round.ComputedFieldSpecs, 14)
	require.Equal(t, []string{"id.round_address", "state.expires_at", "treasury.__motherlode_raw", "entropy.entropy_value"},
		lookupFields(round))
	require.Equal(t, "round_address_lookup_index", LookupIndexName(round.Identity.LookupIndexes[0].FieldName))
	require.Len(t, round.Views, 1)
	view := round.Views[0]
	require.Equal(t, "OreRound/latest", view.ID)
	require.Equal(t, &ViewFromEntity{Name: "OreRound"}, view.Source)
	require.Equal(t, []ViewTransform{&ViewSort{Key: Path("id", "round_id"), Order: Desc}}, view.Pipeline)
	require.Equal(t, &OutputCollection{}, view.Output)

	treasury, _, _ := s.Entity("OreTreasury")
	require.Len(t, treasury.Handlers, 1)
	require.Len(t, treasury.ComputedFieldSpecs, 4)
	require.Equal(t, "id.address", treasury.PrimaryKey())
	miner, _, _ := s.Entity("OreMiner")
	require.Len(t, miner.Handlers, 2)
	require.Equal(t, []string{"id.authority", "id.authority"}, miner.Identity.PrimaryKeys)
	require.Empty(t, miner.ComputedFieldSpecs)

	views := s.Views()
	require.Len(t, views, 1)
	require.Equal(t, "OreRound/latest", views[0].View.ID)
}

func lookupFields(e *Entity) []string {
	var out []string
	for _, li := range e.Identity.LookupIndexes {
		out = append(out, li.FieldName)
	}
	return out
}

func TestOREHandlers(t *testing.T) {
	t.Parallel()
	s, _ := loadORE(t)
	round := s.Entities[0]

	var types []string
	for _, h := range round.Handlers {
		types = append(types, h.EventType())
	}
	require.Equal(t, []string{"entropy::VarState", "ore::RoundState", "ore::TreasuryState", "ore::CheckpointIxState",
		"ore::DeployIxState"}, types)

	// entropy::VarState: Lookup on the account address; the value mapping is gated by when + condition.
	v := round.Handlers[0]
	require.True(t, v.Source.IsAccount)
	require.Nil(t, v.Source.ProgramID)
	require.Nil(t, v.Source.Discriminator)
	require.Equal(t, &KeyLookup{PrimaryField: Path("__account_address")}, v.KeyResolution)
	require.Len(t, v.Mappings, 9)
	m := v.Mappings[1]
	require.Equal(t, "entropy.entropy_value", m.TargetPath)
	require.Equal(t, &FromSource{Path: Path("value"), Transform: TransformBase58Encode}, m.Source)
	require.Equal(t, LastWrite, m.Population)
	require.Equal(t, "entropy::RevealIxState", *m.When)
	require.Nil(t, m.Stop)
	require.True(t, m.Emit)
	require.Equal(t, "value != ZERO_32", m.Condition.Expression)
	cmp := m.Condition.Parsed.(*Comparison)
	require.Equal(t, Path("value"), cmp.Field)
	require.Equal(t, OpNotEqual, cmp.Op)
	require.Equal(t, "["+strings.Repeat("0,", 31)+"0]", cmp.Value.String())
	require.False(t, v.Mappings[2].Emit)
	require.Equal(t, SetOnce, v.Mappings[8].Population)

	// ore::TreasuryState: SetOnce with stop, not emitted.
	tm := round.Handlers[2].Mappings[0]
	require.Equal(t, "treasury.__motherlode_raw", tm.TargetPath)
	require.Equal(t, "ore::ResetIxState", *tm.Stop)
	require.False(t, tm.Emit)

	// Instruction handlers count their events.
	d := round.Handlers[4]
	require.False(t, d.Source.IsAccount)
	require.Equal(t, &KeyLookup{PrimaryField: Path("accounts", "round")}, d.KeyResolution)
	require.Equal(t, &FromSource{Path: Path("data")}, d.Mappings[0].Source)
	require.Equal(t, Count, d.Mappings[0].Population)

	// Hooks.
	require.Len(t, round.ResolverHooks, 2)
	require.Equal(t, &PdaReverseLookup{LookupName: "default_pda_lookup", QueueDiscriminators: [][]byte{{9}}},
		round.ResolverHooks[1].Strategy)
	require.Len(t, round.InstructionHooks, 2)
	reset := round.InstructionHooks[1]
	require.Equal(t, "ore::ResetIxState", reset.InstructionType)
	require.Equal(t, Path("accounts", "roundNext"), *reset.LookupBy)
	require.Len(t, reset.Actions, 4)
	require.Equal(t, &RegisterPdaMapping{PDAField: Path("accounts", "treasury"), SeedField: Path("accounts", "roundNext"),
		LookupName: "default_pda_lookup"}, reset.Actions[1])
	require.Equal(t, &SetFieldAction{TargetField: "__stop:treasury.__motherlode_raw", Source: &Constant{Value: MustValue("true")}},
		reset.Actions[3])

	// Resolver specs: a token resolver and a scheduled URL template.
	require.Len(t, round.ResolverSpecs, 2)
	tok := round.ResolverSpecs[0]
	require.Equal(t, &TokenResolver{}, tok.Resolver)
	require.Equal(t, `"oreoU2P8bN6jkk3jbaiVxYnG1dCXcYxwhwyK9jSybcp"`, tok.InputValue.String())
	require.Equal(t, ResolveSetOnce, tok.Strategy)
	require.Equal(t, []*ResolverExtract{{TargetPath: "ore_metadata"}}, tok.Extracts)
	url := round.ResolverSpecs[1]
	seed := "seed"
	require.Equal(t, &URLResolver{
		URLSource: &URLTemplate{Parts: []URLTemplatePart{
			{Text: "https://entropy-api.onrender.com/var/"},
			{IsFieldRef: true, Text: "entropy.entropy_var_address"},
			{Text: "/seed?samples="},
			{IsFieldRef: true, Text: "entropy.entropy_samples"},
		}},
		Method:      MethodGet,
		ExtractPath: &seed,
	}, url.Resolver)
	require.Equal(t, &ResolverCondition{FieldPath: "entropy.entropy_value", Op: OpEqual, Value: Null}, url.Condition)
	require.Equal(t, "state.expires_at", *url.ScheduleAt)

	// Computed fields: a ui_amount over a raw field and ORE's decimals.
	c := round.ComputedFieldSpecs[1]
	require.Equal(t, "state.motherlode", c.TargetPath)
	require.Equal(t, "Option < f64 >", c.ResultType)
	rc := c.Expression.(*ExprResolverComputed)
	require.Equal(t, "TokenMetadata", rc.Resolver)
	require.Equal(t, "ui_amount", rc.Method)
	require.Equal(t, []string{"state.__motherlode_raw", "ore_metadata.decimals"}, FieldRefs(c.Expression))
	require.Equal(t, "state", Section(c.TargetPath))
	require.Equal(t, "root", Section("ore_metadata"))

	// Miner keys carry a Base58Encode on the embedded key's source mapping.
	miner := s.Entities[2]
	require.Equal(t, &KeyEmbedded{PrimaryField: Path("authority")}, miner.Handlers[0].KeyResolution)
	capture := miner.Handlers[0].Mappings[len(miner.Handlers[0].Mappings)-1].Source.(*AsCapture)
	require.Equal(t, []FieldTransform{{"authority", TransformBase58Encode}, {"executor", TransformBase58Encode}},
		capture.SortedFieldTransforms())
}

func TestOREExpressions(t *testing.T) {
	t.Parallel()
	s, _ := loadORE(t)
	round := s.Entities[0]
	variants := map[string]bool{}
	for _, c := range round.ComputedFieldSpecs {
		Walk(c.Expression, func(e Expr) bool {
			variants[e.Variant()] = true
			return true
		})
	}
	// Every expression construct ORE uses decodes to its Go node.
	for _, v := range []string{"FieldRef", "Binary", "Cast", "MethodCall", "ResolverComputed", "Literal", "Paren", "Var",
		"Let", "If", "None", "Some", "Slice", "U64FromLeBytes", "Closure", "Unary", "JsonToBytes", "ContextSlot",
		"ContextTimestamp"} {
		require.True(t, variants[v], "ORE computed fields use %s", v)
	}
	byTarget := map[string]*ComputedFieldSpec{}
	for _, c := range round.ComputedFieldSpecs {
		byTarget[c.TargetPath] = c
	}
	ws := byTarget["results.winning_square"]
	require.Contains(t, FieldRefs(ws.Expression), "results.rng")
	dpu := byTarget["state.deployed_per_square_ui"].Expression
	var closure *ExprClosure
	Walk(dpu, func(e Expr) bool {
		if c, ok := e.(*ExprClosure); ok {
			closure = c
		}
		return true
	})
	require.NotNil(t, closure)
}

func TestORERouting(t *testing.T) {
	t.Parallel()
	s, _ := loadORE(t)
	refs := s.HandlersFor("ore::TreasuryState")
	require.Len(t, refs, 2)
	require.Equal(t, "OreRound", refs[0].Entity.StateName)
	require.Equal(t, "entities[0].handlers[2]", refs[0].Path())
	require.Equal(t, "OreTreasury", refs[1].Entity.StateName)
	require.Equal(t, 1, refs[1].EntityIndex)
	require.Empty(t, s.HandlersFor("entropy::RevealIxState"))
	require.Equal(t, []string{"entropy::VarState", "ore::AutomationState", "ore::CheckpointIxState", "ore::DeployIxState",
		"ore::MinerState", "ore::RoundState", "ore::TreasuryState"}, s.EventTypes())
	require.Equal(t, []string{"entropy::RevealIxState"}, s.WhenEvents())
	require.Len(t, s.Entities[0].HandlersFor("ore::RoundState"), 1)
}

func TestOREContentHashes(t *testing.T) {
	t.Parallel()
	s, _ := loadORE(t)
	require.Equal(t, oreStackHash, s.ContentHash())
	want := map[string]string{
		"OreRound":    "52412e4582f9e406083be7b4c60d42d729d1eb6fec65058e1d26d9f14632527a",
		"OreTreasury": "6c2f198fd874e0ee222ba766ff3f222f0a539a5bd2e4e612e5caf87987a67cd7",
		"OreMiner":    "92656d0e56356698ad917cf006cbc2ca7e4b25529b4fd36a9052a400d350a6c5",
	}
	for _, e := range s.Entities {
		require.Equal(t, want[e.StateName], e.ContentHash(), e.StateName)
		require.Equal(t, want[e.StateName], *e.StoredHash)
	}
	// Without stored hashes the computed ones are still the same.
	s.StoredHash = nil
	for _, e := range s.Entities {
		e.StoredHash = nil
	}
	s2, err := Parse(s.MarshalPretty())
	require.NoError(t, err)
	for i, e := range s2.Entities {
		require.Equal(t, s.Entities[i].ContentHash(), e.ContentHash())
	}
	require.NotEqual(t, oreStackHash, s2.ContentHash(), "the stack hash covers the entity hashes")
	s2.SetContentHashes()
	s3, err := Parse(s2.MarshalPretty())
	require.NoError(t, err)
	require.Equal(t, oreStackHash, s3.ContentHash())
}

func TestOREHashMismatch(t *testing.T) {
	t.Parallel()
	_, data := loadORE(t)

	// A change inside an entity breaks that entity's hash first.
	bad := bytes.Replace(data, []byte(`"target_path": "metrics.deploy_count"`), []byte(`"target_path": "metrics.deploys"`), 1)
	require.NotEqual(t, data, bad)
	_, err := Parse(bad)
	var se *SpecError
	require.ErrorAs(t, err, &se)
	require.Equal(t, "entities[0].content_hash", se.Path)
	var hm *HashMismatchError
	require.ErrorAs(t, err, &hm)
	require.Equal(t, "52412e4582f9e406083be7b4c60d42d729d1eb6fec65058e1d26d9f14632527a", hm.Stored)
	require.NotEqual(t, hm.Stored, hm.Computed)
	require.True(t, errors.Is(err, ErrHashMismatch))
	require.Equal(t, "entities[0].content_hash: content hash mismatch: stored "+hm.Stored+", computed "+hm.Computed, err.Error())

	// A change outside the entities breaks only the stack hash.
	bad = bytes.Replace(data, []byte(`"stack_name": "OreStream"`), []byte(`"stack_name": "OreStream2"`), 1)
	_, err = Parse(bad)
	require.ErrorAs(t, err, &hm)
	require.ErrorAs(t, err, &se)
	require.Equal(t, "content_hash", se.Path)
	require.Equal(t, oreStackHash, hm.Stored)

	// Decode accepts the file and reports the mismatch on demand.
	s, err := Decode(bad)
	require.NoError(t, err)
	require.ErrorIs(t, s.VerifyHashes(), ErrHashMismatch)
	require.Equal(t, hm.Computed, s.ContentHash())
}

func TestORERoundTrip(t *testing.T) {
	t.Parallel()
	s, data := loadORE(t)
	// The model holds everything: writing it back reproduces the file byte for byte.
	require.Equal(t, string(data), string(s.MarshalPretty()))
	compact, err := s.MarshalJSON()
	require.NoError(t, err)
	var want bytes.Buffer
	require.NoError(t, json.Compact(&want, data))
	require.Equal(t, want.String(), string(compact))
}

func TestMinimal(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/minimal.stack.json")
	require.NoError(t, err)
	s, err := Parse(data)
	require.NoError(t, err)
	require.Nil(t, s.StoredHash)
	require.Len(t, s.ContentHash(), 64)
	e := s.Entities[0]
	require.Equal(t, []byte{7}, e.Handlers[0].Source.Discriminator)
	require.Equal(t, "0", e.Handlers[0].Mappings[1].Source.(*FromSource).Default.String())
	require.Equal(t, "spl_token", s.IDLRefs()[0].Name)

	// Defaults the file leaves out are written back explicitly, so a second pass is stable.
	out := s.MarshalPretty()
	s2, err := Parse(out)
	require.NoError(t, err)
	require.Equal(t, string(out), string(s2.MarshalPretty()))
	require.Equal(t, s.ContentHash(), s2.ContentHash())
}
