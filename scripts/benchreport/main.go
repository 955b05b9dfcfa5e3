// Command benchreport renders docs/BENCHMARKS.md from the raw output of one scripts/bench.sh run:
// it parses `go test -bench` output (and the WebSocket benchtool's and the recording soak's
// reports), takes the median and range of every metric over the runs, compares them with each
// issue's targets and with the baselines measured in the same run, and fills them into the
// hand-written prose of report.md.tmpl. It measures nothing itself.
//
//	go run ./scripts/benchreport -dir docs/bench -out docs/BENCHMARKS.md
//
// The directory holds meta.txt (key=value facts about the run) and, per group of benchmarks,
// raw/<group>.txt (the output), raw/<group>.cmd (the command) and raw/<group>.meta (key=value:
// exit, seconds, load_start, load_end, procs).
package main

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
)

//go:embed report.md.tmpl
var reportTemplate string

func main() {
	dir := flag.String("dir", "docs/bench", "directory of the run's meta.txt and raw/ outputs")
	out := flag.String("out", "docs/BENCHMARKS.md", "report to write")
	flag.Parse()
	if err := run(*dir, *out); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(dir, out string) error {
	r, err := Load(dir)
	if err != nil {
		return err
	}
	doc, err := r.Render()
	if err != nil {
		return err
	}
	return os.WriteFile(out, doc, 0o644)
}

// Load reads a run directory; groups the sections name but the run lacks are marked missing.
func Load(dir string) (*Report, error) {
	meta, err := readKV(filepath.Join(dir, "meta.txt"))
	if err != nil {
		return nil, err
	}
	r := &Report{Meta: meta, Groups: map[string]*Group{}, Sections: Sections()}
	for _, s := range r.Sections {
		for _, name := range s.Groups {
			g, err := loadGroup(dir, name)
			if err != nil {
				return nil, err
			}
			r.Groups[name] = g
		}
	}
	return r, nil
}

func loadGroup(dir, name string) (*Group, error) {
	base := filepath.Join(dir, "raw", name)
	text, err := os.ReadFile(base + ".txt")
	if errors.Is(err, fs.ErrNotExist) {
		return &Group{Name: name, Missing: true, Out: &Output{}}, nil
	}
	if err != nil {
		return nil, err
	}
	cmd, err := os.ReadFile(base + ".cmd")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	meta, err := readKV(base + ".meta")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	procs, _ := strconv.Atoi(meta["procs"])
	o, err := Parse(bytes.NewReader(text), procs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", base+".txt", err)
	}
	return &Group{Name: name, Cmd: string(cmd), Meta: meta, Out: o, Text: string(text)}, nil
}

// readKV reads key=value lines (a missing file gives an empty map and the error).
func readKV(path string) (map[string]string, error) {
	kv := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return kv, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return kv, sc.Err()
}

// Render fills the template with the run's tables.
func (r *Report) Render() ([]byte, error) {
	t, err := template.New("report").Option("missingkey=error").Parse(reportTemplate)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
