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
type batchConn struct {
	net.Conn

	// mu guards batching, buf and deadline, and serialises writes to Conn.
	mu       sync.Mutex
	batching bool
	buf      *[]byte
	deadline time.Time
}

func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.batching {
		return b.Conn.Write(p)
	}
	if len(*b.buf)+len(p) > batchFlushBytes {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > batchFlushBytes/2 {
			return b.Conn.Write(p)
		}
	}
	*b.buf = append(*b.buf, p...)
	return len(p), nil
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
	b.Conn.SetWriteDeadline(deadline)
}

// end flushes the batch and returns the buffer to the pool.
func (b *batchConn) end() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.flushLocked()
	b.batching = false
	*b.buf = (*b.buf)[:0]
	batchBufPool.Put(b.buf)
	b.buf = nil
	return err
}

func (b *batchConn) flushLocked() error {
	if len(*b.buf) == 0 {
		return nil
	}
	_, err := b.Conn.Write(*b.buf)
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
	h.conn = &batchConn{Conn: c}
	return h.conn, rw, nil
}
