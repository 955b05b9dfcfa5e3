package serve

import (
	"context"
	"sync"

	"github.com/hyperstack-go/hyperstack/internal/projection"
)

// memoryBufferBatches is how many batches each in-memory subscriber may lag behind before Publish
// waits.
const memoryBufferBatches = 1024

// NewMemoryBroker returns an in-process Broker. Each subscriber has a bounded buffer of batches
// and its own goroutine; Publish waits when a subscriber's buffer is full (the hub never blocks on
// clients, so this only happens when the machine is saturated).
func NewMemoryBroker() Broker {
	return &memoryBroker{subs: make(map[*memorySub]struct{})}
}

type memoryBroker struct {
	// mu guards subs and closed. Publish holds it for reading while sending so that Close and
	// cancel never close a channel during a send.
	mu     sync.RWMutex
	subs   map[*memorySub]struct{}
	closed bool
}

type memorySub struct {
	ch   chan *projection.Batch
	done chan struct{}
}

func (b *memoryBroker) Publish(ctx context.Context, batch *projection.Batch) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrBrokerClosed
	}
	for s := range b.subs {
		select {
		case s.ch <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (b *memoryBroker) Subscribe(h BatchHandler) (func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrBrokerClosed
	}
	s := &memorySub{ch: make(chan *projection.Batch, memoryBufferBatches), done: make(chan struct{})}
	b.subs[s] = struct{}{}
	go func() {
		defer close(s.done)
		for batch := range s.ch {
			h(batch)
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			if _, ok := b.subs[s]; ok {
				delete(b.subs, s)
				close(s.ch)
			}
			b.mu.Unlock()
			<-s.done
		})
	}, nil
}

func (b *memoryBroker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	subs := b.subs
	b.subs = nil
	for s := range subs {
		close(s.ch)
	}
	b.mu.Unlock()
	for s := range subs {
		<-s.done
	}
	return nil
}
