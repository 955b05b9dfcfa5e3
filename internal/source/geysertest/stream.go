package geysertest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

// subscribePath is the HTTP/2 :path of the Geyser Subscribe call.
const subscribePath = "/geyser.Geyser/Subscribe"

// StreamServer answers Subscribe with a fixed sequence of SubscribeUpdate messages encoded in
// advance, written to the connection as gRPC over HTTP/2 with as little work as a server can do:
// the messages go out back to back in DATA frames of the client's maximum frame size (as busy
// HTTP/2 servers pack them), several frames per write, without copying. It applies no filter and
// serves no other method; it handles what a Subscribe client needs of a server (settings, flow
// control, pings, response headers) and nothing else. It counts the client's keepalive pings and can
// stop answering them.
//
// It exists so that a benchmark measures the client: on one machine the full test server (Start)
// spends about as much CPU sending an update as a client spends receiving and storing it, and a
// real Yellowstone server runs on another machine.
//
// Every Subscribe stream receives the whole sequence from the first message once Release has been
// called, then stays open, silent, until the client ends it or the server is closed.
type StreamServer struct {
	// Addr is host:port; Endpoint is "http://" + Addr.
	Addr     string
	Endpoint string

	lis        net.Listener
	data       []byte // the messages, each with its 5-byte gRPC prefix, back to back
	subscribed chan struct{}
	release    chan struct{}

	pings    atomic.Int64 // PING frames received (not acks)
	noAcks   atomic.Bool  // leave pings unanswered
	mu       sync.Mutex
	requests []*geyserpb.SubscribeRequest
	conns    map[net.Conn]struct{}
	closed   bool
	subOnce  sync.Once
	relOnce  sync.Once
	wg       sync.WaitGroup
}

// StartStream starts a StreamServer on 127.0.0.1:0 serving msgs (each a SubscribeUpdate's encoding);
// it is closed by tb.Cleanup.
func StartStream(tb testing.TB, msgs [][]byte) *StreamServer {
	tb.Helper()
	n := 0
	for _, m := range msgs {
		n += 5 + len(m)
	}
	data := make([]byte, 0, n)
	for _, m := range msgs {
		data = append(data, 0)
		data = binary.BigEndian.AppendUint32(data, uint32(len(m)))
		data = append(data, m...)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("geysertest: listen: %v", err)
	}
	s := &StreamServer{
		Addr:       lis.Addr().String(),
		lis:        lis,
		data:       data,
		subscribed: make(chan struct{}),
		release:    make(chan struct{}),
		conns:      make(map[net.Conn]struct{}),
	}
	s.Endpoint = "http://" + s.Addr
	s.wg.Add(1)
	go s.accept()
	tb.Cleanup(s.Close)
	return s
}

// Messages returns the sequence as the server sends it, each message without its gRPC prefix. The
// slices are views of the server's own copy (so a benchmark can drop its own): they must not be
// modified.
func (s *StreamServer) Messages() [][]byte {
	var out [][]byte
	for off := 0; off < len(s.data); {
		n := int(binary.BigEndian.Uint32(s.data[off+1:]))
		out = append(out, s.data[off+5:off+5+n:off+5+n])
		off += 5 + n
	}
	return out
}

// Subscribed is closed when the first Subscribe stream has sent its first request.
func (s *StreamServer) Subscribed() <-chan struct{} { return s.subscribed }

// Release lets subscribed streams start receiving the sequence.
func (s *StreamServer) Release() { s.relOnce.Do(func() { close(s.release) }) }

// Requests returns the first request of every Subscribe stream, in arrival order.
func (s *StreamServer) Requests() []*geyserpb.SubscribeRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*geyserpb.SubscribeRequest(nil), s.requests...)
}

// Pings returns how many HTTP/2 PING frames (keepalive) clients have sent.
func (s *StreamServer) Pings() int { return int(s.pings.Load()) }

// StopPingAcks leaves every later PING unanswered, as a dead peer would.
func (s *StreamServer) StopPingAcks() { s.noAcks.Store(true) }

// Close stops the server and closes its connections. It is idempotent.
func (s *StreamServer) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	_ = s.lis.Close()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *StreamServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.lis.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			(&h2conn{s: s, c: c}).serve()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			_ = c.Close()
		}()
	}
}

