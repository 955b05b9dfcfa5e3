package serve

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// outMsg is one queued WebSocket message.
type outMsg struct {
	op   int // websocket.BinaryMessage, TextMessage or CloseMessage
	data []byte
}

// conn is one WebSocket client.
type conn struct {
	srv *Server
	ws  *websocket.Conn
	bc  *batchConn
	fl  *flusher // sends the live frames
	ip  string

	// mu guards the outbound queue and the lifecycle flags below. enqueue* run on the hub and
	// reader goroutines, the writer takes the whole queue at once.
	mu       sync.Mutex
	queue    []outMsg
	spare    []outMsg // the writer's previous queue, reused
	queued   int      // bytes in queue
	inflight int      // bytes being written by the writer
	writing  bool     // a writer goroutine or the flusher is writing the connection
	dirty    bool     // the connection waits in the flusher's list
	closing  bool     // a close frame is queued or sent: nothing else is accepted
	dead     bool     // the socket is closed
	spaceCh  chan struct{}
	waiters  int
	// expiry fires when the session token expires; replaced by refresh_auth.
	expiry *time.Timer

	// subs is owned by the reader goroutine.
	subs map[string]*subscription
}

var errConnClosed = errors.New("connection closed")

// msgOverhead is what one queued message costs besides its payload (the queue slot), counted
// against MaxQueueBytes so that many tiny frames are bounded too.
const msgOverhead = 32

func msgCost(payload []byte) int { return len(payload) + msgOverhead }

// enqueueLive queues a live frame (a complete WebSocket frame, see liveFrame) without waiting: a
// frame that does not fit disconnects the client as slow. A single frame larger than the whole
// queue is accepted when the queue is empty. The flusher sends it.
func (c *conn) enqueueLive(frame []byte) {
	c.enqueue(opWire, frame)
}

// enqueueText queues a text message (error frames, refresh replies) without waiting.
func (c *conn) enqueueText(payload []byte) {
	c.enqueue(websocket.TextMessage, payload)
}

func (c *conn) enqueue(op int, payload []byte) {
	c.mu.Lock()
	if c.closing || c.dead {
		c.mu.Unlock()
		return
	}
	if used := c.queued + c.inflight; used > 0 && used+msgCost(payload) > c.srv.cfg.MaxQueueBytes {
		c.mu.Unlock()
		c.closeSlow()
		return
	}
	c.pushLocked(outMsg{op, payload})
	c.mu.Unlock()
}

// enqueueWait queues a message, waiting up to WriteTimeout for queue space; a message larger than
// the whole queue is accepted when the queue is empty. Used for acknowledgements and snapshots.
func (c *conn) enqueueWait(op int, payload []byte) error {
	deadline := time.Now().Add(c.srv.cfg.WriteTimeout)
	c.mu.Lock()
	for {
		if c.closing || c.dead {
			c.mu.Unlock()
			return errConnClosed
		}
		used := c.queued + c.inflight
		if used == 0 || used+msgCost(payload) <= c.srv.cfg.MaxQueueBytes {
			c.pushLocked(outMsg{op, payload})
			c.mu.Unlock()
			return nil
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			c.mu.Unlock()
			c.closeSlow()
			return errConnClosed
		}
		if c.spaceCh == nil {
			c.spaceCh = make(chan struct{})
		}
		ch := c.spaceCh
		c.waiters++
		c.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ch:
		case <-t.C:
		}
		t.Stop()
		c.mu.Lock()
		c.waiters--
	}
}

// pushLocked appends a message and makes sure it gets written: live frames by the flusher,
// anything else by a writer goroutine. Caller holds mu.
func (c *conn) pushLocked(m outMsg) {
	c.queue = append(c.queue, m)
	c.queued += msgCost(m.data)
	c.startLocked(m.op == opWire)
}

// startLocked makes sure the queue is being written. With direct set the connection is left to
// the flusher (the queue holds live frames only, so the connection is not closing); otherwise a
// writer goroutine starts unless one runs. Caller holds mu.
func (c *conn) startLocked(direct bool) {
	if c.writing {
		return
	}
	if direct && c.bc.raw != nil {
		if c.dirty {
			return
		}
		if c.fl.mark(c) {
			c.dirty = true
			return
		}
	}
	c.writing = true
	c.srv.writers.Add(1)
	go c.writeLoop()
}

// writeLoop drains the queue until it is empty, then exits: idle connections have no writer.
func (c *conn) writeLoop() {
	defer c.srv.writers.Done()
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.dead {
			c.writing = false
			c.mu.Unlock()
			return
		}
		batch := c.takeLocked()
		c.mu.Unlock()

		sentClose, err := c.writeBatch(batch)
		clear(batch)

		c.mu.Lock()
		c.spare = batch[:0]
		c.releaseLocked()
		c.mu.Unlock()
		if err != nil {
			c.srv.log.Debug("write failed", "ip", c.ip, "err", err)
			c.kill()
			continue
		}
		if sentClose {
			time.AfterFunc(c.srv.cfg.CloseGrace, c.kill)
		}
	}
}

