package stack

import (
	"fmt"
)

// decodeSpec turns a parsed document into a Spec (structure only; hashes are checked by Parse).
func decodeSpec(root *node) (s *Spec, err error) {
	defer catch(&err)
	if root.kind != nodeObject {
		typeError("", "object", root)
	}
	// The version decides the schema, so it is checked before anything else.
	version := CurrentASTVersion
	for i, k := range root.keys {
		if k == "ast_version" {
			version = str(root.vals[i], "ast_version")
			checkVersion(version, "ast_version")
			break
		}
	}
	o := object(root, "", "ast_version", "stack_name", "program_ids", "idls", "entities", "pdas",
		"instructions", "content_hash")
	s = &Spec{ASTVersion: version}
	s.StackName = o.reqStr("stack_name")
	s.ProgramIDs = o.defStrs("program_ids")
	o.each("idls", true, func(n *node, p string) {
		if n.kind != nodeObject {
			typeError(p, "object (IDL snapshot)", n)
		}
		s.IDLSnapshots = append(s.IDLSnapshots, rawJSON(n, p))
	})
	o.each("entities", false, func(n *node, p string) { s.Entities = append(s.Entities, decodeEntity(n, p)) })
	if n := o.opt("pdas"); n != nil {
		s.PDAs = decodePDAs(n, o.at("pdas"))
	}
	o.each("instructions", true, func(n *node, p string) {
		s.Instructions = append(s.Instructions, decodeInstructionDef(n, p))
	})
	s.StoredHash = o.optStr("content_hash")
	return s, nil
}

func checkVersion(v, path string) {
	if v != CurrentASTVersion {
		fail(path, fmt.Errorf("%w %q (supported: %q)", ErrUnsupportedVersion, v, CurrentASTVersion))
	}
}

func decodeEntity(n *node, path string) *Entity {
	o := object(n, path, "ast_version", "state_name", "program_id", "idl", "identity", "handlers",
		"sections", "field_mappings", "resolver_hooks", "instruction_hooks", "resolver_specs",
		"computed_fields", "computed_field_specs", "content_hash", "views")
	e := &Entity{ASTVersion: CurrentASTVersion}
	if v := o.opt("ast_version"); v != nil {
		e.ASTVersion = str(v, o.at("ast_version"))
		checkVersion(e.ASTVersion, o.at("ast_version"))
	}
	e.StateName = o.reqStr("state_name")
	e.ProgramID = o.optStr("program_id")
	if v := o.opt("idl"); v != nil && v.kind != nodeNull {
		if v.kind != nodeObject {
			typeError(o.at("idl"), "object (IDL snapshot)", v)
		}
		e.IDL = rawJSON(v, o.at("idl"))
	}
	e.Identity = decodeIdentity(o.req("identity"), o.at("identity"))
	o.each("handlers", false, func(n *node, p string) { e.Handlers = append(e.Handlers, decodeHandler(n, p)) })
	o.each("sections", false, func(n *node, p string) { e.Sections = append(e.Sections, decodeSection(n, p)) })
	fm := o.req("field_mappings")
	fmPath := o.at("field_mappings")
	fo := mapObject(fm, fmPath)
	e.FieldMappings = make(map[string]*FieldTypeInfo, len(fm.keys))
	for i, k := range fm.keys {
		e.FieldMappings[k] = decodeFieldTypeInfo(fm.vals[i], fo.at(k))
	}
	o.each("resolver_hooks", false, func(n *node, p string) {
		e.ResolverHooks = append(e.ResolverHooks, decodeResolverHook(n, p))
	})
	o.each("instruction_hooks", false, func(n *node, p string) {
		e.InstructionHooks = append(e.InstructionHooks, decodeInstructionHook(n, p))
	})
	o.each("resolver_specs", true, func(n *node, p string) {
		e.ResolverSpecs = append(e.ResolverSpecs, decodeResolverSpec(n, p))
	})
	e.ComputedFields = o.defStrs("computed_fields")
	o.each("computed_field_specs", true, func(n *node, p string) {
		co := object(n, p, "target_path", "expression", "result_type")
		e.ComputedFieldSpecs = append(e.ComputedFieldSpecs, &ComputedFieldSpec{
			TargetPath: co.reqStr("target_path"),
			Expression: decodeExpr(co.req("expression"), co.at("expression")),
			ResultType: co.reqStr("result_type"),
		})
	})
	e.StoredHash = o.optStr("content_hash")
	o.each("views", true, func(n *node, p string) { e.Views = append(e.Views, decodeView(n, p)) })
	return e
}

