package vm

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
	"github.com/hyperstack-go/hyperstack/internal/stack"
)

// Registers. A handler uses a fixed set of roles; all registers are null when a handler starts.
const (
	rKey      = 0 // the entity key
	rResolved = 1 // the resolver hook's PDA reverse lookup of the account address
	rRaw      = 2 // the raw key / lookup input read from the event
	rKeyT     = 3 // the transformed key
	rVal      = 4 // the value of the current mapping
	rObj      = 5 // objects under construction (captures, events)
	rField    = 6 // index values, object fields, hook values
	rSeed     = 7 // PDA hook seeds
	numRegs   = 8
)

const defaultPdaLookup = "default_pda_lookup"

// Compile compiles every handler of spec into one Program. Errors are *stack.SpecError values naming
// the spec location that could not be compiled.
func Compile(spec *stack.Spec) (*Program, error) {
	if spec == nil {
		return nil, &stack.SpecError{Err: fmt.Errorf("%w: nil spec", ErrCompile)}
	}
	c := &compiler{
		spec: spec,
		p: &Program{
			Name:    spec.StackName,
			Routes:  map[string]*Route{},
			typeIDs: map[string]int{},
		},
		consts:    map[string]int{},
		paths:     map[string]int{},
		targets:   map[string]int{},
		emitPaths: map[string]*emitPath{},
	}
	if err := c.programs(); err != nil {
		return nil, err
	}
	c.whenEvents()
	for i, e := range spec.Entities {
		if err := c.entity(i, e); err != nil {
			return nil, err
		}
	}
	rankEmitPaths(c.p.emitPaths)
	c.accountFields()
	return c.p, nil
}

// accountFields resolves, for every OpLoadEvent of an account handler, the account field the path
// starts with (Program.evField), so the handler reads the decoded field without a map lookup; paths
// that start with no field of the account (nor a special __ name) are marked absent.
func (c *compiler) accountFields() {
	c.p.evField = make([]int32, len(c.p.Code))
	for _, r := range c.p.Routes {
		if r.ixDef != nil && r.ixDef.ArgNames() != nil {
			r.argShape = newRecordShape(r.ixDef.ArgNames())
		}
		if r.acct == nil {
			continue
		}
		index := map[string]int32{}
		for i, n := range r.acct.FieldNames() {
			index[n] = int32(i) + 1
		}
		if names := r.acct.FieldNames(); names != nil {
			r.shape = newRecordShape(names)
		}
		for _, h := range append(append([]*Handler(nil), r.Handlers...), r.Hooks...) {
			for pc := h.Start; pc < h.End; pc++ {
				if in := c.p.Code[pc]; in.Op == OpLoadEvent {
					segs := c.p.Paths[in.B].Segs
					switch {
					case len(segs) == 0 || segs[0] == "__account_address" || segs[0] == "__update_context":
					case index[segs[0]] != 0:
						c.p.evField[pc] = index[segs[0]]
					default:
						c.p.evField[pc] = -1 // not a field of the account: always absent
					}
				}
			}
		}
	}
}

type compiler struct {
	spec *stack.Spec
	p    *Program

	consts    map[string]int
	paths     map[string]int
	targets   map[string]int
	emitPaths map[string]*emitPath

	loc        string
	ent        *Entity
	entIdx     int
	es         *stack.Entity
	nonEmitted map[string]bool
}

func (c *compiler) errorf(loc string, format string, args ...any) error {
	return &stack.SpecError{Path: loc, Err: fmt.Errorf("%w: "+format, append([]any{ErrCompile}, args...)...)}
}

func (c *compiler) warnf(loc string, format string, args ...any) {
	c.p.Warnings = append(c.p.Warnings, loc+": "+fmt.Sprintf(format, args...))
}

func (c *compiler) emit(op Opcode, a, b, cc uint32) int {
	c.p.Code = append(c.p.Code, Instr{Op: op, A: a, B: b, C: cc})
	c.p.Locs = append(c.p.Locs, c.loc)
	return len(c.p.Code) - 1
}

func (c *compiler) constant(v any) uint32 {
	k := fmt.Sprintf("%T:", v) + string(appendJSON(nil, v))
	if i, ok := c.consts[k]; ok {
		return uint32(i)
	}
	c.p.Consts = append(c.p.Consts, v)
	c.consts[k] = len(c.p.Consts) - 1
	return uint32(len(c.p.Consts) - 1)
}

