package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/charmbracelet/log"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/pipeline"
	"github.com/hyperstack-go/hyperstack/internal/stack"
	"github.com/hyperstack-go/hyperstack/internal/vm"
)

// LiveConfig configures a live golden.
type LiveConfig struct {
	// Spec and Program are the stack. Required.
	Spec    *stack.Spec
	Program *vm.Program
	// VM configures the Machine (resolvers and limits); nil means defaults. It must match what
	// replays of the archive use, or they will not reproduce the live output.
	VM *vm.Config
	// Sinks receive the live mutations too (after the golden), e.g. a server.
	Sinks  []pipeline.Sink
	Logger *log.Logger
}

// Live computes a stack's golden while an archive is being recorded: each update appended to the
// archive runs through the same pipeline a replay uses, and its golden record is queued on the
// recording's archive.Writer (AppendKV), so it commits atomically with the update's batch or a later
// one. A replay --verify of the archive then proves that replay reproduces exactly what was computed
// live.
//
// Live is owned by the goroutine that appends to the archive.
type Live struct {
	p       *pipeline.Pipeline
	gw      *GoldenWriter
	updates uint64
	lastSeq uint64
	lastW   *archive.Writer
	log     *log.Logger
}

// StartLive replaces the stack's golden in a (open for writing, with no writer yet) with a new live
// one. When the archive already holds updates (a resumed recording), they are replayed first, so the
// VM state and the digest chain continue exactly where a replay would be; their records are written
// directly. The resolver answers recorded with the stack's previous golden feed that catch-up.
func StartLive(ctx context.Context, a *archive.Archive, cfg LiveConfig) (*Live, error) {
	if cfg.Spec == nil || cfg.Program == nil {
		return nil, pipeline.ErrNoProgram
	}
	hash := cfg.Spec.ContentHash()
	answers, err := Answers(ctx, a, hash)
	if err != nil {
		return nil, err
	}
	gw, err := NewGoldenWriter(a, Info{StackHash: hash, StackName: cfg.Spec.StackName, Live: true})
	if err != nil {
		return nil, err
	}
	sinks := append([]pipeline.Sink{gw}, cfg.Sinks...)
	p, err := newPipelineWith(answers, cfg.Program, cfg.VM, gw, sinks, cfg.Logger)
	if err != nil {
		return nil, err
	}
	l := &Live{p: p, gw: gw, log: cfg.Logger}
	cp, err := a.Checkpoint()
	if err != nil {
		return nil, err
	}
	if cp.Seq > 0 {
		if l.log != nil {
			l.log.Info("computing the stack's digests over the updates already recorded", "updates", cp.Seq,
				"stack_hash", ShortHash(hash))
		}
		err := a.ScanBorrowed(ctx, 0, math.MaxUint64, func(u archive.Update) error {
			if u.Seq > cp.Seq {
				return errStop
			}
			l.updates++
			l.lastSeq = u.Seq
			l.gw.Covered(l.updates, l.lastSeq)
			return p.Feed(u.Seq, u.Raw)
		})
		if err != nil && !errors.Is(err, errStop) {
			return nil, fmt.Errorf("catch up with the recorded updates: %w", err)
		}
	}
	// Flush the catch-up and write an info, so the golden is complete even if nothing follows.
	if err := gw.flush(); err != nil {
		return nil, err
	}
	if err := a.UpdateKV(func(tx *archive.KVTx) error {
		b, err := json.Marshal(gw.Info())
		if err != nil {
			return err
		}
		return tx.Put(gw.n.info, infoKey, b)
	}); err != nil {
		return nil, fmt.Errorf("write golden info: %w", err)
	}
	return l, nil
}

// Append runs the update just appended to the archive through w under its sequence number seq (as
// returned by Writer.Append) and queues its golden record on w. Call it for every update, in order,
// right after the Append.
func (l *Live) Append(w *archive.Writer, seq uint64, raw []byte) error {
	if w != l.lastW {
		if err := l.gw.live(w); err != nil {
			return err
		}
		l.lastW = w
	}
	l.updates++
	l.lastSeq = seq
	l.gw.Covered(l.updates, seq)
	return l.p.Feed(seq, raw)
}

// Info returns the golden's metadata so far.
func (l *Live) Info() Info { return l.gw.Info() }

// Stats returns the pipeline's counters.
func (l *Live) Stats() pipeline.Stats { return l.p.Stats() }

// Close writes the golden's final info (covering every update appended) in its own transaction; call
// it after the archive writer is closed.
func (l *Live) Close() error { return l.gw.Close() }