func decodeIdentity(n *node, path string) Identity {
	o := object(n, path, "primary_keys", "lookup_indexes")
	id := Identity{PrimaryKeys: o.reqStrs("primary_keys"), LookupIndexes: []LookupIndex{}}
	o.each("lookup_indexes", false, func(n *node, p string) {
		lo := object(n, p, "field_name", "temporal_field")
		id.LookupIndexes = append(id.LookupIndexes, LookupIndex{
			FieldName:     lo.reqStr("field_name"),
			TemporalField: lo.optStr("temporal_field"),
		})
	})
	return id
}

func decodeHandler(n *node, path string) *Handler {
	o := object(n, path, "source", "key_resolution", "mappings", "conditions", "emit")
	h := &Handler{}
	h.Source = decodeSourceSpec(o.req("source"), o.at("source"))
	h.KeyResolution = decodeKeyResolution(o.req("key_resolution"), o.at("key_resolution"))
	o.each("mappings", false, func(n *node, p string) { h.Mappings = append(h.Mappings, decodeMapping(n, p)) })
	o.each("conditions", false, func(n *node, p string) {
		co := object(n, p, "field", "operator", "value")
		h.Conditions = append(h.Conditions, &Condition{
			Field: co.reqPath("field"),
			Operator: unitEnum(co.req("operator"), co.at("operator"), CondEquals, CondNotEquals,
				CondGreaterThan, CondLessThan, CondContains, CondExists),
			Value: co.reqValue("value"),
		})
	})
	h.Emit = o.reqBool("emit")
	return h
}

func decodeSourceSpec(n *node, path string) SourceSpec {
	name, payload, pp := tagOf(n, path)
	if name != "Source" {
		unknownVariant(path, name)
	}
	o := object(content(name, payload, pp), pp, "program_id", "discriminator", "type_name",
		"serialization", "is_account")
	s := SourceSpec{ProgramID: o.optStr("program_id")}
	if d := o.opt("discriminator"); d != nil && d.kind != nodeNull {
		s.Discriminator = bytesOf(d, o.at("discriminator"))
	}
	s.TypeName = o.reqStr("type_name")
	if v := o.opt("serialization"); v != nil && v.kind != nodeNull {
		ser := unitEnum(v, o.at("serialization"), SerializationBorsh, SerializationBytemuck,
			SerializationBytemuckUnsafe)
		s.Serialization = &ser
	}
	s.IsAccount = o.defBool("is_account", false)
	return s
}

func decodeKeyResolution(n *node, path string) KeyResolution {
	name, payload, pp := tagOf(n, path)
	switch name {
	case "Embedded", "Lookup":
		o := object(content(name, payload, pp), pp, "primary_field")
		if name == "Embedded" {
			return &KeyEmbedded{PrimaryField: o.reqPath("primary_field")}
		}
		return &KeyLookup{PrimaryField: o.reqPath("primary_field")}
	case "Computed":
		o := object(content(name, payload, pp), pp, "primary_field", "compute_partition")
		return &KeyComputed{
			PrimaryField:     o.reqPath("primary_field"),
			ComputePartition: decodeComputeFunction(o.req("compute_partition"), o.at("compute_partition")),
		}
	case "TemporalLookup":
		o := object(content(name, payload, pp), pp, "lookup_field", "timestamp_field", "index_name")
		return &KeyTemporalLookup{
			LookupField:    o.reqPath("lookup_field"),
			TimestampField: o.reqPath("timestamp_field"),
			IndexName:      o.reqStr("index_name"),
		}
	}
	unknownVariant(path, name)
	return nil
}

func decodeComputeFunction(n *node, path string) ComputeFunction {
	name, payload, pp := tagOf(n, path)
	switch name {
	case "Sum":
		unit(name, payload, pp)
		return &ComputeSum{}
	case "Concat":
		unit(name, payload, pp)
		return &ComputeConcat{}
	case "Format":
		return &ComputeFormat{Format: str(content(name, payload, pp), pp)}
	case "Custom":
		return &ComputeCustom{Name: str(content(name, payload, pp), pp)}
	}
	unknownVariant(path, name)
	return nil
}

