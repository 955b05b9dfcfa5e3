package serve

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus instruments, registered in the server's own registry.
type metrics struct {
	connectionsActive prometheus.Gauge
	connectionsTotal  prometheus.Counter
	connectionsReject *prometheus.CounterVec
	subscriptions     prometheus.Gauge
	messagesReceived  prometheus.Counter
	framesSent        prometheus.Counter
	bytesSent         prometheus.Counter
	writeBatches      prometheus.Counter
	snapshotFrames    prometheus.Counter
	slowDisconnects   prometheus.Counter
	mutations         prometheus.Counter
	mutationErrors    prometheus.Counter
	framesPublished   prometheus.Counter
	batchSeq          prometheus.Gauge
	dispatchLag       prometheus.Histogram
	sourceLastSlot    prometheus.Gauge
	sourceSlotLag     prometheus.Gauge
	sourceErrors      prometheus.Gauge
	sourceConnected   prometheus.Gauge
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		connectionsActive: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hyperstack_ws_connections_active", Help: "WebSocket clients connected now."}),
		connectionsTotal:  prometheus.NewCounter(prometheus.CounterOpts{Name: "hyperstack_ws_connections_total", Help: "WebSocket clients accepted."}),
		connectionsReject: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hyperstack_ws_connections_rejected_total", Help: "WebSocket handshakes rejected, by error code."}, []string{"code"}),
		subscriptions:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "hyperstack_ws_subscriptions_active", Help: "Subscriptions open now."}),
		messagesReceived:  prometheus.NewCounter(prometheus.CounterOpts{Name: "hyperstack_ws_messages_received_total", Help: "Messages received from clients."}),
		framesSent:        prometheus.NewCounter(prometheus.CounterOpts{Name: "hyperstack_ws_frames_sent_total", Help: "Data messages written to clients."}),
		bytesSent:         prometheus.NewCounter(prometheus.CounterOpts{Name: "hyperstack_ws_bytes_sent_total", Help: "Payload bytes written to clients."}),
		writeBatches:      prometheus.NewCounter(prometheus.CounterOpts{Name: "hyperstack_ws_write_batches_total", Help: "Writer flushes (each sends every message queued at the time)."}),
		snapshotFrames:    prometheus.NewCounter(prometheus.CounterOpts{Name: "hyperstack_ws_snapshot_frames_total", Help: "Snapshot frames queued."}),
		slowDisconnects:   prometheus.NewCounter(prometheus.CounterOpts{Name: "hyperstack_ws_slow_disconnects_total", Help: "Clients disconnected because their outbound queue overflowed (frames dropped)."}),
		mutations:         prometheus.NewCounter(prometheus.CounterOpts{Name: "hyperstack_projector_mutations_total", Help: "Mutations applied."}),
		mutationErrors:    prometheus.NewCounter(prometheus.CounterOpts{Name: "hyperstack_projector_mutation_errors_total", Help: "Malformed mutations skipped."}),
		framesPublished:   prometheus.NewCounter(prometheus.CounterOpts{Name: "hyperstack_projector_frames_total", Help: "Frames produced by the projector."}),
		batchSeq:          prometheus.NewGauge(prometheus.GaugeOpts{Name: "hyperstack_projector_batch_seq", Help: "Sequence number of the last batch."}),
		dispatchLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hyperstack_hub_dispatch_lag_seconds", Help: "Time from Apply to the hub handing a batch to client queues.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 4, 9),
		}),
		sourceLastSlot:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "hyperstack_source_last_slot", Help: "Last slot received from the source."}),
		sourceSlotLag:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "hyperstack_source_slot_lag", Help: "Slots between the source's head and the last processed slot."}),
		sourceErrors:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "hyperstack_source_errors", Help: "Errors reported by the source."}),
		sourceConnected: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hyperstack_source_connected", Help: "1 when the source is connected."}),
	}
	reg.MustRegister(m.connectionsActive, m.connectionsTotal, m.connectionsReject, m.subscriptions,
		m.messagesReceived, m.framesSent, m.bytesSent, m.writeBatches, m.snapshotFrames, m.slowDisconnects,
		m.mutations, m.mutationErrors, m.framesPublished, m.batchSeq, m.dispatchLag,
		m.sourceLastSlot, m.sourceSlotLag, m.sourceErrors, m.sourceConnected,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
