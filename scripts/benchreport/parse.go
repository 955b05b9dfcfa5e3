package main

import (
	"bufio"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Result holds what one group's output says about one benchmark (or one benchtool/soak
// measurement): every run's value of every metric, in run order, and why it did not run.
type Result struct {
	Name    string
	Metrics map[string][]float64
	// Order lists the metric units in the order they first appeared.
	Order []string
	// Skip is the message of a skipped benchmark; Fail the message of a failed one.
	Skip, Fail string
}

// Runs is how many runs reported the benchmark (the most values any metric has).
func (r *Result) Runs() int {
	n := 0
	for _, v := range r.Metrics {
		n = max(n, len(v))
	}
	return n
}

func (r *Result) add(metric string, v float64) {
	if r.Metrics == nil {
		r.Metrics = map[string][]float64{}
	}
	if _, ok := r.Metrics[metric]; !ok {
		r.Order = append(r.Order, metric)
	}
	r.Metrics[metric] = append(r.Metrics[metric], v)
}

// Output is one group's parsed output.
type Output struct {
	// Results by benchmark name (GOMAXPROCS suffix removed), and their names in order of appearance.
	Results map[string]*Result
	Names   []string
}

func (o *Output) result(name string) *Result {
	if o.Results == nil {
		o.Results = map[string]*Result{}
	}
	r, ok := o.Results[name]
	if !ok {
		r = &Result{Name: name}
		o.Results[name] = r
		o.Names = append(o.Names, name)
	}
	return r
}

var (
	benchLine   = regexp.MustCompile(`^(Benchmark\S*)\s*(.*)$`)
	procSuffix  = regexp.MustCompile(`^(.*)-(\d+)$`)
	resultsOnly = regexp.MustCompile(`^\s*(\d+)\s+(\d.*\S)\s*$`)
	statusLine  = regexp.MustCompile(`^\s*--- (SKIP|FAIL): (\S+)(?:\s+\(.*\))?\s*$`)
	logLine     = regexp.MustCompile(`^\s+\S+\.go:\d+: (.*)$`)

	// benchtool (internal/serve/benchtool) lines.
	toolHeader  = regexp.MustCompile(`^(fanout|latency|idle): `)
	toolFanout  = regexp.MustCompile(`^\s+(bare gorilla broadcast|hyperstack serve, same bytes through the hub|hyperstack serve, full Apply)[^:]*:\s+([\d.]+) frames/s`)
	toolLatency = regexp.MustCompile(`^\s+(hyperstack serve|bare gorilla)\s*: p50 (\S+)\s+p90 (\S+)\s+p99 (\S+)\s+p99\.9 (\S+)\s+max (\S+)\s+\((\d+) of (\d+) deliveries\)`)
	toolIdle    = regexp.MustCompile(`^\s+(hyperstack serve|bare gorilla):\s+([\d.]+) KB/conn RSS,\s+([\d.]+) KB/conn Go heap\+stacks`)

	// TestSoakRSS (internal/record) log lines.
	soakStart = regexp.MustCompile(`start: RssAnon (\d+) KiB, RssFile (\d+) KiB, (\d+) updates`)
	soakEnd   = regexp.MustCompile(`end: RssAnon (\d+) KiB \(start \d+\), RssFile (\d+) KiB \(start \d+\); (\d+) updates recorded, file (\d+) MiB`)
)

// Parse reads one group's output (run with -v, so skipped benchmarks show): `go test -bench` lines
// (several runs of a benchmark append to its values; a benchmark's SKIP or FAIL marker with its first
// log message), the benchtool's fanout, latency and idle reports (as fanout/…, latency/… and idle/…
// results) and TestSoakRSS's start and end lines (as soak/record). procs is the GOMAXPROCS suffix
// `go test` appends to names ("-2"); 0 strips any numeric suffix.
func Parse(r io.Reader, procs int) (*Output, error) {
	out := &Output{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	strip := func(name string) string {
		if m := procSuffix.FindStringSubmatch(name); m != nil && (procs == 0 || m[2] == strconv.Itoa(procs)) {
			return m[1]
		}
		return name
	}
	var (
		cur, curMsg string // the benchmark the lines are about, and its first log message
		pending     string // a benchmark whose results line was broken by other output
		tool        string // the benchtool mode of the lines that follow
		soak        struct {
			anon float64
			ok   bool
		}
	)
	for sc.Scan() {
		line := sc.Text()
		if m := logLine.FindStringSubmatch(line); m != nil && cur != "" {
			if curMsg == "" {
				curMsg = strings.TrimSpace(m[1])
				if r, ok := out.Results[cur]; ok {
					if r.Skip == skipped {
						r.Skip = curMsg
					}
					if r.Fail == failed {
						r.Fail = curMsg
					}
				}
			}
			continue
		}
		if m := statusLine.FindStringSubmatch(line); m != nil {
			name := strip(m[2])
			if name != cur {
				cur, curMsg = name, ""
			}
			pending = ""
			res := out.result(name)
			switch {
			case m[1] == "SKIP" && curMsg != "":
				res.Skip = curMsg
			case m[1] == "SKIP":
				res.Skip = skipped
			case m[1] == "FAIL" && curMsg != "":
				res.Fail = curMsg
			case m[1] == "FAIL":
				res.Fail = failed
			}
			continue
		}
		if m := benchLine.FindStringSubmatch(line); m != nil {
			name := strip(m[1])
			if res := resultsOnly.FindStringSubmatch(m[2]); res != nil && strings.Contains(res[2], "/op") {
				addMetrics(out.result(name), res[2])
				pending = ""
			} else {
				pending = name
			}
			if name != cur {
				cur, curMsg = name, ""
			}
			continue
		}
		if pending != "" {
			if m := resultsOnly.FindStringSubmatch(line); m != nil && strings.Contains(m[2], "/op") {
				addMetrics(out.result(pending), m[2])
				pending = ""
				continue
			}
		}
		if m := toolHeader.FindStringSubmatch(line); m != nil {
			tool = m[1]
			continue
		}
		switch tool {
		case "fanout":
			if m := toolFanout.FindStringSubmatch(line); m != nil {
				name := map[string]string{
					"bare gorilla broadcast":                       "fanout/bare-gorilla",
					"hyperstack serve, same bytes through the hub": "fanout/serve-hub",
					"hyperstack serve, full Apply":                 "fanout/serve-apply",
				}[m[1]]
				out.result(name).add("frames/s", atof(m[2]))
				continue
			}
		case "latency":
			if m := toolLatency.FindStringSubmatch(line); m != nil {
				res := out.result("latency/" + toolSide(m[1]))
				for i, unit := range []string{"p50-ms", "p90-ms", "p99-ms", "p99.9-ms", "max-ms"} {
					res.add(unit, durationMS(m[2+i]))
				}
				if want := atof(m[8]); want > 0 {
					res.add("delivered-%", 100*atof(m[7])/want)
				}
				continue
			}
		case "idle":
			if m := toolIdle.FindStringSubmatch(line); m != nil {
				res := out.result("idle/" + toolSide(m[1]))
				res.add("KB/conn-rss", atof(m[2]))
				res.add("KB/conn-heap", atof(m[3]))
				continue
			}
		}
		if m := soakStart.FindStringSubmatch(line); m != nil {
			soak.anon, soak.ok = atof(m[1]), true
			continue
		}
		if m := soakEnd.FindStringSubmatch(line); m != nil && soak.ok {
			res := out.result("soak/record")
			res.add("rss-start-MiB", soak.anon/1024)
			res.add("rss-end-MiB", atof(m[1])/1024)
			res.add("rss-file-end-MiB", atof(m[2])/1024)
			res.add("updates", atof(m[3]))
			res.add("file-MiB", atof(m[4]))
			soak.ok = false
		}
	}
	return out, sc.Err()
}

// Placeholders until the log message of a skipped or failed benchmark is seen.
const (
	skipped = "skipped"
	failed  = "failed"
)

func toolSide(s string) string {
	if strings.HasPrefix(s, "bare") {
		return "bare-gorilla"
	}
	return "serve"
}

// addMetrics adds the "value unit" pairs of a benchmark result line.
func addMetrics(r *Result, s string) {
	f := strings.Fields(s)
	for i := 0; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return
		}
		r.add(f[i+1], v)
	}
}

func atof(s string) float64 {
	v, _ := strconv.ParseFloat(s, 64)
	return v
}

// durationMS converts a Go duration string ("8.48ms", "930µs", "1.2s") to milliseconds.
func durationMS(s string) float64 {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0
	}
	return float64(d) / float64(time.Millisecond)
}