func decodeMapping(n *node, path string) *Mapping {
	o := object(n, path, "target_path", "source", "transform", "population", "condition", "when", "stop", "emit")
	m := &Mapping{}
	m.TargetPath = o.reqStr("target_path")
	m.Source = decodeMappingSource(o.req("source"), o.at("source"))
	// transform is Option without a serde default: serde still treats a missing Option as None.
	m.Transform = o.optTransform("transform")
	m.Population = population(o.req("population"), o.at("population"))
	m.Condition = o.optCondition("condition")
	m.When = o.optStr("when")
	m.Stop = o.optStr("stop")
	m.Emit = o.defBool("emit", true)
	return m
}

func population(n *node, path string) PopulationStrategy {
	return unitEnum(n, path, SetOnce, LastWrite, Append, Merge, Max, Sum, Count, Min, UniqueCount)
}

func decodeMappingSource(n *node, path string) MappingSource {
	name, payload, pp := tagOf(n, path)
	switch name {
	case "FromSource":
		o := object(content(name, payload, pp), pp, "path", "default", "transform")
		return &FromSource{
			Path:      o.reqPath("path"),
			Default:   o.optValue("default"),
			Transform: o.optTransform("transform"),
		}
	case "Constant":
		return &Constant{Value: value(content(name, payload, pp), pp)}
	case "Computed":
		o := object(content(name, payload, pp), pp, "inputs", "function")
		c := &ComputedSource{Inputs: []FieldPath{}}
		o.each("inputs", false, func(n *node, p string) { c.Inputs = append(c.Inputs, fieldPathOf(n, p)) })
		c.Function = decodeComputeFunction(o.req("function"), o.at("function"))
		return c
	case "FromState":
		o := object(content(name, payload, pp), pp, "path")
		return &FromState{Path: o.reqStr("path")}
	case "AsEvent":
		o := object(content(name, payload, pp), pp, "fields")
		ev := &AsEvent{Fields: []MappingSource{}}
		o.each("fields", false, func(n *node, p string) { ev.Fields = append(ev.Fields, decodeMappingSource(n, p)) })
		return ev
	case "WholeSource":
		unit(name, payload, pp)
		return &WholeSource{}
	case "AsCapture":
		o := object(content(name, payload, pp), pp, "field_transforms")
		ftn := o.req("field_transforms")
		ftp := o.at("field_transforms")
		fo := mapObject(ftn, ftp)
		c := &AsCapture{FieldTransforms: make(map[string]Transformation, len(ftn.keys))}
		for i, k := range ftn.keys {
			c.FieldTransforms[k] = transformation(ftn.vals[i], fo.at(k))
		}
		return c
	case "FromContext":
		o := object(content(name, payload, pp), pp, "field")
		return &FromContext{Field: o.reqStr("field")}
	}
	unknownVariant(path, name)
	return nil
}

func (o *obj) optCondition(key string) *ConditionExpr {
	n := o.opt(key)
	if n == nil || n.kind == nodeNull {
		return nil
	}
	p := o.at(key)
	co := object(n, p, "expression", "parsed")
	c := &ConditionExpr{Expression: co.reqStr("expression")}
	if pn := co.opt("parsed"); pn != nil && pn.kind != nodeNull {
		c.Parsed = decodeParsedCondition(pn, co.at("parsed"))
	}
	return c
}

func decodeParsedCondition(n *node, path string) ParsedCondition {
	name, payload, pp := tagOf(n, path)
	switch name {
	case "Comparison":
		o := object(content(name, payload, pp), pp, "field", "op", "value")
		return &Comparison{
			Field: o.reqPath("field"),
			Op:    comparisonOp(o.req("op"), o.at("op")),
			Value: o.reqValue("value"),
		}
	case "Logical":
		o := object(content(name, payload, pp), pp, "op", "conditions")
		l := &Logical{Op: unitEnum(o.req("op"), o.at("op"), LogicalAnd, LogicalOr), Conditions: []ParsedCondition{}}
		o.each("conditions", false, func(n *node, p string) {
			l.Conditions = append(l.Conditions, decodeParsedCondition(n, p))
		})
		return l
	}
	unknownVariant(path, name)
	return nil
}

