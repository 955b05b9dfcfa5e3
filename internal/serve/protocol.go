package serve

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hyperstack-go/hyperstack/internal/projection"
)

// clientMessage is any message a client sends. Unknown fields are ignored.
type clientMessage struct {
	Type          *string        `json:"type"`
	View          string         `json:"view"`
	Key           *string        `json:"key"`
	Partition     *string        `json:"partition"`
	Take          *int           `json:"take"`
	Skip          *int           `json:"skip"`
	WithSnapshot  *bool          `json:"withSnapshot"`
	After         *string        `json:"after"`
	SnapshotLimit *int           `json:"snapshotLimit"`
	Filters       map[string]any `json:"filters"`
	Token         string         `json:"token"`
}

// Error codes of the socket-issue messages this server sends (besides the original server's).
const (
	codeInvalidMessage      = "invalid-message"
	codeUnknownMessageType  = "unknown-message-type"
	codeUnknownView         = "unknown-view"
	codeInvalidSubscription = "invalid-subscription"
	codeSubscriptionLimit   = "subscription-limit-exceeded"
	codeChannelLimit        = "view-channel-limit-exceeded"
	codeInternal            = "internal-error"
)

// socketIssue is the text message the official client recognises as an error report.
type socketIssue struct {
	Type            string `json:"type"`
	Error           string `json:"error"`
	Message         string `json:"message"`
	Code            string `json:"code"`
	Retryable       bool   `json:"retryable"`
	SuggestedAction string `json:"suggested_action,omitempty"`
	Fatal           bool   `json:"fatal"`
}

func (c *conn) sendIssue(code, msg string) {
	b, _ := json.Marshal(socketIssue{Type: "error", Error: code, Message: msg, Code: code})
	c.enqueueText(b)
}

func (c *conn) handleMessage(data []byte) {
	var m clientMessage
	if err := json.Unmarshal(data, &m); err != nil {
		c.sendIssue(codeInvalidMessage, "message is not a valid client message: "+err.Error())
		return
	}
	typ := ""
	if m.Type != nil {
		typ = *m.Type
	} else if m.View != "" {
		typ = "subscribe" // the legacy form: a bare subscription
	}
	switch typ {
	case "subscribe":
		c.handleSubscribe(&m)
	case "unsubscribe":
		c.handleUnsubscribe(&m)
	case "ping":
	case "refresh_auth":
		c.handleRefreshAuth(m.Token)
	case "":
		c.sendIssue(codeInvalidMessage, "message has no type")
	default:
		c.sendIssue(codeUnknownMessageType, fmt.Sprintf("unknown message type %q", typ))
	}
}

func subID(view string, key *string) string {
	if key == nil || *key == "" {
		return view + ":*"
	}
	return view + ":" + *key
}

func (c *conn) handleSubscribe(m *clientMessage) {
	srv := c.srv
	if m.View == "" {
		c.sendIssue(codeInvalidSubscription, "subscribe needs a view")
		return
	}
	for name, v := range map[string]*int{"take": m.Take, "skip": m.Skip, "snapshotLimit": m.SnapshotLimit} {
		if v != nil && *v < 0 {
			c.sendIssue(codeInvalidSubscription, name+" must not be negative")
			return
		}
	}
	q := projection.Query{View: m.View}
	if m.Key != nil {
		q.Key = *m.Key
	}
	if m.Take != nil {
		q.Take = *m.Take
	}
	if m.Skip != nil {
		q.Skip = *m.Skip
	}
	if len(m.Filters) > 0 {
		q.Filters = make(map[string]string, len(m.Filters))
		for k, v := range m.Filters {
			s, ok := filterValue(v)
			if !ok {
				c.sendIssue(codeInvalidSubscription, fmt.Sprintf("filter %q must be a string, number, boolean or null", k))
				return
			}
			q.Filters[k] = s
		}
	}
	opts := projection.SnapshotOptions{}
	if m.After != nil {
		opts.After = *m.After
		if _, _, err := projection.ParseSeq(opts.After); err != nil {
			c.sendIssue(codeInvalidSubscription, err.Error())
			return
		}
	}
	if m.SnapshotLimit != nil {
		opts.Limit = *m.SnapshotLimit
	}
	id := subID(m.View, m.Key)
	old := c.subs[id]
	if old == nil && len(c.subs) >= srv.cfg.MaxSubscriptions {
		c.sendIssue(codeSubscriptionLimit, fmt.Sprintf("subscription limit exceeded: %d of %d subscriptions", len(c.subs), srv.cfg.MaxSubscriptions))
		return
	}
	target, err := srv.store.Open(q)
	if err != nil {
		switch {
		case errors.Is(err, projection.ErrUnknownView):
			c.sendIssue(codeUnknownView, fmt.Sprintf("unknown view %q", m.View))
		case errors.Is(err, projection.ErrKeyRequired):
			c.sendIssue(codeInvalidSubscription, fmt.Sprintf("view %q is a state view and needs a key", m.View))
		case errors.Is(err, projection.ErrTooManyChannels):
			c.sendIssue(codeChannelLimit, err.Error())
		default:
			c.sendIssue(codeInternal, err.Error())
		}
		return
	}
	// A repeated subscribe replaces the existing subscription; the new one starts with a fresh
	// acknowledgement and snapshot.
	if old != nil {
		srv.removeSub(old)
	}
	s := &subscription{id: id, c: c, target: target, channel: target.Channel, key: target.Key}
	c.subs[id] = s
	// Without a snapshot the client gets every change from here on: of the frames the subscription
	// holds until it is activated, those of batches sequenced before it was registered are dropped.
	// Read after the acknowledgement, the sequence could include a change the client made on seeing
	// it, and that change would be dropped as if a snapshot had carried it.
	snapSeq := srv.store.Seq()
	srv.addSub(s)

	if err := c.enqueueWait(websocket.BinaryMessage, projection.AppendSubscribedFrame(nil, target.View, target.Mode, target.Sort)); err != nil {
		return
	}
	if h := srv.afterAck; h != nil {
		h()
	}
	if m.WithSnapshot == nil || *m.WithSnapshot {
		entries, seq, err := srv.store.Snapshot(target, opts)
		if err != nil {
			c.sendIssue(codeInvalidSubscription, err.Error())
			srv.removeSub(s)
			delete(c.subs, id)
			return
		}
		snapSeq = seq
		if err := c.sendSnapshot(target, entries); err != nil {
			return
		}
	}
	s.activate(snapSeq)
}

