package extract

import (
	"encoding/base64"
	"strings"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

const (
	logProgram     = "Program "
	logProgramData = "Program data: "
	logTruncated   = "Log truncated"
	logInvoke      = " invoke ["
	// maxProgramCache bounds the cache of program ids parsed from log lines.
	maxProgramCache = 4096
)

func hasProgramData(logs []string) bool {
	for _, l := range logs {
		if strings.HasPrefix(l, logProgramData) {
			return true
		}
	}
	return false
}

// attributeLogs walks the invoke/success structure of the logs and appends every `Program data:`
// payload to the instruction whose program was executing when it was logged.
//
// The n-th `invoke` line belongs to the n-th instruction in execution order. When an invoke line
// names a different program (an instruction that logged no invoke line, such as a precompile), the
// next instruction in execution order with that program and stack height is taken instead; when
// there is none, the invocation stays unattributed and its payloads are dropped.
func (x *Extractor) attributeLogs(ins []event.Instruction, logs []string) {
	frames := x.frames[:0]
	next := 0
	for _, line := range logs {
		if !strings.HasPrefix(line, logProgram) {
			if strings.HasPrefix(line, logTruncated) {
				break
			}
			continue
		}
		if strings.HasPrefix(line, logProgramData) {
			if len(frames) == 0 || frames[len(frames)-1] < 0 {
				x.debug("program data outside an attributed invocation", ins, line)
				continue
			}
			data, ok := decodeProgramData(line[len(logProgramData):])
			if !ok {
				x.debug("program data is not base64", ins, line)
				continue
			}
			in := &ins[frames[len(frames)-1]]
			in.LogEvents = append(in.LogEvents, event.LogEvent{Data: data})
			continue
		}
		rest := line[len(logProgram):]
		sp := strings.IndexByte(rest, ' ')
		if sp < 0 {
			continue
		}
		id, tail := rest[:sp], rest[sp:]
		switch {
		case strings.HasPrefix(tail, logInvoke):
			depth, ok := parseDepth(tail[len(logInvoke):])
			if !ok {
				continue
			}
			// Keep the frame stack consistent with the depth the runtime reports.
			for len(frames) >= depth {
				frames = frames[:len(frames)-1]
			}
			for len(frames) < depth-1 {
				frames = append(frames, -1)
			}
			k := -1
			if pk, ok := x.programID(id); ok {
				k = matchInvoke(ins, next, pk, depth)
			}
			if k >= 0 {
				next = k + 1
			}
			frames = append(frames, int32(k))
		case tail == " success" || strings.HasPrefix(tail, " failed"):
			if len(frames) > 0 {
				frames = frames[:len(frames)-1]
			}
		}
	}
	x.frames = frames
}

// matchInvoke returns the index of the instruction an invoke line of program pk at depth belongs
// to: ins[next] when it matches, else the next matching one, else -1.
func matchInvoke(ins []event.Instruction, next int, pk solana.Pubkey, depth int) int {
	for k := next; k < len(ins); k++ {
		in := &ins[k]
		if in.ProgramID == pk && (in.StackHeight == 0 || int(in.StackHeight) == depth) {
			return k
		}
	}
	return -1
}

// parseDepth parses the "n]" ending an invoke line.
func parseDepth(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			n = n*10 + int(c-'0')
			if n > 1<<16 {
				return 0, false
			}
		case c == ']' && i > 0 && i == len(s)-1:
			return n, n > 0
		default:
			return 0, false
		}
	}
	return 0, false
}

// decodeProgramData decodes the space-separated base64 chunks of a `Program data:` line.
func decodeProgramData(s string) ([]byte, bool) {
	if strings.IndexByte(s, ' ') < 0 {
		b, err := base64.StdEncoding.DecodeString(s)
		return b, err == nil
	}
	var out []byte
	for _, chunk := range strings.Fields(s) {
		b, err := base64.StdEncoding.AppendDecode(out, []byte(chunk))
		if err != nil {
			return nil, false
		}
		out = b
	}
	return out, true
}

// programID parses a base58 program id from a log line, through a bounded cache.
func (x *Extractor) programID(s string) (solana.Pubkey, bool) {
	if pk, ok := x.programs[s]; ok {
		return pk, true
	}
	pk, err := solana.ParsePubkey(s)
	if err != nil {
		return solana.Pubkey{}, false
	}
	if x.programs == nil || len(x.programs) >= maxProgramCache {
		x.programs = make(map[string]solana.Pubkey, 64)
	}
	x.programs[strings.Clone(s)] = pk
	return pk, true
}

func (x *Extractor) debug(msg string, ins []event.Instruction, line string) {
	if x.logger == nil || len(ins) == 0 {
		return
	}
	x.logger.Debug(msg, "signature", ins[0].Signature, "line", line)
}
