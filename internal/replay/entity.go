package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/pipeline"
)

// DefaultMaxArrayLength caps arrays extended through append paths, as the server's entity cache does.
const DefaultMaxArrayLength = 100

// Change is one mutation of an entity, with the archive update that produced it.
type Change struct {
	// UpdateSeq is the archive sequence number of the update that produced the mutation.
	UpdateSeq uint64 `json:"update_seq"`
	Line
}

// EntityState is an entity's state as of a slot, rebuilt from the mutations that touched it.
type EntityState struct {
	Entity string          `json:"entity"`
	Key    json.RawMessage `json:"key"`
	// AtSlot is the slot asked for (0 = end of the recording).
	AtSlot uint64 `json:"at_slot"`
	// FirstSlot and LastSlot are the slots of the first and of the last mutation applied; Mutations
	// counts them.
	FirstSlot uint64 `json:"first_slot"`
	LastSlot  uint64 `json:"last_slot"`
	Mutations int    `json:"mutations"`
	// State is the merged state.
	State map[string]any `json:"state"`
	// History lists every mutation of the entity up to AtSlot, oldest first (EntityOptions.History).
	History []Change `json:"history,omitempty"`
	// FromGolden tells whether a golden's entity index answered (no VM run was needed).
	FromGolden bool `json:"from_golden"`
	// Updates is the number of archive updates replayed (slow path only).
	Updates uint64 `json:"updates_replayed,omitempty"`
}

