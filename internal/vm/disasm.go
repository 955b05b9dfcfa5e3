package vm

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// Disassemble renders the whole program: each entity with its indexes and computed fields, then each
// handler's instructions with their operands resolved against the pools.
func (p *Program) Disassemble() string {
	var b strings.Builder
	fmt.Fprintf(&b, "program %s: %d entities, %d handlers, %d instructions, %d constants, %d paths\n",
		p.Name, len(p.Entities), len(p.Handlers), len(p.Code), len(p.Consts), len(p.Paths))
	for _, e := range p.Entities {
		fmt.Fprintf(&b, "\nentity %s (state %d) key %s\n", e.Name, e.StateID, orDash(e.PrimaryKey))
		for i, ix := range e.Indexes {
			fmt.Fprintf(&b, "  index %d %s on %s\n", i, ix.Name, ix.Field)
		}
		for _, s := range e.sections {
			fmt.Fprintf(&b, "  computed %s (needs %s):", s.Name, strings.Join(s.Gates, ", "))
			for _, f := range s.Fields {
				b.WriteString(" " + f.Leaf)
			}
			b.WriteString("\n")
		}
		for _, h := range p.Handlers {
			if h.Entity == e.StateID {
				b.WriteString("\n")
				b.WriteString(p.DisassembleHandler(h))
			}
		}
	}
	return b.String()
}

