package vm

import (
	"github.com/hyperstack-go/hyperstack/internal/event"
)

// dirtyEntry is a path changed by the current run.
type dirtyEntry struct {
	segs     []string
	text     string
	isAppend bool
	appended []any
	value    any // the current value, filled when the patch is built
}

func (m *Machine) markDirty(segs []string, text string) {
	for i := range m.dirty {
		if m.dirty[i].text == text {
			m.dirty[i].isAppend, m.dirty[i].appended = false, nil
			return
		}
	}
	m.dirty = append(m.dirty, dirtyEntry{segs: segs, text: text})
}

func (m *Machine) markAppended(t *Target, v any) {
	for i := range m.dirty {
		if m.dirty[i].text == t.Text {
			if m.dirty[i].isAppend {
				m.dirty[i].appended = append(m.dirty[i].appended, v)
			}
			return
		}
	}
	m.dirty = append(m.dirty, dirtyEntry{segs: t.Segs, text: t.Text, isAppend: true, appended: []any{v}})
}

// emit builds the mutation of the current run from its dirty paths.
func (m *Machine) emit(handler string) {
	if m.stateKey.kind == keyNull || len(m.dirty) == 0 {
		return
	}
	patch, appends := m.buildPatch()
	if patch == nil {
		return
	}
	// The key and the patch share one allocation (each capped, so appending to one never reaches
	// the other).
	kb := m.stateKey.appendJSON(m.keyBuf[:0])
	m.keyBuf = kb
	buf := make([]byte, len(kb)+len(patch))
	copy(buf, kb)
	copy(buf[len(kb):], patch)
	m.out = append(m.out, event.Mutation{
		Export:  m.ent.Name,
		Key:     buf[:len(kb):len(kb)],
		Patch:   buf[len(kb):],
		Append:  appends,
		Slot:    m.ev.slot,
		Handler: handler,
	})
}

// buildPatch writes the dirty paths as one nested JSON object (keys sorted) into m.buf. Replaced paths carry the
// current value (skipped when missing); appended paths carry the appended items.
func (m *Machine) buildPatch() ([]byte, []string) {
	d := m.dirty
	order := m.order[:0]
	for i := range d {
		if !d[i].isAppend {
			v, ok := getPath(m.state, d[i].segs)
			if !ok {
				continue
			}
			d[i].value = v
		}
		order = append(order, int32(i))
	}
	// Sort by segments (insertion sort of indexes: patches are small).
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && segsLess(d[order[j]].segs, d[order[j-1]].segs); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	// Drop entries under another entry.
	kept := order[:0]
	for _, i := range order {
		if len(kept) > 0 && isPrefix(d[kept[len(kept)-1]].segs, d[i].segs) {
			continue
		}
		kept = append(kept, i)
	}
	m.order = kept
	if len(kept) == 0 {
		return nil, nil
	}
	var appends []string
	for _, i := range kept {
		if d[i].isAppend {
			appends = append(appends, d[i].text)
		}
	}
	m.buf = m.writeGroup(m.buf[:0], kept, 0)
	return m.buf, appends
}

func (m *Machine) writeGroup(b []byte, es []int32, depth int) []byte {
	d := m.dirty
	b = append(b, '{')
	for i := 0; i < len(es); {
		seg := d[es[i]].segs[depth]
		j := i + 1
		for j < len(es) && d[es[j]].segs[depth] == seg {
			j++
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, seg)
		b = append(b, ':')
		if e := &d[es[i]]; len(e.segs) == depth+1 {
			if e.isAppend {
				b = appendJSON(b, e.appended)
			} else {
				b = appendJSON(b, e.value)
			}
		} else {
			b = m.writeGroup(b, es[i:j], depth+1)
		}
		i = j
	}
	return append(b, '}')
}

func segsLess(a, b []string) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

func isPrefix(p, s []string) bool {
	if len(p) >= len(s) {
		return false
	}
	for i := range p {
		if p[i] != s[i] {
			return false
		}
	}
	return true
}