func (c *compiler) path(segs []string) uint32 {
	text := strings.Join(segs, ".")
	if i, ok := c.paths[text]; ok && len(c.p.Paths[i].Segs) == len(segs) {
		return uint32(i)
	}
	c.p.Paths = append(c.p.Paths, Path{Segs: append([]string(nil), segs...), Text: text})
	c.paths[text] = len(c.p.Paths) - 1
	return uint32(len(c.p.Paths) - 1)
}

func (c *compiler) target(text string) uint32 {
	emit := !c.nonEmitted[text] && !strings.HasPrefix(text, "__stop:")
	k := strconv.Itoa(c.entIdx) + "\x00" + text
	if !emit {
		k += "\x00"
	}
	if i, ok := c.targets[k]; ok {
		return uint32(i)
	}
	t := Target{Path: Path{Segs: strings.Split(text, "."), Text: text}, Emit: emit, Affects: c.ent.maskOf(text)}
	t.sec, t.slot = c.ent.slotOf(t.Segs)
	if emit {
		t.ep = c.emitPath(t.Segs, text)
	}
	c.p.Targets = append(c.p.Targets, t)
	c.targets[k] = len(c.p.Targets) - 1
	return uint32(len(c.p.Targets) - 1)
}

// emitPath interns the emitted state path text of the current entity.
func (c *compiler) emitPath(segs []string, text string) *emitPath {
	k := strconv.Itoa(c.entIdx) + "\x00" + text
	if ep, ok := c.emitPaths[k]; ok {
		return ep
	}
	ep := &emitPath{segs: segs, text: text, id: int32(len(c.p.emitPaths)), entity: c.entIdx}
	ep.sec, ep.slot = c.ent.slotOf(segs)
	c.p.emitPaths = append(c.p.emitPaths, ep)
	c.emitPaths[k] = ep
	return ep
}

func (c *compiler) typeID(name string) int {
	if id, ok := c.p.typeIDs[name]; ok {
		return id
	}
	c.p.typeNames = append(c.p.typeNames, name)
	c.p.typeIDs[name] = len(c.p.typeNames) - 1
	return len(c.p.typeNames) - 1
}

// route returns the route of an event type, creating it.
func (c *compiler) route(eventType string) *Route {
	if r, ok := c.p.Routes[eventType]; ok {
		return r
	}
	r := &Route{EventType: eventType, typeID: c.typeID(eventType)}
	r.isAccount = strings.HasSuffix(eventType, "State") && !strings.HasSuffix(eventType, "IxState")
	c.p.Routes[eventType] = r
	return r
}

// programs parses the embedded IDL snapshots and names every event type they can produce.
func (c *compiler) programs() error {
	for i, raw := range c.spec.IDLSnapshots {
		loc := fmt.Sprintf("idls[%d]", i)
		p, err := idl.Parse(raw)
		if err != nil {
			return &stack.SpecError{Path: loc, Err: err}
		}
		p.PadShortArgs = true
		info := &ProgramInfo{
			Name:     p.Name,
			ID:       p.Address,
			IDL:      p,
			accounts: map[string]*Route{},
			ixs:      map[string]*Route{},
			events:   map[string]*Route{},
		}
		if i < len(c.spec.ProgramIDs) {
			id, err := solana.ParsePubkey(c.spec.ProgramIDs[i])
			if err != nil {
				return &stack.SpecError{Path: fmt.Sprintf("program_ids[%d]", i), Err: err}
			}
			info.ID = id
		}
		if info.ID.IsZero() {
			return c.errorf(loc, "no program id")
		}
		for _, other := range c.p.Programs {
			if other.ID == info.ID {
				return c.errorf(loc, "program %s appears twice", info.ID)
			}
		}
		c.p.Programs = append(c.p.Programs, info)
	}
	return nil
}

// bindRoutes attaches decoding information to the routes of the stack's programs.
func (c *compiler) bindRoutes() {
	for _, info := range c.p.Programs {
		p := info.IDL
		for i := range p.Accounts {
			t := info.Name + "::" + p.Accounts[i].Name + "State"
			if r, ok := c.p.Routes[t]; ok {
				r.program, r.isAccount, r.acct = info, true, &p.Accounts[i]
				info.accounts[p.Accounts[i].Name] = r
			}
		}
		for i := range p.Instructions {
			t := info.Name + "::" + idl.PascalCase(p.Instructions[i].Name) + "IxState"
			if r, ok := c.p.Routes[t]; ok {
				r.program, r.isAccount, r.ixDef = info, false, &p.Instructions[i]
				info.ixs[p.Instructions[i].Name] = r
			}
		}
		for i := range p.Events {
			t := info.Name + "::" + p.Events[i].Name + "CpiEvent"
			if r, ok := c.p.Routes[t]; ok {
				r.program, r.isAccount = info, false
				info.events[p.Events[i].Name] = r
			}
		}
	}
}

