package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/hyperstack-go/hyperstack/internal/event"
)

// Line is one mutation as replay writes it: the JSON-lines record of the output and of goldens.
type Line struct {
	Slot    uint64          `json:"slot"`
	Seq     uint64          `json:"seq"`
	Entity  string          `json:"entity"`
	Key     json.RawMessage `json:"key"`
	Patch   json.RawMessage `json:"patch"`
	Append  []string        `json:"append"`
	Handler string          `json:"handler,omitempty"`
}

// AppendLine appends the canonical JSON line of m (with its newline) to buf. Field order is fixed and
// Key and Patch are the VM's canonical JSON, so equal mutations give equal bytes.
func AppendLine(buf []byte, m *event.Mutation) []byte {
	buf = append(buf, `{"slot":`...)
	buf = strconv.AppendUint(buf, m.Slot, 10)
	buf = append(buf, `,"seq":`...)
	buf = strconv.AppendUint(buf, m.Seq, 10)
	buf = append(buf, `,"entity":`...)
	buf = strconv.AppendQuote(buf, m.Export)
	buf = append(buf, `,"key":`...)
	buf = appendRaw(buf, m.Key)
	buf = append(buf, `,"patch":`...)
	buf = appendRaw(buf, m.Patch)
	buf = append(buf, `,"append":[`...)
	for i, p := range m.Append {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendQuote(buf, p)
	}
	buf = append(buf, ']')
	if m.Handler != "" {
		buf = append(buf, `,"handler":`...)
		buf = strconv.AppendQuote(buf, m.Handler)
	}
	return append(buf, "}\n"...)
}

func appendRaw(buf, raw []byte) []byte {
	if len(raw) == 0 {
		return append(buf, "null"...)
	}
	return append(buf, raw...)
}

// ParseLines splits JSON lines into Lines.
func ParseLines(b []byte) ([]Line, error) {
	var out []Line
	for i, ln := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		if len(ln) == 0 {
			continue
		}
		var l Line
		if err := json.Unmarshal(ln, &l); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		out = append(out, l)
	}
	return out, nil
}
