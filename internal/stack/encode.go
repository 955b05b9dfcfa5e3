package stack

import (
	"encoding/json"
	"strconv"
)

// The encoder turns the model back into an ordered JSON tree with the key order and skip rules of the
// file format (serde's struct order, skip_serializing_if), then prints it compactly (for hashes) or
// pretty (for files).

func jnull() *node              { return &node{kind: nodeNull} }
func jstr(s string) *node       { return &node{kind: nodeString, s: s} }
func jbool(b bool) *node        { return &node{kind: nodeBool, b: b} }
func jint(i int64) *node        { return &node{kind: nodeNumber, s: strconv.FormatInt(i, 10)} }
func jobj() *node               { return &node{kind: nodeObject} }
func jarr(items ...*node) *node { return &node{kind: nodeArray, arr: items} }

func (n *node) set(k string, v *node) *node {
	n.keys = append(n.keys, k)
	n.vals = append(n.vals, v)
	return n
}

// tagged builds an externally tagged {variant: payload}.
func tagged(variant string, payload *node) *node { return jobj().set(variant, payload) }

func joptStr(s *string) *node {
	if s == nil {
		return jnull()
	}
	return jstr(*s)
}

func jstrs(ss []string) *node {
	a := jarr()
	for _, s := range ss {
		a.arr = append(a.arr, jstr(s))
	}
	return a
}

func jbytes(b []byte) *node {
	a := jarr()
	for _, c := range b {
		a.arr = append(a.arr, jint(int64(c)))
	}
	return a
}

// jvalue turns a canonical Value back into a tree.
func jvalue(v Value) *node {
	if !v.IsValid() {
		return jnull()
	}
	n, err := parseTree([]byte(v.raw))
	if err != nil { // a Value always holds valid JSON
		return jnull()
	}
	return n
}

// jraw turns raw JSON (an IDL snapshot) into a tree; invalid input becomes null.
func jraw(raw json.RawMessage) *node {
	if raw == nil {
		return jnull()
	}
	n, err := parseTree(raw)
	if err != nil {
		return jnull()
	}
	return n
}

func jpath(p FieldPath) *node {
	n := jobj().set("segments", jstrs(p.Segments))
	if p.Offsets == nil {
		return n.set("offsets", jnull())
	}
	a := jarr()
	for _, o := range p.Offsets {
		a.arr = append(a.arr, jint(int64(o)))
	}
	return n.set("offsets", a)
}

func joptPath(p *FieldPath) *node {
	if p == nil {
		return jnull()
	}
	return jpath(*p)
}

func joptTransform(t Transformation) *node {
	if t == TransformNone {
		return jnull()
	}
	return jstr(string(t))
}

func (s *Spec) toNode(withHash bool) *node {
	n := jobj()
	n.set("ast_version", jstr(s.ASTVersion))
	n.set("stack_name", jstr(s.StackName))
	n.set("program_ids", jstrs(s.ProgramIDs))
	idls := jarr()
	for _, raw := range s.IDLSnapshots {
		idls.arr = append(idls.arr, jraw(raw))
	}
	n.set("idls", idls)
	ents := jarr()
	for _, e := range s.Entities {
		ents.arr = append(ents.arr, e.toNode(true, jraw(e.IDL)))
	}
	n.set("entities", ents)
	if len(s.PDAs) > 0 {
		pdas := jobj()
		for _, prog := range sortedKeys(s.PDAs) {
			inner := jobj()
			for _, name := range sortedKeys(s.PDAs[prog]) {
				inner.set(name, s.PDAs[prog][name].toNode())
			}
			pdas.set(prog, inner)
		}
		n.set("pdas", pdas)
	}
	if len(s.Instructions) > 0 {
		a := jarr()
		for _, d := range s.Instructions {
			a.arr = append(a.arr, d.toNode())
		}
		n.set("instructions", a)
	}
	if withHash && s.StoredHash != nil {
		n.set("content_hash", jstr(*s.StoredHash))
	}
	return n
}

