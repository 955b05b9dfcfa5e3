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
	"sort"
	"strings"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/buildinfo"
	"github.com/hyperstack-go/hyperstack/internal/pipeline"
)

var (
	// ErrNoGoldens is returned when the archive holds no golden at all.
	ErrNoGoldens = errors.New("archive has no goldens")
	// ErrUnknownEntity is returned when an entity or key has no mutations in a golden.
	ErrUnknownEntity = errors.New("no such entity")
)

// NoGoldenError is returned when the archive has goldens, but none for the requested stack hash.
type NoGoldenError struct {
	Hash      string
	Available []string
}

func (e *NoGoldenError) Error() string {
	return fmt.Sprintf("no golden for stack hash %s; goldens exist for: %s", e.Hash, strings.Join(e.Available, ", "))
}

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
	// LastSeq is the sequence number of the last update covered.
	LastSeq uint64 `json:"last_seq"`
	// Digest is the final chain digest (hex).
	Digest  string `json:"digest"`
	Version string `json:"hyperstack_version"`
	// Live is true for goldens computed while recording.
	Live bool `json:"live,omitempty"`
}

// Record is one golden record: the lines one update produced.
type Record struct {
	Seq    uint64
	Slot   uint64
	Digest [32]byte
	Lines  []byte
}

func goldenBucket(hash, part string) string { return archive.NSGoldens + "/" + hash + "/" + part }
func resolverBucket(hash string) string     { return archive.NSResolver + "/" + hash }

var infoKey = []byte("info")

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

func chain(prev [32]byte, seq, slot uint64, lines []byte) [32]byte {
	h := sha256.New()
	h.Write(prev[:])
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], seq)
	binary.BigEndian.PutUint64(b[8:], slot)
	h.Write(b[:])
	h.Write(lines)
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func encodeRecord(r Record) []byte {
	v := make([]byte, 0, 40+len(r.Lines))
	v = append(v, r.Digest[:]...)
	v = binary.BigEndian.AppendUint64(v, r.Slot)
	return append(v, r.Lines...)
}

func decodeRecord(seq uint64, v []byte) (Record, error) {
	if len(v) < 40 {
		return Record{}, fmt.Errorf("golden record %d: %d bytes, want at least 40", seq, len(v))
	}
	r := Record{Seq: seq, Slot: binary.BigEndian.Uint64(v[32:40]), Lines: v[40:]}
	copy(r.Digest[:], v[:32])
	return r, nil
}

