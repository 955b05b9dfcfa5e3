go test -v -run '^$' -benchmem -bench '^BenchmarkOre(Traffic|DecodeOnly)$' -cpu 1 -count 3 ./internal/vm
