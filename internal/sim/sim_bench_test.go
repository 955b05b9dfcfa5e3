package sim

import (
	"testing"

	"google.golang.org/protobuf/proto"
)

func benchGenerate(b *testing.B, scenario string, opts Options, marshal bool) {
	s, err := New(scenario, 1, opts)
	if err != nil {
		b.Fatal(err)
	}
	// Warm the world up so the steady state is measured, not the first slots.
	for range 20_000 {
		if _, err := s.Next(); err != nil {
			b.Fatal(err)
		}
	}
	mo := proto.MarshalOptions{Deterministic: true}
	var bytes int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		u, err := s.Next()
		if err != nil {
			b.Fatal(err)
		}
		if marshal {
			raw, err := mo.Marshal(u)
			if err != nil {
				b.Fatal(err)
			}
			bytes += int64(len(raw))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
	if marshal {
		b.ReportMetric(float64(bytes)/float64(b.N), "B/update")
	}
}

// BenchmarkGenerateSPLToken measures the generator alone: building SubscribeUpdate messages.
func BenchmarkGenerateSPLToken(b *testing.B) { benchGenerate(b, ScenarioSPLToken, Options{}, false) }

// BenchmarkGenerateSPLTokenMarshal adds deterministic protobuf marshalling (what Run and the server
// pay per update).
func BenchmarkGenerateSPLTokenMarshal(b *testing.B) {
	benchGenerate(b, ScenarioSPLToken, Options{}, true)
}
