package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Key-value access for data derived from the recording (replay goldens, resolver answers, state
// checkpoints). A bucket is named by a slash-separated path whose first segment is one of the reserved
// namespaces (NSGoldens, NSResolver, NSStateCheckpoints) and whose further segments are nested buckets,
// e.g. "goldens/<stack-hash>". Nested buckets are created on first write. Keys are arbitrary non-empty
// bytes; use SlotKey for slot-ordered data so ForEachSlot and Floor work.

func splitBucket(bucket string) ([]string, error) {
	segs := strings.Split(bucket, "/")
	if bucket == "" || len(segs) == 0 {
		return nil, fmt.Errorf("%w: empty path", ErrBadBucket)
	}
	reserved := false
	for _, ns := range Namespaces() {
		if segs[0] == ns {
			reserved = true
		}
	}
	if !reserved {
		return nil, fmt.Errorf("%w: %q does not start with one of %s", ErrBadBucket, bucket,
			strings.Join(Namespaces(), ", "))
	}
	for _, s := range segs {
		if s == "" {
			return nil, fmt.Errorf("%w: %q has an empty segment", ErrBadBucket, bucket)
		}
	}
	return segs, nil
}

func bucketForWrite(tx *bolt.Tx, bucket string) (*bolt.Bucket, error) {
	segs, err := splitBucket(bucket)
	if err != nil {
		return nil, err
	}
	b, err := tx.CreateBucketIfNotExists([]byte(segs[0]))
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", bucket, err)
	}
	for _, s := range segs[1:] {
		if b, err = b.CreateBucketIfNotExists([]byte(s)); err != nil {
			return nil, fmt.Errorf("bucket %s: %w", bucket, err)
		}
	}
	return b, nil
}

// bucketForRead returns nil, ErrNotFound when any segment is missing.
func bucketForRead(tx *bolt.Tx, bucket string) (*bolt.Bucket, error) {
	segs, err := splitBucket(bucket)
	if err != nil {
		return nil, err
	}
	b := tx.Bucket([]byte(segs[0]))
	for _, s := range segs[1:] {
		if b == nil {
			break
		}
		b = b.Bucket([]byte(s))
	}
	if b == nil {
		return nil, fmt.Errorf("bucket %s: %w", bucket, ErrNotFound)
	}
	return b, nil
}

// KVTx is a write transaction over the key-value namespaces, passed to UpdateKV.
type KVTx struct{ tx *bolt.Tx }

// Put stores value under key in bucket, creating nested buckets as needed.
func (t *KVTx) Put(bucket string, key, value []byte) error {
	if len(key) == 0 {
		return fmt.Errorf("%w: empty key", ErrBadBucket)
	}
	b, err := bucketForWrite(t.tx, bucket)
	if err != nil {
		return err
	}
	return b.Put(key, value)
}

// Delete removes key from bucket; a missing key or bucket is not an error.
func (t *KVTx) Delete(bucket string, key []byte) error {
	b, err := bucketForRead(t.tx, bucket)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	return b.Delete(key)
}

// DeleteBucket removes a nested bucket and everything in it. The namespaces themselves cannot be deleted.
func (t *KVTx) DeleteBucket(bucket string) error {
	segs, err := splitBucket(bucket)
	if err != nil {
		return err
	}
	if len(segs) == 1 {
		return fmt.Errorf("%w: cannot delete namespace %q", ErrBadBucket, bucket)
	}
	parent, err := bucketForRead(t.tx, strings.Join(segs[:len(segs)-1], "/"))
	if err != nil {
		return err
	}
	if err := parent.DeleteBucket([]byte(segs[len(segs)-1])); err != nil {
		return fmt.Errorf("bucket %s: %w", bucket, ErrNotFound)
	}
	return nil
}

// UpdateKV runs fn in one write transaction; every change commits together or not at all.
func (a *Archive) UpdateKV(fn func(tx *KVTx) error) error {
	return a.update(func(tx *bolt.Tx) error { return fn(&KVTx{tx: tx}) })
}

