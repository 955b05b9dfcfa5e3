package stack

import (
	"encoding/json"
	"strings"
)

// CurrentASTVersion is the only ast_version this package loads.
const CurrentASTVersion = "0.0.1"

// Spec is a whole stack (SerializableStackSpec). Optional fields are pointers or nil slices: nil means
// the file had no value (serde None).
type Spec struct {
	ASTVersion string
	// StackName is the PascalCase stack name ("OreStream").
	StackName string
	// ProgramIDs holds one base58 program id per IDL, in IDL order.
	ProgramIDs []string
	// IDLSnapshots holds the embedded IDL snapshots as compact JSON, one per program.
	IDLSnapshots []json.RawMessage
	// Entities holds one state table each; an entity's index is its state id.
	Entities []*Entity
	// PDAs is the SDK-only PDA registry: program name → PDA name → definition.
	PDAs map[string]map[string]*PDADefinition
	// Instructions are the SDK-only instruction builders.
	Instructions []*InstructionDef
	// StoredHash is the content_hash the file carried (nil when absent).
	StoredHash *string

	computedHash string
	entityByName map[string]int
	routing      map[string][]HandlerRef
}

// Entity is one state table (SerializableStreamSpec).
type Entity struct {
	ASTVersion string
	// StateName is the entity name ("OreRound"), the export of its mutations.
	StateName string
	ProgramID *string
	// IDL is the entity's own IDL snapshot; nil inside a stack file.
	IDL      json.RawMessage
	Identity Identity
	Handlers []*Handler
	// Sections and FieldMappings carry type information for SDK generation only.
	Sections      []*EntitySection
	FieldMappings map[string]*FieldTypeInfo
	// ResolverHooks and InstructionHooks drive PDA reverse lookups and instruction side effects.
	ResolverHooks    []*ResolverHook
	InstructionHooks []*InstructionHook
	ResolverSpecs    []*ResolverSpec
	// ComputedFields lists the computed target paths; ComputedFieldSpecs holds their expressions.
	ComputedFields     []string
	ComputedFieldSpecs []*ComputedFieldSpec
	// StoredHash is the content_hash the file carried (nil when absent).
	StoredHash *string
	Views      []*ViewDef

	computedHash string
}

// Identity names an entity's primary keys and lookup indexes.
type Identity struct {
	// PrimaryKeys are dotted target paths; only the first is used as the key.
	PrimaryKeys   []string
	LookupIndexes []LookupIndex
}

// LookupIndex is a secondary index on a target path, optionally temporal.
type LookupIndex struct {
	FieldName     string
	TemporalField *string
}

// FieldPath is a path into an event or state object. Offsets is unused by the VM; nil means None.
type FieldPath struct {
	Segments []string
	Offsets  []int
}

// Path builds a FieldPath from segments.
func Path(segments ...string) FieldPath { return FieldPath{Segments: segments} }

// String joins the segments with dots.
func (p FieldPath) String() string { return strings.Join(p.Segments, ".") }

// IsEmpty reports whether the path has no segments.
func (p FieldPath) IsEmpty() bool { return len(p.Segments) == 0 }

// Leaf returns the last segment ("" for an empty path).
func (p FieldPath) Leaf() string {
	if len(p.Segments) == 0 {
		return ""
	}
	return p.Segments[len(p.Segments)-1]
}

// Handler reacts to one event type (SerializableHandlerSpec).
type Handler struct {
	Source        SourceSpec
	KeyResolution KeyResolution
	Mappings      []*Mapping
	// Conditions are handler-level conditions; the reference compiler ignores them.
	Conditions []*Condition
	// Emit is false when the handler must not produce a mutation.
	Emit bool
}

// EventType returns the routing key, e.g. "ore::RoundState".
func (h *Handler) EventType() string { return h.Source.TypeName }

// SourceSpec is the event a handler listens to (the only variant, Source, of the SourceSpec enum).
type SourceSpec struct {
	ProgramID *string
	// Discriminator is nil when absent.
	Discriminator []byte
	// TypeName is the event type string: <program>::<Account>State, ::<Ix>IxState or ::<Event>CpiEvent.
	TypeName      string
	Serialization *Serialization
	IsAccount     bool
}

