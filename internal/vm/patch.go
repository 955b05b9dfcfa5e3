package vm

import (
	"bytes"
	"sort"
	"strings"

	"github.com/hyperstack-go/hyperstack/internal/event"
)

// emitPath is an emitted state path of an entity, with what building patches needs precomputed.
type emitPath struct {
	segs   []string
	text   string
	id     int32 // index in Program.emitPaths
	entity int
	// rank orders the entity's emitted paths as their segments compare.
	rank int32
	// keys[d] is segs[d] as a JSON object key and colon; group[d] numbers segs[:d+1] within the
	// entity, so paths sharing a prefix share its numbers.
	keys  []string
	group []int32
	// nested is set when another emitted path of the entity is a proper prefix of this one.
	nested bool
	sec    int32 // the entity's section id of segs[0] and the slot of segs[1] (see Entity.slotOf)
	slot   int32
}

// rankEmitPaths fills in the order, keys and prefix numbers of every entity's emitted paths.
func rankEmitPaths(eps []*emitPath) {
	byEntity := map[int][]*emitPath{}
	var ents []int
	for _, ep := range eps {
		if _, ok := byEntity[ep.entity]; !ok {
			ents = append(ents, ep.entity)
		}
		byEntity[ep.entity] = append(byEntity[ep.entity], ep)
	}
	for _, e := range ents {
		list := byEntity[e]
		sort.SliceStable(list, func(i, j int) bool { return segsLess(list[i].segs, list[j].segs) })
		groups := map[string]int32{}
		texts := map[string]bool{}
		for _, ep := range list {
			texts[ep.text] = true
		}
		for r, ep := range list {
			ep.rank = int32(r)
			ep.keys = make([]string, len(ep.segs))
			ep.group = make([]int32, len(ep.segs))
			for d, seg := range ep.segs {
				ep.keys[d] = jsonKey(seg)
				prefix := strings.Join(ep.segs[:d+1], ".")
				g, ok := groups[prefix]
				if !ok {
					g = int32(len(groups))
					groups[prefix] = g
				}
				ep.group[d] = g
				if d < len(ep.segs)-1 && texts[prefix] {
					ep.nested = true
				}
			}
		}
	}
}

// dirtyEntry is a path changed by the current run. It holds no pointers, so the dirty list is
// written without write barriers while the collector runs; the items of an appended path are in
// dirtyApp at the same index.
type dirtyEntry struct {
	ep       int32 // emitPath id
	isAppend bool
}

// clearDirty forgets the paths the last run changed.
func (m *Machine) clearDirty() {
	for i := range m.dirty {
		m.dirtyAt[m.dirty[i].ep] = 0
	}
	m.dirty = m.dirty[:0]
}

func (m *Machine) markDirty(ep *emitPath) {
	if i := m.dirtyAt[ep.id]; i != 0 {
		m.dirty[i-1].isAppend = false
		return
	}
	m.dirty = append(m.dirty, dirtyEntry{ep: ep.id})
	m.dirtyAt[ep.id] = int32(len(m.dirty))
}

func (m *Machine) markAppended(ep *emitPath, v any) {
	if i := m.dirtyAt[ep.id]; i != 0 {
		if m.dirty[i-1].isAppend {
			m.dirtyApp[i-1] = append(m.dirtyApp[i-1], v)
		}
		return
	}
	m.dirty = append(m.dirty, dirtyEntry{ep: ep.id, isAppend: true})
	i := len(m.dirty) - 1
	for len(m.dirtyApp) <= i {
		m.dirtyApp = append(m.dirtyApp, nil)
	}
	m.dirtyApp[i] = []any{v}
	m.dirtyAt[ep.id] = int32(len(m.dirty))
}

// emit builds the mutation of the current run from its dirty paths.
func (m *Machine) emit(handler string) {
	if m.stateKey.kind == keyNull || len(m.dirty) == 0 {
		return
	}
	// The key and the patch are written one after the other and share one allocation (each capped,
	// so appending to one never reaches the other); cloning does not clear memory first.
	m.buf = m.stateKey.appendJSON(m.buf[:0])
	kl := len(m.buf)
	appends, ok := m.buildPatch()
	if !ok {
		return
	}
	buf := bytes.Clone(m.buf)
	m.out = append(m.out, event.Mutation{
		Export:  m.ent.Name,
		Key:     buf[:kl:kl],
		Patch:   buf[kl:len(buf):len(buf)],
		Append:  appends,
		Slot:    m.ev.slot,
		Handler: handler,
	})
}

// buildPatch appends the dirty paths as one nested JSON object (keys sorted) to m.buf, and reports
// false when there is nothing to write. Replaced paths carry the current value (skipped when
// missing); appended paths carry the appended items.
func (m *Machine) buildPatch() ([]string, bool) {
	d, eps := m.dirty, m.p.emitPaths
	// The current values, on the stack for the usual handful of paths.
	var stack [64]any
	vals := stack[:]
	if len(d) > len(stack) {
		vals = make([]any, len(d))
	}
	order := m.order[:0]
	for i := range d {
		ep := eps[d[i].ep]
		if d[i].isAppend {
			vals[i] = m.dirtyApp[i]
		} else {
			v, ok := m.pathValue(ep.sec, ep.slot, ep.segs)
			if !ok {
				continue
			}
			vals[i] = v
		}
		// Insertion by rank: the order of the paths' segments.
		r := ep.rank
		j := len(order)
		order = append(order, int32(i))
		for ; j > 0 && eps[d[order[j-1]].ep].rank > r; j-- {
			order[j] = order[j-1]
		}
		order[j] = int32(i)
	}
	// Drop entries under another entry.
	kept := order[:0]
	for _, i := range order {
		if ep := eps[d[i].ep]; ep.nested && len(kept) > 0 && isPrefix(eps[d[kept[len(kept)-1]].ep].segs, ep.segs) {
			continue
		}
		kept = append(kept, i)
	}
	m.order = kept
	if len(kept) == 0 {
		return nil, false
	}
	var appends []string
	for _, i := range kept {
		if d[i].isAppend {
			appends = append(appends, eps[d[i].ep].text)
		}
	}
	m.buf = m.writeGroup(m.buf, kept, 0, vals)
	return appends, true
}

func (m *Machine) writeGroup(b []byte, es []int32, depth int, vals []any) []byte {
	d, eps := m.dirty, m.p.emitPaths
	b = append(b, '{')
	for i := 0; i < len(es); {
		ep := eps[d[es[i]].ep]
		g := ep.group[depth]
		j := i + 1
		for j < len(es) && eps[d[es[j]].ep].group[depth] == g {
			j++
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, ep.keys[depth]...)
		if len(ep.segs) == depth+1 {
			b = appendJSON(b, vals[es[i]])
		} else {
			b = m.writeGroup(b, es[i:j], depth+1, vals)
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
