package geyserserver

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

// commitment levels index the rings.
const (
	levelProcessed = iota
	levelConfirmed
	levelFinalized
	numLevels
)

func levelOf(c geyserpb.CommitmentLevel) int {
	switch c {
	case geyserpb.CommitmentLevel_CONFIRMED:
		return levelConfirmed
	case geyserpb.CommitmentLevel_FINALIZED:
		return levelFinalized
	}
	return levelProcessed
}

// slotState holds the updates of one slot until the slot reaches confirmed and finalized.
type slotState struct {
	confirmed bool
	finalized bool
	dead      bool
	msgs      []*entry // non-slot updates of the slot, in publish order, until finalized
}

// blockInfo is what the unary methods need from a block meta.
type blockInfo struct {
	slot      uint64
	blockhash string
	height    uint64
}

// Publish adds one update to the feed. u is the decoded update; raw, when not nil, is its encoding,
// which is then sent byte-exact (apart from the `filters` field, which is rewritten per stream). u may
// be nil when raw is given (it is then decoded). Ping and pong updates are ignored: the server makes
// its own. Publish returns without waiting for subscribers unless Config.Backpressure is set.
func (s *Server) Publish(u *geyserpb.SubscribeUpdate, raw []byte) error {
	if u == nil {
		if raw == nil {
			return fmt.Errorf("%w: nothing to publish", ErrMalformed)
		}
		u = new(geyserpb.SubscribeUpdate)
		if err := proto.Unmarshal(raw, u); err != nil {
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
	}
	kind := geyserpb.KindOf(u)
	switch kind {
	case geyserpb.KindPing, geyserpb.KindPong, geyserpb.KindUnknown:
		return nil
	}
	if raw == nil {
		var err error
		if raw, err = (proto.MarshalOptions{Deterministic: true}).Marshal(u); err != nil {
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
	}
	body, err := splitFilters(raw)
	if err != nil {
		return err
	}
	slot, _ := geyserpb.SlotOf(u)
	e := &entry{kind: kind, slot: slot, msg: u, body: body}

	s.feedMu.Lock()
	defer s.feedMu.Unlock()
	if s.isShutdown() {
		return ErrShutdown
	}
	s.published.Add(1)
	if kind == geyserpb.KindSlot {
		s.publishSlotStatus(e, u.GetSlot())
	} else {
		s.publishData(e)
	}
	return nil
}

func (s *Server) appendTo(level int, e *entry) {
	s.rings[level].append(e)
}

func (s *Server) state(slot uint64) *slotState {
	st := s.slots[slot]
	if st == nil {
		st = &slotState{}
		s.slots[slot] = st
		if len(s.slots) > s.cfg.MaxPendingSlots {
			s.evictOldestSlot()
		}
	}
	return st
}

func (s *Server) evictOldestSlot() {
	first := true
	var oldest uint64
	for sl := range s.slots {
		if first || sl < oldest {
			oldest, first = sl, false
		}
	}
	delete(s.slots, oldest)
}

func (s *Server) publishData(e *entry) {
	s.appendTo(levelProcessed, e)
	st := s.state(e.slot)
	switch {
	case st.dead:
	case st.finalized:
		s.appendTo(levelConfirmed, e)
		s.appendTo(levelFinalized, e)
	case st.confirmed:
		s.appendTo(levelConfirmed, e)
		st.msgs = append(st.msgs, e)
	default:
		st.msgs = append(st.msgs, e)
	}
	s.noteSlot(levelProcessed, e)
}

func (s *Server) publishSlotStatus(e *entry, su *geyserpb.SubscribeUpdateSlot) {
	s.appendTo(levelProcessed, e)
	st := s.state(e.slot)
	switch su.GetStatus() {
	case geyserpb.SlotStatus_SLOT_CONFIRMED:
		if !st.confirmed && !st.dead {
			st.confirmed = true
			for _, m := range st.msgs {
				s.appendTo(levelConfirmed, m)
			}
			s.noteRelease(levelConfirmed, e.slot, st.msgs)
		}
		s.appendTo(levelConfirmed, e)
		s.appendTo(levelFinalized, e)
	case geyserpb.SlotStatus_SLOT_FINALIZED:
		if !st.dead {
			if !st.confirmed {
				st.confirmed = true
				for _, m := range st.msgs {
					s.appendTo(levelConfirmed, m)
				}
				s.noteRelease(levelConfirmed, e.slot, st.msgs)
			}
			if !st.finalized {
				st.finalized = true
				for _, m := range st.msgs {
					s.appendTo(levelFinalized, m)
				}
				s.noteRelease(levelFinalized, e.slot, st.msgs)
				st.msgs = nil
			}
		}
		s.appendTo(levelConfirmed, e)
		s.appendTo(levelFinalized, e)
		// Slots below a finalized one that never got there are on an abandoned fork.
		for sl, other := range s.slots {
			if sl < e.slot && !other.finalized {
				delete(s.slots, sl)
			}
		}
	case geyserpb.SlotStatus_SLOT_DEAD:
		st.dead = true
		st.msgs = nil
		s.appendTo(levelConfirmed, e)
		s.appendTo(levelFinalized, e)
	default:
		s.appendTo(levelConfirmed, e)
		s.appendTo(levelFinalized, e)
	}
	s.noteStatus(e.slot, su.GetStatus())
}

// noteSlot records the newest slot and block meta seen at a level (for GetSlot and friends).
func (s *Server) noteSlot(level int, e *entry) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if e.slot > s.dataSlot[level] {
		s.dataSlot[level] = e.slot
	}
	if bm := e.msg.GetBlockMeta(); bm != nil {
		s.noteBlockMetaLocked(level, bm)
	}
}

func (s *Server) noteRelease(level int, slot uint64, msgs []*entry) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if slot > s.dataSlot[level] {
		s.dataSlot[level] = slot
	}
	for _, m := range msgs {
		if bm := m.msg.GetBlockMeta(); bm != nil {
			s.noteBlockMetaLocked(level, bm)
		}
	}
}

