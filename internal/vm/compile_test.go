package vm

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/stack"
)

func handlerByType(t *testing.T, p *Program, entity, eventType string, kind HandlerKind) *Handler {
	t.Helper()
	for _, h := range p.Handlers {
		if p.Entities[h.Entity].Name == entity && h.EventType == eventType && h.Kind == kind {
			return h
		}
	}
	t.Fatalf("no handler %s %s", entity, eventType)
	return nil
}

func TestCompileCounterBytecode(t *testing.T) {
	p := loadTestSpec(t, "counter.stack.json")
	require.Empty(t, p.Warnings)

	cases := []struct {
		name      string
		eventType string
		kind      HandlerKind
		want      string
	}{
		{
			name:      "embedded account handler",
			eventType: "counter::CounterState",
			want: `  handler counter::CounterState  [entities[0].handlers[0]]
    0000  LoadEvent       r2, event.authority
    0001  Copy            r0, r2
    0002  AbortIfNullKey  r0
    0003  ReadState       r0
    0004  LoadAddress     r6
    0005  UpdateIndex     address_lookup_index, r6 -> r0
    0006  UpdatePda       r6 -> r0
    0007  LoadEvent       r4, event.authority
    0008  SetOnce         id.authority, r4
    0009  LoadAddress     r4
    0010  SetOnce         id.address, r4
    0011  LoadEvent       r4, event.count
    0012  Set             stats.count, r4
    0013  LoadEvent       r4, event.count
    0014  SetMax          stats.max_count, r4
    0015  LoadEvent       r4, event.label
    0016  SetOnce         meta.label, r4
    0017  LoadEvent       r4, event.tag
    0018  Transform       r4, r4, HexEncode
    0019  Set             meta.tag_hex, r4
    0020  LoadEvent       r4, event.count
    0021  Set             meta.raw_count (hidden), r4
    0022  Computed        2 fields
    0023  WriteState      r0
    0024  Emit            r0
`,
		},
		{
			name:      "lookup instruction handler with every aggregation",
			eventType: "counter::IncrementIxState",
			want: `  handler counter::IncrementIxState  [entities[0].handlers[1]]
    0025  LoadIxAccount   r6, accounts[0] (counter)
    0026  CopyIfNull      r2, r6
    0027  LookupIndex     r0, *, r2
    0028  AbortIfNullKey  r0
    0029  ReadState       r0
    0030  LoadEvent       r4, event.data
    0031  Increment       stats.increments
    0032  LoadEvent       r4, event.data.amount
    0033  SetSum          stats.total, r4
    0034  LoadEvent       r4, event.data.amount
    0035  SetMin          stats.min_amount, r4
    0036  LoadEvent       r4, event.data.amount
    0037  Append          stats.amounts, r4
    0038  LoadEvent       r4, event.data.amount
    0039  UniqueCount     stats.unique_amounts, r4
    0040  LoadEvent       r4, event.data
    0041  IncrementIf     stats.big_increments if event.data.amount GreaterThan 100
    0042  LoadEvent       r4, event.data.note
    0043  Set             stats.last_note, r4
    0044  LoadContext     r4, slot
    0045  Set             stats.last_slot, r4
    0046  Computed        2 fields
    0047  WriteState      r0
    0048  Emit            r0
`,
		},
		{
			name:      "hook-only handler keyed by lookup_by",
			eventType: "counter::ResetIxState",
			kind:      HandlerHookOnly,
			want: `  hook handler counter::ResetIxState  [entities[0].instruction_hooks[0]]
    0049  LoadIxAccount   r2, accounts[1] (authority)
    0050  Transform       r0, r2, HexEncode
    0051  AbortIfNullKey  r0
    0052  ReadState       r0
    0053  LoadConst       r4, true
    0054  Set             stats.reset, r4
    0055  WriteState      r0
`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := handlerByType(t, p, "Counter", tc.eventType, tc.kind)
			require.Equal(t, tc.want, p.DisassembleHandler(h))
		})
	}
	// Every instruction knows where it came from.
	require.Len(t, p.Locs, len(p.Code))
	require.Equal(t, "entities[0].handlers[1].mappings[4]", p.Locs[39])
}

func TestCompileOreRoutingAndHooks(t *testing.T) {
	p := oreProgram(t)
	names := func(r *Route) []string {
		var out []string
		for _, h := range r.Handlers {
			out = append(out, p.Entities[h.Entity].Name)
		}
		return out
	}
	require.Equal(t, []string{"OreRound", "OreTreasury"}, names(p.Routes["ore::TreasuryState"]))
	require.Equal(t, []string{"OreRound"}, names(p.Routes["entropy::VarState"]))
	require.Equal(t, []string{"OreMiner"}, names(p.Routes["ore::MinerState"]))
	require.True(t, p.Routes["entropy::RevealIxState"].When, "Reveal gates the entropy value")
	require.Empty(t, p.Routes["entropy::RevealIxState"].Handlers)
	require.Len(t, p.Routes["ore::DeployIxState"].Hooks, 1)
	require.Len(t, p.Routes["ore::ResetIxState"].Hooks, 1)

	// The Deploy hook registers entropyVar → round once, although the spec lists it twice.
	hook := p.Routes["ore::DeployIxState"].Hooks[0]
	require.Equal(t, `  pda hook ore::DeployIxState  [entities[0].instruction_hooks[0]]
    0130  LoadIxAccount  r2, accounts[9] (entropyVar)
    0131  LoadIxAccount  r7, accounts[6] (round)
    0132  RegisterPda    r2 -> r7
`, p.DisassembleHandler(hook))

	// The Var handler resolves the account through the resolver hook's PDA table first.
	vh := handlerByType(t, p, "OreRound", "entropy::VarState", HandlerMapping)
	require.Equal(t, OpLoadResolved, p.Code[vh.Start].Op)
	require.Equal(t, []string{
		"state.estimated_expires_at_unix", "state.motherlode", "state.total_deployed", "state.total_vaulted",
		"state.total_winnings", "state.deployed_per_square_ui", "results.top_miner_reward",
		"results.expires_at_slot_hash", "results.rng", "results.winning_square", "results.did_hit_motherlode",
		"results.pre_reveal_rng", "results.pre_reveal_winning_square", "treasury.motherlode",
	}, p.Entities[0].Computed)
	require.Equal(t, []string{"results", "state", "entropy"}, p.Entities[0].sections[1].Gates)

	out := p.Disassemble()
	require.Contains(t, out, "entity OreMiner (state 2) key id.authority")
	require.Contains(t, out, "SetWhen         entropy.entropy_value, r4 when entropy::RevealIxState if event.value NotEqual")
}