func decodeResolverHook(n *node, path string) *ResolverHook {
	o := object(n, path, "account_type", "strategy")
	h := &ResolverHook{AccountType: o.reqStr("account_type")}
	sn := o.req("strategy")
	sp := o.at("strategy")
	name, payload, pp := tagOf(sn, sp)
	switch name {
	case "PdaReverseLookup":
		so := object(content(name, payload, pp), pp, "lookup_name", "queue_discriminators")
		s := &PdaReverseLookup{LookupName: so.reqStr("lookup_name"), QueueDiscriminators: [][]byte{}}
		so.each("queue_discriminators", false, func(n *node, p string) {
			s.QueueDiscriminators = append(s.QueueDiscriminators, bytesOf(n, p))
		})
		h.Strategy = s
	case "DirectField":
		so := object(content(name, payload, pp), pp, "field_path")
		h.Strategy = &DirectField{FieldPath: so.reqPath("field_path")}
	default:
		unknownVariant(sp, name)
	}
	return h
}

func decodeInstructionHook(n *node, path string) *InstructionHook {
	o := object(n, path, "instruction_type", "actions", "lookup_by")
	h := &InstructionHook{InstructionType: o.reqStr("instruction_type"), Actions: []HookAction{}}
	o.each("actions", false, func(n *node, p string) { h.Actions = append(h.Actions, decodeHookAction(n, p)) })
	h.LookupBy = o.optPath("lookup_by")
	return h
}

func decodeHookAction(n *node, path string) HookAction {
	name, payload, pp := tagOf(n, path)
	switch name {
	case "RegisterPdaMapping":
		o := object(content(name, payload, pp), pp, "pda_field", "seed_field", "lookup_name")
		return &RegisterPdaMapping{
			PDAField:   o.reqPath("pda_field"),
			SeedField:  o.reqPath("seed_field"),
			LookupName: o.reqStr("lookup_name"),
		}
	case "SetField":
		o := object(content(name, payload, pp), pp, "target_field", "source", "condition")
		return &SetFieldAction{
			TargetField: o.reqStr("target_field"),
			Source:      decodeMappingSource(o.req("source"), o.at("source")),
			Condition:   o.optCondition("condition"),
		}
	case "IncrementField":
		o := object(content(name, payload, pp), pp, "target_field", "increment_by", "condition")
		return &IncrementFieldAction{
			TargetField: o.reqStr("target_field"),
			IncrementBy: i64(o.req("increment_by"), o.at("increment_by")),
			Condition:   o.optCondition("condition"),
		}
	}
	unknownVariant(path, name)
	return nil
}

func decodeResolverSpec(n *node, path string) *ResolverSpec {
	o := object(n, path, "resolver", "input_path", "input_value", "strategy", "extracts", "condition", "schedule_at")
	r := &ResolverSpec{Strategy: ResolveSetOnce}
	r.Resolver = decodeResolverType(o.req("resolver"), o.at("resolver"))
	r.InputPath = o.optStr("input_path")
	r.InputValue = o.optValue("input_value")
	if sn := o.opt("strategy"); sn != nil {
		r.Strategy = unitEnum(sn, o.at("strategy"), ResolveSetOnce, ResolveLastWrite)
	}
	r.Extracts = []*ResolverExtract{}
	o.each("extracts", false, func(n *node, p string) {
		eo := object(n, p, "target_path", "source_path", "transform")
		r.Extracts = append(r.Extracts, &ResolverExtract{
			TargetPath: eo.reqStr("target_path"),
			SourcePath: eo.optStr("source_path"),
			Transform:  eo.optTransform("transform"),
		})
	})
	if cn := o.opt("condition"); cn != nil && cn.kind != nodeNull {
		cp := o.at("condition")
		co := object(cn, cp, "field_path", "op", "value")
		r.Condition = &ResolverCondition{
			FieldPath: co.reqStr("field_path"),
			Op:        comparisonOp(co.req("op"), co.at("op")),
			Value:     co.reqValue("value"),
		}
	}
	r.ScheduleAt = o.optStr("schedule_at")
	return r
}

func decodeResolverType(n *node, path string) ResolverType {
	name, payload, pp := tagOf(n, path)
	switch name {
	case "token":
		unit(name, payload, pp)
		return &TokenResolver{}
	case "url":
		o := object(content(name, payload, pp), pp, "url_source", "method", "extract_path")
		u := &URLResolver{Method: MethodGet}
		u.URLSource = decodeURLSource(o.req("url_source"), o.at("url_source"))
		if mn := o.opt("method"); mn != nil {
			u.Method = unitEnum(mn, o.at("method"), MethodGet, MethodPost)
		}
		u.ExtractPath = o.optStr("extract_path")
		return u
	}
	unknownVariant(path, name)
	return nil
}

