package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Load reads and parses a stack file (see Parse).
func Load(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load stack %s: %w", path, err)
	}
	return Parse(data)
}

// Parse decodes a stack spec, validates it strictly and verifies its content hashes. Every error is a
// *SpecError naming the JSON path of the problem.
func Parse(data []byte) (*Spec, error) {
	s, err := Decode(data)
	if err != nil {
		return nil, err
	}
	if err := s.VerifyHashes(); err != nil {
		return nil, err
	}
	return s, nil
}

// Decode is Parse without the content-hash check: it decodes and validates the structure and computes
// the hashes, but accepts stored hashes that differ (VerifyHashes reports them). Tools that rewrite
// hashes use it.
func Decode(data []byte) (*Spec, error) {
	root, err := parseTree(data)
	if err != nil {
		return nil, &SpecError{Err: err}
	}
	s, err := decodeSpec(root)
	if err != nil {
		return nil, err
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	s.index()
	if err := s.computeHashes(); err != nil {
		return nil, err
	}
	return s, nil
}

// HandlerRef locates one handler of the stack.
type HandlerRef struct {
	// EntityIndex is the entity's position (its state id); HandlerIndex the handler's position in it.
	EntityIndex  int
	HandlerIndex int
	Entity       *Entity
	Handler      *Handler
}

// Path returns the JSON path of the handler, e.g. "entities[0].handlers[3]".
func (r HandlerRef) Path() string {
	return fmt.Sprintf("entities[%d].handlers[%d]", r.EntityIndex, r.HandlerIndex)
}

// index builds the lookup tables of the accessors.
func (s *Spec) index() {
	s.entityByName = make(map[string]int, len(s.Entities))
	s.routing = map[string][]HandlerRef{}
	for i, e := range s.Entities {
		s.entityByName[e.StateName] = i
		for j, h := range e.Handlers {
			t := h.EventType()
			s.routing[t] = append(s.routing[t], HandlerRef{EntityIndex: i, HandlerIndex: j, Entity: e, Handler: h})
		}
	}
}

// Entity returns the entity named name and its index (state id).
func (s *Spec) Entity(name string) (*Entity, int, bool) {
	i, ok := s.entityByName[name]
	if !ok {
		return nil, -1, false
	}
	return s.Entities[i], i, true
}

// EntityNames returns the entity names in declaration order.
func (s *Spec) EntityNames() []string {
	out := make([]string, len(s.Entities))
	for i, e := range s.Entities {
		out[i] = e.StateName
	}
	return out
}

// HandlersFor returns the handlers of eventType across all entities, in entity then handler order (the
// reference routing order). The slice must not be modified.
func (s *Spec) HandlersFor(eventType string) []HandlerRef { return s.routing[eventType] }

// EventTypes returns every event type some handler listens to, sorted.
func (s *Spec) EventTypes() []string { return sortedKeys(s.routing) }

// WhenEvents returns the instruction types named by a mapping's when, sorted and de-duplicated.
func (s *Spec) WhenEvents() []string {
	set := map[string]bool{}
	for _, e := range s.Entities {
		for _, h := range e.Handlers {
			for _, m := range h.Mappings {
				if m.When != nil {
					set[*m.When] = true
				}
			}
		}
	}
	return sortedKeys(set)
}

// IDLs returns the embedded IDL snapshots (compact JSON), in program order.
func (s *Spec) IDLs() []json.RawMessage { return s.IDLSnapshots }

// IDLRef is an embedded IDL with its program.
type IDLRef struct {
	// Name is the snapshot's name (the program name of event types, e.g. "ore").
	Name string
	// ProgramID is the base58 program id (program_ids[i], else the snapshot's program_id).
	ProgramID string
	Raw       json.RawMessage
}

// IDLRefs returns the embedded IDLs with their names and program ids, in program order.
func (s *Spec) IDLRefs() []IDLRef {
	out := make([]IDLRef, len(s.IDLSnapshots))
	for i, raw := range s.IDLSnapshots {
		var head struct {
			Name      string  `json:"name"`
			ProgramID *string `json:"program_id"`
		}
		_ = json.Unmarshal(raw, &head) // validated at load: an object with a string name
		out[i] = IDLRef{Name: head.Name, Raw: raw}
		if i < len(s.ProgramIDs) {
			out[i].ProgramID = s.ProgramIDs[i]
		} else if head.ProgramID != nil {
			out[i].ProgramID = *head.ProgramID
		}
	}
	return out
}

// ViewRef is a derived view with its entity.
type ViewRef struct {
	EntityIndex int
	Entity      *Entity
	View        *ViewDef
}

// Views returns every derived view of the stack, in entity then declaration order.
func (s *Spec) Views() []ViewRef {
	var out []ViewRef
	for i, e := range s.Entities {
		for _, v := range e.Views {
			out = append(out, ViewRef{EntityIndex: i, Entity: e, View: v})
		}
	}
	return out
}

// ContentHash returns the stack's content hash: the stored one, verified, or the computed one when the
// file has none.
func (s *Spec) ContentHash() string { return s.computedHash }

// ContentHash returns the entity's content hash (stored and verified, or computed).
func (e *Entity) ContentHash() string { return e.computedHash }

// PrimaryKey returns the first primary key path ("" when there is none).
func (e *Entity) PrimaryKey() string {
	if len(e.Identity.PrimaryKeys) == 0 {
		return ""
	}
	return e.Identity.PrimaryKeys[0]
}

// HandlersFor returns the entity's handlers for eventType, in declaration order.
func (e *Entity) HandlersFor(eventType string) []*Handler {
	var out []*Handler
	for _, h := range e.Handlers {
		if h.EventType() == eventType {
			out = append(out, h)
		}
	}
	return out
}

// LookupIndexName returns the runtime name of a lookup index: <last segment>_lookup_index.
func LookupIndexName(fieldName string) string {
	return lastSegment(fieldName) + "_lookup_index"
}

// TemporalIndexName returns the runtime name of a temporal index: <last segment>_temporal_index.
func TemporalIndexName(fieldName string) string {
	return lastSegment(fieldName) + "_temporal_index"
}

// Section returns the section of a dotted target path: "state" for "state.total_miners", "root" for a
// path without a dot.
func Section(targetPath string) string {
	if i := strings.IndexByte(targetPath, '.'); i >= 0 {
		return targetPath[:i]
	}
	return "root"
}

func lastSegment(p string) string {
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[i+1:]
	}
	return p
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