// Put stores one key-value pair (see UpdateKV to store many atomically).
func (a *Archive) Put(bucket string, key, value []byte) error {
	return a.UpdateKV(func(tx *KVTx) error { return tx.Put(bucket, key, value) })
}

// GetKV returns a copy of the value stored under key in bucket, or ErrNotFound.
func (a *Archive) GetKV(bucket string, key []byte) ([]byte, error) {
	var out []byte
	err := a.view(func(tx *bolt.Tx) error {
		b, err := bucketForRead(tx, bucket)
		if err != nil {
			return err
		}
		v := b.Get(key)
		if v == nil {
			return fmt.Errorf("%s key %x: %w", bucket, key, ErrNotFound)
		}
		out = bytes.Clone(v)
		return nil
	})
	return out, err
}

// Buckets lists the nested bucket names directly under bucket (e.g. Buckets("goldens") lists the stack
// hashes that have a golden), in key order.
func (a *Archive) Buckets(bucket string) ([]string, error) {
	var names []string
	err := a.view(func(tx *bolt.Tx) error {
		b, err := bucketForRead(tx, bucket)
		if err != nil {
			return err
		}
		return b.ForEachBucket(func(k []byte) error {
			names = append(names, string(k))
			return nil
		})
	})
	return names, err
}

// ForEach calls fn with copies of the key-value pairs in bucket whose keys lie in [from, to), in key
// order; nil bounds are open. Nested buckets are skipped. A missing bucket yields ErrNotFound.
func (a *Archive) ForEach(ctx context.Context, bucket string, from, to []byte, fn func(k, v []byte) error) error {
	type kv struct{ k, v []byte }
	next := from
	for {
		var chunk []kv
		done := false
		err := a.view(func(tx *bolt.Tx) error {
			b, err := bucketForRead(tx, bucket)
			if err != nil {
				return err
			}
			c := b.Cursor()
			var k, v []byte
			if next == nil {
				k, v = c.First()
			} else {
				k, v = c.Seek(next)
			}
			for ; k != nil; k, v = c.Next() {
				if to != nil && bytes.Compare(k, to) >= 0 {
					break
				}
				if len(chunk) == scanChunk {
					next = bytes.Clone(k)
					return nil
				}
				if v == nil { // nested bucket
					continue
				}
				chunk = append(chunk, kv{bytes.Clone(k), bytes.Clone(v)})
			}
			done = true
			return nil
		})
		if err != nil {
			return err
		}
		for _, p := range chunk {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(p.k, p.v); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
	}
}

// ForEachSlot is ForEach over a bucket keyed by SlotKey, restricted to slots in [fromSlot, toSlot].
func (a *Archive) ForEachSlot(ctx context.Context, bucket string, fromSlot, toSlot uint64,
	fn func(slot uint64, v []byte) error) error {
	if fromSlot > toSlot {
		return nil
	}
	var to []byte
	if toSlot < ^uint64(0) {
		to = SlotKey(toSlot + 1)
	}
	return a.ForEach(ctx, bucket, SlotKey(fromSlot), to, func(k, v []byte) error {
		slot, err := ParseSlotKey(k)
		if err != nil {
			return fmt.Errorf("%s: %w", bucket, err)
		}
		return fn(slot, v)
	})
}

// Floor returns a copy of the last key ≤ key in bucket and its value, or ErrNotFound. With SlotKey keys
// it finds the newest entry at or before a slot (e.g. the state checkpoint to start from).
func (a *Archive) Floor(bucket string, key []byte) (k, v []byte, err error) {
	err = a.view(func(tx *bolt.Tx) error {
		b, err := bucketForRead(tx, bucket)
		if err != nil {
			return err
		}
		c := b.Cursor()
		ck, cv := c.Seek(key)
		switch {
		case ck == nil:
			ck, cv = c.Last()
		case !bytes.Equal(ck, key):
			ck, cv = c.Prev()
		}
		for ck != nil && cv == nil { // skip nested buckets
			ck, cv = c.Prev()
		}
		if ck == nil {
			return fmt.Errorf("%s: no key at or before %x: %w", bucket, key, ErrNotFound)
		}
		k, v = bytes.Clone(ck), bytes.Clone(cv)
		return nil
	})
	return k, v, err
}
