go test -v -run '^$' -benchmem -bench '^BenchmarkOREPipelineRSS$' -benchtime 10000000x -count 1 -timeout 30m ./internal/pipeline
