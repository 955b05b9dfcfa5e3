package geyserserver

import (
	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
)

// frame is one outgoing SubscribeUpdate already encoded, in two parts: the `filters` field entries
// (prefix) and the rest of the message (body). Both are immutable and shared; the codec hands them to
// the transport without copying.
type frame struct {
	prefix []byte
	body   []byte
}

// Codec is the server codec: it sends frames as they are and handles every other message with the
// standard protobuf codec. Its name is "proto", so the wire content type is unchanged. ServerOptions
// installs it; a grpc.Server built without it cannot serve Subscribe.
type Codec struct{}

var _ encoding.CodecV2 = Codec{}

var protoCodec = encoding.GetCodecV2(protocodec.Name)

// Name returns "proto".
func (Codec) Name() string { return protocodec.Name }

// Marshal encodes v; frames are passed through.
func (Codec) Marshal(v any) (mem.BufferSlice, error) {
	if f, ok := v.(*frame); ok {
		out := make(mem.BufferSlice, 0, 2)
		if len(f.prefix) > 0 {
			out = append(out, mem.SliceBuffer(f.prefix))
		}
		if len(f.body) > 0 {
			out = append(out, mem.SliceBuffer(f.body))
		}
		return out, nil
	}
	return protoCodec.Marshal(v)
}

// Unmarshal decodes with the standard protobuf codec.
func (Codec) Unmarshal(data mem.BufferSlice, v any) error { return protoCodec.Unmarshal(data, v) }
