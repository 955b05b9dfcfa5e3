go test ... ./internal/replay
