package serve

import (
	"context"

	"github.com/hyperstack-go/hyperstack/internal/projection"
)

// BatchHandler receives frame batches, in publish order, on one goroutine.
type BatchHandler func(*projection.Batch)

// Broker is the seam between the projector and the hubs that deliver frames: it carries sequenced,
// already-encoded frame batches. The default is an in-memory broker; a message broker can take
// its place so that one pipeline feeds many servers.
//
// Implementations must deliver every batch published after Subscribe returns, in publish order,
// and must not modify batches.
type Broker interface {
	// Publish hands b to every subscriber. It may block while subscribers are behind, until ctx
	// ends.
	Publish(ctx context.Context, b *projection.Batch) error
	// Subscribe starts delivering batches to h. The returned function stops delivery and waits
	// until h is no longer running.
	Subscribe(h BatchHandler) (cancel func(), err error)
	// Close stops the broker; Publish fails with ErrBrokerClosed afterwards.
	Close() error
}
