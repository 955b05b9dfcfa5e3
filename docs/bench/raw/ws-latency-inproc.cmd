for i in $(seq 3); do go run ./internal/serve/benchtool -mode latency -latency-in-process -clients 1000 -rate 10000 -seconds 5 || exit; done
