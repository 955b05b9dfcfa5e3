package serve

import (
	"errors"
	"os"
	"sync"
)

// flusher writes the live frames of its share of the connections from one goroutine, without
// blocking: the hub queues a frame and marks the connection dirty, and the flusher sends each
// dirty connection's queue with one non-blocking write. A server runs one flusher per GOMAXPROCS,
// so the writes of a burst use every core. A connection whose socket does not take everything is
// handed to its own writer goroutine, which may block; so are acknowledgements, snapshots and
// close frames.
//
// Compared with starting a writer goroutine per connection for every burst, this saves a goroutine
// start, a hand-off and a deadline timer per delivery. Under load, frames that arrive while the
// flusher is busy pile up in the queues and go out together.
type flusher struct {
	srv *Server

	// mu guards dirty and stopped.
	mu      sync.Mutex
	dirty   []*conn
	stopped bool

	wake chan struct{} // capacity 1: set when dirty became non-empty
	stop chan struct{}
	done chan struct{}

	// Owned by the run goroutine.
	spare []*conn
	buf   []byte
}

func newFlusher(s *Server) *flusher {
	f := &flusher{
		srv:  s,
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go f.run()
	return f
}

// mark queues c for the next round. Called with c.mu held; f.mu is taken inside it, never the
// other way round. It reports false once the flusher has stopped.
func (f *flusher) mark(c *conn) bool {
	f.mu.Lock()
	if f.stopped {
		f.mu.Unlock()
		return false
	}
	f.dirty = append(f.dirty, c)
	first := len(f.dirty) == 1
	f.mu.Unlock()
	if first {
		select {
		case f.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// close stops the flusher after one last round.
func (f *flusher) close() {
	f.mu.Lock()
	if f.stopped {
		f.mu.Unlock()
		<-f.done
		return
	}
	f.stopped = true
	f.mu.Unlock()
	close(f.stop)
	<-f.done
}

func (f *flusher) run() {
	defer close(f.done)
	for {
		select {
		case <-f.wake:
		case <-f.stop:
			f.round()
			return
		}
		for f.round() {
		}
	}
}

// round flushes every connection marked so far and reports whether there were any.
func (f *flusher) round() bool {
	f.mu.Lock()
	list := f.dirty
	f.dirty = f.spare[:0]
	f.mu.Unlock()
	if len(list) == 0 {
		f.spare = list
		return false
	}
	var frames, bytes int
	for i, c := range list {
		n, b := c.flushDirect(f)
		frames += n
		bytes += b
		list[i] = nil
	}
	f.spare = list[:0]
	m := f.srv.metrics
	m.framesSent.Add(float64(frames))
	m.bytesSent.Add(float64(bytes))
	return true
}

// flushDirect sends c's queue without blocking when no writer runs. It returns the frames and
// payload bytes handed to the socket. A closing connection's queue holds its close frame, which
// starts a writer, and a dead one's queue is empty: neither gets past the first check.
func (c *conn) flushDirect(f *flusher) (frames, bytes int) {
	c.mu.Lock()
	c.dirty = false
	if c.writing || len(c.queue) == 0 {
		c.mu.Unlock()
		return 0, 0
	}
	batch := c.takeLocked()
	c.writing = true
	c.mu.Unlock()

	next, tail, err := c.writeDirect(batch, &f.buf)
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		c.mu.Lock()
		c.writing = false
		c.inflight = 0
		c.mu.Unlock()
		clear(batch)
		c.srv.log.Debug("write failed", "ip", c.ip, "err", err)
		c.kill()
		return 0, 0
	}
	for _, m := range batch[:next] {
		frames++
		bytes += wirePayloadLen(m.data)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	c.releaseLocked()
	if c.dead {
		c.writing = false
		clear(batch)
		return frames, bytes
	}
	if rest := batch[next:]; len(rest) > 0 || tail {
		// The socket is full (or a message needs the writer): the writer takes over, starting
		// with the tail, then what was not written, then what was queued meanwhile.
		q := make([]outMsg, 0, 1+len(rest)+len(c.queue))
		if tail {
			q = append(q, outMsg{op: opTail})
			c.queued += c.bc.tailLen() + msgOverhead
		}
		for _, m := range rest {
			q = append(q, m)
			c.queued += msgCost(m.data)
		}
		c.queue = append(q, c.queue...)
		clear(batch)
		c.srv.writers.Add(1)
		go c.writeLoop()
		return frames, bytes
	}
	clear(batch)
	c.spare = batch[:0]
	c.writing = false
	if len(c.queue) > 0 {
		// Queued while the write ran: live frames wait for the next round, anything else
		// goes to a writer now.
		live := true
		for _, m := range c.queue {
			live = live && m.op == opWire
		}
		c.startLocked(live)
	}
	return frames, bytes
}

// writeDirect writes the leading live frames of batch without blocking: consecutive frames are
// gathered in buf up to batchFlushBytes, a frame on its own is written as is. It returns how many
// messages were handed to the socket (the last of them possibly in part, then tail is true) and
// the error of a write that failed before writing anything.
func (c *conn) writeDirect(batch []outMsg, buf *[]byte) (next int, tail bool, err error) {
	for next < len(batch) && batch[next].op == opWire {
		end, size := next+1, len(batch[next].data)
		for end < len(batch) && batch[end].op == opWire && size+len(batch[end].data) <= batchFlushBytes {
			size += len(batch[end].data)
			end++
		}
		p := batch[next].data
		if end-next > 1 {
			b := (*buf)[:0]
			for _, m := range batch[next:end] {
				b = append(b, m.data...)
			}
			*buf, p = b, b
		}
		complete, err := c.bc.writeNow(p)
		if err != nil {
			return next, false, err
		}
		if !complete {
			return end, true, nil
		}
		next = end
	}
	return next, false, nil
}
