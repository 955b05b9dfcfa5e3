package record

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/charmbracelet/log"
	"google.golang.org/protobuf/encoding/protowire"
)

// Progress configures progress reporting while recording.
type Progress struct {
	// Terminal selects a live line rewritten in place on Out; otherwise a log line is written through
	// the Recorder's Logger every Interval.
	Terminal bool
	// Out receives the live line. Nil disables it.
	Out io.Writer
	// Interval is the reporting period; 0 means 1 s on a terminal and 10 s otherwise.
	Interval time.Duration
	// NewTicker returns a tick channel and its stop function; nil uses time.NewTicker. Tests inject
	// their own ticks.
	NewTicker func(d time.Duration) (<-chan time.Time, func())
	// Now is the clock used for rates; nil means time.Now.
	Now func() time.Time
}

// Snapshot is one progress report.
type Snapshot struct {
	Messages uint64
	Bytes    uint64
	// Rate is messages per second since the previous report.
	Rate float64
	// Slot is the highest slot received.
	Slot uint64
	// Durable is the sequence number of the last committed update.
	Durable uint64
	// Lag is receive time minus the server's created_at of a recent update; LagKnown is false until
	// one was measured.
	Lag      time.Duration
	LagKnown bool
}

// Line renders the snapshot as one human-readable line.
func (s Snapshot) Line() string {
	lag := "-"
	if s.LagKnown {
		lag = s.Lag.Round(time.Millisecond).String()
	}
	return fmt.Sprintf("recording: %d msgs  %.0f msg/s  slot %d  %s  lag %s  durable #%d",
		s.Messages, s.Rate, s.Slot, humanBytes(s.Bytes), lag, s.Durable)
}

func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func (p *Progress) run(ctx context.Context, st *liveStats, logger *log.Logger) {
	interval := p.Interval
	if interval <= 0 {
		interval = 10 * time.Second
		if p.Terminal {
			interval = time.Second
		}
	}
	newTicker := p.NewTicker
	if newTicker == nil {
		newTicker = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	now := p.Now
	if now == nil {
		now = time.Now
	}
	tick, stop := newTicker(interval)
	defer stop()
	lastAt, lastN := now(), st.messages.Load()
	st.sample.Store(true)
	report := func(final bool) {
		t, n := now(), st.messages.Load()
		s := Snapshot{Messages: n, Bytes: st.bytes.Load(), Slot: st.slot.Load(), Durable: st.durable.Load(),
			Lag: time.Duration(st.lagNanos.Load()), LagKnown: st.lagValid.Load()}
		if dt := t.Sub(lastAt).Seconds(); dt > 0 {
			s.Rate = float64(n-lastN) / dt
		}
		lastAt, lastN = t, n
		st.sample.Store(true)
		switch {
		case p.Terminal && p.Out != nil:
			end := ""
			if final {
				end = "\n"
			}
			fmt.Fprintf(p.Out, "\r\033[K%s%s", s.Line(), end)
		case !p.Terminal && logger != nil && !final:
			kv := []any{"messages", s.Messages, "rate", fmt.Sprintf("%.0f/s", s.Rate), "slot", s.Slot,
				"bytes", s.Bytes, "durable_seq", s.Durable}
			if s.LagKnown {
				kv = append(kv, "lag", s.Lag.Round(time.Millisecond))
			}
			logger.Info("progress", kv...)
		}
	}
	for {
		select {
		case <-ctx.Done():
			report(true)
			return
		case <-tick:
			report(false)
		}
	}
}

// createdAt reads SubscribeUpdate.created_at (field 11) from raw bytes without decoding the update.
func createdAt(raw []byte) (time.Time, bool) {
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return time.Time{}, false
		}
		raw = raw[n:]
		if num == 11 && typ == protowire.BytesType {
			ts, m := protowire.ConsumeBytes(raw)
			if m < 0 {
				return time.Time{}, false
			}
			var secs, nanos uint64
			for len(ts) > 0 {
				fn, ft, k := protowire.ConsumeTag(ts)
				if k < 0 {
					return time.Time{}, false
				}
				ts = ts[k:]
				if ft != protowire.VarintType {
					k = protowire.ConsumeFieldValue(fn, ft, ts)
					if k < 0 {
						return time.Time{}, false
					}
					ts = ts[k:]
					continue
				}
				v, k := protowire.ConsumeVarint(ts)
				if k < 0 {
					return time.Time{}, false
				}
				ts = ts[k:]
				switch fn {
				case 1:
					secs = v
				case 2:
					nanos = v
				}
			}
			return time.Unix(int64(secs), int64(nanos)), true
		}
		m := protowire.ConsumeFieldValue(num, typ, raw)
		if m < 0 {
			return time.Time{}, false
		}
		raw = raw[m:]
	}
	return time.Time{}, false
}
