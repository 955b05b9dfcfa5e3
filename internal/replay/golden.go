package replay

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"slices"
	"sort"
	"strings"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/buildinfo"
	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/pipeline"
	"github.com/hyperstack-go/hyperstack/internal/vm"
)

// Info describes a golden.
type Info struct {
	StackHash string `json:"stack_hash"`
	StackName string `json:"stack_name"`
	// FromSlot and ToSlot are the slot range replayed (ToSlot 0 = to the end of the archive).
	FromSlot uint64 `json:"from_slot"`
	ToSlot   uint64 `json:"to_slot"`
	// Updates is the number of archive updates run; Records those that produced mutations.
	Updates   uint64 `json:"updates"`
	Records   uint64 `json:"records"`
	Mutations uint64 `json:"mutations"`
	// LastSeq is the sequence number of the last update covered: records after it are ignored.
	LastSeq uint64 `json:"last_seq"`
	// Digest is the chain digest after the last record (hex).
	Digest  string `json:"digest"`
	Version string `json:"hyperstack_version"`
	// Live is true for goldens computed while recording.
	Live bool `json:"live,omitempty"`
}

// Full tells whether the golden was computed from the start of the archive.
func (i Info) Full() bool { return i.FromSlot == 0 }

// Record is one golden record: the JSON lines one update produced.
type Record struct {
	// Seq and Slot are the archive update's sequence number and slot.
	Seq  uint64
	Slot uint64
	// Digest is the chain digest after this record.
	Digest [32]byte
	Lines  []byte
}

// Bucket parts under goldens/<hash>.
const (
	partRecords  = "records"
	partSlots    = "slots"
	partEntities = "entities"
	partInfo     = "info"
)

var infoKey = []byte("info")

// names are the bucket paths of one stack hash's golden.
type names struct {
	records, slots, entities, info, resolver string
}

