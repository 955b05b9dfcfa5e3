// Package pipeline wires the stages every consumer of a stack shares: raw Yellowstone updates →
// extract (events, decoded once with the stack's IDLs) → VM (mutations) → sinks. `serve`, `replay`
// and `record --stack` all run updates through a Pipeline, so what is served live is exactly what
// replay reproduces.
//
// A Pipeline is owned by one goroutine: Feed and FeedMessage must not be called concurrently. Sinks
// are called synchronously, in order, on that goroutine; a sink that must not block the pipeline
// (the WebSocket hub) hands work off itself.
package pipeline

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/charmbracelet/log"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/extract"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/vm"
)

// Batch is what one update produced: the mutations of its events, in production order.
type Batch struct {
	// Seq is the update's sequence number (archive sequence, or a live counter).
	Seq uint64
	// Slot is the update's slot (0 for updates without one).
	Slot uint64
	// Mutations are the VM's output for the update; empty batches are not delivered.
	Mutations []event.Mutation
}

// Sink consumes batches. The slice in Batch is reused after Apply returns: a sink that keeps the
// mutations must copy the slice (the mutations' byte slices are never reused).
type Sink interface {
	Apply(b Batch) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(b Batch) error

// Apply calls f.
func (f SinkFunc) Apply(b Batch) error { return f(b) }

// Config configures a Pipeline.
type Config struct {
	// Program is the compiled stack; required.
	Program *vm.Program
	// VM configures the Machine; nil means the defaults. UseDecoded is always set: events are decoded
	// once, by the extractor.
	VM *vm.Config
	// Sinks receive every non-empty batch, in order.
	Sinks []Sink
	// Logger receives warnings about updates that could not be extracted and handler errors; nil is
	// silent.
	Logger *log.Logger
}

// Stats counts what a Pipeline did.
type Stats struct {
	// Updates is every update fed; Events the events extracted from them; Mutations the mutations
	// delivered to the sinks.
	Updates, Events, Mutations uint64
	// BadUpdates counts updates that could not be unmarshalled or extracted (skipped).
	BadUpdates uint64
	// HandlerErrors counts handler failures reported by the VM (the event was skipped).
	HandlerErrors uint64
	// LastSlot is the highest slot seen.
	LastSlot uint64
	// VM is the Machine's own counters.
	VM vm.Stats
}

// Pipeline runs updates through extract and the VM and hands the mutations to its sinks.
type Pipeline struct {
	cfg     Config
	ex      *extract.Extractor
	idls    *idl.Registry
	machine *vm.Machine
	msg     *geyserpb.SubscribeUpdate
	events  []event.Event
	muts    []event.Mutation
	scratch []byte
	stats   Stats
	log     *log.Logger
}

// ErrNoProgram is returned by New without a Program.
var ErrNoProgram = errors.New("pipeline needs a compiled stack")

// New builds a Pipeline.
func New(cfg Config) (*Pipeline, error) {
	if cfg.Program == nil {
		return nil, ErrNoProgram
	}
	vmCfg := vm.Config{}
	if cfg.VM != nil {
		vmCfg = *cfg.VM
	}
	vmCfg.UseDecoded = true
	if vmCfg.Logger == nil {
		vmCfg.Logger = cfg.Logger
	}
	m, err := vm.NewMachine(cfg.Program, &vmCfg)
	if err != nil {
		return nil, fmt.Errorf("start VM: %w", err)
	}
	reg := idl.NewRegistry()
	for _, p := range cfg.Program.Programs {
		if p.IDL != nil {
			reg.Add(p.IDL)
		}
	}
	l := cfg.Logger
	if l == nil {
		l = log.New(discard{})
	}
	return &Pipeline{
		cfg:     cfg,
		ex:      extract.New(extract.Config{IDLs: reg, Logger: cfg.Logger}),
		idls:    reg,
		machine: m,
		msg:     &geyserpb.SubscribeUpdate{},
		log:     l,
	}, nil
}

// Machine returns the pipeline's VM (for Deliver and inspection); owned by the pipeline's goroutine.
func (p *Pipeline) Machine() *vm.Machine { return p.machine }

// Feed runs one raw SubscribeUpdate. Updates that cannot be decoded are counted, logged and
// skipped; the error returned is a sink's error, which should stop the caller.
func (p *Pipeline) Feed(seq uint64, raw []byte) error {
	p.msg.Reset()
	if err := (proto.UnmarshalOptions{Merge: true}).Unmarshal(raw, p.msg); err != nil {
		p.SkipUndecodable(seq, err)
		return nil
	}
	return p.FeedMessage(seq, p.msg)
}

// SkipUndecodable counts and logs an update whose bytes did not unmarshal (err), for a caller that
// unmarshals itself; Feed does the same for its own input.
func (p *Pipeline) SkipUndecodable(seq uint64, err error) {
	p.stats.Updates++
	p.stats.BadUpdates++
	p.log.Warn("skipping undecodable update", "seq", seq, "err", err)
}

// FeedMessage runs one decoded SubscribeUpdate. The events extracted alias u: u must not change until
// FeedMessage returns.
func (p *Pipeline) FeedMessage(seq uint64, u *geyserpb.SubscribeUpdate) error {
	evs, err := p.ex.Update(u, seq, p.events[:0])
	p.events = evs
	return p.FeedExtracted(seq, u, evs, err)
}

// Extractor returns a new extractor with the pipeline's IDLs, for a caller that extracts events on
// another goroutine than the pipeline's (a reader stage) and hands them to FeedExtracted. Extraction
// depends on nothing but the update and the IDLs, so the result is the one FeedMessage computes.
func (p *Pipeline) Extractor() *extract.Extractor {
	return extract.New(extract.Config{IDLs: p.idls, Logger: p.cfg.Logger})
}

// FeedExtracted is FeedMessage for an update whose events were extracted already (by an Extractor
// from this pipeline): evs and xerr are what Extractor.Update returned for u and seq. The events alias
// u; neither may change until FeedExtracted returns.
func (p *Pipeline) FeedExtracted(seq uint64, u *geyserpb.SubscribeUpdate, evs []event.Event, xerr error) error {
	p.stats.Updates++
	slot, _ := geyserpb.SlotOf(u)
	if slot > p.stats.LastSlot {
		p.stats.LastSlot = slot
	}
	if xerr != nil {
		p.stats.BadUpdates++
		p.log.Warn("skipping update that could not be extracted", "seq", seq, "slot", slot, "err", xerr)
		return nil
	}
	p.stats.Events += uint64(len(evs))
	p.muts = p.muts[:0]
	for i := range evs {
		out, err := p.machine.Process(&evs[i])
		if err != nil {
			p.stats.HandlerErrors++
			p.log.Warn("handler failed; event skipped", "seq", seq, "slot", slot, "err", err)
		}
		p.muts = append(p.muts, out...)
	}
	if bm := u.GetBlockMeta(); bm != nil && bm.GetBlockTime() != nil {
		// Block times answer the VM's block_time questions (capture timestamps, ContextTimestamp):
		// they come from the stream itself, so replays reproduce them.
		out, err := p.machine.Deliver(vm.ResolveBlockTime, strconv.FormatUint(bm.GetSlot(), 10),
			strconv.AppendInt(p.scratch[:0], bm.GetBlockTime().GetTimestamp(), 10))
		if err != nil {
			p.stats.HandlerErrors++
			p.log.Warn("block time delivery failed", "slot", bm.GetSlot(), "err", err)
		}
		p.muts = append(p.muts, out...)
	}
	return p.emit(seq, slot)
}

// Deliver hands a resolver answer to the VM (see vm.Machine.Deliver) and sends the mutations it
// produces to the sinks, under the given sequence number.
func (p *Pipeline) Deliver(seq, slot uint64, kind vm.ResolverKind, key string, answer []byte) error {
	out, err := p.machine.Deliver(kind, key, answer)
	if err != nil {
		p.stats.HandlerErrors++
		p.log.Warn("resolver answer failed", "kind", kind, "key", key, "err", err)
	}
	p.muts = append(p.muts[:0], out...)
	return p.emit(seq, slot)
}

func (p *Pipeline) emit(seq, slot uint64) error {
	if len(p.muts) == 0 {
		return nil
	}
	p.stats.Mutations += uint64(len(p.muts))
	b := Batch{Seq: seq, Slot: slot, Mutations: p.muts}
	for _, s := range p.cfg.Sinks {
		if err := s.Apply(b); err != nil {
			return err
		}
	}
	return nil
}

// Stats returns the counters so far; call it from the pipeline's goroutine.
func (p *Pipeline) Stats() Stats {
	s := p.stats
	s.VM = p.machine.Stats()
	return s
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }
