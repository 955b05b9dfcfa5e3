package sim

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// oreVarAddress is ORE_VAR_ADDRESS, the entropy Var the ORE program hard-codes (regolith-labs/ore
// program/src/reset.rs).
const oreVarAddress = "BWCaDY96Xe4WkFq1M7UiCCRcChsJ3p51L5KrGzhxgm2E"

var seedsDocRE = regexp.MustCompile(`^(\w+) PDA seeds: \[([^\]]*)\]`)

// documentedSeeds reads the "<Account> PDA seeds: [...]" lines of the instruction docs of every IDL
// embedded in the ORE stack (its `pdas` section is empty), keyed by program name and account.
func documentedSeeds(t *testing.T) map[string]map[string][]string {
	t.Helper()
	data, err := os.ReadFile(sharedFixture(t, "hyperstack/OreStream.stack.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		IDLs []struct {
			Name         string `json:"name"`
			Instructions []struct {
				Docs []string `json:"docs"`
			} `json:"instructions"`
		} `json:"idls"`
		PDAs map[string]map[string]json.RawMessage `json:"pdas"`
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string][]string{}
	for _, p := range spec.IDLs {
		for _, ix := range p.Instructions {
			for _, d := range ix.Docs {
				m := seedsDocRE.FindStringSubmatch(d)
				if m == nil {
					continue
				}
				if out[p.Name] == nil {
					out[p.Name] = map[string][]string{}
				}
				var seeds []string
				for _, s := range strings.Split(m[2], ",") {
					seeds = append(seeds, strings.TrimSpace(s))
				}
				out[p.Name][m[1]] = seeds
			}
		}
	}
	return out
}

func TestOrePDAsDeriveDocumentedAddresses(t *testing.T) {
	t.Parallel()
	docs := documentedSeeds(t)
	addrs, err := DeriveOreAddresses()
	if err != nil {
		t.Fatal(err)
	}
	// The singletons: seeds made of string literals only.
	want := map[string]solana.Pubkey{"Board": addrs.Board, "Config": addrs.Config, "Treasury": addrs.Treasury}
	for name, addr := range want {
		seeds, ok := docs["ore"][name]
		if !ok {
			t.Fatalf("the ORE IDL documents no seeds for %s (%v)", name, docs["ore"])
		}
		var raw [][]byte
		for _, s := range seeds {
			lit, err := jsonString(s)
			if err != nil {
				t.Fatalf("%s seed %s is not a literal: %v", name, s, err)
			}
			raw = append(raw, []byte(lit))
		}
		got, _, err := solana.FindProgramAddress(raw, OreProgramID)
		if err != nil || got != addr {
			t.Errorf("%s: documented seeds %v derive %s, simulator uses %s (%v)", name, seeds, got, addr, err)
		}
	}

	// The entropy Var: ["var", authority, id] with the board as authority and id 0 is the address
	// ORE hard-codes.
	if seeds := docs["entropy"]["Var"]; strings.Join(seeds, ",") != `"var",authority,id` {
		t.Fatalf("entropy Var seeds documented as %v", seeds)
	}
	v, _, err := solana.FindProgramAddress([][]byte{[]byte("var"), addrs.Board[:], binary.LittleEndian.AppendUint64(nil, 0)}, EntropyProgramID)
	if err != nil {
		t.Fatal(err)
	}
	if v.String() != oreVarAddress || addrs.Var != v {
		t.Errorf("var PDA %s (simulator %s), ORE's ORE_VAR_ADDRESS is %s", v, addrs.Var, oreVarAddress)
	}

	// Per-account seeds: ["round", id], ["miner", authority], ["automation", authority].
	for name, lit := range map[string]string{"Round": "round", "Miner": "miner", "Automation": "automation"} {
		if seeds := docs["ore"][name]; len(seeds) != 2 || seeds[0] != `"`+lit+`"` {
			t.Errorf("%s seeds documented as %v, want [%q, ...]", name, seeds, lit)
		}
	}
	r, err := OreRoundAddress(42)
	if err != nil {
		t.Fatal(err)
	}
	if want, _, _ := solana.FindProgramAddress([][]byte{[]byte("round"), binary.LittleEndian.AppendUint64(nil, 42)}, OreProgramID); r != want {
		t.Errorf("round 42 at %s, want %s", r, want)
	}
	for _, p := range []solana.Pubkey{addrs.Board, addrs.Config, addrs.Treasury, addrs.Var, r} {
		if solana.IsOnCurve(p[:]) {
			t.Errorf("%s is on the curve: not a program address", p)
		}
	}
}