func decodeURLSource(n *node, path string) URLSource {
	name, payload, pp := tagOf(n, path)
	switch name {
	case "FieldPath":
		return &URLFromField{Path: str(content(name, payload, pp), pp)}
	case "Template":
		t := &URLTemplate{Parts: []URLTemplatePart{}}
		array(content(name, payload, pp), pp, func(n *node, p string) {
			pn, pv, ppp := tagOf(n, p)
			switch pn {
			case "Literal":
				t.Parts = append(t.Parts, URLTemplatePart{Text: str(content(pn, pv, ppp), ppp)})
			case "FieldRef":
				t.Parts = append(t.Parts, URLTemplatePart{IsFieldRef: true, Text: str(content(pn, pv, ppp), ppp)})
			default:
				unknownVariant(p, pn)
			}
		})
		return t
	}
	unknownVariant(path, name)
	return nil
}

func decodeSection(n *node, path string) *EntitySection {
	o := object(n, path, "name", "fields", "is_nested_struct", "parent_field")
	s := &EntitySection{Name: o.reqStr("name"), Fields: []*FieldTypeInfo{}}
	o.each("fields", false, func(n *node, p string) { s.Fields = append(s.Fields, decodeFieldTypeInfo(n, p)) })
	s.IsNestedStruct = o.defBool("is_nested_struct", false)
	s.ParentField = o.optStr("parent_field")
	return s
}

func decodeFieldTypeInfo(n *node, path string) *FieldTypeInfo {
	o := object(n, path, "field_name", "rust_type_name", "base_type", "is_optional", "is_array",
		"inner_type", "source_path", "resolved_type", "emit")
	f := &FieldTypeInfo{
		FieldName:    o.reqStr("field_name"),
		RustTypeName: o.reqStr("rust_type_name"),
		BaseType:     baseType(o.req("base_type"), o.at("base_type")),
		IsOptional:   o.reqBool("is_optional"),
		IsArray:      o.reqBool("is_array"),
		InnerType:    o.optStr("inner_type"),
		SourcePath:   o.optStr("source_path"),
	}
	if rn := o.opt("resolved_type"); rn != nil && rn.kind != nodeNull {
		rp := o.at("resolved_type")
		ro := object(rn, rp, "type_name", "fields", "is_instruction", "is_account", "is_event", "is_enum", "enum_variants")
		rt := &ResolvedStructType{TypeName: ro.reqStr("type_name"), Fields: []*ResolvedField{}}
		ro.each("fields", false, func(n *node, p string) {
			fo := object(n, p, "field_name", "field_type", "base_type", "is_optional", "is_array")
			rt.Fields = append(rt.Fields, &ResolvedField{
				FieldName:  fo.reqStr("field_name"),
				FieldType:  fo.reqStr("field_type"),
				BaseType:   baseType(fo.req("base_type"), fo.at("base_type")),
				IsOptional: fo.reqBool("is_optional"),
				IsArray:    fo.reqBool("is_array"),
			})
		})
		rt.IsInstruction = ro.reqBool("is_instruction")
		rt.IsAccount = ro.reqBool("is_account")
		rt.IsEvent = ro.reqBool("is_event")
		rt.IsEnum = ro.defBool("is_enum", false)
		rt.EnumVariants = ro.defStrs("enum_variants")
		if rt.EnumVariants == nil {
			rt.EnumVariants = []string{}
		}
		f.ResolvedType = rt
	}
	f.Emit = o.defBool("emit", true)
	return f
}

func baseType(n *node, path string) BaseType {
	return unitEnum(n, path, BaseInteger, BaseFloat, BaseString, BaseBoolean, BaseObject, BaseArray,
		BaseBinary, BaseTimestamp, BasePubkey, BaseAny)
}

func decodePDAs(n *node, path string) map[string]map[string]*PDADefinition {
	o := mapObject(n, path)
	out := make(map[string]map[string]*PDADefinition, len(n.keys))
	for i, prog := range n.keys {
		pp := o.at(prog)
		inner := n.vals[i]
		io := mapObject(inner, pp)
		m := make(map[string]*PDADefinition, len(inner.keys))
		for j, name := range inner.keys {
			dp := io.at(name)
			do := object(inner.vals[j], dp, "name", "seeds", "program_id")
			d := &PDADefinition{Name: do.reqStr("name"), Seeds: []PDASeed{}}
			do.each("seeds", false, func(n *node, p string) { d.Seeds = append(d.Seeds, decodePDASeed(n, p)) })
			d.ProgramID = do.optStr("program_id")
			m[name] = d
		}
		out[prog] = m
	}
	return out
}