// Serialization is an account layout encoding.
type Serialization string

// Serializations.
const (
	SerializationBorsh          Serialization = "borsh"
	SerializationBytemuck       Serialization = "bytemuck"
	SerializationBytemuckUnsafe Serialization = "bytemuckunsafe"
)

// KeyResolution says how a handler finds the entity key; one of *KeyEmbedded, *KeyLookup,
// *KeyComputed, *KeyTemporalLookup.
type KeyResolution interface {
	isKeyResolution()
	// Variant returns the serialized variant name.
	Variant() string
}

// KeyEmbedded reads the key from the event at PrimaryField.
type KeyEmbedded struct{ PrimaryField FieldPath }

// KeyLookup translates the event value at PrimaryField through the lookup indexes.
type KeyLookup struct{ PrimaryField FieldPath }

// KeyComputed reads the key like KeyEmbedded; ComputePartition is carried but unused.
type KeyComputed struct {
	PrimaryField     FieldPath
	ComputePartition ComputeFunction
}

// KeyTemporalLookup resolves the key through a temporal index.
type KeyTemporalLookup struct {
	LookupField    FieldPath
	TimestampField FieldPath
	IndexName      string
}

func (*KeyEmbedded) isKeyResolution()       {}
func (*KeyLookup) isKeyResolution()         {}
func (*KeyComputed) isKeyResolution()       {}
func (*KeyTemporalLookup) isKeyResolution() {}

// Variant implements KeyResolution.
func (*KeyEmbedded) Variant() string { return "Embedded" }

// Variant implements KeyResolution.
func (*KeyLookup) Variant() string { return "Lookup" }

// Variant implements KeyResolution.
func (*KeyComputed) Variant() string { return "Computed" }

// Variant implements KeyResolution.
func (*KeyTemporalLookup) Variant() string { return "TemporalLookup" }

// ComputeFunction is one of *ComputeSum, *ComputeConcat, *ComputeFormat, *ComputeCustom.
type ComputeFunction interface {
	isComputeFunction()
	Variant() string
}

// ComputeSum is the Sum compute function.
type ComputeSum struct{}

// ComputeConcat is the Concat compute function.
type ComputeConcat struct{}

// ComputeFormat is Format(string).
type ComputeFormat struct{ Format string }

// ComputeCustom is Custom(string).
type ComputeCustom struct{ Name string }

func (*ComputeSum) isComputeFunction()    {}
func (*ComputeConcat) isComputeFunction() {}
func (*ComputeFormat) isComputeFunction() {}
func (*ComputeCustom) isComputeFunction() {}

// Variant implements ComputeFunction.
func (*ComputeSum) Variant() string { return "Sum" }

// Variant implements ComputeFunction.
func (*ComputeConcat) Variant() string { return "Concat" }

// Variant implements ComputeFunction.
func (*ComputeFormat) Variant() string { return "Format" }

// Variant implements ComputeFunction.
func (*ComputeCustom) Variant() string { return "Custom" }

// Mapping writes one target path of the entity (SerializableFieldMapping).
type Mapping struct {
	// TargetPath is dotted ("state.total_miners").
	TargetPath string
	Source     MappingSource
	// Transform is the mapping-level transformation ("" for none).
	Transform  Transformation
	Population PopulationStrategy
	Condition  *ConditionExpr
	// When is an instruction event type whose presence in the same transaction gates the write.
	When *string
	// Stop is an instruction event type after which writes are skipped.
	Stop *string
	// Emit is false for stored-but-not-emitted fields.
	Emit bool
}

// Transformation converts a loaded value; the empty Transformation means none.
type Transformation string

// Transformations.
const (
	TransformNone         Transformation = ""
	TransformHexEncode    Transformation = "HexEncode"
	TransformHexDecode    Transformation = "HexDecode"
	TransformBase58Encode Transformation = "Base58Encode"
	TransformBase58Decode Transformation = "Base58Decode"
	TransformToString     Transformation = "ToString"
	TransformToNumber     Transformation = "ToNumber"
)