// TestOreStreamUsesDerivedAddresses checks that the generated traffic writes the singletons at their
// derived addresses and that every deploy names the round the board points at.
func TestOreStreamUsesDerivedAddresses(t *testing.T) {
	t.Parallel()
	idls := oreIDLs(t)
	addrs, err := DeriveOreAddresses()
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(ScenarioOre, 2, Options{Slots: 120, RoundSlots: 20, IDLs: idls, Population: 50})
	if err != nil {
		t.Fatal(err)
	}
	oreIDL := findIDL(idls, OreProgramID)
	seen := map[string]bool{}
	var boardRound uint64
	deploys := 0
	for _, u := range collect(t, s) {
		if a := u.GetAccount(); a != nil {
			pk, _ := solana.PubkeyFromBytes(a.GetAccount().GetPubkey())
			owner, _ := solana.PubkeyFromBytes(a.GetAccount().GetOwner())
			if owner != OreProgramID && owner != EntropyProgramID {
				continue
			}
			var name string
			var v map[string]any
			if owner == OreProgramID {
				name, v, err = oreIDL.DecodeAccount(a.GetAccount().GetData())
			} else {
				name, _, err = findIDL(idls, EntropyProgramID).DecodeAccount(a.GetAccount().GetData())
			}
			if err != nil {
				t.Fatal(err)
			}
			seen[name] = true
			switch name {
			case "Board":
				boardRound = v["round_id"].(uint64)
				if pk != addrs.Board {
					t.Fatalf("Board written at %s, derived %s", pk, addrs.Board)
				}
			case "Treasury":
				if pk != addrs.Treasury {
					t.Fatalf("Treasury written at %s, derived %s", pk, addrs.Treasury)
				}
			case "Config":
				if pk != addrs.Config {
					t.Fatalf("Config written at %s, derived %s", pk, addrs.Config)
				}
			case "Var":
				if pk.String() != oreVarAddress {
					t.Fatalf("Var written at %s, ORE uses %s", pk, oreVarAddress)
				}
			}
			continue
		}
		tu := u.GetTransaction()
		if tu == nil {
			continue
		}
		ixs, _ := instructions(t, tu.GetTransaction())
		for _, ix := range ixs {
			if ix.program != OreProgramID {
				continue
			}
			def, _, err := oreIDL.DecodeInstruction(ix.data)
			if err != nil {
				t.Fatal(err)
			}
			if def.Name != "deploy" {
				continue
			}
			deploys++
			named := accountsByName(def, ix.accounts)
			if boardRound != 0 {
				want, _ := OreRoundAddress(boardRound)
				if named["round"] != want {
					t.Fatalf("deploy names round %s, board round %d is at %s", named["round"], boardRound, want)
				}
			}
			if named["board"] != addrs.Board || named["entropyVar"] != addrs.Var || named["config"] != addrs.Config {
				t.Fatalf("deploy accounts %v do not use the derived singletons", named)
			}
			if m, _ := OreMinerAddress(named["authority"]); named["miner"] != m {
				t.Fatalf("deploy miner %s, derived %s", named["miner"], m)
			}
		}
	}
	for _, n := range []string{"Board", "Treasury", "Config", "Var", "Round", "Miner"} {
		if !seen[n] {
			t.Errorf("no %s update in 120 slots", n)
		}
	}
	if deploys == 0 {
		t.Fatal("no deploys")
	}
}

func accountsByName(def *idl.InstructionDef, keys []solana.Pubkey) map[string]solana.Pubkey {
	out := map[string]solana.Pubkey{}
	for i, m := range def.Accounts {
		if i < len(keys) {
			out[m.Name] = keys[i]
		}
	}
	return out
}

func jsonString(s string) (string, error) {
	var out string
	err := json.Unmarshal([]byte(s), &out)
	return out, err
}
