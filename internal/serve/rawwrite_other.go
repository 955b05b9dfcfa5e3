//go:build !unix

package serve

import "net"

// rawWriter is unavailable here: every write goes through a connection's writer goroutine.
type rawWriter struct{}

func newRawWriter(net.Conn) *rawWriter { return nil }

func (*rawWriter) write([]byte) (int, error) { return 0, nil }