// PopulationStrategy says how a mapped value is merged into state.
type PopulationStrategy string

// Population strategies.
const (
	SetOnce     PopulationStrategy = "SetOnce"
	LastWrite   PopulationStrategy = "LastWrite"
	Append      PopulationStrategy = "Append"
	Merge       PopulationStrategy = "Merge"
	Max         PopulationStrategy = "Max"
	Sum         PopulationStrategy = "Sum"
	Count       PopulationStrategy = "Count"
	Min         PopulationStrategy = "Min"
	UniqueCount PopulationStrategy = "UniqueCount"
)

// MappingSource is where a mapping's value comes from; one of *FromSource, *Constant,
// *ComputedSource, *FromState, *AsEvent, *WholeSource, *AsCapture, *FromContext.
type MappingSource interface {
	isMappingSource()
	Variant() string
}

// FromSource reads Path from the event, with an optional default and source-level transform.
type FromSource struct {
	Path      FieldPath
	Default   *Value
	Transform Transformation
}

// Constant is a literal value.
type Constant struct{ Value Value }

// ComputedSource (the Computed variant) compiles to nothing in the reference VM.
type ComputedSource struct {
	Inputs   []FieldPath
	Function ComputeFunction
}

// FromState (compiles to nothing in the reference VM).
type FromState struct{ Path string }

// AsEvent wraps the listed fields into an event object.
type AsEvent struct{ Fields []MappingSource }

// WholeSource is the whole event minus its __* keys.
type WholeSource struct{}

// AsCapture snapshots the whole event with per-field transforms.
type AsCapture struct{ FieldTransforms map[string]Transformation }

// FromContext reads __update_context.<Field> (slot, signature, timestamp).
type FromContext struct{ Field string }

func (*FromSource) isMappingSource()     {}
func (*Constant) isMappingSource()       {}
func (*ComputedSource) isMappingSource() {}
func (*FromState) isMappingSource()      {}
func (*AsEvent) isMappingSource()        {}
func (*WholeSource) isMappingSource()    {}
func (*AsCapture) isMappingSource()      {}
func (*FromContext) isMappingSource()    {}

// Variant implements MappingSource.
func (*FromSource) Variant() string { return "FromSource" }

// Variant implements MappingSource.
func (*Constant) Variant() string { return "Constant" }

// Variant implements MappingSource.
func (*ComputedSource) Variant() string { return "Computed" }

// Variant implements MappingSource.
func (*FromState) Variant() string { return "FromState" }

// Variant implements MappingSource.
func (*AsEvent) Variant() string { return "AsEvent" }

// Variant implements MappingSource.
func (*WholeSource) Variant() string { return "WholeSource" }

// Variant implements MappingSource.
func (*AsCapture) Variant() string { return "AsCapture" }

// Variant implements MappingSource.
func (*FromContext) Variant() string { return "FromContext" }

// SortedFieldTransforms returns the capture transforms in key order.
func (c *AsCapture) SortedFieldTransforms() []FieldTransform {
	keys := sortedKeys(c.FieldTransforms)
	out := make([]FieldTransform, len(keys))
	for i, k := range keys {
		out[i] = FieldTransform{Field: k, Transform: c.FieldTransforms[k]}
	}
	return out
}

// FieldTransform is one entry of AsCapture.FieldTransforms.
type FieldTransform struct {
	Field     string
	Transform Transformation
}

// Condition is a handler-level condition.
type Condition struct {
	Field    FieldPath
	Operator ConditionOp
	Value    Value
}

// ConditionOp is the operator of a handler-level Condition.
type ConditionOp string

// Condition operators.
const (
	CondEquals      ConditionOp = "Equals"
	CondNotEquals   ConditionOp = "NotEquals"
	CondGreaterThan ConditionOp = "GreaterThan"
	CondLessThan    ConditionOp = "LessThan"
	CondContains    ConditionOp = "Contains"
	CondExists      ConditionOp = "Exists"
)

