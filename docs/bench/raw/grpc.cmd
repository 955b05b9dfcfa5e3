go test -v -run '^$' -benchmem -bench '^Benchmark(SubscribeLoopback|YellowstoneRun)$' -count 3 ./internal/geyserserver ./internal/source