// counterSpecJSON returns the counter spec as a JSON tree for tests to edit.
func counterSpecJSON(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "counter.stack.json"))
	require.NoError(t, err)
	var tree map[string]any
	require.NoError(t, json.Unmarshal(data, &tree))
	return tree
}

// at walks a JSON tree along object keys and array indexes.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			v = v.(map[string]any)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	return v
}

func TestCompileErrorsNameTheSpecPath(t *testing.T) {
	cases := []struct {
		name string
		edit func(tree map[string]any)
		path string
		is   error
		msg  string
	}{
		{
			name: "temporal lookup key",
			edit: func(tree map[string]any) {
				h := at(tree, "entities", 0, "handlers", 1).(map[string]any)
				h["key_resolution"] = map[string]any{"TemporalLookup": map[string]any{
					"lookup_field":    map[string]any{"segments": []any{"accounts", "counter"}, "offsets": nil},
					"timestamp_field": map[string]any{"segments": []any{"data", "amount"}, "offsets": nil},
					"index_name":      "x",
				}}
			},
			path: "entities[0].handlers[1].key_resolution",
			is:   ErrUnsupported,
			msg:  "entities[0].handlers[1].key_resolution: cannot compile: unsupported: TemporalLookup key resolution",
		},
		{
			name: "unknown method",
			edit: func(tree map[string]any) {
				c := at(tree, "entities", 0, "computed_field_specs", 0).(map[string]any)
				c["expression"] = map[string]any{"MethodCall": map[string]any{
					"expr": map[string]any{"FieldRef": map[string]any{"path": "stats.total"}}, "method": "frobnicate", "args": []any{},
				}}
			},
			path: "entities[0].computed_field_specs[0].expression",
			is:   ErrCompile,
			msg:  `entities[0].computed_field_specs[0].expression: cannot compile: unsupported method "frobnicate"`,
		},
		{
			name: "unknown resolver",
			edit: func(tree map[string]any) {
				c := at(tree, "entities", 0, "computed_field_specs", 0).(map[string]any)
				c["expression"] = map[string]any{"ResolverComputed": map[string]any{"resolver": "Oracle", "method": "price", "args": []any{}}}
			},
			path: "entities[0].computed_field_specs[0].expression",
			is:   ErrCompile,
			msg:  `entities[0].computed_field_specs[0].expression: cannot compile: unknown resolver "Oracle"`,
		},
		{
			name: "resolver arity",
			edit: func(tree map[string]any) {
				c := at(tree, "entities", 0, "computed_field_specs", 0).(map[string]any)
				c["expression"] = map[string]any{"ResolverComputed": map[string]any{"resolver": "TokenMetadata", "method": "ui_amount",
					"args": []any{map[string]any{"FieldRef": map[string]any{"path": "stats.total"}}}}}
			},
			path: "entities[0].computed_field_specs[0].expression",
			is:   ErrCompile,
			msg:  `entities[0].computed_field_specs[0].expression: cannot compile: resolver TokenMetadata.ui_amount takes 2 arguments, got 1`,
		},
		{
			name: "broken IDL snapshot",
			edit: func(tree map[string]any) {
				idl := at(tree, "idls", 0).(map[string]any)
				idl["accounts"].([]any)[0].(map[string]any)["fields"].([]any)[1].(map[string]any)["type"] = "u65"
			},
			path: "idls[0]",
			is:   idl.ErrBadIDL,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tree := counterSpecJSON(t)
			tc.edit(tree)
			data, err := json.Marshal(tree)
			require.NoError(t, err)
			spec, err := stack.Decode(data)
			require.NoError(t, err, "the loader must accept the edited spec")
			_, err = Compile(spec)
			require.Error(t, err)
			var se *stack.SpecError
			require.True(t, errors.As(err, &se), "got %T", err)
			require.Equal(t, tc.path, se.Path)
			require.ErrorIs(t, err, tc.is)
			if tc.msg != "" {
				require.Equal(t, tc.msg, err.Error())
			}
		})
	}
}

func TestEveryOpcodeHasAName(t *testing.T) {
	seen := map[string]bool{}
	for op := OpInvalid; op < opCount; op++ {
		name := op.String()
		require.NotContains(t, name, "Op(", "opcode %d", op)
		require.False(t, seen[name], "duplicate name %s", name)
		seen[name] = true
	}
	require.Equal(t, "Op(200)", Opcode(200).String())
}