// ConditionExpr is a mapping or hook condition: the source text and its parsed form (nil if absent).
type ConditionExpr struct {
	Expression string
	Parsed     ParsedCondition
}

// ParsedCondition is *Comparison or *Logical.
type ParsedCondition interface {
	isParsedCondition()
	Variant() string
}

// Comparison compares the event field with a literal.
type Comparison struct {
	Field FieldPath
	Op    ComparisonOp
	Value Value
}

// Logical combines conditions with And/Or.
type Logical struct {
	Op         LogicalOp
	Conditions []ParsedCondition
}

func (*Comparison) isParsedCondition() {}
func (*Logical) isParsedCondition()    {}

// Variant implements ParsedCondition.
func (*Comparison) Variant() string { return "Comparison" }

// Variant implements ParsedCondition.
func (*Logical) Variant() string { return "Logical" }

// ComparisonOp is a comparison operator of conditions and resolver conditions.
type ComparisonOp string

// Comparison operators.
const (
	OpEqual              ComparisonOp = "Equal"
	OpNotEqual           ComparisonOp = "NotEqual"
	OpGreaterThan        ComparisonOp = "GreaterThan"
	OpGreaterThanOrEqual ComparisonOp = "GreaterThanOrEqual"
	OpLessThan           ComparisonOp = "LessThan"
	OpLessThanOrEqual    ComparisonOp = "LessThanOrEqual"
)

// LogicalOp is And or Or.
type LogicalOp string

// Logical operators.
const (
	LogicalAnd LogicalOp = "And"
	LogicalOr  LogicalOp = "Or"
)

// ResolverHook attaches a key-resolution strategy to an account type.
type ResolverHook struct {
	AccountType string
	Strategy    ResolverStrategy
}

// ResolverStrategy is *PdaReverseLookup or *DirectField.
type ResolverStrategy interface {
	isResolverStrategy()
	Variant() string
}

// PdaReverseLookup looks the account address up in a PDA reverse-lookup table, queueing on a miss.
type PdaReverseLookup struct {
	LookupName          string
	QueueDiscriminators [][]byte
}

// DirectField reads the key from the account data.
type DirectField struct{ FieldPath FieldPath }

func (*PdaReverseLookup) isResolverStrategy() {}
func (*DirectField) isResolverStrategy()      {}

// Variant implements ResolverStrategy.
func (*PdaReverseLookup) Variant() string { return "PdaReverseLookup" }

// Variant implements ResolverStrategy.
func (*DirectField) Variant() string { return "DirectField" }

// InstructionHook runs actions when an instruction type is seen.
type InstructionHook struct {
	InstructionType string
	Actions         []HookAction
	LookupBy        *FieldPath
}

// HookAction is *RegisterPdaMapping, *SetFieldAction or *IncrementFieldAction.
type HookAction interface {
	isHookAction()
	Variant() string
}

// RegisterPdaMapping records PDA → seed in a reverse-lookup table.
type RegisterPdaMapping struct {
	PDAField   FieldPath
	SeedField  FieldPath
	LookupName string
}

// SetFieldAction (the SetField variant) sets a target field from a source.
type SetFieldAction struct {
	TargetField string
	Source      MappingSource
	Condition   *ConditionExpr
}

// IncrementFieldAction (the IncrementField variant) increments a target field.
type IncrementFieldAction struct {
	TargetField string
	IncrementBy int64
	Condition   *ConditionExpr
}

func (*RegisterPdaMapping) isHookAction()   {}
func (*SetFieldAction) isHookAction()       {}
func (*IncrementFieldAction) isHookAction() {}

// Variant implements HookAction.
func (*RegisterPdaMapping) Variant() string { return "RegisterPdaMapping" }

// Variant implements HookAction.
func (*SetFieldAction) Variant() string { return "SetField" }

// Variant implements HookAction.
func (*IncrementFieldAction) Variant() string { return "IncrementField" }

