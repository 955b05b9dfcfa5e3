go test -v -run '^$' -benchmem -bench '^Benchmark([^Z]|Z[^Z])' -cpu 1 -count 3 ./internal/idl