// toNode builds the entity's tree; idl is the tree written as its idl field.
func (e *Entity) toNode(withHash bool, idl *node) *node {
	n := jobj()
	n.set("ast_version", jstr(e.ASTVersion))
	n.set("state_name", jstr(e.StateName))
	n.set("program_id", joptStr(e.ProgramID))
	n.set("idl", idl)
	id := jobj().set("primary_keys", jstrs(e.Identity.PrimaryKeys))
	lis := jarr()
	for _, li := range e.Identity.LookupIndexes {
		lis.arr = append(lis.arr, jobj().set("field_name", jstr(li.FieldName)).set("temporal_field", joptStr(li.TemporalField)))
	}
	n.set("identity", id.set("lookup_indexes", lis))
	hs := jarr()
	for _, h := range e.Handlers {
		hs.arr = append(hs.arr, h.toNode())
	}
	n.set("handlers", hs)
	secs := jarr()
	for _, s := range e.Sections {
		fs := jarr()
		for _, f := range s.Fields {
			fs.arr = append(fs.arr, f.toNode())
		}
		secs.arr = append(secs.arr, jobj().set("name", jstr(s.Name)).set("fields", fs).
			set("is_nested_struct", jbool(s.IsNestedStruct)).set("parent_field", joptStr(s.ParentField)))
	}
	n.set("sections", secs)
	fm := jobj()
	for _, k := range sortedKeys(e.FieldMappings) {
		fm.set(k, e.FieldMappings[k].toNode())
	}
	n.set("field_mappings", fm)
	rh := jarr()
	for _, h := range e.ResolverHooks {
		rh.arr = append(rh.arr, jobj().set("account_type", jstr(h.AccountType)).set("strategy", resolverStrategyNode(h.Strategy)))
	}
	n.set("resolver_hooks", rh)
	ih := jarr()
	for _, h := range e.InstructionHooks {
		acts := jarr()
		for _, a := range h.Actions {
			acts.arr = append(acts.arr, hookActionNode(a))
		}
		ih.arr = append(ih.arr, jobj().set("instruction_type", jstr(h.InstructionType)).set("actions", acts).
			set("lookup_by", joptPath(h.LookupBy)))
	}
	n.set("instruction_hooks", ih)
	rs := jarr()
	for _, r := range e.ResolverSpecs {
		rs.arr = append(rs.arr, r.toNode())
	}
	n.set("resolver_specs", rs)
	n.set("computed_fields", jstrs(e.ComputedFields))
	cs := jarr()
	for _, c := range e.ComputedFieldSpecs {
		cs.arr = append(cs.arr, jobj().set("target_path", jstr(c.TargetPath)).set("expression", exprNode(c.Expression)).
			set("result_type", jstr(c.ResultType)))
	}
	n.set("computed_field_specs", cs)
	if withHash && e.StoredHash != nil {
		n.set("content_hash", jstr(*e.StoredHash))
	}
	vs := jarr()
	for _, v := range e.Views {
		vs.arr = append(vs.arr, v.toNode())
	}
	n.set("views", vs)
	return n
}

func (h *Handler) toNode() *node {
	src := jobj()
	src.set("program_id", joptStr(h.Source.ProgramID))
	if h.Source.Discriminator == nil {
		src.set("discriminator", jnull())
	} else {
		src.set("discriminator", jbytes(h.Source.Discriminator))
	}
	src.set("type_name", jstr(h.Source.TypeName))
	if h.Source.Serialization != nil {
		src.set("serialization", jstr(string(*h.Source.Serialization)))
	}
	src.set("is_account", jbool(h.Source.IsAccount))
	n := jobj().set("source", tagged("Source", src))
	n.set("key_resolution", keyResolutionNode(h.KeyResolution))
	ms := jarr()
	for _, m := range h.Mappings {
		ms.arr = append(ms.arr, m.toNode())
	}
	n.set("mappings", ms)
	cs := jarr()
	for _, c := range h.Conditions {
		cs.arr = append(cs.arr, jobj().set("field", jpath(c.Field)).set("operator", jstr(string(c.Operator))).
			set("value", jvalue(c.Value)))
	}
	n.set("conditions", cs)
	return n.set("emit", jbool(h.Emit))
}

