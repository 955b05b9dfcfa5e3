package serve

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// AuthConfig turns on token checks: a connection must present a signed session token (a JWT) in
// the `Authorization: Bearer` header or in the query parameter QueryParam. Exactly one of
// PublicKey and Secret is set.
type AuthConfig struct {
	// PublicKey verifies EdDSA (Ed25519) tokens, as the original server's session tokens are.
	PublicKey ed25519.PublicKey
	// Secret verifies HS256 tokens.
	Secret []byte
	// Issuer, when set, must equal the token's iss claim.
	Issuer string
	// Audience, when set, must be one of the token's aud values.
	Audience string
	// Leeway tolerates clock skew on exp and nbf. Zero means none.
	Leeway time.Duration
	// QueryParam names the query parameter holding the token. Empty means "hs_token".
	QueryParam string
	// Now returns the current time; nil means time.Now. For tests.
	Now func() time.Time
}

func (a *AuthConfig) validate() error {
	switch {
	case len(a.PublicKey) == 0 && len(a.Secret) == 0:
		return errors.New("auth needs a public key or a secret")
	case len(a.PublicKey) > 0 && len(a.Secret) > 0:
		return errors.New("auth takes a public key or a secret, not both")
	case len(a.PublicKey) > 0 && len(a.PublicKey) != ed25519.PublicKeySize:
		return fmt.Errorf("auth public key has %d bytes, want %d", len(a.PublicKey), ed25519.PublicKeySize)
	}
	return nil
}

func (a *AuthConfig) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Claims are the token claims the server reads. Aud may be a string or a list in the token.
type Claims struct {
	Issuer    string   `json:"iss,omitempty"`
	Subject   string   `json:"sub,omitempty"`
	Audience  audience `json:"aud,omitempty"`
	IssuedAt  int64    `json:"iat,omitempty"`
	NotBefore int64    `json:"nbf,omitempty"`
	ExpiresAt int64    `json:"exp,omitempty"`
	ID        string   `json:"jti,omitempty"`
}

type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// Expiry returns the token's expiry, or the zero time when it has none.
func (c *Claims) Expiry() time.Time {
	if c.ExpiresAt == 0 {
		return time.Time{}
	}
	return time.Unix(c.ExpiresAt, 0)
}

var b64 = base64.RawURLEncoding

// SignToken creates a token for claims: EdDSA when key is an ed25519.PrivateKey, HS256 when it is
// a []byte secret.
func SignToken(key any, c Claims) (string, error) {
	var alg string
	switch key.(type) {
	case ed25519.PrivateKey:
		alg = "EdDSA"
	case []byte:
		alg = "HS256"
	default:
		return "", fmt.Errorf("sign token: unsupported key type %T", key)
	}
	head, _ := json.Marshal(map[string]string{"alg": alg, "typ": "JWT"})
	body, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	signing := b64.EncodeToString(head) + "." + b64.EncodeToString(body)
	var sig []byte
	switch k := key.(type) {
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, []byte(signing))
	case []byte:
		m := hmac.New(sha256.New, k)
		m.Write([]byte(signing))
		sig = m.Sum(nil)
	}
	return signing + "." + b64.EncodeToString(sig), nil
}

func authErr(code, format string, args ...any) *AuthError {
	return &AuthError{Code: code, Err: fmt.Errorf(format, args...)}
}