// DisassembleHandler renders one handler.
func (p *Program) DisassembleHandler(h *Handler) string {
	var b strings.Builder
	kind := "handler"
	switch h.Kind {
	case HandlerHookOnly:
		kind = "hook handler"
	case HandlerPdaHook:
		kind = "pda hook"
	}
	fmt.Fprintf(&b, "  %s %s  [%s]\n", kind, h.EventType, h.Loc)
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for pc := h.Start; pc < h.End; pc++ {
		in := p.Code[pc]
		fmt.Fprintf(tw, "    %04d\t%s\t%s\n", pc, in.Op, p.operands(h, in))
	}
	tw.Flush()
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func reg(n uint32) string { return fmt.Sprintf("r%d", n) }

func (p *Program) pathText(i uint32) string {
	if int(i) < len(p.Paths) {
		if p.Paths[i].Text == "" {
			return "<event>"
		}
		return p.Paths[i].Text
	}
	return fmt.Sprintf("path?%d", i)
}

func (p *Program) targetText(i uint32) string {
	if int(i) >= len(p.Targets) {
		return fmt.Sprintf("target?%d", i)
	}
	t := p.Targets[i]
	if !t.Emit {
		return t.Text + " (hidden)"
	}
	return t.Text
}

func (p *Program) constText(i uint32) string {
	if int(i) < len(p.Consts) {
		s := string(appendJSON(nil, p.Consts[i]))
		if len(s) > 40 {
			s = s[:37] + "..."
		}
		return s
	}
	return fmt.Sprintf("const?%d", i)
}

func (p *Program) condText(i uint32) string {
	if int(i) >= len(p.conds) {
		return fmt.Sprintf("cond?%d", i)
	}
	c := p.conds[i]
	if c.Logical != "" {
		parts := make([]string, len(c.Subs))
		for j, s := range c.Subs {
			parts[j] = p.condText(uint32(s))
		}
		return "(" + strings.Join(parts, " "+string(c.Logical)+" ") + ")"
	}
	v := string(appendJSON(nil, c.Value))
	if len(v) > 24 {
		v = v[:21] + "..."
	}
	return fmt.Sprintf("event.%s %s %s", c.Text, c.Op, v)
}

func (p *Program) indexText(h *Handler, i uint32) string {
	if i == noIndex {
		return "*"
	}
	e := p.Entities[h.Entity]
	if int(i) < len(e.Indexes) {
		return e.Indexes[i].Name
	}
	return fmt.Sprintf("index?%d", i)
}

func (p *Program) operands(h *Handler, in Instr) string {
	switch in.Op {
	case OpLoadEvent:
		s := reg(in.A) + ", event." + p.pathText(in.B)
		if in.C > 0 {
			s += " default " + p.constText(in.C-1)
		}
		return s
	case OpLoadAddress, OpLoadResolved, OpNewObject, OpAbortIfNullKey, OpReadState, OpWriteState, OpEmit:
		return reg(in.A)
	case OpLoadWhole:
		if in.C == 1 {
			return reg(in.A) + ", copy"
		}
		return reg(in.A)
	case OpLoadIxAccount:
		name := ""
		if r := p.Routes[h.EventType]; r != nil && r.ixDef != nil && int(in.B) < len(r.ixDef.Accounts) {
			name = " (" + r.ixDef.Accounts[in.B].Name + ")"
		}
		return fmt.Sprintf("%s, accounts[%d]%s", reg(in.A), in.B, name)
	case OpLoadContext:
		f := "?"
		if int(in.B) < len(contextNames) {
			f = contextNames[in.B]
		}
		return reg(in.A) + ", " + f
	case OpLoadConst:
		return reg(in.A) + ", " + p.constText(in.B)
	case OpCopy, OpCopyIfNull, OpCapture, OpEventWrap:
		return reg(in.A) + ", " + reg(in.B)
	case OpTransform:
		return fmt.Sprintf("%s, %s, %s", reg(in.A), reg(in.B), transformation(in.C))
	case OpObjSet:
		return fmt.Sprintf("%s.%s, %s", reg(in.A), p.pathText(in.B), reg(in.C))
	case OpObjTransform:
		return fmt.Sprintf("%s.%s, %s", reg(in.A), p.pathText(in.B), transformation(in.C))
	case OpLookupIndex:
		return fmt.Sprintf("%s, %s, %s", reg(in.A), p.indexText(h, in.B), reg(in.C))
	case OpUpdateIndex:
		return fmt.Sprintf("%s, %s -> %s", p.indexText(h, in.A), reg(in.B), reg(in.C))
	case OpUpdatePda, OpRegisterPda:
		return fmt.Sprintf("%s -> %s", reg(in.A), reg(in.B))
	case OpSet, OpSetOnce, OpSetMax, OpSetMin, OpSetSum, OpAppend, OpUniqueCount:
		return p.targetText(in.A) + ", " + reg(in.B)
	case OpIncrement:
		return p.targetText(in.A)
	case OpSetIf:
		return fmt.Sprintf("%s, %s if %s", p.targetText(in.A), reg(in.B), p.condText(in.C))
	case OpIncrementIf:
		return fmt.Sprintf("%s if %s", p.targetText(in.A), p.condText(in.C))
	case OpSetWhen:
		if int(in.C) >= len(p.whens) {
			return fmt.Sprintf("when?%d", in.C)
		}
		w := p.whens[in.C]
		s := fmt.Sprintf("%s, %s when %s", p.targetText(in.A), reg(in.B), w.EventType)
		if w.Cond >= 0 {
			s += " if " + p.condText(uint32(w.Cond))
		}
		return s
	case OpSetUnlessStopped:
		return fmt.Sprintf("%s, %s unless %s", p.targetText(in.A), reg(in.B), p.pathText(in.C))
	case OpResolve:
		if int(in.A) >= len(p.resolvers) {
			return fmt.Sprintf("resolver?%d", in.A)
		}
		r := p.resolvers[in.A]
		var targets []string
		for _, ex := range r.Extracts {
			targets = append(targets, ex.Target.Text)
		}
		s := fmt.Sprintf("%s -> %s", r.Kind, strings.Join(targets, ", "))
		if r.Schedule != nil {
			s += " at " + strings.Join(r.Schedule, ".")
		}
		return s
	case OpComputed:
		return fmt.Sprintf("%d fields", len(p.Entities[h.Entity].Computed))
	}
	return fmt.Sprintf("%d, %d, %d", in.A, in.B, in.C)
}
