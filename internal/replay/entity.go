package replay

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/pipeline"
)

// EntityState is an entity's state as of a slot, rebuilt from the mutations that touched it.
type EntityState struct {
	Entity string          `json:"entity"`
	Key    json.RawMessage `json:"key"`
	// AtSlot is the slot asked for (0 = end of the recording); LastSlot the slot of the last
	// mutation applied.
	AtSlot   uint64         `json:"at_slot"`
	LastSlot uint64         `json:"last_slot"`
	State    map[string]any `json:"state"`
	// History lists every mutation of the entity up to AtSlot, oldest first.
	History []Line `json:"history,omitempty"`
	// FromGolden tells whether the golden's entity index answered (no VM run was needed).
	FromGolden bool `json:"from_golden"`
}

// KeyCandidates returns the JSON forms a key typed on the command line may have: a number and a
// string for digits, a string otherwise, or the JSON itself when it is JSON.
func KeyCandidates(key string) [][]byte {
	var out [][]byte
	if json.Valid([]byte(key)) && (strings.HasPrefix(key, `"`) || strings.HasPrefix(key, "[") || strings.HasPrefix(key, "{")) {
		return [][]byte{[]byte(key)}
	}
	var n json.Number
	if err := json.Unmarshal([]byte(key), &n); err == nil {
		out = append(out, []byte(n.String()))
	}
	q, _ := json.Marshal(key)
	return append(out, q)
}

// MergePatch merges a mutation's patch into state: objects merge recursively, arrays at the dotted
// paths listed in appendPaths are extended, every other value replaces the old one.
func MergePatch(state map[string]any, patch json.RawMessage, appendPaths []string) error {
	var p map[string]any
	d := json.NewDecoder(bytes.NewReader(patch))
	d.UseNumber()
	if err := d.Decode(&p); err != nil {
		return fmt.Errorf("patch: %w", err)
	}
	app := map[string]bool{}
	for _, a := range appendPaths {
		app[a] = true
	}
	mergeInto(state, p, "", app)
	return nil
}

func mergeInto(dst, src map[string]any, prefix string, app map[string]bool) {
	for k, v := range src {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		switch sv := v.(type) {
		case map[string]any:
			if dv, ok := dst[k].(map[string]any); ok {
				mergeInto(dv, sv, path, app)
				continue
			}
			nm := map[string]any{}
			mergeInto(nm, sv, path, app)
			dst[k] = nm
		case []any:
			if dv, ok := dst[k].([]any); ok && app[path] {
				dst[k] = append(dv, sv...)
				continue
			}
			dst[k] = sv
		default:
			dst[k] = v
		}
	}
}

// EntityOptions select the entity and the slot.
type EntityOptions struct {
	Entity string
	Key    string
	// AtSlot is the slot to rebuild the state at; 0 means the end of the recording.
	AtSlot uint64
	// History keeps every mutation in the result.
	History bool
}