func (s *Server) noteBlockMetaLocked(level int, bm *geyserpb.SubscribeUpdateBlockMeta) {
	bi := blockInfo{slot: bm.GetSlot(), blockhash: bm.GetBlockhash(), height: bm.GetBlockHeight().GetBlockHeight()}
	if cur := s.latestBlock[level]; cur == nil || bi.slot >= cur.slot {
		s.latestBlock[level] = &bi
	}
	if level == levelProcessed && bi.blockhash != "" {
		if _, ok := s.blockhashes[bi.blockhash]; !ok {
			s.blockhashOrder = append(s.blockhashOrder, bi.blockhash)
		}
		s.blockhashes[bi.blockhash] = bi
		for len(s.blockhashOrder) > 2*MaxRecentBlockhashes {
			delete(s.blockhashes, s.blockhashOrder[0])
			s.blockhashOrder = s.blockhashOrder[1:]
		}
	}
}

func (s *Server) noteStatus(slot uint64, status geyserpb.SlotStatus) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	level := -1
	switch status {
	case geyserpb.SlotStatus_SLOT_PROCESSED:
		level = levelProcessed
	case geyserpb.SlotStatus_SLOT_CONFIRMED:
		level = levelConfirmed
	case geyserpb.SlotStatus_SLOT_FINALIZED:
		level = levelFinalized
	}
	if level >= 0 && slot > s.statusSlot[level] {
		s.statusSlot[level] = slot
	}
}

// slotAt returns the current slot at a level: the newest slot that reached that status, else the
// newest slot released to that level.
func (s *Server) slotAt(level int) uint64 {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if s.statusSlot[level] > 0 {
		return s.statusSlot[level]
	}
	return s.dataSlot[level]
}
