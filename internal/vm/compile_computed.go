package vm

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hyperstack-go/hyperstack/internal/stack"
)

// computed compiles the entity's computed fields into sections evaluated in order.
func (c *compiler) computed(base string) error {
	specs := c.es.ComputedFieldSpecs
	if len(specs) == 0 {
		return nil
	}
	sectionNames := map[string]bool{}
	for _, s := range c.es.Sections {
		if s.Name != "root" && s.Name != "" {
			sectionNames[s.Name] = true
		}
	}
	if len(sectionNames) == 0 {
		for _, h := range c.es.Handlers {
			for _, m := range h.Mappings {
				if i := strings.Index(m.TargetPath, "."); i > 0 {
					sectionNames[m.TargetPath[:i]] = true
				}
			}
		}
		for _, s := range specs {
			if i := strings.Index(s.TargetPath, "."); i > 0 {
				sectionNames[s.TargetPath[:i]] = true
			}
		}
	}
	type pending struct {
		f    *computedField
		deps map[string]bool
	}
	var reads [][]string
	var fields []*computedField
	bySection := map[string][]*pending{}
	var order []string
	for i, s := range specs {
		loc := fmt.Sprintf("%s.computed_field_specs[%d]", base, i)
		segs := strings.Split(s.TargetPath, ".")
		if len(segs) != 2 {
			c.warnf(loc, "computed field %q is not section.field: skipped", s.TargetPath)
			continue
		}
		cc := &computedCompiler{ent: c.ent, section: segs[0], sections: sectionNames, refs: map[string]bool{}}
		fn, err := cc.compile(s.Expression)
		if err != nil {
			return &stack.SpecError{Path: loc + ".expression", Err: fmt.Errorf("%w: %v", ErrCompile, err)}
		}
		f := &computedField{Leaf: segs[1], Path: s.TargetPath, Segs: segs, Loc: loc, eval: fn, nvars: cc.maxVars,
			Emit: !c.nonEmitted[s.TargetPath], volatile: cc.volatile}
		if f.Emit {
			f.ep = c.emitPath(segs, s.TargetPath)
		}
		_, f.slot = c.ent.slotOf(segs)
		reads = append(reads, cc.reads)
		fields = append(fields, f)
		deps := map[string]bool{}
		for _, r := range stack.FieldRefs(s.Expression) {
			rs := strings.Split(r, ".")
			if len(rs) == 1 {
				deps[rs[0]] = true
			} else if rs[0] == segs[0] {
				deps[rs[1]] = true
			}
		}
		if _, ok := bySection[segs[0]]; !ok {
			order = append(order, segs[0])
		}
		bySection[segs[0]] = append(bySection[segs[0]], &pending{f: f, deps: deps})
		for _, r := range bySectionRefs(cc.refs) {
			c.ent.addGate(segs[0], r)
		}
	}
	for _, name := range order {
		fields := bySection[name]
		names := map[string]bool{}
		for _, p := range fields {
			names[p.f.Leaf] = true
		}
		// Stable topological order: declaration order, a field after the computed fields it reads.
		doneLeaves := map[string]bool{}
		used := make([]bool, len(fields))
		var sorted []*computedField
		for len(sorted) < len(fields) {
			picked := -1
			for i, p := range fields {
				if used[i] {
					continue
				}
				ready := true
				for d := range p.deps {
					if names[d] && d != p.f.Leaf && !doneLeaves[d] {
						ready = false
						break
					}
				}
				if ready {
					picked = i
					break
				}
			}
			if picked < 0 { // a cycle: keep declaration order
				for i := range fields {
					if !used[i] {
						picked = i
						break
					}
				}
			}
			used[picked] = true
			doneLeaves[fields[picked].f.Leaf] = true
			sorted = append(sorted, fields[picked].f)
		}
		sec := c.ent.section(name)
		sec.Fields = sorted
		for _, f := range sorted {
			c.ent.Computed = append(c.ent.Computed, f.Path)
		}
	}
	// Keep sections in first-appearance order.
	ordered := make([]*computedSection, 0, len(order))
	for _, name := range order {
		ordered = append(ordered, c.ent.section(name))
	}
	c.ent.sections = ordered
	// Read paths and the masks that let a run skip computed fields whose inputs did not change.
	for _, rs := range reads {
		for _, r := range rs {
			if !slices.Contains(c.ent.readPaths, r) {
				c.ent.readPaths = append(c.ent.readPaths, r)
			}
		}
	}
	for i, f := range fields {
		for _, r := range reads[i] {
			f.reads |= c.ent.maskOf(r)
		}
		f.affects = c.ent.maskOf(f.Path)
	}
	return nil
}

// maskOf returns the bits of the read paths that overlap path (equal, or one inside the other).
// With more than 64 read paths every path overlaps everything.
func (e *Entity) maskOf(path string) uint64 {
	if len(e.readPaths) > 64 {
		return ^uint64(0)
	}
	var m uint64
	for i, r := range e.readPaths {
		if r == path || strings.HasPrefix(r, path+".") || strings.HasPrefix(path, r+".") {
			m |= 1 << uint(i)
		}
	}
	return m
}

func bySectionRefs(refs map[string]bool) []string {
	out := make([]string, 0, len(refs))
	for r := range refs {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

func (e *Entity) section(name string) *computedSection {
	for _, s := range e.sections {
		if s.Name == name {
			return s
		}
	}
	s := &computedSection{Name: name, Gates: []string{name}}
	e.sections = append(e.sections, s)
	return s
}

func (e *Entity) addGate(section, other string) {
	s := e.section(section)
	for _, g := range s.Gates {
		if g == other {
			return
		}
	}
	s.Gates = append(s.Gates, other)
}

// sectionIDs numbers the computed sections and their gates (see Entity.secID).
func (e *Entity) sectionIDs() {
	for _, s := range e.sections {
		s.id = e.secID(s.Name)
		s.gateIDs = make([]int32, len(s.Gates))
		for i, g := range s.Gates {
			s.gateIDs[i] = e.secID(g)
		}
	}
}