// ixDefFor finds the instruction definition an IxState event type decodes from.
func (c *compiler) ixDefFor(eventType string) *idl.InstructionDef {
	for _, info := range c.p.Programs {
		prefix := info.Name + "::"
		if !strings.HasPrefix(eventType, prefix) || !strings.HasSuffix(eventType, "IxState") {
			continue
		}
		name := strings.TrimSuffix(strings.TrimPrefix(eventType, prefix), "IxState")
		for i := range info.IDL.Instructions {
			if idl.PascalCase(info.IDL.Instructions[i].Name) == name {
				return &info.IDL.Instructions[i]
			}
		}
	}
	return nil
}

func (c *compiler) whenEvents() {
	for _, e := range c.spec.Entities {
		for _, h := range e.Handlers {
			for _, m := range h.Mappings {
				if m.When != nil {
					c.route(*m.When).When = true
				}
			}
		}
	}
}

// entity compiles one entity: its handlers (merged per event type), hook-only handlers, PDA hooks and
// computed fields.
func (c *compiler) entity(idx int, es *stack.Entity) error {
	base := fmt.Sprintf("entities[%d]", idx)
	ent := &Entity{Name: es.StateName, StateID: idx, hasPdaHook: map[string]bool{}}
	if len(es.Identity.PrimaryKeys) > 0 {
		ent.PrimaryKey = es.Identity.PrimaryKeys[0]
	}
	for _, li := range es.Identity.LookupIndexes {
		leaf := li.FieldName[strings.LastIndex(li.FieldName, ".")+1:]
		ent.Indexes = append(ent.Indexes, IndexInfo{Name: leaf + "_lookup_index", Field: li.FieldName})
		if li.TemporalField != nil {
			c.warnf(base+".identity", "temporal index on %s is not maintained (temporal lookups are unsupported)", li.FieldName)
		}
	}
	for _, v := range es.Views {
		ent.Views = append(ent.Views, v.ID)
	}
	for _, rh := range es.ResolverHooks {
		if pr, ok := rh.Strategy.(*stack.PdaReverseLookup); ok {
			if pr.LookupName != defaultPdaLookup {
				c.warnf(base+".resolver_hooks", "PDA lookup %q is served by the entity's single PDA table", pr.LookupName)
			}
			ent.hasPdaHook[rh.AccountType] = true
		} else if df, ok := rh.Strategy.(*stack.DirectField); ok {
			if ent.directField == nil {
				ent.directField = map[string][]string{}
			}
			ent.directField[rh.AccountType] = df.FieldPath.Segments
		}
	}
	c.ent, c.entIdx, c.es = ent, idx, es
	c.p.Entities = append(c.p.Entities, ent)

	// A target is emitted unless every mapping to it says emit=false.
	c.nonEmitted = map[string]bool{}
	emitted := map[string]bool{}
	for _, h := range es.Handlers {
		for _, m := range h.Mappings {
			if m.Emit {
				emitted[m.TargetPath] = true
			} else {
				c.nonEmitted[m.TargetPath] = true
			}
		}
	}
	for t := range emitted {
		delete(c.nonEmitted, t)
	}

	// Handlers grouped by event type, in type order; the first handler of a type gives the key.
	groups := map[string][]int{}
	var types []string
	for i, h := range es.Handlers {
		t := h.EventType()
		if t == "" {
			return c.errorf(fmt.Sprintf("%s.handlers[%d].source", base, i), "empty type_name")
		}
		if _, ok := groups[t]; !ok {
			types = append(types, t)
		}
		groups[t] = append(groups[t], i)
	}
	sort.Strings(types)

	hookActions := map[string][]hookAction{}
	var hookTypes []string
	pdaHooks := map[string][]pdaHook{}
	var pdaTypes []string
	for hi, hk := range es.InstructionHooks {
		for ai, a := range hk.Actions {
			loc := fmt.Sprintf("%s.instruction_hooks[%d].actions[%d]", base, hi, ai)
			switch a := a.(type) {
			case *stack.RegisterPdaMapping:
				if a.LookupName != defaultPdaLookup {
					c.warnf(loc, "PDA lookup %q is served by the entity's single PDA table", a.LookupName)
				}
				if _, ok := pdaHooks[hk.InstructionType]; !ok {
					pdaTypes = append(pdaTypes, hk.InstructionType)
				}
				dup := false
				for _, ph := range pdaHooks[hk.InstructionType] {
					if ph.pda.String() == a.PDAField.String() && ph.seed.String() == a.SeedField.String() {
						dup = true
					}
				}
				if !dup {
					pdaHooks[hk.InstructionType] = append(pdaHooks[hk.InstructionType], pdaHook{loc: loc, pda: a.PDAField, seed: a.SeedField})
				}
			case *stack.SetFieldAction, *stack.IncrementFieldAction:
				if _, ok := hookActions[hk.InstructionType]; !ok {
					hookTypes = append(hookTypes, hk.InstructionType)
				}
				hookActions[hk.InstructionType] = append(hookActions[hk.InstructionType], hookAction{loc: loc, action: a, lookupBy: hk.LookupBy})
			}
		}
	}

	// Computed fields first: the targets compiled next need their read paths.
	if err := c.computed(base); err != nil {
		return err
	}
	c.ent.sectionIDs()
	for _, t := range types {
		if err := c.handler(base, t, groups[t], hookActions[t]); err != nil {
			return err
		}
	}
	sort.Strings(hookTypes)
	for _, t := range hookTypes {
		if _, ok := groups[t]; ok {
			continue
		}
		if err := c.hookOnlyHandler(t, hookActions[t]); err != nil {
			return err
		}
	}
	sort.Strings(pdaTypes)
	for _, t := range pdaTypes {
		if err := c.pdaHookHandler(t, pdaHooks[t]); err != nil {
			return err
		}
	}
	c.bindRoutes()
	c.ent.finishSections()
	return nil
}

