HYPERSTACK_BENCH_INSPECT_UPDATES=1000000 go test -v -run '^$' -benchmem -bench '^Benchmark(ReplayORE|ScanORE|ReplayOREWriteGolden|VerifyORE|InspectEntity)$' -count 3 -timeout 30m ./internal/replay
