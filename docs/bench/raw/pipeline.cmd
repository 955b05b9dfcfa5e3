go test -v -run '^$' -benchmem -bench '^BenchmarkORE(Unmarshal|Feed)$' -cpu 1 -count 3 ./internal/pipeline