// ResolverSpec asks an external resolver for data and writes the extracts into state.
type ResolverSpec struct {
	Resolver   ResolverType
	InputPath  *string
	InputValue *Value
	Strategy   ResolveStrategy
	Extracts   []*ResolverExtract
	Condition  *ResolverCondition
	ScheduleAt *string
}

// ResolverType is *TokenResolver or *URLResolver.
type ResolverType interface {
	isResolverType()
	Variant() string
}

// TokenResolver resolves token metadata by mint ("token").
type TokenResolver struct{}

// URLResolver fetches JSON over HTTP ({"url":{...}}).
type URLResolver struct {
	URLSource   URLSource
	Method      HTTPMethod
	ExtractPath *string
}

func (*TokenResolver) isResolverType() {}
func (*URLResolver) isResolverType()   {}

// Variant implements ResolverType.
func (*TokenResolver) Variant() string { return "token" }

// Variant implements ResolverType.
func (*URLResolver) Variant() string { return "url" }

// HTTPMethod is "get" or "post".
type HTTPMethod string

// HTTP methods.
const (
	MethodGet  HTTPMethod = "get"
	MethodPost HTTPMethod = "post"
)

// URLSource is *URLFromField or *URLTemplate.
type URLSource interface {
	isURLSource()
	Variant() string
}

// URLFromField (FieldPath variant) reads the URL from a state path.
type URLFromField struct{ Path string }

// URLTemplate builds the URL from literal parts and state field references.
type URLTemplate struct{ Parts []URLTemplatePart }

func (*URLFromField) isURLSource() {}
func (*URLTemplate) isURLSource()  {}

// Variant implements URLSource.
func (*URLFromField) Variant() string { return "FieldPath" }

// Variant implements URLSource.
func (*URLTemplate) Variant() string { return "Template" }

// URLTemplatePart is a literal (IsFieldRef false, Text is the literal) or a state path reference
// (IsFieldRef true, Text is the dotted path).
type URLTemplatePart struct {
	IsFieldRef bool
	Text       string
}

// ResolveStrategy is SetOnce or LastWrite.
type ResolveStrategy string

// Resolve strategies.
const (
	ResolveSetOnce   ResolveStrategy = "SetOnce"
	ResolveLastWrite ResolveStrategy = "LastWrite"
)

// ResolverExtract copies SourcePath of the resolver answer (the whole answer when nil) to TargetPath.
type ResolverExtract struct {
	TargetPath string
	SourcePath *string
	Transform  Transformation
}

// ResolverCondition gates a resolver on a state field.
type ResolverCondition struct {
	FieldPath string
	Op        ComparisonOp
	Value     Value
}

// ComputedFieldSpec is a derived field and its expression.
type ComputedFieldSpec struct {
	TargetPath string
	Expression Expr
	// ResultType is the Rust type string ("Option<u64>").
	ResultType string
}

// EntitySection groups fields for SDK generation.
type EntitySection struct {
	Name           string
	Fields         []*FieldTypeInfo
	IsNestedStruct bool
	ParentField    *string
}

// FieldTypeInfo is language-agnostic type information of a field.
type FieldTypeInfo struct {
	FieldName    string
	RustTypeName string
	BaseType     BaseType
	IsOptional   bool
	IsArray      bool
	InnerType    *string
	SourcePath   *string
	ResolvedType *ResolvedStructType
	Emit         bool
}

// ResolvedStructType describes a complex field type from the IDL.
type ResolvedStructType struct {
	TypeName      string
	Fields        []*ResolvedField
	IsInstruction bool
	IsAccount     bool
	IsEvent       bool
	IsEnum        bool
	EnumVariants  []string
}

// ResolvedField is a field of a ResolvedStructType.
type ResolvedField struct {
	FieldName  string
	FieldType  string
	BaseType   BaseType
	IsOptional bool
	IsArray    bool
}

// BaseType is the fundamental type class of a field.
type BaseType string

