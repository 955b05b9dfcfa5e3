for i in $(seq 3); do go run ./internal/serve/benchtool -mode latency -clients 1000 -rate 10000 -seconds 20 || exit; done