// h2conn is one client connection: serve reads frames; a sender goroutine per Subscribe stream writes
// the sequence within the flow-control windows.
type h2conn struct {
	s  *StreamServer
	c  net.Conn
	fr *http2.Framer

	wmu  sync.Mutex // serialises writes to c
	henc *hpack.Encoder
	hbuf bytes.Buffer

	doneCh  chan struct{} // closed when serve returns
	senders sync.WaitGroup

	mu       sync.Mutex
	cond     *sync.Cond
	connWin  int64 // what the client lets us send on the connection
	initWin  int64 // the client's SETTINGS_INITIAL_WINDOW_SIZE
	maxFrame int
	streams  map[uint32]*h2stream
	done     bool
}

type h2stream struct {
	id      uint32
	win     int64
	req     []byte // the client's bytes so far, until its first message is complete
	started bool
	ended   bool
}

func (h *h2conn) serve() {
	h.cond = sync.NewCond(&h.mu)
	h.connWin, h.initWin, h.maxFrame = 65535, 65535, 16384
	h.streams = make(map[uint32]*h2stream)
	h.henc = hpack.NewEncoder(&h.hbuf)
	h.doneCh = make(chan struct{})
	defer func() {
		close(h.doneCh)
		h.mu.Lock()
		h.done = true
		h.cond.Broadcast()
		h.mu.Unlock()
		_ = h.c.Close()
		h.senders.Wait()
	}()
	br := bufio.NewReaderSize(h.c, 64<<10)
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(br, preface); err != nil || string(preface) != http2.ClientPreface {
		return
	}
	h.fr = http2.NewFramer(h.c, br)
	h.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if h.write(func() error { return h.fr.WriteSettings() }) != nil {
		return
	}
	for {
		f, err := h.fr.ReadFrame()
		if err != nil {
			return
		}
		if h.handle(f) != nil {
			return
		}
	}
}

func (h *h2conn) write(fn func() error) error {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	return fn()
}

func (h *h2conn) handle(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.SettingsFrame:
		if f.IsAck() {
			return nil
		}
		h.mu.Lock()
		err := f.ForeachSetting(func(st http2.Setting) error {
			switch st.ID {
			case http2.SettingInitialWindowSize:
				delta := int64(st.Val) - h.initWin
				h.initWin = int64(st.Val)
				for _, str := range h.streams {
					str.win += delta
				}
			case http2.SettingMaxFrameSize:
				h.maxFrame = int(st.Val)
			}
			return nil
		})
		h.cond.Broadcast()
		h.mu.Unlock()
		if err != nil {
			return err
		}
		return h.write(h.fr.WriteSettingsAck)
	case *http2.WindowUpdateFrame:
		h.mu.Lock()
		if f.StreamID == 0 {
			h.connWin += int64(f.Increment)
		} else if str := h.streams[f.StreamID]; str != nil {
			str.win += int64(f.Increment)
		}
		h.cond.Broadcast()
		h.mu.Unlock()
	case *http2.PingFrame:
		if !f.IsAck() {
			h.s.pings.Add(1)
			if h.s.noAcks.Load() {
				return nil
			}
			return h.write(func() error { return h.fr.WritePing(true, f.Data) })
		}
	case *http2.MetaHeadersFrame:
		return h.openStream(f)
	case *http2.DataFrame:
		return h.data(f)
	case *http2.RSTStreamFrame:
		h.endStream(f.StreamID)
	case *http2.GoAwayFrame:
		return io.EOF
	}
	return nil
}

func (h *h2conn) openStream(f *http2.MetaHeadersFrame) error {
	if f.PseudoValue("path") != subscribePath {
		return h.trailersOnly(f.StreamID, 12, "geysertest: the stream server serves Subscribe only") // UNIMPLEMENTED
	}
	h.mu.Lock()
	h.streams[f.StreamID] = &h2stream{id: f.StreamID, win: h.initWin}
	h.mu.Unlock()
	return h.write(func() error {
		return h.headers(f.StreamID, false, ":status", "200", "content-type", "application/grpc")
	})
}

