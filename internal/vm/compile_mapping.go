package vm

import (
	"fmt"
	"strings"

	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/stack"
)

// source emits the load of a mapping source into rVal. ok is false for sources that compile to
// nothing (Computed, FromState).
func (c *compiler) source(src stack.MappingSource, ixDef *idl.InstructionDef) (bool, error) {
	switch s := src.(type) {
	case *stack.FromSource:
		c.load(rVal, s.Path.Segments, s.Default, ixDef)
		if s.Transform != stack.TransformNone {
			c.emit(OpTransform, rVal, rVal, uint32(transformOf(s.Transform)))
		}
	case *stack.Constant:
		v, err := fromSpecValue(s.Value)
		if err != nil {
			return false, c.errorf(c.loc+".source", "constant: %v", err)
		}
		c.emit(OpLoadConst, rVal, c.constant(v), 0)
	case *stack.WholeSource:
		c.emit(OpLoadWhole, rVal, 0, 0)
	case *stack.AsCapture:
		copyWhole := uint32(0)
		for _, ft := range s.SortedFieldTransforms() {
			if ft.Transform != stack.TransformNone {
				copyWhole = 1
			}
		}
		c.emit(OpLoadWhole, rObj, 0, copyWhole)
		for _, ft := range s.SortedFieldTransforms() {
			if ft.Transform == stack.TransformNone {
				continue
			}
			c.emit(OpObjTransform, rObj, c.path([]string{ft.Field}), uint32(transformOf(ft.Transform)))
		}
		c.emit(OpCapture, rVal, rObj, 0)
	case *stack.AsEvent:
		c.emit(OpNewObject, rObj, 0, 0)
		for i, f := range s.Fields {
			fs, ok := f.(*stack.FromSource)
			if !ok {
				return false, c.errorf(fmt.Sprintf("%s.source.AsEvent.fields[%d]", c.loc, i), "%w: %s field in AsEvent", ErrUnsupported, f.Variant())
			}
			c.load(rField, fs.Path.Segments, fs.Default, ixDef)
			if fs.Transform != stack.TransformNone {
				c.emit(OpTransform, rField, rField, uint32(transformOf(fs.Transform)))
			}
			c.emit(OpObjSet, rObj, c.path([]string{fs.Path.Leaf()}), rField)
		}
		c.emit(OpEventWrap, rVal, rObj, 0)
	case *stack.FromContext:
		for i, n := range contextNames {
			if n == s.Field {
				c.emit(OpLoadContext, rVal, uint32(i), 0)
				return true, nil
			}
		}
		return false, c.errorf(c.loc+".source", "unknown context field %q", s.Field)
	case *stack.ComputedSource, *stack.FromState:
		return false, nil
	case nil:
		return false, c.errorf(c.loc+".source", "missing source")
	default:
		return false, c.errorf(c.loc+".source", "%w: source %s", ErrUnsupported, src.Variant())
	}
	return true, nil
}

func (c *compiler) condition(cond *stack.ConditionExpr) (int, bool) {
	if cond == nil || cond.Parsed == nil {
		return -1, false
	}
	i, err := c.parsedCondition(cond.Parsed)
	if err != nil {
		c.warnf(c.loc+".condition", "%v: the write is unconditional", err)
		return -1, false
	}
	return i, true
}

// parsedCondition adds a comparison, or an And/Or of conditions, to the condition table.
func (c *compiler) parsedCondition(pc stack.ParsedCondition) (int, error) {
	switch x := pc.(type) {
	case *stack.Comparison:
		v, err := fromSpecValue(x.Value)
		if err != nil {
			return -1, fmt.Errorf("bad literal: %v", err)
		}
		c.p.conds = append(c.p.conds, condition{Path: x.Field.Segments, Text: x.Field.String(), Op: x.Op, Value: v})
	case *stack.Logical:
		if x.Op != stack.LogicalAnd && x.Op != stack.LogicalOr {
			return -1, fmt.Errorf("unknown logical operator %q", x.Op)
		}
		var subs []int
		for _, sub := range x.Conditions {
			i, err := c.parsedCondition(sub)
			if err != nil {
				return -1, err
			}
			subs = append(subs, i)
		}
		c.p.conds = append(c.p.conds, condition{Logical: x.Op, Subs: subs})
	default:
		return -1, fmt.Errorf("unsupported condition")
	}
	return len(c.p.conds) - 1, nil
}

