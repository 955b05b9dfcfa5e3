package extract

import (
	"errors"
	"strings"
	"testing"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// FuzzUpdateBytes feeds arbitrary bytes to UpdateBytes: it must return events or an *Error, never
// panic. The seed corpus (testdata/fuzz/FuzzUpdateBytes) holds hand-built account, transaction and
// block updates; decoding runs with the SPL Token IDL and a small Anchor IDL.
func FuzzUpdateBytes(f *testing.F) {
	// Decoding is on: the seeds' program key("prog") has an Anchor IDL, and SPL Token its own.
	x := New(Config{IDLs: idl.NewRegistry(splToken(f), anchorIDL(f, key("prog")))})
	f.Fuzz(func(t *testing.T, raw []byte) {
		evs, err := x.UpdateBytes(raw, 1, nil)
		if err != nil {
			var xe *Error
			if !errors.As(err, &xe) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if len(evs) != 0 {
				t.Fatalf("%d events with error %v", len(evs), err)
			}
			return
		}
		checkEvents(t, evs)
	})
}

// checkEvents checks the invariants every successful extraction keeps.
func checkEvents(t *testing.T, evs []event.Event) {
	t.Helper()
	for i, ev := range evs {
		if ev.Index != uint32(i) || ev.Seq != 1 {
			t.Fatalf("event %d has index %d seq %d", i, ev.Index, ev.Seq)
		}
		switch ev.Kind {
		case event.KindAccount:
			if ev.Account == nil || ev.Instruction != nil {
				t.Fatalf("event %d: account payload missing", i)
			}
		case event.KindInstruction:
			in := ev.Instruction
			if in == nil || ev.Account != nil {
				t.Fatalf("event %d: instruction payload missing", i)
			}
			if n := len(in.Path); n != 1 && n != 2 {
				t.Fatalf("event %d: path %v", i, in.Path)
			}
			if in.CPIEvent && (len(in.Path) != 2 || !strings.HasPrefix(string(in.Data), EventIxTag)) {
				t.Fatalf("event %d: bad CPI event flag", i)
			}
		default:
			t.Fatalf("event %d has kind %v", i, ev.Kind)
		}
	}
}

// FuzzTransaction builds structurally valid transactions from fuzzed parts (key counts, instruction
// and inner-instruction encodings, log lines) and checks that every resolved account is the key
// its index names, or that a clear error comes back.
func FuzzTransaction(f *testing.F) {
	f.Add(uint8(3), uint8(1), uint8(1), []byte{2, 2, 0, 3}, []byte{0, 2, 2, 1, 4}, "Program data: AQ==")
	f.Add(uint8(2), uint8(0), uint8(0), []byte{1, 1, 0, 1, 0}, []byte{1, 1, 2, 0}, "")
	f.Add(uint8(1), uint8(2), uint8(2), []byte{0, 5, 0, 1, 2, 3, 4}, []byte{0, 0, 3, 9, 1, 2, 3}, "Program x invoke [1]\nProgram data: Ag==\nProgram x success")
	f.Add(uint8(4), uint8(0), uint8(0), []byte{3, 0}, []byte{5, 3, 2, 0}, "Program data: !!\nLog truncated")
	f.Fuzz(func(t *testing.T, nStatic, nW, nR uint8, tops, inners []byte, logs string) {
		var static, w, r []solana.Pubkey
		for i := 0; i < int(nStatic%8); i++ {
			static = append(static, key("s"+itoa(i)))
		}
		for i := 0; i < int(nW%4); i++ {
			w = append(w, key("w"+itoa(i)))
		}
		for i := 0; i < int(nR%4); i++ {
			r = append(r, key("r"+itoa(i)))
		}
		keys := append(append(append([]solana.Pubkey{}, static...), w...), r...)
		spec := txSpec{sig: sigOf("fuzz"), static: static, writable: w, readonly: r}
		if logs != "" {
			spec.logs = strings.Split(logs, "\n")
		}
		// tops: repeated [program, n, n account bytes].
		for len(tops) >= 2 {
			n := int(tops[1] % 8)
			if n > len(tops)-2 {
				n = len(tops) - 2
			}
			spec.tops = append(spec.tops, ix(uint32(tops[0]), tops[2:2+n], tops[2:2+n]))
			tops = tops[2+n:]
		}
		// inners: repeated [outer, program, height, n, n account bytes].
		groups := map[uint32]*geyserpb.InnerInstructions{}
		for len(inners) >= 4 {
			n := int(inners[3] % 8)
			if n > len(inners)-4 {
				n = len(inners) - 4
			}
			outer := uint32(inners[0] % 4)
			g := groups[outer]
			if g == nil {
				g = &geyserpb.InnerInstructions{Index: outer}
				groups[outer] = g
				spec.inner = append(spec.inner, g)
			}
			data := append([]byte(EventIxTag), inners[4:4+n]...)
			g.Instructions = append(g.Instructions, inner(uint32(inners[1]), inners[4:4+n], data, uint32(inners[2])))
			inners = inners[4+n:]
		}
		evs, err := New(Config{}).Update(spec.update(), 1, nil)
		if err != nil {
			var xe *Error
			if !errors.As(err, &xe) || xe.Signature != spec.sig {
				t.Fatalf("error %v does not name the transaction", err)
			}
			if !errors.Is(err, ErrAccountIndex) && !errors.Is(err, ErrInnerIndex) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		checkEvents(t, evs)
		want := len(spec.tops)
		for _, g := range spec.inner {
			want += len(g.Instructions)
		}
		if len(evs) != want {
			t.Fatalf("%d events, want %d", len(evs), want)
		}
		for _, ev := range evs {
			in := ev.Instruction
			var src []byte
			var prog uint32
			if len(in.Path) == 1 {
				c := spec.tops[in.Path[0]]
				src, prog = c.Accounts, c.ProgramIdIndex
			} else {
				c := groups[uint32(in.Path[0])].Instructions[in.Path[1]]
				src, prog = c.Accounts, c.ProgramIdIndex
			}
			if in.ProgramID != keys[prog] {
				t.Fatalf("%v: program %v, want key %d", in.Path, in.ProgramID, prog)
			}
			for j, a := range src {
				if in.Accounts[j] != keys[a] {
					t.Fatalf("%v: account %d resolved to %v, want key %d", in.Path, j, in.Accounts[j], a)
				}
			}
		}
	})
}
