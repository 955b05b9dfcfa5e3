HYPERSTACK_SOAK_MINUTES=1 go test -v -count 1 -run '^TestSoakRSS$' -timeout 30m ./internal/record