// Base types.
const (
	BaseInteger   BaseType = "Integer"
	BaseFloat     BaseType = "Float"
	BaseString    BaseType = "String"
	BaseBoolean   BaseType = "Boolean"
	BaseObject    BaseType = "Object"
	BaseArray     BaseType = "Array"
	BaseBinary    BaseType = "Binary"
	BaseTimestamp BaseType = "Timestamp"
	BasePubkey    BaseType = "Pubkey"
	BaseAny       BaseType = "Any"
)

// PDADefinition is an SDK PDA.
type PDADefinition struct {
	Name      string
	Seeds     []PDASeed
	ProgramID *string
}

// PDASeed is *SeedLiteral, *SeedBytes, *SeedArgRef or *SeedAccountRef (tagged by "type").
type PDASeed interface {
	isPDASeed()
	Variant() string
}

// SeedLiteral is a UTF-8 string seed.
type SeedLiteral struct{ Value string }

// SeedBytes is a raw byte seed.
type SeedBytes struct{ Value []byte }

// SeedArgRef refers to an instruction argument.
type SeedArgRef struct {
	ArgName string
	ArgType *string
}

// SeedAccountRef refers to another account of the instruction.
type SeedAccountRef struct{ AccountName string }

func (*SeedLiteral) isPDASeed()    {}
func (*SeedBytes) isPDASeed()      {}
func (*SeedArgRef) isPDASeed()     {}
func (*SeedAccountRef) isPDASeed() {}

// Variant implements PDASeed.
func (*SeedLiteral) Variant() string { return "literal" }

// Variant implements PDASeed.
func (*SeedBytes) Variant() string { return "bytes" }

// Variant implements PDASeed.
func (*SeedArgRef) Variant() string { return "argRef" }

// Variant implements PDASeed.
func (*SeedAccountRef) Variant() string { return "accountRef" }

// InstructionDef is an SDK instruction builder.
type InstructionDef struct {
	Name              string
	Discriminator     []byte
	DiscriminatorSize int
	Accounts          []*InstructionAccountDef
	Args              []*InstructionArgDef
	Errors            []*IDLError
	ProgramID         *string
	Docs              []string
}

// InstructionAccountDef is an account of an InstructionDef.
type InstructionAccountDef struct {
	Name       string
	IsSigner   bool
	IsWritable bool
	Resolution AccountResolution
	IsOptional bool
	Docs       []string
}

// AccountResolution is *ResolveSigner, *ResolveKnown, *ResolvePDARef, *ResolvePDAInline or
// *ResolveUserProvided (tagged by "category").
type AccountResolution interface {
	isAccountResolution()
	Variant() string
}

// ResolveSigner is the wallet signer.
type ResolveSigner struct{}

// ResolveKnown is a fixed address.
type ResolveKnown struct{ Address string }

// ResolvePDARef names a PDA of the registry.
type ResolvePDARef struct{ PDAName string }

// ResolvePDAInline derives a one-off PDA.
type ResolvePDAInline struct {
	Seeds     []PDASeed
	ProgramID *string
}

// ResolveUserProvided is supplied by the caller.
type ResolveUserProvided struct{}

func (*ResolveSigner) isAccountResolution()       {}
func (*ResolveKnown) isAccountResolution()        {}
func (*ResolvePDARef) isAccountResolution()       {}
func (*ResolvePDAInline) isAccountResolution()    {}
func (*ResolveUserProvided) isAccountResolution() {}

// Variant implements AccountResolution.
func (*ResolveSigner) Variant() string { return "signer" }

// Variant implements AccountResolution.
func (*ResolveKnown) Variant() string { return "known" }

// Variant implements AccountResolution.
func (*ResolvePDARef) Variant() string { return "pdaRef" }

// Variant implements AccountResolution.
func (*ResolvePDAInline) Variant() string { return "pdaInline" }

// Variant implements AccountResolution.
func (*ResolveUserProvided) Variant() string { return "userProvided" }

// InstructionArgDef is an argument of an InstructionDef.
type InstructionArgDef struct {
	Name string
	Type string
	Docs []string
}

// IDLError is an error code of an instruction.
type IDLError struct {
	Code uint32
	Name string
	Msg  *string
}