// KeyCandidates returns the JSON forms a key typed on the command line may have: the text itself
// when it is a JSON string, array or object; otherwise a JSON number (when it parses as one) and a
// JSON string.
func KeyCandidates(key string) [][]byte {
	t := strings.TrimSpace(key)
	if json.Valid([]byte(t)) && (strings.HasPrefix(t, `"`) || strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{")) {
		var buf bytes.Buffer
		if json.Compact(&buf, []byte(t)) == nil {
			return [][]byte{buf.Bytes()}
		}
	}
	var out [][]byte
	var n json.Number
	if err := json.Unmarshal([]byte(t), &n); err == nil {
		out = append(out, []byte(n.String()))
	}
	q, _ := json.Marshal(key)
	return append(out, q)
}

// MergePatch merges a mutation's patch into state with the clients' rules: objects merge
// recursively, arrays at the dotted paths listed in appendPaths are extended (and capped to the
// newest maxArray items; 0 or less is no cap), every other value replaces the old one, null included.
// Numbers are kept as json.Number, so no precision is lost.
func MergePatch(state map[string]any, patch json.RawMessage, appendPaths []string, maxArray int) error {
	if err := mergeJSON(state, patch, appendPaths, maxArray); err != nil {
		return fmt.Errorf("patch: %w", err)
	}
	return nil
}

// EntityOptions select the entity and the slot.
type EntityOptions struct {
	Entity string
	// Key is the key as typed: JSON, a number or a plain string (see KeyCandidates).
	Key string
	// AtSlot is the slot to rebuild the state at (mutations of updates of slots ≤ AtSlot); 0 means
	// the end of the recording.
	AtSlot uint64
	// History keeps every mutation in the result.
	History bool
	// MaxArrayLength caps appended arrays; 0 means DefaultMaxArrayLength, negative means no cap.
	MaxArrayLength int
}

func (o EntityOptions) maxArray() int {
	if o.MaxArrayLength == 0 {
		return DefaultMaxArrayLength
	}
	return o.MaxArrayLength
}

func (st *EntityState) apply(updateSeq uint64, l Line, opts EntityOptions) error {
	if len(l.Append) == 0 {
		l.Append = nil
	}
	if err := MergePatch(st.State, l.Patch, l.Append, opts.maxArray()); err != nil {
		return fmt.Errorf("update %d: %w", updateSeq, err)
	}
	if st.Mutations == 0 {
		st.FirstSlot = l.Slot
	}
	st.Mutations++
	st.LastSlot = l.Slot
	if opts.History {
		st.History = append(st.History, Change{UpdateSeq: updateSeq, Line: l})
	}
	return nil
}

// Covers tells whether the golden can answer an entity query at atSlot (0 = end) for an archive
// whose last update is archiveLastSeq: it must have been computed over the whole archive in order
// (a slot range skips updates of other slots interleaved with it, so its VM state differs), and
// cover every update up to the last one of a slot ≤ atSlot.
func (g *Golden) Covers(ctx context.Context, atSlot, archiveLastSeq uint64) (bool, error) {
	in := g.Info
	if !in.Full() || in.ToSlot != 0 {
		return false, nil
	}
	if atSlot == 0 {
		return in.LastSeq >= archiveLastSeq, nil
	}
	hi, err := lastSeqAtOrBefore(ctx, g.a, atSlot)
	if err != nil {
		return false, err
	}
	return hi <= in.LastSeq, nil
}

// lastSeqAtOrBefore returns the highest sequence number of an update of a slot ≤ slot.
func lastSeqAtOrBefore(ctx context.Context, a *archive.Archive, slot uint64) (uint64, error) {
	var hi uint64
	err := a.Slots(ctx, 0, slot, func(si archive.SlotInfo) error {
		hi = max(hi, si.LastSeq)
		return nil
	})
	return hi, err
}

// EntityFromGolden rebuilds an entity from a golden's entity index: only the records that touched
// the entity are read, newest first, and only its own lines in them; values a newer mutation
// replaced are skimmed, not decoded. Unknown entities and keys give an ErrUnknownEntity error
// listing what exists; an entity whose first mutation comes after AtSlot gives ErrNotYet.
func EntityFromGolden(ctx context.Context, g *Golden, opts EntityOptions) (*EntityState, error) {
	st := &EntityState{Entity: opts.Entity, AtSlot: opts.AtSlot, FromGolden: true}
	type hit struct {
		seq, slot uint64
		spans     []span
	}
	var hits []hit
	firstSlot := uint64(math.MaxUint64)
	for _, cand := range KeyCandidates(opts.Key) {
		prefix := appendIndexPrefix(nil, opts.Entity, cand)
		end := append(bytes.Clone(prefix[:len(prefix)-1]), 1)
		err := g.a.ForEach(ctx, g.n.entities, prefix, end, func(k, v []byte) error {
			_, _, seq, ok := parseIndexKey(k)
			if !ok {
				return fmt.Errorf("%w: entity index key %q", ErrCorruptGolden, k)
			}
			if g.Info.LastSeq != 0 && seq > g.Info.LastSeq {
				return nil // written after the golden's info: not covered
			}
			slot, sp, err := decodeIndexValue(v)
			if err != nil {
				return err
			}
			firstSlot = min(firstSlot, slot)
			if opts.AtSlot == 0 || slot <= opts.AtSlot {
				hits = append(hits, hit{seq, slot, sp})
			}
			return nil
		})
		if err != nil && !errors.Is(err, archive.ErrNotFound) {
			return nil, err
		}
		if firstSlot != math.MaxUint64 {
			st.Key = cand
			break
		}
	}
	if st.Key == nil {
		return nil, g.unknown(ctx, opts.Entity)
	}
	if len(hits) == 0 {
		return nil, notYet(opts, st.Key, firstSlot)
	}
	rm := newReverseMerge(opts.maxArray())
	for i := len(hits) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h := hits[i]
		r, err := g.Record(h.seq)
		if err != nil {
			return nil, fmt.Errorf("golden record %d: %w", h.seq, err)
		}
		for j := len(h.spans) - 1; j >= 0; j-- {
			s := h.spans[j]
			if uint64(s.off)+uint64(s.n) > uint64(len(r.Lines)) {
				return nil, fmt.Errorf("%w: entity index points past record %d", ErrCorruptGolden, h.seq)
			}
			l, err := parseLine(r.Lines[s.off : s.off+s.n])
			if err != nil {
				return nil, fmt.Errorf("%w: record %d: %v", ErrCorruptGolden, h.seq, err)
			}
			if err := rm.older(l.Patch, l.Append); err != nil {
				return nil, fmt.Errorf("%w: record %d: patch: %v", ErrCorruptGolden, h.seq, err)
			}
			if st.Mutations == 0 {
				st.LastSlot = l.Slot
			}
			st.Mutations++
			st.FirstSlot = l.Slot
			if opts.History {
				st.History = append(st.History, Change{UpdateSeq: h.seq, Line: l}) // parseLine leaves an empty Append nil
			}
		}
	}
	slices.Reverse(st.History)
	st.State = rm.State()
	return st, nil
}

func notYet(opts EntityOptions, key []byte, firstSlot uint64) error {
	return fmt.Errorf("%w: %s %s has no mutation at or before slot %d (its first is at slot %d)",
		ErrNotYet, opts.Entity, key, opts.AtSlot, firstSlot)
}

// maxListed bounds the keys an unknown-key error lists.
const maxListed = 20