type hookAction struct {
	loc      string
	action   stack.HookAction
	lookupBy *stack.FieldPath
}

type pdaHook struct {
	loc       string
	pda, seed stack.FieldPath
}

func (c *compiler) newHandler(kind HandlerKind, eventType, loc string, isAccount, emit bool) *Handler {
	r := c.route(eventType)
	h := &Handler{
		Kind: kind, Entity: c.entIdx, EventType: eventType, Loc: loc, Start: len(c.p.Code),
		IsAccount: isAccount, Emit: emit, typeID: r.typeID,
	}
	c.p.Handlers = append(c.p.Handlers, h)
	if kind == HandlerPdaHook {
		r.Hooks = append(r.Hooks, h)
	} else {
		r.Handlers = append(r.Handlers, h)
	}
	return h
}

// handler compiles the handlers of one event type (indices into es.Handlers) as one.
func (c *compiler) handler(base, eventType string, idxs []int, hooks []hookAction) error {
	first := c.es.Handlers[idxs[0]]
	loc := fmt.Sprintf("%s.handlers[%d]", base, idxs[0])
	c.loc = loc
	h := c.newHandler(HandlerMapping, eventType, loc, first.Source.IsAccount, first.Emit)
	ixDef := c.ixDefFor(eventType)
	if !first.Source.IsAccount && ixDef == nil && strings.HasSuffix(eventType, "IxState") {
		c.warnf(loc, "no instruction of the stack's IDLs produces %s", eventType)
	}
	for _, i := range idxs[1:] {
		if c.es.Handlers[i].Source.IsAccount != first.Source.IsAccount {
			return c.errorf(fmt.Sprintf("%s.handlers[%d].source", base, i), "handlers of %s disagree on is_account", eventType)
		}
	}

	// 1. Key.
	kr := first.KeyResolution
	switch k := kr.(type) {
	case *stack.KeyEmbedded:
		c.embeddedKey(first, k.PrimaryField, true, ixDef)
	case *stack.KeyComputed:
		c.embeddedKey(first, k.PrimaryField, false, ixDef)
	case *stack.KeyLookup:
		if df, ok := c.ent.directField[eventType]; ok && first.Source.IsAccount {
			c.load(rRaw, df, nil, ixDef) // the resolver hook reads the key input from the account
		} else if first.Source.IsAccount && c.ent.hasPdaHook[eventType] {
			c.emit(OpLoadResolved, rRaw, 0, 0)
		}
		c.load(rField, k.PrimaryField.Segments, nil, ixDef)
		c.emit(OpCopyIfNull, rRaw, rField, 0)
		c.emit(OpLookupIndex, rKey, c.lookupIndexFor(first, k.PrimaryField), rRaw)
	case *stack.KeyTemporalLookup:
		return c.errorf(loc+".key_resolution", "%w: TemporalLookup key resolution", ErrUnsupported)
	default:
		return c.errorf(loc+".key_resolution", "missing key resolution")
	}
	// 2-3. Null key, freshness, state.
	c.emit(OpAbortIfNullKey, rKey, 0, 0)
	c.emit(OpReadState, rKey, 0, 0)
	// 4. Index updates.
	c.indexUpdates(first, kr, ixDef)
	// 5. Mappings of every handler of the type, in order.
	for _, i := range idxs {
		for mi, m := range c.es.Handlers[i].Mappings {
			c.loc = fmt.Sprintf("%s.handlers[%d].mappings[%d]", base, i, mi)
			if err := c.mapping(m, ixDef); err != nil {
				return err
			}
		}
	}
	// Instruction-hook field actions of the type.
	for _, ha := range hooks {
		c.loc = ha.loc
		if err := c.hookAction(ha, ixDef); err != nil {
			return err
		}
	}
	c.teardown(base, first.Emit)
	h.End = len(c.p.Code)
	return nil
}

