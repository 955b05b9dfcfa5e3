for i in $(seq 3); do go run ./internal/serve/benchtool -mode idle -clients 1000 || exit; done
