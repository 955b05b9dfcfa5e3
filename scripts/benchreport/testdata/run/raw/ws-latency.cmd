go run ./internal/serve/benchtool -mode latency
