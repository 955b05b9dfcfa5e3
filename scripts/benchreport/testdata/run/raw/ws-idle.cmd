go run ./internal/serve/benchtool -mode idle -clients 1000
