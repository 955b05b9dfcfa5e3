package replay

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"
)

// A small JSON reader for the lines replay writes, used where entity state is rebuilt from many
// lines: it merges a patch straight into the state (no intermediate map) and splits a line into its
// fields without reflection. Numbers stay json.Number, as with encoding/json's UseNumber.

type jsonReader struct {
	b []byte
	i int
}

func (r *jsonReader) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: "+format, append([]any{r.i}, args...)...)
}

func (r *jsonReader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

func (r *jsonReader) expect(c byte) error {
	r.ws()
	if r.i >= len(r.b) || r.b[r.i] != c {
		return r.errorf("want %q", c)
	}
	r.i++
	return nil
}

// peek returns the next non-space byte, or 0 at the end.
func (r *jsonReader) peek() byte {
	r.ws()
	if r.i >= len(r.b) {
		return 0
	}
	return r.b[r.i]
}

// str reads a string; escaped strings are decoded with encoding/json.
func (r *jsonReader) str() (string, error) {
	if err := r.expect('"'); err != nil {
		return "", err
	}
	start := r.i
	escaped := false
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '\\':
			escaped = true
			r.i += 2
			continue
		case c == '"':
			r.i++
			if !escaped {
				s := r.b[start : r.i-1]
				if !utf8.Valid(s) {
					return string([]rune(string(s))), nil // invalid bytes become U+FFFD, as encoding/json does
				}
				return string(s), nil
			}
			var s string
			if err := json.Unmarshal(r.b[start-1:r.i], &s); err != nil {
				return "", r.errorf("string: %v", err)
			}
			return s, nil
		case c < 0x20:
			return "", r.errorf("control character in string")
		}
		r.i++
	}
	return "", r.errorf("unterminated string")
}

// skip passes over one value and returns its bytes.
func (r *jsonReader) skip() ([]byte, error) {
	r.ws()
	start := r.i
	switch r.peek() {
	case '{', '[':
		depth := 0
		for r.i < len(r.b) {
			switch r.b[r.i] {
			case '"':
				if _, err := r.str(); err != nil {
					return nil, err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					r.i++
					return r.b[start:r.i], nil
				}
			}
			r.i++
		}
		return nil, r.errorf("unterminated value")
	case '"':
		_, err := r.str()
		return r.b[start:r.i], err
	case 0:
		return nil, r.errorf("missing value")
	default:
		for r.i < len(r.b) {
			switch r.b[r.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return r.b[start:r.i], nil
			}
			r.i++
		}
		return r.b[start:r.i], nil
	}
}

// value reads any value.
func (r *jsonReader) value() (any, error) {
	switch c := r.peek(); c {
	case '{':
		m := map[string]any{}
		err := r.object(func(k string) error {
			v, err := r.value()
			m[k] = v
			return err
		})
		return m, err
	case '[':
		var out []any
		err := r.array(func() error {
			v, err := r.value()
			out = append(out, v)
			return err
		})
		if out == nil && err == nil {
			out = []any{}
		}
		return out, err
	case '"':
		return r.str()
	default:
		tok, err := r.skip()
		if err != nil {
			return nil, err
		}
		switch string(tok) {
		case "null":
			return nil, nil
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		if !isJSONNumber(tok) {
			return nil, r.errorf("invalid literal %q", tok)
		}
		return json.Number(tok), nil
	}
}

// isJSONNumber checks the JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isJSONNumber(b []byte) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// key reads an object key. Without escapes the bytes alias the input (no allocation).
func (r *jsonReader) key() ([]byte, error) {
	if err := r.expect('"'); err != nil {
		return nil, err
	}
	start := r.i
	for r.i < len(r.b) {
		switch c := r.b[r.i]; {
		case c == '"':
			r.i++
			return r.b[start : r.i-1], nil
		case c == '\\' || c < 0x20 || c >= 0x80:
			r.i = start - 1
			s, err := r.str()
			return []byte(s), err
		}
		r.i++
	}
	return nil, r.errorf("unterminated string")
}

func (r *jsonReader) object(field func(k string) error) error {
	return r.objectRaw(func(k []byte) error { return field(string(k)) })
}

// objectRaw calls field for each key; k is only valid during the call.
func (r *jsonReader) objectRaw(field func(k []byte) error) error {
	if err := r.expect('{'); err != nil {
		return err
	}
	if r.peek() == '}' {
		r.i++
		return nil
	}
	for {
		k, err := r.key()
		if err != nil {
			return err
		}
		if err := r.expect(':'); err != nil {
			return err
		}
		if err := field(k); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			return nil
		default:
			return r.errorf("want , or }")
		}
	}
}

func (r *jsonReader) array(elem func() error) error {
	if err := r.expect('['); err != nil {
		return err
	}
	if r.peek() == ']' {
		r.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.i++
		case ']':
			r.i++
			return nil
		default:
			return r.errorf("want , or ]")
		}
	}
}

// mergeObject merges the object at the reader into dst (see MergePatch).
func (r *jsonReader) mergeObject(dst map[string]any, prefix string, app []string, maxArray int) error {
	return r.object(func(k string) error {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		switch r.peek() {
		case '{':
			sub, ok := dst[k].(map[string]any)
			if !ok {
				sub = map[string]any{}
				dst[k] = sub
			}
			return r.mergeObject(sub, path, app, maxArray)
		case '[':
			v, err := r.value()
			if err != nil {
				return err
			}
			if len(app) > 0 && slices.Contains(app, path) {
				old, _ := dst[k].([]any)
				items := v.([]any)
				out := append(append(make([]any, 0, len(old)+len(items)), old...), items...)
				if maxArray > 0 && len(out) > maxArray {
					out = out[len(out)-maxArray:]
				}
				dst[k] = out
				return nil
			}
			dst[k] = v
			return nil
		default:
			v, err := r.value()
			dst[k] = v
			return err
		}
	})
}

