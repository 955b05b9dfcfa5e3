package serve

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"time"
)

// batchFlushBytes is the size at which a write batch is flushed early, and the capacity of the
// pooled batch buffers.
const batchFlushBytes = 64 << 10

var batchBufPool = sync.Pool{New: func() any { b := make([]byte, 0, batchFlushBytes); return &b }}

// batchConn wraps a client's net.Conn so that the WebSocket frames written between begin and end
// are collected in one pooled buffer and sent with one write. Outside a batch, writes go straight
// through. gorilla/websocket writes whole frames under its own lock, so frames written by other
// goroutines (control frames) land between frames, never inside one.
//
// writeNow writes without blocking (the flusher's direct path); what the socket did not take is
// kept as the tail, which goes out before any other byte.
type batchConn struct {
	net.Conn
	raw *rawWriter // nil when the socket has no file descriptor

	// mu guards batching, buf, deadline, tail and err, and serialises writes to Conn.
	mu       sync.Mutex
	batching bool
	buf      *[]byte
	deadline time.Time
	tail     []byte
	// err is the first failed write: a frame may have gone out in part, so nothing more is
	// written (gorilla/websocket does the same for its own writes).
	err error
}

func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return 0, b.err
	}
	if !b.batching {
		if len(b.tail) > 0 {
			if err := b.writeLocked(b.tail); err != nil {
				return 0, err
			}
			b.tail = nil
		}
		if err := b.writeLocked(p); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	if len(*b.buf)+len(p) > batchFlushBytes {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > batchFlushBytes/2 {
			if err := b.writeLocked(p); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	*b.buf = append(*b.buf, p...)
	return len(p), nil
}

// writeLocked writes p to the socket, blocking; a failure is sticky.
func (b *batchConn) writeLocked(p []byte) error {
	if _, err := b.Conn.Write(p); err != nil {
		b.err = err
		return err
	}
	return nil
}

// SetWriteDeadline is ignored during a batch: the batch's own deadline applies to its flushes.
func (b *batchConn) SetWriteDeadline(t time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.batching {
		return nil
	}
	return b.Conn.SetWriteDeadline(t)
}

func (b *batchConn) begin(deadline time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batching = true
	b.deadline = deadline
	b.buf = batchBufPool.Get().(*[]byte)
	if len(b.tail) > 0 {
		*b.buf = append(*b.buf, b.tail...)
		b.tail = nil
	}
	b.Conn.SetWriteDeadline(deadline)
}

// end flushes the batch and returns the buffer to the pool. The write deadline is cleared so that
// a later writeNow is not refused by a deadline that has passed meanwhile.
func (b *batchConn) end() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.flushLocked()
	b.Conn.SetWriteDeadline(time.Time{})
	b.batching = false
	*b.buf = (*b.buf)[:0]
	batchBufPool.Put(b.buf)
	b.buf = nil
	return err
}

// writeNow writes p without blocking. When the socket takes only part of it, the rest is copied to
// the tail and complete is false: the caller must then make a writer run (begin sends the tail
// first). It must not be called during a batch; the connection's writing flag guarantees that.
func (b *batchConn) writeNow(p []byte) (complete bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return false, b.err
	}
	if len(b.tail) > 0 {
		b.tail = append(b.tail, p...)
		return false, nil
	}
	n, err := b.raw.write(p)
	if err != nil {
		// Nothing was written, so the stream is intact: an expired deadline only means that
		// the writer must take over.
		return false, err
	}
	if n < len(p) {
		b.tail = append([]byte(nil), p[n:]...)
		return false, nil
	}
	return true, nil
}

// tailLen is the length of the tail.
func (b *batchConn) tailLen() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.tail)
}

func (b *batchConn) flushLocked() error {
	if len(*b.buf) == 0 {
		return nil
	}
	err := b.writeLocked(*b.buf)
	*b.buf = (*b.buf)[:0]
	return err
}

// hijackWriter makes the upgrader hand gorilla/websocket a batchConn instead of the raw connection.
type hijackWriter struct {
	http.ResponseWriter
	conn *batchConn
}

func (h *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = &batchConn{Conn: c, raw: newRawWriter(c)}
	return h.conn, rw, nil
}
