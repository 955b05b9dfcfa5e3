package main

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Group is one command's raw output with its command line and run facts (exit, seconds, load).
type Group struct {
	Name    string
	Cmd     string
	Meta    map[string]string
	Out     *Output
	Text    string
	Missing bool
}

// Report renders the parsed outputs of one run.
type Report struct {
	Meta     map[string]string
	Groups   map[string]*Group
	Sections []Section
}

func (r *Report) section(id string) (Section, error) {
	for _, s := range r.Sections {
		if s.ID == id {
			return s, nil
		}
	}
	return Section{}, fmt.Errorf("no section %q", id)
}

var compileErr = regexp.MustCompile(`^\S+\.go:\d+:\d+: .*`)

// failure describes why a group that exited non-zero failed, from its output.
func (g *Group) failure() string {
	if g.Meta["exit"] == "0" || g.Meta["exit"] == "" {
		return ""
	}
	for _, line := range strings.Split(g.Text, "\n") {
		if compileErr.MatchString(line) || strings.HasPrefix(line, "panic: ") {
			return strings.TrimSpace(line)
		}
	}
	for _, name := range g.Out.Names {
		if f := g.Out.Results[name].Fail; f != "" {
			return name + ": " + f
		}
	}
	return "exit status " + g.Meta["exit"]
}

// lookup returns a metric's values over the runs, or why there are none.
func (r *Report) lookup(ref Ref) ([]float64, string) {
	g, ok := r.Groups[ref.Group]
	if !ok || g.Missing {
		return nil, "not run"
	}
	res, ok := g.Out.Results[ref.Bench]
	if !ok {
		res, ok = g.Out.withPrefix(ref.Bench + "-")
	}
	if ok && len(res.Metrics[ref.Metric]) > 0 {
		return res.Metrics[ref.Metric], ""
	}
	switch {
	case ok && res.Skip != "":
		return nil, "skipped: " + res.Skip
	case ok && res.Fail != "":
		return nil, "failed: " + res.Fail
	case g.failure() != "":
		return nil, "failed: " + g.failure()
	case ok:
		return nil, "no " + ref.Metric + " metric"
	}
	// A parent benchmark skipped as a whole skips its sub-benchmarks.
	if i := strings.IndexByte(ref.Bench, '/'); i > 0 {
		if p, ok := g.Out.Results[ref.Bench[:i]]; ok && p.Skip != "" {
			return nil, "skipped: " + p.Skip
		}
	}
	return nil, "no result"
}

// withPrefix returns the only result whose name starts with prefix (a sub-benchmark whose name
// carries a detail of the run, e.g. "busiest-OreTreasury" for "busiest").
func (o *Output) withPrefix(prefix string) (*Result, bool) {
	var found *Result
	for _, name := range o.Names {
		if strings.HasPrefix(name, prefix) {
			if found != nil {
				return nil, false
			}
			found = o.Results[name]
		}
	}
	return found, found != nil
}

// rowValues returns the row's values (scaled), its CPU-time values and why there are none.
func (r *Report) rowValues(row Row) (vals, cpu []float64, why string) {
	vals, why = r.lookup(row.Val)
	if why != "" {
		return nil, nil, why
	}
	if row.Den != nil {
		den, why := r.lookup(*row.Den)
		if why != "" {
			return nil, nil, "baseline " + why
		}
		vals = ratios(vals, den)
	} else if row.Scale != 0 {
		vals = scaled(vals, row.Scale)
	}
	if row.CPU != nil {
		cpu, _ = r.lookup(*row.CPU)
	}
	return vals, cpu, ""
}

// ratios divides run by run when both sides have as many runs, else the medians.
func ratios(num, den []float64) []float64 {
	if len(num) == len(den) {
		out := make([]float64, len(num))
		for i := range num {
			out[i] = num[i] / den[i]
		}
		return out
	}
	return []float64{median(num) / median(den)}
}