// headers writes one HEADERS frame; called with wmu held.
func (h *h2conn) headers(id uint32, end bool, kv ...string) error {
	h.hbuf.Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		if err := h.henc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]}); err != nil {
			return err
		}
	}
	return h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: h.hbuf.Bytes(),
		EndStream: end, EndHeaders: true})
}

func (h *h2conn) trailersOnly(id uint32, code int, msg string) error {
	return h.write(func() error {
		return h.headers(id, true, ":status", "200", "content-type", "application/grpc",
			"grpc-status", strconv.Itoa(code), "grpc-message", msg)
	})
}

func (h *h2conn) data(f *http2.DataFrame) error {
	if n := uint32(len(f.Data())); n > 0 {
		// Give the client its window back at once: requests are small and rare.
		err := h.write(func() error {
			if err := h.fr.WriteWindowUpdate(0, n); err != nil {
				return err
			}
			return h.fr.WriteWindowUpdate(f.StreamID, n)
		})
		if err != nil {
			return err
		}
	}
	h.mu.Lock()
	str := h.streams[f.StreamID]
	if str == nil || str.started {
		h.mu.Unlock()
		return nil
	}
	str.req = append(str.req, f.Data()...)
	if len(str.req) < 5 || len(str.req) < 5+int(binary.BigEndian.Uint32(str.req[1:5])) {
		h.mu.Unlock()
		return nil
	}
	str.started = true
	body := str.req[5 : 5+int(binary.BigEndian.Uint32(str.req[1:5]))]
	str.req = nil
	h.mu.Unlock()

	req := new(geyserpb.SubscribeRequest)
	if err := proto.Unmarshal(body, req); err != nil {
		return h.trailersOnly(f.StreamID, 13, "geysertest: bad SubscribeRequest: "+err.Error()) // INTERNAL
	}
	h.s.mu.Lock()
	h.s.requests = append(h.s.requests, req)
	h.s.mu.Unlock()
	h.s.subOnce.Do(func() { close(h.s.subscribed) })
	h.senders.Add(1)
	go func() {
		defer h.senders.Done()
		select {
		case <-h.s.release:
		case <-h.doneCh:
			return
		}
		_ = h.send(str)
	}()
	return nil
}

func (h *h2conn) endStream(id uint32) {
	h.mu.Lock()
	if str := h.streams[id]; str != nil {
		str.ended = true
		delete(h.streams, id)
	}
	h.cond.Broadcast()
	h.mu.Unlock()
}

// maxWrite bounds the bytes one writev carries.
const maxWrite = 256 << 10

// send writes the whole sequence on str as DATA frames, waiting for window when it runs out.
func (h *h2conn) send(str *h2stream) error {
	data := h.s.data
	// A frame carries at least 16 KiB (the smallest maximum HTTP/2 allows), so one write has at most
	// maxWrite/16384+1 frames and hdrs never grows (the frames point into it).
	hdrs := make([]byte, 0, 9*(maxWrite/16384+1))
	var bufs net.Buffers
	for off := 0; off < len(data); {
		h.mu.Lock()
		for !h.done && !str.ended && (h.connWin <= 0 || str.win <= 0) {
			h.cond.Wait()
		}
		if h.done || str.ended {
			h.mu.Unlock()
			return io.EOF
		}
		// Take what the windows allow, then frame it and write it in one call.
		end := off + int(min(h.connWin, str.win, maxWrite, int64(len(data)-off)))
		h.connWin -= int64(end - off)
		str.win -= int64(end - off)
		maxFrame := h.maxFrame
		h.mu.Unlock()

		hdrs, bufs = hdrs[:0], bufs[:0]
		for off < end {
			n := min(maxFrame, end-off)
			at := len(hdrs)
			hdrs = append(hdrs, byte(n>>16), byte(n>>8), byte(n), byte(http2.FrameData), 0)
			hdrs = binary.BigEndian.AppendUint32(hdrs, str.id&0x7fffffff)
			bufs = append(bufs, hdrs[at:at+9:at+9], data[off:off+n:off+n])
			off += n
		}
		err := h.write(func() error {
			_, err := bufs.WriteTo(h.c)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}
