for i in $(seq 3); do go run ./internal/serve/benchtool -mode fanout -clients 1000 -seconds 5 || exit; done
