package serve

import "github.com/gorilla/websocket"

// Queue-only message kinds besides the WebSocket opcodes.
const (
	// opWire is a complete server-to-client WebSocket frame, written to the socket as is. Live
	// frames are framed once by the hub and the same bytes are shared by every subscriber.
	opWire = -1
	// opTail carries nothing: it makes the writer run to send the rest of a frame that a
	// non-blocking write left in the batchConn's tail.
	opTail = -2
)

// wireFrame returns payload as one unmasked, unfragmented, uncompressed WebSocket frame of type
// op (websocket.BinaryMessage or websocket.TextMessage), the form a server sends.
func wireFrame(op int, payload []byte) []byte {
	n := len(payload)
	b := make([]byte, 0, 10+n)
	b = append(b, 0x80|byte(op)) // FIN and the opcode
	switch {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, payload...)
}

// liveFrame frames a live frame payload.
func liveFrame(payload []byte) []byte { return wireFrame(websocket.BinaryMessage, payload) }

// wirePayloadLen is the payload length of a frame built by wireFrame.
func wirePayloadLen(frame []byte) int {
	if len(frame) < 2 {
		return 0
	}
	switch frame[1] & 0x7f {
	case 126:
		return len(frame) - 4
	case 127:
		return len(frame) - 10
	default:
		return len(frame) - 2
	}
}
