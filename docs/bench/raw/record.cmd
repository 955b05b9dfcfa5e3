go test -v -run '^$' -benchmem -bench '^Benchmark(RecordVsRawBolt|RecordLoopback|RecordLoopbackFullServer|RawBoltBatchedPuts)$' -benchtime 300000x -count 5 -timeout 30m ./internal/record
