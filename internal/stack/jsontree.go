package stack

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// nodeKind is the JSON type of a parsed node.
type nodeKind uint8

const (
	nodeNull nodeKind = iota
	nodeBool
	nodeNumber
	nodeString
	nodeArray
	nodeObject
)

func (k nodeKind) String() string {
	switch k {
	case nodeNull:
		return "null"
	case nodeBool:
		return "boolean"
	case nodeNumber:
		return "number"
	case nodeString:
		return "string"
	case nodeArray:
		return "array"
	default:
		return "object"
	}
}

// node is one parsed JSON value. Objects keep their keys in file order (duplicates included, so the
// decoder can refuse them with a path).
type node struct {
	kind nodeKind
	b    bool
	s    string // string value, or number text
	arr  []*node
	keys []string
	vals []*node
}

// maxDepth bounds the nesting of parsed documents (encoding/json uses the same limit).
const maxDepth = 10000

// parseTree parses exactly one JSON value (surrounding whitespace allowed). Errors are *SyntaxError
// located at the offending byte.
func parseTree(data []byte) (*node, error) {
	p := &treeParser{data: data}
	p.skipSpace()
	n, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(p.data) {
		return nil, p.errAt(p.pos, "invalid character "+quoteChar(p.data[p.pos])+" after top-level value")
	}
	return n, nil
}

type treeParser struct {
	data []byte
	pos  int
}

func (p *treeParser) errAt(pos int, msg string) *SyntaxError {
	return syntaxErrorAt(p.data, int64(pos), msg)
}

func (p *treeParser) eof() *SyntaxError { return p.errAt(len(p.data), "unexpected end of JSON input") }

func (p *treeParser) unexpected(context string) *SyntaxError {
	if p.pos >= len(p.data) {
		return p.eof()
	}
	return p.errAt(p.pos, "invalid character "+quoteChar(p.data[p.pos])+" "+context)
}

func (p *treeParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *treeParser) literal(word string, n *node) (*node, error) {
	for i := 0; i < len(word); i++ {
		if p.pos >= len(p.data) {
			return nil, p.eof()
		}
		if p.data[p.pos] != word[i] {
			return nil, p.unexpected("in literal " + word + " (expecting " + quoteChar(word[i]) + ")")
		}
		p.pos++
	}
	return n, nil
}

func (p *treeParser) value(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, p.errAt(p.pos, "exceeded max depth")
	}
	if p.pos >= len(p.data) {
		return nil, p.eof()
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &node{kind: nodeString, s: s}, nil
	case c == 't':
		return p.literal("true", &node{kind: nodeBool, b: true})
	case c == 'f':
		return p.literal("false", &node{kind: nodeBool})
	case c == 'n':
		return p.literal("null", &node{kind: nodeNull})
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	default:
		return nil, p.unexpected("looking for beginning of value")
	}
}

func (p *treeParser) object(depth int) (*node, error) {
	p.pos++ // '{'
	n := &node{kind: nodeObject}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return n, nil
	}
	for {
		if p.pos >= len(p.data) {
			return nil, p.eof()
		}
		if p.data[p.pos] != '"' {
			return nil, p.unexpected("looking for beginning of object key string")
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.eof()
		}
		if p.data[p.pos] != ':' {
			return nil, p.unexpected("after object key")
		}
		p.pos++
		p.skipSpace()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.keys = append(n.keys, k)
		n.vals = append(n.vals, v)
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.eof()
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			p.skipSpace()
		case '}':
			p.pos++
			return n, nil
		default:
			return nil, p.unexpected("after object key:value pair")
		}
	}
}

func (p *treeParser) array(depth int) (*node, error) {
	p.pos++ // '['
	n := &node{kind: nodeArray}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return n, nil
	}
	for {
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.arr = append(n.arr, v)
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.eof()
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			p.skipSpace()
		case ']':
			p.pos++
			return n, nil
		default:
			return nil, p.unexpected("after array element")
		}
	}
}

// number scans a JSON number and keeps its text.
func (p *treeParser) number() (*node, error) {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.data[p.pos] == '-' {
		p.pos++
	}
	if p.pos >= len(p.data) {
		return nil, p.eof()
	}
	switch c := p.data[p.pos]; {
	case c == '0':
		p.pos++
	case c >= '1' && c <= '9':
		digits()
	default:
		return nil, p.unexpected("in numeric literal")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			if p.pos >= len(p.data) {
				return nil, p.eof()
			}
			return nil, p.unexpected("after decimal point in numeric literal")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			if p.pos >= len(p.data) {
				return nil, p.eof()
			}
			return nil, p.unexpected("in exponent of numeric literal")
		}
	}
	return &node{kind: nodeNumber, s: string(p.data[start:p.pos])}, nil
}

// str scans a JSON string starting at its opening quote and returns the unescaped text. Invalid UTF-8
// and lone surrogate escapes are refused.
func (p *treeParser) str() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	// Fast path: no escapes.
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '"' {
			s := p.data[start:p.pos]
			if !utf8.Valid(s) {
				return "", p.errAt(start, "invalid UTF-8 in string")
			}
			p.pos++
			return string(s), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.pos++
	}
	buf := append([]byte(nil), p.data[start:p.pos]...)
	for {
		if p.pos >= len(p.data) {
			return "", p.eof()
		}
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			if !utf8.Valid(buf) {
				return "", p.errAt(start, "invalid UTF-8 in string")
			}
			return string(buf), nil
		case c < 0x20:
			return "", p.unexpected("in string literal")
		case c != '\\':
			buf = append(buf, c)
			p.pos++
			continue
		}
		p.pos++ // backslash
		if p.pos >= len(p.data) {
			return "", p.eof()
		}
		e := p.data[p.pos]
		p.pos++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, err := p.hex4()
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(r) {
				lowAt := p.pos
				if p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
					p.pos += 2
					r2, err := p.hex4()
					if err != nil {
						return "", err
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						buf = utf8.AppendRune(buf, dec)
						continue
					}
				}
				return "", p.errAt(lowAt-6, "lone surrogate in \\u escape")
			}
			buf = utf8.AppendRune(buf, r)
		default:
			p.pos--
			return "", p.unexpected("in string escape code")
		}
	}
}

func (p *treeParser) hex4() (rune, error) {
	var r rune
	for i := 0; i < 4; i++ {
		if p.pos >= len(p.data) {
			return 0, p.eof()
		}
		c := p.data[p.pos]
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, p.unexpected("in \\u hexadecimal character escape")
		}
		r = r<<4 | rune(v)
		p.pos++
	}
	return r, nil
}

// syntaxErrorAt builds a *SyntaxError for byte offset off (clamped to the input).
func syntaxErrorAt(data []byte, off int64, msg string) *SyntaxError {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	line, col := 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return &SyntaxError{Line: line, Column: col, Offset: off, Msg: msg}
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	return fmt.Sprintf("%q", string(rune(c)))
}