func entityIndexKey(entity string, key []byte, seq uint64) []byte {
	k := make([]byte, 0, len(entity)+len(key)+10)
	k = append(k, entity...)
	k = append(k, 0)
	k = append(k, key...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

// GoldenWriter is a pipeline sink that stores the run's output as the golden of a stack hash.
// Records are buffered and written in batches, one archive transaction each.
type GoldenWriter struct {
	a       *archive.Archive
	info    Info
	prev    [32]byte
	buf     []byte
	pending []Record
	size    int
	answers map[string][]byte
	closed  bool
}

// flushBytes is the buffered size that triggers a write.
const flushBytes = 4 << 20

// NewGoldenWriter replaces any golden of info.StackHash with a new, empty one.
func NewGoldenWriter(a *archive.Archive, info Info) (*GoldenWriter, error) {
	if info.StackHash == "" {
		return nil, errors.New("golden needs a stack content hash")
	}
	info.Version = buildinfo.Version()
	err := a.UpdateKV(func(tx *archive.KVTx) error {
		if err := tx.DeleteBucket(archive.NSGoldens + "/" + info.StackHash); err != nil {
			return err
		}
		return tx.DeleteBucket(resolverBucket(info.StackHash))
	})
	if err != nil {
		return nil, fmt.Errorf("reset golden %s: %w", info.StackHash, err)
	}
	return &GoldenWriter{a: a, info: info, answers: map[string][]byte{}}, nil
}

// Apply implements pipeline.Sink.
func (g *GoldenWriter) Apply(b pipeline.Batch) error {
	start := len(g.buf)
	for i := range b.Mutations {
		g.buf = AppendLine(g.buf, &b.Mutations[i])
	}
	lines := g.buf[start:]
	g.prev = chain(g.prev, b.Seq, b.Slot, lines)
	g.pending = append(g.pending, Record{Seq: b.Seq, Slot: b.Slot, Digest: g.prev, Lines: lines})
	g.size += len(lines) + 64
	g.info.Records++
	g.info.Mutations += uint64(len(b.Mutations))
	if g.size >= flushBytes {
		return g.flush()
	}
	return nil
}

// OnResolve records a resolver answer the run used; wire it to vm.Config.OnResolve.
func (g *GoldenWriter) OnResolve(kind, key string, answer []byte) {
	g.answers[kind+"\x00"+key] = bytes.Clone(answer)
}

// Covered records how far the run went: the number of updates fed and the last sequence number.
func (g *GoldenWriter) Covered(updates, lastSeq uint64) {
	g.info.Updates, g.info.LastSeq = updates, lastSeq
}

func (g *GoldenWriter) flush() error {
	if len(g.pending) == 0 && len(g.answers) == 0 {
		return nil
	}
	recs := g.pending
	answers := g.answers
	err := g.a.UpdateKV(func(tx *archive.KVTx) error {
		for _, r := range recs {
			if err := tx.Put(goldenBucket(g.info.StackHash, "records"), seqKey(r.Seq), encodeRecord(r)); err != nil {
				return err
			}
			if err := tx.Put(goldenBucket(g.info.StackHash, "slots"), archive.SlotKey(r.Slot), r.Digest[:]); err != nil {
				return err
			}
			ls, err := ParseLines(r.Lines)
			if err != nil {
				return err
			}
			for _, l := range ls {
				if err := tx.Put(goldenBucket(g.info.StackHash, "entities"), entityIndexKey(l.Entity, l.Key, r.Seq), []byte{}); err != nil {
					return err
				}
			}
		}
		for k, v := range answers {
			if err := tx.Put(resolverBucket(g.info.StackHash), []byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write golden: %w", err)
	}
	g.pending, g.buf, g.size = g.pending[:0], g.buf[:0], 0
	g.answers = map[string][]byte{}
	return nil
}

// Close flushes what is buffered and writes the golden's info. It is idempotent.
func (g *GoldenWriter) Close() error {
	if g.closed {
		return nil
	}
	if err := g.flush(); err != nil {
		return err
	}
	g.closed = true
	g.info.Digest = hex.EncodeToString(g.prev[:])
	b, err := json.Marshal(g.info)
	if err != nil {
		return err
	}
	return g.a.UpdateKV(func(tx *archive.KVTx) error {
		return tx.Put(goldenBucket(g.info.StackHash, "info"), infoKey, b)
	})
}

// Info returns the golden's metadata so far.
func (g *GoldenWriter) Info() Info {
	i := g.info
	i.Digest = hex.EncodeToString(g.prev[:])
	return i
}

// GoldenHashes lists the stack hashes the archive has goldens for.
func GoldenHashes(a *archive.Archive) ([]string, error) {
	hs, err := a.Buckets(archive.NSGoldens)
	if errors.Is(err, archive.ErrNotFound) {
		return nil, nil
	}
	sort.Strings(hs)
	return hs, err
}

// Golden is a stored golden, opened for reading.
type Golden struct {
	a    *archive.Archive
	Info Info
}

// OpenGolden opens the golden of hash. It fails with ErrNoGoldens when the archive has none, and
// with *NoGoldenError listing the available hashes when none is for hash.
func OpenGolden(a *archive.Archive, hash string) (*Golden, error) {
	hs, err := GoldenHashes(a)
	if err != nil {
		return nil, err
	}
	if len(hs) == 0 {
		return nil, ErrNoGoldens
	}
	v, err := a.GetKV(goldenBucket(hash, "info"), infoKey)
	if errors.Is(err, archive.ErrNotFound) {
		return nil, &NoGoldenError{Hash: hash, Available: hs}
	}
	if err != nil {
		return nil, err
	}
	g := &Golden{a: a}
	if err := json.Unmarshal(v, &g.Info); err != nil {
		return nil, fmt.Errorf("golden %s info: %w", hash, err)
	}
	return g, nil
}

// Records calls fn for every record with Seq ≥ fromSeq, in order, reading in chunks.
func (g *Golden) Records(ctx context.Context, fromSeq uint64, fn func(Record) error) error {
	const chunk = 4096
	bucket := goldenBucket(g.Info.StackHash, "records")
	for from := fromSeq; ; {
		var n int
		var last uint64
		err := g.a.ForEach(ctx, bucket, seqKey(from), nil, func(k, v []byte) error {
			seq := binary.BigEndian.Uint64(k)
			r, err := decodeRecord(seq, v)
			if err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
			n++
			last = seq
			if n == chunk {
				return errChunk
			}
			return nil
		})
		switch {
		case errors.Is(err, errChunk):
			from = last + 1
		case errors.Is(err, archive.ErrNotFound):
			return nil
		default:
			return err
		}
	}
}

var errChunk = errors.New("chunk done")

// Answers returns the resolver answers stored with the golden, keyed by kind and key.
func Answers(ctx context.Context, a *archive.Archive, hash string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := a.ForEach(ctx, resolverBucket(hash), nil, nil, func(k, v []byte) error {
		out[string(k)] = v
		return nil
	})
	if errors.Is(err, archive.ErrNotFound) {
		return out, nil
	}
	return out, err
}
