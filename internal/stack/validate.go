package stack

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// validate checks what the structure alone cannot: names, references and formats.
func (s *Spec) validate() (err error) {
	defer catch(&err)
	if s.StackName == "" {
		fail("stack_name", fmt.Errorf("%w: empty stack name", ErrInvalidValue))
	}
	for i, id := range s.ProgramIDs {
		checkPubkey(id, indexPath("program_ids", i))
	}
	if len(s.ProgramIDs) != len(s.IDLSnapshots) {
		fail("program_ids", fmt.Errorf("%w: %d program ids for %d IDL snapshots", ErrInvalidValue,
			len(s.ProgramIDs), len(s.IDLSnapshots)))
	}
	for i, raw := range s.IDLSnapshots {
		checkIDLHead(raw, indexPath("idls", i), s.ProgramIDs[i])
	}
	checkHash(s.StoredHash, "content_hash")

	entities := map[string]int{}
	views := map[string]string{}
	for i, e := range s.Entities {
		ep := indexPath("entities", i)
		if e.StateName == "" {
			fail(fieldPath(ep, "state_name"), fmt.Errorf("%w: empty entity name", ErrInvalidValue))
		}
		if j, dup := entities[e.StateName]; dup {
			fail(fieldPath(ep, "state_name"), fmt.Errorf("%w: entity %q is already defined at entities[%d]",
				ErrDuplicateName, e.StateName, j))
		}
		entities[e.StateName] = i
		if e.ProgramID != nil {
			checkPubkey(*e.ProgramID, fieldPath(ep, "program_id"))
		}
		if e.IDL != nil {
			checkIDLHead(e.IDL, fieldPath(ep, "idl"), "")
		}
		if len(e.Identity.PrimaryKeys) == 0 {
			fail(fieldPath(ep, "identity.primary_keys"), fmt.Errorf("%w: an entity needs a primary key", ErrInvalidValue))
		}
		for j, k := range e.Identity.PrimaryKeys {
			checkTargetPath(k, indexPath(fieldPath(ep, "identity.primary_keys"), j))
		}
		for j, li := range e.Identity.LookupIndexes {
			checkTargetPath(li.FieldName, fieldPath(indexPath(fieldPath(ep, "identity.lookup_indexes"), j), "field_name"))
		}
		for j, h := range e.Handlers {
			hp := indexPath(fieldPath(ep, "handlers"), j)
			if h.Source.TypeName == "" {
				fail(hp+".source.Source.type_name", fmt.Errorf("%w: empty event type", ErrInvalidValue))
			}
			for k, m := range h.Mappings {
				mp := indexPath(fieldPath(hp, "mappings"), k)
				checkTargetPath(m.TargetPath, fieldPath(mp, "target_path"))
				checkEventType(m.When, fieldPath(mp, "when"))
				checkEventType(m.Stop, fieldPath(mp, "stop"))
			}
		}
		for j, h := range e.InstructionHooks {
			if h.InstructionType == "" {
				fail(fieldPath(indexPath(fieldPath(ep, "instruction_hooks"), j), "instruction_type"),
					fmt.Errorf("%w: empty event type", ErrInvalidValue))
			}
		}
		for j, r := range e.ResolverSpecs {
			rp := indexPath(fieldPath(ep, "resolver_specs"), j)
			for k, x := range r.Extracts {
				checkTargetPath(x.TargetPath, fieldPath(indexPath(fieldPath(rp, "extracts"), k), "target_path"))
			}
		}
		listed := map[string]bool{}
		for _, c := range e.ComputedFields {
			listed[c] = true
		}
		for j, c := range e.ComputedFieldSpecs {
			cp := fieldPath(indexPath(fieldPath(ep, "computed_field_specs"), j), "target_path")
			checkTargetPath(c.TargetPath, cp)
			if !listed[c.TargetPath] {
				fail(cp, fmt.Errorf("%w: %q is not listed in computed_fields", ErrUnknownReference, c.TargetPath))
			}
		}
		checkHash(e.StoredHash, fieldPath(ep, "content_hash"))
		for j, v := range e.Views {
			vp := indexPath(fieldPath(ep, "views"), j)
			if v.ID == "" {
				fail(fieldPath(vp, "id"), fmt.Errorf("%w: empty view id", ErrInvalidValue))
			}
			if prev, dup := views[v.ID]; dup {
				fail(fieldPath(vp, "id"), fmt.Errorf("%w: view %q is already defined at %s", ErrDuplicateName, v.ID, prev))
			}
			views[v.ID] = vp
		}
	}
	// View sources may name entities or views declared anywhere in the stack.
	for i, e := range s.Entities {
		for j, v := range e.Views {
			vp := indexPath(fieldPath(indexPath("entities", i), "views"), j)
			switch src := v.Source.(type) {
			case *ViewFromEntity:
				if _, ok := entities[src.Name]; !ok {
					fail(vp+".source.Entity.name", fmt.Errorf("%w: no entity %q", ErrUnknownReference, src.Name))
				}
			case *ViewFromView:
				if _, ok := views[src.ID]; !ok || src.ID == v.ID {
					fail(vp+".source.View.id", fmt.Errorf("%w: no other view %q", ErrUnknownReference, src.ID))
				}
			}
		}
	}
	return nil
}

func checkPubkey(s, path string) {
	if _, err := solana.ParsePubkey(s); err != nil {
		fail(path, fmt.Errorf("%w: %q is not a base58 public key", ErrInvalidValue, s))
	}
}

// checkIDLHead checks the part of an IDL snapshot this package relies on: a string name and, when
// present, a program_id equal to the stack's program id for it.
func checkIDLHead(raw json.RawMessage, path, programID string) {
	var head map[string]json.RawMessage
	if err := json.Unmarshal(raw, &head); err != nil {
		fail(path, fmt.Errorf("%w: IDL snapshot is not an object", ErrInvalidType))
	}
	var name string
	if err := json.Unmarshal(head["name"], &name); err != nil || name == "" {
		fail(path, fmt.Errorf("%w: IDL snapshot has no name", ErrInvalidValue))
	}
	if pid, ok := head["program_id"]; ok && programID != "" {
		var p *string
		if err := json.Unmarshal(pid, &p); err != nil {
			fail(path+".program_id", fmt.Errorf("%w: expected string", ErrInvalidType))
		}
		if p != nil && *p != programID {
			fail(path+".program_id", fmt.Errorf("%w: %q differs from program id %q", ErrInvalidValue, *p, programID))
		}
	}
}

func checkHash(h *string, path string) {
	if h == nil {
		return
	}
	if len(*h) != 64 || strings.Trim(*h, "0123456789abcdef") != "" {
		fail(path, fmt.Errorf("%w: %q is not a lower-case hex SHA-256", ErrInvalidValue, *h))
	}
}

func checkTargetPath(p, path string) {
	if p == "" || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") || strings.Contains(p, "..") {
		fail(path, fmt.Errorf("%w: %q is not a dotted field path", ErrInvalidValue, p))
	}
}

func checkEventType(t *string, path string) {
	if t != nil && !strings.Contains(*t, "::") {
		fail(path, fmt.Errorf("%w: %q is not an event type (program::Type)", ErrInvalidValue, *t))
	}
}