func keyResolutionNode(k KeyResolution) *node {
	switch x := k.(type) {
	case *KeyEmbedded:
		return tagged("Embedded", jobj().set("primary_field", jpath(x.PrimaryField)))
	case *KeyLookup:
		return tagged("Lookup", jobj().set("primary_field", jpath(x.PrimaryField)))
	case *KeyComputed:
		return tagged("Computed", jobj().set("primary_field", jpath(x.PrimaryField)).
			set("compute_partition", computeFunctionNode(x.ComputePartition)))
	case *KeyTemporalLookup:
		return tagged("TemporalLookup", jobj().set("lookup_field", jpath(x.LookupField)).
			set("timestamp_field", jpath(x.TimestampField)).set("index_name", jstr(x.IndexName)))
	}
	return jnull()
}

func computeFunctionNode(f ComputeFunction) *node {
	switch x := f.(type) {
	case *ComputeSum:
		return jstr("Sum")
	case *ComputeConcat:
		return jstr("Concat")
	case *ComputeFormat:
		return tagged("Format", jstr(x.Format))
	case *ComputeCustom:
		return tagged("Custom", jstr(x.Name))
	}
	return jnull()
}

func (m *Mapping) toNode() *node {
	n := jobj().set("target_path", jstr(m.TargetPath))
	n.set("source", mappingSourceNode(m.Source))
	n.set("transform", joptTransform(m.Transform))
	n.set("population", jstr(string(m.Population)))
	if m.Condition != nil {
		n.set("condition", m.Condition.toNode())
	}
	if m.When != nil {
		n.set("when", jstr(*m.When))
	}
	if m.Stop != nil {
		n.set("stop", jstr(*m.Stop))
	}
	if !m.Emit {
		n.set("emit", jbool(false))
	}
	return n
}

func mappingSourceNode(s MappingSource) *node {
	switch x := s.(type) {
	case *FromSource:
		d := jnull()
		if x.Default != nil {
			d = jvalue(*x.Default)
		}
		return tagged("FromSource", jobj().set("path", jpath(x.Path)).set("default", d).
			set("transform", joptTransform(x.Transform)))
	case *Constant:
		return tagged("Constant", jvalue(x.Value))
	case *ComputedSource:
		in := jarr()
		for _, p := range x.Inputs {
			in.arr = append(in.arr, jpath(p))
		}
		return tagged("Computed", jobj().set("inputs", in).set("function", computeFunctionNode(x.Function)))
	case *FromState:
		return tagged("FromState", jobj().set("path", jstr(x.Path)))
	case *AsEvent:
		fs := jarr()
		for _, f := range x.Fields {
			fs.arr = append(fs.arr, mappingSourceNode(f))
		}
		return tagged("AsEvent", jobj().set("fields", fs))
	case *WholeSource:
		return jstr("WholeSource")
	case *AsCapture:
		ft := jobj()
		for _, k := range sortedKeys(x.FieldTransforms) {
			ft.set(k, jstr(string(x.FieldTransforms[k])))
		}
		return tagged("AsCapture", jobj().set("field_transforms", ft))
	case *FromContext:
		return tagged("FromContext", jobj().set("field", jstr(x.Field)))
	}
	return jnull()
}

func (c *ConditionExpr) toNode() *node {
	n := jobj().set("expression", jstr(c.Expression))
	if c.Parsed == nil {
		return n.set("parsed", jnull())
	}
	return n.set("parsed", parsedConditionNode(c.Parsed))
}

func joptCondition(c *ConditionExpr) *node {
	if c == nil {
		return jnull()
	}
	return c.toNode()
}

