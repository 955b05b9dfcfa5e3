package projection

import (
	"slices"
	"strconv"
)

// Frame is one encoded message for the subscribers of a channel. Payload is shared by every
// subscriber and must never be modified.
type Frame struct {
	// Channel is the view id for frames of a view as a whole, or a channel id (see Target.Channel)
	// for the frames of one window or filter.
	Channel string
	// Key is the entity key the frame is about.
	Key string
	// Payload is the JSON frame sent to clients.
	Payload []byte
}

// Batch is the output of one Apply: frames in delivery order, all stamped with one sequence
// number. Sequence numbers increase by one per Apply.
type Batch struct {
	Seq    uint64
	Frames []Frame
}

func appendFrameHead(buf []byte, mode Mode, view, op string) []byte {
	buf = append(buf, `{"mode":"`...)
	buf = append(buf, mode...)
	buf = append(buf, `","entity":`...)
	buf = appendString(buf, view)
	buf = append(buf, `,"op":"`...)
	buf = append(buf, op...)
	return append(buf, '"')
}

// appendPatchFrame encodes a live patch frame.
func appendPatchFrame(buf []byte, mode Mode, view, key string, data []byte, appendPaths []string, seq []byte) []byte {
	buf = appendFrameHead(buf, mode, view, "patch")
	buf = append(buf, `,"key":`...)
	buf = appendString(buf, key)
	buf = append(buf, `,"data":`...)
	buf = append(buf, data...)
	if len(appendPaths) > 0 {
		buf = append(buf, `,"append":[`...)
		for i, p := range appendPaths {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, p)
		}
		buf = append(buf, ']')
	}
	if len(seq) > 0 {
		buf = append(buf, `,"seq":"`...)
		buf = append(buf, seq...)
		buf = append(buf, '"')
	}
	return append(buf, '}')
}

// appendUpsertFrame encodes a live upsert frame carrying a full entity.
func appendUpsertFrame(buf []byte, mode Mode, view, key string, data []byte, seq []byte) []byte {
	buf = appendFrameHead(buf, mode, view, "upsert")
	buf = append(buf, `,"key":`...)
	buf = appendString(buf, key)
	buf = append(buf, `,"data":`...)
	buf = append(buf, data...)
	if len(seq) > 0 {
		buf = append(buf, `,"seq":"`...)
		buf = append(buf, seq...)
		buf = append(buf, '"')
	}
	return append(buf, '}')
}

// appendDeleteFrame encodes a live delete frame.
func appendDeleteFrame(buf []byte, mode Mode, view, key string) []byte {
	buf = appendFrameHead(buf, mode, view, "delete")
	buf = append(buf, `,"key":`...)
	buf = appendString(buf, key)
	return append(buf, `,"data":null}`...)
}

// Entry is one entity of a snapshot: its key and its full encoded state.
type Entry struct {
	Key  string
	Data []byte
}

// AppendSnapshotFrame appends a snapshot frame holding entries to buf.
func AppendSnapshotFrame(buf []byte, mode Mode, view string, entries []Entry, complete bool) []byte {
	buf = appendFrameHead(buf, mode, view, "snapshot")
	buf = append(buf, `,"data":[`...)
	for i, e := range entries {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"key":`...)
		buf = appendString(buf, e.Key)
		buf = append(buf, `,"data":`...)
		buf = append(buf, e.Data...)
		buf = append(buf, '}')
	}
	buf = append(buf, `],"complete":`...)
	buf = strconv.AppendBool(buf, complete)
	return append(buf, '}')
}

// AppendSubscribedFrame appends the acknowledgement of a subscription to buf. sort is omitted when
// nil.
func AppendSubscribedFrame(buf []byte, view string, mode Mode, sort *Sort) []byte {
	buf = append(buf, `{"op":"subscribed","view":`...)
	buf = appendString(buf, view)
	buf = append(buf, `,"mode":"`...)
	buf = append(buf, mode...)
	buf = append(buf, '"')
	if sort != nil {
		buf = append(buf, `,"sort":{"field":[`...)
		for i, f := range sort.Field {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, f)
		}
		buf = append(buf, `],"order":"`...)
		if sort.Desc {
			buf = append(buf, "desc"...)
		} else {
			buf = append(buf, "asc"...)
		}
		buf = append(buf, `"}`...)
	}
	return append(buf, '}')
}

// AppendJSONString appends s as a JSON string (the encoding frames use).
func AppendJSONString(buf []byte, s string) []byte { return appendString(buf, s) }

func clonePaths(p []string) []string { return slices.Clone(p) }
