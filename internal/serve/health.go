package serve

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hyperstack-go/hyperstack/internal/projection"
)

// SourceStatus is what the pipeline reports about its source, for /ready, /status and metrics.
type SourceStatus struct {
	// State is "connected", "connecting", "reconnecting", "disconnected" or "error".
	State string `json:"state"`
	// CaughtUp is true once the source delivers live data (a replay reached its end, a live stream
	// is within a few slots of its head).
	CaughtUp bool `json:"caught_up"`
	// LastSlot is the last slot processed.
	LastSlot uint64 `json:"last_slot"`
	// SlotLag is how many slots the processed data trails the source's head.
	SlotLag uint64 `json:"slot_lag"`
	// Errors counts errors since start.
	Errors int `json:"error_count"`
	// Error is the last error, if any.
	Error string `json:"error,omitempty"`
	// Name describes the source, e.g. "sim:spl-token" or an endpoint.
	Name string `json:"name,omitempty"`
}

// ReportSource records the source's status. Until the first report the server counts as ready
// (there is no source to wait for).
func (s *Server) ReportSource(st SourceStatus) {
	s.source.Store(&st)
	s.metrics.sourceLastSlot.Set(float64(st.LastSlot))
	s.metrics.sourceSlotLag.Set(float64(st.SlotLag))
	s.metrics.sourceErrors.Set(float64(st.Errors))
	if st.State == "connected" {
		s.metrics.sourceConnected.Set(1)
	} else {
		s.metrics.sourceConnected.Set(0)
	}
}

// Ready reports whether the source is connected and caught up.
func (s *Server) Ready() bool {
	if s.isClosed() {
		return false
	}
	st := s.source.Load()
	return st == nil || (st.State == "connected" && st.CaughtUp)
}

// Status is the JSON document served at /status.
type Status struct {
	Healthy    bool                  `json:"healthy"`
	Status     string                `json:"status"`
	ErrorCount int                   `json:"error_count"`
	Ready      bool                  `json:"ready"`
	Source     *SourceStatus         `json:"source,omitempty"`
	LastSlot   uint64                `json:"last_slot"`
	SlotLag    uint64                `json:"slot_lag"`
	Clients    int                   `json:"clients"`
	Seq        uint64                `json:"seq"`
	Uptime     float64               `json:"uptime_seconds"`
	Views      []projection.ViewInfo `json:"views"`
}

// Status returns the server's status.
func (s *Server) Status() Status {
	st := Status{Healthy: true, Status: "no_monitor", Ready: s.Ready(), Clients: s.Clients(),
		Seq: s.store.Seq(), Uptime: time.Since(s.started).Seconds(), Views: s.store.Views()}
	if src := s.source.Load(); src != nil {
		st.Source = src
		st.Status = src.State
		st.Healthy = src.State != "error" && src.State != "disconnected"
		st.ErrorCount = src.Errors
		st.LastSlot = src.LastSlot
		st.SlotLag = src.SlotLag
	}
	return st
}

// HealthHandler serves /health and /healthz (liveness), /ready and /readiness, /status (JSON),
// /metrics (Prometheus), and with Config.Debug /debug/views and /debug/entities.
func (s *Server) HealthHandler() http.Handler {
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("OK"))
	}
	ready := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if s.Ready() {
			w.Write([]byte("READY"))
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("NOT READY"))
	}
	mux.HandleFunc("/health", ok)
	mux.HandleFunc("/healthz", ok)
	mux.HandleFunc("/ready", ready)
	mux.HandleFunc("/readiness", ready)
	mux.HandleFunc("/status", func(w http.ResponseWriter, _ *http.Request) {
		st := s.Status()
		w.Header().Set("Content-Type", "application/json")
		if !st.Healthy {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		json.NewEncoder(w).Encode(st)
	})
	mux.Handle("/metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	if s.cfg.Debug {
		mux.HandleFunc("/debug/views", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(s.store.Views())
		})
		mux.HandleFunc("/debug/entities", s.debugEntities)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "Not Found", http.StatusNotFound)
	})
	return mux
}

// debugEntities serves the entities a new subscriber of a view would start from:
// GET /debug/entities?view=V[&key=K][&take=N][&skip=N]. The body is
// {"view":V,"seq":S,"entities":[{"key":K,"data":{…}},…]}, with entities encoded exactly as in
// snapshot frames.
func (s *Server) debugEntities(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query := projection.Query{View: q.Get("view"), Key: q.Get("key")}
	for name, dst := range map[string]*int{"take": &query.Take, "skip": &query.Skip} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				http.Error(w, name+" must be a non-negative integer", http.StatusBadRequest)
				return
			}
			*dst = n
		}
	}
	t, err := s.store.Open(query)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	defer s.store.Close(t)
	entries, seq, err := s.store.Snapshot(t, projection.SnapshotOptions{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	buf := []byte(`{"view":`)
	buf = projection.AppendJSONString(buf, t.View)
	buf = append(buf, `,"seq":`...)
	buf = strconv.AppendUint(buf, seq, 10)
	buf = append(buf, `,"entities":[`...)
	for i, e := range entries {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"key":`...)
		buf = projection.AppendJSONString(buf, e.Key)
		buf = append(buf, `,"data":`...)
		buf = append(buf, e.Data...)
		buf = append(buf, '}')
	}
	buf = append(buf, "]}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.Write(buf)
}
