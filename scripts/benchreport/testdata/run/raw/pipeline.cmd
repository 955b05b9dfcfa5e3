go test ... ./internal/pipeline