// teardown emits resolvers, computed fields, the state write and the mutation.
func (c *compiler) teardown(base string, emit bool) {
	for i := range c.es.ResolverSpecs {
		c.loc = fmt.Sprintf("%s.resolver_specs[%d]", base, i)
		c.emit(OpResolve, uint32(c.resolverSpec(i)), 0, 0)
	}
	if len(c.es.ComputedFieldSpecs) > 0 {
		c.loc = base + ".computed_field_specs"
		c.emit(OpComputed, 0, 0, 0)
	}
	c.loc = base
	c.emit(OpWriteState, rKey, 0, 0)
	if emit {
		c.emit(OpEmit, rKey, 0, 0)
	}
}

// embeddedKey loads the key from the event, applying the primary key's transform.
func (c *compiler) embeddedKey(h *stack.Handler, pf stack.FieldPath, withTransform bool, ixDef *idl.InstructionDef) {
	segs := pf.Segments
	leaf := ""
	if c.ent.PrimaryKey != "" {
		leaf = c.ent.PrimaryKey[strings.LastIndex(c.ent.PrimaryKey, ".")+1:]
	}
	if len(segs) == 0 && leaf != "" {
		for _, m := range h.Mappings {
			if fs, ok := m.Source.(*stack.FromSource); ok && len(fs.Path.Segments) == 1 && fs.Path.Segments[0] == leaf {
				segs = []string{leaf}
				break
			}
		}
	}
	if len(segs) == 0 {
		c.warnf(c.loc+".key_resolution", "no key path: the handler never finds a key")
		return
	}
	c.load(rRaw, segs, nil, ixDef)
	tr := trNone
	if withTransform {
		tr = c.keyTransform(h)
	}
	if tr != trNone {
		c.emit(OpTransform, rKeyT, rRaw, uint32(tr))
		c.emit(OpCopy, rKey, rKeyT, 0)
	} else {
		c.emit(OpCopy, rKey, rRaw, 0)
	}
}

// keyTransform finds the transform the primary key is stored with.
func (c *compiler) keyTransform(h *stack.Handler) transformation {
	pk := c.ent.PrimaryKey
	leaf := pk[strings.LastIndex(pk, ".")+1:]
	search := func(h *stack.Handler) (transformation, bool) {
		for _, m := range h.Mappings {
			if m.TargetPath != pk {
				continue
			}
			if m.Transform != stack.TransformNone {
				return transformOf(m.Transform), true
			}
			if fs, ok := m.Source.(*stack.FromSource); ok && fs.Transform != stack.TransformNone {
				return transformOf(fs.Transform), true
			}
		}
		for _, m := range h.Mappings {
			if cp, ok := m.Source.(*stack.AsCapture); ok {
				if t, ok := cp.FieldTransforms[leaf]; ok && t != stack.TransformNone {
					return transformOf(t), true
				}
			}
		}
		return trNone, false
	}
	if t, ok := search(h); ok {
		return t
	}
	for _, o := range c.es.Handlers {
		if o == h {
			continue
		}
		if t, ok := search(o); ok {
			return t
		}
	}
	return trNone
}

