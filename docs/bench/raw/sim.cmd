go test -v -run '^$' -benchmem -bench '^Benchmark(Generate|ServeLoopback)' -count 3 ./internal/sim