// filterValue turns a filter value into the string entities are compared with.
func filterValue(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	case nil:
		return "null", true
	}
	return "", false
}

// sendSnapshot sends entries in batches (SnapshotFirstBatch, then SnapshotBatch per frame), the
// last one marked complete. An empty snapshot is one empty frame marked complete.
func (c *conn) sendSnapshot(t *projection.Target, entries []projection.Entry) error {
	cfg := &c.srv.cfg
	size := cfg.SnapshotFirstBatch
	for start := 0; ; {
		end := min(start+size, len(entries))
		frame := projection.AppendSnapshotFrame(nil, t.Mode, t.View, entries[start:end], end == len(entries))
		if cfg.GzipThreshold > 0 && len(frame) >= cfg.GzipThreshold {
			if z := gzipBytes(frame); len(z) < len(frame) {
				frame = z
			}
		}
		c.srv.metrics.snapshotFrames.Inc()
		if err := c.enqueueWait(websocket.BinaryMessage, frame); err != nil {
			return err
		}
		if end == len(entries) {
			return nil
		}
		start, size = end, cfg.SnapshotBatch
	}
}

var gzipPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// gzipBytes compresses b with gzip at the fastest level.
func gzipBytes(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b) / 2)
	w := gzipPool.Get().(*gzip.Writer)
	w.Reset(&out)
	w.Write(b)
	w.Close()
	gzipPool.Put(w)
	return out.Bytes()
}

func (c *conn) handleUnsubscribe(m *clientMessage) {
	id := subID(m.View, m.Key)
	if s := c.subs[id]; s != nil {
		c.srv.removeSub(s)
		delete(c.subs, id)
	}
}

// refreshReply is the text reply to refresh_auth.
type refreshReply struct {
	Success   bool   `json:"success"`
	ExpiresAt int64  `json:"expiresAt,omitempty"`
	Error     string `json:"error,omitempty"`
}

func (c *conn) handleRefreshAuth(token string) {
	a := c.srv.cfg.Auth
	reply := refreshReply{}
	if a == nil {
		reply.Error = "token-invalid"
	} else if claims, err := a.Verify(token); err != nil {
		var ae *AuthError
		reply.Error = "token-invalid"
		if errors.As(err, &ae) {
			switch ae.Code {
			case "token-expired", "token-invalid-signature", "token-invalid-issuer", "token-invalid-audience":
				reply.Error = ae.Code
			}
		}
	} else {
		reply.Success = true
		reply.ExpiresAt = claims.ExpiresAt
		c.armExpiry(claims.Expiry())
	}
	b, _ := json.Marshal(reply)
	c.enqueueText(b)
}

// armExpiry closes the connection with 1008 "token-expired: …" when the session token expires, so
// the official client fetches a new token and reconnects at once.
func (c *conn) armExpiry(at time.Time) {
	if at.IsZero() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.expiry != nil {
		c.expiry.Stop()
	}
	if c.dead {
		return
	}
	c.expiry = time.AfterFunc(time.Until(at), func() {
		c.closeWith(websocket.ClosePolicyViolation, "token-expired: session token expired", false)
	})
}