// lookupIndexFor picks the index a Lookup handler resolves through.
func (c *compiler) lookupIndexFor(h *stack.Handler, pf stack.FieldPath) uint32 {
	for _, m := range h.Mappings {
		fs, ok := m.Source.(*stack.FromSource)
		if !ok || fs.Path.String() != pf.String() {
			continue
		}
		for i, ix := range c.ent.Indexes {
			if ix.Field == m.TargetPath {
				return uint32(i)
			}
		}
	}
	leaf := pf.Leaf()
	for i, ix := range c.ent.Indexes {
		il := ix.Field[strings.LastIndex(ix.Field, ".")+1:]
		if il == leaf || (strings.HasSuffix(il, "_address") && strings.TrimSuffix(il, "_address") == leaf) {
			return uint32(i)
		}
	}
	return noIndex
}

// indexUpdates emits the lookup-index maintenance of a handler.
func (c *compiler) indexUpdates(h *stack.Handler, kr stack.KeyResolution, ixDef *idl.InstructionDef) {
	switch k := kr.(type) {
	case *stack.KeyEmbedded:
		for i, ix := range c.ent.Indexes {
			var found *stack.Mapping
			for _, m := range h.Mappings {
				if m.TargetPath == ix.Field {
					if _, ok := m.Source.(*stack.FromSource); ok {
						found = m
						break
					}
				}
			}
			if found != nil {
				fs := found.Source.(*stack.FromSource)
				c.load(rField, fs.Path.Segments, fs.Default, ixDef)
				if fs.Transform != stack.TransformNone {
					c.emit(OpTransform, rField, rField, uint32(transformOf(fs.Transform)))
				}
				if found.Transform != stack.TransformNone {
					c.emit(OpTransform, rField, rField, uint32(transformOf(found.Transform)))
				}
				c.emit(OpUpdateIndex, uint32(i), rField, rKey)
				c.emit(OpUpdatePda, rField, rKey, 0)
			} else {
				leaf := ix.Field[strings.LastIndex(ix.Field, ".")+1:]
				c.load(rField, []string{leaf}, nil, ixDef)
				c.emit(OpUpdateIndex, uint32(i), rField, rKey)
			}
		}
	case *stack.KeyLookup:
		loaded := false
		for i, ix := range c.ent.Indexes {
			targeted := false
			for _, m := range h.Mappings {
				if m.TargetPath == ix.Field {
					targeted = true
				}
			}
			if !targeted {
				continue
			}
			if !loaded {
				c.load(rField, k.PrimaryField.Segments, nil, ixDef)
				loaded = true
			}
			c.emit(OpUpdateIndex, uint32(i), rField, rKey)
		}
	}
}

// load emits the load of an event path into register dst, specialising the common shapes.
func (c *compiler) load(dst uint32, segs []string, def *stack.Value, ixDef *idl.InstructionDef) {
	if def == nil || def.IsNull() {
		switch {
		case len(segs) == 1 && segs[0] == "__account_address":
			c.emit(OpLoadAddress, dst, 0, 0)
			return
		case len(segs) == 2 && segs[0] == "accounts" && ixDef != nil:
			if pos := accountPosition(ixDef, segs[1]); pos >= 0 {
				c.emit(OpLoadIxAccount, dst, uint32(pos), 0)
				return
			}
		case len(segs) == 2 && segs[0] == "__update_context":
			for i, n := range contextNames {
				if n == segs[1] {
					c.emit(OpLoadContext, dst, uint32(i), 0)
					return
				}
			}
		}
	}
	var d uint32
	if def != nil && !def.IsNull() {
		v, err := fromSpecValue(*def)
		if err == nil {
			d = c.constant(v) + 1
		}
	}
	c.emit(OpLoadEvent, dst, c.path(segs), d)
}

// accountPosition finds an instruction account by name: exact, then ignoring case and underscores.
func accountPosition(ix *idl.InstructionDef, name string) int {
	for i, a := range ix.Accounts {
		if a.Name == name {
			return i
		}
	}
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }
	for i, a := range ix.Accounts {
		if norm(a.Name) == norm(name) {
			return i
		}
	}
	return -1
}

func transformOf(t stack.Transformation) transformation {
	switch t {
	case stack.TransformHexEncode:
		return trHexEncode
	case stack.TransformHexDecode:
		return trHexDecode
	case stack.TransformBase58Encode:
		return trBase58Encode
	case stack.TransformBase58Decode:
		return trBase58Decode
	case stack.TransformToString:
		return trToString
	case stack.TransformToNumber:
		return trToNumber
	}
	return trNone
}