func parsedConditionNode(p ParsedCondition) *node {
	switch x := p.(type) {
	case *Comparison:
		return tagged("Comparison", jobj().set("field", jpath(x.Field)).set("op", jstr(string(x.Op))).
			set("value", jvalue(x.Value)))
	case *Logical:
		cs := jarr()
		for _, c := range x.Conditions {
			cs.arr = append(cs.arr, parsedConditionNode(c))
		}
		return tagged("Logical", jobj().set("op", jstr(string(x.Op))).set("conditions", cs))
	}
	return jnull()
}

func resolverStrategyNode(s ResolverStrategy) *node {
	switch x := s.(type) {
	case *PdaReverseLookup:
		qd := jarr()
		for _, d := range x.QueueDiscriminators {
			qd.arr = append(qd.arr, jbytes(d))
		}
		return tagged("PdaReverseLookup", jobj().set("lookup_name", jstr(x.LookupName)).set("queue_discriminators", qd))
	case *DirectField:
		return tagged("DirectField", jobj().set("field_path", jpath(x.FieldPath)))
	}
	return jnull()
}

func hookActionNode(a HookAction) *node {
	switch x := a.(type) {
	case *RegisterPdaMapping:
		return tagged("RegisterPdaMapping", jobj().set("pda_field", jpath(x.PDAField)).
			set("seed_field", jpath(x.SeedField)).set("lookup_name", jstr(x.LookupName)))
	case *SetFieldAction:
		return tagged("SetField", jobj().set("target_field", jstr(x.TargetField)).
			set("source", mappingSourceNode(x.Source)).set("condition", joptCondition(x.Condition)))
	case *IncrementFieldAction:
		return tagged("IncrementField", jobj().set("target_field", jstr(x.TargetField)).
			set("increment_by", jint(x.IncrementBy)).set("condition", joptCondition(x.Condition)))
	}
	return jnull()
}

func (r *ResolverSpec) toNode() *node {
	n := jobj()
	switch x := r.Resolver.(type) {
	case *TokenResolver:
		n.set("resolver", jstr("token"))
	case *URLResolver:
		u := jobj()
		switch src := x.URLSource.(type) {
		case *URLFromField:
			u.set("url_source", tagged("FieldPath", jstr(src.Path)))
		case *URLTemplate:
			parts := jarr()
			for _, p := range src.Parts {
				if p.IsFieldRef {
					parts.arr = append(parts.arr, tagged("FieldRef", jstr(p.Text)))
				} else {
					parts.arr = append(parts.arr, tagged("Literal", jstr(p.Text)))
				}
			}
			u.set("url_source", tagged("Template", parts))
		default:
			u.set("url_source", jnull())
		}
		u.set("method", jstr(string(x.Method)))
		if x.ExtractPath != nil {
			u.set("extract_path", jstr(*x.ExtractPath))
		}
		n.set("resolver", tagged("url", u))
	default:
		n.set("resolver", jnull())
	}
	if r.InputPath != nil {
		n.set("input_path", jstr(*r.InputPath))
	}
	if r.InputValue != nil {
		n.set("input_value", jvalue(*r.InputValue))
	}
	n.set("strategy", jstr(string(r.Strategy)))
	ex := jarr()
	for _, e := range r.Extracts {
		en := jobj().set("target_path", jstr(e.TargetPath))
		if e.SourcePath != nil {
			en.set("source_path", jstr(*e.SourcePath))
		}
		if e.Transform != TransformNone {
			en.set("transform", jstr(string(e.Transform)))
		}
		ex.arr = append(ex.arr, en)
	}
	n.set("extracts", ex)
	if r.Condition != nil {
		n.set("condition", jobj().set("field_path", jstr(r.Condition.FieldPath)).
			set("op", jstr(string(r.Condition.Op))).set("value", jvalue(r.Condition.Value)))
	}
	if r.ScheduleAt != nil {
		n.set("schedule_at", jstr(*r.ScheduleAt))
	}
	return n
}

