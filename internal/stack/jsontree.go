package stack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// parseTree parses exactly one JSON value (surrounding whitespace allowed). Errors are *SyntaxError.
func parseTree(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	p := &treeParser{dec: dec, data: data}
	n, err := p.value()
	if err != nil {
		return nil, err
	}
	// Anything but whitespace after the value is an error.
	off := p.dec.InputOffset()
	for i := off; i < int64(len(data)); i++ {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return nil, syntaxErrorAt(data, i, "invalid character "+quoteChar(data[i])+" after top-level value")
	}
	return n, nil
}

type treeParser struct {
	dec  *json.Decoder
	data []byte
}

func (p *treeParser) token() (json.Token, error) {
	tok, err := p.dec.Token()
	if err == nil {
		return tok, nil
	}
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		at := se.Offset - 1
		if at < 0 {
			at = 0
		}
		return nil, syntaxErrorAt(p.data, at, se.Error())
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return nil, syntaxErrorAt(p.data, int64(len(p.data)), "unexpected end of JSON input")
	default:
		return nil, syntaxErrorAt(p.data, p.dec.InputOffset(), err.Error())
	}
}

func (p *treeParser) value() (*node, error) {
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	return p.fromToken(tok)
}

func (p *treeParser) fromToken(tok json.Token) (*node, error) {
	switch t := tok.(type) {
	case nil:
		return &node{kind: nodeNull}, nil
	case bool:
		return &node{kind: nodeBool, b: t}, nil
	case json.Number:
		return &node{kind: nodeNumber, s: string(t)}, nil
	case string:
		return &node{kind: nodeString, s: t}, nil
	case json.Delim:
		switch t {
		case '[':
			n := &node{kind: nodeArray}
			for p.dec.More() {
				v, err := p.value()
				if err != nil {
					return nil, err
				}
				n.arr = append(n.arr, v)
			}
			if _, err := p.token(); err != nil { // ']'
				return nil, err
			}
			return n, nil
		case '{':
			n := &node{kind: nodeObject}
			for p.dec.More() {
				kt, err := p.token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, syntaxErrorAt(p.data, p.dec.InputOffset(), "object key is not a string")
				}
				v, err := p.value()
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k)
				n.vals = append(n.vals, v)
			}
			if _, err := p.token(); err != nil { // '}'
				return nil, err
			}
			return n, nil
		}
	}
	return nil, syntaxErrorAt(p.data, p.dec.InputOffset(), fmt.Sprintf("unexpected token %v", tok))
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