func scaled(v []float64, f float64) []float64 {
	out := make([]float64, len(v))
	for i := range v {
		out[i] = v[i] * f
	}
	return out
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Verdict is a row's result against its target: "" without a target.
func (r *Report) Verdict(row Row) string {
	if row.Target == nil {
		return ""
	}
	vals, cpu, why := r.rowValues(row)
	switch {
	case why != "":
		return "not measured"
	case row.Target.Met(median(vals)):
		return "met"
	case row.CPUCounts && len(cpu) > 0 && row.Target.Met(median(cpu)):
		return "met on CPU time only"
	}
	return "**not met**"
}

// num formats a measurement with three significant digits and thousands separators.
func num(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "–"
	case a >= 1000:
		p := math.Pow(10, math.Floor(math.Log10(a))-2)
		return commas(int64(math.Round(v/p) * p))
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case a == 0:
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// ratio reports whether the row's values are ratios (computed, or measured as one).
func (row Row) ratio() bool { return row.Den != nil || row.Unit == "×" }

func (row Row) format(v float64) string {
	if row.ratio() {
		s := strconv.FormatFloat(v, 'f', 2, 64) + "×"
		if row.Cost && v > 0 {
			s += fmt.Sprintf(" (%s× the cost)", strconv.FormatFloat(1/v, 'f', 1, 64))
		}
		return s
	}
	if row.Unit == "" {
		return num(v)
	}
	return num(v) + " " + row.Unit
}

func (row Row) target() string {
	if row.Target == nil {
		return ""
	}
	op := "≥"
	if row.Target.Op == "<=" {
		op = "≤"
	}
	if row.ratio() {
		return op + " " + strconv.FormatFloat(row.Target.Value, 'f', -1, 64) + "×"
	}
	return op + " " + num(row.Target.Value) + " " + row.Unit
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func spread(v []float64, f func(float64) string) string {
	if len(v) < 2 {
		return ""
	}
	return f(slices.Min(v)) + " – " + f(slices.Max(v))
}

// Table renders a section's rows: median, spread, runs, the CPU-time figure, target and result.
func (r *Report) Table(id string) (string, error) {
	s, err := r.section(id)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("| measurement | median | min – max | runs | per CPU-second | target | result |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, row := range s.Rows {
		vals, cpu, why := r.rowValues(row)
		if why != "" {
			fmt.Fprintf(&b, "| %s | %s | | | | %s | %s |\n", cell(row.Label), cell(why), row.target(), r.Verdict(row))
			continue
		}
		short := func(v float64) string {
			if row.ratio() {
				return strconv.FormatFloat(v, 'f', 2, 64)
			}
			return num(v)
		}
		c := ""
		if len(cpu) > 0 {
			c = num(median(cpu)) + " " + row.Unit
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %s | %s |\n", cell(row.Label), cell(row.format(median(vals))),
			spread(vals, short), len(vals), c, row.target(), r.Verdict(row))
	}
	return b.String(), nil
}

// Summary renders every row with a target, section by section.
func (r *Report) Summary() string {
	var b strings.Builder
	b.WriteString("| area | measurement | median | target | result |\n|---|---|---|---|---|\n")
	for _, s := range r.Sections {
		for _, row := range s.Rows {
			if row.Target == nil {
				continue
			}
			vals, cpu, why := r.rowValues(row)
			m := why
			if why == "" {
				m = row.format(median(vals))
				if v := r.Verdict(row); v == "met on CPU time only" {
					m += fmt.Sprintf(" (%s per CPU-second)", num(median(cpu)))
				}
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", s.Title, cell(row.Label), cell(m), row.target(), r.Verdict(row))
		}
	}
	return b.String()
}

// Commands renders the commands of a section's groups, each with its duration and the 1-minute load
// average when it started and ended.
func (r *Report) Commands(id string) (string, error) {
	s, err := r.section(id)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("```\n")
	for _, name := range s.Groups {
		g, ok := r.Groups[name]
		if !ok || g.Missing {
			fmt.Fprintf(&b, "# %s: not run\n", name)
			continue
		}
		fmt.Fprintf(&b, "# %s: %s s, load %s → %s", name, g.Meta["seconds"], g.Meta["load_start"], g.Meta["load_end"])
		if f := g.failure(); f != "" {
			fmt.Fprintf(&b, ", FAILED: %s", f)
		}
		fmt.Fprintf(&b, "\n%s\n", strings.TrimSpace(g.Cmd))
	}
	b.WriteString("```\n")
	return b.String(), nil
}

// All renders every result of a section's groups (medians of every metric) in a collapsed block.
func (r *Report) All(id string) (string, error) {
	s, err := r.section(id)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("<details><summary>Every result of these commands (medians)</summary>\n\n")
	b.WriteString("| group | benchmark | runs | metrics |\n|---|---|---|---|\n")
	for _, name := range s.Groups {
		g, ok := r.Groups[name]
		if !ok || g.Missing {
			continue
		}
		for _, bn := range g.Out.Names {
			res := g.Out.Results[bn]
			var ms []string
			for _, m := range res.Order {
				ms = append(ms, num(median(res.Metrics[m]))+" "+m)
			}
			switch {
			case len(ms) > 0:
			case res.Skip != "":
				ms = []string{"skipped: " + res.Skip}
			case res.Fail != "":
				ms = []string{"failed: " + res.Fail}
			default:
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %s |\n", name, cell(bn), res.Runs(), cell(strings.Join(ms, ", ")))
		}
	}
	b.WriteString("\n</details>\n")
	return b.String(), nil
}

// Machine renders the run's facts: when, where, with what, and how busy the machine was.
func (r *Report) Machine() string {
	m := r.Meta
	mode := "full"
	if m["quick"] == "1" {
		mode = "quick smoke run (BENCH_QUICK=1): short runs, numbers not representative"
	}
	commit := m["commit"]
	if m["dirty"] == "1" {
		commit += " with uncommitted changes to " + m["changed"]
	}
	rows := [][2]string{
		{"date (UTC)", m["date"] + " → " + m["end_date"]},
		{"command", "`" + m["command"] + "`"},
		{"mode", mode},
		{"commit", commit},
		{"Go", m["go"]},
		{"OS / kernel", m["kernel"]},
		{"CPU", m["cpu"]},
		{"cores (nproc)", m["nproc"]},
		{"memory", m["mem"]},
		{"load average (1, 5, 15 min) at start", m["load_start"]},
		{"load average (1, 5, 15 min) at end", m["load_end"]},
		{"total time", m["seconds"] + " s"},
		{"../shared fixtures", m["shared"]},
	}
	var b strings.Builder
	b.WriteString("| | |\n|---|---|\n")
	for _, kv := range rows {
		fmt.Fprintf(&b, "| %s | %s |\n", kv[0], cell(kv[1]))
	}
	return b.String()
}

// Skipped lists the groups that did not run, failed or skipped benchmarks, with the reason.
func (r *Report) Skipped() string {
	var lines []string
	for _, s := range r.Sections {
		for _, name := range s.Groups {
			g, ok := r.Groups[name]
			switch {
			case !ok || g.Missing:
				lines = append(lines, fmt.Sprintf("- `%s`: not run", name))
			case g.failure() != "":
				lines = append(lines, fmt.Sprintf("- `%s`: failed: %s", name, g.failure()))
			default:
				for _, bn := range g.Out.Names {
					if res := g.Out.Results[bn]; res.Skip != "" {
						lines = append(lines, fmt.Sprintf("- `%s` %s: skipped: %s", name, bn, res.Skip))
					}
				}
			}
		}
	}
	if len(lines) == 0 {
		return "Every group ran; no benchmark was skipped.\n"
	}
	return strings.Join(lines, "\n") + "\n"
}
