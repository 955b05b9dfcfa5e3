go test -v -run '^$' -bench x -cpu 1 ./internal/vm