// takeLocked takes the whole queue for writing; its bytes count as in flight until releaseLocked.
// Caller holds mu.
func (c *conn) takeLocked() []outMsg {
	batch := c.queue
	c.queue, c.spare = c.spare[:0], nil
	c.inflight, c.queued = c.queued, 0
	return batch
}

// releaseLocked ends the write of a batch from takeLocked: its bytes leave the queue bound and
// enqueueWait callers look for space again. Caller holds mu.
func (c *conn) releaseLocked() {
	c.inflight = 0
	if c.waiters > 0 && c.spaceCh != nil {
		close(c.spaceCh)
		c.spaceCh = nil
	}
}

// writeBatch frames every message into the connection's batch buffer and flushes once (or every
// batchFlushBytes). It reports whether a close frame was written.
func (c *conn) writeBatch(batch []outMsg) (sentClose bool, err error) {
	deadline := time.Now().Add(c.srv.cfg.WriteTimeout)
	c.bc.begin(deadline)
	var frames, bytes int
loop:
	for _, m := range batch {
		switch m.op {
		case opTail:
			// begin put the tail at the front of the batch.
		case opWire:
			if _, err = c.bc.Write(m.data); err != nil {
				break loop
			}
			frames++
			bytes += wirePayloadLen(m.data)
		case websocket.CloseMessage:
			err = c.ws.WriteControl(websocket.CloseMessage, m.data, deadline)
			sentClose = true
			break loop
		default:
			var w io.WriteCloser
			if w, err = c.ws.NextWriter(m.op); err != nil {
				break loop
			}
			if _, err = w.Write(m.data); err != nil {
				break loop
			}
			if err = w.Close(); err != nil {
				break loop
			}
			frames++
			bytes += len(m.data)
		}
	}
	if ferr := c.bc.end(); err == nil {
		err = ferr
	}
	c.srv.metrics.framesSent.Add(float64(frames))
	c.srv.metrics.bytesSent.Add(float64(bytes))
	c.srv.metrics.writeBatches.Inc()
	return sentClose, err
}

// closeWith queues a close frame after what is already queued; dropQueue discards the queue first.
func (c *conn) closeWith(code int, reason string, dropQueue bool) {
	c.mu.Lock()
	if c.closing || c.dead {
		c.mu.Unlock()
		return
	}
	c.closing = true
	if dropQueue {
		clear(c.queue)
		c.queue = c.queue[:0]
		c.queued = 0
	}
	if c.spaceCh != nil {
		close(c.spaceCh)
		c.spaceCh = nil
	}
	c.pushLocked(outMsg{websocket.CloseMessage, websocket.FormatCloseMessage(code, reason)})
	c.mu.Unlock()
	// Whatever happens to the writer, the socket goes away.
	time.AfterFunc(c.srv.cfg.WriteTimeout+c.srv.cfg.CloseGrace, c.kill)
}

// closeSlow disconnects a client that cannot keep up: its queue is dropped, the socket is set to
// discard unsent data on close, a write in progress is cut short, and a close frame with
// CloseSlowClient is attempted.
func (c *conn) closeSlow() {
	c.mu.Lock()
	already := c.closing || c.dead
	c.mu.Unlock()
	if already {
		return
	}
	c.srv.metrics.slowDisconnects.Inc()
	c.srv.log.Info("disconnecting slow client", "ip", c.ip, "max_queue_bytes", c.srv.cfg.MaxQueueBytes)
	if tc, ok := c.bc.Conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.bc.Conn.SetWriteDeadline(time.Now().Add(c.srv.cfg.CloseGrace))
	c.closeWith(CloseSlowClient, "slow client", true)
}

// kill closes the socket; the reader then ends and tears the connection down.
func (c *conn) kill() {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return
	}
	c.dead = true
	c.closing = true
	clear(c.queue)
	c.queue = nil
	c.queued = 0
	if c.spaceCh != nil {
		close(c.spaceCh)
		c.spaceCh = nil
	}
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.mu.Unlock()
	c.bc.Conn.Close()
}

// readLoop reads client messages until the connection ends, then tears it down.
func (c *conn) readLoop() {
	defer c.srv.conns.Done()
	defer c.teardown()
	for {
		op, r, err := c.ws.NextReader()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				c.srv.log.Debug("client closed", "ip", c.ip, "code", ce.Code)
			} else if !errors.Is(err, net.ErrClosed) {
				c.srv.log.Debug("read failed", "ip", c.ip, "err", err)
			}
			return
		}
		c.srv.metrics.messagesReceived.Inc()
		if op != websocket.TextMessage {
			// Binary messages from clients carry nothing; drain and ignore them.
			if _, err := io.Copy(io.Discard, r); err != nil {
				return
			}
			continue
		}
		data, err := io.ReadAll(r)
		if err != nil {
			return
		}
		c.handleMessage(data)
	}
}

// teardown removes every subscription and releases the connection's slot.
func (c *conn) teardown() {
	for id, s := range c.subs {
		c.srv.removeSub(s)
		delete(c.subs, id)
	}
	c.kill()
	c.srv.dropConn(c)
}
