package source

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// rawFrame receives one message's wire bytes untouched. With lend set, a message that lies in one
// transport buffer is referenced rather than copied: b is then valid until release.
type rawFrame struct {
	b    []byte
	lend bool
	held mem.Buffer // the transport buffer b points into, freed by release
}

// release lets go of the transport buffer b points into, if any.
func (f *rawFrame) release() {
	if f.held != nil {
		f.held.Free()
		f.held = nil
	}
	f.b = nil
}

// rawCodec marshals requests as protobuf and hands received messages over as raw bytes, so the
// recorder stores exactly what the server sent. It is forced on the Subscribe call only; its name
// keeps the content-type application/grpc+proto.
type rawCodec struct{}

var _ encoding.CodecV2 = rawCodec{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("source codec: cannot marshal %T", v)
	}
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	switch f := v.(type) {
	case *rawFrame:
		// A message in one unpooled buffer (grpc allocates small messages that way) is already a
		// fresh slice nobody reuses: keep it. Pooled buffers are recycled once Unmarshal returns, so
		// anything else is copied out.
		if len(data) == 1 {
			if sb, ok := data[0].(mem.SliceBuffer); ok {
				f.b = sb
				return nil
			}
			if f.lend {
				data[0].Ref()
				f.held = data[0]
				f.b = f.held.ReadOnlyData()
				return nil
			}
		}
		f.b = data.Materialize()
		return nil
	case proto.Message:
		return proto.Unmarshal(data.Materialize(), f)
	}
	return fmt.Errorf("source codec: cannot unmarshal into %T", v)
}
