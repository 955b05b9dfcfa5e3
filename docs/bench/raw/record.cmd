go test -v -run '^$' -benchmem -bench '^Benchmark(RecordVsRawBolt|RecordLoopback|RawBoltBatchedPuts)$' -benchtime 300000x -count 3 -timeout 30m ./internal/record