// Verify checks a token's signature and claims and returns its claims, or an *AuthError.
func (a *AuthConfig) Verify(token string) (*Claims, error) {
	if token == "" {
		return nil, &AuthError{Code: "token-missing", Err: ErrTokenMissing}
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, authErr("token-invalid-format", "token has %d parts, want 3", len(parts))
	}
	headRaw, err1 := b64.DecodeString(parts[0])
	bodyRaw, err2 := b64.DecodeString(parts[1])
	sig, err3 := b64.DecodeString(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, authErr("token-invalid-format", "token is not base64url: %v", err)
	}
	var head struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(headRaw, &head); err != nil {
		return nil, authErr("token-invalid-format", "token header: %v", err)
	}
	signing := []byte(parts[0] + "." + parts[1])
	switch {
	case len(a.PublicKey) > 0:
		if head.Alg != "EdDSA" {
			return nil, authErr("token-invalid-signature", "token algorithm %q, want EdDSA", head.Alg)
		}
		if !ed25519.Verify(a.PublicKey, signing, sig) {
			return nil, authErr("token-invalid-signature", "signature does not verify")
		}
	default:
		if head.Alg != "HS256" {
			return nil, authErr("token-invalid-signature", "token algorithm %q, want HS256", head.Alg)
		}
		m := hmac.New(sha256.New, a.Secret)
		m.Write(signing)
		if !hmac.Equal(m.Sum(nil), sig) {
			return nil, authErr("token-invalid-signature", "signature does not verify")
		}
	}
	var c Claims
	if err := json.Unmarshal(bodyRaw, &c); err != nil {
		return nil, authErr("token-invalid-format", "token claims: %v", err)
	}
	now := a.now()
	if c.ExpiresAt == 0 {
		return nil, authErr("token-missing-claim", "token has no exp claim")
	}
	if !now.Before(time.Unix(c.ExpiresAt, 0).Add(a.Leeway)) {
		return nil, authErr("token-expired", "token expired at %s", time.Unix(c.ExpiresAt, 0).UTC().Format(time.RFC3339))
	}
	if c.NotBefore != 0 && now.Add(a.Leeway).Before(time.Unix(c.NotBefore, 0)) {
		return nil, authErr("token-invalid-format", "token not valid before %s", time.Unix(c.NotBefore, 0).UTC().Format(time.RFC3339))
	}
	if a.Issuer != "" && c.Issuer != a.Issuer {
		return nil, authErr("token-invalid-issuer", "token issuer %q, want %q", c.Issuer, a.Issuer)
	}
	if a.Audience != "" {
		ok := false
		for _, v := range c.Audience {
			ok = ok || v == a.Audience
		}
		if !ok {
			return nil, authErr("token-invalid-audience", "token audience %q does not include %q", []string(c.Audience), a.Audience)
		}
	}
	return &c, nil
}

// tokenFromRequest reads the token from the Authorization header (Bearer, any case) or from the
// query parameter.
func (a *AuthConfig) tokenFromRequest(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
		if ok && strings.EqualFold(scheme, "bearer") {
			return strings.TrimSpace(tok)
		}
	}
	name := a.QueryParam
	if name == "" {
		name = "hs_token"
	}
	return r.URL.Query().Get(name)
}

// authStatus is the HTTP status of a handshake rejected with code.
func authStatus(code string) int {
	switch code {
	case "token-invalid-format", "token-missing-claim":
		return http.StatusBadRequest
	case "origin-mismatch", "origin-required":
		return http.StatusForbidden
	case "connection-limit-exceeded", "rate-limit-exceeded":
		return http.StatusTooManyRequests
	case "internal-error":
		return http.StatusInternalServerError
	case "server-shutting-down":
		return http.StatusServiceUnavailable
	default:
		return http.StatusUnauthorized
	}
}

func retryable(code string) bool {
	switch code {
	case "token-missing", "token-missing-claim", "origin-mismatch", "origin-required", "invalid-static-token":
		return false
	}
	return true
}

// writeHandshakeError answers a rejected upgrade the way the original server does: the code's HTTP
// status, X-Error-Code, and a JSON body.
func writeHandshakeError(w http.ResponseWriter, code, message string, retryAfter int) {
	body := map[string]any{"error": code, "message": message, "code": code, "retryable": retryable(code)}
	if retryAfter > 0 {
		body["retry_after"] = retryAfter
		w.Header().Set("Retry-After", fmt.Sprint(retryAfter))
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Error-Code", code)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(authStatus(code))
	w.Write(b)
}
