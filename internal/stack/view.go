package stack

// ViewDef is a derived view of an entity (or of another view).
type ViewDef struct {
	// ID is "Entity/name", e.g. "OreRound/latest".
	ID       string
	Source   ViewSource
	Pipeline []ViewTransform
	Output   ViewOutput
}

// ViewSource is *ViewFromEntity or *ViewFromView.
type ViewSource interface {
	isViewSource()
	Variant() string
}

// ViewFromEntity (Entity variant) derives from an entity's mutations.
type ViewFromEntity struct{ Name string }

// ViewFromView (View variant) derives from another view's output.
type ViewFromView struct{ ID string }

func (*ViewFromEntity) isViewSource() {}
func (*ViewFromView) isViewSource()   {}

// Variant implements ViewSource.
func (*ViewFromEntity) Variant() string { return "Entity" }

// Variant implements ViewSource.
func (*ViewFromView) Variant() string { return "View" }

// ViewTransform is a pipeline step: *ViewFilter, *ViewSort, *ViewTake, *ViewSkip, *ViewFirst,
// *ViewLast, *ViewMaxBy or *ViewMinBy.
type ViewTransform interface {
	isViewTransform()
	Variant() string
}

// ViewFilter keeps entities matching Predicate.
type ViewFilter struct{ Predicate Predicate }

// ViewSort sorts by Key.
type ViewSort struct {
	Key   FieldPath
	Order SortOrder
}

// ViewTake keeps the first Count entities.
type ViewTake struct{ Count int }

// ViewSkip drops the first Count entities.
type ViewSkip struct{ Count int }

// ViewFirst keeps the first entity.
type ViewFirst struct{}

// ViewLast keeps the last entity.
type ViewLast struct{}

// ViewMaxBy keeps the entity with the largest Key.
type ViewMaxBy struct{ Key FieldPath }

// ViewMinBy keeps the entity with the smallest Key.
type ViewMinBy struct{ Key FieldPath }

func (*ViewFilter) isViewTransform() {}
func (*ViewSort) isViewTransform()   {}
func (*ViewTake) isViewTransform()   {}
func (*ViewSkip) isViewTransform()   {}
func (*ViewFirst) isViewTransform()  {}
func (*ViewLast) isViewTransform()   {}
func (*ViewMaxBy) isViewTransform()  {}
func (*ViewMinBy) isViewTransform()  {}

// Variant implements ViewTransform.
func (*ViewFilter) Variant() string { return "Filter" }

// Variant implements ViewTransform.
func (*ViewSort) Variant() string { return "Sort" }

// Variant implements ViewTransform.
func (*ViewTake) Variant() string { return "Take" }

// Variant implements ViewTransform.
func (*ViewSkip) Variant() string { return "Skip" }

// Variant implements ViewTransform.
func (*ViewFirst) Variant() string { return "First" }

// Variant implements ViewTransform.
func (*ViewLast) Variant() string { return "Last" }

// Variant implements ViewTransform.
func (*ViewMaxBy) Variant() string { return "MaxBy" }

// Variant implements ViewTransform.
func (*ViewMinBy) Variant() string { return "MinBy" }

// SortOrder is "asc" or "desc".
type SortOrder string

// Sort orders.
const (
	Asc  SortOrder = "asc"
	Desc SortOrder = "desc"
)

// CompareOp is an operator of PredCompare.
type CompareOp string

// Predicate comparison operators.
const (
	CmpEq  CompareOp = "Eq"
	CmpNe  CompareOp = "Ne"
	CmpGt  CompareOp = "Gt"
	CmpGte CompareOp = "Gte"
	CmpLt  CompareOp = "Lt"
	CmpLte CompareOp = "Lte"
)

// Predicate filters entities: *PredCompare, *PredAnd, *PredOr, *PredNot or *PredExists.
type Predicate interface {
	isPredicate()
	Variant() string
}

// PredCompare is field op value.
type PredCompare struct {
	Field FieldPath
	Op    CompareOp
	Value PredicateValue
}

// PredAnd is the conjunction of its predicates.
type PredAnd struct{ Predicates []Predicate }

// PredOr is the disjunction of its predicates.
type PredOr struct{ Predicates []Predicate }

// PredNot negates a predicate.
type PredNot struct{ Predicate Predicate }

// PredExists holds when the field is present and not null.
type PredExists struct{ Field FieldPath }

func (*PredCompare) isPredicate() {}
func (*PredAnd) isPredicate()     {}
func (*PredOr) isPredicate()      {}
func (*PredNot) isPredicate()     {}
func (*PredExists) isPredicate()  {}

// Variant implements Predicate.
func (*PredCompare) Variant() string { return "Compare" }

// Variant implements Predicate.
func (*PredAnd) Variant() string { return "And" }

// Variant implements Predicate.
func (*PredOr) Variant() string { return "Or" }

// Variant implements Predicate.
func (*PredNot) Variant() string { return "Not" }

// Variant implements Predicate.
func (*PredExists) Variant() string { return "Exists" }

// PredicateValue is the right side of PredCompare: *PredLiteral, *PredDynamic or *PredField.
type PredicateValue interface {
	isPredicateValue()
	Variant() string
}

// PredLiteral is a literal JSON value.
type PredLiteral struct{ Value Value }

// PredDynamic is a runtime value such as "now()".
type PredDynamic struct{ Name string }

// PredField is another field of the entity.
type PredField struct{ Field FieldPath }

func (*PredLiteral) isPredicateValue() {}
func (*PredDynamic) isPredicateValue() {}
func (*PredField) isPredicateValue()   {}

// Variant implements PredicateValue.
func (*PredLiteral) Variant() string { return "Literal" }

// Variant implements PredicateValue.
func (*PredDynamic) Variant() string { return "Dynamic" }

// Variant implements PredicateValue.
func (*PredField) Variant() string { return "Field" }

// ViewOutput is *OutputCollection, *OutputSingle or *OutputKeyed.
type ViewOutput interface {
	isViewOutput()
	Variant() string
}

// OutputCollection is list semantics.
type OutputCollection struct{}

// OutputSingle is single-entity semantics.
type OutputSingle struct{}

// OutputKeyed is keyed lookup by KeyField.
type OutputKeyed struct{ KeyField FieldPath }

func (*OutputCollection) isViewOutput() {}
func (*OutputSingle) isViewOutput()     {}
func (*OutputKeyed) isViewOutput()      {}

// Variant implements ViewOutput.
func (*OutputCollection) Variant() string { return "Collection" }

// Variant implements ViewOutput.
func (*OutputSingle) Variant() string { return "Single" }

// Variant implements ViewOutput.
func (*OutputKeyed) Variant() string { return "Keyed" }
