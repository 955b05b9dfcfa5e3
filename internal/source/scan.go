package source

import (
	"encoding/binary"
	"errors"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

var errMalformed = errors.New("malformed protobuf")

// Field numbers of the SubscribeUpdate oneof cases.
var kindByField = [...]geyserpb.UpdateKind{
	2:  geyserpb.KindAccount,
	3:  geyserpb.KindSlot,
	4:  geyserpb.KindTransaction,
	5:  geyserpb.KindBlock,
	6:  geyserpb.KindPing,
	7:  geyserpb.KindBlockMeta,
	8:  geyserpb.KindEntry,
	9:  geyserpb.KindPong,
	10: geyserpb.KindTransactionStatus,
}

// errMerged reports a frame whose case message is split over several occurrences (protobuf merges
// them); the scanner leaves such rare frames to the decoder.
var errMerged = errors.New("message split over several fields")

// scanTop finds the update_oneof case of a SubscribeUpdate without decoding it: its kind and the
// bytes of the case's message.
func scanTop(raw []byte) (geyserpb.UpdateKind, []byte, error) {
	kind := geyserpb.KindUnknown
	var body []byte
	merged := false
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return geyserpb.KindUnknown, nil, errMalformed
		}
		raw = raw[n:]
		if num >= 2 && num <= 10 && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(raw)
			if m < 0 {
				return geyserpb.KindUnknown, nil, errMalformed
			}
			next := kindByField[num]
			merged = next == kind // the same case again: protobuf merges, a new case replaces
			kind, body = next, v
			raw = raw[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, raw)
		if m < 0 {
			return geyserpb.KindUnknown, nil, errMalformed
		}
		raw = raw[m:]
	}
	if merged {
		return kind, body, errMerged
	}
	return kind, body, nil
}

// fields holds the few scalar fields of one message that the scanner needs, by field number.
type fields struct {
	varint [9]uint64
	bytes  [9][]byte
	seen1  int // occurrences of field 1 as bytes (a message field when the scanner reads into it)
}

func scanFields(b []byte, f *fields) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errMalformed
		}
		b = b[n:]
		switch {
		case typ == protowire.VarintType && num < 9:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return errMalformed
			}
			f.varint[num] = v
			b = b[m:]
		case typ == protowire.BytesType && num < 9:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return errMalformed
			}
			f.bytes[num] = v
			if num == 1 {
				f.seen1++
			}
			b = b[m:]
		default:
			m := protowire.ConsumeFieldValue(num, typ, b)
			if m < 0 {
				return errMalformed
			}
			b = b[m:]
		}
	}
	return nil
}

// slotField is the field number of the slot inside each case's message (0: none).
var slotField = [...]protowire.Number{
	geyserpb.KindAccount:           2,
	geyserpb.KindSlot:              1,
	geyserpb.KindTransaction:       2,
	geyserpb.KindTransactionStatus: 1,
	geyserpb.KindBlock:             1,
	geyserpb.KindBlockMeta:         1,
	geyserpb.KindEntry:             1,
	geyserpb.KindPing:              0,
	geyserpb.KindPong:              0,
	geyserpb.KindUnknown:           0,
}

func scanKindSlot(raw []byte) (geyserpb.UpdateKind, uint64, error) {
	var s scanned
	err := scanUpdate(raw, &s)
	return s.kind, s.slot, err
}

// DedupKey returns the identity of an update, equal for a message and its replayed duplicate:
// account: pubkey+slot+write_version; transaction and transaction status: signature+slot; slot:
// slot+status; block meta and block: slot; entry: slot+index. Ping, pong, unknown and malformed
// updates have no key (ok is false). The key is an opaque binary string.
func DedupKey(u *Update) (key string, ok bool) {
	return DedupKeyOf(u.Raw)
}

// DedupKeyOf is DedupKey over raw SubscribeUpdate bytes.
func DedupKeyOf(raw []byte) (key string, ok bool) {
	var s scanned
	if err := scanUpdate(raw, &s); err != nil || !s.hasKey {
		return "", false
	}
	return string(s.key), true
}

// scanned is what one pass over a frame yields. key points into buf.
type scanned struct {
	kind   geyserpb.UpdateKind
	slot   uint64
	hasKey bool
	key    []byte
	buf    [1 + 8 + 64 + 8]byte
}

// scanUpdate reads kind, slot and dedup key material from raw without decoding it.
func scanUpdate(raw []byte, s *scanned) error {
	kind, body, err := scanTop(raw)
	if errors.Is(err, errMerged) {
		return scanDecoded(raw, s)
	}
	if err != nil {
		s.kind = geyserpb.KindUnknown
		return err
	}
	s.kind = kind
	sf := slotField[kind]
	if sf == 0 {
		return nil
	}
	var f fields
	if err := scanFields(body, &f); err != nil {
		s.kind = geyserpb.KindUnknown
		return err
	}
	s.slot = f.varint[sf]
	k := append(s.buf[:0], byte(kind))
	k = binary.BigEndian.AppendUint64(k, s.slot)
	switch kind {
	case geyserpb.KindAccount:
		var info fields
		if f.seen1 > 1 {
			return scanDecoded(raw, s)
		}
		if err := scanFields(f.bytes[1], &info); err != nil {
			return nil // kind and slot are known; the key is not
		}
		k = append(k, info.bytes[1]...)
		k = binary.BigEndian.AppendUint64(k, info.varint[7])
	case geyserpb.KindTransaction:
		var info fields
		if f.seen1 > 1 {
			return scanDecoded(raw, s)
		}
		if err := scanFields(f.bytes[1], &info); err != nil {
			return nil
		}
		k = append(k, info.bytes[1]...)
	case geyserpb.KindTransactionStatus:
		k = append(k, f.bytes[2]...)
	case geyserpb.KindSlot:
		k = append(k, byte(f.varint[3]))
	case geyserpb.KindEntry:
		k = binary.BigEndian.AppendUint64(k, f.varint[2])
	}
	s.key, s.hasKey = k, true
	return nil
}

// scanDecoded is scanUpdate by full decoding, for frames the scanner does not read directly.
func scanDecoded(raw []byte, s *scanned) error {
	var m geyserpb.SubscribeUpdate
	if err := proto.Unmarshal(raw, &m); err != nil {
		s.kind = geyserpb.KindUnknown
		return err
	}
	s.kind = geyserpb.KindOf(&m)
	s.slot, _ = geyserpb.SlotOf(&m)
	if slotField[s.kind] == 0 {
		return nil
	}
	k := append(s.buf[:0], byte(s.kind))
	k = binary.BigEndian.AppendUint64(k, s.slot)
	switch s.kind {
	case geyserpb.KindAccount:
		info := m.GetAccount().GetAccount()
		k = append(k, info.GetPubkey()...)
		k = binary.BigEndian.AppendUint64(k, info.GetWriteVersion())
	case geyserpb.KindTransaction:
		k = append(k, m.GetTransaction().GetTransaction().GetSignature()...)
	case geyserpb.KindTransactionStatus:
		k = append(k, m.GetTransactionStatus().GetSignature()...)
	case geyserpb.KindSlot:
		k = append(k, byte(m.GetSlot().GetStatus()))
	case geyserpb.KindEntry:
		k = binary.BigEndian.AppendUint64(k, m.GetEntry().GetIndex())
	}
	s.key, s.hasKey = k, true
	return nil
}
