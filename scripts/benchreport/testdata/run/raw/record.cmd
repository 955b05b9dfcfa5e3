go test ... ./internal/record