func (c *compiler) mapping(m *stack.Mapping, ixDef *idl.InstructionDef) error {
	if m.TargetPath == "" {
		return c.errorf(c.loc+".target_path", "empty target path")
	}
	ok, err := c.source(m.Source, ixDef)
	if err != nil || !ok {
		return err
	}
	if m.Transform != stack.TransformNone {
		c.emit(OpTransform, rVal, rVal, uint32(transformOf(m.Transform)))
	}
	t := c.target(m.TargetPath)
	switch {
	case m.Stop != nil:
		if m.Population != stack.LastWrite && m.Population != stack.Merge {
			c.warnf(c.loc, "stop ignores the %s strategy", m.Population)
		}
		c.emit(OpSetUnlessStopped, t, rVal, c.path(strings.Split("__stop:"+m.TargetPath, ".")))
		return nil
	case m.When != nil:
		if m.Population != stack.LastWrite && m.Population != stack.Merge {
			c.warnf(c.loc, "when ignores the %s strategy", m.Population)
		}
		ci, _ := c.condition(m.Condition)
		c.p.whens = append(c.p.whens, whenSpec{EventType: *m.When, typeID: c.typeID(*m.When), Cond: ci})
		c.emit(OpSetWhen, t, rVal, uint32(len(c.p.whens)-1))
		return nil
	case m.Condition != nil:
		if ci, ok := c.condition(m.Condition); ok {
			switch m.Population {
			case stack.LastWrite, stack.Merge:
				c.emit(OpSetIf, t, rVal, uint32(ci))
				return nil
			case stack.Count:
				c.emit(OpIncrementIf, t, rVal, uint32(ci))
				return nil
			default:
				c.warnf(c.loc+".condition", "conditions apply to LastWrite, Merge and Count only: the %s write is unconditional", m.Population)
			}
		}
	}
	op := OpSetOnce
	switch m.Population {
	case stack.LastWrite, stack.Merge:
		op = OpSet
	case stack.SetOnce, "":
		op = OpSetOnce
	case stack.Append:
		op = OpAppend
	case stack.Max:
		op = OpSetMax
	case stack.Min:
		op = OpSetMin
	case stack.Sum:
		op = OpSetSum
	case stack.Count:
		op = OpIncrement
	case stack.UniqueCount:
		op = OpUniqueCount
	default:
		return c.errorf(c.loc+".population", "%w: population %q", ErrUnsupported, m.Population)
	}
	c.emit(op, t, rVal, 0)
	return nil
}

func (c *compiler) hookAction(ha hookAction, ixDef *idl.InstructionDef) error {
	switch a := ha.action.(type) {
	case *stack.SetFieldAction:
		ok, err := c.source(a.Source, ixDef)
		if err != nil || !ok {
			return err
		}
		t := c.target(a.TargetField)
		if ci, ok := c.condition(a.Condition); ok {
			c.emit(OpSetIf, t, rVal, uint32(ci))
		} else {
			c.emit(OpSet, t, rVal, 0)
		}
	case *stack.IncrementFieldAction:
		t := c.target(a.TargetField)
		if ci, ok := c.condition(a.Condition); ok {
			c.emit(OpIncrementIf, t, rVal, uint32(ci))
		} else {
			c.emit(OpIncrement, t, rVal, 0)
		}
	}
	return nil
}

// hookOnlyHandler synthesises a handler for instruction-hook field actions of a type that has no
// handler in the entity: the key comes from the hook's lookup_by path.
func (c *compiler) hookOnlyHandler(eventType string, actions []hookAction) error {
	c.loc = actions[0].loc
	h := c.newHandler(HandlerHookOnly, eventType, actions[0].loc[:strings.LastIndex(actions[0].loc, ".actions")], false, false)
	ixDef := c.ixDefFor(eventType)
	var lookupBy *stack.FieldPath
	for _, a := range actions {
		if a.lookupBy != nil {
			lookupBy = a.lookupBy
			break
		}
	}
	if lookupBy != nil {
		c.load(rRaw, lookupBy.Segments, nil, ixDef)
		c.emit(OpTransform, rKey, rRaw, uint32(trHexEncode))
	} else {
		c.warnf(h.Loc, "hook without lookup_by never finds a key")
	}
	c.emit(OpAbortIfNullKey, rKey, 0, 0)
	c.emit(OpReadState, rKey, 0, 0)
	for _, a := range actions {
		c.loc = a.loc
		if err := c.hookAction(a, ixDef); err != nil {
			return err
		}
	}
	c.loc = h.Loc
	c.emit(OpWriteState, rKey, 0, 0)
	h.End = len(c.p.Code)
	return nil
}