// mergeJSON merges a JSON object into dst; trailing data is an error.
func mergeJSON(dst map[string]any, data []byte, app []string, maxArray int) error {
	r := &jsonReader{b: data}
	if r.peek() != '{' {
		return r.errorf("patch is not an object")
	}
	if err := r.mergeObject(dst, "", app, maxArray); err != nil {
		return err
	}
	if r.peek() != 0 {
		return r.errorf("trailing data after the patch")
	}
	return nil
}

// parseLine splits one JSON line (as AppendLine writes it) into its fields. Key and Patch alias b.
func parseLine(b []byte) (Line, error) {
	var l Line
	r := &jsonReader{b: b}
	err := r.object(func(k string) error {
		var err error
		switch k {
		case "slot", "seq":
			var tok []byte
			if tok, err = r.skip(); err != nil {
				return err
			}
			n, perr := strconv.ParseUint(string(tok), 10, 64)
			if perr != nil {
				return r.errorf("%s: %v", k, perr)
			}
			if k == "slot" {
				l.Slot = n
			} else {
				l.Seq = n
			}
		case "entity":
			l.Entity, err = r.str()
		case "handler":
			l.Handler, err = r.str()
		case "key":
			l.Key, err = r.skip()
		case "patch":
			l.Patch, err = r.skip()
		case "append":
			if r.peek() == 'n' {
				_, err = r.skip()
				return err
			}
			err = r.array(func() error {
				s, err := r.str()
				l.Append = append(l.Append, s)
				return err
			})
		default:
			_, err = r.skip()
		}
		return err
	})
	if err == nil && r.peek() != 0 {
		err = r.errorf("trailing data after the line")
	}
	return l, err
}

// reverseMerge rebuilds the result of merging patches oldest first (MergePatch) while reading them
// newest first: a value a newer patch set is final, so older patches are mostly skimmed without
// decoding. Objects stay open for keys no newer patch set; an append-path array stays open for older
// items until a full (non-append) value, a non-array value or the cap ends it.
type reverseMerge struct {
	root     *rnode
	maxArray int
}

// rnode is one object of the state being rebuilt.
type rnode struct {
	m      map[string]any
	sealed map[string]bool   // keys whose value no older patch can change
	kids   map[string]*rnode // open objects
	arrs   map[string]bool   // open append arrays (values in m)
}

func newRnode() *rnode { return &rnode{m: map[string]any{}} }

func (n *rnode) seal(k string) {
	if n.sealed == nil {
		n.sealed = map[string]bool{}
	}
	n.sealed[k] = true
	delete(n.kids, k)
	delete(n.arrs, k)
}

func newReverseMerge(maxArray int) *reverseMerge {
	return &reverseMerge{root: newRnode(), maxArray: maxArray}
}

// State returns the rebuilt state.
func (rm *reverseMerge) State() map[string]any { return rm.root.m }

// older merges a patch older than every patch merged so far.
func (rm *reverseMerge) older(patch []byte, app []string) error {
	r := &jsonReader{b: patch}
	if r.peek() != '{' {
		return r.errorf("patch is not an object")
	}
	if err := r.rmergeObject(rm.root, "", app, rm.maxArray); err != nil {
		return err
	}
	if r.peek() != 0 {
		return r.errorf("trailing data after the patch")
	}
	return nil
}

func (r *jsonReader) rmergeObject(n *rnode, prefix string, app []string, maxArray int) error {
	return r.objectRaw(func(kb []byte) error {
		if n.sealed[string(kb)] {
			_, err := r.skip()
			return err
		}
		path := func() string {
			if prefix == "" {
				return string(kb)
			}
			return prefix + "." + string(kb)
		}
		if kid := n.kids[string(kb)]; kid != nil {
			if r.peek() == '{' {
				return r.rmergeObject(kid, path(), app, maxArray)
			}
			n.seal(string(kb)) // an older non-object value is replaced by the newer object
			_, err := r.skip()
			return err
		}
		isApp := false
		if len(app) > 0 && r.peek() == '[' {
			isApp = slices.Contains(app, path())
		}
		if n.arrs[string(kb)] {
			k := string(kb)
			if r.peek() != '[' {
				n.seal(k)
				_, err := r.skip()
				return err
			}
			v, err := r.value()
			if err != nil {
				return err
			}
			newer := n.m[k].([]any)
			out := append(append(make([]any, 0, len(v.([]any))+len(newer)), v.([]any)...), newer...)
			capped := maxArray > 0 && len(out) >= maxArray
			if capped {
				out = out[len(out)-maxArray:]
			}
			n.m[k] = out
			if capped || !isApp {
				n.seal(k)
			}
			return nil
		}
		k := string(kb)
		switch c := r.peek(); {
		case c == '{':
			kid := newRnode()
			n.m[k] = kid.m
			if n.kids == nil {
				n.kids = map[string]*rnode{}
			}
			n.kids[k] = kid
			return r.rmergeObject(kid, path(), app, maxArray)
		case c == '[' && isApp:
			v, err := r.value()
			if err != nil {
				return err
			}
			items := v.([]any)
			if maxArray > 0 && len(items) > maxArray {
				items = items[len(items)-maxArray:]
			}
			n.m[k] = items
			if maxArray > 0 && len(items) >= maxArray {
				n.seal(k)
			} else {
				if n.arrs == nil {
					n.arrs = map[string]bool{}
				}
				n.arrs[k] = true
			}
			return nil
		}
		v, err := r.value()
		n.m[k] = v
		n.seal(k)
		return err
	})
}
