package vm

import (
	"fmt"
	"strings"

	"github.com/hyperstack-go/hyperstack/internal/event"
)

// Resolver questions of handlers: the answer cache, questions waiting for an answer, and Deliver.

// answer returns a resolver answer from the cache or the Resolvers.
func (m *Machine) answer(kind ResolverKind, k string) (any, bool) {
	ck := answerKey{kind, k}
	if v, ok := m.answers.Get(ck); ok {
		m.stats.ResolverHits++
		return v, true
	}
	if m.cfg.Resolvers != nil {
		if raw, ok := m.cfg.Resolvers.Resolve(kind, k); ok {
			v, err := parseJSONValue(raw)
			if err != nil {
				m.log.Debug("bad resolver answer", "kind", kind, "key", k, "err", err)
				return nil, false
			}
			m.answers.Add(ck, v)
			if m.cfg.OnResolve != nil {
				m.cfg.OnResolve(string(kind), k, raw)
			}
			m.stats.ResolverHits++
			return v, true
		}
	}
	m.stats.ResolverMisses++
	return nil, false
}

// answerKey is a resolver question: its kind and key.
type answerKey struct {
	kind ResolverKind
	k    string
}

// waiting is a resolver question without an answer yet and the rows that want it.
type waiting struct {
	kind    ResolverKind
	key     string
	targets []waitTarget
}

type waitTarget struct {
	entity int
	key    key
	spec   *resolverSpec
}

const maxWaiting = 4096

func (m *Machine) wait(kind ResolverKind, k string, wt waitTarget) {
	ck := answerKey{kind, k}
	w, ok := m.waiting[ck]
	if !ok {
		if len(m.waitKeys) >= maxWaiting {
			delete(m.waiting, m.waitKeys[0])
			m.waitKeys = m.waitKeys[1:]
		}
		w = &waiting{kind: kind, key: k}
		m.waiting[ck] = w
		m.waitKeys = append(m.waitKeys, ck)
	}
	for _, t := range w.targets {
		if t == wt {
			return
		}
	}
	if len(w.targets) < 1024 {
		w.targets = append(w.targets, wt)
	}
}

// Waiting returns the resolver questions still unanswered, as (kind, key) pairs in the order they
// were first asked. A live pipeline answers them with Deliver.
func (m *Machine) Waiting() [][2]string {
	out := make([][2]string, 0, len(m.waitKeys))
	for _, ck := range m.waitKeys {
		if w, ok := m.waiting[ck]; ok {
			out = append(out, [2]string{string(w.kind), w.key})
		}
	}
	return out
}

// at reads a state path of the current row through its location (see pathLoc).
func (m *Machine) at(segs []string, loc pathLoc) any {
	v, _ := m.pathValue(loc.sec, loc.slot, segs)
	return v
}

// resolverInput renders the question a resolver spec asks for the current row.
func (m *Machine) resolverInput(spec *resolverSpec) (string, bool) {
	if spec.Kind == ResolveURL {
		var u string
		if spec.Template != nil {
			var b strings.Builder
			for _, p := range spec.Template {
				if p.Ref == nil {
					b.WriteString(p.Literal)
					continue
				}
				v := m.at(p.Ref, p.ref)
				if v == nil {
					return "", false
				}
				b.WriteString(percentEncode(displayString(v)))
			}
			u = b.String()
		} else {
			s, ok := m.at(spec.URLPath, spec.urlLoc).(string)
			if !ok || s == "" {
				return "", false
			}
			u = s
		}
		return spec.Method + " " + u, true
	}
	v := spec.Input
	if v == nil && spec.InputPath != nil {
		v = m.at(spec.InputPath, spec.inputLoc)
	}
	if v == nil {
		return "", false
	}
	return displayString(v), true
}

// extractsSet reports whether every target of the spec's extracts holds a non-null value.
func (m *Machine) extractsSet(spec *resolverSpec) bool {
	for i := range spec.Extracts {
		t := &spec.Extracts[i].Target
		if v, _ := m.pathValue(t.sec, t.slot, t.Segs); v == nil {
			return false
		}
	}
	return true
}

// resolverCond evaluates the spec's condition on the current row.
func (m *Machine) resolverCond(spec *resolverSpec) bool {
	if spec.Cond == nil {
		return true
	}
	return compareOp(spec.Cond.Op, m.at(spec.Cond.Path, spec.Cond.loc), spec.Cond.Value)
}

