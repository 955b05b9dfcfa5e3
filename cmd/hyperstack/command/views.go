package command

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hyperstack-go/hyperstack/internal/projection"
	"github.com/hyperstack-go/hyperstack/internal/stack"
)

// projectionViews turns a stack's derived views into the projection's view definitions. Views the
// projection cannot serve are refused with the view's id.
func projectionViews(spec *stack.Spec) ([]projection.ViewDef, error) {
	var out []projection.ViewDef
	for _, ref := range spec.Views() {
		v := ref.View
		src, ok := v.Source.(*stack.ViewFromEntity)
		if !ok {
			return nil, fmt.Errorf("view %s: views derived from other views are not supported yet", v.ID)
		}
		def := projection.ViewDef{ID: v.ID, Entity: src.Name, Mode: projection.ModeList}
		if _, single := v.Output.(*stack.OutputSingle); single {
			def.Mode = projection.ModeState
		}
		for _, t := range v.Pipeline {
			switch t := t.(type) {
			case *stack.ViewSort:
				def.Sort = &projection.Sort{Field: t.Key.Segments, Desc: strings.EqualFold(string(t.Order), "desc")}
			case *stack.ViewTake:
				def.Limit = t.Count
			case *stack.ViewFirst, *stack.ViewLast:
				def.Limit = 1
				if _, last := t.(*stack.ViewLast); last && def.Sort != nil {
					def.Sort.Desc = !def.Sort.Desc
				}
			case *stack.ViewMaxBy:
				def.Sort, def.Limit = &projection.Sort{Field: t.Key.Segments, Desc: true}, 1
			case *stack.ViewMinBy:
				def.Sort, def.Limit = &projection.Sort{Field: t.Key.Segments}, 1
			case *stack.ViewFilter:
				p, err := projectionPredicate(t.Predicate)
				if err != nil {
					return nil, fmt.Errorf("view %s: %w", v.ID, err)
				}
				def.Filter = p
			default:
				return nil, fmt.Errorf("view %s: pipeline step %s is not supported yet", v.ID, t.Variant())
			}
		}
		out = append(out, def)
	}
	return out, nil
}

func projectionPredicate(p stack.Predicate) (*projection.Predicate, error) {
	c, ok := p.(*stack.PredCompare)
	if !ok {
		return nil, fmt.Errorf("filter %s is not supported yet (only single comparisons)", p.Variant())
	}
	lit, ok := c.Value.(*stack.PredLiteral)
	if !ok {
		return nil, fmt.Errorf("filter value %s is not supported yet (only literals)", c.Value.Variant())
	}
	var v any
	d := json.NewDecoder(strings.NewReader(string(lit.Value.Raw())))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return &projection.Predicate{Field: c.Field.Segments, Op: projection.CompareOp(strings.ToLower(string(c.Op))), Value: v}, nil
}