// unknown builds the error for an entity or key the golden never saw, listing what exists. It skips
// through the index (one seek per distinct entity or key), so it stays cheap on large goldens.
func (g *Golden) unknown(ctx context.Context, entity string) error {
	var entities []string
	var from []byte
	for {
		var name string
		err := g.a.ForEach(ctx, g.n.entities, from, nil, func(k, _ []byte) error {
			e, _, _, ok := parseIndexKey(k)
			if !ok {
				return fmt.Errorf("%w: entity index key %q", ErrCorruptGolden, k)
			}
			name = e
			return errStop
		})
		if err != nil && !errors.Is(err, errStop) && !errors.Is(err, archive.ErrNotFound) {
			return err
		}
		if name == "" {
			break
		}
		entities = append(entities, name)
		from = append([]byte(name), 1)
	}
	if !slices.Contains(entities, entity) {
		return unknownEntityError(entity, entities)
	}
	var keys []string
	from = append([]byte(entity), 0)
	end := append([]byte(entity), 1)
	for len(keys) < maxListed {
		var key []byte
		err := g.a.ForEach(ctx, g.n.entities, from, end, func(k, _ []byte) error {
			_, kk, _, ok := parseIndexKey(k)
			if !ok {
				return fmt.Errorf("%w: entity index key %q", ErrCorruptGolden, k)
			}
			key = kk
			return errStop
		})
		if err != nil && !errors.Is(err, errStop) && !errors.Is(err, archive.ErrNotFound) {
			return err
		}
		if key == nil {
			break
		}
		keys = append(keys, string(key))
		from = append(appendIndexPrefix(nil, entity, key)[:len(entity)+1+len(key)], 1)
	}
	return unknownKeyError(entity, keys, 0)
}

func unknownEntityError(entity string, entities []string) error {
	sort.Strings(entities)
	if len(entities) == 0 {
		return fmt.Errorf("%w %q: the run produced no mutations at all", ErrUnknownEntity, entity)
	}
	return fmt.Errorf("%w %q; entities with mutations: %s", ErrUnknownEntity, entity, strings.Join(entities, ", "))
}

func unknownKeyError(entity string, keys []string, atSlot uint64) error {
	more := ""
	if len(keys) >= maxListed {
		more = ", ..."
	}
	when := ""
	if atSlot != 0 {
		when = fmt.Sprintf(" at or before slot %d", atSlot)
	}
	return fmt.Errorf("%w: %s has no such key%s; keys include: %s%s", ErrUnknownEntity, entity, when,
		strings.Join(keys, ", "), more)
}

// EntityByReplay rebuilds an entity by running the archive through the stack from the start up to
// the last update of a slot ≤ AtSlot, applying the entity's mutations from updates of slots ≤ AtSlot.
// It is the slow path, for archives without a golden of the stack; it gives the same state as
// EntityFromGolden. ro's slot range, ToSeq, Out and WriteGolden are set here.
func EntityByReplay(ctx context.Context, a *archive.Archive, ro Options, opts EntityOptions) (*EntityState, error) {
	cands := KeyCandidates(opts.Key)
	st := &EntityState{Entity: opts.Entity, AtSlot: opts.AtSlot, State: map[string]any{}}
	var entities []string
	var keys []string
	var firstSlot uint64
	sink := pipeline.SinkFunc(func(b pipeline.Batch) error {
		for i := range b.Mutations {
			m := &b.Mutations[i]
			if !slices.Contains(entities, m.Export) {
				entities = append(entities, m.Export)
			}
			if m.Export != opts.Entity {
				continue
			}
			if st.Key == nil {
				for _, c := range cands {
					if bytes.Equal(c, m.Key) {
						st.Key = bytes.Clone(c)
					}
				}
				if st.Key == nil {
					if len(keys) < maxListed && !slices.Contains(keys, string(m.Key)) {
						keys = append(keys, string(m.Key))
					}
					continue
				}
			}
			if !bytes.Equal(st.Key, m.Key) {
				continue
			}
			if firstSlot == 0 {
				firstSlot = b.Slot
			}
			if opts.AtSlot != 0 && b.Slot > opts.AtSlot {
				continue
			}
			l := Line{Slot: m.Slot, Seq: m.Seq, Entity: m.Export, Key: m.Key, Patch: m.Patch, Append: m.Append,
				Handler: m.Handler}
			if err := st.apply(b.Seq, l, opts); err != nil {
				return err
			}
		}
		return nil
	})
	ro.Out, ro.WriteGolden = nil, false
	ro.FromSlot, ro.ToSlot, ro.ToSeq = 0, 0, 0
	if opts.AtSlot != 0 {
		hi, err := lastSeqAtOrBefore(ctx, a, opts.AtSlot)
		if err != nil {
			return nil, err
		}
		if hi == 0 {
			return nil, fmt.Errorf("%w: the archive has no update at or before slot %d", ErrNotYet, opts.AtSlot)
		}
		ro.ToSeq = hi
	}
	ro.Sinks = append(append([]pipeline.Sink(nil), ro.Sinks...), sink)
	res, err := Run(ctx, a, ro)
	if err != nil {
		return nil, err
	}
	st.Updates = res.Updates
	if st.Key == nil {
		if !slices.Contains(entities, opts.Entity) {
			return nil, unknownEntityError(opts.Entity, entities)
		}
		return nil, unknownKeyError(opts.Entity, keys, opts.AtSlot)
	}
	if st.Mutations == 0 {
		return nil, notYet(opts, st.Key, firstSlot)
	}
	return st, nil
}
