package serve

import (
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuthOff(t *testing.T) {
	t.Parallel()
	_, hs := newTestServer(t, nil)
	c := dial(t, hs)
	// Without an auth key, refresh_auth is answered like the original server's other plugins.
	c.send(map[string]any{"type": "refresh_auth", "token": "x"})
	m := c.read()
	assert.False(t, m.binary)
	assert.JSONEq(t, `{"success":false,"error":"token-invalid"}`, string(m.raw))
}

func TestAuthOn(t *testing.T) {
	t.Parallel()
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	_, otherPriv, _ := ed25519.GenerateKey(nil)
	_, hs := newTestServer(t, &Config{Auth: &AuthConfig{PublicKey: pub, Issuer: "hyperstack", Audience: "ws"}})
	good := func(exp time.Time) string {
		tok, err := SignToken(priv, Claims{Issuer: "hyperstack", Subject: "u1", Audience: audience{"ws"}, ExpiresAt: exp.Unix()})
		require.NoError(t, err)
		return tok
	}
	later := time.Now().Add(time.Hour)

	rejected := func(rawURL string, hdr http.Header, wantStatus int, wantCode string) {
		t.Helper()
		_, resp, err := websocket.DefaultDialer.Dial(rawURL, hdr)
		require.ErrorIs(t, err, websocket.ErrBadHandshake)
		defer resp.Body.Close()
		assert.Equal(t, wantStatus, resp.StatusCode)
		assert.Equal(t, wantCode, resp.Header.Get("X-Error-Code"))
		assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
		var body map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		assert.Equal(t, wantCode, body["code"])
		assert.Equal(t, wantCode, body["error"])
		assert.IsType(t, "", body["message"])
	}
	base := wsURL(hs)
	rejected(base, nil, 401, "token-missing")
	rejected(base+"?hs_token=not-a-jwt", nil, 400, "token-invalid-format")
	wrongKey, _ := SignToken(otherPriv, Claims{Issuer: "hyperstack", Audience: audience{"ws"}, ExpiresAt: later.Unix()})
	rejected(base+"?hs_token="+wrongKey, nil, 401, "token-invalid-signature")
	rejected(base+"?hs_token="+good(time.Now().Add(-time.Minute)), nil, 401, "token-expired")
	wrongAud, _ := SignToken(priv, Claims{Issuer: "hyperstack", Audience: audience{"other"}, ExpiresAt: later.Unix()})
	rejected(base+"?hs_token="+wrongAud, nil, 401, "token-invalid-audience")

	// The query parameter, percent-encoded as the official client sends it.
	ws, resp, err := websocket.DefaultDialer.Dial(base+"?hs_token="+url.QueryEscape(good(later)), nil)
	require.NoError(t, err)
	resp.Body.Close()
	ws.Close()
	// The Bearer header, scheme in any case.
	ws, resp, err = websocket.DefaultDialer.Dial(base, http.Header{"Authorization": {"bearer " + good(later)}})
	require.NoError(t, err)
	resp.Body.Close()
	c := &client{t: t, ws: ws}
	defer ws.Close()

	// refresh_auth with a good token succeeds with its expiry; a bad one names the problem.
	c.send(map[string]any{"type": "refresh_auth", "token": good(later)})
	assert.JSONEq(t, `{"success":true,"expiresAt":`+jsonNum(later.Unix())+`}`, string(c.read().raw))
	c.send(map[string]any{"type": "refresh_auth", "token": wrongKey})
	assert.JSONEq(t, `{"success":false,"error":"token-invalid-signature"}`, string(c.read().raw))

	// When the session token expires, the connection is closed with 1008 and a reason the official
	// client answers with a token refresh.
	c.send(map[string]any{"type": "refresh_auth", "token": good(time.Now().Add(1500 * time.Millisecond))})
	assert.Contains(t, string(c.read().raw), `"success":true`)
	ws.SetReadDeadline(time.Now().Add(testTimeout))
	_, _, err = ws.ReadMessage()
	var ce *websocket.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, websocket.ClosePolicyViolation, ce.Code)
	assert.Regexp(t, `^token-expired: `, ce.Text)
}

func TestAuthHS256(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	_, hs := newTestServer(t, &Config{Auth: &AuthConfig{Secret: secret}})
	tok, err := SignToken(secret, Claims{Subject: "u", ExpiresAt: time.Now().Add(time.Hour).Unix()})
	require.NoError(t, err)
	ws, resp, err := websocket.DefaultDialer.Dial(wsURL(hs)+"/any/path?hs_token="+tok, nil)
	require.NoError(t, err)
	resp.Body.Close()
	ws.Close()
	bad, _ := SignToken([]byte("another secret"), Claims{ExpiresAt: time.Now().Add(time.Hour).Unix()})
	_, resp, err = websocket.DefaultDialer.Dial(wsURL(hs)+"?hs_token="+bad, nil)
	require.Error(t, err)
	assert.Equal(t, "token-invalid-signature", resp.Header.Get("X-Error-Code"))
	resp.Body.Close()
}

func TestAuthConfigValidation(t *testing.T) {
	t.Parallel()
	_, err := New(&Config{Auth: &AuthConfig{}})
	require.ErrorIs(t, err, ErrBadConfig)
	_, err = New(&Config{Auth: &AuthConfig{PublicKey: []byte{1, 2}}})
	require.ErrorIs(t, err, ErrBadConfig)
}
