package stack

func decodeView(n *node, path string) *ViewDef {
	o := object(n, path, "id", "source", "pipeline", "output")
	v := &ViewDef{ID: o.reqStr("id"), Pipeline: []ViewTransform{}, Output: &OutputCollection{}}
	v.Source = decodeViewSource(o.req("source"), o.at("source"))
	o.each("pipeline", true, func(n *node, p string) { v.Pipeline = append(v.Pipeline, decodeViewTransform(n, p)) })
	if on := o.opt("output"); on != nil {
		v.Output = decodeViewOutput(on, o.at("output"))
	}
	return v
}

func decodeViewSource(n *node, path string) ViewSource {
	name, payload, pp := tagOf(n, path)
	switch name {
	case "Entity":
		o := object(content(name, payload, pp), pp, "name")
		return &ViewFromEntity{Name: o.reqStr("name")}
	case "View":
		o := object(content(name, payload, pp), pp, "id")
		return &ViewFromView{ID: o.reqStr("id")}
	}
	unknownVariant(path, name)
	return nil
}

func decodeViewTransform(n *node, path string) ViewTransform {
	name, payload, pp := tagOf(n, path)
	switch name {
	case "Filter":
		o := object(content(name, payload, pp), pp, "predicate")
		return &ViewFilter{Predicate: decodePredicate(o.req("predicate"), o.at("predicate"))}
	case "Sort":
		o := object(content(name, payload, pp), pp, "key", "order")
		s := &ViewSort{Key: o.reqPath("key"), Order: Asc}
		if on := o.opt("order"); on != nil {
			s.Order = unitEnum(on, o.at("order"), Asc, Desc)
		}
		return s
	case "Take", "Skip":
		o := object(content(name, payload, pp), pp, "count")
		if name == "Take" {
			return &ViewTake{Count: o.reqUsize("count")}
		}
		return &ViewSkip{Count: o.reqUsize("count")}
	case "First":
		unit(name, payload, pp)
		return &ViewFirst{}
	case "Last":
		unit(name, payload, pp)
		return &ViewLast{}
	case "MaxBy", "MinBy":
		o := object(content(name, payload, pp), pp, "key")
		if name == "MaxBy" {
			return &ViewMaxBy{Key: o.reqPath("key")}
		}
		return &ViewMinBy{Key: o.reqPath("key")}
	}
	unknownVariant(path, name)
	return nil
}

func decodePredicate(n *node, path string) Predicate {
	name, payload, pp := tagOf(n, path)
	list := func() []Predicate {
		out := []Predicate{}
		array(content(name, payload, pp), pp, func(n *node, p string) { out = append(out, decodePredicate(n, p)) })
		return out
	}
	switch name {
	case "Compare":
		o := object(content(name, payload, pp), pp, "field", "op", "value")
		return &PredCompare{
			Field: o.reqPath("field"),
			Op:    unitEnum(o.req("op"), o.at("op"), CmpEq, CmpNe, CmpGt, CmpGte, CmpLt, CmpLte),
			Value: decodePredicateValue(o.req("value"), o.at("value")),
		}
	case "And":
		return &PredAnd{Predicates: list()}
	case "Or":
		return &PredOr{Predicates: list()}
	case "Not":
		return &PredNot{Predicate: decodePredicate(content(name, payload, pp), pp)}
	case "Exists":
		o := object(content(name, payload, pp), pp, "field")
		return &PredExists{Field: o.reqPath("field")}
	}
	unknownVariant(path, name)
	return nil
}

func decodePredicateValue(n *node, path string) PredicateValue {
	name, payload, pp := tagOf(n, path)
	switch name {
	case "Literal":
		return &PredLiteral{Value: value(content(name, payload, pp), pp)}
	case "Dynamic":
		return &PredDynamic{Name: str(content(name, payload, pp), pp)}
	case "Field":
		return &PredField{Field: fieldPathOf(content(name, payload, pp), pp)}
	}
	unknownVariant(path, name)
	return nil
}

func decodeViewOutput(n *node, path string) ViewOutput {
	name, payload, pp := tagOf(n, path)
	switch name {
	case "Collection":
		unit(name, payload, pp)
		return &OutputCollection{}
	case "Single":
		unit(name, payload, pp)
		return &OutputSingle{}
	case "Keyed":
		o := object(content(name, payload, pp), pp, "key_field")
		return &OutputKeyed{KeyField: o.reqPath("key_field")}
	}
	unknownVariant(path, name)
	return nil
}
