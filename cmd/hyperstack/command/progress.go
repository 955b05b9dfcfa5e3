package command

import (
	"fmt"
	"io"
	"time"
)

// progressLine draws a live status line on a terminal (carriage return, no scrolling), at most ten
// times a second. Off a terminal it stays silent; long-running commands log instead.
type progressLine struct {
	w       io.Writer
	on      bool
	now     func() time.Time
	start   time.Time
	last    time.Time
	total   uint64
	verb    string
	printed bool
	// count and slot are what add has seen so far.
	count, slot uint64
}

func newProgressLine(f *Factory, verb string, total uint64) *progressLine {
	now := f.Now
	if now == nil {
		now = time.Now
	}
	on := f.IO.IsTerminal != nil && f.IO.IsTerminal()
	return &progressLine{w: f.IO.ErrOut, on: on, now: now, start: now(), total: total, verb: verb}
}

// update redraws the line for done items at slot.
func (p *progressLine) update(done, slot uint64) {
	if !p.on {
		return
	}
	t := p.now()
	if t.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = t
	p.draw(done, slot, t)
}

func (p *progressLine) draw(done, slot uint64, t time.Time) {
	el := t.Sub(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(done) / el
	}
	line := fmt.Sprintf("%s %d", p.verb, done)
	if p.total > 0 {
		line += fmt.Sprintf("/%d (%.0f%%)", p.total, 100*float64(done)/float64(p.total))
	}
	line += fmt.Sprintf("  slot %d  %.0f/s", slot, rate)
	if p.total > done && rate > 0 {
		eta := time.Duration(float64(p.total-done) / rate * float64(time.Second))
		line += "  ETA " + eta.Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
	p.printed = true
}

// add counts one more item at slot and redraws; its signature is replay.Options.Progress's.
func (p *progressLine) add(_, slot uint64) {
	p.count++
	p.slot = max(p.slot, slot)
	p.update(p.count, p.slot)
}

// finish finishes the line with the count add has seen.
func (p *progressLine) finish() { p.done(p.count, p.slot) }

// done finishes the line.
func (p *progressLine) done(done, slot uint64) {
	if !p.on {
		return
	}
	p.draw(done, slot, p.now())
	fmt.Fprintln(p.w)
}