func namesOf(hash string) names {
	g := archive.NSGoldens + "/" + hash + "/"
	return names{
		records:  g + partRecords,
		slots:    g + partSlots,
		entities: g + partEntities,
		info:     g + partInfo,
		resolver: archive.NSResolver + "/" + hash,
	}
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// chainer computes the digest chain: digest = sha256(previous digest ‖ seq ‖ slot ‖ lines), with the
// sequence number and slot as 8-byte big-endian integers.
type chainer struct {
	h   hash.Hash
	hdr [16]byte
}

func newChainer() *chainer { return &chainer{h: sha256.New()} }

func (c *chainer) next(prev [32]byte, seq, slot uint64, lines []byte) [32]byte {
	c.h.Reset()
	c.h.Write(prev[:])
	binary.BigEndian.PutUint64(c.hdr[:8], seq)
	binary.BigEndian.PutUint64(c.hdr[8:], slot)
	c.h.Write(c.hdr[:])
	c.h.Write(lines)
	var out [32]byte
	c.h.Sum(out[:0])
	return out
}

// Record value layout: digest (32 bytes), slot (u64 BE), then the JSON lines.
func appendRecordValue(dst []byte, digest [32]byte, slot uint64, lines []byte) []byte {
	dst = append(dst, digest[:]...)
	dst = binary.BigEndian.AppendUint64(dst, slot)
	return append(dst, lines...)
}

func decodeRecord(seq uint64, v []byte) (Record, error) {
	if len(v) < 40 {
		return Record{}, fmt.Errorf("%w: record %d has %d bytes, want at least 40", ErrCorruptGolden, seq, len(v))
	}
	r := Record{Seq: seq, Slot: binary.BigEndian.Uint64(v[32:40]), Lines: v[40:]}
	copy(r.Digest[:], v[:32])
	return r, nil
}

// Entity index key: entity name, 0x00, key JSON, 0x00, update seq (u64 BE). JSON text never holds a
// raw 0x00, so the prefix entity\0key\0 selects exactly one entity key. The value is the record's
// slot (u64 BE) and the lines of that entity key inside the record: (offset u32 BE, length u32 BE)
// pairs.
func appendIndexPrefix(dst []byte, entity string, key []byte) []byte {
	dst = append(dst, entity...)
	dst = append(dst, 0)
	dst = append(dst, key...)
	return append(dst, 0)
}

func parseIndexKey(k []byte) (entity string, key []byte, seq uint64, ok bool) {
	i := bytes.IndexByte(k, 0)
	if i < 0 || len(k) < i+1+1+8 || k[len(k)-9] != 0 {
		return "", nil, 0, false
	}
	return string(k[:i]), k[i+1 : len(k)-9], binary.BigEndian.Uint64(k[len(k)-8:]), true
}

// span locates one line inside a record's lines.
type span struct{ off, n uint32 }

func decodeIndexValue(v []byte) (slot uint64, spans []span, err error) {
	if len(v)%8 != 0 || len(v) < 16 {
		return 0, nil, fmt.Errorf("%w: entity index value of %d bytes", ErrCorruptGolden, len(v))
	}
	slot, v = binary.BigEndian.Uint64(v), v[8:]
	spans = make([]span, len(v)/8)
	for i := range spans {
		spans[i] = span{binary.BigEndian.Uint32(v[i*8:]), binary.BigEndian.Uint32(v[i*8+4:])}
	}
	return slot, spans, nil
}

// group collects the lines of one entity key within a record.
type group struct {
	entity string
	key    []byte
	spans  []byte
}

// put is one pending key-value write; k and v index the writer's arena.
type put struct {
	bucket     *string
	k0, k1, v1 int
}

// flushBytes is the buffered size that triggers a write in batch mode.
const flushBytes = 8 << 20

// GoldenWriter is a pipeline sink that stores a run's output as the golden of a stack hash. In batch
// mode (replay --write-golden) records are buffered and written in large archive transactions. In live
// mode (see Live) every write is queued on the recording's archive.Writer, so it commits atomically
// with the update's batch or a later one.
type GoldenWriter struct {
	a     *archive.Archive
	w     *archive.Writer
	n     names
	info  Info
	prev  [32]byte
	chain *chainer

	lines  []byte
	groups []group
	scrat  []byte

	// Batch mode: cur fills while spare, the previous buffer, is written by a background
	// goroutine (inflight delivers its result).
	cur, spare *pending
	inflight   chan error

	err    error
	closed bool
}

// pending is a buffer of golden writes.
type pending struct {
	arena   []byte
	puts    []put
	slots   map[uint64][32]byte
	answers map[string][]byte
}

func newPending() *pending {
	return &pending{slots: map[uint64][32]byte{}, answers: map[string][]byte{}}
}

func (p *pending) empty() bool { return len(p.puts) == 0 && len(p.slots) == 0 && len(p.answers) == 0 }

func (p *pending) reset() {
	p.arena, p.puts = p.arena[:0], p.puts[:0]
	clear(p.slots)
	clear(p.answers)
}

// NewGoldenWriter replaces any golden of info.StackHash (and its resolver answers) with a new, empty
// one. Read the old answers first (Answers) if the run should reuse them.
func NewGoldenWriter(a *archive.Archive, info Info) (*GoldenWriter, error) {
	if info.StackHash == "" {
		return nil, ErrNoStackHash
	}
	info.Version = buildinfo.Version()
	info.Updates, info.Records, info.Mutations, info.LastSeq, info.Digest = 0, 0, 0, 0, ""
	n := namesOf(info.StackHash)
	err := a.UpdateKV(func(tx *archive.KVTx) error {
		for _, b := range []string{archive.NSGoldens + "/" + info.StackHash, n.resolver} {
			if err := tx.DeleteBucket(b); err != nil && !errors.Is(err, archive.ErrNotFound) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reset golden %s: %w", info.StackHash, err)
	}
	return &GoldenWriter{a: a, n: n, info: info, chain: newChainer(), cur: newPending(), spare: newPending()}, nil
}

// Apply implements pipeline.Sink.
func (g *GoldenWriter) Apply(b pipeline.Batch) error {
	if g.err != nil {
		return g.err
	}
	g.lines = g.lines[:0]
	g.groups = g.groups[:0]
	for i := range b.Mutations {
		m := &b.Mutations[i]
		off := len(g.lines)
		g.lines = AppendLine(g.lines, m)
		g.addSpan(m, b.Slot, off, len(g.lines)-off)
	}
	g.prev = g.chain.next(g.prev, b.Seq, b.Slot, g.lines)
	g.info.Records++
	g.info.Mutations += uint64(len(b.Mutations))

	g.scrat = appendRecordValue(g.scrat[:0], g.prev, b.Slot, g.lines)
	if err := g.put(&g.n.records, seqKey(b.Seq), g.scrat); err != nil {
		return err
	}
	if g.w != nil {
		if err := g.put(&g.n.slots, archive.SlotKey(b.Slot), g.prev[:]); err != nil {
			return err
		}
	} else {
		g.cur.slots[b.Slot] = g.prev // the last record of the slot wins
	}
	for i := range g.groups {
		gr := &g.groups[i]
		g.scrat = appendIndexPrefix(g.scrat[:0], gr.entity, gr.key)
		g.scrat = binary.BigEndian.AppendUint64(g.scrat, b.Seq)
		if err := g.put(&g.n.entities, g.scrat, gr.spans); err != nil {
			return err
		}
	}
	if g.w != nil {
		// Live: the info moves with the records, so a crash leaves a golden whose info covers
		// exactly the records committed with it.
		if err := g.putInfo(); err != nil {
			return err
		}
	} else if len(g.cur.arena) >= flushBytes {
		return g.flushAsync()
	}
	return nil
}

func (g *GoldenWriter) addSpan(m *event.Mutation, slot uint64, off, n int) {
	var gr *group
	for i := range g.groups {
		if g.groups[i].entity == m.Export && bytes.Equal(g.groups[i].key, m.Key) {
			gr = &g.groups[i]
			break
		}
	}
	if gr == nil {
		if len(g.groups) < cap(g.groups) {
			g.groups = g.groups[:len(g.groups)+1] // reuse the spans buffer of an earlier record
		} else {
			g.groups = append(g.groups, group{})
		}
		gr = &g.groups[len(g.groups)-1]
		gr.entity, gr.key = m.Export, m.Key
		gr.spans = binary.BigEndian.AppendUint64(gr.spans[:0], slot)
	}
	gr.spans = binary.BigEndian.AppendUint32(gr.spans, uint32(off))
	gr.spans = binary.BigEndian.AppendUint32(gr.spans, uint32(n))
}

// put writes now (live) or buffers (batch). k and v are copied.
func (g *GoldenWriter) put(bucket *string, k, v []byte) error {
	if g.w != nil {
		if err := g.w.AppendKV(*bucket, k, v); err != nil {
			g.err = fmt.Errorf("queue golden record: %w", err)
			return g.err
		}
		return nil
	}
	c := g.cur
	k0 := len(c.arena)
	c.arena = append(c.arena, k...)
	k1 := len(c.arena)
	c.arena = append(c.arena, v...)
	c.puts = append(c.puts, put{bucket: bucket, k0: k0, k1: k1, v1: len(c.arena)})
	return nil
}

func (g *GoldenWriter) putInfo() error {
	i := g.Info()
	b, err := json.Marshal(i)
	if err != nil {
		return err
	}
	return g.put(&g.n.info, infoKey, b)
}

// OnResolve records a resolver answer the run used; wire it to vm.Config.OnResolve.
func (g *GoldenWriter) OnResolve(kind, key string, answer []byte) {
	if kind == string(vm.ResolveBlockTime) {
		// Block times come from the stream's BlockMeta updates, which the pipeline delivers at the
		// same point of every replay; answering them early from the golden would change the output.
		return
	}
	k := kind + "\x00" + key
	if g.w != nil {
		if err := g.w.AppendKV(g.n.resolver, []byte(k), answer); err != nil && g.err == nil {
			g.err = fmt.Errorf("queue resolver answer: %w", err)
		}
		return
	}
	g.cur.answers[k] = bytes.Clone(answer)
}

// Covered records how far the run went: the number of updates fed and the last sequence number.
func (g *GoldenWriter) Covered(updates, lastSeq uint64) {
	g.info.Updates, g.info.LastSeq = updates, lastSeq
}

// live switches the writer to live mode: buffered writes are flushed first.
func (g *GoldenWriter) live(w *archive.Writer) error {
	if err := g.flush(); err != nil {
		return err
	}
	g.w = w
	return nil
}

// flush writes everything buffered and waits for it.
func (g *GoldenWriter) flush() error {
	if err := g.flushAsync(); err != nil {
		return err
	}
	return g.wait()
}

// wait waits for the background write, if any.
func (g *GoldenWriter) wait() error {
	if g.inflight != nil {
		if err := <-g.inflight; err != nil && g.err == nil {
			g.err = fmt.Errorf("write golden: %w", err)
		}
		g.inflight = nil
	}
	return g.err
}

// flushAsync starts writing the buffer in the background (after the previous write finished) and
// continues with an empty one.
func (g *GoldenWriter) flushAsync() error {
	if err := g.wait(); err != nil {
		return err
	}
	if g.cur.empty() {
		return nil
	}
	b := g.cur
	g.cur, g.spare = g.spare, b
	g.cur.reset()
	g.inflight = make(chan error, 1)
	go func() { g.inflight <- g.write(b) }()
	return nil
}

// write stores a buffer in one transaction.
func (g *GoldenWriter) write(b *pending) error {
	// Keys in order per bucket: bbolt then touches each page once. Keys are unique per bucket.
	slices.SortFunc(b.puts, func(x, y put) int {
		if x.bucket != y.bucket {
			return strings.Compare(*x.bucket, *y.bucket)
		}
		return bytes.Compare(b.arena[x.k0:x.k1], b.arena[y.k0:y.k1])
	})
	slots := make([]uint64, 0, len(b.slots))
	for s := range b.slots {
		slots = append(slots, s)
	}
	slices.Sort(slots)
	return g.a.UpdateKV(func(tx *archive.KVTx) error {
		for _, p := range b.puts {
			if err := tx.Put(*p.bucket, b.arena[p.k0:p.k1], b.arena[p.k1:p.v1]); err != nil {
				return err
			}
		}
		for _, s := range slots {
			d := b.slots[s]
			if err := tx.Put(g.n.slots, archive.SlotKey(s), d[:]); err != nil {
				return err
			}
		}
		for k, v := range b.answers {
			if err := tx.Put(g.n.resolver, []byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close flushes what is buffered and writes the golden's final info. It is idempotent. In live mode
// the archive writer may already be closed: the info is written in its own transaction.
func (g *GoldenWriter) Close() error {
	if g.closed {
		return g.err
	}
	g.closed = true
	g.w = nil
	if err := g.flush(); err != nil {
		return err
	}
	b, err := json.Marshal(g.Info())
	if err != nil {
		return err
	}
	return g.a.UpdateKV(func(tx *archive.KVTx) error {
		return tx.Put(g.n.info, infoKey, b)
	})
}

// Info returns the golden's metadata so far.
func (g *GoldenWriter) Info() Info {
	i := g.info
	i.Digest = hex.EncodeToString(g.prev[:])
	return i
}

// Goldens lists the complete goldens in the archive (those whose info was written), ordered by stack
// hash.
func Goldens(a *archive.Archive) ([]Info, error) {
	hs, err := a.Buckets(archive.NSGoldens)
	if errors.Is(err, archive.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sort.Strings(hs)
	var out []Info
	for _, h := range hs {
		in, err := readInfo(a, h)
		if errors.Is(err, archive.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

func readInfo(a *archive.Archive, hash string) (Info, error) {
	var in Info
	v, err := a.GetKV(namesOf(hash).info, infoKey)
	if err != nil {
		return in, err
	}
	if err := json.Unmarshal(v, &in); err != nil {
		return in, fmt.Errorf("%w: golden %s info: %v", ErrCorruptGolden, hash, err)
	}
	return in, nil
}

// MatchGolden returns the stack hash of the one golden whose hash starts with prefix (a full hash
// is returned as is when it has a golden). No match gives ErrNoGoldens or a *NoGoldenError listing
// the goldens; several matches are an error listing them.
func MatchGolden(a *archive.Archive, prefix string) (string, error) {
	all, err := Goldens(a)
	if err != nil {
		return "", err
	}
	if len(all) == 0 {
		return "", ErrNoGoldens
	}
	var match []string
	for _, in := range all {
		if in.StackHash == prefix {
			return prefix, nil
		}
		if strings.HasPrefix(in.StackHash, prefix) {
			match = append(match, in.StackHash)
		}
	}
	switch len(match) {
	case 0:
		return "", &NoGoldenError{Hash: prefix, Available: all}
	case 1:
		return match[0], nil
	}
	return "", fmt.Errorf("stack hash prefix %q is ambiguous: %s", prefix, strings.Join(match, ", "))
}

// Golden is a stored golden, opened for reading.
type Golden struct {
	a    *archive.Archive
	n    names
	Info Info
}

// OpenGolden opens the golden of hash. It fails with ErrNoGoldens when the archive has none, and
// with *NoGoldenError listing the available goldens when none is for hash.
func OpenGolden(a *archive.Archive, hash string) (*Golden, error) {
	in, err := readInfo(a, hash)
	if errors.Is(err, archive.ErrNotFound) {
		all, lerr := Goldens(a)
		if lerr != nil {
			return nil, lerr
		}
		if len(all) == 0 {
			return nil, ErrNoGoldens
		}
		return nil, &NoGoldenError{Hash: hash, Available: all}
	}
	if err != nil {
		return nil, err
	}
	return &Golden{a: a, n: namesOf(hash), Info: in}, nil
}

// Records calls fn for every record with fromSeq ≤ Seq ≤ min(toSeq, Info.LastSeq), in order
// (toSeq 0 = no bound but the golden's). Record.Lines belongs to fn.
func (g *Golden) Records(ctx context.Context, fromSeq, toSeq uint64, fn func(Record) error) error {
	last := g.Info.LastSeq
	if toSeq != 0 && (last == 0 || toSeq < last) {
		last = toSeq
	}
	var to []byte
	if last != 0 && last < ^uint64(0) {
		to = seqKey(last + 1)
	}
	err := g.a.ForEach(ctx, g.n.records, seqKey(fromSeq), to, func(k, v []byte) error {
		if len(k) != 8 {
			return fmt.Errorf("%w: record key of %d bytes", ErrCorruptGolden, len(k))
		}
		r, err := decodeRecord(binary.BigEndian.Uint64(k), v)
		if err != nil {
			return err
		}
		return fn(r)
	})
	if errors.Is(err, archive.ErrNotFound) {
		return nil
	}
	return err
}

// Record returns the record of update seq, or an error wrapping archive.ErrNotFound.
func (g *Golden) Record(seq uint64) (Record, error) {
	v, err := g.a.GetKV(g.n.records, seqKey(seq))
	if err != nil {
		return Record{}, err
	}
	return decodeRecord(seq, v)
}

// SlotDigests calls fn with the chain digest after the last record of each slot in
// [fromSlot, toSlot].
func (g *Golden) SlotDigests(ctx context.Context, fromSlot, toSlot uint64, fn func(slot uint64, digest [32]byte) error) error {
	err := g.a.ForEachSlot(ctx, g.n.slots, fromSlot, toSlot, func(slot uint64, v []byte) error {
		if len(v) != 32 {
			return fmt.Errorf("%w: slot %d digest of %d bytes", ErrCorruptGolden, slot, len(v))
		}
		return fn(slot, [32]byte(v))
	})
	if errors.Is(err, archive.ErrNotFound) {
		return nil
	}
	return err
}

// Answers returns the resolver answers stored with the golden of hash, keyed by kind, 0x00, key.
func Answers(ctx context.Context, a *archive.Archive, hash string) (map[string][]byte, error) {
	out := map[string][]byte{}
	if hash == "" {
		return out, nil
	}
	err := a.ForEach(ctx, namesOf(hash).resolver, nil, nil, func(k, v []byte) error {
		out[string(k)] = v
		return nil
	})
	if errors.Is(err, archive.ErrNotFound) {
		return out, nil
	}
	return out, err
}