// pdaHookHandler compiles the RegisterPdaMapping actions of one instruction type.
func (c *compiler) pdaHookHandler(eventType string, hooks []pdaHook) error {
	c.loc = hooks[0].loc
	h := c.newHandler(HandlerPdaHook, eventType, hooks[0].loc[:strings.LastIndex(hooks[0].loc, ".actions")], false, false)
	ixDef := c.ixDefFor(eventType)
	for _, ph := range hooks {
		c.loc = ph.loc
		c.load(rRaw, ph.pda.Segments, nil, ixDef)
		c.load(rSeed, ph.seed.Segments, nil, ixDef)
		c.emit(OpRegisterPda, rRaw, rSeed, 0)
	}
	h.End = len(c.p.Code)
	return nil
}

// loc2 locates a state path of the current entity (see pathLoc).
func (c *compiler) loc2(segs []string) pathLoc {
	sec, slot := c.ent.slotOf(segs)
	return pathLoc{sec, slot}
}

func (c *compiler) resolverSpec(i int) int {
	rs := c.es.ResolverSpecs[i]
	base := fmt.Sprintf("entities[%d].resolver_specs[%d]", c.entIdx, i)
	for j, r := range c.p.resolvers {
		if r.Loc == base {
			return j
		}
	}
	spec := &resolverSpec{Loc: base, SetOnce: rs.Strategy != stack.ResolveLastWrite}
	switch r := rs.Resolver.(type) {
	case *stack.TokenResolver:
		spec.Kind = ResolveToken
	case *stack.URLResolver:
		spec.Kind = ResolveURL
		spec.Method = string(r.Method)
		if spec.Method == "" {
			spec.Method = "get"
		}
		if r.ExtractPath != nil {
			spec.ExtractPath = *r.ExtractPath
		}
		switch u := r.URLSource.(type) {
		case *stack.URLFromField:
			spec.URLPath = strings.Split(u.Path, ".")
			spec.urlLoc = c.loc2(spec.URLPath)
		case *stack.URLTemplate:
			for _, part := range u.Parts {
				if part.IsFieldRef {
					ref := strings.Split(part.Text, ".")
					spec.Template = append(spec.Template, templatePart{Ref: ref, ref: c.loc2(ref)})
				} else {
					spec.Template = append(spec.Template, templatePart{Literal: part.Text})
				}
			}
		}
	}
	if rs.InputValue != nil {
		v, err := fromSpecValue(*rs.InputValue)
		if err == nil {
			spec.Input = v
		}
	}
	if rs.InputPath != nil {
		spec.InputPath = strings.Split(*rs.InputPath, ".")
		spec.inputLoc = c.loc2(spec.InputPath)
	}
	for _, ex := range rs.Extracts {
		e := extract{Target: c.p.Targets[c.target(ex.TargetPath)], Transform: transformOf(ex.Transform)}
		if ex.SourcePath != nil && *ex.SourcePath != "" {
			e.Source = strings.Split(*ex.SourcePath, ".")
		}
		spec.Extracts = append(spec.Extracts, e)
	}
	if rs.Condition != nil {
		v, _ := fromSpecValue(rs.Condition.Value)
		spec.Cond = &stateCond{Path: strings.Split(rs.Condition.FieldPath, "."), Op: rs.Condition.Op, Value: v}
		spec.Cond.loc = c.loc2(spec.Cond.Path)
	}
	if rs.ScheduleAt != nil {
		spec.Schedule = strings.Split(*rs.ScheduleAt, ".")
		spec.schedLoc = c.loc2(spec.Schedule)
	}
	c.p.resolvers = append(c.p.resolvers, spec)
	return len(c.p.resolvers) - 1
}