func (f *FieldTypeInfo) toNode() *node {
	n := jobj().set("field_name", jstr(f.FieldName)).set("rust_type_name", jstr(f.RustTypeName)).
		set("base_type", jstr(string(f.BaseType))).set("is_optional", jbool(f.IsOptional)).
		set("is_array", jbool(f.IsArray)).set("inner_type", joptStr(f.InnerType)).
		set("source_path", joptStr(f.SourcePath))
	if f.ResolvedType == nil {
		n.set("resolved_type", jnull())
	} else {
		rt := f.ResolvedType
		fs := jarr()
		for _, rf := range rt.Fields {
			fs.arr = append(fs.arr, jobj().set("field_name", jstr(rf.FieldName)).set("field_type", jstr(rf.FieldType)).
				set("base_type", jstr(string(rf.BaseType))).set("is_optional", jbool(rf.IsOptional)).
				set("is_array", jbool(rf.IsArray)))
		}
		n.set("resolved_type", jobj().set("type_name", jstr(rt.TypeName)).set("fields", fs).
			set("is_instruction", jbool(rt.IsInstruction)).set("is_account", jbool(rt.IsAccount)).
			set("is_event", jbool(rt.IsEvent)).set("is_enum", jbool(rt.IsEnum)).
			set("enum_variants", jstrs(rt.EnumVariants)))
	}
	if !f.Emit {
		n.set("emit", jbool(false))
	}
	return n
}

func (d *PDADefinition) toNode() *node {
	n := jobj().set("name", jstr(d.Name)).set("seeds", seedsNode(d.Seeds))
	if d.ProgramID != nil {
		n.set("program_id", jstr(*d.ProgramID))
	}
	return n
}

func seedsNode(seeds []PDASeed) *node {
	a := jarr()
	for _, s := range seeds {
		n := jobj().set("type", jstr(s.Variant()))
		switch x := s.(type) {
		case *SeedLiteral:
			n.set("value", jstr(x.Value))
		case *SeedBytes:
			n.set("value", jbytes(x.Value))
		case *SeedArgRef:
			n.set("arg_name", jstr(x.ArgName))
			if x.ArgType != nil {
				n.set("arg_type", jstr(*x.ArgType))
			}
		case *SeedAccountRef:
			n.set("account_name", jstr(x.AccountName))
		}
		a.arr = append(a.arr, n)
	}
	return a
}

func (d *InstructionDef) toNode() *node {
	n := jobj().set("name", jstr(d.Name)).set("discriminator", jbytes(d.Discriminator)).
		set("discriminator_size", jint(int64(d.DiscriminatorSize)))
	accs := jarr()
	for _, a := range d.Accounts {
		an := jobj().set("name", jstr(a.Name)).set("is_signer", jbool(a.IsSigner)).set("is_writable", jbool(a.IsWritable))
		rn := jobj().set("category", jstr(a.Resolution.Variant()))
		switch x := a.Resolution.(type) {
		case *ResolveKnown:
			rn.set("address", jstr(x.Address))
		case *ResolvePDARef:
			rn.set("pda_name", jstr(x.PDAName))
		case *ResolvePDAInline:
			rn.set("seeds", seedsNode(x.Seeds))
			if x.ProgramID != nil {
				rn.set("program_id", jstr(*x.ProgramID))
			}
		}
		an.set("resolution", rn).set("is_optional", jbool(a.IsOptional))
		if len(a.Docs) > 0 {
			an.set("docs", jstrs(a.Docs))
		}
		accs.arr = append(accs.arr, an)
	}
	n.set("accounts", accs)
	args := jarr()
	for _, a := range d.Args {
		an := jobj().set("name", jstr(a.Name)).set("type", jstr(a.Type))
		if len(a.Docs) > 0 {
			an.set("docs", jstrs(a.Docs))
		}
		args.arr = append(args.arr, an)
	}
	n.set("args", args)
	if len(d.Errors) > 0 {
		es := jarr()
		for _, e := range d.Errors {
			en := jobj().set("code", jint(int64(e.Code))).set("name", jstr(e.Name))
			if e.Msg != nil {
				en.set("msg", jstr(*e.Msg))
			}
			es.arr = append(es.arr, en)
		}
		n.set("errors", es)
	}
	if d.ProgramID != nil {
		n.set("program_id", jstr(*d.ProgramID))
	}
	if len(d.Docs) > 0 {
		n.set("docs", jstrs(d.Docs))
	}
	return n
}

