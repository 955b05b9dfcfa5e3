package archive

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// WithTimer replaces the writer's interval timer.
func WithTimer(cfg WriterConfig, after func(time.Duration) <-chan time.Time) WriterConfig {
	cfg.after = after
	return cfg
}

// WithBeforeCommit installs a hook that runs inside each commit transaction; an error aborts it.
func WithBeforeCommit(cfg WriterConfig, fn func() error) WriterConfig {
	cfg.beforeCommit = func(*bolt.Tx) error { return fn() }
	return cfg
}
