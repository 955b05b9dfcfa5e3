package stack

import (
	"os"
	"testing"
)

func BenchmarkParseORE(b *testing.B) {
	data, err := os.ReadFile(sharedFixture(b, "hyperstack/OreStream.stack.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