func (v *ViewDef) toNode() *node {
	n := jobj().set("id", jstr(v.ID))
	switch x := v.Source.(type) {
	case *ViewFromEntity:
		n.set("source", tagged("Entity", jobj().set("name", jstr(x.Name))))
	case *ViewFromView:
		n.set("source", tagged("View", jobj().set("id", jstr(x.ID))))
	default:
		n.set("source", jnull())
	}
	pl := jarr()
	for _, t := range v.Pipeline {
		pl.arr = append(pl.arr, viewTransformNode(t))
	}
	n.set("pipeline", pl)
	switch x := v.Output.(type) {
	case *OutputKeyed:
		n.set("output", tagged("Keyed", jobj().set("key_field", jpath(x.KeyField))))
	case nil:
		n.set("output", jstr("Collection"))
	default:
		n.set("output", jstr(x.Variant()))
	}
	return n
}

func viewTransformNode(t ViewTransform) *node {
	switch x := t.(type) {
	case *ViewFilter:
		return tagged("Filter", jobj().set("predicate", predicateNode(x.Predicate)))
	case *ViewSort:
		return tagged("Sort", jobj().set("key", jpath(x.Key)).set("order", jstr(string(x.Order))))
	case *ViewTake:
		return tagged("Take", jobj().set("count", jint(int64(x.Count))))
	case *ViewSkip:
		return tagged("Skip", jobj().set("count", jint(int64(x.Count))))
	case *ViewFirst:
		return jstr("First")
	case *ViewLast:
		return jstr("Last")
	case *ViewMaxBy:
		return tagged("MaxBy", jobj().set("key", jpath(x.Key)))
	case *ViewMinBy:
		return tagged("MinBy", jobj().set("key", jpath(x.Key)))
	}
	return jnull()
}

func predicateNode(p Predicate) *node {
	list := func(ps []Predicate) *node {
		a := jarr()
		for _, q := range ps {
			a.arr = append(a.arr, predicateNode(q))
		}
		return a
	}
	switch x := p.(type) {
	case *PredCompare:
		var v *node
		switch pv := x.Value.(type) {
		case *PredLiteral:
			v = tagged("Literal", jvalue(pv.Value))
		case *PredDynamic:
			v = tagged("Dynamic", jstr(pv.Name))
		case *PredField:
			v = tagged("Field", jpath(pv.Field))
		default:
			v = jnull()
		}
		return tagged("Compare", jobj().set("field", jpath(x.Field)).set("op", jstr(string(x.Op))).set("value", v))
	case *PredAnd:
		return tagged("And", list(x.Predicates))
	case *PredOr:
		return tagged("Or", list(x.Predicates))
	case *PredNot:
		return tagged("Not", predicateNode(x.Predicate))
	case *PredExists:
		return tagged("Exists", jobj().set("field", jpath(x.Field)))
	}
	return jnull()
}

