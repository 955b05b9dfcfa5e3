go test -v -run '^$' -benchmem -bench '^Benchmark(Fanout|Apply|Snapshot|ParseORE)$' -count 3 ./internal/serve ./internal/projection ./internal/stack
