package projection

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hyperstack-go/hyperstack/internal/event"
)

func benchMutations(n, keys int) []event.Mutation {
	pad := strings.Repeat("x", 700)
	out := make([]event.Mutation, n)
	for i := range out {
		out[i] = m("Round", fmt.Sprint(i%keys), fmt.Sprintf(`{"id":{"round_id":%d},"state":{"total":%d,"per_square":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25],"pad":%q},"events":{"deploys":[{"amount":%d}]}}`, i%keys, i, pad, i), 1, uint64(i+1), "events.deploys")
	}
	return out
}

// BenchmarkApply measures projecting ~1 KB mutations: decode, merge, encode the three base frames.
func BenchmarkApply(b *testing.B) {
	for _, win := range []bool{false, true} {
		name := "base"
		if win {
			name = "with_derived_window"
		}
		b.Run(name, func(b *testing.B) {
			cfg := &Config{}
			if win {
				cfg.Views = []ViewDef{{ID: "Round/latest", Entity: "Round", Sort: &Sort{Field: []string{"id", "round_id"}, Desc: true}}}
			}
			s, _ := New(cfg)
			if win {
				if _, err := s.Open(Query{View: "Round/latest", Take: 10}); err != nil {
					b.Fatal(err)
				}
			}
			muts := benchMutations(4096, 400)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Apply(muts[i%len(muts) : i%len(muts)+1]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mutations/s")
		})
	}
}

// BenchmarkSnapshot measures reading a 500-entity list snapshot (encodings cached).
func BenchmarkSnapshot(b *testing.B) {
	s, _ := New(nil)
	if _, err := s.Apply(benchMutations(500, 500)); err != nil {
		b.Fatal(err)
	}
	t, _ := s.Open(Query{View: "Round/list"})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if e, _, _ := s.Snapshot(t, SnapshotOptions{}); len(e) != 500 {
			b.Fatal(len(e))
		}
	}
}