func exprNode(e Expr) *node {
	o := jobj()
	switch x := e.(type) {
	case *ExprFieldRef:
		o.set("path", jstr(x.Path))
	case *ExprUnwrapOr:
		o.set("expr", exprNode(x.Expr)).set("default", jvalue(x.Default))
	case *ExprBinary:
		o.set("op", jstr(string(x.Op))).set("left", exprNode(x.Left)).set("right", exprNode(x.Right))
	case *ExprCast:
		o.set("expr", exprNode(x.Expr)).set("to_type", jstr(x.ToType))
	case *ExprMethodCall:
		o.set("expr", exprNode(x.Expr)).set("method", jstr(x.Method)).set("args", exprList(x.Args))
	case *ExprResolverComputed:
		o.set("resolver", jstr(x.Resolver)).set("method", jstr(x.Method)).set("args", exprList(x.Args))
	case *ExprLiteral:
		o.set("value", jvalue(x.Value))
	case *ExprParen:
		o.set("expr", exprNode(x.Expr))
	case *ExprVar:
		o.set("name", jstr(x.Name))
	case *ExprLet:
		o.set("name", jstr(x.Name)).set("value", exprNode(x.Value)).set("body", exprNode(x.Body))
	case *ExprIf:
		o.set("condition", exprNode(x.Condition)).set("then_branch", exprNode(x.ThenBranch)).
			set("else_branch", exprNode(x.ElseBranch))
	case *ExprNone, *ExprContextSlot, *ExprContextTimestamp:
		return jstr(x.Variant())
	case *ExprSome:
		o.set("value", exprNode(x.Value))
	case *ExprSlice:
		o.set("expr", exprNode(x.Expr)).set("start", jint(int64(x.Start))).set("end", jint(int64(x.End)))
	case *ExprIndex:
		o.set("expr", exprNode(x.Expr)).set("index", jint(int64(x.Index)))
	case *ExprU64FromLeBytes:
		o.set("bytes", exprNode(x.Bytes))
	case *ExprU64FromBeBytes:
		o.set("bytes", exprNode(x.Bytes))
	case *ExprByteArray:
		o.set("bytes", jbytes(x.Bytes))
	case *ExprClosure:
		o.set("param", jstr(x.Param)).set("body", exprNode(x.Body))
	case *ExprUnary:
		o.set("op", jstr(string(x.Op))).set("expr", exprNode(x.Expr))
	case *ExprJSONToBytes:
		o.set("expr", exprNode(x.Expr))
	case *ExprKeccak256:
		o.set("expr", exprNode(x.Expr))
	default:
		return jnull()
	}
	return tagged(e.Variant(), o)
}

func exprList(es []Expr) *node {
	a := jarr()
	for _, e := range es {
		a.arr = append(a.arr, exprNode(e))
	}
	return a
}

// appendPretty prints n the way serde_json's pretty printer does (two-space indent, "key": value,
// empty containers as [] and {}).
func appendPretty(b []byte, n *node, indent int) []byte {
	pad := func(b []byte, level int) []byte {
		b = append(b, '\n')
		for i := 0; i < level; i++ {
			b = append(b, ' ', ' ')
		}
		return b
	}
	switch n.kind {
	case nodeArray:
		if len(n.arr) == 0 {
			return append(b, "[]"...)
		}
		b = append(b, '[')
		for i, v := range n.arr {
			if i > 0 {
				b = append(b, ',')
			}
			b = pad(b, indent+1)
			b = appendPretty(b, v, indent+1)
		}
		b = pad(b, indent)
		return append(b, ']')
	case nodeObject:
		if len(n.keys) == 0 {
			return append(b, "{}"...)
		}
		b = append(b, '{')
		for i, k := range n.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = pad(b, indent+1)
			b = appendString(b, k)
			b = append(b, ':', ' ')
			b = appendPretty(b, n.vals[i], indent+1)
		}
		b = pad(b, indent)
		return append(b, '}')
	default:
		out, err := appendNode(b, n, "", false)
		if err != nil {
			return append(b, "null"...)
		}
		return out
	}
}

// MarshalJSON returns the spec as compact JSON in the file format (schema key order, stored hashes).
func (s *Spec) MarshalJSON() ([]byte, error) {
	return appendNode(nil, s.toNode(true), "", false)
}

// MarshalPretty returns the spec as the reference tooling writes stack files: pretty-printed with
// two-space indentation, keys in schema order, no trailing newline.
func (s *Spec) MarshalPretty() []byte {
	return appendPretty(nil, s.toNode(true), 0)
}