// internalTag reads the tag key of an internally tagged enum object.
func internalTag(n *node, path, tag string) string {
	if n.kind != nodeObject {
		typeError(path, "object", n)
	}
	for i, k := range n.keys {
		if k == tag {
			return str(n.vals[i], keyPath(path, tag))
		}
	}
	fail(path, fmt.Errorf("%w %q", ErrMissingField, tag))
	return ""
}

func decodePDASeed(n *node, path string) PDASeed {
	switch t := internalTag(n, path, "type"); t {
	case "literal":
		o := object(n, path, "type", "value")
		return &SeedLiteral{Value: o.reqStr("value")}
	case "bytes":
		o := object(n, path, "type", "value")
		return &SeedBytes{Value: o.reqBytes("value")}
	case "argRef":
		o := object(n, path, "type", "arg_name", "arg_type")
		return &SeedArgRef{ArgName: o.reqStr("arg_name"), ArgType: o.optStr("arg_type")}
	case "accountRef":
		o := object(n, path, "type", "account_name")
		return &SeedAccountRef{AccountName: o.reqStr("account_name")}
	default:
		unknownVariant(keyPath(path, "type"), t)
	}
	return nil
}

func decodeInstructionDef(n *node, path string) *InstructionDef {
	o := object(n, path, "name", "discriminator", "discriminator_size", "accounts", "args", "errors",
		"program_id", "docs")
	d := &InstructionDef{Name: o.reqStr("name"), Discriminator: o.reqBytes("discriminator"), DiscriminatorSize: 8}
	if sn := o.opt("discriminator_size"); sn != nil {
		d.DiscriminatorSize = usize(sn, o.at("discriminator_size"))
	}
	d.Accounts = []*InstructionAccountDef{}
	o.each("accounts", false, func(n *node, p string) {
		ao := object(n, p, "name", "is_signer", "is_writable", "resolution", "is_optional", "docs")
		d.Accounts = append(d.Accounts, &InstructionAccountDef{
			Name:       ao.reqStr("name"),
			IsSigner:   ao.defBool("is_signer", false),
			IsWritable: ao.defBool("is_writable", false),
			Resolution: decodeAccountResolution(ao.req("resolution"), ao.at("resolution")),
			IsOptional: ao.defBool("is_optional", false),
			Docs:       ao.defStrs("docs"),
		})
	})
	d.Args = []*InstructionArgDef{}
	o.each("args", false, func(n *node, p string) {
		ao := object(n, p, "name", "type", "docs")
		d.Args = append(d.Args, &InstructionArgDef{Name: ao.reqStr("name"), Type: ao.reqStr("type"), Docs: ao.defStrs("docs")})
	})
	o.each("errors", true, func(n *node, p string) {
		eo := object(n, p, "code", "name", "msg")
		d.Errors = append(d.Errors, &IDLError{
			Code: u32(eo.req("code"), eo.at("code")),
			Name: eo.reqStr("name"),
			Msg:  eo.optStr("msg"),
		})
	})
	d.ProgramID = o.optStr("program_id")
	d.Docs = o.defStrs("docs")
	return d
}

func decodeAccountResolution(n *node, path string) AccountResolution {
	switch t := internalTag(n, path, "category"); t {
	case "signer":
		object(n, path, "category")
		return &ResolveSigner{}
	case "known":
		o := object(n, path, "category", "address")
		return &ResolveKnown{Address: o.reqStr("address")}
	case "pdaRef":
		o := object(n, path, "category", "pda_name")
		return &ResolvePDARef{PDAName: o.reqStr("pda_name")}
	case "pdaInline":
		o := object(n, path, "category", "seeds", "program_id")
		r := &ResolvePDAInline{Seeds: []PDASeed{}}
		o.each("seeds", false, func(n *node, p string) { r.Seeds = append(r.Seeds, decodePDASeed(n, p)) })
		r.ProgramID = o.optStr("program_id")
		return r
	case "userProvided":
		object(n, path, "category")
		return &ResolveUserProvided{}
	default:
		unknownVariant(keyPath(path, "category"), t)
	}
	return nil
}