// EntityFromGolden rebuilds an entity from a golden's entity index: only the records that touched
// the entity are read. Unknown entities and keys give an ErrUnknownEntity error listing what exists.
func EntityFromGolden(ctx context.Context, g *Golden, opts EntityOptions) (*EntityState, error) {
	bucket := goldenBucket(g.Info.StackHash, "entities")
	var key []byte
	var seqs []uint64
	for _, cand := range KeyCandidates(opts.Key) {
		prefix := append(append(append([]byte(opts.Entity), 0), cand...), 0)
		end := append(bytes.Clone(prefix[:len(prefix)-1]), 1)
		err := g.a.ForEach(ctx, bucket, prefix, end, func(k, _ []byte) error {
			seqs = append(seqs, binary.BigEndian.Uint64(k[len(k)-8:]))
			return nil
		})
		if err != nil && !errors.Is(err, archive.ErrNotFound) {
			return nil, err
		}
		if len(seqs) > 0 {
			key = cand
			break
		}
	}
	if len(seqs) == 0 {
		return nil, g.unknown(ctx, opts.Entity)
	}
	st := &EntityState{Entity: opts.Entity, Key: key, AtSlot: opts.AtSlot, State: map[string]any{}, FromGolden: true}
	for _, seq := range seqs {
		v, err := g.a.GetKV(goldenBucket(g.Info.StackHash, "records"), seqKey(seq))
		if err != nil {
			return nil, fmt.Errorf("golden record %d: %w", seq, err)
		}
		r, err := decodeRecord(seq, v)
		if err != nil {
			return nil, err
		}
		if opts.AtSlot != 0 && r.Slot > opts.AtSlot {
			continue
		}
		lines, err := ParseLines(r.Lines)
		if err != nil {
			return nil, err
		}
		if err := st.apply(lines, opts.History); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func (st *EntityState) apply(lines []Line, history bool) error {
	for _, l := range lines {
		if l.Entity != st.Entity || !bytes.Equal(l.Key, st.Key) {
			continue
		}
		if err := MergePatch(st.State, l.Patch, l.Append); err != nil {
			return err
		}
		st.LastSlot = l.Slot
		if history {
			st.History = append(st.History, l)
		}
	}
	return nil
}

// unknown builds the error for an entity or key the golden never saw, listing what exists.
func (g *Golden) unknown(ctx context.Context, entity string) error {
	bucket := goldenBucket(g.Info.StackHash, "entities")
	entities := map[string]bool{}
	var keys []string
	seen := map[string]bool{}
	err := g.a.ForEach(ctx, bucket, nil, nil, func(k, _ []byte) error {
		parts := bytes.SplitN(k, []byte{0}, 2)
		name := string(parts[0])
		entities[name] = true
		if name == entity && len(parts) == 2 && len(keys) < 20 {
			kk := string(parts[1][:len(parts[1])-9])
			if !seen[kk] {
				seen[kk] = true
				keys = append(keys, kk)
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, archive.ErrNotFound) {
		return err
	}
	if !entities[entity] {
		names := make([]string, 0, len(entities))
		for n := range entities {
			names = append(names, n)
		}
		sort.Strings(names)
		return fmt.Errorf("%w %q; entities with mutations: %s", ErrUnknownEntity, entity, strings.Join(names, ", "))
	}
	return fmt.Errorf("%w: %s has no key like that; some keys: %s", ErrUnknownEntity, entity, strings.Join(keys, ", "))
}

// EntityByReplay rebuilds an entity by running the archive through the stack up to AtSlot. It is
// the slow path, used when the archive has no golden for the stack.
func EntityByReplay(ctx context.Context, a *archive.Archive, ro Options, opts EntityOptions) (*EntityState, error) {
	cands := KeyCandidates(opts.Key)
	st := &EntityState{Entity: opts.Entity, AtSlot: opts.AtSlot, State: map[string]any{}}
	entities := map[string]bool{}
	keys := map[string]bool{}
	var buf []byte
	sink := pipeline.SinkFunc(func(b pipeline.Batch) error {
		buf = buf[:0]
		for i := range b.Mutations {
			m := &b.Mutations[i]
			entities[m.Export] = true
			if m.Export != opts.Entity {
				continue
			}
			if len(keys) < 20 {
				keys[string(m.Key)] = true
			}
			if st.Key == nil {
				for _, c := range cands {
					if bytes.Equal(c, m.Key) {
						st.Key = bytes.Clone(c)
					}
				}
			}
			if st.Key != nil && bytes.Equal(st.Key, m.Key) {
				buf = AppendLine(buf, m)
			}
		}
		if len(buf) == 0 {
			return nil
		}
		lines, err := ParseLines(buf)
		if err != nil {
			return err
		}
		return st.apply(lines, opts.History)
	})
	ro.Out, ro.WriteGolden = nil, false
	ro.ToSlot = opts.AtSlot
	ro.Sinks = append(append([]pipeline.Sink(nil), ro.Sinks...), sink)
	if _, err := Run(ctx, a, ro); err != nil {
		return nil, err
	}
	if st.Key == nil {
		if !entities[opts.Entity] {
			names := make([]string, 0, len(entities))
			for n := range entities {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("%w %q; entities with mutations: %s", ErrUnknownEntity, opts.Entity, strings.Join(names, ", "))
		}
		ks := make([]string, 0, len(keys))
		for k := range keys {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return nil, fmt.Errorf("%w: %s has no key like that; some keys: %s", ErrUnknownEntity, opts.Entity, strings.Join(ks, ", "))
	}
	return st, nil
}
