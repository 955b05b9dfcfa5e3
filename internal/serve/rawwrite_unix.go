//go:build unix

package serve

import (
	"net"
	"syscall"
)

// rawWriter writes to a socket without blocking: one write system call, taking what the kernel's
// send buffer has room for. It is created once per connection so that a write allocates nothing;
// calls must be serialised (batchConn.mu does).
type rawWriter struct {
	rc  syscall.RawConn
	fn  func(fd uintptr) bool
	p   []byte
	n   int
	err error
}

// newRawWriter returns nil when c exposes no file descriptor.
func newRawWriter(c net.Conn) *rawWriter {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	w := &rawWriter{rc: rc}
	w.fn = w.do
	return w
}

func (w *rawWriter) do(fd uintptr) bool {
	for {
		n, err := syscall.Write(int(fd), w.p)
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			n, err = 0, nil
		}
		w.n, w.err = max(n, 0), err
		// Never wait for the socket to become writable: the caller hands the rest to a writer.
		return true
	}
}

// write writes what the socket takes now and reports how much that was. A closed connection or
// an expired write deadline is an error and writes nothing.
func (w *rawWriter) write(p []byte) (int, error) {
	w.p = p
	err := w.rc.Write(w.fn)
	w.p = nil
	if err != nil {
		return 0, err
	}
	return w.n, w.err
}