// resolve runs a resolver spec for the current row (OpResolve).
func (m *Machine) resolve(spec *resolverSpec, keyVal any) {
	if keyVal == nil || !m.resolverCond(spec) {
		return
	}
	if spec.Schedule != nil {
		v := m.at(spec.Schedule, spec.schedLoc)
		at, ok := asU64(v)
		if !ok || isFloat(v) {
			return
		}
		if m.ev.slot < at {
			m.sched.add(&callback{entity: m.h.Entity, key: m.stateKey, spec: spec, slot: at})
			return
		}
	}
	m.resolveNow(spec)
}

// resolveNow asks the question of spec for the current row and applies a known answer in place.
func (m *Machine) resolveNow(spec *resolverSpec) bool {
	if spec.SetOnce && m.extractsSet(spec) {
		return true
	}
	// A row that asked and got no answer asks again once the stream moves to a new slot (or an
	// answer arrives), not on every update.
	wt := waitTarget{entity: m.ent.StateID, key: m.stateKey, spec: spec}
	if at, ok := m.asked[wt]; ok && at == m.maxSlot<<8|m.answerGen&0xff {
		return true
	}
	in, ok := m.resolverInput(spec)
	if !ok {
		return false
	}
	if ans, ok := m.answer(spec.Kind, in); ok {
		m.applyExtracts(spec, ans)
		return true
	}
	m.wait(spec.Kind, in, wt)
	if len(m.asked) >= maxWaiting {
		clear(m.asked)
	}
	m.asked[wt] = m.maxSlot<<8 | m.answerGen&0xff
	return true
}

func (m *Machine) applyExtracts(spec *resolverSpec, ans any) {
	for _, ex := range spec.Extracts {
		v := ans
		if ex.Source != nil {
			v, _ = getPath(asObject(ans), ex.Source)
		}
		if ex.Transform != trNone {
			tv, err := transform(ex.Transform, v)
			if err != nil {
				continue
			}
			v = tv
		}
		if spec.SetOnce {
			if cur, _ := m.pathValue(ex.Target.sec, ex.Target.slot, ex.Target.Segs); cur != nil {
				continue
			}
		}
		m.set(&ex.Target, deepCopy(v))
	}
}

func asObject(v any) map[string]any {
	o, _ := v.(map[string]any)
	return o
}

// Deliver hands the Machine an answer that was not available when asked (see Resolvers). The rows
// waiting for it are updated and their mutations returned. Deliver is called from the goroutine
// that runs Process, between events.
func (m *Machine) Deliver(kind ResolverKind, k string, answer []byte) ([]event.Mutation, error) {
	switch kind {
	case ResolveToken, ResolveURL, ResolveSlotHash, ResolveBlockTime:
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnknownResolver, kind)
	}
	v, err := parseJSONValue(answer)
	if err != nil {
		return nil, fmt.Errorf("deliver %s %s: %w", kind, k, err)
	}
	ck := answerKey{kind, k}
	m.answers.Add(ck, v)
	m.answerGen++
	if kind == ResolveBlockTime {
		m.tsKnown = false
	}
	if m.cfg.OnResolve != nil {
		m.cfg.OnResolve(string(kind), k, answer)
	}
	m.out = m.out[:0]
	m.errs = m.errs[:0]
	m.replays = 0
	if w, ok := m.waiting[ck]; ok {
		delete(m.waiting, ck)
		for i, wk := range m.waitKeys {
			if wk == ck {
				m.waitKeys = append(m.waitKeys[:i], m.waitKeys[i+1:]...)
				break
			}
		}
		e := &evCtx{slot: m.maxSlot, names: &m.names}
		for _, t := range w.targets {
			spec := t.spec
			m.applyToRow(t.entity, t.key, e, "resolver:"+string(kind), false, func() {
				if spec.SetOnce && m.extractsSet(spec) {
					return
				}
				m.applyExtracts(spec, v)
			})
		}
	}
	m.drain()
	return m.finish()
}

// percentEncode escapes everything but the unreserved characters (ALPHA, DIGIT, "-", ".", "_", "~").
func percentEncode(s string) string {
	const hexUpper = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexUpper[c>>4])
		b.WriteByte(hexUpper[c&15])
	}
	return b.String()
}
